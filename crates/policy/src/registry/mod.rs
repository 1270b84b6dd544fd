//! The registration authority service: every operation an administrator or
//! an enrollment endpoint can perform, authorized against role and scope,
//! checked against profiles and name policy, recorded in the audit log, and
//! committed durably with its audit entry in one atomic batch.
//!
//! The service is one [`RegistrationAuthority`]; its operations are grouped
//! by responsibility, one `impl` block per module:
//!
//! - `organizations`: organizations, departments and domain delegation;
//! - `administrators`: the first MRAO, administrators, login, sessions and API keys;
//! - `access_control`: the per-role allow-lists of client addresses (IP networks);
//! - `endpoints`: enrollment endpoints, ACME EAB keys and the demo organization;
//! - `requests`: submission, issuance, the approval queue, edits and listing;
//! - `certificates`: the certificate lifecycle: ownership, listing, revocation,
//!   renewal, external certificates, downloads and the expiry sweep;
//! - `est`: EST Basic credentials, authentication mode, trust anchors, the demo EST endpoint;
//! - `scep` and `scep_webhook`: SCEP challenges (static and one-time) and a SCEP
//!   endpoint's webhook validator with its sealed HMAC key;
//! - `intune`: an Intune endpoint's Entra ID application (its sealed client secret),
//!   the audit of each exchange with Intune, and the revocations Intune asks for;
//! - `sso`: single sign-on to the console: the SAML identity provider, administrator
//!   templates (just-in-time provisioning), sign-in by IdP identity, used assertions;
//! - `audit_trail`: reading and verifying the audit log;
//! - `error`: [`RaError`], the error of every operation.
//!
//! The modules are private; every public item is re-exported here, so its path
//! is `policy::registry::<item>`.
//!
//! This module holds what they share: the store's tables, id allocation,
//! the commit of a batch with its audit entry, authorization with the audit of
//! a denial, and input checks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ca_core::profile::CertificateProfile;
use ca_core::service::CaService;
use ca_core::store::keys::u64_from_key;
use ca_core::store::{KeyBuilder, Record, Store, StoreError, Table, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEntry, AuditEvent, AuditLog};
use crate::authz::{authorize, Action, Denied};
use crate::credentials::{SecretBox, SessionTokens};
use crate::model::*;
use crate::request::CertificateRequest;

mod access_control;
mod administrators;
mod audit_trail;
mod certificate_listing;
mod certificates;
mod client_certificates;
mod custom_fields;
mod eab_accounts;
mod endpoints;
mod error;
mod est;
mod external;
mod intune;
mod org_units;
mod organizations;
mod profile_numbers;
mod requests;
mod scep;
mod scep_webhook;
mod sso;

pub use access_control::{
    parse_networks, AllowList, AllowedNetwork, RoleName, MAX_ALLOWED_NETWORKS,
};
pub use administrators::ApiKeyRecord;
pub use certificates::{CertificateFilter, CertificateOwner, OwnedCertificate};
pub use client_certificates::MAX_LINKED_CERTIFICATES;
pub use custom_fields::{CustomField, MAX_CUSTOM_FIELDS_PER_CLASS, MAX_CUSTOM_FIELD_VALUE_CHARS};
pub use eab_accounts::{EabAccount, NewEabKey};
pub use endpoints::{EndpointSecret, NewEndpoint, DEMO_ACME_ENDPOINT};
pub use error::RaError;
use error::RaResult;
pub use est::{EstSettings, DEMO_EST_ENDPOINT, DEMO_EST_USERNAME, MAX_EST_TRUST_ANCHORS};
pub use external::{external_class, EXTERNAL_PROFILE};
pub use intune::{
    ClientSecret, IntuneAccess, IntuneRevocationRefusal, IntuneStep, NewIntuneApplication,
};
pub use org_units::{OrgUnit, OrganizationChange};
pub use requests::{RequestFilter, Requester, Submission};
pub use scep::{
    ChallengeBinding, ChallengeUse, OneTimeChallenge, DEFAULT_ONE_TIME_CHALLENGE_SECONDS,
    DEMO_SCEP_ENDPOINT, MAX_ONE_TIME_CHALLENGE_SECONDS,
};
pub use scep_webhook::{ScepValidationOutcome, MAX_SCEP_WEBHOOK_URL_CHARS, SCEP_WEBHOOK_KEY_BYTES};
pub use sso::{
    AdminTemplate, NewAdminTemplate, NewSsoIdentityProvider, SsoCertificate, SsoClaims,
    SsoIdentityProvider, SsoSignIn, MAX_ADMIN_TEMPLATES, MAX_SSO_CERTIFICATES,
};

/// A unique-name claim: the id of the record that holds the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct NameClaim {
    id: u64,
}

impl Record for NameClaim {
    const SCHEMA_VERSION: u16 = 1;
}

const ORGS: Table<Organization> = Table::new("ra_organizations");
const DEPTS: Table<Department> = Table::new("ra_departments");
const DOMAINS: Table<DomainDelegation> = Table::new("ra_domains");
const ADMINS: Table<Administrator> = Table::new("ra_administrators");
const ENDPOINTS: Table<Endpoint> = Table::new("ra_endpoints");
const REQUESTS: Table<CertificateRequest> = Table::new("ra_requests");
const OWNERS: Table<CertificateOwner> = Table::new("ra_certificate_owners");
const API_KEYS: Table<ApiKeyRecord> = Table::new("ra_api_keys");
const CUSTOM_FIELDS: Table<CustomField> = Table::new("ra_custom_fields");
const PROFILE_NUMBERS: Table<profile_numbers::ProfileNumber> = Table::new("ra_profile_numbers");
/// The one id sequence of organizations and departments: a department's id is never an
/// organization's, so that one number names either (the certificate manager's `orgId`).
const ORG_UNITS: &str = "ra_org_units";
/// The sequence of EAB key numbers (they live inside their endpoints' records).
const EAB_NUMBERS: &str = "ra_eab_numbers";
/// Unique names: "admin:<username>", "org:<name>", "endpoint:<name>", "eab:<key id>",
/// "domain:<org>:<name>", "renew:<renew id>" (holding the request id), "custom-field:<class>:<name>".
const NAMES: Table<NameClaim> = Table::new("ra_unique_names");

/// The store key of a record id.
fn id_key(id: u64) -> Vec<u8> {
    KeyBuilder::new().u64(id).build()
}

/// The current time, in unix seconds.
fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The registration authority.
pub struct RegistrationAuthority {
    ca: Arc<CaService>,
    store: Store,
    audit: AuditLog,
    secrets: SecretBox,
    sessions: SessionTokens,
    next_ids: Mutex<BTreeMap<&'static str, u64>>,
    /// Every loaded profile's stable number, by name.
    profile_numbers: BTreeMap<String, u64>,
    /// Serializes state changes of requests (approvals racing each other issue once).
    request_lock: Mutex<()>,
    session_ttl: i64,
    /// Certificates expiring before this unix time have been swept.
    swept_until: Mutex<i64>,
    /// Failed logins per (account, client address).
    login_guard: crate::login_guard::LoginGuard,
}

impl std::fmt::Debug for RegistrationAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationAuthority")
            .finish_non_exhaustive()
    }
}

const LOGIN_TTL_SECONDS: i64 = 3600;

/// Refuses an empty or over-long (more than `max` characters) `field`, or one with control characters.
fn check_text(field: &str, value: &str, max: usize) -> RaResult<()> {
    if value.trim().is_empty() {
        return Err(RaError::InvalidInput(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(RaError::InvalidInput(format!(
            "{field} must be at most {max} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(RaError::InvalidInput(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

/// A name used in paths and unique-name claims: [`check_text`] (at most 64), and only
/// lower-case letters, digits, '-', '_' and '.'.
fn check_slug(field: &str, value: &str) -> RaResult<()> {
    check_text(field, value, 64)?;
    if !value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
    {
        return Err(RaError::InvalidInput(format!(
            "{field} may contain lower-case letters, digits, '-', '_' and '.' only"
        )));
    }
    Ok(())
}

/// A decision or revocation message: at most 1024 characters.
fn check_message(message: &str) -> RaResult<()> {
    if message.chars().count() > 1024 {
        return Err(RaError::InvalidInput(
            "a message must be at most 1024 characters".into(),
        ));
    }
    Ok(())
}

/// An organization, or a department of one, as the audit log names it.
fn scope_label(scope: Scope) -> String {
    match scope.dept {
        Some(d) => format!("{} {}", scope.org.label(), d.label()),
        None => scope.org.label(),
    }
}

impl RegistrationAuthority {
    /// Opens the RA over the CA service's store.
    pub fn open(ca: Arc<CaService>, data_dir: &Path) -> RaResult<Self> {
        let store = ca.certificates().store().clone();
        let secrets = SecretBox::open(data_dir).map_err(|e| {
            RaError::InvalidInput(format!("{}: {e}", data_dir.join("secrets.key").display()))
        })?;
        let mut next_ids = BTreeMap::new();
        for table in [
            ORGS.name(),
            DEPTS.name(),
            DOMAINS.name(),
            ADMINS.name(),
            ENDPOINTS.name(),
            REQUESTS.name(),
            CUSTOM_FIELDS.name(),
        ] {
            let last = store
                .last_key(table)?
                .and_then(|k| u64_from_key(&k))
                .unwrap_or(0);
            next_ids.insert(table, last + 1);
        }
        let org_units = next_ids[ORGS.name()].max(next_ids[DEPTS.name()]);
        next_ids.insert(ORG_UNITS, org_units);
        next_ids.insert(EAB_NUMBERS, eab_accounts::last_number(&store)? + 1);
        let profile_numbers = profile_numbers::number_profiles(&store, &ca.profiles().names())?;
        certificates::build_owner_indexes(&store)?;
        let swept_until = certificates::swept_until(&store)?;
        Ok(Self {
            audit: AuditLog::open(store.clone())?,
            ca,
            store,
            secrets,
            sessions: SessionTokens::default(),
            next_ids: Mutex::new(next_ids),
            profile_numbers,
            request_lock: Mutex::new(()),
            session_ttl: LOGIN_TTL_SECONDS,
            swept_until: Mutex::new(swept_until),
            login_guard: Default::default(),
        })
    }

    /// How long a login token lives, in seconds.
    pub fn session_ttl(&self) -> i64 {
        self.session_ttl
    }

    /// The CA service.
    pub fn ca(&self) -> &Arc<CaService> {
        &self.ca
    }

    /// The audit log.
    pub fn audit_log(&self) -> &AuditLog {
        &self.audit
    }

    /// The secret box (EAB HMAC keys).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The next id of a table (counted in memory from the table's last key at open).
    fn next_id(&self, table: &'static str) -> u64 {
        let mut ids = self.next_ids.lock().unwrap_or_else(|e| e.into_inner());
        let next = ids.entry(table).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    /// Adds to `batch` the claim of a unique name for record `id`: the batch fails to
    /// commit if the name is taken.
    fn claim_name(&self, batch: &mut WriteBatch, name: &str, id: u64) -> RaResult<()> {
        NAMES.require_absent(batch, name.as_bytes());
        NAMES.put(batch, name.as_bytes(), &NameClaim { id })?;
        Ok(())
    }

    /// Commits `batch` durably with its audit entry; a conflict (a name taken, a record
    /// changed meanwhile) is [`RaError::Conflict`] about `what`.
    fn commit(&self, batch: WriteBatch, event: AuditEvent, what: &str) -> RaResult<AuditEntry> {
        self.audit.commit_with(batch, event).map_err(|e| match e {
            StoreError::Conflict { .. } => RaError::Conflict(what.to_string()),
            other => RaError::Store(other),
        })
    }

    /// Records a denied action in the audit log and returns the error for it.
    fn deny(&self, actor: &Administrator, action: &str, object: &str, denied: Denied) -> RaError {
        let _ = self.audit.record(AuditEvent::denied(
            &actor.username,
            action,
            object,
            denied.to_string(),
        ));
        RaError::Forbidden(denied)
    }

    /// Authorizes `action` in `scope` for `actor`; a denial is audited as `name` on `object`.
    fn require(
        &self,
        actor: &Administrator,
        action: Action,
        scope: Scope,
        name: &str,
        object: &str,
    ) -> RaResult<()> {
        authorize(actor, action, scope).map_err(|d| self.deny(actor, name, object, d))
    }

    /// A certificate profile by name; an unknown one is invalid input.
    fn profile(&self, name: &str) -> RaResult<&CertificateProfile> {
        self.ca
            .profile(name)
            .map_err(|_| RaError::InvalidInput(format!("no profile named '{name}'")))
    }
}
