//! Intune endpoints with micromdm's `scepclient` against a running `ca-admin serve`,
//! and a local stand-in of Entra ID, Graph and Intune's SCEP validation and
//! revocation services (`certwright_tests::intune`):
//!
//! - a request whose challenge the stand-in handed out is issued (openssl verify,
//!   pkilint) and reported as a success with the certificate's thumbprint and serial;
//! - one it refuses answers FAILURE, issues nothing, and is reported as a failure;
//! - a revocation request for the certificate revokes it (the CRL and OCSP show it)
//!   and the result is uploaded; one for a certificate outside the endpoint's scope
//!   (another department's) is refused and reported, and that certificate stays good;
//! - with the stand-in down, a request answers FAILURE and nothing is issued;
//! - the client secret appears in no log, API answer or audit entry; the audit log
//!   has each step with Intune's activity id.
//!
//! The endpoint lives in a department of the demo organization; the demo SCEP endpoint
//! `default` (the organization, no department) issues the certificate outside its scope.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use certwright_tests::cli::{id, items};
use certwright_tests::intune::IntuneStandIn;
use certwright_tests::revocation::{crl_text, ocsp_text};
use certwright_tests::{must, pkilint_errors, run_in, ClientRun, Gateway, Operator, Run};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");
const SCEPCLIENT: &str = "scepclient";
const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";
const ISSUING_PEM: &str = "ca-data/cas/demo-issuing/certificate.pem";
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// The poller runs every second here; a revocation is uploaded well within this.
const REVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

struct Setup {
    gateway: Gateway,
    admin: Operator,
    dir: PathBuf,
    intune: IntuneStandIn,
    /// The Intune endpoint's name and id.
    endpoint: (String, String),
    _tmp: tempfile::TempDir,
}

impl Setup {
    fn start() -> Setup {
        let present = Command::new(SCEPCLIENT).arg("-version").output().is_ok();
        assert!(
            present,
            "{SCEPCLIENT} is missing: install the Debian package scep"
        );
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let intune = IntuneStandIn::start();
        let gateway = Gateway::start(BIN, &dir, &["--intune-revocation-poll-seconds", "1"]);
        let password = gateway.first_admin_password();
        let admin = Operator::new(BIN, &dir, "admin", gateway.https_url())
            .with_ca_cert(Some(Path::new(ROOT_PEM)));
        admin.login("admin", &password);
        let org = admin.demo_org();
        let dept = id(&admin.json(&["dept", "create", "--org", &org, "--name", "Managed"]));
        let secret_file = dir.join("intune-secret.txt");
        std::fs::write(&secret_file, format!("{}\n", intune.client_secret())).unwrap();
        let url = intune.url();
        let created = admin.json(&[
            "endpoint",
            "create",
            "--name",
            "intune",
            "--kind",
            "intune",
            "--org",
            &org,
            "--dept",
            &dept,
            "--approval",
            "auto",
            "--intune-tenant",
            intune.tenant(),
            "--intune-application-id",
            intune.application_id(),
            "--intune-client-secret-file",
            secret_file.to_str().unwrap(),
            "--intune-login-url",
            &url,
            "--intune-graph-url",
            &url,
        ]);
        assert_eq!(created["kind"], "intune", "{created}");
        assert_eq!(created["profile"], "device", "{created}");
        assert_eq!(created["intune"]["tenant"], intune.tenant(), "{created}");
        let endpoint = ("intune".to_string(), id(&created));
        Setup {
            gateway,
            admin,
            dir,
            intune,
            endpoint,
            _tmp: tmp,
        }
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/scep/{endpoint}", self.gateway.http_url())
    }

    /// The SHA-256 fingerprint of an endpoint's RA certificate, from GetCACert.
    fn ra_fingerprint(&self, endpoint: &str) -> String {
        let der = self.dir.join(format!("{endpoint}-cacert.der"));
        let get = run_in(
            &self.dir,
            "curl",
            &[
                "-sS",
                "--fail",
                "-o",
                der.to_str().unwrap(),
                &format!("{}?operation=GetCACert", self.url(endpoint)),
            ],
        );
        assert!(get.ok, "GetCACert: {}", get.stderr);
        let listed = must(
            &self.dir,
            "openssl",
            &[
                "pkcs7",
                "-inform",
                "DER",
                "-in",
                der.to_str().unwrap(),
                "-print_certs",
            ],
        )
        .stdout;
        let wanted = format!("CN = {endpoint} SCEP RA");
        let block = listed
            .split("\n\n")
            .find(|b| {
                b.lines()
                    .any(|l| l.starts_with("subject=") && l.ends_with(&wanted))
            })
            .unwrap_or_else(|| panic!("no {wanted} in GetCACert:\n{listed}"));
        let pem = self.dir.join(format!("{endpoint}-ra.pem"));
        std::fs::write(&pem, block).unwrap();
        let out = must(
            &self.dir,
            "openssl",
            &[
                "x509",
                "-in",
                pem.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        )
        .stdout;
        out.trim()
            .split_once('=')
            .unwrap()
            .1
            .chars()
            .filter(|c| c.is_ascii_hexdigit())
            .collect()
    }

    /// A new device directory; scepclient makes its key there on its first run.
    fn device(&self, name: &str) -> PathBuf {
        let dir = self.dir.join("devices").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn scepclient(&self, device: &Path, endpoint: &str, challenge: &str) -> Run {
        let name = device.file_name().unwrap().to_str().unwrap();
        let mut command = Command::new(SCEPCLIENT);
        command
            .current_dir(device)
            .args(["-server-url", &self.url(endpoint)])
            .args(["-private-key", "dev.key", "-certificate", "dev.crt"])
            .args([
                "-cn",
                name,
                "-ca-fingerprint",
                &self.ra_fingerprint(endpoint),
            ])
            .args(["-challenge", challenge]);
        ClientRun::spawn(&self.dir.join("logs"), name, command).wait(CLIENT_TIMEOUT)
    }

    fn enroll(&self, device: &Path, endpoint: &str, challenge: &str) -> String {
        let run = self.scepclient(device, endpoint, challenge);
        assert!(
            run.ok && run.stderr.contains("pkiStatus=SUCCESS") && device.join("dev.crt").is_file(),
            "{} got no certificate:\nstdout: {}\nstderr: {}\ngateway:\n{}",
            device.display(),
            run.stdout,
            run.stderr,
            self.gateway.stderr()
        );
        self.check_certificate(device)
    }

    fn refused(&self, device: &Path, endpoint: &str, challenge: &str) {
        let run = self.scepclient(device, endpoint, challenge);
        let text = format!("{}{}", run.stdout, run.stderr);
        assert!(
            !run.ok && text.contains("request failed, failInfo: badRequest"),
            "{} was not refused:\n{text}",
            device.display()
        );
        assert!(
            !device.join("dev.crt").exists(),
            "a refused device got a certificate"
        );
    }

    /// openssl verify and pkilint; the serial, hex as openssl prints it.
    fn check_certificate(&self, device: &Path) -> String {
        let cert = device.join("dev.crt");
        let cert = cert.to_str().unwrap();
        let verified = must(
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
        assert!(verified.stdout.contains(": OK"), "{}", verified.stdout);
        let findings = pkilint_errors(&self.dir, "lint_pkix_cert", &[cert]);
        assert!(findings.is_empty(), "pkilint PKIX errors: {findings}");
        let serial = must(
            &self.dir,
            "openssl",
            &["x509", "-in", cert, "-noout", "-serial"],
        )
        .stdout;
        serial.trim().trim_start_matches("serial=").to_string()
    }

    /// The SHA-1 thumbprint of a device's certificate, upper-case hex.
    fn thumbprint(&self, device: &Path) -> String {
        let cert = device.join("dev.crt");
        let out = must(
            &self.dir,
            "openssl",
            &[
                "x509",
                "-in",
                cert.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha1",
            ],
        )
        .stdout;
        out.trim()
            .split_once('=')
            .unwrap()
            .1
            .replace(':', "")
            .to_uppercase()
    }

    /// `openssl ocsp` for a device's certificate: its status line.
    fn ocsp(&self, device: &Path) -> String {
        ocsp_text(
            &self.dir,
            self.gateway.http_url(),
            ISSUING_PEM,
            ROOT_PEM,
            &device.join("dev.crt"),
        )
    }

    /// `openssl crl -text` of the demo issuing CA's CRL, after checking its signature.
    fn crl_text(&self) -> String {
        crl_text(
            &self.dir,
            self.gateway.http_url(),
            "demo-issuing",
            ISSUING_PEM,
        )
    }

    fn audit(&self) -> Vec<Value> {
        items(&self.admin.json(&["audit", "list", "--limit", "500"]))
    }

    fn certificates_of_endpoint(&self) -> usize {
        items(&self.admin.json(&["request", "list", "--limit", "500"]))
            .iter()
            .filter(|r| {
                r["endpoint"].as_u64().map(|e| e.to_string()) == Some(self.endpoint.1.clone())
            })
            .count()
    }
}

fn same_serial(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches('0').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// Whether any audit entry of `action` names an activity id (a GUID).
fn has_activity(audit: &[Value], action: &str) -> bool {
    audit.iter().any(|e| {
        e["action"] == action
            && e["detail"]
                .as_str()
                .and_then(|d| d.split("activity ").nth(1))
                .is_some_and(|rest| rest.len() >= 36 && rest[..36].split('-').count() == 5)
    })
}

#[test]
fn intune_validates_reports_and_revokes_within_the_endpoints_scope() {
    let setup = Setup::start();
    let intune = &setup.intune;

    // Accepted: issued, and reported with the certificate's thumbprint and serial.
    let phone = setup.device("phone-1");
    let serial = setup.enroll(&phone, "intune", &intune.challenge());
    let validations = intune.validations();
    assert_eq!(validations.len(), 1, "{validations:?}");
    let txid = validations[0]["transactionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(intune.wait_until(Duration::from_secs(5), |i| !i.successes().is_empty()));
    let success = &intune.successes()[0];
    assert_eq!(success["transactionId"], txid.as_str(), "{success}");
    assert_eq!(
        success["certificateThumbprint"],
        setup.thumbprint(&phone).as_str(),
        "{success}"
    );
    assert!(
        same_serial(
            success["certificateSerialNumber"].as_str().unwrap(),
            &serial
        ),
        "{success} vs {serial}"
    );
    assert!(
        success["issuingCertificateAuthority"]
            .as_str()
            .unwrap()
            .contains("Issuing"),
        "{success}"
    );
    assert!(
        success["certificateExpirationDateUtc"]
            .as_str()
            .unwrap()
            .ends_with('Z'),
        "{success}"
    );
    assert_eq!(setup.certificates_of_endpoint(), 1);

    // Refused: FAILURE, nothing issued, reported as a failure.
    let forged = setup.device("forged-1");
    setup.refused(&forged, "intune", "not-a-challenge-intune-issued");
    assert_eq!(intune.validations().len(), 2);
    let failures = intune.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(
        failures[0]["transactionId"],
        intune.validations()[1]["transactionId"]
    );
    assert_eq!(
        setup.certificates_of_endpoint(),
        1,
        "the refused request issued nothing"
    );

    // Out of scope: a certificate of the organization outside the endpoint's department.
    let demo_challenge = setup
        .gateway
        .banner_value("SCEP challenge")
        .expect("the demo SCEP challenge")
        .to_string();
    let laptop = setup.device("laptop-1");
    let foreign = setup.enroll(&laptop, "default", &demo_challenge);
    let refused_context = intune.queue_revocation(&foreign, None);
    let revoked_context = intune.queue_revocation(&serial.to_ascii_lowercase(), None);
    assert!(
        intune.wait_until(REVOCATION_TIMEOUT, |i| i.revocation_results().len() >= 2),
        "no revocation results uploaded: {:?}\ngateway:\n{}",
        intune.revocation_results(),
        setup.gateway.stderr()
    );
    let results = intune.revocation_results();
    let result_of = |context: &str| {
        results
            .iter()
            .find(|r| r["requestContext"] == context)
            .unwrap_or_else(|| panic!("no result for {context} in {results:?}"))
            .clone()
    };
    let revoked = result_of(&revoked_context);
    assert_eq!(revoked["succeeded"], true, "{revoked}");
    assert_eq!(revoked["errorCode"], 0, "{revoked}");
    let refused = result_of(&refused_context);
    assert_eq!(refused["succeeded"], false, "{refused}");
    assert_eq!(refused["errorCode"], 4004, "{refused}");

    // The CRL and OCSP show the revocation; the other certificate stays good.
    let crl = setup.crl_text();
    let listed = crl
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .any(|s| same_serial(s, &serial));
    assert!(listed, "serial {serial} is not in the CRL:\n{crl}");
    assert!(crl.contains("Cessation Of Operation"), "{crl}");
    let phone_ocsp = setup.ocsp(&phone);
    assert!(phone_ocsp.contains(": revoked"), "{phone_ocsp}");
    let laptop_ocsp = setup.ocsp(&laptop);
    assert!(laptop_ocsp.contains(": good"), "{laptop_ocsp}");

    // Every step is audited with Intune's activity id.
    let audit = setup.audit();
    for action in [
        "intune.validate",
        "intune.notify_success",
        "intune.notify_failure",
        "intune.revocation_download",
        "intune.revocation",
        "intune.revocation_upload",
    ] {
        assert!(
            has_activity(&audit, action),
            "no {action} with an activity id in the audit log"
        );
    }
    assert!(audit.iter().any(|e| e["action"] == "certificate.revoke"));

    // The secret is nowhere but in what Entra ID received.
    let secret = intune.client_secret();
    let listing = setup.admin.ok(&["endpoint", "list", "--json"]);
    for (what, text) in [
        ("the gateway's log", setup.gateway.stderr()),
        ("the endpoint listing", listing),
        ("the audit log", serde_json::to_string(&audit).unwrap()),
    ] {
        assert!(!text.contains(secret), "the client secret is in {what}");
    }
    let log = intune.raw_log();
    let to_services: String = log
        .split("\n\n\n")
        .filter(|r| !r.contains("/oauth2/v2.0/token"))
        .collect();
    assert!(
        !to_services.contains(secret),
        "the secret went to a service other than Entra ID"
    );
}

#[test]
fn intune_down_answers_failure_and_issues_nothing() {
    let setup = Setup::start();
    let challenge = setup.intune.challenge();
    setup.intune.stop();
    let device = setup.device("offline-1");
    setup.refused(&device, "intune", &challenge);
    assert_eq!(
        setup.certificates_of_endpoint(),
        0,
        "a request was made without Intune"
    );
    let audit = setup.audit();
    assert!(
        audit
            .iter()
            .any(|e| e["action"] == "intune.validate" && e["outcome"] == "failed"),
        "no failed validation in the audit log"
    );
}
