//! ACME interop with real clients against a running `ca-admin serve`, as the
//! issue lays it out:
//!
//! - certbot with external account binding over http-01 (`certonly
//!   --standalone`, then `renew --force-renewal`, then `revoke`);
//! - lego over http-01 (`run`, `renew`, `revoke`) and over tls-alpn-01;
//! - an endpoint with an approval queue: certbot polls while the test
//!   approves its request through `ca-admin`, and lego polls while the test
//!   declines one; and certbot polls while an administrator approves its
//!   request in the web console, in Chromium (`certwright_tests::browser`), and
//!   then finds, downloads and revokes the certificate there.
//!
//! Each client brings its own challenge listener on a loopback port; the
//! gateway's `[acme.validation]` table points every test name at 127.0.0.1 and
//! its validators at two relays the test holds for its whole run, which forward
//! to the client's port. A client whose port was taken between the test picking
//! it and the client binding it says so; the relays then move to new ports and
//! the client runs once more (`Ca::run_client`), the gateway untouched. Every certificate is checked with `openssl
//! verify`, pkilint's PKIX and CA/Browser Forum linters, and each revocation
//! with `openssl ocsp` against the gateway's responder.
//!
//! certbot and lego come from Debian's packages; `scripts/test.sh` installs
//! them. Nothing is skipped: a missing client fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use certwright_tests::cli::{id, items};
use certwright_tests::relay::port_taken;
use certwright_tests::ClientRun;
use certwright_tests::{
    first_pem_certificate, free_port, must, pkilint_errors, run_in, Gateway, Operator, Relay, Run,
};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

/// The longest one client command may take (issuance, renewal, revocation).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// How long the test waits for a queued client's request to reach the RA.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(60);

/// The names the tests ask for; the gateway's validators resolve each to 127.0.0.1.
const NAMES: &[&str] = &["a.test", "b.test", "c.test", "q.test", "d.test"];

/// Fails (never skips) when a client is missing.
fn require(tool: &str) {
    let present = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        present,
        "{tool} is not installed: run the tests with scripts/test.sh, which installs certbot and lego"
    );
}

/// A gateway set up for ACME interop, with an MRAO session. Dropping it stops the
/// gateway before the temporary directory goes.
struct Ca {
    gateway: Gateway,
    /// The first MRAO, logged in.
    admin: Operator,
    /// The first MRAO's password (the browser test signs in with it).
    password: String,
    dir: PathBuf,
    /// Where the validators connect for http-01; forwards to the client's listener.
    http01: Relay,
    /// Where the validators connect for tls-alpn-01; forwards to the client's listener.
    tls_alpn: Relay,
    started: Instant,
    _tmp: tempfile::TempDir,
}

impl Ca {
    /// Starts the demo gateway, stops it, points its ACME validators at this
    /// test's relays, starts it again and logs in as the first MRAO.
    fn start() -> Ca {
        let started = Instant::now();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let http01 = Relay::start(free_port());
        let tls_alpn = Relay::start(free_port());

        // The first start creates the demo (hierarchy, MRAO, organization Demo with
        // the ACME endpoint `default`) and writes ca-data/certwright.toml.
        let first = Gateway::start(BIN, &dir, &[]);
        let password = first.first_admin_password();
        first.stop();
        configure_validation(&dir, http01.port(), tls_alpn.port());
        let gateway = Gateway::start(BIN, &dir, &[]);

        gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));
        gateway.download("/ca/demo-issuing.pem", &dir.join("issuing.pem"));
        let admin = Operator::new(BIN, &dir, "admin", gateway.https_url());
        admin.login("admin", &password);
        let ca = Ca {
            gateway,
            admin,
            password,
            dir,
            http01,
            tls_alpn,
            started,
            _tmp: tmp,
        };
        ca.check_directory("default");
        ca.step("gateway ready");
        ca
    }

    /// Prints how long the test has run, for the timings in the report.
    fn step(&self, what: &str) {
        println!("[{:6.1} s] {what}", self.started.elapsed().as_secs_f64());
    }

    /// An ACME endpoint's directory URL.
    fn directory(&self, endpoint: &str) -> String {
        format!("{}/acme/{endpoint}/directory", self.gateway.https_url())
    }

    /// The directory answers over HTTPS with the gateway's own root trusted: a
    /// plain failure here says more than a client's retry loop would.
    fn check_directory(&self, endpoint: &str) {
        let url = self.directory(endpoint);
        let run = run_in(
            &self.dir,
            "curl",
            &["-sS", "--fail", "--cacert", "root.pem", &url],
        );
        assert!(
            run.ok,
            "GET {url} failed (is the ACME server mounted?): {}{}",
            run.stdout, run.stderr
        );
        let directory: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", run.stdout));
        for resource in ["newNonce", "newAccount", "newOrder", "revokeCert"] {
            assert!(
                directory[resource].is_string(),
                "{url} has no {resource}: {directory}"
            );
        }
    }

    /// Creates an ACME endpoint of Demo with the tls-server profile; returns its id.
    fn create_endpoint(&self, name: &str, approval: &str, eab_required: bool) -> String {
        let org = self.admin.demo_org();
        let mut args = vec![
            "endpoint",
            "create",
            "--name",
            name,
            "--kind",
            "acme",
            "--org",
            &org,
            "--profile",
            "tls-server",
            "--approval",
            approval,
        ];
        if eab_required {
            args.push("--eab-required");
        }
        let created = self.admin.json(&args);
        let endpoint = id(&created);
        let listed = self.admin.json(&["endpoint", "list"]);
        assert!(
            items(&listed)
                .iter()
                .any(|e| e["name"] == name && id(e) == endpoint),
            "endpoint list does not show {name} ({endpoint}): {listed}"
        );
        self.check_directory(name);
        endpoint
    }

    /// A new EAB key of an endpoint, as `ca-admin endpoint eab-key` prints it for a
    /// user to copy: the certbot flags it suggests (checked against the key id and
    /// the HMAC key it prints, and against its lego flags).
    fn eab_certbot_flags(&self, endpoint: &str) -> Vec<String> {
        let out = self.admin.ok(&["endpoint", "eab-key", endpoint]);
        let value = |label: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(label))
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|| panic!("eab-key printed no `{label}` line:\n{out}"))
        };
        let kid = value("EAB key id:");
        let hmac = value("EAB HMAC key:")
            .strip_suffix(" (shown once)")
            .unwrap_or_else(|| panic!("{out}"))
            .to_string();
        // `--flag=VALUE`: the HMAC key is random base64url and may begin with `-`,
        // which certbot's and lego's parsers take for an option in `--flag VALUE`.
        let certbot = value("certbot:");
        assert_eq!(
            certbot,
            format!("--eab-kid={kid} --eab-hmac-key={hmac}"),
            "{out}"
        );
        assert_eq!(
            value("lego:"),
            format!("--eab --kid={kid} --hmac={hmac}"),
            "{out}"
        );
        certbot.split_whitespace().map(str::to_string).collect()
    }

    /// Runs a client to its end. Its challenge listener binds the relays' current
    /// targets; if that fails because the port was taken since it was picked, the
    /// relays move to new ports and the client runs once more.
    fn run_client(&self, label: &str, command: impl Fn() -> Command) -> Run {
        let run = ClientRun::spawn(&self.dir.join("logs"), label, command()).wait(CLIENT_TIMEOUT);
        if run.ok || !self.listener_port_taken(label, &run.stdout, &run.stderr) {
            return run;
        }
        ClientRun::spawn(&self.dir.join("logs"), &format!("{label}-retry"), command())
            .wait(CLIENT_TIMEOUT)
    }

    /// [`Ca::run_client`], failing with the client's output unless it succeeded.
    fn client_success(&self, label: &str, command: impl Fn() -> Command) -> Run {
        let run = self.run_client(label, command);
        assert!(
            run.ok,
            "{label} failed:\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
        run
    }

    /// Starts a client that will wait in the approval queue and returns it with its
    /// request's id once the request for `name` is there (retrying once, as
    /// [`Ca::run_client`] does, if the client's listener port was taken).
    fn spawn_until_queued(
        &self,
        label: &str,
        name: &str,
        command: impl Fn() -> Command,
    ) -> (ClientRun, String) {
        let mut client = ClientRun::spawn(&self.dir.join("logs"), label, command());
        match self.wait_for_queued_request(name, &mut client) {
            Ok(request) => (client, request),
            Err((stdout, stderr)) if self.listener_port_taken(label, &stdout, &stderr) => {
                let mut client = ClientRun::spawn(&self.dir.join("logs"), &format!("{label}-retry"), command());
                match self.wait_for_queued_request(name, &mut client) {
                    Ok(request) => (client, request),
                    Err((stdout, stderr)) => panic!(
                        "{label}-retry exited before its request for {name} reached the queue:\nstdout: {stdout}\nstderr: {stderr}"
                    ),
                }
            }
            Err((stdout, stderr)) => panic!(
                "{label} exited before its request for {name} reached the queue:\nstdout: {stdout}\nstderr: {stderr}"
            ),
        }
    }

    /// Whether a failed client's output says its listener port is taken; if so, the
    /// relays forward to new ports from now on.
    fn listener_port_taken(&self, label: &str, stdout: &str, stderr: &str) -> bool {
        if !port_taken(&format!("{stdout}\n{stderr}")) {
            return false;
        }
        let (http01, tls_alpn) = (free_port(), free_port());
        self.step(&format!(
            "{label}: its listener port was taken (ports {} / {}); once more on {http01} / {tls_alpn}",
            self.http01.target(),
            self.tls_alpn.target()
        ));
        self.http01.retarget(http01);
        self.tls_alpn.retarget(tls_alpn);
        true
    }

    /// Waits until a request for `name` is in the approval queue; returns its id.
    /// Returns the client's output instead if it exits first.
    fn wait_for_queued_request(
        &self,
        name: &str,
        client: &mut ClientRun,
    ) -> Result<String, (String, String)> {
        let deadline = Instant::now() + QUEUE_TIMEOUT;
        loop {
            let queue = self
                .admin
                .json(&["request", "list", "--status", "requested"]);
            if let Some(request) = items(&queue).into_iter().find(|r| {
                // The RA lists names with their kind: `dns:q.test`.
                r["names"].as_array().is_some_and(|names| {
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|n| n == name || n.strip_prefix("dns:") == Some(name))
                })
            }) {
                assert_eq!(request["channel"], "acme", "{request}");
                return Ok(id(&request));
            }
            if client.exited().is_some() {
                return Err(client.output());
            }
            if Instant::now() > deadline {
                let (stdout, stderr) = client.output();
                panic!(
                    "no request for {name} in the queue after {} s: {queue}\n{} so far:\nstdout: {stdout}\nstderr: {stderr}",
                    QUEUE_TIMEOUT.as_secs(),
                    client.label()
                );
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// certbot with its state under the temporary directory and the gateway's root trusted.
    fn certbot(&self, verb: &str, args: &[&str]) -> Command {
        let path = |name: &str| self.dir.join("certbot").join(name);
        let mut command = Command::new("certbot");
        command
            .arg(verb)
            .args(args)
            .arg("--config-dir")
            .arg(path("config"))
            .arg("--work-dir")
            .arg(path("work"))
            .arg("--logs-dir")
            .arg(path("logs"))
            .arg("--non-interactive")
            .env("REQUESTS_CA_BUNDLE", self.dir.join("root.pem"));
        command
    }

    /// `certbot certonly --standalone` for one name against an ACME directory, with no
    /// account e-mail, its http-01 listener on the relay's target.
    fn certbot_standalone(&self, server: &str, name: &str) -> Command {
        let listener = self.certbot_http();
        let mut args = vec![
            "--standalone",
            "--server",
            server,
            "--agree-tos",
            "--register-unsafely-without-email",
            "-d",
            name,
        ];
        args.extend(strings(&listener));
        self.certbot("certonly", &args)
    }

    /// Where certbot keeps the current certificate of a lineage.
    fn certbot_live(&self, name: &str) -> PathBuf {
        self.dir.join("certbot/config/live").join(name)
    }

    /// lego against an endpoint with its state in `<dir>/<state>` and the gateway's root trusted.
    fn lego(&self, state: &str, endpoint: &str, globals: &[&str], command: &[&str]) -> Command {
        let mut lego = Command::new("lego");
        lego.arg("--server")
            .arg(self.directory(endpoint))
            .args(["--accept-tos", "--email", "x@a.test", "--path"])
            .arg(self.dir.join(state))
            .args(globals)
            .args(command)
            .env("LEGO_CA_CERTIFICATES", self.dir.join("root.pem"));
        lego
    }

    /// The http-01 listener options of certbot (`certonly --standalone`, `renew`).
    fn certbot_http(&self) -> Vec<String> {
        vec![
            "--http-01-port".into(),
            self.http01.target().to_string(),
            "--http-01-address".into(),
            "127.0.0.1".into(),
        ]
    }

    /// The http-01 listener options of lego.
    fn lego_http(&self, name: &str) -> Vec<String> {
        vec![
            "--domains".into(),
            name.into(),
            "--http".into(),
            "--http.port".into(),
            format!("127.0.0.1:{}", self.http01.target()),
        ]
    }

    /// The tls-alpn-01 listener options of lego.
    fn lego_tls(&self, name: &str) -> Vec<String> {
        vec![
            "--domains".into(),
            name.into(),
            "--tls".into(),
            "--tls.port".into(),
            format!("127.0.0.1:{}", self.tls_alpn.target()),
        ]
    }

    /// Copies a client's certificate (leaf first) and its chain into `<label>.pem` and
    /// `<label>-chain.pem`, checks them, and returns the leaf's serial.
    fn check_issued(
        &self,
        label: &str,
        leaf_source: &Path,
        chain_source: &Path,
        name: &str,
    ) -> String {
        let leaf_text = std::fs::read_to_string(leaf_source)
            .unwrap_or_else(|e| panic!("{}: {e}", leaf_source.display()));
        let chain_text = std::fs::read_to_string(chain_source)
            .unwrap_or_else(|e| panic!("{}: {e}", chain_source.display()));
        let leaf = format!("{label}.pem");
        let chain = format!("{label}-chain.pem");
        std::fs::write(self.dir.join(&leaf), first_pem_certificate(&leaf_text)).unwrap();
        std::fs::write(self.dir.join(&chain), &chain_text).unwrap();
        check_certificate(&self.dir, &leaf, &chain, name)
    }

    /// Asks the gateway's OCSP responder about a certificate; it must say revoked, key compromise.
    fn assert_revoked(&self, leaf: &str) {
        let url = format!("{}/ocsp", self.gateway.http_url());
        let run = must(
            &self.dir,
            "openssl",
            &[
                "ocsp",
                "-issuer",
                "issuing.pem",
                "-cert",
                leaf,
                "-url",
                &url,
                "-CAfile",
                "root.pem",
            ],
        );
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(text.contains("Response verify OK"), "{text}");
        assert!(text.contains(&format!("{leaf}: revoked")), "{text}");
        assert!(text.contains("Reason: keyCompromise"), "{text}");
    }

    /// The RA's view of a request.
    fn request(&self, id: &str) -> Value {
        self.admin.json(&["request", "show", id])
    }
}

/// Points the ACME validators at this test's client listeners: every test name
/// resolves to 127.0.0.1, http-01 and tls-alpn-01 connect to the given ports.
///
/// The demo start writes the whole configuration, `[acme.validation]` included,
/// so the file is read, changed and written back through the gateway's own
/// configuration type (appending a second `[acme.validation]` table would make
/// it invalid TOML).
fn configure_validation(dir: &Path, http01_port: u16, tls_alpn_port: u16) {
    let path = dir.join("ca-data").join(ca_admin::config::CONFIG_FILE);
    let mut config = ca_admin::config::GatewayConfig::load(&path)
        .unwrap_or_else(|e| panic!("the demo start wrote no usable configuration: {e}"));
    let validation = &mut config.acme.validation;
    validation.http_port = http01_port;
    validation.tls_alpn_port = tls_alpn_port;
    validation.timeout_secs = 10;
    for name in NAMES {
        validation
            .hosts
            .insert(name.to_string(), "127.0.0.1".parse().unwrap());
    }
    config.write_into_data_dir().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(&format!("http_port = {http01_port}")),
        "the validation ports are not in {}:\n{text}",
        path.display()
    );
}

/// `openssl verify` (with the gateway's issuing CA, and with the chain the client
/// received), the name, and pkilint's PKIX and CA/B Forum TLS linters. Returns the serial.
fn check_certificate(dir: &Path, leaf: &str, chain: &str, name: &str) -> String {
    for untrusted in ["issuing.pem", chain] {
        let run = must(
            dir,
            "openssl",
            &[
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                untrusted,
                leaf,
            ],
        );
        assert!(run.stdout.contains(": OK"), "{}", run.stdout);
    }
    let san = must(
        dir,
        "openssl",
        &["x509", "-in", leaf, "-noout", "-ext", "subjectAltName"],
    )
    .stdout;
    assert!(san.contains(&format!("DNS:{name}")), "{leaf}: {san}");

    let findings = pkilint_errors(dir, "lint_pkix_cert", &[leaf]);
    assert!(
        findings.is_empty(),
        "pkilint PKIX errors for {leaf}: {findings}"
    );
    // A private CA's names are internal by design: `*.test` names and the
    // 127.0.0.1 CRL and OCSP URLs are what `cabf.internal_domain_name` reports.
    // That finding is expected; any other ERROR fails.
    let findings = pkilint_errors(dir, "lint_cabf_serverauth_cert", &["-d", leaf]);
    let unexpected = unexpected_cabf_findings(&findings);
    println!(
        "{leaf}: openssl verify OK, pkilint PKIX clean; pkilint CA/B: {} internal-name finding(s), nothing else",
        findings.matches("cabf.internal_domain_name").count()
    );
    assert!(
        unexpected.is_empty(),
        "pkilint CA/B Forum errors for {leaf} besides internal names: {unexpected:?}\nall findings:\n{findings}"
    );

    let serial = must(dir, "openssl", &["x509", "-in", leaf, "-noout", "-serial"]).stdout;
    let serial = serial.trim().trim_start_matches("serial=").to_uppercase();
    assert!(!serial.is_empty());
    serial
}

/// pkilint's finding lines other than `cabf.internal_domain_name`. Its report has
/// a `Validator @ path` line per validator and its findings indented below it;
/// anything else (a traceback, another finding) counts as unexpected.
fn unexpected_cabf_findings(findings: &str) -> Vec<String> {
    findings
        .lines()
        .filter(|line| !line.trim().is_empty())
        // A validator's header line: `SomeValidator @ certificate.tbsCertificate...`.
        .filter(|line| line.starts_with(char::is_whitespace) || !line.contains(" @ "))
        .filter(|line| {
            !line
                .trim_start()
                .starts_with("cabf.internal_domain_name (ERROR)")
        })
        .map(str::to_string)
        .collect()
}

fn strings(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn certbot_with_eab_over_http01_issues_renews_and_revokes() {
    require("certbot");
    let ca = Ca::start();
    let endpoint = ca.create_endpoint("eab", "auto", true);
    let eab = ca.eab_certbot_flags(&endpoint);
    let server = ca.directory("eab");
    // certonly with the http-01 listener on the relay's current target (read anew on a retry).
    let certonly = |extra: &[&str]| {
        let listener = ca.certbot_http();
        let mut args = vec![
            "--standalone",
            "--server",
            server.as_str(),
            "--agree-tos",
            "--register-unsafely-without-email",
            "-d",
            "a.test",
        ];
        args.extend(strings(&listener));
        args.extend_from_slice(extra);
        ca.certbot("certonly", &args)
    };

    // Without a binding there is no account: the directory says one is required
    // (certbot 2.1 reads `meta.externalAccountRequired` and stops before asking).
    let refused = ClientRun::spawn(&ca.dir.join("logs"), "certbot-no-eab", certonly(&[]))
        .wait(CLIENT_TIMEOUT);
    assert!(
        !refused.ok,
        "an EAB-required endpoint accepted an account without a binding:\n{}",
        refused.stdout
    );
    assert!(
        format!("{}{}", refused.stdout, refused.stderr).contains("externalAccountRequired")
            || format!("{}{}", refused.stdout, refused.stderr)
                .to_lowercase()
                .contains("external account"),
        "the refusal names the missing binding:\nstdout: {}\nstderr: {}",
        refused.stdout,
        refused.stderr
    );
    ca.step(&format!(
        "certbot without EAB refused: {}",
        refused
            .stderr
            .lines()
            .find(|l| l.to_lowercase().contains("external account"))
            .unwrap_or_default()
    ));

    // The flags exactly as the CLI suggests them (`--eab-hmac-key=VALUE`).
    ca.client_success("certbot-certonly", || certonly(&strings(&eab)));
    ca.step("certbot certonly done");
    let live = ca.certbot_live("a.test");
    for file in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"] {
        assert!(live.join(file).is_file(), "certbot wrote no {file}");
    }
    let first = ca.check_issued(
        "a-1",
        &live.join("cert.pem"),
        &live.join("chain.pem"),
        "a.test",
    );
    let listed = ca.admin.json(&["endpoint", "list"]);
    let bound = items(&listed)
        .into_iter()
        .find(|e| id(e) == endpoint)
        .and_then(|e| e["eab_keys"].as_array().and_then(|k| k.first().cloned()))
        .unwrap_or_else(|| panic!("endpoint {endpoint} has no EAB key: {listed}"));
    assert!(
        bound["bound_account"].is_string(),
        "the EAB key is not bound to the new account: {bound}"
    );

    // Without a terminal certbot 2.1 would first sleep up to 8 minutes (spreading
    // automated renewals) unless told not to.
    ca.client_success("certbot-renew", || {
        let listener = ca.certbot_http();
        let mut renew = vec![
            "--force-renewal",
            "--no-random-sleep-on-renew",
            "--cert-name",
            "a.test",
        ];
        renew.extend(strings(&listener));
        ca.certbot("renew", &renew)
    });
    ca.step("certbot renew done");
    let second = ca.check_issued(
        "a-2",
        &live.join("cert.pem"),
        &live.join("chain.pem"),
        "a.test",
    );
    assert_ne!(first, second, "the renewal kept the serial");

    let cert_path = live.join("cert.pem");
    ClientRun::spawn(
        &ca.dir.join("logs"),
        "certbot-revoke",
        ca.certbot(
            "revoke",
            &[
                "--cert-path",
                cert_path.to_str().unwrap(),
                "--reason",
                "keycompromise",
                "--no-delete-after-revoke",
                "--server",
                &server,
            ],
        ),
    )
    .success(CLIENT_TIMEOUT);
    ca.step("certbot revoke done");
    ca.assert_revoked("a-2.pem");
}

#[test]
fn lego_over_http01_runs_renews_and_revokes() {
    require("lego");
    let ca = Ca::start();
    // The relay's current target, read anew for each run (and on a retry).
    let lego = |command: &[&str]| {
        ca.lego(
            "lego",
            "default",
            &strings(&ca.lego_http("b.test")),
            command,
        )
    };

    // The first run finds its http-01 port taken (the test holds it), as a port
    // picked by free_port can be: lego says so, and runs once more on a new port
    // behind the relay.
    let taken = std::net::TcpListener::bind(("127.0.0.1", ca.http01.target()))
        .expect("hold the http-01 port");
    let run = ca.client_success("lego-run", || lego(&["run"]));
    drop(taken);
    let (first_out, first_err) = (
        std::fs::read_to_string(ca.dir.join("logs/lego-run.out")).unwrap_or_default(),
        std::fs::read_to_string(ca.dir.join("logs/lego-run.err")).unwrap_or_default(),
    );
    assert!(
        port_taken(&format!("{first_out}{first_err}")),
        "the first lego run did not report its port taken:\n{first_out}{first_err}"
    );
    assert!(
        ca.dir.join("logs/lego-run-retry.err").is_file(),
        "lego did not run again: {run:?}"
    );
    ca.step("lego run done (the second time, on a new port)");
    let certs = ca.dir.join("lego/certificates");
    let first = ca.check_issued(
        "b-1",
        &certs.join("b.test.crt"),
        &certs.join("b.test.issuer.crt"),
        "b.test",
    );

    // --days 9999 forces the renewal; without a terminal lego 4.9 would first
    // sleep up to 8 minutes (spreading automated renewals) unless told not to.
    ca.client_success("lego-renew", || {
        lego(&["renew", "--days", "9999", "--no-random-sleep"])
    });
    ca.step("lego renew done");
    let second = ca.check_issued(
        "b-2",
        &certs.join("b.test.crt"),
        &certs.join("b.test.issuer.crt"),
        "b.test",
    );
    assert_ne!(first, second, "the renewal kept the serial");

    ClientRun::spawn(
        &ca.dir.join("logs"),
        "lego-revoke",
        lego(&["revoke", "--reason", "1", "--keep"]),
    )
    .success(CLIENT_TIMEOUT);
    ca.step("lego revoke done");
    ca.assert_revoked("b-2.pem");
}

#[test]
fn lego_over_tls_alpn01_gets_a_certificate() {
    require("lego");
    let ca = Ca::start();
    ca.client_success("lego-tls-run", || {
        ca.lego(
            "lego",
            "default",
            &strings(&ca.lego_tls("c.test")),
            &["run"],
        )
    });
    ca.step("lego run (tls-alpn-01) done");
    let certs = ca.dir.join("lego/certificates");
    ca.check_issued(
        "c",
        &certs.join("c.test.crt"),
        &certs.join("c.test.issuer.crt"),
        "c.test",
    );
}

#[test]
fn certbot_waits_in_the_approval_queue_until_an_administrator_approves() {
    require("certbot");
    let ca = Ca::start();
    ca.create_endpoint("queued", "queue", false);
    let server = ca.directory("queued");
    // certbot 2.1 polls a processing order for up to 90 s after finalize.
    let (mut client, request) = ca.spawn_until_queued("certbot-queued", "q.test", || {
        ca.certbot_standalone(&server, "q.test")
    });
    ca.step(&format!("request {request} is in the queue"));
    // Still waiting: nothing was issued before the approval.
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        client.exited().is_none(),
        "certbot finished before the approval: {:?}",
        client.output()
    );
    let approved = ca
        .admin
        .json(&["request", "approve", &request, "--message", "interop test"]);
    assert_eq!(approved["status"], "issued", "{approved}");
    let approved_at = Instant::now();
    ca.step("approved");
    client.success(CLIENT_TIMEOUT);
    println!(
        "certbot picked the certificate up {:.1} s after the approval",
        approved_at.elapsed().as_secs_f64()
    );
    let live = ca.certbot_live("q.test");
    ca.check_issued(
        "q",
        &live.join("cert.pem"),
        &live.join("chain.pem"),
        "q.test",
    );
}

#[test]
fn certbot_finishes_when_an_administrator_approves_in_the_console_in_chromium() {
    require("certbot");
    certwright_tests::browser::require();
    let ca = Ca::start();
    ca.create_endpoint("queued", "queue", false);
    let server = ca.directory("queued");
    let (client, request) = ca.spawn_until_queued("certbot-console", "q.test", || {
        ca.certbot_standalone(&server, "q.test")
    });
    let out =
        certwright_tests::browser::screenshot_dir(env!("CARGO_TARGET_TMPDIR"), "acme-console");
    let browser = certwright_tests::browser::Console {
        base: ca.gateway.https_url(),
        username: "admin",
        password: &ca.password,
        dir: &ca.dir,
        out: &out,
    };
    // Sign in, see the dashboard's charts, approve the request in the queue (with the keyboard).
    let approved = browser.run("approve", &["--name", "q.test"]);
    assert_eq!(approved["request"], request.as_str(), "{approved}");
    ca.step("approved in Chromium");
    client.success(CLIENT_TIMEOUT);
    let live = ca.certbot_live("q.test");
    ca.check_issued(
        "q-console",
        &live.join("cert.pem"),
        &live.join("chain.pem"),
        "q.test",
    );
    let shown = ca.admin.json(&["request", "show", &request]);
    assert_eq!(shown["status"], "issued", "{shown}");
    let certificate = shown["certificate"].as_u64().expect("its certificate");

    // Filter the list, download the CSV and the chain, revoke with a reason.
    let found = browser.run("certificate", &["--name", "q.test"]);
    assert_eq!(
        found["certificate"],
        certificate.to_string().as_str(),
        "{found}"
    );
    assert_eq!(
        found["visited"],
        serde_json::json!([
            "Organizations",
            "Administrators",
            "Enrollment endpoints",
            "Certification authorities",
            "Certificate profiles",
            "Access control",
            "Audit log"
        ]),
        "{found}"
    );
    let csv = std::fs::read_to_string(found["csv"].as_str().unwrap()).unwrap();
    assert!(csv.starts_with("id,serial,status,subject"), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with(&format!("{certificate},")) && l.contains("dns:q.test")),
        "{csv}"
    );
    let pem = found["pem"].as_str().unwrap();
    let verify = run_in(
        &ca.dir,
        "openssl",
        &["verify", "-CAfile", "root.pem", "-untrusted", pem, pem],
    );
    assert!(
        verify.stdout.contains(": OK"),
        "{}{}",
        verify.stdout,
        verify.stderr
    );
    let downloaded = std::fs::read_to_string(pem).unwrap();
    let certbot_leaf = std::fs::read_to_string(live.join("cert.pem")).unwrap();
    assert_eq!(
        first_pem_certificate(&downloaded),
        first_pem_certificate(&certbot_leaf),
        "the console's download is the certificate certbot got"
    );
    let serial = ca.admin.json(&["cert", "show", &certificate.to_string()])["serial"]
        .as_str()
        .unwrap()
        .to_string();
    let crl = certwright_tests::revocation::crl_text(
        &ca.dir,
        ca.gateway.http_url(),
        "demo-issuing",
        "issuing.pem",
    );
    assert!(
        certwright_tests::revocation::crl_lists(&crl, &serial),
        "{serial} not in\n{crl}"
    );
    assert!(crl.contains("Key Compromise"), "{crl}");
    for shot in ["dashboard.png", "queue.png", "certificate.png"] {
        let size = std::fs::metadata(out.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 10_000, "{shot}: {size} bytes");
    }
    println!("screenshots in {}", out.display());
}

#[test]
fn lego_fails_with_declined_when_an_administrator_declines() {
    require("lego");
    let ca = Ca::start();
    ca.create_endpoint("queued", "queue", false);
    // lego 4.9 polls a processing order for --cert.timeout seconds and keeps
    // polling after the order turns invalid: it fails only when the time is up,
    // with the order's last error. The decline comes within a second of the
    // finalize, so the default 30 s is plenty; set it anyway.
    let (client, request) = ca.spawn_until_queued("lego-declined", "d.test", || {
        let http = ca.lego_http("d.test");
        let mut globals = strings(&http);
        globals.extend_from_slice(&["--cert.timeout", "30"]);
        ca.lego("lego", "queued", &globals, &["run"])
    });
    ca.step(&format!("request {request} is in the queue"));
    let declined = ca
        .admin
        .json(&["request", "decline", &request, "--message", "not this one"]);
    assert_eq!(declined["status"], "declined", "{declined}");
    ca.step("declined");
    let run = client.wait(CLIENT_TIMEOUT);
    assert!(
        !run.ok,
        "lego succeeded after a decline:\n{}\n{}",
        run.stdout, run.stderr
    );
    let output = format!("{}{}", run.stdout, run.stderr);
    println!(
        "lego's failure: {}",
        output.lines().last().unwrap_or_default()
    );
    assert!(
        output.contains("declined"),
        "lego's failure does not say declined:\n{output}"
    );
    assert!(
        !ca.dir.join("lego/certificates/d.test.crt").exists(),
        "lego wrote a certificate for a declined request"
    );
    assert_eq!(ca.request(&request)["status"], "declined");
}

#[test]
fn cabf_filter_keeps_everything_but_internal_names() {
    let report = "\
GeneralNameDnsNameInternalDomainNameValidator @ certificate.tbsCertificate.extensions.3.extnValue.subjectAltName.0.dNSName
    cabf.internal_domain_name (ERROR): Internal domain name: \"a.test\"
KeyUsagePresenceValidator @ certificate.tbsCertificate.extensions
    pkix.ca_certificate_no_ku_extension (ERROR)
Traceback (most recent call last):";
    assert_eq!(
        unexpected_cabf_findings(report),
        [
            "    pkix.ca_certificate_no_ku_extension (ERROR)",
            "Traceback (most recent call last):"
        ]
    );
    assert!(unexpected_cabf_findings(
        "X @ y\n    cabf.internal_domain_name (ERROR): Internal domain name: \"127.0.0.1\"\n"
    )
    .is_empty());
}
