//! Externally issued certificates: imported into an organization or department
//! to be tracked (expiry, reports, the certificate manager API), never signed,
//! renewed or published in a CRL here.
//!
//! An import is recorded like an order whose certificate came from outside: a
//! request in state Issued (channel `import`, profile `external`, no CSR) owns
//! it, so that the APIs that speak of orders (the certificate manager's `sslId`)
//! see imported certificates too. Deleting one deletes both; a manual revocation
//! records what the outside CA did, in the certificate and its request.

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::names::SubjectAltName;
use ca_core::revocation::RevocationReason;
use ca_core::store::WriteBatch;

use super::{
    check_message, id_key, now, scope_label, CertificateOwner, RaError, RaResult,
    RegistrationAuthority, NAMES, REQUESTS,
};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::model::*;
use crate::request::{CertificateRequest, Channel, RequestState, StateName, Transition};

/// The profile name imported certificates carry.
pub const EXTERNAL_PROFILE: &str = "external";

impl RegistrationAuthority {
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
        let at = now();
        let request = CertificateRequest {
            id: RequestId(self.next_id(REQUESTS.name())),
            org,
            dept,
            profile: EXTERNAL_PROFILE.into(),
            csr_der: Vec::new(),
            names: record.names.clone(),
            term_days: None,
            requester: actor.username.clone(),
            channel: Channel::Import,
            endpoint: None,
            renewal_of: None,
            replaces: false,
            state: RequestState::Issued {
                certificate: record.id,
            },
            history: vec![Transition {
                from: None,
                to: StateName::Issued,
                actor: actor.username.clone(),
                at,
                reason: "imported".into(),
            }],
            created_at: at,
            annotations: Default::default(),
            renew_id: crate::credentials::random_token::<15>(),
        };
        let mut batch = WriteBatch::new();
        self.ca.certificates().insert_into(&mut batch, &record)?;
        self.claim_name(
            &mut batch,
            &format!("renew:{}", request.renew_id),
            request.id.0,
        )?;
        REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
        CertificateOwner {
            org,
            dept,
            request: Some(request.id),
            external: true,
        }
        .write_into(&mut batch, record.id)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "certificate.import",
                &format!("certificate:{}", record.id),
                format!(
                    "{} serial {} ({})",
                    record.subject,
                    record.serial,
                    request.id.label()
                ),
            ),
            &format!("a certificate with serial {}", record.serial),
        )?;
        Ok(record)
    }

    /// Deletes an external certificate and its import record (issued ones are never deleted).
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
        super::certificates::owner_removed_into(&mut batch, id, &owned.owner);
        if let Some(request_id) = owned.owner.request {
            if let Some(request) = REQUESTS.get(&self.store, &id_key(request_id.0))? {
                NAMES.delete(&mut batch, format!("renew:{}", request.renew_id).as_bytes());
            }
            REQUESTS.delete(&mut batch, &id_key(request_id.0));
        }
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

    /// Records that the outside CA revoked an imported certificate (nothing is published
    /// here: its CRL and OCSP are the outside CA's).
    pub fn revoke_external(
        &self,
        actor: &Administrator,
        id: u64,
        reason: RevocationReason,
        message: &str,
    ) -> RaResult<CertificateRecord> {
        check_message(message)?;
        let owned = self.certificate(actor, id)?;
        if !owned.owner.external {
            return Err(RaError::InvalidInput(
                "only an externally managed certificate is revoked manually; revoke ours through the CA"
                    .into(),
            ));
        }
        let class = external_class(&owned.record.der);
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
        // A second revocation is refused by the CA service (AlreadyRevoked), as for ours.
        self.revoke_internal(&actor.username, id, owned.owner.request, reason, message)
    }
}

/// The class an imported certificate falls in, by its extended key usage: TLS server
/// (serverAuth, or no EKU), client / S/MIME (emailProtection), else device (clientAuth).
pub fn external_class(der: &[u8]) -> CertificateClass {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return CertificateClass::TlsServer;
    };
    match cert.extended_key_usage() {
        Ok(Some(eku)) if eku.value.server_auth => CertificateClass::TlsServer,
        Ok(Some(eku)) if eku.value.email_protection => CertificateClass::ClientSmime,
        Ok(Some(eku)) if eku.value.client_auth => CertificateClass::Device,
        Ok(Some(eku)) if eku.value.code_signing => CertificateClass::CodeSigning,
        _ => CertificateClass::TlsServer,
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
