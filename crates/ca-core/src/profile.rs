//! Certificate profiles: named configuration that decides everything the CSR
//! does not (type, issuer, key rules, validity, key usages, names, subject,
//! extensions).
//!
//! Profiles are loaded from TOML; [`ProfileSet::defaults`] ships a sensible
//! set (see `profiles/default.toml`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keys::{KeyAlgorithm, KeyFamily};
use crate::names::SanKind;

/// What a certificate is for; decides the privileges that apply to it above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateType {
    /// A TLS server certificate.
    TlsServer,
    /// A TLS client certificate.
    TlsClient,
    /// A device certificate (MDM, IoT).
    Device,
    /// An S/MIME (e-mail) certificate.
    Smime,
    /// A code-signing certificate.
    CodeSigning,
    /// A SCEP registration-authority certificate.
    ScepRa,
    /// An EST server's CMS signing certificate (it signs the server-generated
    /// keys it encrypts to devices, RFC 7030 §4.4.2).
    EstSigner,
    /// A delegated OCSP-signing certificate.
    OcspSigning,
}

/// A key-usage bit a profile can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyUsage {
    /// digitalSignature.
    DigitalSignature,
    /// nonRepudiation (contentCommitment).
    ContentCommitment,
    /// keyEncipherment: applied to RSA subject keys only (meaningless for EC keys).
    KeyEncipherment,
    /// dataEncipherment.
    DataEncipherment,
    /// keyAgreement: applied to EC subject keys only.
    KeyAgreement,
}

/// An extended key usage a profile can set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtendedKeyUsage {
    /// id-kp-serverAuth.
    ServerAuth,
    /// id-kp-clientAuth.
    ClientAuth,
    /// id-kp-codeSigning.
    CodeSigning,
    /// id-kp-emailProtection.
    EmailProtection,
    /// id-kp-OCSPSigning.
    OcspSigning,
    /// Any other EKU, by dotted OID.
    Oid(String),
}

/// A subject attribute a profile takes from the CSR or forces from the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectAttribute {
    /// CN.
    CommonName,
    /// O.
    Organization,
    /// OU.
    OrganizationalUnit,
    /// L.
    Locality,
    /// ST.
    State,
    /// C.
    Country,
}

/// One certificate profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateProfile {
    /// The profile's name, unique in its set.
    pub name: String,
    /// Free text for operators.
    #[serde(default)]
    pub description: String,
    /// What the certificate is for.
    pub certificate_type: CertificateType,
    /// The issuing CA that signs it; `None` means the gateway's default issuing CA.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Allowed subject key types.
    pub key_types: Vec<KeyAlgorithm>,
    /// Offered terms, in days: a request may ask for any term up to the longest of them.
    pub terms_days: Vec<u32>,
    /// The term used when the request names none.
    pub default_term_days: u32,
    /// Key usage bits.
    pub key_usage: Vec<KeyUsage>,
    /// Extended key usages.
    #[serde(default)]
    pub extended_key_usage: Vec<ExtendedKeyUsage>,
    /// Which SAN kinds may be requested.
    pub san_types: Vec<SanKind>,
    /// Whether `*.` wildcard DNS names may be requested.
    #[serde(default)]
    pub allow_wildcards: bool,
    /// At most this many SANs.
    pub max_sans: usize,
    /// Whether at least one SAN is required (a CN-only legacy CSR's CN counts as a DNS name).
    #[serde(default = "yes")]
    pub require_san: bool,
    /// Subject attributes copied from the CSR (when present).
    #[serde(default)]
    pub subject_from_csr: Vec<SubjectAttribute>,
    /// Subject attributes forced from the owning organization (when the caller gives them).
    #[serde(default)]
    pub subject_from_organization: Vec<SubjectAttribute>,
    /// Certificate policy OIDs to assert (dotted form).
    #[serde(default)]
    pub certificate_policies: Vec<String>,
    /// Add the issuing CA's CRL distribution point.
    #[serde(default = "yes")]
    pub crl_distribution_point: bool,
    /// Add the OCSP responder URL to AIA.
    #[serde(default = "yes")]
    pub ocsp_url: bool,
    /// Add the CA-issuers URL to AIA.
    #[serde(default = "yes")]
    pub ca_issuers_url: bool,
    /// Add id-pkix-ocsp-nocheck (for delegated OCSP responders).
    #[serde(default)]
    pub ocsp_no_check: bool,
    /// Windows strong certificate mapping (KB5014754): where the certificate carries
    /// Intune's SID URI (`tag:microsoft.com,2022-09-14:sid:<SID>`), also write the SID
    /// as the szOID_NTDS_CA_SECURITY_EXT extension (1.3.6.1.4.1.311.25.2).
    #[serde(default)]
    pub strong_mapping: bool,
}

fn yes() -> bool {
    true
}

/// Why a profile (or a profile file) is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The TOML does not parse or does not match the schema.
    #[error("profile file does not parse: {0}")]
    Parse(String),
    /// A profile is internally inconsistent.
    #[error("profile '{profile}': {reason}")]
    Invalid {
        /// The profile's name.
        profile: String,
        /// What is wrong.
        reason: String,
    },
    /// Two profiles share a name.
    #[error("profile '{0}' is defined twice")]
    Duplicate(String),
}

impl CertificateProfile {
    /// Checks that the profile is usable on its own.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let invalid = |reason: &str| ProfileError::Invalid {
            profile: self.name.clone(),
            reason: reason.to_string(),
        };
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(invalid("the name must be letters, digits, '-' or '_'"));
        }
        if self.key_types.is_empty() {
            return Err(invalid("key_types is empty"));
        }
        if self.terms_days.is_empty() || self.terms_days.contains(&0) {
            return Err(invalid("terms_days must list at least one positive term"));
        }
        if !self.terms_days.contains(&self.default_term_days) {
            return Err(invalid("default_term_days must be one of terms_days"));
        }
        if self.key_usage.is_empty() {
            return Err(invalid("key_usage is empty"));
        }
        if self.max_sans == 0 && self.require_san {
            return Err(invalid("max_sans is 0 but a SAN is required"));
        }
        if self.certificate_type == CertificateType::TlsServer
            && self.terms_days.iter().any(|t| *t > 398)
        {
            return Err(invalid(
                "a TLS server certificate cannot be valid for more than 398 days",
            ));
        }
        for oid in
            self.certificate_policies
                .iter()
                .chain(self.extended_key_usage.iter().filter_map(|e| match e {
                    ExtendedKeyUsage::Oid(o) => Some(o),
                    _ => None,
                }))
        {
            if oid.parse::<const_oid::ObjectIdentifier>().is_err() {
                return Err(invalid(&format!("'{oid}' is not a dotted OID")));
            }
        }
        Ok(())
    }

    /// The key usages that apply to a subject key of the given family.
    pub fn key_usage_for(&self, family: KeyFamily) -> Vec<KeyUsage> {
        self.key_usage
            .iter()
            .copied()
            .filter(|ku| match ku {
                KeyUsage::KeyEncipherment => family == KeyFamily::Rsa,
                KeyUsage::KeyAgreement => family == KeyFamily::Ec,
                _ => true,
            })
            .collect()
    }

    /// The term to issue for a requested term: the default when none is asked,
    /// the requested term when it is at most the longest allowed.
    pub fn term_for(&self, requested_days: Option<u32>) -> Option<u32> {
        match requested_days {
            None => Some(self.default_term_days),
            Some(days) if days > 0 && days <= self.max_term_days() => Some(days),
            Some(_) => None,
        }
    }

    /// The longest allowed term.
    pub fn max_term_days(&self) -> u32 {
        self.terms_days.iter().copied().max().unwrap_or(0)
    }
}

/// A validated set of profiles, by name.
#[derive(Debug, Clone, Default)]
pub struct ProfileSet {
    profiles: BTreeMap<String, CertificateProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    #[serde(default)]
    profile: Vec<CertificateProfile>,
}

/// The shipped default profile set, as TOML (operators copy and edit it).
pub const DEFAULT_PROFILES_TOML: &str = include_str!("../profiles/default.toml");

impl ProfileSet {
    /// Parses and validates a TOML file of `[[profile]]` tables.
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let file: ProfileFile =
            toml::from_str(text).map_err(|e| ProfileError::Parse(e.to_string()))?;
        let mut profiles = BTreeMap::new();
        for profile in file.profile {
            profile.validate()?;
            let name = profile.name.clone();
            if profiles.insert(name.clone(), profile).is_some() {
                return Err(ProfileError::Duplicate(name));
            }
        }
        Ok(Self { profiles })
    }

    /// The shipped defaults.
    pub fn defaults() -> Self {
        Self::from_toml(DEFAULT_PROFILES_TOML).expect("the shipped default profiles are valid")
    }

    /// A profile by name.
    pub fn get(&self, name: &str) -> Option<&CertificateProfile> {
        self.profiles.get(name)
    }

    /// Every profile, by name.
    pub fn iter(&self) -> impl Iterator<Item = &CertificateProfile> {
        self.profiles.values()
    }

    /// Profile names.
    pub fn names(&self) -> Vec<String> {
        self.profiles.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_cover_every_certificate_type() {
        let set = ProfileSet::defaults();
        for ty in [
            CertificateType::TlsServer,
            CertificateType::TlsClient,
            CertificateType::Device,
            CertificateType::Smime,
            CertificateType::CodeSigning,
            CertificateType::ScepRa,
            CertificateType::EstSigner,
            CertificateType::OcspSigning,
        ] {
            assert!(
                set.iter().any(|p| p.certificate_type == ty),
                "{ty:?} has no default profile"
            );
        }
    }

    #[test]
    fn bad_profiles_are_refused_with_a_reason() {
        let text =
            DEFAULT_PROFILES_TOML.replacen("default_term_days = 90", "default_term_days = 91", 1);
        let err = ProfileSet::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("default_term_days"), "{err}");
        let text = format!("{DEFAULT_PROFILES_TOML}\n[[profile]]\nname = \"x\"\nbogus = 1\n");
        assert!(matches!(
            ProfileSet::from_toml(&text),
            Err(ProfileError::Parse(_))
        ));
    }

    #[test]
    fn key_encipherment_applies_to_rsa_only() {
        let set = ProfileSet::defaults();
        let tls = set.get("tls-server").unwrap();
        assert!(tls
            .key_usage_for(KeyFamily::Rsa)
            .contains(&KeyUsage::KeyEncipherment));
        assert!(!tls
            .key_usage_for(KeyFamily::Ec)
            .contains(&KeyUsage::KeyEncipherment));
    }
}
