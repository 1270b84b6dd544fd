//! The resolver, A/AAAA look-ups for http-01 and tls-alpn-01, and dns-01
//! (RFC 8555 §8.4).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData};

use super::net::{Phase, Progress};
use super::{Identifier, ValidationConfig, ValidationError, ValidationRecord, Validator};

/// The resolver type the validator holds.
pub(super) type Resolver = hickory_resolver::TokioResolver;

/// Where /etc/resolv.conf is; its `nameserver` lines are used when no resolver is configured.
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The resolver for `config`: the configured name server, or those of
/// /etc/resolv.conf, over UDP with TCP for truncated answers. Nothing is
/// cached (a client that fixes its TXT record and retries must be seen to
/// have fixed it) and the system hosts file is not read (`config.hosts` is
/// the only one).
pub(super) fn build_resolver(config: &ValidationConfig) -> Result<Resolver, String> {
    let servers: Vec<SocketAddr> = match config.dns_resolver {
        Some(address) => vec![address],
        None => {
            let text = std::fs::read_to_string(RESOLV_CONF).unwrap_or_default();
            system_name_servers(&text)
        }
    };
    let name_servers = servers
        .into_iter()
        .map(|address| {
            let mut udp = ConnectionConfig::udp();
            udp.port = address.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = address.port();
            NameServerConfig::new(address.ip(), true, vec![udp, tcp])
        })
        .collect();
    let mut builder = hickory_resolver::Resolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    );
    let options = builder.options_mut();
    // One query may take a third of the attempt, and is tried twice: a lost
    // UDP packet is survived, and an unreachable resolver is reported as a
    // DNS error before the whole attempt runs out.
    options.timeout = (config.timeout / 3).max(Duration::from_millis(100));
    options.attempts = 1;
    options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    options.use_hosts_file = ResolveHosts::Never;
    options.cache_size = 0;
    options.positive_max_ttl = Some(Duration::ZERO);
    options.negative_max_ttl = Some(Duration::ZERO);
    options.ndots = 0;
    builder
        .build()
        .map_err(|e| format!("cannot build the DNS resolver: {e}"))
}

/// The `nameserver` addresses of a resolv.conf text, on port 53; 127.0.0.1
/// when it names none (as resolv.conf(5) says).
fn system_name_servers(resolv_conf: &str) -> Vec<SocketAddr> {
    let mut servers: Vec<SocketAddr> = resolv_conf
        .lines()
        .filter_map(|line| {
            let line = line.split(['#', ';']).next().unwrap_or("");
            let mut words = line.split_whitespace();
            if words.next() != Some("nameserver") {
                return None;
            }
            let address = words.next()?;
            // A link-local IPv6 address may carry its interface ("fe80::1%eth0"):
            // the resolver cannot use the scope, so such a server is skipped.
            if address.contains('%') {
                return None;
            }
            address
                .parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .collect();
    if servers.is_empty() {
        servers.push(SocketAddr::from(([127, 0, 0, 1], 53)));
    }
    servers
}

fn resolver(validator: &Validator) -> Result<&Resolver, ValidationError> {
    validator
        .resolver
        .as_ref()
        .map_err(|e| ValidationError::Dns(e.clone()))
}

/// An absolute DNS name (so that no search domain is appended).
fn fqdn(name: &str) -> Result<Name, ValidationError> {
    Name::from_ascii(format!("{name}."))
        .map_err(|e| ValidationError::Dns(format!("{name:?} is not a DNS name: {e}")))
}

/// The A and AAAA records of `name` (already lower-case, without a final dot).
pub(super) async fn lookup_ips(
    validator: &Validator,
    name: &str,
) -> Result<Vec<IpAddr>, ValidationError> {
    let resolver = resolver(validator)?;
    let lookup = resolver
        .lookup_ip(fqdn(name)?)
        .await
        .map_err(|e| lookup_error(&e, "A/AAAA", name))?;
    let addresses: Vec<IpAddr> = lookup.iter().collect();
    if addresses.is_empty() {
        return Err(ValidationError::Dns(format!(
            "no A/AAAA records for {name}"
        )));
    }
    Ok(addresses)
}

/// A failed look-up as a DNS error.
fn lookup_error(error: &NetError, kind: &str, name: &str) -> ValidationError {
    if error.is_nx_domain() {
        ValidationError::Dns(format!("NXDOMAIN looking up {kind} for {name}"))
    } else if error.is_no_records_found() {
        ValidationError::Dns(format!("no {kind} records for {name}"))
    } else {
        ValidationError::Dns(format!("looking up {kind} for {name}: {error}"))
    }
}

/// The value of the TXT record that proves control (RFC 8555 §8.4):
/// base64url(SHA-256(key authorization)), without padding.
pub(super) fn dns01_txt_value(key_authorization: &str) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// dns-01: some TXT record at `_acme-challenge.{name}` is the digest of the key authorization.
pub(super) async fn validate(
    validator: &Validator,
    identifier: &Identifier,
    key_authorization: &str,
    progress: &Progress,
) -> Result<ValidationRecord, ValidationError> {
    progress.set(Phase::Resolving);
    let name = match identifier {
        Identifier::Ip(ip) => {
            return Err(ValidationError::Unauthorized(format!(
                "dns-01 cannot validate an IP address ({ip}) (RFC 8738 §7)"
            )))
        }
        // The identifier of a wildcard order is the base name already; a
        // "*." that reaches here anyway is validated at the base name too.
        Identifier::Dns(name) => {
            super::net::normalize_dns_name(name.strip_prefix("*.").unwrap_or(name))?
        }
    };
    let record_name = format!("_acme-challenge.{name}");
    let resolver = resolver(validator)?;
    let lookup = match resolver.txt_lookup(fqdn(&record_name)?).await {
        Ok(lookup) => lookup,
        Err(e) if e.is_nx_domain() => {
            return Err(ValidationError::IncorrectResponse(format!(
                "no TXT record at {record_name} (NXDOMAIN)"
            )))
        }
        Err(e) if e.is_no_records_found() => {
            return Err(ValidationError::IncorrectResponse(format!(
                "no TXT record at {record_name}"
            )))
        }
        Err(e) => return Err(lookup_error(&e, "TXT", &record_name)),
    };
    let expected = dns01_txt_value(key_authorization);
    // A TXT record's value is its character-strings joined (RFC 7208 §3.3 does
    // the same): a value longer than 255 octets is split that way.
    let found: Vec<Vec<u8>> = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(
                txt.txt_data
                    .iter()
                    .flat_map(|s| s.iter().copied())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    if found.iter().any(|value| value == expected.as_bytes()) {
        return Ok(ValidationRecord {
            url: None,
            hostname: name,
            port: None,
            addresses_resolved: Vec::new(),
            address_used: None,
        });
    }
    if found.is_empty() {
        return Err(ValidationError::IncorrectResponse(format!(
            "no TXT record at {record_name}"
        )));
    }
    let shown: Vec<String> = found
        .iter()
        .take(5)
        .map(|value| super::net::preview(value))
        .collect();
    Err(ValidationError::IncorrectResponse(format!(
        "incorrect TXT record{} at {record_name}: found {}{}",
        if found.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if found.len() > shown.len() {
            ", ..."
        } else {
            ""
        }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf() {
        let text = "# comment\nsearch example.com\nnameserver 10.0.0.1 # x\nnameserver ::1\nnameserver fe80::1%eth0\noptions ndots:2\n";
        assert_eq!(
            system_name_servers(text),
            vec![
                "10.0.0.1:53".parse::<SocketAddr>().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        assert_eq!(
            system_name_servers(""),
            vec!["127.0.0.1:53".parse::<SocketAddr>().unwrap()]
        );
    }

    #[test]
    fn txt_value() {
        // RFC 8555 §8.4: base64url of a 32-octet digest is 43 characters.
        let value = dns01_txt_value("token.thumbprint");
        assert_eq!(value.len(), 43);
        assert!(!value.contains('='));
    }
}
