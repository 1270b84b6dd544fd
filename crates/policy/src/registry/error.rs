//! The registration authority's errors: one typed error for every operation,
//! each with a stable machine-readable code that the edges report.

use ca_core::issuance::IssuanceError;
use ca_core::service::CaServiceError;
use ca_core::store::StoreError;

use crate::authz::Denied;
use crate::request::{CertificateRequest, IllegalTransition};

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
    /// The certificate profile refuses the CSR as asked (its key type or size, its names,
    /// the term). The request is recorded as Invalid: `request` is that record (a protocol
    /// edge answers in its own terms, e.g. ACME `badCSR`; the REST API shows the record).
    #[error("the CSR is refused by the profile: {error}")]
    RefusedByProfile {
        /// The request, as recorded (Invalid, with the reason).
        request: Box<CertificateRequest>,
        /// Why the profile refuses it.
        #[source]
        error: IssuanceError,
    },
    /// A custom field that the certificate class makes mandatory has no value.
    #[error("invalid input: the mandatory custom field '{0}' has no value")]
    MissingCustomField(String),
    /// Too many failed logins for this account from this address: wait `retry_after` seconds.
    #[error("too many failed logins; try again in {retry_after} s")]
    TooManyFailures {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The client address is outside the allow-list of the administrator's role
    /// (`access_control`); the edges answer 403 like [`RaError::Forbidden`].
    #[error(
        "forbidden: {} is not in the {role} allow-list; administrators of this role may not sign in or act from it",
        address.map_or_else(|| "an unknown client address".to_string(), |a| format!("the address {a}"))
    )]
    AddressNotAllowed {
        /// The role's name.
        role: &'static str,
        /// The client's address, if the edge knows it.
        address: Option<std::net::IpAddr>,
    },
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
            RaError::RefusedByProfile { .. } => "invalid_input",
            RaError::MissingCustomField(_) => "invalid_input",
            RaError::TooManyFailures { .. } => "too_many_failures",
            // The same code as any other refusal of an authenticated caller: every edge
            // already answers it with 403.
            RaError::AddressNotAllowed { .. } => "forbidden",
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

pub(super) type RaResult<T> = Result<T, RaError>;
