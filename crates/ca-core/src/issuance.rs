//! Building a certificate from a verified CSR and a profile.
//!
//! The CSR gives the key and asks for names; the profile (and, above this
//! crate, the owning organization) decides everything else. Every refusal is
//! an [`IssuanceError`] that says what was wrong.

use std::collections::BTreeMap;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    SanType,
};
use time::{Duration, OffsetDateTime};

use crate::authority::{AuthorityError, CertificationAuthority, PublicationUrls};
use crate::csr::{CsrError, VerifiedCsr};
use crate::extensions;
use crate::keys::KeyAlgorithm;
use crate::names::{SanKind, SubjectAltName};
use crate::profile::{
    CertificateProfile, CertificateType, ExtendedKeyUsage, KeyUsage, SubjectAttribute,
};
use crate::serial::Serial;

/// How far notBefore is set in the past, so clients with a slightly slow clock accept a fresh certificate.
const BACKDATE: Duration = Duration::minutes(1);

/// Why a request cannot be issued as asked.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// The CSR itself is refused (malformed, bad signature, key too small).
    #[error(transparent)]
    Csr(#[from] CsrError),
    /// The key type is not allowed by the profile.
    #[error("key type {key} is not allowed by profile '{profile}' (allowed: {allowed})")]
    KeyNotAllowed {
        /// The CSR's key type.
        key: KeyAlgorithm,
        /// The profile.
        profile: String,
        /// What the profile allows.
        allowed: String,
    },
    /// A name's kind is not allowed by the profile.
    #[error("name {name} is not allowed by profile '{profile}': {reason}")]
    NameNotAllowed {
        /// The name.
        name: String,
        /// The profile.
        profile: String,
        /// Why.
        reason: String,
    },
    /// More names than the profile allows.
    #[error("{count} names requested; profile '{profile}' allows at most {max}")]
    TooManyNames {
        /// Names requested.
        count: usize,
        /// The limit.
        max: usize,
        /// The profile.
        profile: String,
    },
    /// The profile needs at least one name and none was asked for.
    #[error("profile '{0}' requires at least one subject alternative name")]
    NoNames(String),
    /// The requested term exceeds the profile's longest term.
    #[error("a term of {requested} days is not allowed by profile '{profile}' (at most {max})")]
    TermNotAllowed {
        /// Requested days.
        requested: u32,
        /// Longest allowed.
        max: u32,
        /// The profile.
        profile: String,
    },
    /// The issuing CA cannot sign now.
    #[error(transparent)]
    Issuer(#[from] AuthorityError),
    /// The signing backend failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// One request to issue, in validated types.
#[derive(Debug, Clone)]
pub struct IssuanceRequest<'a> {
    /// The verified CSR: the key, and the names it asks for.
    pub csr: &'a VerifiedCsr,
    /// The profile that decides the rest.
    pub profile: &'a CertificateProfile,
    /// Names decided by the caller (an ACME order's identifiers); `None` takes the CSR's.
    pub names: Option<Vec<SubjectAltName>>,
    /// Requested term in days; `None` for the profile's default.
    pub term_days: Option<u32>,
    /// Subject attributes forced by the owner (the organization), applied where the profile says so.
    pub owner_subject: BTreeMap<SubjectAttribute, String>,
}

/// A signed certificate with the facts the store indexes.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// DER.
    pub der: Vec<u8>,
    /// Its serial.
    pub serial: Serial,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The subject as text.
    pub subject: String,
    /// The SANs.
    pub names: Vec<SubjectAltName>,
    /// The issuing CA's id.
    pub issuer_id: String,
    /// The profile's name.
    pub profile: String,
}

/// The names a request will carry, checked against the profile.
pub fn resolve_names(
    csr: &VerifiedCsr,
    profile: &CertificateProfile,
    requested: Option<&[SubjectAltName]>,
) -> Result<Vec<SubjectAltName>, IssuanceError> {
    let mut names: Vec<SubjectAltName> = match requested {
        Some(names) => names.to_vec(),
        None => csr.requested_names().to_vec(),
    };
    // A legacy CSR with only a CN: treat a DNS-shaped CN as the requested name.
    if names.is_empty() && profile.san_types.contains(&SanKind::Dns) {
        if let Some(cn) = csr.subject_attribute(SubjectAttribute::CommonName) {
            if let Ok(name) = SubjectAltName::dns(cn) {
                if cn.contains('.') {
                    names.push(name);
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.clone()));

    let refuse = |name: &SubjectAltName, reason: String| IssuanceError::NameNotAllowed {
        name: name.to_string(),
        profile: profile.name.clone(),
        reason,
    };
    for name in &names {
        if !profile.san_types.contains(&name.kind()) {
            return Err(refuse(
                name,
                format!("the profile does not allow {} names", name.kind()),
            ));
        }
        if name.is_wildcard() && !profile.allow_wildcards {
            return Err(refuse(name, "the profile does not allow wildcards".into()));
        }
    }
    if names.len() > profile.max_sans {
        return Err(IssuanceError::TooManyNames {
            count: names.len(),
            max: profile.max_sans,
            profile: profile.name.clone(),
        });
    }
    if names.is_empty() && profile.require_san {
        return Err(IssuanceError::NoNames(profile.name.clone()));
    }
    Ok(names)
}

/// Checks a request against its profile without signing (what a policy layer can call first).
pub fn check_request(request: &IssuanceRequest<'_>) -> Result<Vec<SubjectAltName>, IssuanceError> {
    let profile = request.profile;
    let key = request.csr.key_algorithm();
    if !profile.key_types.contains(&key) {
        return Err(IssuanceError::KeyNotAllowed {
            key,
            profile: profile.name.clone(),
            allowed: profile
                .key_types
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if profile.term_for(request.term_days).is_none() {
        return Err(IssuanceError::TermNotAllowed {
            requested: request.term_days.unwrap_or_default(),
            max: profile.max_term_days(),
            profile: profile.name.clone(),
        });
    }
    resolve_names(request.csr, profile, request.names.as_deref())
}

/// Builds and signs the certificate.
pub fn issue(
    ca: &CertificationAuthority,
    urls: &PublicationUrls,
    request: &IssuanceRequest<'_>,
    serial: Serial,
    now: OffsetDateTime,
) -> Result<IssuedCertificate, IssuanceError> {
    let names = check_request(request)?;
    let profile = request.profile;
    let signer = ca.usable_signer(now)?;
    let term = profile
        .term_for(request.term_days)
        .expect("checked by check_request");

    let not_before = now - BACKDATE;
    let not_after = (now + Duration::days(term.into())).min(ca.not_after());

    let mut params = CertificateParams::default();
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(serial.as_bytes()));
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    let (subject_dn, subject) = subject_for(request, &names);
    params.distinguished_name = subject_dn;
    params.subject_alt_names = names.iter().map(san_type).collect::<Result<_, _>>()?;
    params.key_usages = profile
        .key_usage_for(request.csr.key_algorithm().family())
        .into_iter()
        .map(|ku| match ku {
            KeyUsage::DigitalSignature => KeyUsagePurpose::DigitalSignature,
            KeyUsage::ContentCommitment => KeyUsagePurpose::ContentCommitment,
            KeyUsage::KeyEncipherment => KeyUsagePurpose::KeyEncipherment,
            KeyUsage::DataEncipherment => KeyUsagePurpose::DataEncipherment,
            KeyUsage::KeyAgreement => KeyUsagePurpose::KeyAgreement,
        })
        .collect();
    params.extended_key_usages = profile
        .extended_key_usage
        .iter()
        .map(|eku| match eku {
            ExtendedKeyUsage::ServerAuth => ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsage::ClientAuth => ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsage::CodeSigning => ExtendedKeyUsagePurpose::CodeSigning,
            ExtendedKeyUsage::EmailProtection => ExtendedKeyUsagePurpose::EmailProtection,
            ExtendedKeyUsage::OcspSigning => ExtendedKeyUsagePurpose::OcspSigning,
            ExtendedKeyUsage::Oid(oid) => ExtendedKeyUsagePurpose::Other(
                oid.split('.').filter_map(|a| a.parse().ok()).collect(),
            ),
        })
        .collect();
    if profile.crl_distribution_point {
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![urls.crl(ca.id())],
        }];
    }
    let ocsp = profile.ocsp_url.then(|| urls.ocsp());
    let ca_issuers = profile.ca_issuers_url.then(|| urls.ca_certificate(ca.id()));
    let signing_err = |e: der::Error| IssuanceError::Signing(e.to_string());
    if let Some(aia) = extensions::authority_info_access(ocsp.as_deref(), ca_issuers.as_deref())
        .map_err(signing_err)?
    {
        params.custom_extensions.push(aia);
    }
    if let Some(policies) =
        extensions::certificate_policies(&profile.certificate_policies).map_err(signing_err)?
    {
        params.custom_extensions.push(policies);
    }
    if profile.ocsp_no_check {
        params.custom_extensions.push(extensions::ocsp_no_check());
    }
    if profile.strong_mapping {
        let sid = names.iter().find_map(|n| match n {
            SubjectAltName::Uri(uri) => extensions::intune_sid(uri),
            _ => None,
        });
        if let Some(sid) = sid {
            params
                .custom_extensions
                .push(extensions::ntds_security(sid).map_err(signing_err)?);
        }
    }

    let public_key = rcgen::SubjectPublicKeyInfo::from_der(request.csr.spki_der())
        .map_err(|e| IssuanceError::Signing(format!("public key: {e}")))?;
    let cert = params
        .signed_by(&public_key, signer)
        .map_err(|e| IssuanceError::Signing(e.to_string()))?;

    Ok(IssuedCertificate {
        der: cert.der().to_vec(),
        serial,
        not_before,
        not_after,
        subject,
        names,
        issuer_id: ca.id().to_string(),
        profile: profile.name.clone(),
    })
}

fn san_type(name: &SubjectAltName) -> Result<SanType, IssuanceError> {
    let ia5 = |v: &str| {
        rcgen::string::Ia5String::try_from(v.to_string()).map_err(|e| {
            IssuanceError::NameNotAllowed {
                name: name.to_string(),
                profile: String::new(),
                reason: e.to_string(),
            }
        })
    };
    Ok(match name {
        SubjectAltName::Dns(d) => SanType::DnsName(ia5(d)?),
        SubjectAltName::Ip(ip) => SanType::IpAddress(*ip),
        SubjectAltName::Email(e) => SanType::Rfc822Name(ia5(e)?),
        SubjectAltName::Uri(u) => SanType::URI(ia5(u)?),
        SubjectAltName::Upn(u) => SanType::OtherName((
            crate::names::UPN_OID.to_vec(),
            rcgen::OtherNameValue::Utf8String(u.clone()),
        )),
    })
}

/// The subject: owner-forced attributes where the profile says so, CSR attributes where allowed.
///
/// For TLS server profiles the CN, when kept, must be one of the SANs (Baseline
/// Requirements §7.1.4.3); a CSR CN that is not is replaced by the first DNS name.
fn subject_for(
    request: &IssuanceRequest<'_>,
    names: &[SubjectAltName],
) -> (DistinguishedName, String) {
    let profile = request.profile;
    let mut values: BTreeMap<SubjectAttribute, String> = BTreeMap::new();
    for attr in &profile.subject_from_csr {
        if let Some(v) = request.csr.subject_attribute(*attr) {
            values.insert(*attr, v.to_string());
        }
    }
    for attr in &profile.subject_from_organization {
        if let Some(v) = request.owner_subject.get(attr) {
            values.insert(*attr, v.clone());
        }
    }
    if profile.certificate_type == CertificateType::TlsServer {
        let cn_ok = values
            .get(&SubjectAttribute::CommonName)
            .is_some_and(|cn| names.iter().any(|n| n.value().eq_ignore_ascii_case(cn)));
        if !cn_ok {
            values.remove(&SubjectAttribute::CommonName);
        }
    }
    if let std::collections::btree_map::Entry::Vacant(cn) =
        values.entry(SubjectAttribute::CommonName)
    {
        // ub-common-name is 64 characters: a longer name (a URI) cannot be the CN.
        let candidate = names
            .iter()
            .find(|n| matches!(n, SubjectAltName::Dns(_) | SubjectAltName::Ip(_)))
            .or_else(|| names.first())
            .map(SubjectAltName::value)
            .filter(|v| v.len() <= 64);
        if let Some(value) = candidate {
            cn.insert(value);
        }
    }
    let mut dn = DistinguishedName::new();
    let mut text = Vec::new();
    // X.500 order, most significant first.
    for (attr, ty, key) in [
        (SubjectAttribute::Country, DnType::CountryName, "C"),
        (SubjectAttribute::State, DnType::StateOrProvinceName, "ST"),
        (SubjectAttribute::Locality, DnType::LocalityName, "L"),
        (
            SubjectAttribute::Organization,
            DnType::OrganizationName,
            "O",
        ),
        (
            SubjectAttribute::OrganizationalUnit,
            DnType::OrganizationalUnitName,
            "OU",
        ),
        (SubjectAttribute::CommonName, DnType::CommonName, "CN"),
    ] {
        if let Some(v) = values.get(&attr) {
            if attr == SubjectAttribute::Country {
                dn.push(ty, crate::authority::country_value(v));
            } else {
                dn.push(ty, v.as_str());
            }
            text.push(format!("{key}={v}"));
        }
    }
    (dn, text.join(", "))
}
