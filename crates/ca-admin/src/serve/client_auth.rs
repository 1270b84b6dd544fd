//! The HTTPS listener's client-certificate policy: ask, never require.
//!
//! EST devices authenticate with a TLS client certificate (a factory identity
//! for `simpleenroll`, the certificate being renewed for `simplereenroll`) on
//! the same port as password-only EST devices, ACME clients, the REST API and
//! browsers. So the handshake offers client authentication, accepts a client
//! that sends no certificate, and checks of a certificate that is sent only
//! that the client holds its key (the handshake signature, on aws-lc-rs). Whether
//! the chain is trusted is the edge's question, asked against that endpoint's
//! anchors: `gateway_http::PeerIdentity` carries the chain to it.
//!
//! The CertificateRequest names the gateway's own CAs as acceptable issuers
//! (`certificate_authorities`), so a browser only offers, and only prompts
//! with, a certificate that one of our CAs issued; a user without one sees no
//! prompt. Non-browser clients (curl, OpenSSL, libest) send the certificate they
//! are given whatever the list says, so manufacturer certificates need not be in it.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Offers client authentication without requiring it; see the module docs.
#[derive(Debug)]
pub struct OptionalClientAuth {
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl OptionalClientAuth {
    /// The policy, naming `issuer_subjects` (DER Names) as acceptable issuers.
    pub fn new(issuer_subjects: impl IntoIterator<Item = Vec<u8>>) -> Arc<Self> {
        Arc::new(Self {
            hints: issuer_subjects
                .into_iter()
                .map(DistinguishedName::from)
                .collect(),
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        })
    }
}

impl ClientCertVerifier for OptionalClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        // The chain is checked by the edge that authenticates with it, against its own
        // anchors; the key's possession is proven by the handshake signature below.
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
