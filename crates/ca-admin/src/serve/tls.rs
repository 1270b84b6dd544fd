//! The HTTPS listener's server certificate.
//!
//! The gateway is its own first customer: at every start it makes a P-256 key
//! in memory, asks its own issuing CA for a certificate through the ordinary
//! issuance path (so the certificate is recorded, appears on CRLs and answers
//! OCSP like any other), and serves it through a [`ResolvesServerCert`] that
//! hands out the current key. A background task renews the certificate in
//! place once two-thirds of its lifetime has passed, so long-running gateways
//! never serve an expired certificate and the listener never restarts.
//!
//! The private key exists only inside this process: it is never written to
//! the store or to disk, never logged, and its serialized form is zeroized as
//! soon as rustls has loaded it. A restart therefore always means a new key
//! and a new certificate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration as StdDuration;

use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceRequest;
use ca_core::service::CaService;
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::HttpsConfig;

/// The requester recorded on the gateway's own server certificates.
pub const REQUESTER: &str = "gateway-https";

/// How often the renewal task looks at the certificate.
///
/// Far shorter than any certificate term a profile allows, so the two-thirds
/// mark is never overshot by more than this.
pub const RENEWAL_CHECK_INTERVAL: StdDuration = StdDuration::from_secs(600);

/// The ALPN protocols offered, in order of preference.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Whether a certificate valid from `not_before` to `not_after` is due for renewal at `now`.
///
/// Due once two-thirds of its lifetime has passed: that leaves a third of the
/// term (30 days of a 90-day certificate) to retry if the CA cannot issue,
/// and is the point ACME clients conventionally renew at. A certificate with
/// no positive lifetime is always due.
pub fn needs_renewal(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    now: OffsetDateTime,
) -> bool {
    let lifetime = not_after - not_before;
    if lifetime <= time::Duration::ZERO {
        return true;
    }
    now >= not_before + lifetime * 2 / 3
}

/// The certificate being served and the facts about it that renewal needs.
struct Current {
    certified: Arc<CertifiedKey>,
    record_id: u64,
    serial_hex: String,
    issuer_id: String,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

/// What the banner and the logs say about the certificate being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedCertificate {
    /// Its record id in the store.
    pub record_id: u64,
    /// Its serial number, hex.
    pub serial_hex: String,
    /// The CA that issued it.
    pub issuer_id: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// The HTTPS server certificate: issues it, serves it to rustls, renews it in place.
pub struct ServerCertificate {
    service: Arc<CaService>,
    names: Vec<String>,
    profile: String,
    current: RwLock<Current>,
    /// Where the served certificate's record id is kept across restarts (see `retire_previous`).
    record_file: std::sync::OnceLock<std::path::PathBuf>,
}

impl fmt::Debug for ServerCertificate {
    // Written by hand so that no key material can ever reach a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let served = self.served();
        f.debug_struct("ServerCertificate")
            .field("names", &self.names)
            .field("profile", &self.profile)
            .field("serial", &served.serial_hex)
            .field("issuer", &served.issuer_id)
            .field("not_after", &served.not_after)
            .finish_non_exhaustive()
    }
}

/// Writes the served certificate's record id (a small state file of the data directory).
fn remember(path: &std::path::Path, id: u64) {
    if let Err(e) = std::fs::write(path, format!("{id}\n")) {
        tracing::warn!(path = %path.display(), error = %e, "could not record the HTTPS certificate id");
    }
}

impl ServerCertificate {
    /// Issues the first certificate for the configured names and profile.
    ///
    /// Blocking: issuance commits the record durably. Fails if the profile is
    /// unknown or refuses the names, so a misconfiguration stops the start
    /// instead of leaving a listener without a certificate.
    pub fn issue(service: Arc<CaService>, settings: &HttpsConfig) -> Result<Arc<Self>, String> {
        let names: Vec<String> = settings
            .names
            .iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect();
        let current = issue_certificate(&service, &names, &settings.profile)?;
        Ok(Arc::new(Self {
            service,
            names,
            profile: settings.profile.clone(),
            current: RwLock::new(current),
            record_file: std::sync::OnceLock::new(),
        }))
    }

    /// Marks the certificate the previous run served (its key died with that process)
    /// replaced by the one served now, and remembers the current one in `record_file`
    /// for the next start and for renewals. Blocking; failures are only logged, since
    /// they are bookkeeping and must not stop the gateway.
    pub fn retire_previous(&self, record_file: &std::path::Path) {
        let current = self.served().record_id;
        let previous = std::fs::read_to_string(record_file)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok());
        if let Some(previous) = previous.filter(|p| *p != current) {
            if let Err(e) = self.service.mark_replaced(previous, current) {
                tracing::warn!(previous, current, error = %e,
                    "could not mark the previous run's HTTPS certificate replaced");
            }
        }
        let _ = self.record_file.set(record_file.to_path_buf());
        remember(record_file, current);
    }

    /// The certificate being served now.
    pub fn served(&self) -> ServedCertificate {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        ServedCertificate {
            record_id: current.record_id,
            serial_hex: current.serial_hex.clone(),
            issuer_id: current.issuer_id.clone(),
            not_before: current.not_before,
            not_after: current.not_after,
        }
    }

    /// Whether the served certificate is due for renewal at `now`.
    pub fn needs_renewal(&self, now: OffsetDateTime) -> bool {
        let served = self.served();
        needs_renewal(served.not_before, served.not_after, now)
    }

    /// Issues a new certificate with a new key and swaps it in; new handshakes get it at once.
    ///
    /// Blocking. The old certificate is then marked replaced by the new one:
    /// its key is gone, so it can never be presented again. On failure the
    /// old certificate keeps being served.
    pub fn renew(&self) -> Result<ServedCertificate, String> {
        let next = issue_certificate(&self.service, &self.names, &self.profile)?;
        let new_id = next.record_id;
        let old_id = {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *current, next).record_id
        };
        if let Err(e) = self.service.mark_replaced(old_id, new_id) {
            // The new certificate is already served; a stale status is only bookkeeping.
            tracing::warn!(old = old_id, new = new_id, error = %e,
                "could not mark the previous HTTPS certificate replaced");
        }
        if let Some(path) = self.record_file.get() {
            remember(path, new_id);
        }
        Ok(self.served())
    }

    /// A rustls server configuration on aws-lc-rs that serves this certificate, with ALPN h2 and http/1.1.
    /// The configuration asks for a client certificate without requiring one
    /// (`client_auth`), for EST devices that authenticate with theirs.
    pub fn server_config(
        self: &Arc<Self>,
        client_auth: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    ) -> Result<Arc<rustls::ServerConfig>, String> {
        // The provider is named rather than taken from the process default, so
        // every handshake signature runs on aws-lc-rs whatever else is linked.
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS configuration: {e}"))?
                .with_client_cert_verifier(client_auth)
                .with_cert_resolver(self.clone());
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }

    /// Starts the task that checks every [`RENEWAL_CHECK_INTERVAL`] and renews when due.
    pub fn spawn_renewal(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(RENEWAL_CHECK_INTERVAL);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick fires at once, and the certificate was just issued.
            interval.tick().await;
            loop {
                interval.tick().await;
                if !self.needs_renewal(OffsetDateTime::now_utc()) {
                    continue;
                }
                let this = self.clone();
                match tokio::task::spawn_blocking(move || this.renew()).await {
                    Ok(Ok(served)) => tracing::info!(
                        serial = %served.serial_hex,
                        issuer = %served.issuer_id,
                        not_after = %ca_core::authority::rfc3339(served.not_after),
                        "HTTPS server certificate renewed"
                    ),
                    // Retried at the next check; the current certificate has a third of its term left.
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "HTTPS server certificate renewal failed")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "HTTPS server certificate renewal task failed")
                    }
                }
            }
        })
    }
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // One certificate for every SNI name: a client asking for a name it
        // does not cover gets it anyway and rejects it, which says more than
        // an aborted handshake would.
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        Some(current.certified.clone())
    }
}

/// Makes a key, a CSR for `names`, has the CA issue it under `profile`, and loads it for rustls.
fn issue_certificate(
    service: &CaService,
    names: &[String],
    profile_name: &str,
) -> Result<Current, String> {
    let failed = |what: &str, e: &dyn fmt::Display| {
        format!("HTTPS server certificate for {names:?} (profile '{profile_name}'): {what}: {e}")
    };
    if names.is_empty() {
        return Err(failed("no names", &"https.names is empty"));
    }
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| failed("key generation", &e))?;
    // rcgen takes each name that parses as an IP address as an IP SAN, the rest as DNS names.
    let mut params =
        rcgen::CertificateParams::new(names.to_vec()).map_err(|e| failed("names", &e))?;
    // The profile decides the subject; a CN naming the host only helps someone reading the CSR.
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0].as_str());
    let csr_der = params
        .serialize_request(&key)
        .map_err(|e| failed("CSR", &e))?;
    let csr = VerifiedCsr::from_der(csr_der.der()).map_err(|e| failed("CSR", &e))?;
    let profile = service
        .profile(profile_name)
        .map_err(|e| failed("profile", &e))?;
    let request = IssuanceRequest {
        csr: &csr,
        profile,
        names: None,
        term_days: None,
        owner_subject: BTreeMap::new(),
    };
    let record = service
        .issue(&request, REQUESTER)
        .map_err(|e| failed("issuance", &e))?;
    let ca = service.ca(&record.issuer_id).ok_or_else(|| {
        failed(
            "chain",
            &format!("issuer '{}' is not loaded", record.issuer_id),
        )
    })?;

    // Leaf, issuing CA, then its parents without the root: a client must
    // already hold the root as its trust anchor, so sending it only costs
    // bytes (RFC 8446 section 4.4.2). A leaf issued straight from a root
    // still sends that root, as the only issuer certificate there is.
    let mut chain = vec![
        CertificateDer::from(record.der.clone()),
        CertificateDer::from(ca.certificate_der().to_vec()),
    ];
    if let Some((_root, intermediates)) = ca.chain_der().split_last() {
        chain.extend(intermediates.iter().cloned().map(CertificateDer::from));
    }

    let pkcs8 = Zeroizing::new(key.serialize_der());
    drop(key);
    let signing_key = aws_lc_rs::sign::any_supported_type(&PrivateKeyDer::Pkcs8(
        PrivatePkcs8KeyDer::from(pkcs8.as_slice()),
    ))
    .map_err(|e| failed("loading the key", &e))?;
    drop(pkcs8);
    let certified = CertifiedKey::new(chain, signing_key);
    // The CA builds the certificate from the profile, not the CSR; make sure
    // it still certifies this key before any client sees it.
    certified
        .keys_match()
        .map_err(|e| failed("the certificate does not match the key", &e))?;

    let timestamp =
        |unix: i64| OffsetDateTime::from_unix_timestamp(unix).map_err(|e| failed("validity", &e));
    Ok(Current {
        certified: Arc::new(certified),
        record_id: record.id,
        serial_hex: record.serial.to_hex(),
        issuer_id: record.issuer_id.clone(),
        not_before: timestamp(record.not_before)?,
        not_after: timestamp(record.not_after)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn renewal_is_due_after_two_thirds_of_the_lifetime() {
        let not_before = datetime!(2025-01-01 0:00 UTC);
        let not_after = datetime!(2025-04-01 0:00 UTC); // 90 days
        let at_two_thirds = datetime!(2025-03-02 0:00 UTC); // day 60
        assert!(!needs_renewal(not_before, not_after, not_before));
        assert!(!needs_renewal(
            not_before,
            not_after,
            datetime!(2025-03-01 23:59:59 UTC)
        ));
        assert!(needs_renewal(not_before, not_after, at_two_thirds));
        assert!(needs_renewal(not_before, not_after, not_after));
        assert!(needs_renewal(
            not_before,
            not_after,
            datetime!(2026-01-01 0:00 UTC)
        ));
        // Before the start (a clock set back): not due.
        assert!(!needs_renewal(
            not_before,
            not_after,
            datetime!(2024-12-31 0:00 UTC)
        ));
        // No lifetime at all: always due.
        assert!(needs_renewal(not_after, not_before, not_before));
        assert!(needs_renewal(not_before, not_before, not_before));
    }

    /// A CA service on a fresh demo hierarchy in a temporary directory.
    fn demo_service() -> (tempfile::TempDir, Arc<CaService>) {
        let dir = tempfile::tempdir().unwrap();
        let config = super::super::create_demo(dir.path()).unwrap();
        let service = CaService::open(&super::super::service_config(&config).unwrap()).unwrap();
        (dir, Arc::new(service))
    }

    /// The stored DER of a certificate record.
    fn stored_der(service: &CaService, id: u64) -> Vec<u8> {
        service.certificates().get(id).unwrap().unwrap().der
    }

    #[test]
    fn the_certificate_is_issued_recorded_and_renewed_in_place() {
        let (_dir, service) = demo_service();
        let settings = HttpsConfig::default();
        let server = ServerCertificate::issue(service.clone(), &settings).unwrap();
        let first = server.served();
        assert_eq!(first.issuer_id, super::super::DEMO_ISSUING_ID);
        let record = service
            .certificates()
            .get(first.record_id)
            .unwrap()
            .unwrap();
        assert_eq!(record.requester, REQUESTER);
        assert_eq!(record.profile, "tls-server");
        assert!(!server.needs_renewal(OffsetDateTime::now_utc()));
        assert!(server.needs_renewal(first.not_after));

        let resolved = {
            let current = server.current.read().unwrap();
            current.certified.clone()
        };
        // Leaf and issuing CA; the root stays with the client.
        assert_eq!(resolved.cert.len(), 2);
        let issuing = service.ca(super::super::DEMO_ISSUING_ID).unwrap();
        assert_eq!(resolved.cert[1].as_ref(), issuing.certificate_der());
        assert_eq!(
            resolved.cert[0].as_ref(),
            stored_der(&service, first.record_id)
        );

        let second = server.renew().unwrap();
        assert_ne!(second.serial_hex, first.serial_hex);
        let renewed = server.current.read().unwrap().certified.clone();
        assert_eq!(
            renewed.cert[0].as_ref(),
            stored_der(&service, second.record_id)
        );
        assert_ne!(
            renewed.key.public_key().unwrap().as_ref(),
            resolved.key.public_key().unwrap().as_ref(),
            "a renewal makes a new key"
        );
        let old = service
            .certificates()
            .get(first.record_id)
            .unwrap()
            .unwrap();
        assert!(
            matches!(old.status, ca_core::certificates::CertificateStatus::Replaced { by } if by == second.record_id),
            "{:?}",
            old.status
        );
        // Debug output names the certificate, never the key.
        let debug = format!("{server:?}");
        assert!(debug.contains(&second.serial_hex), "{debug}");
        assert!(!debug.to_lowercase().contains("key"), "{debug}");
    }

    #[test]
    fn a_profile_that_refuses_the_names_stops_the_start() {
        let (_dir, service) = demo_service();
        let mut settings = HttpsConfig {
            profile: "smime".to_string(),
            ..HttpsConfig::default()
        };
        let error = ServerCertificate::issue(service.clone(), &settings).unwrap_err();
        assert!(error.contains("profile 'smime'"), "{error}");
        settings.profile = "no-such-profile".to_string();
        assert!(ServerCertificate::issue(service, &settings).is_err());
    }
}
