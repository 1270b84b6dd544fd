//! A small HTTPS client for the gateway's REST API (hyper-util + rustls on aws-lc-rs).

use std::path::Path;

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
                .map_err(|e| format!("cannot reach {url}: {e} (is `ca-admin serve` running, and is --ca-cert its root CA?)"))?;
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
            Ok(ApiResponse { status, content_type, body })
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
