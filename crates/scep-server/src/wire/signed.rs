//! The signed outer layer of a SCEP request (a CMS SignedData, RFC 5652 §5):
//! parsed into [`SignedRequest`], then [`SignedRequest::verify`]-ed.
//!
//! The signer info is decoded with its signed attributes kept as they came:
//! the signature covers their encoding, and re-encoding a SET that a client
//! sent unsorted would break a signature that is otherwise good.

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignerIdentifier};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::Certificate;

use super::algorithms::Digest;
use super::attributes::{self as attr, MessageType};
use super::{subject_key_identifier, WireError};

/// The largest message accepted (a PKCSReq with an RSA-4096 CSR and a chain is far smaller).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// SignedData, with the signer infos left undecoded (see [`RawSignerInfo`]).
#[derive(Debug, der::Sequence)]
struct RawSignedData {
    version: CmsVersion,
    digest_algorithms: SetOfVec<AlgorithmIdentifierOwned>,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<CertificateSet>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    crls: Option<Any>,
    signer_infos: Any,
}

/// SignerInfo with its signed attributes as they came (`[0] IMPLICIT SET OF`).
#[derive(Debug, der::Sequence)]
struct RawSignerInfo {
    version: CmsVersion,
    sid: SignerIdentifier,
    digest_alg: AlgorithmIdentifierOwned,
    signed_attrs: Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: OctetString,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    unsigned_attrs: Option<Attributes>,
}

/// A parsed, not yet verified, SCEP request.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The messageType.
    pub message_type: MessageType,
    /// The transactionID, as text.
    pub transaction_id: String,
    /// The transactionID attribute value as sent (echoed in the answer).
    pub transaction_id_value: Any,
    /// The senderNonce as sent (echoed as our recipientNonce).
    pub sender_nonce: Any,
    /// The signer's certificate (self-signed for a first enrollment, ours for a renewal).
    pub signer: Certificate,
    /// The signer's certificate, DER.
    pub signer_der: Vec<u8>,
    /// The digest algorithm the signer used; `Err` if we do not support it.
    pub digest: Result<Digest, WireError>,
    /// signingTime, Unix seconds, if sent.
    pub signing_time: Option<i64>,
    /// The encapsulated content (the pkcsPKIEnvelope), if any.
    pub content: Option<Vec<u8>>,
    /// pkiStatus, in an answer.
    pub pki_status: Option<String>,
    /// failInfo, in a failed answer.
    pub fail_info: Option<String>,
    signature_digest: Result<Option<Digest>, WireError>,
    signed_attrs_der: Vec<u8>,
    message_digest: Option<Vec<u8>>,
    signature: Vec<u8>,
}

fn malformed(what: impl Into<String>) -> WireError {
    WireError::Malformed(what.into())
}

/// The first value of an attribute.
fn first_value<'a>(
    attributes: &'a Attributes,
    oid: &const_oid::ObjectIdentifier,
) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|a: &&Attribute| a.oid == *oid)
        .and_then(|a| a.values.iter().next())
}

/// The text of a string attribute value, whichever string type a client chose.
fn text_of(value: &Any) -> Result<String, WireError> {
    match value.tag() {
        Tag::PrintableString | Tag::Utf8String | Tag::Ia5String | Tag::TeletexString => {
            String::from_utf8(value.value().to_vec())
                .map_err(|_| malformed("an attribute is not text"))
        }
        other => Err(malformed(format!(
            "an attribute has type {other}, expected a string"
        ))),
    }
}

impl SignedRequest {
    /// Parses a PKIOperation message. An error here means the message cannot
    /// be answered with a CertRep (no transaction id, no nonce, no signer).
    pub fn parse(der_bytes: &[u8]) -> Result<Self, WireError> {
        if der_bytes.len() > MAX_MESSAGE_BYTES {
            return Err(malformed(format!("larger than {MAX_MESSAGE_BYTES} bytes")));
        }
        let info = ContentInfo::from_der(der_bytes)?;
        if info.content_type != attr::ID_SIGNED_DATA {
            return Err(malformed(format!(
                "the content type is {}, expected signedData",
                info.content_type
            )));
        }
        let signed: RawSignedData = info.content.decode_as()?;
        let mut reader = SliceReader::new(signed.signer_infos.value())?;
        let mut signer_infos = Vec::new();
        while !reader.is_finished() {
            signer_infos.push(RawSignerInfo::decode(&mut reader)?);
        }
        let [signer_info] = <[RawSignerInfo; 1]>::try_from(signer_infos)
            .map_err(|v| malformed(format!("{} signer infos, expected one", v.len())))?;
        let tag = signer_info.signed_attrs.tag();
        if tag
            != (Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::N0,
            })
        {
            return Err(malformed("the signer info has no signed attributes"));
        }
        // The signature covers the attributes as a SET (RFC 5652 §5.4): the same bytes under the SET tag.
        let value = signer_info.signed_attrs.value();
        let mut signed_attrs_der = Header::new(Tag::Set, value.len())?.to_der()?;
        signed_attrs_der.extend_from_slice(value);
        let attributes = Attributes::from_der(&signed_attrs_der)?;

        let certificates: Vec<Certificate> = signed
            .certificates
            .map(|set| {
                set.0
                    .into_vec()
                    .into_iter()
                    .filter_map(|c| match c {
                        CertificateChoices::Certificate(c) => Some(c),
                        CertificateChoices::Other(_) => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let signer = certificates
            .into_iter()
            .find(|c| identifies(&signer_info.sid, c))
            .ok_or_else(|| malformed("the signer's certificate is not in the message"))?;
        let signer_der = signer.to_der()?;

        let message_type_value = first_value(&attributes, &attr::MESSAGE_TYPE)
            .ok_or_else(|| malformed("no messageType"))?;
        let message_type_text = text_of(message_type_value)?;
        let message_type = MessageType::from_code(&message_type_text)
            .ok_or_else(|| malformed(format!("unknown messageType '{message_type_text}'")))?;
        let transaction_id_value = first_value(&attributes, &attr::TRANSACTION_ID)
            .ok_or_else(|| malformed("no transactionID"))?
            .clone();
        let transaction_id = text_of(&transaction_id_value)?;
        if transaction_id.is_empty() || transaction_id.len() > 256 {
            return Err(malformed(
                "the transactionID is empty or longer than 256 characters",
            ));
        }
        let sender_nonce = first_value(&attributes, &attr::SENDER_NONCE)
            .ok_or_else(|| malformed("no senderNonce"))?
            .clone();
        if sender_nonce.tag() != Tag::OctetString || sender_nonce.value().len() > 64 {
            return Err(malformed(
                "the senderNonce is not an OCTET STRING of at most 64 bytes",
            ));
        }
        let message_digest = first_value(&attributes, &attr::MESSAGE_DIGEST)
            .and_then(|v| v.decode_as::<OctetString>().ok())
            .map(|o| o.as_bytes().to_vec());
        let signing_time = first_value(&attributes, &attr::SIGNING_TIME)
            .and_then(|v| v.to_der().ok())
            .and_then(|der| x509_cert::time::Time::from_der(&der).ok())
            .map(|t| t.to_unix_duration().as_secs() as i64);
        let content = match signed.encap_content_info.econtent {
            None => None,
            Some(any) => Some(
                any.decode_as::<OctetString>()
                    .map_err(|_| malformed("the content is not an OCTET STRING"))?
                    .into_bytes(),
            ),
        };
        let optional_text = |oid| first_value(&attributes, oid).and_then(|v| text_of(v).ok());
        let pki_status = optional_text(&attr::PKI_STATUS);
        let fail_info = optional_text(&attr::FAIL_INFO);
        Ok(SignedRequest {
            pki_status,
            fail_info,
            message_type,
            transaction_id,
            transaction_id_value,
            sender_nonce,
            signer,
            signer_der,
            digest: Digest::from_oid(&signer_info.digest_alg.oid),
            signing_time,
            content,
            signature_digest: Digest::of_signature_algorithm(&signer_info.signature_algorithm.oid),
            signed_attrs_der,
            message_digest,
            signature: signer_info.signature.into_bytes(),
        })
    }

    /// Checks the message digest and the signature with the signer certificate's key.
    pub fn verify(&self) -> Result<Digest, WireError> {
        let digest = self.digest.clone()?;
        if let Some(fixed) = self.signature_digest.clone()? {
            if fixed != digest {
                return Err(WireError::UnsupportedAlgorithm(format!(
                    "the signature algorithm's digest ({fixed:?}) is not the digest algorithm ({digest:?})"
                )));
            }
        }
        let expected = self
            .message_digest
            .as_ref()
            .ok_or(WireError::BadSignature)?;
        let content = self.content.as_deref().unwrap_or_default();
        if &digest.digest(content) != expected {
            return Err(WireError::BadSignature);
        }
        let spki = &self.signer.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid != super::algorithms::oid::RSA_ENCRYPTION {
            return Err(WireError::UnsupportedAlgorithm(format!(
                "signer key {} (SCEP needs RSA)",
                spki.algorithm.oid
            )));
        }
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(WireError::BadSignature)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(digest.rsa_verification(), key)
            .verify(&self.signed_attrs_der, &self.signature)
            .map_err(|_| WireError::BadSignature)?;
        Ok(digest)
    }

    /// SHA-256 of the signer's public key (SubjectPublicKeyInfo DER), hex: what
    /// ties a repeated transaction to the key that began it.
    pub fn signer_key_id(&self) -> String {
        let spki = self
            .signer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_default();
        hex::encode(Digest::Sha256.digest(&spki))
    }
}

/// Whether a signer identifier names a certificate.
fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == cert.tbs_certificate.issuer
                && ias.serial_number == cert.tbs_certificate.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            subject_key_identifier(cert).as_deref() == Some(ski.0.as_bytes())
        }
    }
}

/// Decodes the DER of one value from a SET/SEQUENCE body (for content types the handlers need).
pub fn decode_exact<'a, T: Decode<'a>>(bytes: &'a [u8]) -> Result<T, WireError> {
    T::from_der(bytes).map_err(|e| malformed(e.to_string()))
}
