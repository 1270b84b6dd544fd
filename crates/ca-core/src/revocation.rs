//! Revocation reasons and CRLs.

use std::fmt;
use std::str::FromStr;

use rcgen::{CertificateRevocationListParams, KeyIdMethod, RevokedCertParams};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::authority::{AuthorityError, CertificationAuthority};
use crate::serial::Serial;

/// An RFC 5280 §5.3.1 revocation reason.
///
/// `removeFromCRL` (delta CRLs only) and the unassigned 7 are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    /// unspecified (0): left out of CRL entries and OCSP, as RFC 5280 advises.
    Unspecified,
    /// keyCompromise (1).
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3).
    AffiliationChanged,
    /// superseded (4).
    Superseded,
    /// cessationOfOperation (5).
    CessationOfOperation,
    /// certificateHold (6).
    CertificateHold,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
    /// aACompromise (10).
    AaCompromise,
}

impl RevocationReason {
    /// Every reason, for help texts.
    pub const ALL: [RevocationReason; 9] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
        RevocationReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise,
    ];

    /// The RFC 5280 CRLReason code.
    pub fn code(self) -> u8 {
        match self {
            RevocationReason::Unspecified => 0,
            RevocationReason::KeyCompromise => 1,
            RevocationReason::CaCompromise => 2,
            RevocationReason::AffiliationChanged => 3,
            RevocationReason::Superseded => 4,
            RevocationReason::CessationOfOperation => 5,
            RevocationReason::CertificateHold => 6,
            RevocationReason::PrivilegeWithdrawn => 9,
            RevocationReason::AaCompromise => 10,
        }
    }

    /// The reason for a CRLReason code (ACME's revokeCert carries codes).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
            RevocationReason::CertificateHold => "certificate-hold",
            RevocationReason::PrivilegeWithdrawn => "privilege-withdrawn",
            RevocationReason::AaCompromise => "aa-compromise",
        }
    }

    fn to_rcgen(self) -> Option<rcgen::RevocationReason> {
        use rcgen::RevocationReason as R;
        Some(match self {
            RevocationReason::Unspecified => return None,
            RevocationReason::KeyCompromise => R::KeyCompromise,
            RevocationReason::CaCompromise => R::CaCompromise,
            RevocationReason::AffiliationChanged => R::AffiliationChanged,
            RevocationReason::Superseded => R::Superseded,
            RevocationReason::CessationOfOperation => R::CessationOfOperation,
            RevocationReason::CertificateHold => R::CertificateHold,
            RevocationReason::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
            RevocationReason::AaCompromise => R::AaCompromise,
        })
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RevocationReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.to_ascii_lowercase().replace(['_', ' '], "-");
        if let Ok(code) = wanted.parse::<u8>() {
            return Self::from_code(code)
                .ok_or_else(|| format!("no revocation reason has code {code}"));
        }
        let compact = wanted.replace('-', "");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted || r.as_str().replace('-', "") == compact)
            .ok_or_else(|| {
                format!(
                    "unknown revocation reason '{s}' (one of: {})",
                    Self::ALL.map(|r| r.as_str()).join(", ")
                )
            })
    }
}

/// One revoked certificate as a CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The certificate's serial.
    pub serial: Serial,
    /// When it was revoked.
    pub revoked_at: OffsetDateTime,
    /// Why.
    pub reason: RevocationReason,
}

/// Signs a full CRL for a CA.
pub fn build_crl(
    ca: &CertificationAuthority,
    entries: &[RevokedEntry],
    number: u64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<Vec<u8>, AuthorityError> {
    let signer = ca.signer().ok_or_else(|| {
        AuthorityError::CannotSign(ca.id().into(), "its private key is not held here".into())
    })?;
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: rcgen::SerialNumber::from_slice(&crl_number_bytes(number)),
        issuing_distribution_point: None,
        revoked_certs: entries
            .iter()
            .map(|e| RevokedCertParams {
                serial_number: rcgen::SerialNumber::from_slice(e.serial.as_bytes()),
                revocation_time: e.revoked_at,
                reason_code: e.reason.to_rcgen(),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params
        .signed_by(signer)
        .map_err(|e| AuthorityError::Certificate(format!("CRL: {e}")))?;
    Ok(crl.der().to_vec())
}

/// A CRL number as a positive DER INTEGER magnitude.
fn crl_number_bytes(number: u64) -> Vec<u8> {
    let bytes = number.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    let mut out = bytes[start..].to_vec();
    if out[0] & 0x80 != 0 {
        out.insert(0, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_by_name_and_code() {
        assert_eq!(
            "keyCompromise".parse::<RevocationReason>().unwrap(),
            RevocationReason::KeyCompromise
        );
        assert_eq!(
            "key-compromise".parse::<RevocationReason>().unwrap(),
            RevocationReason::KeyCompromise
        );
        assert_eq!(
            "4".parse::<RevocationReason>().unwrap(),
            RevocationReason::Superseded
        );
        assert!("7".parse::<RevocationReason>().is_err());
        assert!("bogus".parse::<RevocationReason>().is_err());
    }

    #[test]
    fn crl_numbers_are_positive_integers() {
        assert_eq!(crl_number_bytes(1), vec![1]);
        assert_eq!(crl_number_bytes(0x80), vec![0, 0x80]);
        assert_eq!(crl_number_bytes(0x1234), vec![0x12, 0x34]);
    }
}
