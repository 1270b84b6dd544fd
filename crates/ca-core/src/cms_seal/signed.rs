//! SignedData (RFC 5652 §5) signed by a protocol identity's RSA key.

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::CmsVersion;
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;

use super::{CmsError, ATTR_CONTENT_TYPE, ATTR_MESSAGE_DIGEST, ID_DATA, RSA_ENCRYPTION};
use crate::identity::{IdentityHash, ProtocolIdentity};

/// One attribute with one value.
pub fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, CmsError> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// A SignedData over `content` of type `content_type` (detached when `None`,
/// as SCEP's PENDING and FAILURE answers are), with contentType, messageDigest
/// and `extra_attributes` signed, by `identity` whose certificate `signer` is
/// carried and named by issuer and serial.
///
/// RFC 5652 §5.1: the version is 3 when the content is not id-data, 1 otherwise.
pub fn sign(
    content_type: ObjectIdentifier,
    content: Option<&[u8]>,
    extra_attributes: Vec<Attribute>,
    hash: IdentityHash,
    identity: &ProtocolIdentity,
    signer: &Certificate,
) -> Result<SignedData, CmsError> {
    let (digest_oid, digest_alg) = match hash {
        IdentityHash::Sha256 => (
            ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1"),
            &aws_lc_rs::digest::SHA256,
        ),
        IdentityHash::Sha512 => (
            ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3"),
            &aws_lc_rs::digest::SHA512,
        ),
    };
    let digest = aws_lc_rs::digest::digest(digest_alg, content.unwrap_or_default());
    let mut attributes = SetOfVec::new();
    attributes.insert(attribute(
        ATTR_CONTENT_TYPE,
        Any::encode_from(&content_type)?,
    )?)?;
    attributes.insert(attribute(
        ATTR_MESSAGE_DIGEST,
        Any::encode_from(&OctetString::new(digest.as_ref())?)?,
    )?)?;
    for a in extra_attributes {
        attributes.insert(a)?;
    }
    let signature = identity
        .sign(hash, &attributes.to_der()?)
        .map_err(|e| CmsError::Internal(e.to_string()))?;
    let digest_alg = AlgorithmIdentifierOwned {
        oid: digest_oid,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(attributes),
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(digest_alg)?;
    let mut certificates = SetOfVec::new();
    certificates.insert(CertificateChoices::Certificate(signer.clone()))?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info)?;
    Ok(SignedData {
        version: if content_type == ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: content_type,
            econtent: match content {
                Some(content) => Some(Any::encode_from(&OctetString::new(content.to_vec())?)?),
                None => None,
            },
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    })
}

/// A ContentInfo of type `content_type` around `content`, DER.
pub fn content_info<T: der::EncodeValue + der::Tagged>(
    content_type: ObjectIdentifier,
    content: &T,
) -> Result<Vec<u8>, CmsError> {
    Ok(cms::content_info::ContentInfo {
        content_type,
        content: Any::encode_from(content)?,
    }
    .to_der()?)
}
