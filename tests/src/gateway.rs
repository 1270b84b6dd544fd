//! A running `ca-admin serve` for the integration tests.
//!
//! Both listeners bind port 0 unless a test names an address, and the URLs are
//! read from the banner the gateway prints, so no test depends on a port being
//! free: the system picks one while binding. The banner's `  <label>   <value>`
//! lines (the first MRAO's `password`, `listening`, `https`, and whatever later
//! protocols announce there) are read with [`Gateway::banner_value`].

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a start may take before the test fails (the first start creates a hierarchy).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `stop` waits after SIGTERM before it kills.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// The most of the gateway's standard error kept for a failure message.
const STDERR_TAIL: usize = 64 * 1024;

/// A running `ca-admin serve`, killed when dropped.
pub struct Gateway {
    child: Child,
    banner: String,
    http_url: String,
    https_url: Option<String>,
    stderr: Arc<Mutex<String>>,
}

impl Gateway {
    /// Starts `binary serve ARGS` in `dir` and waits until it prints `Ready.`.
    ///
    /// Unless `args` name them, the HTTP and HTTPS listeners bind 127.0.0.1 port 0.
    /// Panics, with what the gateway wrote to standard error, if it exits or is
    /// not ready within a minute.
    pub fn start(binary: impl AsRef<Path>, dir: &Path, args: &[&str]) -> Gateway {
        let binary = binary.as_ref();
        let mut command = Command::new(binary);
        command.arg("serve").args(args);
        for flag in ["--http-listen", "--https-listen"] {
            if !names_flag(args, flag) {
                command.args([flag, "127.0.0.1:0"]);
            }
        }
        let mut child = command
            .current_dir(dir)
            .env_remove(ca_admin::protection::PASSPHRASE_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));

        // Drain stderr: an unread pipe fills at 64 KiB and would block the gateway's logging.
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("stderr");
        let kept = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut kept = kept.lock().unwrap();
                // Keep the tail only: enough to explain a failure.
                if kept.len() > STDERR_TAIL {
                    kept.clear();
                }
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        // Stdout: everything up to `Ready.` is the banner; later lines are read and dropped.
        let pipe = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            let mut lines = BufReader::new(pipe).lines().map_while(Result::ok);
            for line in lines.by_ref() {
                banner.push_str(&line);
                banner.push('\n');
                if line == "Ready." {
                    let _ = tx.send(banner);
                    break;
                }
            }
            lines.for_each(drop);
        });
        let banner = match rx.recv_timeout(START_TIMEOUT) {
            Ok(banner) => banner,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // Let the stderr reader take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "the gateway did not start ({} serve {args:?} in {}):\n{}",
                    binary.display(),
                    dir.display(),
                    stderr.lock().unwrap()
                );
            }
        };
        let http_url = banner_value_in(&banner, "listening")
            .unwrap_or_else(|| panic!("the banner has no `listening` line:\n{banner}"))
            .to_string();
        let https_url = banner_value_in(&banner, "https")
            .unwrap_or_else(|| panic!("the banner has no `https` line:\n{banner}"));
        let https_url = https_url
            .starts_with("https://")
            .then(|| https_url.to_string());
        Gateway {
            child,
            banner,
            http_url,
            https_url,
            stderr,
        }
    }

    /// The plain-HTTP base URL (`http://127.0.0.1:PORT`): CA certificates, CRLs, OCSP, health.
    pub fn http_url(&self) -> &str {
        &self.http_url
    }

    /// The HTTPS base URL (`https://127.0.0.1:PORT`): the REST API and ACME. Panics if HTTPS is off.
    pub fn https_url(&self) -> &str {
        self.https_url
            .as_deref()
            .unwrap_or_else(|| panic!("this gateway runs no HTTPS listener:\n{}", self.banner))
    }

    /// Whether the HTTPS listener runs (`[https] enabled`).
    pub fn https_enabled(&self) -> bool {
        self.https_url.is_some()
    }

    /// The port of the HTTP listener.
    pub fn http_port(&self) -> u16 {
        url_port(&self.http_url)
    }

    /// The port of the HTTPS listener. Panics if HTTPS is off.
    pub fn https_port(&self) -> u16 {
        url_port(self.https_url())
    }

    /// GET `<http_url><path>` (e.g. `/ca/demo-root.pem`) with curl; panics on failure.
    pub fn get(&self, path: &str) -> Vec<u8> {
        crate::http_get(&format!("{}{path}", self.http_url))
    }

    /// GET `<http_url><path>` into the file `to`.
    pub fn download(&self, path: &str, to: &Path) {
        std::fs::write(to, self.get(path)).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    }

    /// Everything the gateway printed on standard output up to and including `Ready.`.
    pub fn banner(&self) -> &str {
        &self.banner
    }

    /// The value of the first banner line `  <label>  <value>`: an indented label, at
    /// least two spaces, then the value (the rest of the line, trimmed). `None` if no
    /// line has that label.
    ///
    /// The first start prints the first MRAO's `password` this way; `listening` and
    /// `https` are the listeners; later protocols print their secrets the same way
    /// (`SCEP challenge  <value>`, `EST password  <value>`).
    pub fn banner_value(&self, label: &str) -> Option<&str> {
        banner_value_in(&self.banner, label)
    }

    /// The first MRAO's password, printed once by the start that created it. Panics if
    /// this start printed none.
    pub fn first_admin_password(&self) -> String {
        self.banner_value("password")
            .unwrap_or_else(|| {
                panic!(
                    "this start printed no MRAO password (only the first does):\n{}",
                    self.banner
                )
            })
            .to_string()
    }

    /// What the gateway has written to standard error so far (its tail).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Stops it with SIGTERM and waits for it to exit, so the store is released
    /// (killed after 20 s).
    pub fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with the pid of our own child, which has not been waited for.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "the gateway did not stop within {} s of SIGTERM; killing it",
            STOP_TIMEOUT.as_secs()
        );
        // Drop kills and waits.
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `args` set `flag`, as `--flag VALUE` or `--flag=VALUE`.
fn names_flag(args: &[&str], flag: &str) -> bool {
    args.iter()
        .any(|a| *a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
}

/// The value of the first `  <label>  <value>` line of a banner.
pub fn banner_value_in<'a>(banner: &'a str, label: &str) -> Option<&'a str> {
    banner.lines().find_map(|line| {
        let rest = line
            .strip_prefix(char::is_whitespace)?
            .trim_start()
            .strip_prefix(label)?;
        // The label ends where the column gap begins: at least two spaces (or a tab),
        // so `https` does not match `https cert ...`.
        (rest.starts_with("  ") || rest.starts_with('\t')).then(|| rest.trim())
    })
}

/// The port of `scheme://host:port[/...]`.
fn url_port(url: &str) -> u16 {
    url.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .and_then(|authority| authority.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANNER: &str = "\
Created the first administrator (MRAO):
  username        admin
  password        -x_Y9zz
  This password is shown once. Log in with: ca-admin login --username admin
Certwright gateway
  listening       http://127.0.0.1:40123
  https           https://127.0.0.1:40124
  https cert      serial 01 from 'demo-issuing' for localhost, valid until 2030-01-01T00:00:00Z, renewed in place
  SCEP challenge  c-h-a
Ready.
";

    #[test]
    fn banner_values_are_read_by_label() {
        assert_eq!(banner_value_in(BANNER, "password"), Some("-x_Y9zz"));
        assert_eq!(banner_value_in(BANNER, "username"), Some("admin"));
        assert_eq!(
            banner_value_in(BANNER, "listening"),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(
            banner_value_in(BANNER, "https"),
            Some("https://127.0.0.1:40124")
        );
        assert_eq!(banner_value_in(BANNER, "SCEP challenge"), Some("c-h-a"));
        assert!(banner_value_in(BANNER, "https cert")
            .unwrap()
            .starts_with("serial 01"));
        // Not a label: a word inside a sentence, a prefix of a label, an unindented line.
        assert_eq!(banner_value_in(BANNER, "This"), None);
        assert_eq!(banner_value_in(BANNER, "pass"), None);
        assert_eq!(banner_value_in(BANNER, "Certwright"), None);
        assert_eq!(banner_value_in(BANNER, "EST password"), None);
    }

    #[test]
    fn listen_flags_and_ports_are_recognized() {
        assert!(names_flag(
            &["--https-listen", "127.0.0.1:1"],
            "--https-listen"
        ));
        assert!(names_flag(
            &["--https-listen=127.0.0.1:1"],
            "--https-listen"
        ));
        assert!(!names_flag(&["--https-listen-x"], "--https-listen"));
        assert!(!names_flag(&["--https-listen"], "--http-listen"));
        assert_eq!(url_port("http://127.0.0.1:40123"), 40123);
        assert_eq!(url_port("https://[::1]:8443/api/v1/"), 8443);
    }
}
