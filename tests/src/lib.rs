//! Helpers shared by the workspace integration tests: running the gateway
//! binary, openssl and pkilint, and free loopback ports.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The result of a command, with its output as text.
#[derive(Debug)]
pub struct Run {
    /// Exit success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs a program with arguments in a directory.
pub fn run_in(dir: &Path, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Run {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env_remove(ca_admin::protection::PASSPHRASE_ENV)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"))
        .into()
}

/// Runs a program and panics with its output if it fails.
pub fn must(dir: &Path, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Run {
    let program_text = format!("{:?}", program.as_ref());
    let run = run_in(dir, program, args);
    assert!(
        run.ok,
        "{program_text} {args:?} failed:\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run
}

/// The path of a binary next to the test executable's target directory.
pub fn gateway_binary(path_from_env: &str) -> PathBuf {
    PathBuf::from(path_from_env)
}

/// A free loopback port (bound then released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether pkilint's linters are installed (the test script installs them; CI runs that script).
pub fn pkilint_available() -> bool {
    Command::new("lint_pkix_cert")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs a pkilint linter and returns the findings of severity ERROR or worse (empty: clean).
///
/// Panics if the linter is missing: the README's test command installs it, and a
/// lint that silently does not run would prove nothing.
pub fn pkilint_errors(dir: &Path, linter: &str, args: &[&str]) -> String {
    assert!(
        pkilint_available(),
        "pkilint is not installed: run the tests with scripts/test.sh, which installs it"
    );
    let mut full = vec!["lint", "-s", "ERROR"];
    full.extend_from_slice(args);
    let run = run_in(dir, linter, &full);
    // pkilint exits non-zero when it reports findings at or above the threshold.
    format!(
        "{}{}",
        run.stdout.trim(),
        if run.ok { "" } else { run.stderr.trim() }
    )
}

/// The first PEM certificate block of a text.
pub fn first_pem_certificate(text: &str) -> String {
    let end = "-----END CERTIFICATE-----";
    let stop = text.find(end).expect("a PEM certificate") + end.len();
    format!("{}\n", &text[..stop])
}

/// A running `ca-admin serve`, killed when dropped.
pub struct Gateway {
    child: Child,
    /// The base URL it listens on.
    pub base: String,
    /// What it printed at start.
    pub banner: String,
}

impl Gateway {
    /// Starts the gateway binary in `dir` with `args` and waits for "Ready.".
    pub fn start(binary: &Path, dir: &Path, args: &[&str], port: u16) -> Gateway {
        let listen = format!("127.0.0.1:{port}");
        // The HTTPS listener defaults to 127.0.0.1:8443, which gateways started in
        // parallel would fight over: unless the test picks an address, let the
        // system pick a free port.
        let https_default: &[&str] = if args.contains(&"--https-listen") {
            &[]
        } else {
            &["--https-listen", "127.0.0.1:0"]
        };
        let mut child = Command::new(binary)
            .arg("serve")
            .args(args)
            .args(https_default)
            .args(["--http-listen", &listen])
            .current_dir(dir)
            .env_remove(ca_admin::protection::PASSPHRASE_ENV)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the gateway");
        // Drain stderr too: an unread pipe fills at 64 KiB and would block the gateway's logging.
        let stderr = child.stderr.take().expect("stderr");
        let errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let errors_writer = errors.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut kept = errors_writer.lock().unwrap();
                // Keep the tail only: enough to explain a failed start.
                if kept.len() > 64 * 1024 {
                    kept.clear();
                }
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                banner.push_str(&line);
                banner.push('\n');
                if line == "Ready." {
                    let _ = tx.send(banner.clone());
                }
            }
        });
        let banner = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(b) => b,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!("the gateway did not start: {}", errors.lock().unwrap());
            }
        };
        Gateway {
            child,
            base: format!("http://{listen}"),
            banner,
        }
    }

    /// Stops it with SIGTERM and waits (the store is released when it exits).
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET a URL with curl, returning the body bytes (panics on HTTP failure).
pub fn http_get(url: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sS", "--fail", url])
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "GET {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes a CSR with `openssl req` and returns its path.
pub fn openssl_csr(
    dir: &Path,
    name: &str,
    key_args: &[&str],
    subject: &str,
    san: Option<&str>,
) -> PathBuf {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    let mut args = vec![
        "req", "-new", "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject,
    ];
    args.extend_from_slice(key_args);
    let ext;
    if let Some(san) = san {
        ext = format!("subjectAltName={san}");
        args.push("-addext");
        args.push(&ext);
    }
    must(dir, "openssl", &args);
    dir.join(csr)
}
