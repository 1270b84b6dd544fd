//! ACME's records in the gateway's store: accounts, orders and
//! authorizations (with their challenges), with the indexes the protocol
//! needs — account by key thumbprint (unique, per endpoint), orders by
//! account, authorizations by account and identifier (for reuse) — and the
//! link from an issued certificate back to its account and order. Each
//! record and its index entries go in one batch.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use ca_core::names::SubjectAltName;
use ca_core::store::keys::{u64_from_key, KeyReader};
use ca_core::store::{IndexTable, KeyBuilder, Record, Store, StoreError, Table, WriteBatch};
use policy::model::{DeptId, EndpointId, OrgId, RequestId};
use serde::{Deserialize, Serialize};

use crate::validation::{ChallengeKind, Identifier};
use crate::wire::jwk::PublicJwk;
use crate::wire::objects::{IdentifierObject, ValidationRecordObject};
use crate::wire::problem::{ProblemDocument, ProblemType};

const ACCOUNTS: Table<AccountRecord> = Table::new("acme_accounts");
/// (endpoint, key thumbprint) → account: one account per key per endpoint.
const ACCOUNT_BY_KEY: Table<IdRef> = Table::new("acme_account_by_key");
const ORDERS: Table<OrderRecord> = Table::new("acme_orders");
/// (account, order).
const ORDERS_BY_ACCOUNT: IndexTable = IndexTable::new("acme_orders_by_account");
const AUTHZS: Table<AuthzRecord> = Table::new("acme_authorizations");
/// (account, identifier key, authorization).
const AUTHZS_BY_ACCOUNT: IndexTable = IndexTable::new("acme_authorizations_by_account");
/// certificate id → the account and order it was issued for.
const CERTIFICATES: Table<CertificateLink> = Table::new("acme_certificates");

/// A reference to a record by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct IdRef {
    id: u64,
}

impl Record for IdRef {
    const SCHEMA_VERSION: u16 = 1;
}

/// An account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountStatus {
    /// In use.
    Valid,
    /// Deactivated by its holder; final.
    Deactivated,
}

impl AccountStatus {
    /// The ACME name.
    pub fn name(self) -> &'static str {
        match self {
            AccountStatus::Valid => "valid",
            AccountStatus::Deactivated => "deactivated",
        }
    }
}

/// An ACME account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// Its id (the last segment of its URL).
    pub id: u64,
    /// The endpoint it was created at (and only answers at).
    pub endpoint: EndpointId,
    /// Its state.
    pub status: AccountStatus,
    /// Its key.
    pub key: PublicJwk,
    /// Contact URLs (mailto: only).
    pub contact: Vec<String>,
    /// Whether it agreed to the terms of service.
    pub terms_agreed: bool,
    /// The EAB key id it was bound with.
    pub eab_key_id: Option<String>,
    /// The organization it belongs to (the endpoint's at creation).
    pub org: OrgId,
    /// The department.
    pub dept: Option<DeptId>,
    /// Unix time.
    pub created_at: i64,
}

impl Record for AccountRecord {
    const SCHEMA_VERSION: u16 = 1;
}

/// A validated identifier.
///
/// Stored externally tagged (serde's default): an internally tagged enum is decoded
/// through serde's buffered content, which calls itself human-readable and then
/// refuses the compact (CBOR) form of an `IpAddr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AcmeIdentifier {
    /// A DNS name, lower case; `name` is the base name of a wildcard.
    Dns {
        /// The name (without `*.`).
        name: String,
        /// Whether the order asked for `*.name`.
        wildcard: bool,
    },
    /// An IP address (RFC 8738).
    Ip {
        /// The address.
        address: IpAddr,
    },
}

impl AcmeIdentifier {
    /// Validates a wire identifier; the error is the subproblem's type and detail.
    pub fn parse(object: &IdentifierObject) -> Result<Self, (ProblemType, String)> {
        match object.kind.as_str() {
            "dns" => match SubjectAltName::dns(&object.value) {
                Ok(name) => Self::from_san(&name)
                    .ok_or_else(|| (ProblemType::Malformed, "not a DNS name".into())),
                Err(e) => Err((ProblemType::RejectedIdentifier, e.to_string())),
            },
            "ip" => object
                .value
                .parse()
                .map(|address| AcmeIdentifier::Ip { address })
                .map_err(|_| {
                    (
                        ProblemType::Malformed,
                        format!("'{}' is not an IP address", object.value),
                    )
                }),
            other => Err((
                ProblemType::UnsupportedIdentifier,
                format!("identifiers of type '{other}' are not supported (dns and ip are)"),
            )),
        }
    }

    /// The identifier that asks for a name (None for e-mail addresses and URIs).
    pub fn from_san(name: &SubjectAltName) -> Option<Self> {
        match name {
            SubjectAltName::Dns(d) => Some(match d.strip_prefix("*.") {
                Some(base) => AcmeIdentifier::Dns {
                    name: base.to_string(),
                    wildcard: true,
                },
                None => AcmeIdentifier::Dns {
                    name: d.clone(),
                    wildcard: false,
                },
            }),
            SubjectAltName::Ip(address) => Some(AcmeIdentifier::Ip { address: *address }),
            _ => None,
        }
    }

    /// As an order lists it (a wildcard with its `*.`).
    pub fn order_object(&self) -> IdentifierObject {
        match self {
            AcmeIdentifier::Dns { .. } => IdentifierObject::dns(&self.san().value()),
            AcmeIdentifier::Ip { address } => IdentifierObject::ip(&address.to_string()),
        }
    }

    /// As an authorization shows it (a wildcard's base name).
    pub fn authz_object(&self) -> IdentifierObject {
        match self {
            AcmeIdentifier::Dns { name, .. } => IdentifierObject::dns(name),
            AcmeIdentifier::Ip { address } => IdentifierObject::ip(&address.to_string()),
        }
    }

    /// The subject alternative name it asks for.
    pub fn san(&self) -> SubjectAltName {
        match self {
            AcmeIdentifier::Dns {
                name,
                wildcard: true,
            } => SubjectAltName::Dns(format!("*.{name}")),
            AcmeIdentifier::Dns { name, .. } => SubjectAltName::Dns(name.clone()),
            AcmeIdentifier::Ip { address } => SubjectAltName::Ip(*address),
        }
    }

    /// What validation checks (a wildcard's base name).
    pub fn validation_identifier(&self) -> Identifier {
        match self {
            AcmeIdentifier::Dns { name, .. } => Identifier::Dns(name.clone()),
            AcmeIdentifier::Ip { address } => Identifier::Ip(*address),
        }
    }

    /// Whether this is a wildcard.
    pub fn is_wildcard(&self) -> bool {
        matches!(self, AcmeIdentifier::Dns { wildcard: true, .. })
    }

    /// The challenges offered: a wildcard proves control of its whole domain by DNS only;
    /// an IP address has no DNS to prove anything with (RFC 8738 §7).
    pub fn challenge_types(&self) -> &'static [ChallengeType] {
        match self {
            AcmeIdentifier::Dns { wildcard: true, .. } => &[ChallengeType::Dns01],
            AcmeIdentifier::Dns { .. } => &[
                ChallengeType::Http01,
                ChallengeType::Dns01,
                ChallengeType::TlsAlpn01,
            ],
            AcmeIdentifier::Ip { .. } => &[ChallengeType::Http01, ChallengeType::TlsAlpn01],
        }
    }

    /// The key of the reuse index (a wildcard and its base name are different authorizations).
    fn index_key(&self) -> String {
        self.san().to_string()
    }
}

/// A challenge type, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChallengeType {
    /// http-01.
    #[serde(rename = "http-01")]
    Http01,
    /// dns-01.
    #[serde(rename = "dns-01")]
    Dns01,
    /// tls-alpn-01.
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
}

impl ChallengeType {
    /// The ACME name (also the last segment of the challenge URL).
    pub fn name(self) -> &'static str {
        match self {
            ChallengeType::Http01 => "http-01",
            ChallengeType::Dns01 => "dns-01",
            ChallengeType::TlsAlpn01 => "tls-alpn-01",
        }
    }

    /// The type with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ChallengeType::Http01,
            ChallengeType::Dns01,
            ChallengeType::TlsAlpn01,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }

    /// The validator's kind.
    pub fn kind(self) -> ChallengeKind {
        match self {
            ChallengeType::Http01 => ChallengeKind::Http01,
            ChallengeType::Dns01 => ChallengeKind::Dns01,
            ChallengeType::TlsAlpn01 => ChallengeKind::TlsAlpn01,
        }
    }
}

/// A challenge's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChallengeStatus {
    /// Waiting for the client.
    Pending,
    /// Being validated.
    Processing,
    /// Validated.
    Valid,
    /// Failed.
    Invalid,
}

impl ChallengeStatus {
    /// The ACME name.
    pub fn name(self) -> &'static str {
        match self {
            ChallengeStatus::Pending => "pending",
            ChallengeStatus::Processing => "processing",
            ChallengeStatus::Valid => "valid",
            ChallengeStatus::Invalid => "invalid",
        }
    }
}

/// A challenge of an authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    /// The type.
    pub kind: ChallengeType,
    /// The token (128 random bits, base64url).
    pub token: String,
    /// Its state.
    pub status: ChallengeStatus,
    /// Unix time of validation.
    pub validated: Option<i64>,
    /// Why it failed.
    pub error: Option<ProblemDocument>,
    /// What validation saw.
    pub validation_record: Option<ValidationRecordObject>,
}

/// An authorization's stored state (expiry is applied when it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthzStatus {
    /// Waiting for a challenge.
    Pending,
    /// Control proven.
    Valid,
    /// A challenge failed.
    Invalid,
    /// Deactivated by the client.
    Deactivated,
}

/// An authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthzRecord {
    /// Its id.
    pub id: u64,
    /// The account.
    pub account: u64,
    /// The identifier.
    pub identifier: AcmeIdentifier,
    /// The stored state.
    pub status: AuthzStatus,
    /// Unix time it expires.
    pub expires: i64,
    /// The challenges.
    pub challenges: Vec<ChallengeRecord>,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for AuthzRecord {
    const SCHEMA_VERSION: u16 = 1;
}

impl AuthzRecord {
    /// The state as of `now`: pending and valid authorizations expire.
    pub fn status_at(&self, now: i64) -> &'static str {
        match self.status {
            AuthzStatus::Pending | AuthzStatus::Valid if self.expires <= now => "expired",
            AuthzStatus::Pending => "pending",
            AuthzStatus::Valid => "valid",
            AuthzStatus::Invalid => "invalid",
            AuthzStatus::Deactivated => "deactivated",
        }
    }

    /// The challenge of a type.
    pub fn challenge(&self, kind: ChallengeType) -> Option<&ChallengeRecord> {
        self.challenges.iter().find(|c| c.kind == kind)
    }

    /// The challenge of a type, to change.
    pub fn challenge_mut(&mut self, kind: ChallengeType) -> Option<&mut ChallengeRecord> {
        self.challenges.iter_mut().find(|c| c.kind == kind)
    }
}

/// Where an order is past its authorizations (externally tagged, as [`AcmeIdentifier`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderPhase {
    /// Pending, ready or invalid, as its authorizations say.
    Authorizing,
    /// Finalized; the RA request waits for approval.
    Processing {
        /// The RA request.
        request: RequestId,
    },
    /// Issued.
    Valid {
        /// The certificate's id.
        certificate: u64,
    },
    /// Failed for good.
    Invalid {
        /// Why.
        error: ProblemDocument,
    },
}

/// The certificate an order replaces (ARI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaces {
    /// The certID as the client sent it (reflected in the order).
    pub cert_id: String,
    /// The certificate's id.
    pub certificate: u64,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Its id.
    pub id: u64,
    /// The account.
    pub account: u64,
    /// The identifiers, sorted, without duplicates.
    pub identifiers: Vec<AcmeIdentifier>,
    /// Its authorizations, one per identifier, in the same order.
    pub authorizations: Vec<u64>,
    /// Unix time it expires (unless valid).
    pub expires: i64,
    /// The certificate it replaces.
    pub replaces: Option<Replaces>,
    /// Its phase.
    pub phase: OrderPhase,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for OrderRecord {
    const SCHEMA_VERSION: u16 = 1;
}

/// Which account and order a certificate was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateLink {
    /// The account.
    pub account: u64,
    /// The order.
    pub order: u64,
}

impl Record for CertificateLink {
    const SCHEMA_VERSION: u16 = 1;
}

/// What a lock guards (records of different kinds share ids).
#[derive(Debug, Clone, Copy)]
pub enum LockKind {
    /// An account.
    Account = 1,
    /// An order.
    Order = 2,
    /// An authorization.
    Authz = 3,
}

const LOCK_STRIPES: usize = 64;

fn id_key(id: u64) -> Vec<u8> {
    KeyBuilder::new().u64(id).build()
}

/// The ACME tables over the gateway's store.
#[derive(Debug)]
pub struct Records {
    store: Store,
    /// The next id per table, read from the table's last key on first use (so opening
    /// cannot fail, and a store error is reported by the request that needs an id).
    next_ids: Mutex<HashMap<&'static str, u64>>,
    /// Read-modify-write of one record at a time (striped, so unrelated records
    /// still commit concurrently and share an fsync).
    locks: Vec<Mutex<()>>,
}

impl Records {
    /// The ACME tables of a store.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            next_ids: Mutex::new(HashMap::new()),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    fn next_id(&self, table: &'static str) -> Result<u64, StoreError> {
        let mut ids = self.next_ids.lock().unwrap_or_else(|e| e.into_inner());
        let next = match ids.get(table) {
            Some(next) => *next,
            None => {
                self.store
                    .last_key(table)?
                    .and_then(|k| u64_from_key(&k))
                    .unwrap_or(0)
                    + 1
            }
        };
        ids.insert(table, next + 1);
        Ok(next)
    }

    /// Commits a batch durably.
    pub fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.store.write(batch)
    }

    /// Locks one record for a read-modify-write.
    pub fn lock(&self, kind: LockKind, id: u64) -> MutexGuard<'_, ()> {
        let stripe = (id.wrapping_mul(31).wrapping_add(kind as u64)) as usize % LOCK_STRIPES;
        self.locks[stripe].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh account id.
    pub fn next_account_id(&self) -> Result<u64, StoreError> {
        self.next_id(ACCOUNTS.name())
    }

    /// A fresh order id.
    pub fn next_order_id(&self) -> Result<u64, StoreError> {
        self.next_id(ORDERS.name())
    }

    /// A fresh authorization id.
    pub fn next_authz_id(&self) -> Result<u64, StoreError> {
        self.next_id(AUTHZS.name())
    }

    // ---------------------------------------------------------------- accounts

    /// An account.
    pub fn account(&self, id: u64) -> Result<Option<AccountRecord>, StoreError> {
        ACCOUNTS.get(&self.store, &id_key(id))
    }

    fn key_index(endpoint: EndpointId, thumbprint: &str) -> Vec<u8> {
        KeyBuilder::new().u64(endpoint.0).str(thumbprint).build()
    }

    /// The account of a key at an endpoint.
    pub fn account_by_key(
        &self,
        endpoint: EndpointId,
        thumbprint: &str,
    ) -> Result<Option<AccountRecord>, StoreError> {
        match ACCOUNT_BY_KEY.get(&self.store, &Self::key_index(endpoint, thumbprint))? {
            Some(r) => self.account(r.id),
            None => Ok(None),
        }
    }

    /// Adds an account (new or changed) to a batch.
    pub fn put_account(
        &self,
        batch: &mut WriteBatch,
        account: &AccountRecord,
    ) -> Result<(), StoreError> {
        ACCOUNTS.put(batch, &id_key(account.id), account)
    }

    /// Adds "this key now names this account" to a batch, refused at commit if the key
    /// names another account already.
    pub fn claim_key(
        &self,
        batch: &mut WriteBatch,
        account: &AccountRecord,
    ) -> Result<(), StoreError> {
        let key = Self::key_index(account.endpoint, &account.key.thumbprint());
        ACCOUNT_BY_KEY.require_absent(batch, &key);
        ACCOUNT_BY_KEY.put(batch, &key, &IdRef { id: account.id })
    }

    /// Adds "this key no longer names its account" to a batch.
    pub fn release_key(&self, batch: &mut WriteBatch, account: &AccountRecord) {
        ACCOUNT_BY_KEY.delete(
            batch,
            &Self::key_index(account.endpoint, &account.key.thumbprint()),
        );
    }

    // ---------------------------------------------------------------- orders

    /// An order.
    pub fn order(&self, id: u64) -> Result<Option<OrderRecord>, StoreError> {
        ORDERS.get(&self.store, &id_key(id))
    }

    /// Adds an order to a batch (`new`: with its index entry).
    pub fn put_order(
        &self,
        batch: &mut WriteBatch,
        order: &OrderRecord,
        new: bool,
    ) -> Result<(), StoreError> {
        if new {
            ORDERS_BY_ACCOUNT.insert(
                batch,
                &KeyBuilder::new().u64(order.account).u64(order.id).build(),
            );
        }
        ORDERS.put(batch, &id_key(order.id), order)
    }

    /// Up to `limit` order ids of an account after `after`, ascending.
    pub fn orders_of(
        &self,
        account: u64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let range = ca_core::store::KeyRange::between(
            KeyBuilder::new()
                .u64(account)
                .u64(after.saturating_add(1))
                .build(),
            KeyBuilder::new().u64(account.saturating_add(1)).build(),
        );
        Ok(ORDERS_BY_ACCOUNT
            .scan_keys(&self.store, range, limit)?
            .iter()
            .filter_map(|k| {
                let mut reader = KeyReader::new(k);
                reader.u64()?;
                reader.u64()
            })
            .collect())
    }

    // ---------------------------------------------------------------- authorizations

    /// An authorization.
    pub fn authz(&self, id: u64) -> Result<Option<AuthzRecord>, StoreError> {
        AUTHZS.get(&self.store, &id_key(id))
    }

    /// Adds an authorization to a batch (`new`: with its index entry).
    pub fn put_authz(
        &self,
        batch: &mut WriteBatch,
        authz: &AuthzRecord,
        new: bool,
    ) -> Result<(), StoreError> {
        if new {
            AUTHZS_BY_ACCOUNT.insert(
                batch,
                &KeyBuilder::new()
                    .u64(authz.account)
                    .str(&authz.identifier.index_key())
                    .u64(authz.id)
                    .build(),
            );
        }
        AUTHZS.put(batch, &id_key(authz.id), authz)
    }

    /// The newest valid authorization of an account for an identifier that was validated
    /// at or after `validated_since` and has not expired at `now`.
    pub fn reusable_authz(
        &self,
        account: u64,
        identifier: &AcmeIdentifier,
        validated_since: i64,
        now: i64,
    ) -> Result<Option<AuthzRecord>, StoreError> {
        let prefix = KeyBuilder::new()
            .u64(account)
            .str(&identifier.index_key())
            .prefix();
        // Newest first; a handful is plenty (older ones are older still).
        for key in AUTHZS_BY_ACCOUNT.scan_keys_rev(&self.store, prefix, 16)? {
            let Some(id) = key
                .get(key.len().saturating_sub(8)..)
                .and_then(u64_from_key)
            else {
                continue;
            };
            let Some(authz) = self.authz(id)? else {
                continue;
            };
            let validated = authz
                .challenges
                .iter()
                .filter_map(|c| c.validated)
                .max()
                .unwrap_or(i64::MIN);
            if authz.status == AuthzStatus::Valid
                && authz.expires > now
                && validated >= validated_since
            {
                return Ok(Some(authz));
            }
        }
        Ok(None)
    }

    /// Valid, unexpired authorizations of an account for every one of `identifiers`?
    pub fn holds_authorizations(
        &self,
        account: u64,
        identifiers: &[AcmeIdentifier],
        now: i64,
    ) -> Result<bool, StoreError> {
        for identifier in identifiers {
            if self
                .reusable_authz(account, identifier, i64::MIN, now)?
                .is_none()
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    // ---------------------------------------------------------------- certificates

    /// The account and order a certificate was issued for.
    pub fn certificate_link(
        &self,
        certificate: u64,
    ) -> Result<Option<CertificateLink>, StoreError> {
        CERTIFICATES.get(&self.store, &id_key(certificate))
    }

    /// Adds a certificate's link to a batch.
    pub fn put_certificate_link(
        &self,
        batch: &mut WriteBatch,
        certificate: u64,
        link: &CertificateLink,
    ) -> Result<(), StoreError> {
        CERTIFICATES.put(batch, &id_key(certificate), link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_parse_and_wildcards_keep_their_base_name() {
        let id = AcmeIdentifier::parse(&IdentifierObject::dns("*.Example.TEST")).unwrap();
        assert_eq!(
            id,
            AcmeIdentifier::Dns {
                name: "example.test".into(),
                wildcard: true
            }
        );
        assert_eq!(id.order_object().value, "*.example.test");
        assert_eq!(id.authz_object().value, "example.test");
        assert_eq!(id.challenge_types(), &[ChallengeType::Dns01]);
        let ip = AcmeIdentifier::parse(&IdentifierObject::ip("127.0.0.1")).unwrap();
        assert_eq!(ip.challenge_types().len(), 2);
        assert_eq!(
            AcmeIdentifier::parse(&IdentifierObject {
                kind: "email".into(),
                value: "a@b.c".into()
            })
            .unwrap_err()
            .0,
            ProblemType::UnsupportedIdentifier
        );
        assert!(AcmeIdentifier::parse(&IdentifierObject::dns("1.2.3.4")).is_err());
        assert!(AcmeIdentifier::parse(&IdentifierObject::ip("example.test")).is_err());
    }

    #[test]
    fn orders_are_listed_per_account() {
        let records = Records::new(Store::in_memory().unwrap());
        assert_eq!(records.next_order_id().unwrap(), 1);
        let mut batch = WriteBatch::new();
        for (id, account) in [(1, 7), (2, 8), (3, 7), (4, 7)] {
            let order = OrderRecord {
                id,
                account,
                identifiers: vec![],
                authorizations: vec![],
                expires: 0,
                replaces: None,
                phase: OrderPhase::Authorizing,
                created_at: 0,
            };
            records.put_order(&mut batch, &order, true).unwrap();
        }
        records.write(batch).unwrap();
        assert_eq!(records.orders_of(7, 0, 10).unwrap(), vec![1, 3, 4]);
        assert_eq!(records.orders_of(7, 1, 1).unwrap(), vec![3]);
        assert_eq!(records.orders_of(8, 0, 10).unwrap(), vec![2]);
        assert!(records.orders_of(9, 0, 10).unwrap().is_empty());
    }
}

#[cfg(test)]
mod codec_tests {
    use super::*;

    /// Every stored shape decodes as it was written (empty members are skipped on the
    /// wire and must default back; IP addresses must survive CBOR).
    fn round_trip(identifier: AcmeIdentifier) {
        let authz = AuthzRecord {
            id: 1,
            account: 2,
            identifier,
            status: AuthzStatus::Valid,
            expires: 3,
            challenges: vec![ChallengeRecord {
                kind: ChallengeType::Dns01,
                token: "t".into(),
                status: ChallengeStatus::Valid,
                validated: Some(4),
                error: None,
                validation_record: Some(ValidationRecordObject {
                    url: None,
                    hostname: "h".into(),
                    port: None,
                    addresses_resolved: vec![],
                    address_used: None,
                }),
            }],
            created_at: 5,
        };
        let bytes = ca_core::store::encode("t", &authz).unwrap();
        let back: AuthzRecord = ca_core::store::decode("t", &bytes).unwrap();
        assert_eq!(back, authz);
    }

    #[test]
    fn records_round_trip() {
        round_trip(AcmeIdentifier::Dns {
            name: "a".into(),
            wildcard: true,
        });
        round_trip(AcmeIdentifier::Ip {
            address: "127.0.0.1".parse().unwrap(),
        });
    }
}
