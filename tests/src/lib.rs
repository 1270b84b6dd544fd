//! Helpers shared by the workspace integration tests: running the gateway
//! binary ([`gateway`]) and the operator CLI ([`cli`]), openssl and pkilint,
//! free loopback ports and a relay for third-party clients' listeners ([`relay`]).

pub mod browser;
pub mod cli;
pub mod client_run;
pub mod curl;
pub mod est;
pub mod gateway;
pub mod intune;
pub mod relay;
pub mod revocation;
pub mod saml;

pub use cli::Operator;
pub use client_run::ClientRun;
pub use gateway::Gateway;
pub use relay::Relay;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// A free loopback port (bound then released). Someone else may take it before the
/// caller binds it: use it only where a bind failure is noticed and retried (see
/// [`relay`]); the gateway's own listeners bind port 0 ([`Gateway::start`]).
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
