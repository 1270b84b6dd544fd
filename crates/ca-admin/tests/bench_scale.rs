//! `ca-admin bench scale` end to end at tiny sizes: the built binary fills a data
//! directory, measures each size, starts `ca-admin serve` on it, and reports. The
//! figures' values are machine-dependent and never checked; what is checked is what
//! the report says was done (counts, full pages, CRL entries, cache hits).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn the_scale_bench_runs_end_to_end_at_tiny_sizes() {
    let sizes = [500u64, 2000];
    let output = Command::new(env!("CARGO_BIN_EXE_ca-admin"))
        .args([
            "bench",
            "scale",
            "--sizes",
            "500,2000",
            "--samples",
            "40",
            "--page-size",
            "10",
            "--page-repeats",
            "2",
            "--json",
        ])
        .output()
        .expect("run ca-admin bench scale");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench scale failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON report: {e}\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });

    assert_eq!(report["stopped_early"], Value::Null, "{stderr}");
    let data_dir = report["data_dir"].as_str().expect("data_dir");
    assert!(
        !Path::new(data_dir).exists(),
        "the data directory is removed afterwards"
    );
    assert!(
        report["empty_serve"].is_object(),
        "the empty demo's start is measured"
    );
    let measured = report["sizes"].as_array().expect("sizes");
    assert_eq!(measured.len(), sizes.len(), "one entry per size");
    for (figures, size) in measured.iter().zip(sizes) {
        assert_eq!(figures["size"], size);
        assert_eq!(figures["filled"], size);
        assert_eq!(figures["revoked"], size / 10);
        assert_eq!(
            figures["listed_total"], size,
            "listing every organization finds every certificate"
        );
        for stat in ["by_serial", "by_id", "ocsp_uncached", "ocsp_cached"] {
            assert!(
                figures[stat]["samples"].as_u64().expect(stat) >= 40,
                "{stat}"
            );
        }
        assert_eq!(
            figures["ocsp_uncached_miss_share"], 1.0,
            "fresh serials are signed"
        );
        assert_eq!(
            figures["ocsp_cached_hit_share"], 1.0,
            "repeated ones come from the cache"
        );
        for listing in [
            "list_filtered_first",
            "list_filtered_late",
            "list_rao_first",
            "list_rao_late",
        ] {
            assert_eq!(figures[listing]["rows"], 10, "{listing}: a full page");
        }
        assert!(
            figures["sweep_first"]["certificates_in_range"]
                .as_u64()
                .unwrap()
                > 0,
            "some expired"
        );
        assert_eq!(
            figures["crl"]["entries"],
            size / 10,
            "every revoked certificate is in the CRL"
        );
        assert!(figures["store_bytes"].as_u64().unwrap() > 0);
        assert!(
            figures["serve"]["start_ms"]
                .as_f64()
                .is_some_and(|ms| ms > 0.0),
            "ca-admin serve started on the filled directory"
        );
        assert!(figures["open_millis"].as_f64().is_some());
    }
    let rows = report["rows"].as_array().expect("rows");
    assert!(rows
        .iter()
        .all(|r| r["values"].as_array().map(Vec::len) == Some(sizes.len())));
}
