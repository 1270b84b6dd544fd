//! Certwright's EST server (RFC 7030, with the RFC 8951 clarifications) for
//! IoT devices and network gear.
//!
//! [`EstServer`] answers `/.well-known/est/<operation>` for the EST endpoint
//! named `default` and `/.well-known/est/<label>/<operation>` for each EST
//! endpoint; `ca-admin serve` mounts it on the HTTPS listener only.
//!
//! - `cacerts` (GET): the endpoint's issuing CA and its chain, certs-only PKCS#7;
//! - `csrattrs` (GET): what the profile wants in a CSR ([`wire::csrattrs`]);
//! - `simpleenroll`, `simplereenroll`, `serverkeygen` (POST, a base64 PKCS#10): [`enroll`].
//!
//! Layout: `wire/` (media types, base64, the DER and multipart structures),
//! `auth` (Basic credentials and client certificates; the failed-attempt limit per
//! address is `gateway_http::Throttle`, and each Basic user is locked per address by
//! the RA's growing delay, `policy::login_guard`), `enroll` (one request's flow through
//! the RA), `pending` (queued requests by CSR), `respond` (the answers).

#![warn(missing_docs)]

pub mod auth;
mod enroll;
mod keygen;
pub mod pending;
mod respond;
pub mod wire;

use std::sync::Arc;

use bytes::Bytes;
use gateway_http::{HttpResponse, Listener, PeerIdentity};
use http::{Method, Request, StatusCode};
use policy::model::{Endpoint, EndpointKind};
use policy::registry::{RegistrationAuthority, DEMO_EST_ENDPOINT};

use auth::VerifiedPasswords;
use gateway_http::Throttle;
use pending::PendingRequests;
use respond::{base64_answer, refuse, text, Refused};

/// The path prefix the server answers under.
pub const PATH_PREFIX: &str = "/.well-known/est/";

/// The largest request body accepted: a base64 CSR of [`ca_core::csr::MAX_CSR_BYTES`]
/// with line breaks.
pub const MAX_BODY_BYTES: usize = ca_core::csr::MAX_CSR_BYTES * 3 / 2;

/// An EST operation (RFC 7030 §3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `/cacerts`.
    CaCerts,
    /// `/simpleenroll`.
    SimpleEnroll,
    /// `/simplereenroll`.
    SimpleReenroll,
    /// `/csrattrs`.
    CsrAttrs,
    /// `/serverkeygen`.
    ServerKeygen,
    /// `/fullcmc`, which this server does not offer.
    FullCmc,
}

impl Operation {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "cacerts" => Operation::CaCerts,
            "simpleenroll" => Operation::SimpleEnroll,
            "simplereenroll" => Operation::SimpleReenroll,
            "csrattrs" => Operation::CsrAttrs,
            "serverkeygen" => Operation::ServerKeygen,
            "fullcmc" => Operation::FullCmc,
            _ => return None,
        })
    }

    fn method(self) -> Method {
        match self {
            Operation::CaCerts | Operation::CsrAttrs => Method::GET,
            _ => Method::POST,
        }
    }
}

/// The endpoint label and operation of a path: `/.well-known/est/<op>` is the
/// `default` endpoint's, `/.well-known/est/<label>/<op>` another's.
pub fn route(path: &str) -> Option<(&str, Operation)> {
    let rest = path.strip_prefix(PATH_PREFIX)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut segments = rest.split('/');
    let (label, op) = match (segments.next(), segments.next(), segments.next()) {
        (Some(op), None, None) => (DEMO_EST_ENDPOINT, op),
        (Some(label), Some(op), None) if !label.is_empty() && label.len() <= 64 => (label, op),
        _ => return None,
    };
    Some((label, Operation::parse(op)?))
}

/// What every request shares.
pub(crate) struct Shared {
    pub(crate) ra: Arc<RegistrationAuthority>,
    pub(crate) pending: PendingRequests,
    pub(crate) throttle: Throttle,
    pub(crate) passwords: VerifiedPasswords,
    /// The EST signing identities (encrypted server-generated keys), by issuing CA.
    pub(crate) signers: ca_core::identity::IdentityCache<String>,
}

/// The EST server of every EST endpoint of a registration authority.
#[derive(Clone)]
pub struct EstServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EstServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstServer").finish_non_exhaustive()
    }
}

impl EstServer {
    /// The server over a registration authority.
    pub fn new(ra: Arc<RegistrationAuthority>) -> Self {
        let store = ra.ca().certificates().store().clone();
        Self {
            shared: Arc::new(Shared {
                ra,
                pending: PendingRequests::new(store),
                throttle: Throttle::default(),
                passwords: VerifiedPasswords::default(),
                signers: Default::default(),
            }),
        }
    }

    /// Answers one request under [`PATH_PREFIX`]. Never fails: every refusal is an
    /// HTTP status with a one-line reason (RFC 7030 §4.2.3).
    pub async fn handle<B>(&self, request: Request<B>) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let peer = PeerIdentity::of(&request).cloned();
        if peer.as_ref().is_some_and(|p| p.listener != Listener::Https) {
            return text(
                StatusCode::FORBIDDEN,
                "EST is served over HTTPS only (RFC 7030 §3.2)",
            );
        }
        let (parts, body) = request.into_parts();
        let Some((label, operation)) = route(parts.uri.path()) else {
            return text(
                StatusCode::NOT_FOUND,
                "EST is served at /.well-known/est/[<label>/]{cacerts,simpleenroll,simplereenroll,csrattrs,serverkeygen}",
            );
        };
        let label = label.to_string();
        let expected = operation.method();
        let method_ok =
            parts.method == expected || (expected == Method::GET && parts.method == Method::HEAD);
        if !method_ok {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("this EST operation takes {expected}"),
            );
            response.headers_mut().insert(
                http::header::ALLOW,
                http::HeaderValue::from_static(if expected == Method::GET {
                    "GET, HEAD"
                } else {
                    "POST"
                }),
            );
            return response;
        }
        if let Some(wait) = peer
            .as_ref()
            .and_then(|p| self.shared.throttle.locked(p.remote.ip()))
        {
            return respond::too_many_failures(wait);
        }
        let payload = if expected == Method::POST {
            match gateway_http::read_limited(body, &parts.headers, MAX_BODY_BYTES).await {
                Ok(bytes) => Some(bytes),
                Err(e @ gateway_http::BodyError::TooLarge { .. }) => {
                    return text(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string())
                }
                Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
            }
        } else {
            None
        };
        let shared = self.shared.clone();
        let headers = parts.headers;
        let result = tokio::task::spawn_blocking(move || {
            let endpoint = match resolve(&shared.ra, &label) {
                Ok(endpoint) => endpoint,
                Err(response) => return *response,
            };
            match (operation, payload) {
                (Operation::CaCerts, _) => ca_certificates(&shared, &endpoint),
                (Operation::CsrAttrs, _) => csr_attributes(&shared, &endpoint),
                (Operation::FullCmc, _) => text(
                    StatusCode::NOT_IMPLEMENTED,
                    "this server does not offer Full CMC",
                ),
                (op, Some(body)) => enroll::handle(
                    &shared,
                    &endpoint,
                    enroll::Incoming {
                        operation: op,
                        headers: &headers,
                        body: &body,
                        peer: peer.as_ref(),
                    },
                ),
                (_, None) => text(StatusCode::BAD_REQUEST, "a POST body is required"),
            }
        })
        .await;
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, "EST handler failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request could not be completed",
            )
        })
    }
}

/// The active EST endpoint of a label.
fn resolve(ra: &RegistrationAuthority, label: &str) -> Result<Endpoint, Refused> {
    match ra.endpoint_of_kind("est", label) {
        Ok(endpoint) if !matches!(endpoint.kind, EndpointKind::Est { .. }) => Err(refuse(text(
            StatusCode::NOT_FOUND,
            &format!("no EST endpoint '{label}'"),
        ))),
        Ok(endpoint) if endpoint.active => Ok(endpoint),
        Ok(_) => Err(refuse(text(
            StatusCode::FORBIDDEN,
            &format!("EST endpoint '{label}' is deactivated"),
        ))),
        Err(_) => Err(refuse(text(
            StatusCode::NOT_FOUND,
            &format!("no EST endpoint '{label}'"),
        ))),
    }
}

/// The DER certificates `/cacerts` returns: the endpoint's issuing CA and its chain up
/// to the root, which RFC 7030 §4.1.3 asks for as the explicit trust anchor.
fn issuing_chain(shared: &Shared, endpoint: &Endpoint) -> Result<Vec<Vec<u8>>, Refused> {
    let ca = shared.ra.ca();
    let issuer = ca
        .profile(&endpoint.profile)
        .ok()
        .and_then(|profile| ca.issuer_for(profile).ok())
        .ok_or_else(|| {
            refuse(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the endpoint's issuing CA is not loaded",
            ))
        })?;
    let mut chain = vec![issuer.certificate_der().to_vec()];
    chain.extend(issuer.chain_der().iter().cloned());
    Ok(chain)
}

fn ca_certificates(shared: &Shared, endpoint: &Endpoint) -> HttpResponse {
    let chain = match issuing_chain(shared, endpoint) {
        Ok(chain) => chain,
        Err(response) => return *response,
    };
    let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    match ca_core::encoding::pkcs7_certs_only(&refs) {
        Ok(der) => base64_answer(StatusCode::OK, wire::CACERTS, &der),
        Err(e) => {
            tracing::error!(error = %e, "EST cacerts could not be encoded");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the CA certificates could not be encoded",
            )
        }
    }
}

fn csr_attributes(shared: &Shared, endpoint: &Endpoint) -> HttpResponse {
    let EndpointKind::Est { pop_required, .. } = &endpoint.kind else {
        return text(StatusCode::NOT_FOUND, "not an EST endpoint");
    };
    let profile = match shared.ra.ca().profile(&endpoint.profile) {
        Ok(profile) => profile,
        Err(_) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the endpoint's profile is not loaded",
            )
        }
    };
    match wire::csrattrs::encode(profile, *pop_required) {
        Ok(der) => base64_answer(StatusCode::OK, wire::CSRATTRS, &der),
        Err(e) => {
            tracing::error!(error = %e, "EST csrattrs could not be encoded");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the CSR attributes could not be encoded",
            )
        }
    }
}

impl gateway_http::ProtocolService for EstServer {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let server = self.clone();
        Box::pin(async move { server.handle(request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_default_endpoint_or_a_label() {
        assert_eq!(
            route("/.well-known/est/cacerts"),
            Some(("default", Operation::CaCerts))
        );
        assert_eq!(
            route("/.well-known/est/simpleenroll/"),
            Some(("default", Operation::SimpleEnroll))
        );
        assert_eq!(
            route("/.well-known/est/iot/simplereenroll"),
            Some(("iot", Operation::SimpleReenroll))
        );
        assert_eq!(route("/.well-known/est/iot/unknown"), None);
        assert_eq!(route("/.well-known/est/a/b/cacerts"), None);
        assert_eq!(route("/.well-known/est/"), None);
        assert_eq!(route("/.well-known/est//cacerts"), None);
    }
}
