//! JWS in the flattened JSON serialization (RFC 7515 §7.2.2), the only one
//! ACME allows: a request signed by an account key, the inner JWS of a key
//! change, and the MAC of an external account binding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::jwk::{JwsAlgorithm, PublicJwk};
use super::problem::{Problem, ProblemType};

/// A flattened JWS as sent: no unprotected header (ACME forbids it), nothing else.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flattened {
    protected: String,
    payload: String,
    signature: String,
}

/// The protected header members ACME uses.
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    jwk: Option<Value>,
    kid: Option<String>,
    nonce: Option<String>,
    url: Option<String>,
    crit: Option<Value>,
    b64: Option<Value>,
}

/// A JWS taken apart, signature not checked yet.
#[derive(Debug)]
struct Parts {
    header: Header,
    signing_input: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, Problem> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| {
        Problem::malformed(format!("the JWS {field} is not base64url without padding"))
    })
}

impl Parts {
    fn from_value(value: Value) -> Result<Self, Problem> {
        let jws: Flattened = serde_json::from_value(value).map_err(|e| {
            Problem::malformed(format!(
                "not a JWS in flattened JSON serialization (protected, payload, signature): {e}"
            ))
        })?;
        let header_bytes = b64("protected header", &jws.protected)?;
        let header: Header = serde_json::from_slice(&header_bytes).map_err(|e| {
            Problem::malformed(format!("the JWS protected header is not valid: {e}"))
        })?;
        if header.crit.is_some() || header.b64.is_some() {
            return Err(Problem::malformed(
                "the JWS uses an extension (crit, b64) this server does not support",
            ));
        }
        let mut signing_input = Vec::with_capacity(jws.protected.len() + jws.payload.len() + 1);
        signing_input.extend_from_slice(jws.protected.as_bytes());
        signing_input.push(b'.');
        signing_input.extend_from_slice(jws.payload.as_bytes());
        Ok(Parts {
            payload: b64("payload", &jws.payload)?,
            signature: b64("signature", &jws.signature)?,
            header,
            signing_input,
        })
    }
}

/// How a request names its key.
#[derive(Debug, Clone)]
pub enum KeyRef {
    /// The key itself (newAccount, revokeCert by certificate key, key-change inner JWS).
    Jwk(PublicJwk),
    /// The account URL.
    Kid(String),
}

/// A request JWS signed with an account (or certificate) key; the signature is
/// checked by [`SignedRequest::verify`] once the key is known.
#[derive(Debug)]
pub struct SignedRequest {
    /// The algorithm.
    pub alg: JwsAlgorithm,
    /// The key or the account URL.
    pub key: KeyRef,
    /// The anti-replay nonce.
    pub nonce: Option<String>,
    /// The URL the request was signed for.
    pub url: String,
    /// The decoded payload ("" for POST-as-GET).
    pub payload: Vec<u8>,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl SignedRequest {
    /// Parses a request body.
    pub fn parse(body: &[u8]) -> Result<Self, Problem> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| Problem::malformed(format!("the request body is not JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Parses a JWS given as a JSON value (the inner JWS of a key change).
    pub fn from_value(value: Value) -> Result<Self, Problem> {
        let parts = Parts::from_value(value)?;
        let alg = JwsAlgorithm::from_name(&parts.header.alg).ok_or_else(|| Problem {
            algorithms: Some(&JwsAlgorithm::NAMES),
            ..Problem::new(
                ProblemType::BadSignatureAlgorithm,
                format!(
                    "the JWS algorithm '{}' is not supported",
                    parts.header.alg.chars().take(32).collect::<String>()
                ),
            )
        })?;
        let key = match (parts.header.jwk, parts.header.kid) {
            (Some(jwk), None) => KeyRef::Jwk(PublicJwk::from_json(&jwk)?),
            (None, Some(kid)) => KeyRef::Kid(kid),
            (Some(_), Some(_)) => {
                return Err(Problem::malformed(
                    "the JWS header has both 'jwk' and 'kid'; exactly one is allowed",
                ))
            }
            (None, None) => {
                return Err(Problem::malformed(
                    "the JWS header has neither 'jwk' nor 'kid'",
                ))
            }
        };
        let url = parts
            .header
            .url
            .ok_or_else(|| Problem::malformed("the JWS header has no 'url'"))?;
        Ok(Self {
            alg,
            key,
            nonce: parts.header.nonce,
            url,
            payload: parts.payload,
            signing_input: parts.signing_input,
            signature: parts.signature,
        })
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &PublicJwk) -> Result<(), Problem> {
        if !key.fits(self.alg) {
            return Err(Problem {
                algorithms: Some(&JwsAlgorithm::NAMES),
                ..Problem::new(
                    ProblemType::BadSignatureAlgorithm,
                    format!("the JWS algorithm {} does not fit the key", self.alg.name()),
                )
            });
        }
        if key.verify(self.alg, &self.signing_input, &self.signature) {
            Ok(())
        } else {
            Err(Problem::malformed("the JWS signature does not verify"))
        }
    }

    /// Whether this is a POST-as-GET (empty payload).
    pub fn is_post_as_get(&self) -> bool {
        self.payload.is_empty()
    }

    /// The payload as a JSON request type.
    pub fn payload_json<T: DeserializeOwned>(&self) -> Result<T, Problem> {
        if self.payload.is_empty() {
            return Err(Problem::malformed(
                "this request needs a JSON payload, not a POST-as-GET",
            ));
        }
        serde_json::from_slice(&self.payload)
            .map_err(|e| Problem::malformed(format!("the JWS payload is not valid: {e}")))
    }

    /// Refuses anything but POST-as-GET.
    pub fn require_post_as_get(&self) -> Result<(), Problem> {
        if self.is_post_as_get() {
            Ok(())
        } else {
            Err(Problem::malformed(
                "this resource is read with POST-as-GET (an empty payload)",
            ))
        }
    }
}

/// The MAC algorithms an external account binding may use.
fn mac_algorithm(name: &str) -> Option<aws_lc_rs::hmac::Algorithm> {
    match name {
        "HS256" => Some(aws_lc_rs::hmac::HMAC_SHA256),
        "HS384" => Some(aws_lc_rs::hmac::HMAC_SHA384),
        "HS512" => Some(aws_lc_rs::hmac::HMAC_SHA512),
        _ => None,
    }
}

/// An external account binding (RFC 8555 §7.3.4): a JWS MACed with the EAB key
/// over the account's JWK.
#[derive(Debug)]
pub struct ExternalBinding {
    /// The EAB key id.
    pub key_id: String,
    /// The URL it was made for.
    pub url: String,
    /// Whether it (wrongly) carries a nonce.
    pub has_nonce: bool,
    /// The JWK it binds (the payload).
    pub payload: Vec<u8>,
    algorithm: aws_lc_rs::hmac::Algorithm,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

impl ExternalBinding {
    /// Parses the `externalAccountBinding` member of a newAccount payload.
    pub fn from_value(value: Value) -> Result<Self, Problem> {
        let parts = Parts::from_value(value)
            .map_err(|p| Problem::malformed(format!("externalAccountBinding: {}", p.detail)))?;
        let algorithm = mac_algorithm(&parts.header.alg).ok_or_else(|| {
            Problem::malformed("externalAccountBinding must be MACed with HS256, HS384 or HS512")
        })?;
        if parts.header.jwk.is_some() {
            return Err(Problem::malformed(
                "externalAccountBinding names its key with 'kid', not 'jwk'",
            ));
        }
        Ok(Self {
            key_id: parts
                .header
                .kid
                .ok_or_else(|| Problem::malformed("externalAccountBinding has no 'kid'"))?,
            url: parts
                .header
                .url
                .ok_or_else(|| Problem::malformed("externalAccountBinding has no 'url'"))?,
            has_nonce: parts.header.nonce.is_some(),
            payload: parts.payload,
            algorithm,
            signing_input: parts.signing_input,
            signature: parts.signature,
        })
    }

    /// Checks the MAC in constant time.
    pub fn verify(&self, hmac_key: &[u8]) -> bool {
        let key = aws_lc_rs::hmac::Key::new(self.algorithm, hmac_key);
        aws_lc_rs::hmac::verify(&key, &self.signing_input, &self.signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::json;

    fn enc(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn signed(pair: &Ed25519KeyPair, header: Value, payload: &str) -> Vec<u8> {
        let protected = enc(&header);
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let sig = pair.sign(format!("{protected}.{payload}").as_bytes());
        serde_json::to_vec(&json!({
            "protected": protected, "payload": payload,
            "signature": URL_SAFE_NO_PAD.encode(sig.as_ref()),
        }))
        .unwrap()
    }

    #[test]
    fn an_eddsa_request_parses_and_verifies() {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref())});
        let body = signed(
            &pair,
            json!({"alg": "EdDSA", "jwk": jwk, "nonce": "n", "url": "https://x/new-account"}),
            "{}",
        );
        let request = SignedRequest::parse(&body).unwrap();
        let KeyRef::Jwk(key) = &request.key else {
            panic!("jwk expected")
        };
        request.verify(key).unwrap();
        assert_eq!(request.url, "https://x/new-account");

        // The same body with a payload changed after signing.
        let mut value: Value = serde_json::from_slice(&body).unwrap();
        value["payload"] = json!(URL_SAFE_NO_PAD.encode("{\"x\":1}"));
        let tampered = SignedRequest::from_value(value).unwrap();
        assert_eq!(
            tampered.verify(key).unwrap_err().kind,
            ProblemType::Malformed
        );
    }

    #[test]
    fn unsupported_algorithms_and_shapes_are_refused() {
        let body = serde_json::to_vec(&json!({
            "protected": enc(&json!({"alg": "HS256", "kid": "k", "url": "u"})),
            "payload": "", "signature": "",
        }))
        .unwrap();
        let problem = SignedRequest::parse(&body).unwrap_err();
        assert_eq!(problem.kind, ProblemType::BadSignatureAlgorithm);
        assert!(problem.algorithms.unwrap().contains(&"ES256"));

        for junk in [
            &b"\x00\xff junk"[..],
            b"{}",
            b"{\"protected\":\"!\",\"payload\":\"\",\"signature\":\"\"}",
            b"{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"\",\"header\":{}}",
        ] {
            assert_eq!(
                SignedRequest::parse(junk).unwrap_err().kind,
                ProblemType::Malformed
            );
        }
    }

    #[test]
    fn an_external_binding_verifies_its_mac() {
        let protected =
            enc(&json!({"alg": "HS256", "kid": "kid-1", "url": "https://x/new-account"}));
        let payload = URL_SAFE_NO_PAD.encode("{\"kty\":\"OKP\"}");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, b"secret");
        let tag = aws_lc_rs::hmac::sign(&key, format!("{protected}.{payload}").as_bytes());
        let binding = ExternalBinding::from_value(json!({
            "protected": protected, "payload": payload,
            "signature": URL_SAFE_NO_PAD.encode(tag.as_ref()),
        }))
        .unwrap();
        assert_eq!(binding.key_id, "kid-1");
        assert!(binding.verify(b"secret"));
        assert!(!binding.verify(b"other"));
    }
}
