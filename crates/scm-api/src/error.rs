//! The certificate manager's error body, `{"code": <negative int>, "description": "..."}`,
//! and the mapping of the RA's refusals to its codes.

use bytes::Bytes;
use gateway_http::{Refusal, RefusalKind};
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use policy::registry::RaError;
use serde_json::json;

/// The codes of the reference's table that this API answers with.
pub mod code {
    /// The pending signal on collect (with [`super::PENDING_DESCRIPTION`]).
    pub const PENDING: i32 = 0;
    /// Unknown or internal error.
    pub const INTERNAL: i32 = -1;
    /// Not authorized / access denied.
    pub const ACCESS_DENIED: i32 = -3;
    /// A required field is missing or a value is malformed.
    pub const REQUIRED_FIELD: i32 = -7;
    /// The CSR is bad (encoding, algorithm, key size).
    pub const BAD_CSR: i32 = -9;
    /// Unknown user (401).
    pub const UNKNOWN_USER: i32 = -16;
    /// The term is not among the profile's.
    pub const BAD_TERM: i32 = -36;
    /// The profile id is invalid.
    pub const BAD_PROFILE: i32 = -39;
    /// A mandatory custom field is missing.
    pub const MISSING_CUSTOM_FIELD: i32 = -62;
    /// Only issued certificates can be revoked (also a repeat revoke).
    pub const NOT_ISSUED_FOR_REVOKE: i32 = -102;
    /// Revoked: cannot be downloaded.
    pub const REVOKED_NO_DOWNLOAD: i32 = -110;
    /// The certificate id is wrong.
    pub const BAD_CERT_ID: i32 = -124;
    /// Unknown download format.
    pub const BAD_FORMAT: i32 = -126;
    /// The certificate is not issued (collect of a refused request, renew of a pending one).
    pub const NOT_ISSUED: i32 = -130;
    /// The organization id is invalid.
    pub const BAD_ORG: i32 = -639;
    /// The domain does not exist.
    pub const NO_DOMAIN: i32 = -727;
    /// A name is not in a domain delegated to the organization.
    pub const DOMAIN_NOT_DELEGATED: i32 = -737;
    /// The request cannot be approved or declined in its state.
    pub const CANNOT_DECIDE: i32 = -1112;
    /// The certificate is not found.
    pub const NOT_FOUND: i32 = -5101;
    /// A name or object exists already.
    pub const EXISTS: i32 = -980;
}

/// What a pending collect says: connectors match this text exactly.
pub const PENDING_DESCRIPTION: &str = "Being processed by Sectigo";

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScmError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The reference's code (negative; 0 only for the pending signal).
    pub code: i32,
    /// What went wrong, for a person.
    pub description: String,
    /// Seconds to wait before trying again (429 answers).
    pub retry_after: Option<u64>,
}

impl ScmError {
    /// An error with a status, a code and a description.
    pub fn new(status: StatusCode, code: i32, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 429: too many failed logins from the client's address.
    pub fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::UNKNOWN_USER,
                format!("Too many failed logins from this address; try again in {seconds} s"),
            )
        }
    }

    /// 429 -16 for an account locked by the RA's growing delay after failed logins from
    /// this address.
    pub fn account_locked(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                code::UNKNOWN_USER,
                format!(
                    "Too many failed logins for this account from this address; try again in {seconds} s, or ask an MRAO to unlock it"
                ),
            )
        }
    }

    /// 400 with a code.
    pub fn bad(code: i32, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, description)
    }

    /// 400 -7: a field is missing or malformed.
    pub fn field(description: impl Into<String>) -> Self {
        Self::bad(code::REQUIRED_FIELD, description)
    }

    /// 401 -16, the reference's body for every authentication failure.
    pub fn unknown_user() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code::UNKNOWN_USER, "Unknown user")
    }

    /// 404 with a code.
    pub fn not_found(code: i32, description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, description)
    }

    /// The pending signal of collect: 400, code 0, the exact description.
    pub fn pending() -> Self {
        Self::bad(code::PENDING, PENDING_DESCRIPTION)
    }

    /// The RA's refusal, with `not_found` as the code for an unknown object.
    pub fn from_ra(error: &RaError, not_found: i32) -> Self {
        if let RaError::MissingCustomField(name) = error {
            return Self::bad(
                code::MISSING_CUSTOM_FIELD,
                format!("The mandatory custom field '{name}' is missing"),
            );
        }
        if let RaError::RefusedByProfile { error, .. } = error {
            return Self::bad(code::BAD_CSR, format!("The CSR is refused: {error}"));
        }
        let refusal = Refusal::of(error);
        match refusal.kind {
            RefusalKind::Unauthenticated => Self::unknown_user(),
            RefusalKind::Forbidden => {
                Self::new(StatusCode::FORBIDDEN, code::ACCESS_DENIED, refusal.message)
            }
            RefusalKind::NotFound => Self::not_found(not_found, refusal.message),
            RefusalKind::BadRequest => Self::field(refusal.message),
            RefusalKind::Conflict => Self::bad(code::EXISTS, refusal.message),
            _ => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                refusal.message,
            ),
        }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = json!({ "code": self.code, "description": self.description });
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<RaError> for ScmError {
    fn from(error: RaError) -> Self {
        Self::from_ra(&error, code::NOT_FOUND)
    }
}
