//! The scale report: the figures of each size, and the table (rows =
//! measurements, columns = sizes, and the largest size's figure over the
//! smallest's).

use std::fmt::Write as _;

use serde::Serialize;

use super::super::Machine;
use super::gateway::ServeFigures;
use super::probes::{CrlFigures, Listing, Stat, Sweep};

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub machine: Machine,
    pub settings: Settings,
    /// The data directory (removed after the run unless `--keep`).
    pub data_dir: String,
    pub kept: bool,
    /// `ca-admin serve` on the fresh demo directory, before any certificate.
    pub empty_serve: Option<ServeFigures>,
    /// One entry per size reached (the last one possibly incomplete).
    pub sizes: Vec<SizeFigures>,
    /// Why the run ended before every size was measured (the time limit).
    pub stopped_early: Option<String>,
    pub total_seconds: f64,
    /// The table, as rendered.
    pub rows: Vec<Row>,
}

/// How the run was set up.
#[derive(Debug, Serialize)]
pub(super) struct Settings {
    pub sizes: Vec<usize>,
    pub samples: usize,
    pub page_size: usize,
    pub page_repeats: usize,
    pub max_minutes: f64,
    pub organizations: usize,
    pub departments_per_organization: usize,
    pub profiles: Vec<&'static str>,
    pub revoked_share: &'static str,
    pub expiry_spread: &'static str,
    pub batch: usize,
}

/// The figures at one size.
#[derive(Debug, Default, Serialize)]
pub(super) struct SizeFigures {
    pub size: usize,
    /// Synthetic certificates in the store.
    pub filled: usize,
    /// Of which revoked.
    pub revoked: usize,
    /// Filling from the previous size to this one.
    pub fill_seconds: f64,
    pub fill_per_second: f64,
    pub by_serial: Option<Stat>,
    pub by_id: Option<Stat>,
    pub ocsp_uncached: Option<Stat>,
    /// Cache misses while `ocsp_uncached` was measured, over its samples (1: every answer signed).
    pub ocsp_uncached_miss_share: Option<f64>,
    pub ocsp_cached: Option<Stat>,
    /// Cache hits while `ocsp_cached` was measured, over its samples.
    pub ocsp_cached_hit_share: Option<f64>,
    pub list_filtered_first: Option<Listing>,
    pub list_filtered_late: Option<Listing>,
    pub list_rao_first: Option<Listing>,
    pub list_rao_late: Option<Listing>,
    /// Every organization's certificates, through the RA's listing.
    pub listed_total: Option<usize>,
    pub listed_total_millis: Option<f64>,
    pub sweep_first: Option<Sweep>,
    pub sweep_day: Option<Sweep>,
    pub crl: Option<CrlFigures>,
    pub store_bytes: Option<u64>,
    pub serve: Option<ServeFigures>,
    /// `CaService::open` + `RegistrationAuthority::open` in-process at this size, ms.
    pub open_millis: Option<f64>,
}

/// One measurement across the sizes.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    pub measurement: String,
    pub values: Vec<Option<f64>>,
    /// The largest size's value over the smallest's.
    pub ratio: Option<f64>,
    #[serde(skip)]
    style: Style,
}

#[derive(Debug, Clone, Copy)]
enum Style {
    /// Counts and byte sizes: no decimals, thousands separated.
    Count,
    /// Times and rates: precision by magnitude.
    Figure,
}

/// One figure of a size's, if it was measured.
type Pick<T> = fn(&SizeFigures) -> Option<T>;

/// `10k`, `1M`, or the number.
pub(super) fn size_label(size: usize) -> String {
    match size {
        s if s >= 1_000_000 && s % 1_000_000 == 0 => format!("{}M", s / 1_000_000),
        s if s >= 1_000 && s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

/// The table's rows, from the figures of each size.
pub(super) fn rows(sizes: &[SizeFigures]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row = |measurement: &str, style: Style, value: &dyn Fn(&SizeFigures) -> Option<f64>| {
        let values: Vec<Option<f64>> = sizes.iter().map(value).collect();
        let ratio = match (values.first(), values.last()) {
            (Some(Some(first)), Some(Some(last))) if values.len() > 1 && *first != 0.0 => {
                Some(last / first)
            }
            _ => None,
        };
        rows.push(Row {
            measurement: measurement.to_string(),
            values,
            ratio,
            style,
        });
    };
    use Style::{Count, Figure};
    row("certificates filled", Count, &|s| Some(s.filled as f64));
    row("… of which revoked", Count, &|s| Some(s.revoked as f64));
    row("fill rate (certificates/s, this step)", Figure, &|s| {
        (s.fill_seconds > 0.0).then_some(s.fill_per_second)
    });
    let stats: [(&str, Pick<Stat>); 4] = [
        ("lookup by serial", |s| s.by_serial),
        ("lookup by id (RA)", |s| s.by_id),
        ("OCSP answer (uncached)", |s| s.ocsp_uncached),
        ("OCSP answer (cached)", |s| s.ocsp_cached),
    ];
    for (name, stat) in stats {
        row(&format!("{name}, mean (µs)"), Figure, &|s| {
            stat(s).map(|x| x.mean_us)
        });
        row(&format!("{name}, p99 (µs)"), Figure, &|s| {
            stat(s).map(|x| x.p99_us)
        });
    }
    let listings: [(&str, Pick<Listing>); 4] = [
        ("list org+issued+expiring<1y, first page (µs/page)", |s| {
            s.list_filtered_first
        }),
        ("list org+issued+expiring<1y, late page (µs/page)", |s| {
            s.list_filtered_late
        }),
        ("list as RAO of one org, first page (µs/page)", |s| {
            s.list_rao_first
        }),
        ("list as RAO of one org, late page (µs/page)", |s| {
            s.list_rao_late
        }),
    ];
    for (name, listing) in listings {
        row(name, Figure, &|s| listing(s).map(|l| l.per_page.mean_us));
    }
    row("list every org to the end (ms)", Figure, &|s| {
        s.listed_total_millis
    });
    row("… certificates listed", Count, &|s| {
        s.listed_total.map(|n| n as f64)
    });
    row("expiry sweep, first after open (µs)", Figure, &|s| {
        s.sweep_first.map(|w| w.micros)
    });
    row("… certificates expired by then", Count, &|s| {
        s.sweep_first.map(|w| w.certificates_in_range as f64)
    });
    row("expiry sweep, one day (µs)", Figure, &|s| {
        s.sweep_day.map(|w| w.micros)
    });
    row("… certificates expiring that day", Count, &|s| {
        s.sweep_day.map(|w| w.certificates_in_range as f64)
    });
    row("CRL generation (ms)", Figure, &|s| s.crl.map(|c| c.millis));
    row(
        "… of which reading the revoked entries (ms)",
        Figure,
        &|s| s.crl.map(|c| c.read_revoked_millis),
    );
    row("… revoked entries in the CRL", Count, &|s| {
        s.crl.map(|c| c.entries as f64)
    });
    row("… CRL size (bytes)", Count, &|s| {
        s.crl.map(|c| c.bytes as f64)
    });
    row("store on disk (MB)", Figure, &|s| {
        s.store_bytes.map(|b| b as f64 / 1e6)
    });
    row("store bytes per certificate", Count, &|s| {
        s.store_bytes
            .filter(|_| s.filled > 0)
            .map(|b| b as f64 / s.filled as f64)
    });
    row("open CaService + RA in-process (ms)", Figure, &|s| {
        s.open_millis
    });
    row("`ca-admin serve` start to /healthz (ms)", Figure, &|s| {
        s.serve.map(|v| v.start_ms)
    });
    row("`ca-admin serve` RSS, idle 2 s (MB)", Figure, &|s| {
        s.serve.and_then(|v| v.rss_mb)
    });
    rows
}

fn figure(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        "-".into()
    } else if magnitude >= 1000.0 {
        super::super::grouped(value)
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn cell(value: Option<f64>, style: Style) -> String {
    match (value, style) {
        (None, _) => "–".into(),
        (Some(v), Style::Count) => super::super::grouped(v),
        (Some(v), Style::Figure) => figure(v),
    }
}

/// The report as text: a heading, the markdown table, notes.
pub(super) fn render_table(report: &Report) -> String {
    let m = &report.machine;
    let mut out = super::super::machine_heading(m, "Certwright bench scale");
    let _ = writeln!(
        out,
        "data directory {} ({}){}",
        report.data_dir,
        m.scratch_filesystem
            .as_deref()
            .unwrap_or("file system unknown"),
        if report.kept {
            ", kept"
        } else {
            ", removed afterwards"
        }
    );
    let s = &report.settings;
    let _ = writeln!(
        out,
        "{} organizations × {} departments (a fifth of the certificates in none), profiles {}, {} revoked, notAfter {}; {} picks per latency, pages of {} × {}",
        s.organizations,
        s.departments_per_organization,
        s.profiles.join(", "),
        s.revoked_share,
        s.expiry_spread,
        s.samples,
        s.page_size,
        s.page_repeats
    );
    if m.build == "debug" {
        let _ = writeln!(
            out,
            "WARNING: debug build; run `cargo build --release -p ca-admin` and target/release/ca-admin for figures that mean anything"
        );
    }
    let _ = writeln!(out);
    let sizes = &report.sizes;
    let ratio_header = match (sizes.first(), sizes.last()) {
        (Some(first), Some(last)) if sizes.len() > 1 => {
            format!("{} ÷ {}", size_label(last.size), size_label(first.size))
        }
        _ => "ratio".to_string(),
    };
    let mut header = vec!["measurement".to_string()];
    header.extend(sizes.iter().map(|s| size_label(s.size)));
    header.push(ratio_header);
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(header.len() - 1));
    for row in &report.rows {
        let mut cells = vec![row.measurement.clone()];
        cells.extend(row.values.iter().map(|v| cell(*v, row.style)));
        cells.push(row.ratio.map_or("–".into(), |r| format!("{r:.2}")));
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let _ = writeln!(out);
    if let Some(serve) = &report.empty_serve {
        let _ = writeln!(
            out,
            "`ca-admin serve` on the empty demo directory: {:.0} ms to /healthz, {} MB resident",
            serve.start_ms,
            serve.rss_mb.map_or("?".into(), |mb| format!("{mb:.1}"))
        );
    }
    let fill: f64 = sizes.iter().map(|s| s.fill_seconds).sum();
    let _ = writeln!(
        out,
        "fill: {} certificates in {:.1} s in all; whole run {:.1} s",
        super::super::grouped(sizes.last().map_or(0, |s| s.filled) as f64),
        fill,
        report.total_seconds
    );
    let _ = writeln!(
        out,
        "goals (reported, not asserted): every latency within 2× from the smallest to the largest size; CRL generation with 100k revoked entries under 1 s"
    );
    if let Some(why) = &report.stopped_early {
        let _ = writeln!(out, "STOPPED EARLY: {why}");
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_labelled_short() {
        assert_eq!(size_label(10_000), "10k");
        assert_eq!(size_label(1_000_000), "1M");
        assert_eq!(size_label(1_500_000), "1500k");
        assert_eq!(size_label(999), "999");
    }
}
