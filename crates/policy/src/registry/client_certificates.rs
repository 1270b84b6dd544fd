//! TLS client certificates linked to administrators: on the certificate
//! manager's `/private/api/`, a linked certificate (whose key the TLS handshake
//! proved) and the `login` header stand for the password.
//!
//! A link pins one certificate by its SHA-256, so no CA, ours or another, can
//! mint a certificate that logs someone in; it stops working when the
//! certificate expires or the link is removed.

use ca_core::store::WriteBatch;

use super::{id_key, now, RaError, RaResult, RegistrationAuthority, ADMINS};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::model::*;

/// The most certificates linked to one administrator.
pub const MAX_LINKED_CERTIFICATES: usize = 8;

fn sha256_hex(der: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref())
}

impl RegistrationAuthority {
    /// Links a client certificate (DER) to an administrator: oneself, or anyone for an MRAO.
    pub fn link_client_certificate(
        &self,
        actor: &Administrator,
        id: AdminId,
        der: &[u8],
    ) -> RaResult<LinkedCertificate> {
        if actor.id != id {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "admin.certificate.link",
                &id.label(),
            )?;
        }
        use x509_parser::prelude::*;
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| RaError::InvalidInput(format!("not a certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(RaError::InvalidInput(
                "trailing bytes after the certificate".into(),
            ));
        }
        let not_after = cert.validity().not_after.timestamp();
        if not_after <= now() {
            return Err(RaError::InvalidInput("the certificate has expired".into()));
        }
        let linked = LinkedCertificate {
            sha256: sha256_hex(der),
            subject: cert.subject().to_string(),
            not_after,
        };
        let mut admin = self.admin(id)?;
        if admin
            .client_certificates
            .iter()
            .any(|c| c.sha256 == linked.sha256)
        {
            return Ok(linked);
        }
        if admin.client_certificates.len() >= MAX_LINKED_CERTIFICATES {
            return Err(RaError::InvalidInput(format!(
                "at most {MAX_LINKED_CERTIFICATES} certificates per administrator; unlink one first"
            )));
        }
        admin.client_certificates.push(linked.clone());
        self.save_admin(
            &admin,
            AuditEvent::success(
                &actor.username,
                "admin.certificate.link",
                &id.label(),
                format!("{} sha256 {}", linked.subject, linked.sha256),
            ),
        )?;
        Ok(linked)
    }

    /// Removes a linked certificate (by its SHA-256) from an administrator.
    pub fn unlink_client_certificate(
        &self,
        actor: &Administrator,
        id: AdminId,
        sha256: &str,
    ) -> RaResult<()> {
        if actor.id != id {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "admin.certificate.unlink",
                &id.label(),
            )?;
        }
        let mut admin = self.admin(id)?;
        let before = admin.client_certificates.len();
        admin
            .client_certificates
            .retain(|c| !c.sha256.eq_ignore_ascii_case(sha256));
        if admin.client_certificates.len() == before {
            return Err(RaError::NotFound(format!("linked certificate {sha256}")));
        }
        let mut batch = WriteBatch::new();
        ADMINS.put(&mut batch, &id_key(id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "admin.certificate.unlink",
                &id.label(),
                sha256,
            ),
            "administrator",
        )?;
        Ok(())
    }

    /// The active administrator `username` if `der` is a certificate linked to them and
    /// still valid; a failure is audited like a bad password.
    pub fn authenticate_client_certificate(
        &self,
        username: &str,
        der: &[u8],
    ) -> RaResult<Administrator> {
        let fingerprint = sha256_hex(der);
        let at = now();
        let found = self.admin_by_username(username)?.filter(|a| {
            a.active
                && a.client_certificates.iter().any(|c| {
                    crate::credentials::digests_equal(&c.sha256, &fingerprint) && c.not_after > at
                })
        });
        found.ok_or_else(|| {
            let _ = self.audit.record(AuditEvent::denied(
                username,
                "login",
                "admin:?",
                "no linked client certificate",
            ));
            RaError::Unauthenticated("no such administrator with this client certificate".into())
        })
    }
}
