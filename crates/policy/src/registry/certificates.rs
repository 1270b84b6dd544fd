//! The certificate lifecycle: who owns a certificate, showing and listing
//! certificates, revocation, renewal and replacement, importing and deleting
//! externally managed certificates, download records, and the expiry sweep.

use ca_core::certificates::CertificateRecord;
use ca_core::certificates::IndexVersion;
use ca_core::revocation::RevocationReason;
use ca_core::service::CaServiceError;
use ca_core::store::{
    IndexTable, KeyBuilder, KeyRange, Record, Store, StoreError, Table, WriteBatch,
};
use serde::{Deserialize, Serialize};

use super::{
    check_message, id_key, now, RaError, RaResult, RegistrationAuthority, Requester, Submission,
};
use super::{OWNERS, REQUESTS};
use crate::audit::AuditEvent;
use crate::authz::{authorize, Action};
use crate::model::*;
use crate::request::{CertificateRequest, Channel, RequestState, StateName};

/// Ownership of a certificate (issued here or imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOwner {
    /// The organization.
    pub org: OrgId,
    /// The department.
    pub dept: Option<DeptId>,
    /// The request it was issued for; for an imported one, its import record (None on
    /// imports from before import records).
    pub request: Option<RequestId>,
    /// Imported from outside (externally managed).
    pub external: bool,
}

impl Record for CertificateOwner {
    const SCHEMA_VERSION: u16 = 1;
}

/// Certificates by organization: `(org, certificate id)`, written in the batch that writes
/// the owner, so listings of an organization read a page of keys, not every certificate.
pub(super) const CERTIFICATES_BY_ORG: IndexTable = IndexTable::new("ra_certificates_by_org");
/// Certificates by department: `(dept, certificate id)`, for owners with a department.
pub(super) const CERTIFICATES_BY_DEPT: IndexTable = IndexTable::new("ra_certificates_by_dept");
/// Which owner indexes are complete over owners that predate them (see
/// [`build_owner_indexes`]).
const INDEX_VERSIONS: Table<IndexVersion> = Table::new("ra_index_versions");

/// The key prefix of an organization's entries in [`CERTIFICATES_BY_ORG`].
pub(super) fn org_prefix(org: OrgId) -> Vec<u8> {
    KeyBuilder::new().u64(org.0).build()
}

/// The key prefix of a department's entries in [`CERTIFICATES_BY_DEPT`].
pub(super) fn dept_prefix(dept: DeptId) -> Vec<u8> {
    KeyBuilder::new().u64(dept.0).build()
}

impl CertificateOwner {
    /// Adds this owner of certificate `certificate` and its organization and department
    /// index entries to a batch: the one way an owner is written, so the indexes always
    /// hold what the owners say. Commit it in the batch that stores the certificate.
    pub fn write_into(&self, batch: &mut WriteBatch, certificate: u64) -> Result<(), StoreError> {
        OWNERS.put(batch, &id_key(certificate), self)?;
        index_owner_into(batch, certificate, self);
        Ok(())
    }
}

fn index_owner_into(batch: &mut WriteBatch, certificate: u64, owner: &CertificateOwner) {
    let mut key = org_prefix(owner.org);
    key.extend_from_slice(&certificate.to_be_bytes());
    CERTIFICATES_BY_ORG.insert(batch, &key);
    if let Some(dept) = owner.dept {
        let mut key = dept_prefix(dept);
        key.extend_from_slice(&certificate.to_be_bytes());
        CERTIFICATES_BY_DEPT.insert(batch, &key);
    }
}

/// Adds the removal of a certificate's owner and its index entries to a batch.
pub(super) fn owner_removed_into(
    batch: &mut WriteBatch,
    certificate: u64,
    owner: &CertificateOwner,
) {
    OWNERS.delete(batch, &id_key(certificate));
    let mut key = org_prefix(owner.org);
    key.extend_from_slice(&certificate.to_be_bytes());
    CERTIFICATES_BY_ORG.remove(batch, &key);
    if let Some(dept) = owner.dept {
        let mut key = dept_prefix(dept);
        key.extend_from_slice(&certificate.to_be_bytes());
        CERTIFICATES_BY_DEPT.remove(batch, &key);
    }
}

/// Fills the organization and department indexes over owners stored before they existed,
/// once: a data directory from an older release opens with complete listings.
pub(super) fn build_owner_indexes(store: &Store) -> Result<(), StoreError> {
    const NAME: &[u8] = b"ra_certificates_by_org_and_dept";
    if INDEX_VERSIONS.get(store, NAME)?.is_some() {
        return Ok(());
    }
    let mut after = 0u64;
    loop {
        let page = OWNERS.scan(
            store,
            KeyRange::starting_at(id_key(after.saturating_add(1))),
            4096,
        )?;
        let Some(last) = page
            .last()
            .and_then(|(key, _)| ca_core::store::keys::u64_from_key(key))
        else {
            break;
        };
        after = last;
        let mut batch = WriteBatch::new();
        for (key, owner) in &page {
            if let Some(id) = ca_core::store::keys::u64_from_key(key) {
                index_owner_into(&mut batch, id, owner);
            }
        }
        store.write(batch)?;
    }
    let mut batch = WriteBatch::new();
    INDEX_VERSIONS.put(&mut batch, NAME, &IndexVersion { version: 1 })?;
    store.write(batch)
}

/// How far the expiry sweep has gone, kept so that a restart resumes where the last
/// sweep stopped instead of re-reading every certificate that ever expired.
const SWEEP_PROGRESS: Table<SweptUntil> = Table::new("ra_expiry_sweep");

/// The time up to which expired certificates have been swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SweptUntil {
    /// Unix time: every certificate expiring before it has been swept.
    pub at: i64,
}

impl Record for SweptUntil {
    const SCHEMA_VERSION: u16 = 1;
}

/// Where the last expiry sweep stopped (`i64::MIN` before the first).
pub(super) fn swept_until(store: &Store) -> Result<i64, StoreError> {
    Ok(SWEEP_PROGRESS
        .get(store, b"expiry")?
        .map_or(i64::MIN, |s| s.at))
}

/// Filters for listing certificates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateFilter {
    /// Only this status ("issued", "revoked", "replaced").
    pub status: Option<String>,
    /// Only this organization.
    pub org: Option<OrgId>,
    /// Only this profile.
    pub profile: Option<String>,
    /// Only certificates expiring before this unix time.
    pub expires_before: Option<i64>,
    /// Only names or subjects containing this text.
    pub name: Option<String>,
    /// Only this department.
    #[serde(default)]
    pub dept: Option<DeptId>,
    /// Only certificates of this issuing CA (its id).
    #[serde(default)]
    pub issuer: Option<String>,
    /// Only serial numbers containing these hex digits (case and colons ignored).
    #[serde(default)]
    pub serial: Option<String>,
    /// Only certificates expiring at or after this unix time.
    #[serde(default)]
    pub expires_after: Option<i64>,
    /// Only certificates of one of these profiles (a certificate class's).
    #[serde(default)]
    pub profiles: Option<Vec<String>>,
}

impl CertificateFilter {
    /// Whether a certificate and its owner pass every filter that is set.
    pub fn matches(&self, record: &CertificateRecord, owner: &CertificateOwner) -> bool {
        let needle = self.name.as_ref().map(|n| n.to_ascii_lowercase());
        let serial = self.serial.as_ref().map(|s| {
            s.chars()
                .filter(char::is_ascii_hexdigit)
                .collect::<String>()
                .to_ascii_lowercase()
        });
        self.status
            .as_ref()
            .is_none_or(|s| record.status.name() == s)
            && self.org.is_none_or(|o| owner.org == o)
            && self.dept.is_none_or(|d| owner.dept == Some(d))
            && self.profile.as_ref().is_none_or(|p| &record.profile == p)
            && self
                .profiles
                .as_ref()
                .is_none_or(|ps| ps.iter().any(|p| p == &record.profile))
            && self.issuer.as_ref().is_none_or(|i| &record.issuer_id == i)
            && self.expires_before.is_none_or(|t| record.not_after < t)
            && self.expires_after.is_none_or(|t| record.not_after >= t)
            && serial.as_ref().is_none_or(|s| {
                record
                    .serial
                    .to_hex()
                    .to_ascii_lowercase()
                    .contains(s.as_str())
            })
            && needle.as_ref().is_none_or(|n| {
                record.subject.to_ascii_lowercase().contains(n)
                    || record.names.iter().any(|x| x.value().contains(n.as_str()))
            })
    }
}

/// A certificate with its owner, as the API shows it.
#[derive(Debug, Clone)]
pub struct OwnedCertificate {
    /// The record.
    pub record: CertificateRecord,
    /// Its owner.
    pub owner: CertificateOwner,
}

impl RegistrationAuthority {
    /// Who owns a certificate.
    pub fn certificate_owner(&self, id: u64) -> RaResult<CertificateOwner> {
        OWNERS
            .get(&self.store, &id_key(id))?
            .ok_or_else(|| RaError::NotFound(format!("certificate:{id}")))
    }

    /// A certificate with its owner, if visible to the actor.
    pub fn certificate(&self, actor: &Administrator, id: u64) -> RaResult<OwnedCertificate> {
        let owner = self.certificate_owner(id)?;
        if authorize(
            actor,
            Action::View,
            Scope {
                org: owner.org,
                dept: owner.dept,
            },
        )
        .is_err()
        {
            return Err(RaError::NotFound(format!("certificate:{id}")));
        }
        let record = self
            .ca
            .certificates()
            .get(id)?
            .ok_or_else(|| RaError::NotFound(format!("certificate:{id}")))?;
        Ok(OwnedCertificate { record, owner })
    }

    /// The certificate with a serial number, if visible to the actor.
    pub fn certificate_by_serial(
        &self,
        actor: &Administrator,
        serial: &ca_core::serial::Serial,
    ) -> RaResult<OwnedCertificate> {
        let record = self
            .ca
            .certificates()
            .by_serial(serial)?
            .ok_or_else(|| RaError::NotFound(format!("serial {}", serial.to_hex())))?;
        self.certificate(actor, record.id)
            .map_err(|_| RaError::NotFound(format!("serial {}", serial.to_hex())))
    }

    /// Revokes a certificate with a reason and a message.
    pub fn revoke(
        &self,
        actor: &Administrator,
        id: u64,
        reason: RevocationReason,
        message: &str,
    ) -> RaResult<CertificateRecord> {
        check_message(message)?;
        let owned = self.certificate(actor, id)?;
        if owned.owner.external {
            return Err(RaError::InvalidInput(
                "an externally managed certificate cannot be revoked here".into(),
            ));
        }
        let class = CertificateClass::of(self.profile(&owned.record.profile)?.certificate_type);
        self.require(
            actor,
            Action::RevokeCertificate(class),
            Scope {
                org: owned.owner.org,
                dept: owned.owner.dept,
            },
            "certificate.revoke",
            &format!("certificate:{id}"),
        )?;
        self.revoke_internal(&actor.username, id, owned.owner.request, reason, message)
    }

    /// Revokes without an administrator (ACME revokeCert by account or certificate key).
    pub fn revoke_internal(
        &self,
        actor: &str,
        id: u64,
        request: Option<RequestId>,
        reason: RevocationReason,
        message: &str,
    ) -> RaResult<CertificateRecord> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let record = self
            .ca
            .certificates()
            .get(id)?
            .ok_or_else(|| RaError::NotFound(format!("certificate:{id}")))?;
        // The certificate's new status, its request's transition and the audit entry
        // commit together: a crash cannot leave a revoked certificate with an Issued request.
        let prepared = self
            .ca
            .prepare_revocation(&record.serial, reason, message)?;
        let revoked = prepared.record;
        let mut batch = prepared.batch;
        if let Some(request_id) = request {
            if let Some(mut r) = REQUESTS.get(&self.store, &id_key(request_id.0))? {
                if r.state.name() == StateName::Issued {
                    r.transition(
                        RequestState::Revoked { certificate: id },
                        actor,
                        now(),
                        &format!("{reason}: {message}"),
                    )?;
                    REQUESTS.put(&mut batch, &id_key(r.id.0), &r)?;
                }
            }
        }
        let event = AuditEvent::success(
            actor,
            "certificate.revoke",
            &format!("certificate:{id}"),
            format!("{reason}: {message}"),
        );
        self.audit.commit_with(batch, event).map_err(|e| match e {
            // Its status changed since it was read: another revocation won.
            StoreError::Conflict { .. } => {
                RaError::Ca(CaServiceError::AlreadyRevoked(record.serial.to_hex()))
            }
            other => RaError::Store(other),
        })?;
        self.ca.revocation_committed(&revoked)?;
        Ok(revoked)
    }

    /// Renews a certificate: same key (the stored CSR) or a new CSR; the old one stays valid.
    pub fn renew(
        &self,
        actor: &Administrator,
        id: u64,
        csr: Option<Vec<u8>>,
        replace: bool,
    ) -> RaResult<CertificateRequest> {
        let owned = self.certificate(actor, id)?;
        if owned.owner.external {
            return Err(RaError::InvalidInput(
                "an externally managed certificate cannot be renewed here".into(),
            ));
        }
        let original = match owned.owner.request {
            Some(r) => Some(self.request_internal(r)?),
            None => None,
        };
        // With the stored CSR, the renewal asks for what the original asked for (names given
        // beside the CSR, such as an S/MIME address, included); a new CSR asks for its own.
        let names = match (&csr, &original) {
            (None, Some(original)) => Some(original.names.clone()),
            _ => None,
        };
        let csr = match (csr, &original) {
            (Some(csr), _) => csr,
            (None, Some(original)) => original.csr_der.clone(),
            (None, None) => {
                return Err(RaError::InvalidInput(
                    "no stored CSR; give a new one".into(),
                ))
            }
        };
        if replace && original.is_none() {
            return Err(RaError::InvalidInput("nothing to replace".into()));
        }
        self.submit(
            Requester::Admin(actor),
            Submission {
                csr,
                profile: owned.record.profile.clone(),
                org: owned.owner.org,
                dept: owned.owner.dept,
                term_days: original.as_ref().and_then(|o| o.term_days),
                names,
                channel: Channel::Rest,
                renewal_of: Some(id),
                replaces: replace,
                annotations: original
                    .as_ref()
                    .map(|o| o.annotations.clone())
                    .unwrap_or_default(),
            },
        )
    }

    /// Records that a certificate was downloaded.
    pub fn record_download(&self, actor: &Administrator, id: u64, format: &str) -> RaResult<()> {
        self.audit.record(AuditEvent::success(
            &actor.username,
            "certificate.download",
            &format!("certificate:{id}"),
            format,
        ))?;
        Ok(())
    }

    /// Marks the requests of expired certificates Expired; returns how many.
    pub fn sweep_expired(&self, at: i64) -> RaResult<usize> {
        // Only what expired since the last sweep (everything, after a restart): the expiry
        // index is ordered, so this reads keys, not records, and has no cap to outgrow.
        let from = *self.swept_until.lock().unwrap_or_else(|e| e.into_inner());
        let ids = self
            .ca
            .certificates()
            .ids_expiring_between(from, at, usize::MAX)?;
        let mut count = 0;
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            let Some(owner) = OWNERS.get(&self.store, &id_key(id))? else {
                continue;
            };
            let Some(request_id) = owner.request else {
                continue;
            };
            let Some(mut request) = REQUESTS.get(&self.store, &id_key(request_id.0))? else {
                continue;
            };
            if request.state.name() == StateName::Issued {
                request.transition(RequestState::Expired { certificate: id }, "system", at, "")?;
                let mut batch = WriteBatch::new();
                REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
                self.commit(
                    batch,
                    AuditEvent::success(
                        "system",
                        "certificate.expire",
                        &format!("certificate:{id}"),
                        "",
                    ),
                    "request",
                )?;
                count += 1;
            }
        }
        let mut batch = WriteBatch::new();
        SWEEP_PROGRESS.put(&mut batch, b"expiry", &SweptUntil { at })?;
        self.store.write(batch)?;
        *self.swept_until.lock().unwrap_or_else(|e| e.into_inner()) = at;
        Ok(count)
    }
}
