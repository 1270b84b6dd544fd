//! OCSP (RFC 6960): parsing requests and signing responses.
//!
//! Responses are signed by the CA itself or by a delegated OCSP-signing
//! certificate issued by that CA (which is then included in the response).
//! A nonce in the request is echoed.

use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::{Decode, Encode};
use rcgen::KeyPair;
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::authority::CertificationAuthority;
use crate::keys::{KeyAlgorithm, SignatureHash};
use crate::revocation::RevocationReason;
use crate::serial::Serial;

/// id-pkix-ocsp-nonce.
const ID_PKIX_OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// The largest OCSP request accepted, in bytes.
pub const MAX_OCSP_REQUEST_BYTES: usize = 16 * 1024;

/// Why an OCSP request could not be answered with statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    /// Not a DER OCSPRequest, empty, or too large.
    #[error("malformed OCSP request: {0}")]
    Malformed(String),
    /// The request names no CA held here.
    #[error("the request is for a CA this responder does not serve")]
    Unauthorized,
    /// Signing failed.
    #[error("could not sign the OCSP response: {0}")]
    Internal(String),
}

impl OcspError {
    /// The unsigned error response that RFC 6960 §2.3 prescribes for this error.
    pub fn to_response_der(&self) -> Vec<u8> {
        let response = match self {
            OcspError::Malformed(_) => OcspResponse::malformed_request(),
            OcspError::Unauthorized => OcspResponse::unauthorized(),
            OcspError::Internal(_) => OcspResponse::internal_error(),
        };
        response.to_der().unwrap_or_default()
    }
}

/// A parsed OCSP request: the certificates asked about, and the nonce if any.
#[derive(Debug, Clone)]
pub struct OcspQuery {
    cert_ids: Vec<CertId>,
    nonce: Option<Extension>,
}

impl OcspQuery {
    /// Parses a DER OCSPRequest (the POST body, or the base64-decoded GET path).
    pub fn parse(der: &[u8]) -> Result<Self, OcspError> {
        if der.len() > MAX_OCSP_REQUEST_BYTES {
            return Err(OcspError::Malformed("request too large".into()));
        }
        let request =
            OcspRequest::from_der(der).map_err(|e| OcspError::Malformed(e.to_string()))?;
        let cert_ids: Vec<CertId> = request
            .tbs_request
            .request_list
            .iter()
            .map(|r| r.req_cert.clone())
            .collect();
        if cert_ids.is_empty() {
            return Err(OcspError::Malformed(
                "the request lists no certificate".into(),
            ));
        }
        if cert_ids.len() > 32 {
            return Err(OcspError::Malformed(
                "more than 32 certificates in one request".into(),
            ));
        }
        let nonce = request
            .tbs_request
            .request_extensions
            .as_ref()
            .and_then(|exts| {
                exts.iter()
                    .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
                    .cloned()
            });
        if let Some(n) = &nonce {
            // RFC 8954: a nonce is 1 to 32 octets.
            let len = OctetString::from_der(n.extn_value.as_bytes())
                .map(|o| o.as_bytes().len())
                .unwrap_or(0);
            if !(1..=32).contains(&len) {
                return Err(OcspError::Malformed(
                    "the nonce must be 1 to 32 octets".into(),
                ));
            }
        }
        Ok(Self { cert_ids, nonce })
    }

    /// The serials asked about, in order.
    pub fn serials(&self) -> Vec<Serial> {
        self.cert_ids
            .iter()
            .map(|c| Serial::from_bytes(c.serial_number.as_bytes()))
            .collect()
    }

    /// Whether the request carries a nonce.
    pub fn has_nonce(&self) -> bool {
        self.nonce.is_some()
    }

    /// Whether the `index`-th CertID names this CA (by name hash and key hash).
    pub fn names_issuer(&self, index: usize, ca: &CertificationAuthority) -> bool {
        self.cert_ids
            .get(index)
            .is_some_and(|id| cert_id_matches(id, ca))
    }

    /// The number of certificates asked about.
    pub fn len(&self) -> usize {
        self.cert_ids.len()
    }

    /// Whether the request is empty (never true for a parsed request).
    pub fn is_empty(&self) -> bool {
        self.cert_ids.is_empty()
    }
}

fn digest_for(oid: &ObjectIdentifier) -> Option<&'static aws_lc_rs::digest::Algorithm> {
    if *oid == ID_SHA_1 {
        Some(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY)
    } else if *oid == ID_SHA_256 {
        Some(&aws_lc_rs::digest::SHA256)
    } else if *oid == ID_SHA_384 {
        Some(&aws_lc_rs::digest::SHA384)
    } else if *oid == ID_SHA_512 {
        Some(&aws_lc_rs::digest::SHA512)
    } else {
        None
    }
}

fn cert_id_matches(id: &CertId, ca: &CertificationAuthority) -> bool {
    let Some(alg) = digest_for(&id.hash_algorithm.oid) else {
        return false;
    };
    let name_hash = aws_lc_rs::digest::digest(alg, ca.subject_der());
    let key_hash = aws_lc_rs::digest::digest(alg, ca.public_key_bits());
    id.issuer_name_hash.as_bytes() == name_hash.as_ref()
        && id.issuer_key_hash.as_bytes() == key_hash.as_ref()
}

/// What the store says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspStatus {
    /// Issued by this CA and not revoked.
    Good,
    /// Revoked.
    Revoked {
        /// When.
        at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// Not issued by this CA as far as the store knows.
    Unknown,
}

/// Who signs responses for a CA.
pub enum ResponderKey<'a> {
    /// The CA's own key.
    Ca,
    /// A delegated OCSP-signing certificate (DER) issued by the CA, and its key.
    Delegated {
        /// The responder certificate, included in responses.
        certificate_der: &'a [u8],
        /// Its key.
        key: &'a KeyPair,
        /// Its key type.
        key_algorithm: KeyAlgorithm,
        /// The public key bits (for the responder id).
        public_key_bits: &'a [u8],
    },
}

fn signature_algorithm_identifier(
    key: KeyAlgorithm,
    hash: SignatureHash,
) -> AlgorithmIdentifierOwned {
    let (oid, null) = match (key, key.fixed_hash().unwrap_or(hash)) {
        (KeyAlgorithm::EcP256, _) => (ECDSA_WITH_SHA_256, false),
        (KeyAlgorithm::EcP384, _) => (ECDSA_WITH_SHA_384, false),
        (_, SignatureHash::Sha256) => (SHA_256_WITH_RSA_ENCRYPTION, true),
        (_, SignatureHash::Sha384) => (SHA_384_WITH_RSA_ENCRYPTION, true),
        (_, SignatureHash::Sha512) => (SHA_512_WITH_RSA_ENCRYPTION, true),
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: null.then(|| der::Any::from(Null)),
    }
}

fn generalized(t: OffsetDateTime) -> Result<OcspGeneralizedTime, OcspError> {
    let secs = u64::try_from(t.unix_timestamp())
        .map_err(|_| OcspError::Internal("time before 1970".into()))?;
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map(OcspGeneralizedTime)
        .map_err(|e| OcspError::Internal(e.to_string()))
}

/// Signs a response for `query` with statuses from `statuses` (one per CertID, in order).
///
/// CertIDs that do not name `ca` are answered `unknown`, whatever `statuses` says.
pub fn sign_response(
    ca: &CertificationAuthority,
    responder: &ResponderKey<'_>,
    query: &OcspQuery,
    statuses: &[OcspStatus],
    now: OffsetDateTime,
    validity: Duration,
) -> Result<Vec<u8>, OcspError> {
    let this_update = generalized(now)?;
    let next_update = generalized(now + validity)?;
    let mut responses = Vec::with_capacity(query.cert_ids.len());
    for (index, id) in query.cert_ids.iter().enumerate() {
        let status = if cert_id_matches(id, ca) {
            statuses.get(index).copied().unwrap_or(OcspStatus::Unknown)
        } else {
            OcspStatus::Unknown
        };
        let cert_status = match status {
            OcspStatus::Good => CertStatus::Good(Null),
            OcspStatus::Unknown => CertStatus::Unknown(Null),
            OcspStatus::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
                revocation_time: generalized(at)?,
                revocation_reason: crl_reason(reason),
            }),
        };
        responses.push(SingleResponse {
            cert_id: id.clone(),
            cert_status,
            this_update,
            next_update: Some(next_update),
            single_extensions: None,
        });
    }

    let (key_pair, key_algorithm, hash, key_bits, certs) = match responder {
        ResponderKey::Ca => {
            let signer = ca
                .signer()
                .ok_or_else(|| OcspError::Internal(format!("CA '{}' has no key here", ca.id())))?;
            (
                signer.key(),
                ca.metadata().key_algorithm,
                ca.metadata().hash,
                ca.public_key_bits(),
                None,
            )
        }
        ResponderKey::Delegated {
            certificate_der,
            key,
            key_algorithm,
            public_key_bits,
        } => {
            let cert = x509_cert::Certificate::from_der(certificate_der)
                .map_err(|e| OcspError::Internal(e.to_string()))?;
            (
                *key,
                *key_algorithm,
                ca.metadata().hash,
                *public_key_bits,
                Some(vec![cert]),
            )
        }
    };
    let key_hash =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, key_bits);
    let tbs = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(
            OctetString::new(key_hash.as_ref()).map_err(|e| OcspError::Internal(e.to_string()))?,
        ),
        produced_at: this_update,
        responses,
        response_extensions: query.nonce.clone().map(|n| vec![n]),
    };
    let tbs_der = tbs
        .to_der()
        .map_err(|e| OcspError::Internal(e.to_string()))?;
    let signature = rcgen::SigningKey::sign(key_pair, &tbs_der)
        .map_err(|e| OcspError::Internal(e.to_string()))?;
    let basic = BasicOcspResponse {
        tbs_response_data: tbs,
        signature_algorithm: signature_algorithm_identifier(key_algorithm, hash),
        signature: BitString::from_bytes(&signature)
            .map_err(|e| OcspError::Internal(e.to_string()))?,
        certs,
    };
    OcspResponse::successful(basic)
        .and_then(|r| r.to_der())
        .map_err(|e| OcspError::Internal(e.to_string()))
}

fn crl_reason(reason: RevocationReason) -> Option<CrlReason> {
    Some(match reason {
        RevocationReason::Unspecified => return None,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => CrlReason::AaCompromise,
    })
}
