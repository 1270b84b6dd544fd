//! The typed layer: records, tables of records and index tables.
//!
//! A stored value is a 2-byte big-endian schema version followed by the
//! record in CBOR. CBOR (ciborium) because it is compact, self-describing
//! (a field added with `#[serde(default)]` reads old values unchanged) and
//! has a stable specification, unlike a Rust-specific format. The version
//! is read before the body: a value from a newer build is refused instead of
//! half-understood, and a later migration can dispatch on older versions.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Entries, KeyRange, Store, StoreError, WriteBatch};

/// A type stored as the value of a [`Table`].
///
/// Bump `SCHEMA_VERSION` whenever a change would make an older build misread
/// the new encoding (a renamed or retyped field, a new enum variant).
pub trait Record: Serialize + DeserializeOwned {
    /// The version written with every value of this type.
    const SCHEMA_VERSION: u16;
}

/// Encode `record` for `table`: version prefix, then CBOR.
pub fn encode<R: Record>(table: &'static str, record: &R) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(&R::SCHEMA_VERSION.to_be_bytes());
    ciborium::into_writer(record, &mut out).map_err(|err| StoreError::Codec {
        table,
        reason: format!("encode: {err}"),
    })?;
    Ok(out)
}

/// The schema version a stored value was written with, or `None` if the
/// value is too short to carry one.
pub fn schema_version(value: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(value.get(..2)?.try_into().ok()?))
}

/// Decode a value of `table` written by [`encode`].
///
/// Values of the current or an older version decode the same way for now;
/// a newer version is [`StoreError::SchemaVersion`].
pub fn decode<R: Record>(table: &'static str, value: &[u8]) -> Result<R, StoreError> {
    let codec_err = |reason: String| StoreError::Codec { table, reason };
    let found = schema_version(value)
        .ok_or_else(|| codec_err(format!("value of {} bytes has no version", value.len())))?;
    if found > R::SCHEMA_VERSION {
        return Err(StoreError::SchemaVersion {
            table,
            found,
            supported: R::SCHEMA_VERSION,
        });
    }
    let mut body = &value[2..];
    let record =
        ciborium::from_reader(&mut body).map_err(|err| codec_err(format!("decode: {err}")))?;
    // Bytes after the CBOR item mean the value is not what we wrote.
    if !body.is_empty() {
        return Err(codec_err(format!("{} trailing bytes", body.len())));
    }
    Ok(record)
}

/// A table of `R` records, declared once as a constant:
///
/// ```
/// # use ca_core::store::{Record, Table};
/// # #[derive(serde::Serialize, serde::Deserialize)] struct Certificate;
/// # impl Record for Certificate { const SCHEMA_VERSION: u16 = 1; }
/// const CERTIFICATES: Table<Certificate> = Table::new("certificates");
/// ```
pub struct Table<R: Record> {
    name: &'static str,
    // fn() -> R: the table neither owns an R nor restricts Send/Sync.
    _record: PhantomData<fn() -> R>,
}

impl<R: Record> Table<R> {
    /// A table named `name`; the name must be unique in the store.
    pub const fn new(name: &'static str) -> Self {
        Table {
            name,
            _record: PhantomData,
        }
    }

    /// The table's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The record under `key`.
    pub fn get(&self, store: &Store, key: &[u8]) -> Result<Option<R>, StoreError> {
        store
            .get(self.name, key)?
            .map(|value| decode(self.name, &value))
            .transpose()
    }

    /// Add "store `record` under `key`" to `batch`.
    pub fn put(&self, batch: &mut WriteBatch, key: &[u8], record: &R) -> Result<(), StoreError> {
        batch.put(self.name, key, encode(self.name, record)?);
        Ok(())
    }

    /// Add "delete `key`" to `batch`.
    pub fn delete(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.delete(self.name, key);
    }

    /// Make `batch` conditional on `key` not existing (uniqueness).
    pub fn require_absent(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.require_absent(self.name, key);
    }

    /// Make `batch` conditional on `key` existing.
    pub fn require_present(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.require_present(self.name, key);
    }

    /// Up to `limit` records in `range`, ascending by key.
    pub fn scan(
        &self,
        store: &Store,
        range: KeyRange,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, R)>, StoreError> {
        self.decode_all(store.scan(self.name, range, limit)?)
    }

    /// Up to `limit` records in `range`, descending by key.
    pub fn scan_rev(
        &self,
        store: &Store,
        range: KeyRange,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, R)>, StoreError> {
        self.decode_all(store.scan_rev(self.name, range, limit)?)
    }

    /// The greatest key of the table (to resume an id sequence).
    pub fn last_key(&self, store: &Store) -> Result<Option<Vec<u8>>, StoreError> {
        store.last_key(self.name)
    }

    fn decode_all(&self, entries: Entries) -> Result<Vec<(Vec<u8>, R)>, StoreError> {
        entries
            .into_iter()
            .map(|(key, value)| Ok((key, decode(self.name, &value)?)))
            .collect()
    }
}

// Derives would demand R: Clone / Debug.
impl<R: Record> Clone for Table<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: Record> Copy for Table<R> {}

impl<R: Record> std::fmt::Debug for Table<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Table").field(&self.name).finish()
    }
}

/// A secondary index: the information is all in the key (e.g. `(status,
/// id)`, `(expiry, id)`, `serial`), the value is empty. Write its entries in
/// the same batch as the record they point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexTable {
    name: &'static str,
}

impl IndexTable {
    /// An index table named `name`; the name must be unique in the store.
    pub const fn new(name: &'static str) -> Self {
        IndexTable { name }
    }

    /// The table's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Add "insert entry `key`" to `batch`.
    pub fn insert(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.put(self.name, key, Vec::new());
    }

    /// Add "insert entry `key`, and reject the batch if it exists" to
    /// `batch`: a unique index.
    pub fn insert_unique(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.require_absent(self.name, key);
        batch.put(self.name, key, Vec::new());
    }

    /// Add "remove entry `key`" to `batch`.
    pub fn remove(&self, batch: &mut WriteBatch, key: &[u8]) {
        batch.delete(self.name, key);
    }

    /// Whether entry `key` exists.
    pub fn contains(&self, store: &Store, key: &[u8]) -> Result<bool, StoreError> {
        Ok(store.get(self.name, key)?.is_some())
    }

    /// Up to `limit` entries in `range`, ascending.
    pub fn scan_keys(
        &self,
        store: &Store,
        range: KeyRange,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(keys_only(store.scan(self.name, range, limit)?))
    }

    /// For an index whose keys are `prefix` followed by a record id (a
    /// [`KeyBuilder::u64`](super::KeyBuilder::u64) as the last segment): the
    /// ids under `prefix` greater than `after`, ascending, at most `limit`.
    /// A page of a listing then costs the same at any depth of the index.
    pub fn ids_after(
        &self,
        store: &Store,
        prefix: &[u8],
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let Some(first) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        let mut start = prefix.to_vec();
        start.extend_from_slice(&super::u64_key(first));
        let range = KeyRange::new(
            std::ops::Bound::Included(start),
            KeyRange::prefix(prefix.to_vec()).end,
        );
        Ok(store
            .scan(self.name, range, limit)?
            .into_iter()
            .filter_map(|(key, _)| {
                let tail = key.len().checked_sub(8).map(|at| &key[at..])?;
                super::keys::u64_from_key(tail)
            })
            .collect())
    }

    /// Up to `limit` entries in `range`, descending.
    pub fn scan_keys_rev(
        &self,
        store: &Store,
        range: KeyRange,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(keys_only(store.scan_rev(self.name, range, limit)?))
    }
}

fn keys_only(entries: Entries) -> Vec<Vec<u8>> {
    entries.into_iter().map(|(key, _)| key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::{u64_key, KeyBuilder, KeyReader};
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Cert {
        id: u64,
        #[serde(with = "serde_bytes")]
        der: Vec<u8>,
        subject: String,
        status: u8,
        not_after: i64,
    }

    impl Record for Cert {
        const SCHEMA_VERSION: u16 = 2;
    }

    /// The same table as seen by a build that only knows version 1.
    #[derive(Debug, Serialize, Deserialize)]
    struct CertV1 {
        id: u64,
    }

    impl Record for CertV1 {
        const SCHEMA_VERSION: u16 = 1;
    }

    const CERTS: Table<Cert> = Table::new("certs");
    const CERTS_V1: Table<CertV1> = Table::new("certs");
    const BY_STATUS: IndexTable = IndexTable::new("certs_by_status");

    fn cert(id: u64, status: u8) -> Cert {
        Cert {
            id,
            der: vec![0x30, 0x82, id as u8, 0xFF],
            subject: format!("CN=host{id}.example.org"),
            status,
            not_after: -86_400 + id as i64,
        }
    }

    fn store_cert(store: &Store, c: &Cert) {
        let mut batch = WriteBatch::new();
        CERTS.require_absent(&mut batch, &u64_key(c.id));
        CERTS.put(&mut batch, &u64_key(c.id), c).unwrap();
        BY_STATUS.insert(
            &mut batch,
            &KeyBuilder::new().u8(c.status).u64(c.id).build(),
        );
        store.write(batch).unwrap();
    }

    #[test]
    fn record_round_trip_with_index() {
        let store = Store::in_memory().unwrap();
        for (id, status) in [(1, 0), (2, 1), (3, 0), (4, 1)] {
            store_cert(&store, &cert(id, status));
        }
        assert_eq!(CERTS.get(&store, &u64_key(3)).unwrap(), Some(cert(3, 0)));
        assert_eq!(CERTS.get(&store, &u64_key(9)).unwrap(), None);

        let all = CERTS.scan(&store, KeyRange::all(), usize::MAX).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[1], (u64_key(2).to_vec(), cert(2, 1)));
        let newest = CERTS.scan_rev(&store, KeyRange::all(), 1).unwrap();
        assert_eq!(newest[0].1.id, 4);
        assert_eq!(CERTS.last_key(&store).unwrap(), Some(u64_key(4).to_vec()));

        let status1: Vec<u64> = BY_STATUS
            .scan_keys(&store, KeyBuilder::new().u8(1).prefix(), usize::MAX)
            .unwrap()
            .iter()
            .map(|k| {
                let mut r = KeyReader::new(k);
                r.u8();
                r.u64().unwrap()
            })
            .collect();
        assert_eq!(status1, vec![2, 4]);

        // Revoke 2: record and index move together.
        let mut batch = WriteBatch::new();
        let mut c2 = cert(2, 1);
        c2.status = 2;
        CERTS.put(&mut batch, &u64_key(2), &c2).unwrap();
        BY_STATUS.remove(&mut batch, &KeyBuilder::new().u8(1).u64(2).build());
        BY_STATUS.insert(&mut batch, &KeyBuilder::new().u8(2).u64(2).build());
        store.write(batch).unwrap();
        assert!(BY_STATUS
            .contains(&store, &KeyBuilder::new().u8(2).u64(2).build())
            .unwrap());
        assert!(!BY_STATUS
            .contains(&store, &KeyBuilder::new().u8(1).u64(2).build())
            .unwrap());
        assert_eq!(
            BY_STATUS
                .scan_keys_rev(&store, KeyRange::all(), usize::MAX)
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn value_layout() {
        let bytes = encode("certs", &cert(1, 0)).unwrap();
        assert_eq!(&bytes[..2], &[0, 2]);
        assert_eq!(schema_version(&bytes), Some(2));
        assert_eq!(decode::<Cert>("certs", &bytes).unwrap(), cert(1, 0));
    }

    #[test]
    fn newer_schema_version_is_refused() {
        let store = Store::in_memory().unwrap();
        store_cert(&store, &cert(1, 0));
        match CERTS_V1.get(&store, &u64_key(1)) {
            Err(StoreError::SchemaVersion {
                table,
                found,
                supported,
            }) => assert_eq!((table, found, supported), ("certs", 2, 1)),
            other => panic!("expected a schema version error, got {other:?}"),
        }
        assert!(matches!(
            CERTS_V1.scan(&store, KeyRange::all(), 10),
            Err(StoreError::SchemaVersion { .. })
        ));

        // An older version is read by the newer build (here it lacks fields,
        // so it is a codec error, not a version error).
        let mut batch = WriteBatch::new();
        CERTS_V1
            .put(&mut batch, &u64_key(5), &CertV1 { id: 5 })
            .unwrap();
        store.write(batch).unwrap();
        assert!(matches!(
            CERTS.get(&store, &u64_key(5)),
            Err(StoreError::Codec { table: "certs", .. })
        ));
        assert_eq!(CERTS_V1.get(&store, &u64_key(5)).unwrap().unwrap().id, 5);
    }

    #[test]
    fn malformed_values_are_codec_errors() {
        assert!(matches!(
            decode::<Cert>("certs", &[0]),
            Err(StoreError::Codec { .. })
        ));
        let mut bytes = encode("certs", &cert(1, 0)).unwrap();
        bytes.push(0);
        assert!(matches!(
            decode::<Cert>("certs", &bytes),
            Err(StoreError::Codec { .. })
        ));
        assert!(matches!(
            decode::<Cert>("certs", &[0, 1, 0xFF]),
            Err(StoreError::Codec { .. })
        ));
    }

    #[test]
    fn unique_index_rejects_duplicates() {
        const BY_SERIAL: IndexTable = IndexTable::new("certs_by_serial");
        let store = Store::in_memory().unwrap();
        let issue = |id: u64, serial: &[u8]| {
            let mut batch = WriteBatch::new();
            CERTS.put(&mut batch, &u64_key(id), &cert(id, 0)).unwrap();
            BY_SERIAL.insert_unique(&mut batch, serial);
            store.write(batch)
        };
        issue(1, b"\x01\x23").unwrap();
        assert!(matches!(
            issue(2, b"\x01\x23"),
            Err(StoreError::Conflict {
                table: "certs_by_serial",
                ..
            })
        ));
        // Nothing of the rejected batch landed.
        assert_eq!(CERTS.get(&store, &u64_key(2)).unwrap(), None);
    }
}
