//! SCEP's signed attributes (RFC 8894 §3.2.1) and the CMS ones it relies on.

use const_oid::ObjectIdentifier as Oid;

/// id-contentType.
pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest.
pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime.
pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// id-messageType.
pub const MESSAGE_TYPE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.2");
/// id-pkiStatus.
pub const PKI_STATUS: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.3");
/// id-failInfo.
pub const FAIL_INFO: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.4");
/// id-senderNonce.
pub const SENDER_NONCE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.5");
/// id-recipientNonce.
pub const RECIPIENT_NONCE: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.6");
/// id-transactionID.
pub const TRANSACTION_ID: Oid = Oid::new_unwrap("2.16.840.1.113733.1.9.7");
/// id-data.
pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData.
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-envelopedData.
pub const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");

/// A SCEP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// CertRep (3): our answer.
    CertRep,
    /// RenewalReq (17).
    RenewalReq,
    /// PKCSReq (19).
    PkcsReq,
    /// CertPoll, formerly GetCertInitial (20).
    CertPoll,
    /// GetCert (21).
    GetCert,
    /// GetCRL (22).
    GetCrl,
}

impl MessageType {
    /// The type a messageType value names.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code.trim() {
            "3" => MessageType::CertRep,
            "17" => MessageType::RenewalReq,
            "19" => MessageType::PkcsReq,
            "20" => MessageType::CertPoll,
            "21" => MessageType::GetCert,
            "22" => MessageType::GetCrl,
            _ => return None,
        })
    }

    /// Its value.
    pub fn code(self) -> &'static str {
        match self {
            MessageType::CertRep => "3",
            MessageType::RenewalReq => "17",
            MessageType::PkcsReq => "19",
            MessageType::CertPoll => "20",
            MessageType::GetCert => "21",
            MessageType::GetCrl => "22",
        }
    }
}

/// A CertRep's pkiStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkiStatus {
    /// SUCCESS (0).
    Success,
    /// FAILURE (2).
    Failure,
    /// PENDING (3).
    Pending,
}

impl PkiStatus {
    /// Its value.
    pub fn code(self) -> &'static str {
        match self {
            PkiStatus::Success => "0",
            PkiStatus::Failure => "2",
            PkiStatus::Pending => "3",
        }
    }
}

/// A failure's failInfo. Only these five exist: micromdm's client panics on any other value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailInfo {
    /// badAlg (0): unrecognized or unsupported algorithm.
    BadAlg,
    /// badMessageCheck (1): integrity check (signature, decryption) failed.
    BadMessageCheck,
    /// badRequest (2): transaction not permitted or supported.
    BadRequest,
    /// badTime (3): the time is not close enough to ours (or outside a certificate's validity).
    BadTime,
    /// badCertId (4): no certificate matches.
    BadCertId,
}

impl FailInfo {
    /// Its value.
    pub fn code(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "0",
            FailInfo::BadMessageCheck => "1",
            FailInfo::BadRequest => "2",
            FailInfo::BadTime => "3",
            FailInfo::BadCertId => "4",
        }
    }

    /// Its name, for logs and audit entries.
    pub fn name(self) -> &'static str {
        match self {
            FailInfo::BadAlg => "badAlg",
            FailInfo::BadMessageCheck => "badMessageCheck",
            FailInfo::BadRequest => "badRequest",
            FailInfo::BadTime => "badTime",
            FailInfo::BadCertId => "badCertId",
        }
    }
}
