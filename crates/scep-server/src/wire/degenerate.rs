//! Degenerate (certs-only / CRL-only) PKCS#7 SignedData, the payload of a
//! GetCert, GetCRL or enrollment answer.

use cms::content_info::{CmsVersion, ContentInfo};
use cms::revocation::{RevocationInfoChoice, RevocationInfoChoices};
use cms::signed_data::{EncapsulatedContentInfo, SignedData, SignerInfos};
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode};

use super::attributes as attr;
use super::WireError;

/// Certificates only: ca-core's encoder.
pub fn certificates(certificates: &[&[u8]]) -> Result<Vec<u8>, WireError> {
    ca_core::encoding::pkcs7_certs_only(certificates)
        .map_err(|e| WireError::Internal(e.to_string()))
}

/// A CRL only.
pub fn crl(crl_der: &[u8]) -> Result<Vec<u8>, WireError> {
    let list = x509_cert::crl::CertificateList::from_der(crl_der)?;
    let mut crls = SetOfVec::new();
    crls.insert(RevocationInfoChoice::Crl(list))?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::new(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: attr::ID_DATA,
            econtent: None,
        },
        certificates: None,
        crls: Some(RevocationInfoChoices(crls)),
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    let info = ContentInfo {
        content_type: attr::ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    };
    Ok(info.to_der()?)
}
