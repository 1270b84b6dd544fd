//! Subject alternative names, validated at the edge.
//!
//! A `SubjectAltName` that exists is well-formed: DNS names are lower-case
//! LDH labels (with at most one leading wildcard label), IPs are parsed,
//! e-mail addresses have a local part and a domain, URIs have a scheme.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The otherName type of a Microsoft user principal name.
pub const UPN_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 311, 20, 2, 3];

/// The kinds of subject alternative name a profile can allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SanKind {
    /// dNSName.
    Dns,
    /// iPAddress.
    Ip,
    /// rfc822Name (e-mail).
    Email,
    /// uniformResourceIdentifier, including Intune's `tag:microsoft.com,2022-09-14:sid:<SID>`.
    Uri,
    /// otherName of type Microsoft UPN (1.3.6.1.4.1.311.20.2.3), `user@domain`.
    Upn,
}

impl fmt::Display for SanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SanKind::Dns => "dns",
            SanKind::Ip => "ip",
            SanKind::Email => "email",
            SanKind::Uri => "uri",
            SanKind::Upn => "upn",
        })
    }
}

/// One validated subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "kebab-case")]
pub enum SubjectAltName {
    /// A DNS name, lower case, possibly `*.`-prefixed.
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An e-mail address.
    Email(String),
    /// A URI.
    Uri(String),
    /// A Windows user principal name (otherName 1.3.6.1.4.1.311.20.2.3), `user@domain`.
    Upn(String),
}

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{name}' is not a valid {kind} name: {reason}")]
pub struct InvalidName {
    /// The name as given.
    pub name: String,
    /// The kind it was parsed as.
    pub kind: SanKind,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl SubjectAltName {
    /// Parses a DNS name (wildcards allowed here; profiles decide whether to accept them).
    pub fn dns(name: &str) -> Result<Self, InvalidName> {
        validate_dns_name(name).map(SubjectAltName::Dns)
    }

    /// Parses an e-mail address.
    pub fn email(address: &str) -> Result<Self, InvalidName> {
        let bad = |reason| InvalidName {
            name: address.to_string(),
            kind: SanKind::Email,
            reason,
        };
        let (local, domain) = address.rsplit_once('@').ok_or_else(|| bad("no '@'"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the local part must be 1 to 64 characters"));
        }
        if !local.is_ascii() || local.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(bad("the local part must be printable ASCII without spaces"));
        }
        let domain =
            validate_dns_name(domain).map_err(|_| bad("the domain is not a valid DNS name"))?;
        if domain.starts_with("*.") {
            return Err(bad("the domain cannot be a wildcard"));
        }
        Ok(SubjectAltName::Email(format!("{local}@{domain}")))
    }

    /// Parses a URI (a scheme followed by ':' and printable ASCII).
    pub fn uri(uri: &str) -> Result<Self, InvalidName> {
        let bad = |reason| InvalidName {
            name: uri.to_string(),
            kind: SanKind::Uri,
            reason,
        };
        if uri.len() > 2048 {
            return Err(bad("longer than 2048 characters"));
        }
        let (scheme, rest) = uri.split_once(':').ok_or_else(|| bad("no scheme"))?;
        let scheme_ok = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(bad("the scheme is not valid"));
        }
        if rest.is_empty() || !uri.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad("must be printable ASCII without spaces"));
        }
        Ok(SubjectAltName::Uri(uri.to_string()))
    }

    /// Parses a user principal name: `user@domain`, the domain a DNS name (lower-cased).
    pub fn upn(value: &str) -> Result<Self, InvalidName> {
        let bad = |reason| InvalidName {
            name: value.to_string(),
            kind: SanKind::Upn,
            reason,
        };
        let (user, domain) = value.rsplit_once('@').ok_or_else(|| bad("no '@'"))?;
        if user.is_empty() || user.chars().count() > 256 {
            return Err(bad("the user part must be 1 to 256 characters"));
        }
        if user.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad("the user part has spaces or control characters"));
        }
        let domain = validate_dns_name(domain).map_err(|_| bad("the domain is not a DNS name"))?;
        Ok(SubjectAltName::Upn(format!("{user}@{domain}")))
    }

    /// Parses "dns:name", "ip:addr", "email:addr", "uri:value", "upn:user@domain", or a bare DNS name / IP.
    pub fn parse_tagged(text: &str) -> Result<Self, InvalidName> {
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("dns:") {
            Self::dns(rest)
        } else if let Some(rest) = lower.strip_prefix("ip:") {
            rest.parse()
                .map(SubjectAltName::Ip)
                .map_err(|_| InvalidName {
                    name: text.to_string(),
                    kind: SanKind::Ip,
                    reason: "not an IPv4 or IPv6 address",
                })
        } else if lower.starts_with("email:") {
            Self::email(&text[6..])
        } else if lower.starts_with("uri:") {
            Self::uri(&text[4..])
        } else if lower.starts_with("upn:") {
            Self::upn(&text[4..])
        } else if let Ok(ip) = text.parse() {
            Ok(SubjectAltName::Ip(ip))
        } else {
            Self::dns(text)
        }
    }

    /// The kind of this name.
    pub fn kind(&self) -> SanKind {
        match self {
            SubjectAltName::Dns(_) => SanKind::Dns,
            SubjectAltName::Ip(_) => SanKind::Ip,
            SubjectAltName::Email(_) => SanKind::Email,
            SubjectAltName::Uri(_) => SanKind::Uri,
            SubjectAltName::Upn(_) => SanKind::Upn,
        }
    }

    /// Whether this is a wildcard DNS name.
    pub fn is_wildcard(&self) -> bool {
        matches!(self, SubjectAltName::Dns(d) if d.starts_with("*."))
    }

    /// The value without its kind.
    pub fn value(&self) -> String {
        match self {
            SubjectAltName::Dns(v)
            | SubjectAltName::Email(v)
            | SubjectAltName::Uri(v)
            | SubjectAltName::Upn(v) => v.clone(),
            SubjectAltName::Ip(ip) => ip.to_string(),
        }
    }
}

impl fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

/// Validates and lower-cases a DNS name (RFC 1034 preferred syntax, LDH labels).
fn validate_dns_name(name: &str) -> Result<String, InvalidName> {
    let bad = |reason| InvalidName {
        name: name.to_string(),
        kind: SanKind::Dns,
        reason,
    };
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    if lower.is_empty() {
        return Err(bad("empty"));
    }
    if lower.len() > 253 {
        return Err(bad("longer than 253 characters"));
    }
    let (wildcard, rest) = match lower.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, lower.as_str()),
    };
    if rest.is_empty() {
        return Err(bad("a wildcard needs a domain"));
    }
    for label in rest.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > 63 {
            return Err(bad("a label is longer than 63 characters"));
        }
        if label == "*" || label.contains('*') {
            return Err(bad("a wildcard may only be the whole leftmost label"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(bad("labels may contain only letters, digits and '-'"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label cannot start or end with '-'"));
        }
    }
    if wildcard && !rest.contains('.') && rest.parse::<IpAddr>().is_ok() {
        return Err(bad("a wildcard cannot cover an IP address"));
    }
    if rest
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad(
            "the last label cannot be all digits (an IP address is not a DNS name)",
        ));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_are_validated_and_lower_cased() {
        assert_eq!(
            SubjectAltName::dns("WWW.Example.COM.").unwrap(),
            SubjectAltName::Dns("www.example.com".into())
        );
        assert!(SubjectAltName::dns("*.example.com").unwrap().is_wildcard());
        for bad in [
            "",
            "a..b",
            "-a.com",
            "a-.com",
            "a*.com",
            "*.*.com",
            "foo.*.com",
            "ex ample.com",
            "1.2.3.4",
            "*.",
        ] {
            assert!(SubjectAltName::dns(bad).is_err(), "{bad} should be refused");
        }
        assert!(SubjectAltName::dns(&format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn tagged_names_parse_by_kind() {
        assert_eq!(
            SubjectAltName::parse_tagged("ip:192.0.2.1").unwrap(),
            SubjectAltName::Ip("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            SubjectAltName::parse_tagged("::1").unwrap().kind(),
            SanKind::Ip
        );
        assert_eq!(
            SubjectAltName::parse_tagged("email:Alice@Example.org").unwrap(),
            SubjectAltName::Email("Alice@example.org".into())
        );
        let sid = "uri:tag:microsoft.com,2022-09-14:sid:S-1-5-21-1-2-3-1001";
        assert_eq!(
            SubjectAltName::parse_tagged(sid).unwrap().kind(),
            SanKind::Uri
        );
        assert!(SubjectAltName::parse_tagged("email:nobody").is_err());
        assert!(SubjectAltName::parse_tagged("uri:no scheme").is_err());
    }
}
