//! Starting `ca-admin serve` on the bench's data directory: how long until it
//! answers `/healthz`, and how much memory it holds once idle.
//!
//! Both listeners bind 127.0.0.1 port 0 (no port can be taken meanwhile); the
//! HTTP address is read from the banner's `listening` line, and the start time
//! runs from the spawn to the first `200` from `/healthz`. The gateway is
//! stopped with SIGTERM (through `kill(1)`: the crate has no libc binding), so
//! it commits what it queued and closes its store cleanly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// How long a start may take before the bench gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `stop` waits after SIGTERM before it kills.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the gateway idles before its resident memory is read.
pub(super) const IDLE_BEFORE_RSS: Duration = Duration::from_secs(2);
/// The most of the gateway's standard error kept for an error message.
const STDERR_TAIL: usize = 16 * 1024;
/// How `ca-admin serve` is started.
#[derive(Debug, Clone)]
pub(super) struct Launcher {
    program: PathBuf,
}

impl Launcher {
    /// The running binary's own `serve`.
    pub(super) fn this_binary() -> Result<Self, String> {
        Ok(Self {
            program: std::env::current_exe()
                .map_err(|e| format!("finding the ca-admin binary: {e}"))?,
        })
    }

    fn command(&self, serve_args: &[String]) -> Command {
        let mut command = Command::new(&self.program);
        command.arg("serve").args(serve_args);
        command
    }
}

/// What one start of the gateway measured.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct ServeFigures {
    /// Spawn to the first `200` from `/healthz`, ms.
    pub start_ms: f64,
    /// VmRSS [`IDLE_BEFORE_RSS`] after that, MB (10^6 bytes); `None` where /proc is not there.
    pub rss_mb: Option<f64>,
}

/// A running gateway, killed if dropped before [`Gateway::stop`].
pub(super) struct Gateway {
    child: Option<Child>,
    banner: String,
    stderr: Arc<Mutex<String>>,
    /// Spawn to the first `200` from `/healthz`.
    pub started_in: Duration,
}

impl Gateway {
    /// Starts `serve` on `data_dir` and waits until `/healthz` answers.
    pub(super) fn start(launcher: &Launcher, data_dir: &Path) -> Result<Self, String> {
        let serve_args = [
            "--data-dir".to_string(),
            data_dir.display().to_string(),
            "--http-listen".to_string(),
            "127.0.0.1:0".to_string(),
            "--https-listen".to_string(),
            "127.0.0.1:0".to_string(),
        ];
        let spawned = Instant::now();
        let mut child = launcher
            .command(&serve_args)
            .env_remove(crate::protection::PASSPHRASE_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", launcher.program.display()))?;
        // Drain both pipes: a full pipe would block the gateway.
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let kept = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                    if kept.len() > STDERR_TAIL {
                        let cut = kept.len() - STDERR_TAIL / 2;
                        let cut = (cut..kept.len())
                            .find(|i| kept.is_char_boundary(*i))
                            .unwrap_or(kept.len());
                        kept.drain(..cut);
                    }
                    kept.push_str(&line);
                    kept.push('\n');
                }
            });
        }
        let (lines, received) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut gateway = Gateway {
            child: Some(child),
            banner: String::new(),
            stderr,
            started_in: Duration::ZERO,
        };
        let deadline = spawned + START_TIMEOUT;
        // The banner up to its `listening` line (the first MRAO's password comes before it).
        let http = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) => {
                    gateway.banner.push_str(&line);
                    gateway.banner.push('\n');
                    if let Some(url) = banner_value(&line, "listening") {
                        break parse_http_url(url)?;
                    }
                }
                Err(_) => return Err(gateway.failure("printed no `listening` line")),
            }
        };
        // The rest of standard output is read and dropped.
        std::thread::spawn(move || received.into_iter().for_each(drop));
        loop {
            if healthy(http) {
                break;
            }
            if Instant::now() >= deadline {
                return Err(gateway.failure("never answered /healthz"));
            }
            if let Some(child) = gateway.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(gateway.failure(&format!("exited ({status})")));
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        gateway.started_in = spawned.elapsed();
        Ok(gateway)
    }

    /// The value of a `  <label>  <value>` line of the banner read so far.
    pub(super) fn banner_value(&self, label: &str) -> Option<&str> {
        self.banner
            .lines()
            .find_map(|line| banner_value(line, label))
    }

    /// Idles for `idle`, then reads the gateway's resident memory.
    pub(super) fn idle_rss_mb(&self, idle: Duration) -> Option<f64> {
        std::thread::sleep(idle);
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024.0 / 1e6)
    }

    /// Stops it with SIGTERM and waits until it has exited (killed after a minute).
    pub(super) fn stop(mut self) -> Result<(), String> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !terminated {
            let _ = child.kill();
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() || !terminated => return Ok(()),
                Ok(Some(status)) => {
                    self.child = None;
                    return Err(self.failure(&format!("stopped with {status}")));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failure("did not stop within a minute of SIGTERM"));
                }
                Err(e) => return Err(format!("waiting for the gateway: {e}")),
            }
        }
    }

    /// An error message with the tail of what the gateway wrote to standard error.
    fn failure(&mut self, what: &str) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Let the reader threads take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        format!(
            "`ca-admin serve` {what}.\nstandard output:\n{}standard error (tail):\n{}",
            self.banner,
            self.stderr.lock().unwrap_or_else(|e| e.into_inner())
        )
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `value` of a banner line `  <label>  <value>` (indented label, two or more spaces, value).
fn banner_value<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("  ")?.strip_prefix(label)?;
    rest.starts_with("  ").then(|| rest.trim())
}

fn parse_http_url(url: &str) -> Result<SocketAddr, String> {
    url.strip_prefix("http://")
        .and_then(|a| a.trim_end_matches('/').parse().ok())
        .ok_or_else(|| format!("the gateway listens on '{url}', not http://ADDRESS:PORT"))
}

/// Whether `GET /healthz` answers `200`.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    response.starts_with(b"HTTP/1.1 200")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_values_are_read_by_label() {
        assert_eq!(
            banner_value("  listening       http://127.0.0.1:4242", "listening"),
            Some("http://127.0.0.1:4242")
        );
        assert_eq!(
            banner_value("  https cert      serial 01", "https"),
            None,
            "a longer label is another line"
        );
        assert_eq!(
            parse_http_url("http://127.0.0.1:4242").unwrap(),
            "127.0.0.1:4242".parse::<SocketAddr>().unwrap()
        );
    }
}
