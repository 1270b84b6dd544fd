//! The operator CLI (`ca-admin <command> --server ... --ca-cert ...`) as one
//! administrator: each operator has their own session file, and the
//! environment cannot leak a token, a server or a CA certificate into a test.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Run;

/// Runs `ca-admin` operator commands as one administrator, in one directory.
#[derive(Debug, Clone)]
pub struct Operator {
    binary: PathBuf,
    dir: PathBuf,
    session: PathBuf,
    server: String,
    ca_cert: Option<PathBuf>,
}

impl Operator {
    /// An operator named `name` (session file `<dir>/<name>.session.json`) against
    /// `server` (the gateway's HTTPS URL), trusting `<dir>/root.pem`.
    pub fn new(binary: impl AsRef<Path>, dir: &Path, name: &str, server: &str) -> Self {
        Self {
            binary: binary.as_ref().to_path_buf(),
            dir: dir.to_path_buf(),
            session: dir.join(format!("{name}.session.json")),
            server: server.to_string(),
            ca_cert: Some(PathBuf::from("root.pem")),
        }
    }

    /// The same operator trusting another CA certificate file; `None` gives no
    /// `--ca-cert`, so the CLI finds the trust root itself (`./ca-data`, the session).
    pub fn with_ca_cert(mut self, ca_cert: Option<&Path>) -> Self {
        self.ca_cert = ca_cert.map(Path::to_path_buf);
        self
    }

    /// The same operator (same session file) against another server URL, e.g. after a restart.
    pub fn with_server(mut self, server: &str) -> Self {
        self.server = server.to_string();
        self
    }

    /// The operator's session file.
    pub fn session(&self) -> &Path {
        &self.session
    }

    /// Runs `ca-admin ARGS --server S [--ca-cert C]`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.binary);
        command.args(args).args(["--server", &self.server]);
        if let Some(ca_cert) = &self.ca_cert {
            command.arg("--ca-cert").arg(ca_cert);
        }
        command
            .current_dir(&self.dir)
            .env("CERTWRIGHT_SESSION", &self.session)
            .env_remove("CERTWRIGHT_TOKEN")
            .env_remove("CERTWRIGHT_SERVER")
            .env_remove("CERTWRIGHT_CA_CERT")
            .env_remove("CERTWRIGHT_PASSWORD")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.binary.display()))
            .into()
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert!(
            run.ok,
            "ca-admin {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Runs a command with `--json` that must succeed; returns its output parsed.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = args.to_vec();
        full.push("--json");
        let out = self.ok(&full);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }

    /// `ca-admin login` with the password in a file (`<dir>/<username>.password`).
    pub fn login_run(&self, username: &str, password: &str) -> Run {
        let file = self.dir.join(format!("{username}.password"));
        std::fs::write(&file, format!("{password}\n")).unwrap();
        self.run(&[
            "login",
            "--username",
            username,
            "--password-file",
            file.to_str().unwrap(),
        ])
    }

    /// Logs in; fails the test if the login fails.
    pub fn login(&self, username: &str, password: &str) {
        let run = self.login_run(username, password);
        assert!(
            run.ok,
            "ca-admin login --username {username} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
    }

    /// The id of the demo organization `Demo`, as text for the next command line.
    pub fn demo_org(&self) -> String {
        let orgs = self.json(&["org", "list"]);
        items(&orgs)
            .into_iter()
            .find(|o| o["name"] == "Demo")
            .map(|o| id(&o))
            .unwrap_or_else(|| panic!("no organization Demo in {orgs}"))
    }
}

/// The rows of a `--json` listing: the array itself, or a page's `items`.
pub fn items(value: &serde_json::Value) -> Vec<serde_json::Value> {
    match value {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(o) => o
            .get("items")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The `id` of an API object (or of its `endpoint`), as text for the next command line.
pub fn id(value: &serde_json::Value) -> String {
    value
        .get("id")
        .or_else(|| value.get("endpoint").and_then(|e| e.get("id")))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or_else(|| panic!("no id in {value}"))
        .to_string()
}
