//! The HTTPS listener of `ca-admin serve`, against real clients: curl (HTTP/2
//! and HTTP/1.1) and `openssl s_client` verify the server certificate the
//! gateway issued itself from its demo issuing CA against the demo root; a
//! client that speaks no TLS only loses its own connection; the REST API
//! mount point answers over HTTPS and refuses plain HTTP; the server
//! certificate is recorded in the store; and `[https] enabled = false` turns
//! the listener off.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use certwright_tests::{must, Gateway};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

/// curl with extra arguments; returns (HTTP status, body), panicking if curl itself fails.
fn curl(dir: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "body.out",
            "-w",
            "%{http_code} %{http_version}",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = std::fs::read_to_string(dir.join("body.out")).unwrap_or_default();
    (String::from_utf8_lossy(&out.stdout).into_owned(), body)
}

/// Sends bytes that are no TLS ClientHello and reads until the server hangs up.
fn send_junk(port: u16, junk: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    // The server may close before all of it is written; that is an answer too.
    let _ = stream.write_all(junk);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
}

#[test]
fn the_gateway_serves_https_with_a_certificate_from_its_own_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    // Both listeners bound port 0: the banner names the ports the system gave them.
    let https_port = gateway.https_port();
    assert_ne!(https_port, 0, "{}", gateway.banner());
    assert_ne!(gateway.http_port(), https_port);
    let https_listen = format!("127.0.0.1:{https_port}");
    let https = format!("https://{https_listen}");
    assert_eq!(gateway.https_url(), https);
    assert!(
        gateway
            .banner()
            .contains(&format!("\n  https           {https}\n")),
        "{}",
        gateway.banner()
    );
    assert!(
        gateway
            .banner()
            .contains(&format!("\n  REST API        {https}/api/v1/\n")),
        "{}",
        gateway.banner()
    );
    gateway.download("/ca/demo-root.pem", &dir.join("root.pem"));

    // curl trusts the demo root only, and checks the name: localhost and 127.0.0.1 are covered.
    let resolve = format!("localhost:{https_port}:127.0.0.1");
    let by_name = format!("https://localhost:{https_port}/healthz");
    let (status, body) = curl(
        dir,
        &["--cacert", "root.pem", "--resolve", &resolve, &by_name],
    );
    assert_eq!(status, "200 2", "HTTP/2 by ALPN");
    assert_eq!(body, "ok\n");
    let (status, body) = curl(
        dir,
        &[
            "--http1.1",
            "--cacert",
            "root.pem",
            &format!("{https}/healthz"),
        ],
    );
    assert_eq!(status, "200 1.1");
    assert_eq!(body, "ok\n");
    // The same public routes as plain HTTP.
    let (status, body) = curl(
        dir,
        &["--cacert", "root.pem", &format!("{https}/ca/demo-root.pem")],
    );
    assert_eq!(status, "200 2");
    assert_eq!(body, std::fs::read_to_string(dir.join("root.pem")).unwrap());
    // A name the certificate does not cover is refused by the client.
    let other = Command::new("curl")
        .args([
            "-sS",
            "--cacert",
            "root.pem",
            "--resolve",
            &format!("other.test:{https_port}:127.0.0.1"),
            &format!("https://other.test:{https_port}/healthz"),
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!other.status.success(), "a name outside the certificate");

    // openssl verifies the chain the server sends: leaf and issuing CA, anchored at the root.
    let s_client = must(
        dir,
        "sh",
        &[
            "-c",
            &format!(
                "openssl s_client -connect {https_listen} -servername localhost -CAfile root.pem \
                 -verify_return_error -showcerts -alpn h2,http/1.1 </dev/null 2>&1"
            ),
        ],
    );
    let out = s_client.stdout;
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    let second = out.lines().find(|l| l.starts_with(" 1 s:"));
    assert!(
        second.is_some_and(|l| l.contains("CN = Certwright Demo Issuing CA")),
        "the chain includes the issuing CA: {out}"
    );
    assert!(
        !out.contains("2 s:"),
        "the root is the client's, not sent: {out}"
    );
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    let leaf = certwright_tests::first_pem_certificate(
        &out[out
            .find("-----BEGIN CERTIFICATE-----")
            .expect("a certificate")..],
    );
    std::fs::write(dir.join("server.pem"), leaf).unwrap();
    let text = must(
        dir,
        "openssl",
        &["x509", "-in", "server.pem", "-noout", "-text"],
    )
    .stdout;
    assert!(
        text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"),
        "{text}"
    );
    assert!(text.contains("TLS Web Server Authentication"), "{text}");
    assert!(
        text.contains("Issuer: O = Certwright Demo, CN = Certwright Demo Issuing CA"),
        "{text}"
    );

    // Clients that speak no TLS lose their own connection and nothing else.
    send_junk(https_port, b"junk");
    send_junk(
        https_port,
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
    );
    send_junk(
        https_port,
        &[0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    drop(TcpStream::connect(("127.0.0.1", https_port)).unwrap());
    let (status, body) = curl(dir, &["--cacert", "root.pem", &format!("{https}/healthz")]);
    assert_eq!((status.as_str(), body.as_str()), ("200 2", "ok\n"));

    // The REST API is mounted over HTTPS (an unknown operation is its 404); over plain HTTP, never.
    let (status, body) = curl(
        dir,
        &["--cacert", "root.pem", &format!("{https}/api/v1/anything")],
    );
    assert_eq!(status, "404 2", "{body}");
    assert!(body.contains("openapi.json"), "{body}");
    let (status, body) = curl(
        dir,
        &[
            "--cacert",
            "root.pem",
            &format!("{https}/api/v1/openapi.json"),
        ],
    );
    assert_eq!(status, "200 2", "{body}");
    assert!(body.contains("\"openapi\""), "{body}");
    // Links name the port the listener was given, not the `:0` it was asked for.
    let (status, body) = curl(
        dir,
        &[
            "--cacert",
            "root.pem",
            &format!("{https}/acme/default/directory"),
        ],
    );
    assert_eq!(status, "200 2", "{body}");
    let directory: serde_json::Value = serde_json::from_str(&body).expect("a JSON directory");
    assert_eq!(
        directory["newNonce"].as_str(),
        Some(format!("{https}/acme/default/new-nonce").as_str()),
        "{directory}"
    );
    let (status, body) = curl(dir, &[&format!("{}/api/v1/anything", gateway.http_url())]);
    assert_eq!(status, "404 1.1", "{body}");
    assert!(body.contains(&format!("{https}/api/v1/")), "{body}");

    // The server certificate went through the CA like any other: it is recorded.
    let metrics = String::from_utf8(gateway.get("/metrics")).unwrap();
    assert!(
        metrics.contains("certwright_certificates{status=\"issued\"} 1"),
        "{metrics}"
    );
    gateway.stop();

    // A restart serves a new certificate (new key) and retires the previous run's.
    let gateway = Gateway::start(BIN, dir, &[]);
    let metrics = String::from_utf8(gateway.get("/metrics")).unwrap();
    assert!(
        metrics.contains("certwright_certificates{status=\"issued\"} 1"),
        "only the served HTTPS certificate is Issued after a restart: {metrics}"
    );
    gateway.stop();

    // HTTPS switched off in the configuration: no listener, and plain HTTP says so.
    let config_path = dir.join("ca-data/certwright.toml");
    let mut config = std::fs::read_to_string(&config_path).unwrap();
    assert!(
        config.contains("[https]"),
        "the demo writes the section: {config}"
    );
    config = config.replace("enabled = true", "enabled = false");
    std::fs::write(&config_path, config).unwrap();
    // The first run's HTTPS address again: with HTTPS off nothing binds it.
    let gateway = Gateway::start(BIN, dir, &["--https-listen", &https_listen]);
    assert!(!gateway.https_enabled());
    assert!(
        gateway.banner().contains("https           disabled"),
        "{}",
        gateway.banner()
    );
    assert!(
        TcpStream::connect(("127.0.0.1", https_port)).is_err(),
        "nothing listens on the HTTPS port"
    );
    let (status, body) = curl(dir, &[&format!("{}/api/v1/anything", gateway.http_url())]);
    assert_eq!(status, "404 1.1", "{body}");
    assert!(body.contains("disables HTTPS"), "{body}");
    gateway.stop();
}
