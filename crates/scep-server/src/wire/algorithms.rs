//! The digests and content ciphers SCEP messages use, by OID.

use aws_lc_rs::cipher::{
    self, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use zeroize::Zeroizing;

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
    /// DES-CBC.
    pub const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
    /// DES-EDE3-CBC.
    pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
    /// AES-128-CBC.
    pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
    /// AES-256-CBC.
    pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
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

/// A content-encryption cipher (CBC with PKCS#7 padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContentCipher {
    /// Single DES: micromdm's scepclient sends nothing else.
    Des,
    /// Triple DES (EDE3).
    Des3,
    /// AES-128.
    Aes128,
    /// AES-256.
    Aes256,
}

impl ContentCipher {
    /// The cipher an OID names.
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, WireError> {
        Ok(match *oid {
            oid::DES_CBC => ContentCipher::Des,
            oid::DES_EDE3_CBC => ContentCipher::Des3,
            oid::AES128_CBC => ContentCipher::Aes128,
            oid::AES256_CBC => ContentCipher::Aes256,
            _ => {
                return Err(WireError::UnsupportedAlgorithm(format!(
                    "content encryption {oid}"
                )))
            }
        })
    }

    /// Its OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            ContentCipher::Des => oid::DES_CBC,
            ContentCipher::Des3 => oid::DES_EDE3_CBC,
            ContentCipher::Aes128 => oid::AES128_CBC,
            ContentCipher::Aes256 => oid::AES256_CBC,
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            ContentCipher::Des => 8,
            ContentCipher::Des3 => 24,
            ContentCipher::Aes128 => 16,
            ContentCipher::Aes256 => 32,
        }
    }

    /// The IV (block) length in bytes.
    pub fn iv_len(self) -> usize {
        match self {
            ContentCipher::Des | ContentCipher::Des3 => 8,
            ContentCipher::Aes128 | ContentCipher::Aes256 => 16,
        }
    }

    // DES and 3DES are deprecated in aws-lc-rs, rightly; SCEP clients still send them.
    #[allow(deprecated)]
    fn algorithm(self) -> &'static cipher::Algorithm {
        match self {
            ContentCipher::Des => &cipher::DES_FOR_LEGACY_USE_ONLY,
            ContentCipher::Des3 => &cipher::DES_EDE3_FOR_LEGACY_USE_ONLY,
            ContentCipher::Aes128 => &cipher::AES_128,
            ContentCipher::Aes256 => &cipher::AES_256,
        }
    }

    fn iv_context(self, iv: &[u8]) -> Result<cipher::DecryptionContext, WireError> {
        let bad = || WireError::Malformed(format!("a {self:?} IV must be {} bytes", self.iv_len()));
        Ok(match self.iv_len() {
            8 => {
                cipher::DecryptionContext::Iv64(<[u8; 8]>::try_from(iv).map_err(|_| bad())?.into())
            }
            _ => cipher::DecryptionContext::Iv128(
                <[u8; 16]>::try_from(iv).map_err(|_| bad())?.into(),
            ),
        })
    }

    /// Decrypts CBC content with PKCS#7 padding.
    ///
    /// DES keys are taken as they come: their parity bits are ignored.
    pub fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, WireError> {
        let context = self.iv_context(iv)?;
        let key =
            UnboundCipherKey::new(self.algorithm(), key).map_err(|_| WireError::Undecryptable)?;
        let decrypting =
            PaddedBlockDecryptingKey::cbc_pkcs7(key).map_err(|_| WireError::Undecryptable)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = decrypting
            .decrypt(&mut buffer, context)
            .map_err(|_| WireError::Undecryptable)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    /// Encrypts with a fresh random key and IV.
    pub fn encrypt(self, plain: &[u8]) -> Result<Encrypted, WireError> {
        use aws_lc_rs::rand::SecureRandom;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut key = Zeroizing::new(vec![0u8; self.key_len()]);
        let mut iv = vec![0u8; self.iv_len()];
        rng.fill(&mut key)
            .map_err(|_| WireError::Internal("no randomness".into()))?;
        rng.fill(&mut iv)
            .map_err(|_| WireError::Internal("no randomness".into()))?;
        let unbound = UnboundCipherKey::new(self.algorithm(), &key)
            .map_err(|_| WireError::Internal("cipher key".into()))?;
        let encrypting = PaddedBlockEncryptingKey::cbc_pkcs7(unbound)
            .map_err(|_| WireError::Internal("cipher".into()))?;
        let context = match self.iv_len() {
            8 => cipher::EncryptionContext::Iv64(
                <[u8; 8]>::try_from(&iv[..]).expect("8 bytes").into(),
            ),
            _ => cipher::EncryptionContext::Iv128(
                <[u8; 16]>::try_from(&iv[..]).expect("16 bytes").into(),
            ),
        };
        let mut buffer = plain.to_vec();
        encrypting
            .less_safe_encrypt(&mut buffer, context)
            .map_err(|_| WireError::Internal("encryption failed".into()))?;
        Ok(Encrypted {
            key,
            iv,
            ciphertext: buffer,
        })
    }
}

/// Content encrypted under a fresh key.
pub struct Encrypted {
    /// The content key (to be wrapped for the recipient).
    pub key: Zeroizing<Vec<u8>>,
    /// The IV.
    pub iv: Vec<u8>,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cipher_round_trips_and_a_wrong_key_does_not_decrypt_cleanly() {
        for cipher in [
            ContentCipher::Des,
            ContentCipher::Des3,
            ContentCipher::Aes128,
            ContentCipher::Aes256,
        ] {
            let message = b"a PKCS#10 request, more or less".to_vec();
            let Encrypted {
                key,
                iv,
                ciphertext,
            } = cipher.encrypt(&message).unwrap();
            assert_eq!(key.len(), cipher.key_len());
            assert_eq!(ContentCipher::from_oid(&cipher.oid()).unwrap(), cipher);
            let plain = cipher.decrypt(&key, &iv, &ciphertext).unwrap();
            assert_eq!(&plain[..], &message[..], "{cipher:?}");
            let mut wrong = key.to_vec();
            wrong[0] ^= 0xfe;
            // A wrong key gives garbage (or a padding error): never the message.
            if let Ok(p) = cipher.decrypt(&wrong, &iv, &ciphertext) {
                assert_ne!(&p[..], &message[..]);
            }
            assert!(cipher.decrypt(&key, &iv[1..], &ciphertext).is_err());
        }
    }

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
