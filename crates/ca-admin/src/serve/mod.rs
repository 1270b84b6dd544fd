//! `ca-admin serve`: the gateway.
//!
//! Reads the configuration (or makes the demo one), opens the data directory
//! (the store is held by this one process), starts the plain-HTTP listener
//! and a CRL refresher, and stops cleanly on Ctrl-C / SIGTERM so every queued
//! store write is committed.

mod metrics;
mod routes;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::service::{CaService, CaServiceConfig};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use crate::config::{GatewayConfig, CONFIG_FILE};
use crate::protection;
use routes::GatewayState;

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
    Ok(service_config)
}

/// Runs the gateway until Ctrl-C or SIGTERM.
pub fn serve(args: &ServeArgs) -> Result<(), String> {
    let mut config = resolve_config(args)?;
    if let Some(listen) = args.http_listen {
        config.http.listen = listen;
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run(config, Arc::new(service)))
}

async fn run(config: GatewayConfig, service: Arc<CaService>) -> Result<(), String> {
    let listener = TcpListener::bind(config.http.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.http.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    print_banner(&config, &service, local);

    let state = Arc::new(GatewayState {
        service: service.clone(),
        metrics: Default::default(),
    });
    let refresher = tokio::spawn(refresh_crls(state.clone()));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let connections = tokio_util_tracker();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(StdDuration::from_millis(50)).await;
                        continue;
                    }
                };
                let state = state.clone();
                let guard = connections.clone();
                tokio::spawn(async move {
                    let _guard = guard;
                    let service = service_fn(move |request| routes::handle(state.clone(), request));
                    let builder = auto::Builder::new(TokioExecutor::new());
                    if let Err(e) = builder.serve_connection(TokioIo::new(stream), service).await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    println!("Shutting down.");
    refresher.abort();
    // Give open connections a moment to finish their responses.
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(5);
    while Arc::strong_count(&connections) > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    drop(state);
    Ok(())
}

/// A counter of live connections (its strong count).
fn tokio_util_tracker() -> Arc<()> {
    Arc::new(())
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

fn print_banner(config: &GatewayConfig, service: &CaService, local: std::net::SocketAddr) {
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
    println!("  health          {base}/healthz    metrics {base}/metrics");
    println!("  URLs in certificates use {}", config.http.base_url);
    println!("Ready.");
}

fn display_path(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| PathBuf::from(path))
        .display()
        .to_string()
}
