//! Why a SAML message is refused, and why an IdP's metadata cannot be imported.

/// Why a sign-in through the identity provider is refused. Each variant's message is
/// written for the person who tried to sign in (the console shows it as it is); nothing
/// in it comes from the message refused beyond a short, escaped identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlRefusal {
    /// The POST carried no `SAMLResponse`, or one that is not base64 of a SAML Response.
    #[error("the sign-in answer is not a SAML Response ({0})")]
    Malformed(String),
    /// No signature of the identity provider's certificate covers the assertion: none at
    /// all, one that does not verify, one by another key, or an algorithm not accepted.
    #[error("the sign-in answer is not signed by the identity provider's certificate")]
    BadSignature,
    /// The identity provider answered with a status other than Success.
    #[error("the identity provider did not sign you in (status {0})")]
    Status(String),
    /// The Issuer is not the imported identity provider's entity id.
    #[error("the sign-in answer comes from another identity provider")]
    WrongIssuer,
    /// The assertion is not for this console (its Audience is not our entity id).
    #[error(
        "the sign-in answer is meant for another application (its audience is not this console)"
    )]
    WrongAudience,
    /// The Response's Destination or the assertion's Recipient is not our ACS URL.
    #[error("the sign-in answer was sent to another address (its recipient is not this console)")]
    WrongRecipient,
    /// The assertion is not valid yet (NotBefore in the future, beyond the clock skew).
    #[error("the sign-in answer is not valid yet; check the clocks of the identity provider and of this server")]
    NotYetValid,
    /// The assertion has expired (NotOnOrAfter, or issued too long ago).
    #[error("the sign-in answer has expired; sign in again")]
    Expired,
    /// No bearer SubjectConfirmation with SubjectConfirmationData, or no NotOnOrAfter on it.
    #[error("the sign-in answer has no valid bearer subject confirmation")]
    NoBearerConfirmation,
    /// The assertion is encrypted: this service provider has no decryption key.
    #[error("the sign-in answer is encrypted; turn token encryption off at the identity provider")]
    Encrypted,
    /// InResponseTo names no sign-in this console started (unknown, expired or already answered).
    #[error("the sign-in answer does not answer a sign-in started here (unknown, expired or already used); sign in again")]
    UnknownRequest,
    /// The assertion was already used to sign in.
    #[error("this sign-in answer was already used; sign in again")]
    Replayed,
    /// A required attribute is missing.
    #[error("the identity provider sent no {0} attribute")]
    MissingAttribute(&'static str),
}

impl SamlRefusal {
    /// A short stable code for the audit log (`bad-signature`, `expired`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            SamlRefusal::Malformed(_) => "malformed",
            SamlRefusal::BadSignature => "bad-signature",
            SamlRefusal::Status(_) => "status",
            SamlRefusal::WrongIssuer => "wrong-issuer",
            SamlRefusal::WrongAudience => "wrong-audience",
            SamlRefusal::WrongRecipient => "wrong-recipient",
            SamlRefusal::NotYetValid => "not-yet-valid",
            SamlRefusal::Expired => "expired",
            SamlRefusal::NoBearerConfirmation => "no-bearer-confirmation",
            SamlRefusal::Encrypted => "encrypted",
            SamlRefusal::UnknownRequest => "unknown-request",
            SamlRefusal::Replayed => "replayed",
            SamlRefusal::MissingAttribute(_) => "missing-attribute",
        }
    }
}

/// Why an identity provider's federation metadata cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not SAML metadata (an EntityDescriptor, or an EntitiesDescriptor holding one).
    #[error("not SAML metadata: {0}")]
    Parse(String),
    /// No entity in it has an IDPSSODescriptor.
    #[error("the metadata describes no identity provider (no IDPSSODescriptor)")]
    NoIdentityProvider,
    /// The identity provider has no entityID.
    #[error("the identity provider has no entityID")]
    NoEntityId,
    /// No SingleSignOnService with the HTTP-Redirect binding.
    #[error("the identity provider has no SingleSignOnService with the HTTP-Redirect binding")]
    NoRedirectBinding,
    /// No signing certificate (KeyDescriptor use="signing" or without use).
    #[error("the identity provider's metadata has no signing certificate")]
    NoSigningCertificate,
    /// A certificate is not base64 DER X.509.
    #[error("a signing certificate in the metadata is not an X.509 certificate")]
    BadCertificate,
}
