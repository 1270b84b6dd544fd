//! Who is on the other end of a request.
//!
//! `ca-admin serve` learns this when it accepts the connection (and, over
//! TLS, when the handshake completes) and puts a [`PeerIdentity`] into every
//! request's extensions; an edge reads it with [`PeerIdentity::of`].

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

/// The listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// Plain HTTP (CA downloads, CRLs, OCSP, SCEP).
    Http,
    /// HTTPS.
    Https,
}

/// The TLS side of a connection.
#[derive(Debug, Clone, Default)]
pub struct TlsPeer {
    /// The client's certificate chain as it presented it, leaf first; empty when
    /// it presented none. The handshake did not check it against anything: an edge
    /// that authenticates by certificate checks the chain against its own anchors.
    pub client_chain: Arc<[CertificateDer<'static>]>,
    /// The TLS version's name (`TLSv1.2`, `TLSv1.3`).
    pub version: Option<&'static str>,
    /// The channel binding of the session: the RFC 9266 `tls-exporter` value
    /// (32 bytes exported with the label `EXPORTER-Channel-Binding`), which ties
    /// a credential sent inside the session to this session.
    pub channel_binding: Option<[u8; 32]>,
}

/// The peer of one request.
#[derive(Debug, Clone)]
pub struct PeerIdentity {
    /// The client's address.
    pub remote: SocketAddr,
    /// The listener.
    pub listener: Listener,
    /// Over HTTPS, what the TLS handshake told.
    pub tls: Option<TlsPeer>,
}

impl PeerIdentity {
    /// A plain-HTTP peer.
    pub fn plain(remote: SocketAddr) -> Self {
        Self {
            remote,
            listener: Listener::Http,
            tls: None,
        }
    }

    /// An HTTPS peer.
    pub fn tls(remote: SocketAddr, tls: TlsPeer) -> Self {
        Self {
            remote,
            listener: Listener::Https,
            tls: Some(tls),
        }
    }

    /// The peer of a request, if the gateway recorded one (a request built in a
    /// unit test has none).
    pub fn of<B>(request: &http::Request<B>) -> Option<&PeerIdentity> {
        request.extensions().get::<PeerIdentity>()
    }

    /// The client's leaf certificate, if it presented one over TLS.
    pub fn client_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.tls.as_ref().and_then(|t| t.client_chain.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carries_its_peer() {
        let mut request = http::Request::new(());
        assert!(PeerIdentity::of(&request).is_none());
        let remote: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        request.extensions_mut().insert(PeerIdentity::tls(
            remote,
            TlsPeer {
                client_chain: Arc::from(vec![CertificateDer::from(vec![1u8, 2, 3])]),
                version: Some("TLSv1.3"),
                channel_binding: None,
            },
        ));
        let peer = PeerIdentity::of(&request).unwrap();
        assert_eq!(peer.remote, remote);
        assert_eq!(peer.listener, Listener::Https);
        assert_eq!(peer.client_certificate().unwrap().as_ref(), &[1, 2, 3]);
        assert!(PeerIdentity::plain(remote).client_certificate().is_none());
    }
}
