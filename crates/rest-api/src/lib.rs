//! Certwright: the operators' JSON REST API, under `/api/v1/`.
//!
//! [`RestApi::handle`] takes one HTTP request and returns its response; the
//! HTTPS listener (in `ca-admin`) mounts it. A request goes through:
//!
//! 1. [`routes`]: method and path into a [`routes::Route`] (404 / 405 otherwise);
//! 2. [`query`]: the query string, refusing parameters the operation does not take;
//! 3. authentication: `Authorization: Bearer <session token or API key>`, checked by the RA,
//!    and the client's address against the allow-list of the caller's role;
//! 4. [`body`]: the body, size-limited, JSON decoded into `deny_unknown_fields`
//!    types of [`wire`] with every string length-checked;
//! 5. a handler (`handlers`), which calls the
//!    [`RegistrationAuthority`] — where authorization, policy and the audit
//!    log live — on the blocking pool, and answers with a view of [`views`].
//!
//! Every failure is an [`ApiError`]: `{"error": {"code", "message"}}` with its
//! status. The OpenAPI document ([`openapi`]) is generated from the same route
//! table as the router.

#![warn(missing_docs)]

pub mod body;
pub mod error;
mod handlers;
pub mod import;
pub mod openapi;
pub mod pagination;
pub mod query;
pub mod routes;
pub mod views;
pub mod wire;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Request, Response};
use http_body_util::Full;
use policy::model::Administrator;
use policy::registry::RegistrationAuthority;

pub use error::ApiError;
pub use handlers::access::allow_lists_view;
use handlers::{blocking, Ctx};
use routes::{BodyKind, Matched};

/// The longest bearer token looked up (session tokens and API keys are far shorter).
const MAX_TOKEN_CHARS: usize = 512;

/// The REST API service (cheap to clone: the gateway clones it per request).
#[derive(Clone)]
pub struct RestApi {
    ra: Arc<RegistrationAuthority>,
    /// Failed logins per client address.
    throttle: Arc<gateway_http::Throttle>,
    base_url: Arc<str>,
    openapi: Bytes,
}

impl std::fmt::Debug for RestApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    /// The API over a registration authority; `base_url` is where it is served
    /// (e.g. `https://127.0.0.1:8443`), named in the OpenAPI document.
    pub fn new(ra: Arc<RegistrationAuthority>, base_url: String) -> Self {
        Self::with_document(ra, base_url, &openapi::DocumentExtension::default())
    }

    /// [`RestApi::new`], with other edges' operations in the OpenAPI document it serves.
    pub fn with_document(
        ra: Arc<RegistrationAuthority>,
        base_url: String,
        extension: &openapi::DocumentExtension,
    ) -> Self {
        let document = openapi::document_with(&base_url, extension);
        let openapi = Bytes::from(serde_json::to_vec_pretty(&document).unwrap_or_default());
        Self {
            ra,
            throttle: Arc::new(gateway_http::Throttle::with_limit(
                gateway_http::throttle::ADMIN_MAX_FAILURES,
            )),
            base_url: base_url.into(),
            openapi,
        }
    }

    /// The registration authority it serves.
    pub fn registration_authority(&self) -> &Arc<RegistrationAuthority> {
        &self.ra
    }

    /// The base URL it was created with.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Answers one request. Never fails: every error is a JSON error response.
    ///
    /// `ca-admin serve` calls it through [`gateway_http::ProtocolService`].
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let (parts, body) = request.into_parts();
        let mut response = match self.serve(parts, body).await {
            Ok(reply) => reply.into_response(),
            Err(error) => error.into_response(),
        };
        tracing::debug!(%method, %path, status = response.status().as_u16(), "REST API");
        let headers = response.headers_mut();
        // Answers carry tokens, keys and secrets: no cache may keep them, and no
        // browser may guess another type for them.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }

    async fn serve<B>(
        &self,
        parts: http::request::Parts,
        body: B,
    ) -> Result<handlers::Reply, ApiError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let client_address = parts
            .extensions
            .get::<gateway_http::PeerIdentity>()
            .map(|p| p.remote.ip());
        let (spec, route) = match routes::match_route(parts.method.as_str(), parts.uri.path()) {
            Matched::Found(spec, route) => (spec, route),
            Matched::MethodNotAllowed(methods) => {
                return Err(ApiError::method_not_allowed(&methods))
            }
            Matched::NotFound => {
                return Err(ApiError::not_found(format!(
                    "no operation at {}; the API is described at {}/openapi.json",
                    truncated(parts.uri.path()),
                    routes::PREFIX
                )))
            }
        };
        let query = query::Query::parse(parts.uri.query())?;
        query.allow_only(&spec.query_names())?;
        // Authentication before the body is read: an anonymous client cannot make us buffer a megabyte.
        let admin = if spec.auth {
            Some(self.authenticate(&parts.headers, client_address).await?)
        } else {
            None
        };
        let body = match spec.body {
            BodyKind::None => Bytes::new(),
            BodyKind::Json(_) | BodyKind::OptionalJson(_) | BodyKind::Empty => {
                let bytes = body::read_limited(body, &parts.headers, body::DEFAULT_LIMIT).await?;
                if !bytes.iter().all(u8::is_ascii_whitespace) {
                    body::require_json(&parts.headers)?;
                }
                bytes
            }
            BodyKind::Import => {
                body::read_limited(body, &parts.headers, body::IMPORT_LIMIT).await?
            }
        };
        let ctx = Ctx {
            ra: self.ra.clone(),
            client: client_address,
            throttle: self.throttle.clone(),
            admin,
            query,
            body,
            headers: parts.headers,
            openapi: self.openapi.clone(),
        };
        handlers::dispatch(ctx, route).await
    }

    /// The administrator behind the request's bearer token, admitted from the client's
    /// address by their role's allow-list (checked on every request: a token may be
    /// used from elsewhere than where it was made).
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        client: Option<std::net::IpAddr>,
    ) -> Result<Administrator, ApiError> {
        let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthenticated(
                "this operation needs 'Authorization: Bearer <token>' (POST /api/v1/login, or an API key)",
            )
        })?;
        let malformed =
            || ApiError::unauthenticated("the Authorization header is not 'Bearer <token>'");
        let text = value.to_str().map_err(|_| malformed())?;
        let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || token.is_empty()
            || token.len() > MAX_TOKEN_CHARS
            || !token.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(malformed());
        }
        let token = token.to_string();
        blocking(self.ra.clone(), move |ra| {
            let admin = ra.authenticate(&token)?;
            ra.check_address(&admin, client)?;
            Ok(admin)
        })
        .await
    }
}

fn truncated(path: &str) -> String {
    path.chars().take(200).collect()
}

impl gateway_http::ProtocolService for RestApi {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let api = self.clone();
        Box::pin(async move { api.handle(request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// ca-admin boxes `handle`'s future as `dyn Future + Send` over hyper's own body type.
    #[allow(dead_code)]
    fn handle_is_send_over_incoming(api: &RestApi, request: Request<hyper::body::Incoming>) {
        let future = api.handle(request);
        assert_send(&future);
    }

    #[test]
    fn the_service_is_shareable() {
        fn assert_sync<T: Send + Sync>() {}
        assert_sync::<RestApi>();
    }
}
