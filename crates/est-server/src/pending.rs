//! Queued EST requests: which request a CSR began at an endpoint.
//!
//! A device whose request waits for an administrator repeats the same POST
//! after the `Retry-After` it was given (RFC 7030 §4.2.3); the repeat is found
//! here by the SHA-256 of its CSR and answered from the request it began, so a
//! repeat never makes a second request. A re-enrollment is keyed by the
//! certificate it renews as well, because a device may renew with the CSR it
//! enrolled with.

use ca_core::store::{KeyBuilder, Record, Store, StoreError, Table, WriteBatch};
use policy::model::{EndpointId, RequestId};
use serde::{Deserialize, Serialize};

/// One queued request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The request the CSR began.
    pub request: RequestId,
    /// Unix time it began.
    pub created_at: i64,
}

impl Record for Pending {
    const SCHEMA_VERSION: u16 = 1;
}

const PENDING: Table<Pending> = Table::new("est_pending");

/// What a request is found by: the endpoint, the CSR's SHA-256 and, for a
/// re-enrollment, the id of the certificate it renews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingKey {
    /// The endpoint.
    pub endpoint: EndpointId,
    /// SHA-256 of the CSR's DER.
    pub csr_sha256: [u8; 32],
    /// The renewed certificate's record id, for `simplereenroll`.
    pub renewal_of: Option<u64>,
}

impl PendingKey {
    /// The key of a CSR.
    pub fn new(endpoint: EndpointId, csr_der: &[u8], renewal_of: Option<u64>) -> Self {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, csr_der);
        let mut csr_sha256 = [0u8; 32];
        csr_sha256.copy_from_slice(digest.as_ref());
        Self {
            endpoint,
            csr_sha256,
            renewal_of,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        KeyBuilder::new()
            .u64(self.endpoint.0)
            .str(&hex::encode(self.csr_sha256))
            .u64(self.renewal_of.map_or(0, |id| id + 1))
            .build()
    }
}

/// The queued requests, in the gateway's store.
#[derive(Clone)]
pub struct PendingRequests {
    store: Store,
}

impl PendingRequests {
    /// Over a store.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The request a CSR began, if any.
    pub fn get(&self, key: &PendingKey) -> Result<Option<Pending>, StoreError> {
        PENDING.get(&self.store, &key.bytes())
    }

    /// Records the request a CSR began, durably; a conflict if one is recorded.
    pub fn insert(&self, key: &PendingKey, pending: &Pending) -> Result<(), StoreError> {
        let k = key.bytes();
        let mut batch = WriteBatch::new();
        PENDING.require_absent(&mut batch, &k);
        PENDING.put(&mut batch, &k, pending)?;
        self.store.write(batch)
    }
}
