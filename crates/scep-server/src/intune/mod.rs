//! Microsoft Intune as a SCEP validator: the protocol of Microsoft's published
//! validation library (`microsoft/Intune-Resource-Access`, `src/CsrValidation`),
//! written from what that library does.
//!
//! One exchange with Intune, for one SCEP transaction:
//!
//! 1. [`token`]: a client-credentials access token from Entra ID, for the
//!    resource being called (Graph for the look-up, Intune for the service).
//! 2. [`discovery`]: the URL of the SCEP validation service, looked up among the
//!    Intune service principal's endpoints in Microsoft Graph; cached, and the
//!    cache dropped when a call to the service cannot reach it.
//! 3. [`scep_service`]: `ScepActions/validateRequest` with the transaction id and
//!    the CSR before issuing; `ScepActions/successNotification` or
//!    `ScepActions/failureNotification` after.
//!
//! 4. [`revocation`]: `CertificateAuthorityRequests/downloadRevocationRequests` for
//!    the certificates of retired or wiped devices, and `uploadRevocationResults`
//!    once they are revoked (or refused).
//!
//! [`client::IntuneClient`] holds one endpoint's tokens and service map.
//! Every call carries an activity id (a random GUID) as `client-request-id`;
//! callers put it in the audit log so that an Intune administrator can
//! correlate it with Intune's own records.

pub mod activity;
pub mod client;
pub mod clients;
pub mod discovery;
mod http;
pub mod revocation;
pub mod scep_service;
pub mod token;

use std::fmt;

use zeroize::Zeroizing;

/// The base URLs of the three services; they differ per national cloud, and tests
/// point them at a local stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntuneUrls {
    /// Entra ID's login service (`https://login.microsoftonline.com`).
    pub login: String,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    pub graph: String,
    /// The Intune resource the service's tokens are for (`https://api.manage.microsoft.com/`).
    pub intune_resource: String,
}

impl Default for IntuneUrls {
    fn default() -> Self {
        Self {
            login: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            intune_resource: "https://api.manage.microsoft.com/".into(),
        }
    }
}

/// The Entra ID application Certwright authenticates as.
#[derive(Clone)]
pub struct IntuneCredentials {
    /// The Entra ID tenant (its id or a verified domain).
    pub tenant: String,
    /// The application (client) id.
    pub application_id: String,
    /// The application's client secret; wiped on drop, never printed.
    pub client_secret: Zeroizing<String>,
}

impl fmt::Debug for IntuneCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The secret never reaches a log line, even through `{:?}`.
        f.debug_struct("IntuneCredentials")
            .field("tenant", &self.tenant)
            .field("application_id", &self.application_id)
            .field("client_secret", &"<sealed>")
            .finish()
    }
}

/// Why a call to Entra ID, Graph or Intune did not give an answer to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntuneError {
    /// The service could not be reached, or did not answer in time.
    #[error("{service} could not be reached: {reason}")]
    Unreachable {
        /// Which service.
        service: &'static str,
        /// Why.
        reason: String,
    },
    /// The service answered with a non-2xx status.
    #[error("{service} answered HTTP {status}")]
    Status {
        /// Which service.
        service: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// The answer was not the JSON expected.
    #[error("{service} gave an answer that could not be read: {reason}")]
    BadAnswer {
        /// Which service.
        service: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// Graph does not list the named service for this tenant.
    #[error("Graph lists no endpoint for the Intune service {0}")]
    ServiceNotFound(String),
}

impl IntuneError {
    /// Whether the cached service URL may be stale (the service could not be reached there).
    pub fn invalidates_service_map(&self) -> bool {
        matches!(self, IntuneError::Unreachable { .. })
    }
}
