//! Prometheus metrics, in the text exposition format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters the HTTP listener keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests by route family.
    pub requests_ca: AtomicU64,
    /// CRL downloads.
    pub requests_crl: AtomicU64,
    /// OCSP requests answered.
    pub requests_ocsp: AtomicU64,
    /// Everything else (health, metrics, not found).
    pub requests_other: AtomicU64,
    /// Responses with a 4xx status.
    pub client_errors: AtomicU64,
    /// Responses with a 5xx status.
    pub server_errors: AtomicU64,
    /// CRLs re-signed by the background refresher.
    pub crls_refreshed: AtomicU64,
}

impl Metrics {
    /// The exposition text.
    pub fn render(
        &self,
        certificates_issued: usize,
        certificates_revoked: usize,
        store_commits: u64,
        store_batches: u64,
    ) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP certwright_http_requests_total HTTP requests by route family."
        );
        let _ = writeln!(out, "# TYPE certwright_http_requests_total counter");
        for (route, counter) in [
            ("ca", &self.requests_ca),
            ("crl", &self.requests_crl),
            ("ocsp", &self.requests_ocsp),
            ("other", &self.requests_other),
        ] {
            let _ = writeln!(
                out,
                "certwright_http_requests_total{{route=\"{route}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP certwright_http_errors_total HTTP error responses by class."
        );
        let _ = writeln!(out, "# TYPE certwright_http_errors_total counter");
        let _ = writeln!(
            out,
            "certwright_http_errors_total{{class=\"4xx\"}} {}",
            get(&self.client_errors)
        );
        let _ = writeln!(
            out,
            "certwright_http_errors_total{{class=\"5xx\"}} {}",
            get(&self.server_errors)
        );
        let _ = writeln!(
            out,
            "# HELP certwright_crls_refreshed_total CRLs re-signed by the refresher."
        );
        let _ = writeln!(out, "# TYPE certwright_crls_refreshed_total counter");
        let _ = writeln!(
            out,
            "certwright_crls_refreshed_total {}",
            get(&self.crls_refreshed)
        );
        let _ = writeln!(
            out,
            "# HELP certwright_certificates Certificates in the store by status."
        );
        let _ = writeln!(out, "# TYPE certwright_certificates gauge");
        let _ = writeln!(
            out,
            "certwright_certificates{{status=\"issued\"}} {certificates_issued}"
        );
        let _ = writeln!(
            out,
            "certwright_certificates{{status=\"revoked\"}} {certificates_revoked}"
        );
        let _ = writeln!(
            out,
            "# HELP certwright_store_commits_total Durable store transactions since start."
        );
        let _ = writeln!(out, "# TYPE certwright_store_commits_total counter");
        let _ = writeln!(out, "certwright_store_commits_total {store_commits}");
        let _ = writeln!(out, "# HELP certwright_store_batches_total Write batches committed since start (batches/commits = group-commit factor).");
        let _ = writeln!(out, "# TYPE certwright_store_batches_total counter");
        let _ = writeln!(out, "certwright_store_batches_total {store_batches}");
        out
    }
}
