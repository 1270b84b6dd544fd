//! Challenge validation: the server fetches, looks up or handshakes for real.
//!
//! So that tests run on one machine without root, the configuration can map
//! names to addresses (like a hosts file), change the ports http-01 and
//! tls-alpn-01 connect to (80 and 443 by default), and name the DNS resolver
//! to ask.
//!
//! (Interface only; the implementation is being written.)

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

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
