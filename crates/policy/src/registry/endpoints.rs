//! Enrollment endpoints (ACME, SCEP, EST, REST): creating and resolving them,
//! the external account binding keys of an ACME endpoint, and the demo
//! organization with its ACME endpoint.

use ca_core::store::{KeyRange, WriteBatch};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::intune::NewIntuneApplication;
use super::{check_slug, id_key, now, scope_label, RaError, RaResult, RegistrationAuthority};
use super::{DOMAINS, ENDPOINTS, NAMES, ORGS, ORG_UNITS};
use crate::audit::AuditEvent;
use crate::authz::{in_scope, Action};
use crate::credentials;
use crate::model::*;

/// The name of the demo's ACME endpoint (auto-approve, EAB optional, organization Demo).
pub const DEMO_ACME_ENDPOINT: &str = "default";

/// The unique-name claim of an endpoint: ACME keeps the plain form it always had.
/// Names are unique per protocol: an Intune endpoint claims its name among SCEP's,
/// whose URLs it shares.
pub(super) fn endpoint_claim(kind: &str, name: &str) -> String {
    match protocol_of(kind) {
        "acme" => format!("endpoint:{name}"),
        protocol => format!("endpoint:{protocol}:{name}"),
    }
}

/// A new enrollment endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Unique name.
    pub name: String,
    /// "acme", "scep", "intune", "est" or "rest".
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
    /// Intune: the Entra ID application (required for that kind, refused for others).
    pub intune: Option<NewIntuneApplication>,
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

impl RegistrationAuthority {
    /// Creates the demo organization with the private-use domains, once.
    pub fn ensure_demo_organization(&self) -> RaResult<Option<OrgId>> {
        if NAMES.get(&self.store, b"org:Demo")?.is_some() {
            return Ok(None);
        }
        let org = Organization {
            id: OrgId(self.next_id(ORG_UNITS)),
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

    /// Creates the demo's `kind` endpoint `name` (organization Demo, profile `device`,
    /// auto-approve) once, if the demo organization exists: `credential` makes the
    /// endpoint's kind and the secret it returns, to be shown once (only when the
    /// endpoint is created). `None` when it exists already or there is no demo organization.
    pub(super) fn ensure_demo_endpoint(
        &self,
        kind: &str,
        name: &str,
        credential: impl FnOnce() -> (EndpointKind, Zeroizing<String>),
    ) -> RaResult<Option<Zeroizing<String>>> {
        let claim = endpoint_claim(kind, name);
        if NAMES.get(&self.store, claim.as_bytes())?.is_some() {
            return Ok(None);
        }
        let Some(org) = NAMES.get(&self.store, b"org:Demo")? else {
            return Ok(None);
        };
        let org = ORGS
            .get(&self.store, &id_key(org.id))?
            .ok_or_else(|| RaError::NotFound("organization Demo".into()))?;
        let (kind, secret) = credential();
        let endpoint = Endpoint {
            id: EndpointId(self.next_id(ENDPOINTS.name())),
            name: name.into(),
            kind,
            org: org.id,
            dept: None,
            profile: "device".into(),
            default_term_days: None,
            approval: ApprovalMode::Auto,
            active: true,
            created_at: now(),
        };
        let description = format!(
            "demo {} endpoint '{name}'",
            endpoint.kind.name().to_uppercase()
        );
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &claim, endpoint.id.0)?;
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                "system",
                "endpoint.create",
                &endpoint.id.label(),
                description,
            ),
            "endpoint",
        )?;
        Ok(Some(secret))
    }

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
                let (challenge, challenge_hash) = super::scep::new_static_challenge();
                (
                    EndpointKind::Scep {
                        challenge_hash,
                        webhook: None,
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
                        auth: EstAuth::default(),
                        trust_anchors: Vec::new(),
                        pop_required: false,
                    },
                    EndpointSecret::EstPassword(password),
                )
            }
            "intune" => {
                let Some(application) = &new.intune else {
                    return Err(RaError::InvalidInput(
                        "an intune endpoint needs its Entra ID application: tenant, application_id, client_secret".into(),
                    ));
                };
                (
                    EndpointKind::Intune {
                        application: self.seal_intune_application(application)?,
                    },
                    EndpointSecret::None,
                )
            }
            "rest" => (EndpointKind::Rest, EndpointSecret::None),
            other => {
                return Err(RaError::InvalidInput(format!(
                    "unknown endpoint kind '{other}' (acme, scep, intune, est, rest)"
                )))
            }
        };
        if new.intune.is_some() && new.kind != "intune" {
            return Err(RaError::InvalidInput(format!(
                "an Entra ID application is for intune endpoints, not {}",
                new.kind
            )));
        }
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
            &endpoint_claim(endpoint.kind.name(), &endpoint.name),
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
        self.endpoint_of_kind("acme", name)
    }

    /// The endpoint of a protocol (`acme`, `scep`, `est`, `rest`) by name: names
    /// are unique per protocol, so `/acme/default/` and `/scep/default` are two endpoints.
    /// `scep` finds Intune endpoints too (they speak SCEP); `intune` finds only them.
    pub fn endpoint_of_kind(&self, kind: &str, name: &str) -> RaResult<Endpoint> {
        let not_found = || RaError::NotFound(format!("{kind} endpoint '{name}'"));
        // Endpoints made before names were per protocol hold the plain claim.
        for claim_name in [endpoint_claim(kind, name), format!("endpoint:{name}")] {
            if let Some(claim) = NAMES.get(&self.store, claim_name.as_bytes())? {
                if let Some(endpoint) = ENDPOINTS.get(&self.store, &id_key(claim.id))? {
                    if endpoint.kind.name() == kind || endpoint.kind.protocol() == kind {
                        return Ok(endpoint);
                    }
                }
            }
        }
        Err(not_found())
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

    /// An endpoint the actor may manage (`manage` on its profile's certificate class
    /// within its scope), for the action named `action` in the audit log.
    /// Replaces a SCEP endpoint's static challenge or an EST endpoint's Basic password
    /// with a new random one, shown once (needs `manage` on the endpoint's class in its
    /// scope). The old secret stops working at the commit; devices and MDM profiles that
    /// hold it must be given the new one.
    pub fn rotate_endpoint_secret(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
    ) -> RaResult<EndpointSecret> {
        let mut endpoint = self.endpoint_to_manage(actor, endpoint_id, "endpoint.secret.rotate")?;
        let (secret, what) = match &mut endpoint.kind {
            EndpointKind::Scep { challenge_hash, .. } => {
                let (challenge, hash) = super::scep::new_static_challenge();
                *challenge_hash = hash;
                (
                    EndpointSecret::ScepChallenge(challenge),
                    "new SCEP challenge password",
                )
            }
            EndpointKind::Est { password_hash, .. } => {
                let password = Zeroizing::new(credentials::random_token::<18>());
                *password_hash = credentials::hash_password(&password);
                (EndpointSecret::EstPassword(password), "new EST password")
            }
            _ => {
                return Err(RaError::InvalidInput(format!(
                    "endpoint '{}' ({}) has no secret to rotate: SCEP and EST endpoints do",
                    endpoint.name,
                    endpoint.kind.name()
                )))
            }
        };
        let mut batch = WriteBatch::new();
        ENDPOINTS.require_present(&mut batch, &id_key(endpoint.id.0));
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.secret.rotate",
                &endpoint.id.label(),
                what.to_string(),
            ),
            "endpoint",
        )?;
        Ok(secret)
    }

    pub(super) fn endpoint_to_manage(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        action: &str,
    ) -> RaResult<Endpoint> {
        let endpoint = ENDPOINTS
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
            action,
            &endpoint_id.label(),
        )?;
        Ok(endpoint)
    }

    /// Adds an EAB key to an ACME endpoint; returns the key id and the HMAC key (base64url), shown once.
    pub fn add_eab_key(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
    ) -> RaResult<(String, Zeroizing<String>)> {
        let key = self.add_named_eab_key(actor, endpoint_id, "")?;
        Ok((key.key_id, key.hmac))
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
}
