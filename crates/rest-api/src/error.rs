//! The API's one error format: `{"error": {"code": "...", "message": "..."}}`
//! with the HTTP status that the code stands for.
//!
//! Codes are stable and machine-readable; messages are for humans and may
//! change. Internal failures are logged in full and answered with a generic
//! message, so that store paths or engine details never reach a client.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use policy::registry::RaError;

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// For 405: the methods the path does accept.
    allow: Option<String>,
    /// For 429: seconds to wait.
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            allow: None,
            retry_after: None,
        }
    }

    /// 429 `too_many_failures`: this client address failed to log in too often; wait.
    pub fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                format!("too many failed logins from this address; try again in {seconds} s"),
            )
        }
    }

    /// 429 `too_many_failures`: this account failed to log in from this address too
    /// often (the RA's growing delay); wait, or have an MRAO unlock it.
    pub fn account_locked(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_failures",
                format!(
                    "too many failed logins for this account from this address; try again in {seconds} s, or ask an MRAO to unlock it"
                ),
            )
        }
    }

    /// 400 `invalid_input`: the request is well-formed but its content is not acceptable.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    /// 400 `malformed_json`: the body is not JSON (or not the JSON shape expected).
    pub fn malformed_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_json", message)
    }

    /// 400 `unknown_field`: the body names a field the operation does not take.
    pub fn unknown_field(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unknown_field", message)
    }

    /// 401 `unauthenticated`: no credentials, or credentials that are not (or no longer) valid.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403 `forbidden`: authenticated, but the role or scope does not allow it.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`: no such object, or no such route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed`, with the methods the path accepts.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        Self {
            allow: Some(allow.clone()),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("this path accepts {allow}"),
            )
        }
    }

    /// 413 `too_large`: the body exceeds the limit of the operation.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// 500 `internal`: logs `detail` and tells the client nothing more than that it failed.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("REST API internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the details are in the server log",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON error document, as a value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } })
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"certwright\""),
            );
        }
        if let Some(allow) = self.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(header::ALLOW, allow);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl From<RaError> for ApiError {
    fn from(e: RaError) -> Self {
        use gateway_http::RefusalKind;
        let refusal = gateway_http::Refusal::of(&e);
        let status = match refusal.kind {
            RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::BadRequest => StatusCode::BAD_REQUEST,
            RefusalKind::Conflict => StatusCode::CONFLICT,
            RefusalKind::Internal => return ApiError::internal(format!("{}: {e}", e.code())),
        };
        // The RA's messages are written for operators ("invalid input: ..."); keep them whole.
        Self::new(status, e.code(), refusal.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_errors_map_to_statuses_and_hide_internals() {
        let e: ApiError = RaError::NotFound("org:9".into()).into();
        assert_eq!((e.status(), e.code()), (StatusCode::NOT_FOUND, "not_found"));
        let e: ApiError = RaError::Conflict("organization 'x'".into()).into();
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let e: ApiError = RaError::Unauthenticated("bad".into()).into();
        let response = e.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
        let e: ApiError = RaError::Store(ca_core::store::StoreError::Engine(
            "/secret/path/store.redb".into(),
        ))
        .into();
        assert_eq!(e.code(), "internal");
        assert!(!e.message().contains("/secret"));
    }
}
