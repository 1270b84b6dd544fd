//! The `[acme]` section of the gateway's configuration.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::validation::ValidationConfig;

/// Settings of the ACME server; every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcmeConfig {
    /// How challenges are validated.
    pub validation: ValidationSettings,
    /// How long a valid authorization is reused for new orders of the same account and
    /// identifier, in days; 0 means never (every order proves control again).
    pub authorization_reuse_days: u32,
    /// How long a nonce stays usable, in seconds.
    pub nonce_lifetime_secs: u64,
    /// At most this many nonces are remembered; past it the oldest are forgotten.
    pub max_nonces: usize,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// The largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// The terms of service URL shown in the directory; when set, new accounts must agree.
    pub terms_of_service: Option<String>,
    /// A web site about this CA, shown in the directory.
    pub website: Option<String>,
    /// The CAA identities of this CA, shown in the directory.
    pub caa_identities: Vec<String>,
    /// The Retry-After (seconds) of an order waiting for approval or a challenge being validated.
    pub retry_after_secs: u64,
}

impl Default for AcmeConfig {
    fn default() -> Self {
        Self {
            validation: ValidationSettings::default(),
            authorization_reuse_days: 30,
            nonce_lifetime_secs: 3600,
            max_nonces: 1_000_000,
            rate_limits: RateLimits::default(),
            body_limit_bytes: 64 * 1024,
            terms_of_service: None,
            website: None,
            caa_identities: Vec::new(),
            retry_after_secs: 5,
        }
    }
}

impl AcmeConfig {
    /// The authorization reuse lifetime.
    pub fn authorization_reuse(&self) -> Duration {
        Duration::from_secs(u64::from(self.authorization_reuse_days) * 86_400)
    }

    /// The nonce lifetime.
    pub fn nonce_lifetime(&self) -> Duration {
        Duration::from_secs(self.nonce_lifetime_secs.max(1))
    }
}

/// Where challenge validation connects and whom it asks.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSettings {
    /// Names resolved without DNS, like /etc/hosts.
    pub hosts: BTreeMap<String, IpAddr>,
    /// The port http-01 connects to.
    pub http_port: u16,
    /// The port tls-alpn-01 connects to.
    pub tls_alpn_port: u16,
    /// The DNS resolver (`ip:port`); unset uses the system's.
    pub dns_resolver: Option<SocketAddr>,
    /// How long one validation may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        let defaults = ValidationConfig::default();
        Self {
            hosts: BTreeMap::new(),
            http_port: defaults.http_port,
            tls_alpn_port: defaults.tls_alpn_port,
            dns_resolver: defaults.dns_resolver,
            timeout_secs: defaults.timeout.as_secs(),
        }
    }
}

impl ValidationSettings {
    /// The validator's configuration.
    pub fn to_validation_config(&self) -> ValidationConfig {
        ValidationConfig {
            hosts: self
                .hosts
                .iter()
                .map(|(name, ip)| (name.trim_end_matches('.').to_ascii_lowercase(), *ip))
                .collect(),
            http_port: self.http_port,
            tls_alpn_port: self.tls_alpn_port,
            dns_resolver: self.dns_resolver,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
        }
    }
}

/// Requests per hour; each is a token bucket that refills evenly over the hour.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// New orders per account per hour.
    pub new_orders_per_account_per_hour: u32,
    /// New orders per endpoint per hour.
    pub new_orders_per_endpoint_per_hour: u32,
    /// New accounts per endpoint per hour.
    pub new_accounts_per_endpoint_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            new_orders_per_account_per_hour: 300,
            new_orders_per_endpoint_per_hour: 3000,
            new_accounts_per_endpoint_per_hour: 300,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_section_takes_the_defaults_and_unknown_keys_are_refused() {
        let config: AcmeConfig = toml_like("{}");
        assert_eq!(config.authorization_reuse_days, 30);
        assert_eq!(config.validation.http_port, 80);
        assert_eq!(config.body_limit_bytes, 65536);
        assert!(serde_json::from_str::<AcmeConfig>(r#"{"no_such_key": 1}"#).is_err());
        let config: AcmeConfig = toml_like(
            r#"{"validation": {"hosts": {"www.example.test": "127.0.0.1"}, "http_port": 5002},
                "rate_limits": {"new_orders_per_account_per_hour": 2}}"#,
        );
        assert_eq!(config.validation.http_port, 5002);
        assert_eq!(config.rate_limits.new_orders_per_account_per_hour, 2);
        assert_eq!(config.rate_limits.new_accounts_per_endpoint_per_hour, 300);
        let v = config.validation.to_validation_config();
        assert_eq!(v.hosts["www.example.test"].to_string(), "127.0.0.1");
    }

    fn toml_like(json: &str) -> AcmeConfig {
        serde_json::from_str(json).unwrap()
    }
}
