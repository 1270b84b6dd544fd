//! What http-01 and tls-alpn-01 share: checking and looking up names,
//! connecting, and keeping track of the phase a time-out interrupts.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;

use super::{ValidationError, Validator};

/// What an attempt is doing, so that a time-out can say which error it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Phase {
    /// Looking names up (a time-out is a DNS error).
    Resolving = 0,
    /// Opening a TCP connection.
    Connecting = 1,
    /// TLS handshake.
    Handshaking = 2,
    /// Sending the request and reading the response.
    Requesting = 3,
}

impl Phase {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Phase::Resolving => "looking up DNS records",
            Phase::Connecting => "connecting",
            Phase::Handshaking => "in the TLS handshake",
            Phase::Requesting => "waiting for the response",
        }
    }
}

/// The phase of one attempt, shared between the attempt and its time-out.
#[derive(Debug, Default)]
pub(super) struct Progress(AtomicU8);

impl Progress {
    pub(super) fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> Phase {
        match self.0.load(Ordering::Relaxed) {
            0 => Phase::Resolving,
            1 => Phase::Connecting,
            2 => Phase::Handshaking,
            _ => Phase::Requesting,
        }
    }
}

/// Lower-cases a DNS identifier, drops a final dot and checks its syntax
/// (ASCII letters, digits, '-' and '_' in labels of 1 to 63 octets, at most
/// 253 octets in all). A wildcard is refused: http-01 and tls-alpn-01 never
/// validate one.
pub(super) fn normalize_dns_name(name: &str) -> Result<String, ValidationError> {
    if name.starts_with("*.") {
        return Err(ValidationError::Unauthorized(format!(
            "a wildcard name ({name}) cannot be validated by this challenge type"
        )));
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(name)
    } else {
        Err(ValidationError::Unauthorized(format!(
            "{name:?} is not a valid DNS name"
        )))
    }
}

/// The addresses of a name: from the configured hosts, else A and AAAA records.
pub(super) async fn resolve_name(
    validator: &Validator,
    name: &str,
) -> Result<Vec<IpAddr>, ValidationError> {
    if let Some(ip) = validator.config.hosts.get(name) {
        return Ok(vec![*ip]);
    }
    super::dns::lookup_ips(validator, name).await
}

/// The addresses tried, in order: the first IPv6 address, then the first IPv4 one.
fn connect_order(addresses: &[IpAddr]) -> Vec<IpAddr> {
    let v6 = addresses.iter().find(|ip| ip.is_ipv6());
    let v4 = addresses.iter().find(|ip| ip.is_ipv4());
    v6.into_iter().chain(v4).copied().collect()
}

/// Connects to the first address that accepts. Every failure is a
/// connection error. When there is a second address to try, the first gets
/// half of `budget` (so that an IPv6 address that drops packets leaves time for IPv4).
pub(super) async fn connect(
    addresses: &[IpAddr],
    port: u16,
    host: &str,
    budget: Duration,
) -> Result<(TcpStream, IpAddr), ValidationError> {
    let order = connect_order(addresses);
    let mut failures = Vec::new();
    for (i, ip) in order.iter().copied().enumerate() {
        let address = SocketAddr::new(ip, port);
        let attempt = TcpStream::connect(address);
        let result = if i + 1 < order.len() {
            match tokio::time::timeout(budget / 2, attempt).await {
                Ok(result) => result,
                Err(_) => {
                    failures.push(format!("{address}: timed out"));
                    continue;
                }
            }
        } else {
            attempt.await
        };
        match result {
            Ok(stream) => {
                // Requests are small and sent whole: no point in delaying them.
                let _ = stream.set_nodelay(true);
                return Ok((stream, ip));
            }
            Err(e) => failures.push(format!("{address}: {e}")),
        }
    }
    if failures.is_empty() {
        return Err(ValidationError::Connection(format!(
            "no address to connect to for {host}"
        )));
    }
    Err(ValidationError::Connection(format!(
        "cannot connect to {host}: {}",
        failures.join("; ")
    )))
}

/// The reverse-DNS name of an address (RFC 8738 §6): "4.3.2.1.in-addr.arpa"
/// for 1.2.3.4, and the nibble form under "ip6.arpa" for IPv6.
pub(super) fn reverse_dns_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa")
        }
        IpAddr::V6(v6) => {
            let mut name = String::with_capacity(73);
            for byte in v6.octets().iter().rev() {
                name.push(char::from_digit(u32::from(byte & 0x0f), 16).unwrap_or('0'));
                name.push('.');
                name.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
                name.push('.');
            }
            name.push_str("ip6.arpa");
            name
        }
    }
}

/// The start of what was received, printable, for an error message.
pub(super) fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 128;
    if bytes.len() <= SHOWN {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        format!(
            "{:?}... ({} bytes)",
            String::from_utf8_lossy(&bytes[..SHOWN]),
            bytes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_dns_name("1.2.3.4".parse().unwrap()),
            "4.3.2.1.in-addr.arpa"
        );
        // RFC 8738 §6's example.
        assert_eq!(
            reverse_dns_name("2001:db8::1".parse().unwrap()),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
        );
    }

    #[test]
    fn names() {
        assert_eq!(normalize_dns_name("Example.COM.").unwrap(), "example.com");
        assert!(matches!(
            normalize_dns_name("*.example.com"),
            Err(ValidationError::Unauthorized(_))
        ));
        assert!(normalize_dns_name("a..b").is_err());
        assert!(normalize_dns_name("a/b").is_err());
        assert!(normalize_dns_name("").is_err());
    }

    #[test]
    fn order() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let v4b: IpAddr = "127.0.0.2".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(connect_order(&[v4, v4b, v6]), vec![v6, v4]);
        assert_eq!(connect_order(&[v4, v4b]), vec![v4]);
    }
}
