//! SCEP enrollment credentials: an endpoint's static challenge, one-time
//! challenges an MDM mints for one device (optionally bound to a subject or a
//! name, always with an expiry, consumed atomically on first use), and the
//! demo's SCEP endpoint.
//!
//! A challenge is 128 random bits we generate, so it is stored as its SHA-256
//! (Argon2 would add tens of milliseconds to every enrollment and nothing to
//! the security of a secret with no dictionary to attack); a static challenge
//! from before this change is an Argon2 hash and is still checked as one.

use ca_core::csr::VerifiedCsr;
use ca_core::names::SubjectAltName;
use ca_core::profile::SubjectAttribute;
use ca_core::store::{Record, Table, WriteBatch};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{now, RaError, RaResult, RegistrationAuthority};
use crate::audit::AuditEvent;
use crate::credentials;
use crate::model::*;

/// The name of the demo's SCEP endpoint (organization Demo, `device` profile, auto-approve).
pub const DEMO_SCEP_ENDPOINT: &str = "default";

/// The longest validity of a one-time challenge.
pub const MAX_ONE_TIME_CHALLENGE_SECONDS: i64 = 30 * 24 * 3600;
/// The validity of a one-time challenge when none is asked for.
pub const DEFAULT_ONE_TIME_CHALLENGE_SECONDS: i64 = 24 * 3600;

/// A one-time challenge, stored under the SHA-256 of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeChallenge {
    /// The SCEP endpoint it is for.
    pub endpoint: EndpointId,
    /// The subject common name the CSR must carry, if bound.
    pub subject: Option<String>,
    /// A name (DNS, e-mail or URI SAN) the CSR must ask for, if bound.
    pub san: Option<String>,
    /// Unix time after which it is refused.
    pub expires_at: i64,
    /// Who minted it.
    pub created_by: String,
    /// Unix time of minting.
    pub created_at: i64,
}

impl Record for OneTimeChallenge {
    const SCHEMA_VERSION: u16 = 1;
}

const ONE_TIME_CHALLENGES: Table<OneTimeChallenge> = Table::new("ra_scep_one_time_challenges");

/// What a one-time challenge is bound to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeBinding {
    /// The subject common name the CSR must carry.
    pub subject: Option<String>,
    /// A name the CSR must ask for.
    pub san: Option<String>,
    /// Validity in seconds (default a day, at most 30 days).
    pub expires_in_seconds: Option<i64>,
}

/// Which challenge a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeUse {
    /// The endpoint's static challenge.
    Static,
    /// A one-time challenge, now consumed.
    OneTime,
}

/// A new static challenge and its stored hash. Hex, so that no value can be
/// taken for a command-line option.
pub(super) fn new_static_challenge() -> (Zeroizing<String>, String) {
    let challenge = Zeroizing::new(hex::encode(credentials::random_bytes::<16>()));
    let hash = credentials::sha256_hex(&challenge);
    (challenge, hash)
}

fn binding_holds(challenge: &OneTimeChallenge, csr: &VerifiedCsr) -> bool {
    if let Some(subject) = &challenge.subject {
        if csr.subject_attribute(SubjectAttribute::CommonName) != Some(subject.as_str()) {
            return false;
        }
    }
    if let Some(san) = &challenge.san {
        let asked = csr.requested_names().iter().any(|name| match name {
            SubjectAltName::Dns(v)
            | SubjectAltName::Email(v)
            | SubjectAltName::Uri(v)
            | SubjectAltName::Upn(v) => v.eq_ignore_ascii_case(san),
            SubjectAltName::Ip(ip) => ip.to_string() == *san,
        });
        if !asked {
            return false;
        }
    }
    true
}

impl RegistrationAuthority {
    /// Checks the challenge password a SCEP request carried against the
    /// endpoint: its static challenge, else a one-time challenge minted for it,
    /// which is consumed here (of two requests racing with one challenge, one
    /// wins). A wrong, used, expired or unbound challenge is `Unauthenticated`,
    /// and the refusal is in the audit log.
    pub fn check_scep_challenge(
        &self,
        endpoint: &Endpoint,
        challenge: Option<&str>,
        csr: &VerifiedCsr,
        actor: &str,
    ) -> RaResult<ChallengeUse> {
        let EndpointKind::Scep { challenge_hash, .. } = &endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not a SCEP endpoint",
                endpoint.name
            )));
        };
        let refuse = |why: &str| {
            let _ = self.audit.record(AuditEvent::denied(
                actor,
                "scep.challenge",
                &endpoint.id.label(),
                why.to_string(),
            ));
            RaError::Unauthenticated(format!("the challenge password is {why}"))
        };
        let Some(challenge) = challenge.filter(|c| !c.is_empty() && c.len() <= 256) else {
            return Err(refuse("missing"));
        };
        let matches_static = if challenge_hash.starts_with("$argon2") {
            credentials::verify_password(challenge_hash, challenge)
        } else {
            credentials::digests_equal(challenge_hash, &credentials::sha256_hex(challenge))
        };
        if matches_static {
            return Ok(ChallengeUse::Static);
        }
        let key = credentials::sha256_hex(challenge);
        let Some(one_time) = ONE_TIME_CHALLENGES.get(&self.store, key.as_bytes())? else {
            return Err(refuse("wrong"));
        };
        if one_time.endpoint != endpoint.id {
            return Err(refuse("wrong"));
        }
        if now() > one_time.expires_at {
            return Err(refuse("expired"));
        }
        if !binding_holds(&one_time, csr) {
            return Err(refuse("bound to another subject or name"));
        }
        let mut batch = WriteBatch::new();
        ONE_TIME_CHALLENGES.require_present(&mut batch, key.as_bytes());
        ONE_TIME_CHALLENGES.delete(&mut batch, key.as_bytes());
        self.commit(
            batch,
            AuditEvent::success(
                actor,
                "scep.challenge.use",
                &endpoint.id.label(),
                format!("one-time challenge minted by {}", one_time.created_by),
            ),
            "one-time challenge",
        )
        .map_err(|e| match e {
            RaError::Conflict(_) => refuse("already used"),
            other => other,
        })?;
        Ok(ChallengeUse::OneTime)
    }

    /// Mints a one-time challenge for a SCEP endpoint (an MDM hands it to one
    /// device). Shown once; stored as its hash. Needs `manage` on the
    /// endpoint's certificate class within its scope.
    pub fn mint_scep_challenge(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        binding: ChallengeBinding,
    ) -> RaResult<(Zeroizing<String>, i64)> {
        let endpoint =
            self.endpoint_to_manage(actor, endpoint_id, "endpoint.scep_challenge.create")?;
        if !matches!(endpoint.kind, EndpointKind::Scep { .. }) {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not a SCEP endpoint",
                endpoint.name
            )));
        }
        for (field, value) in [("subject", &binding.subject), ("san", &binding.san)] {
            if let Some(v) = value {
                super::check_text(field, v, 255)?;
            }
        }
        let lifetime = binding
            .expires_in_seconds
            .unwrap_or(DEFAULT_ONE_TIME_CHALLENGE_SECONDS);
        if !(60..=MAX_ONE_TIME_CHALLENGE_SECONDS).contains(&lifetime) {
            return Err(RaError::InvalidInput(format!(
                "expires_in_seconds must be between 60 and {MAX_ONE_TIME_CHALLENGE_SECONDS}"
            )));
        }
        let challenge = Zeroizing::new(hex::encode(credentials::random_bytes::<16>()));
        let at = now();
        let record = OneTimeChallenge {
            endpoint: endpoint.id,
            subject: binding.subject,
            san: binding.san,
            expires_at: at + lifetime,
            created_by: actor.username.clone(),
            created_at: at,
        };
        let key = credentials::sha256_hex(&challenge);
        let mut batch = WriteBatch::new();
        ONE_TIME_CHALLENGES.require_absent(&mut batch, key.as_bytes());
        ONE_TIME_CHALLENGES.put(&mut batch, key.as_bytes(), &record)?;
        let bound = match (&record.subject, &record.san) {
            (None, None) => "unbound".to_string(),
            (s, n) => format!(
                "subject={} san={}",
                s.as_deref().unwrap_or("-"),
                n.as_deref().unwrap_or("-")
            ),
        };
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.scep_challenge.create",
                &endpoint_id.label(),
                format!("{bound}, expires {}", record.expires_at),
            ),
            "one-time challenge",
        )?;
        Ok((challenge, record.expires_at))
    }

    /// Creates the demo's SCEP endpoint `default` (organization Demo, `device`
    /// profile, auto-approve) if the demo organization exists and the endpoint
    /// does not; returns its static challenge, to be shown once.
    pub fn ensure_demo_scep_endpoint(&self) -> RaResult<Option<Zeroizing<String>>> {
        self.ensure_demo_endpoint("scep", DEMO_SCEP_ENDPOINT, || {
            let (challenge, challenge_hash) = new_static_challenge();
            let kind = EndpointKind::Scep {
                challenge_hash,
                webhook: None,
            };
            (kind, challenge)
        })
    }
}
