//! Reading request bodies: a size limit checked before and while reading, the
//! media type, and JSON decoding into `deny_unknown_fields` request types
//! with every string length-checked before any handler sees it.

use bytes::Bytes;
use http::{header, HeaderMap};
use hyper::body::Body;
use serde::de::DeserializeOwned;
use serde_json::Value;

use gateway_http::BodyError;

use crate::error::ApiError;

/// The body limit of every operation but import.
pub const DEFAULT_LIMIT: usize = 1 << 20;
/// The body limit of certificate import (a ZIP or PEM bundle of many certificates).
pub const IMPORT_LIMIT: usize = 16 << 20;
/// The longest JSON string accepted anywhere at the edge (values and keys), in characters.
/// The RA enforces tighter limits per field; this one stops huge strings before they
/// reach it, and before they reach a log line or an error message.
pub const MAX_STRING_CHARS: usize = 4096;
/// The exception: a PEM CSR with many names or an RSA-4096 key is legitimately longer,
/// and so is a PEM certificate (an RSA-4096 client certificate with LDAP distribution
/// points and policies comes close to [`MAX_STRING_CHARS`]).
pub const MAX_CSR_CHARS: usize = 65536;
/// The only fields that get [`MAX_CSR_CHARS`]: a CSR, and a certificate to link.
const LONG_FIELDS: &[&str] = &["csr", "certificate"];

/// Reads a whole body, refusing more than `limit` bytes (the gateway's one body reader,
/// with its refusals as API errors).
pub async fn read_limited<B>(body: B, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    gateway_http::read_limited(body, headers, limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge { limit } => ApiError::too_large(limit),
            BodyError::Unreadable(_) => ApiError::invalid_input(e.to_string()),
        })
}

/// The media type of a request (lower case, without parameters), if it sent one.
pub fn media_type(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get(header::CONTENT_TYPE) {
        None => Ok(None),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| ApiError::unsupported_media_type("the Content-Type is not ASCII"))?;
            let essence = text.split(';').next().unwrap_or("").trim();
            Ok(Some(essence.to_ascii_lowercase()))
        }
    }
}

/// Refuses a JSON operation's body sent as anything but JSON. A request without a
/// Content-Type is taken as JSON, so that `curl -d` works; a wrong type never is.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    match media_type(headers)?.as_deref() {
        None | Some("application/json") => Ok(()),
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Ok(()),
        Some(other) => Err(ApiError::unsupported_media_type(format!(
            "this operation takes application/json, not {other}"
        ))),
    }
}

/// Decodes a JSON object body into a request type.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed_json(
            "this operation needs a JSON object body",
        ));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed_json(format!("the body is not valid JSON: {e}")))?;
    from_value(value)
}

/// Like [`json`], but an empty body stands for the type's default (operations whose
/// fields are all optional, like approve with no message).
pub fn json_or_default<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json(bytes)
}

fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::malformed_json("the body must be a JSON object"));
    }
    check_strings(&value, None)?;
    serde_json::from_value(value).map_err(|e| {
        // serde_json's message names the field ("unknown field `x`, expected one of ...",
        // "missing field `name`", "invalid type: ..."); it is the best report we have.
        let message = e.to_string();
        if message.starts_with("unknown field") {
            ApiError::unknown_field(message)
        } else {
            ApiError::invalid_input(message)
        }
    })
}

/// Walks a JSON value and refuses any string (or key) longer than the edge limit.
fn check_strings(value: &Value, field: Option<&str>) -> Result<(), ApiError> {
    match value {
        Value::String(s) => {
            let max = if field.is_some_and(|f| LONG_FIELDS.contains(&f)) {
                MAX_CSR_CHARS
            } else {
                MAX_STRING_CHARS
            };
            if s.chars().count() > max {
                return Err(ApiError::invalid_input(format!(
                    "field '{}' is longer than {max} characters",
                    field.unwrap_or("(array item)")
                )));
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|v| check_strings(v, field)),
        Value::Object(map) => {
            for (key, v) in map {
                if key.chars().count() > MAX_STRING_CHARS {
                    return Err(ApiError::invalid_input(format!(
                        "a field name is longer than {MAX_STRING_CHARS} characters"
                    )));
                }
                check_strings(v, Some(key))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: Option<String>,
        csr: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Certificate {
        certificate: Option<String>,
    }

    #[test]
    fn classifies_json_failures() {
        assert_eq!(json::<Sample>(b"{").unwrap_err().code(), "malformed_json");
        assert_eq!(json::<Sample>(b"[1]").unwrap_err().code(), "malformed_json");
        assert_eq!(json::<Sample>(b"").unwrap_err().code(), "malformed_json");
        assert_eq!(
            json::<Sample>(br#"{"nmae": "x"}"#).unwrap_err().code(),
            "unknown_field"
        );
        assert_eq!(
            json::<Sample>(br#"{"name": 3}"#).unwrap_err().code(),
            "invalid_input"
        );
        assert!(json_or_default::<Sample>(b"  ").unwrap().name.is_none());
    }

    #[test]
    fn refuses_overlong_strings_except_a_csr_or_certificate() {
        let long = "a".repeat(MAX_STRING_CHARS + 1);
        let body = serde_json::to_vec(&serde_json::json!({ "name": long })).unwrap();
        assert_eq!(json::<Sample>(&body).unwrap_err().code(), "invalid_input");
        let body = serde_json::to_vec(&serde_json::json!({ "csr": long })).unwrap();
        assert!(json::<Sample>(&body).unwrap().csr.is_some());
        let longer = "a".repeat(MAX_CSR_CHARS + 1);
        let body = serde_json::to_vec(&serde_json::json!({ "csr": longer })).unwrap();
        assert_eq!(json::<Sample>(&body).unwrap_err().code(), "invalid_input");
        let body = serde_json::to_vec(&serde_json::json!({ "certificate": long })).unwrap();
        assert!(json::<Certificate>(&body).unwrap().certificate.is_some());
        let body = serde_json::to_vec(&serde_json::json!({ "certificate": longer })).unwrap();
        assert_eq!(
            json::<Certificate>(&body).unwrap_err().code(),
            "invalid_input"
        );
    }

    #[tokio::test]
    async fn the_limit_holds_with_and_without_content_length() {
        use http_body_util::Full;
        let body = Full::new(Bytes::from(vec![b'x'; 100]));
        let err = read_limited(body.clone(), &HeaderMap::new(), 99)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "too_large");
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "1000".parse().unwrap());
        let err = read_limited(body.clone(), &headers, 500).await.unwrap_err();
        assert_eq!(err.code(), "too_large");
        let ok = read_limited(body, &HeaderMap::new(), 100).await.unwrap();
        assert_eq!(ok.len(), 100);
    }
}
