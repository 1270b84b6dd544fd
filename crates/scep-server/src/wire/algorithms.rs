//! The digests SCEP messages use, by OID; the content ciphers are ca-core's.

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;

/// The content ciphers are ca-core's, shared with EST's encrypted keys.
pub use ca_core::cms_seal::{ContentCipher, Encrypted};

use super::WireError;

/// OIDs of the algorithms.
pub mod oid {
    use const_oid::ObjectIdentifier as Oid;
    /// SHA-1.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// SHA-256.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// SHA-384.
    pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// SHA-512.
    pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    /// rsaEncryption (key transport, and a signature whose hash the digest algorithm names).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// sha1WithRSAEncryption.
    pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
    /// sha256WithRSAEncryption.
    pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption.
    pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption.
    pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
}

/// A message digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Digest {
    /// SHA-1, still accepted from old clients.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Digest {
    /// The digest an OID names.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, WireError> {
        Ok(match *oid {
            oid::SHA1 => Digest::Sha1,
            oid::SHA256 => Digest::Sha256,
            oid::SHA384 => Digest::Sha384,
            oid::SHA512 => Digest::Sha512,
            _ => return Err(WireError::UnsupportedAlgorithm(format!("digest {oid}"))),
        })
    }

    /// Its OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Digest::Sha1 => oid::SHA1,
            Digest::Sha256 => oid::SHA256,
            Digest::Sha384 => oid::SHA384,
            Digest::Sha512 => oid::SHA512,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Digest::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &digest::SHA256,
            Digest::Sha384 => &digest::SHA384,
            Digest::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }

    /// The verification algorithm of an RSA PKCS#1 v1.5 signature over this digest.
    pub fn rsa_verification(self) -> &'static aws_lc_rs::signature::RsaParameters {
        use aws_lc_rs::signature as s;
        match self {
            Digest::Sha1 => &s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &s::RSA_PKCS1_2048_8192_SHA256,
            Digest::Sha384 => &s::RSA_PKCS1_2048_8192_SHA384,
            Digest::Sha512 => &s::RSA_PKCS1_2048_8192_SHA512,
        }
    }

    /// The digest a signature algorithm OID fixes, if it fixes one (`rsaEncryption` does not).
    pub fn of_signature_algorithm(oid: &ObjectIdentifier) -> Result<Option<Self>, WireError> {
        Ok(match *oid {
            oid::RSA_ENCRYPTION => None,
            oid::SHA1_WITH_RSA => Some(Digest::Sha1),
            oid::SHA256_WITH_RSA => Some(Digest::Sha256),
            oid::SHA384_WITH_RSA => Some(Digest::Sha384),
            oid::SHA512_WITH_RSA => Some(Digest::Sha512),
            _ => {
                return Err(WireError::UnsupportedAlgorithm(format!(
                    "signature algorithm {oid}"
                )))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_signature_algorithms_by_oid() {
        assert_eq!(Digest::from_oid(&oid::SHA1).unwrap(), Digest::Sha1);
        assert_eq!(Digest::Sha256.digest(b"abc").len(), 32);
        assert_eq!(
            Digest::of_signature_algorithm(&oid::SHA256_WITH_RSA).unwrap(),
            Some(Digest::Sha256)
        );
        assert_eq!(
            Digest::of_signature_algorithm(&oid::RSA_ENCRYPTION).unwrap(),
            None
        );
        let md5 = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
        assert!(matches!(
            Digest::from_oid(&md5),
            Err(WireError::UnsupportedAlgorithm(_))
        ));
    }
}
