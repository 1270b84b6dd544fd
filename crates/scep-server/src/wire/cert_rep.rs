//! The CertRep answer (RFC 8894 §3.3.2): a SignedData signed by the
//! endpoint's RA key, with pkiStatus, failInfo, the echoed transactionID and
//! the requester's senderNonce as recipientNonce, and on SUCCESS the
//! envelope holding the certificates.

use ca_core::cms_seal;
use ca_core::identity::{IdentityHash, ProtocolIdentity};
use der::asn1::{OctetString, PrintableStringRef};
use der::Any;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

use super::algorithms::Digest;
use super::attributes::{self as attr, FailInfo, MessageType, PkiStatus};
use super::WireError;

/// What a CertRep says.
#[derive(Debug, Clone)]
pub struct CertRep<'a> {
    /// SUCCESS, FAILURE or PENDING.
    pub status: PkiStatus,
    /// With FAILURE, why.
    pub fail_info: Option<FailInfo>,
    /// The request's transactionID value, echoed as sent.
    pub transaction_id: &'a Any,
    /// The request's senderNonce, echoed as recipientNonce.
    pub recipient_nonce: &'a Any,
    /// With SUCCESS, the sealed envelope (a ContentInfo of type envelopedData).
    pub envelope: Option<Vec<u8>>,
    /// The request's digest; SHA-1 is answered with SHA-256 (aws-lc-rs signs no SHA-1).
    pub digest: Digest,
}

pub(crate) fn attribute(
    oid: const_oid::ObjectIdentifier,
    value: Any,
) -> Result<Attribute, WireError> {
    Ok(cms_seal::attribute(oid, value)?)
}

pub(crate) fn printable(text: &str) -> Result<Any, WireError> {
    Ok(Any::encode_from(&PrintableStringRef::new(text)?)?)
}

impl CertRep<'_> {
    /// Signs the answer with the RA identity whose certificate is `ra_cert`: a ContentInfo, DER.
    pub fn sign(
        &self,
        identity: &ProtocolIdentity,
        ra_cert: &Certificate,
    ) -> Result<Vec<u8>, WireError> {
        let mut attributes = vec![
            attribute(attr::MESSAGE_TYPE, printable(MessageType::CertRep.code())?)?,
            attribute(attr::PKI_STATUS, printable(self.status.code())?)?,
            attribute(attr::TRANSACTION_ID, self.transaction_id.clone())?,
            attribute(attr::SENDER_NONCE, fresh_nonce()?)?,
            attribute(attr::RECIPIENT_NONCE, self.recipient_nonce.clone())?,
        ];
        if let Some(fail_info) = self.fail_info {
            attributes.push(attribute(attr::FAIL_INFO, printable(fail_info.code())?)?);
        }
        sign_message(
            attributes,
            self.envelope.as_deref(),
            self.digest,
            identity,
            ra_cert,
        )
    }
}

/// A fresh 16-byte nonce as an OCTET STRING value.
pub(crate) fn fresh_nonce() -> Result<Any, WireError> {
    let mut nonce = [0u8; 16];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| WireError::Internal("no randomness".into()))?;
    Ok(Any::encode_from(&OctetString::new(nonce.to_vec())?)?)
}

/// A SCEP message: a SignedData over `content` (absent for PENDING and FAILURE)
/// with the SCEP `attributes` plus contentType and messageDigest, signed by
/// `identity` whose certificate `signer` is carried and named by issuer and
/// serial (which every SCEP client understands). SHA-1 is signed as SHA-256
/// (aws-lc-rs signs no SHA-1).
pub fn sign_message(
    scep_attributes: Vec<Attribute>,
    content: Option<&[u8]>,
    digest: Digest,
    identity: &ProtocolIdentity,
    signer: &Certificate,
) -> Result<Vec<u8>, WireError> {
    let hash = match digest {
        Digest::Sha512 => IdentityHash::Sha512,
        _ => IdentityHash::Sha256,
    };
    let signed = cms_seal::sign(
        attr::ID_DATA,
        content,
        scep_attributes,
        hash,
        identity,
        signer,
    )?;
    Ok(cms_seal::content_info(attr::ID_SIGNED_DATA, &signed)?)
}
