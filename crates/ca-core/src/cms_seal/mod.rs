//! The CMS messages the gateway makes (RFC 5652): content sealed to a
//! certificate in an EnvelopedData, and content signed by a protocol identity
//! in a SignedData. SCEP's answers and EST's encrypted server-generated keys
//! are both built here, so that the content ciphers and the key transport
//! live in one place. Types are the `cms` crate's; every key operation is
//! aws-lc-rs's.

pub mod cipher;
pub mod enveloped;
pub mod signed;

pub use cipher::{ContentCipher, Encrypted};
pub use enveloped::{seal, RecipientNaming};
pub use signed::{attribute, content_info, sign};

use const_oid::ObjectIdentifier as Oid;

/// id-data.
pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData.
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-envelopedData.
pub const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
/// id-contentType (a signed attribute).
pub const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (a signed attribute).
pub const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// rsaEncryption: RSA PKCS#1 v1.5 key transport, and the signature algorithm
/// of a SignerInfo whose digest algorithm names the hash.
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");

/// Why a CMS message could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmsError {
    /// A cipher, key type or algorithm this module does not handle.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// Input of the wrong shape (an IV of the wrong length, a structure that does not encode).
    #[error("malformed: {0}")]
    Malformed(String),
    /// The content does not decrypt.
    #[error("the content could not be decrypted")]
    Undecryptable,
    /// Our own failure (randomness, a signing key that does not sign).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<der::Error> for CmsError {
    fn from(e: der::Error) -> Self {
        CmsError::Malformed(e.to_string())
    }
}
