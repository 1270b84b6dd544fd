//! `ca-admin serve`: the gateway.
//!
//! Reads the configuration (or makes the demo one), opens the data directory
//! (the store is held by this one process), starts the plain-HTTP listener,
//! the HTTPS listener (with a server certificate from the gateway's own
//! issuing CA, renewed in place, see [`tls`]), a CRL refresher, and stops
//! cleanly on Ctrl-C / SIGTERM so every queued store write is committed.
//!
//! Both listeners serve the same public routes; the protocol edges are
//! mounted as [`gateway_http::Mount`]s (see [`mounts`]): the REST API and ACME
//! on the HTTPS listener only, because they carry credentials.

pub mod client_auth;
mod header_case;
mod memory;
mod metrics;
mod mounts;
mod routes;
pub mod tls;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use bytes::Bytes;
use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::service::{CaService, CaServiceConfig};
use gateway_http::peer::TlsPeer;
use gateway_http::{Listener, PeerIdentity};
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::cli::ServeArgs;
use crate::config::{GatewayConfig, CONFIG_FILE};
use crate::protection;
use policy::registry::RegistrationAuthority;
use routes::GatewayState;
use tls::ServerCertificate;

/// How long a client may take over its TLS handshake before the connection is dropped.
///
/// Without a limit, clients that connect and stall would each hold a task and
/// a socket for as long as they like.
const TLS_HANDSHAKE_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// The HTTPS base URL clients use (for links in API responses and the ACME directory):
/// the listener's URL as bound (a `:0` port is the one the system picked), else, with
/// HTTPS off, the configured address.
fn https_base_url(config: &GatewayConfig, https: Option<&HttpsListener>) -> String {
    match (https, &config.https.public_url) {
        (Some(https), _) => https.url.clone(),
        (None, Some(public)) => public.clone(),
        (None, None) => format!("https://{}", config.https.listen),
    }
}

/// Id of the demo root CA.
pub const DEMO_ROOT_ID: &str = "demo-root";
/// Id of the demo issuing CA.
pub const DEMO_ISSUING_ID: &str = "demo-issuing";

/// Finds the configuration: `--config`, else `<data-dir>/certwright.toml`, else creates the demo.
fn resolve_config(args: &ServeArgs) -> Result<GatewayConfig, String> {
    if let Some(path) = &args.config {
        return GatewayConfig::load(path);
    }
    let default_path = args.data_dir.join(CONFIG_FILE);
    if default_path.is_file() {
        return GatewayConfig::load(&default_path);
    }
    create_demo(&args.data_dir)
}

/// The ready-to-try default: a P-256 root and issuing CA with plaintext keys, loudly flagged.
fn create_demo(data_dir: &Path) -> Result<GatewayConfig, String> {
    let directory = CaDirectory::new(data_dir);
    if !directory.ids().map_err(|e| e.to_string())?.is_empty() {
        return Err(format!(
            "{} holds CAs but no {CONFIG_FILE}; give --config",
            data_dir.display()
        ));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let mut config = GatewayConfig::for_data_dir(data_dir);
    config.keys.insecure_plaintext_keys = true;
    config.ca.default_issuer = Some(DEMO_ISSUING_ID.to_string());
    // The demo's ACME endpoint issues for localhost at once: validation must find it
    // without DNS (add more names under [acme.validation] hosts).
    config.acme.validation.hosts.insert(
        "localhost".to_string(),
        std::net::IpAddr::from([127, 0, 0, 1]),
    );
    let protection = KeyProtection::InsecurePlaintext;
    let spec = |id: &str, subject: CaSubject, days: u32, path_len: Option<u8>| NewCa {
        id: id.to_string(),
        subject,
        key_algorithm: KeyAlgorithm::EcP256,
        hash: SignatureHash::Sha256,
        validity_days: days,
        path_len,
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    };
    directory
        .create_root(
            &spec(
                DEMO_ROOT_ID,
                CaSubject::root_for("Certwright Demo"),
                20 * 365 + 5,
                None,
            ),
            &protection,
        )
        .map_err(|e| e.to_string())?;
    directory
        .create_subordinate(
            &spec(
                DEMO_ISSUING_ID,
                CaSubject::issuing_for("Certwright Demo"),
                10 * 365 + 2,
                Some(0),
            ),
            DEMO_ROOT_ID,
            &protection,
            Some(&PublicationUrls::new(&config.http.base_url)),
        )
        .map_err(|e| e.to_string())?;
    crate::offline::write_default_profiles(data_dir)?;
    let path = config.write_into_data_dir()?;
    println!("Created a demo CA hierarchy in {}:", data_dir.display());
    println!("  root CA    '{DEMO_ROOT_ID}'    (CN=Certwright Demo Root CA, P-256, 20 years)");
    println!("  issuing CA '{DEMO_ISSUING_ID}' (CN=Certwright Demo Issuing CA, P-256, 10 years)");
    println!("  configuration {}", path.display());
    Ok(config)
}

fn service_config(config: &GatewayConfig) -> Result<CaServiceConfig, String> {
    let protection = protection::resolve(
        config.keys.passphrase_file.as_deref(),
        config.keys.insecure_plaintext_keys,
    )?;
    let mut service_config =
        CaServiceConfig::new(&config.data_dir, &config.http.base_url, protection);
    service_config.default_issuer = config.ca.default_issuer.clone();
    service_config.crl_validity = time::Duration::hours(config.ca.crl_validity_hours.into());
    service_config.ocsp_validity = time::Duration::hours(config.ca.ocsp_validity_hours.into());
    service_config.ocsp_signer = config.ca.ocsp_signer;
    service_config.ocsp_cache_entries = config.ca.ocsp_cache_entries;
    Ok(service_config)
}

/// Runs the gateway until Ctrl-C or SIGTERM.
pub fn serve(args: &ServeArgs) -> Result<(), String> {
    let mut config = resolve_config(args)?;
    if let Some(listen) = args.http_listen {
        config.http.listen = listen;
    }
    if let Some(listen) = args.https_listen {
        config.https.listen = listen;
    }
    if let Some(seconds) = args.intune_revocation_poll_seconds {
        config.intune.revocation_poll_seconds = seconds;
    }
    if config.intune.revocation_poll_seconds == 0 || config.intune.timeout_seconds == 0 {
        return Err(
            "intune.revocation_poll_seconds and intune.timeout_seconds must be at least 1".into(),
        );
    }
    let service_config = service_config(&config)?;
    if matches!(
        service_config.key_protection,
        KeyProtection::InsecurePlaintext
    ) {
        eprintln!("{}", protection::PLAINTEXT_WARNING);
    }
    let service = CaService::open(&service_config).map_err(|e| match e {
        ca_core::service::CaServiceError::Store(ca_core::store::StoreError::Locked { path }) => {
            format!("{} is held by another process (is a server already running on this data directory?)", path.display())
        }
        other => other.to_string(),
    })?;
    let service = Arc::new(service);
    let ra = Arc::new(
        RegistrationAuthority::open(service.clone(), &config.data_dir)
            .map_err(|e| e.to_string())?,
    );
    let first_admin = ra.bootstrap_mrao(FIRST_ADMIN).map_err(|e| e.to_string())?;
    let demo = service.ca(DEMO_ISSUING_ID).is_some();
    if demo
        && ra
            .ensure_demo_organization()
            .map_err(|e| e.to_string())?
            .is_some()
    {
        println!(
            "Created the demo organization 'Demo' with the private-use domains localhost, test, internal, home.arpa (and their subdomains), 127.0.0.0/8 and ::1."
        );
    }
    if let Some(password) = first_admin {
        print_first_admin(&password);
    }
    if demo {
        if let Some(challenge) = ra.ensure_demo_scep_endpoint().map_err(|e| e.to_string())? {
            println!("Created the demo SCEP endpoint 'default' (organization Demo, profile device, auto-approve):");
            println!("  SCEP challenge  {}", challenge.as_str());
            println!("  This challenge is shown once. Mint one-time challenges with: ca-admin endpoint scep-challenge <id>");
        }
        if let Some(password) = ra.ensure_demo_est_endpoint().map_err(|e| e.to_string())? {
            println!("Created the demo EST endpoint 'default' (organization Demo, profile device, auto-approve, HTTP Basic or a client certificate):");
            println!("  EST user  {}", policy::registry::DEMO_EST_USERNAME);
            println!("  EST password  {}", password.as_str());
            println!("  This password is shown once.");
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run(config, service, ra))
}

/// The first administrator's username.
pub const FIRST_ADMIN: &str = "admin";

/// Prints the first MRAO's generated password, once.
pub fn print_first_admin(password: &str) {
    println!("Created the first administrator (MRAO):");
    println!("  username        {FIRST_ADMIN}");
    println!("  password        {password}");
    println!("  This password is shown once. Log in with: ca-admin login --username {FIRST_ADMIN}");
}

/// The HTTPS side once it is ready to accept: its socket, its TLS configuration, its certificate.
struct HttpsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    certificate: Arc<ServerCertificate>,
    url: String,
}

async fn run(
    config: GatewayConfig,
    service: Arc<CaService>,
    ra: Arc<RegistrationAuthority>,
) -> Result<(), String> {
    let listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.http.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let https = if config.https.enabled {
        Some(start_https(&config, &service).await?)
    } else {
        None
    };
    // The demo's ACME endpoint is announced; others are listed by `ca-admin endpoint list`.
    let acme_endpoints: Vec<String> = ra
        .endpoint_by_name(policy::registry::DEMO_ACME_ENDPOINT)
        .map(|e| vec![e.name])
        .unwrap_or_default();
    let scep_endpoints: Vec<String> = ra
        .endpoint_of_kind("scep", policy::registry::DEMO_SCEP_ENDPOINT)
        .map(|e| vec![e.name])
        .unwrap_or_default();
    let est_default = ra
        .endpoint_of_kind("est", policy::registry::DEMO_EST_ENDPOINT)
        .is_ok();
    print_banner(
        &config,
        &service,
        local,
        https.as_ref(),
        &acme_endpoints,
        &scep_endpoints,
        est_default,
    );

    let state = Arc::new(GatewayState {
        service: service.clone(),
        metrics: Default::default(),
        mounts: mounts::mounts(&config, &ra, &https_base_url(&config, https.as_ref())),
        https_url: https.as_ref().map(|h| Arc::from(h.url.as_str())),
    });
    let refresher = tokio::spawn(refresh_crls(state.clone()));
    let sweeper = tokio::spawn(sweep_expired(ra.clone()));
    let intune_revocations = scep_server::intune_revocations::spawn(
        ra.clone(),
        StdDuration::from_secs(config.intune.revocation_poll_seconds),
        StdDuration::from_secs(config.intune.timeout_seconds),
    );
    let renewer = https
        .as_ref()
        .map(|h| h.certificate.clone().spawn_renewal());
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let connections = tokio_util_tracker();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Some((stream, peer)) = accepted_or_pause(accepted).await else { continue };
                let state = state.clone();
                let guard = connections.clone();
                tokio::spawn(async move {
                    let _guard = guard;
                    serve_connection(TokioIo::new(stream), state, PeerIdentity::plain(peer)).await;
                });
            }
            accepted = accept_optional(https.as_ref().map(|h| &h.listener)) => {
                let Some((stream, peer)) = accepted_or_pause(accepted).await else { continue };
                let acceptor = https.as_ref().map(|h| h.acceptor.clone()).expect("accepted on the HTTPS listener");
                let state = state.clone();
                let guard = connections.clone();
                tokio::spawn(async move {
                    let _guard = guard;
                    serve_tls_connection(acceptor, stream, peer, state).await;
                });
            }
        }
    }
    println!("Shutting down.");
    refresher.abort();
    sweeper.abort();
    intune_revocations.abort();
    if let Some(renewer) = renewer {
        renewer.abort();
    }
    // Give open connections a moment to finish their responses.
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    while Arc::strong_count(&connections) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    drop(state);
    Ok(())
}

/// Binds the HTTPS listener and issues its first server certificate.
async fn start_https(
    config: &GatewayConfig,
    service: &Arc<CaService>,
) -> Result<HttpsListener, String> {
    let listen = config.https.listen;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen} (https): {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let settings = config.https.clone();
    let issuing_service = service.clone();
    let record_file = config.data_dir.join("https-certificate.id");
    // Issuance signs and commits durably: keep it off the async workers.
    let certificate = tokio::task::spawn_blocking(move || {
        let certificate = ServerCertificate::issue(issuing_service, &settings)?;
        certificate.retire_previous(&record_file);
        Ok::<_, String>(certificate)
    })
    .await
    .map_err(|e| format!("HTTPS server certificate: {e}"))??;
    // Our CAs are the issuers a browser is told we accept, so it prompts only a user
    // holding one of their certificates.
    let client_auth =
        client_auth::OptionalClientAuth::new(service.cas().map(|ca| ca.subject_der().to_vec()));
    let acceptor = TlsAcceptor::from(certificate.server_config(client_auth)?);
    Ok(HttpsListener {
        listener,
        acceptor,
        certificate,
        url: config
            .https
            .public_url
            .clone()
            .unwrap_or_else(|| https_url(local, &config.https.names)),
    })
}

/// The HTTPS base URL: the bound address, or for a wildcard bind the first configured name.
fn https_url(local: SocketAddr, names: &[String]) -> String {
    if !local.ip().is_unspecified() {
        return format!("https://{local}");
    }
    let host = names
        .iter()
        .map(|n| n.trim())
        .find(|n| !n.is_empty())
        .unwrap_or("localhost");
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(_) => format!("https://[{host}]:{}", local.port()),
        Err(_) => format!("https://{host}:{}", local.port()),
    }
}

/// Accepts on the listener if there is one; never completes if there is none.
async fn accept_optional(
    listener: Option<&TcpListener>,
) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// The accepted connection, or after an accept error (out of file descriptors, mostly) a short pause.
async fn accepted_or_pause(
    accepted: std::io::Result<(TcpStream, SocketAddr)>,
) -> Option<(TcpStream, SocketAddr)> {
    match accepted {
        Ok(pair) => {
            // Request/response protocols (ACME's many small round trips above all) must not
            // wait on Nagle's algorithm meeting the client's delayed ACK.
            let _ = pair.0.set_nodelay(true);
            Some(pair)
        }
        Err(e) => {
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(StdDuration::from_millis(50)).await;
            None
        }
    }
}

/// Completes the TLS handshake, then serves HTTP over it.
///
/// A handshake that fails or stalls drops this connection only: it is logged
/// at debug level, because scanners and misconfigured clients make such
/// connections all day and they say nothing about the gateway's health.
async fn serve_tls_connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    state: Arc<GatewayState>,
) {
    let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let identity = PeerIdentity::tls(peer, tls_peer(tls.get_ref().1));
    serve_connection(
        TokioIo::new(header_case::RfcHeaderCase::new(tls)),
        state,
        identity,
    )
    .await;
}

/// What the handshake told of the client: its certificates, the version, the channel binding.
fn tls_peer(connection: &rustls::ServerConnection) -> TlsPeer {
    let client_chain = connection
        .peer_certificates()
        .map(|chain| {
            chain
                .iter()
                .map(|c| c.clone().into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut binding = [0u8; 32];
    // RFC 9266 tls-exporter; RFC 5705 exporters exist for TLS 1.2 (with extended master secret) and 1.3.
    let channel_binding = connection
        .export_keying_material(&mut binding, b"EXPORTER-Channel-Binding", None)
        .is_ok()
        .then_some(binding);
    TlsPeer {
        client_chain: client_chain.into(),
        version: connection.protocol_version().and_then(|v| v.as_str()),
        channel_binding,
    }
}

/// Serves HTTP/1.1 or HTTP/2 (whichever the client speaks) on one connection.
async fn serve_connection<I>(io: I, state: Arc<GatewayState>, peer: PeerIdentity)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(peer.clone());
        dispatch(state.clone(), peer.listener, request)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // HTTP/1 header names as they are written in the RFCs (`Content-Type`): embedded
    // HTTP clients such as libest's compare them case-sensitively.
    builder.http1().title_case_headers(true);
    if let Err(e) = builder.serve_connection(io, service).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Sends a request to the protocol edge mounted at its path, if it is served on
/// this listener, and everything else to the public routes.
async fn dispatch(
    state: Arc<GatewayState>,
    listener: Listener,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let Some(mount) = gateway_http::service::find(&state.mounts, request.uri().path()) else {
        return routes::handle(state, request).await;
    };
    let response = if mount.serves(listener) {
        mount.service.call(request).await
    } else {
        // Never over plain HTTP, not even a redirect: the request may already
        // have carried credentials in the clear, and a client that follows a
        // redirect would not notice its mistake.
        text(
            StatusCode::NOT_FOUND,
            &mount.elsewhere(state.https_url.as_deref()),
        )
    };
    if response.status().is_client_error() {
        state.metrics.client_errors.fetch_add(1, Ordering::Relaxed);
    } else if response.status().is_server_error() {
        state.metrics.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    Ok(response)
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(format!("{body}\n"))))
        .expect("static headers are valid")
}

/// A counter of live connections (its strong count).
fn tokio_util_tracker() -> Arc<()> {
    Arc::new(())
}

/// Marks the requests of expired certificates Expired, hourly.
async fn sweep_expired(ra: Arc<RegistrationAuthority>) {
    let mut interval = tokio::time::interval(StdDuration::from_secs(3600));
    loop {
        interval.tick().await;
        let ra = ra.clone();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match tokio::task::spawn_blocking(move || ra.sweep_expired(now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                tracing::info!(count = n, "requests of expired certificates marked expired")
            }
            Ok(Err(e)) => tracing::error!(error = %e, "expiry sweep failed"),
            Err(e) => tracing::error!(error = %e, "expiry sweep task failed"),
        }
        memory::release_free_memory();
    }
}

async fn refresh_crls(state: Arc<GatewayState>) {
    let mut interval = tokio::time::interval(StdDuration::from_secs(600));
    loop {
        interval.tick().await;
        let service = state.service.clone();
        match tokio::task::spawn_blocking(move || {
            service.refresh_crls(time::OffsetDateTime::now_utc(), false)
        })
        .await
        {
            Ok(Ok(refreshed)) => {
                state
                    .metrics
                    .crls_refreshed
                    .fetch_add(refreshed.len() as u64, Ordering::Relaxed);
                for id in refreshed {
                    tracing::info!(ca = %id, "CRL re-signed");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "CRL refresh failed"),
            Err(e) => tracing::error!(error = %e, "CRL refresh task failed"),
        }
        memory::release_free_memory();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn print_banner(
    config: &GatewayConfig,
    service: &CaService,
    local: SocketAddr,
    https: Option<&HttpsListener>,
    acme_endpoints: &[String],
    scep_endpoints: &[String],
    est_default: bool,
) {
    let base = format!("http://{local}");
    println!("Certwright gateway");
    println!("  data directory  {}", display_path(&config.data_dir));
    println!("  default issuer  {}", service.default_issuer());
    println!("  listening       {base}");
    println!("  CA list         {base}/ca/");
    for ca in service.cas() {
        println!(
            "  CA {:<13} {base}/ca/{}.pem   CRL {base}/crl/{}.crl",
            ca.id(),
            ca.id(),
            ca.id()
        );
    }
    println!("  OCSP            {base}/ocsp");
    for endpoint in scep_endpoints {
        println!("  SCEP            {base}/scep/{endpoint}");
    }
    println!("  health          {base}/healthz    metrics {base}/metrics");
    match https {
        Some(https) => {
            let url = &https.url;
            let served = https.certificate.served();
            println!("  https           {url}");
            println!("  REST API        {url}/api/v1/");
            println!("  console         {url}/console/");
            for endpoint in acme_endpoints {
                println!("  ACME            {url}/acme/{endpoint}/directory");
            }
            if est_default {
                println!("  EST             {url}{}", est_server::PATH_PREFIX);
            }
            if config.scm_api.enabled {
                println!(
                    "  SCM API         {url}/api/   (customerUri '{}', an administrator's login and password)",
                    config.scm_api.customer_uri
                );
            }
            println!(
                "  https cert      serial {} from '{}' for {}, valid until {}, renewed in place",
                served.serial_hex,
                served.issuer_id,
                config.https.names.join(", "),
                ca_core::authority::rfc3339(served.not_after)
            );
        }
        None => println!("  https           disabled ([https] enabled = false)"),
    }
    println!("  URLs in certificates use {}", config.http.base_url);
    println!("Ready.");
    memory::release_free_memory();
}

fn display_path(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| PathBuf::from(path))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_https_url_names_a_reachable_host() {
        let names = vec!["pki.example.com".to_string(), "10.0.0.1".to_string()];
        assert_eq!(
            https_url("127.0.0.1:8443".parse().unwrap(), &names),
            "https://127.0.0.1:8443"
        );
        // A wildcard bind is no address to connect to: use the certificate's first name.
        assert_eq!(
            https_url("0.0.0.0:8443".parse().unwrap(), &names),
            "https://pki.example.com:8443"
        );
        assert_eq!(
            https_url("[::]:443".parse().unwrap(), &["::1".to_string()]),
            "https://[::1]:443"
        );
        assert_eq!(
            https_url("[::]:443".parse().unwrap(), &[]),
            "https://localhost:443"
        );
    }
}
