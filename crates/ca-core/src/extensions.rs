//! DER for the extensions rcgen does not model (AIA, certificate policies,
//! OCSP no-check), built with the `x509-cert` types and added to rcgen as
//! custom extensions.

use const_oid::db::rfc5280::{ID_AD_CA_ISSUERS, ID_AD_OCSP, ID_PE_AUTHORITY_INFO_ACCESS};
use const_oid::db::rfc5912::ID_CE_CERTIFICATE_POLICIES;
use const_oid::ObjectIdentifier;
use der::asn1::Ia5String;
use der::Encode;
use rcgen::CustomExtension;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax, CertificatePolicies};

/// id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1).
const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");

fn arcs(oid: &ObjectIdentifier) -> Vec<u64> {
    oid.arcs().map(u64::from).collect()
}

/// Authority Information Access with an OCSP URL and/or a CA-issuers URL.
pub fn authority_info_access(
    ocsp: Option<&str>,
    ca_issuers: Option<&str>,
) -> Result<Option<CustomExtension>, der::Error> {
    let mut descriptions = Vec::new();
    if let Some(url) = ocsp {
        descriptions.push(AccessDescription {
            access_method: ID_AD_OCSP,
            access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
        });
    }
    if let Some(url) = ca_issuers {
        descriptions.push(AccessDescription {
            access_method: ID_AD_CA_ISSUERS,
            access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url)?),
        });
    }
    if descriptions.is_empty() {
        return Ok(None);
    }
    let der = AuthorityInfoAccessSyntax(descriptions).to_der()?;
    Ok(Some(CustomExtension::from_oid_content(
        &arcs(&ID_PE_AUTHORITY_INFO_ACCESS),
        der,
    )))
}

/// Certificate policies, by dotted OID, without qualifiers.
pub fn certificate_policies(oids: &[String]) -> Result<Option<CustomExtension>, der::Error> {
    if oids.is_empty() {
        return Ok(None);
    }
    let mut policies = Vec::with_capacity(oids.len());
    for oid in oids {
        policies.push(PolicyInformation {
            policy_identifier: oid
                .parse()
                .map_err(|_| der::Error::from(der::ErrorKind::OidMalformed))?,
            policy_qualifiers: None,
        });
    }
    let der = CertificatePolicies(policies).to_der()?;
    Ok(Some(CustomExtension::from_oid_content(
        &arcs(&ID_CE_CERTIFICATE_POLICIES),
        der,
    )))
}

/// id-pkix-ocsp-nocheck, whose value is NULL.
pub fn ocsp_no_check() -> CustomExtension {
    CustomExtension::from_oid_content(&arcs(&ID_PKIX_OCSP_NOCHECK), vec![0x05, 0x00])
}

/// szOID_NTDS_CA_SECURITY_EXT: the extension Windows domain controllers read for strong mapping.
const NTDS_CA_SECURITY_EXT: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.25.2");
/// szOID_NTDS_OBJECTSID: the otherName type inside it.
const NTDS_OBJECTSID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.25.2.1");
/// The URI form in which Intune puts a device's or user's SID into a SAN.
pub const INTUNE_SID_URI_PREFIX: &str = "tag:microsoft.com,2022-09-14:sid:";

/// The strong-mapping extension for a SID (`S-1-5-21-...`): GeneralNames with one
/// otherName of type szOID_NTDS_OBJECTSID whose value is the SID as an OCTET STRING.
pub fn ntds_security(sid: &str) -> Result<CustomExtension, der::Error> {
    use x509_cert::ext::pkix::name::OtherName;
    let name = GeneralName::OtherName(OtherName {
        type_id: NTDS_OBJECTSID,
        value: der::Any::encode_from(&der::asn1::OctetString::new(sid.as_bytes())?)?,
    });
    let der = vec![name].to_der()?;
    Ok(CustomExtension::from_oid_content(
        &arcs(&NTDS_CA_SECURITY_EXT),
        der,
    ))
}

/// The SID of an Intune SID URI, if it is one and the SID looks like one (`S-` and digits).
pub fn intune_sid(uri: &str) -> Option<&str> {
    let sid = uri.strip_prefix(INTUNE_SID_URI_PREFIX)?;
    let well_formed = sid.len() <= 184
        && sid.starts_with("S-")
        && sid[2..]
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    well_formed.then_some(sid)
}
