//! The operator CLI end to end against a running gateway, as the issue lays
//! it out: create an organization, a department, a domain and a DRAO; the
//! DRAO submits a CSR outside its department (Invalid) and inside it
//! (Requested); an RAO of another organization cannot approve it; the
//! organization's RAO approves; the certificate downloads and `openssl
//! verify` accepts it; the revocation shows in the CRL and in OCSP. A custom
//! field the MRAO makes mandatory is asked of the next submission. The DRAO
//! links a TLS client certificate to itself and unlinks it. Then the
//! audit log verifies, and `audit verify` catches an entry changed on disk.
//!
//! And a newcomer's first reset: `login` after the demo data directory was
//! made anew trusts the new root of `./ca-data`, not the one a saved session
//! names, and a root that does not verify the server is named in the error.

use certwright_tests::cli::{id, items};
use certwright_tests::{must, openssl_csr, Gateway, Operator};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

#[test]
fn operators_run_the_approval_flow_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let password = gateway.first_admin_password();
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));
    gateway.download("/ca/demo-issuing.pem", &dir.join("issuing.pem"));
    let server = gateway.https_url().to_string();

    let mrao = Operator::new(BIN, dir, "mrao", &server);
    let wrong = mrao.run(&[
        "login",
        "--username",
        "admin",
        "--password-file",
        "/dev/null",
    ]);
    assert!(
        !wrong.ok && wrong.stderr.contains("unauthenticated"),
        "{}",
        wrong.stderr
    );
    mrao.login("admin", &password);

    let org = id(&mrao.json(&["org", "create", "--name", "Example Corp", "--country", "US"]));
    let other_org = id(&mrao.json(&["org", "create", "--name", "Other Corp"]));
    let dept = id(&mrao.json(&["dept", "create", "--org", &org, "--name", "Engineering"]));
    mrao.ok(&["domain", "add", "--name", "example.com", "--org", &org]);
    mrao.ok(&[
        "domain",
        "add",
        "--name",
        "eng.example.com",
        "--org",
        &org,
        "--dept",
        &dept,
    ]);
    mrao.ok(&[
        "domain",
        "add",
        "--name",
        "example.net",
        "--org",
        &other_org,
    ]);
    let table = mrao.ok(&["org", "list"]);
    assert!(
        table.contains("Example Corp") && table.contains("Other Corp"),
        "{table}"
    );

    std::fs::write(dir.join("p.txt"), "a long enough password\n").unwrap();
    mrao.ok(&[
        "admin",
        "create",
        "--username",
        "drao",
        "--password-file",
        "p.txt",
        "--role",
        "drao",
        "--dept",
        &dept,
        "--privilege",
        "tls-server=request",
    ]);
    mrao.ok(&[
        "admin",
        "create",
        "--username",
        "rao-other",
        "--password-file",
        "p.txt",
        "--role",
        "rao",
        "--org",
        &other_org,
        "--privilege",
        "tls-server=request,approve,revoke",
    ]);
    mrao.ok(&[
        "admin",
        "create",
        "--username",
        "rao",
        "--password-file",
        "p.txt",
        "--role",
        "rao",
        "--org",
        &org,
        "--privilege",
        "tls-server=request,approve,revoke",
    ]);

    // The DRAO: a name outside the department is Invalid, one inside waits in the queue.
    let drao = Operator::new(BIN, dir, "drao", &server);
    drao.login("drao", "a long enough password");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    let outside = openssl_csr(
        dir,
        "outside",
        &ec,
        "/CN=www.example.net",
        Some("DNS:www.example.net"),
    );
    let inside = openssl_csr(
        dir,
        "inside",
        &ec,
        "/CN=ci.eng.example.com",
        Some("DNS:ci.eng.example.com"),
    );
    let invalid = drao.json(&[
        "request",
        "submit",
        "--csr",
        outside.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        &org,
        "--dept",
        &dept,
    ]);
    assert_eq!(invalid["status"], "invalid", "{invalid}");
    assert!(
        invalid.to_string().contains("www.example.net"),
        "the reason names the name: {invalid}"
    );
    let queued = drao.json(&[
        "request",
        "submit",
        "--csr",
        inside.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        &org,
        "--dept",
        &dept,
    ]);
    assert_eq!(queued["status"], "requested", "{queued}");
    let request = id(&queued);
    // The DRAO cannot approve its own request (no approve privilege).
    let run = drao.run(&["request", "approve", &request]);
    assert!(
        !run.ok && run.stderr.contains("forbidden"),
        "{}",
        run.stderr
    );

    // An RAO of another organization cannot approve it.
    let other = Operator::new(BIN, dir, "other", &server);
    other.login("rao-other", "a long enough password");
    let run = other.run(&["request", "approve", &request]);
    assert!(
        !run.ok,
        "an RAO of another organization approved: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("not found") || run.stderr.contains("forbidden"),
        "{}",
        run.stderr
    );

    // The organization's RAO sees it in the queue and approves it.
    let rao = Operator::new(BIN, dir, "rao", &server);
    rao.login("rao", "a long enough password");
    let queue = rao.ok(&["request", "list", "--status", "requested"]);
    assert!(queue.contains("ci.eng.example.com"), "{queue}");
    let issued = rao.json(&["request", "approve", &request, "--message", "looks right"]);
    assert_eq!(issued["status"], "issued", "{issued}");
    let certificate = issued["certificate"]
        .as_u64()
        .expect("certificate id")
        .to_string();

    rao.ok(&[
        "cert",
        "download",
        &certificate,
        "--format",
        "pem",
        "--out",
        "leaf.pem",
    ]);
    must(
        dir,
        "openssl",
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
    );
    let subject = must(
        dir,
        "openssl",
        &["x509", "-in", "leaf.pem", "-noout", "-subject"],
    )
    .stdout;
    assert!(
        subject.contains("O = Example Corp") || subject.contains("CN = ci.eng.example.com"),
        "{subject}"
    );
    let listing = rao.ok(&["cert", "list", "--name", "ci.eng"]);
    assert!(listing.contains(&certificate), "{listing}");
    rao.ok(&["cert", "list", "--csv", "certs.csv"]);
    let csv = std::fs::read_to_string(dir.join("certs.csv")).unwrap();
    assert!(
        csv.lines().count() >= 2 && csv.contains("ci.eng.example.com"),
        "{csv}"
    );

    // The other organization's RAO cannot see or revoke it either.
    assert!(!other.run(&["cert", "revoke", &certificate]).ok);

    rao.ok(&[
        "cert",
        "revoke",
        &certificate,
        "--reason",
        "key-compromise",
        "--message",
        "test",
    ]);
    let crl = gateway.get("/crl/demo-issuing.crl");
    std::fs::write(dir.join("issuing.crl"), crl).unwrap();
    let serial = must(
        dir,
        "openssl",
        &["x509", "-in", "leaf.pem", "-noout", "-serial"],
    )
    .stdout;
    let serial = serial.trim().trim_start_matches("serial=").to_uppercase();
    let crl_text = must(
        dir,
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            "issuing.crl",
            "-noout",
            "-text",
        ],
    )
    .stdout;
    assert!(
        crl_text.contains(&serial) && crl_text.contains("Key Compromise"),
        "{crl_text}"
    );
    let ocsp = must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
            "-url",
            &format!("{}/ocsp", gateway.http_url()),
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(ocsp.stdout.contains("leaf.pem: revoked"), "{}", ocsp.stdout);

    let request_show = rao.ok(&["request", "show", &request]);
    assert!(request_show.contains("revoked"), "{request_show}");

    // Custom fields: the MRAO makes one mandatory for TLS server certificates; a
    // submission without it is refused naming it, one with `--custom-field` carries it.
    let field = mrao.json(&[
        "custom-field",
        "create",
        "--class",
        "tls-server",
        "--name",
        "Cost centre",
        "--mandatory",
    ]);
    assert_eq!(field["mandatory"], true, "{field}");
    let fields = drao.ok(&["custom-field", "list", "--class", "tls-server"]);
    assert!(fields.contains("Cost centre"), "{fields}");
    let run = rao.run(&[
        "custom-field",
        "create",
        "--class",
        "device",
        "--name",
        "Asset tag",
    ]);
    assert!(
        !run.ok && run.stderr.contains("forbidden"),
        "{}",
        run.stderr
    );
    let submit = [
        "request",
        "submit",
        "--csr",
        inside.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        &org,
        "--dept",
        &dept,
    ];
    let run = drao.run(&submit);
    assert!(
        !run.ok && run.stderr.contains("'Cost centre'"),
        "{}",
        run.stderr
    );
    let mut annotated = submit.to_vec();
    annotated.extend([
        "--custom-field",
        "Cost centre=CC-42",
        "--comments",
        "for the CI runners",
    ]);
    let annotated = drao.json(&annotated);
    assert_eq!(
        annotated["custom_fields"],
        serde_json::json!([{ "name": "Cost centre", "value": "CC-42" }]),
        "{annotated}"
    );
    assert_eq!(annotated["comments"], "for the CI runners", "{annotated}");
    let shown = drao.ok(&["request", "show", &id(&annotated)]);
    assert!(shown.contains("CC-42"), "{shown}");
    let deleted = mrao.ok(&["custom-field", "delete", &id(&field)]);
    assert!(deleted.contains("deleted"), "{deleted}");

    // A client certificate: the DRAO links one to itself from a file that also holds
    // its key (only the certificate is sent), not to anyone else; `admin list` counts
    // it; unlinked with the fingerprint as openssl prints it.
    must(
        dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "client.key",
            "-out",
            "client.crt",
            "-subj",
            "/CN=drao client",
            "-days",
            "30",
        ],
    );
    let combined = [
        std::fs::read_to_string(dir.join("client.key")).unwrap(),
        std::fs::read_to_string(dir.join("client.crt")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.join("client.pem"), combined).unwrap();
    let fingerprint = must(
        dir,
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
    let fingerprint = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_else(|| panic!("a fingerprint: {fingerprint}"))
        .to_string();
    // An administrator other than an MRAO lists only itself.
    let me = id(&items(&drao.json(&["admin", "list"]))[0]);
    let linked = drao.json(&[
        "admin",
        "link-certificate",
        &me,
        "--certificate",
        "client.pem",
    ]);
    assert_eq!(
        linked["sha256"],
        fingerprint.replace(':', "").to_ascii_lowercase(),
        "{linked}"
    );
    assert_eq!(linked["subject"], "CN=drao client", "{linked}");
    let run = drao.run(&[
        "admin",
        "link-certificate",
        "1",
        "--certificate",
        "client.pem",
    ]);
    assert!(
        !run.ok && run.stderr.contains("forbidden"),
        "{}",
        run.stderr
    );
    let listed = drao.ok(&["admin", "list"]);
    assert!(listed.contains("CLIENT CERTS"), "{listed}");
    let row = listed
        .lines()
        .find(|l| l.contains("drao"))
        .unwrap_or_else(|| panic!("no drao row: {listed}"));
    assert!(row.trim_end().ends_with('1'), "{listed}");
    let unlinked = drao.ok(&["admin", "unlink-certificate", &me, "--sha256", &fingerprint]);
    assert!(unlinked.contains("unlinked"), "{unlinked}");
    let run = drao.run(&["admin", "unlink-certificate", &me, "--sha256", &fingerprint]);
    assert!(
        !run.ok && run.stderr.contains("not_found"),
        "{}",
        run.stderr
    );
    let audit = mrao.ok(&["audit", "list", "--limit", "500"]);
    for action in ["admin.certificate.link", "admin.certificate.unlink"] {
        assert!(audit.contains(action), "audit has no {action}:\n{audit}");
    }
    let audit = mrao.ok(&["audit", "list"]);
    for action in [
        "org.create",
        "dept.create",
        "domain.delegate",
        "admin.create",
        "custom_field.create",
        "request.submit",
        "certificate.issue",
        "certificate.revoke",
        "login",
    ] {
        assert!(audit.contains(action), "audit has no {action}:\n{audit}");
    }
    let verified = mrao.ok(&["audit", "verify"]);
    assert!(verified.contains("intact"), "{verified}");
    let head = verified
        .lines()
        .find_map(|l| l.strip_prefix("head hash "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("audit verify prints the head hash: {verified}"));
    assert_eq!(head.len(), 64, "a SHA-256 in hex: {head}");
    // Only an MRAO reads the global log.
    assert!(!rao.run(&["audit", "verify"]).ok);
    gateway.stop();

    // Change one audit entry on disk, behind the gateway's back.
    {
        let store = ca_core::store::Store::open_redb(dir.join("ca-data/store.redb")).unwrap();
        let key = ca_core::store::KeyBuilder::new().u64(3).build();
        let raw = store.get("audit", &key).unwrap().expect("entry 3");
        let mut entry: policy::audit::AuditEntry = ca_core::store::decode("audit", &raw).unwrap();
        entry.detail = "rewritten history".into();
        let mut batch = ca_core::store::WriteBatch::new();
        batch.put(
            "audit",
            key,
            ca_core::store::encode("audit", &entry).unwrap(),
        );
        store.write(batch).unwrap();
    }
    let gateway = Gateway::start(BIN, dir, &[]);
    // Sessions live in the gateway's memory: log in again after the restart (on its new port).
    let mrao = mrao.with_server(gateway.https_url());
    mrao.login("admin", &password);
    let run = mrao.run(&["audit", "verify"]);
    assert!(!run.ok, "audit verify must fail on a changed entry");
    assert!(
        run.stdout.contains("BROKEN at entry 3"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    gateway.stop();
}

#[test]
fn login_after_the_demo_data_directory_is_made_anew_trusts_its_new_root() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let password = gateway.first_admin_password();
    // A copy of this root, as someone who was told to give `--ca-cert root.pem` has.
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));

    // One newcomer lets the CLI find the root (./ca-data), one logs in with the copy.
    let local = Operator::new(BIN, dir, "local", gateway.https_url()).with_ca_cert(None);
    local.login("admin", &password);
    let copied = Operator::new(BIN, dir, "copied", gateway.https_url());
    copied.login("admin", &password);
    assert!(local.ok(&["org", "list"]).contains("Demo"));
    assert_eq!(
        saved_ca_cert(&copied),
        dir.join("root.pem"),
        "the session names the root it was made with"
    );

    // The reset: stop the server, delete ca-data, start again (a new hierarchy and
    // a new first administrator's password).
    gateway.stop();
    std::fs::remove_dir_all(dir.join("ca-data")).unwrap();
    let gateway = Gateway::start(BIN, dir, &[]);
    assert!(
        gateway.banner().contains("Created a demo CA hierarchy"),
        "{}",
        gateway.banner()
    );
    let new_password = gateway.first_admin_password();
    assert_ne!(new_password, password);
    let new_root = dir.join("ca-data/cas/demo-root/certificate.pem");

    // Both log in again without --ca-cert: the root of ./ca-data, not the session's file.
    for operator in [local, copied] {
        let operator = operator.with_server(gateway.https_url()).with_ca_cert(None);
        operator.login("admin", &new_password);
        assert_eq!(saved_ca_cert(&operator), new_root);
        assert!(operator.ok(&["org", "list"]).contains("Demo"));
    }

    // The old root given as --ca-cert: the error says the server's certificate is not
    // trusted by it, naming the file, instead of a bare connect error.
    let stale = Operator::new(BIN, dir, "stale", gateway.https_url());
    let run = stale.login_run("admin", &new_password);
    assert!(
        !run.ok,
        "a login with the old root succeeded: {}",
        run.stdout
    );
    let root_file = dir.join("root.pem");
    assert!(
        run.stderr.contains(&format!(
            "the server's TLS certificate is not trusted by the root CA certificate {}",
            root_file.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("client error (Connect)"),
        "{}",
        run.stderr
    );
    gateway.stop();
}

/// The CA certificate file an operator's saved session trusts.
fn saved_ca_cert(operator: &Operator) -> std::path::PathBuf {
    let text = std::fs::read_to_string(operator.session()).expect("a saved session");
    let session: serde_json::Value = serde_json::from_str(&text).expect("session JSON");
    session["ca_cert"]
        .as_str()
        .unwrap_or_else(|| panic!("no ca_cert in {session}"))
        .into()
}
