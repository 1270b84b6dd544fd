//! Building SCEP requests, as a client does: for the tests and the load
//! driver, which speak to the server the way devices do.

use ca_core::identity::ProtocolIdentity;
use x509_cert::Certificate;

use super::algorithms::{ContentCipher, Digest};
use super::attributes::{self as attr, MessageType};
use super::cert_rep::{attribute, fresh_nonce, printable, sign_message};
use super::envelope::seal;
use super::WireError;

/// A request to build.
#[derive(Debug, Clone)]
pub struct RequestSpec<'a> {
    /// PKCSReq, RenewalReq, CertPoll, GetCert, GetCRL.
    pub message_type: MessageType,
    /// The transaction id.
    pub transaction_id: &'a str,
    /// The content to encrypt: a CSR, an IssuerAndSubject, an IssuerAndSerialNumber.
    pub content: &'a [u8],
    /// The RA certificate it is encrypted to.
    pub recipient: &'a Certificate,
    /// The content cipher.
    pub cipher: ContentCipher,
    /// The digest (SHA-1 is signed as SHA-256).
    pub digest: Digest,
}

impl RequestSpec<'_> {
    /// The signed, encrypted message, signed by `signer` (its certificate `signer_cert`).
    pub fn build(
        &self,
        signer: &ProtocolIdentity,
        signer_cert: &Certificate,
    ) -> Result<Vec<u8>, WireError> {
        let envelope = seal(self.content, self.recipient, self.cipher)?;
        let attributes = vec![
            attribute(attr::MESSAGE_TYPE, printable(self.message_type.code())?)?,
            attribute(attr::TRANSACTION_ID, printable(self.transaction_id)?)?,
            attribute(attr::SENDER_NONCE, fresh_nonce()?)?,
        ];
        sign_message(
            attributes,
            Some(&envelope),
            self.digest,
            signer,
            signer_cert,
        )
    }
}
