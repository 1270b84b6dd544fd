//! Access control settings: per administrator role (MRAO, RAO, DRAO), the client
//! addresses (IPv4 / IPv6 networks) that role's administrators may use the admin
//! surfaces from — the certificate manager's "access control" allow-lists.
//!
//! - An empty list (the default) restricts nothing; a non-empty one admits only the
//!   addresses inside one of its networks. An address the edge does not know (no peer
//!   recorded) is refused by a non-empty list.
//! - An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, as a dual-stack listener reports an
//!   IPv4 client) is compared as the IPv4 address it maps; a network written in the
//!   mapped form is stored as the IPv4 network.
//! - The RA refuses a password login from outside the list itself ([`login_from`] and
//!   [`verify_credentials`]); every edge calls [`check_address`] on each request it
//!   authenticates otherwise (a bearer token, a remembered password, a console session,
//!   a client certificate), since the address a session is used from can change.
//! - Only an MRAO changes the lists ([`set_allow_lists`], audited `access.allow-list`),
//!   and not in a way that shuts out the address the change comes from: the MRAO list
//!   must admit it. The recovery path for an MRAO list that admits nobody who can still
//!   reach the gateway is local: stop the server and run
//!   `ca-admin access allow-list clear mrao --offline` on its machine, which opens the
//!   data directory itself ([`set_allow_list_offline`]).
//!
//! [`login_from`]: RegistrationAuthority::login_from
//! [`verify_credentials`]: RegistrationAuthority::verify_credentials
//! [`check_address`]: RegistrationAuthority::check_address
//! [`set_allow_lists`]: RegistrationAuthority::set_allow_lists
//! [`set_allow_list_offline`]: RegistrationAuthority::set_allow_list_offline

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ca_core::store::{Record, Table, WriteBatch};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::{now, RaError, RaResult, RegistrationAuthority};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::model::{Administrator, OrgId, Role};

/// The most networks one role's list holds.
pub const MAX_ALLOWED_NETWORKS: usize = 64;

/// The allow-lists, one record per role, keyed by the role's name.
const ALLOW_LISTS: Table<AllowListRecord> = Table::new("ra_access_allow_lists");

/// Who the audit log names for a change made with the offline CLI.
const OFFLINE_ACTOR: &str = "local-operator";

/// An administrator role, without its scope: what an allow-list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Master RA officers.
    Mrao,
    /// RA officers.
    Rao,
    /// Department RA officers.
    Drao,
}

impl RoleName {
    /// Every role, in the order lists are shown.
    pub const ALL: [RoleName; 3] = [RoleName::Mrao, RoleName::Rao, RoleName::Drao];

    /// The role's name (`mrao`, `rao`, `drao`), as [`Role::name`] spells it.
    pub fn name(self) -> &'static str {
        match self {
            RoleName::Mrao => "mrao",
            RoleName::Rao => "rao",
            RoleName::Drao => "drao",
        }
    }

    /// The role of an administrator.
    pub fn of(role: &Role) -> Self {
        match role {
            Role::Mrao => RoleName::Mrao,
            Role::Rao { .. } => RoleName::Rao,
            Role::Drao { .. } => RoleName::Drao,
        }
    }
}

impl FromStr for RoleName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mrao" => Ok(RoleName::Mrao),
            "rao" => Ok(RoleName::Rao),
            "drao" => Ok(RoleName::Drao),
            _ => Err(format!(
                "unknown role '{}' (mrao, rao or drao)",
                text.chars().take(40).collect::<String>()
            )),
        }
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated network of an allow-list: `a.b.c.d/n` or an IPv6 `addr/n`, without host
/// bits (`10.1.0.0/16`, not `10.1.2.3/16`, which is refused as a likely typo). A bare
/// address stands for itself (`/32`, `/128`). IPv4-mapped IPv6 networks
/// (`::ffff:10.0.0.0/104`) are kept as the IPv4 network they map.
///
/// Parsing and containment are the `ipnet` crate's: small, without dependencies, the
/// one the HTTP stack already builds (hickory, hyper-util), and well tested on the
/// prefix arithmetic this would otherwise repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AllowedNetwork(IpNet);

impl AllowedNetwork {
    /// Whether `address` is inside this network (an IPv4-mapped IPv6 address as its IPv4 address).
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address.to_canonical())
    }

    /// The network.
    pub fn network(&self) -> IpNet {
        self.0
    }
}

/// An IPv4-mapped IPv6 network (`::ffff:0:0/96` and inside it) as its IPv4 network.
fn canonical(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(mapped) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return IpNet::V4(mapped);
            }
        }
    }
    net
}

impl FromStr for AllowedNetwork {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let shown = || text.chars().take(60).collect::<String>();
        let net = if text.contains('/') {
            text.parse::<IpNet>().map_err(|_| {
                format!(
                    "'{}' is not an IPv4 or IPv6 network (e.g. 192.0.2.0/24, 2001:db8::/32)",
                    shown()
                )
            })?
        } else {
            let address = text.parse::<IpAddr>().map_err(|_| {
                format!(
                    "'{}' is not an IP address or network (e.g. 192.0.2.7, 192.0.2.0/24)",
                    shown()
                )
            })?;
            IpNet::from(address)
        };
        if net.trunc() != net {
            return Err(format!(
                "'{}' has host bits set; the network is {}",
                shown(),
                canonical(net.trunc())
            ));
        }
        Ok(AllowedNetwork(canonical(net)))
    }
}

impl fmt::Display for AllowedNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<String> for AllowedNetwork {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<AllowedNetwork> for String {
    fn from(value: AllowedNetwork) -> Self {
        value.to_string()
    }
}

/// Parses a list of networks as an edge receives it (each one checked, duplicates
/// dropped, at most [`MAX_ALLOWED_NETWORKS`]).
pub fn parse_networks<S: AsRef<str>>(texts: &[S]) -> RaResult<Vec<AllowedNetwork>> {
    let mut networks = Vec::new();
    for text in texts {
        let network: AllowedNetwork = text.as_ref().parse().map_err(RaError::InvalidInput)?;
        if !networks.contains(&network) {
            networks.push(network);
        }
    }
    if networks.len() > MAX_ALLOWED_NETWORKS {
        return Err(RaError::InvalidInput(format!(
            "at most {MAX_ALLOWED_NETWORKS} networks per role"
        )));
    }
    Ok(networks)
}

/// One role's stored list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct AllowListRecord {
    networks: Vec<AllowedNetwork>,
    updated_by: String,
    updated_at: i64,
}

impl Record for AllowListRecord {
    const SCHEMA_VERSION: u16 = 1;
}

/// One role's allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    /// The role.
    pub role: RoleName,
    /// Its networks; empty: no restriction.
    pub networks: Vec<AllowedNetwork>,
    /// Who changed it last (`None`: never set).
    pub updated_by: Option<String>,
    /// When, unix seconds.
    pub updated_at: Option<i64>,
}

impl AllowList {
    /// Whether the list admits `address` (an empty list admits any, a known or unknown one).
    pub fn admits(&self, address: Option<IpAddr>) -> bool {
        self.networks.is_empty()
            || address.is_some_and(|a| self.networks.iter().any(|n| n.contains(a)))
    }

    /// The networks as the audit log and the CLI show them.
    pub fn describe(&self) -> String {
        describe(&self.networks)
    }
}

fn describe(networks: &[AllowedNetwork]) -> String {
    if networks.is_empty() {
        "any address".to_string()
    } else {
        networks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl RegistrationAuthority {
    /// One role's allow-list, as stored (internal: no authorization).
    fn allow_list(&self, role: RoleName) -> RaResult<AllowList> {
        let record = ALLOW_LISTS.get(&self.store, role.name().as_bytes())?;
        Ok(match record {
            Some(r) => AllowList {
                role,
                networks: r.networks,
                updated_by: Some(r.updated_by),
                updated_at: Some(r.updated_at),
            },
            None => AllowList {
                role,
                networks: Vec::new(),
                updated_by: None,
                updated_at: None,
            },
        })
    }

    /// Every role's allow-list (MRAO).
    pub fn allow_lists(&self, actor: &Administrator) -> RaResult<Vec<AllowList>> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "access.allow-list.read",
            "access:allow-lists",
        )?;
        self.allow_lists_offline()
    }

    /// Every role's allow-list, for the offline CLI (whoever holds the data directory).
    pub fn allow_lists_offline(&self) -> RaResult<Vec<AllowList>> {
        RoleName::ALL
            .iter()
            .map(|role| self.allow_list(*role))
            .collect()
    }

    /// Replaces the allow-lists of the roles in `changes` (the others stay), in one
    /// atomic commit audited as `access.allow-list` (MRAO). `from` is the address the
    /// change comes from: a change of the MRAO list that would not admit it is refused,
    /// so that an MRAO cannot shut themselves out by mistake. Returns every role's list.
    pub fn set_allow_lists(
        &self,
        actor: &Administrator,
        from: Option<IpAddr>,
        changes: &[(RoleName, Vec<AllowedNetwork>)],
    ) -> RaResult<Vec<AllowList>> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "access.allow-list",
            "access:allow-lists",
        )?;
        let own = RoleName::of(&actor.role);
        for (role, networks) in changes {
            let proposed = AllowList {
                role: *role,
                networks: networks.clone(),
                updated_by: None,
                updated_at: None,
            };
            if *role == own && !proposed.admits(from) {
                let address = from.map_or_else(|| "unknown".to_string(), |a| a.to_string());
                let _ = self.audit.record(AuditEvent::denied(
                    &actor.username,
                    "access.allow-list",
                    "access:allow-lists",
                    format!("{role}: {} would exclude {address}", describe(networks)),
                ));
                return Err(RaError::InvalidInput(format!(
                    "the {role} allow-list [{}] would not admit your own address ({address}): \
                     you would lock yourself out. Include your address, or change the list \
                     on the gateway's machine with `ca-admin access allow-list ... --offline`",
                    describe(networks)
                )));
            }
        }
        self.write_allow_lists(&actor.username, changes)?;
        self.allow_lists_offline()
    }

    /// Replaces one role's allow-list without an administrator: the offline CLI's path
    /// (`ca-admin access allow-list ... --offline`, with the server stopped), which is
    /// how an MRAO list that shuts everyone out is repaired. Audited as
    /// `access.allow-list` by `local-operator`.
    pub fn set_allow_list_offline(
        &self,
        role: RoleName,
        networks: Vec<AllowedNetwork>,
    ) -> RaResult<AllowList> {
        self.write_allow_lists(OFFLINE_ACTOR, &[(role, networks)])?;
        self.allow_list(role)
    }

    fn write_allow_lists(
        &self,
        actor: &str,
        changes: &[(RoleName, Vec<AllowedNetwork>)],
    ) -> RaResult<()> {
        if changes.is_empty() {
            return Err(RaError::InvalidInput(
                "name at least one role's allow-list (mrao, rao, drao)".into(),
            ));
        }
        let mut batch = WriteBatch::new();
        let mut detail = Vec::new();
        let at = now();
        for (role, networks) in changes {
            if networks.len() > MAX_ALLOWED_NETWORKS {
                return Err(RaError::InvalidInput(format!(
                    "at most {MAX_ALLOWED_NETWORKS} networks per role"
                )));
            }
            let record = AllowListRecord {
                networks: networks.clone(),
                updated_by: actor.to_string(),
                updated_at: at,
            };
            ALLOW_LISTS.put(&mut batch, role.name().as_bytes(), &record)?;
            detail.push(format!("{role}: {}", describe(networks)));
        }
        self.commit(
            batch,
            AuditEvent::success(
                actor,
                "access.allow-list",
                "access:allow-lists",
                detail.join("; "),
            ),
            "allow-list",
        )?;
        Ok(())
    }

    /// Whether `admin` may act from `client` (`None`: the edge knows no address): `Ok`
    /// when their role's list is empty or admits the address, else a refusal that every
    /// edge answers with 403 (audited).
    pub fn check_address(&self, admin: &Administrator, client: Option<IpAddr>) -> RaResult<()> {
        let role = RoleName::of(&admin.role);
        let list = self.allow_list(role)?;
        if list.admits(client) {
            return Ok(());
        }
        let address = client.map(|a| a.to_canonical());
        let _ = self.audit.record(AuditEvent::denied(
            &admin.username,
            "access.refused",
            &admin.id.label(),
            format!(
                "address {} is not in the {role} allow-list",
                address.map_or_else(|| "unknown".to_string(), |a| a.to_string())
            ),
        ));
        Err(RaError::AddressNotAllowed {
            role: role.name(),
            address,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> AllowedNetwork {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_parse_at_the_edge_into_checked_values() {
        assert_eq!(net("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(net(" 192.0.2.7 ").to_string(), "192.0.2.7/32");
        assert_eq!(net("2001:db8::1").to_string(), "2001:db8::1/128");
        assert_eq!(net("2001:db8::/32").to_string(), "2001:db8::/32");
        // The mapped form of an IPv4 network is that network.
        assert_eq!(net("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
        assert_eq!(net("::ffff:192.0.2.7").to_string(), "192.0.2.7/32");
        for bad in [
            "",
            "10.0.0.0/33",
            "2001:db8::/129",
            "example.com",
            "10.0.0/8",
            "10.0.0.0/x",
            "10.0.0.0/8/8",
        ] {
            assert!(bad.parse::<AllowedNetwork>().is_err(), "{bad:?}");
        }
        let error = "10.1.2.3/16".parse::<AllowedNetwork>().unwrap_err();
        assert!(error.contains("10.1.0.0/16"), "{error}");
        // Stored as text, read back the same; a stored text is checked again.
        assert_eq!(String::from(net("10.0.0.0/8")), "10.0.0.0/8");
        assert!(AllowedNetwork::try_from("10.0.0.1/8".to_string()).is_err());
    }

    #[test]
    fn containment_compares_mapped_addresses_as_ipv4() {
        let list = AllowList {
            role: RoleName::Rao,
            networks: vec![net("127.0.0.2/32"), net("10.0.0.0/8"), net("2001:db8::/32")],
            updated_by: None,
            updated_at: None,
        };
        assert!(list.admits(Some(ip("127.0.0.2"))));
        assert!(list.admits(Some(ip("::ffff:127.0.0.2"))));
        assert!(list.admits(Some(ip("::ffff:10.200.0.1"))));
        assert!(list.admits(Some(ip("2001:db8:1::5"))));
        assert!(!list.admits(Some(ip("127.0.0.1"))));
        assert!(!list.admits(Some(ip("::ffff:127.0.0.1"))));
        assert!(!list.admits(Some(ip("::1"))));
        assert!(!list.admits(Some(ip("2001:db9::1"))));
        assert!(
            !list.admits(None),
            "an unknown address is refused by a list"
        );
        let open = AllowList {
            networks: Vec::new(),
            ..list
        };
        assert!(open.admits(None) && open.admits(Some(ip("203.0.113.9"))));
    }

    #[test]
    fn lists_are_parsed_whole() {
        let parsed = parse_networks(&["10.0.0.0/8", "10.0.0.0/8", "192.0.2.1"]).unwrap();
        assert_eq!(parsed, vec![net("10.0.0.0/8"), net("192.0.2.1/32")]);
        assert!(parse_networks(&["10.0.0.0/8", "nope"]).is_err());
        let many: Vec<String> = (0..=MAX_ALLOWED_NETWORKS)
            .map(|i| format!("10.0.{i}.0/24"))
            .collect();
        assert!(parse_networks(&many).is_err());
        assert_eq!("RAO".parse::<RoleName>(), Ok(RoleName::Rao));
        assert!("admin".parse::<RoleName>().is_err());
    }
}
