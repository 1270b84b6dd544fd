//! What the API shows of the RA's and the CA's records: explicit view types,
//! so that nothing is serialized by accident (password hashes, sealed EAB
//! keys, CSR DER stay in the store). Names are shown as "dns:example.com",
//! times as RFC 3339, ids as plain integers.

use std::collections::BTreeMap;

use ca_core::authority::CertificationAuthority;
use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::names::SubjectAltName;
use ca_core::profile::CertificateProfile;
use ca_core::service::CaService;
use policy::audit::AuditEntry;
use policy::model::{
    Administrator, ApprovalMode, CertificateClass, Department, DomainDelegation, Endpoint,
    EndpointId, EndpointKind, LinkedCertificate, Organization, Privilege, Privileges, Role,
};
use policy::registry::{CertificateOwner, CustomField, EndpointSecret, OwnedCertificate};
use policy::request::{CertificateRequest, Channel, CustomFieldValue, RequestState, StateName};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A unix time as RFC 3339 (UTC); the raw number if it is out of the calendar's range.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn names(names: &[SubjectAltName]) -> Vec<String> {
    names.iter().map(ToString::to_string).collect()
}

/// Any serde-named enum of the lower crates as its wire word.
fn word<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// An organization.
#[derive(Debug, Serialize)]
pub struct OrganizationView {
    id: u64,
    name: String,
    address: AddressView,
    created_at: String,
}

#[derive(Debug, Serialize)]
struct AddressView {
    locality: Option<String>,
    state: Option<String>,
    country: Option<String>,
}

impl From<&Organization> for OrganizationView {
    fn from(o: &Organization) -> Self {
        Self {
            id: o.id.0,
            name: o.name.clone(),
            address: AddressView {
                locality: o.address.locality.clone(),
                state: o.address.state.clone(),
                country: o.address.country.clone(),
            },
            created_at: rfc3339(o.created_at),
        }
    }
}

/// A department.
#[derive(Debug, Serialize)]
pub struct DepartmentView {
    id: u64,
    org: u64,
    name: String,
    created_at: String,
}

impl From<&Department> for DepartmentView {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.0,
            org: d.org.0,
            name: d.name.clone(),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// A domain delegation.
#[derive(Debug, Serialize)]
pub struct DomainView {
    id: u64,
    name: String,
    org: u64,
    dept: Option<u64>,
    created_at: String,
}

impl From<&DomainDelegation> for DomainView {
    fn from(d: &DomainDelegation) -> Self {
        Self {
            id: d.id.0,
            name: d.name.to_string(),
            org: d.org.0,
            dept: d.dept.map(|x| x.0),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// An administrator (never its password hash).
#[derive(Debug, Serialize)]
pub struct AdminView {
    id: u64,
    username: String,
    role: &'static str,
    orgs: Vec<u64>,
    depts: Vec<u64>,
    privileges: BTreeMap<String, Vec<String>>,
    active: bool,
    created_at: String,
    /// The TLS client certificates linked to them; safe to show, as a certificate and its
    /// fingerprint are public (the key that makes it a credential stays with its holder).
    client_certificates: Vec<LinkedCertificateView>,
    /// Their identity at the SAML identity provider, if linked.
    idp_identity: Option<String>,
    /// Whether their password signs them in.
    password_login: bool,
}

/// A TLS client certificate linked to an administrator.
#[derive(Debug, Serialize)]
pub struct LinkedCertificateView {
    sha256: String,
    subject: String,
    not_after: String,
}

impl From<&LinkedCertificate> for LinkedCertificateView {
    fn from(c: &LinkedCertificate) -> Self {
        Self {
            sha256: c.sha256.clone(),
            subject: c.subject.clone(),
            not_after: rfc3339(c.not_after),
        }
    }
}

fn privileges_view(p: &Privileges) -> BTreeMap<String, Vec<String>> {
    p.0.iter()
        .map(|(class, set): (&CertificateClass, _)| {
            (
                word(class),
                set.iter().map(|p: &Privilege| word(p)).collect(),
            )
        })
        .collect()
}

impl From<&Administrator> for AdminView {
    fn from(a: &Administrator) -> Self {
        let (orgs, depts) = match &a.role {
            Role::Mrao => (Vec::new(), Vec::new()),
            Role::Rao { orgs } => (orgs.iter().map(|o| o.0).collect(), Vec::new()),
            Role::Drao { depts } => (Vec::new(), depts.iter().map(|d| d.0).collect()),
        };
        // An MRAO holds every privilege whatever its record says; show what applies.
        let privileges = if a.role == Role::Mrao {
            privileges_view(&Privileges::all())
        } else {
            privileges_view(&a.privileges)
        };
        Self {
            id: a.id.0,
            username: a.username.clone(),
            role: a.role.name(),
            orgs,
            depts,
            privileges,
            active: a.active,
            created_at: rfc3339(a.created_at),
            client_certificates: a
                .client_certificates
                .iter()
                .map(LinkedCertificateView::from)
                .collect(),
            idp_identity: a.idp_identity.clone(),
            password_login: a.password_login,
        }
    }
}

/// The SAML identity provider (its certificates as fingerprints and subjects).
#[derive(Debug, Serialize)]
pub struct SsoIdentityProviderView {
    entity_id: String,
    sso_url: String,
    certificates: Vec<LinkedCertificateView>,
    imported_at: String,
    imported_by: String,
}

impl From<&policy::registry::SsoIdentityProvider> for SsoIdentityProviderView {
    fn from(idp: &policy::registry::SsoIdentityProvider) -> Self {
        Self {
            entity_id: idp.entity_id.clone(),
            sso_url: idp.sso_url.clone(),
            certificates: idp
                .certificates
                .iter()
                .map(|c| LinkedCertificateView {
                    sha256: c.sha256.clone(),
                    subject: c.subject.clone(),
                    not_after: rfc3339(c.not_after),
                })
                .collect(),
            imported_at: rfc3339(idp.imported_at),
            imported_by: idp.imported_by.clone(),
        }
    }
}

/// An administrator template of just-in-time provisioning.
#[derive(Debug, Serialize)]
pub struct AdminTemplateView {
    id: u64,
    name: String,
    attribute: String,
    value: String,
    role: &'static str,
    orgs: Vec<u64>,
    depts: Vec<u64>,
    privileges: BTreeMap<String, Vec<String>>,
    created_at: String,
}

impl From<&policy::registry::AdminTemplate> for AdminTemplateView {
    fn from(t: &policy::registry::AdminTemplate) -> Self {
        let (orgs, depts) = match &t.role {
            Role::Mrao => (Vec::new(), Vec::new()),
            Role::Rao { orgs } => (orgs.iter().map(|o| o.0).collect(), Vec::new()),
            Role::Drao { depts } => (Vec::new(), depts.iter().map(|d| d.0).collect()),
        };
        let privileges = if t.role == Role::Mrao {
            privileges_view(&Privileges::all())
        } else {
            privileges_view(&t.privileges)
        };
        Self {
            id: t.id,
            name: t.name.clone(),
            attribute: t.attribute.clone(),
            value: t.value.clone(),
            role: t.role.name(),
            orgs,
            depts,
            privileges,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// An enrollment endpoint (never its hashed secrets or sealed EAB keys).
#[derive(Debug, Serialize)]
pub struct EndpointView {
    id: u64,
    name: String,
    kind: &'static str,
    org: u64,
    dept: Option<u64>,
    profile: String,
    default_term_days: Option<u32>,
    approval: &'static str,
    active: bool,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    eab_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    eab_keys: Option<Vec<EabKeyView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    est_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    est_username: Option<String>,
    /// SCEP: the webhook's URL (never its key), null where the challenges apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    scep_webhook_url: Option<Option<String>>,
    /// Intune: the Entra ID application, never its secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    intune: Option<IntuneView>,
}

#[derive(Debug, Serialize)]
struct IntuneView {
    tenant: String,
    application_id: String,
    login_url: String,
    graph_url: String,
    intune_resource: String,
}

#[derive(Debug, Serialize)]
struct EabKeyView {
    key_id: String,
    bound_account: Option<String>,
    created_at: String,
}

impl From<&Endpoint> for EndpointView {
    fn from(e: &Endpoint) -> Self {
        let mut view = Self {
            id: e.id.0,
            name: e.name.clone(),
            kind: e.kind.name(),
            org: e.org.0,
            dept: e.dept.map(|d| d.0),
            profile: e.profile.clone(),
            default_term_days: e.default_term_days,
            approval: match e.approval {
                ApprovalMode::Auto => "auto",
                ApprovalMode::Queue => "queue",
            },
            active: e.active,
            created_at: rfc3339(e.created_at),
            eab_required: None,
            eab_keys: None,
            est_label: None,
            est_username: None,
            scep_webhook_url: None,
            intune: None,
        };
        match &e.kind {
            EndpointKind::Acme {
                eab_required,
                eab_keys,
            } => {
                view.eab_required = Some(*eab_required);
                view.eab_keys = Some(
                    eab_keys
                        .iter()
                        .map(|k| EabKeyView {
                            key_id: k.key_id.clone(),
                            bound_account: k.bound_account.clone(),
                            created_at: rfc3339(k.created_at),
                        })
                        .collect(),
                );
            }
            EndpointKind::Est {
                label, username, ..
            } => {
                view.est_label = Some(label.clone());
                view.est_username = Some(username.clone());
            }
            EndpointKind::Scep { webhook, .. } => {
                view.scep_webhook_url = Some(webhook.as_ref().map(|w| w.url.clone()));
            }
            EndpointKind::Intune { application } => {
                view.intune = Some(IntuneView {
                    tenant: application.tenant.clone(),
                    application_id: application.application_id.clone(),
                    login_url: application.cloud.login_url.clone(),
                    graph_url: application.cloud.graph_url.clone(),
                    intune_resource: application.cloud.intune_resource.clone(),
                });
            }
            EndpointKind::Rest => {}
        }
        view
    }
}

/// A newly created endpoint with its one-time secret.
#[derive(Debug, Serialize)]
pub struct EndpointCreatedView {
    #[serde(flatten)]
    endpoint: EndpointView,
    #[serde(skip_serializing_if = "Option::is_none")]
    scep_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    est_password: Option<String>,
}

impl EndpointCreatedView {
    /// The endpoint and the secret the RA generated for it (shown here and never again).
    pub fn new(endpoint: &Endpoint, secret: &EndpointSecret) -> Self {
        let (scep_challenge, est_password) = match secret {
            EndpointSecret::None => (None, None),
            EndpointSecret::ScepChallenge(c) => (Some(c.to_string()), None),
            EndpointSecret::EstPassword(p) => (None, Some(p.to_string())),
        };
        Self {
            endpoint: endpoint.into(),
            scep_challenge,
            est_password,
        }
    }
}

/// A newly minted SCEP one-time challenge (shown here and never again).
#[derive(Debug, Serialize)]
pub struct ScepChallengeView {
    endpoint: u64,
    challenge: String,
    expires_at: String,
}

impl ScepChallengeView {
    /// The challenge the RA minted for an endpoint and its expiry (unix time).
    pub fn new(endpoint: EndpointId, challenge: &str, expires_at: i64) -> Self {
        Self {
            endpoint: endpoint.0,
            challenge: challenge.to_string(),
            expires_at: rfc3339(expires_at),
        }
    }
}

/// One transition of a request.
#[derive(Debug, Serialize)]
struct TransitionView {
    from: Option<&'static str>,
    to: &'static str,
    actor: String,
    at: String,
    reason: String,
}

/// A certificate request (never its CSR DER).
#[derive(Debug, Serialize)]
pub struct RequestView {
    id: u64,
    status: &'static str,
    org: u64,
    dept: Option<u64>,
    profile: String,
    names: Vec<String>,
    term_days: Option<u32>,
    requester: String,
    channel: &'static str,
    endpoint: Option<u64>,
    renewal_of: Option<u64>,
    replaces: bool,
    certificate: Option<u64>,
    replaced_by: Option<u64>,
    /// The reason of the last transition (why it is Invalid, Declined, Rejected).
    reason: String,
    history: Vec<TransitionView>,
    created_at: String,
    comments: String,
    external_requester: String,
    /// The custom fields' values, named as defined when the request was made.
    custom_fields: Vec<CustomFieldValueView>,
}

/// One custom field's value on a request.
#[derive(Debug, Serialize)]
struct CustomFieldValueView {
    name: String,
    value: String,
}

impl From<&CustomFieldValue> for CustomFieldValueView {
    fn from(v: &CustomFieldValue) -> Self {
        Self {
            name: v.name.clone(),
            value: v.value.clone(),
        }
    }
}

fn channel(c: Channel) -> &'static str {
    match c {
        Channel::Acme => "acme",
        Channel::Scep => "scep",
        Channel::Est => "est",
        Channel::Rest => "rest",
        Channel::Cli => "cli",
        Channel::ScmApi => "scm-api",
        Channel::Import => "import",
    }
}

impl From<&CertificateRequest> for RequestView {
    fn from(r: &CertificateRequest) -> Self {
        Self {
            id: r.id.0,
            status: r.state.name().as_str(),
            org: r.org.0,
            dept: r.dept.map(|d| d.0),
            profile: r.profile.clone(),
            names: names(&r.names),
            term_days: r.term_days,
            requester: r.requester.clone(),
            channel: channel(r.channel),
            endpoint: r.endpoint.map(|e| e.0),
            renewal_of: r.renewal_of,
            replaces: r.replaces,
            certificate: r.state.certificate(),
            replaced_by: match r.state {
                RequestState::Replaced { by, .. } => Some(by),
                _ => None,
            },
            reason: r
                .history
                .last()
                .map(|t| t.reason.clone())
                .unwrap_or_default(),
            history: r
                .history
                .iter()
                .map(|t| TransitionView {
                    from: t.from.map(StateName::as_str),
                    to: t.to.as_str(),
                    actor: t.actor.clone(),
                    at: rfc3339(t.at),
                    reason: t.reason.clone(),
                })
                .collect(),
            created_at: rfc3339(r.created_at),
            comments: r.annotations.comments.clone(),
            external_requester: r.annotations.external_requester.clone(),
            custom_fields: r
                .annotations
                .custom_fields
                .iter()
                .map(CustomFieldValueView::from)
                .collect(),
        }
    }
}

/// A custom field defined for a class of certificates.
#[derive(Debug, Serialize)]
pub struct CustomFieldView {
    id: u64,
    class: String,
    name: String,
    mandatory: bool,
    created_at: String,
}

impl From<&CustomField> for CustomFieldView {
    fn from(f: &CustomField) -> Self {
        Self {
            id: f.id,
            class: word(&f.class),
            name: f.name.clone(),
            mandatory: f.mandatory,
            created_at: rfc3339(f.created_at),
        }
    }
}

/// A certificate with its owner.
#[derive(Debug, Serialize)]
pub struct CertificateView {
    id: u64,
    serial: String,
    status: &'static str,
    subject: String,
    names: Vec<String>,
    profile: String,
    issuer: String,
    not_before: String,
    not_after: String,
    requester: String,
    issued_at: String,
    org: u64,
    dept: Option<u64>,
    request: Option<u64>,
    external: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replaced_by: Option<u64>,
    /// Only in the details of one certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pem: Option<String>,
}

impl CertificateView {
    /// The list view of a record and its owner.
    pub fn new(record: &CertificateRecord, owner: &CertificateOwner) -> Self {
        let (revoked_at, revocation_reason, revocation_message, replaced_by) = match &record.status
        {
            CertificateStatus::Issued => (None, None, None, None),
            CertificateStatus::Revoked {
                revoked_at,
                reason,
                message,
            } => (
                Some(rfc3339(*revoked_at)),
                Some(reason.as_str()),
                Some(message.clone()),
                None,
            ),
            CertificateStatus::Replaced { by } => (None, None, None, Some(*by)),
        };
        Self {
            id: record.id,
            serial: record.serial.to_hex(),
            status: record.status.name(),
            subject: record.subject.clone(),
            names: names(&record.names),
            profile: record.profile.clone(),
            issuer: record.issuer_id.clone(),
            not_before: rfc3339(record.not_before),
            not_after: rfc3339(record.not_after),
            requester: record.requester.clone(),
            issued_at: rfc3339(record.issued_at),
            org: owner.org.0,
            dept: owner.dept.map(|d| d.0),
            request: owner.request.map(|r| r.0),
            external: owner.external,
            revoked_at,
            revocation_reason,
            revocation_message,
            replaced_by,
            pem: None,
        }
    }

    /// The details view: the list view and the certificate's PEM.
    pub fn details(owned: &OwnedCertificate) -> Self {
        Self {
            pem: Some(ca_core::encoding::pem("CERTIFICATE", &owned.record.der)),
            ..Self::new(&owned.record, &owned.owner)
        }
    }
}

impl From<&OwnedCertificate> for CertificateView {
    fn from(c: &OwnedCertificate) -> Self {
        Self::new(&c.record, &c.owner)
    }
}

/// A certificate profile (read-only configuration of ca-core).
#[derive(Debug, Serialize)]
pub struct ProfileView {
    name: String,
    description: String,
    certificate_type: String,
    issuer: String,
    key_types: Vec<&'static str>,
    terms_days: Vec<u32>,
    default_term_days: u32,
    max_term_days: u32,
    key_usage: Vec<String>,
    extended_key_usage: Vec<serde_json::Value>,
    san_types: Vec<String>,
    allow_wildcards: bool,
    max_sans: usize,
    require_san: bool,
    subject_from_csr: Vec<String>,
    subject_from_organization: Vec<String>,
}

impl ProfileView {
    /// A profile, with its issuer resolved to the CA that signs for it.
    pub fn new(profile: &CertificateProfile, ca: &CaService) -> Self {
        Self {
            name: profile.name.clone(),
            description: profile.description.clone(),
            certificate_type: word(&profile.certificate_type),
            issuer: profile
                .issuer
                .clone()
                .unwrap_or_else(|| ca.default_issuer().to_string()),
            key_types: profile.key_types.iter().map(|k| k.as_str()).collect(),
            terms_days: profile.terms_days.clone(),
            default_term_days: profile.default_term_days,
            max_term_days: profile.max_term_days(),
            key_usage: profile.key_usage.iter().map(word).collect(),
            extended_key_usage: profile
                .extended_key_usage
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .collect(),
            san_types: profile.san_types.iter().map(ToString::to_string).collect(),
            allow_wildcards: profile.allow_wildcards,
            max_sans: profile.max_sans,
            require_san: profile.require_san,
            subject_from_csr: profile.subject_from_csr.iter().map(word).collect(),
            subject_from_organization: profile.subject_from_organization.iter().map(word).collect(),
        }
    }
}

/// A certificate authority.
#[derive(Debug, Serialize)]
pub struct CaView {
    id: String,
    subject: String,
    role: String,
    parent: Option<String>,
    key_type: &'static str,
    not_before: String,
    not_after: String,
    can_issue: bool,
    default_issuer: bool,
    certificate_url: String,
    crl_url: String,
    certificate_pem: String,
}

impl CaView {
    /// A loaded CA as the service publishes it.
    pub fn new(ca: &CertificationAuthority, service: &CaService) -> Self {
        let meta = ca.metadata();
        let urls = service.urls();
        Self {
            id: ca.id().to_string(),
            subject: ca.subject_text().to_string(),
            role: word(&meta.role),
            parent: meta.parent.clone(),
            key_type: meta.key_algorithm.as_str(),
            not_before: rfc3339(ca.not_before().unix_timestamp()),
            not_after: rfc3339(ca.not_after().unix_timestamp()),
            can_issue: ca.signer().is_some(),
            default_issuer: ca.id() == service.default_issuer(),
            certificate_url: urls.ca_certificate(ca.id()),
            crl_url: urls.crl(ca.id()),
            certificate_pem: ca_core::encoding::pem("CERTIFICATE", ca.certificate_der()),
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize)]
pub struct AuditEntryView {
    seq: u64,
    at: String,
    actor: String,
    action: String,
    object: String,
    outcome: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl From<&AuditEntry> for AuditEntryView {
    fn from(e: &AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor.clone(),
            action: e.action.clone(),
            object: e.object.clone(),
            outcome: word(&e.outcome),
            detail: e.detail.clone(),
            prev_hash: e.prev_hash.clone(),
            hash: e.hash.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(i64::MAX), i64::MAX.to_string());
    }
}
