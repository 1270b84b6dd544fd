//! EST load driver for scripts/bench-est.sh: `simpleenroll` with HTTP Basic at a
//! given concurrency over TLS with connection reuse (hyper-util's pooled HTTP/1.1
//! client, one kept-alive connection per worker), each enrollment with its own
//! P-256 key and CN, the CSRs made before the clock starts. Prints one line:
//! enrollments, errors, seconds, enrollments/s, p50/p99 latency, and the server's
//! CPU time per enrollment when given its pid.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

#[derive(Parser)]
struct Args {
    /// The EST base URL (`https://127.0.0.1:8443/.well-known/est`).
    #[arg(long)]
    url: String,
    /// PEM file of the server's trust anchor.
    #[arg(long)]
    root_ca: PathBuf,
    /// Basic user.
    #[arg(long)]
    user: String,
    /// Basic password.
    #[arg(long, allow_hyphen_values = true)]
    password: String,
    /// Concurrent workers.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Enrollments in all.
    #[arg(long, default_value_t = 200)]
    enrollments: usize,
    /// Time limit of one request, seconds (a request over it counts as an error).
    #[arg(long, default_value_t = 30)]
    request_timeout: u64,
    /// The server's pid, for its CPU time per enrollment.
    #[arg(long)]
    server_pid: Option<u32>,
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}

fn csr(index: usize) -> Bytes {
    let key = rcgen::KeyPair::generate().expect("P-256 key");
    let mut params =
        rcgen::CertificateParams::new(vec![format!("bench-{index}.test")]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("bench-{index}"));
    let request = params.serialize_request(&key).expect("CSR");
    Bytes::from(base64::engine::general_purpose::STANDARD.encode(request.der()))
}

fn main() {
    let args = Args::parse();
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(&args.root_ca).expect("root CA file") {
        roots.add(certificate.expect("root CA")).expect("root CA");
    }
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let csrs: Vec<Bytes> = (0..args.enrollments).map(csr).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let mut tcp = HttpConnector::new();
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(tcp);
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", args.user, args.password))
        );
        let url = format!("{}/simpleenroll", args.url.trim_end_matches('/'));
        let queue = Arc::new(std::sync::Mutex::new(csrs));
        let cpu_before = args.server_pid.and_then(cpu_seconds);
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..args.concurrency {
            let client = client.clone();
            let queue = queue.clone();
            let (url, auth) = (url.clone(), auth.clone());
            let limit = Duration::from_secs(args.request_timeout);
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let mut first_error = None;
                loop {
                    let Some(body) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let request = http::Request::post(&url)
                        .header("Content-Type", "application/pkcs10")
                        .header("Authorization", &auth)
                        .body(Full::new(body))
                        .expect("request");
                    let t = Instant::now();
                    let outcome = tokio::time::timeout(limit, async {
                        let response = client.request(request).await.map_err(|e| e.to_string())?;
                        let status = response.status();
                        let bytes = response
                            .into_body()
                            .collect()
                            .await
                            .map_err(|e| e.to_string())?
                            .to_bytes();
                        if status == http::StatusCode::OK && bytes.len() > 100 {
                            Ok(())
                        } else {
                            Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)))
                        }
                    })
                    .await
                    .unwrap_or_else(|_| Err("timed out".into()));
                    match outcome {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (latencies, errors, first_error)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut first_error = None;
        for worker in workers {
            let (l, e, f) = worker.await.expect("worker");
            latencies.extend(l);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let cpu = match (cpu_before, args.server_pid.and_then(cpu_seconds)) {
            (Some(a), Some(b)) if !latencies.is_empty() => {
                format!("{:.2}", (b - a) * 1000.0 / latencies.len() as f64)
            }
            _ => "-".into(),
        };
        latencies.sort();
        let pct = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "concurrency={} enrollments={} errors={} seconds={:.2} per_second={:.1} p50_ms={:.2} p99_ms={:.2} server_cpu_ms_per_enrollment={}",
            args.concurrency,
            latencies.len(),
            errors,
            seconds,
            latencies.len() as f64 / seconds,
            pct(0.5),
            pct(0.99),
            cpu
        );
        if let Some(e) = first_error {
            eprintln!("first error: {e}");
        }
    });
}
