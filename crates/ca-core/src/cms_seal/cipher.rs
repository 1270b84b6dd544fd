//! The content-encryption ciphers of an EnvelopedData (CBC with PKCS#7
//! padding), by OID.

use aws_lc_rs::cipher::{
    self, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
};
use const_oid::ObjectIdentifier;
use zeroize::Zeroizing;

use super::CmsError;

/// OIDs of the ciphers.
pub mod oid {
    use const_oid::ObjectIdentifier as Oid;
    /// DES-CBC.
    pub const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");
    /// DES-EDE3-CBC.
    pub const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
    /// AES-128-CBC.
    pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
    /// AES-256-CBC.
    pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
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
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, CmsError> {
        Ok(match *oid {
            oid::DES_CBC => ContentCipher::Des,
            oid::DES_EDE3_CBC => ContentCipher::Des3,
            oid::AES128_CBC => ContentCipher::Aes128,
            oid::AES256_CBC => ContentCipher::Aes256,
            _ => {
                return Err(CmsError::UnsupportedAlgorithm(format!(
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

    fn iv_context(self, iv: &[u8]) -> Result<cipher::DecryptionContext, CmsError> {
        let bad = || CmsError::Malformed(format!("a {self:?} IV must be {} bytes", self.iv_len()));
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
    ) -> Result<Zeroizing<Vec<u8>>, CmsError> {
        let context = self.iv_context(iv)?;
        let key =
            UnboundCipherKey::new(self.algorithm(), key).map_err(|_| CmsError::Undecryptable)?;
        let decrypting =
            PaddedBlockDecryptingKey::cbc_pkcs7(key).map_err(|_| CmsError::Undecryptable)?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plain = decrypting
            .decrypt(&mut buffer, context)
            .map_err(|_| CmsError::Undecryptable)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    /// Encrypts with a fresh random key and IV.
    pub fn encrypt(self, plain: &[u8]) -> Result<Encrypted, CmsError> {
        use aws_lc_rs::rand::SecureRandom;
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut key = Zeroizing::new(vec![0u8; self.key_len()]);
        let mut iv = vec![0u8; self.iv_len()];
        rng.fill(&mut key)
            .map_err(|_| CmsError::Internal("no randomness".into()))?;
        rng.fill(&mut iv)
            .map_err(|_| CmsError::Internal("no randomness".into()))?;
        let unbound = UnboundCipherKey::new(self.algorithm(), &key)
            .map_err(|_| CmsError::Internal("cipher key".into()))?;
        let encrypting = PaddedBlockEncryptingKey::cbc_pkcs7(unbound)
            .map_err(|_| CmsError::Internal("cipher".into()))?;
        let context = match self.iv_len() {
            8 => cipher::EncryptionContext::Iv64(
                <[u8; 8]>::try_from(&iv[..]).expect("8 bytes").into(),
            ),
            _ => cipher::EncryptionContext::Iv128(
                <[u8; 16]>::try_from(&iv[..]).expect("16 bytes").into(),
            ),
        };
        // The buffer holds the plaintext (a private key, for EST) until it is encrypted in
        // place; if encryption fails it is wiped.
        let mut buffer = Zeroizing::new(plain.to_vec());
        encrypting
            .less_safe_encrypt(&mut *buffer, context)
            .map_err(|_| CmsError::Internal("encryption failed".into()))?;
        Ok(Encrypted {
            key,
            iv,
            ciphertext: std::mem::take(&mut *buffer),
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
}
