//! `acme-load`: an ACME load driver for the bench harness (`scripts/bench-acme.sh`).
//!
//! One account (instant-acme, trusting `--root-ca`), then `--concurrency` workers, each
//! looping over complete orders: a new order for one unique name `o<i>.<suffix>`, its
//! authorization, the http-01 key authorization published in this process's own
//! responder (a hyper server on `127.0.0.1:<--http01-port>` and, when it can bind,
//! `[::1]:<port>`), the challenge set ready, the order polled until ready, finalized with a
//! fresh P-256 CSR (rcgen), polled until valid and its certificate downloaded.
//!
//! It measures complete orders per second, the latency of each order (new-order to
//! certificate in hand: p50 and p99) and the server process's CPU time (utime + stime from
//! `/proc/<pid>/stat`) per order over the measured run, and prints one JSON line.
//!
//! Polling is the driver's own (a short backoff from `--poll-initial-ms`) and ignores
//! Retry-After, so that every server is polled on the same schedule and the figures
//! measure the server rather than the wait it asks for. Nothing here asserts a time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use instant_acme::{
    Account, AuthorizationStatus, BodyWrapper, ChallengeType, ExternalAccountKey, Identifier,
    NewAccount, NewOrder, Order, OrderStatus,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "acme-load",
    about = "ACME load driver: complete orders per second, latency and server CPU per order"
)]
struct Args {
    /// The ACME directory URL.
    #[arg(long)]
    directory: String,
    /// PEM file with the root certificate that the server's TLS certificate chains to.
    #[arg(long)]
    root_ca: PathBuf,
    /// The server's process id (its CPU time is read from /proc/<pid>/stat).
    #[arg(long)]
    server_pid: u32,
    /// Concurrent workers.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Complete orders to run (measured); exclusive with --seconds.
    #[arg(long, conflicts_with = "seconds")]
    orders: Option<u64>,
    /// Run for this many seconds instead (no new order starts after that).
    #[arg(long)]
    seconds: Option<f64>,
    /// The port of the in-process http-01 responder (the server's validator must connect here).
    #[arg(long)]
    http01_port: u16,
    /// Names are o<i>.<suffix>; use a fresh suffix per run so that no authorization is reused.
    #[arg(long, default_value = "test")]
    domain_suffix: String,
    /// External account binding: key id.
    #[arg(long, requires = "eab_hmac")]
    eab_kid: Option<String>,
    /// External account binding: HMAC key, base64url (padding and standard base64 accepted).
    #[arg(long, requires = "eab_kid")]
    eab_hmac: Option<String>,
    /// The "server" field of the JSON line.
    #[arg(long, default_value = "server")]
    label: String,
    /// Unmeasured orders run first (names w<i>.<suffix>), to warm connections and caches.
    #[arg(long, default_value_t = 0)]
    warmup: u64,
    /// First delay between order polls, in milliseconds (then x1.5 per poll, at most 250 ms).
    #[arg(long, default_value_t = 10)]
    poll_initial_ms: u64,
    /// An order not done within this many seconds counts as an error.
    #[arg(long, default_value_t = 60)]
    order_timeout_secs: u64,
    /// Print each order's step times (ms since its new-order request) to stderr.
    #[arg(long)]
    verbose: bool,
    /// Use instant-acme's own HTTP client (`Account::builder_with_root`, first certificate of
    /// --root-ca only), whose sockets keep Nagle's algorithm on; the default is the same
    /// hyper-rustls client (HTTP/1.1 and HTTP/2 by ALPN) with TCP_NODELAY.
    #[arg(long)]
    instant_acme_client: bool,
}

/// The key authorizations the responder serves, by token.
type Tokens = Arc<Mutex<HashMap<String, String>>>;

/// What one measured run collected.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    polls: u64,
    first_errors: Vec<String>,
}

/// instant-acme's default client (hyper-rustls over hyper-util's pooled client, HTTP/1.1 and
/// HTTP/2 by ALPN), trusting every certificate in `root_ca`, with TCP_NODELAY on its sockets.
fn http_client(
    root_ca: &Path,
) -> Result<HyperClient<HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(root_ca)
        .map_err(|e| format!("{}: {e}", root_ca.display()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| format!("{}: {e}", root_ca.display()))?;
        roots
            .add(certificate)
            .map_err(|e| format!("{}: {e}", root_ca.display()))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no certificate", root_ca.display()));
    }
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .enable_http2()
        .wrap_connector(tcp);
    Ok(HyperClient::builder(TokioExecutor::new()).build(https))
}

/// Clock ticks per second for /proc/<pid>/stat times.
fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// utime + stime (fields 14 and 15 of /proc/<pid>/stat), in clock ticks.
fn cpu_ticks(pid: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = text
        .rfind(')')
        .map(|i| &text[i + 1..])
        .ok_or_else(|| format!("{path}: no ')' in {text:?}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 is fields[12].
    let field = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .ok_or_else(|| format!("{path}: too few fields"))?
            .parse::<u64>()
            .map_err(|e| format!("{path}: field {}: {e}", i + 3))
    };
    Ok(field(11)? + field(12)?)
}

/// Serves `/.well-known/acme-challenge/<token>` from `tokens` until the process ends.
async fn serve_http01(listener: TcpListener, tokens: Tokens) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("acme-load: http-01 responder: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let tokens = tokens.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let tokens = tokens.clone();
                async move { Ok::<_, Infallible>(respond(&tokens, request.uri().path())) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(tokens: &Tokens, path: &str) -> Response<Full<Bytes>> {
    let found = path
        .strip_prefix("/.well-known/acme-challenge/")
        .and_then(|token| tokens.lock().expect("tokens lock").get(token).cloned());
    match found {
        Some(key_authorization) => Response::builder()
            .header("content-type", "application/octet-stream")
            .body(Full::new(Bytes::from(key_authorization)))
            .expect("a valid response"),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"no such token\n")))
            .expect("a valid response"),
    }
}

/// Step times of one order, kept only with --verbose.
struct Trace {
    started: Instant,
    marks: Option<Vec<(&'static str, Duration)>>,
}

impl Trace {
    fn mark(&mut self, step: &'static str) {
        if let Some(marks) = &mut self.marks {
            marks.push((step, self.started.elapsed()));
        }
    }
}

/// Drives one order from new-order to downloaded certificate; returns the number of
/// order polls it made.
async fn one_order(
    account: &Account,
    name: String,
    tokens: &Tokens,
    poll_initial: Duration,
    verbose: bool,
) -> Result<u64, String> {
    let mut trace = Trace {
        started: Instant::now(),
        marks: verbose.then(Vec::new),
    };
    let identifiers = [Identifier::Dns(name.clone())];
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|e| format!("new order: {e}"))?;
    trace.mark("order");
    let mut published = Vec::new();
    let result = complete(
        &mut order,
        &name,
        tokens,
        &mut published,
        poll_initial,
        &mut trace,
    )
    .await;
    if let Some(marks) = &trace.marks {
        let steps: Vec<String> = marks
            .iter()
            .map(|(step, at)| format!("{step} {:.1}", at.as_secs_f64() * 1000.0))
            .collect();
        eprintln!("acme-load: {name}: {} ms", steps.join(", "));
    }
    let mut map = tokens.lock().expect("tokens lock");
    for token in published {
        map.remove(&token);
    }
    result
}

async fn complete(
    order: &mut Order,
    name: &str,
    tokens: &Tokens,
    published: &mut Vec<String>,
    poll_initial: Duration,
    trace: &mut Trace,
) -> Result<u64, String> {
    {
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(|e| format!("authorization: {e}"))?;
            trace.mark("authz");
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(format!("authorization is {other:?}")),
            }
            let mut challenge = authz
                .challenge(ChallengeType::Http01)
                .ok_or("the authorization offers no http-01 challenge")?;
            let token = challenge.token.clone();
            let key_authorization = challenge.key_authorization().as_str().to_string();
            tokens
                .lock()
                .expect("tokens lock")
                .insert(token.clone(), key_authorization);
            published.push(token);
            challenge
                .set_ready()
                .await
                .map_err(|e| format!("challenge ready: {e}"))?;
            trace.mark("challenge");
        }
    }

    let mut polls = 0;
    let status = poll_until(order, poll_initial, &mut polls, |s| {
        !matches!(s, OrderStatus::Pending)
    })
    .await?;
    trace.mark("ready");
    if status != OrderStatus::Ready {
        return Err(format!(
            "order is {status:?}, not ready: {}",
            describe_error(order)
        ));
    }

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("key: {e}"))?;
    let mut params =
        rcgen::CertificateParams::new(vec![name.to_string()]).map_err(|e| format!("CSR: {e}"))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| format!("CSR: {e}"))?;
    order
        .finalize_csr(csr.der().as_ref())
        .await
        .map_err(|e| format!("finalize: {e}"))?;
    trace.mark("finalize");

    let status = poll_until(order, poll_initial, &mut polls, |s| {
        !matches!(s, OrderStatus::Ready | OrderStatus::Processing)
    })
    .await?;
    trace.mark("valid");
    if status != OrderStatus::Valid {
        return Err(format!(
            "order is {status:?} after finalize, not valid: {}",
            describe_error(order)
        ));
    }
    let chain = order
        .certificate()
        .await
        .map_err(|e| format!("certificate: {e}"))?
        .ok_or("no certificate")?;
    trace.mark("certificate");
    if !chain.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!("the certificate is not PEM: {chain:.80}"));
    }
    Ok(polls)
}

fn describe_error(order: &mut Order) -> String {
    match &order.state().error {
        Some(problem) => problem.to_string(),
        None => "no error given".to_string(),
    }
}

/// Refreshes the order (after a short, growing delay) until `done` says its status is
/// final; the current status counts first, without a request.
async fn poll_until(
    order: &mut Order,
    initial: Duration,
    polls: &mut u64,
    done: impl Fn(OrderStatus) -> bool,
) -> Result<OrderStatus, String> {
    let mut delay = initial;
    loop {
        let status = order.state().status;
        if done(status) {
            return Ok(status);
        }
        tokio::time::sleep(delay).await;
        delay = delay.mul_f32(1.5).min(Duration::from_millis(250));
        *polls += 1;
        order
            .refresh()
            .await
            .map_err(|e| format!("order poll: {e}"))?;
    }
}

/// The plan of one phase: either a number of orders or a deadline.
#[derive(Clone, Copy)]
enum Stop {
    Count(u64),
    Deadline(Instant),
}

/// Runs `concurrency` workers over the names `<prefix><i>.<suffix>` until `stop`.
async fn run_phase(
    account: &Account,
    tokens: &Tokens,
    args: &Args,
    prefix: &'static str,
    stop: Stop,
) -> Tally {
    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let timeout = Duration::from_secs(args.order_timeout_secs);
    let poll_initial = Duration::from_millis(args.poll_initial_ms);
    let verbose = args.verbose;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let account = account.clone();
        let tokens = tokens.clone();
        let next = next.clone();
        let tally = tally.clone();
        let suffix = args.domain_suffix.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let i = match stop {
                    Stop::Count(n) => {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        i
                    }
                    Stop::Deadline(at) => {
                        if Instant::now() >= at {
                            break;
                        }
                        next.fetch_add(1, Ordering::Relaxed)
                    }
                };
                let name = format!("{prefix}{}.{suffix}", i + 1);
                let started = Instant::now();
                let outcome = tokio::time::timeout(
                    timeout,
                    one_order(&account, name.clone(), &tokens, poll_initial, verbose),
                )
                .await;
                let elapsed = started.elapsed();
                let mut t = tally.lock().expect("tally lock");
                match outcome {
                    Ok(Ok(polls)) => {
                        t.latencies.push(elapsed);
                        t.polls += polls;
                    }
                    Ok(Err(e)) => {
                        t.errors += 1;
                        if t.first_errors.len() < 5 {
                            t.first_errors.push(format!("{name}: {e}"));
                        }
                    }
                    Err(_) => {
                        t.errors += 1;
                        if t.first_errors.len() < 5 {
                            t.first_errors
                                .push(format!("{name}: not done within {} s", timeout.as_secs()));
                        }
                    }
                }
            }
        }));
    }
    for worker in workers {
        if let Err(e) = worker.await {
            eprintln!("acme-load: a worker failed: {e}");
        }
    }
    Arc::try_unwrap(tally)
        .ok()
        .expect("all workers done")
        .into_inner()
        .expect("tally lock")
}

/// The q-quantile (nearest rank) of sorted latencies, in milliseconds.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn decode_hmac(text: &str) -> Result<Vec<u8>, String> {
    let trimmed = text.trim().trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(trimmed)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
        .map_err(|e| format!("--eab-hmac is not base64: {e}"))
}

async fn run(args: Args) -> Result<(), String> {
    if args.orders.is_none() && args.seconds.is_none() {
        return Err("give --orders M or --seconds S".into());
    }
    let pid = args.server_pid.to_string();
    cpu_ticks(&pid)?;
    let ticks_per_second = clock_ticks_per_second();

    // The http-01 responder.
    let tokens: Tokens = Arc::default();
    let listener = TcpListener::bind(("127.0.0.1", args.http01_port))
        .await
        .map_err(|e| format!("http-01 responder on 127.0.0.1:{}: {e}", args.http01_port))?;
    tokio::spawn(serve_http01(listener, tokens.clone()));
    if let Ok(v6) = TcpListener::bind(("::1", args.http01_port)).await {
        tokio::spawn(serve_http01(v6, tokens.clone()));
    }

    // One account.
    let builder = if args.instant_acme_client {
        Account::builder_with_root(&args.root_ca)
            .map_err(|e| format!("{}: {e}", args.root_ca.display()))?
    } else {
        Account::builder_with_http(Box::new(http_client(&args.root_ca)?))
    };
    let eab = match (&args.eab_kid, &args.eab_hmac) {
        (Some(kid), Some(hmac)) => Some(ExternalAccountKey::new(kid.clone(), &decode_hmac(hmac)?)),
        _ => None,
    };
    let (account, _credentials) = builder
        .create(
            &NewAccount {
                contact: &[],
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            args.directory.clone(),
            eab.as_ref(),
        )
        .await
        .map_err(|e| format!("new account at {}: {e}", args.directory))?;

    if args.warmup > 0 {
        let warm = run_phase(&account, &tokens, &args, "w", Stop::Count(args.warmup)).await;
        if warm.errors > 0 {
            eprintln!(
                "acme-load: {} of {} warm-up orders failed, e.g. {:?}",
                warm.errors, args.warmup, warm.first_errors
            );
        }
    }

    let server_before = cpu_ticks(&pid)?;
    let self_before = cpu_ticks("self")?;
    let started = Instant::now();
    let stop = match (args.orders, args.seconds) {
        (Some(n), _) => Stop::Count(n),
        (None, Some(s)) => Stop::Deadline(started + Duration::from_secs_f64(s)),
        (None, None) => unreachable!("checked above"),
    };
    let mut tally = run_phase(&account, &tokens, &args, "o", stop).await;
    let seconds = started.elapsed().as_secs_f64();
    let server_ms = (cpu_ticks(&pid)? - server_before) as f64 * 1000.0 / ticks_per_second as f64;
    let self_ms = (cpu_ticks("self")? - self_before) as f64 * 1000.0 / ticks_per_second as f64;

    for e in &tally.first_errors {
        eprintln!("acme-load: error: {e}");
    }
    tally.latencies.sort();
    let orders = tally.latencies.len() as u64;
    let per_order = |ms: f64| {
        if orders == 0 {
            0.0
        } else {
            ms / orders as f64
        }
    };
    let line = serde_json::json!({
        "server": args.label,
        "concurrency": args.concurrency,
        "orders": orders,
        "seconds": round(seconds, 3),
        "orders_per_sec": round(if seconds > 0.0 { orders as f64 / seconds } else { 0.0 }, 2),
        "p50_ms": round(quantile_ms(&tally.latencies, 0.50), 2),
        "p99_ms": round(quantile_ms(&tally.latencies, 0.99), 2),
        "server_cpu_ms_per_order": round(per_order(server_ms), 3),
        "errors": tally.errors,
        "server_cpu_ms": round(server_ms, 1),
        "driver_cpu_ms_per_order": round(per_order(self_ms), 3),
        "polls_per_order": round(if orders == 0 { 0.0 } else { tally.polls as f64 / orders as f64 }, 2),
        "clk_tck": ticks_per_second,
    });
    println!("{line}");
    Ok(())
}

fn main() {
    let args = Args::parse();
    // One TLS provider for the process, whatever features the graph unifies.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(run(args)) {
        eprintln!("acme-load: {e}");
        std::process::exit(1);
    }
}
