//! Certwright's ACME server (RFC 8555), with external account binding,
//! approval queues, ACME Renewal Information (RFC 9773) and real challenge
//! validation (http-01, dns-01, tls-alpn-01 per RFC 8737, IP identifiers per
//! RFC 8738).
//!
//! [`AcmeServer::handle`] takes one HTTP request under `/acme/<endpoint>/`
//! and returns its response; `ca-admin serve` mounts it on the HTTPS
//! listener, one directory per ACME enrollment endpoint of the RA
//! (`/acme/<endpoint>/directory`). A request goes through:
//!
//! 1. here: the path into an endpoint name and a route, the body read with
//!    a size limit;
//! 2. `handlers`: on the blocking pool, the endpoint resolved through the
//!    RA, the JWS checked (`wire`: url, key, signature, nonce), and a handler
//!    that reads and writes the records (`records`) and calls the RA;
//! 3. here again: every answer gets a fresh `Replay-Nonce` and the
//!    directory as `Link: rel="index"`; every error is a problem document.
//!
//! Layout, like rustls keeps wire formats apart from its state machines:
//! `wire/` (JWS, JWK, problem documents, JSON objects), `nonce`, `limits`,
//! `records` (store types), `handlers/` (one module per resource),
//! `validation` (challenge validation), `config`.

#![warn(missing_docs)]

pub mod config;
mod handlers;
pub mod limits;
pub mod nonce;
pub mod records;
pub mod validation;
pub mod wire;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use policy::registry::RegistrationAuthority;

pub use config::AcmeConfig;
use handlers::{Incoming, Reply, Route, Shared};
use wire::problem::Problem;

/// The path prefix the server answers under.
pub const PATH_PREFIX: &str = "/acme/";

const REPLAY_NONCE: HeaderName = HeaderName::from_static("replay-nonce");

/// The ACME server of every ACME endpoint of a registration authority.
#[derive(Clone)]
pub struct AcmeServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AcmeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeServer")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl AcmeServer {
    /// The server over a registration authority; `base_url` is where it is served
    /// (e.g. `https://127.0.0.1:8443`), the prefix of every URL it hands out.
    pub fn new(ra: Arc<RegistrationAuthority>, config: AcmeConfig, base_url: String) -> Self {
        let store = ra.ca().certificates().store().clone();
        let shared = Shared {
            nonces: nonce::NonceStore::new(config.nonce_lifetime(), config.max_nonces),
            limits: limits::RateLimiter::default(),
            records: records::Records::new(store),
            validator: validation::Validator::new(config.validation.to_validation_config()),
            validating: Mutex::new(HashSet::new()),
            base_url: base_url.trim_end_matches('/').to_string(),
            config,
            ra,
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &AcmeConfig {
        &self.shared.config
    }

    /// The directory URL of an endpoint.
    pub fn directory_url(&self, endpoint: &str) -> String {
        format!("{}{PATH_PREFIX}{endpoint}/directory", self.shared.base_url)
    }

    /// Answers one request under [`PATH_PREFIX`]. Never fails and never panics on
    /// input: every error is a problem document.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let Some(rest) = path.strip_prefix(PATH_PREFIX) else {
            return self.respond(None, Err(Problem::not_found("the resource")));
        };
        let (endpoint, route) = match rest.split_once('/') {
            Some((endpoint, route)) => (endpoint.to_string(), Route::parse(route)),
            None => (rest.to_string(), None),
        };
        let body = if parts.method == Method::POST {
            read_limited(body, &parts.headers, self.shared.config.body_limit_bytes).await
        } else {
            Ok(Bytes::new())
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| path.clone());
        let incoming = Incoming {
            method: parts.method.clone(),
            endpoint: endpoint.clone(),
            route,
            url: format!("{}{path_and_query}", self.shared.base_url),
            query: parts.uri.query().map(str::to_string),
            content_type,
            body,
        };
        let shared = self.shared.clone();
        let result = match tokio::task::spawn_blocking(move || {
            handlers::dispatch(&shared, incoming)
        })
        .await
        {
            Ok(result) => result,
            Err(e) => Err(Problem::internal(format!(
                "the handler did not finish: {e}"
            ))),
        };
        if let Err(problem) = &result {
            tracing::debug!(method = %parts.method, %path, kind = problem.kind.name(), detail = %problem.detail, "ACME request refused");
        }
        self.respond(Some(&endpoint), result)
    }

    /// The HTTP response: a fresh nonce and the index link on every one.
    fn respond(
        &self,
        endpoint: Option<&str>,
        result: Result<Reply, Problem>,
    ) -> Response<Full<Bytes>> {
        let reply = result.unwrap_or_else(|problem| Reply::problem(&problem));
        let mut response = Response::new(Full::new(reply.body));
        *response.status_mut() = reply.status;
        let headers = response.headers_mut();
        let mut set = |name: HeaderName, value: String| match HeaderValue::try_from(value) {
            Ok(value) => {
                headers.append(name, value);
            }
            Err(_) => tracing::warn!(header = %name, "a header value was not valid"),
        };
        set(REPLAY_NONCE, self.shared.nonces.issue());
        set(header::CACHE_CONTROL, "no-store".into());
        if let Some(content_type) = reply.content_type {
            set(header::CONTENT_TYPE, content_type.into());
        }
        // Only a name that could be an endpoint's is echoed into a header.
        if let Some(name) = endpoint.filter(|n| {
            !n.is_empty()
                && n.len() <= 64
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        }) {
            set(
                header::LINK,
                format!("<{}>;rel=\"index\"", self.directory_url(name)),
            );
        }
        for (name, value) in reply.headers {
            set(name, value);
        }
        response
    }
}

/// Reads a body up to `limit` bytes, its refusals as problem documents.
async fn read_limited<B>(body: B, headers: &http::HeaderMap, limit: usize) -> Result<Bytes, Problem>
where
    B: hyper::body::Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    gateway_http::read_limited(body, headers, limit)
        .await
        .map_err(|e| match e {
            gateway_http::BodyError::TooLarge { .. } => {
                Problem::malformed(e.to_string()).with_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            gateway_http::BodyError::Unreadable(_) => Problem::malformed(e.to_string()),
        })
}

impl gateway_http::ProtocolService for AcmeServer {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let server = self.clone();
        Box::pin(async move { server.handle(request).await })
    }
}
