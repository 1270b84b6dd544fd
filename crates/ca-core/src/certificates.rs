//! Certificate records and their indexes in the store.
//!
//! A record and every index entry that points at it are written in one
//! atomic batch; the serial index is unique (a batch claiming a serial that
//! exists is rejected inside the transaction).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::names::SubjectAltName;
use crate::revocation::RevocationReason;
use crate::serial::Serial;
use crate::store::keys::{u64_from_key, KeyReader};
use crate::store::{
    IndexTable, KeyBuilder, KeyRange, Record, Store, StoreError, Table, WriteBatch,
};

/// The lifecycle state of an issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum CertificateStatus {
    /// Issued and not revoked (it may have expired: see `not_after`).
    Issued,
    /// Revoked.
    Revoked {
        /// Unix time of revocation.
        revoked_at: i64,
        /// Why.
        reason: RevocationReason,
        /// Free text from whoever revoked it.
        message: String,
    },
    /// Replaced by a newer certificate (still valid until it expires or is revoked).
    Replaced {
        /// The replacing certificate's id.
        by: u64,
    },
}

impl CertificateStatus {
    /// A stable code for the status index.
    pub fn code(&self) -> u8 {
        match self {
            CertificateStatus::Issued => 1,
            CertificateStatus::Revoked { .. } => 2,
            CertificateStatus::Replaced { .. } => 3,
        }
    }

    /// The status index's code of a state's name ("issued", "revoked", "replaced").
    pub fn code_of_name(name: &str) -> Option<u8> {
        match name {
            "issued" => Some(1),
            "revoked" => Some(2),
            "replaced" => Some(3),
            _ => None,
        }
    }

    /// The state's name.
    pub fn name(&self) -> &'static str {
        match self {
            CertificateStatus::Issued => "issued",
            CertificateStatus::Revoked { .. } => "revoked",
            CertificateStatus::Replaced { .. } => "replaced",
        }
    }
}

/// One issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// Numeric id, increasing.
    pub id: u64,
    /// Serial number.
    pub serial: Serial,
    /// The issuing CA's id.
    pub issuer_id: String,
    /// The profile it was issued under.
    pub profile: String,
    /// Subject, as text.
    pub subject: String,
    /// Subject alternative names.
    pub names: Vec<SubjectAltName>,
    /// Unix time, start of validity.
    pub not_before: i64,
    /// Unix time, end of validity.
    pub not_after: i64,
    /// Who asked for it (an account, an administrator, a device).
    pub requester: String,
    /// Unix time of issuance.
    pub issued_at: i64,
    /// Lifecycle state.
    pub status: CertificateStatus,
    /// The certificate, DER.
    #[serde(with = "serde_bytes")]
    pub der: Vec<u8>,
}

impl Record for CertificateRecord {
    const SCHEMA_VERSION: u16 = 1;
}

/// Why a certificate cannot vouch for its own renewal (a SCEP RenewalReq signed
/// with it, an EST simplereenroll over a TLS session authenticated by it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRenewable {
    /// Before its notBefore or after its notAfter.
    OutsideValidity,
    /// Revoked, replaced or expired.
    Status(CertificateStatus),
}

impl CertificateRecord {
    /// Whether the certificate may vouch for its own renewal at `now` (unix time):
    /// within its validity and still Issued.
    pub fn renewable_at(&self, now: i64) -> Result<(), NotRenewable> {
        if now < self.not_before || now > self.not_after {
            return Err(NotRenewable::OutsideValidity);
        }
        if self.status != CertificateStatus::Issued {
            return Err(NotRenewable::Status(self.status.clone()));
        }
        Ok(())
    }
}

/// One revoked serial of a CA, as its CRL needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedSerial {
    /// The certificate's id.
    pub id: u64,
    /// Unix time of revocation.
    pub revoked_at: i64,
    /// Why.
    pub reason: RevocationReason,
}

impl Record for RevokedSerial {
    const SCHEMA_VERSION: u16 = 1;
}

/// The serial index's value: the record id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SerialEntry {
    /// The record id.
    pub id: u64,
}

impl Record for SerialEntry {
    const SCHEMA_VERSION: u16 = 1;
}

/// The current CRL of a CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlRecord {
    /// CRL number (monotonic per CA).
    pub number: u64,
    /// Unix time.
    pub this_update: i64,
    /// Unix time.
    pub next_update: i64,
    /// DER.
    #[serde(with = "serde_bytes")]
    pub der: Vec<u8>,
}

impl Record for CrlRecord {
    const SCHEMA_VERSION: u16 = 1;
}

const CERTIFICATES: Table<CertificateRecord> = Table::new("certificates");
const BY_SERIAL: Table<SerialEntry> = Table::new("certificates_by_serial");
const BY_STATUS: IndexTable = IndexTable::new("certificates_by_status");
const BY_EXPIRY: IndexTable = IndexTable::new("certificates_by_expiry");
const BY_PROFILE: IndexTable = IndexTable::new("certificates_by_profile");
/// Which indexes added after the first release are complete (built over the records that
/// predate them): the key is the index's name, the value its version.
const INDEX_VERSIONS: Table<IndexVersion> = Table::new("certificates_index_versions");
const REVOKED_BY_CA: Table<RevokedSerial> = Table::new("revoked_by_ca");
const CRLS: Table<CrlRecord> = Table::new("crls");
/// The latest revocation time of each CA, written with every revocation: whether a CRL
/// misses a revocation (a crash between the revocation's commit and the CRL's) is then
/// one read, not a scan of every revoked serial.
const LATEST_REVOCATION: Table<LatestRevocation> = Table::new("revocations_latest_by_ca");

/// When a CA last revoked a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestRevocation {
    /// Unix time of the revocation.
    pub revoked_at: i64,
}

impl Record for LatestRevocation {
    const SCHEMA_VERSION: u16 = 1;
}

/// Typed access to certificate records.
#[derive(Debug)]
pub struct CertificateRepository {
    store: Store,
    next_id: AtomicU64,
}

fn id_key(id: u64) -> Vec<u8> {
    KeyBuilder::new().u64(id).build()
}

fn status_key(status: &CertificateStatus, id: u64) -> Vec<u8> {
    KeyBuilder::new().u8(status.code()).u64(id).build()
}

fn expiry_key(not_after: i64, id: u64) -> Vec<u8> {
    KeyBuilder::new().i64(not_after).u64(id).build()
}

fn profile_prefix(profile: &str) -> Vec<u8> {
    KeyBuilder::new().str(profile).build()
}

fn profile_key(profile: &str, id: u64) -> Vec<u8> {
    KeyBuilder::new().str(profile).u64(id).build()
}

/// The version of an index built over records that predate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexVersion {
    /// Version 1: the index holds an entry for every record.
    pub version: u16,
}

impl Record for IndexVersion {
    const SCHEMA_VERSION: u16 = 1;
}

fn revoked_key(ca: &str, serial: &Serial) -> Vec<u8> {
    KeyBuilder::new().str(ca).bytes(serial.as_bytes()).build()
}

impl CertificateRepository {
    /// Opens the repository; ids continue after the highest stored.
    pub fn open(store: Store) -> Result<Self, StoreError> {
        let last = CERTIFICATES
            .last_key(&store)?
            .and_then(|k| u64_from_key(&k))
            .unwrap_or(0);
        build_profile_index(&store)?;
        Ok(Self {
            store,
            next_id: AtomicU64::new(last + 1),
        })
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Reserves the next id.
    pub fn allocate_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Durably inserts a new record with its indexes; fails with a conflict if the serial exists.
    pub fn insert(&self, record: &CertificateRecord) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        self.insert_into(&mut batch, record)?;
        self.store.write(batch)
    }

    /// Adds a new record and its indexes to a batch (for callers that write more in the same batch).
    pub fn insert_into(
        &self,
        batch: &mut WriteBatch,
        record: &CertificateRecord,
    ) -> Result<(), StoreError> {
        let key = id_key(record.id);
        CERTIFICATES.require_absent(batch, &key);
        CERTIFICATES.put(batch, &key, record)?;
        let serial_key = record.serial.as_bytes().to_vec();
        BY_SERIAL.require_absent(batch, &serial_key);
        BY_SERIAL.put(batch, &serial_key, &SerialEntry { id: record.id })?;
        BY_STATUS.insert(batch, &status_key(&record.status, record.id));
        BY_EXPIRY.insert(batch, &expiry_key(record.not_after, record.id));
        BY_PROFILE.insert(batch, &profile_key(&record.profile, record.id));
        if let CertificateStatus::Revoked {
            revoked_at, reason, ..
        } = &record.status
        {
            REVOKED_BY_CA.put(
                batch,
                &revoked_key(&record.issuer_id, &record.serial),
                &RevokedSerial {
                    id: record.id,
                    revoked_at: *revoked_at,
                    reason: *reason,
                },
            )?;
            LATEST_REVOCATION.put(
                batch,
                record.issuer_id.as_bytes(),
                &LatestRevocation {
                    revoked_at: *revoked_at,
                },
            )?;
        }
        Ok(())
    }

    /// Adds a status change to a batch, moving the status index entry with it.
    pub fn update_status_into(
        &self,
        batch: &mut WriteBatch,
        before: &CertificateRecord,
        status: CertificateStatus,
    ) -> Result<CertificateRecord, StoreError> {
        let mut after = before.clone();
        after.status = status;
        let key = id_key(before.id);
        CERTIFICATES.require_present(batch, &key);
        // Optimistic concurrency: the change applies only if the status is still the one it
        // was read with (two revocations racing each other: the second is a conflict).
        let before_status = status_key(&before.status, before.id);
        batch.require_present(BY_STATUS.name(), before_status.clone());
        CERTIFICATES.put(batch, &key, &after)?;
        BY_STATUS.remove(batch, &before_status);
        BY_STATUS.insert(batch, &status_key(&after.status, after.id));
        if let CertificateStatus::Revoked {
            revoked_at, reason, ..
        } = &after.status
        {
            REVOKED_BY_CA.put(
                batch,
                &revoked_key(&after.issuer_id, &after.serial),
                &RevokedSerial {
                    id: after.id,
                    revoked_at: *revoked_at,
                    reason: *reason,
                },
            )?;
            LATEST_REVOCATION.put(
                batch,
                after.issuer_id.as_bytes(),
                &LatestRevocation {
                    revoked_at: *revoked_at,
                },
            )?;
        }
        Ok(after)
    }

    /// Adds the removal of a record and its indexes to a batch (external certificates only; issued ones are kept).
    pub fn delete_into(&self, batch: &mut WriteBatch, record: &CertificateRecord) {
        let key = id_key(record.id);
        CERTIFICATES.require_present(batch, &key);
        CERTIFICATES.delete(batch, &key);
        BY_SERIAL.delete(batch, record.serial.as_bytes());
        BY_STATUS.remove(batch, &status_key(&record.status, record.id));
        BY_EXPIRY.remove(batch, &expiry_key(record.not_after, record.id));
        BY_PROFILE.remove(batch, &profile_key(&record.profile, record.id));
    }

    /// A record by id.
    pub fn get(&self, id: u64) -> Result<Option<CertificateRecord>, StoreError> {
        CERTIFICATES.get(&self.store, &id_key(id))
    }

    /// A record by serial.
    pub fn by_serial(&self, serial: &Serial) -> Result<Option<CertificateRecord>, StoreError> {
        match BY_SERIAL.get(&self.store, serial.as_bytes())? {
            Some(entry) => self.get(entry.id),
            None => Ok(None),
        }
    }

    /// Records in id order, starting after `after_id`, at most `limit`.
    pub fn list(&self, after_id: u64, limit: usize) -> Result<Vec<CertificateRecord>, StoreError> {
        let range = KeyRange::starting_at(id_key(after_id.saturating_add(1)));
        Ok(CERTIFICATES
            .scan(&self.store, range, limit)?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    /// Ids with a given status (by status code), at most `limit`.
    pub fn ids_with_status(&self, status_code: u8, limit: usize) -> Result<Vec<u64>, StoreError> {
        let keys = BY_STATUS.scan_keys(
            &self.store,
            KeyBuilder::new().u8(status_code).prefix(),
            limit,
        )?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let mut r = KeyReader::new(k);
                r.u8()?;
                r.u64()
            })
            .collect())
    }

    /// Ids with a given status (by status code) greater than `after`, ascending, at most
    /// `limit`: a page of a listing by status.
    pub fn ids_with_status_after(
        &self,
        status_code: u8,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        BY_STATUS.ids_after(&self.store, &[status_code], after, limit)
    }

    /// Ids of certificates of a profile greater than `after`, ascending, at most `limit`:
    /// a page of a listing by profile.
    pub fn ids_with_profile_after(
        &self,
        profile: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        BY_PROFILE.ids_after(&self.store, &profile_prefix(profile), after, limit)
    }

    /// Ids of certificates expiring in `[from, to)` (unix times), at most `limit`.
    pub fn ids_expiring_between(
        &self,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let range = KeyRange::between(
            KeyBuilder::new().i64(from).build(),
            KeyBuilder::new().i64(to).build(),
        );
        let keys = BY_EXPIRY.scan_keys(&self.store, range, limit)?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let mut r = KeyReader::new(k);
                r.i64()?;
                r.u64()
            })
            .collect())
    }

    /// Every revoked serial of a CA, for its CRL.
    pub fn revoked_of(&self, ca_id: &str) -> Result<Vec<(Serial, RevokedSerial)>, StoreError> {
        let rows = REVOKED_BY_CA.scan(
            &self.store,
            KeyBuilder::new().str(ca_id).prefix(),
            usize::MAX,
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, entry)| {
                let mut r = KeyReader::new(&key);
                r.str()?;
                Some((Serial::from_bytes(r.bytes()?), entry))
            })
            .collect())
    }

    /// Whether a CA has revoked a certificate at or after `since` (unix time).
    ///
    /// Data directories from before the marker have none: for them this scans the
    /// CA's revoked serials once, and the next revocation writes the marker.
    pub fn revoked_since(&self, ca_id: &str, since: i64) -> Result<bool, StoreError> {
        match LATEST_REVOCATION.get(&self.store, ca_id.as_bytes())? {
            Some(latest) => Ok(latest.revoked_at >= since),
            None => Ok(self
                .revoked_of(ca_id)?
                .iter()
                .any(|(_, r)| r.revoked_at >= since)),
        }
    }

    /// The stored CRL of a CA.
    pub fn crl(&self, ca_id: &str) -> Result<Option<CrlRecord>, StoreError> {
        CRLS.get(&self.store, ca_id.as_bytes())
    }

    /// Durably stores a CA's new CRL.
    pub fn put_crl(&self, ca_id: &str, crl: &CrlRecord) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        CRLS.put(&mut batch, ca_id.as_bytes(), crl)?;
        self.store.write(batch)
    }
}

/// Fills the profile index over records stored before it existed, once: a data directory
/// from an older release opens with complete listings by profile.
fn build_profile_index(store: &Store) -> Result<(), StoreError> {
    const NAME: &[u8] = b"certificates_by_profile";
    if INDEX_VERSIONS.get(store, NAME)?.is_some() {
        return Ok(());
    }
    let mut after = 0u64;
    loop {
        let page = CERTIFICATES.scan(
            store,
            KeyRange::starting_at(id_key(after.saturating_add(1))),
            1024,
        )?;
        let Some((_, last)) = page.last() else {
            break;
        };
        after = last.id;
        let mut batch = WriteBatch::new();
        for (_, record) in &page {
            BY_PROFILE.insert(&mut batch, &profile_key(&record.profile, record.id));
        }
        store.write(batch)?;
    }
    let mut batch = WriteBatch::new();
    INDEX_VERSIONS.put(&mut batch, NAME, &IndexVersion { version: 1 })?;
    store.write(batch)
}

#[cfg(test)]
mod renewal_tests {
    use super::*;
    use crate::serial::Serial;

    fn record(status: CertificateStatus) -> CertificateRecord {
        CertificateRecord {
            id: 1,
            serial: Serial::from_bytes(&[1]),
            issuer_id: "issuing".into(),
            profile: "device".into(),
            subject: "CN=device-1".into(),
            names: Vec::new(),
            not_before: 1_000,
            not_after: 2_000,
            requester: "est".into(),
            issued_at: 1_000,
            status,
            der: Vec::new(),
        }
    }

    #[test]
    fn only_an_issued_certificate_within_its_validity_vouches_for_its_renewal() {
        let issued = record(CertificateStatus::Issued);
        assert_eq!(issued.renewable_at(1_500), Ok(()));
        assert_eq!(issued.renewable_at(999), Err(NotRenewable::OutsideValidity));
        assert_eq!(
            issued.renewable_at(2_001),
            Err(NotRenewable::OutsideValidity)
        );
        let replaced = record(CertificateStatus::Replaced { by: 2 });
        assert_eq!(
            replaced.renewable_at(1_500),
            Err(NotRenewable::Status(CertificateStatus::Replaced { by: 2 }))
        );
    }
}
