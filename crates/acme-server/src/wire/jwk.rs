//! JSON Web Keys (RFC 7517 / 7518) of the kinds ACME clients sign with, their
//! RFC 7638 thumbprints, and signature verification on aws-lc-rs.

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problem::{Problem, ProblemType};

/// The JWS algorithms accepted (RFC 8555 §6.2 asks for ES256 and EdDSA at least).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlgorithm {
    /// ECDSA P-256 with SHA-256, signature r||s.
    Es256,
    /// ECDSA P-384 with SHA-384, signature r||s.
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RSA 2048 to 8192 bits).
    Rs256,
    /// Ed25519.
    EdDsa,
}

impl JwsAlgorithm {
    /// The names the `badSignatureAlgorithm` problem lists.
    pub const NAMES: [&'static str; 4] = ["ES256", "ES384", "RS256", "EdDSA"];

    /// The algorithm named by a JWS `alg`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            "RS256" => Some(Self::Rs256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The JWS name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }
}

/// An elliptic curve of an EC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Curve {
    /// NIST P-256.
    P256,
    /// NIST P-384.
    P384,
}

impl Curve {
    fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
        }
    }

    fn coordinate_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }
}

/// A public key, checked: the point is on its curve, the RSA modulus has 2048 to 8192 bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublicJwk {
    /// An EC key.
    Ec {
        /// The curve.
        curve: Curve,
        /// x, big-endian, full length.
        #[serde(with = "serde_bytes")]
        x: Vec<u8>,
        /// y, big-endian, full length.
        #[serde(with = "serde_bytes")]
        y: Vec<u8>,
    },
    /// An RSA key.
    Rsa {
        /// The modulus, big-endian, no leading zero.
        #[serde(with = "serde_bytes")]
        n: Vec<u8>,
        /// The public exponent, big-endian, no leading zero.
        #[serde(with = "serde_bytes")]
        e: Vec<u8>,
    },
    /// An Ed25519 key.
    Ed25519 {
        /// The 32-byte public key.
        #[serde(with = "serde_bytes")]
        x: Vec<u8>,
    },
}

fn bad_key(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemType::BadPublicKey, detail)
}

fn member<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a str, Problem> {
    object
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| bad_key(format!("the JWK has no string member '{name}'")))
}

fn b64_member(object: &serde_json::Map<String, Value>, name: &str) -> Result<Vec<u8>, Problem> {
    URL_SAFE_NO_PAD.decode(member(object, name)?).map_err(|_| {
        bad_key(format!(
            "the JWK member '{name}' is not base64url without padding"
        ))
    })
}

impl PublicJwk {
    /// Parses and checks a JWK from a JWS header (or a key-change / EAB payload).
    pub fn from_json(value: &Value) -> Result<Self, Problem> {
        let object = value
            .as_object()
            .ok_or_else(|| Problem::malformed("the JWK is not a JSON object"))?;
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|m| object.contains_key(*m))
        {
            return Err(bad_key("the JWK contains private key material"));
        }
        let key = match member(object, "kty")? {
            "EC" => {
                let curve = match member(object, "crv")? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    other => return Err(bad_key(format!("the curve {other} is not supported"))),
                };
                let (x, y) = (b64_member(object, "x")?, b64_member(object, "y")?);
                if x.len() != curve.coordinate_len() || y.len() != curve.coordinate_len() {
                    return Err(bad_key(format!(
                        "{} coordinates must be {} bytes",
                        curve.name(),
                        curve.coordinate_len()
                    )));
                }
                PublicJwk::Ec { curve, x, y }
            }
            "RSA" => {
                let (n, e) = (b64_member(object, "n")?, b64_member(object, "e")?);
                if n.first() == Some(&0) || e.first() == Some(&0) || n.is_empty() || e.is_empty() {
                    return Err(bad_key("RSA key members must not have leading zero octets"));
                }
                let bits = n.len() * 8 - n[0].leading_zeros() as usize;
                if !(2048..=8192).contains(&bits) {
                    return Err(bad_key(format!(
                        "an RSA key of {bits} bits; 2048 to 8192 are accepted"
                    )));
                }
                PublicJwk::Rsa { n, e }
            }
            "OKP" => {
                if member(object, "crv")? != "Ed25519" {
                    return Err(bad_key("of the OKP curves only Ed25519 is supported"));
                }
                let x = b64_member(object, "x")?;
                if x.len() != 32 {
                    return Err(bad_key("an Ed25519 key is 32 bytes"));
                }
                PublicJwk::Ed25519 { x }
            }
            other => return Err(bad_key(format!("the key type {other} is not supported"))),
        };
        // The point on its curve, the modulus and exponent sane: aws-lc-rs decides.
        ParsedPublicKey::new(key.parse_algorithm(), key.public_key_bytes())
            .map_err(|e| bad_key(format!("the public key is not valid: {e}")))?;
        Ok(key)
    }

    fn parse_algorithm(&self) -> &'static dyn VerificationAlgorithm {
        match self {
            PublicJwk::Ec {
                curve: Curve::P256, ..
            } => &signature::ECDSA_P256_SHA256_FIXED,
            PublicJwk::Ec {
                curve: Curve::P384, ..
            } => &signature::ECDSA_P384_SHA384_FIXED,
            PublicJwk::Rsa { .. } => &signature::RSA_PKCS1_2048_8192_SHA256,
            PublicJwk::Ed25519 { .. } => &signature::ED25519,
        }
    }

    /// The key as a JSON object with its required members only.
    pub fn to_json(&self) -> Value {
        serde_json::from_str(&self.canonical_json()).unwrap_or(Value::Null)
    }

    /// The RFC 7638 input: required members in lexicographic order, no whitespace.
    pub fn canonical_json(&self) -> String {
        let b = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        match self {
            PublicJwk::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                b(x),
                b(y)
            ),
            PublicJwk::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b(e), b(n)),
            PublicJwk::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b(x))
            }
        }
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url (what key authorizations end with).
    pub fn thumbprint(&self) -> String {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.canonical_json().as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }

    /// The key as X.509 carries it in subjectPublicKey: the uncompressed point, the DER
    /// RSAPublicKey, or the raw Ed25519 key (also what aws-lc-rs verifies with).
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match self {
            PublicJwk::Ec { x, y, .. } => {
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                point
            }
            PublicJwk::Rsa { n, e } => {
                let mut body = der_unsigned_integer(n);
                body.extend(der_unsigned_integer(e));
                der_tlv(0x30, &body)
            }
            PublicJwk::Ed25519 { x } => x.clone(),
        }
    }

    /// Whether `alg` is the algorithm for this key.
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        matches!(
            (self, alg),
            (
                PublicJwk::Ec {
                    curve: Curve::P256,
                    ..
                },
                JwsAlgorithm::Es256
            ) | (
                PublicJwk::Ec {
                    curve: Curve::P384,
                    ..
                },
                JwsAlgorithm::Es384
            ) | (PublicJwk::Rsa { .. }, JwsAlgorithm::Rs256)
                | (PublicJwk::Ed25519 { .. }, JwsAlgorithm::EdDsa)
        )
    }

    /// Verifies a JWS signature over `message` (`fits` is checked first).
    pub fn verify(&self, alg: JwsAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        if !self.fits(alg) {
            return false;
        }
        signature::UnparsedPublicKey::new(self.parse_algorithm(), self.public_key_bytes())
            .verify(message, signature)
            .is_ok()
    }

    /// Whether a DER SubjectPublicKeyInfo (of a certificate or a CSR) holds this key.
    pub fn matches_spki(&self, spki_der: &[u8]) -> bool {
        use x509_parser::prelude::FromDer;
        let Ok((_, spki)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der) else {
            return false;
        };
        let oid = spki.algorithm.algorithm.to_id_string();
        let kind_fits = match self {
            PublicJwk::Ec { .. } => oid == "1.2.840.10045.2.1",
            PublicJwk::Rsa { .. } => oid == "1.2.840.113549.1.1.1",
            PublicJwk::Ed25519 { .. } => oid == "1.3.101.112",
        };
        // The point's length tells the curve apart; the DER of an RSA key is canonical.
        kind_fits && spki.subject_public_key.data.as_ref() == self.public_key_bytes().as_slice()
    }
}

fn der_unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(magnitude);
    der_tlv(0x02, &content)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = PublicJwk::from_json(&jwk).unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ec_keys_verify_and_match_their_spki() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let key = PublicJwk::from_json(&jwk).unwrap();
        let sig = pair.sign(&rng, b"message").unwrap();
        assert!(key.verify(JwsAlgorithm::Es256, b"message", sig.as_ref()));
        assert!(!key.verify(JwsAlgorithm::Es256, b"massage", sig.as_ref()));
        assert!(!key.verify(JwsAlgorithm::Es384, b"message", sig.as_ref()));

        let rcgen_key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref().to_vec()),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .unwrap();
        use rcgen::PublicKeyData;
        assert!(key.matches_spki(&rcgen_key.subject_public_key_info()));
        let other = rcgen::KeyPair::generate().unwrap();
        assert!(!key.matches_spki(&other.subject_public_key_info()));
    }

    #[test]
    fn bad_keys_are_refused() {
        let not_on_curve = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32]),
        });
        assert_eq!(
            PublicJwk::from_json(&not_on_curve).unwrap_err().kind,
            ProblemType::BadPublicKey
        );
        let small_rsa = serde_json::json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "e": "AQAB"});
        assert_eq!(
            PublicJwk::from_json(&small_rsa).unwrap_err().kind,
            ProblemType::BadPublicKey
        );
        let private = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"});
        assert_eq!(
            PublicJwk::from_json(&private).unwrap_err().kind,
            ProblemType::BadPublicKey
        );
        assert_eq!(
            PublicJwk::from_json(&serde_json::json!("x"))
                .unwrap_err()
                .kind,
            ProblemType::Malformed
        );
    }

    #[test]
    fn der_lengths_use_the_long_form_past_127() {
        assert_eq!(der_tlv(0x04, &[0; 3]), vec![4, 3, 0, 0, 0]);
        let long = der_tlv(0x04, &[0; 300]);
        assert_eq!(&long[..4], &[4, 0x82, 1, 44]);
        assert_eq!(der_unsigned_integer(&[0x80]), vec![2, 2, 0, 0x80]);
    }
}
