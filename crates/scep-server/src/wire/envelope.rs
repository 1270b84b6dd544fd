//! The encrypted inner layer (pkcsPKIEnvelope, a CMS EnvelopedData with RSA
//! key transport, RFC 5652 §6): opened with the endpoint's RA key, and sealed
//! to the requester's certificate for the answer.

use ca_core::cms_seal::{self, CmsError, RecipientNaming};
use ca_core::identity::ProtocolIdentity;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::enveloped_data::{
    KeyTransRecipientInfo, OriginatorInfo, RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use der::asn1::OctetString;
use der::{Any, Decode, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use super::algorithms::{oid, ContentCipher};
use super::attributes as attr;
use super::{subject_key_identifier, WireError};

/// EncryptedContentInfo whose `encryptedContent [0] IMPLICIT OCTET STRING`
/// may come primitive (DER) or constructed from OCTET STRING segments (BER,
/// as micromdm's scepclient sends it).
#[derive(Debug, der::Sequence)]
struct LaxEncryptedContentInfo {
    content_type: const_oid::ObjectIdentifier,
    content_enc_alg: AlgorithmIdentifierOwned,
    #[asn1(optional = "true")]
    encrypted_content: Option<Any>,
}

/// EnvelopedData with [`LaxEncryptedContentInfo`].
#[derive(Debug, der::Sequence)]
struct LaxEnvelopedData {
    version: CmsVersion,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    originator_info: Option<OriginatorInfo>,
    recip_infos: RecipientInfos,
    encrypted_content: LaxEncryptedContentInfo,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    unprotected_attrs: Option<Attributes>,
}

/// A parsed envelope: who it is for, the wrapped key, the cipher and the ciphertext.
#[derive(Debug, Clone)]
pub struct Envelope {
    recipients: Vec<KeyTransRecipientInfo>,
    /// The content cipher; `Err` if we do not support it.
    pub cipher: Result<ContentCipher, WireError>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
}

fn malformed(what: impl Into<String>) -> WireError {
    WireError::Malformed(what.into())
}

impl Envelope {
    /// Parses a pkcsPKIEnvelope: a ContentInfo of type envelopedData, or a bare EnvelopedData.
    pub fn parse(bytes: &[u8]) -> Result<Self, WireError> {
        let enveloped: LaxEnvelopedData = match ContentInfo::from_der(bytes) {
            Ok(info) if info.content_type == attr::ID_ENVELOPED_DATA => info.content.decode_as()?,
            Ok(info) => {
                return Err(malformed(format!(
                    "the envelope's content type is {}, expected envelopedData",
                    info.content_type
                )))
            }
            Err(_) => LaxEnvelopedData::from_der(bytes)?,
        };
        let recipients: Vec<KeyTransRecipientInfo> = enveloped
            .recip_infos
            .0
            .into_vec()
            .into_iter()
            .filter_map(|r| match r {
                RecipientInfo::Ktri(k) => Some(k),
                _ => None,
            })
            .collect();
        if recipients.is_empty() {
            return Err(WireError::UnsupportedAlgorithm(
                "no key-transport recipient (SCEP uses RSA key transport)".into(),
            ));
        }
        let info = enveloped.encrypted_content;
        let cipher = ContentCipher::from_oid(&info.content_enc_alg.oid).map_err(WireError::from);
        let iv = info
            .content_enc_alg
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<OctetString>().ok())
            .map(|o| o.into_bytes())
            .unwrap_or_default();
        let content = info
            .encrypted_content
            .ok_or_else(|| malformed("the envelope has no encrypted content"))?;
        let ciphertext = match content.tag() {
            Tag::ContextSpecific {
                constructed: false,
                number: TagNumber::N0,
            } => content.value().to_vec(),
            Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::N0,
            } => {
                let mut reader = SliceReader::new(content.value())?;
                let mut joined = Vec::new();
                while !reader.is_finished() {
                    joined.extend_from_slice(OctetString::decode(&mut reader)?.as_bytes());
                }
                joined
            }
            other => return Err(malformed(format!("the encrypted content has tag {other}"))),
        };
        Ok(Envelope {
            recipients,
            cipher,
            iv,
            ciphertext,
        })
    }

    /// Opens the envelope with the RA identity whose certificate is `ra_cert`.
    ///
    /// A key-transport block that does not unwrap is replaced by a random key
    /// (see [`ProtocolIdentity::unwrap_content_key`]); whatever then goes wrong
    /// is [`WireError::Undecryptable`], the same error for every cause.
    pub fn open(
        &self,
        identity: &ProtocolIdentity,
        ra_cert: &Certificate,
    ) -> Result<Zeroizing<Vec<u8>>, WireError> {
        let cipher = self.cipher.clone()?;
        let recipient = self
            .recipients
            .iter()
            .find(|r| names(&r.rid, ra_cert))
            .ok_or(WireError::NotForUs)?;
        if recipient.key_enc_alg.oid != oid::RSA_ENCRYPTION {
            return Err(WireError::UnsupportedAlgorithm(format!(
                "key transport {}",
                recipient.key_enc_alg.oid
            )));
        }
        let key = identity.unwrap_content_key(recipient.enc_key.as_bytes(), cipher.key_len());
        cipher
            .decrypt(&key, &self.iv, &self.ciphertext)
            .map_err(|_| WireError::Undecryptable)
    }
}

/// Whether a recipient identifier names a certificate.
fn names(rid: &RecipientIdentifier, cert: &Certificate) -> bool {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == cert.tbs_certificate.issuer
                && ias.serial_number == cert.tbs_certificate.serial_number
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_identifier(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// Encrypts `content` to `recipient` (RSA PKCS#1 v1.5 key transport, named by
/// issuer and serial, which every SCEP client understands): a ContentInfo of
/// type envelopedData, DER.
pub fn seal(
    content: &[u8],
    recipient: &Certificate,
    cipher: ContentCipher,
) -> Result<Vec<u8>, WireError> {
    let enveloped = cms_seal::seal(
        content,
        attr::ID_DATA,
        recipient,
        RecipientNaming::IssuerAndSerial,
        cipher,
    )
    .map_err(|e| match e {
        CmsError::UnsupportedAlgorithm(_) => {
            WireError::UnsupportedAlgorithm("the requester's key is not RSA".into())
        }
        other => other.into(),
    })?;
    Ok(cms_seal::content_info(attr::ID_ENVELOPED_DATA, &enveloped)?)
}
