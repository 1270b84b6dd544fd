//! The webhook validator: a SCEP endpoint with a webhook POSTs each new
//! enrollment's details to the URL its MDM configured, and enrolls only on a
//! 2xx answer.
//!
//! The request:
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! X-Certwright-Timestamp: 1700000000
//! X-Certwright-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<body>">
//!
//! {"endpoint":"intune","transaction_id":"…","subject":"CN=laptop-42",
//!  "sans":["dns:laptop-42.devices.example","upn:alice@devices.example"],
//!  "challenge":"…" or null,"client_address":"192.0.2.7" or null,
//!  "message_type":"PKCSReq"}
//! ```
//!
//! The HMAC key is the endpoint's, shown once when the webhook was set. A
//! receiver checks the signature over the exact bytes of the body, and the
//! timestamp against its clock (to refuse a replayed call). `sans` are the
//! names the CSR asks for, each `<kind>:<value>` (kinds `dns`, `ip`, `email`,
//! `uri`, `upn`).
//!
//! The answer: any 2xx accepts; any other status (a redirect is not
//! followed), a connection failure or no answer within the timeout (5 s for
//! connecting and answering together) refuses. At most 64 KiB of the answer's
//! body is read, and its content is ignored.
//!
//! The call is made over HTTP/1.1 with hyper-util's client; `https` URLs are
//! checked against the system's trust roots (rustls on aws-lc-rs).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Serialize;
use zeroize::Zeroizing;

/// How long a webhook has to accept the connection and answer.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer's body that is read (and ignored).
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The header carrying the unix time the call was signed at.
pub(crate) const TIMESTAMP_HEADER: &str = "x-certwright-timestamp";
/// The header carrying `sha256=<hex HMAC>`.
pub(crate) const SIGNATURE_HEADER: &str = "x-certwright-signature";

const USER_AGENT: &str = concat!("Certwright-SCEP-webhook/", env!("CARGO_PKG_VERSION"));

pub(crate) type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// What the webhook is told about one enrollment (the JSON body, in this field order).
#[derive(Debug, Serialize)]
pub(crate) struct Enrollment<'a> {
    /// The SCEP endpoint's name.
    pub endpoint: &'a str,
    /// The SCEP transaction id.
    pub transaction_id: &'a str,
    /// The CSR's subject, RFC 4514-style text.
    pub subject: String,
    /// The names the CSR asks for, `<kind>:<value>`.
    pub sans: Vec<String>,
    /// The CSR's challengePassword, if it has one.
    pub challenge: Option<&'a str>,
    /// The client's address, if the gateway knows it.
    pub client_address: Option<String>,
    /// `PKCSReq` or `RenewalReq`.
    pub message_type: &'static str,
}

/// How the webhook decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A 2xx answer.
    Accepted(StatusCode),
    /// Any other answer.
    Refused(StatusCode),
    /// No answer: the reason (unreachable, timed out, an unusable URL).
    Failed(String),
}

impl Verdict {
    /// One line for the audit log and the CertRep's logged reason: never the
    /// challenge or the key, and not the URL (the audit entry that set it has it).
    pub(crate) fn describe(&self) -> String {
        match self {
            Verdict::Accepted(status) => format!("the webhook accepted (HTTP {})", status.as_u16()),
            Verdict::Refused(status) => {
                format!(
                    "the webhook refused the enrollment (HTTP {})",
                    status.as_u16()
                )
            }
            Verdict::Failed(why) => format!("the webhook could not be asked: {why}"),
        }
    }
}

/// Calls webhooks: one HTTP client for every endpoint, made on first use (inside
/// the runtime that drives its connections).
pub(crate) struct WebhookCaller {
    client: OnceLock<HttpsClient>,
    timeout: Duration,
}

impl WebhookCaller {
    /// A caller whose calls give up after `timeout`.
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            client: OnceLock::new(),
            timeout,
        }
    }

    fn client(&self) -> &HttpsClient {
        self.client.get_or_init(|| build_client(self.timeout))
    }

    /// POSTs `enrollment` to `url`, signed with `key`, and tells what the answer decided.
    pub(crate) async fn call(&self, url: &str, key: &[u8], enrollment: &Enrollment<'_>) -> Verdict {
        let uri: Uri = match url.parse() {
            Ok(uri) => uri,
            Err(_) => return Verdict::Failed("the webhook url is not a valid URI".into()),
        };
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Verdict::Failed("the webhook url is not an http or https URL".into());
        }
        // The body holds the challenge: this copy is wiped; the one handed to hyper is not.
        let body = match serde_json::to_vec(enrollment) {
            Ok(body) => Zeroizing::new(body),
            Err(e) => return Verdict::Failed(format!("the request could not be encoded: {e}")),
        };
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, USER_AGENT)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                format!("sha256={}", signature(key, timestamp, &body)),
            )
            .body(Full::new(Bytes::copy_from_slice(&body)));
        let request = match request {
            Ok(request) => request,
            Err(e) => return Verdict::Failed(format!("the request could not be built: {e}")),
        };
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.client().request(request)).await
        {
            Err(_) => {
                return Verdict::Failed(format!("no answer within {} ms", self.timeout.as_millis()))
            }
            Ok(Err(e)) => return Verdict::Failed(error_chain(&e)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        // The status decides; the body is read (bounded, in the time left) so that the
        // connection can be reused, and ignored.
        let _ = tokio::time::timeout_at(
            deadline,
            Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect(),
        )
        .await;
        if status.is_success() {
            Verdict::Accepted(status)
        } else {
            Verdict::Refused(status)
        }
    }
}

/// `hex(HMAC-SHA256(key, "<timestamp>.<body>"))`.
pub(crate) fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let mut context = aws_lc_rs::hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    hex::encode(context.sign().as_ref())
}

/// An HTTP/1.1 client for `http` and `https` URLs; https trusts the system's roots.
pub(crate) fn build_client(timeout: Duration) -> HttpsClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(timeout));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = {
        use hyper_rustls::ConfigBuilderExt;
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default protocol versions");
        match builder.clone().with_native_roots() {
            Ok(builder) => builder.with_no_client_auth(),
            Err(e) => {
                tracing::warn!(error = %e, "no system trust roots: https webhooks will fail");
                builder
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            }
        }
    };
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// An error and its causes, on one line.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body_in_hex() {
        let key: Vec<u8> = (0u8..32).collect();
        // Python: hmac.new(bytes(range(32)), b'1700000000.{"endpoint":"auto"}', sha256).hexdigest()
        assert_eq!(
            signature(&key, 1_700_000_000, br#"{"endpoint":"auto"}"#),
            "bc3e2835e4a941294cb4cc7e89356466c3c6a359f03759856b09ae7c5b71d434"
        );
    }

    #[test]
    fn the_body_has_the_documented_fields_in_order() {
        let enrollment = Enrollment {
            endpoint: "intune",
            transaction_id: "tx-1",
            subject: "CN=laptop".into(),
            sans: vec!["dns:laptop.devices.test".into()],
            challenge: None,
            client_address: Some("192.0.2.7".into()),
            message_type: "PKCSReq",
        };
        assert_eq!(
            serde_json::to_string(&enrollment).unwrap(),
            r#"{"endpoint":"intune","transaction_id":"tx-1","subject":"CN=laptop","sans":["dns:laptop.devices.test"],"challenge":null,"client_address":"192.0.2.7","message_type":"PKCSReq"}"#
        );
    }

    #[test]
    fn verdicts_are_described_without_secrets() {
        assert_eq!(
            Verdict::Refused(StatusCode::FORBIDDEN).describe(),
            "the webhook refused the enrollment (HTTP 403)"
        );
        assert!(Verdict::Accepted(StatusCode::NO_CONTENT)
            .describe()
            .contains("204"));
    }
}
