//! EST (RFC 7030) interop against a running `ca-admin serve` with `curl` and
//! `openssl` alone, the way an operator scripts a device (the demo start:
//! organization Demo with the EST endpoint `default` at `/.well-known/est/`,
//! profile `device`, auto-approve, HTTP Basic user `est` and the password the
//! banner prints once, or a client certificate):
//!
//! - `cacerts` read with `openssl pkcs7 -print_certs`; `csrattrs` read with
//!   `openssl asn1parse`;
//! - `simpleenroll` with an `openssl req` CSR, `base64` and `curl --user`;
//!   `simplereenroll` with `curl --cert/--key` and the issued certificate (a new
//!   certificate, the old one Replaced); refused with a certificate from another
//!   CA, a revoked certificate, a CSR with another subject, and without a
//!   certificate;
//! - `simpleenroll` with a bootstrap certificate from a test manufacturer CA set
//!   as the endpoint's trust anchor with `ca-admin endpoint est-settings`;
//! - `serverkeygen`: the multipart answer's key matches its certificate;
//! - a queued endpoint: `202` with `Retry-After`, the repeat returns the
//!   certificate once approved (one request only), or the administrator's
//!   message once declined;
//! - bad input: a wrong password, an untrusted client certificate, a body that is
//!   not base64, names outside the organization, an oversized body, EST over plain
//!   HTTP; the failed-attempt limit (429) on a gateway of its own;
//! - HTTP/1.1 as libest parses it (`curl --http1.1`): title-case header names,
//!   `Content-Length`, no chunked answers, the exact media types.
//!
//! Every certificate issued passes `openssl verify` against the demo root and
//! pkilint's PKIX linter. Each test has its own directory and gateway.

use certwright_tests::cli::id;
use certwright_tests::est::{manufacturer, public_key, Answer, Est, ROOT_PEM};
use certwright_tests::{must, run_in};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

#[test]
fn cacerts_csrattrs_enroll_reenroll_and_the_refused_renewals() {
    let est = Est::start(BIN);
    let dir = &est.dir;

    // cacerts: the issuing CA and the root, over HTTP/1.1 as libest reads it.
    let cacerts = est.curl(&est.url("cacerts"), &[]);
    assert!(
        cacerts
            .headers
            .contains("\r\nContent-Type: application/pkcs7-mime\r\n"),
        "header names are not title case: {}",
        cacerts.headers
    );
    assert!(
        cacerts.headers.contains("\r\nContent-Length: "),
        "{}",
        cacerts.headers
    );
    assert!(!cacerts
        .headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
    let pems = est.pkcs7_certificates(&cacerts, "application/pkcs7-mime", "cacerts.pem");
    assert!(pems.contains("CN = Certwright Demo Issuing CA"), "{pems}");
    assert!(pems.contains("CN = Certwright Demo Root CA"), "{pems}");
    // The labelled path serves the same endpoint.
    let labelled = est.curl(&est.url("default/cacerts"), &[]);
    assert_eq!(labelled.body, cacerts.body);

    // csrattrs: DER CsrAttrs naming the EC curves and the RSA size of the device profile.
    let attrs = est.curl(&est.url("csrattrs"), &[]);
    assert_eq!(attrs.status, 200);
    assert_eq!(
        attrs.header("Content-Type").as_deref(),
        Some("application/csrattrs")
    );
    std::fs::write(dir.join("attrs.b64"), &attrs.body).unwrap();
    must(
        dir,
        "openssl",
        &["base64", "-d", "-in", "attrs.b64", "-out", "attrs.der"],
    );
    let parsed = must(
        dir,
        "openssl",
        &["asn1parse", "-inform", "DER", "-in", "attrs.der"],
    )
    .stdout;
    for wanted in [
        "id-ecPublicKey",
        "prime256v1",
        "secp384r1",
        "rsaEncryption",
        "commonName",
    ] {
        assert!(
            parsed.contains(wanted),
            "csrattrs lacks {wanted}:\n{parsed}"
        );
    }

    // simpleenroll with the password.
    let csr = est.csr("dev1", "/CN=dev1", Some("DNS:dev1.test"));
    let enrolled = est.post("simpleenroll", &csr, &["--user", &est.user()]);
    est.certificates(&enrolled, "dev1.pem");
    let first_serial = est.check_certificate("dev1.pem", "dev1");

    // simplereenroll with that certificate: the same subject and names, a new certificate.
    let renewal = est.csr_for_key("dev1-renew", "dev1.key", "/CN=dev1", Some("DNS:dev1.test"));
    let renewed = est.post(
        "simplereenroll",
        &renewal,
        &["--cert", "dev1.pem", "--key", "dev1.key"],
    );
    est.certificates(&renewed, "dev1-renewed.pem");
    let second_serial = est.check_certificate("dev1-renewed.pem", "dev1");
    assert_ne!(first_serial, second_serial);
    let first = est.certificate_by_serial(&first_serial);
    let second = est.certificate_by_serial(&second_serial);
    assert_eq!(first["status"], "replaced", "{first}");
    assert_eq!(second["status"], "issued", "{second}");

    // The replaced certificate renews nothing.
    let again = est.csr_for_key("dev1-again", "dev1.key", "/CN=dev1", Some("DNS:dev1.test"));
    let refused = est.post(
        "simplereenroll",
        &again,
        &["--cert", "dev1.pem", "--key", "dev1.key"],
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(refused.text().contains("replaced"), "{}", refused.text());

    // Another subject in a renewal is refused (RFC 7030 §4.2.2).
    let other = est.csr_for_key(
        "dev1-other",
        "dev1.key",
        "/CN=someone-else",
        Some("DNS:dev1.test"),
    );
    let refused = est.post(
        "simplereenroll",
        &other,
        &["--cert", "dev1-renewed.pem", "--key", "dev1.key"],
    );
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("subject"), "{}", refused.text());

    // No client certificate: no renewal.
    let refused = est.post("simplereenroll", &again, &["--user", &est.user()]);
    assert_eq!(refused.status, 401, "{}", refused.text());

    // A certificate from another CA (a manufacturer's) renews nothing.
    manufacturer(dir, "foreign");
    let foreign = est.csr_for_key("foreign", "foreign-idevid.key", "/CN=serial-0001", None);
    let refused = est.post(
        "simplereenroll",
        &foreign,
        &[
            "--cert",
            "foreign-idevid.pem",
            "--key",
            "foreign-idevid.key",
        ],
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(
        refused.text().contains("not issued by this CA"),
        "{}",
        refused.text()
    );

    // A revoked certificate renews nothing.
    est.admin
        .ok(&["cert", "revoke", &id(&second), "--reason", "key-compromise"]);
    let refused = est.post(
        "simplereenroll",
        &again,
        &["--cert", "dev1-renewed.pem", "--key", "dev1.key"],
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(refused.text().contains("revoked"), "{}", refused.text());
}

#[test]
fn a_device_enrolls_with_its_manufacturer_certificate_and_serverkeygen_returns_a_matching_key() {
    let est = Est::start(BIN);
    let dir = &est.dir;
    manufacturer(dir, "factory");
    let endpoint = est.est_endpoint_id("default");

    // Before the anchor is set the factory certificate is not trusted.
    let csr = est.csr_for_key(
        "boot",
        "factory-idevid.key",
        "/CN=serial-0001",
        Some("DNS:serial-0001.test"),
    );
    let refused = est.post(
        "simpleenroll",
        &csr,
        &[
            "--cert",
            "factory-idevid.pem",
            "--key",
            "factory-idevid.key",
        ],
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert!(
        refused.text().contains("trust anchor"),
        "{}",
        refused.text()
    );

    let set = est.admin.json(&[
        "endpoint",
        "est-settings",
        &endpoint,
        "--auth",
        "either",
        "--trust-anchor",
        "factory-ca.pem",
    ]);
    assert_eq!(set["auth"], "either", "{set}");
    assert!(
        set["trust_anchors"]
            .to_string()
            .contains("factory Manufacturer CA"),
        "{set}"
    );

    // The device's operational key, enrolled on the strength of its factory identity.
    let operational = est.csr("op", "/CN=serial-0001", Some("DNS:serial-0001.test"));
    let enrolled = est.post(
        "simpleenroll",
        &operational,
        &[
            "--cert",
            "factory-idevid.pem",
            "--key",
            "factory-idevid.key",
        ],
    );
    est.certificates(&enrolled, "op.pem");
    est.check_certificate("op.pem", "serial-0001");
    assert_eq!(
        public_key(dir, &["x509", "-in", "op.pem", "-noout", "-pubkey"]),
        public_key(dir, &["pkey", "-in", "op.key", "-pubout"])
    );

    // serverkeygen: a key made by the server, with its certificate.
    let request = est.csr("kg", "/CN=keygen-device", Some("DNS:keygen-device.test"));
    let answer = est.post("serverkeygen", &request, &["--user", &est.user()]);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let content_type = answer.header("Content-Type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/mixed; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let body = answer.text();
    let parts: Vec<&str> = body
        .split(&format!("--{boundary}"))
        .filter(|p| p.contains("Content-Type"))
        .collect();
    assert_eq!(parts.len(), 2, "{body}");
    let payload = |part: &str| part.split_once("\r\n\r\n").unwrap().1.trim().to_string();
    assert!(
        parts[0].contains("Content-Type: application/pkcs8"),
        "{}",
        parts[0]
    );
    assert!(
        parts[1].contains("application/pkcs7-mime; smime-type=certs-only"),
        "{}",
        parts[1]
    );
    std::fs::write(dir.join("kg-key.b64"), payload(parts[0]) + "\n").unwrap();
    must(
        dir,
        "openssl",
        &["base64", "-d", "-in", "kg-key.b64", "-out", "kg-key.der"],
    );
    std::fs::write(dir.join("kg-cert.b64"), payload(parts[1]) + "\n").unwrap();
    must(
        dir,
        "openssl",
        &["base64", "-d", "-in", "kg-cert.b64", "-out", "kg-cert.p7"],
    );
    must(
        dir,
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            "kg-cert.p7",
            "-print_certs",
            "-out",
            "kg.pem",
        ],
    );
    est.check_certificate("kg.pem", "keygen-device");
    assert_eq!(
        public_key(dir, &["x509", "-in", "kg.pem", "-noout", "-pubkey"]),
        public_key(
            dir,
            &["pkey", "-inform", "DER", "-in", "kg-key.der", "-pubout"]
        ),
        "the returned key does not match the certificate"
    );
    assert_ne!(
        public_key(dir, &["x509", "-in", "kg.pem", "-noout", "-pubkey"]),
        public_key(dir, &["pkey", "-in", "kg.key", "-pubout"]),
        "the certificate carries the device's own key, not a generated one"
    );
}

#[test]
fn a_queued_request_is_accepted_then_collected_or_declined_with_one_request_each() {
    let est = Est::start(BIN);
    let (endpoint, password) = est.create_queued_endpoint("queued");
    let user = format!("queued:{password}");
    let csr = est.csr("q1", "/CN=queued-1", None);
    let first = est.post("queued/simpleenroll", &csr, &["--user", &user]);
    assert_eq!(first.status, 202, "{}", first.text());
    let retry: u64 = first.header("Retry-After").unwrap().parse().unwrap();
    assert!(retry > 0);
    let again = est.post("queued/simpleenroll", &csr, &["--user", &user]);
    assert_eq!(again.status, 202, "{}", again.text());
    let requests = est.requests_of(&endpoint);
    assert_eq!(requests.len(), 1, "{requests:?}");
    let approved = est.admin.json(&[
        "request",
        "approve",
        &id(&requests[0]),
        "--message",
        "interop test",
    ]);
    assert_eq!(approved["status"], "issued", "{approved}");
    let collected = est.post("queued/simpleenroll", &csr, &["--user", &user]);
    est.certificates(&collected, "q1.pem");
    est.check_certificate("q1.pem", "queued-1");
    assert_eq!(est.requests_of(&endpoint).len(), 1);

    let csr = est.csr("q2", "/CN=queued-2", None);
    assert_eq!(
        est.post("queued/simpleenroll", &csr, &["--user", &user])
            .status,
        202
    );
    let pending: Vec<Value> = est
        .requests_of(&endpoint)
        .into_iter()
        .filter(|r| r["status"] == "requested")
        .collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    est.admin.ok(&[
        "request",
        "decline",
        &id(&pending[0]),
        "--message",
        "not this device",
    ]);
    let declined = est.post("queued/simpleenroll", &csr, &["--user", &user]);
    assert_eq!(declined.status, 403, "{}", declined.text());
    assert!(
        declined.text().contains("not this device"),
        "{}",
        declined.text()
    );
    assert_eq!(est.requests_of(&endpoint).len(), 2);

    // A generated key is not kept while a request waits: no serverkeygen here.
    let kg = est.csr("q3", "/CN=queued-3", None);
    let refused = est.post("queued/serverkeygen", &kg, &["--user", &user]);
    assert_eq!(refused.status, 501, "{}", refused.text());
    assert_eq!(est.requests_of(&endpoint).len(), 2);
}

#[test]
fn bad_input_gets_est_errors_and_the_server_stays_up() {
    let est = Est::start(BIN);
    let dir = &est.dir;
    let csr = est.csr("ok", "/CN=ok-device", None);

    // Without credentials: 401 with the Basic challenge.
    let answer = est.post("simpleenroll", &csr, &[]);
    assert_eq!(answer.status, 401, "{}", answer.text());
    assert!(answer
        .header("WWW-Authenticate")
        .unwrap()
        .starts_with("Basic"));

    // A wrong password.
    let answer = est.post("simpleenroll", &csr, &["--user", "est:wrong-password"]);
    assert_eq!(answer.status, 401, "{}", answer.text());
    assert!(answer.text().contains("wrong"), "{}", answer.text());

    // An untrusted client certificate on a certificate-only endpoint.
    manufacturer(dir, "rogue");
    let answer = est.post(
        "simpleenroll",
        &csr,
        &["--cert", "rogue-idevid.pem", "--key", "rogue-idevid.key"],
    );
    assert_eq!(answer.status, 401, "{}", answer.text());

    // Not base64.
    std::fs::write(dir.join("junk.b64"), "this is not base64 at all!\n").unwrap();
    let answer = est.post("simpleenroll", "junk.b64", &["--user", &est.user()]);
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(answer.text().contains("base64"), "{}", answer.text());

    // Base64 without line breaks and a Content-Transfer-Encoding header is fine.
    let flat: String = std::fs::read_to_string(dir.join(&csr))
        .unwrap()
        .split_whitespace()
        .collect();
    std::fs::write(dir.join("flat.b64"), flat).unwrap();
    let answer = est.post(
        "simpleenroll",
        "flat.b64",
        &[
            "--user",
            &est.user(),
            "-H",
            "Content-Transfer-Encoding: base64",
        ],
    );
    est.certificates(&answer, "flat.pem");
    est.check_certificate("flat.pem", "ok-device");

    // Names outside the organization: refused with the reason.
    let outside = est.csr("outside", "/CN=outside", Some("DNS:www.example.com"));
    let answer = est.post("simpleenroll", &outside, &["--user", &est.user()]);
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(answer.text().contains("example.com"), "{}", answer.text());

    // An oversized body. The gateway refuses it on its Content-Length, before reading it;
    // `Expect: 100-continue` makes curl wait for that answer instead of writing into a
    // connection the server is closing (which fails with EPIPE, depending on timing).
    std::fs::write(dir.join("big.b64"), "A".repeat(200 * 1024)).unwrap();
    let answer = est.post(
        "simpleenroll",
        "big.b64",
        &["--user", &est.user(), "-H", "Expect: 100-continue"],
    );
    assert_eq!(answer.status, 413, "{}", answer.text());

    // EST over plain HTTP: refused, pointing at HTTPS, no certificate.
    let plain = format!("{}/.well-known/est/cacerts", est.gateway.http_url());
    let run = run_in(dir, "curl", &["-sS", "-w", "\n%{http_code}", &plain]);
    assert!(run.stdout.trim_end().ends_with("404"), "{}", run.stdout);
    assert!(
        run.stdout.contains("EST is served over HTTPS"),
        "{}",
        run.stdout
    );

    // Wrong method, unknown operation.
    let answer = est.curl(&est.url("simpleenroll"), &[]);
    assert_eq!(answer.status, 405, "{}", answer.text());
    let answer = est.curl(&est.url("nothing-here"), &[]);
    assert_eq!(answer.status, 404, "{}", answer.text());

    // Still up.
    assert_eq!(est.curl(&est.url("cacerts"), &[]).status, 200);
}

#[test]
fn repeated_failures_from_one_address_are_throttled() {
    let est = Est::start(BIN);
    let csr = est.csr("t", "/CN=throttled", None);
    // A user name each time: one user's failures lock that user first (from the fourth,
    // for growing delays: login_limits.rs); the address's limit is for one address
    // trying many.
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(
            est.post("simpleenroll", &csr, &["--user", &format!("est{i}:wrong")])
                .status,
        );
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429], "{statuses:?}");
    // Locked out: even the right password waits.
    let answer = est.post("simpleenroll", &csr, &["--user", &est.user()]);
    assert_eq!(answer.status, 429, "{}", answer.text());
    let wait: u64 = answer.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

/// Sends raw HTTP/1.1 bytes over a TLS 1.2 session made by `openssl s_client`, the
/// way libest's client talks (TLS 1.2, HTTP/1.1, `Connection: close`); returns the
/// raw response, head and body.
fn over_tls12(est: &Est, request: &[u8], client_cert: Option<(&str, &str)>) -> String {
    use std::io::Write;
    let host = est
        .gateway
        .https_url()
        .trim_start_matches("https://")
        .to_string();
    let mut args = vec![
        "s_client".to_string(),
        "-quiet".into(),
        "-ign_eof".into(),
        "-tls1_2".into(),
        "-verify_return_error".into(),
        "-CAfile".into(),
        ROOT_PEM.into(),
        "-connect".into(),
        host,
    ];
    if let Some((cert, key)) = client_cert {
        args.extend(["-cert".into(), cert.into(), "-key".into(), key.into()]);
    }
    let mut child = std::process::Command::new("openssl")
        .args(&args)
        .current_dir(&est.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    child.stdin.take().unwrap().write_all(request).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// libest's request head: its header names, `Connection: close`, a Content-Length.
fn libest_request(
    method: &str,
    path: &str,
    host: &str,
    auth: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nUser-Agent: Cisco EST client 3.0.0\r\nConnection: close\r\nHost: {host}\r\nAccept: */*\r\n"
    );
    if let Some(auth) = auth {
        head.push_str(&format!("Authorization: Basic {auth}\r\n"));
    }
    if method == "POST" {
        head.push_str(&format!(
            "Content-Type: application/pkcs10\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn a_libest_style_client_over_tls12_gets_what_it_parses() {
    use base64::Engine;
    let est = Est::start(BIN);
    let host = est
        .gateway
        .https_url()
        .trim_start_matches("https://")
        .to_string();

    let cacerts = over_tls12(
        &est,
        &libest_request("GET", "/.well-known/est/cacerts", &host, None, b""),
        None,
    );
    let (head, body) = cacerts
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{cacerts}"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: application/pkcs7-mime\r\n"),
        "{head}"
    );
    assert!(
        head.contains("\r\nContent-Transfer-Encoding: base64"),
        "{head}"
    );
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap_or_else(|| panic!("no Content-Length: {head}"))
        .trim()
        .parse()
        .unwrap();
    assert_eq!(length, body.len());
    assert!(!head.contains("chunked"), "{head}");

    // The first enroll goes without credentials; libest looks for the challenge with a
    // case-sensitive "WWW-Authenticate" and answers it with its password.
    let csr = est.csr("lib", "/CN=libest-device", None);
    let csr_b64 = std::fs::read(est.dir.join(&csr)).unwrap();
    let first = over_tls12(
        &est,
        &libest_request(
            "POST",
            "/.well-known/est/simpleenroll",
            &host,
            None,
            &csr_b64,
        ),
        None,
    );
    assert!(first.starts_with("HTTP/1.1 401 "), "{first}");
    assert!(
        first.contains("\r\nWWW-Authenticate: Basic realm="),
        "{first}"
    );
    let token = base64::engine::general_purpose::STANDARD.encode(est.user());
    let second = over_tls12(
        &est,
        &libest_request(
            "POST",
            "/.well-known/est/simpleenroll",
            &host,
            Some(&token),
            &csr_b64,
        ),
        None,
    );
    let (head, body) = second
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{second}"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: application/pkcs7-mime; smime-type=certs-only\r\n"),
        "{head}"
    );
    let answer = Answer {
        status: 200,
        headers: format!("{head}\r\n"),
        body: body.as_bytes().to_vec(),
    };
    est.certificates(&answer, "lib.pem");
    est.check_certificate("lib.pem", "libest-device");

    // Re-enrollment over TLS 1.2 with the certificate, as libest's -r does.
    let renewal = est.csr_for_key("lib-renew", "lib.key", "/CN=libest-device", None);
    let renewal_b64 = std::fs::read(est.dir.join(&renewal)).unwrap();
    let renewed = over_tls12(
        &est,
        &libest_request(
            "POST",
            "/.well-known/est/simplereenroll",
            &host,
            None,
            &renewal_b64,
        ),
        Some(("lib.pem.bare.pem", "lib.key")),
    );
    let (head, body) = renewed
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{renewed}"));
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let answer = Answer {
        status: 200,
        headers: format!("{head}\r\n"),
        body: body.as_bytes().to_vec(),
    };
    est.certificates(&answer, "lib-renewed.pem");
    let serial = est.check_certificate("lib-renewed.pem", "libest-device");
    assert_eq!(est.certificate_by_serial(&serial)["status"], "issued");
}

/// An EST request over one `openssl s_client` session whose CSR carries that
/// session's tls-exporter channel binding (RFC 9266, printed by `-keymatexport`) as
/// its challengePassword; returns the raw response.
fn with_channel_binding(est: &Est, tls_version: &str, name: &str, binding_ok: bool) -> String {
    use base64::Engine;
    use std::io::{BufRead, BufReader, Read, Write};
    let host = est
        .gateway
        .https_url()
        .trim_start_matches("https://")
        .to_string();
    let mut child = std::process::Command::new("openssl")
        .args([
            "s_client",
            tls_version,
            "-ign_eof",
            "-verify_return_error",
            "-CAfile",
            ROOT_PEM,
            "-keymatexport",
            "EXPORTER-Channel-Binding",
            "-keymatexportlen",
            "32",
            "-connect",
            &host,
        ])
        .current_dir(&est.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let binding = loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "s_client printed no keying material"
        );
        if let Some(hex_value) = line.trim().strip_prefix("Keying material: ") {
            break hex::decode(hex_value.trim()).unwrap();
        }
    };
    assert_eq!(binding.len(), 32);
    let mut value = base64::engine::general_purpose::STANDARD.encode(&binding);
    if !binding_ok {
        value = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    }
    let key = format!("{name}.key");
    let der = format!("{name}.csr.der");
    // The challengePassword attribute from a request configuration (openssl 3.0 has no -addattr).
    let config = format!("{name}.cnf");
    std::fs::write(
        est.dir.join(&config),
        format!(
            "[req]\nprompt = no\ndistinguished_name = dn\nattributes = attrs\n[dn]\nCN = {name}\n[attrs]\nchallengePassword = {value}\n"
        ),
    )
    .unwrap();
    must(
        &est.dir,
        "openssl",
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            &key,
            "-outform",
            "DER",
            "-out",
            &der,
            "-config",
            &config,
        ],
    );
    let body = must(&est.dir, "base64", &[&der]).stdout;
    let token = base64::engine::general_purpose::STANDARD.encode(est.user());
    let request = libest_request(
        "POST",
        "/.well-known/est/simpleenroll",
        &host,
        Some(&token),
        body.as_bytes(),
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&request).unwrap();
    drop(stdin);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let _ = child.wait();
    let start = rest
        .find("HTTP/1.1 ")
        .unwrap_or_else(|| panic!("no response: {rest}"));
    rest[start..].to_string()
}

#[test]
fn proof_of_possession_takes_the_tls_exporter_binding_of_the_session() {
    let est = Est::start(BIN);
    let endpoint = est.est_endpoint_id("default");
    let set = est.admin.json(&[
        "endpoint",
        "est-settings",
        &endpoint,
        "--pop-required",
        "true",
    ]);
    assert_eq!(set["pop_required"], true, "{set}");

    // csrattrs now asks for the challengePassword.
    let attrs = est.curl(&est.url("csrattrs"), &[]);
    std::fs::write(est.dir.join("pop-attrs.b64"), &attrs.body).unwrap();
    must(
        &est.dir,
        "openssl",
        &[
            "base64",
            "-d",
            "-in",
            "pop-attrs.b64",
            "-out",
            "pop-attrs.der",
        ],
    );
    let parsed = must(
        &est.dir,
        "openssl",
        &["asn1parse", "-inform", "DER", "-in", "pop-attrs.der"],
    )
    .stdout;
    assert!(parsed.contains("challengePassword"), "{parsed}");

    // A CSR without the binding is refused, and one with another session's too.
    let plain = est.csr("no-pop", "/CN=no-pop", None);
    let refused = est.post("simpleenroll", &plain, &["--user", &est.user()]);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("proof of possession"),
        "{}",
        refused.text()
    );
    let wrong = with_channel_binding(&est, "-tls1_3", "pop-wrong", false);
    assert!(wrong.starts_with("HTTP/1.1 400 "), "{wrong}");

    for (version, name) in [("-tls1_3", "pop-13"), ("-tls1_2", "pop-12")] {
        let answer = with_channel_binding(&est, version, name, true);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{version}: {answer}");
        let answer = raw_answer(&answer);
        let file = format!("{name}.pem");
        est.certificates(&answer, &file);
        est.check_certificate(&file, name);
    }
}

/// A raw HTTP/1.1 response as an [`Answer`]: the body is the Content-Length bytes after
/// the head (s_client may print more once the connection closes).
fn raw_answer(raw: &str) -> Answer {
    let (head, rest) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{raw}"));
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap_or_else(|| panic!("no Content-Length: {head}"))
        .trim()
        .parse()
        .unwrap();
    Answer {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        headers: format!("{head}\r\n"),
        body: rest.as_bytes()[..length].to_vec(),
    }
}
