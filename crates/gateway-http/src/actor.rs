//! How a protocol client is named in the RA's records and audit log.

use std::net::IpAddr;

use policy::model::Endpoint;
use policy::registry::Requester;

/// The protocols whose clients come through enrollment endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// ACME (RFC 8555).
    Acme,
    /// SCEP (RFC 8894).
    Scep,
    /// EST (RFC 7030).
    Est,
}

impl Protocol {
    /// Its name in audit entries.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Acme => "acme",
            Protocol::Scep => "scep",
            Protocol::Est => "est",
        }
    }
}

/// A protocol client as the audit log names it: the protocol, how the client
/// is known within it (an ACME account URL, a SCEP transaction id, an EST user
/// or certificate), and the address it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolActor {
    identity: String,
}

impl ProtocolActor {
    /// The actor; `client` is cut to a length an audit line can carry.
    pub fn new(protocol: Protocol, client: &str, address: Option<IpAddr>) -> Self {
        const MAX_CLIENT_CHARS: usize = 200;
        let client: String = client
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_CLIENT_CHARS)
            .collect();
        let identity = match address {
            Some(address) => format!("{} {client} from {address}", protocol.name()),
            None => format!("{} {client}", protocol.name()),
        };
        Self { identity }
    }

    /// The text the RA records (`Requester::Endpoint`'s identity).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The RA's requester for this actor coming through `endpoint`.
    pub fn requester<'a>(&'a self, endpoint: &'a Endpoint) -> Requester<'a> {
        Requester::Endpoint {
            endpoint,
            identity: &self.identity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_actor_names_protocol_client_and_address() {
        let a = ProtocolActor::new(Protocol::Scep, "tx 1f2e", Some([127, 0, 0, 1].into()));
        assert_eq!(a.identity(), "scep tx 1f2e from 127.0.0.1");
        let b = ProtocolActor::new(Protocol::Est, "dev\nice", None);
        assert_eq!(b.identity(), "est device");
        let long = "x".repeat(5000);
        assert!(
            ProtocolActor::new(Protocol::Acme, &long, None)
                .identity()
                .len()
                < 300
        );
    }
}
