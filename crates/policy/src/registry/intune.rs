//! Intune endpoints: the Entra ID application an endpoint authenticates as (its
//! client secret sealed at rest like an EAB key, shown nowhere after entry), the
//! audit of every exchange with Intune under Intune's activity id, and the
//! revocations Intune asks for, limited to the endpoint's scope.
//!
//! The calls to Entra ID, Graph and Intune are the SCEP edge's; the decisions
//! (what may be revoked, what is recorded) are made here.

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::revocation::RevocationReason;
use ca_core::serial::Serial;
use ca_core::service::CaServiceError;
use ca_core::store::{KeyRange, WriteBatch};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::scep_webhook::{audit_detail, check_http_url};
use super::{id_key, RaError, RaResult, RegistrationAuthority, ENDPOINTS};
use crate::audit::{AuditEvent, Outcome};
use crate::model::*;

/// The longest tenant, application id or Intune resource accepted, in characters.
const MAX_IDENTIFIER_CHARS: usize = 256;
/// The longest client secret accepted, in bytes.
const MAX_CLIENT_SECRET_BYTES: usize = 1024;

/// A client secret as entered: wiped on drop, never printed (not even by `{:?}`).
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct ClientSecret(Zeroizing<String>);

impl From<String> for ClientSecret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: String) -> Self {
        Self(Zeroizing::new(secret))
    }

    /// The secret, for the one call that sends it to Entra ID.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

/// The Entra ID application of a new (or re-configured) Intune endpoint, as an
/// administrator enters it. The cloud's URLs default to the public cloud's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIntuneApplication {
    /// The tenant id (a GUID) or a verified domain (`contoso.onmicrosoft.com`).
    pub tenant: String,
    /// The application (client) id.
    pub application_id: String,
    /// The application's client secret.
    pub client_secret: ClientSecret,
    /// Entra ID's login service, for a national cloud or a test stand-in.
    pub login_url: Option<String>,
    /// Microsoft Graph's base URL.
    pub graph_url: Option<String>,
    /// The Intune resource its tokens are for.
    pub intune_resource: Option<String>,
}

/// An Intune endpoint's application with its secret opened, for the SCEP edge.
#[derive(Debug, Clone)]
pub struct IntuneAccess {
    /// The tenant.
    pub tenant: String,
    /// The application (client) id.
    pub application_id: String,
    /// The client secret.
    pub client_secret: ClientSecret,
    /// The cloud's URLs.
    pub cloud: IntuneCloud,
}

/// What the audit log records of an exchange with Intune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntuneStep {
    /// `validateRequest`, before issuing.
    Validation,
    /// `successNotification`, after issuing.
    SuccessNotification,
    /// `failureNotification`, after refusing.
    FailureNotification,
    /// `downloadRevocationRequests`.
    RevocationDownload,
    /// One revocation request acted on (or refused).
    Revocation,
    /// `uploadRevocationResults`.
    RevocationUpload,
}

impl IntuneStep {
    /// Its action name in the audit log.
    pub fn action(self) -> &'static str {
        match self {
            IntuneStep::Validation => "intune.validate",
            IntuneStep::SuccessNotification => "intune.notify_success",
            IntuneStep::FailureNotification => "intune.notify_failure",
            IntuneStep::RevocationDownload => "intune.revocation_download",
            IntuneStep::Revocation => "intune.revocation",
            IntuneStep::RevocationUpload => "intune.revocation_upload",
        }
    }
}

/// Why a revocation Intune asked for was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntuneRevocationRefusal {
    /// The serial is not one this CA issued (or is not a serial at all).
    #[error("no certificate with serial {0} was issued by this CA")]
    NotFound(String),
    /// The certificate belongs to another organization or department than the endpoint's.
    #[error("certificate {0} is outside the scope of this Intune endpoint")]
    OutOfScope(String),
    /// It is revoked already.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    /// The issuer Intune named is not the certificate's.
    #[error("certificate {serial} was not issued by '{issuer}'")]
    IssuerMismatch {
        /// The serial.
        serial: String,
        /// The issuer Intune named.
        issuer: String,
    },
    /// The revocation could not be recorded.
    #[error("the revocation of certificate {0} could not be recorded")]
    Failed(String),
}

fn check_identifier(what: &str, value: &str) -> RaResult<()> {
    if value.is_empty() || value.chars().count() > MAX_IDENTIFIER_CHARS {
        return Err(RaError::InvalidInput(format!(
            "the Intune {what} must be 1 to {MAX_IDENTIFIER_CHARS} characters"
        )));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RaError::InvalidInput(format!(
            "the Intune {what} must be ASCII without spaces"
        )));
    }
    Ok(())
}

impl RegistrationAuthority {
    /// Checks an application as entered and seals its secret.
    pub(super) fn seal_intune_application(
        &self,
        new: &NewIntuneApplication,
    ) -> RaResult<IntuneApplication> {
        check_identifier("tenant", &new.tenant)?;
        check_identifier("application id", &new.application_id)?;
        let secret = new.client_secret.expose();
        if secret.is_empty() || secret.len() > MAX_CLIENT_SECRET_BYTES {
            return Err(RaError::InvalidInput(format!(
                "the Intune client secret must be 1 to {MAX_CLIENT_SECRET_BYTES} bytes"
            )));
        }
        let defaults = IntuneCloud::default();
        let url = |what: &str, given: &Option<String>, default: String| -> RaResult<String> {
            match given {
                Some(url) => {
                    check_http_url(what, url)?;
                    Ok(url.clone())
                }
                None => Ok(default),
            }
        };
        Ok(IntuneApplication {
            tenant: new.tenant.clone(),
            application_id: new.application_id.clone(),
            sealed_client_secret: self.secrets.seal(secret.as_bytes()),
            cloud: IntuneCloud {
                login_url: url("login url", &new.login_url, defaults.login_url)?,
                graph_url: url("graph url", &new.graph_url, defaults.graph_url)?,
                intune_resource: url(
                    "intune resource",
                    &new.intune_resource,
                    defaults.intune_resource,
                )?,
            },
        })
    }

    /// Replaces the Entra ID application of an Intune endpoint (a new secret, say).
    /// Needs `manage` on the endpoint's certificate class within its scope; the audit
    /// entry names the tenant and application, never the secret.
    pub fn set_intune_application(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        new: NewIntuneApplication,
    ) -> RaResult<Endpoint> {
        const ACTION: &str = "endpoint.intune.set";
        let mut endpoint = self.endpoint_to_manage(actor, endpoint_id, ACTION)?;
        let sealed = self.seal_intune_application(&new)?;
        let EndpointKind::Intune { application } = &mut endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an Intune endpoint",
                endpoint.name
            )));
        };
        let detail = format!(
            "tenant {}, application {}, new client secret",
            sealed.tenant, sealed.application_id
        );
        *application = sealed;
        let mut batch = WriteBatch::new();
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, ACTION, &endpoint_id.label(), detail),
            "Intune application",
        )?;
        Ok(endpoint)
    }

    /// The application of an Intune endpoint with its secret opened, for the SCEP
    /// edge that calls Intune; `None` for any other kind. A secret that cannot be
    /// opened (the data directory's `secrets.key` was replaced) is an error: the
    /// edge refuses the enrollment.
    pub fn intune_access(&self, endpoint: &Endpoint) -> RaResult<Option<IntuneAccess>> {
        let EndpointKind::Intune { application } = &endpoint.kind else {
            return Ok(None);
        };
        let secret = self
            .secrets
            .open_sealed(&application.sealed_client_secret)
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .ok_or_else(|| {
                RaError::Store(ca_core::store::StoreError::Codec {
                    table: ENDPOINTS.name(),
                    reason: format!(
                        "the Intune client secret of endpoint '{}' cannot be opened with this secrets.key",
                        endpoint.name
                    ),
                })
            })?;
        Ok(Some(IntuneAccess {
            tenant: application.tenant.clone(),
            application_id: application.application_id.clone(),
            client_secret: ClientSecret::new(secret),
            cloud: application.cloud.clone(),
        }))
    }

    /// The active Intune endpoints, for the revocation poller.
    pub fn active_intune_endpoints(&self) -> RaResult<Vec<Endpoint>> {
        Ok(ENDPOINTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e| e.active && matches!(e.kind, EndpointKind::Intune { .. }))
            .collect())
    }

    /// Records one exchange with Intune in the audit log. `detail` is the edge's
    /// account (the activity id, the code Intune answered); it must name neither a
    /// secret nor a token, and is cut to one short line.
    pub fn record_intune_step(
        &self,
        endpoint: &Endpoint,
        actor: &str,
        step: IntuneStep,
        outcome: Outcome,
        detail: &str,
    ) -> RaResult<()> {
        let mut event = AuditEvent::success(
            actor,
            step.action(),
            &endpoint.id.label(),
            audit_detail(detail),
        );
        event.outcome = outcome;
        self.audit.record(event)?;
        Ok(())
    }

    /// Carries out a revocation Intune asked for (a retired or wiped device): the
    /// certificate with `serial` (hex, any case, with or without leading zeros or
    /// colons), when it belongs to the endpoint's organization (and department, if the
    /// endpoint has one) and, if Intune names an issuer, was issued by it. Revoked as
    /// `cessationOfOperation`; committed, CRL regenerated, before this returns.
    pub fn revoke_for_intune(
        &self,
        endpoint: &Endpoint,
        actor: &str,
        serial: &str,
        issuer: Option<&str>,
    ) -> Result<CertificateRecord, IntuneRevocationRefusal> {
        let shown: String = serial.chars().take(64).collect();
        let not_found = || IntuneRevocationRefusal::NotFound(shown.clone());
        let cleaned: String = serial.chars().filter(|c| *c != ':' && *c != ' ').collect();
        let bytes = hex::decode(if cleaned.len() % 2 == 1 {
            format!("0{cleaned}")
        } else {
            cleaned
        })
        .map_err(|_| not_found())?;
        let serial = Serial::from_bytes(&bytes);
        let record = match self.ca.certificates().by_serial(&serial) {
            Ok(Some(record)) => record,
            Ok(None) => return Err(not_found()),
            Err(_) => return Err(IntuneRevocationRefusal::Failed(shown)),
        };
        let owner = match self.certificate_owner(record.id) {
            Ok(owner) => owner,
            Err(RaError::NotFound(_)) => return Err(IntuneRevocationRefusal::OutOfScope(shown)),
            Err(_) => return Err(IntuneRevocationRefusal::Failed(shown)),
        };
        let in_scope = !owner.external
            && owner.org == endpoint.org
            && (endpoint.dept.is_none() || owner.dept == endpoint.dept);
        if !in_scope {
            return Err(IntuneRevocationRefusal::OutOfScope(shown));
        }
        if let Some(issuer) = issuer.filter(|i| !i.trim().is_empty()) {
            if !self.issuer_matches(&record, issuer) {
                return Err(IntuneRevocationRefusal::IssuerMismatch {
                    serial: shown,
                    issuer: issuer.chars().take(200).collect(),
                });
            }
        }
        if matches!(record.status, CertificateStatus::Revoked { .. }) {
            return Err(IntuneRevocationRefusal::AlreadyRevoked(shown));
        }
        self.revoke_internal(
            actor,
            record.id,
            owner.request,
            RevocationReason::CessationOfOperation,
            &format!("Intune asked for it (endpoint '{}')", endpoint.name),
        )
        .map_err(|e| match e {
            RaError::Ca(CaServiceError::AlreadyRevoked(_)) => {
                IntuneRevocationRefusal::AlreadyRevoked(shown.clone())
            }
            _ => IntuneRevocationRefusal::Failed(shown.clone()),
        })
    }

    /// Whether `issuer` names the CA that issued `record`: its distinguished name as
    /// text (RFC 4514 or Windows' `CN=…, O=…` order, compared without spaces and case),
    /// or its common name alone, or its CA id.
    fn issuer_matches(&self, record: &CertificateRecord, issuer: &str) -> bool {
        let Some(ca) = self.ca.ca(&record.issuer_id) else {
            return false;
        };
        let normalize = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let wanted = normalize(issuer);
        if wanted == normalize(ca.id()) {
            return true;
        }
        use x509_parser::prelude::*;
        let Ok((_, certificate)) = X509Certificate::from_der(ca.certificate_der()) else {
            return false;
        };
        let subject = certificate.subject();
        let forward = normalize(&subject.to_string());
        // Windows writes a distinguished name most-significant last (`CN=…, O=…`).
        let mut parts: Vec<String> = subject.to_string().split(',').map(normalize).collect();
        parts.reverse();
        let reversed = parts.join(",");
        let common_name = subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(normalize);
        wanted == forward || wanted == reversed || common_name.as_deref() == Some(wanted.as_str())
    }
}
