//! The answers: whole bodies (hyper sends a Content-Length, never chunks,
//! which libest requires) with RFC 7030's media types.

use bytes::Bytes;
use gateway_http::HttpResponse;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::wire::encode_payload;

/// An early answer, boxed: a response is large to carry in every `Err`.
pub type Refused = Box<HttpResponse>;

/// An answer as an early return.
pub fn refuse(response: HttpResponse) -> Refused {
    Box::new(response)
}

/// A short human-readable refusal (RFC 7030 §4.2.3).
pub fn text(status: StatusCode, body: &str) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(format!("{body}\n"))))
        .expect("static headers are valid")
}

/// A DER payload, base64 with `Content-Transfer-Encoding: base64`.
pub fn base64_answer(status: StatusCode, media_type: &'static str, der: &[u8]) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, media_type)
        .header("Content-Transfer-Encoding", "base64")
        .body(Full::new(Bytes::from(encode_payload(der))))
        .expect("static headers are valid")
}

/// `500`, with the cause logged and not told.
pub fn internal(e: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %e, "EST request failed");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server could not complete the request",
    )
}

/// `401` with the Basic challenge.
pub fn unauthorized(reason: &str) -> HttpResponse {
    let mut response = text(StatusCode::UNAUTHORIZED, reason);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"EST\", charset=\"UTF-8\""),
    );
    response
}

/// `202 Accepted` with `Retry-After`: the request waits for an administrator.
pub fn accepted(retry_after_seconds: u64) -> HttpResponse {
    let mut response = text(
        StatusCode::ACCEPTED,
        "the request waits for approval; repeat the same request after Retry-After seconds",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
    response
}

/// `429` for an address over the failed-attempt limit.
pub fn too_many_failures(wait_seconds: u64) -> HttpResponse {
    let mut response = text(
        StatusCode::TOO_MANY_REQUESTS,
        "too many failed authentication attempts from this address; try again later",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait_seconds));
    response
}

/// `429` for a Basic user locked after failed passwords from this address (the RA's
/// growing delay), with `Retry-After` and the reason as text (RFC 7030 §4.2.3: any
/// HTTP error status, a plain-text reason; 429 is RFC 6585's for exactly this, where
/// 503 would blame the server and 202 would tell the device its request was taken).
pub fn user_locked(wait_seconds: u64) -> HttpResponse {
    let mut response = text(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "too many failed passwords for this user from this address; try again in {wait_seconds} s, or ask an MRAO to unlock the endpoint"
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait_seconds));
    response
}
