//! SCEP interop with real clients against a running `ca-admin serve` (the demo
//! start: organization Demo with the SCEP endpoint `default`, profile `device`,
//! auto-approve, its static challenge printed once in the banner):
//!
//! - GetCACaps and GetCACert, on `/scep/default` and `/scep/default/pkiclient.exe`;
//! - micromdm's `scepclient` (2.1.0, Debian `scep`; it makes its own RSA-2048 key)
//!   enrolls with the static challenge, and renews with the certificate it got
//!   (RenewalReq: a new serial, the old certificate Replaced; once revoked, the
//!   certificate renews nothing); every certificate passes `openssl verify`
//!   against the demo root and pkilint's PKIX linter;
//! - a wrong or missing challenge fails and issues nothing;
//! - a one-time challenge minted with `ca-admin endpoint scep-challenge` enrolls
//!   once, and its binding to a subject holds;
//! - an endpoint with an approval queue answers PENDING; the running client
//!   re-sends its PKCSReq every 30 s and collects the certificate once an
//!   administrator approves (no second request is made), or gets FAILURE once one
//!   declines (here the client is stopped and run again with the same key: the
//!   same transaction, still no second request); a renewal through the queue is
//!   collected the same way;
//! - certmonger's `scep-submit` reads GetCACaps and GetCACert.
//!
//! scepclient encrypts to every certificate of the GetCACert answer unless
//! `-ca-fingerprint` names one, and cannot encrypt to the demo's P-256 CAs: every
//! run passes the SHA-256 fingerprint of the endpoint's RA certificate.
//!
//! Each test has its own temporary directory and gateway (listeners on port 0), so
//! they run in parallel. The clients come from Debian's `scep` and `certmonger`
//! packages; `scripts/test.sh` installs them. Nothing is skipped: a missing client
//! fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use certwright_tests::cli::{id, items};
use certwright_tests::gateway::banner_value_in;
use certwright_tests::ClientRun;
use certwright_tests::{must, pkilint_errors, run_in, Gateway, Operator, Run};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

/// micromdm's SCEP client (Debian package `scep`).
const SCEPCLIENT: &str = "scepclient";

/// certmonger's SCEP helper (Debian package `certmonger`).
const SCEP_SUBMIT: &str = "/usr/lib/certmonger/scep-submit";

/// The demo root and issuing CA certificates, relative to a test's directory.
const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";
const ISSUING_PEM: &str = "ca-data/cas/demo-issuing/certificate.pem";

/// The longest a client run answered at once (SUCCESS or FAILURE) may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest a pending scepclient may take to collect an approved certificate,
/// from its start: it sleeps 30 s after each PENDING before it asks again.
const PENDING_TIMEOUT: Duration = Duration::from_secs(120);

/// How long the test waits for a queued client's request to reach the RA.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(60);

/// The capabilities every client here relies on.
const CAPABILITIES: &[&str] = &[
    "POSTPKIOperation",
    "Renewal",
    "SHA-256",
    "AES",
    "SCEPStandard",
];

/// Fails (never skips) when a client is missing.
fn require(program: &str, version_arg: &str) {
    let present = Command::new(program)
        .arg(version_arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        present,
        "{program} is not installed: run the tests with scripts/test.sh, which installs \
         the Debian packages scep (scepclient) and certmonger (scep-submit)"
    );
}

/// A device: its own directory, where scepclient keeps its key (`dev.key`, made on
/// the first run), its CSR (`csr.pem`, reused by later runs) and its certificate
/// (`dev.crt`; when it exists, the next run is a RenewalReq signed with it).
struct Device {
    name: String,
    dir: PathBuf,
}

impl Device {
    fn certificate(&self) -> PathBuf {
        self.dir.join("dev.crt")
    }
}

/// The demo gateway with an MRAO session; dropping it stops the gateway before the
/// temporary directory goes.
struct Scep {
    gateway: Gateway,
    /// The first MRAO, logged in.
    admin: Operator,
    dir: PathBuf,
    /// The static challenge of the demo endpoint `default`, from the banner.
    challenge: String,
    started: Instant,
    _tmp: tempfile::TempDir,
}

impl Scep {
    /// Starts the demo gateway and logs in as the first MRAO.
    fn start() -> Scep {
        require(SCEPCLIENT, "-version");
        let started = Instant::now();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let gateway = Gateway::start(BIN, &dir, &[]);
        let password = gateway.first_admin_password();
        let challenge = gateway
            .banner_value("SCEP challenge")
            .unwrap_or_else(|| {
                panic!(
                    "the first start printed no `SCEP challenge` line:\n{}",
                    gateway.banner()
                )
            })
            .to_string();
        let announced = gateway
            .banner_value("SCEP")
            .unwrap_or_else(|| panic!("the banner has no `SCEP` line:\n{}", gateway.banner()));
        assert_eq!(
            announced,
            format!("{}/scep/default", gateway.http_url()),
            "{}",
            gateway.banner()
        );
        let admin = Operator::new(BIN, &dir, "admin", gateway.https_url())
            .with_ca_cert(Some(Path::new(ROOT_PEM)));
        admin.login("admin", &password);
        let scep = Scep {
            gateway,
            admin,
            dir,
            challenge,
            started,
            _tmp: tmp,
        };
        scep.step("gateway ready");
        scep
    }

    /// Prints how long the test has run, for the timings in the report.
    fn step(&self, what: &str) {
        println!("[{:6.1} s] {what}", self.started.elapsed().as_secs_f64());
    }

    /// An endpoint's SCEP URL.
    fn url(&self, endpoint: &str) -> String {
        format!("{}/scep/{endpoint}", self.gateway.http_url())
    }

    /// GET with curl: the body and its Content-Type. Fails on an HTTP error.
    fn get(&self, url: &str) -> (Vec<u8>, String) {
        let body = self.dir.join("curl.body");
        let run = run_in(
            &self.dir,
            "curl",
            &[
                "-sS",
                "--fail",
                "-o",
                body.to_str().unwrap(),
                "-w",
                "%{content_type}",
                url,
            ],
        );
        assert!(run.ok, "GET {url} failed: {}{}", run.stdout, run.stderr);
        (std::fs::read(&body).unwrap(), run.stdout.trim().to_string())
    }

    /// The certificates of an endpoint's GetCACert answer, as PEM blocks.
    fn ca_certificates(&self, endpoint: &str) -> Vec<String> {
        let (der, content_type) = self.get(&format!("{}?operation=GetCACert", self.url(endpoint)));
        assert_eq!(content_type, "application/x-x509-ca-ra-cert");
        pkcs7_certificates(&self.dir, &der)
    }

    /// The endpoint's RA certificate (`CN=<endpoint> SCEP RA`) from GetCACert.
    fn ra_certificate(&self, endpoint: &str) -> String {
        let wanted = format!("CN={endpoint} SCEP RA");
        self.ca_certificates(endpoint)
            .into_iter()
            .find(|pem| subject(&self.dir, pem) == wanted)
            .unwrap_or_else(|| panic!("GetCACert of '{endpoint}' holds no {wanted}"))
    }

    /// The SHA-256 fingerprint (hex) of the endpoint's RA certificate, for `-ca-fingerprint`.
    fn ra_fingerprint(&self, endpoint: &str) -> String {
        let pem = self.ra_certificate(endpoint);
        let file = self.dir.join(format!("{endpoint}-ra.pem"));
        std::fs::write(&file, &pem).unwrap();
        let out = must(
            &self.dir,
            "openssl",
            &[
                "x509",
                "-in",
                file.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        )
        .stdout;
        let hex: String = out
            .trim()
            .split_once('=')
            .unwrap_or_else(|| panic!("no fingerprint in {out}"))
            .1
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect();
        assert_eq!(hex.len(), 64, "{out}");
        hex
    }

    /// A new device directory (a new key on its first run).
    fn device(&self, name: &str) -> Device {
        let dir = self.dir.join("devices").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Device {
            name: name.to_string(),
            dir,
        }
    }

    /// scepclient for a device against an endpoint (common name = the device's name).
    fn scepclient(
        &self,
        device: &Device,
        endpoint: &str,
        challenge: Option<&str>,
        fingerprint: &str,
    ) -> Command {
        let mut command = Command::new(SCEPCLIENT);
        command
            .current_dir(&device.dir)
            .args(["-server-url", &self.url(endpoint)])
            .args(["-private-key", "dev.key", "-certificate", "dev.crt"])
            .args(["-cn", &device.name, "-ca-fingerprint", fingerprint]);
        if let Some(challenge) = challenge {
            command.args(["-challenge", challenge]);
        }
        command
    }

    /// Starts scepclient in the background; its output goes to `<dir>/logs/<label>.*`.
    fn spawn_scepclient(
        &self,
        label: &str,
        device: &Device,
        endpoint: &str,
        challenge: Option<&str>,
        fingerprint: &str,
    ) -> ClientRun {
        ClientRun::spawn(
            &self.dir.join("logs"),
            label,
            self.scepclient(device, endpoint, challenge, fingerprint),
        )
    }

    /// Runs scepclient to its end (a client that is answered at once).
    fn run_scepclient(
        &self,
        label: &str,
        device: &Device,
        endpoint: &str,
        challenge: Option<&str>,
        fingerprint: &str,
    ) -> Run {
        self.spawn_scepclient(label, device, endpoint, challenge, fingerprint)
            .wait(CLIENT_TIMEOUT)
    }

    /// Runs scepclient and fails with its output unless it got a certificate.
    fn enroll(
        &self,
        label: &str,
        device: &Device,
        endpoint: &str,
        challenge: Option<&str>,
        fingerprint: &str,
    ) -> Run {
        let run = self.run_scepclient(label, device, endpoint, challenge, fingerprint);
        assert!(
            run.ok && device.certificate().is_file(),
            "{label} got no certificate (exit ok: {}):\nstdout: {}\nstderr: {}\ngateway stderr (tail):\n{}",
            run.ok,
            run.stdout,
            run.stderr,
            tail(&self.gateway.stderr(), 4000)
        );
        assert!(
            run.stderr.contains("pkiStatus=SUCCESS"),
            "{label}: no SUCCESS in\n{}",
            run.stderr
        );
        run
    }

    /// Runs scepclient and fails unless the server answered FAILURE (and no certificate came).
    fn refused(
        &self,
        label: &str,
        device: &Device,
        endpoint: &str,
        challenge: Option<&str>,
        fingerprint: &str,
    ) -> Run {
        let run = self.run_scepclient(label, device, endpoint, challenge, fingerprint);
        assert_failure(label, &run);
        assert!(
            !device.certificate().exists(),
            "{label} failed yet wrote a certificate"
        );
        run
    }

    /// Every request the MRAO sees.
    fn requests(&self) -> Vec<Value> {
        items(&self.admin.json(&["request", "list", "--limit", "500"]))
    }

    /// Every certificate the MRAO sees.
    fn certificates(&self) -> Vec<Value> {
        items(&self.admin.json(&["cert", "list", "--limit", "500"]))
    }

    /// The certificate record with a serial (hex, any case, leading zeros ignored).
    fn certificate_by_serial(&self, serial: &str) -> Value {
        let all = self.certificates();
        all.iter()
            .find(|c| c["serial"].as_str().is_some_and(|s| same_serial(s, serial)))
            .cloned()
            .unwrap_or_else(|| panic!("no certificate with serial {serial} in {all:?}"))
    }

    /// The id of the SCEP endpoint with a name.
    fn scep_endpoint_id(&self, name: &str) -> String {
        let listed = self.admin.json(&["endpoint", "list"]);
        items(&listed)
            .into_iter()
            .find(|e| e["kind"] == "scep" && e["name"] == name)
            .map(|e| id(&e))
            .unwrap_or_else(|| panic!("no SCEP endpoint {name} in {listed}"))
    }

    /// Creates a SCEP endpoint of Demo (profile device) with an approval queue, reading
    /// its static challenge from the line the CLI prints once; returns (id, challenge).
    fn create_queued_endpoint(&self, name: &str) -> (String, String) {
        let org = self.admin.demo_org();
        let out = self.admin.ok(&[
            "endpoint",
            "create",
            "--name",
            name,
            "--kind",
            "scep",
            "--org",
            &org,
            "--profile",
            "device",
            "--approval",
            "queue",
        ]);
        // `created scep endpoint <id> (<name>)` and `scep_challenge (shown once): <value>`.
        let endpoint = out
            .lines()
            .find_map(|l| l.strip_prefix("created scep endpoint "))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no endpoint id in:\n{out}"))
            .to_string();
        let challenge = out
            .lines()
            .find_map(|l| l.strip_prefix("scep_challenge (shown once): "))
            .unwrap_or_else(|| panic!("no scep_challenge line in:\n{out}"))
            .trim()
            .to_string();
        assert!(!challenge.is_empty(), "{out}");
        (endpoint, challenge)
    }

    /// The requests of an endpoint.
    fn requests_of(&self, endpoint: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["endpoint"].as_u64().map(|e| e.to_string()).as_deref() == Some(endpoint))
            .collect()
    }

    /// Waits until a request of the endpoint is in the approval queue and the client
    /// has been told PENDING; returns the request's id. Fails, with the client's
    /// output, if the client exits first or nothing is queued in time.
    fn wait_until_pending(&self, endpoint: &str, client: &mut ClientRun) -> String {
        let deadline = Instant::now() + QUEUE_TIMEOUT;
        loop {
            let queue = items(
                &self
                    .admin
                    .json(&["request", "list", "--status", "requested"]),
            );
            let queued = queue.iter().find(|r| {
                r["endpoint"].as_u64().map(|e| e.to_string()).as_deref() == Some(endpoint)
            });
            let (stdout, stderr) = client.output();
            if let Some(request) = queued {
                if stderr.contains("pkiStatus=PENDING") {
                    assert_eq!(request["channel"], "scep", "{request}");
                    return id(request);
                }
            }
            if client.exited().is_some() {
                let (stdout, stderr) = client.output();
                panic!(
                    "{} exited before its request was pending:\nstdout: {stdout}\nstderr: {stderr}\nqueue: {queue:?}",
                    client.label()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "no pending request of endpoint {endpoint} after {} s: {queue:?}\n{} so far:\nstdout: {stdout}\nstderr: {stderr}",
                    QUEUE_TIMEOUT.as_secs(),
                    client.label()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// `openssl verify` against the demo root (the issuing CA untrusted), the subject's
    /// CN, and pkilint's PKIX linter without any ERROR finding. Returns the serial (hex).
    fn check_certificate(&self, device: &Device) -> String {
        let cert = device.certificate();
        let cert = cert.to_str().unwrap();
        let run = must(
            &self.dir,
            "openssl",
            &[
                "verify",
                "-CAfile",
                ROOT_PEM,
                "-untrusted",
                ISSUING_PEM,
                cert,
            ],
        );
        assert!(run.stdout.contains(": OK"), "{}", run.stdout);
        let pem = std::fs::read_to_string(cert).unwrap();
        assert_eq!(
            pem.matches("-----BEGIN CERTIFICATE-----").count(),
            1,
            "scepclient wrote more than the certificate: {pem}"
        );
        let subject = subject(&self.dir, &pem);
        assert!(
            subject
                .split(',')
                .any(|rdn| rdn == format!("CN={}", device.name)),
            "{cert}: subject {subject}"
        );
        // No filter: the device profile's certificates have no PKIX finding of
        // severity ERROR (or worse) at all.
        let findings = pkilint_errors(&self.dir, "lint_pkix_cert", &[cert]);
        assert!(
            findings.is_empty(),
            "pkilint PKIX errors for {cert}: {findings}"
        );
        let serial = must(
            &self.dir,
            "openssl",
            &["x509", "-in", cert, "-noout", "-serial"],
        )
        .stdout;
        let serial = serial.trim().trim_start_matches("serial=").to_string();
        assert!(!serial.is_empty());
        println!(
            "{}: openssl verify OK, pkilint PKIX clean, serial {serial}",
            device.name
        );
        serial
    }
}

/// The certificates of a DER PKCS#7, as PEM blocks, in the order openssl lists them.
fn pkcs7_certificates(dir: &Path, der: &[u8]) -> Vec<String> {
    let file = dir.join("pkcs7.der");
    std::fs::write(&file, der).unwrap();
    let out = must(
        dir,
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            file.to_str().unwrap(),
            "-print_certs",
        ],
    )
    .stdout;
    pem_blocks(&out)
}

/// The PEM certificate blocks of a text.
fn pem_blocks(text: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(stop) = rest[start..].find(END) else {
            break;
        };
        let stop = start + stop + END.len();
        blocks.push(format!("{}\n", &rest[start..stop]));
        rest = &rest[stop..];
    }
    blocks
}

/// A PEM block's base64 without line breaks, to compare certificates.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.trim().chars())
        .collect()
}

/// A certificate's subject in RFC 2253 form (`CN=x,O=y`).
fn subject(dir: &Path, pem: &str) -> String {
    let file = dir.join("subject.pem");
    std::fs::write(&file, pem).unwrap();
    let out = must(
        dir,
        "openssl",
        &[
            "x509",
            "-in",
            file.to_str().unwrap(),
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
        ],
    )
    .stdout;
    out.trim().trim_start_matches("subject=").to_string()
}

/// Whether two hex serials are the same number.
fn same_serial(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect::<String>()
            .to_ascii_lowercase()
            .trim_start_matches('0')
            .to_string()
    };
    norm(a) == norm(b)
}

/// scepclient's run ended in a CertRep FAILURE: it exits non-zero and says
/// `PKCSReq (19) request failed, failInfo: badRequest (2)`.
#[track_caller]
fn assert_failure(label: &str, run: &Run) {
    let output = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !run.ok && output.contains("request failed, failInfo:"),
        "{label} was not refused with a SCEP FAILURE (exit ok: {}):\nstdout: {}\nstderr: {}",
        run.ok,
        run.stdout,
        run.stderr
    );
}

/// The last `max` bytes (or so) of a log, without its terminal colour codes.
fn tail(text: &str, max: usize) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let start = plain.len().saturating_sub(max);
    let start = (start..plain.len())
        .find(|i| plain.is_char_boundary(*i))
        .unwrap_or(plain.len());
    plain[start..].to_string()
}

#[test]
fn get_ca_caps_and_get_ca_cert_answer_on_both_url_forms() {
    let scep = Scep::start();
    let root = std::fs::read_to_string(scep.dir.join(ROOT_PEM)).unwrap();
    let issuing = std::fs::read_to_string(scep.dir.join(ISSUING_PEM)).unwrap();
    let mut answers = Vec::new();
    for base in [
        scep.url("default"),
        format!("{}/pkiclient.exe", scep.url("default")),
    ] {
        let (caps, content_type) = scep.get(&format!("{base}?operation=GetCACaps"));
        assert!(
            content_type.starts_with("text/plain"),
            "{base}: {content_type}"
        );
        let caps = String::from_utf8(caps).expect("GetCACaps is text");
        let lines: Vec<&str> = caps.lines().map(str::trim).collect();
        for capability in CAPABILITIES {
            assert!(
                lines.contains(capability),
                "{base}: GetCACaps lacks {capability}:\n{caps}"
            );
        }

        let (der, content_type) = scep.get(&format!("{base}?operation=GetCACert"));
        assert_eq!(content_type, "application/x-x509-ca-ra-cert", "{base}");
        let certificates = pkcs7_certificates(&scep.dir, &der);
        assert_eq!(certificates.len(), 3, "{base}: {certificates:?}");
        let bodies: Vec<String> = certificates.iter().map(|c| pem_body(c)).collect();
        assert!(bodies.contains(&pem_body(&root)), "{base}: no demo root");
        assert!(
            bodies.contains(&pem_body(&issuing)),
            "{base}: no issuing CA"
        );
        let ra = certificates
            .iter()
            .find(|c| subject(&scep.dir, c) == "CN=default SCEP RA")
            .unwrap_or_else(|| panic!("{base}: no RA certificate in {certificates:?}"));
        // The RA certificate is issued by the issuing CA and may sign and decrypt.
        std::fs::write(scep.dir.join("ra.pem"), ra).unwrap();
        let run = must(
            &scep.dir,
            "openssl",
            &[
                "verify",
                "-CAfile",
                ROOT_PEM,
                "-untrusted",
                ISSUING_PEM,
                "ra.pem",
            ],
        );
        assert!(run.stdout.contains(": OK"), "{}", run.stdout);
        let usage = must(
            &scep.dir,
            "openssl",
            &["x509", "-in", "ra.pem", "-noout", "-ext", "keyUsage"],
        )
        .stdout;
        assert!(
            usage.contains("Digital Signature") && usage.contains("Key Encipherment"),
            "{usage}"
        );
        answers.push(der);
    }
    assert_eq!(
        answers[0], answers[1],
        "the two URL forms answer differently"
    );
    // certmonger walks `message=1,2,...`: every message value gets the same answer.
    let (again, _) = scep.get(&format!(
        "{}?operation=GetCACert&message=1",
        scep.url("default")
    ));
    assert_eq!(again, answers[0]);
    scep.step("GetCACaps and GetCACert checked");
}

#[test]
fn scepclient_enrolls_with_the_static_challenge_and_renews_with_its_certificate() {
    let scep = Scep::start();
    let fingerprint = scep.ra_fingerprint("default");
    let endpoint = scep.scep_endpoint_id("default");
    let device = scep.device("device-1");
    scep.enroll(
        "enroll",
        &device,
        "default",
        Some(&scep.challenge),
        &fingerprint,
    );
    scep.step("enrolled");
    let first_serial = scep.check_certificate(&device);
    let first = scep.certificate_by_serial(&first_serial);
    assert_eq!(first["status"], "issued", "{first}");
    assert_eq!(first["profile"], "device", "{first}");
    let requests = scep.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["channel"], "scep", "{requests:?}");
    assert_eq!(
        requests[0]["endpoint"].as_u64().unwrap().to_string(),
        endpoint
    );
    assert_eq!(requests[0]["certificate"], first["id"], "{requests:?}");
    let first_pem = std::fs::read_to_string(device.certificate()).unwrap();
    std::fs::write(device.dir.join("first.crt"), &first_pem).unwrap();

    // dev.crt exists now: scepclient sends a RenewalReq signed with it (and the same key).
    scep.enroll(
        "renew",
        &device,
        "default",
        Some(&scep.challenge),
        &fingerprint,
    );
    scep.step("renewed");
    let second_serial = scep.check_certificate(&device);
    assert!(
        !same_serial(&first_serial, &second_serial),
        "the renewal kept the serial {first_serial}"
    );
    let public_key = |file: &str| {
        must(
            &device.dir,
            "openssl",
            &["x509", "-in", file, "-noout", "-pubkey"],
        )
        .stdout
    };
    assert_eq!(
        public_key("first.crt"),
        public_key("dev.crt"),
        "scepclient renews with the same key"
    );
    let first = scep.certificate_by_serial(&first_serial);
    let second = scep.certificate_by_serial(&second_serial);
    assert_eq!(second["status"], "issued", "{second}");
    assert_eq!(first["status"], "replaced", "{first}");
    assert_eq!(first["replaced_by"], second["id"], "{first}");
    let requests = scep.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let renewal = requests
        .iter()
        .find(|r| r["certificate"] == second["id"])
        .unwrap_or_else(|| panic!("no request for the renewed certificate: {requests:?}"));
    assert_eq!(renewal["renewal_of"], first["id"], "{renewal}");
    assert_eq!(renewal["replaces"], true, "{renewal}");
    assert_eq!(renewal["channel"], "scep", "{renewal}");

    // A revoked certificate renews nothing.
    let second_id = id(&second);
    scep.admin
        .ok(&["cert", "revoke", &second_id, "--reason", "key-compromise"]);
    let renewed_pem = std::fs::read_to_string(device.certificate()).unwrap();
    let run = scep.run_scepclient(
        "renew-revoked",
        &device,
        "default",
        Some(&scep.challenge),
        &fingerprint,
    );
    assert_failure("renew-revoked", &run);
    assert_eq!(
        std::fs::read_to_string(device.certificate()).unwrap(),
        renewed_pem,
        "a refused renewal replaced the certificate file"
    );
    assert_eq!(scep.requests().len(), 2, "{:?}", scep.requests());
}

#[test]
fn a_wrong_or_missing_challenge_fails_and_issues_nothing() {
    let scep = Scep::start();
    let fingerprint = scep.ra_fingerprint("default");
    let certificates = scep.certificates();
    assert!(scep.requests().is_empty());

    let wrong = scep.device("wrong");
    let mut guess = scep.challenge.clone();
    // The same length and alphabet, one character off.
    let last = if guess.ends_with('0') { '1' } else { '0' };
    guess.pop();
    guess.push(last);
    scep.refused(
        "wrong-challenge",
        &wrong,
        "default",
        Some(&guess),
        &fingerprint,
    );
    let missing = scep.device("missing");
    scep.refused("no-challenge", &missing, "default", None, &fingerprint);
    scep.step("both refused");

    let requests = scep.requests();
    assert!(
        requests.is_empty(),
        "a refused challenge made a request: {requests:?}"
    );
    assert_eq!(
        scep.certificates(),
        certificates,
        "a refused challenge issued"
    );
    // The static challenge is not spent by the refusals. (A new device: scepclient
    // reuses its csr.pem, which holds the challenge it was first run with.)
    let right = scep.device("right");
    scep.enroll(
        "right-challenge",
        &right,
        "default",
        Some(&scep.challenge),
        &fingerprint,
    );
    assert_eq!(scep.requests().len(), 1);
}

#[test]
fn a_one_time_challenge_enrolls_once() {
    let scep = Scep::start();
    let fingerprint = scep.ra_fingerprint("default");
    let endpoint = scep.scep_endpoint_id("default");

    let out = scep.admin.ok(&[
        "endpoint",
        "scep-challenge",
        &endpoint,
        "--expires-in",
        "600",
    ]);
    let challenge = banner_value_in(&out, "challenge")
        .unwrap_or_else(|| panic!("no `  challenge  <value>` line in:\n{out}"))
        .to_string();
    assert!(banner_value_in(&out, "expires").is_some(), "{out}");
    assert_ne!(challenge, scep.challenge);

    let first = scep.device("one-time-1");
    scep.enroll(
        "one-time-first",
        &first,
        "default",
        Some(&challenge),
        &fingerprint,
    );
    scep.check_certificate(&first);
    let second = scep.device("one-time-2");
    scep.refused(
        "one-time-again",
        &second,
        "default",
        Some(&challenge),
        &fingerprint,
    );
    assert_eq!(scep.requests().len(), 1, "{:?}", scep.requests());
    scep.step("one-time challenge used once");

    // Bound to a subject: refused for another CN (and not consumed by that), then used.
    let minted = scep.admin.json(&[
        "endpoint",
        "scep-challenge",
        &endpoint,
        "--subject",
        "bound-device",
    ]);
    let bound = minted["challenge"]
        .as_str()
        .unwrap_or_else(|| panic!("no challenge in {minted}"))
        .to_string();
    assert!(minted["expires_at"].is_string(), "{minted}");
    let other = scep.device("other-device");
    scep.refused(
        "bound-other-cn",
        &other,
        "default",
        Some(&bound),
        &fingerprint,
    );
    let device = scep.device("bound-device");
    scep.enroll(
        "bound-right-cn",
        &device,
        "default",
        Some(&bound),
        &fingerprint,
    );
    scep.check_certificate(&device);
    assert_eq!(scep.requests().len(), 2, "{:?}", scep.requests());
}

#[test]
fn a_queued_request_is_pending_until_approved_and_the_waiting_client_collects_it() {
    let scep = Scep::start();
    let (endpoint, challenge) = scep.create_queued_endpoint("q");
    let fingerprint = scep.ra_fingerprint("q");
    let device = scep.device("queued-1");
    let mut client = scep.spawn_scepclient("queued", &device, "q", Some(&challenge), &fingerprint);
    let request = scep.wait_until_pending(&endpoint, &mut client);
    scep.step("pending");
    assert!(
        client.exited().is_none(),
        "scepclient stopped while pending"
    );

    let approved = scep
        .admin
        .json(&["request", "approve", &request, "--message", "interop test"]);
    assert_eq!(approved["status"], "issued", "{approved}");
    scep.step("approved; waiting for scepclient's next attempt (30 s after PENDING)");
    let run = client.wait(PENDING_TIMEOUT);
    assert!(
        run.ok && device.certificate().is_file(),
        "the waiting scepclient did not collect its certificate:\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    assert!(run.stderr.contains("pkiStatus=SUCCESS"), "{}", run.stderr);
    assert!(
        run.stderr.matches("op=PKIOperation").count() >= 2,
        "scepclient did not ask again: {}",
        run.stderr
    );
    scep.step("collected");
    let serial = scep.check_certificate(&device);
    let certificate = scep.certificate_by_serial(&serial);
    assert_eq!(certificate["id"], approved["certificate"], "{certificate}");

    // The repeated PKCSReq answered from the first request: no second one.
    let requests = scep.requests_of(&endpoint);
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0]["status"], "issued", "{requests:?}");
}

#[test]
fn a_declined_request_fails_the_client() {
    let scep = Scep::start();
    let (endpoint, challenge) = scep.create_queued_endpoint("q");
    let fingerprint = scep.ra_fingerprint("q");
    let device = scep.device("declined-1");
    let mut client = scep.spawn_scepclient("queued", &device, "q", Some(&challenge), &fingerprint);
    let request = scep.wait_until_pending(&endpoint, &mut client);
    // Rather than wait 30 s for its next attempt, stop it: run again with the same key
    // (and CSR), it continues the same transaction.
    drop(client);
    scep.step("pending; client stopped");

    let declined = scep.admin.json(&[
        "request",
        "decline",
        &request,
        "--message",
        "not this device",
    ]);
    assert_eq!(declined["status"], "declined", "{declined}");
    let run = scep.refused(
        "after-decline",
        &device,
        "q",
        Some(&challenge),
        &fingerprint,
    );
    scep.step("refused after the decline");
    assert_eq!(
        run.stderr.matches("op=PKIOperation").count(),
        1,
        "{}",
        run.stderr
    );

    let requests = scep.requests_of(&endpoint);
    assert_eq!(
        requests.len(),
        1,
        "the second run made a request: {requests:?}"
    );
    assert_eq!(requests[0]["status"], "declined", "{requests:?}");
    assert!(scep.certificates().is_empty(), "{:?}", scep.certificates());
}

/// Through an approval queue, for enrollment and renewal alike: the device is told
/// PENDING, is stopped, the request is approved, and the device run again with the
/// same key (the same transaction) collects the certificate without a second request.
#[test]
fn a_queued_enrollment_and_a_queued_renewal_are_collected_after_approval() {
    let scep = Scep::start();
    let (endpoint, challenge) = scep.create_queued_endpoint("q");
    let fingerprint = scep.ra_fingerprint("q");
    let device = scep.device("queued-renewal");

    let mut client = scep.spawn_scepclient(
        "enroll-queued",
        &device,
        "q",
        Some(&challenge),
        &fingerprint,
    );
    let request = scep.wait_until_pending(&endpoint, &mut client);
    drop(client);
    scep.admin.json(&["request", "approve", &request]);
    scep.enroll(
        "enroll-collect",
        &device,
        "q",
        Some(&challenge),
        &fingerprint,
    );
    let first_serial = scep.check_certificate(&device);
    assert_eq!(
        scep.requests_of(&endpoint).len(),
        1,
        "{:?}",
        scep.requests_of(&endpoint)
    );
    scep.step("queued enrollment collected");

    // dev.crt exists: a RenewalReq, signed with it, queued like the enrollment.
    let mut client =
        scep.spawn_scepclient("renew-queued", &device, "q", Some(&challenge), &fingerprint);
    let renewal = scep.wait_until_pending(&endpoint, &mut client);
    assert_ne!(renewal, request);
    drop(client);
    let approved = scep.admin.json(&["request", "approve", &renewal]);
    assert_eq!(approved["status"], "issued", "{approved}");
    // The device still holds (and signs with) the certificate its renewal replaces: asking
    // again in the same transaction must give it the renewed certificate.
    scep.enroll(
        "renew-collect",
        &device,
        "q",
        Some(&challenge),
        &fingerprint,
    );
    scep.step("queued renewal collected");
    let second_serial = scep.check_certificate(&device);
    assert!(!same_serial(&first_serial, &second_serial));
    let second = scep.certificate_by_serial(&second_serial);
    assert_eq!(second["id"], approved["certificate"], "{second}");
    let first = scep.certificate_by_serial(&first_serial);
    assert_eq!(first["status"], "replaced", "{first}");
    assert_eq!(
        scep.requests_of(&endpoint).len(),
        2,
        "{:?}",
        scep.requests_of(&endpoint)
    );
}

#[test]
fn certmonger_scep_submit_reads_ca_caps_and_ca_certificates() {
    require(SCEP_SUBMIT, "--usage");
    let scep = Scep::start();
    let url = scep.url("default");

    let run = must(&scep.dir, SCEP_SUBMIT, &["-u", &url, "-c"]);
    let lines: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    for capability in CAPABILITIES {
        assert!(
            lines.contains(capability),
            "scep-submit -c lacks {capability}:\n{}",
            run.stdout
        );
    }

    let run = must(&scep.dir, SCEP_SUBMIT, &["-u", &url, "-C"]);
    let printed = pem_blocks(&run.stdout);
    assert_eq!(
        printed.len(),
        3,
        "scep-submit -C:\n{}{}",
        run.stdout,
        run.stderr
    );
    // The RA certificate first (certmonger encrypts to it), then the CA certificates.
    assert_eq!(subject(&scep.dir, &printed[0]), "CN=default SCEP RA");
    let mut printed: Vec<String> = printed.iter().map(|p| pem_body(p)).collect();
    let mut served: Vec<String> = scep
        .ca_certificates("default")
        .iter()
        .map(|p| pem_body(p))
        .collect();
    printed.sort();
    served.sort();
    assert_eq!(printed, served, "scep-submit -C printed other certificates");
    scep.step("scep-submit read GetCACaps and GetCACert");
}
