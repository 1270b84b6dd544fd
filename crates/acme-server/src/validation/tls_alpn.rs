//! tls-alpn-01 (RFC 8737, and RFC 8738 §6 for IP addresses), and the TLS
//! client that does not verify certificates against roots.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls13_signature_with_raw_key, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, PeerMisbehaved, SignatureScheme};
use x509_parser::extensions::GeneralName;

use super::net::{self, Phase, Progress};
use super::{Identifier, ValidationError, ValidationRecord, Validator, ACME_TLS_ALPN_PROTOCOL};

/// The acmeIdentifier extension (RFC 8737 §3): id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31.
const ACME_IDENTIFIER_OID: &str = "1.3.6.1.5.5.7.1.31";

/// Accepts any certificate chain (the validation certificate is self-signed;
/// tls-alpn-01 checks its content afterwards), but still verifies the
/// handshake signatures with the certificate's public key, so that the peer
/// holds the key of the certificate it presented.
///
/// rustls's `verify_tls12_signature` / `verify_tls13_signature` cannot be
/// used as they are: they parse the certificate with webpki, which refuses
/// any critical extension it does not know, and the acmeIdentifier extension
/// is critical (RFC 8737 §3). So the public key is taken out of the
/// certificate here (x509-parser) and the signature is checked with the
/// provider's algorithms: TLS 1.3 through rustls's
/// `verify_tls13_signature_with_raw_key`, TLS 1.2 the way rustls does it
/// (each algorithm of the scheme whose key type is the key's, in turn).
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

/// The DER of a certificate's SubjectPublicKeyInfo.
fn certificate_spki(cert: &CertificateDer<'_>) -> Result<Vec<u8>, rustls::Error> {
    let (_, certificate) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    Ok(certificate.public_key().raw.to_vec())
}

/// One DER element: (tag, contents, what follows).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let octets = usize::from(first & 0x7f);
        if octets == 0 || octets > 4 || rest.len() < octets {
            return None;
        }
        let length = rest[..octets]
            .iter()
            .fold(0usize, |length, &b| (length << 8) | usize::from(b));
        (length, &rest[octets..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// A SubjectPublicKeyInfo's algorithm (the contents of its AlgorithmIdentifier,
/// as `SignatureVerificationAlgorithm::public_key_alg_id` gives them) and key.
fn split_spki(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (0x30, contents, _) = der_element(spki)? else {
        return None;
    };
    let (0x30, algorithm, rest) = der_element(contents)? else {
        return None;
    };
    let (0x03, bits, _) = der_element(rest)? else {
        return None;
    };
    match bits.split_first()? {
        (0, key) => Some((algorithm, key)),
        _ => None,
    }
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let spki = certificate_spki(cert)?;
        let (key_algorithm, key) = split_spki(&spki).ok_or(rustls::Error::InvalidCertificate(
            CertificateError::BadEncoding,
        ))?;
        let candidates = self
            .provider
            .signature_verification_algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algorithms)| *algorithms)
            .ok_or(rustls::Error::PeerMisbehaved(
                PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ))?;
        let mut key_type_matched = false;
        for algorithm in candidates {
            if algorithm.public_key_alg_id().as_ref() != key_algorithm {
                continue;
            }
            key_type_matched = true;
            if algorithm
                .verify_signature(key, message, dss.signature())
                .is_ok()
            {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        if key_type_matched {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature,
            ))
        } else {
            Err(rustls::Error::General(format!(
                "the certificate's key cannot make {:?} signatures",
                dss.scheme
            )))
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let spki = certificate_spki(cert)?;
        verify_tls13_signature_with_raw_key(
            message,
            &SubjectPublicKeyInfoDer::from(spki.as_slice()),
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS client on the aws-lc-rs provider offering `alpn`, accepting any
/// server certificate (see [`AcceptAnyCertificate`]), without session
/// resumption (every handshake must show the certificate served now).
pub(super) fn client_config(alpn: Vec<Vec<u8>>) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("the aws-lc-rs provider supports the default TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    config.resumption = rustls::client::Resumption::disabled();
    config.enable_sni = true;
    Arc::new(config)
}

/// tls-alpn-01: handshake with ALPN `acme-tls/1` and check the certificate.
pub(super) async fn validate(
    validator: &Validator,
    identifier: &Identifier,
    key_authorization: &str,
    progress: &Progress,
) -> Result<ValidationRecord, ValidationError> {
    progress.set(Phase::Resolving);
    let (hostname, sni, addresses) = match identifier {
        Identifier::Dns(name) => {
            let name = net::normalize_dns_name(name)?;
            let addresses = net::resolve_name(validator, &name).await?;
            (name.clone(), name, addresses)
        }
        Identifier::Ip(ip) => (ip.to_string(), net::reverse_dns_name(*ip), vec![*ip]),
    };
    let server_name = ServerName::try_from(sni.clone())
        .map_err(|e| ValidationError::Tls(format!("{sni:?} cannot be sent as SNI: {e}")))?;
    let port = validator.config.tls_alpn_port;

    progress.set(Phase::Connecting);
    let (stream, used) =
        net::connect(&addresses, port, &hostname, validator.config.timeout).await?;

    progress.set(Phase::Handshaking);
    let connector = tokio_rustls::TlsConnector::from(validator.tls_alpn_client.clone());
    let tls = connector.connect(server_name, stream).await.map_err(|e| {
        ValidationError::Tls(format!(
            "TLS handshake with {used}:{port} ({sni}) failed: {e}"
        ))
    })?;
    let (_, connection) = tls.get_ref();
    if connection.alpn_protocol() != Some(ACME_TLS_ALPN_PROTOCOL) {
        return Err(ValidationError::Tls(format!(
            "{used}:{port} did not negotiate the acme-tls/1 protocol (negotiated {})",
            match connection.alpn_protocol() {
                Some(p) => net::preview(p),
                None => "none".to_owned(),
            }
        )));
    }
    let leaf = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .ok_or_else(|| ValidationError::Tls(format!("{used}:{port} presented no certificate")))?;
    check_certificate(leaf.as_ref(), identifier, key_authorization)?;

    Ok(ValidationRecord {
        url: None,
        hostname,
        port: Some(port),
        addresses_resolved: addresses,
        address_used: Some(used),
    })
}

/// RFC 8737 §3: exactly one subjectAltName, the identifier, and a critical
/// acmeIdentifier extension holding SHA-256(key authorization).
pub(super) fn check_certificate(
    der: &[u8],
    identifier: &Identifier,
    key_authorization: &str,
) -> Result<(), ValidationError> {
    let incorrect = |what: String| ValidationError::IncorrectResponse(what);
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| incorrect(format!("the certificate cannot be parsed: {e}")))?;

    let san = certificate
        .subject_alternative_name()
        .map_err(|e| {
            incorrect(format!(
                "the certificate's subjectAltName cannot be read: {e}"
            ))
        })?
        .ok_or_else(|| incorrect("the certificate has no subjectAltName".to_owned()))?;
    let names = &san.value.general_names;
    let describe = |names: &[GeneralName<'_>]| {
        names
            .iter()
            .map(|n| match n {
                GeneralName::DNSName(d) => format!("DNS:{d}"),
                GeneralName::IPAddress(b) => match ip_from_bytes(b) {
                    Some(ip) => format!("IP:{ip}"),
                    None => format!("IP:{}", hex::encode(b)),
                },
                other => format!("{other}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let matches = names.len() == 1
        && match (&names[0], identifier) {
            (GeneralName::DNSName(d), Identifier::Dns(name)) => {
                let name = name.strip_suffix('.').unwrap_or(name);
                d.eq_ignore_ascii_case(name)
            }
            (GeneralName::IPAddress(b), Identifier::Ip(ip)) => ip_from_bytes(b) == Some(*ip),
            _ => false,
        };
    if !matches {
        let wanted = match identifier {
            Identifier::Dns(name) => format!("DNS:{name}"),
            Identifier::Ip(ip) => format!("IP:{ip}"),
        };
        return Err(incorrect(format!(
            "the certificate's subjectAltName must be exactly {wanted}, it is [{}]",
            describe(names)
        )));
    }

    let mut acme = certificate
        .extensions()
        .iter()
        .filter(|e| e.oid.to_id_string() == ACME_IDENTIFIER_OID);
    let extension = match (acme.next(), acme.next()) {
        (Some(extension), None) => extension,
        (None, _) => {
            return Err(incorrect(
                "the certificate has no acmeIdentifier extension".to_owned(),
            ))
        }
        (Some(_), Some(_)) => {
            return Err(incorrect(
                "the certificate has more than one acmeIdentifier extension".to_owned(),
            ))
        }
    };
    if !extension.critical {
        return Err(incorrect(
            "the certificate's acmeIdentifier extension is not critical".to_owned(),
        ));
    }
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
    // Authorization ::= OCTET STRING (SIZE (32)), DER: tag 0x04, length 0x20.
    let mut expected = vec![0x04, 0x20];
    expected.extend_from_slice(digest.as_ref());
    if extension.value != expected.as_slice() {
        let got = match extension.value {
            [0x04, 0x20, rest @ ..] if rest.len() == 32 => hex::encode(rest),
            other => format!(
                "not a 32-octet OCTET STRING ({})",
                hex::encode(&other[..other.len().min(48)])
            ),
        };
        return Err(incorrect(format!(
            "the acmeIdentifier extension does not match the key authorization: expected SHA-256 {}, got {got}",
            hex::encode(digest.as_ref())
        )));
    }
    Ok(())
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}
