//! Certwright: the REST API of the certificate manager that Certwright replaces,
//! compatible, so that connectors and scripts written for it (lifecycle
//! platforms, Keyfactor's plugin, Terraform providers, the `cert-manager`
//! Python package) work unchanged against Certwright.
//!
//! It is an edge like the protocol servers: it decides nothing that `policy`
//! decides. A request goes through:
//!
//! 1. [`routes`]: `/api/...` or `/private/api/...` into a [`routes::Route`];
//! 2. [`auth`]: the `login`, `password` and `customerUri` headers into an
//!    administrator, whose role and scope then apply as on our own API, from an
//!    address their role's allow-list admits;
//! 3. [`wire`]: the body, size-limited and parsed with the tolerances real
//!    connectors need;
//! 4. a handler, which calls the RA on the blocking pool and answers in the
//!    reference's shapes ([`views`]), or with its error body ([`error`]).
//!
//! `../shared/reference/scm-rest-api.md` is the reconstruction of the API this
//! follows; where it guesses, the choice made is documented at the handler.

#![warn(missing_docs)]

pub mod auth;
pub mod dates;
pub mod error;
mod handlers;
pub mod openapi;
pub mod routes;
pub mod views;
pub mod wire;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use policy::model::Administrator;
use policy::registry::RegistrationAuthority;

use auth::{CredentialCache, Credentials};
pub use error::ScmError;
pub use handlers::Report;

/// The largest body read (a CSR is at most 32767 characters).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Where `ca-admin serve` mounts the API (beside our own `/api/v1/`).
pub const PATH_PREFIX: &str = "/api/";
/// Where it mounts the client-certificate variant.
pub const PRIVATE_PATH_PREFIX: &str = "/private/api/";

/// The compatible API (cheap to clone).
#[derive(Clone)]
pub struct ScmApi {
    ra: Arc<RegistrationAuthority>,
    customer_uri: Arc<str>,
    https_base: Arc<str>,
    credentials: CredentialCache,
    /// Failed logins per client address (a password comes with every call).
    throttle: Arc<gateway_http::Throttle>,
}

impl std::fmt::Debug for ScmApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScmApi")
            .field("customer_uri", &self.customer_uri)
            .finish_non_exhaustive()
    }
}

/// Everything a handler may use about one request.
pub(crate) struct Ctx {
    pub ra: Arc<RegistrationAuthority>,
    pub admin: Administrator,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    /// The gateway's HTTPS base URL (for the ACME directory URLs it names).
    pub https_base: Arc<str>,
}

impl Ctx {
    /// A query parameter (names compared case-sensitively, as the reference spells them).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Runs `f` with the RA and the caller on the blocking pool (commits wait for an fsync).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ScmError>
    where
        T: Send + 'static,
        F: FnOnce(&RegistrationAuthority, &Administrator) -> Result<T, ScmError> + Send + 'static,
    {
        let ra = self.ra.clone();
        let admin = self.admin.clone();
        tokio::task::spawn_blocking(move || f(&ra, &admin))
            .await
            .map_err(|e| {
                ScmError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error::code::INTERNAL,
                    format!("the request did not finish: {e}"),
                )
            })?
    }
}

/// A successful answer.
#[derive(Debug)]
pub(crate) enum Reply {
    /// JSON with a status and extra headers.
    Json(StatusCode, serde_json::Value, Vec<(&'static str, String)>),
    /// A download.
    File { filename: String, body: Bytes },
    /// 201 with a Location.
    Created(String),
    /// 201 with a Location and a JSON body.
    CreatedWith(String, serde_json::Value),
    /// 204.
    NoContent,
}

impl Reply {
    fn into_response(self, head: bool) -> Response<Full<Bytes>> {
        let (status, body, content_type, headers) = match self {
            Reply::Json(status, value, headers) => (
                status,
                Bytes::from(value.to_string()),
                Some("application/json;charset=UTF-8"),
                headers,
            ),
            Reply::File { filename, body } => (
                StatusCode::OK,
                body,
                Some("application/octet-stream"),
                vec![(
                    "content-disposition",
                    format!("attachment; filename={filename}"),
                )],
            ),
            Reply::Created(location) => (
                StatusCode::CREATED,
                Bytes::new(),
                None,
                vec![("location", location)],
            ),
            Reply::CreatedWith(location, value) => (
                StatusCode::CREATED,
                Bytes::from(value.to_string()),
                Some("application/json;charset=UTF-8"),
                vec![("location", location)],
            ),
            Reply::NoContent => (StatusCode::NO_CONTENT, Bytes::new(), None, Vec::new()),
        };
        let mut response = Response::new(Full::new(if head { Bytes::new() } else { body }));
        *response.status_mut() = status;
        let h = response.headers_mut();
        if let Some(ct) = content_type {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        for (name, value) in headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(name, v);
            }
        }
        response
    }
}

impl ScmApi {
    /// The API over a registration authority, for one configured customer URI;
    /// `https_base` is the gateway's HTTPS URL (e.g. `https://127.0.0.1:8443`).
    pub fn new(ra: Arc<RegistrationAuthority>, customer_uri: &str, https_base: &str) -> Self {
        Self {
            ra,
            customer_uri: customer_uri.into(),
            https_base: https_base.trim_end_matches('/').into(),
            credentials: CredentialCache::default(),
            throttle: Arc::new(gateway_http::Throttle::with_limit(
                gateway_http::throttle::ADMIN_MAX_FAILURES,
            )),
        }
    }

    /// Answers one request; never fails (every error is the reference's error body).
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let head = request.method() == Method::HEAD;
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let mut response = match self.serve(request).await {
            Ok(reply) => reply.into_response(head),
            Err(error) => error.into_response(),
        };
        tracing::debug!(%method, %path, status = response.status().as_u16(), "SCM API");
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }

    async fn serve<B>(&self, request: Request<B>) -> Result<Reply, ScmError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        // The certificate the TLS handshake proved the client holds, if it sent one.
        let peer = gateway_http::PeerIdentity::of(&request);
        let client_certificate = peer
            .and_then(|peer| peer.client_certificate())
            .map(|c| c.as_ref().to_vec());
        let address = peer.map(|p| p.remote.ip());
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        let (below, private) = routes::strip_prefix(&path)
            .ok_or_else(|| ScmError::not_found(error::code::INTERNAL, "No operation here"))?;
        let route = routes::route(&parts.method, below)?;
        // Authentication before the body is read: an anonymous client cannot make us buffer it.
        if let Some(seconds) = address.and_then(|a| self.throttle.locked(a)) {
            return Err(ScmError::throttled(seconds));
        }
        let admin = match self
            .authenticate(&parts.headers, private, client_certificate, address)
            .await
        {
            Ok(admin) => {
                if let Some(a) = address {
                    self.throttle.succeeded(a);
                }
                admin
            }
            Err(refused) => {
                // The address's limit counts wrong credentials only: not the refusals of
                // an account the RA has locked (a connector retrying a stale password must
                // not lock out every administrator behind its address), nor a right
                // password from outside the role's allow-list.
                if let Some(a) = address.filter(|_| refused.status == StatusCode::UNAUTHORIZED) {
                    self.throttle.failed(a);
                }
                return Err(refused);
            }
        };
        // Every call, however it authenticated (a remembered password, a client
        // certificate): the role's allow-list admits the caller's address, or 403.
        let ra = self.ra.clone();
        let checked = admin.clone();
        tokio::task::spawn_blocking(move || ra.check_address(&checked, address))
            .await
            .map_err(|_| ScmError::unknown_user())?
            .map_err(ScmError::from)?;
        let body = gateway_http::read_limited(body, &parts.headers, BODY_LIMIT)
            .await
            .map_err(|e| match e {
                gateway_http::BodyError::TooLarge { .. } => ScmError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    error::code::REQUIRED_FIELD,
                    e.to_string(),
                ),
                other => ScmError::field(other.to_string()),
            })?;
        let query = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let ctx = Ctx {
            ra: self.ra.clone(),
            admin,
            query,
            body,
            https_base: self.https_base.clone(),
        };
        handlers::dispatch(&ctx, route).await
    }
}

impl ScmApi {
    /// The administrator behind a request's headers (and, under `/private/`, its client
    /// certificate); every failure is the reference's 401.
    async fn authenticate(
        &self,
        headers: &http::HeaderMap,
        private: bool,
        client_certificate: Option<Vec<u8>>,
        address: Option<std::net::IpAddr>,
    ) -> Result<Administrator, ScmError> {
        let credentials = Credentials::from_headers(headers)?;
        if !auth::customer_uri_matches(&credentials.customer_uri, &self.customer_uri) {
            return Err(ScmError::unknown_user());
        }
        let ra = self.ra.clone();
        let login = credentials.login;
        if private {
            // /private/api/: a certificate linked to the administrator stands for the
            // password (and a password is not accepted instead).
            let der = client_certificate.ok_or_else(ScmError::unknown_user)?;
            tokio::task::spawn_blocking(move || ra.authenticate_client_certificate(&login, &der))
                .await
                .map_err(|_| ScmError::unknown_user())?
                .map_err(|_| ScmError::unknown_user())
        } else {
            let password = credentials.password.ok_or_else(ScmError::unknown_user)?;
            let cache = self.credentials.clone();
            tokio::task::spawn_blocking(move || cache.authenticate(&ra, &login, &password, address))
                .await
                .map_err(|_| ScmError::unknown_user())?
        }
    }
}

impl gateway_http::ProtocolService for ScmApi {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let api = self.clone();
        Box::pin(async move { api.handle(request).await })
    }
}
