//! The registration authority service: every operation an administrator or
//! an enrollment endpoint can perform, authorized against role and scope,
//! checked against profiles and name policy, recorded in the audit log, and
//! committed durably with its audit entry in one atomic batch.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::{check_request, IssuanceRequest};
use ca_core::names::SubjectAltName;
use ca_core::profile::{CertificateProfile, SubjectAttribute};
use ca_core::revocation::RevocationReason;
use ca_core::service::{CaService, CaServiceError};
use ca_core::store::keys::u64_from_key;
use ca_core::store::{KeyBuilder, KeyRange, Record, Store, StoreError, Table, WriteBatch};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::{AuditEntry, AuditEvent, AuditLog, ChainBroken};
use crate::authz::{authorize, in_scope, Action, Denied};
use crate::credentials::{self, SecretBox, SessionTokens};
use crate::model::*;
use crate::names::{check_names, DelegatedName};
use crate::request::{
    CertificateRequest, Channel, IllegalTransition, RequestState, StateName, Transition,
};

/// Errors of the registration authority, each with a stable machine-readable code.
#[derive(Debug, thiserror::Error)]
pub enum RaError {
    /// Not logged in, or bad credentials.
    #[error("authentication failed: {0}")]
    Unauthenticated(String),
    /// Logged in, but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(#[from] Denied),
    /// No such object (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// The input is not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A unique name is taken.
    #[error("{0} already exists")]
    Conflict(String),
    /// The state machine refuses the transition.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The CA side failed.
    #[error("CA error: {0}")]
    Ca(#[from] CaServiceError),
    /// The store failed.
    #[error("store error: {0}")]
    Store(#[from] StoreError),
}

impl RaError {
    /// The stable error code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            RaError::Unauthenticated(_) => "unauthenticated",
            RaError::Forbidden(_) => "forbidden",
            RaError::NotFound(_) => "not_found",
            RaError::InvalidInput(_) => "invalid_input",
            RaError::Conflict(_) => "conflict",
            RaError::IllegalTransition(_) => "illegal_transition",
            RaError::Ca(CaServiceError::UnknownCertificate(_)) => "not_found",
            RaError::Ca(CaServiceError::AlreadyRevoked(_)) => "illegal_transition",
            RaError::Ca(CaServiceError::Issuance(_)) => "invalid_input",
            RaError::Ca(_) => "ca_error",
            RaError::Store(_) => "internal",
        }
    }
}

type RaResult<T> = Result<T, RaError>;

/// Ownership of a certificate (issued here or imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateOwner {
    /// The organization.
    pub org: OrgId,
    /// The department.
    pub dept: Option<DeptId>,
    /// The request it was issued for (None for an imported one).
    pub request: Option<RequestId>,
    /// Imported from outside (externally managed).
    pub external: bool,
}

impl Record for CertificateOwner {
    const SCHEMA_VERSION: u16 = 1;
}

/// An API key record (the key itself is shown once and stored as SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// The key's id part.
    pub id: String,
    /// Its owner.
    pub admin: AdminId,
    /// A label.
    pub label: String,
    /// SHA-256 of the whole key, hex.
    pub hash: String,
    /// Unix time.
    pub created_at: i64,
}

impl Record for ApiKeyRecord {
    const SCHEMA_VERSION: u16 = 1;
}

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
/// Unique names: "admin:<username>", "org:<name>", "endpoint:<name>", "eab:<key id>", "domain:<org>:<name>".
const NAMES: Table<NameClaim> = Table::new("ra_unique_names");

fn id_key(id: u64) -> Vec<u8> {
    KeyBuilder::new().u64(id).build()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The name of the demo's ACME endpoint (auto-approve, EAB optional, organization Demo).
pub const DEMO_ACME_ENDPOINT: &str = "default";

/// Who is asking: an administrator, or a protocol client through an enrollment endpoint.
#[derive(Debug, Clone)]
pub enum Requester<'a> {
    /// An administrator (REST API or CLI).
    Admin(&'a Administrator),
    /// A protocol client (ACME account, SCEP device, EST client) through an endpoint.
    Endpoint {
        /// The endpoint.
        endpoint: &'a Endpoint,
        /// How the client is known (an ACME account URL, a device name).
        identity: &'a str,
    },
}

impl Requester<'_> {
    fn name(&self) -> String {
        match self {
            Requester::Admin(a) => a.username.clone(),
            Requester::Endpoint { endpoint, identity } => format!("{}:{identity}", endpoint.name),
        }
    }
}

/// A new certificate request.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The CSR (PEM or DER).
    pub csr: Vec<u8>,
    /// The profile (for endpoint requests the endpoint's profile is used).
    pub profile: String,
    /// The owning organization (endpoint requests: the endpoint's).
    pub org: OrgId,
    /// The owning department.
    pub dept: Option<DeptId>,
    /// Term in days.
    pub term_days: Option<u32>,
    /// Names decided by the protocol (ACME identifiers); None takes the CSR's.
    pub names: Option<Vec<SubjectAltName>>,
    /// The channel.
    pub channel: Channel,
    /// The certificate this renews or replaces.
    pub renewal_of: Option<u64>,
    /// Whether issuing marks `renewal_of` Replaced.
    pub replaces: bool,
}

/// Filters for listing requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFilter {
    /// Only this state.
    pub status: Option<StateName>,
    /// Only this organization.
    pub org: Option<OrgId>,
    /// Only this profile.
    pub profile: Option<String>,
    /// Only names containing this text.
    pub name: Option<String>,
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
}

/// A certificate with its owner, as the API shows it.
#[derive(Debug, Clone)]
pub struct OwnedCertificate {
    /// The record.
    pub record: CertificateRecord,
    /// Its owner.
    pub owner: CertificateOwner,
}

/// A new enrollment endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Unique name.
    pub name: String,
    /// "acme", "scep", "est" or "rest".
    pub kind: String,
    /// The owner.
    pub org: OrgId,
    /// The owning department.
    pub dept: Option<DeptId>,
    /// The profile.
    pub profile: String,
    /// Default term.
    pub default_term_days: Option<u32>,
    /// Approval mode.
    pub approval: ApprovalMode,
    /// ACME: require EAB.
    #[serde(default)]
    pub eab_required: bool,
    /// EST: the Basic user name (defaults to the endpoint name).
    pub est_username: Option<String>,
}

/// A secret shown once at creation.
#[derive(Debug)]
pub enum EndpointSecret {
    /// Nothing to show.
    None,
    /// The SCEP challenge password.
    ScepChallenge(Zeroizing<String>),
    /// The EST Basic password.
    EstPassword(Zeroizing<String>),
}

/// The registration authority.
pub struct RegistrationAuthority {
    ca: Arc<CaService>,
    store: Store,
    audit: AuditLog,
    secrets: SecretBox,
    sessions: SessionTokens,
    next_ids: Mutex<BTreeMap<&'static str, u64>>,
    /// Serializes state changes of requests (approvals racing each other issue once).
    request_lock: Mutex<()>,
    session_ttl: i64,
    /// Certificates expiring before this unix time have been swept.
    swept_until: Mutex<i64>,
}

impl std::fmt::Debug for RegistrationAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationAuthority")
            .finish_non_exhaustive()
    }
}

const LOGIN_TTL_SECONDS: i64 = 3600;

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
        ] {
            let last = store
                .last_key(table)?
                .and_then(|k| u64_from_key(&k))
                .unwrap_or(0);
            next_ids.insert(table, last + 1);
        }
        Ok(Self {
            audit: AuditLog::open(store.clone())?,
            ca,
            store,
            secrets,
            sessions: SessionTokens::default(),
            next_ids: Mutex::new(next_ids),
            request_lock: Mutex::new(()),
            session_ttl: LOGIN_TTL_SECONDS,
            swept_until: Mutex::new(i64::MIN),
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

    fn next_id(&self, table: &'static str) -> u64 {
        let mut ids = self.next_ids.lock().unwrap_or_else(|e| e.into_inner());
        let next = ids.entry(table).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    fn claim_name(&self, batch: &mut WriteBatch, name: &str, id: u64) -> RaResult<()> {
        NAMES.require_absent(batch, name.as_bytes());
        NAMES.put(batch, name.as_bytes(), &NameClaim { id })?;
        Ok(())
    }

    fn commit(&self, batch: WriteBatch, event: AuditEvent, what: &str) -> RaResult<AuditEntry> {
        self.audit.commit_with(batch, event).map_err(|e| match e {
            StoreError::Conflict { .. } => RaError::Conflict(what.to_string()),
            other => RaError::Store(other),
        })
    }

    fn deny(&self, actor: &Administrator, action: &str, object: &str, denied: Denied) -> RaError {
        let _ = self.audit.record(AuditEvent::denied(
            &actor.username,
            action,
            object,
            denied.to_string(),
        ));
        RaError::Forbidden(denied)
    }

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

    // ---------------------------------------------------------------- bootstrap and authentication

    /// Creates the first MRAO when there is no administrator; returns its generated password (shown once).
    pub fn bootstrap_mrao(&self, username: &str) -> RaResult<Option<Zeroizing<String>>> {
        if !ADMINS.scan(&self.store, KeyRange::all(), 1)?.is_empty() {
            return Ok(None);
        }
        let password = Zeroizing::new(credentials::random_token::<18>());
        let admin = Administrator {
            id: AdminId(self.next_id(ADMINS.name())),
            username: username.to_string(),
            password_hash: credentials::hash_password(&password),
            role: Role::Mrao,
            privileges: Privileges::all(),
            active: true,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("admin:{}", admin.username), admin.id.0)?;
        ADMINS.put(&mut batch, &id_key(admin.id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success("system", "admin.bootstrap", &admin.id.label(), "first MRAO"),
            "administrator",
        )?;
        Ok(Some(password))
    }

    /// Creates the demo organization with the private-use domains, once.
    pub fn ensure_demo_organization(&self) -> RaResult<Option<OrgId>> {
        if NAMES.get(&self.store, b"org:Demo")?.is_some() {
            return Ok(None);
        }
        let org = Organization {
            id: OrgId(self.next_id(ORGS.name())),
            name: "Demo".into(),
            address: Address::default(),
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, "org:Demo", org.id.0)?;
        ORGS.put(&mut batch, &id_key(org.id.0), &org)?;
        for name in [
            "localhost",
            "test",
            "internal",
            "home.arpa",
            "127.0.0.0/8",
            "::1",
        ] {
            let delegation = DomainDelegation {
                id: DomainId(self.next_id(DOMAINS.name())),
                name: name.parse().map_err(RaError::InvalidInput)?,
                org: org.id,
                dept: None,
                created_at: now(),
            };
            self.claim_name(
                &mut batch,
                &format!("domain:{}:0:{}", org.id, delegation.name),
                delegation.id.0,
            )?;
            DOMAINS.put(&mut batch, &id_key(delegation.id.0), &delegation)?;
        }
        // The demo's ACME endpoint: a newcomer points certbot or lego at it and gets a
        // certificate for a private-use name at once.
        let endpoint = Endpoint {
            id: EndpointId(self.next_id(ENDPOINTS.name())),
            name: DEMO_ACME_ENDPOINT.into(),
            kind: EndpointKind::Acme {
                eab_required: false,
                eab_keys: Vec::new(),
            },
            org: org.id,
            dept: None,
            profile: "tls-server".into(),
            default_term_days: None,
            approval: ApprovalMode::Auto,
            active: true,
            created_at: now(),
        };
        self.claim_name(
            &mut batch,
            &format!("endpoint:{}", endpoint.name),
            endpoint.id.0,
        )?;
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                "system",
                "org.create",
                &org.id.label(),
                "demo organization with ACME endpoint 'default'",
            ),
            "organization",
        )?;
        Ok(Some(org.id))
    }

    /// Logs in with username and password; returns a short-lived bearer token.
    pub fn login(
        &self,
        username: &str,
        password: &str,
    ) -> RaResult<(Zeroizing<String>, Administrator)> {
        let admin = self.admin_by_username(username)?;
        let hash = admin
            .as_ref()
            .map(|a| a.password_hash.as_str())
            .unwrap_or(credentials::decoy_password_hash());
        let ok = credentials::verify_password(hash, password);
        match admin {
            Some(admin) if ok && admin.active => {
                let token = self.sessions.issue(admin.id, now(), self.session_ttl);
                self.audit.record(AuditEvent::success(
                    &admin.username,
                    "login",
                    &admin.id.label(),
                    "",
                ))?;
                Ok((token, admin))
            }
            Some(admin) if ok => {
                let _ = self.audit.record(AuditEvent::denied(
                    &admin.username,
                    "login",
                    &admin.id.label(),
                    "deactivated",
                ));
                Err(RaError::Unauthenticated(
                    "this administrator is deactivated".into(),
                ))
            }
            _ => {
                let _ = self.audit.record(AuditEvent::denied(
                    username,
                    "login",
                    "admin:?",
                    "bad credentials",
                ));
                Err(RaError::Unauthenticated(
                    "wrong username or password".into(),
                ))
            }
        }
    }

    /// The administrator behind a bearer token (a session token or an API key).
    pub fn authenticate(&self, token: &str) -> RaResult<Administrator> {
        let bad =
            || RaError::Unauthenticated("the token is invalid or expired; log in again".into());
        let admin_id = if let Some(key_id) = credentials::api_key_id(token) {
            let record = API_KEYS
                .get(&self.store, key_id.as_bytes())?
                .ok_or_else(bad)?;
            if !credentials::digests_equal(&credentials::sha256_hex(token), &record.hash) {
                return Err(bad());
            }
            record.admin
        } else {
            self.sessions.resolve(token, now()).ok_or_else(bad)?
        };
        let admin = ADMINS
            .get(&self.store, &id_key(admin_id.0))?
            .ok_or_else(bad)?;
        if !admin.active {
            return Err(RaError::Unauthenticated(
                "this administrator is deactivated".into(),
            ));
        }
        Ok(admin)
    }

    /// Creates a long-lived API key for an administrator (oneself, or anyone for an MRAO).
    pub fn create_api_key(
        &self,
        actor: &Administrator,
        admin: AdminId,
        label: &str,
    ) -> RaResult<(ApiKeyRecord, Zeroizing<String>)> {
        check_text("label", label, 64)?;
        if actor.id != admin {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "apikey.create",
                &admin.label(),
            )?;
        }
        let owner = self.admin(admin)?;
        let key = credentials::new_api_key();
        let record = ApiKeyRecord {
            id: key.id.clone(),
            admin: owner.id,
            label: label.to_string(),
            hash: key.hash,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        API_KEYS.require_absent(&mut batch, record.id.as_bytes());
        API_KEYS.put(&mut batch, record.id.as_bytes(), &record)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "apikey.create",
                &owner.id.label(),
                format!("key {} ({label})", record.id),
            ),
            "API key",
        )?;
        Ok((record, key.key))
    }

    // ---------------------------------------------------------------- organizations, departments, domains

    /// Creates an organization (MRAO).
    pub fn create_organization(
        &self,
        actor: &Administrator,
        name: &str,
        address: Address,
    ) -> RaResult<Organization> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "org.create",
            name,
        )?;
        check_text("name", name, 128)?;
        for (field, value) in [("locality", &address.locality), ("state", &address.state)] {
            if let Some(v) = value {
                check_text(field, v, 128)?;
            }
        }
        if let Some(c) = &address.country {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                return Err(RaError::InvalidInput(
                    "country must be two upper-case letters".into(),
                ));
            }
        }
        let org = Organization {
            id: OrgId(self.next_id(ORGS.name())),
            name: name.to_string(),
            address,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("org:{name}"), org.id.0)?;
        ORGS.put(&mut batch, &id_key(org.id.0), &org)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "org.create", &org.id.label(), name),
            &format!("organization '{name}'"),
        )?;
        Ok(org)
    }

    /// One organization, if visible to the actor.
    pub fn organization(&self, actor: &Administrator, id: OrgId) -> RaResult<Organization> {
        let org = ORGS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))?;
        if !self.sees_org(actor, id)? {
            return Err(RaError::NotFound(id.label()));
        }
        Ok(org)
    }

    fn sees_org(&self, actor: &Administrator, org: OrgId) -> RaResult<bool> {
        Ok(match &actor.role {
            Role::Mrao => true,
            Role::Rao { orgs } => orgs.contains(&org),
            Role::Drao { depts } => depts.iter().any(|d| {
                DEPTS
                    .get(&self.store, &id_key(d.0))
                    .ok()
                    .flatten()
                    .is_some_and(|dept| dept.org == org)
            }),
        })
    }

    /// Organizations visible to the actor.
    pub fn organizations(&self, actor: &Administrator) -> RaResult<Vec<Organization>> {
        let all = ORGS.scan(&self.store, KeyRange::all(), usize::MAX)?;
        let mut out = Vec::new();
        for (_, org) in all {
            if self.sees_org(actor, org.id)? {
                out.push(org);
            }
        }
        Ok(out)
    }

    /// Creates a department (MRAO, or an RAO with a manage privilege in that organization).
    pub fn create_department(
        &self,
        actor: &Administrator,
        org: OrgId,
        name: &str,
    ) -> RaResult<Department> {
        self.organization_exists(org)?;
        self.require(
            actor,
            Action::ManageScope,
            crate::authz::org_scope(org),
            "dept.create",
            &org.label(),
        )?;
        check_text("name", name, 128)?;
        let dept = Department {
            id: DeptId(self.next_id(DEPTS.name())),
            org,
            name: name.to_string(),
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("dept:{org}:{name}"), dept.id.0)?;
        DEPTS.put(&mut batch, &id_key(dept.id.0), &dept)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "dept.create", &dept.id.label(), name),
            &format!("department '{name}'"),
        )?;
        Ok(dept)
    }

    fn organization_exists(&self, org: OrgId) -> RaResult<Organization> {
        ORGS.get(&self.store, &id_key(org.0))?
            .ok_or_else(|| RaError::NotFound(org.label()))
    }

    /// A department by id (internal: no authorization).
    pub fn department(&self, id: DeptId) -> RaResult<Department> {
        DEPTS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// Departments visible to the actor, optionally of one organization.
    pub fn departments(
        &self,
        actor: &Administrator,
        org: Option<OrgId>,
    ) -> RaResult<Vec<Department>> {
        Ok(DEPTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| org.is_none_or(|o| d.org == o))
            .filter(|d| {
                in_scope(
                    &actor.role,
                    Scope {
                        org: d.org,
                        dept: Some(d.id),
                    },
                )
            })
            .collect())
    }

    fn scope_of(&self, org: OrgId, dept: Option<DeptId>) -> RaResult<Scope> {
        self.organization_exists(org)?;
        if let Some(d) = dept {
            let dept_record = self.department(d)?;
            if dept_record.org != org {
                return Err(RaError::InvalidInput(format!(
                    "department {d} is not in organization {org}"
                )));
            }
        }
        Ok(Scope { org, dept })
    }

    /// Delegates a domain (or IP network) to an organization or one of its departments.
    pub fn delegate_domain(
        &self,
        actor: &Administrator,
        name: &str,
        org: OrgId,
        dept: Option<DeptId>,
    ) -> RaResult<DomainDelegation> {
        let scope = self.scope_of(org, dept)?;
        let delegated: DelegatedName = name.parse().map_err(RaError::InvalidInput)?;
        let existing = self.all_domains()?;
        match dept {
            // Giving an organization a name is the MRAO's decision (it vouches for the name).
            None => self.require(
                actor,
                Action::Administer,
                scope,
                "domain.delegate",
                &scope_label(scope),
            )?,
            // Handing part of the organization's names down to a department is the organization's.
            Some(_) => {
                self.require(
                    actor,
                    Action::ManageScope,
                    crate::authz::org_scope(org),
                    "domain.delegate",
                    &scope_label(scope),
                )?;
                if !existing
                    .iter()
                    .any(|d| d.org == org && d.dept.is_none() && d.name.contains(&delegated))
                {
                    return Err(RaError::InvalidInput(format!(
                        "{delegated} is not under a domain delegated to organization {org}; delegate it to the organization first"
                    )));
                }
            }
        }
        if let Some(clash) = existing
            .iter()
            .find(|d| d.org != org && (d.name.contains(&delegated) || delegated.contains(&d.name)))
        {
            return Err(RaError::Conflict(format!(
                "{delegated} overlaps {} of organization {}; a delegation of it",
                clash.name, clash.org
            )));
        }
        let delegation = DomainDelegation {
            id: DomainId(self.next_id(DOMAINS.name())),
            name: delegated,
            org,
            dept,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(
            &mut batch,
            &format!(
                "domain:{org}:{}:{}",
                dept.map(|d| d.0).unwrap_or(0),
                delegation.name
            ),
            delegation.id.0,
        )?;
        DOMAINS.put(&mut batch, &id_key(delegation.id.0), &delegation)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "domain.delegate",
                &delegation.id.label(),
                format!("{} to {}", delegation.name, scope_label(scope)),
            ),
            &format!("delegation of {}", delegation.name),
        )?;
        Ok(delegation)
    }

    /// Domain delegations visible to the actor.
    pub fn domains(&self, actor: &Administrator) -> RaResult<Vec<DomainDelegation>> {
        let mut out = Vec::new();
        for (_, d) in DOMAINS.scan(&self.store, KeyRange::all(), usize::MAX)? {
            if in_scope(
                &actor.role,
                Scope {
                    org: d.org,
                    dept: d.dept,
                },
            ) || self.sees_org(actor, d.org)? && d.dept.is_none()
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn all_domains(&self) -> RaResult<Vec<DomainDelegation>> {
        Ok(DOMAINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// The delegations an organization / department may use (the organization-wide ones and,
    /// with a department, its own): for protocol servers that check names before a CSR exists
    /// (an ACME newOrder), with [`check_names`].
    pub fn delegations_usable_by(
        &self,
        org: OrgId,
        dept: Option<DeptId>,
    ) -> RaResult<Vec<DomainDelegation>> {
        Ok(self
            .all_domains()?
            .into_iter()
            .filter(|d| d.org == org && (d.dept.is_none() || d.dept == dept))
            .collect())
    }

    // ---------------------------------------------------------------- administrators

    fn admin_by_username(&self, username: &str) -> RaResult<Option<Administrator>> {
        match NAMES.get(&self.store, format!("admin:{username}").as_bytes())? {
            Some(claim) => Ok(ADMINS.get(&self.store, &id_key(claim.id))?),
            None => Ok(None),
        }
    }

    /// An administrator by id (internal).
    pub fn admin(&self, id: AdminId) -> RaResult<Administrator> {
        ADMINS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// Creates an administrator (MRAO).
    pub fn create_admin(
        &self,
        actor: &Administrator,
        username: &str,
        password: &str,
        role: Role,
        privileges: Privileges,
    ) -> RaResult<Administrator> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "admin.create",
            username,
        )?;
        check_slug("username", username)?;
        credentials::check_password_strength(password).map_err(RaError::InvalidInput)?;
        match &role {
            Role::Mrao => {}
            Role::Rao { orgs } => {
                if orgs.is_empty() {
                    return Err(RaError::InvalidInput(
                        "an RAO needs at least one organization".into(),
                    ));
                }
                for org in orgs {
                    self.organization_exists(*org)?;
                }
            }
            Role::Drao { depts } => {
                if depts.is_empty() {
                    return Err(RaError::InvalidInput(
                        "a DRAO needs at least one department".into(),
                    ));
                }
                for dept in depts {
                    self.department(*dept)?;
                }
            }
        }
        let admin = Administrator {
            id: AdminId(self.next_id(ADMINS.name())),
            username: username.to_string(),
            password_hash: credentials::hash_password(password),
            role,
            privileges,
            active: true,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("admin:{username}"), admin.id.0)?;
        ADMINS.put(&mut batch, &id_key(admin.id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "admin.create",
                &admin.id.label(),
                format!("{username} as {}", admin.role.name()),
            ),
            &format!("administrator '{username}'"),
        )?;
        Ok(admin)
    }

    /// Administrators (MRAO sees all; others see themselves).
    pub fn admins(&self, actor: &Administrator) -> RaResult<Vec<Administrator>> {
        Ok(ADMINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| actor.role == Role::Mrao || a.id == actor.id)
            .collect())
    }

    /// Activates or deactivates an administrator (MRAO); deactivation ends their sessions.
    pub fn set_admin_active(
        &self,
        actor: &Administrator,
        id: AdminId,
        active: bool,
    ) -> RaResult<Administrator> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "admin.update",
            &id.label(),
        )?;
        if actor.id == id && !active {
            return Err(RaError::InvalidInput(
                "you cannot deactivate yourself".into(),
            ));
        }
        let mut admin = self.admin(id)?;
        admin.active = active;
        let mut batch = WriteBatch::new();
        ADMINS.require_present(&mut batch, &id_key(id.0));
        ADMINS.put(&mut batch, &id_key(id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                if active {
                    "admin.activate"
                } else {
                    "admin.deactivate"
                },
                &id.label(),
                "",
            ),
            "administrator",
        )?;
        if !active {
            self.sessions.revoke_all(id);
        }
        Ok(admin)
    }

    // ---------------------------------------------------------------- enrollment endpoints

    /// Creates an enrollment endpoint; SCEP and EST secrets are generated and shown once.
    pub fn create_endpoint(
        &self,
        actor: &Administrator,
        new: NewEndpoint,
    ) -> RaResult<(Endpoint, EndpointSecret)> {
        let scope = self.scope_of(new.org, new.dept)?;
        check_slug("name", &new.name)?;
        let profile = self
            .ca
            .profile(&new.profile)
            .map_err(|_| RaError::InvalidInput(format!("no profile named '{}'", new.profile)))?;
        // An endpoint issues on its owners' behalf: managing it needs `manage` on the class it
        // issues, and an auto-approving one also needs `approve` (it approves for its creator).
        let class = CertificateClass::of(profile.certificate_type);
        self.require(
            actor,
            Action::ManageEndpoints(class),
            scope,
            "endpoint.create",
            &scope_label(scope),
        )?;
        if new.approval == ApprovalMode::Auto {
            self.require(
                actor,
                Action::ApproveCertificate(class),
                scope,
                "endpoint.create",
                &scope_label(scope),
            )?;
        }
        if let Some(term) = new.default_term_days {
            if profile.term_for(Some(term)).is_none() {
                return Err(RaError::InvalidInput(format!(
                    "a term of {term} days is not allowed by profile '{}' (at most {})",
                    profile.name,
                    profile.max_term_days()
                )));
            }
        }
        let (kind, secret) = match new.kind.as_str() {
            "acme" => (
                EndpointKind::Acme {
                    eab_required: new.eab_required,
                    eab_keys: Vec::new(),
                },
                EndpointSecret::None,
            ),
            "scep" => {
                let challenge = Zeroizing::new(credentials::random_token::<18>());
                (
                    EndpointKind::Scep {
                        challenge_hash: credentials::hash_password(&challenge),
                    },
                    EndpointSecret::ScepChallenge(challenge),
                )
            }
            "est" => {
                let password = Zeroizing::new(credentials::random_token::<18>());
                let username = new.est_username.clone().unwrap_or_else(|| new.name.clone());
                check_slug("est_username", &username)?;
                (
                    EndpointKind::Est {
                        label: new.name.clone(),
                        username,
                        password_hash: credentials::hash_password(&password),
                    },
                    EndpointSecret::EstPassword(password),
                )
            }
            "rest" => (EndpointKind::Rest, EndpointSecret::None),
            other => {
                return Err(RaError::InvalidInput(format!(
                    "unknown endpoint kind '{other}' (acme, scep, est, rest)"
                )))
            }
        };
        let endpoint = Endpoint {
            id: EndpointId(self.next_id(ENDPOINTS.name())),
            name: new.name.clone(),
            kind,
            org: new.org,
            dept: new.dept,
            profile: new.profile,
            default_term_days: new.default_term_days,
            approval: new.approval,
            active: true,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(
            &mut batch,
            &format!("endpoint:{}", endpoint.name),
            endpoint.id.0,
        )?;
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.create",
                &endpoint.id.label(),
                format!(
                    "{} endpoint '{}' for {}",
                    endpoint.kind.name(),
                    endpoint.name,
                    scope_label(scope)
                ),
            ),
            &format!("endpoint '{}'", endpoint.name),
        )?;
        Ok((endpoint, secret))
    }

    /// An endpoint by name (internal: protocol servers resolve their endpoint with it).
    pub fn endpoint_by_name(&self, name: &str) -> RaResult<Endpoint> {
        let claim = NAMES
            .get(&self.store, format!("endpoint:{name}").as_bytes())?
            .ok_or_else(|| RaError::NotFound(format!("endpoint '{name}'")))?;
        ENDPOINTS
            .get(&self.store, &id_key(claim.id))?
            .ok_or_else(|| RaError::NotFound(format!("endpoint '{name}'")))
    }

    /// Endpoints visible to the actor.
    pub fn endpoints(&self, actor: &Administrator) -> RaResult<Vec<Endpoint>> {
        Ok(ENDPOINTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| {
                in_scope(
                    &actor.role,
                    Scope {
                        org: e.org,
                        dept: e.dept,
                    },
                )
            })
            .collect())
    }

    /// Adds an EAB key to an ACME endpoint; returns the key id and the HMAC key (base64url), shown once.
    pub fn add_eab_key(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
    ) -> RaResult<(String, Zeroizing<String>)> {
        let mut endpoint = ENDPOINTS
            .get(&self.store, &id_key(endpoint_id.0))?
            .ok_or_else(|| RaError::NotFound(endpoint_id.label()))?;
        let scope = Scope {
            org: endpoint.org,
            dept: endpoint.dept,
        };
        let class = CertificateClass::of(self.profile(&endpoint.profile)?.certificate_type);
        self.require(
            actor,
            Action::ManageEndpoints(class),
            scope,
            "endpoint.eab.create",
            &endpoint_id.label(),
        )?;
        let EndpointKind::Acme { eab_keys, .. } = &mut endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an ACME endpoint",
                endpoint.name
            )));
        };
        let key_id = format!("kid-{}", hex::encode(credentials::random_bytes::<8>()));
        let hmac = Zeroizing::new(credentials::random_bytes::<32>().to_vec());
        eab_keys.push(EabKey {
            key_id: key_id.clone(),
            sealed_hmac_key: self.secrets.seal(&hmac),
            bound_account: None,
            created_at: now(),
        });
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("eab:{key_id}"), endpoint.id.0)?;
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.eab.create",
                &endpoint_id.label(),
                key_id.clone(),
            ),
            "EAB key",
        )?;
        use base64::Engine;
        Ok((
            key_id,
            Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hmac[..])),
        ))
    }

    /// Adds to `batch` the binding of an ACME endpoint's EAB key to an account (the
    /// caller commits it with the account it creates). A key id binds one account: a
    /// key already bound is a conflict here, and a race between two accounts is one
    /// when the batch commits (the `eab-bound:<key id>` claim must be absent).
    pub fn bind_eab_key_into(
        &self,
        batch: &mut WriteBatch,
        endpoint_id: EndpointId,
        key_id: &str,
        account: &str,
    ) -> RaResult<()> {
        let mut endpoint = ENDPOINTS
            .get(&self.store, &id_key(endpoint_id.0))?
            .ok_or_else(|| RaError::NotFound(endpoint_id.label()))?;
        let EndpointKind::Acme { eab_keys, .. } = &mut endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an ACME endpoint",
                endpoint.name
            )));
        };
        let key = eab_keys
            .iter_mut()
            .find(|k| k.key_id == key_id)
            .ok_or_else(|| RaError::NotFound(format!("EAB key {key_id}")))?;
        if key.bound_account.is_some() {
            return Err(RaError::Conflict(format!("a binding of EAB key {key_id}")));
        }
        key.bound_account = Some(account.to_string());
        self.claim_name(batch, &format!("eab-bound:{key_id}"), endpoint_id.0)?;
        ENDPOINTS.put(batch, &id_key(endpoint_id.0), &endpoint)?;
        Ok(())
    }

    // ---------------------------------------------------------------- requests

    fn owner_subject(
        &self,
        org: &Organization,
        dept: Option<&Department>,
    ) -> BTreeMap<SubjectAttribute, String> {
        let mut subject = BTreeMap::new();
        subject.insert(SubjectAttribute::Organization, org.name.clone());
        if let Some(l) = &org.address.locality {
            subject.insert(SubjectAttribute::Locality, l.clone());
        }
        if let Some(s) = &org.address.state {
            subject.insert(SubjectAttribute::State, s.clone());
        }
        if let Some(c) = &org.address.country {
            subject.insert(SubjectAttribute::Country, c.clone());
        }
        if let Some(d) = dept {
            subject.insert(SubjectAttribute::OrganizationalUnit, d.name.clone());
        }
        subject
    }

    fn profile(&self, name: &str) -> RaResult<&CertificateProfile> {
        self.ca
            .profile(name)
            .map_err(|_| RaError::InvalidInput(format!("no profile named '{name}'")))
    }

    /// Submits a certificate request. A CSR that does not parse is refused and nothing is
    /// stored; a request the profile or the name policy refuses is recorded as Invalid; one
    /// whose requester may approve it, or whose endpoint auto-approves, is issued at once.
    pub fn submit(
        &self,
        requester: Requester<'_>,
        submission: Submission,
    ) -> RaResult<CertificateRequest> {
        self.submit_inner(requester, submission, None)
    }

    /// [`RegistrationAuthority::submit`] for a caller that has already parsed and verified
    /// the CSR (a protocol edge checking its names): the RA uses `csr` and does not verify
    /// its signature again; `submission.csr` is ignored.
    pub fn submit_verified(
        &self,
        requester: Requester<'_>,
        submission: Submission,
        csr: VerifiedCsr,
    ) -> RaResult<CertificateRequest> {
        self.submit_inner(requester, submission, Some(csr))
    }

    fn submit_inner(
        &self,
        requester: Requester<'_>,
        submission: Submission,
        verified: Option<VerifiedCsr>,
    ) -> RaResult<CertificateRequest> {
        let (org, dept, profile_name, term_days, endpoint_id, channel) = match &requester {
            Requester::Admin(_) => (
                submission.org,
                submission.dept,
                submission.profile.clone(),
                submission.term_days,
                None,
                submission.channel,
            ),
            Requester::Endpoint { endpoint, .. } => {
                if !endpoint.active {
                    return Err(RaError::Forbidden(Denied::Inactive(endpoint.name.clone())));
                }
                (
                    endpoint.org,
                    endpoint.dept,
                    endpoint.profile.clone(),
                    submission.term_days.or(endpoint.default_term_days),
                    Some(endpoint.id),
                    submission.channel,
                )
            }
        };
        let scope = self.scope_of(org, dept)?;
        let profile = self.profile(&profile_name)?;
        let class = CertificateClass::of(profile.certificate_type);
        if let Requester::Admin(admin) = &requester {
            self.require(
                admin,
                Action::RequestCertificate(class),
                scope,
                "request.submit",
                &scope_label(scope),
            )?;
        }
        if let Some(old) = submission.renewal_of {
            // Renewing or replacing reaches into another certificate: only one with the same owner.
            let owned = self
                .certificate_owner(old)
                .map_err(|_| RaError::NotFound(format!("certificate:{old}")))?;
            if owned.org != org || owned.dept != dept {
                return Err(RaError::NotFound(format!("certificate:{old}")));
            }
        }
        let csr = match verified {
            Some(csr) => csr,
            None => VerifiedCsr::parse(&submission.csr)
                .map_err(|e| RaError::InvalidInput(e.to_string()))?,
        };
        let actor_name = requester.name();
        let at = now();
        let mut request = CertificateRequest {
            id: RequestId(self.next_id(REQUESTS.name())),
            org,
            dept,
            profile: profile_name,
            csr_der: csr.der().to_vec(),
            names: submission
                .names
                .clone()
                .unwrap_or_else(|| csr.requested_names().to_vec()),
            term_days,
            requester: actor_name.clone(),
            channel,
            endpoint: endpoint_id,
            renewal_of: submission.renewal_of,
            replaces: submission.replaces,
            state: RequestState::Requested,
            history: vec![Transition {
                from: None,
                to: StateName::Requested,
                actor: actor_name.clone(),
                at,
                reason: String::new(),
            }],
            created_at: at,
        };

        // The profile decides what can be asked; the delegations decide which names.
        let checked = check_request(&IssuanceRequest {
            csr: &csr,
            profile,
            names: submission.names.clone(),
            term_days,
            owner_subject: BTreeMap::new(),
        })
        .map_err(|e| e.to_string())
        .and_then(|names| {
            request.names = names.clone();
            check_names(
                &names,
                org,
                dept,
                &self.all_domains().map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())
        });
        if let Err(reason) = checked {
            request.transition(RequestState::Invalid, "policy", at, &reason)?;
            let mut batch = WriteBatch::new();
            REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
            self.commit(
                batch,
                AuditEvent::success(
                    &actor_name,
                    "request.submit",
                    &request.id.label(),
                    format!("invalid: {reason}"),
                ),
                "request",
            )?;
            return Ok(request);
        }

        let auto = match &requester {
            Requester::Admin(admin) => {
                authorize(admin, Action::ApproveCertificate(class), scope).is_ok()
            }
            Requester::Endpoint { endpoint, .. } => endpoint.approval == ApprovalMode::Auto,
        };
        if !auto {
            let mut batch = WriteBatch::new();
            REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
            self.commit(
                batch,
                AuditEvent::success(
                    &actor_name,
                    "request.submit",
                    &request.id.label(),
                    "waiting for approval",
                ),
                "request",
            )?;
            return Ok(request);
        }
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        request.transition(
            RequestState::Approved,
            &actor_name,
            at,
            "approved on submission",
        )?;
        self.issue_locked(request, &actor_name, Some(&csr))
    }

    /// Issues an Approved request, committing certificate, request state, ownership and audit entry together.
    ///
    /// `verified` is the CSR when the caller has just verified it (submission), so the
    /// hot path does not parse and check its signature twice; approvals later parse the stored DER.
    fn issue_locked(
        &self,
        mut request: CertificateRequest,
        actor: &str,
        verified: Option<&VerifiedCsr>,
    ) -> RaResult<CertificateRequest> {
        let parsed;
        let csr = match verified {
            Some(csr) => csr,
            None => {
                parsed = VerifiedCsr::from_der(&request.csr_der)
                    .map_err(|e| RaError::InvalidInput(e.to_string()))?;
                &parsed
            }
        };
        let profile = self.profile(&request.profile)?;
        let org = self.organization_exists(request.org)?;
        let dept = request.dept.map(|d| self.department(d)).transpose()?;
        let issuance = IssuanceRequest {
            csr,
            profile,
            names: Some(request.names.clone()),
            term_days: request.term_days,
            owner_subject: self.owner_subject(&org, dept.as_ref()),
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let prepared = match self.ca.prepare_issue(&issuance, &request.requester) {
                Ok(p) => p,
                Err(e) => {
                    let reason = e.to_string();
                    let mut rejected = request.clone();
                    rejected.transition(RequestState::Rejected, "ca", now(), &reason)?;
                    let mut batch = WriteBatch::new();
                    REQUESTS.put(&mut batch, &id_key(rejected.id.0), &rejected)?;
                    self.commit(
                        batch,
                        AuditEvent::success(actor, "request.reject", &rejected.id.label(), reason),
                        "request",
                    )?;
                    return Ok(rejected);
                }
            };
            let mut batch = prepared.batch;
            let certificate = prepared.record.id;
            let mut issued = request.clone();
            issued.transition(RequestState::Issued { certificate }, actor, now(), "")?;
            REQUESTS.put(&mut batch, &id_key(issued.id.0), &issued)?;
            OWNERS.put(
                &mut batch,
                &id_key(certificate),
                &CertificateOwner {
                    org: issued.org,
                    dept: issued.dept,
                    request: Some(issued.id),
                    external: false,
                },
            )?;
            // A replacement commits with the new certificate: the old one becomes Replaced
            // (and its request with it) in the same transaction, or neither happens.
            let mut replaced = None;
            if let (true, Some(old)) = (issued.replaces, issued.renewal_of) {
                if self.replacement_into(&mut batch, old, certificate, actor)? {
                    replaced = Some(old);
                }
            }
            let event = AuditEvent::success(
                actor,
                "certificate.issue",
                &format!("certificate:{certificate}"),
                format!(
                    "{} for {} serial {}{}",
                    issued.id.label(),
                    prepared.record.subject,
                    prepared.record.serial,
                    replaced
                        .map(|old| format!(", replacing certificate:{old}"))
                        .unwrap_or_default()
                ),
            );
            match self.audit.commit_with(batch, event) {
                Ok(_) => {
                    request = issued;
                    break;
                }
                Err(StoreError::Conflict { .. }) if attempts < 3 => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if let (true, Some(old), Some(new)) = (
            request.replaces,
            request.renewal_of,
            request.state.certificate(),
        ) {
            // The old certificate's own trail (the change itself committed above).
            self.audit.record(AuditEvent::success(
                actor,
                "certificate.replace",
                &format!("certificate:{old}"),
                format!("by certificate:{new}"),
            ))?;
        }
        Ok(request)
    }

    /// Adds "old is Replaced by new" to a batch: the certificate's status (only if it is
    /// still Issued when the batch commits) and its request's state. False if it is not Issued.
    fn replacement_into(
        &self,
        batch: &mut WriteBatch,
        old: u64,
        new: u64,
        actor: &str,
    ) -> RaResult<bool> {
        let Some(before) = self.ca.certificates().get(old)? else {
            return Ok(false);
        };
        if !matches!(before.status, CertificateStatus::Issued) {
            return Ok(false);
        }
        self.ca.certificates().update_status_into(
            batch,
            &before,
            CertificateStatus::Replaced { by: new },
        )?;
        if let Some(request_id) = self.certificate_owner(old)?.request {
            if let Some(mut request) = REQUESTS.get(&self.store, &id_key(request_id.0))? {
                if request.state.name() == StateName::Issued {
                    request.transition(
                        RequestState::Replaced {
                            certificate: old,
                            by: new,
                        },
                        actor,
                        now(),
                        "replaced",
                    )?;
                    REQUESTS.put(batch, &id_key(request.id.0), &request)?;
                }
            }
        }
        Ok(true)
    }

    /// A request, if visible to the actor.
    pub fn request(&self, actor: &Administrator, id: RequestId) -> RaResult<CertificateRequest> {
        let request = self.request_internal(id)?;
        if authorize(
            actor,
            Action::View,
            Scope {
                org: request.org,
                dept: request.dept,
            },
        )
        .is_err()
        {
            return Err(RaError::NotFound(id.label()));
        }
        Ok(request)
    }

    /// A request by id (internal: protocol servers poll their own requests).
    pub fn request_internal(&self, id: RequestId) -> RaResult<CertificateRequest> {
        REQUESTS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// A request the actor may approve or decline (call with the request lock held).
    fn request_for_decision(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
        action: &str,
    ) -> RaResult<CertificateRequest> {
        check_message(message)?;
        let request = self.request(actor, id)?;
        let class = CertificateClass::of(self.profile(&request.profile)?.certificate_type);
        let scope = Scope {
            org: request.org,
            dept: request.dept,
        };
        self.require(
            actor,
            Action::ApproveCertificate(class),
            scope,
            action,
            &id.label(),
        )?;
        Ok(request)
    }

    /// Approves a Requested or Declined request and issues it.
    pub fn approve(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request_for_decision(actor, id, message, "request.approve")?;
        request.transition(RequestState::Approved, &actor.username, now(), message)?;
        self.issue_locked(request, &actor.username, None)
    }

    /// Declines a Requested request (it can still be approved later).
    pub fn decline(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request_for_decision(actor, id, message, "request.decline")?;
        request.transition(RequestState::Declined, &actor.username, now(), message)?;
        let mut batch = WriteBatch::new();
        REQUESTS.put(&mut batch, &id_key(id.0), &request)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "request.decline", &id.label(), message),
            "request",
        )?;
        Ok(request)
    }

    /// Changes the term of a request while it is Requested.
    pub fn edit_request(
        &self,
        actor: &Administrator,
        id: RequestId,
        term_days: Option<u32>,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request(actor, id)?;
        if request.state.name() != StateName::Requested {
            return Err(RaError::IllegalTransition(IllegalTransition {
                from: request.state.name(),
                to: StateName::Requested,
            }));
        }
        let profile = self.profile(&request.profile)?;
        let class = CertificateClass::of(profile.certificate_type);
        self.require(
            actor,
            Action::RequestCertificate(class),
            Scope {
                org: request.org,
                dept: request.dept,
            },
            "request.edit",
            &id.label(),
        )?;
        if profile.term_for(term_days).is_none() {
            return Err(RaError::InvalidInput(format!(
                "profile '{}' allows at most {} days",
                profile.name,
                profile.max_term_days()
            )));
        }
        request.term_days = term_days;
        let mut batch = WriteBatch::new();
        REQUESTS.put(&mut batch, &id_key(id.0), &request)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "request.edit",
                &id.label(),
                format!("term {term_days:?}"),
            ),
            "request",
        )?;
        Ok(request)
    }

    /// Requests visible to the actor, after `after` (id), at most `limit`, filtered.
    pub fn requests(
        &self,
        actor: &Administrator,
        filter: &RequestFilter,
        after: u64,
        limit: usize,
    ) -> RaResult<Vec<CertificateRequest>> {
        let needle = filter.name.as_ref().map(|n| n.to_ascii_lowercase());
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let page = REQUESTS.scan(
                &self.store,
                KeyRange::starting_at(id_key(cursor.saturating_add(1))),
                512,
            )?;
            if page.is_empty() {
                return Ok(out);
            }
            for (_, r) in page {
                cursor = r.id.0;
                let visible = authorize(
                    actor,
                    Action::View,
                    Scope {
                        org: r.org,
                        dept: r.dept,
                    },
                )
                .is_ok();
                let matches = filter.status.is_none_or(|s| r.state.name() == s)
                    && filter.org.is_none_or(|o| r.org == o)
                    && filter.profile.as_ref().is_none_or(|p| &r.profile == p)
                    && needle
                        .as_ref()
                        .is_none_or(|n| r.names.iter().any(|x| x.value().contains(n.as_str())));
                if visible && matches {
                    out.push(r);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- certificates

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

    /// Certificates visible to the actor, after `after` (id), at most `limit`, filtered.
    pub fn certificates(
        &self,
        actor: &Administrator,
        filter: &CertificateFilter,
        after: u64,
        limit: usize,
    ) -> RaResult<Vec<OwnedCertificate>> {
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let page = self.ca.certificates().list(cursor, 512)?;
            if page.is_empty() {
                return Ok(out);
            }
            for record in page {
                cursor = record.id;
                let Some(owner) = OWNERS.get(&self.store, &id_key(record.id))? else {
                    continue; // gateway-internal certificates (HTTPS, OCSP responders) have no owner
                };
                let visible = authorize(
                    actor,
                    Action::View,
                    Scope {
                        org: owner.org,
                        dept: owner.dept,
                    },
                )
                .is_ok();
                let needle = filter.name.as_ref().map(|n| n.to_ascii_lowercase());
                let matches = filter
                    .status
                    .as_ref()
                    .is_none_or(|s| record.status.name() == s)
                    && filter.org.is_none_or(|o| owner.org == o)
                    && filter.profile.as_ref().is_none_or(|p| &record.profile == p)
                    && filter.expires_before.is_none_or(|t| record.not_after < t)
                    && needle.as_ref().is_none_or(|n| {
                        record.subject.to_ascii_lowercase().contains(n)
                            || record.names.iter().any(|x| x.value().contains(n.as_str()))
                    });
                if visible && matches {
                    out.push(OwnedCertificate { record, owner });
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
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
                names: None,
                channel: Channel::Rest,
                renewal_of: Some(id),
                replaces: replace,
            },
        )
    }

    /// Imports an externally issued certificate (DER) into an organization / department.
    pub fn import_external(
        &self,
        actor: &Administrator,
        der: &[u8],
        org: OrgId,
        dept: Option<DeptId>,
    ) -> RaResult<CertificateRecord> {
        let scope = self.scope_of(org, dept)?;
        self.require(
            actor,
            Action::ManageScope,
            scope,
            "certificate.import",
            &scope_label(scope),
        )?;
        let record = parse_external(der, self.ca.certificates().allocate_id(), &actor.username)?;
        let mut batch = WriteBatch::new();
        self.ca.certificates().insert_into(&mut batch, &record)?;
        OWNERS.put(
            &mut batch,
            &id_key(record.id),
            &CertificateOwner {
                org,
                dept,
                request: None,
                external: true,
            },
        )?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "certificate.import",
                &format!("certificate:{}", record.id),
                format!("{} serial {}", record.subject, record.serial),
            ),
            &format!("a certificate with serial {}", record.serial),
        )?;
        Ok(record)
    }

    /// Deletes an external certificate (issued ones are never deleted).
    pub fn delete_external(&self, actor: &Administrator, id: u64) -> RaResult<()> {
        let owned = self.certificate(actor, id)?;
        self.require(
            actor,
            Action::ManageScope,
            Scope {
                org: owned.owner.org,
                dept: owned.owner.dept,
            },
            "certificate.delete",
            &format!("certificate:{id}"),
        )?;
        if !owned.owner.external {
            return Err(RaError::InvalidInput(
                "only externally managed certificates can be deleted".into(),
            ));
        }
        let mut batch = WriteBatch::new();
        self.ca
            .certificates()
            .delete_into(&mut batch, &owned.record);
        OWNERS.delete(&mut batch, &id_key(id));
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "certificate.delete",
                &format!("certificate:{id}"),
                owned.record.subject,
            ),
            "certificate",
        )?;
        Ok(())
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
        *self.swept_until.lock().unwrap_or_else(|e| e.into_inner()) = at;
        Ok(count)
    }

    // ---------------------------------------------------------------- audit

    /// Audit entries (MRAO: all; others: those about objects they can see are not filtered
    /// here — the global log is MRAO only).
    pub fn audit_entries(
        &self,
        actor: &Administrator,
        after: u64,
        limit: usize,
    ) -> RaResult<Vec<AuditEntry>> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "audit.list",
            "audit",
        )?;
        Ok(self.audit.list(after, limit)?)
    }

    /// Audit entries about one certificate, for anyone who can see it.
    pub fn certificate_audit(&self, actor: &Administrator, id: u64) -> RaResult<Vec<AuditEntry>> {
        self.certificate(actor, id)?;
        Ok(self.audit.for_object(&format!("certificate:{id}"), 1000)?)
    }

    /// Verifies the audit chain (MRAO).
    pub fn verify_audit(&self, actor: &Administrator) -> RaResult<Result<u64, ChainBroken>> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "audit.verify",
            "audit",
        )?;
        Ok(self.audit.verify()?)
    }

    /// Verifies the audit chain (MRAO) and returns the head: its sequence number and hash.
    /// A chain cannot show that its newest entries were removed; an operator who records
    /// the head elsewhere (a ticket, a second system) can.
    pub fn verify_audit_head(
        &self,
        actor: &Administrator,
    ) -> RaResult<Result<(u64, String), ChainBroken>> {
        Ok(match self.verify_audit(actor)? {
            Ok(0) => Ok((0, String::new())),
            Ok(entries) => {
                let head = self
                    .audit
                    .entry(entries)?
                    .ok_or_else(|| RaError::NotFound(format!("audit entry {entries}")))?;
                Ok((entries, head.hash))
            }
            Err(broken) => Err(broken),
        })
    }
}

fn check_message(message: &str) -> RaResult<()> {
    if message.chars().count() > 1024 {
        return Err(RaError::InvalidInput(
            "a message must be at most 1024 characters".into(),
        ));
    }
    Ok(())
}

fn scope_label(scope: Scope) -> String {
    match scope.dept {
        Some(d) => format!("{} {}", scope.org.label(), d.label()),
        None => scope.org.label(),
    }
}

/// A record for an external certificate: parsed for its facts, never signed here.
fn parse_external(der: &[u8], id: u64, actor: &str) -> RaResult<CertificateRecord> {
    use x509_parser::prelude::*;
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| RaError::InvalidInput(format!("not a certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(RaError::InvalidInput(
            "trailing bytes after the certificate".into(),
        ));
    }
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    if let Ok(n) = SubjectAltName::dns(d) {
                        names.push(n)
                    }
                }
                GeneralName::RFC822Name(e) => {
                    if let Ok(n) = SubjectAltName::email(e) {
                        names.push(n)
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertificateRecord {
        id,
        serial: ca_core::serial::Serial::from_bytes(cert.raw_serial()),
        issuer_id: "external".into(),
        profile: "external".into(),
        subject: cert.subject().to_string(),
        names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        requester: actor.to_string(),
        issued_at: now(),
        status: CertificateStatus::Issued,
        der: der.to_vec(),
    })
}
