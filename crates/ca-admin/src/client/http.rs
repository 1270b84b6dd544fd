//! A small HTTPS client for the gateway's REST API (hyper-util + rustls on aws-lc-rs).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{header, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The most a response body may be (certificate lists can be long).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A response: status, content type and body.
#[derive(Debug)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Content-Type, if any.
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

impl ApiResponse {
    /// The body as JSON, or the API's error as a message.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        if !self.status.is_success() {
            return Err(self.error_message());
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("the server sent invalid JSON: {e}"))
    }

    /// "<message> (<code>)" from the API's error body, or the status.
    pub fn error_message(&self) -> String {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        match parsed.as_ref().and_then(|v| v.get("error")) {
            Some(err) => format!(
                "{} ({}, HTTP {})",
                err.get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("error"),
                err.get("code").and_then(|c| c.as_str()).unwrap_or("?"),
                self.status.as_u16()
            ),
            None => format!(
                "HTTP {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body).trim()
            ),
        }
    }
}

/// A client bound to one server, trusting one CA certificate file.
pub struct ApiClient {
    base: String,
    /// The CA certificate file trusted for the server, for error messages.
    ca_cert: PathBuf,
    token: Option<String>,
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Full<Bytes>,
    >,
    runtime: tokio::runtime::Runtime,
}

impl ApiClient {
    /// A client for `server` (e.g. https://127.0.0.1:8443) that trusts the certificates in `ca_cert` (PEM).
    pub fn new(server: &str, ca_cert: &Path, token: Option<String>) -> Result<Self, String> {
        let pem =
            std::fs::read_to_string(ca_cert).map_err(|e| format!("{}: {e}", ca_cert.display()))?;
        let mut roots = rustls::RootCertStore::empty();
        let certs = ca_core::authority::pem_certificates(&pem).map_err(|e| e.to_string())?;
        if certs.is_empty() {
            return Err(format!("{} holds no certificate", ca_cert.display()));
        }
        for der in certs {
            roots
                .add(rustls::pki_types::CertificateDer::from(der))
                .map_err(|e| format!("{}: {e}", ca_cert.display()))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_only()
            .enable_http1()
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = {
            let _guard = runtime.enter();
            Client::builder(TokioExecutor::new()).build(connector)
        };
        Ok(Self {
            base: server.trim_end_matches('/').to_string(),
            ca_cert: ca_cert.to_path_buf(),
            token,
            client,
            runtime,
        })
    }

    /// Sends a request to `/api/v1/<path>`.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<ApiResponse, String> {
        let url = format!("{}/api/v1/{}", self.base, path.trim_start_matches('/'));
        let mut builder = Request::builder().method(method).uri(&url);
        if let Some(token) = &self.token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.runtime.block_on(async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| unreachable_message(&url, &self.ca_cert, &e))?;
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the response from {url}: {e}"))?
                .to_bytes();
            Ok(ApiResponse {
                status,
                content_type,
                body,
            })
        })
    }

    /// GET returning JSON.
    pub fn get_json(&self, path: &str) -> Result<serde_json::Value, String> {
        self.send(Method::GET, path, None, Vec::new())?.json()
    }

    /// A method with a JSON body, returning JSON.
    pub fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, String> {
        let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        self.send(method, path, Some("application/json"), bytes)?
            .json()
    }
}

/// Why a request got no response, for the operator: a TLS refusal of the server's
/// certificate names the root CA file it was checked against (the usual cause is a
/// root from another, or an older, data directory); anything else is a connection
/// failure.
fn unreachable_message(
    url: &str,
    ca_cert: &Path,
    error: &(dyn std::error::Error + 'static),
) -> String {
    let file = std::path::absolute(ca_cert).unwrap_or_else(|_| ca_cert.to_path_buf());
    let file = file.display();
    match rustls_error(error) {
        Some(tls @ rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. },
        )) => format!(
            "cannot reach {url}: the server's TLS certificate does not cover the host in that URL ({tls}); \
             use a name or address from the gateway's [https] names"
        ),
        Some(tls @ rustls::Error::InvalidCertificate(_)) => format!(
            "cannot reach {url}: the server's TLS certificate is not trusted by the root CA certificate {file} ({tls}). \
             Is that file this gateway's root? Give --ca-cert with the right one; on the gateway's machine it is \
             ca-data/cas/<root id>/certificate.pem, and a data directory made anew has a new root"
        ),
        Some(tls) => format!(
            "cannot reach {url}: the TLS handshake failed ({tls}); the root CA certificate trusted was {file}"
        ),
        None => format!(
            "cannot reach {url}: {} (is `ca-admin serve` running there?)",
            error_chain(error)
        ),
    }
}

/// The rustls error somewhere in an error's chain. hyper-rustls wraps it in an
/// `io::Error` inside another: `io::Error::source` skips the inner error itself, so
/// the chain is walked through `get_ref` as well.
fn rustls_error<'a>(mut error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|e| e as &(dyn std::error::Error + 'static));
        error = inner.or_else(|| error.source())?;
    }
}

/// An error and its causes, `: `-separated (hyper's own text is only "client error (Connect)").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause, as hyper's client error wraps the connector's.
    #[derive(Debug)]
    struct Outer(Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.0)
        }
    }

    /// What hyper-rustls hands hyper for a refused certificate:
    /// `io::Error::other(io::Error::new(InvalidData, rustls::Error))`.
    fn refused(reason: rustls::CertificateError) -> Outer {
        let tls = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(reason),
        );
        Outer(Box::new(std::io::Error::other(tls)))
    }

    #[test]
    fn an_untrusted_server_certificate_names_the_root_file() {
        let message = unreachable_message(
            "https://127.0.0.1:8443/api/v1/login",
            Path::new("/tmp/old-root.pem"),
            &refused(rustls::CertificateError::UnknownIssuer),
        );
        assert!(
            message.contains("not trusted by the root CA certificate /tmp/old-root.pem"),
            "{message}"
        );
        assert!(message.contains("UnknownIssuer"), "{message}");
        assert!(!message.contains("client error (Connect)"), "{message}");
    }

    #[test]
    fn a_name_mismatch_and_a_refused_connection_say_so() {
        let message = unreachable_message(
            "https://other.test:8443/api/v1/login",
            Path::new("root.pem"),
            &refused(rustls::CertificateError::NotValidForName),
        );
        assert!(message.contains("does not cover the host"), "{message}");
        let refused = Outer(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        let message = unreachable_message(
            "https://127.0.0.1:1/api/v1/login",
            Path::new("root.pem"),
            &refused,
        );
        assert!(
            message.contains("client error (Connect): connection refused")
                && message.contains("is `ca-admin serve` running there?"),
            "{message}"
        );
    }
}
