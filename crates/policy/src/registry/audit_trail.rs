//! The audit trail as administrators see it: listing entries, the trail of one
//! certificate, and verifying the hash chain (with its head, for anchoring elsewhere).

use super::{RaError, RaResult, RegistrationAuthority};
use crate::audit::{AuditEntry, ChainBroken};
use crate::authz::Action;
use crate::model::*;

impl RegistrationAuthority {
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
