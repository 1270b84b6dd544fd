//! `/csrattrs`: what an endpoint's profile wants in a CSR, as the DER
//! `CsrAttrs` of RFC 7030 §4.5.2:
//!
//! ```text
//! CsrAttrs ::= SEQUENCE SIZE (0..MAX) OF AttrOrOID
//! AttrOrOID ::= CHOICE { oid OBJECT IDENTIFIER, attribute Attribute }
//! ```
//!
//! The key types are attributes whose type is the key algorithm: `id-ecPublicKey`
//! with the allowed curves as values, `rsaEncryption` with the smallest allowed
//! modulus size in bits (the form draft-ietf-lamps-rfc7030-csrattrs gives); the
//! signature algorithm, the subject attributes taken from the CSR and the
//! challengePassword (when the endpoint wants proof of possession) are OIDs; the
//! extensions required are an `extensionRequest` attribute listing their OIDs.

use ca_core::keys::{KeyAlgorithm, KeyFamily};
use ca_core::profile::{CertificateProfile, SubjectAttribute};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{Any, SetOfVec};
use der::Encode;
use x509_cert::attr::Attribute;

/// id-ecPublicKey.
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// rsaEncryption.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// secp256r1.
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1.
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// ecdsa-with-SHA256.
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// PKCS#9 challengePassword.
pub const CHALLENGE_PASSWORD: Oid = Oid::new_unwrap("1.2.840.113549.1.9.7");
/// PKCS#9 extensionRequest.
pub const EXTENSION_REQUEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.14");
/// subjectAltName.
pub const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");

fn subject_oid(attribute: SubjectAttribute) -> Oid {
    match attribute {
        SubjectAttribute::CommonName => Oid::new_unwrap("2.5.4.3"),
        SubjectAttribute::Organization => Oid::new_unwrap("2.5.4.10"),
        SubjectAttribute::OrganizationalUnit => Oid::new_unwrap("2.5.4.11"),
        SubjectAttribute::Locality => Oid::new_unwrap("2.5.4.7"),
        SubjectAttribute::State => Oid::new_unwrap("2.5.4.8"),
        SubjectAttribute::Country => Oid::new_unwrap("2.5.4.6"),
    }
}

fn attribute(oid: Oid, values: Vec<Any>) -> Result<Any, der::Error> {
    let mut set = SetOfVec::new();
    for value in values {
        set.insert(value)?;
    }
    Any::encode_from(&Attribute { oid, values: set })
}

/// The `CsrAttrs` DER for a profile.
pub fn encode(profile: &CertificateProfile, pop_required: bool) -> Result<Vec<u8>, der::Error> {
    let mut items: Vec<Any> = Vec::new();
    if pop_required {
        items.push(Any::encode_from(&CHALLENGE_PASSWORD)?);
    }
    // The profile's first key type is its preferred one: its family comes first.
    let mut families: Vec<KeyFamily> = Vec::new();
    for key in &profile.key_types {
        if !families.contains(&key.family()) {
            families.push(key.family());
        }
    }
    for family in &families {
        match family {
            KeyFamily::Ec => {
                let curves = profile
                    .key_types
                    .iter()
                    .filter_map(|k| match k {
                        KeyAlgorithm::EcP256 => Some(SECP256R1),
                        KeyAlgorithm::EcP384 => Some(SECP384R1),
                        _ => None,
                    })
                    .map(|oid| Any::encode_from(&oid))
                    .collect::<Result<Vec<_>, _>>()?;
                items.push(attribute(EC_PUBLIC_KEY, curves)?);
            }
            KeyFamily::Rsa => {
                let bits = profile
                    .key_types
                    .iter()
                    .filter(|k| k.family() == KeyFamily::Rsa)
                    .map(|k| k.bits())
                    .min()
                    .unwrap_or(2048);
                items.push(attribute(RSA_ENCRYPTION, vec![Any::encode_from(&bits)?])?);
            }
        }
    }
    if let Some(first) = families.first() {
        let signature = match first {
            KeyFamily::Ec => ECDSA_WITH_SHA256,
            KeyFamily::Rsa => SHA256_WITH_RSA,
        };
        items.push(Any::encode_from(&signature)?);
    }
    for subject in &profile.subject_from_csr {
        items.push(Any::encode_from(&subject_oid(*subject))?);
    }
    if profile.require_san {
        items.push(attribute(
            EXTENSION_REQUEST,
            vec![Any::encode_from(&SUBJECT_ALT_NAME)?],
        )?);
    }
    items.to_der()
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::der_parser::ber::BerObjectContent;
    use x509_parser::der_parser::parse_der;

    fn device_like() -> CertificateProfile {
        let profiles = ca_core::profile::ProfileSet::defaults();
        profiles.get("device").expect("the device profile").clone()
    }

    #[test]
    fn the_device_profile_asks_for_ec_curves_rsa_size_and_its_subject() {
        let der = encode(&device_like(), true).unwrap();
        let (rest, parsed) = parse_der(&der).unwrap();
        assert!(rest.is_empty());
        let BerObjectContent::Sequence(items) = &parsed.content else {
            panic!("CsrAttrs is a SEQUENCE");
        };
        let oids: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_oid().ok().map(|o| o.to_id_string()))
            .collect();
        assert!(oids.contains(&"1.2.840.113549.1.9.7".to_string()));
        assert!(oids.contains(&"2.5.4.3".to_string()));
        assert!(oids.contains(&"1.2.840.10045.4.3.2".to_string()));
        let attributes: Vec<String> = items
            .iter()
            .filter_map(|i| match &i.content {
                BerObjectContent::Sequence(parts) => {
                    parts.first()?.as_oid().ok().map(|o| o.to_id_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            attributes,
            vec![
                "1.2.840.10045.2.1".to_string(),
                "1.2.840.113549.1.1.1".to_string()
            ]
        );
        let without_pop = encode(&device_like(), false).unwrap();
        assert!(without_pop.len() < der.len());
    }
}
