//! Certificate requests and their state machine.
//!
//! `Requested → Approved → Issued`, `Requested → Declined` (a declined
//! request can still be approved), `Invalid` (cannot be issued as asked),
//! `Rejected` (the CA refused), `Issued → Revoked | Expired | Replaced`.
//! Every transition records who, when and why. A state that holds a
//! certificate carries its id; one that does not, cannot.

use std::fmt;

use ca_core::names::SubjectAltName;
use ca_core::store::Record;
use serde::{Deserialize, Serialize};

use crate::model::{DeptId, EndpointId, OrgId, RequestId};

/// The channel a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// ACME.
    Acme,
    /// SCEP.
    Scep,
    /// EST.
    Est,
    /// The REST API.
    Rest,
    /// The operator CLI.
    Cli,
    /// The certificate manager's compatible REST API (`/api/ssl/v1/...`).
    ScmApi,
    /// Imported: the certificate was issued elsewhere.
    Import,
}

/// Where a request is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RequestState {
    /// Waiting for approval.
    Requested,
    /// Approved; issuance follows.
    Approved,
    /// Declined; may still be approved later.
    Declined,
    /// Cannot be issued as asked (bad CSR, name outside the profile or delegations).
    Invalid,
    /// The CA refused to issue.
    Rejected,
    /// Issued.
    Issued {
        /// The certificate's id.
        certificate: u64,
    },
    /// The certificate was revoked.
    Revoked {
        /// The certificate's id.
        certificate: u64,
    },
    /// The certificate expired.
    Expired {
        /// The certificate's id.
        certificate: u64,
    },
    /// The certificate was replaced by another.
    Replaced {
        /// The certificate's id.
        certificate: u64,
        /// The replacing certificate's id.
        by: u64,
    },
}

/// A state's name, for filters and transition records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateName {
    /// Requested.
    Requested,
    /// Approved.
    Approved,
    /// Declined.
    Declined,
    /// Invalid.
    Invalid,
    /// Rejected.
    Rejected,
    /// Issued.
    Issued,
    /// Revoked.
    Revoked,
    /// Expired.
    Expired,
    /// Replaced.
    Replaced,
}

impl StateName {
    /// Every state.
    pub const ALL: [StateName; 9] = [
        StateName::Requested,
        StateName::Approved,
        StateName::Declined,
        StateName::Invalid,
        StateName::Rejected,
        StateName::Issued,
        StateName::Revoked,
        StateName::Expired,
        StateName::Replaced,
    ];

    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Requested => "requested",
            StateName::Approved => "approved",
            StateName::Declined => "declined",
            StateName::Invalid => "invalid",
            StateName::Rejected => "rejected",
            StateName::Issued => "issued",
            StateName::Revoked => "revoked",
            StateName::Expired => "expired",
            StateName::Replaced => "replaced",
        }
    }

    /// A stable code for the status index.
    pub fn code(self) -> u8 {
        StateName::ALL
            .iter()
            .position(|s| *s == self)
            .expect("listed") as u8
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for StateName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateName::ALL
            .into_iter()
            .find(|n| n.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| format!("unknown request state '{s}'"))
    }
}

impl RequestState {
    /// The state's name.
    pub fn name(&self) -> StateName {
        match self {
            RequestState::Requested => StateName::Requested,
            RequestState::Approved => StateName::Approved,
            RequestState::Declined => StateName::Declined,
            RequestState::Invalid => StateName::Invalid,
            RequestState::Rejected => StateName::Rejected,
            RequestState::Issued { .. } => StateName::Issued,
            RequestState::Revoked { .. } => StateName::Revoked,
            RequestState::Expired { .. } => StateName::Expired,
            RequestState::Replaced { .. } => StateName::Replaced,
        }
    }

    /// The certificate, for the states that hold one.
    pub fn certificate(&self) -> Option<u64> {
        match self {
            RequestState::Issued { certificate }
            | RequestState::Revoked { certificate }
            | RequestState::Expired { certificate }
            | RequestState::Replaced { certificate, .. } => Some(*certificate),
            _ => None,
        }
    }
}

/// Whether the state machine allows `from → to`.
pub fn transition_allowed(from: StateName, to: StateName) -> bool {
    use StateName::*;
    matches!(
        (from, to),
        (Requested, Approved | Declined | Invalid | Rejected)
            | (Declined, Approved | Invalid)
            | (Approved, Issued | Rejected)
            | (Issued, Revoked | Expired | Replaced)
    )
}

/// One recorded transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The state before (None for creation).
    pub from: Option<StateName>,
    /// The state after.
    pub to: StateName,
    /// Who made it (an administrator's username, an ACME account, "system").
    pub actor: String,
    /// Unix time.
    pub at: i64,
    /// Why (approval or decline message, reason of invalidity).
    pub reason: String,
}

/// An illegal transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a request cannot go from {from} to {to}")]
pub struct IllegalTransition {
    /// The current state.
    pub from: StateName,
    /// The refused target.
    pub to: StateName,
}

/// One certificate request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRequest {
    /// Its id.
    pub id: RequestId,
    /// The owning organization.
    pub org: OrgId,
    /// The owning department, if any.
    pub dept: Option<DeptId>,
    /// The profile.
    pub profile: String,
    /// The CSR, DER (kept so a renewal can reuse the key).
    #[serde(with = "serde_bytes")]
    pub csr_der: Vec<u8>,
    /// The names asked for.
    pub names: Vec<SubjectAltName>,
    /// Requested term in days.
    pub term_days: Option<u32>,
    /// Who asked.
    pub requester: String,
    /// Through which channel.
    pub channel: Channel,
    /// Through which enrollment endpoint, if any.
    pub endpoint: Option<EndpointId>,
    /// The certificate this renews or replaces, if any.
    pub renewal_of: Option<u64>,
    /// Whether issuing it replaces `renewal_of` (replace) rather than renewing alongside it.
    pub replaces: bool,
    /// Where it is.
    pub state: RequestState,
    /// Every transition, oldest first.
    pub history: Vec<Transition>,
    /// Unix time of creation.
    pub created_at: i64,
    /// What the requester attached: comments, external requesters, custom fields.
    #[serde(default)]
    pub annotations: RequestAnnotations,
    /// The opaque id that renews this request's certificate without an administrator's
    /// certificate id (the certificate manager's `renewId`); empty on records from before it.
    #[serde(default)]
    pub renew_id: String,
}

/// A custom field's value on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFieldValue {
    /// The field's name, as defined for the request's certificate class.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// What a requester attaches to a request besides the CSR: free text and custom fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestAnnotations {
    /// Free-text comments (at most 1024 characters).
    #[serde(default)]
    pub comments: String,
    /// E-mail addresses of people outside the RA to notify, comma-separated (at most 512).
    #[serde(default)]
    pub external_requester: String,
    /// Values of the custom fields defined for the certificate class.
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldValue>,
}

impl Record for CertificateRequest {
    const SCHEMA_VERSION: u16 = 1;
}

impl CertificateRequest {
    /// Moves to `to`, recording who, when and why; refuses what the state machine forbids.
    pub fn transition(
        &mut self,
        to: RequestState,
        actor: &str,
        at: i64,
        reason: &str,
    ) -> Result<(), IllegalTransition> {
        let from = self.state.name();
        if !transition_allowed(from, to.name()) {
            return Err(IllegalTransition {
                from,
                to: to.name(),
            });
        }
        self.history.push(Transition {
            from: Some(from),
            to: to.name(),
            actor: actor.to_string(),
            at,
            reason: reason.to_string(),
        });
        self.state = to;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        use StateName::*;
        let allowed = [
            (Requested, Approved),
            (Requested, Declined),
            (Requested, Invalid),
            (Requested, Rejected),
            (Declined, Approved),
            (Declined, Invalid),
            (Approved, Issued),
            (Approved, Rejected),
            (Issued, Revoked),
            (Issued, Expired),
            (Issued, Replaced),
        ];
        for from in StateName::ALL {
            for to in StateName::ALL {
                assert_eq!(
                    transition_allowed(from, to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }
}
