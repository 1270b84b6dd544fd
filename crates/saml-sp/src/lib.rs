//! Certwright: a SAML 2.0 service provider (Web Browser SSO profile) for the
//! administrators' console.
//!
//! - [`metadata`]: the identity provider's federation metadata is read into an
//!   [`IdentityProvider`] (entity id, HTTP-Redirect SSO URL, signing certificates);
//!   this service provider's own metadata is written from a [`ServiceProvider`].
//! - [`request`]: SP-initiated sign-in, an AuthnRequest over the HTTP-Redirect binding
//!   (deflated, base64, URL-encoded, with a RelayState), and the
//!   [`request::OutstandingRequests`] an answer's InResponseTo must name (once, within
//!   [`request::REQUEST_LIFETIME_SECONDS`]).
//! - [`response`]: the HTTP-POST binding's `SAMLResponse` checked and read into a
//!   [`response::VerifiedAssertion`].
//!
//! XML parsing, canonicalization and signature verification are samael's (over
//! libxml2 and libxmlsec1): it verifies every signature against the IdP's certificates
//! and reduces the document to the signed content before anything is read, so that
//! what is read is what was signed (no signature wrapping). The checks samael leaves
//! out or makes optional (an Audience that must be present, InResponseTo against our
//! own requests, the clock with our skew, Status and Destination of an unsigned
//! Response shell, replays) are made here on samael's parsed structures, after its
//! verification, and read only from the verified assertion.
//!
//! Nothing here stores anything: the console keeps the outstanding requests and the
//! registration authority remembers used assertion ids (see the console's `sso`).

#![warn(missing_docs)]

mod error;
pub mod metadata;
pub mod request;
pub mod response;

pub use error::{MetadataError, SamlRefusal};
pub use metadata::{parse_idp_metadata, sp_metadata_xml};
pub use request::{AuthnRedirect, OutstandingRequests};
pub use response::{SamlAttribute, VerifiedAssertion};

/// The clock skew allowed on every time in an assertion, in seconds.
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// How long after its IssueInstant a Response or assertion is still accepted, in
/// seconds (beyond the skew).
pub const MAX_ISSUE_DELAY_SECONDS: i64 = 180;

/// Where the console serves SAML, relative to the HTTPS base URL.
pub const METADATA_PATH: &str = "/console/saml/metadata";
/// The AssertionConsumerService path (HTTP-POST binding).
pub const ACS_PATH: &str = "/console/saml/acs";

/// The names an attribute may come under: its SAML 2.0 URI name (`urn:oid:...`), its
/// LDAP friendly name, and the claim URI Entra ID sends by default, where it has one.
pub mod attributes {
    /// eduPersonPrincipalName: the administrator's identity at the IdP.
    pub const EPPN: &[&str] = &["eduPersonPrincipalName", "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"];
    /// mail (required).
    pub const MAIL: &[&str] = &[
        "mail",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ];
    /// givenName.
    pub const GIVEN_NAME: &[&str] = &[
        "givenName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ];
    /// sn (surname).
    pub const SURNAME: &[&str] = &[
        "sn",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ];
    /// Each known attribute's friendly name and its other names.
    pub const KNOWN: &[&[&str]] = &[EPPN, MAIL, GIVEN_NAME, SURNAME];
}

/// This service provider: the console at an HTTPS base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    entity_id: String,
    acs_url: String,
}

impl ServiceProvider {
    /// The console served at `https_base` (e.g. `https://pki.example.com:8443`): entity id
    /// `<base>/console/saml/metadata` (also where its metadata is served), ACS
    /// `<base>/console/saml/acs`.
    pub fn at(https_base: &str) -> Self {
        let base = https_base.trim_end_matches('/');
        Self {
            entity_id: format!("{base}{METADATA_PATH}"),
            acs_url: format!("{base}{ACS_PATH}"),
        }
    }

    /// The entity id (the audience assertions must name).
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The AssertionConsumerService URL (Destination and Recipient must name it).
    pub fn acs_url(&self) -> &str {
        &self.acs_url
    }
}

/// The identity provider, as its metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    /// Its entity id (the Issuer of its Responses and assertions).
    pub entity_id: String,
    /// Its SingleSignOnService URL for the HTTP-Redirect binding.
    pub sso_url: String,
    /// The certificates (DER) whose keys sign its Responses or assertions.
    pub signing_certificates: Vec<Vec<u8>>,
}

/// Whether XML text carries a document type declaration (entities, external DTDs):
/// SAML never needs one, so it is refused before any parser sees it.
pub(crate) fn refuses_dtd(xml: &str) -> bool {
    xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY")
}

/// A random XML ID (`_` and 32 hex digits: 128 bits from the system CSPRNG).
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system CSPRNG is available");
    format!("_{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests;
