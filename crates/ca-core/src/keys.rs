//! Key types, signature hashes and the CA's signing keys.
//!
//! Every private-key operation runs on aws-lc-rs (through rcgen's aws-lc-rs
//! backend): it signs about five times faster than the pure-Rust crates on
//! this class of machine (see `shared/notes/crates.md`).

use std::fmt;
use std::str::FromStr;

use rcgen::{KeyPair, RsaKeySize, SignatureAlgorithm};
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A key type a CA or a subscriber may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// RSA with a 2048-bit modulus.
    #[serde(rename = "rsa-2048")]
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    #[serde(rename = "rsa-3072")]
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    #[serde(rename = "rsa-4096")]
    Rsa4096,
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
}

impl KeyAlgorithm {
    /// Every supported key type, for help texts and profile checks.
    pub const ALL: [KeyAlgorithm; 5] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::Rsa4096,
        KeyAlgorithm::EcP256,
        KeyAlgorithm::EcP384,
    ];

    /// The key's family.
    pub fn family(self) -> KeyFamily {
        match self {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => KeyFamily::Rsa,
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => KeyFamily::Ec,
        }
    }

    /// The key size in bits (modulus for RSA, field size for EC).
    pub fn bits(self) -> u32 {
        match self {
            KeyAlgorithm::Rsa2048 => 2048,
            KeyAlgorithm::Rsa3072 => 3072,
            KeyAlgorithm::Rsa4096 => 4096,
            KeyAlgorithm::EcP256 => 256,
            KeyAlgorithm::EcP384 => 384,
        }
    }

    /// The name used in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa-2048",
            KeyAlgorithm::Rsa3072 => "rsa-3072",
            KeyAlgorithm::Rsa4096 => "rsa-4096",
            KeyAlgorithm::EcP256 => "ec-p256",
            KeyAlgorithm::EcP384 => "ec-p384",
        }
    }

    /// The signature algorithm a key of this type signs with, for a requested hash.
    ///
    /// ECDSA keys sign with the hash that matches their curve (P-256 with SHA-256,
    /// P-384 with SHA-384), as RFC 5480 recommends and the Baseline Requirements
    /// require; the hash choice applies to RSA keys.
    pub fn signature_algorithm(self, hash: SignatureHash) -> &'static SignatureAlgorithm {
        match (self.family(), self, hash) {
            (KeyFamily::Ec, KeyAlgorithm::EcP256, _) => &rcgen::PKCS_ECDSA_P256_SHA256,
            (KeyFamily::Ec, _, _) => &rcgen::PKCS_ECDSA_P384_SHA384,
            (KeyFamily::Rsa, _, SignatureHash::Sha256) => &rcgen::PKCS_RSA_SHA256,
            (KeyFamily::Rsa, _, SignatureHash::Sha384) => &rcgen::PKCS_RSA_SHA384,
            (KeyFamily::Rsa, _, SignatureHash::Sha512) => &rcgen::PKCS_RSA_SHA512,
        }
    }

    /// The hash an ECDSA key of this type signs with; `None` for RSA (free choice).
    pub fn fixed_hash(self) -> Option<SignatureHash> {
        match self {
            KeyAlgorithm::EcP256 => Some(SignatureHash::Sha256),
            KeyAlgorithm::EcP384 => Some(SignatureHash::Sha384),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "rsa-2048" | "rsa2048" => Ok(KeyAlgorithm::Rsa2048),
            "rsa-3072" | "rsa3072" => Ok(KeyAlgorithm::Rsa3072),
            "rsa-4096" | "rsa4096" => Ok(KeyAlgorithm::Rsa4096),
            "ec-p256" | "p256" | "p-256" | "ecdsa-p256" => Ok(KeyAlgorithm::EcP256),
            "ec-p384" | "p384" | "p-384" | "ecdsa-p384" => Ok(KeyAlgorithm::EcP384),
            other => Err(format!(
                "unknown key type '{other}' (expected one of rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384)"
            )),
        }
    }
}

/// RSA or elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyFamily {
    /// RSA keys.
    Rsa,
    /// Elliptic-curve (ECDSA) keys.
    Ec,
}

/// The hash a CA signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureHash {
    /// SHA-256.
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl FromStr for SignatureHash {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(SignatureHash::Sha256),
            "sha384" => Ok(SignatureHash::Sha384),
            "sha512" => Ok(SignatureHash::Sha512),
            other => Err(format!(
                "unknown hash '{other}' (expected sha256, sha384 or sha512)"
            )),
        }
    }
}

impl fmt::Display for SignatureHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureHash::Sha256 => "sha256",
            SignatureHash::Sha384 => "sha384",
            SignatureHash::Sha512 => "sha512",
        })
    }
}

/// Errors about keys: generation, loading, protection at rest.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The crypto backend refused to generate or load a key.
    #[error("key operation failed: {0}")]
    Backend(String),
    /// The key file is not a PKCS#8 key of a supported type.
    #[error("the key is not a supported PKCS#8 private key: {0}")]
    Malformed(String),
    /// The key is encrypted and the passphrase does not open it.
    #[error("the passphrase does not decrypt the CA key (wrong passphrase or damaged file)")]
    WrongPassphrase,
    /// The key is encrypted and no passphrase was configured.
    #[error("the CA key is encrypted and no passphrase was given (set it with --passphrase-file or the CERTWRIGHT_CA_PASSPHRASE environment variable)")]
    PassphraseRequired,
    /// The key is stored in plaintext and plaintext keys were not allowed.
    #[error("the CA key is stored unencrypted; refusing to load it without the explicit insecure-plaintext-keys setting")]
    PlaintextNotAllowed,
}

/// How CA private keys are protected at rest.
#[derive(Clone)]
pub enum KeyProtection {
    /// PKCS#8 PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) under a passphrase.
    Passphrase(Zeroizing<String>),
    /// Stored unencrypted. Only for demos and tests; loudly warned about.
    InsecurePlaintext,
}

impl fmt::Debug for KeyProtection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProtection::Passphrase(_) => f.write_str("Passphrase([redacted])"),
            KeyProtection::InsecurePlaintext => f.write_str("InsecurePlaintext"),
        }
    }
}

/// PBKDF2 iterations for encrypted CA keys (OWASP's 2023 figure for HMAC-SHA256).
const PBKDF2_ITERATIONS: u32 = 600_000;

/// A private key held by the CA, with the signature algorithm it signs with.
///
/// Debug output never shows key material.
pub struct SigningKeyPair {
    key: KeyPair,
    algorithm: KeyAlgorithm,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("algorithm", &self.algorithm)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl SigningKeyPair {
    /// Generates a fresh key of the given type, signing with the given hash.
    pub fn generate(algorithm: KeyAlgorithm, hash: SignatureHash) -> Result<Self, KeyError> {
        let sig = algorithm.signature_algorithm(hash);
        let key = match algorithm {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => KeyPair::generate_for(sig),
            KeyAlgorithm::Rsa2048 => KeyPair::generate_rsa_for(sig, RsaKeySize::_2048),
            KeyAlgorithm::Rsa3072 => KeyPair::generate_rsa_for(sig, RsaKeySize::_3072),
            KeyAlgorithm::Rsa4096 => KeyPair::generate_rsa_for(sig, RsaKeySize::_4096),
        }
        .map_err(|e| KeyError::Backend(e.to_string()))?;
        Ok(Self { key, algorithm })
    }

    /// Loads a key from unencrypted PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8], hash: SignatureHash) -> Result<Self, KeyError> {
        let algorithm = detect_pkcs8_algorithm(der)?;
        let sig = algorithm.signature_algorithm(hash);
        let key = KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(der), sig)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        Ok(Self { key, algorithm })
    }

    /// Loads a key from a PEM file body, encrypted (`ENCRYPTED PRIVATE KEY`) or
    /// not (`PRIVATE KEY`), according to the configured protection.
    pub fn from_pem(
        pem_text: &str,
        hash: SignatureHash,
        protection: Option<&KeyProtection>,
    ) -> Result<Self, KeyError> {
        use pkcs8::der::pem::PemLabel;
        let (label, doc) = pkcs8::SecretDocument::from_pem(pem_text)
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        if label == pkcs8::EncryptedPrivateKeyInfo::PEM_LABEL {
            let passphrase = match protection {
                Some(KeyProtection::Passphrase(p)) => p,
                _ => return Err(KeyError::PassphraseRequired),
            };
            let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
                .map_err(|e| KeyError::Malformed(e.to_string()))?;
            let plain = info
                .decrypt(passphrase.as_bytes())
                .map_err(|_| KeyError::WrongPassphrase)?;
            Self::from_pkcs8_der(plain.as_bytes(), hash)
        } else if label == pkcs8::PrivateKeyInfo::PEM_LABEL {
            match protection {
                Some(KeyProtection::InsecurePlaintext) => {
                    Self::from_pkcs8_der(doc.as_bytes(), hash)
                }
                _ => Err(KeyError::PlaintextNotAllowed),
            }
        } else {
            Err(KeyError::Malformed(format!("unexpected PEM label {label}")))
        }
    }

    /// Serializes the key as PEM, encrypted under the passphrase, or in the
    /// clear when protection is `InsecurePlaintext`.
    pub fn to_protected_pem(
        &self,
        protection: &KeyProtection,
    ) -> Result<Zeroizing<String>, KeyError> {
        use pkcs8::der::pem::{LineEnding, PemLabel};
        let der = self.key.serialized_der();
        match protection {
            KeyProtection::InsecurePlaintext => {
                let info = pkcs8::PrivateKeyInfo::try_from(der)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                pkcs8::der::EncodePem::to_pem(&info, LineEnding::LF)
                    .map(Zeroizing::new)
                    .map_err(|e| KeyError::Backend(e.to_string()))
            }
            KeyProtection::Passphrase(passphrase) => {
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                aws_lc_rs::rand::fill(&mut salt).map_err(|_| KeyError::Backend("rng".into()))?;
                aws_lc_rs::rand::fill(&mut iv).map_err(|_| KeyError::Backend("rng".into()))?;
                let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    &iv,
                )
                .map_err(|e| KeyError::Backend(e.to_string()))?;
                let info = pkcs8::PrivateKeyInfo::try_from(der)
                    .map_err(|e| KeyError::Malformed(e.to_string()))?;
                let encrypted = info
                    .encrypt_with_params(params, passphrase.as_bytes())
                    .map_err(|e| KeyError::Backend(e.to_string()))?;
                encrypted
                    .to_pem(pkcs8::EncryptedPrivateKeyInfo::PEM_LABEL, LineEnding::LF)
                    .map_err(|e| KeyError::Backend(e.to_string()))
            }
        }
    }

    /// The key type.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The rcgen key pair (aws-lc-rs backed) that signs certificates, CRLs and OCSP responses.
    pub fn key_pair(&self) -> &KeyPair {
        &self.key
    }

    /// Gives up the wrapper for the rcgen key pair (to build an rcgen `Issuer`).
    pub fn into_key_pair(self) -> KeyPair {
        self.key
    }

    /// The DER SubjectPublicKeyInfo of this key.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        use rcgen::PublicKeyData;
        self.key.subject_public_key_info()
    }

    /// Signs `message` with the key's signature algorithm.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        use rcgen::SigningKey;
        self.key
            .sign(message)
            .map_err(|e| KeyError::Backend(e.to_string()))
    }
}

/// Reads the key type from a PKCS#8 structure's algorithm identifier.
fn detect_pkcs8_algorithm(der: &[u8]) -> Result<KeyAlgorithm, KeyError> {
    use const_oid::db::{rfc5912, rfc5912::SECP_256_R_1, rfc5912::SECP_384_R_1};
    let info =
        pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| KeyError::Malformed(e.to_string()))?;
    let oid = info.algorithm.oid;
    if oid == rfc5912::ID_EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        if curve == SECP_256_R_1 {
            Ok(KeyAlgorithm::EcP256)
        } else if curve == SECP_384_R_1 {
            Ok(KeyAlgorithm::EcP384)
        } else {
            Err(KeyError::Malformed(format!("unsupported curve {curve}")))
        }
    } else if oid == rfc5912::RSA_ENCRYPTION {
        let bits = rsa_modulus_bits(info.private_key)?;
        match bits {
            2048 => Ok(KeyAlgorithm::Rsa2048),
            3072 => Ok(KeyAlgorithm::Rsa3072),
            4096 => Ok(KeyAlgorithm::Rsa4096),
            other => Err(KeyError::Malformed(format!("unsupported RSA size {other}"))),
        }
    } else {
        Err(KeyError::Malformed(format!(
            "unsupported key algorithm {oid}"
        )))
    }
}

/// The modulus size of a PKCS#1 RSAPrivateKey.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Result<u32, KeyError> {
    use der::{asn1::UintRef, Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(pkcs1).map_err(|e| KeyError::Malformed(e.to_string()))?;
    let modulus = reader
        .sequence(|seq| {
            let _version = u8::decode(seq)?;
            let modulus = UintRef::decode(seq)?;
            // Skip the remaining fields: only the modulus matters here.
            while !seq.is_finished() {
                let _ = der::Any::decode(seq)?;
            }
            Ok(modulus.as_bytes().len())
        })
        .map_err(|e| KeyError::Malformed(e.to_string()))?;
    Ok((modulus as u32) * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_key_round_trips_and_refuses_wrong_passphrase() {
        let key = SigningKeyPair::generate(KeyAlgorithm::EcP256, SignatureHash::Sha256).unwrap();
        let protection = KeyProtection::Passphrase(Zeroizing::new("correct horse".into()));
        let pem = key.to_protected_pem(&protection).unwrap();
        assert!(pem.contains("ENCRYPTED PRIVATE KEY"));
        let loaded =
            SigningKeyPair::from_pem(&pem, SignatureHash::Sha256, Some(&protection)).unwrap();
        assert_eq!(loaded.public_key_spki_der(), key.public_key_spki_der());

        let wrong = KeyProtection::Passphrase(Zeroizing::new("battery staple".into()));
        assert!(matches!(
            SigningKeyPair::from_pem(&pem, SignatureHash::Sha256, Some(&wrong)),
            Err(KeyError::WrongPassphrase)
        ));
        assert!(matches!(
            SigningKeyPair::from_pem(&pem, SignatureHash::Sha256, None),
            Err(KeyError::PassphraseRequired)
        ));
    }

    #[test]
    fn plaintext_key_needs_the_insecure_setting() {
        let key = SigningKeyPair::generate(KeyAlgorithm::Rsa2048, SignatureHash::Sha384).unwrap();
        let pem = key
            .to_protected_pem(&KeyProtection::InsecurePlaintext)
            .unwrap();
        assert!(pem.contains("BEGIN PRIVATE KEY"));
        let passphrase = KeyProtection::Passphrase(Zeroizing::new("x".into()));
        assert!(matches!(
            SigningKeyPair::from_pem(&pem, SignatureHash::Sha384, Some(&passphrase)),
            Err(KeyError::PlaintextNotAllowed)
        ));
        let loaded = SigningKeyPair::from_pem(
            &pem,
            SignatureHash::Sha384,
            Some(&KeyProtection::InsecurePlaintext),
        )
        .unwrap();
        assert_eq!(loaded.algorithm(), KeyAlgorithm::Rsa2048);
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = SigningKeyPair::generate(KeyAlgorithm::EcP384, SignatureHash::Sha384).unwrap();
        let text = format!("{key:?}");
        assert!(text.contains("redacted"));
        let pem = key
            .to_protected_pem(&KeyProtection::InsecurePlaintext)
            .unwrap();
        let body: String = pem.lines().nth(1).unwrap().chars().take(20).collect();
        assert!(!text.contains(&body));
    }
}
