//! The plain-HTTP routes: CA certificates, CRLs, OCSP, health and metrics.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use ca_core::authority::rfc3339;
use ca_core::encoding::pem;
use ca_core::ocsp::MAX_OCSP_REQUEST_BYTES;
use ca_core::service::CaService;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use super::metrics::Metrics;

/// What every request handler shares.
pub struct GatewayState {
    /// The CA service.
    pub service: Arc<CaService>,
    /// Counters.
    pub metrics: Metrics,
    /// The protocol edges and where they are mounted.
    pub mounts: Vec<gateway_http::Mount>,
    /// The HTTPS listener's URL, if it runs (named to clients that came over plain HTTP).
    pub https_url: Option<Arc<str>>,
}

type HttpResponse = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()))
        .expect("static headers are valid")
}

fn text(status: StatusCode, body: &str) -> HttpResponse {
    respond(status, "text/plain; charset=utf-8", format!("{body}\n"))
}

/// Routes one request.
pub async fn handle(
    state: Arc<GatewayState>,
    request: Request<Incoming>,
) -> Result<HttpResponse, std::convert::Infallible> {
    let response = route(&state, request).await;
    if response.status().is_client_error() {
        state.metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if response.status().is_server_error() {
        state.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    Ok(response)
}

async fn route(state: &Arc<GatewayState>, request: Request<Incoming>) -> HttpResponse {
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let metrics = &state.metrics;
    if path == "/ocsp" || path.starts_with("/ocsp/") {
        metrics.requests_ocsp.fetch_add(1, Ordering::Relaxed);
        return ocsp(state, method, &path, request).await;
    }
    if method != Method::GET && method != Method::HEAD {
        metrics.requests_other.fetch_add(1, Ordering::Relaxed);
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here");
    }
    if path == "/ca" || path == "/ca/" {
        metrics.requests_ca.fetch_add(1, Ordering::Relaxed);
        return ca_list(state);
    }
    if let Some(file) = path.strip_prefix("/ca/") {
        metrics.requests_ca.fetch_add(1, Ordering::Relaxed);
        return ca_file(state, file);
    }
    if let Some(file) = path.strip_prefix("/crl/") {
        metrics.requests_crl.fetch_add(1, Ordering::Relaxed);
        return crl_file(state, file).await;
    }
    metrics.requests_other.fetch_add(1, Ordering::Relaxed);
    match path.as_str() {
        "/healthz" => text(StatusCode::OK, "ok"),
        "/metrics" => metrics_page(state).await,
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

fn ca_list(state: &GatewayState) -> HttpResponse {
    let urls = state.service.urls();
    let list: Vec<serde_json::Value> = state
        .service
        .cas()
        .map(|ca| {
            let meta = ca.metadata();
            serde_json::json!({
                "id": ca.id(),
                "subject": ca.subject_text(),
                "role": meta.role,
                "parent": meta.parent,
                "key_type": meta.key_algorithm,
                "not_before": rfc3339(ca.not_before()),
                "not_after": rfc3339(ca.not_after()),
                "default_issuer": ca.id() == state.service.default_issuer(),
                "certificate_der_url": urls.ca_certificate(ca.id()),
                "certificate_pem_url": format!("{}/ca/{}.pem", urls.base(), ca.id()),
                "chain_pem_url": format!("{}/ca/{}-chain.pem", urls.base(), ca.id()),
                "crl_url": urls.crl(ca.id()),
            })
        })
        .collect();
    let body =
        serde_json::to_vec_pretty(&serde_json::json!({ "cas": list, "ocsp_url": urls.ocsp() }))
            .unwrap_or_default();
    respond(StatusCode::OK, "application/json", body)
}

fn ca_file(state: &GatewayState, file: &str) -> HttpResponse {
    let (id, kind) = if let Some(id) = file.strip_suffix("-chain.pem") {
        (id, "chain")
    } else if let Some(id) = file
        .strip_suffix(".crt")
        .or_else(|| file.strip_suffix(".der"))
    {
        (id, "der")
    } else if let Some(id) = file.strip_suffix(".pem") {
        (id, "pem")
    } else {
        return text(
            StatusCode::NOT_FOUND,
            "use /ca/<id>.crt, /ca/<id>.pem or /ca/<id>-chain.pem",
        );
    };
    let Some(ca) = state.service.ca(id) else {
        return text(StatusCode::NOT_FOUND, &format!("no CA '{id}'"));
    };
    match kind {
        "der" => respond(
            StatusCode::OK,
            "application/pkix-cert",
            ca.certificate_der().to_vec(),
        ),
        "pem" => respond(
            StatusCode::OK,
            "application/x-pem-file",
            pem("CERTIFICATE", ca.certificate_der()),
        ),
        _ => {
            let mut body = pem("CERTIFICATE", ca.certificate_der());
            for der in ca.chain_der() {
                body.push_str(&pem("CERTIFICATE", der));
            }
            respond(StatusCode::OK, "application/pem-certificate-chain", body)
        }
    }
}

async fn crl_file(state: &Arc<GatewayState>, file: &str) -> HttpResponse {
    let (id, as_pem) = if let Some(id) = file.strip_suffix(".crl") {
        (id.to_string(), false)
    } else if let Some(id) = file.strip_suffix(".pem") {
        (id.to_string(), true)
    } else {
        return text(StatusCode::NOT_FOUND, "use /crl/<ca-id>.crl");
    };
    let service = state.service.clone();
    let result = tokio::task::spawn_blocking(move || service.crl_der(&id)).await;
    match result {
        Ok(Ok(Some(der))) if as_pem => respond(
            StatusCode::OK,
            "application/x-pem-file",
            pem("X509 CRL", &der),
        ),
        Ok(Ok(Some(der))) => respond(StatusCode::OK, "application/pkix-crl", der),
        Ok(Ok(None)) => text(StatusCode::NOT_FOUND, "no such CA"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "CRL unavailable");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the CRL could not be produced",
            )
        }
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the CRL could not be produced",
        ),
    }
}

fn ocsp_response(der: Vec<u8>) -> HttpResponse {
    respond(StatusCode::OK, "application/ocsp-response", der)
}

async fn ocsp(
    state: &Arc<GatewayState>,
    method: Method,
    path: &str,
    request: Request<Incoming>,
) -> HttpResponse {
    let malformed =
        || ocsp_response(ca_core::ocsp::OcspError::Malformed(String::new()).to_response_der());
    let der: Vec<u8> = match method {
        Method::POST => {
            let limited = Limited::new(request.into_body(), MAX_OCSP_REQUEST_BYTES);
            match limited.collect().await {
                Ok(body) => body.to_bytes().to_vec(),
                Err(_) => return malformed(),
            }
        }
        Method::GET => {
            // RFC 6960 appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
            let encoded = path.trim_start_matches("/ocsp").trim_start_matches('/');
            let decoded = percent_decode(encoded);
            if decoded.len() > MAX_OCSP_REQUEST_BYTES * 2 {
                return malformed();
            }
            match base64::engine::general_purpose::STANDARD.decode(decoded.trim()) {
                Ok(bytes) => bytes,
                Err(_) => return malformed(),
            }
        }
        _ => return text(StatusCode::METHOD_NOT_ALLOWED, "OCSP takes GET or POST"),
    };
    let get = method == Method::GET;
    // A cached answer costs one store read and no signature: it is given here, on the
    // async worker (a hand-off to the blocking pool would cost more than the answer).
    // Whatever must be signed goes to the blocking pool.
    let answer = match state.service.ocsp_answer_from_cache(&der) {
        Some(answer) => answer,
        None => {
            let service = state.service.clone();
            match tokio::task::spawn_blocking(move || service.ocsp_answer(&der)).await {
                Ok(answer) => answer,
                Err(_) => {
                    return ocsp_response(
                        ca_core::ocsp::OcspError::Internal(String::new()).to_response_der(),
                    )
                }
            }
        }
    };
    let headers = ocsp_caching_headers(&answer, get, time::OffsetDateTime::now_utc());
    let mut response = ocsp_response(answer.der);
    for (name, value) in headers {
        if let Ok(value) = header::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The caching headers of an OCSP answer (RFC 5019 §6.2): for a GET whose answer is
/// cacheable (successful, one CertID, no nonce), `Cache-Control` with `max-age` up to
/// nextUpdate, `Last-Modified` (thisUpdate), `Expires` (nextUpdate) and an `ETag` (the
/// SHA-256 of the response); for any other GET, `Cache-Control: no-cache`; for POST, none.
fn ocsp_caching_headers(
    answer: &ca_core::service::OcspAnswer,
    get: bool,
    now: time::OffsetDateTime,
) -> Vec<(header::HeaderName, String)> {
    if !get {
        return Vec::new();
    }
    let (Some(this_update), Some(next_update), true) =
        (answer.this_update, answer.next_update, answer.cacheable)
    else {
        return vec![(header::CACHE_CONTROL, "no-cache".to_string())];
    };
    let max_age = (next_update - now.unix_timestamp()).max(0);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &answer.der);
    let etag: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    vec![
        (
            header::CACHE_CONTROL,
            format!("max-age={max_age}, public, no-transform, must-revalidate"),
        ),
        (header::LAST_MODIFIED, http_date(this_update)),
        (header::EXPIRES, http_date(next_update)),
        (header::ETAG, format!("\"{etag}\"")),
    ]
}

/// An HTTP-date (RFC 7231 IMF-fixdate), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 GMT".to_string())
}

/// Decodes %XX escapes (OCSP GET paths escape '/', '+' and '=').
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn metrics_page(state: &Arc<GatewayState>) -> HttpResponse {
    let service = state.service.clone();
    let counts = tokio::task::spawn_blocking(move || {
        let repo = service.certificates();
        let issued = repo
            .ids_with_status(1, usize::MAX)
            .map(|v| v.len())
            .unwrap_or(0);
        let revoked = repo
            .ids_with_status(2, usize::MAX)
            .map(|v| v.len())
            .unwrap_or(0);
        let stats = repo.store().stats();
        (issued, revoked, stats.commits, stats.batches)
    })
    .await
    .unwrap_or((0, 0, 0, 0));
    respond(
        StatusCode::OK,
        "text/plain; version=0.0.4",
        state.metrics.render(counts.0, counts.1, counts.2, counts.3),
    )
}

#[cfg(test)]
mod tests {
    use super::{http_date, ocsp_caching_headers, percent_decode};
    use ca_core::service::OcspAnswer;
    use http::header;

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn only_cacheable_get_answers_get_caching_headers() {
        let now = time::OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        let answer = OcspAnswer {
            der: b"response".to_vec(),
            this_update: Some(784_111_777 - 100),
            next_update: Some(784_111_777 + 3600),
            cacheable: true,
        };
        let headers = ocsp_caching_headers(&answer, true, now);
        let value = |name: header::HeaderName| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(
            value(header::CACHE_CONTROL),
            "max-age=3600, public, no-transform, must-revalidate"
        );
        assert_eq!(
            value(header::LAST_MODIFIED),
            "Sun, 06 Nov 1994 08:47:57 GMT"
        );
        assert_eq!(value(header::EXPIRES), "Sun, 06 Nov 1994 09:49:37 GMT");
        let etag = value(header::ETAG);
        assert!(etag.len() == 66 && etag.starts_with('"') && etag.ends_with('"'));
        // Past nextUpdate: max-age 0, never negative.
        let late = now + time::Duration::hours(2);
        assert!(ocsp_caching_headers(&answer, true, late)[0]
            .1
            .starts_with("max-age=0,"));
        assert!(ocsp_caching_headers(&answer, false, now).is_empty());
        let nonced = OcspAnswer {
            cacheable: false,
            ..answer
        };
        assert_eq!(
            ocsp_caching_headers(&nonced, true, now),
            vec![(header::CACHE_CONTROL, "no-cache".to_string())]
        );
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("MEQw%2FBA%3D%3D"), "MEQw/BA==");
        assert_eq!(percent_decode("abc%"), "abc%");
        assert_eq!(percent_decode("a%zz"), "a%zz");
    }
}
