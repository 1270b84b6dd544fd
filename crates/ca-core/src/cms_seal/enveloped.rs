//! EnvelopedData with RSA key transport (RFC 5652 §6): content sealed to the
//! public key of one certificate.

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::Certificate;

use super::{CmsError, ContentCipher, Encrypted, RSA_ENCRYPTION};

/// How the recipient is named in its RecipientInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientNaming {
    /// By the certificate's issuer and serial number (every SCEP client understands it).
    IssuerAndSerial,
    /// By a subject key identifier: the one the recipient asked to be named by
    /// (EST's AsymmetricDecryptionKeyIdentifier).
    SubjectKeyIdentifier(Vec<u8>),
}

/// Encrypts `content` (of type `content_type`) under a fresh `cipher` key, and
/// wraps that key for `recipient`'s RSA key with PKCS#1 v1.5 (rsaEncryption).
/// A recipient whose key is not RSA is [`CmsError::UnsupportedAlgorithm`].
pub fn seal(
    content: &[u8],
    content_type: ObjectIdentifier,
    recipient: &Certificate,
    naming: RecipientNaming,
    cipher: ContentCipher,
) -> Result<EnvelopedData, CmsError> {
    let not_rsa = || CmsError::UnsupportedAlgorithm("the recipient's key is not RSA".into());
    let spki = recipient.tbs_certificate.subject_public_key_info.to_der()?;
    let public = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki).map_err(|_| not_rsa())?;
    let public = aws_lc_rs::rsa::Pkcs1PublicEncryptingKey::new(public).map_err(|_| not_rsa())?;
    let Encrypted {
        key,
        iv,
        ciphertext,
    } = cipher.encrypt(content)?;
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped_len = public
        .encrypt(&key, &mut wrapped)
        .map_err(|_| CmsError::Internal("key transport failed".into()))?
        .len();
    wrapped.truncate(wrapped_len);
    // RFC 5652 §6.2.1: version 0 with issuerAndSerialNumber, 2 with subjectKeyIdentifier;
    // §6.1: the EnvelopedData is version 2 as soon as one recipient is not version 0.
    let (version, rid) = match naming {
        RecipientNaming::IssuerAndSerial => (
            CmsVersion::V0,
            RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: recipient.tbs_certificate.issuer.clone(),
                serial_number: recipient.tbs_certificate.serial_number.clone(),
            }),
        ),
        RecipientNaming::SubjectKeyIdentifier(id) => (
            CmsVersion::V2,
            RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(OctetString::new(id)?)),
        ),
    };
    let recipient_info = RecipientInfo::Ktri(KeyTransRecipientInfo {
        version,
        rid,
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        enc_key: OctetString::new(wrapped)?,
    });
    let mut recipients = SetOfVec::new();
    recipients.insert(recipient_info)?;
    Ok(EnvelopedData {
        version,
        originator_info: None,
        recip_infos: RecipientInfos(recipients),
        encrypted_content: EncryptedContentInfo {
            content_type,
            content_enc_alg: AlgorithmIdentifierOwned {
                oid: cipher.oid(),
                parameters: Some(Any::encode_from(&OctetString::new(iv)?)?),
            },
            encrypted_content: Some(OctetString::new(ciphertext)?),
        },
        unprotected_attrs: None,
    })
}
