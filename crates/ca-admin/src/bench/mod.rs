//! `ca-admin bench`: what this machine can issue, measured in one run.
//!
//! Every figure comes from the same process, on the same crypto backend
//! (aws-lc-rs, through rcgen and x509-parser), so the ratios compare like with
//! like:
//!
//! - **Raw rates**, one thread: CSR parse + signature check
//!   ([`VerifiedCsr::from_der`]), a bare P-256 `verify` for reference, and
//!   the signature rate of each issuing CA's own key (P-256 and RSA-2048).
//! - **Issuance from a CSR**, one thread, not stored: CSR parse + verify, then
//!   [`issuance::issue`], per certificate. Its ratio to the raw limit
//!   `1 / (t_verify + t_sign)` of the same CA key type shows how much the
//!   certificate building around the two signature operations costs (the
//!   goal is at least 0.8).
//! - **Store-backed issuance** through [`CaService::issue`] from W threads,
//!   once with durable commits (fsync before `issue` returns) and once
//!   without, with the store's group-commit counters. With enough writers the
//!   durable rate should come within 0.8 of the non-durable one, because
//!   concurrent requests share one fsync.
//!
//! Nothing here asserts a time: the report is for people to read.
//!
//! `ca-admin bench scale` ([`scale`]) measures something else: how look-ups,
//! OCSP, listings, the expiry sweep, CRL generation and the gateway's start
//! behave as a data directory grows to a million certificates.

pub mod scale;

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ca_core::authority::{CaDirectory, CaSubject, CertificationAuthority, NewCa, PublicationUrls};
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::{self, IssuanceRequest};
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::profile::{CertificateProfile, ProfileSet};
use ca_core::serial::Serial;
use ca_core::service::{CaService, CaServiceConfig};
use ca_core::store::{Durability, StoreStats};
use serde::Serialize;
use time::OffsetDateTime;

/// The publication base URL written into the benchmark certificates.
const BASE_URL: &str = "http://127.0.0.1:8080";
/// Pre-generated subscriber CSRs, cycled through.
const CSR_COUNT: usize = 256;
/// The size of the message signed in the raw signature measurements (about a TBSCertificate's).
const MESSAGE_LEN: usize = 300;
/// The root CA's id in every scratch hierarchy.
const ROOT_ID: &str = "bench-root";
/// The issuing CA's id in every scratch hierarchy.
const ISSUING_ID: &str = "bench-issuing";
/// The root CA's key type (the same for every hierarchy; only the issuing key varies).
const ROOT_KEY: KeyAlgorithm = KeyAlgorithm::EcP256;
/// The profile every benchmark certificate is issued under.
const PROFILE: &str = "tls-server";
/// The requester recorded with store-backed certificates.
const REQUESTER: &str = "bench";
/// The ratio the issue asks for (shown next to the figures, never asserted).
const TARGET_RATIO: f64 = 0.8;

/// `ca-admin bench [OPTIONS] [scale …]`: the issuance benchmark, or with the
/// `scale` subcommand the scale benchmark.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    /// The issuance benchmark's options (when no subcommand is given).
    #[command(flatten)]
    pub args: BenchArgs,
    /// Another benchmark instead of the issuance one.
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
}

/// The benchmarks other than the issuance one.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchMode {
    /// Fill a data directory with up to a million certificates and measure, at each
    /// size, look-ups, OCSP, listings, the expiry sweep, CRL generation, the store's
    /// size and `ca-admin serve`'s start time and memory.
    Scale(scale::ScaleArgs),
}

/// Runs `ca-admin bench`: the issuance benchmark, or the one its subcommand names.
pub fn run_command(command: &BenchCommand) -> Result<(), String> {
    match &command.mode {
        None => run(&command.args),
        Some(BenchMode::Scale(args)) => scale::run(args),
    }
}

/// `ca-admin bench`: measure issuance, signing, CSR verification and durable-commit rates.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Seconds per measurement (there are about ten measurements, plus set-up).
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub seconds: f64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Numbers of concurrent writers for the store-backed measurements, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,16",
        value_name = "LIST"
    )]
    pub writers: Vec<usize>,
    /// Where the scratch data directories are created (default: the system
    /// temporary directory). Durable figures only mean something on the
    /// disk the CA will run on, not on tmpfs.
    #[arg(long, value_name = "DIR")]
    pub scratch_dir: Option<PathBuf>,
}

impl Default for BenchArgs {
    fn default() -> Self {
        Self {
            seconds: 2.0,
            json: false,
            writers: vec![1, 16],
            scratch_dir: None,
        }
    }
}

/// Runs every measurement and prints the report (a table, or one JSON object with `--json`) to stdout.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let report = measure_all(args)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| format!("JSON report: {e}"))?
    } else {
        render_table(&report)
    };
    println!("{text}");
    Ok(())
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

/// A count of operations over a measured time.
#[derive(Debug, Clone, Copy, Serialize)]
struct Rate {
    ops: u64,
    seconds: f64,
    per_second: f64,
    micros_per_op: f64,
}

impl Rate {
    fn new(ops: u64, elapsed: Duration) -> Self {
        let seconds = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
        Self {
            ops,
            seconds,
            per_second: ops as f64 / seconds,
            micros_per_op: if ops == 0 {
                f64::INFINITY
            } else {
                seconds * 1e6 / ops as f64
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    machine: Machine,
    seconds_per_measurement: f64,
    subscriber_csrs: usize,
    subscriber_key: &'static str,
    root_ca_key: &'static str,
    profile: &'static str,
    raw: RawRates,
    issuance: Vec<IssuanceFigures>,
    store: StoreFigures,
}

#[derive(Debug, Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: Option<String>,
    os: &'static str,
    arch: &'static str,
    build: &'static str,
    command: String,
    scratch_dir: String,
    scratch_filesystem: Option<String>,
}

#[derive(Debug, Serialize)]
struct RawRates {
    /// `VerifiedCsr::from_der`: x509-parser parse + aws-lc-rs signature check.
    csr_parse_verify: Rate,
    /// `aws_lc_rs::signature::UnparsedPublicKey::verify`, P-256 / SHA-256.
    p256_verify: Rate,
    /// `rcgen::SigningKey::sign` with each issuing CA's own key.
    sign: Vec<SignRate>,
    /// A 4 KiB overwrite plus `File::sync_data` in the scratch directory: the disk's own limit for durable commits.
    disk_sync: Rate,
}

#[derive(Debug, Serialize)]
struct SignRate {
    ca_key: &'static str,
    message_bytes: usize,
    rate: Rate,
}

#[derive(Debug, Serialize)]
struct IssuanceFigures {
    ca_key: &'static str,
    issued: Rate,
    /// `1 / (1/csr_parse_verify + 1/sign)` for this CA key type.
    raw_limit_per_second: f64,
    ratio_to_raw_limit: f64,
    target_ratio: f64,
}

#[derive(Debug, Serialize)]
struct StoreFigures {
    ca_key: &'static str,
    runs: Vec<WritersFigures>,
    target_ratio: f64,
}

#[derive(Debug, Serialize)]
struct WritersFigures {
    writers: usize,
    durable: StoreRun,
    non_durable: StoreRun,
    durable_to_non_durable: f64,
}

#[derive(Debug, Serialize)]
struct StoreRun {
    durability: &'static str,
    issued: Rate,
    commits: u64,
    batches: u64,
    rejected: u64,
    commits_per_second: f64,
    batches_per_commit: f64,
    largest_group: u64,
}

// ---------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------

fn validate(args: &BenchArgs) -> Result<(), String> {
    if !args.seconds.is_finite() || args.seconds <= 0.0 || args.seconds > 3600.0 {
        return Err(format!(
            "--seconds must be above 0 and at most 3600 (got {})",
            args.seconds
        ));
    }
    if args.writers.is_empty() {
        return Err("--writers needs at least one number".into());
    }
    if let Some(bad) = args.writers.iter().find(|w| **w == 0 || **w > 1024) {
        return Err(format!(
            "--writers: {bad} is not a usable number of writers (1 to 1024)"
        ));
    }
    Ok(())
}

fn measure_all(args: &BenchArgs) -> Result<Report, String> {
    validate(args)?;
    let seconds = args.seconds;
    let scratch_parent = match &args.scratch_dir {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir(),
    };
    if !scratch_parent.is_dir() {
        return Err(format!(
            "the scratch directory {} does not exist",
            scratch_parent.display()
        ));
    }

    let csrs = subscriber_csrs(CSR_COUNT)?;
    let profiles = ProfileSet::defaults();
    let profile = profiles
        .get(PROFILE)
        .ok_or_else(|| format!("the default profiles have no '{PROFILE}' profile"))?;
    let urls = PublicationUrls::new(BASE_URL);
    let message = bench_message();

    // The two issuing CAs, each in its own scratch hierarchy under a P-256 root.
    let mut cas = Vec::new();
    for key in [KeyAlgorithm::EcP256, KeyAlgorithm::Rsa2048] {
        let dir = build_hierarchy(&scratch_parent, key)?;
        let ca = CaDirectory::new(dir.path())
            .load(ISSUING_ID, &KeyProtection::InsecurePlaintext)
            .map_err(|e| format!("loading the {key} issuing CA: {e}"))?;
        cas.push((key, dir, ca));
    }

    // Raw rates.
    let csr_parse_verify = measure(seconds, |i| {
        black_box(
            VerifiedCsr::from_der(&csrs[i % csrs.len()])
                .map_err(|e| format!("a benchmark CSR does not verify: {e}"))?,
        );
        Ok(())
    })?;
    let p256_verify = measure_p256_verify(seconds, &message)?;
    let disk_sync = measure_disk_sync(seconds, &scratch_parent)?;
    let mut sign = Vec::new();
    for (key, _, ca) in &cas {
        sign.push(SignRate {
            ca_key: key.as_str(),
            message_bytes: message.len(),
            rate: measure_sign(seconds, ca, &message)?,
        });
    }

    // Issuance from a CSR, one thread, not stored.
    let mut issuance_figures = Vec::new();
    for ((key, _, ca), sign_rate) in cas.iter().zip(&sign) {
        let issued = measure(seconds, |i| {
            issue_unstored(ca, &urls, profile, &csrs[i % csrs.len()])
        })?;
        let limit = 1.0 / (1.0 / csr_parse_verify.per_second + 1.0 / sign_rate.rate.per_second);
        issuance_figures.push(IssuanceFigures {
            ca_key: key.as_str(),
            issued,
            raw_limit_per_second: limit,
            ratio_to_raw_limit: issued.per_second / limit,
            target_ratio: TARGET_RATIO,
        });
    }
    drop(cas);

    // Store-backed issuance, durable and not, at each number of writers.
    let mut runs = Vec::new();
    for &writers in &args.writers {
        let durable = store_run(
            &scratch_parent,
            &csrs,
            writers,
            Durability::Immediate,
            seconds,
        )?;
        let non_durable = store_run(&scratch_parent, &csrs, writers, Durability::None, seconds)?;
        runs.push(WritersFigures {
            writers,
            durable_to_non_durable: durable.issued.per_second / non_durable.issued.per_second,
            durable,
            non_durable,
        });
    }

    Ok(Report {
        machine: machine_info(&scratch_parent),
        seconds_per_measurement: seconds,
        subscriber_csrs: csrs.len(),
        subscriber_key: KeyAlgorithm::EcP256.as_str(),
        root_ca_key: ROOT_KEY.as_str(),
        profile: PROFILE,
        raw: RawRates {
            csr_parse_verify,
            p256_verify,
            sign,
            disk_sync,
        },
        issuance: issuance_figures,
        store: StoreFigures {
            ca_key: KeyAlgorithm::EcP256.as_str(),
            runs,
            target_ratio: TARGET_RATIO,
        },
    })
}

/// Runs `op` (given a running index) for a short warm-up, then for `seconds`, and returns the rate.
fn measure(seconds: f64, mut op: impl FnMut(usize) -> Result<(), String>) -> Result<Rate, String> {
    let warm_up = Duration::from_secs_f64((seconds / 10.0).min(0.25));
    let mut i = 0usize;
    let start = Instant::now();
    while start.elapsed() < warm_up {
        op(i)?;
        i = i.wrapping_add(1);
    }
    let budget = Duration::from_secs_f64(seconds);
    let mut ops = 0u64;
    let start = Instant::now();
    loop {
        op(i)?;
        i = i.wrapping_add(1);
        ops += 1;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return Ok(Rate::new(ops, elapsed));
        }
    }
}

/// A fixed message of [`MESSAGE_LEN`] bytes to sign.
fn bench_message() -> Vec<u8> {
    (0..MESSAGE_LEN).map(|i| (i * 31 + 7) as u8).collect()
}

/// `count` DER CSRs for `bench-N.test`, each with its own P-256 key.
fn subscriber_csrs(count: usize) -> Result<Vec<Vec<u8>>, String> {
    (0..count)
        .map(|i| {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| format!("generating a subscriber key: {e}"))?;
            let params = rcgen::CertificateParams::new(vec![format!("bench-{i}.test")])
                .map_err(|e| format!("subscriber CSR parameters: {e}"))?;
            let csr = params
                .serialize_request(&key)
                .map_err(|e| format!("signing a subscriber CSR: {e}"))?;
            Ok(csr.der().to_vec())
        })
        .collect()
}

/// The bare aws-lc-rs P-256 verification rate (no parsing), for reference.
fn measure_p256_verify(seconds: f64, message: &[u8]) -> Result<Rate, String> {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("generating a P-256 key: {e}"))?;
    let signature = rcgen::SigningKey::sign(&key, message)
        .map_err(|e| format!("signing with a P-256 key: {e}"))?;
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key_raw().to_vec());
    public
        .verify(message, &signature)
        .map_err(|_| "the reference P-256 signature does not verify".to_string())?;
    measure(seconds, |_| {
        public
            .verify(black_box(message), black_box(&signature))
            .map_err(|_| "the reference P-256 signature does not verify".to_string())
    })
}

/// How many 4 KiB overwrite + `sync_data` rounds the scratch directory's disk does per second.
fn measure_disk_sync(seconds: f64, scratch_parent: &Path) -> Result<Rate, String> {
    use std::io::{Seek, SeekFrom, Write};
    const BLOCK: usize = 4096;
    const BLOCKS: u64 = 256;
    let dir = ScratchDir::new(scratch_parent)?;
    let path = dir.path().join("sync-test");
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut file = std::fs::File::create(&path).map_err(io)?;
    let block = vec![0x5au8; BLOCK];
    // Allocate the whole file first, so the measured writes are overwrites (as a store commit's are).
    for _ in 0..BLOCKS {
        file.write_all(&block).map_err(io)?;
    }
    file.sync_all().map_err(io)?;
    let rate = measure(seconds, |i| {
        let offset = (i as u64 % BLOCKS) * BLOCK as u64;
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.write_all(&block).map_err(io)?;
        file.sync_data().map_err(io)
    })?;
    drop(file);
    drop(dir);
    Ok(rate)
}

/// The signature rate of a CA's own (loaded) key.
fn measure_sign(seconds: f64, ca: &CertificationAuthority, message: &[u8]) -> Result<Rate, String> {
    let key = ca
        .signer()
        .ok_or_else(|| format!("CA '{}' has no key loaded", ca.id()))?
        .key();
    measure(seconds, |_| {
        black_box(
            rcgen::SigningKey::sign(key, black_box(message))
                .map_err(|e| format!("signing with CA '{}': {e}", ca.id()))?,
        );
        Ok(())
    })
}

/// What one request costs without the store: CSR parse + verify, then build and sign.
fn issue_unstored(
    ca: &CertificationAuthority,
    urls: &PublicationUrls,
    profile: &CertificateProfile,
    csr_der: &[u8],
) -> Result<(), String> {
    let csr = VerifiedCsr::from_der(csr_der).map_err(|e| format!("CSR: {e}"))?;
    let request = request_for(&csr, profile);
    let issued = issuance::issue(
        ca,
        urls,
        &request,
        Serial::random(),
        OffsetDateTime::now_utc(),
    )
    .map_err(|e| format!("issuing from CA '{}': {e}", ca.id()))?;
    black_box(issued);
    Ok(())
}

/// What one request costs through the service: CSR parse + verify, issue, commit.
fn issue_stored(
    service: &CaService,
    profile: &CertificateProfile,
    csr_der: &[u8],
) -> Result<(), String> {
    let csr = VerifiedCsr::from_der(csr_der).map_err(|e| format!("CSR: {e}"))?;
    let request = request_for(&csr, profile);
    let record = service
        .issue(&request, REQUESTER)
        .map_err(|e| format!("issuing through the CA service: {e}"))?;
    black_box(record);
    Ok(())
}

fn request_for<'a>(csr: &'a VerifiedCsr, profile: &'a CertificateProfile) -> IssuanceRequest<'a> {
    IssuanceRequest {
        csr,
        profile,
        names: None,
        term_days: None,
        owner_subject: Default::default(),
    }
}

/// Issues from `writers` threads through a fresh [`CaService`] for `seconds`.
fn store_run(
    scratch_parent: &Path,
    csrs: &[Vec<u8>],
    writers: usize,
    durability: Durability,
    seconds: f64,
) -> Result<StoreRun, String> {
    let dir = build_hierarchy(scratch_parent, KeyAlgorithm::EcP256)?;
    let mut config = CaServiceConfig::new(dir.path(), BASE_URL, KeyProtection::InsecurePlaintext);
    config.durability = durability;
    let service = CaService::open(&config).map_err(|e| format!("opening the CA service: {e}"))?;
    let profile = service
        .profile(PROFILE)
        .map_err(|e| format!("the CA service: {e}"))?;
    // One request first, so a broken path fails here rather than in every thread.
    issue_stored(&service, profile, &csrs[0])?;

    let before = service.certificates().store().stats();
    let failed = AtomicBool::new(false);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let results: Vec<Result<u64, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let (service, failed) = (&service, &failed);
                scope.spawn(move || {
                    let mut issued = 0u64;
                    let mut i = w * csrs.len() / writers;
                    while !failed.load(Ordering::Relaxed) && Instant::now() < deadline {
                        if let Err(e) = issue_stored(service, profile, &csrs[i % csrs.len()]) {
                            failed.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        i += 1;
                        issued += 1;
                    }
                    Ok(issued)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a writer thread panicked".to_string()))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let after = service.certificates().store().stats();
    let mut issued = 0u64;
    for result in results {
        issued += result?;
    }
    // Release the store (and its lock) before the directory goes.
    drop(service);
    drop(dir);

    let StoreStats {
        commits,
        batches,
        rejected,
        largest_group,
    } = stats_between(before, after);
    Ok(StoreRun {
        durability: match durability {
            Durability::Immediate => "immediate",
            Durability::None => "none",
        },
        issued: Rate::new(issued, elapsed),
        commits,
        batches,
        rejected,
        commits_per_second: commits as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
        batches_per_commit: if commits == 0 {
            0.0
        } else {
            batches as f64 / commits as f64
        },
        largest_group,
    })
}

/// The counters of the measured window (the largest group is the store's lifetime maximum).
fn stats_between(before: StoreStats, after: StoreStats) -> StoreStats {
    StoreStats {
        commits: after.commits.saturating_sub(before.commits),
        batches: after.batches.saturating_sub(before.batches),
        rejected: after.rejected.saturating_sub(before.rejected),
        largest_group: after.largest_group,
    }
}

// ---------------------------------------------------------------------------
// Scratch data directories
// ---------------------------------------------------------------------------

/// A directory removed with everything in it when dropped (unless kept).
struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    /// A new, empty, owner-only directory with a unique name under `parent`.
    fn new(parent: &Path) -> Result<Self, String> {
        for _ in 0..16 {
            let mut random = [0u8; 8];
            aws_lc_rs::rand::fill(&mut random)
                .map_err(|_| "the system random generator failed".to_string())?;
            let path = parent.join(format!(
                "certwright-bench-{}-{:016x}",
                std::process::id(),
                u64::from_le_bytes(random)
            ));
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&path) {
                Ok(()) => return Ok(Self { path, keep: false }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(format!("creating {}: {e}", path.display())),
            }
        }
        Err(format!(
            "could not create a scratch directory under {}",
            parent.display()
        ))
    }

    /// Takes over a directory that exists and is empty (or creates it): removed when dropped too.
    fn adopt(path: &Path) -> Result<Self, String> {
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(format!(
                        "{} is not empty; give a new or empty directory",
                        path.display()
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(path)
                    .map_err(|e| format!("creating {}: {e}", path.display()))?;
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        Ok(Self {
            path: path.to_path_buf(),
            keep: false,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the directory in place when dropped.
    fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A scratch data directory with a P-256 root and an issuing CA with the given key type.
fn build_hierarchy(parent: &Path, issuing_key: KeyAlgorithm) -> Result<ScratchDir, String> {
    let dir = ScratchDir::new(parent)?;
    let cas = CaDirectory::new(dir.path());
    let protection = KeyProtection::InsecurePlaintext;
    let root = NewCa {
        id: ROOT_ID.into(),
        subject: CaSubject::root_for("Certwright Bench"),
        key_algorithm: ROOT_KEY,
        hash: SignatureHash::Sha256,
        validity_days: 3650,
        path_len: Some(1),
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    };
    cas.create_root(&root, &protection)
        .map_err(|e| format!("creating the bench root CA: {e}"))?;
    let issuing = NewCa {
        id: ISSUING_ID.into(),
        subject: CaSubject::issuing_for("Certwright Bench"),
        key_algorithm: issuing_key,
        hash: SignatureHash::Sha256,
        validity_days: 1825,
        path_len: Some(0),
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    };
    cas.create_subordinate(
        &issuing,
        ROOT_ID,
        &protection,
        Some(&PublicationUrls::new(BASE_URL)),
    )
    .map_err(|e| format!("creating the bench {issuing_key} issuing CA: {e}"))?;
    Ok(dir)
}

// ---------------------------------------------------------------------------
// Machine information
// ---------------------------------------------------------------------------

fn machine_info(scratch_parent: &Path) -> Machine {
    let scratch = scratch_parent
        .canonicalize()
        .unwrap_or_else(|_| scratch_parent.to_path_buf());
    Machine {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model: cpu_model(),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        command: command_line(),
        scratch_filesystem: filesystem_of(&scratch),
        scratch_dir: scratch.display().to_string(),
    }
}

/// The command line as invoked, quoted where a shell would need it.
fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
            if plain {
                arg
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The CPU model from `/proc/cpuinfo`, where there is one.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The type of the file system holding `path`, from `/proc/mounts` (Linux only).
fn filesystem_of(path: &Path) -> Option<String> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let mount_point = fields.next()?.replace("\\040", " ");
            let fs_type = fields.next()?;
            path.starts_with(&mount_point)
                .then(|| (mount_point.len(), fs_type.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fs_type)| fs_type)
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

/// A rate with thousands separators, no decimals.
fn grouped(value: f64) -> String {
    if !value.is_finite() {
        return "-".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

/// The first lines of a report: which machine and build, and the command that ran.
fn machine_heading(m: &Machine, title: &str) -> String {
    let cpu = m
        .cpu_model
        .as_deref()
        .map(|model| format!(" ({model})"))
        .unwrap_or_default();
    format!(
        "{title}: {} CPUs{cpu}, {}/{}, {} build\ncommand: {}\n",
        m.cpus, m.os, m.arch, m.build, m.command
    )
}

fn render_table(report: &Report) -> String {
    let m = &report.machine;
    let mut out = machine_heading(m, "Certwright bench");
    let _ = writeln!(
        out,
        "{} s per measurement; {} pre-generated {} subscriber CSRs; root CA {}; profile {}",
        report.seconds_per_measurement,
        report.subscriber_csrs,
        report.subscriber_key,
        report.root_ca_key,
        report.profile
    );
    let _ = writeln!(
        out,
        "scratch data directories under {} ({})",
        m.scratch_dir,
        m.scratch_filesystem
            .as_deref()
            .unwrap_or("file system unknown")
    );
    if m.build == "debug" {
        let _ = writeln!(
            out,
            "WARNING: debug build; run `cargo run --release -p ca-admin -- bench` for figures that mean anything"
        );
    }
    if m.scratch_filesystem.as_deref() == Some("tmpfs") {
        let _ = writeln!(
            out,
            "WARNING: the scratch directory is on tmpfs, where fsync costs nothing; pass --scratch-dir on a real disk"
        );
    }

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<58} {:>12} {:>10}",
        "Raw crypto, aws-lc-rs, 1 thread", "rate/s", "µs/op"
    );
    let raw = &report.raw;
    let mut raw_row = |label: String, rate: &Rate| {
        let _ = writeln!(
            out,
            "  {:<56} {:>12} {:>10.1}",
            label,
            grouped(rate.per_second),
            rate.micros_per_op
        );
    };
    raw_row(
        "CSR parse + verify (VerifiedCsr::from_der, P-256 CSR)".into(),
        &raw.csr_parse_verify,
    );
    raw_row(
        "P-256 verify (UnparsedPublicKey::verify), reference".into(),
        &raw.p256_verify,
    );
    for s in &raw.sign {
        raw_row(
            format!(
                "sign, {} issuing CA key ({} B message)",
                s.ca_key, s.message_bytes
            ),
            &s.rate,
        );
    }
    raw_row(
        "disk: 4 KiB overwrite + fdatasync, scratch directory".into(),
        &raw.disk_sync,
    );

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Issuance from a CSR, 1 thread, not stored (CSR parse + verify included)"
    );
    let _ = writeln!(
        out,
        "  {:<20} {:>12} {:>10} {:>24} {:>8}",
        "issuing CA key", "issued/s", "µs/cert", "limit 1/(verify+sign)/s", "ratio"
    );
    for f in &report.issuance {
        let _ = writeln!(
            out,
            "  {:<20} {:>12} {:>10.1} {:>24} {:>8.2}",
            f.ca_key,
            grouped(f.issued.per_second),
            f.issued.micros_per_op,
            grouped(f.raw_limit_per_second),
            f.ratio_to_raw_limit
        );
    }
    let _ = writeln!(out, "  (target: ratio ≥ {:.2} on one core)", TARGET_RATIO);

    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "CaService::issue, {} issuing CA, W threads (CSR parse + verify and store commit included)",
        report.store.ca_key
    );
    let _ = writeln!(
        out,
        "  {:>7}  {:<10} {:>10} {:>9} {:>9} {:>10} {:>15} {:>14}",
        "writers",
        "durability",
        "issued/s",
        "commits",
        "batches",
        "commits/s",
        "batches/commit",
        "largest group"
    );
    for r in &report.store.runs {
        for run in [&r.durable, &r.non_durable] {
            let _ = writeln!(
                out,
                "  {:>7}  {:<10} {:>10} {:>9} {:>9} {:>10} {:>15.2} {:>14}",
                r.writers,
                run.durability,
                grouped(run.issued.per_second),
                run.commits,
                run.batches,
                grouped(run.commits_per_second),
                run.batches_per_commit,
                run.largest_group
            );
        }
    }
    let ratios: Vec<String> = report
        .store
        .runs
        .iter()
        .map(|r| {
            format!(
                "{} writer{} {:.2}",
                r.writers,
                if r.writers == 1 { "" } else { "s" },
                r.durable_to_non_durable
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  durable / non-durable: {} (target ≥ {:.2} with 16 writers)",
        ratios.join(", "),
        report.store.target_ratio
    );
    let _ = write!(
        out,
        "  durable = fsync'd before issue() returns; one commit carries every request queued meanwhile (group commit)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harness_runs_end_to_end() {
        let args = BenchArgs {
            seconds: 0.05,
            json: false,
            writers: vec![1, 2],
            scratch_dir: None,
        };
        assert_eq!(run(&args), Ok(()));
    }
}
