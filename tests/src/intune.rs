//! A local stand-in for the Microsoft services an Intune endpoint talks to: Entra
//! ID's token endpoint, Microsoft Graph's list of the Intune service principal's
//! endpoints, Intune's SCEP validation service and its PKI connector (revocation)
//! service. It checks what the real services check, answers the way they answer,
//! and records what it received:
//!
//! - tokens: `POST /{tenant}/oauth2/v2.0/token`, a form with `grant_type=
//!   client_credentials`, the application id and secret, and a `scope` that is Graph's
//!   or Intune's `.default`; each token is good for that audience only;
//! - Graph: `GET /v1.0/servicePrincipals/appId=0000000a-…/endpoints` with a Graph token;
//! - the services: `POST` with an Intune token, `Content-Type: application/json`, a
//!   GUID `client-request-id` and the service's `api-version` (2018-02-20 for SCEP
//!   validation, 5019-05-05 for revocation), and the body shape of Microsoft's library.
//!
//! `validateRequest` answers `Success` only for a CSR whose challengePassword is one
//! [`IntuneStandIn::challenge`] minted. Anything else that is wrong is a 400 (shape)
//! or 401 (token), as the services answer.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// The Intune service principal's application id, which Graph is asked about.
const INTUNE_APP_ID: &str = "0000000a-0000-0000-c000-000000000000";
/// Intune's resource, as its tokens' scope names it.
const INTUNE_RESOURCE: &str = "https://api.manage.microsoft.com/";
const SCEP_API_VERSION: &str = "2018-02-20";
const PKI_API_VERSION: &str = "5019-05-05";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    Graph,
    Intune,
}

struct QueuedRevocation {
    context: String,
    serial: String,
    issuer: Option<String>,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, Audience>,
    challenges: HashSet<String>,
    revocations: Vec<QueuedRevocation>,
    answered: HashSet<String>,
    validations: Vec<Value>,
    successes: Vec<Value>,
    failures: Vec<Value>,
    revocation_results: Vec<Value>,
    raw: String,
}

/// The stand-in, on 127.0.0.1 and a port of its own; dropping it shuts it down.
pub struct IntuneStandIn {
    address: SocketAddr,
    tenant: String,
    application_id: String,
    client_secret: String,
    state: Arc<Mutex<State>>,
    shutdown: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let file = std::fs::File::open("/dev/urandom").expect("/dev/urandom");
    std::io::Read::read_exact(&mut &file, &mut buf).expect("random bytes");
    hex::encode(buf)
}

fn guid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn is_guid(value: &str) -> bool {
    let groups: Vec<&str> = value.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl IntuneStandIn {
    /// Starts the stand-in on its own thread and runtime.
    pub fn start() -> IntuneStandIn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let tenant = "contoso.onmicrosoft.com".to_string();
        let application_id = guid();
        let client_secret = random_hex(24);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = Arc::new(Config {
            base: format!("http://{address}"),
            tenant: tenant.clone(),
            application_id: application_id.clone(),
            client_secret: client_secret.clone(),
        });
        let served = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let mut stopped = stopped;
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = served.clone();
                            let config = config.clone();
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |request| {
                                    let state = state.clone();
                                    let config = config.clone();
                                    async move { Ok::<_, Infallible>(answer(&config, &state, request).await) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
                // The listener is dropped here: connections are refused from now on.
            });
        });
        IntuneStandIn {
            address,
            tenant,
            application_id,
            client_secret,
            state,
            shutdown: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Its base URL: both the login and the Graph base URL of an endpoint pointed at it.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The tenant it accepts.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The application id it accepts (a GUID).
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// The client secret it accepts: random per start, hex (never begins with `-`).
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// A new challenge, as Intune hands one to a device: `validateRequest` accepts a CSR
    /// that carries it as its challengePassword.
    pub fn challenge(&self) -> String {
        let challenge = random_hex(16);
        self.state().challenges.insert(challenge.clone());
        challenge
    }

    /// Queues a request to revoke the certificate with `serial_hex`; its request context.
    pub fn queue_revocation(&self, serial_hex: &str, issuer_name: Option<&str>) -> String {
        let context = guid();
        self.state().revocations.push(QueuedRevocation {
            context: context.clone(),
            serial: serial_hex.to_string(),
            issuer: issuer_name.map(str::to_string),
        });
        context
    }

    /// The `request` objects `validateRequest` received.
    pub fn validations(&self) -> Vec<Value> {
        self.state().validations.clone()
    }

    /// The `notification` objects `successNotification` received.
    pub fn successes(&self) -> Vec<Value> {
        self.state().successes.clone()
    }

    /// The `notification` objects `failureNotification` received.
    pub fn failures(&self) -> Vec<Value> {
        self.state().failures.clone()
    }

    /// Every uploaded revocation result.
    pub fn revocation_results(&self) -> Vec<Value> {
        self.state().revocation_results.clone()
    }

    /// Every request received, accepted or not, as text (method, target, headers, body).
    pub fn raw_log(&self) -> String {
        self.state().raw.clone()
    }

    /// The stand-in goes down: its listener closes and connections are refused.
    pub fn stop(&self) {
        if let Some(stop) = self.shutdown.lock().unwrap().take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
    }

    /// Polls `what` every 100 ms until it holds or `timeout` passes; whether it held.
    pub fn wait_until(&self, timeout: Duration, what: impl Fn(&IntuneStandIn) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if what(self) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for IntuneStandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Config {
    base: String,
    tenant: String,
    application_id: String,
    client_secret: String,
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn bad(why: &str) -> Response<Full<Bytes>> {
    reply(400, json!({"error": "bad_request", "message": why}))
}

fn non_empty_strings(object: &Value, fields: &[&str]) -> Result<(), String> {
    for field in fields {
        match object.get(*field).and_then(Value::as_str) {
            Some(v) if !v.is_empty() => {}
            _ => return Err(format!("`{field}` must be a non-empty string")),
        }
    }
    Ok(())
}

async fn answer(
    config: &Config,
    state: &Mutex<State>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).to_string();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    {
        let mut s = lock();
        let headers: String = parts
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())))
            .collect();
        s.raw.push_str(&format!(
            "{} {}\n{headers}\n{text}\n\n",
            parts.method, parts.uri
        ));
    }
    let path = parts.uri.path().to_string();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(form_urlencoded_pairs)
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };

    // Entra ID.
    if let Some(tenant) = path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/oauth2/v2.0/token"))
    {
        if parts.method != Method::POST {
            return bad("the token endpoint takes POST");
        }
        if tenant != config.tenant {
            return reply(
                400,
                json!({"error": "invalid_request", "error_description": "AADSTS90002: tenant not found"}),
            );
        }
        if !header("content-type").starts_with("application/x-www-form-urlencoded") {
            return bad("the token request is a form");
        }
        let form = form_urlencoded_pairs(&text);
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return reply(400, json!({"error": "unsupported_grant_type"}));
        }
        if form.get("client_id") != Some(&config.application_id)
            || form.get("client_secret") != Some(&config.client_secret)
        {
            return reply(401, json!({"error": "invalid_client"}));
        }
        let scope = form.get("scope").cloned().unwrap_or_default();
        let graph = [
            format!("{}/.default", config.base),
            format!("{}//.default", config.base),
        ];
        let intune = [
            format!("{INTUNE_RESOURCE}/.default"),
            format!("{}/.default", INTUNE_RESOURCE.trim_end_matches('/')),
        ];
        let audience = if graph.contains(&scope) {
            Audience::Graph
        } else if intune.contains(&scope) {
            Audience::Intune
        } else {
            return reply(
                400,
                json!({"error": "invalid_scope", "error_description": scope}),
            );
        };
        let token = random_hex(32);
        lock().tokens.insert(token.clone(), audience);
        return reply(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token}),
        );
    }

    let audience = header("authorization")
        .strip_prefix("Bearer ")
        .and_then(|t| lock().tokens.get(t).copied());

    // Graph.
    if path == format!("/v1.0/servicePrincipals/appId={INTUNE_APP_ID}/endpoints") {
        if parts.method != Method::GET {
            return bad("Graph's endpoints list takes GET");
        }
        if audience != Some(Audience::Graph) {
            return reply(
                401,
                json!({"error": {"code": "InvalidAuthenticationToken"}}),
            );
        }
        return reply(
            200,
            json!({"value": [
                {"providerName": "ScepRequestValidationFEService", "uri": format!("{}/ScepRequestValidationFEService", config.base)},
                {"providerName": "PkiConnectorFEService", "uri": format!("{}/PkiConnectorFEService", config.base)},
            ]}),
        );
    }

    // The services.
    let (version, action) =
        if let Some(action) = path.strip_prefix("/ScepRequestValidationFEService/") {
            (SCEP_API_VERSION, action.to_string())
        } else if let Some(action) = path.strip_prefix("/PkiConnectorFEService/") {
            (PKI_API_VERSION, action.to_string())
        } else {
            return reply(404, json!({"error": "not found"}));
        };
    if parts.method != Method::POST {
        return bad("the services take POST");
    }
    if audience != Some(Audience::Intune) {
        return reply(
            401,
            json!({"error": "a token for the Intune resource is needed"}),
        );
    }
    if query.get("api-version").map(String::as_str) != Some(version) {
        return bad(&format!("api-version must be {version}"));
    }
    if !header("content-type").starts_with("application/json") {
        return bad("the body is JSON");
    }
    if !is_guid(&header("client-request-id")) {
        return bad("client-request-id must be a GUID");
    }
    let Ok(body): Result<Value, _> = serde_json::from_str(&text) else {
        return bad("the body is not JSON");
    };
    let success = || reply(200, json!({"code": "Success", "errorDescription": ""}));
    match action.as_str() {
        "ScepActions/validateRequest" => {
            let request = &body["request"];
            if let Err(why) = non_empty_strings(
                request,
                &["transactionId", "certificateRequest", "callerInfo"],
            ) {
                return bad(&why);
            }
            lock().validations.push(request.clone());
            let challenge = challenge_of(request["certificateRequest"].as_str().unwrap_or(""));
            let known = challenge.is_some_and(|c| lock().challenges.contains(&c));
            if known {
                success()
            } else {
                reply(
                    200,
                    json!({"code": "ChallengeVerificationFailed", "errorDescription": "the challenge is not one Intune issued"}),
                )
            }
        }
        "ScepActions/successNotification" => {
            let notification = &body["notification"];
            if let Err(why) = non_empty_strings(
                notification,
                &[
                    "transactionId",
                    "certificateRequest",
                    "certificateThumbprint",
                    "certificateSerialNumber",
                    "certificateExpirationDateUtc",
                    "issuingCertificateAuthority",
                    "callerInfo",
                ],
            ) {
                return bad(&why);
            }
            lock().successes.push(notification.clone());
            success()
        }
        "ScepActions/failureNotification" => {
            let notification = &body["notification"];
            if let Err(why) = non_empty_strings(
                notification,
                &[
                    "transactionId",
                    "certificateRequest",
                    "errorDescription",
                    "callerInfo",
                ],
            ) {
                return bad(&why);
            }
            if !notification["hResult"].is_i64() && !notification["hResult"].is_u64() {
                return bad("hResult must be an integer");
            }
            if notification["errorDescription"]
                .as_str()
                .unwrap_or("")
                .chars()
                .count()
                > 255
            {
                return bad("errorDescription is at most 255 characters");
            }
            lock().failures.push(notification.clone());
            success()
        }
        "CertificateAuthorityRequests/downloadRevocationRequests" => {
            let parameters = &body["downloadParameters"];
            let Some(max) = parameters["maxRequests"]
                .as_u64()
                .filter(|m| (1..=500).contains(m))
            else {
                return bad("maxRequests must be 1 to 500");
            };
            let issuer = match &parameters["issuerName"] {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                _ => return bad("issuerName must be a string or null"),
            };
            let s = lock();
            let value: Vec<Value> = s
                .revocations
                .iter()
                .filter(|r| !s.answered.contains(&r.context))
                .filter(|r| issuer.is_none() || r.issuer.is_none() || r.issuer == issuer)
                .take(max as usize)
                .map(|r| {
                    json!({
                        "requestContext": r.context,
                        "serialNumber": r.serial,
                        "issuerName": r.issuer,
                        "caConfiguration": "certwright",
                    })
                })
                .collect();
            reply(200, json!({ "value": value }))
        }
        "CertificateAuthorityRequests/uploadRevocationResults" => {
            let Some(results) = body["results"].as_array().filter(|r| !r.is_empty()) else {
                return bad("results must be a non-empty array");
            };
            let mut s = lock();
            for result in results {
                let Some(context) = result["requestContext"].as_str() else {
                    return bad("requestContext must be a string");
                };
                if !s.revocations.iter().any(|r| r.context == context) {
                    return bad("an unknown requestContext");
                }
                if !result["succeeded"].is_boolean() || !result["errorCode"].is_u64() {
                    return bad("succeeded is a boolean and errorCode an integer");
                }
                if !(result["errorMessage"].is_null() || result["errorMessage"].is_string()) {
                    return bad("errorMessage is a string or null");
                }
            }
            for result in results {
                s.answered
                    .insert(result["requestContext"].as_str().unwrap().to_string());
                s.revocation_results.push(result.clone());
            }
            reply(200, json!({ "value": true }))
        }
        _ => reply(404, json!({"error": "no such action"})),
    }
}

/// The challengePassword of a base64 DER CSR.
fn challenge_of(csr_base64: &str) -> Option<String> {
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(csr_base64)
        .ok()?;
    let csr = ca_core::csr::VerifiedCsr::from_der(&der).ok()?;
    csr.challenge_password().map(|c| c.as_str().to_string())
}

fn form_urlencoded_pairs(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((percent_decode(k), percent_decode(v)))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let digits = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(digits, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_percent_and_plus() {
        let pairs = form_urlencoded_pairs("a=x%2By&b=one+two&c=%2F%2f&d=100%");
        assert_eq!(pairs["a"], "x+y");
        assert_eq!(pairs["b"], "one two");
        assert_eq!(pairs["c"], "//");
        assert_eq!(pairs["d"], "100%");
    }

    #[test]
    fn guids_are_recognised() {
        assert!(is_guid(&guid()));
        assert!(!is_guid("not-a-guid"));
    }
}
