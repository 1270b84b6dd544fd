//! EST (RFC 7030) enrollment credentials: an endpoint's HTTP Basic password,
//! its authentication mode, its manufacturer trust anchors and its
//! proof-of-possession setting, and the demo's EST endpoint.
//!
//! The password is an Argon2id hash, compared in constant time by the argon2
//! crate; a wrong one is refused and the refusal audited.

use std::net::IpAddr;

use ca_core::store::WriteBatch;
use serde::Deserialize;
use zeroize::Zeroizing;

use super::ENDPOINTS;
use super::{id_key, RaError, RaResult, RegistrationAuthority};
use crate::audit::AuditEvent;
use crate::credentials;
use crate::model::*;

/// The name (and label) of the demo's EST endpoint, served at `/.well-known/est/`.
pub const DEMO_EST_ENDPOINT: &str = "default";

/// The Basic user name of the demo's EST endpoint.
pub const DEMO_EST_USERNAME: &str = "est";

/// The most manufacturer trust anchors an endpoint holds.
pub const MAX_EST_TRUST_ANCHORS: usize = 16;

/// A change to an EST endpoint's authentication settings; what is `None` stays.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstSettings {
    /// `basic`, `certificate`, `either` or `both`.
    pub auth: Option<String>,
    /// Whether CSRs must carry the TLS channel binding.
    pub pop_required: Option<bool>,
    /// Replaces the manufacturer trust anchors: PEM CA certificates (an empty
    /// list removes them all).
    pub trust_anchors_pem: Option<Vec<String>>,
}

/// The CA certificates in a PEM text, each checked to be a CA certificate.
fn parse_anchors(pems: &[String]) -> RaResult<Vec<TrustAnchor>> {
    let mut anchors = Vec::new();
    for text in pems {
        for pem in x509_parser::pem::Pem::iter_from_buffer(text.as_bytes()) {
            let pem =
                pem.map_err(|e| RaError::InvalidInput(format!("a trust anchor's PEM: {e}")))?;
            if pem.label != "CERTIFICATE" {
                continue;
            }
            let certificate = pem
                .parse_x509()
                .map_err(|e| RaError::InvalidInput(format!("a trust anchor: {e}")))?;
            if !certificate.is_ca() {
                return Err(RaError::InvalidInput(format!(
                    "the trust anchor '{}' is not a CA certificate",
                    certificate.subject()
                )));
            }
            anchors.push(TrustAnchor {
                subject: certificate.subject().to_string(),
                der: pem.contents.clone(),
            });
        }
    }
    if anchors.len() > MAX_EST_TRUST_ANCHORS {
        return Err(RaError::InvalidInput(format!(
            "at most {MAX_EST_TRUST_ANCHORS} trust anchors"
        )));
    }
    if anchors.is_empty() && pems.iter().any(|p| !p.trim().is_empty()) {
        return Err(RaError::InvalidInput(
            "no CERTIFICATE block in the trust anchors".into(),
        ));
    }
    Ok(anchors)
}

/// The longest Basic user name kept as the account of the failed-login guard (a
/// longer one is cut: the header is the client's to make up).
const MAX_GUARDED_USERNAME_CHARS: usize = 128;

/// The failed-login guard's account of an EST endpoint's Basic user: `est:<id>:<user>`.
/// Administrators' user names are slugs without ':', so the two never meet.
fn guard_account(endpoint: EndpointId, username: &str) -> String {
    let user: String = username.chars().take(MAX_GUARDED_USERNAME_CHARS).collect();
    format!("{}{user}", guard_prefix(endpoint))
}

fn guard_prefix(endpoint: EndpointId) -> String {
    format!("est:{}:", endpoint.0)
}

impl RegistrationAuthority {
    /// Whether a Basic user may try a password on an EST endpoint from `client` now:
    /// [`RaError::TooManyFailures`] while the (user, address) pair is locked by the same
    /// growing delay as administrators' logins (`login_guard`). An edge that remembers
    /// verified passwords asks this first, so that a lock holds for them too.
    pub fn est_login_open(
        &self,
        endpoint: &Endpoint,
        username: &str,
        client: Option<IpAddr>,
    ) -> RaResult<()> {
        self.login_guard
            .check(&guard_account(endpoint.id, username), client)
            .map_err(|retry_after| RaError::TooManyFailures { retry_after })
    }

    /// Checks HTTP Basic credentials against an EST endpoint from `client`. A wrong
    /// user or password is `Unauthenticated` (one message for both) and audited, and
    /// counts toward the lock of the (user, address) pair: after the free failures,
    /// [`RaError::TooManyFailures`] until it lapses or an MRAO lifts it
    /// ([`RegistrationAuthority::unlock_est_logins`]). A success clears the pair.
    pub fn check_est_password(
        &self,
        endpoint: &Endpoint,
        username: &str,
        password: &str,
        actor: &str,
        client: Option<IpAddr>,
    ) -> RaResult<()> {
        self.est_login_open(endpoint, username, client)?;
        let account = guard_account(endpoint.id, username);
        let EndpointKind::Est {
            username: expected,
            password_hash,
            ..
        } = &endpoint.kind
        else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an EST endpoint",
                endpoint.name
            )));
        };
        // The hash is checked whatever the user name, so timing does not tell which was wrong.
        let password_ok =
            password.len() <= 1024 && credentials::verify_password(password_hash, password);
        let user_ok = aws_lc_rs::constant_time::verify_slices_are_equal(
            username.as_bytes(),
            expected.as_bytes(),
        )
        .is_ok();
        if password_ok && user_ok {
            self.login_guard.succeeded(&account, client);
            return Ok(());
        }
        let detail = match self.login_guard.failed(&account, client) {
            Some(lock) => format!(
                "wrong user name or password; user locked for {} s from this address",
                lock.as_secs()
            ),
            None => "wrong user name or password".to_string(),
        };
        let _ = self.audit.record(AuditEvent::denied(
            actor,
            "est.authenticate",
            &endpoint.id.label(),
            detail,
        ));
        Err(RaError::Unauthenticated(
            "wrong EST user name or password".into(),
        ))
    }

    /// Lifts the failed-login locks of every Basic user of an EST endpoint, from every
    /// address, at once (MRAO); returns how many (user, address) pairs were cleared.
    pub fn unlock_est_logins(&self, actor: &Administrator, id: EndpointId) -> RaResult<usize> {
        self.require(
            actor,
            crate::authz::Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "endpoint.est.unlock",
            &id.label(),
        )?;
        let endpoint = ENDPOINTS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))?;
        if !matches!(endpoint.kind, EndpointKind::Est { .. }) {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an EST endpoint",
                endpoint.name
            )));
        }
        let cleared = self.login_guard.unlock_prefix(&guard_prefix(id));
        self.audit.record(AuditEvent::success(
            &actor.username,
            "endpoint.est.unlock",
            &id.label(),
            format!("{cleared} locked user/address pair(s) cleared"),
        ))?;
        Ok(cleared)
    }

    /// Changes an EST endpoint's authentication mode, proof-of-possession setting or
    /// manufacturer trust anchors. Needs `manage` on the endpoint's certificate class.
    pub fn set_est_settings(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        settings: EstSettings,
    ) -> RaResult<Endpoint> {
        let mut endpoint = self.endpoint_to_manage(actor, endpoint_id, "endpoint.est.set")?;
        let EndpointKind::Est {
            auth,
            trust_anchors,
            pop_required,
            ..
        } = &mut endpoint.kind
        else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an EST endpoint",
                endpoint.name
            )));
        };
        let mut changes = Vec::new();
        if let Some(name) = &settings.auth {
            *auth = EstAuth::parse(name).ok_or_else(|| {
                RaError::InvalidInput(format!(
                    "unknown EST authentication '{}' (basic, certificate, either, both)",
                    name.chars().take(40).collect::<String>()
                ))
            })?;
            changes.push(format!("auth {}", auth.name()));
        }
        if let Some(pop) = settings.pop_required {
            *pop_required = pop;
            changes.push(format!("pop_required {pop}"));
        }
        if let Some(pems) = &settings.trust_anchors_pem {
            *trust_anchors = parse_anchors(pems)?;
            let subjects: Vec<&str> = trust_anchors.iter().map(|a| a.subject.as_str()).collect();
            changes.push(format!("trust anchors [{}]", subjects.join("; ")));
        }
        let certificate_auth = matches!(auth, EstAuth::Certificate | EstAuth::Both);
        if certificate_auth && trust_anchors.is_empty() {
            return Err(RaError::InvalidInput(format!(
                "EST authentication '{}' needs at least one trust anchor",
                auth.name()
            )));
        }
        if changes.is_empty() {
            return Ok(endpoint);
        }
        let mut batch = WriteBatch::new();
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.est.set",
                &endpoint.id.label(),
                changes.join(", "),
            ),
            "endpoint",
        )?;
        Ok(endpoint)
    }

    /// Creates the demo's EST endpoint once (organization Demo, `device` profile,
    /// auto-approve, Basic user `est` or a client certificate); returns its password
    /// when it was created, to be shown once.
    pub fn ensure_demo_est_endpoint(&self) -> RaResult<Option<Zeroizing<String>>> {
        self.ensure_demo_endpoint("est", DEMO_EST_ENDPOINT, || {
            let password = Zeroizing::new(credentials::random_token::<18>());
            let kind = EndpointKind::Est {
                label: DEMO_EST_ENDPOINT.into(),
                username: DEMO_EST_USERNAME.into(),
                password_hash: credentials::hash_password(&password),
                auth: EstAuth::Either,
                trust_anchors: Vec::new(),
                pop_required: false,
            };
            (kind, password)
        })
    }
}
