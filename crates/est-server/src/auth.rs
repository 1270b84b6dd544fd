//! Who the device is: HTTP Basic credentials, and the TLS client certificate
//! checked against the endpoint's manufacturer anchors or found among the
//! certificates this gateway issued.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use ca_core::certificates::CertificateRecord;
use ca_core::serial::Serial;
use ca_core::service::CaService;
use http::HeaderMap;
use policy::model::{EndpointId, TrustAnchor};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate};
use zeroize::Zeroizing;

/// HTTP Basic credentials (RFC 7617).
pub struct BasicCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Zeroizing<String>,
}

/// A Basic `Authorization` header that does not decode to `user:password`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Authorization header is not valid HTTP Basic")]
pub struct MalformedBasic;

/// The Basic credentials of a request: `Ok(None)` without an Authorization
/// header (or with another scheme), `Err` for a Basic header that does not decode.
pub fn basic(headers: &HeaderMap) -> Result<Option<BasicCredentials>, MalformedBasic> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| MalformedBasic)?.trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .map_err(|_| MalformedBasic)?,
    );
    let text = std::str::from_utf8(&decoded).map_err(|_| MalformedBasic)?;
    let (username, password) = text.split_once(':').ok_or(MalformedBasic)?;
    Ok(Some(BasicCredentials {
        username: username.to_string(),
        password: Zeroizing::new(password.to_string()),
    }))
}

/// Credentials that passed the Argon2 check, remembered as an HMAC under a key
/// that lives only in this process, so a device enrolling again costs an HMAC
/// instead of an Argon2 run. An entry is tied to the stored hash: a new password
/// invalidates it.
pub struct VerifiedPasswords {
    key: aws_lc_rs::hmac::Key,
    entries: Mutex<HashMap<(EndpointId, String), [u8; 32]>>,
}

impl Default for VerifiedPasswords {
    fn default() -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        Self {
            key: aws_lc_rs::hmac::Key::generate(aws_lc_rs::hmac::HMAC_SHA256, &rng)
                .expect("the system CSPRNG is available"),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl VerifiedPasswords {
    const MAX_ENTRIES: usize = 1024;

    fn tag(&self, credentials: &BasicCredentials) -> [u8; 32] {
        let mut context = aws_lc_rs::hmac::Context::with_key(&self.key);
        context.update(credentials.username.as_bytes());
        context.update(&[0]);
        context.update(credentials.password.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(context.sign().as_ref());
        out
    }

    /// Whether these credentials were verified before against this hash (constant-time).
    pub fn known(&self, endpoint: EndpointId, hash: &str, credentials: &BasicCredentials) -> bool {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Some(stored) = entries.get(&(endpoint, hash.to_string())) else {
            return false;
        };
        aws_lc_rs::constant_time::verify_slices_are_equal(stored, &self.tag(credentials)).is_ok()
    }

    /// Remembers credentials that passed the Argon2 check.
    pub fn remember(&self, endpoint: EndpointId, hash: &str, credentials: &BasicCredentials) {
        let tag = self.tag(credentials);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((endpoint, hash.to_string()), tag);
    }
}

/// A certificate this gateway issued: the presented leaf is byte for byte a stored record.
pub fn issued_here(
    ca: &CaService,
    leaf: &CertificateDer<'_>,
) -> Result<Option<CertificateRecord>, String> {
    let (_, certificate) =
        X509Certificate::from_der(leaf.as_ref()).map_err(|e| format!("client certificate: {e}"))?;
    let serial = Serial::from_bytes(certificate.raw_serial());
    match ca.certificates().by_serial(&serial) {
        Ok(Some(record)) if record.der == leaf.as_ref() => Ok(Some(record)),
        Ok(_) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether the presented chain leads from its leaf to one of the anchors, as
/// rustls-webpki validates a path (RFC 5280: validity, signatures on aws-lc-rs,
/// basic constraints and path lengths, name constraints, and the clientAuth
/// extended key usage where the leaf names any). Intermediates are taken as the
/// client presented them. Returns the leaf's subject, or why not.
pub fn chains_to_anchor(
    chain: &[CertificateDer<'_>],
    anchors: &[TrustAnchor],
    now: i64,
) -> Result<String, String> {
    let leaf_der = chain.first().ok_or("no client certificate")?;
    let (_, leaf) = X509Certificate::from_der(leaf_der.as_ref())
        .map_err(|e| format!("the client certificate does not parse: {e}"))?;
    let end_entity = webpki::EndEntityCert::try_from(leaf_der)
        .map_err(|e| format!("the client certificate is not usable: {e}"))?;
    let anchor_ders: Vec<CertificateDer<'_>> = anchors
        .iter()
        .map(|a| CertificateDer::from(a.der.as_slice()))
        .collect();
    let trust_anchors: Vec<rustls_pki_types::TrustAnchor<'_>> = anchor_ders
        .iter()
        .filter_map(|der| webpki::anchor_from_trusted_cert(der).ok())
        .collect();
    if trust_anchors.is_empty() {
        return Err(
            "the client certificate does not chain to a trust anchor of this endpoint".into(),
        );
    }
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
    match end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &trust_anchors,
        &chain[1..],
        time,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    ) {
        Ok(_) => Ok(leaf.subject().to_string()),
        Err(webpki::Error::CertExpired { .. }) | Err(webpki::Error::CertNotValidYet { .. }) => {
            Err("the client certificate is outside its validity".into())
        }
        Err(webpki::Error::UnknownIssuer) => {
            Err("the client certificate does not chain to a trust anchor of this endpoint".into())
        }
        Err(e) => Err(format!(
            "the client certificate does not chain to a trust anchor of this endpoint: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    fn ca(name: &str) -> (rcgen::Certificate, KeyPair, rcgen::Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).unwrap();
        let issuer_key = KeyPair::from_pem(&key.serialize_pem()).unwrap();
        let issuer = rcgen::Issuer::new(params, issuer_key);
        (cert, key, issuer)
    }

    fn leaf(issuer: &rcgen::Issuer<'_, KeyPair>) -> rcgen::Certificate {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["device.test".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "device-1");
        params.signed_by(&key, issuer).unwrap()
    }

    fn anchor(cert: &rcgen::Certificate) -> TrustAnchor {
        TrustAnchor {
            subject: String::new(),
            der: cert.der().to_vec(),
        }
    }

    #[test]
    fn a_device_certificate_chains_to_its_manufacturer_only() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (factory, _, factory_issuer) = ca("Factory CA");
        let (other, _, _) = ca("Other CA");
        let device = leaf(&factory_issuer);
        let chain = [device.der().clone()];
        let subject = chains_to_anchor(&chain, &[anchor(&factory)], now).unwrap();
        assert!(subject.contains("device-1"));
        assert!(chains_to_anchor(&chain, &[anchor(&other)], now).is_err());
        assert!(chains_to_anchor(&chain, &[], now).is_err());
        assert!(chains_to_anchor(&[], &[anchor(&factory)], now).is_err());
    }

    #[test]
    fn a_path_is_validated_as_rfc_5280_says() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (factory, _, factory_issuer) = ca("Factory CA");
        // An intermediate the device presents leads to the anchor.
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Factory Line 7");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let line = params.signed_by(&key, &factory_issuer).unwrap();
        let line_issuer = rcgen::Issuer::new(params, key);
        let device = leaf(&line_issuer);
        let chain = [device.der().clone(), line.der().clone()];
        assert!(chains_to_anchor(&chain, &[anchor(&factory)], now).is_ok());
        assert!(chains_to_anchor(&chain[..1], &[anchor(&factory)], now).is_err());
        // A leaf for servers only is not a client's identity.
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["server.test".to_string()]).unwrap();
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let server = params.signed_by(&key, &factory_issuer).unwrap();
        assert!(chains_to_anchor(&[server.der().clone()], &[anchor(&factory)], now).is_err());
        // Outside its validity (rcgen's certificates begin in 1975).
        let device = leaf(&factory_issuer);
        let why =
            chains_to_anchor(&[device.der().clone()], &[anchor(&factory)], 86_400).unwrap_err();
        assert!(why.contains("validity"), "{why}");
    }

    #[test]
    fn basic_credentials_decode_and_a_password_may_hold_colons() {
        let mut headers = HeaderMap::new();
        assert!(basic(&headers).unwrap().is_none());
        let token = base64::engine::general_purpose::STANDARD.encode("est:pa:ss");
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Basic {token}").parse().unwrap(),
        );
        let c = basic(&headers).unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("est", "pa:ss"));
        headers.insert(http::header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert!(basic(&headers).is_err());
    }

    #[test]
    fn verified_passwords_are_tied_to_the_hash_and_the_password() {
        let cache = VerifiedPasswords::default();
        let creds = |p: &str| BasicCredentials {
            username: "est".into(),
            password: Zeroizing::new(p.into()),
        };
        let id = EndpointId(3);
        cache.remember(id, "$argon2id$one", &creds("right"));
        assert!(cache.known(id, "$argon2id$one", &creds("right")));
        assert!(!cache.known(id, "$argon2id$one", &creds("wrong")));
        assert!(!cache.known(id, "$argon2id$two", &creds("right")));
        assert!(!cache.known(EndpointId(4), "$argon2id$one", &creds("right")));
    }
}
