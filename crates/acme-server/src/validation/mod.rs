//! Challenge validation: the server fetches, looks up or handshakes for real.
//!
//! So that tests run on one machine without root, the configuration can map
//! names to addresses (like a hosts file), change the ports http-01 and
//! tls-alpn-01 connect to (80 and 443 by default), and name the DNS resolver
//! to ask.
//!
//! [`Validator`] runs one [`ChallengeAttempt`] at a time, bounded as a whole
//! by [`ValidationConfig::timeout`]:
//!
//! - http-01 (`http01.rs`): GET over plain HTTP/1.1 to the identifier on
//!   [`ValidationConfig::http_port`], body limited to [`HTTP01_MAX_BODY`],
//!   up to [`HTTP01_MAX_REDIRECTS`] redirects (see [`Validator`] for the ports
//!   a redirect may name);
//! - dns-01 (`dns.rs`): TXT records at `_acme-challenge.{name}` through
//!   [`ValidationConfig::dns_resolver`] or the system's name servers;
//! - tls-alpn-01 (`tls_alpn.rs`): a TLS handshake offering only `acme-tls/1`
//!   and a check of the self-signed certificate's SAN and acmeIdentifier.

mod dns;
mod http01;
mod net;
mod tls_alpn;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use self::net::{Phase, Progress};

/// The challenge types this server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// http-01 (RFC 8555 §8.3).
    Http01,
    /// dns-01 (RFC 8555 §8.4).
    Dns01,
    /// tls-alpn-01 (RFC 8737).
    TlsAlpn01,
}

/// What is being validated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// A DNS name (never a wildcard here: a wildcard's base name is validated).
    Dns(String),
    /// An IP address (RFC 8738).
    Ip(IpAddr),
}

/// Where validation connects and whom it asks.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    /// Names resolved without DNS, like /etc/hosts (lower-case names).
    pub hosts: HashMap<String, IpAddr>,
    /// The port http-01 connects to (80 by default).
    pub http_port: u16,
    /// The port tls-alpn-01 connects to (443 by default).
    pub tls_alpn_port: u16,
    /// The DNS resolver for dns-01 TXT look-ups and for A/AAAA of names not in `hosts`;
    /// `None` uses the system's (from /etc/resolv.conf).
    pub dns_resolver: Option<SocketAddr>,
    /// How long one validation may take in all.
    pub timeout: Duration,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            hosts: HashMap::new(),
            http_port: 80,
            tls_alpn_port: 443,
            dns_resolver: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One validation attempt.
#[derive(Debug, Clone)]
pub struct ChallengeAttempt<'a> {
    /// The challenge type.
    pub kind: ChallengeKind,
    /// The identifier.
    pub identifier: &'a Identifier,
    /// The challenge token.
    pub token: &'a str,
    /// token || '.' || base64url(JWK thumbprint of the account key).
    pub key_authorization: &'a str,
}

/// Why validation failed, each mapped to its ACME error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// Could not connect / timed out (`urn:ietf:params:acme:error:connection`).
    #[error("connection: {0}")]
    Connection(String),
    /// DNS look-up failed (`urn:ietf:params:acme:error:dns`).
    #[error("dns: {0}")]
    Dns(String),
    /// The TLS handshake or certificate was wrong (`urn:ietf:params:acme:error:tls`).
    #[error("tls: {0}")]
    Tls(String),
    /// The response did not prove control (`urn:ietf:params:acme:error:incorrectResponse`).
    #[error("incorrect response: {0}")]
    IncorrectResponse(String),
    /// The challenge does not apply to the identifier, e.g. http-01 for a wildcard (`urn:ietf:params:acme:error:unauthorized`).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
}

impl ValidationError {
    /// The ACME error type (the part after `urn:ietf:params:acme:error:`).
    pub fn acme_type(&self) -> &'static str {
        match self {
            ValidationError::Connection(_) => "connection",
            ValidationError::Dns(_) => "dns",
            ValidationError::Tls(_) => "tls",
            ValidationError::IncorrectResponse(_) => "incorrectResponse",
            ValidationError::Unauthorized(_) => "unauthorized",
        }
    }
}

/// What a successful validation saw (ACME `validationRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationRecord {
    /// The URL fetched (http-01), if any.
    pub url: Option<String>,
    /// The host name validated.
    pub hostname: String,
    /// The port connected to, if any.
    pub port: Option<u16>,
    /// The addresses resolved.
    pub addresses_resolved: Vec<IpAddr>,
    /// The address used.
    pub address_used: Option<IpAddr>,
}

/// The most bytes of an http-01 response body that are read; a longer body fails.
pub const HTTP01_MAX_BODY: usize = 16 * 1024;

/// The most redirects an http-01 fetch follows.
pub const HTTP01_MAX_REDIRECTS: usize = 10;

/// The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN_PROTOCOL: &[u8] = b"acme-tls/1";

/// Runs challenge validations.
///
/// Built once from a [`ValidationConfig`] (it holds the DNS resolver and the
/// TLS client configurations) and shared: [`Validator::validate`] takes
/// `&self`, and the type is cheap to clone.
///
/// Names are looked up in [`ValidationConfig::hosts`] first, then by A and
/// AAAA queries to the resolver; of the addresses found, the first IPv6 one
/// is tried, then the first IPv4 one (as Boulder does).
///
/// http-01 redirects (301, 302, 303, 307, 308) are followed, at most
/// [`HTTP01_MAX_REDIRECTS`] of them, to `http` and `https` URLs only. As in
/// Boulder, the ports standing for 80 and 443 are the configured ones: a target
/// without a port goes to [`ValidationConfig::http_port`] (http) or
/// [`ValidationConfig::tls_alpn_port`] (https), and an explicit port must be
/// one of these two (80 and 443 with the default configuration). An https
/// target's certificate is not verified (as in Boulder): what is checked is
/// the body. The [`ValidationRecord`] describes the last request made, the
/// one that answered with the key authorization.
#[derive(Clone)]
pub struct Validator {
    config: Arc<ValidationConfig>,
    /// The resolver, or why it could not be built (reported as a DNS error).
    resolver: Result<dns::Resolver, String>,
    /// TLS client for tls-alpn-01: ALPN `acme-tls/1` only, no verification against roots.
    tls_alpn_client: Arc<rustls::ClientConfig>,
    /// TLS client for https redirect targets of http-01: ALPN `http/1.1`, no verification against roots.
    https_client: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("config", &self.config)
            .field("resolver", &self.resolver.as_ref().map(|_| "ready"))
            .finish_non_exhaustive()
    }
}

impl Validator {
    /// Builds a validator. With [`ValidationConfig::dns_resolver`] `None`, the
    /// name servers are read from /etc/resolv.conf now (127.0.0.1 if it names none).
    pub fn new(config: ValidationConfig) -> Self {
        let resolver = dns::build_resolver(&config);
        Self {
            tls_alpn_client: tls_alpn::client_config(vec![ACME_TLS_ALPN_PROTOCOL.to_vec()]),
            https_client: tls_alpn::client_config(vec![b"http/1.1".to_vec()]),
            resolver,
            config: Arc::new(config),
        }
    }

    /// The configuration this validator was built with.
    pub fn config(&self) -> &ValidationConfig {
        &self.config
    }

    /// Validates one challenge: fetches, looks up or handshakes, within
    /// [`ValidationConfig::timeout`] in all. A time-out is a `Dns` error while
    /// names are being looked up and a `Connection` error afterwards.
    pub async fn validate(
        &self,
        attempt: ChallengeAttempt<'_>,
    ) -> Result<ValidationRecord, ValidationError> {
        let progress = Progress::default();
        let work = async {
            match attempt.kind {
                ChallengeKind::Http01 => {
                    http01::validate(
                        self,
                        attempt.identifier,
                        attempt.token,
                        attempt.key_authorization,
                        &progress,
                    )
                    .await
                }
                ChallengeKind::Dns01 => {
                    dns::validate(
                        self,
                        attempt.identifier,
                        attempt.key_authorization,
                        &progress,
                    )
                    .await
                }
                ChallengeKind::TlsAlpn01 => {
                    tls_alpn::validate(
                        self,
                        attempt.identifier,
                        attempt.key_authorization,
                        &progress,
                    )
                    .await
                }
            }
        };
        let result = match tokio::time::timeout(self.config.timeout, work).await {
            Ok(result) => result,
            Err(_) => {
                let what = format!(
                    "timed out after {:?} while {}",
                    self.config.timeout,
                    progress.get().describe()
                );
                Err(match progress.get() {
                    Phase::Resolving => ValidationError::Dns(what),
                    _ => ValidationError::Connection(what),
                })
            }
        };
        match &result {
            Ok(record) => {
                tracing::debug!(kind = ?attempt.kind, identifier = ?attempt.identifier, ?record, "challenge validated")
            }
            Err(error) => {
                tracing::debug!(kind = ?attempt.kind, identifier = ?attempt.identifier, %error, "challenge validation failed")
            }
        }
        result
    }
}
