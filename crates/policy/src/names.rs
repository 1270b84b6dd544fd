//! Name policy: every DNS name and IP address in a request must be covered
//! by a domain (or IP network) delegated to the request's organization or
//! department; an e-mail address by its domain. A delegation of
//! `example.com` covers `example.com` and every name below it.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ca_core::names::SubjectAltName;
use serde::{Deserialize, Serialize};

use crate::model::{DeptId, DomainDelegation, OrgId};

/// A delegated name: a DNS domain or an IP network.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DelegatedName {
    /// A DNS domain, lower case, without a wildcard.
    Domain(String),
    /// An IP network.
    Network {
        /// Its address.
        address: IpAddr,
        /// Its prefix length.
        prefix: u8,
    },
}

impl FromStr for DelegatedName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if let Some((addr, prefix)) = text.split_once('/') {
            let address: IpAddr = addr
                .parse()
                .map_err(|_| format!("'{text}' is not an IP network"))?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = prefix
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?;
            return Ok(DelegatedName::Network { address, prefix });
        }
        if let Ok(address) = text.parse::<IpAddr>() {
            let prefix = if address.is_ipv4() { 32 } else { 128 };
            return Ok(DelegatedName::Network { address, prefix });
        }
        match SubjectAltName::dns(text) {
            Ok(SubjectAltName::Dns(d)) if !d.starts_with("*.") => Ok(DelegatedName::Domain(d)),
            Ok(_) => Err(format!("'{text}': delegate the domain, not a wildcard")),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl TryFrom<String> for DelegatedName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<DelegatedName> for String {
    fn from(value: DelegatedName) -> Self {
        value.to_string()
    }
}

impl fmt::Display for DelegatedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DelegatedName::Domain(d) => f.write_str(d),
            DelegatedName::Network { address, prefix } => write!(f, "{address}/{prefix}"),
        }
    }
}

fn domain_covers(delegated: &str, name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    name == delegated || name.ends_with(&format!(".{delegated}"))
}

fn network_covers(address: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (address, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

impl DelegatedName {
    /// Whether this delegation covers all of `other` (a subdomain, or a sub-network).
    pub fn contains(&self, other: &DelegatedName) -> bool {
        match (self, other) {
            (DelegatedName::Domain(d), DelegatedName::Domain(o)) => domain_covers(d, o),
            (
                DelegatedName::Network { address, prefix },
                DelegatedName::Network {
                    address: other_address,
                    prefix: other_prefix,
                },
            ) => other_prefix >= prefix && network_covers(*address, *prefix, *other_address),
            _ => false,
        }
    }

    /// Whether this delegation covers a requested name. URIs are not covered by domains
    /// (they are checked by the profile only).
    pub fn covers(&self, name: &SubjectAltName) -> bool {
        match (self, name) {
            (DelegatedName::Domain(d), SubjectAltName::Dns(n)) => domain_covers(d, n),
            (DelegatedName::Domain(d), SubjectAltName::Email(e) | SubjectAltName::Upn(e)) => e
                .rsplit_once('@')
                .is_some_and(|(_, domain)| domain_covers(d, domain)),
            (DelegatedName::Network { address, prefix }, SubjectAltName::Ip(ip)) => {
                network_covers(*address, *prefix, *ip)
            }
            _ => false,
        }
    }
}

/// A name the requester's organization / department may not ask for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} is not covered by a domain delegated to the {owner}")]
pub struct NameNotDelegated {
    /// The name.
    pub name: String,
    /// "organization" or "department".
    pub owner: &'static str,
}

/// Checks every DNS, IP and e-mail name against the delegations usable by (org, dept):
/// those of the organization itself (no department) and, with a department, its own.
pub fn check_names(
    names: &[SubjectAltName],
    org: OrgId,
    dept: Option<DeptId>,
    delegations: &[DomainDelegation],
) -> Result<(), NameNotDelegated> {
    let usable: Vec<&DomainDelegation> = delegations
        .iter()
        .filter(|d| d.org == org && (d.dept.is_none() || d.dept == dept))
        .collect();
    for name in names {
        if matches!(name, SubjectAltName::Uri(_)) {
            continue;
        }
        if !usable.iter().any(|d| d.name.covers(name)) {
            return Err(NameNotDelegated {
                name: name.to_string(),
                owner: if dept.is_some() {
                    "department"
                } else {
                    "organization"
                },
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DomainId;

    fn delegation(name: &str, org: u64, dept: Option<u64>) -> DomainDelegation {
        DomainDelegation {
            id: DomainId(1),
            name: name.parse().unwrap(),
            org: OrgId(org),
            dept: dept.map(DeptId),
            created_at: 0,
        }
    }

    fn san(text: &str) -> SubjectAltName {
        SubjectAltName::parse_tagged(text).unwrap()
    }

    #[test]
    fn delegated_domain_covers_itself_and_subdomains_only() {
        let d = [delegation("example.com", 1, None)];
        assert!(check_names(&[san("example.com")], OrgId(1), None, &d).is_ok());
        assert!(check_names(&[san("a.b.example.com")], OrgId(1), None, &d).is_ok());
        assert!(check_names(&[san("*.example.com")], OrgId(1), None, &d).is_ok());
        let err = check_names(&[san("badexample.com")], OrgId(1), None, &d).unwrap_err();
        assert_eq!(err.name, "dns:badexample.com");
        assert!(check_names(&[san("example.org")], OrgId(1), None, &d).is_err());
        assert!(
            check_names(&[san("example.com")], OrgId(2), None, &d).is_err(),
            "another organization's domain"
        );
    }

    #[test]
    fn department_delegations_are_for_that_department_only() {
        let d = [
            delegation("eng.example.com", 1, Some(10)),
            delegation("example.org", 1, None),
        ];
        assert!(check_names(&[san("ci.eng.example.com")], OrgId(1), Some(DeptId(10)), &d).is_ok());
        assert!(check_names(&[san("ci.eng.example.com")], OrgId(1), Some(DeptId(11)), &d).is_err());
        assert!(check_names(&[san("ci.eng.example.com")], OrgId(1), None, &d).is_err());
        // An organization-wide delegation serves its departments too.
        assert!(check_names(&[san("www.example.org")], OrgId(1), Some(DeptId(11)), &d).is_ok());
    }

    #[test]
    fn ips_need_a_delegated_network_and_emails_their_domain() {
        let d = [
            delegation("10.1.0.0/16", 1, None),
            delegation("2001:db8::/32", 1, None),
            delegation("example.com", 1, None),
        ];
        assert!(check_names(&[san("ip:10.1.200.3")], OrgId(1), None, &d).is_ok());
        assert!(check_names(&[san("ip:10.2.0.1")], OrgId(1), None, &d).is_err());
        assert!(check_names(&[san("ip:2001:db8::1")], OrgId(1), None, &d).is_ok());
        assert!(check_names(&[san("email:bob@mail.example.com")], OrgId(1), None, &d).is_ok());
        assert!(check_names(&[san("email:bob@example.net")], OrgId(1), None, &d).is_err());
        assert!(
            check_names(&[san("uri:urn:device:1")], OrgId(1), None, &d).is_ok(),
            "URIs are the profile's business"
        );
    }

    #[test]
    fn delegated_names_parse_and_refuse_wildcards() {
        assert_eq!(
            "Example.COM".parse::<DelegatedName>().unwrap().to_string(),
            "example.com"
        );
        assert_eq!(
            "10.0.0.1".parse::<DelegatedName>().unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert!("*.example.com".parse::<DelegatedName>().is_err());
        assert!("10.0.0.0/33".parse::<DelegatedName>().is_err());
        assert!("exa mple.com".parse::<DelegatedName>().is_err());
    }
}
