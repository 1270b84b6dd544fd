//! The HTTP-POST binding's `SAMLResponse`: verified by samael, then checked here and
//! read into a [`VerifiedAssertion`].
//!
//! Order of work, none of it skipped:
//!
//! 1. base64 → UTF-8 XML without a DOCTYPE, at most [`MAX_RESPONSE_BYTES`].
//! 2. The raw Response (not yet trusted) may only make a refusal stricter: a Status other
//!    than Success, a Destination other than our ACS, an EncryptedAssertion, or an
//!    InResponseTo that disagrees with the assertion's are refused. Nothing accepted is
//!    ever read from it.
//! 3. samael verifies every XML signature in the document against the IdP's
//!    certificates (any signature that does not verify refuses the whole message; no
//!    signature at all refuses it too), with SHA-2 RSA / ECDSA algorithms only, then
//!    reduces the document to the signed content and parses the assertion from that:
//!    either the whole signed Response (its Destination, Issuer and Status checked) or
//!    the signed Assertion alone. It checks Issuer, times, Audience (when present),
//!    the bearer SubjectConfirmation's Recipient and times, against the system clock.
//! 4. On the assertion samael returns (the verified one): Issuer again, IssueInstant,
//!    an AudienceRestriction that must be present and name us, Conditions and bearer
//!    SubjectConfirmationData times with [`crate::CLOCK_SKEW_SECONDS`] against `now`,
//!    Recipient = our ACS, and InResponseTo read from the bearer confirmation.

use base64::Engine;
use chrono::{DateTime, Utc};
use samael::key_info::{KeyInfo, X509Data};
use samael::metadata::{EntityDescriptor, IdpSsoDescriptor, KeyDescriptor};
use samael::schema::{Assertion, Response};
use samael::service_provider::Error as SamaelError;

use crate::error::SamlRefusal;
use crate::{refuses_dtd, IdentityProvider, ServiceProvider};
use crate::{CLOCK_SKEW_SECONDS, MAX_ISSUE_DELAY_SECONDS};

/// The largest Response accepted, decoded.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// One attribute of the verified assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAttribute {
    /// Its Name (e.g. `urn:oid:0.9.2342.19200300.100.1.3`).
    pub name: String,
    /// Its FriendlyName (e.g. `mail`), when given.
    pub friendly_name: Option<String>,
    /// Its values (trimmed; empty ones left out).
    pub values: Vec<String>,
}

/// What a verified assertion says, read only from the signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's ID (what a replay would repeat).
    pub id: String,
    /// Its Issuer (the IdP's entity id).
    pub issuer: String,
    /// The AuthnRequest it answers, if any (none: IdP-initiated).
    pub in_response_to: Option<String>,
    /// The unix time after which it is refused anyway (earliest of its NotOnOrAfter
    /// times and IssueInstant's limit, skew included): remember its ID until then.
    pub valid_until: i64,
    /// The Subject's NameID, when given.
    pub name_id: Option<String>,
    /// Its attributes.
    pub attributes: Vec<SamlAttribute>,
}

impl VerifiedAssertion {
    /// Every value of the attributes named (Name or FriendlyName) by any of `names`.
    pub fn values(&self, names: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for attribute in &self.attributes {
            let named = names
                .iter()
                .any(|n| attribute.name == *n || attribute.friendly_name.as_deref() == Some(*n));
            if named {
                for value in &attribute.values {
                    if !out.contains(value) {
                        out.push(value.clone());
                    }
                }
            }
        }
        out
    }

    /// The first value of an attribute named by any of `names`.
    pub fn first(&self, names: &[&str]) -> Option<String> {
        self.values(names).into_iter().next()
    }

    /// The attributes by every name they go by: their Name, their FriendlyName, and,
    /// for the attributes of [`crate::attributes::KNOWN`], their friendly name (so a
    /// template may say `eduPersonAffiliation` or `urn:oid:...` alike for those).
    pub fn by_name(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut map: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for attribute in &self.attributes {
            let mut names = vec![attribute.name.clone()];
            names.extend(attribute.friendly_name.clone());
            if let Some(known) = crate::attributes::KNOWN
                .iter()
                .find(|k| k.contains(&attribute.name.as_str()))
            {
                names.push(known[0].to_string());
            }
            for name in names {
                let values = map.entry(name).or_default();
                for value in &attribute.values {
                    if !values.contains(value) {
                        values.push(value.clone());
                    }
                }
            }
        }
        map
    }
}

impl ServiceProvider {
    /// Verifies a `SAMLResponse` form field (base64) from `idp` at unix time `now`; see
    /// the module's documentation for what is checked. InResponseTo is only read: the
    /// caller takes it from its [`crate::OutstandingRequests`], and remembers
    /// [`VerifiedAssertion::id`] until [`VerifiedAssertion::valid_until`] against replays.
    pub fn verify_response(
        &self,
        idp: &IdentityProvider,
        saml_response: &str,
        now: i64,
    ) -> Result<VerifiedAssertion, SamlRefusal> {
        let compact: String = saml_response.split_ascii_whitespace().collect();
        if compact.is_empty() {
            return Err(SamlRefusal::Malformed("no SAMLResponse".into()));
        }
        if compact.len() > MAX_RESPONSE_BYTES * 4 / 3 + 4 {
            return Err(SamlRefusal::Malformed("too large".into()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|_| SamlRefusal::Malformed("not base64".into()))?;
        let xml =
            String::from_utf8(bytes).map_err(|_| SamlRefusal::Malformed("not UTF-8".into()))?;
        if refuses_dtd(&xml) {
            return Err(SamlRefusal::Malformed("a DOCTYPE is not accepted".into()));
        }

        // 2. The raw, unverified Response: only ever a reason to refuse.
        let raw: Response = xml
            .parse()
            .map_err(|_| SamlRefusal::Malformed("not a SAML Response".into()))?;
        if let Some(code) = raw
            .status
            .as_ref()
            .and_then(|s| s.status_code.value.as_deref())
        {
            if code != SUCCESS {
                return Err(SamlRefusal::Status(short(code)));
            }
        }
        if raw
            .destination
            .as_deref()
            .is_some_and(|d| d != self.acs_url())
        {
            return Err(SamlRefusal::WrongRecipient);
        }
        if raw.encrypted_assertion.is_some() {
            return Err(SamlRefusal::Encrypted);
        }

        // 3. samael: signatures, reduction to the signed content, its own checks.
        if idp.signing_certificates.is_empty() {
            // samael would then verify nothing.
            return Err(SamlRefusal::BadSignature);
        }
        let assertion = self
            .samael(idp)
            .parse_xml_response(&xml, None)
            .map_err(refusal_of)?;

        // 4. Our checks, on the verified assertion only.
        self.check(idp, &assertion, raw.in_response_to.as_deref(), now)
    }

    fn samael(&self, idp: &IdentityProvider) -> samael::service_provider::ServiceProvider {
        use samael::crypto::AllowedSignatureAlgorithm as A;
        let certificates = idp
            .signing_certificates
            .iter()
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der))
            .collect();
        let descriptor = IdpSsoDescriptor {
            id: None,
            valid_until: None,
            cache_duration: None,
            protocol_support_enumeration: Some("urn:oasis:names:tc:SAML:2.0:protocol".into()),
            error_url: None,
            signature: None,
            key_descriptors: vec![KeyDescriptor {
                key_use: Some("signing".into()),
                key_info: KeyInfo {
                    id: None,
                    x509_data: Some(X509Data { certificates }),
                },
                encryption_methods: None,
            }],
            organization: None,
            contact_people: Vec::new(),
            artifact_resolution_service: Vec::new(),
            single_logout_services: Vec::new(),
            manage_name_id_services: Vec::new(),
            name_id_formats: Vec::new(),
            want_authn_requests_signed: None,
            single_sign_on_services: Vec::new(),
            name_id_mapping_services: Vec::new(),
            assertion_id_request_services: Vec::new(),
            attribute_profiles: Vec::new(),
            attributes: Vec::new(),
        };
        samael::service_provider::ServiceProvider {
            entity_id: Some(self.entity_id().to_string()),
            metadata_url: Some(self.entity_id().to_string()),
            acs_url: Some(self.acs_url().to_string()),
            slo_url: None,
            idp_metadata: EntityDescriptor {
                entity_id: Some(idp.entity_id.clone()),
                idp_sso_descriptors: Some(vec![descriptor]),
                ..EntityDescriptor::default()
            },
            // InResponseTo is checked here against our own outstanding requests, which
            // samael does not know; an answer to none (IdP-initiated) is accepted.
            allow_idp_initiated: true,
            max_clock_skew: chrono::Duration::seconds(CLOCK_SKEW_SECONDS),
            max_issue_delay: chrono::Duration::seconds(MAX_ISSUE_DELAY_SECONDS),
            // SHA-2 only: no SHA-1 signature or digest, no algorithm substitution.
            allowed_signature_algorithms: Some(vec![
                A::RsaSha256,
                A::RsaSha384,
                A::RsaSha512,
                A::EcdsaSha256,
                A::EcdsaSha384,
                A::EcdsaSha512,
            ]),
            ..Default::default()
        }
    }

    fn check(
        &self,
        idp: &IdentityProvider,
        assertion: &Assertion,
        raw_in_response_to: Option<&str>,
        now: i64,
    ) -> Result<VerifiedAssertion, SamlRefusal> {
        let skew = CLOCK_SKEW_SECONDS;
        if assertion.id.trim().is_empty() {
            return Err(SamlRefusal::Malformed("the assertion has no ID".into()));
        }
        if assertion.issuer.value.as_deref().map(str::trim) != Some(idp.entity_id.as_str()) {
            return Err(SamlRefusal::WrongIssuer);
        }
        let issued = unix(&assertion.issue_instant);
        if issued > now + skew {
            return Err(SamlRefusal::NotYetValid);
        }
        let mut valid_until = issued + MAX_ISSUE_DELAY_SECONDS + skew;

        let conditions = assertion
            .conditions
            .as_ref()
            .ok_or(SamlRefusal::WrongAudience)?;
        let restrictions = conditions.audience_restrictions.as_deref().unwrap_or(&[]);
        // Every AudienceRestriction must name us (SAML core §2.5.1.4); there must be one.
        if restrictions.is_empty()
            || !restrictions
                .iter()
                .all(|r| r.audience.iter().any(|a| a.trim() == self.entity_id()))
        {
            return Err(SamlRefusal::WrongAudience);
        }
        if let Some(not_before) = conditions.not_before {
            if now + skew < unix(&not_before) {
                return Err(SamlRefusal::NotYetValid);
            }
        }
        if let Some(not_on_or_after) = conditions.not_on_or_after {
            valid_until = valid_until.min(unix(&not_on_or_after) + skew);
        }

        // The bearer confirmations that hold now, for our ACS.
        let confirmations = assertion
            .subject
            .as_ref()
            .and_then(|s| s.subject_confirmations.as_deref())
            .unwrap_or(&[]);
        let mut refusal = SamlRefusal::NoBearerConfirmation;
        let mut confirmed_until: Option<i64> = None;
        let mut answers: Vec<&str> = Vec::new();
        for confirmation in confirmations {
            if confirmation.method.as_deref() != Some(BEARER) {
                continue;
            }
            let Some(data) = confirmation.subject_confirmation_data.as_ref() else {
                continue;
            };
            let Some(not_on_or_after) = data.not_on_or_after.as_ref().map(unix) else {
                continue;
            };
            if data.recipient.as_deref().map(str::trim) != Some(self.acs_url()) {
                refusal = SamlRefusal::WrongRecipient;
                continue;
            }
            if data
                .not_before
                .as_ref()
                .is_some_and(|t| now + skew < unix(t))
            {
                refusal = SamlRefusal::NotYetValid;
                continue;
            }
            if not_on_or_after + skew <= now {
                refusal = SamlRefusal::Expired;
                continue;
            }
            confirmed_until = Some(
                confirmed_until
                    .unwrap_or(i64::MIN)
                    .max(not_on_or_after + skew),
            );
            if let Some(id) = data.in_response_to.as_deref() {
                answers.push(id);
            }
        }
        let Some(confirmed_until) = confirmed_until else {
            return Err(refusal);
        };
        valid_until = valid_until.min(confirmed_until);
        if valid_until <= now {
            return Err(SamlRefusal::Expired);
        }

        // InResponseTo: the verified confirmation's; the raw Response's may only disagree
        // (refused) or stand in when the assertion names none (then it must still match
        // an outstanding request, which only makes acceptance harder).
        answers.extend(raw_in_response_to);
        answers.sort_unstable();
        answers.dedup();
        if answers.len() > 1 {
            return Err(SamlRefusal::UnknownRequest);
        }
        let in_response_to = answers.first().map(|s| s.to_string());

        let attributes = assertion
            .attribute_statements
            .iter()
            .flatten()
            .flat_map(|s| &s.attributes)
            .filter_map(|a| {
                Some(SamlAttribute {
                    name: a.name.clone()?,
                    friendly_name: a.friendly_name.clone(),
                    values: a
                        .values
                        .iter()
                        .filter_map(|v| v.value.as_deref())
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_string)
                        .collect(),
                })
            })
            .collect();
        Ok(VerifiedAssertion {
            id: assertion.id.clone(),
            issuer: idp.entity_id.clone(),
            in_response_to,
            valid_until,
            name_id: assertion
                .subject
                .as_ref()
                .and_then(|s| s.name_id.as_ref())
                .map(|n| n.value.trim().to_string()),
            attributes,
        })
    }
}

fn unix(time: &DateTime<Utc>) -> i64 {
    time.timestamp()
}

/// A status code's last part (`Requester`, `AuthnFailed`), short and plain.
fn short(code: &str) -> String {
    code.rsplit(':')
        .next()
        .unwrap_or(code)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(64)
        .collect()
}

fn refusal_of(error: SamaelError) -> SamlRefusal {
    use SamaelError as E;
    match error {
        E::FailedToValidateSignature | E::CryptoXmlError(_) | E::CryptoProviderError(_) => {
            SamlRefusal::BadSignature
        }
        E::DestinationValidationError { .. } | E::AssertionRecipientMismatch { .. } => {
            SamlRefusal::WrongRecipient
        }
        E::AssertionExpired { .. }
        | E::ResponseExpired { .. }
        | E::AssertionConditionExpired { .. }
        | E::AssertionSubjectConfirmationExpired { .. } => SamlRefusal::Expired,
        E::AssertionConditionExpiredBefore { .. }
        | E::AssertionSubjectConfirmationExpiredBefore { .. } => SamlRefusal::NotYetValid,
        E::AssertionIssuerMismatch { .. } | E::ResponseIssuerMismatch { .. } => {
            SamlRefusal::WrongIssuer
        }
        E::AssertionConditionAudienceRestrictionFailed { .. } => SamlRefusal::WrongAudience,
        E::AssertionBearerSubjectConfirmationMissing | E::AssertionSubjectConfirmationMissing => {
            SamlRefusal::NoBearerConfirmation
        }
        E::ResponseBadStatusCode { code } => SamlRefusal::Status(short(&code)),
        E::AssertionInResponseToInvalid { .. } | E::ResponseInResponseToInvalid { .. } => {
            SamlRefusal::UnknownRequest
        }
        E::EncryptedAssertionsNotYetSupported
        | E::MissingPrivateKeySP
        | E::MissingEncryptedKeyInfo
        | E::MissingEncryptedValueInfo
        | E::EncryptedAssertionKeyMethodUnsupported { .. }
        | E::EncryptedAssertionValueMethodUnsupported { .. }
        | E::EncryptedAssertionInvalid
        | E::FailedToDecryptAssertion => SamlRefusal::Encrypted,
        other => SamlRefusal::Malformed(match other {
            E::FailedToParseSamlResponse(_) | E::FailedToParseSamlAssertion(_) => {
                "the signed content is not a SAML assertion".into()
            }
            _ => "unreadable".into(),
        }),
    }
}
