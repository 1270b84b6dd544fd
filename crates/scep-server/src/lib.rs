//! Certwright's SCEP server (RFC 8894) for Intune- and MDM-managed devices
//! and network gear.
//!
//! [`ScepServer`] answers `/scep/<endpoint>` (and `/scep/<endpoint>/pkiclient.exe`,
//! which Windows and NDES-style clients append) for every SCEP enrollment
//! endpoint of the RA; `ca-admin serve` mounts it on the plain HTTP listener,
//! where devices expect it (SCEP protects its own messages), and on HTTPS.
//!
//! - `GetCACaps`: [`wire::caps`];
//! - `GetCACert`: the endpoint's RA certificate and the CA chain, a certs-only PKCS#7;
//! - `PKIOperation` over GET (`message=`, base64 in either alphabet) or POST
//!   (the DER body, whatever its Content-Type): [`operation`].
//!
//! Layout: `wire/` (CMS in and out), `operation` (one request's flow through the
//! RA), `validation/` (validators that decide on an enrollment instead of the
//! challenge: the webhook), `transactions` (transaction id to request), `ra_identity`,
//! `intune` (the Intune services' clients) with `operation::intune` (validation and
//! notifications of an Intune endpoint's enrollments) and `intune_revocations` (the
//! poller that revokes what Intune asks for).

#![warn(missing_docs)]

pub mod intune;
pub mod intune_revocations;
mod operation;
pub mod ra_identity;
pub mod transactions;
mod validation;
pub mod wire;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use gateway_http::{HttpResponse, PeerIdentity};
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::Full;
use policy::model::EndpointId;
use policy::registry::RegistrationAuthority;

use operation::Outcome;
use ra_identity::RaIdentities;
use transactions::Transactions;
use validation::webhook::WebhookCaller;

/// The path prefix the server answers under.
pub const PATH_PREFIX: &str = "/scep/";

/// The largest PKIOperation body or `message` parameter accepted.
pub const MAX_MESSAGE_BYTES: usize = wire::signed::MAX_MESSAGE_BYTES;

/// Transactions being enrolled right now: a second copy of one waits its turn.
#[derive(Default)]
pub(crate) struct InFlight {
    set: Mutex<HashSet<(EndpointId, String)>>,
}

/// Holds a transaction in flight until dropped.
pub(crate) struct FlightGuard<'a> {
    owner: &'a InFlight,
    key: (EndpointId, String),
}

impl InFlight {
    pub(crate) fn claim(&self, endpoint: EndpointId, transaction: &str) -> Option<FlightGuard<'_>> {
        let key = (endpoint, transaction.to_string());
        let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        set.insert(key.clone())
            .then_some(FlightGuard { owner: self, key })
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        self.owner
            .set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// What every request shares.
pub(crate) struct Shared {
    pub(crate) ra: Arc<RegistrationAuthority>,
    pub(crate) identities: RaIdentities,
    pub(crate) transactions: Transactions,
    pub(crate) in_flight: InFlight,
    pub(crate) webhooks: WebhookCaller,
    pub(crate) intune: intune::clients::IntuneClients,
}

/// The SCEP server of every SCEP endpoint of a registration authority.
#[derive(Clone)]
pub struct ScepServer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ScepServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScepServer").finish_non_exhaustive()
    }
}

fn text(status: StatusCode, body: &str) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(format!("{body}\n"))))
        .expect("static headers are valid")
}

fn binary(content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid")
}

/// The endpoint name of a path `/scep/<name>[/pkiclient.exe]`.
fn endpoint_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix(PATH_PREFIX)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let rest = rest.strip_suffix("/pkiclient.exe").unwrap_or(rest);
    (!rest.is_empty() && !rest.contains('/') && rest.len() <= 64).then_some(rest)
}

/// Decodes a GET `message`: base64 in the standard or the URL-safe alphabet,
/// padded or not, with line breaks (sscep breaks lines every 64 characters),
/// and with `+` that a form decoder took for a space.
fn decode_message(value: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose, DecodePaddingMode, GeneralPurposeConfig};
    let cleaned: String = value
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'))
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let standard = general_purpose::GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let url_safe = general_purpose::GeneralPurpose::new(&base64::alphabet::URL_SAFE, config);
    standard
        .decode(&cleaned)
        .or_else(|_| url_safe.decode(&cleaned))
        .ok()
}

impl ScepServer {
    /// The server over a registration authority.
    pub fn new(ra: Arc<RegistrationAuthority>) -> Self {
        Self::with_webhook_timeout(ra, validation::webhook::DEFAULT_TIMEOUT)
    }

    /// The server, giving endpoints' webhooks `timeout` (instead of 5 s) to accept
    /// the connection and answer.
    pub fn with_webhook_timeout(ra: Arc<RegistrationAuthority>, timeout: Duration) -> Self {
        let store = ra.ca().certificates().store().clone();
        Self {
            shared: Arc::new(Shared {
                identities: RaIdentities::default(),
                transactions: Transactions::new(store),
                in_flight: InFlight::default(),
                webhooks: WebhookCaller::new(timeout),
                intune: intune::clients::IntuneClients::new(timeout),
                ra,
            }),
        }
    }

    /// Answers one request under [`PATH_PREFIX`]. Never fails: every refusal is
    /// an HTTP 4xx with a one-line reason, or a signed CertRep FAILURE once the
    /// message could be read.
    pub async fn handle<B>(&self, request: Request<B>) -> HttpResponse
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let client = PeerIdentity::of(&request).map(|p| p.remote.ip());
        let (parts, body) = request.into_parts();
        let Some(name) = endpoint_name(parts.uri.path()).map(str::to_string) else {
            return text(StatusCode::NOT_FOUND, "SCEP is served at /scep/<endpoint>");
        };
        let query: Vec<(String, String)> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let param = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let operation = param("operation").unwrap_or("").to_string();
        let message = match (&parts.method, operation.as_str()) {
            (&Method::POST, "PKIOperation") => {
                match gateway_http::read_limited(body, &parts.headers, MAX_MESSAGE_BYTES).await {
                    Ok(bytes) => Some(bytes.to_vec()),
                    Err(e @ gateway_http::BodyError::TooLarge { .. }) => {
                        return text(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string())
                    }
                    Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
                }
            }
            (&Method::GET, "PKIOperation") => {
                let Some(value) = param("message") else {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "PKIOperation over GET needs a message parameter",
                    );
                };
                if value.len() > MAX_MESSAGE_BYTES * 2 {
                    return text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the message parameter is too long",
                    );
                }
                match decode_message(value) {
                    Some(der) => Some(der),
                    None => {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "the message parameter is not base64",
                        )
                    }
                }
            }
            (&Method::GET, _) | (&Method::HEAD, _) => None,
            _ => {
                return text(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "SCEP takes GET, or POST for PKIOperation",
                )
            }
        };
        let shared = self.shared.clone();
        let result = tokio::task::spawn_blocking(move || {
            let endpoint = match shared.ra.endpoint_of_kind("scep", &name) {
                Ok(endpoint) if endpoint.active => endpoint,
                Ok(_) => {
                    return text(
                        StatusCode::FORBIDDEN,
                        &format!("SCEP endpoint '{name}' is deactivated"),
                    )
                }
                Err(_) => {
                    return text(StatusCode::NOT_FOUND, &format!("no SCEP endpoint '{name}'"))
                }
            };
            match (operation.as_str(), message) {
                ("GetCACaps", _) => {
                    let mut response = text(StatusCode::OK, "");
                    *response.body_mut() = Full::new(Bytes::from(wire::caps::body()));
                    response
                }
                ("GetCACert", _) => ca_certificates(&shared, &endpoint),
                ("GetNextCACert", _) => text(
                    StatusCode::NOT_FOUND,
                    "no CA rollover is staged for this endpoint",
                ),
                ("PKIOperation", Some(message)) => {
                    match operation::handle(&shared, &endpoint, &message, client) {
                        Outcome::CertRep(der) => binary("application/x-pki-message", der),
                        Outcome::Refused(status, reason) => text(status, &reason),
                    }
                }
                ("", _) => text(StatusCode::BAD_REQUEST, "no operation parameter"),
                (other, _) => text(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "unknown operation '{}'",
                        other.chars().take(40).collect::<String>()
                    ),
                ),
            }
        })
        .await;
        result.unwrap_or_else(|e| {
            tracing::error!(error = %e, "SCEP handler failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request could not be completed",
            )
        })
    }
}

/// GetCACert: the RA certificate, the issuing CA and its chain as a certs-only PKCS#7.
fn ca_certificates(shared: &Shared, endpoint: &policy::model::Endpoint) -> HttpResponse {
    let ra = match shared.identities.get(shared.ra.ca(), endpoint) {
        Ok(ra) => ra,
        Err(e) => {
            tracing::error!(endpoint = %endpoint.name, error = %e, "SCEP RA identity unavailable");
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the endpoint's RA certificate is not available",
            );
        }
    };
    let Some(ca) = shared.ra.ca().ca(&ra.issuer_id) else {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the endpoint's CA is not loaded",
        );
    };
    let mut certificates: Vec<&[u8]> = vec![ra.identity.certificate_der(), ca.certificate_der()];
    certificates.extend(ca.chain_der().iter().map(Vec::as_slice));
    match wire::degenerate::certificates(&certificates) {
        Ok(der) => binary("application/x-x509-ca-ra-cert", der),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

impl gateway_http::ProtocolService for ScepServer {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let server = self.clone();
        Box::pin(async move { server.handle(request).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_paths_take_pkiclient_exe_and_a_trailing_slash() {
        assert_eq!(endpoint_name("/scep/default"), Some("default"));
        assert_eq!(endpoint_name("/scep/default/"), Some("default"));
        assert_eq!(endpoint_name("/scep/intune/pkiclient.exe"), Some("intune"));
        assert_eq!(endpoint_name("/scep/"), None);
        assert_eq!(endpoint_name("/scep/a/b"), None);
    }

    #[test]
    fn get_messages_decode_in_either_alphabet_with_line_breaks() {
        let bytes: Vec<u8> = (0u8..=255).collect();
        let standard = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(decode_message(&standard).unwrap(), bytes);
        assert_eq!(decode_message(&url_safe).unwrap(), bytes);
        let broken: String = standard
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(decode_message(&broken).unwrap(), bytes);
        // A form decoder turns '+' into ' '.
        assert_eq!(decode_message(&standard.replace('+', " ")).unwrap(), bytes);
        assert!(decode_message("not base64 at all!").is_none());
    }
}
