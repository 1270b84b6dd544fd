//! SCEP transactions: which request a transaction id began, and with which key.
//!
//! A device that repeats a PKCSReq (micromdm's client does so every 30 s
//! while it waits) or polls with CertPoll names its transaction; the answer
//! comes from the request it began, never from a second request. The key
//! that began it is kept so that another key cannot take a transaction over.

use ca_core::store::{KeyBuilder, Record, Store, StoreError, Table, WriteBatch};
use policy::model::{EndpointId, RequestId};
use serde::{Deserialize, Serialize};

/// One transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The request it began.
    pub request: RequestId,
    /// SHA-256 of the signer's public key (hex).
    pub signer_key: String,
    /// Unix time it began.
    pub created_at: i64,
}

impl Record for Transaction {
    const SCHEMA_VERSION: u16 = 1;
}

const TRANSACTIONS: Table<Transaction> = Table::new("scep_transactions");

/// That an Intune endpoint's transaction has been reported to Intune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct IntuneReport {
    /// Unix time of the report.
    reported_at: i64,
}

impl Record for IntuneReport {
    const SCHEMA_VERSION: u16 = 1;
}

const INTUNE_REPORTS: Table<IntuneReport> = Table::new("scep_intune_reports");

fn key(endpoint: EndpointId, transaction_id: &str) -> Vec<u8> {
    KeyBuilder::new()
        .u64(endpoint.0)
        .str(transaction_id)
        .build()
}

/// The transactions, in the gateway's store.
#[derive(Clone)]
pub struct Transactions {
    store: Store,
}

impl Transactions {
    /// Over a store.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// A transaction of an endpoint.
    pub fn get(
        &self,
        endpoint: EndpointId,
        transaction_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        TRANSACTIONS.get(&self.store, &key(endpoint, transaction_id))
    }

    /// Records a transaction, durably; fails with a conflict if it exists.
    pub fn insert(
        &self,
        endpoint: EndpointId,
        transaction_id: &str,
        transaction: &Transaction,
    ) -> Result<(), StoreError> {
        let k = key(endpoint, transaction_id);
        let mut batch = WriteBatch::new();
        TRANSACTIONS.require_absent(&mut batch, &k);
        TRANSACTIONS.put(&mut batch, &k, transaction)?;
        self.store.write(batch)
    }

    /// Whether Intune has been told the outcome of a transaction.
    pub fn reported(&self, endpoint: EndpointId, transaction_id: &str) -> Result<bool, StoreError> {
        Ok(INTUNE_REPORTS
            .get(&self.store, &key(endpoint, transaction_id))?
            .is_some())
    }

    /// Records, durably, that Intune has been told the outcome of a transaction.
    pub fn mark_reported(
        &self,
        endpoint: EndpointId,
        transaction_id: &str,
    ) -> Result<(), StoreError> {
        let mut batch = WriteBatch::new();
        INTUNE_REPORTS.put(
            &mut batch,
            &key(endpoint, transaction_id),
            &IntuneReport {
                reported_at: time::OffsetDateTime::now_utc().unix_timestamp(),
            },
        )?;
        self.store.write(batch)
    }
}
