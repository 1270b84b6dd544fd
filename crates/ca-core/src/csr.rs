//! PKCS#10 certificate signing requests, parsed and verified at the edge.
//!
//! rcgen's own CSR parser refuses any extension it does not model (real SCEP
//! and EST clients send SKI, policies, unknown EKUs), so CSRs are parsed with
//! x509-parser and their self-signature checked on aws-lc-rs; only the public
//! key and the requested names and subject attributes are kept. The
//! certificate is then built from the profile, not copied from the CSR.

use std::collections::BTreeMap;

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use zeroize::Zeroizing;

use crate::keys::KeyAlgorithm;
use crate::names::{InvalidName, SubjectAltName};
use crate::profile::SubjectAttribute;

/// The largest CSR accepted, in bytes (a 4096-bit RSA CSR with many names is ~4 KiB).
pub const MAX_CSR_BYTES: usize = 64 * 1024;

/// Why a CSR was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrError {
    /// Not PEM or DER, or not a PKCS#10 structure.
    #[error("malformed CSR: {0}")]
    Malformed(String),
    /// Larger than [`MAX_CSR_BYTES`].
    #[error("the CSR is larger than {MAX_CSR_BYTES} bytes")]
    TooLarge,
    /// The self-signature does not verify.
    #[error(
        "the CSR's signature does not verify (the request was altered or not signed by its key)"
    )]
    BadSignature,
    /// The signature algorithm is not one we verify.
    #[error("the CSR is signed with an unsupported algorithm ({0})")]
    UnsupportedSignatureAlgorithm(String),
    /// An RSA key below 2048 bits.
    #[error("the CSR's RSA key has {bits} bits; at least 2048 are required")]
    KeyTooSmall {
        /// The key's size.
        bits: usize,
    },
    /// The public key is of a type or size we do not issue for.
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    /// A requested name is malformed.
    #[error("the CSR requests an invalid name: {0}")]
    InvalidName(#[from] InvalidName),
}

/// A CSR whose self-signature verified, reduced to what issuance uses.
#[derive(Debug, Clone)]
pub struct VerifiedCsr {
    der: Vec<u8>,
    spki_der: Vec<u8>,
    key_algorithm: KeyAlgorithm,
    subject: BTreeMap<SubjectAttribute, String>,
    requested_names: Vec<SubjectAltName>,
    challenge_password: Option<ChallengePassword>,
}

/// A CSR's challengePassword attribute (PKCS#9): a SCEP challenge or an EST
/// channel binding, so a secret: its `Debug` form does not show it, and it is
/// wiped when dropped.
#[derive(Clone)]
pub struct ChallengePassword(Zeroizing<String>);

impl ChallengePassword {
    /// The password.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ChallengePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChallengePassword(<redacted>)")
    }
}

impl VerifiedCsr {
    /// Parses a CSR in PEM (`CERTIFICATE REQUEST` / `NEW CERTIFICATE REQUEST`) or DER, and verifies it.
    pub fn parse(input: &[u8]) -> Result<Self, CsrError> {
        if input.len() > MAX_CSR_BYTES {
            return Err(CsrError::TooLarge);
        }
        let trimmed = trim_ascii_start(input);
        if trimmed.starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(trimmed)
                .map_err(|e| CsrError::Malformed(format!("bad PEM: {e}")))?;
            if !pem.label.contains("CERTIFICATE REQUEST") {
                return Err(CsrError::Malformed(format!(
                    "PEM label is '{}', expected CERTIFICATE REQUEST",
                    pem.label
                )));
            }
            Self::from_der(&pem.contents)
        } else {
            Self::from_der(input)
        }
    }

    /// Parses and verifies a DER CSR.
    pub fn from_der(der: &[u8]) -> Result<Self, CsrError> {
        let (rest, csr) = X509CertificationRequest::from_der(der)
            .map_err(|e| CsrError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(CsrError::Malformed("trailing bytes after the CSR".into()));
        }
        let info = &csr.certification_request_info;
        let key_algorithm = key_algorithm_of(&info.subject_pki)?;
        csr.verify_signature().map_err(|e| match e {
            x509_parser::error::X509Error::SignatureUnsupportedAlgorithm => {
                CsrError::UnsupportedSignatureAlgorithm(
                    csr.signature_algorithm.algorithm.to_id_string(),
                )
            }
            _ => CsrError::BadSignature,
        })?;

        let mut subject = BTreeMap::new();
        let attrs: [(
            SubjectAttribute,
            Vec<&x509_parser::x509::AttributeTypeAndValue>,
        ); 6] = [
            (
                SubjectAttribute::CommonName,
                info.subject.iter_common_name().collect(),
            ),
            (
                SubjectAttribute::Organization,
                info.subject.iter_organization().collect(),
            ),
            (
                SubjectAttribute::OrganizationalUnit,
                info.subject.iter_organizational_unit().collect(),
            ),
            (
                SubjectAttribute::Locality,
                info.subject.iter_locality().collect(),
            ),
            (
                SubjectAttribute::State,
                info.subject.iter_state_or_province().collect(),
            ),
            (
                SubjectAttribute::Country,
                info.subject.iter_country().collect(),
            ),
        ];
        for (attribute, values) in attrs {
            if let Some(value) = values.first() {
                let text = value.as_str().map_err(|_| {
                    CsrError::Malformed(format!("subject {attribute:?} is not a string"))
                })?;
                if text.len() > 64 {
                    return Err(CsrError::Malformed(format!(
                        "subject {attribute:?} is longer than 64 characters"
                    )));
                }
                subject.insert(attribute, text.to_string());
            }
        }

        let mut requested_names = Vec::new();
        if let Some(extensions) = csr.requested_extensions() {
            for extension in extensions {
                if let ParsedExtension::SubjectAlternativeName(san) = extension {
                    for name in &san.general_names {
                        requested_names.push(match name {
                            GeneralName::DNSName(d) => SubjectAltName::dns(d)?,
                            GeneralName::RFC822Name(e) => SubjectAltName::email(e)?,
                            GeneralName::URI(u) => SubjectAltName::uri(u)?,
                            GeneralName::IPAddress(bytes) => {
                                SubjectAltName::Ip(ip_from_bytes(bytes)?)
                            }
                            GeneralName::OtherName(oid, value) => {
                                // A UPN is a name like any other, for the profile to allow or not; any
                                // other otherName is not carried (the certificate is built from the profile).
                                match upn_of(oid, value)? {
                                    Some(upn) => upn,
                                    None => continue,
                                }
                            }
                            other => {
                                return Err(CsrError::Malformed(format!(
                                    "unsupported subject alternative name {other:?}"
                                )))
                            }
                        });
                    }
                }
            }
        }

        let challenge_password = info
            .iter_attributes()
            .find_map(|a| match a.parsed_attribute() {
                x509_parser::cri_attributes::ParsedCriAttribute::ChallengePassword(
                    x509_parser::cri_attributes::ChallengePassword(p),
                ) => Some(ChallengePassword(Zeroizing::new(p.clone()))),
                _ => None,
            });

        Ok(Self {
            der: der.to_vec(),
            spki_der: info.subject_pki.raw.to_vec(),
            key_algorithm,
            subject,
            requested_names,
            challenge_password,
        })
    }

    /// The CSR as DER (kept so a renewal can reuse it).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject public key, DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject key's type.
    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key_algorithm
    }

    /// A subject attribute from the CSR, if present.
    pub fn subject_attribute(&self, attribute: SubjectAttribute) -> Option<&str> {
        self.subject.get(&attribute).map(String::as_str)
    }

    /// The names the CSR's SAN extension asks for, in order, without duplicates removed.
    pub fn requested_names(&self) -> &[SubjectAltName] {
        &self.requested_names
    }

    /// The CSR's challengePassword attribute, if it has one.
    pub fn challenge_password(&self) -> Option<&ChallengePassword> {
        self.challenge_password.as_ref()
    }
}

fn trim_ascii_start(input: &[u8]) -> &[u8] {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    &input[start..]
}

fn ip_from_bytes(bytes: &[u8]) -> Result<std::net::IpAddr, CsrError> {
    match bytes.len() {
        4 => Ok(std::net::IpAddr::from(
            <[u8; 4]>::try_from(bytes).expect("length checked"),
        )),
        16 => Ok(std::net::IpAddr::from(
            <[u8; 16]>::try_from(bytes).expect("length checked"),
        )),
        n => Err(CsrError::Malformed(format!(
            "an IP address SAN of {n} bytes"
        ))),
    }
}

/// The exact bit length of an RSA modulus (x509-parser's `key_size` counts whole bytes).
fn rsa_modulus_bits(modulus: &[u8]) -> usize {
    let start = modulus
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(modulus.len());
    match modulus.get(start) {
        Some(first) => (modulus.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    }
}

/// The key type of a SubjectPublicKeyInfo, refusing what we do not issue for.
pub fn key_algorithm_of(
    spki: &x509_parser::x509::SubjectPublicKeyInfo,
) -> Result<KeyAlgorithm, CsrError> {
    let parsed = spki
        .parsed()
        .map_err(|e| CsrError::UnsupportedKey(format!("unparseable public key: {e}")))?;
    match parsed {
        PublicKey::RSA(rsa) => {
            let exponent = rsa
                .try_exponent()
                .map_err(|_| CsrError::UnsupportedKey("RSA exponent out of range".into()))?;
            if exponent < 65537 || exponent % 2 == 0 {
                return Err(CsrError::UnsupportedKey(format!(
                    "RSA public exponent {exponent}"
                )));
            }
            match rsa_modulus_bits(rsa.modulus) {
                bits if bits < 2048 => Err(CsrError::KeyTooSmall { bits }),
                2048 => Ok(KeyAlgorithm::Rsa2048),
                3072 => Ok(KeyAlgorithm::Rsa3072),
                4096 => Ok(KeyAlgorithm::Rsa4096),
                bits => Err(CsrError::UnsupportedKey(format!(
                    "RSA-{bits} (allowed: 2048, 3072, 4096)"
                ))),
            }
        }
        PublicKey::EC(_) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .ok_or_else(|| CsrError::UnsupportedKey("EC key without a named curve".into()))?;
            if curve == x509_parser::oid_registry::OID_EC_P256 {
                Ok(KeyAlgorithm::EcP256)
            } else if curve == x509_parser::oid_registry::OID_NIST_EC_P384 {
                Ok(KeyAlgorithm::EcP384)
            } else {
                Err(CsrError::UnsupportedKey(format!(
                    "EC curve {}",
                    curve.to_id_string()
                )))
            }
        }
        _ => Err(CsrError::UnsupportedKey(format!(
            "key algorithm {}",
            spki.algorithm.algorithm.to_id_string()
        ))),
    }
}

/// The UPN an otherName carries, if it is one (`value` is the `[0] EXPLICIT`
/// value as the CSR has it, or its inner UTF8String).
fn upn_of(
    oid: &x509_parser::der_parser::oid::Oid<'_>,
    value: &[u8],
) -> Result<Option<SubjectAltName>, CsrError> {
    use der::{Decode, Tagged};
    let is_upn = oid
        .iter()
        .is_some_and(|arcs| arcs.eq(crate::names::UPN_OID.iter().copied()));
    if !is_upn {
        return Ok(None);
    }
    let bad = || CsrError::Malformed("the UPN otherName is not a UTF8String".into());
    let any = der::asn1::AnyRef::from_der(value).map_err(|_| bad())?;
    let inner = if any.tag().is_context_specific() {
        der::asn1::Utf8StringRef::from_der(any.value()).map_err(|_| bad())?
    } else {
        any.decode_as::<der::asn1::Utf8StringRef<'_>>()
            .map_err(|_| bad())?
    };
    SubjectAltName::upn(inner.as_str())
        .map(Some)
        .map_err(CsrError::from)
}
