//! `ca-admin bench scale`: how the store, the RA and the gateway behave as one
//! data directory grows (by default to 10k, 100k and 1M certificates).
//!
//! The run, in one directory:
//!
//! 1. `ca-admin serve` creates it (the demo hierarchy, the first MRAO, whose
//!    password it prints once) and is stopped again;
//! 2. the CA service and the RA are opened in-process over it; organizations,
//!    departments and an RAO are created through the RA ([`fill::Setup`]);
//! 3. for each size, cumulatively: fill to it ([`fill::fill_to`]); measure
//!    in-process ([`probes`]); close the service (redb allows one opener) and
//!    read the store's size; start `ca-admin serve` on it, time its start
//!    and read its memory ([`gateway`]); reopen in-process (timed).
//!
//! Nothing asserts a time: the figures are printed as one markdown table
//! (rows = measurements, columns = sizes and the largest over the smallest),
//! or with `--json` as one JSON object. Past `--max-minutes` the run stops
//! and reports what it has measured.

mod fill;
mod gateway;
mod probes;
mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ca_core::keys::KeyProtection;
use ca_core::service::CaService;
use policy::registry::RegistrationAuthority;

use self::fill::{Filled, Setup};
use self::gateway::{Gateway, Launcher, ServeFigures};
use self::probes::{ListingKind, Picker};
use self::report::{Report, Settings, SizeFigures};
use super::{machine_info, ScratchDir};
use crate::config::{GatewayConfig, CONFIG_FILE};

/// `ca-admin bench scale`: fill a data directory to each size and measure look-ups,
/// OCSP, listings, the expiry sweep, CRL generation, the store's size on disk and
/// `ca-admin serve`'s start time and memory.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// Sizes to fill to and measure at, cumulatively, comma-separated, ascending.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10000,100000,1000000",
        value_name = "LIST"
    )]
    pub sizes: Vec<usize>,
    /// The data directory to fill (new or empty). Default: a new directory under the
    /// system temporary directory. Removed afterwards unless --keep.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Keep the data directory after the run.
    #[arg(long)]
    pub keep: bool,
    /// Random picks per latency measurement (look-ups, OCSP), at each size.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub samples: usize,
    /// Rows per listing page.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub page_size: usize,
    /// Times each listing page is read (the figure is the mean).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub page_repeats: usize,
    /// Stop after this many minutes and report what has been measured.
    #[arg(long, default_value_t = 30.0, value_name = "MINUTES")]
    pub max_minutes: f64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the scale benchmark and prints the report (a table, or JSON with `--json`).
pub fn run(args: &ScaleArgs) -> Result<(), String> {
    let report = measure(args, &Launcher::this_binary()?)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| format!("JSON report: {e}"))?
    } else {
        report::render_table(&report)
    };
    println!("{text}");
    Ok(())
}

/// The run's deadline.
pub(super) struct Budget {
    deadline: Instant,
    minutes: f64,
}

impl Budget {
    fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    fn reason(&self, before: &str) -> String {
        format!(
            "the time limit (--max-minutes {}) was reached before {before}",
            self.minutes
        )
    }
}

/// A progress line on standard error (the report goes to standard output).
fn progress(line: &str) {
    eprintln!("[bench scale] {line}");
}

/// The CA service and the RA, opened in-process over the data directory.
pub(super) struct World {
    service: Arc<CaService>,
    ra: RegistrationAuthority,
}

impl World {
    /// Opens the data directory as an offline command does, with the key protection its
    /// configuration names (the demo's: plaintext keys).
    fn open(data_dir: &Path) -> Result<Self, String> {
        let config = GatewayConfig::load(&data_dir.join(CONFIG_FILE))?;
        let protection = match &config.keys.passphrase_file {
            None if config.keys.insecure_plaintext_keys => KeyProtection::InsecurePlaintext,
            file => {
                crate::protection::resolve(file.as_deref(), config.keys.insecure_plaintext_keys)?
            }
        };
        let service = Arc::new(crate::offline::open_offline(data_dir, protection)?);
        let ra = RegistrationAuthority::open(service.clone(), data_dir)
            .map_err(|e| format!("opening the RA: {e}"))?;
        Ok(Self { service, ra })
    }

    /// Closes the store (every clone of it goes with the RA and the service).
    fn close(self) -> Result<(), String> {
        let Self { service, ra } = self;
        drop(ra);
        match Arc::try_unwrap(service) {
            Ok(service) => {
                drop(service);
                Ok(())
            }
            Err(_) => Err("the CA service is still shared; the store cannot be closed".into()),
        }
    }
}

fn validate(args: &ScaleArgs) -> Result<(), String> {
    if args.sizes.is_empty() || args.sizes.contains(&0) {
        return Err("--sizes needs at least one size, each above 0".into());
    }
    if args.sizes.windows(2).any(|w| w[0] >= w[1]) {
        return Err("--sizes must be ascending (the fill is cumulative)".into());
    }
    if args.sizes.last().is_some_and(|s| *s > 100_000_000) {
        return Err("--sizes: at most 100,000,000 certificates".into());
    }
    if args.samples == 0 || args.page_size == 0 || args.page_repeats == 0 {
        return Err("--samples, --page-size and --page-repeats must be at least 1".into());
    }
    if !args.max_minutes.is_finite() || args.max_minutes <= 0.0 {
        return Err("--max-minutes must be above 0".into());
    }
    Ok(())
}

/// Starts the gateway on the directory, times its start, reads its memory, stops it.
fn serve_once(launcher: &Launcher, dir: &Path) -> Result<(ServeFigures, Gateway), String> {
    let gateway = Gateway::start(launcher, dir)?;
    let figures = ServeFigures {
        start_ms: gateway.started_in.as_secs_f64() * 1e3,
        rss_mb: gateway.idle_rss_mb(gateway::IDLE_BEFORE_RSS),
    };
    Ok((figures, gateway))
}

/// Unmeasured operations before each latency measurement.
const WARM_UP: usize = 20;

fn millis_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// The whole run: returns the report (also when the time limit cut it short).
fn measure(args: &ScaleArgs, launcher: &Launcher) -> Result<Report, String> {
    validate(args)?;
    let started = Instant::now();
    let budget = Budget {
        deadline: started + Duration::from_secs_f64(args.max_minutes * 60.0),
        minutes: args.max_minutes,
    };
    let mut dir = match &args.dir {
        Some(dir) => ScratchDir::adopt(dir)?,
        None => ScratchDir::new(&std::env::temp_dir())?,
    };
    if args.keep {
        dir.keep();
    }
    let data_dir = dir.path().to_path_buf();
    let mut report = Report {
        machine: machine_info(&data_dir),
        settings: Settings {
            sizes: args.sizes.clone(),
            samples: args.samples,
            page_size: args.page_size,
            page_repeats: args.page_repeats,
            max_minutes: args.max_minutes,
            organizations: fill::ORGS,
            departments_per_organization: fill::DEPTS_PER_ORG,
            profiles: fill::PROFILES.to_vec(),
            revoked_share: "1/10",
            expiry_spread: "even over -30 days … +2 years",
            batch: fill::BATCH,
        },
        data_dir: data_dir.display().to_string(),
        kept: args.keep,
        empty_serve: None,
        sizes: Vec::new(),
        stopped_early: None,
        total_seconds: 0.0,
        rows: Vec::new(),
    };

    // 1. The gateway makes the demo data directory and prints the first MRAO's password.
    progress(&format!(
        "creating the demo data directory {} with `ca-admin serve`",
        data_dir.display()
    ));
    let (empty_serve, first) = serve_once(launcher, &data_dir)?;
    let password = first
        .banner_value("password")
        .map(str::to_string)
        .ok_or("the first `ca-admin serve` printed no MRAO password")?;
    first.stop()?;
    report.empty_serve = Some(empty_serve);

    // 2. In-process: the organizations, departments, RAO and template certificate.
    let mut world = Some(World::open(&data_dir)?);
    let setup = {
        let w = world.as_ref().expect("just opened");
        let (_token, mrao) =
            w.ra.login(crate::serve::FIRST_ADMIN, &password)
                .map_err(|e| format!("logging in as the first MRAO: {e}"))?;
        Setup::create(w, mrao)?
    };
    let mut filled = Filled::default();
    let mut picker = Picker::new();

    // 3. Each size.
    'sizes: for &size in &args.sizes {
        let mut figures = SizeFigures {
            size,
            ..Default::default()
        };
        macro_rules! step {
            ($what:expr) => {
                if budget.expired() {
                    report.stopped_early =
                        Some(budget.reason(&format!("{} at {}", $what, report::size_label(size))));
                    report.sizes.push(figures);
                    break 'sizes;
                }
                progress(&format!("{}: {}", report::size_label(size), $what));
            };
        }
        let w = match world.take() {
            Some(w) => w,
            None => {
                step!("reopening in-process");
                let start = Instant::now();
                let w = World::open(&data_dir)?;
                if let Some(previous) = report.sizes.last_mut() {
                    previous.open_millis = Some(millis_since(start));
                }
                w
            }
        };
        world = Some(w);
        let w = world.as_ref().expect("open");

        step!("filling");
        let before = filled.len();
        let start = Instant::now();
        let complete = fill::fill_to(w, &setup, &mut filled, size, &budget)?;
        figures.fill_seconds = start.elapsed().as_secs_f64();
        figures.fill_per_second = (filled.len() - before) as f64 / figures.fill_seconds;
        figures.filled = filled.len();
        figures.revoked = filled.revoked;
        if !complete {
            report.stopped_early = Some(budget.reason(&format!(
                "the fill reached {} (stopped at {})",
                report::size_label(size),
                filled.len()
            )));
            report.sizes.push(figures);
            break 'sizes;
        }

        let n = filled.len();
        // Each measurement's picks, after a few unmeasured ones of its own (warm-up).
        let mut picks = || {
            let picks = picker.distinct(n, args.samples + WARM_UP);
            let warm = WARM_UP.min(picks.len() / 2);
            (picks[..warm].to_vec(), picks[warm..].to_vec())
        };
        step!("lookups by serial");
        let (warm, measured) = picks();
        probes::by_serial(w, &filled, &warm)?;
        figures.by_serial = Some(probes::by_serial(w, &filled, &measured)?);
        step!("lookups by id");
        let (warm, measured) = picks();
        probes::by_id(w, &setup.mrao, &filled, &warm)?;
        figures.by_id = Some(probes::by_id(w, &setup.mrao, &filled, &measured)?);
        step!("OCSP answers");
        // Serials never asked of this (freshly opened) service: every answer is signed.
        let (warm, measured) = picks();
        probes::ocsp(w, &setup, &filled, &warm, 1)?;
        let misses = w.service.ocsp_cache().stats().misses;
        figures.ocsp_uncached = Some(probes::ocsp(w, &setup, &filled, &measured, 1)?);
        figures.ocsp_uncached_miss_share =
            Some((w.service.ocsp_cache().stats().misses - misses) as f64 / measured.len() as f64);
        let picks = measured;
        // The same serials again and again: answered from the response cache.
        let warm = &picks[..picks.len().min(100)];
        let hits = w.service.ocsp_cache().stats().hits;
        let rounds = args.samples.div_ceil(warm.len());
        figures.ocsp_cached = Some(probes::ocsp(w, &setup, &filled, warm, rounds)?);
        figures.ocsp_cached_hit_share = Some(
            (w.service.ocsp_cache().stats().hits - hits) as f64 / (warm.len() * rounds) as f64,
        );

        step!("listings");
        let (first, late) = probes::listings(
            w,
            &setup,
            &filled,
            ListingKind::MraoFiltered,
            args.page_size,
            args.page_repeats,
        )?;
        figures.list_filtered_first = Some(first);
        figures.list_filtered_late = Some(late);
        let (first, late) = probes::listings(
            w,
            &setup,
            &filled,
            ListingKind::RaoScoped,
            args.page_size,
            args.page_repeats,
        )?;
        figures.list_rao_first = Some(first);
        figures.list_rao_late = Some(late);
        step!("counting through the listings");
        let (listed, millis) = probes::count_listed(w, &setup)?;
        if listed != filled.len() {
            return Err(format!(
                "the organizations list {listed} certificates, but {} were filled",
                filled.len()
            ));
        }
        figures.listed_total = Some(listed);
        figures.listed_total_millis = Some(millis);

        step!("expiry sweeps");
        let (first, day) = probes::sweeps(w)?;
        figures.sweep_first = Some(first);
        figures.sweep_day = Some(day);

        step!("CRL generation");
        let crl = probes::crl(w, &setup)?;
        if crl.entries != filled.revoked {
            return Err(format!(
                "the CRL lists {} revoked certificates, but {} were filled",
                crl.entries, filled.revoked
            ));
        }
        figures.crl = Some(crl);

        step!("closing, the store's size");
        world.take().expect("open").close()?;
        let store = data_dir.join(ca_core::service::STORE_FILE);
        figures.store_bytes = Some(
            std::fs::metadata(&store)
                .map_err(|e| format!("{}: {e}", store.display()))?
                .len(),
        );

        step!("`ca-admin serve` start");
        let (serve, gateway) = serve_once(launcher, &data_dir)?;
        gateway.stop()?;
        figures.serve = Some(serve);
        report.sizes.push(figures);
    }
    // The last size's in-process open time (the others were taken on reopening).
    if world.is_none() && report.stopped_early.is_none() {
        progress("reopening in-process (timed)");
        let start = Instant::now();
        let w = World::open(&data_dir)?;
        if let Some(last) = report.sizes.last_mut() {
            last.open_millis = Some(millis_since(start));
        }
        world = Some(w);
    }
    if let Some(w) = world.take() {
        w.close()?;
    }
    report.total_seconds = started.elapsed().as_secs_f64();
    report.rows = report::rows(&report.sizes);
    if args.keep {
        progress(&format!("kept the data directory {}", data_dir.display()));
    }
    drop(dir);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sizes_must_grow() {
        let mut args = ScaleArgs {
            sizes: vec![100, 100],
            dir: None,
            keep: false,
            samples: 1,
            page_size: 1,
            page_repeats: 1,
            max_minutes: 1.0,
            json: false,
        };
        assert!(validate(&args).is_err());
        args.sizes = vec![100, 1000];
        assert!(validate(&args).is_ok());
        args.sizes = vec![0];
        assert!(validate(&args).is_err());
    }
}
