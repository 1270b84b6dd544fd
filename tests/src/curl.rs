//! curl as an HTTP client for the tests: one exchange per call, its status, headers
//! and body kept, trusting the gateway's root and, where a test needs another client
//! address, sending from it (`--interface 127.0.0.x`: on Linux every address of
//! 127.0.0.0/8 is the loopback's, so a gateway listening on 127.0.0.1 sees the request
//! come from 127.0.0.x).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::run_in;

/// One HTTP exchange as curl saw it.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The raw header block (HTTP/1.1: as sent, names in their case).
    pub headers: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The first value of a header (names compared without regard to case).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }

    /// The body as JSON; panics with the answer when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    /// `Retry-After` in seconds, if the answer has one.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after").and_then(|v| v.parse().ok())
    }
}

/// curl from one client address (or the default one), in a test's directory.
#[derive(Debug, Clone)]
pub struct Curl {
    dir: PathBuf,
    ca_cert: String,
    from: Option<String>,
}

static EXCHANGES: AtomicU64 = AtomicU64::new(0);

impl Curl {
    /// curl in `dir`, trusting `ca_cert` (a path, relative to `dir` or absolute).
    pub fn new(dir: &Path, ca_cert: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            ca_cert: ca_cert.to_string(),
            from: None,
        }
    }

    /// The same client sending from `address` (`--interface`), e.g. `127.0.0.2`.
    pub fn from(&self, address: &str) -> Self {
        Self {
            from: Some(address.to_string()),
            ..self.clone()
        }
    }

    /// `curl -X METHOD EXTRA... URL` over HTTP/1.1; panics when curl itself fails
    /// (no connection), not on an HTTP error status.
    pub fn run(&self, method: &str, url: &str, extra: &[&str]) -> Answer {
        let n = EXCHANGES.fetch_add(1, Ordering::Relaxed);
        let body = self.dir.join(format!("curl-{n}.body"));
        let headers = self.dir.join(format!("curl-{n}.headers"));
        let mut args = vec![
            "-sS",
            "--http1.1",
            "--cacert",
            &self.ca_cert,
            "-o",
            body.to_str().unwrap(),
            "-D",
            headers.to_str().unwrap(),
            "-w",
            "%{http_code}",
            "-X",
            method,
        ];
        if let Some(from) = &self.from {
            args.extend(["--interface", from]);
        }
        args.extend_from_slice(extra);
        args.push(url);
        let run = run_in(&self.dir, "curl", &args);
        assert!(run.ok, "curl {url} failed: {}{}", run.stdout, run.stderr);
        let answer = Answer {
            status: run.stdout.trim().parse().unwrap_or(0),
            headers: std::fs::read_to_string(&headers).unwrap_or_default(),
            body: std::fs::read(&body).unwrap_or_default(),
        };
        let _ = std::fs::remove_file(&body);
        let _ = std::fs::remove_file(&headers);
        answer
    }
}
