//! ACME JSON objects: what clients send (payloads, taken leniently: unknown
//! members are ignored as RFC 8555 §7.3 asks) and what the server answers.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problem::{Problem, ProblemDocument};

/// An identifier as it appears on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierObject {
    /// "dns" or "ip".
    #[serde(rename = "type")]
    pub kind: String,
    /// The name or address.
    pub value: String,
}

impl IdentifierObject {
    /// A DNS identifier.
    pub fn dns(value: &str) -> Self {
        Self {
            kind: "dns".into(),
            value: value.into(),
        }
    }

    /// An IP identifier.
    pub fn ip(value: &str) -> Self {
        Self {
            kind: "ip".into(),
            value: value.into(),
        }
    }
}

// ---------------------------------------------------------------- requests

/// newAccount (RFC 8555 §7.3).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccountPayload {
    /// Contact URLs.
    #[serde(default)]
    pub contact: Option<Vec<String>>,
    /// Agreement to the terms of service.
    #[serde(default)]
    pub terms_of_service_agreed: Option<bool>,
    /// Only look an existing account up.
    #[serde(default)]
    pub only_return_existing: bool,
    /// The external account binding (a JWS).
    #[serde(default)]
    pub external_account_binding: Option<Value>,
}

/// An account update (RFC 8555 §7.3.2, §7.3.6).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountUpdatePayload {
    /// New contact URLs.
    #[serde(default)]
    pub contact: Option<Vec<String>>,
    /// "deactivated" to deactivate.
    #[serde(default)]
    pub status: Option<String>,
}

/// newOrder (RFC 8555 §7.4, RFC 9773 §5).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderPayload {
    /// The identifiers.
    pub identifiers: Vec<IdentifierObject>,
    /// Requested start of validity (not supported: the profile decides).
    #[serde(default)]
    pub not_before: Option<Value>,
    /// Requested end of validity (not supported).
    #[serde(default)]
    pub not_after: Option<Value>,
    /// The certID of the certificate this order replaces (ARI).
    #[serde(default)]
    pub replaces: Option<String>,
    /// A profile name (the profiles extension); only the endpoint's own is accepted.
    #[serde(default)]
    pub profile: Option<String>,
}

/// finalize (RFC 8555 §7.4).
#[derive(Debug, Deserialize)]
pub struct FinalizePayload {
    /// The CSR, base64url DER.
    pub csr: String,
}

/// An authorization update (RFC 8555 §7.5.2).
#[derive(Debug, Deserialize)]
pub struct AuthorizationUpdatePayload {
    /// "deactivated".
    pub status: String,
}

/// revokeCert (RFC 8555 §7.6).
#[derive(Debug, Deserialize)]
pub struct RevocationPayload {
    /// The certificate, base64url DER.
    pub certificate: String,
    /// An RFC 5280 CRLReason code.
    #[serde(default)]
    pub reason: Option<i64>,
}

/// The inner payload of keyChange (RFC 8555 §7.3.5).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyChangePayload {
    /// The account URL.
    pub account: String,
    /// The current account key.
    pub old_key: Value,
}

/// An RFC 9773 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertId {
    /// The authority key identifier of the certificate's issuer.
    pub key_identifier: Vec<u8>,
    /// The serial number's DER content octets.
    pub serial: Vec<u8>,
}

impl CertId {
    /// Parses a certID.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        let bad = || Problem::malformed("a certID is base64url(keyIdentifier).base64url(serial)");
        let (aki, serial) = text.split_once('.').ok_or_else(bad)?;
        let key_identifier = URL_SAFE_NO_PAD.decode(aki).map_err(|_| bad())?;
        let serial = URL_SAFE_NO_PAD.decode(serial).map_err(|_| bad())?;
        if key_identifier.is_empty() || serial.is_empty() || serial.len() > 21 {
            return Err(bad());
        }
        Ok(Self {
            key_identifier,
            serial,
        })
    }

    /// The certID of a certificate's AKI and raw serial.
    pub fn encode(key_identifier: &[u8], serial: &[u8]) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(key_identifier),
            URL_SAFE_NO_PAD.encode(serial)
        )
    }
}

// ---------------------------------------------------------------- answers

/// The directory (RFC 8555 §7.1.1).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// newNonce.
    pub new_nonce: String,
    /// newAccount.
    pub new_account: String,
    /// newOrder.
    pub new_order: String,
    /// revokeCert.
    pub revoke_cert: String,
    /// keyChange.
    pub key_change: String,
    /// renewalInfo (RFC 9773).
    pub renewal_info: String,
    /// meta.
    pub meta: DirectoryMeta,
}

/// The directory's meta object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryMeta {
    /// The terms of service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms_of_service: Option<String>,
    /// A web site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// CAA identities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub caa_identities: Vec<String>,
    /// Whether new accounts need an external account binding.
    pub external_account_required: bool,
}

/// An account (RFC 8555 §7.1.2).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountObject {
    /// "valid" or "deactivated".
    pub status: &'static str,
    /// Contact URLs.
    pub contact: Vec<String>,
    /// Whether the terms were agreed to.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub terms_of_service_agreed: bool,
    /// The order list URL.
    pub orders: String,
}

/// An order (RFC 8555 §7.1.3).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderObject {
    /// pending, ready, processing, valid, invalid.
    pub status: &'static str,
    /// When it expires.
    pub expires: String,
    /// The identifiers.
    pub identifiers: Vec<IdentifierObject>,
    /// The authorization URLs.
    pub authorizations: Vec<String>,
    /// The finalize URL.
    pub finalize: String,
    /// The certificate URL, once valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// Why it is invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProblemDocument>,
    /// The certID it replaces (ARI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// An authorization (RFC 8555 §7.1.4).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationObject {
    /// The identifier (a wildcard's base name).
    pub identifier: IdentifierObject,
    /// pending, valid, invalid, deactivated, expired, revoked.
    pub status: &'static str,
    /// When it expires.
    pub expires: String,
    /// The challenges.
    pub challenges: Vec<ChallengeObject>,
    /// Whether it is for a wildcard.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub wildcard: bool,
}

/// A challenge (RFC 8555 §7.1.5, §8).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeObject {
    /// http-01, dns-01, tls-alpn-01.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its URL.
    pub url: String,
    /// pending, processing, valid, invalid.
    pub status: &'static str,
    /// The token.
    pub token: String,
    /// When it was validated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validated: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProblemDocument>,
    /// What validation saw.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub validation_record: Vec<ValidationRecordObject>,
}

/// One validation record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationRecordObject {
    /// The URL fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The host name.
    pub hostname: String,
    /// The port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// The addresses resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses_resolved: Vec<String>,
    /// The address used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_used: Option<String>,
}

/// The order list of an account (RFC 8555 §7.1.2.1).
#[derive(Debug, Serialize)]
pub struct OrderListObject {
    /// Order URLs.
    pub orders: Vec<String>,
}

/// Renewal information (RFC 9773 §4.2).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewalInfoObject {
    /// When to renew.
    pub suggested_window: SuggestedWindow,
}

/// A renewal window.
#[derive(Debug, Serialize)]
pub struct SuggestedWindow {
    /// RFC 3339.
    pub start: String,
    /// RFC 3339.
    pub end: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids_round_trip_and_junk_is_refused() {
        let text = CertId::encode(&[1, 2, 3], &[0, 0x87, 0x65]);
        assert_eq!(text, "AQID.AIdl");
        let id = CertId::parse(&text).unwrap();
        assert_eq!(id.serial, vec![0, 0x87, 0x65]);
        for junk in ["", "AQID", ".AIdl", "AQID.", "A*ID.AIdl", "AQID.AIdl.x"] {
            assert!(CertId::parse(junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn payloads_ignore_unknown_members() {
        let p: NewAccountPayload = serde_json::from_str(
            r#"{"contact": ["mailto:a@example.com"], "termsOfServiceAgreed": true, "x": 1}"#,
        )
        .unwrap();
        assert_eq!(p.terms_of_service_agreed, Some(true));
        assert!(!p.only_return_existing);
    }
}
