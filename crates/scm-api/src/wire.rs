//! Request bodies as connectors send them, parsed liberally (section 9 of the
//! reference): numbers as JSON numbers or numeric strings, `subjAltNames` as a
//! comma-separated string or an array, the CSR with or without PEM armour,
//! unknown and legacy fields (`serverType`, `numberServers`, `dcvMode`, ...)
//! ignored. What comes out is checked and typed.

use base64::Engine;
use ca_core::revocation::RevocationReason;
use policy::request::CustomFieldValue;
use serde::Deserialize;
use serde_json::Value;

use crate::error::ScmError;
use crate::routes::Area;

/// The longest CSR text accepted (the reference's limit).
pub const MAX_CSR_CHARS: usize = 32767;
/// The longest reason or message of an action.
pub const MAX_REASON_CHARS: usize = 512;

/// A JSON value that should be an unsigned integer: a number, or a string of digits.
pub fn integer(value: &Value, field: &str) -> Result<u64, ScmError> {
    let bad = || ScmError::field(format!("{field} must be a positive integer"));
    match value {
        Value::Number(n) => n.as_u64().ok_or_else(bad),
        Value::String(s) => s.trim().parse::<u64>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn optional_integer(value: Option<&Value>, field: &str) -> Result<Option<u64>, ScmError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => integer(v, field).map(Some),
    }
}

fn text(value: Option<&Value>, field: &str, max: usize) -> Result<String, ScmError> {
    match value {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(ScmError::field(format!(
            "{field} must be at most {max} characters"
        ))),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(ScmError::field(format!("{field} must be a string"))),
    }
}

/// A list of names given as "a,b" or ["a", "b"] (either may be null or empty).
pub fn name_list(value: Option<&Value>, field: &str) -> Result<Vec<String>, ScmError> {
    let items: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ScmError::field(format!("{field} must hold strings"))),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ScmError::field(format!(
                "{field} must be a comma-separated string or an array"
            )))
        }
    };
    let names: Vec<String> = items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() > 1000 {
        return Err(ScmError::field(format!("{field} holds too many names")));
    }
    Ok(names)
}

/// A CSR, PEM with its BEGIN / END lines or bare base64 of the DER: the DER.
pub fn csr(value: Option<&Value>) -> Result<Vec<u8>, ScmError> {
    let text = match value {
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        _ => return Err(ScmError::field("csr is required")),
    };
    if text.chars().count() > MAX_CSR_CHARS {
        return Err(ScmError::field(format!(
            "csr must be at most {MAX_CSR_CHARS} characters"
        )));
    }
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim_end_matches('='))
        .or_else(|_| {
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(body.trim_end_matches('='))
        })
        .map_err(|_| ScmError::bad(crate::error::code::BAD_CSR, "The CSR is not PEM or base64"))
}

/// The body as a JSON object; an empty body, `""`, `null` or `{}` is an empty object.
pub fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ScmError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Default::default());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Default::default()),
        Ok(Value::String(s)) if s.trim().is_empty() => Ok(Default::default()),
        Ok(_) => Err(ScmError::field("the body must be a JSON object")),
        Err(e) => Err(ScmError::field(format!("the body is not JSON: {e}"))),
    }
}

/// A custom field value as sent.
#[derive(Debug, Deserialize)]
struct WireCustomField {
    name: String,
    #[serde(default)]
    value: Value,
}

fn custom_fields(value: Option<&Value>) -> Result<Vec<CustomFieldValue>, ScmError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => {
            let fields: Vec<WireCustomField> = serde_json::from_value(v.clone())
                .map_err(|_| ScmError::field("customFields must be an array of {name, value}"))?;
            if fields.len() > 64 {
                return Err(ScmError::field("too many customFields"));
            }
            Ok(fields
                .into_iter()
                .map(|f| CustomFieldValue {
                    name: f.name,
                    value: match f.value {
                        Value::String(s) => s,
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                })
                .collect())
        }
    }
}

/// POST .../enroll.
#[derive(Debug)]
pub struct EnrollRequest {
    /// The organization or department.
    pub org_id: u64,
    /// The CSR, DER.
    pub csr: Vec<u8>,
    /// The profile number (`certType`).
    pub cert_type: u64,
    /// The term in days, when given.
    pub term: Option<u64>,
    /// Names to add to the CSR's.
    pub subject_alt_names: Vec<String>,
    /// Free text.
    pub comments: String,
    /// E-mail addresses.
    pub external_requester: String,
    /// Custom field values.
    pub custom_fields: Vec<CustomFieldValue>,
}

impl EnrollRequest {
    /// Parses an enroll body of an area.
    pub fn parse(body: &[u8], area: Area) -> Result<Self, ScmError> {
        let map = object(body)?;
        let mut names = name_list(map.get("subjAltNames"), "subjAltNames")?;
        match area {
            Area::Ssl => {}
            Area::Smime => {
                let email = text(map.get("email"), "email", 256)?;
                if email.trim().is_empty() {
                    return Err(ScmError::field("email is required"));
                }
                names.push(format!("email:{}", email.trim()));
                let upn = text(map.get("upn"), "upn", 256)?;
                if !upn.trim().is_empty() {
                    names.push(format!("upn:{}", upn.trim()));
                }
            }
            Area::Device => names.extend(optional_fields(map.get("optionalFields"))?),
        }
        let org_id = optional_integer(map.get("orgId"), "orgId")?
            .ok_or_else(|| ScmError::field("orgId is required"))?;
        let cert_type = optional_integer(map.get("certType"), "certType")?
            .ok_or_else(|| ScmError::field("certType is required"))?;
        Ok(Self {
            org_id,
            csr: csr(map.get("csr"))?,
            cert_type,
            term: optional_integer(map.get("term"), "term")?,
            subject_alt_names: names,
            comments: text(map.get("comments"), "comments", 1024)?,
            external_requester: text(map.get("externalRequester"), "externalRequester", 512)?,
            custom_fields: custom_fields(map.get("customFields"))?,
        })
    }
}

/// A device's `optionalFields` `[{name, value}]` as tagged names; `commonName` is the
/// CSR's business and other names are ignored.
fn optional_fields(value: Option<&Value>) -> Result<Vec<String>, ScmError> {
    let fields = custom_fields(value)
        .map_err(|_| ScmError::field("optionalFields must be an array of {name, value}"))?;
    Ok(fields
        .into_iter()
        .filter(|f| !f.value.trim().is_empty())
        .filter_map(|f| {
            let tag = match f.name.to_ascii_lowercase().as_str() {
                "dnsname" => "dns",
                "userprincipalname" | "upn" => "upn",
                "email" | "rfc822name" | "emailaddress" => "email",
                "ipaddress" => "ip",
                _ => return None,
            };
            Some(format!("{tag}:{}", f.value.trim()))
        })
        .collect())
}

/// POST .../renewById/{id} and .../renew/{renewId}: an optional new CSR.
pub fn renew_csr(body: &[u8]) -> Result<Option<Vec<u8>>, ScmError> {
    let map = object(body)?;
    match map.get("csr") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        other => csr(other).map(Some),
    }
}

/// POST .../replace/{id}.
#[derive(Debug)]
pub struct ReplaceRequest {
    /// The new CSR, DER.
    pub csr: Vec<u8>,
    /// Why.
    pub reason: String,
    /// Whether the replaced certificate is also revoked (device `replace/order`).
    pub revoke: bool,
}

impl ReplaceRequest {
    /// Parses a replace body.
    pub fn parse(body: &[u8]) -> Result<Self, ScmError> {
        let map = object(body)?;
        Ok(Self {
            csr: csr(map.get("csr"))?,
            reason: text(map.get("reason"), "reason", MAX_REASON_CHARS)?,
            revoke: matches!(map.get("revoke"), Some(Value::Bool(true)))
                || matches!(map.get("revoke"), Some(Value::String(s)) if s.eq_ignore_ascii_case("true")),
        })
    }
}

/// POST .../revoke/{id} and .../revoke/serial/{serial}.
#[derive(Debug)]
pub struct RevokeRequest {
    /// The reason (unspecified when none is given).
    pub reason_code: RevocationReason,
    /// Why, in words.
    pub reason: String,
}

impl RevokeRequest {
    /// Parses a revoke body: `reasonCode` as a number or a string, one of 0, 1, 3, 4, 5.
    pub fn parse(body: &[u8]) -> Result<Self, ScmError> {
        let map = object(body)?;
        let reason_code = match optional_integer(map.get("reasonCode"), "reasonCode")? {
            None | Some(0) => RevocationReason::Unspecified,
            Some(1) => RevocationReason::KeyCompromise,
            Some(3) => RevocationReason::AffiliationChanged,
            Some(4) => RevocationReason::Superseded,
            Some(5) => RevocationReason::CessationOfOperation,
            Some(_) => {
                return Err(ScmError::field(
                    "reasonCode must be one of 0, 1, 3, 4 and 5",
                ))
            }
        };
        Ok(Self {
            reason_code,
            reason: text(map.get("reason"), "reason", MAX_REASON_CHARS)?,
        })
    }
}

/// POST .../approve/{id} and .../decline/{id}: `{message}`.
pub fn decision_message(body: &[u8]) -> Result<String, ScmError> {
    let map = object(body)?;
    text(map.get("message"), "message", MAX_REASON_CHARS)
}

/// POST and PUT /organization/v1: the fields this API keeps.
#[derive(Debug, Default)]
pub struct OrganizationRequest {
    /// The name.
    pub name: Option<String>,
    /// With it, the new unit is a department of the organization of this name.
    pub parent_org_name: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The state or province (request field `stateProvince`; `stateOrProvince` accepted).
    pub state: Option<String>,
    /// The two-letter country.
    pub country: Option<String>,
}

impl OrganizationRequest {
    /// Parses an organization body.
    pub fn parse(body: &[u8]) -> Result<Self, ScmError> {
        let map = object(body)?;
        let get = |k: &str| -> Result<Option<String>, ScmError> {
            let t = text(map.get(k), k, 256)?;
            Ok((!t.trim().is_empty()).then(|| t.trim().to_string()))
        };
        Ok(Self {
            name: get("name")?,
            parent_org_name: get("parentOrgName")?,
            city: get("city")?,
            state: get("stateProvince")?.or(get("stateOrProvince")?),
            country: get("country")?.map(|c| c.to_ascii_uppercase()),
        })
    }
}

/// A delegation in a domain body: the organization or department it goes to.
pub fn delegation_org(value: &Value) -> Result<u64, ScmError> {
    match value.get("orgId") {
        Some(v) => integer(v, "orgId"),
        None => Err(ScmError::field("a delegation needs an orgId")),
    }
}

/// POST /domain/v1.
#[derive(Debug)]
pub struct DomainRequest {
    /// The domain name.
    pub name: String,
    /// The organizations / departments it is delegated to (at least one).
    pub delegations: Vec<u64>,
}

impl DomainRequest {
    /// Parses a domain body.
    pub fn parse(body: &[u8]) -> Result<Self, ScmError> {
        let map = object(body)?;
        let name = text(map.get("name"), "name", 255)?.trim().to_string();
        if name.len() < 4 {
            return Err(ScmError::field("name must be 4 to 255 characters"));
        }
        let delegations = match map.get("delegations") {
            Some(Value::Array(a)) if !a.is_empty() => {
                a.iter().map(delegation_org).collect::<Result<_, _>>()?
            }
            _ => {
                return Err(ScmError::field(
                    "delegations must hold at least one delegation",
                ))
            }
        };
        Ok(Self { name, delegations })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSR_B64: &str =
        "MIIBAjCBqQIBADAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ";

    impl EnrollRequest {
        fn parse_ssl(body: &[u8]) -> Result<Self, ScmError> {
            Self::parse(body, Area::Ssl)
        }
    }

    #[test]
    fn smime_needs_an_email_and_devices_take_optional_fields() {
        let smime = EnrollRequest::parse(
            br#"{"orgId":1,"certType":2,"csr":"QUJD","email":"a@b.test","firstName":"A","lastName":"B"}"#,
            Area::Smime,
        )
        .unwrap();
        assert_eq!(smime.subject_alt_names, vec!["email:a@b.test"]);
        assert!(
            EnrollRequest::parse(br#"{"orgId":1,"certType":2,"csr":"QUJD"}"#, Area::Smime).is_err()
        );
        let device = EnrollRequest::parse(
            br#"{"orgId":1,"certType":2,"csr":"QUJD","optionalFields":[{"name":"dnsName","value":"d.test"},{"name":"commonName","value":"x"}]}"#,
            Area::Device,
        )
        .unwrap();
        assert_eq!(device.subject_alt_names, vec!["dns:d.test"]);
    }

    #[test]
    fn numbers_come_as_numbers_or_numeric_strings() {
        for body in [
            r#"{"orgId":7,"certType":"3","term":"90","csr":"QUJD"}"#,
            r#"{"orgId":"7","certType":3,"term":90,"csr":"QUJD","serverType":-1,"numberServers":1,"dcvMode":"CNAME","evDetails":{}}"#,
        ] {
            let e = EnrollRequest::parse(body.as_bytes(), Area::Ssl).expect(body);
            assert_eq!((e.org_id, e.cert_type, e.term), (7, 3, Some(90)), "{body}");
            assert_eq!(e.csr, b"ABC");
        }
        assert!(
            EnrollRequest::parse_ssl(br#"{"orgId":"seven","certType":3,"csr":"QUJD"}"#).is_err()
        );
        assert!(EnrollRequest::parse_ssl(br#"{"orgId":-7,"certType":3,"csr":"QUJD"}"#).is_err());
        assert!(EnrollRequest::parse_ssl(br#"{"certType":3,"csr":"QUJD"}"#).is_err());
    }

    #[test]
    fn names_come_as_a_string_or_an_array() {
        let s = name_list(Some(&Value::from("a.example, b.example,,")), "x").unwrap();
        let a = name_list(Some(&serde_json::json!(["a.example", " b.example "])), "x").unwrap();
        assert_eq!(s, vec!["a.example", "b.example"]);
        assert_eq!(s, a);
        assert!(name_list(Some(&Value::Null), "x").unwrap().is_empty());
        assert!(name_list(Some(&serde_json::json!(3)), "x").is_err());
    }

    #[test]
    fn a_csr_comes_with_or_without_armour() {
        let pem = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n{}\n-----END CERTIFICATE REQUEST-----\n",
            &CSR_B64[..40],
            &CSR_B64[40..]
        );
        let a = csr(Some(&Value::from(pem))).unwrap();
        let b = csr(Some(&Value::from(CSR_B64))).unwrap();
        assert_eq!(a, b);
        assert!(csr(Some(&Value::from("not base64 !!"))).is_err());
        assert!(csr(None).is_err());
    }

    #[test]
    fn renew_bodies_may_be_empty_a_blank_string_or_an_empty_object() {
        for body in ["", "\"\"", "{}", "null", "  "] {
            assert_eq!(renew_csr(body.as_bytes()).unwrap(), None, "{body:?}");
        }
        assert!(renew_csr(br#"{"csr":"QUJD"}"#).unwrap().is_some());
        assert!(renew_csr(b"[1]").is_err());
    }

    #[test]
    fn revoke_reasons_are_optional_numbers_or_strings() {
        let r = RevokeRequest::parse(br#"{"reason":"gone"}"#).unwrap();
        assert_eq!(r.reason_code, RevocationReason::Unspecified);
        let r = RevokeRequest::parse(br#"{"reasonCode":"4","reason":"new key"}"#).unwrap();
        assert_eq!(r.reason_code, RevocationReason::Superseded);
        let r = RevokeRequest::parse(br#"{"reasonCode":1}"#).unwrap();
        assert_eq!(r.reason_code, RevocationReason::KeyCompromise);
        assert!(RevokeRequest::parse(br#"{"reasonCode":2}"#).is_err());
        let long = format!(r#"{{"reason":"{}"}}"#, "x".repeat(513));
        assert!(RevokeRequest::parse(long.as_bytes()).is_err());
    }
}
