//! `ca-admin serve` on its embedded default, against real clients: curl for
//! the CA, CRL, health and metrics endpoints, `openssl ocsp` (POST and the GET
//! form) for OCSP, `openssl crl` for the CRL, and pkilint for the CRL and the
//! OCSP responses. Revocation goes through the offline command while the
//! server is stopped; while the server runs, the offline command must refuse
//! and leave the store intact. The OCSP cache: a GET of a nonce-less request
//! is answered with the same bytes and RFC 5019 caching headers, and a
//! revocation through the running server's REST API (the operator CLI) is
//! answered at once, over GET and POST.

use std::path::Path;

use certwright_tests::cli::id;
use certwright_tests::curl::{Answer, Curl};
use certwright_tests::{must, openssl_csr, pkilint_errors, run_in, Gateway, Operator};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

fn ocsp(dir: &Path, base: &str, extra: &[&str]) -> String {
    let url = format!("{base}/ocsp");
    let mut args = vec![
        "ocsp",
        "-issuer",
        "issuing.pem",
        "-cert",
        "leaf.pem",
        "-url",
        &url,
        "-CAfile",
        "root.pem",
    ];
    args.extend_from_slice(extra);
    let run = must(dir, "openssl", &args);
    format!("{}{}", run.stdout, run.stderr)
}

#[test]
fn demo_gateway_serves_cas_crls_and_ocsp_through_a_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // First start: the demo hierarchy is created and announced.
    let gateway = Gateway::start(BIN, dir, &[]);
    assert!(
        gateway.banner().contains("Created a demo CA hierarchy"),
        "{}",
        gateway.banner()
    );
    assert!(gateway.banner().contains("demo-root") && gateway.banner().contains("demo-issuing"));
    assert!(gateway
        .banner()
        .contains(&format!("{}/ocsp", gateway.http_url())));
    assert_eq!(gateway.get("/healthz"), b"ok\n");
    let list: serde_json::Value = serde_json::from_slice(&gateway.get("/ca/")).unwrap();
    let ids: Vec<&str> = list["cas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["demo-issuing", "demo-root"]);
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));
    gateway.download("/ca/demo-issuing.pem", &dir.join("issuing.pem"));
    gateway.download("/ca/demo-root.crt", &dir.join("root.der"));
    must(
        dir,
        "openssl",
        &["x509", "-inform", "DER", "-in", "root.der", "-noout"],
    );
    let chain = String::from_utf8(gateway.get("/ca/demo-issuing-chain.pem")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    must(
        dir,
        "openssl",
        &["verify", "-CAfile", "root.pem", "issuing.pem"],
    );

    // While the server holds the store, offline commands refuse and change nothing.
    let csr = openssl_csr(
        dir,
        "leaf",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=www.demo.test",
        Some("DNS:www.demo.test"),
    );
    let run = run_in(
        dir,
        BIN,
        &[
            "issue",
            "--data-dir",
            "ca-data",
            "--insecure-plaintext-keys",
            "--csr",
            csr.to_str().unwrap(),
            "--profile",
            "tls-server",
        ],
    );
    assert!(!run.ok);
    assert!(
        run.stderr.contains("in use by a running server"),
        "{}",
        run.stderr
    );
    gateway.stop();

    must(
        dir,
        BIN,
        &[
            "issue",
            "--data-dir",
            "ca-data",
            "--insecure-plaintext-keys",
            "--csr",
            csr.to_str().unwrap(),
            "--profile",
            "tls-server",
            "--out",
            "leaf-chain.pem",
        ],
    );
    let leaf_chain = std::fs::read_to_string(dir.join("leaf-chain.pem")).unwrap();
    std::fs::write(
        dir.join("leaf.pem"),
        certwright_tests::first_pem_certificate(&leaf_chain),
    )
    .unwrap();
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

    // OCSP says good, over POST with a nonce, and over GET.
    let gateway = Gateway::start(BIN, dir, &[]);
    let out = ocsp(dir, gateway.http_url(), &["-respout", "good.der"]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf.pem: good"), "{out}");
    let findings = pkilint_errors(dir, "lint_ocsp_response", &["good.der"]);
    assert!(findings.is_empty(), "pkilint OCSP errors: {findings}");
    must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ],
    );
    let request = std::fs::read(dir.join("req.der")).unwrap();
    let encoded = {
        use base64::Engine;
        use std::fmt::Write;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&request);
        let mut out = String::new();
        for c in b64.chars() {
            match c {
                '/' => out.push_str("%2F"),
                '+' => out.push_str("%2B"),
                '=' => out.push_str("%3D"),
                c => write!(out, "{c}").unwrap(),
            }
        }
        out
    };
    gateway.download(&format!("/ocsp/{encoded}"), &dir.join("get.der"));
    let run = must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-respin",
            "get.der",
            "-CAfile",
            "root.pem",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
        ],
    );
    assert!(run.stdout.contains("leaf.pem: good"), "{}", run.stdout);

    // Junk gets malformedRequest.
    let junk = std::process::Command::new("curl")
        .args([
            "-sS",
            "--data-binary",
            "not an ocsp request",
            "-H",
            "Content-Type: application/ocsp-request",
            &format!("{}/ocsp", gateway.http_url()),
        ])
        .output()
        .unwrap();
    std::fs::write(dir.join("junk.der"), &junk.stdout).unwrap();
    let run = run_in(
        dir,
        "openssl",
        &["ocsp", "-respin", "junk.der", "-resp_text", "-noverify"],
    );
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("malformedrequest"),
        "{run:?}"
    );
    // The server is still up after junk.
    assert_eq!(gateway.get("/healthz"), b"ok\n");
    gateway.stop();

    // Revoke (offline, server stopped), restart: OCSP says revoked with the reason; the CRL lists it.
    let serial = must(
        dir,
        "openssl",
        &["x509", "-in", "leaf.pem", "-noout", "-serial"],
    )
    .stdout;
    let serial = serial.trim().trim_start_matches("serial=").to_string();
    must(
        dir,
        BIN,
        &[
            "revoke",
            "--data-dir",
            "ca-data",
            "--insecure-plaintext-keys",
            "--serial",
            &serial,
            "--reason",
            "superseded",
        ],
    );
    let run = run_in(
        dir,
        BIN,
        &[
            "revoke",
            "--data-dir",
            "ca-data",
            "--insecure-plaintext-keys",
            "--serial",
            &serial,
        ],
    );
    assert!(
        !run.ok && run.stderr.contains("already revoked"),
        "{}",
        run.stderr
    );

    let gateway = Gateway::start(BIN, dir, &[]);
    assert!(
        !gateway.banner().contains("Created a demo"),
        "the demo is created once"
    );
    let out = ocsp(dir, gateway.http_url(), &["-respout", "revoked.der"]);
    assert!(out.contains("leaf.pem: revoked"), "{out}");
    assert!(out.contains("Reason: superseded"), "{out}");
    let findings = pkilint_errors(dir, "lint_ocsp_response", &["revoked.der"]);
    assert!(findings.is_empty(), "pkilint OCSP errors: {findings}");

    gateway.download("/crl/demo-issuing.crl", &dir.join("issuing.crl"));
    let run = must(
        dir,
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            "issuing.crl",
            "-CAfile",
            "issuing.pem",
            "-verify",
            "-noout",
            "-text",
        ],
    );
    assert!(
        run.stderr.contains("verify OK") || run.stdout.contains("verify OK"),
        "{run:?}"
    );
    assert!(
        run.stdout.to_uppercase().contains(&serial.to_uppercase()),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Superseded"), "{}", run.stdout);
    for profile in ["PKIX", "BR"] {
        let findings = pkilint_errors(
            dir,
            "lint_crl",
            &["-t", "CRL", "-p", profile, "issuing.crl"],
        );
        assert!(
            findings.is_empty(),
            "pkilint {profile} CRL errors: {findings}"
        );
    }
    gateway.download("/crl/demo-root.crl", &dir.join("root.crl"));
    must(
        dir,
        "openssl",
        &[
            "crl", "-inform", "DER", "-in", "root.crl", "-CAfile", "root.pem", "-verify", "-noout",
        ],
    );

    let metrics = String::from_utf8(gateway.get("/metrics")).unwrap();
    assert!(
        metrics.contains("certwright_http_requests_total{route=\"ocsp\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("certwright_certificates{status=\"revoked\"} 1"),
        "{metrics}"
    );
    let missing = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{}/crl/nope.crl", gateway.http_url()),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&missing.stdout), "404");
    gateway.stop();
}

#[test]
fn a_delegated_ocsp_responder_signs_responses_that_openssl_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));
    gateway.download("/ca/demo-issuing.pem", &dir.join("issuing.pem"));
    gateway.stop();

    let config_path = dir.join("ca-data/certwright.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let config = config.replace("ocsp_signer = \"ca\"", "ocsp_signer = \"delegated\"");
    assert!(config.contains("ocsp_signer = \"delegated\""), "{config}");
    std::fs::write(&config_path, config).unwrap();

    let csr = openssl_csr(
        dir,
        "leaf",
        &["-newkey", "rsa:2048"],
        "/CN=host.demo.test",
        Some("DNS:host.demo.test"),
    );
    must(
        dir,
        BIN,
        &[
            "issue",
            "--data-dir",
            "ca-data",
            "--insecure-plaintext-keys",
            "--csr",
            csr.to_str().unwrap(),
            "--profile",
            "tls-server",
            "--out",
            "leaf.pem",
            "--format",
            "pem",
        ],
    );

    let gateway = Gateway::start(BIN, dir, &[]);
    let out = ocsp(
        dir,
        gateway.http_url(),
        &["-respout", "delegated.der", "-resp_text"],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf.pem: good"), "{out}");
    assert!(
        out.contains("demo-issuing OCSP Responder"),
        "the responder certificate is included: {out}"
    );
    assert!(out.contains("OCSP Signing"), "{out}");
    let findings = pkilint_errors(dir, "lint_ocsp_response", &["delegated.der"]);
    assert!(findings.is_empty(), "pkilint OCSP errors: {findings}");
    // The responder is reused, not re-issued per request.
    let again = ocsp(dir, gateway.http_url(), &["-resp_text"]);
    let serial_of = |text: &str| {
        text.lines()
            .skip_while(|l| !l.contains("Certificate:"))
            .find(|l| l.trim_start().starts_with("Serial Number"))
            .map(str::to_string)
    };
    assert_eq!(serial_of(&out), serial_of(&again));
    gateway.stop();
}

/// The URL path of an OCSP GET (RFC 6960 A.1): `/ocsp/` and the percent-escaped base64 DER request.
fn ocsp_get_path(request_der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(request_der);
    let escaped = b64
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    format!("/ocsp/{escaped}")
}

/// Seconds since 1970 of a date as GNU `date -d` reads it (HTTP-dates, openssl's dates).
fn epoch_of(dir: &Path, text: &str) -> i64 {
    let run = must(dir, "date", &["-u", "-d", text, "+%s"]);
    run.stdout.trim().parse().unwrap()
}

/// `openssl ocsp -respin FILE -resp_text EXTRA...` against the leaf, response verified.
fn ocsp_respin(dir: &Path, file: &str, answer: &Answer, extra: &[&str]) -> String {
    std::fs::write(dir.join(file), &answer.body).unwrap();
    let mut args = vec![
        "ocsp",
        "-respin",
        file,
        "-resp_text",
        "-CAfile",
        "root.pem",
        "-issuer",
        "issuing.pem",
        "-cert",
        "leaf.pem",
    ];
    args.extend_from_slice(extra);
    let run = must(dir, "openssl", &args);
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("Response verify OK"), "{text}");
    text
}

/// The value after `label` on the first line that has it, e.g. `This Update: `.
fn line_value(text: &str, label: &str) -> String {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no `{label}` in {text}"))
        .trim()
        .to_string()
}

#[test]
fn ocsp_get_is_cached_with_rfc5019_headers_and_an_online_revocation_is_seen_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let password = gateway.first_admin_password();
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));
    gateway.download("/ca/demo-issuing.pem", &dir.join("issuing.pem"));
    let validity_seconds: i64 = 24 * 3600; // the demo's ocsp_validity_hours
    let config = std::fs::read_to_string(dir.join("ca-data/certwright.toml")).unwrap();
    assert!(config.contains("ocsp_validity_hours = 24"), "{config}");
    assert!(config.contains("ocsp_cache_entries = 100000"), "{config}");

    // A certificate issued through the running server (the MRAO's request is issued at once).
    let mrao = Operator::new(BIN, dir, "mrao", gateway.https_url());
    mrao.login("admin", &password);
    let org = mrao.demo_org();
    let csr = openssl_csr(
        dir,
        "leaf",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=cached.demo.test",
        Some("DNS:cached.demo.test"),
    );
    let submitted = mrao.json(&[
        "request",
        "submit",
        "--csr",
        csr.to_str().unwrap(),
        "--profile",
        "tls-server",
        "--org",
        &org,
    ]);
    let issued = if submitted["status"] == "issued" {
        submitted
    } else {
        mrao.json(&["request", "approve", &id(&submitted)])
    };
    assert_eq!(issued["status"], "issued", "{issued}");
    let certificate = issued["certificate"]
        .as_u64()
        .expect("a certificate id")
        .to_string();
    mrao.ok(&[
        "cert",
        "download",
        &certificate,
        "--format",
        "pem",
        "--out",
        "leaf.pem",
    ]);

    // The same nonce-less GET twice: the same bytes, with RFC 5019 caching headers.
    must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ],
    );
    let url = format!(
        "{}{}",
        gateway.http_url(),
        ocsp_get_path(&std::fs::read(dir.join("req.der")).unwrap())
    );
    let curl = Curl::new(dir, "root.pem");
    let first = curl.run("GET", &url, &[]);
    let second = curl.run("GET", &url, &[]);
    assert_eq!(first.status, 200, "{}", first.headers);
    assert_eq!(
        first.header("content-type").as_deref(),
        Some("application/ocsp-response")
    );
    assert_eq!(
        first.body, second.body,
        "the second GET is served from the cache"
    );
    for header in ["cache-control", "last-modified", "expires", "etag"] {
        assert!(
            first.header(header).is_some(),
            "no {header}: {}",
            first.headers
        );
        assert_eq!(
            first.header(header).is_some(),
            second.header(header).is_some()
        );
    }
    let cache_control = first.header("cache-control").unwrap();
    let max_age: i64 = cache_control
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .unwrap_or_else(|| panic!("no max-age in {cache_control}"))
        .parse()
        .unwrap();
    assert!(
        (0..=validity_seconds).contains(&max_age),
        "max-age {max_age} is not within the validity: {cache_control}"
    );
    for directive in ["public", "no-transform", "must-revalidate"] {
        assert!(
            cache_control.split(',').any(|d| d.trim() == directive),
            "{cache_control}"
        );
    }
    assert_eq!(first.header("etag"), second.header("etag"));
    assert_eq!(
        first.header("last-modified"),
        second.header("last-modified")
    );
    assert_eq!(first.header("expires"), second.header("expires"));
    // ETag: the quoted SHA-256 of the response, as openssl computes it.
    std::fs::write(dir.join("get1.der"), &first.body).unwrap();
    let digest = must(dir, "openssl", &["dgst", "-sha256", "-r", "get1.der"]).stdout;
    let digest = digest.split_whitespace().next().unwrap().to_string();
    assert_eq!(first.header("etag"), Some(format!("\"{digest}\"")));
    // Last-Modified and Expires are the response's thisUpdate and nextUpdate.
    let good = ocsp_respin(dir, "get1.der", &first, &[]);
    assert!(good.contains("leaf.pem: good"), "{good}");
    let last_modified = epoch_of(dir, &first.header("last-modified").unwrap());
    let expires = epoch_of(dir, &first.header("expires").unwrap());
    assert!(first.header("last-modified").unwrap().ends_with(" GMT"));
    assert_eq!(
        last_modified,
        epoch_of(dir, &line_value(&good, "This Update: "))
    );
    assert_eq!(expires, epoch_of(dir, &line_value(&good, "Next Update: ")));
    assert_eq!(expires - last_modified, validity_seconds);
    let findings = pkilint_errors(dir, "lint_ocsp_response", &["get1.der"]);
    assert!(findings.is_empty(), "pkilint OCSP errors: {findings}");

    // A POST of the same nonce-less request shares the cached response; it gets no caching headers.
    let post = curl.run(
        "POST",
        &format!("{}/ocsp", gateway.http_url()),
        &[
            "--data-binary",
            "@req.der",
            "-H",
            "Content-Type: application/ocsp-request",
        ],
    );
    assert_eq!(post.body, first.body);
    assert!(post.header("cache-control").is_none(), "{}", post.headers);
    let out = ocsp(dir, gateway.http_url(), &["-no_nonce"]);
    assert!(out.contains("leaf.pem: good"), "{out}");

    // With a nonce: signed every time, never cached, `no-cache` for HTTP caches.
    must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
            "-reqout",
            "nonce-req.der",
        ],
    );
    let nonce_url = format!(
        "{}{}",
        gateway.http_url(),
        ocsp_get_path(&std::fs::read(dir.join("nonce-req.der")).unwrap())
    );
    let n1 = curl.run("GET", &nonce_url, &[]);
    let n2 = curl.run("GET", &nonce_url, &[]);
    assert_ne!(n1.body, n2.body, "a nonce'd request is signed each time");
    assert_eq!(n1.header("cache-control").as_deref(), Some("no-cache"));
    assert!(n1.header("etag").is_none() && n1.header("expires").is_none());
    assert!(ocsp_respin(dir, "nonce.der", &n1, &["-no_nonce"]).contains("leaf.pem: good"));

    // Revoked online, through the REST API: the very next answers say revoked, GET and POST.
    mrao.ok(&[
        "cert",
        "revoke",
        &certificate,
        "--reason",
        "key-compromise",
        "--message",
        "cache test",
    ]);
    let out = ocsp(dir, gateway.http_url(), &["-no_nonce"]);
    assert!(out.contains("leaf.pem: revoked"), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    let after = curl.run("GET", &url, &[]);
    assert_ne!(
        after.body, first.body,
        "the cached good response is not served"
    );
    assert_ne!(after.header("etag"), first.header("etag"));
    let revoked = ocsp_respin(dir, "get-revoked.der", &after, &[]);
    assert!(revoked.contains("leaf.pem: revoked"), "{revoked}");
    assert!(revoked.contains("Reason: keyCompromise"), "{revoked}");
    // And the revoked response is what is cached now.
    let again = curl.run("GET", &url, &[]);
    assert_eq!(again.body, after.body);
    let findings = pkilint_errors(dir, "lint_ocsp_response", &["get-revoked.der"]);
    assert!(findings.is_empty(), "pkilint OCSP errors: {findings}");
    gateway.stop();
}
