//! The administrators' web console against a running `ca-admin serve`, with curl
//! as the browser (a cookie jar, forms posted as a browser posts them):
//!
//! - the login form carries a CSRF token bound to a cookie; a post without it is
//!   refused; a wrong password is refused; the session cookie is `Secure`,
//!   `HttpOnly`, `SameSite=Strict`; every page has a CSP without `unsafe-inline`;
//! - the dashboard draws its charts as SVG with their numbers as tables;
//! - a queued request shows in the approval queue; a form without the session's
//!   CSRF token changes nothing; approving it issues the certificate;
//! - an RAO of another organization sees neither the request nor the certificate;
//! - logout ends the session.

use std::path::{Path, PathBuf};

use certwright_tests::cli::id;
use certwright_tests::est::Est;
use certwright_tests::{openssl_csr, run_in, Gateway, Operator};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");
const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";

struct Browser<'a> {
    dir: &'a Path,
    base: String,
    jar: PathBuf,
}

struct Page {
    status: u16,
    headers: String,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(dir: &'a Path, base: &str, name: &str) -> Self {
        Self {
            dir,
            base: base.to_string(),
            jar: dir.join(format!("{name}.cookies")),
        }
    }

    fn request(&self, method: &str, path: &str, form: &[(&str, &str)]) -> Page {
        let out = self.dir.join("page.html");
        let headers = self.dir.join("page.headers");
        let _ = std::fs::remove_file(&out);
        let mut args: Vec<String> = vec![
            "-sS".into(),
            "--cacert".into(),
            ROOT_PEM.into(),
            "-b".into(),
            self.jar.display().to_string(),
            "-c".into(),
            self.jar.display().to_string(),
            "-o".into(),
            out.display().to_string(),
            "-D".into(),
            headers.display().to_string(),
            "-w".into(),
            "%{http_code}".into(),
            "-X".into(),
            method.into(),
        ];
        for (k, v) in form {
            args.push("--data-urlencode".into());
            args.push(format!("{k}={v}"));
        }
        args.push(format!("{}{path}", self.base));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_in(self.dir, "curl", &argv);
        assert!(run.ok, "curl {path}: {}", run.stderr);
        Page {
            status: run.stdout.trim().parse().unwrap_or(0),
            headers: std::fs::read_to_string(&headers).unwrap_or_default(),
            body: std::fs::read_to_string(&out).unwrap_or_default(),
        }
    }

    fn get(&self, path: &str) -> Page {
        self.request("GET", path, &[])
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.request("POST", path, form)
    }

    /// Signs in; returns the session's CSRF token (read off a page's forms).
    fn sign_in(&self, username: &str, password: &str) -> String {
        let form = self.get("/console/login");
        let csrf = hidden_csrf(&form.body);
        let signed = self.post(
            "/console/login",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        );
        assert_eq!(signed.status, 303, "{}", signed.body);
        let dashboard = self.get("/console/");
        assert_eq!(dashboard.status, 200, "{}", dashboard.body);
        hidden_csrf(&dashboard.body)
    }
}

fn hidden_csrf(html: &str) -> String {
    let start =
        html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

fn header<'p>(page: &'p Page, name: &str) -> Vec<&'p str> {
    page.headers
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
        .collect()
}

#[test]
fn sign_in_dashboard_queue_and_approval_within_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let password = gateway.first_admin_password();
    let admin = Operator::new(BIN, dir, "admin", gateway.https_url())
        .with_ca_cert(Some(Path::new(ROOT_PEM)));
    admin.login("admin", &password);
    let org = admin.demo_org();

    // A queued request: an RAO of Demo who may request but not approve.
    std::fs::write(dir.join("rao.password"), "demo officer 2026 q\n").unwrap();
    admin.ok(&[
        "admin",
        "create",
        "--username",
        "requester",
        "--password-file",
        dir.join("rao.password").to_str().unwrap(),
        "--role",
        "rao",
        "--org",
        &org,
        "--privilege",
        "tls-server=request",
    ]);
    let requester = Operator::new(BIN, dir, "requester", gateway.https_url())
        .with_ca_cert(Some(Path::new(ROOT_PEM)));
    requester.login("requester", "demo officer 2026 q");
    let csr = openssl_csr(
        dir,
        "queued",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=queued.test",
        Some("DNS:queued.test"),
    );
    let submitted = requester.json(&[
        "request",
        "submit",
        "--csr",
        csr.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        &org,
    ]);
    let request = id(&submitted);

    let browser = Browser::new(dir, gateway.https_url(), "admin");
    // Not signed in: sent to the login form, which sets its CSRF cookie strictly.
    let first = browser.get("/console/");
    assert_eq!(first.status, 303);
    assert!(header(&first, "location").contains(&"/console/login"));
    let form = browser.get("/console/login");
    assert_eq!(form.status, 200);
    let csp = header(&form, "content-security-policy").join(" ");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        form.body.contains("<label for=\"username\">"),
        "labels on fields"
    );
    // A post without the cookie's token, and a wrong password: refused.
    let forged = Browser::new(dir, gateway.https_url(), "forger");
    let refused = forged.post(
        "/console/login",
        &[
            ("csrf", "guess"),
            ("username", "admin"),
            ("password", &password),
        ],
    );
    assert_eq!(refused.status, 403);
    let csrf = hidden_csrf(&form.body);
    let wrong = browser.post(
        "/console/login",
        &[
            ("csrf", &csrf),
            ("username", "admin"),
            ("password", "not it at all"),
        ],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong username or password"));

    let session_csrf = browser.sign_in("admin", &password);
    let jar = std::fs::read_to_string(&browser.jar).unwrap();
    assert!(jar.contains("cw_console"), "{jar}");
    let dashboard = browser.get("/console/");
    assert!(
        dashboard.body.contains("<svg") && dashboard.body.contains("<table"),
        "charts with their numbers"
    );
    assert!(dashboard.body.contains("Requests by status"));
    for chart in [
        "Certificates expiring",
        "Key strength",
        "Signature algorithms",
        "Public key algorithms",
        "Certificates by duration",
        "Requested vs issued",
    ] {
        assert!(dashboard.body.contains(chart), "no chart {chart}");
    }

    // The queue shows the request; a post without the session's token changes nothing.
    let queue = browser.get("/console/queue");
    assert!(queue.body.contains("queued.test"), "{}", queue.body);
    let stale = browser.post(
        &format!("/console/requests/{request}/approve"),
        &[("csrf", "stale"), ("message", "x")],
    );
    assert_eq!(stale.status, 403);
    let shown = admin.json(&["request", "show", &request]);
    assert_eq!(shown["status"], "requested", "{shown}");
    let approved = browser.post(
        &format!("/console/requests/{request}/approve"),
        &[("csrf", &session_csrf), ("message", "looks right")],
    );
    assert_eq!(approved.status, 303, "{}", approved.body);
    let shown = admin.json(&["request", "show", &request]);
    assert_eq!(shown["status"], "issued", "{shown}");
    let dashboard = browser.get("/console/");
    assert!(
        dashboard.body.contains("EC P-256") && dashboard.body.contains("ECDSA with SHA-256"),
        "{}",
        dashboard.body
    );
    let listed = browser.get("/console/certificates?name=queued");
    assert!(listed.body.contains("queued.test"), "{}", listed.body);
    let certificate = shown["certificate"]
        .as_u64()
        .expect("the issued certificate");

    // Its page, a download (the chain verifies), and a revocation the CRL shows.
    let page = browser.get(&format!("/console/certificates/{certificate}"));
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("certificate.issue"),
        "history from the audit log"
    );
    let pem = browser.get(&format!(
        "/console/certificates/{certificate}/download?format=pem-chain"
    ));
    assert!(header(&pem, "content-disposition")
        .iter()
        .any(|d| d.contains("attachment")));
    std::fs::write(dir.join("console.pem"), &pem.body).unwrap();
    let verify = run_in(
        dir,
        "openssl",
        &[
            "verify",
            "-CAfile",
            ROOT_PEM,
            "-untrusted",
            "console.pem",
            "console.pem",
        ],
    );
    assert!(
        verify.stdout.contains(": OK"),
        "{}{}",
        verify.stdout,
        verify.stderr
    );
    let revoked = browser.post(
        &format!("/console/certificates/{certificate}/revoke"),
        &[
            ("csrf", &session_csrf),
            ("reason", "key-compromise"),
            ("message", "laptop stolen"),
        ],
    );
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    let crl = certwright_tests::revocation::crl_text(
        dir,
        gateway.http_url(),
        "demo-issuing",
        "ca-data/cas/demo-issuing/certificate.pem",
    );
    let serial = admin.json(&["cert", "show", &certificate.to_string()])["serial"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        certwright_tests::revocation::crl_lists(&crl, &serial),
        "{serial} not in\n{crl}"
    );
    assert!(crl.contains("Key Compromise"), "{crl}");

    // Bulk approval of two more.
    let mut more = Vec::new();
    for name in ["bulk-a", "bulk-b"] {
        let csr = openssl_csr(
            dir,
            name,
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            &format!("/CN={name}.test"),
            Some(&format!("DNS:{name}.test")),
        );
        let submitted = requester.json(&[
            "request",
            "submit",
            "--csr",
            csr.to_str().unwrap(),
            "--profile",
            "tls-server",
            "--org",
            &org,
        ]);
        more.push(id(&submitted));
    }
    let queue = browser.get("/console/queue");
    assert!(queue.body.contains("bulk-a.test") && queue.body.contains("Approve selected"));
    let bulk = browser.post(
        "/console/queue/approve",
        &[
            ("csrf", &session_csrf),
            ("message", "batch"),
            ("ids", &more[0]),
            ("ids", &more[1]),
        ],
    );
    assert_eq!(bulk.status, 303, "{}", bulk.body);
    for r in &more {
        assert_eq!(admin.json(&["request", "show", r])["status"], "issued");
    }

    // An RAO of another organization sees none of it.
    let other = admin.json(&["org", "create", "--name", "Elsewhere"]);
    std::fs::write(dir.join("other.password"), "far away officer 2026\n").unwrap();
    admin.ok(&[
        "admin",
        "create",
        "--username",
        "elsewhere",
        "--password-file",
        dir.join("other.password").to_str().unwrap(),
        "--role",
        "rao",
        "--org",
        &id(&other),
        "--privilege",
        "tls-server=request,approve",
    ]);
    let stranger = Browser::new(dir, gateway.https_url(), "elsewhere");
    let stranger_csrf = stranger.sign_in("elsewhere", "far away officer 2026");
    assert!(!stranger
        .get("/console/certificates")
        .body
        .contains("queued.test"));
    let decline = stranger.post(
        &format!("/console/requests/{request}/decline"),
        &[("csrf", &stranger_csrf), ("message", "no")],
    );
    assert_eq!(
        decline.status, 404,
        "another organization's request is not found"
    );

    // Logout ends the session.
    let out = browser.post("/console/logout", &[("csrf", &session_csrf)]);
    assert_eq!(out.status, 303);
    assert_eq!(browser.get("/console/").status, 303);
    let audit = admin.json(&["audit", "list", "--limit", "500"]).to_string();
    assert!(audit.contains("console.login") && audit.contains("certificate.issue"));
}

/// Issues a certificate for `name` in a department as the MRAO; returns its id.
fn issue_in(admin: &Operator, dir: &Path, org: &str, dept: &str, name: &str) -> u64 {
    let csr = openssl_csr(
        dir,
        name,
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        &format!("/CN={name}"),
        Some(&format!("DNS:{name}")),
    );
    let submitted = admin.json(&[
        "request",
        "submit",
        "--csr",
        csr.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        org,
        "--dept",
        dept,
    ]);
    let shown = admin.json(&["request", "show", &id(&submitted)]);
    assert_eq!(shown["status"], "issued", "{shown}");
    shown["certificate"].as_u64().expect("its certificate")
}

#[test]
fn management_pages_lists_csv_and_a_department_officer_s_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let password = gateway.first_admin_password();
    let admin = Operator::new(BIN, dir, "admin", gateway.https_url())
        .with_ca_cert(Some(Path::new(ROOT_PEM)));
    admin.login("admin", &password);
    let org = admin.demo_org();
    let lab = id(&admin.json(&["dept", "create", "--org", &org, "--name", "Lab"]));
    let office = id(&admin.json(&["dept", "create", "--org", &org, "--name", "Office"]));
    let lab_cert = issue_in(&admin, dir, &org, &lab, "lab.test");
    let office_cert = issue_in(&admin, dir, &org, &office, "office.test");
    std::fs::write(dir.join("drao.password"), "lab officer of 2026\n").unwrap();
    let drao = id(&admin.json(&[
        "admin",
        "create",
        "--username",
        "labofficer",
        "--password-file",
        dir.join("drao.password").to_str().unwrap(),
        "--role",
        "drao",
        "--dept",
        &lab,
        "--privilege",
        "tls-server=request,approve,revoke",
    ]));

    let mrao = Browser::new(dir, gateway.https_url(), "mrao");
    let csrf = mrao.sign_in("admin", &password);
    // The lists: class tabs, filters, sorting, CSV.
    let tls = mrao.get("/console/certificates?class=tls-server&sort=subject&dir=desc");
    assert_eq!(tls.status, 200);
    let (office_at, lab_at) = (
        tls.body.find("office.test").expect("office listed"),
        tls.body.find("lab.test").expect("lab listed"),
    );
    assert!(office_at < lab_at, "sorted by subject, descending");
    assert!(tls.body.contains("aria-sort=\"descending\""));
    let devices = mrao.get("/console/certificates?class=device");
    assert!(
        !devices.body.contains("lab.test"),
        "a TLS certificate is not a device's"
    );
    let by_dept = mrao.get(&format!("/console/certificates?dept={office}"));
    assert!(by_dept.body.contains("office.test") && !by_dept.body.contains("lab.test"));
    let csv = mrao.get("/console/certificates.csv?name=lab.test");
    assert!(header(&csv, "content-type")
        .iter()
        .any(|t| t.starts_with("text/csv")));
    assert!(
        csv.body.starts_with("id,serial,status,subject"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains(&format!("\r\n{lab_cert},")) && !csv.body.contains("office.test"));

    // The management pages.
    for (path, expect) in [
        ("/console/organizations", "Lab"),
        ("/console/administrators", "labofficer"),
        ("/console/endpoints", "/acme/default/directory"),
        ("/console/authorities", "demo-root"),
        ("/console/profiles", "certificate_type"),
        ("/console/audit", "The hash chain verifies"),
    ] {
        let page = mrao.get(path);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(
            page.body.contains(expect),
            "{path} lacks {expect}: {}",
            page.body
        );
    }
    // Organizations, departments and delegations made with the page's forms.
    let made = mrao.post(
        "/console/organizations",
        &[("csrf", &csrf), ("name", "Branch Office")],
    );
    assert_eq!(made.status, 303, "{}", made.body);
    let branch = certwright_tests::cli::items(&admin.json(&["org", "list"]))
        .into_iter()
        .find(|o| o["name"] == "Branch Office")
        .map(|o| id(&o))
        .expect("the new organization");
    let dept = mrao.post(
        "/console/departments",
        &[("csrf", &csrf), ("org", &branch), ("name", "Branch lab")],
    );
    assert_eq!(dept.status, 303, "{}", dept.body);
    let delegated = mrao.post(
        "/console/domains",
        &[
            ("csrf", &csrf),
            ("name", "branch.example"),
            ("org", &branch),
            ("dept", ""),
        ],
    );
    assert_eq!(delegated.status, 303, "{}", delegated.body);
    let bad = mrao.post(
        "/console/domains",
        &[
            ("csrf", &csrf),
            ("name", "not a domain!"),
            ("org", &branch),
            ("dept", ""),
        ],
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    let page = mrao.get("/console/organizations");
    assert!(page.body.contains("Branch lab") && page.body.contains("branch.example"));
    let domains = admin.json(&["domain", "list"]).to_string();
    assert!(domains.contains("branch.example"), "{domains}");

    // A new EAB key is shown once.
    let endpoints = admin.json(&["endpoint", "list"]);
    let default = certwright_tests::cli::items(&endpoints)
        .into_iter()
        .find(|e| e["name"] == "default")
        .map(|e| id(&e))
        .expect("the demo ACME endpoint");
    let eab = mrao.post(
        &format!("/console/endpoints/{default}/eab-keys"),
        &[("csrf", &csrf)],
    );
    assert_eq!(eab.status, 200, "{}", eab.body);
    let hmac_at =
        eab.body.find("id=\"eab-hmac\">").expect("the HMAC key") + "id=\"eab-hmac\">".len();
    let hmac = eab.body[hmac_at..].split('<').next().unwrap().to_string();
    assert!(hmac.len() >= 40, "{hmac}");
    assert!(
        !mrao.get("/console/endpoints").body.contains(&hmac),
        "shown once only"
    );

    // The DRAO sees their department only, and cannot reach another's by URL.
    let officer = Browser::new(dir, gateway.https_url(), "drao");
    let officer_csrf = officer.sign_in("labofficer", "lab officer of 2026");
    let list = officer.get("/console/certificates");
    assert!(list.body.contains("lab.test") && !list.body.contains("office.test"));
    assert_eq!(
        officer
            .get(&format!("/console/certificates/{lab_cert}"))
            .status,
        200
    );
    assert_eq!(
        officer
            .get(&format!("/console/certificates/{office_cert}"))
            .status,
        404
    );
    assert_eq!(
        officer
            .get(&format!(
                "/console/certificates/{office_cert}/download?format=pem"
            ))
            .status,
        404
    );
    let revoke = officer.post(
        &format!("/console/certificates/{office_cert}/revoke"),
        &[
            ("csrf", &officer_csrf),
            ("reason", "superseded"),
            ("message", "x"),
        ],
    );
    assert_eq!(revoke.status, 404);
    assert_eq!(
        admin.json(&["cert", "show", &office_cert.to_string()])["status"],
        "issued"
    );
    let csv = officer.get("/console/certificates.csv");
    assert!(csv.body.contains("lab.test") && !csv.body.contains("office.test"));
    assert_eq!(officer.get("/console/audit").status, 403);
    let refused = officer.post(
        "/console/organizations",
        &[("csrf", &officer_csrf), ("name", "Not mine")],
    );
    assert_eq!(refused.status, 403, "a DRAO creates no organization");
    let admins = officer.get("/console/administrators");
    assert!(
        !admins.body.contains(">admin<"),
        "a DRAO sees only themself"
    );
    let forbidden = officer.post(
        "/console/administrators/1/active",
        &[("csrf", &officer_csrf), ("active", "no")],
    );
    assert_eq!(forbidden.status, 403);
    // Renewal from the certificate's page (an MRAO's renewal is issued at once).
    let renewed = mrao.post(
        &format!("/console/certificates/{lab_cert}/renew"),
        &[("csrf", &csrf)],
    );
    assert_eq!(renewed.status, 303, "{}", renewed.body);
    let location = header(&renewed, "location").join("");
    assert!(
        location.starts_with("/console/certificates/")
            && !location.ends_with(&format!("/{lab_cert}")),
        "{location}"
    );

    // Replace: the new certificate is issued and the old one is replaced.
    let replaced = mrao.post(
        &format!("/console/certificates/{office_cert}/renew"),
        &[("csrf", &csrf), ("replace", "yes")],
    );
    assert_eq!(replaced.status, 303, "{}", replaced.body);
    let location = header(&replaced, "location").join("");
    let successor = location
        .strip_prefix("/console/certificates/")
        .unwrap_or_else(|| panic!("{location}"));
    assert_ne!(successor, office_cert.to_string());
    assert_eq!(
        admin.json(&["cert", "show", &office_cert.to_string()])["status"],
        "replaced"
    );
    assert_eq!(admin.json(&["cert", "show", successor])["status"], "issued");

    // The new management forms hold the DRAO to their scope too.
    for (path, form) in [
        (
            format!("/console/endpoints/{default}/rotate-secret"),
            vec![],
        ),
        (format!("/console/endpoints/{default}/eab-keys"), vec![]),
        (
            "/console/administrators".to_string(),
            vec![
                ("username", "sneaky"),
                ("password", "a long enough password"),
                ("role", "mrao"),
            ],
        ),
        ("/console/access".to_string(), vec![("drao", "")]),
    ] {
        let mut fields = vec![("csrf", officer_csrf.as_str())];
        fields.extend(form);
        let refused = officer.post(&path, &fields);
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    assert_eq!(officer.get("/console/access").status, 403);
    assert!(admin_named_absent(&admin, "sneaky"));

    // The audit log pages backwards past its first 100 entries, verified on each page.
    let entries = admin.json(&["audit", "verify"])["entries"]
        .as_u64()
        .expect("entries");
    for _ in entries..=120 {
        let made = mrao.post(
            &format!("/console/endpoints/{default}/eab-keys"),
            &[("csrf", &csrf)],
        );
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let newest = mrao.get("/console/audit");
    let older_at = newest
        .body
        .find("href=\"/console/audit?before=")
        .expect("an Older entries link")
        + "href=\"".len();
    let older_path = newest.body[older_at..]
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let older = mrao.get(&older_path.replace("&amp;", "&"));
    assert_eq!(older.status, 200, "{}", older.body);
    assert!(
        older.body.contains("The hash chain verifies"),
        "{}",
        older.body
    );
    assert!(older.body.contains("Newest entries"), "{}", older.body);
    let first_row = |html: &str| -> u64 {
        let at = html.find("<tbody><tr><td>").expect("a row") + "<tbody><tr><td>".len();
        html[at..].split('<').next().unwrap().parse().unwrap()
    };
    let (newest_first, older_first) = (first_row(&newest.body), first_row(&older.body));
    assert!(
        older_first < newest_first - 99,
        "{older_first} {newest_first}"
    );

    // Deactivating the DRAO ends what their session can do.
    let off = mrao.post(
        &format!("/console/administrators/{drao}/active"),
        &[("csrf", &csrf), ("active", "no")],
    );
    assert_eq!(off.status, 303, "{}", off.body);
    assert_eq!(officer.get("/console/certificates").status, 303);
    let audit = admin.json(&["audit", "list", "--limit", "500"]).to_string();
    assert!(
        audit.contains("endpoint.eab.create") && audit.contains("admin.update"),
        "{audit}"
    );
}

/// Chromium as an MRAO, and what the forms made, used by the clients they are for:
/// an RAO created with ticked privileges; an API key for them, shown once, that curl
/// then calls the REST API with; an EST endpoint and a new password for the demo one,
/// each shown once, that curl enrolls with (and the replaced password is refused); a
/// one-time SCEP challenge. Then the RAO allow-list set to networks the browser is
/// outside of, which the REST API enforces; an MRAO list that would shut the MRAO out
/// refused; the API key revoked, after which curl is refused with it.
#[test]
fn administrators_api_keys_endpoints_and_allow_lists_are_managed_in_chromium() {
    certwright_tests::browser::require();
    let est = Est::start(BIN);
    let dir = est.dir.as_path();
    let base = est.gateway.https_url().to_string();
    let mrao_password = est.gateway.first_admin_password();
    let rao_password = "registration officer 2026";
    std::fs::write(dir.join("rao1.password"), rao_password).unwrap();
    let out =
        certwright_tests::browser::screenshot_dir(env!("CARGO_TARGET_TMPDIR"), "console-manage");
    let browser = certwright_tests::browser::Console {
        base: &base,
        username: "admin",
        password: &mrao_password,
        dir,
        out: &out,
    };
    let made = browser.run(
        "manage",
        &[
            "--new-admin",
            "rao1",
            "--new-password-file",
            dir.join("rao1.password").to_str().unwrap(),
            "--org",
            "Demo",
            "--endpoint",
            "lab-est",
            "--rotate",
            "default",
        ],
    );
    let text = |key: &str| {
        made[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {made}"))
            .to_string()
    };

    // The RAO as the form made it.
    let org: u64 = est.admin.demo_org().parse().unwrap();
    let admins = est.admin.json(&["admin", "list"]);
    let rao = certwright_tests::cli::items(&admins)
        .into_iter()
        .find(|a| a["username"] == "rao1")
        .unwrap_or_else(|| panic!("no rao1 in {admins}"));
    assert_eq!(rao["role"], "rao", "{rao}");
    assert_eq!(rao["orgs"], serde_json::json!([org]), "{rao}");
    assert_eq!(
        rao["privileges"],
        serde_json::json!({ "tls-server": ["request", "approve"] }),
        "{rao}"
    );

    // The API key works with curl, for the RAO it was made for.
    let bearer = format!("Authorization: Bearer {}", text("api_key"));
    let me = est.curl(&format!("{base}/api/v1/admins"), &["-H", &bearer]);
    assert_eq!(me.status, 200, "{}", me.text());
    assert!(
        me.text().contains("\"rao1\"") && !me.text().contains("\"admin\""),
        "{}",
        me.text()
    );

    // The rotated demo password: the old one is refused, the new one enrolls.
    let csr = est.csr("rotated", "/CN=rotated", Some("DNS:rotated.test"));
    let old = est.post("simpleenroll", &csr, &["--user", &est.user()]);
    assert_eq!(old.status, 401, "{}", old.text());
    let new_user = format!("est:{}", text("rotated_password"));
    let enrolled = est.post("simpleenroll", &csr, &["--user", &new_user]);
    est.certificates(&enrolled, "rotated.pem");
    est.check_certificate("rotated.pem", "rotated");
    // The endpoint made in the console enrolls with the password it showed.
    let lab_csr = est.csr("lab", "/CN=lab", Some("DNS:lab.test"));
    let lab_user = format!("lab-est:{}", text("created_password"));
    let lab = est.post("lab-est/simpleenroll", &lab_csr, &["--user", &lab_user]);
    est.certificates(&lab, "lab.pem");
    est.check_certificate("lab.pem", "lab");
    let challenge = text("challenge");
    assert!(
        challenge.len() == 32 && challenge.bytes().all(|b| b.is_ascii_hexdigit()),
        "{challenge}"
    );

    let changed_password = "a new passphrase for the mrao";
    std::fs::write(dir.join("mrao.new-password"), changed_password).unwrap();
    let access = browser.run(
        "access",
        &[
            "--revoke-key",
            &text("api_key_id"),
            "--change-password-file",
            dir.join("mrao.new-password").to_str().unwrap(),
        ],
    );
    assert_eq!(access["signed_in_after_change"], "admin (MRAO)", "{access}");
    // The CLI's session ended with the old password; the new one signs it in.
    let stale = est.admin.run(&["access", "allow-list", "show"]);
    assert!(!stale.ok, "{}", stale.stdout);
    est.admin.login("admin", changed_password);
    let old_login = est.curl(
        &format!("{base}/api/v1/login"),
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &serde_json::json!({ "username": "admin", "password": mrao_password }).to_string(),
        ],
    );
    assert_eq!(old_login.status, 401, "{}", old_login.text());
    assert_eq!(access["address"], "127.0.0.1", "{access}");
    assert_eq!(
        access["rao_list"],
        serde_json::json!(["192.0.2.0/24", "2001:db8::/32"]),
        "{access}"
    );
    let refusal = access["refusal"].as_str().unwrap_or_default();
    assert!(
        refusal.contains("lock yourself out") && refusal.contains("127.0.0.1"),
        "{access}"
    );
    assert_eq!(access["mrao_list_after"], "", "{access}");
    assert_eq!(access["keys_left"], 0, "{access}");
    let lists = est.admin.json(&["access", "allow-list", "show"]);
    assert_eq!(
        lists["rao"]["networks"],
        serde_json::json!(["192.0.2.0/24", "2001:db8::/32"]),
        "{lists}"
    );
    assert_eq!(lists["mrao"]["networks"], serde_json::json!([]), "{lists}");

    // The revoked key is refused; the RAO's password is refused from outside their list.
    let revoked = est.curl(&format!("{base}/api/v1/admins"), &["-H", &bearer]);
    assert_eq!(revoked.status, 401, "{}", revoked.text());
    let login = est.curl(
        &format!("{base}/api/v1/login"),
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &serde_json::json!({ "username": "rao1", "password": rao_password }).to_string(),
        ],
    );
    assert_eq!(login.status, 403, "{}", login.text());
    assert!(login.text().contains("allow-list"), "{}", login.text());
    // Every change is in the audit log under the MRAO's name.
    let audit = est.admin.ok(&["audit", "list", "--limit", "200"]);
    for action in [
        "admin.create",
        "apikey.create",
        "apikey.revoke",
        "endpoint.create",
        "endpoint.secret.rotate",
        "endpoint.scep_challenge.create",
        "access.allow-list",
        "admin.password",
    ] {
        assert!(audit.contains(action), "{action} is not audited:\n{audit}");
    }
}

fn admin_named_absent(admin: &Operator, username: &str) -> bool {
    !certwright_tests::cli::items(&admin.json(&["admin", "list"]))
        .iter()
        .any(|a| a["username"] == username)
}
