//! The certificate manager's compatible REST API against a running `ca-admin serve`:
//!
//! - the PyPI package `cert-manager` (a third-party Python interface to that API, not
//!   ours) lists organizations and profiles, enrolls a CSR as an administrator who may
//!   request but not approve (so the request is queued), sees collect answer pending,
//!   collects after `ca-admin request approve` in several formats and chain orders,
//!   renews by id, replaces, and revokes; the CRL and OCSP show the revocation and every
//!   certificate passes `openssl verify`;
//! - `curl`, as a connector that is not that library: the tolerances of section 9 of the
//!   reference (numeric strings, SANs as a string or an array, CSR with or without armour,
//!   legacy fields, `renewById` bodies, revoke without a reason code, serials with and
//!   without colons, both collect forms, v1 and v2, trailing slashes, HEAD counts), and
//!   the reference's error body and code for each refusal.

use std::path::{Path, PathBuf};
use std::process::Command;

use certwright_tests::cli::id;
use certwright_tests::revocation::{crl_lists, crl_text, ocsp_text};
use certwright_tests::{must, openssl_csr, Gateway, Operator};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");
const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";
const ISSUING_PEM: &str = "ca-data/cas/demo-issuing/certificate.pem";
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scm/pcm_client.py");
/// The RAO who may request and revoke TLS server certificates in the demo organization,
/// but not approve them.
const REQUESTER: &str = "scm-requester";
const REQUESTER_PASSWORD: &str = "requester password 0123";

struct Setup {
    gateway: Gateway,
    admin: Operator,
    dir: PathBuf,
    admin_password: String,
    /// The demo organization's id and its department "Web"'s.
    org: u64,
    dept: u64,
    _tmp: tempfile::TempDir,
}

/// An answer of the API as curl got it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
    /// Asserts the reference's error body with this status and code.
    fn refused(&self, status: u16, code: i64) -> &Self {
        assert_eq!(self.status, status, "{}", self.text());
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        assert!(body["description"].is_string(), "{body}");
        self
    }
}

impl Setup {
    fn start() -> Setup {
        let python = Command::new("python3")
            .args(["-c", "import cert_manager"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            python,
            "the PyPI package cert-manager is missing: scripts/test.sh installs it"
        );
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let gateway = Gateway::start(BIN, &dir, &[]);
        let admin_password = gateway.first_admin_password();
        let admin = Operator::new(BIN, &dir, "admin", gateway.https_url())
            .with_ca_cert(Some(Path::new(ROOT_PEM)));
        admin.login("admin", &admin_password);
        let org: u64 = admin.demo_org().parse().unwrap();
        let dept = admin.json(&["dept", "create", "--org", &org.to_string(), "--name", "Web"]);
        let dept: u64 = id(&dept).parse().unwrap();
        std::fs::write(dir.join("admin.password"), format!("{admin_password}\n")).unwrap();
        std::fs::write(
            dir.join("requester.password"),
            format!("{REQUESTER_PASSWORD}\n"),
        )
        .unwrap();
        admin.ok(&[
            "admin",
            "create",
            "--username",
            REQUESTER,
            "--password-file",
            dir.join("requester.password").to_str().unwrap(),
            "--role",
            "rao",
            "--org",
            &org.to_string(),
            "--privilege",
            "tls-server=request,revoke",
        ]);
        Setup {
            gateway,
            admin,
            dir,
            admin_password,
            org,
            dept,
            _tmp: tmp,
        }
    }

    fn base(&self) -> String {
        format!("{}/api", self.gateway.https_url())
    }

    /// One step of the cert-manager package as `login`; Err with its output if it fails.
    fn pcm(&self, login: &str, step: &str, args: &[&str]) -> Result<Value, String> {
        let password_file = if login == "admin" {
            "admin.password"
        } else {
            "requester.password"
        };
        self.pcm_as(&self.base(), login, password_file, step, args)
    }

    /// One step with explicit base URL and credentials (`cert:<crt>:<key>` for the
    /// package's client-certificate mode).
    fn pcm_as(
        &self,
        base: &str,
        login: &str,
        credentials: &str,
        step: &str,
        args: &[&str],
    ) -> Result<Value, String> {
        let out = Command::new("python3")
            .current_dir(&self.dir)
            .env("REQUESTS_CA_BUNDLE", self.dir.join(ROOT_PEM))
            .arg(CLIENT)
            .args([base, "demo", login, credentials, step])
            .args(args)
            .output()
            .expect("python3");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if !out.status.success() {
            return Err(format!("{stdout}{stderr}"));
        }
        serde_json::from_str(&stdout).map_err(|e| format!("{e}: {stdout}{stderr}"))
    }

    fn pcm_ok(&self, login: &str, step: &str, args: &[&str]) -> Value {
        self.pcm(login, step, args)
            .unwrap_or_else(|e| panic!("cert-manager {step} {args:?}: {e}"))
    }

    /// curl with the password headers of `login` (None: no credentials).
    fn curl(&self, method: &str, path: &str, login: Option<&str>, body: Option<&str>) -> Answer {
        self.curl_with(method, path, login, body, &[])
    }

    fn curl_with(
        &self,
        method: &str,
        path: &str,
        login: Option<&str>,
        body: Option<&str>,
        extra: &[&str],
    ) -> Answer {
        let out_body = self.dir.join("curl.body");
        let out_headers = self.dir.join("curl.headers");
        let _ = std::fs::remove_file(&out_body);
        let url = format!("{}{path}", self.gateway.https_url());
        let mut args: Vec<String> = vec![
            "-sS".into(),
            "--cacert".into(),
            ROOT_PEM.into(),
            "-o".into(),
            out_body.to_str().unwrap().into(),
            "-D".into(),
            out_headers.to_str().unwrap().into(),
            "-w".into(),
            "%{http_code}".into(),
        ];
        if method == "HEAD" {
            args.push("-I".into());
        } else {
            args.extend(["-X".into(), method.into()]);
        }
        if let Some(login) = login {
            let password = if login == "admin" {
                self.admin_password.clone()
            } else {
                REQUESTER_PASSWORD.to_string()
            };
            // Header names in odd cases: connectors spell them differently.
            args.extend([
                "-H".into(),
                format!("Login: {login}"),
                "-H".into(),
                format!("PASSWORD: {password}"),
                "-H".into(),
                "customeruri: demo".into(),
            ]);
        }
        if let Some(body) = body {
            let file = self.dir.join("curl.request");
            std::fs::write(&file, body).unwrap();
            args.extend([
                "-H".into(),
                "Content-Type: application/json".into(),
                "--data-binary".into(),
                format!("@{}", file.display()),
            ]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(url);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = certwright_tests::run_in(&self.dir, "curl", &argv);
        assert!(run.ok, "curl {path}: {}{}", run.stdout, run.stderr);
        Answer {
            status: run.stdout.trim().parse().unwrap_or(0),
            headers: std::fs::read_to_string(&out_headers).unwrap_or_default(),
            body: std::fs::read(&out_body).unwrap_or_default(),
        }
    }

    /// A CSR for `cn` (and `san`, openssl's syntax), PEM text.
    fn csr(&self, name: &str, cn: &str, san: Option<&str>) -> String {
        let path = openssl_csr(
            &self.dir,
            name,
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            &format!("/CN={cn}"),
            san,
        );
        std::fs::read_to_string(path).unwrap()
    }

    fn tls_type(&self) -> u64 {
        let types = self
            .curl("GET", "/api/ssl/v1/types", Some("admin"), None)
            .json();
        types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "tls-server")
            .and_then(|t| t["id"].as_u64())
            .unwrap_or_else(|| panic!("no tls-server in {types}"))
    }

    /// Writes a PEM text to a file and checks it with `openssl verify` against the demo chain.
    fn verify(&self, name: &str, pem_text: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.pem"));
        std::fs::write(&path, pem_text).unwrap();
        let run = must(
            &self.dir,
            "openssl",
            &[
                "verify",
                "-CAfile",
                ROOT_PEM,
                "-untrusted",
                ISSUING_PEM,
                path.to_str().unwrap(),
            ],
        );
        assert!(run.stdout.contains(": OK"), "{}{}", run.stdout, run.stderr);
        path
    }

    fn approve(&self, ssl_id: u64) {
        self.admin.ok(&["request", "approve", &ssl_id.to_string()]);
    }
}

fn pem_blocks(text: &str) -> Vec<String> {
    text.split("-----END CERTIFICATE-----")
        .filter(|b| b.contains("-----BEGIN CERTIFICATE-----"))
        .map(|b| format!("{}-----END CERTIFICATE-----\n", b.trim_start()))
        .collect()
}

fn subject_of(dir: &Path, pem_text: &str) -> String {
    let file = dir.join("subject.pem");
    std::fs::write(&file, pem_text).unwrap();
    must(
        dir,
        "openssl",
        &["x509", "-in", file.to_str().unwrap(), "-noout", "-subject"],
    )
    .stdout
}

#[test]
fn the_cert_manager_package_enrolls_collects_renews_replaces_and_revokes() {
    let s = Setup::start();

    // Organizations with their departments; the department's id is a valid orgId.
    let orgs = s.pcm_ok(REQUESTER, "orgs", &[]);
    let demo = orgs
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == s.org)
        .unwrap_or_else(|| panic!("{orgs}"))
        .clone();
    assert_eq!(demo["name"], "Demo");
    assert_eq!(demo["departments"][0]["id"], s.dept, "{demo}");
    assert_eq!(demo["departments"][0]["parentName"], "Demo");
    let found = s.pcm_ok(REQUESTER, "find-org", &["Demo"]);
    assert_eq!(found[0]["id"], s.org);

    // Profiles with their terms.
    let types = s.pcm_ok(REQUESTER, "types", &[]);
    assert_eq!(
        types["tls-server"]["terms"],
        json!([90, 199, 397]),
        "{types}"
    );
    assert!(
        types.get("device").is_none(),
        "only TLS server profiles: {types}"
    );
    assert_eq!(s.pcm_ok(REQUESTER, "custom-fields", &[]), json!([]));

    // Enroll as the requester: queued; collect is pending.
    s.csr("shop", "shop.test", Some("DNS:shop.test"));
    let enrolled = s.pcm_ok(
        REQUESTER,
        "enroll",
        &[
            "tls-server",
            "shop.csr",
            "90",
            &s.dept.to_string(),
            "www.shop.test",
        ],
    );
    let ssl_id = enrolled["sslId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{enrolled}"));
    assert!(
        enrolled["renewId"].as_str().is_some_and(|r| r.len() >= 16),
        "{enrolled}"
    );
    assert!(enrolled.get("code").is_none(), "{enrolled}");
    let pending = s.pcm_ok(REQUESTER, "collect", &[&ssl_id.to_string(), "x509CO"]);
    assert!(pending.get("pending").is_some(), "{pending}");
    let exact = s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{ssl_id}/x509CO"),
        Some(REQUESTER),
        None,
    );
    assert_eq!(exact.status, 400);
    assert_eq!(
        exact.json(),
        json!({"code": 0, "description": "Being processed by Sectigo"})
    );
    let details = s.pcm_ok(REQUESTER, "get", &[&ssl_id.to_string()]);
    assert_eq!(details["status"], "Requested", "{details}");
    assert_eq!(details["orgId"], s.dept, "{details}");

    // Approved through ca-admin: collected in every shape.
    s.approve(ssl_id);
    let id_text = ssl_id.to_string();
    let leaf = s.pcm_ok(REQUESTER, "collect", &[&id_text, "x509CO"])["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(pem_blocks(&leaf).len(), 1, "{leaf}");
    let leaf_file = s.verify("shop", &leaf);
    assert!(subject_of(&s.dir, &leaf).contains("shop.test"));
    let sans = must(
        &s.dir,
        "openssl",
        &[
            "x509",
            "-in",
            leaf_file.to_str().unwrap(),
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    )
    .stdout;
    assert!(
        sans.contains("shop.test") && sans.contains("www.shop.test"),
        "{sans}"
    );
    let x509 = s.pcm_ok(REQUESTER, "collect", &[&id_text, "x509"])["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    let blocks = pem_blocks(&x509);
    assert_eq!(blocks.len(), 3, "{x509}");
    assert!(
        subject_of(&s.dir, &blocks[0]).contains("Root"),
        "root first: {}",
        blocks[0]
    );
    assert_eq!(blocks[2].trim(), leaf.trim(), "leaf last");
    let pem = s.pcm_ok(REQUESTER, "collect", &[&id_text, "pem"])["certificate"].clone();
    assert_eq!(pem.as_str().unwrap(), x509);
    let pemia = s.pcm_ok(REQUESTER, "collect", &[&id_text, "pemia"])["certificate"].clone();
    let pemia = pem_blocks(pemia.as_str().unwrap());
    assert_eq!(pemia.len(), 2);
    assert!(
        subject_of(&s.dir, &pemia[1]).contains("Issuing"),
        "{}",
        pemia[1]
    );
    let issuers = s.pcm_ok(REQUESTER, "collect", &[&id_text, "x509IOR"])["certificate"].clone();
    let issuers = pem_blocks(issuers.as_str().unwrap());
    assert_eq!(issuers.len(), 2);
    assert!(subject_of(&s.dir, &issuers[0]).contains("Issuing"));
    let base64 = s.pcm_ok(REQUESTER, "collect", &[&id_text, "base64"])["certificate"].clone();
    let p7 = s.dir.join("shop.p7b");
    std::fs::write(&p7, base64.as_str().unwrap()).unwrap();
    let p7_certs = must(
        &s.dir,
        "openssl",
        &["pkcs7", "-in", p7.to_str().unwrap(), "-print_certs"],
    )
    .stdout;
    assert_eq!(pem_blocks(&p7_certs).len(), 3, "{p7_certs}");

    // Details, list and count.
    let details = s.pcm_ok(REQUESTER, "get", &[&id_text]);
    assert_eq!(details["status"], "Issued", "{details}");
    let expires = details["expires"].as_str().unwrap();
    assert!(
        expires.len() == 10 && &expires[2..3] == "/" && &expires[5..6] == "/",
        "US dates: {details}"
    );
    assert_eq!(details["certType"]["name"], "tls-server");
    assert_eq!(details["externalRequester"], "ops@example.test");
    let listed = s.pcm_ok(REQUESTER, "list", &[]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["sslId"] == ssl_id),
        "{listed}"
    );
    let count = s.pcm_ok(REQUESTER, "count", &["status=Issued"]);
    assert_eq!(count, 1);

    // Renew by id: a new request, queued for the requester, then issued.
    let renewed = s.pcm_ok(REQUESTER, "renew", &[&id_text]);
    let renewed_id = renewed["sslId"]
        .as_u64()
        .unwrap_or_else(|| panic!("{renewed}"));
    assert_ne!(renewed_id, ssl_id);
    s.approve(renewed_id);
    let renewed_leaf = s.pcm_ok(REQUESTER, "collect", &[&renewed_id.to_string(), "x509CO"])
        ["certificate"]
        .as_str()
        .unwrap()
        .to_string();
    s.verify("renewed", &renewed_leaf);
    assert_ne!(renewed_leaf, leaf);

    // Replace (as the MRAO, issued at once): the old one is Replaced.
    s.csr("rekey", "shop.test", Some("DNS:shop.test"));
    s.pcm_ok(
        "admin",
        "replace",
        &[&renewed_id.to_string(), "rekey.csr", "shop.test"],
    );
    let old = s.pcm_ok("admin", "get", &[&renewed_id.to_string()]);
    assert_eq!(old["status"], "Replaced", "{old}");

    // Revoke the first certificate: the CRL and OCSP say so; revoking again is refused.
    s.pcm_ok(REQUESTER, "revoke", &[&id_text, "decommissioned"]);
    assert!(s.pcm(REQUESTER, "revoke", &[&id_text, "again"]).is_err());
    let details = s.pcm_ok(REQUESTER, "get", &[&id_text]);
    assert_eq!(details["status"], "Revoked", "{details}");
    let crl = crl_text(&s.dir, s.gateway.http_url(), "demo-issuing", ISSUING_PEM);
    assert!(
        crl_lists(&crl, details["serialNumber"].as_str().unwrap()),
        "{details} not in\n{crl}"
    );
    let ocsp = ocsp_text(
        &s.dir,
        s.gateway.http_url(),
        ISSUING_PEM,
        ROOT_PEM,
        &leaf_file,
    );
    assert!(ocsp.contains(": revoked"), "{ocsp}");
    let gone = s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{ssl_id}/x509CO"),
        Some(REQUESTER),
        None,
    );
    gone.refused(400, -110);

    // Every call was audited under the administrator who made it.
    let audit = s.admin.json(&["audit", "list", "--limit", "500"]);
    let text = audit.to_string();
    assert!(
        text.contains(REQUESTER) && text.contains("certificate.revoke"),
        "{text}"
    );
    assert!(!text.contains(REQUESTER_PASSWORD));
}

#[test]
fn connectors_tolerances_and_the_reference_error_codes() {
    let s = Setup::start();
    let tls = s.tls_type();
    let org = s.org;
    let csr_pem = s.csr("a", "a.test", Some("DNS:a.test"));
    let bare: String = csr_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();

    // Authentication: missing, wrong, wrong customer URI, all the reference's 401.
    s.curl("GET", "/api/organization/v1", None, None)
        .refused(401, -16);
    s.curl_with(
        "GET",
        "/api/organization/v1",
        None,
        None,
        &[
            "-H",
            "login: admin",
            "-H",
            "password: wrong password",
            "-H",
            "customerUri: demo",
        ],
    )
    .refused(401, -16);
    s.curl_with(
        "GET",
        "/api/organization/v1",
        None,
        None,
        &[
            "-H",
            "login: admin",
            "-H",
            &format!("password: {}", s.admin_password),
            "-H",
            "customerUri: other",
        ],
    )
    .refused(401, -16);
    // Our own API stays where it was.
    let ours = s.curl("GET", "/api/v1/openapi.json", None, None);
    assert_eq!(ours.status, 200);

    // Enroll tolerances: each issues (the MRAO may approve).
    let enroll_bodies = [
        json!({"orgId": org, "csr": csr_pem, "certType": tls, "term": 90, "subjAltNames": "a.test,b.a.test"}),
        json!({"orgId": org.to_string(), "csr": bare, "certType": tls.to_string(), "term": "90", "subjAltNames": ["a.test", "c.a.test"]}),
        json!({"orgId": org, "csr": csr_pem, "certType": tls, "term": 199, "serverType": -1, "numberServers": 1, "dcvMode": "CNAME", "dcvEmail": "", "evDetails": {}, "comments": "legacy", "externalRequester": null}),
        json!({"orgId": s.dept, "csr": csr_pem, "certType": tls}),
    ];
    let mut issued = Vec::new();
    for (i, body) in enroll_bodies.iter().enumerate() {
        let path = if i % 2 == 0 {
            "/api/ssl/v1/enroll"
        } else {
            "/api/ssl/v2/enroll/"
        };
        let answer = s.curl("POST", path, Some("admin"), Some(&body.to_string()));
        assert_eq!(answer.status, 200, "{body}: {}", answer.text());
        let id = answer.json()["sslId"].as_u64().unwrap();
        assert!(answer.json().get("code").is_none());
        issued.push((id, answer.json()["renewId"].as_str().unwrap().to_string()));
    }
    let (first, renew_id) = issued[0].clone();

    // Both collect forms, under v1 and v2, with a trailing slash.
    for path in [
        format!("/api/ssl/v1/collect/{first}/x509CO"),
        format!("/api/ssl/v2/collect/{first}?format=x509CO"),
        format!("/api/ssl/v1/collect/{first}/x509CO/"),
    ] {
        let answer = s.curl("GET", &path, Some("admin"), None);
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        assert_eq!(pem_blocks(&answer.text()).len(), 1, "{path}");
        assert_eq!(
            answer.header("content-type").as_deref(),
            Some("application/octet-stream")
        );
        assert!(answer
            .header("content-disposition")
            .is_some_and(|d| d.contains("attachment")));
    }
    let bin = s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{first}/bin"),
        Some("admin"),
        None,
    );
    assert_eq!(bin.status, 200);
    assert_eq!(bin.body[0], 0x30, "PKCS#7 DER");
    let default = s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{first}"),
        Some("admin"),
        None,
    );
    assert!(
        default.text().contains("BEGIN PKCS7"),
        "base64 is the default: {}",
        default.text()
    );
    s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{first}/pkcs99"),
        Some("admin"),
        None,
    )
    .refused(400, -126);

    // Details with dateFormat; unknown ids.
    let iso = s
        .curl(
            "GET",
            &format!("/api/ssl/v1/{first}?dateFormat=ISO"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(iso["expires"].as_str().unwrap().len(), 10);
    assert_eq!(&iso["expires"].as_str().unwrap()[4..5], "-", "{iso}");
    assert_eq!(iso["comments"], Value::Null, "{iso}");
    let legacy = s
        .curl(
            "GET",
            &format!("/api/ssl/v1/{}", issued[2].0),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(legacy["comments"], "legacy");
    assert_eq!(legacy["term"], 199);
    assert_eq!(legacy["orgId"], org);
    s.curl("GET", "/api/ssl/v1/999999", Some("admin"), None)
        .refused(404, -124);
    s.curl("GET", "/api/ssl/v1/collect/nope", Some("admin"), None)
        .refused(400, -124);

    // List and HEAD count with paging.
    let all = s.curl("GET", "/api/ssl/v1?size=2&position=0", Some("admin"), None);
    assert_eq!(
        all.header("x-total-count").as_deref(),
        Some("4"),
        "{}",
        all.headers
    );
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    let rest = s.curl("GET", "/api/ssl/v1/?size=2&position=2", Some("admin"), None);
    assert_eq!(rest.json().as_array().unwrap().len(), 2);
    let head = s.curl(
        "HEAD",
        "/api/ssl/v1?orgId=".to_string().as_str(),
        Some("admin"),
        None,
    );
    assert_eq!(
        head.header("x-total-count").as_deref(),
        Some("4"),
        "{}",
        head.headers
    );
    let by_dept = s.curl(
        "HEAD",
        &format!("/api/ssl/v1?orgId={}", s.dept),
        Some("admin"),
        None,
    );
    assert_eq!(by_dept.header("x-total-count").as_deref(), Some("1"));

    // renewById with no body, "" and {}; renew by renewId.
    for body in [None, Some("\"\""), Some("{}")] {
        let answer = s.curl(
            "POST",
            &format!("/api/ssl/v1/renewById/{first}"),
            Some("admin"),
            body,
        );
        assert_eq!(answer.status, 200, "{body:?}: {}", answer.text());
        assert!(answer.json()["sslId"].as_u64().is_some());
    }
    let answer = s.curl(
        "POST",
        &format!("/api/ssl/v1/renew/{renew_id}"),
        Some("admin"),
        None,
    );
    assert_eq!(answer.status, 204, "{}", answer.text());
    s.curl(
        "POST",
        "/api/ssl/v1/renew/not-a-renew-id",
        Some("admin"),
        None,
    )
    .refused(404, -5101);

    // Revoke: without a reason code, with a string code, by serial with and without colons.
    let serial_of = |id: u64| {
        s.curl("GET", &format!("/api/ssl/v1/{id}"), Some("admin"), None)
            .json()["serialNumber"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let answer = s.curl(
        "POST",
        &format!("/api/ssl/v1/revoke/{first}"),
        Some("admin"),
        Some(r#"{"reason":"gone"}"#),
    );
    assert_eq!(answer.status, 204, "{}", answer.text());
    s.curl(
        "POST",
        &format!("/api/ssl/v1/revoke/{first}"),
        Some("admin"),
        Some(r#"{"reason":"gone"}"#),
    )
    .refused(400, -102);
    let colons = serial_of(issued[1].0);
    assert!(colons.contains(':'));
    let answer = s.curl(
        "POST",
        &format!("/api/ssl/v1/revoke/serial/{colons}"),
        Some("admin"),
        Some(r#"{"reasonCode":"4","reason":"superseded"}"#),
    );
    assert_eq!(answer.status, 204, "{}", answer.text());
    let plain = serial_of(issued[2].0).replace(':', "").to_ascii_lowercase();
    let answer = s.curl(
        "POST",
        &format!("/api/ssl/v2/revoke/serial/{plain}"),
        Some("admin"),
        Some(r#"{"reasonCode":1}"#),
    );
    assert_eq!(answer.status, 204, "{}", answer.text());
    s.curl(
        "POST",
        &format!("/api/ssl/v1/revoke/{}", issued[3].0),
        Some("admin"),
        Some(r#"{"reasonCode":2}"#),
    )
    .refused(400, -7);
    s.curl(
        "POST",
        "/api/ssl/v1/revoke/serial/ABCDEF0123",
        Some("admin"),
        None,
    )
    .refused(404, -5101);

    // Refusals with their codes; nothing is issued by any of them.
    let before = s
        .curl("HEAD", "/api/ssl/v1", Some("admin"), None)
        .header("x-total-count");
    let refusals: Vec<(Value, u16, i64)> = vec![
        (
            json!({"orgId": org, "csr": csr_pem, "certType": 999, "term": 90}),
            400,
            -39,
        ),
        (
            json!({"orgId": org, "csr": csr_pem, "certType": tls, "term": 365}),
            400,
            -36,
        ),
        (
            json!({"orgId": 999999, "csr": csr_pem, "certType": tls, "term": 90}),
            400,
            -639,
        ),
        (
            json!({"orgId": org, "csr": "not a CSR", "certType": tls, "term": 90}),
            400,
            -9,
        ),
        (json!({"orgId": org, "certType": tls, "term": 90}), 400, -7),
        (json!({"csr": csr_pem, "certType": tls}), 400, -7),
        (
            json!({"orgId": "seven", "csr": csr_pem, "certType": tls}),
            400,
            -7,
        ),
    ];
    for (body, status, code) in &refusals {
        s.curl(
            "POST",
            "/api/ssl/v1/enroll",
            Some("admin"),
            Some(&body.to_string()),
        )
        .refused(*status, *code);
    }
    s.curl(
        "POST",
        "/api/ssl/v1/enroll",
        Some("admin"),
        Some("{not json"),
    )
    .refused(400, -7);
    s.curl("POST", "/api/ssl/v1/enroll", Some("admin"), Some("[1,2]"))
        .refused(400, -7);
    let after = s
        .curl("HEAD", "/api/ssl/v1", Some("admin"), None)
        .header("x-total-count");
    assert_eq!(before, after, "a refused enroll was stored");
    // A name outside the organization's delegated domains.
    let outside = s.csr("outside", "www.example.com", Some("DNS:www.example.com"));
    s.curl(
        "POST",
        "/api/ssl/v1/enroll",
        Some("admin"),
        Some(&json!({"orgId": org, "csr": outside, "certType": tls, "term": 90}).to_string()),
    )
    .refused(400, -737);
    // That one is kept as an Invalid request (the trail of what was asked), with no certificate.
    let invalid = s.curl("GET", "/api/ssl/v1?status=Invalid", Some("admin"), None);
    assert_eq!(
        invalid.header("x-total-count").as_deref(),
        Some("1"),
        "{}",
        invalid.text()
    );
    assert!(invalid.json()[0].get("serialNumber").is_none());
    let after = s
        .curl("HEAD", "/api/ssl/v1", Some("admin"), None)
        .header("x-total-count");
    // Oversized bodies are refused before they are read.
    let big = format!(r#"{{"csr":"{}"}}"#, "A".repeat(100 * 1024));
    let answer = s.curl_with(
        "POST",
        "/api/ssl/v1/enroll",
        Some("admin"),
        Some(&big),
        &["--http1.1", "-H", "Expect: 100-continue"],
    );
    assert_eq!(answer.status, 413, "{}", answer.text());

    // An RAO of another organization sees nothing of the demo organization and cannot
    // enroll into it: refused, nothing stored.
    let other = s.admin.json(&["org", "create", "--name", "Other"]);
    let other_id = id(&other);
    std::fs::write(s.dir.join("other.password"), "other rao password 42\n").unwrap();
    s.admin.ok(&[
        "admin",
        "create",
        "--username",
        "other-rao",
        "--password-file",
        s.dir.join("other.password").to_str().unwrap(),
        "--role",
        "rao",
        "--org",
        &other_id,
        "--privilege",
        "tls-server=request,approve,revoke",
    ]);
    let as_other = |method: &str, path: &str, body: Option<&str>| {
        let mut extra = vec![
            "-H",
            "login: other-rao",
            "-H",
            "password: other rao password 42",
            "-H",
            "customerUri: demo",
        ];
        let b;
        if let Some(body) = body {
            b = body.to_string();
            extra.extend(["-H", "Content-Type: application/json", "--data-binary", &b]);
            return s.curl_with(method, path, None, None, &extra);
        }
        s.curl_with(method, path, None, None, &extra)
    };
    let orgs = as_other("GET", "/api/organization/v1", None).json();
    assert_eq!(orgs.as_array().unwrap().len(), 1, "{orgs}");
    assert_eq!(orgs[0]["name"], "Other");
    as_other("GET", &format!("/api/organization/v1/{org}"), None).refused(404, -639);
    as_other("GET", &format!("/api/ssl/v1/{first}"), None).refused(404, -124);
    let listed = as_other("HEAD", "/api/ssl/v1", None);
    assert_eq!(listed.header("x-total-count").as_deref(), Some("0"));
    as_other(
        "POST",
        "/api/ssl/v1/enroll",
        Some(&json!({"orgId": org, "csr": csr_pem, "certType": tls, "term": 90}).to_string()),
    )
    .refused(400, -639);
    let after_other = s
        .curl("HEAD", "/api/ssl/v1", Some("admin"), None)
        .header("x-total-count");
    assert_eq!(after, after_other);

    // Approve and decline: a queued request of the requester.
    let queued = s.curl(
        "POST",
        "/api/ssl/v1/enroll",
        Some(REQUESTER),
        Some(&json!({"orgId": org, "csr": csr_pem, "certType": tls, "term": 90}).to_string()),
    );
    let queued = queued.json()["sslId"].as_u64().unwrap();
    s.curl(
        "POST",
        &format!("/api/ssl/v1/approve/{queued}"),
        Some(REQUESTER),
        Some(r#"{"message":"mine"}"#),
    )
    .refused(403, -3);
    let declined = s.curl(
        "POST",
        &format!("/api/ssl/v1/decline/{queued}"),
        Some("admin"),
        Some(r#"{"message":"no"}"#),
    );
    assert_eq!(declined.status, 204, "{}", declined.text());
    s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{queued}/x509CO"),
        Some("admin"),
        None,
    )
    .refused(400, -1112);
    let approved = s.curl(
        "POST",
        &format!("/api/ssl/v1/approve/{queued}"),
        Some("admin"),
        Some(r#"{"message":"yes after all"}"#),
    );
    assert_eq!(approved.status, 204, "{}", approved.text());
    s.curl(
        "POST",
        &format!("/api/ssl/v1/approve/{queued}"),
        Some("admin"),
        Some(r#"{"message":"twice"}"#),
    )
    .refused(400, -1112);

    // Organizations and domains through the API.
    let created = s.curl("POST", "/api/organization/v1", Some("admin"), Some(r#"{"name":"Branch","address1":"1 Main St","city":"Springfield","stateProvince":"IL","country":"US","clientCertificate":{}}"#));
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap();
    let branch: u64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let dept = s.curl(
        "POST",
        "/api/organization/v1",
        Some("admin"),
        Some(r#"{"name":"Branch IT","parentOrgName":"Branch","address1":"x","country":"US"}"#),
    );
    assert_eq!(dept.status, 201, "{}", dept.text());
    let branch_it: u64 = dept
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let details = s
        .curl(
            "GET",
            &format!("/api/organization/v1/{branch}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["stateOrProvince"], "IL", "{details}");
    assert_eq!(details["departments"][0]["id"], branch_it);
    let domain = s.curl("POST", "/api/domain/v1", Some("admin"), Some(&json!({"name": "branch.example", "delegations": [{"orgId": branch, "certTypes": ["SSL"]}]}).to_string()));
    assert_eq!(domain.status, 201, "{}", domain.text());
    let domain_id: u64 = domain
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let delegated = s.curl(
        "POST",
        &format!("/api/domain/v1/{domain_id}/delegation"),
        Some("admin"),
        Some(&json!({"orgId": branch_it, "certTypes": ["SSL"]}).to_string()),
    );
    assert_eq!(delegated.status, 200, "{}", delegated.text());
    let shown = s
        .curl(
            "GET",
            &format!("/api/domain/v1/{domain_id}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(shown["delegations"].as_array().unwrap().len(), 2, "{shown}");
    let listed = s.curl(
        "GET",
        &format!("/api/domain/v1?name=branch&orgId={branch}"),
        Some("admin"),
        None,
    );
    assert_eq!(listed.header("x-total-count").as_deref(), Some("1"));
    s.curl(
        "DELETE",
        &format!("/api/organization/v1/{branch}"),
        Some("admin"),
        None,
    )
    .refused(400, -7);
    let undelegated = s.curl(
        "DELETE",
        &format!("/api/domain/v1/{domain_id}/delegation"),
        Some("admin"),
        Some(&json!({"orgId": branch_it}).to_string()),
    );
    assert_eq!(undelegated.status, 200, "{}", undelegated.text());
    assert_eq!(
        s.curl(
            "DELETE",
            &format!("/api/domain/v1/{domain_id}"),
            Some("admin"),
            None
        )
        .status,
        204
    );
    s.curl(
        "GET",
        &format!("/api/domain/v1/{domain_id}"),
        Some("admin"),
        None,
    )
    .refused(404, -727);
    assert_eq!(
        s.curl(
            "DELETE",
            &format!("/api/organization/v1/{branch_it}"),
            Some("admin"),
            None
        )
        .status,
        204
    );
    let renamed = s.curl(
        "PUT",
        &format!("/api/organization/v1/{branch}"),
        Some("admin"),
        Some(r#"{"name":"Branch Office"}"#),
    );
    assert_eq!(renamed.json()["name"], "Branch Office");
    assert_eq!(
        s.curl(
            "DELETE",
            &format!("/api/organization/v1/{branch}"),
            Some("admin"),
            None
        )
        .status,
        204
    );
    s.curl(
        "GET",
        &format!("/api/organization/v1/{branch}"),
        Some("admin"),
        None,
    )
    .refused(404, -639);
    s.curl("GET", "/api/nothing/v1/here", Some("admin"), None)
        .refused(404, -1);

    // The server is still up and answering.
    assert_eq!(
        s.curl("GET", "/api/organization/v1", Some("admin"), None)
            .status,
        200
    );
}

#[test]
fn device_and_client_certificates_enroll_collect_renew_and_revoke() {
    let s = Setup::start();
    let type_of = |area: &str, name: &str| {
        let types = s
            .curl("GET", &format!("/api/{area}/v1/types"), Some("admin"), None)
            .json();
        types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .and_then(|t| t["id"].as_u64())
            .unwrap_or_else(|| panic!("no {name} in {types}"))
    };
    let device_type = type_of("device", "device");
    let smime_type = type_of("smime", "smime");
    assert_ne!(device_type, smime_type);
    // A device profile is not an SSL type.
    let ssl_types = s
        .curl("GET", "/api/ssl/v1/types", Some("admin"), None)
        .json();
    assert!(!ssl_types.to_string().contains("\"device\""), "{ssl_types}");

    // Device: optionalFields give its names; the answer carries every id of the order.
    let device_csr = s.csr("dev", "sensor-1.test", None);
    let body = json!({
        "orgId": s.org, "csr": device_csr, "certType": device_type, "term": 365,
        "optionalFields": [{"name": "dnsName", "value": "sensor-1.test"}],
    });
    let enrolled = s.curl(
        "POST",
        "/api/device/v1/enroll",
        Some("admin"),
        Some(&body.to_string()),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.text());
    let enrolled = enrolled.json();
    let device_id = enrolled["deviceCertId"].as_u64().unwrap();
    assert_eq!(enrolled["status"], "ISSUED", "{enrolled}");
    assert_eq!(enrolled["backendCertId"], device_id.to_string());
    let p7 = s.curl(
        "GET",
        &format!("/api/device/v1/collect/{device_id}"),
        Some("admin"),
        None,
    );
    assert!(p7.text().contains("BEGIN PKCS7"), "{}", p7.text());
    let leaf = s.curl(
        "GET",
        &format!("/api/device/v1/collect/{device_id}?format=x509CO"),
        Some("admin"),
        None,
    );
    let leaf_file = s.verify("device", &leaf.text());
    let list = s.curl("GET", "/api/device/v1", Some("admin"), None);
    assert_eq!(list.header("x-total-count").as_deref(), Some("1"));
    assert_eq!(list.json()[0]["id"], device_id);
    assert!(list.json()[0]["certificateDetails"]["subject"].is_string());
    let details = s
        .curl(
            "GET",
            &format!("/api/device/v1/{device_id}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["status"], "Issued", "{details}");
    let serial = details["serialNumber"].as_str().unwrap().to_string();
    let renewed = s.curl(
        "POST",
        &format!("/api/device/v1/renew/serial/{serial}"),
        Some("admin"),
        None,
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let renewed_id = renewed.json()["deviceCertId"].as_u64().unwrap();
    assert_ne!(renewed_id, device_id);
    // The device area does not answer for TLS server orders, nor SSL for device ones.
    s.curl(
        "GET",
        &format!("/api/ssl/v1/{device_id}"),
        Some("admin"),
        None,
    )
    .refused(404, -124);
    let revoked = s.curl(
        "POST",
        &format!("/api/device/v1/revoke/order/{device_id}"),
        Some("admin"),
        Some(r#"{"reasonCode":5,"reason":"retired"}"#),
    );
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let ocsp = ocsp_text(
        &s.dir,
        s.gateway.http_url(),
        ISSUING_PEM,
        ROOT_PEM,
        &leaf_file,
    );
    assert!(ocsp.contains(": revoked"), "{ocsp}");

    // S/MIME: the e-mail address becomes the certificate's; lower-case states.
    let smime_csr = s.csr("mail", "Alice Example", None);
    let body = json!({
        "orgId": s.org, "csr": smime_csr, "certType": smime_type, "term": 365,
        "email": "alice@mail.test", "firstName": "Alice", "lastName": "Example",
    });
    let enrolled = s.curl(
        "POST",
        "/api/smime/v1/enroll",
        Some("admin"),
        Some(&body.to_string()),
    );
    assert_eq!(enrolled.status, 200, "{}", enrolled.text());
    let order = enrolled.json()["orderNumber"].as_u64().unwrap();
    assert_eq!(enrolled.json()["backendCertId"], order.to_string());
    let mail = s.curl(
        "GET",
        &format!("/api/smime/v1/collect/{order}/x509CO"),
        Some("admin"),
        None,
    );
    let mail_file = s.verify("mail", &mail.text());
    let sans = must(
        &s.dir,
        "openssl",
        &[
            "x509",
            "-in",
            mail_file.to_str().unwrap(),
            "-noout",
            "-ext",
            "subjectAltName",
        ],
    )
    .stdout;
    assert!(sans.contains("alice@mail.test"), "{sans}");
    let list = s.curl("GET", "/api/smime/v2", Some("admin"), None);
    assert_eq!(list.json()[0]["state"], "issued", "{}", list.text());
    let missing = json!({"orgId": s.org, "csr": smime_csr, "certType": smime_type});
    s.curl(
        "POST",
        "/api/smime/v1/enroll",
        Some("admin"),
        Some(&missing.to_string()),
    )
    .refused(400, -7);
    let renewed = s.curl(
        "POST",
        &format!("/api/smime/v2/renew/order/{order}"),
        Some("admin"),
        None,
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    assert!(renewed.json()["orderNumber"]
        .as_u64()
        .is_some_and(|n| n != order));
    let revoked = s.curl(
        "POST",
        &format!("/api/smime/v1/revoke/order/{order}"),
        Some("admin"),
        Some(r#"{"reasonCode":"3","reason":"left"}"#),
    );
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let details = s
        .curl(
            "GET",
            &format!("/api/smime/v1/{order}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["status"], "revoked", "{details}");

    // Reports over the same records.
    let report = |name: &str, body: Value| {
        let answer = s.curl(
            "POST",
            &format!("/api/report/v1/{name}"),
            Some("admin"),
            Some(&body.to_string()),
        );
        assert_eq!(answer.status, 200, "{name}: {}", answer.text());
        let value = answer.json();
        assert_eq!(value["statusCode"], 0, "{value}");
        value["reports"].as_array().unwrap().clone()
    };
    let devices = report("device-certificates", json!({"organizationIds": [s.org]}));
    assert_eq!(devices.len(), 2, "{devices:?}");
    let revoked = report("device-certificates", json!({"certificateStatus": 3}));
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], device_id);
    assert!(revoked[0]["serialNumber"].is_string() && revoked[0]["revoked"].is_string());
    let clients = report("client-certificates", json!({"certificateStatus": 2}));
    assert_eq!(
        clients.len(),
        1,
        "the renewal is issued, the first revoked: {clients:?}"
    );
    assert_eq!(clients[0]["email"], "alice@mail.test");
    let day = |args: &[&str]| must(&s.dir, "date", args).stdout.trim().to_string();
    let yesterday = day(&["-u", "-d", "yesterday", "+%F"]);
    let tomorrow = day(&["-u", "-d", "tomorrow", "+%F"]);
    let expiring = report(
        "device-certificates",
        json!({"certificateDateAttribute": 3, "from": tomorrow, "to": tomorrow}),
    );
    assert!(
        expiring.is_empty(),
        "nothing expires tomorrow: {expiring:?}"
    );
    assert!(report("ssl-certificates", json!({})).is_empty());
    let domains = report("domains", json!({}));
    assert!(domains.iter().any(|d| d["name"] == "test"), "{domains:?}");
    let activity = report("activity", json!({"from": yesterday, "to": tomorrow}));
    assert!(activity
        .iter()
        .any(|a| a["action"]["actionName"] == "certificate.revoke"));
    s.curl(
        "POST",
        "/api/report/v1/activity",
        Some("admin"),
        Some(r#"{"from":"yesterday"}"#),
    )
    .refused(400, -7);
}

/// A new ACME account with an EAB key (instant-acme, a third-party ACME client library).
fn acme_account_with(
    directory: &str,
    root: &Path,
    kid: &str,
    hmac_b64url: &str,
) -> Result<(), String> {
    use base64::Engine;
    use instant_acme::{Account, ExternalAccountKey, NewAccount};
    let hmac = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(hmac_b64url)
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let builder = Account::builder_with_root(root).map_err(|e| e.to_string())?;
        builder
            .create(
                &NewAccount {
                    contact: &[],
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                directory.to_string(),
                Some(&ExternalAccountKey::new(kid.to_string(), &hmac)),
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

#[test]
fn acme_accounts_are_eab_keys_that_acme_clients_bind() {
    let s = Setup::start();
    s.admin.ok(&[
        "endpoint",
        "create",
        "--name",
        "scm-eab",
        "--kind",
        "acme",
        "--org",
        &s.org.to_string(),
        "--profile",
        "tls-server",
        "--approval",
        "auto",
        "--eab-required",
    ]);
    let directory = format!("{}/acme/scm-eab/directory", s.gateway.https_url());
    let create = |name: &str| {
        let body = json!({"name": name, "acmeServer": directory, "organizationId": s.org, "profileName": "tls-server", "evDetails": {}});
        let answer = s.curl(
            "POST",
            "/api/acme/v1/pca/account",
            Some("admin"),
            Some(&body.to_string()),
        );
        assert_eq!(answer.status, 201, "{}", answer.text());
        let id: u64 = answer
            .header("location")
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let body = answer.json();
        assert_eq!(body["id"], id);
        (
            id,
            body["macId"].as_str().unwrap().to_string(),
            body["macKey"].as_str().unwrap().to_string(),
        )
    };
    let (first, kid, hmac) = create("web farm");
    assert!(kid.starts_with("kid-") && hmac.len() >= 40, "{kid} {hmac}");

    let listed = s.curl(
        "GET",
        &format!("/api/acme/v1/pca/account?organizationId={}", s.org),
        Some("admin"),
        None,
    );
    assert_eq!(listed.header("x-total-count").as_deref(), Some("1"));
    assert_eq!(listed.json()[0]["macId"], kid.as_str());
    assert_eq!(listed.json()[0]["macKey"], "", "no HMAC key in lists");
    assert_eq!(listed.json()[0]["acmeServer"], directory.as_str());
    let details = s
        .curl(
            "GET",
            &format!("/api/acme/v1/pca/account/{first}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(
        details["macKey"],
        hmac.as_str(),
        "unused: the key is still shown"
    );
    assert_eq!(details["accountId"], "");

    // An ACME client binds it; from then on the HMAC key is not shown.
    let root = s.dir.join(ROOT_PEM);
    acme_account_with(&directory, &root, &kid, &hmac).expect("new account with the EAB key");
    let details = s
        .curl(
            "GET",
            &format!("/api/acme/v1/pca/account/{first}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["macKey"], "", "{details}");
    assert!(
        details["accountId"]
            .as_str()
            .is_some_and(|a| a.contains("/acme/")),
        "{details}"
    );

    // Renamed; a deleted account's key binds nothing.
    let renamed = s.curl(
        "PUT",
        &format!("/api/acme/v1/pca/account/{first}"),
        Some("admin"),
        Some(r#"{"name":"web farm 2"}"#),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let (second, kid2, hmac2) = create("temporary");
    assert_eq!(
        s.curl(
            "DELETE",
            &format!("/api/acme/v1/pca/account/{second}"),
            Some("admin"),
            None
        )
        .status,
        204
    );
    assert!(acme_account_with(&directory, &root, &kid2, &hmac2).is_err());
    s.curl(
        "GET",
        &format!("/api/acme/v1/pca/account/{second}"),
        Some("admin"),
        None,
    )
    .refused(404, -5101);
    let all = s
        .curl("GET", "/api/acme/v1/pca/account", Some("admin"), None)
        .json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["name"], "web farm 2");
    // The requester (no manage privilege) cannot create accounts.
    let body = json!({"name": "mine", "acmeServer": "scm-eab", "organizationId": s.org});
    s.curl(
        "POST",
        "/api/acme/v1/pca/account",
        Some(REQUESTER),
        Some(&body.to_string()),
    )
    .refused(403, -3);
    // No such endpoint.
    let body = json!({"name": "x", "acmeServer": "nowhere", "organizationId": s.org});
    s.curl(
        "POST",
        "/api/acme/v1/pca/account",
        Some("admin"),
        Some(&body.to_string()),
    )
    .refused(400, -7);
    // The OpenAPI document covers the compatible API too.
    let doc = s.curl("GET", "/api/v1/openapi.json", None, None).json();
    for path in [
        "/api/ssl/v1/enroll",
        "/api/ssl/v1/collect/{sslId}/{format}",
        "/api/acme/v1/pca/account",
        "/api/device/v1/enroll",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} is not in the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["scmLogin"].is_object());
}

#[test]
fn private_api_takes_a_linked_client_certificate_and_no_password() {
    let s = Setup::start();
    must(
        &s.dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.crt",
            "-days",
            "2",
            "-subj",
            "/CN=scm requester",
        ],
    );
    let admins = s.admin.json(&["admin", "list"]);
    let requester = certwright_tests::cli::items(&admins)
        .into_iter()
        .find(|a| a["username"] == REQUESTER)
        .map(|a| id(&a))
        .unwrap_or_else(|| panic!("{admins}"));
    let private = format!("{}/private/api", s.gateway.https_url());
    let with_cert = |login: &str| {
        s.curl_with(
            "GET",
            "/private/api/organization/v1",
            None,
            None,
            &[
                "--cert",
                "client.crt",
                "--key",
                "client.key",
                "-H",
                &format!("login: {login}"),
                "-H",
                "customerUri: demo",
            ],
        )
    };
    // Not linked yet: refused, and so is a password on /private/api.
    with_cert(REQUESTER).refused(401, -16);
    s.curl("GET", "/private/api/organization/v1", Some(REQUESTER), None)
        .refused(401, -16);

    s.admin.ok(&[
        "admin",
        "link-certificate",
        &requester,
        "--certificate",
        "client.crt",
    ]);
    let orgs = with_cert(REQUESTER);
    assert_eq!(orgs.status, 200, "{}", orgs.text());
    assert_eq!(orgs.json()[0]["name"], "Demo");
    // The certificate stands for this administrator only.
    with_cert("admin").refused(401, -16);
    // The package's client-certificate mode, as a connector configured for it runs it.
    let credentials = format!(
        "cert:{}:{}",
        s.dir.join("client.crt").display(),
        s.dir.join("client.key").display()
    );
    let types = s
        .pcm_as(&private, REQUESTER, &credentials, "types", &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(types["tls-server"]["id"].is_u64(), "{types}");
    s.csr("priv", "private.test", Some("DNS:private.test"));
    let enrolled = s
        .pcm_as(
            &private,
            REQUESTER,
            &credentials,
            "enroll",
            &["tls-server", "priv.csr", "90", &s.org.to_string(), ""],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(enrolled["sslId"].is_u64(), "{enrolled}");

    // Unlinked: refused again.
    let fingerprint = must(
        &s.dir,
        "openssl",
        &[
            "x509",
            "-in",
            "client.crt",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    )
    .stdout;
    let fingerprint = fingerprint.trim().rsplit('=').next().unwrap().to_string();
    s.admin.ok(&[
        "admin",
        "unlink-certificate",
        &requester,
        "--sha256",
        &fingerprint,
    ]);
    with_cert(REQUESTER).refused(401, -16);
}

#[test]
fn certificates_issued_elsewhere_are_imported_revoked_manually_and_deleted() {
    let s = Setup::start();
    let make = |name: &str, eku: &str| -> String {
        must(
            &s.dir,
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.crt"),
                "-days",
                "30",
                "-subj",
                &format!("/CN={name}.legacy.example"),
                "-addext",
                &format!("extendedKeyUsage={eku}"),
            ],
        );
        std::fs::read_to_string(s.dir.join(format!("{name}.crt"))).unwrap()
    };
    let web = make("web", "serverAuth");
    let device = make("device", "clientAuth");
    let bare: String = web.lines().filter(|l| !l.starts_with("-----")).collect();
    let body = json!([
        {"orgID": s.org, "cert": bare, "comments": "from the old manager"},
        {"orgID": s.org, "cert": device},
        {"orgID": 999999, "cert": web},
        {"orgID": s.org, "cert": "not a certificate"},
    ]);
    let answer = s.curl(
        "POST",
        "/api/ssl/v2/import",
        Some("admin"),
        Some(&body.to_string()),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let rows = answer.json();
    assert_eq!(rows[0]["created"], true, "{rows}");
    let imported = rows[0]["cert"]["id"].as_u64().unwrap();
    assert!(rows[0]["cert"]["subject"]
        .as_str()
        .unwrap()
        .contains("web.legacy.example"));
    for i in 1..4 {
        assert!(rows[i]["errorMessage"].is_string(), "row {i}: {rows}");
    }
    // The device certificate belongs to the device area.
    let answer = s.curl(
        "POST",
        "/api/device/v1/import",
        Some("admin"),
        Some(&json!([{"orgID": s.org, "cert": device}]).to_string()),
    );
    assert_eq!(answer.json()[0]["created"], true, "{}", answer.text());

    let details = s
        .curl(
            "GET",
            &format!("/api/ssl/v1/{imported}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["status"], "Issued", "{details}");
    assert_eq!(details["requestedVia"], "Imported");
    let leaf = s.curl(
        "GET",
        &format!("/api/ssl/v1/collect/{imported}/x509"),
        Some("admin"),
        None,
    );
    assert_eq!(
        pem_blocks(&leaf.text()).len(),
        1,
        "an imported certificate comes alone"
    );
    // Ours cannot be revoked "manually", nor deleted; renewal of an import is refused.
    let ours = s.curl(
        "POST",
        "/api/ssl/v1/enroll",
        Some("admin"),
        Some(&json!({"orgId": s.org, "csr": s.csr("ours", "ours.test", Some("DNS:ours.test")), "certType": s.tls_type()}).to_string()),
    );
    let ours = ours.json()["sslId"].as_u64().unwrap();
    s.curl(
        "POST",
        "/api/ssl/v1/revoke/manual",
        Some("admin"),
        Some(&json!({"certId": ours, "reasonCode": 1}).to_string()),
    )
    .refused(400, -7);
    s.curl(
        "DELETE",
        &format!("/api/ssl/v1/{ours}"),
        Some("admin"),
        None,
    )
    .refused(400, -7);
    s.curl(
        "POST",
        &format!("/api/ssl/v1/renewById/{imported}"),
        Some("admin"),
        None,
    )
    .refused(400, -7);

    let serial = details["serialNumber"].as_str().unwrap().replace(':', "");
    let revoked = s.curl(
        "POST",
        "/api/ssl/v1/revoke/manual",
        Some("admin"),
        Some(&json!({"serialNumber": serial, "issuer": "CN=web.legacy.example", "reasonCode": 1, "revokeDate": "2026-12-01"}).to_string()),
    );
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let details = s
        .curl(
            "GET",
            &format!("/api/ssl/v1/{imported}"),
            Some("admin"),
            None,
        )
        .json();
    assert_eq!(details["status"], "Revoked", "{details}");
    s.curl(
        "POST",
        "/api/ssl/v1/revoke/manual",
        Some("admin"),
        Some(&json!({"certId": imported}).to_string()),
    )
    .refused(400, -102);
    assert_eq!(
        s.curl(
            "DELETE",
            &format!("/api/ssl/v1/{imported}"),
            Some("admin"),
            None
        )
        .status,
        204
    );
    s.curl(
        "GET",
        &format!("/api/ssl/v1/{imported}"),
        Some("admin"),
        None,
    )
    .refused(404, -124);
    s.curl("POST", "/api/ssl/v2/import", Some("admin"), Some("{}"))
        .refused(400, -7);
}

#[test]
fn failed_logins_slow_down_one_account_from_one_address() {
    let s = Setup::start();
    let wrong_scm = || {
        s.curl_with(
            "GET",
            "/api/organization/v1",
            None,
            None,
            &[
                "-H",
                "login: admin",
                "-H",
                "password: not the password",
                "-H",
                "customerUri: demo",
            ],
        )
    };
    // Three free failures, then a lock that grows with each further one.
    for _ in 0..3 {
        wrong_scm().refused(401, -16);
    }
    let mut locked = None;
    for _ in 0..4 {
        let answer = wrong_scm();
        if answer.status == 429 {
            locked = Some(answer);
            break;
        }
        answer.refused(401, -16);
    }
    let locked = locked.expect("a lock within four more failures");
    locked.refused(429, -16);
    assert!(locked
        .header("retry-after")
        .is_some_and(|w| w.parse::<u64>().is_ok()));
    // The right password waits too; another account from the same address does not.
    s.curl("GET", "/api/organization/v1", Some("admin"), None)
        .refused(429, -16);
    assert_eq!(
        s.curl("GET", "/api/organization/v1", Some(REQUESTER), None)
            .status,
        200
    );

    // Our own API's login shares the account's lock (one RA): refused with 429 too.
    let body = |password: &str| json!({"username": "admin", "password": password}).to_string();
    let answer = s.curl(
        "POST",
        "/api/v1/login",
        None,
        Some(&body(&s.admin_password)),
    );
    assert_eq!(answer.status, 429, "{}", answer.text());
    assert!(answer.header("retry-after").is_some());

    // An MRAO lifts it at once (the CLI's session was made before), audited.
    let unlocked = s.admin.json(&["admin", "unlock", "1"]);
    assert!(
        unlocked["cleared"].as_u64().is_some_and(|n| n >= 1),
        "{unlocked}"
    );
    assert_eq!(
        s.curl("GET", "/api/organization/v1", Some("admin"), None)
            .status,
        200
    );
    let answer = s.curl(
        "POST",
        "/api/v1/login",
        None,
        Some(&body(&s.admin_password)),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let audit = s
        .admin
        .json(&["audit", "list", "--limit", "500"])
        .to_string();
    assert!(
        audit.contains("admin.unlock") && audit.contains("locked for"),
        "{audit}"
    );
}
