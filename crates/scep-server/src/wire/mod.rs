//! SCEP's wire formats (RFC 8894), apart from the handlers: the signed
//! request and its attributes, the encrypted envelope, the CertRep answer,
//! the capabilities text. Types come from the `cms` / `x509-cert` / `der`
//! crates; every private-key operation is the protocol identity's (aws-lc-rs).
//!
//! Handlers see [`signed::SignedRequest`] (parsed, then verified) and the
//! opened content, never bytes of CMS.

pub mod algorithms;
pub mod attributes;
pub mod caps;
pub mod cert_rep;
pub mod degenerate;
pub mod envelope;
pub mod request;
pub mod signed;

pub use attributes::{FailInfo, MessageType, PkiStatus};

/// What is wrong with a message, in the terms SCEP answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not DER / BER of the expected structure.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A digest, signature or cipher we do not support.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature or the message digest does not check.
    #[error("the message's signature does not verify")]
    BadSignature,
    /// The envelope is for another recipient.
    #[error("the message is not encrypted to this endpoint's RA certificate")]
    NotForUs,
    /// The content does not decrypt (or does not parse once decrypted): the two
    /// are one error on purpose, so that no answer tells a bad key-transport
    /// block from a bad content key.
    #[error("the message's content could not be decrypted")]
    Undecryptable,
    /// Our own failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl WireError {
    /// The failInfo a CertRep carries for this error.
    pub fn fail_info(&self) -> FailInfo {
        match self {
            WireError::UnsupportedAlgorithm(_) => FailInfo::BadAlg,
            WireError::BadSignature | WireError::NotForUs | WireError::Undecryptable => {
                FailInfo::BadMessageCheck
            }
            WireError::Malformed(_) | WireError::Internal(_) => FailInfo::BadRequest,
        }
    }
}

impl From<ca_core::cms_seal::CmsError> for WireError {
    fn from(e: ca_core::cms_seal::CmsError) -> Self {
        use ca_core::cms_seal::CmsError;
        match e {
            CmsError::UnsupportedAlgorithm(what) => WireError::UnsupportedAlgorithm(what),
            CmsError::Malformed(what) => WireError::Malformed(what),
            CmsError::Undecryptable => WireError::Undecryptable,
            CmsError::Internal(what) => WireError::Internal(what),
        }
    }
}

impl From<der::Error> for WireError {
    fn from(e: der::Error) -> Self {
        WireError::Malformed(e.to_string())
    }
}

/// Finds a certificate's subjectKeyIdentifier, if it has one.
pub(crate) fn subject_key_identifier(cert: &x509_cert::Certificate) -> Option<Vec<u8>> {
    use der::Decode;
    const SKI: const_oid::ObjectIdentifier = const_oid::ObjectIdentifier::new_unwrap("2.5.29.14");
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == SKI)
        .and_then(|e| der::asn1::OctetString::from_der(e.extn_value.as_bytes()).ok())
        .map(|o| o.as_bytes().to_vec())
}
