//! The console in a real browser: Debian's Chromium driven by
//! `tests/browser/console.mjs` (playwright-core from npm, pointed at
//! `/usr/bin/chromium`; it downloads no browser). `scripts/test.sh` installs
//! Chromium and the npm package.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::ClientRun;

/// The longest one scenario may take (Chromium's start included).
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(120);

/// Where screenshots go: under the build's target directory (an integration test's
/// `env!("CARGO_TARGET_TMPDIR")`), so that they outlive the test's temporary
/// directory and can be looked at.
pub fn screenshot_dir(target_tmpdir: &str, test: &str) -> PathBuf {
    Path::new(target_tmpdir)
        .join("console-screenshots")
        .join(test)
}

/// Fails (never skips) when Chromium, Node.js or playwright-core is missing.
pub fn require() {
    let script_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run the tests with scripts/test.sh, which installs Debian's chromium"
    );
    assert!(
        script_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run the tests with scripts/test.sh, which runs npm ci in tests/browser"
    );
}

/// A signed-in browser session's settings.
pub struct Console<'a> {
    /// The gateway's HTTPS base URL.
    pub base: &'a str,
    /// Who signs in.
    pub username: &'a str,
    /// Their password (empty for the single sign-on scenarios).
    pub password: &'a str,
    /// The test's directory (logs, the password file).
    pub dir: &'a Path,
    /// Where screenshots and downloads go.
    pub out: &'a Path,
}

impl Console<'_> {
    /// Runs one scenario of the script with extra arguments; returns its JSON report
    /// and fails the test with the script's output when it fails.
    pub fn run(&self, scenario: &str, args: &[&str]) -> Value {
        require();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/console.mjs");
        let mut command = Command::new("node");
        command
            .arg(&script)
            .arg("--base")
            .arg(self.base)
            .arg("--user")
            .arg(self.username);
        // Single sign-on scenarios sign in without one.
        if !self.password.is_empty() {
            let password_file = self.dir.join(format!("{}.browser-password", self.username));
            std::fs::write(&password_file, self.password).unwrap();
            command.arg("--password-file").arg(&password_file);
        }
        command
            .arg("--out")
            .arg(self.out)
            .arg(scenario)
            .args(args)
            .current_dir(self.dir);
        let run = ClientRun::spawn(
            &self.dir.join("logs"),
            &format!("chromium-{scenario}"),
            command,
        )
        .wait(SCENARIO_TIMEOUT);
        assert!(
            run.ok,
            "the browser scenario {scenario} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        let last = run.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(last)
            .unwrap_or_else(|e| panic!("{scenario}: no JSON report ({e}): {}", run.stdout))
    }
}
