//! The EST tests' harness: the demo gateway with an administrator session,
//! curl over HTTP/1.1 (libest's protocol), CSRs made with `openssl req`, and
//! the checks every certificate an EST test receives goes through.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cli::{id, items};
use crate::{must, pkilint_errors, run_in, Gateway, Operator};

/// The demo root, relative to the test directory.
pub const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";
/// The demo issuing CA, relative to the test directory.
pub const ISSUING_PEM: &str = "ca-data/cas/demo-issuing/certificate.pem";

/// One HTTP exchange as curl saw it (the shared one of [`crate::curl`]).
pub use crate::curl::Answer;

/// The demo gateway with an MRAO session.
pub struct Est {
    /// The running gateway.
    pub gateway: Gateway,
    /// The first administrator (MRAO), logged in.
    pub admin: Operator,
    /// The test's directory (the gateway's working directory).
    pub dir: PathBuf,
    /// The demo EST endpoint's password.
    pub password: String,
    _tmp: tempfile::TempDir,
}

impl Est {
    pub fn start(bin: &str) -> Est {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let gateway = Gateway::start(bin, &dir, &[]);
        let admin_password = gateway.first_admin_password();
        assert_eq!(
            gateway.banner_value("EST user"),
            Some("est"),
            "{}",
            gateway.banner()
        );
        let password = gateway
            .banner_value("EST password")
            .unwrap_or_else(|| panic!("no `EST password` line:\n{}", gateway.banner()))
            .to_string();
        assert_eq!(
            gateway.banner_value("EST"),
            Some(format!("{}/.well-known/est/", gateway.https_url()).as_str()),
            "{}",
            gateway.banner()
        );
        let admin = Operator::new(bin, &dir, "admin", gateway.https_url())
            .with_ca_cert(Some(Path::new(ROOT_PEM)));
        admin.login("admin", &admin_password);
        Est {
            gateway,
            admin,
            dir,
            password,
            _tmp: tmp,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/.well-known/est/{path}", self.gateway.https_url())
    }

    /// curl over HTTP/1.1 (libest's protocol) with the demo root as the trust anchor.
    pub fn curl(&self, url: &str, extra: &[&str]) -> Answer {
        let body = self.dir.join("curl.body");
        let headers = self.dir.join("curl.headers");
        let _ = std::fs::remove_file(&body);
        let mut args = vec![
            "-sS",
            "--http1.1",
            "--cacert",
            ROOT_PEM,
            "-o",
            body.to_str().unwrap(),
            "-D",
            headers.to_str().unwrap(),
            "-w",
            "%{http_code}",
        ];
        args.extend_from_slice(extra);
        args.push(url);
        let run = run_in(&self.dir, "curl", &args);
        assert!(run.ok, "curl {url} failed: {}{}", run.stdout, run.stderr);
        Answer {
            status: run.stdout.trim().parse().unwrap_or(0),
            headers: std::fs::read_to_string(&headers).unwrap_or_default(),
            body: std::fs::read(&body).unwrap_or_default(),
        }
    }

    /// POSTs a file as an EST request body.
    pub fn post(&self, path: &str, file: &str, auth: &[&str]) -> Answer {
        let data = format!("@{file}");
        let mut extra = vec![
            "-H",
            "Content-Type: application/pkcs10",
            "--data-binary",
            &data,
        ];
        extra.extend_from_slice(auth);
        self.curl(&self.url(path), &extra)
    }

    pub fn user(&self) -> String {
        format!("est:{}", self.password)
    }

    /// A key and a base64 CSR (`<name>.key`, `<name>.b64`) made with openssl req and base64.
    pub fn csr(&self, name: &str, subject: &str, san: Option<&str>) -> String {
        let mut args = vec![
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ];
        let key = format!("{name}.key");
        args.extend_from_slice(&["-keyout", &key]);
        self.csr_with(name, subject, san, &args)
    }

    /// A CSR for an existing key.
    pub fn csr_for_key(&self, name: &str, key: &str, subject: &str, san: Option<&str>) -> String {
        self.csr_with(name, subject, san, &["req", "-new", "-key", key])
    }

    pub fn csr_with(&self, name: &str, subject: &str, san: Option<&str>, base: &[&str]) -> String {
        let der = format!("{name}.csr.der");
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(&["-outform", "DER", "-out", &der, "-subj", subject]);
        let ext;
        if let Some(san) = san {
            ext = format!("subjectAltName={san}");
            args.extend_from_slice(&["-addext", &ext]);
        }
        must(&self.dir, "openssl", &args);
        let b64 = format!("{name}.b64");
        let encoded = must(&self.dir, "base64", &[&der]).stdout;
        std::fs::write(self.dir.join(&b64), encoded).unwrap();
        b64
    }

    /// The certificates of a base64 certs-only answer to an enrollment, written as PEM to `file`.
    pub fn certificates(&self, answer: &Answer, file: &str) -> String {
        self.pkcs7_certificates(
            answer,
            "application/pkcs7-mime; smime-type=certs-only",
            file,
        )
    }

    /// The certificates of a base64 PKCS#7 answer of the media type `media_type`, written as PEM to `file`.
    pub fn pkcs7_certificates(&self, answer: &Answer, media_type: &str, file: &str) -> String {
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.header("Content-Type").as_deref(), Some(media_type));
        assert_eq!(
            answer.header("Content-Transfer-Encoding").as_deref(),
            Some("base64")
        );
        let b64 = self.dir.join(format!("{file}.p7.b64"));
        std::fs::write(&b64, &answer.body).unwrap();
        let der = format!("{file}.p7.der");
        must(
            &self.dir,
            "openssl",
            &["base64", "-d", "-in", b64.to_str().unwrap(), "-out", &der],
        );
        must(
            &self.dir,
            "openssl",
            &[
                "pkcs7",
                "-inform",
                "DER",
                "-in",
                &der,
                "-print_certs",
                "-out",
                file,
            ],
        );
        std::fs::read_to_string(self.dir.join(file)).unwrap()
    }

    /// openssl verify against the demo root and pkilint PKIX clean; returns the serial.
    pub fn check_certificate(&self, file: &str, cn: &str) -> String {
        let run = must(
            &self.dir,
            "openssl",
            &[
                "verify",
                "-CAfile",
                ROOT_PEM,
                "-untrusted",
                ISSUING_PEM,
                file,
            ],
        );
        assert!(run.stdout.contains(": OK"), "{}", run.stdout);
        let subject = must(
            &self.dir,
            "openssl",
            &[
                "x509", "-in", file, "-noout", "-subject", "-nameopt", "RFC2253",
            ],
        )
        .stdout;
        assert!(subject.contains(&format!("CN={cn}")), "{subject}");
        // pkilint reads a bare PEM block (print_certs writes subject/issuer lines too).
        let bare = format!("{file}.bare.pem");
        must(&self.dir, "openssl", &["x509", "-in", file, "-out", &bare]);
        let findings = pkilint_errors(&self.dir, "lint_pkix_cert", &[&bare]);
        assert!(
            findings.is_empty(),
            "pkilint PKIX errors for {file}: {findings}"
        );
        serial_of(&self.dir, file)
    }

    pub fn certificate_by_serial(&self, serial: &str) -> Value {
        let all = items(&self.admin.json(&["cert", "list", "--limit", "500"]));
        all.iter()
            .find(|c| {
                c["serial"].as_str().is_some_and(|s| {
                    s.trim_start_matches('0')
                        .eq_ignore_ascii_case(serial.trim_start_matches('0'))
                })
            })
            .cloned()
            .unwrap_or_else(|| panic!("no certificate with serial {serial} in {all:?}"))
    }

    pub fn est_endpoint_id(&self, name: &str) -> String {
        let listed = self.admin.json(&["endpoint", "list"]);
        items(&listed)
            .into_iter()
            .find(|e| e["kind"] == "est" && e["name"] == name)
            .map(|e| id(&e))
            .unwrap_or_else(|| panic!("no EST endpoint {name} in {listed}"))
    }

    /// Creates a queued EST endpoint of Demo; returns (id, password).
    pub fn create_queued_endpoint(&self, name: &str) -> (String, String) {
        let org = self.admin.demo_org();
        let created = self.admin.json(&[
            "endpoint",
            "create",
            "--name",
            name,
            "--kind",
            "est",
            "--org",
            &org,
            "--profile",
            "device",
            "--approval",
            "queue",
        ]);
        let password = created
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.contains("password")))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no password in {created}"))
            .to_string();
        (id(&created), password)
    }

    pub fn requests_of(&self, endpoint: &str) -> Vec<Value> {
        items(&self.admin.json(&["request", "list"]))
            .into_iter()
            .filter(|r| r["endpoint"].as_u64().map(|e| e.to_string()).as_deref() == Some(endpoint))
            .collect()
    }
}

pub fn serial_of(dir: &Path, file: &str) -> String {
    must(dir, "openssl", &["x509", "-in", file, "-noout", "-serial"])
        .stdout
        .trim()
        .trim_start_matches("serial=")
        .to_string()
}

pub fn public_key(dir: &Path, args: &[&str]) -> String {
    must(dir, "openssl", args).stdout
}

/// A self-signed test manufacturer CA and a device certificate it issued
/// (`factory.pem`, `idevid.pem`, `idevid.key`), made with openssl.
pub fn manufacturer(dir: &Path, prefix: &str) {
    let ca_key = format!("{prefix}-ca.key");
    let ca = format!("{prefix}-ca.pem");
    must(
        dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-new",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            &ca_key,
            "-out",
            &ca,
            "-days",
            "30",
            "-subj",
            &format!("/O=Test Devices Inc/CN={prefix} Manufacturer CA"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    let key = format!("{prefix}-idevid.key");
    let csr = format!("{prefix}-idevid.csr");
    must(
        dir,
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
            "-out",
            &csr,
            "-subj",
            "/CN=serial-0001",
        ],
    );
    // A v3 certificate, as IDevIDs are (TLS libraries refuse v1 end-entity certificates).
    let ext = format!("{prefix}-idevid.ext");
    std::fs::write(
        dir.join(&ext),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    must(
        dir,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            &ext,
            "-out",
            &format!("{prefix}-idevid.pem"),
        ],
    );
}

/// The parts of a `multipart/mixed` answer (serverkeygen): each part's header
/// block and its payload, trimmed.
pub fn multipart_parts(answer: &Answer) -> Vec<(String, String)> {
    let content_type = answer.header("Content-Type").unwrap_or_default();
    let boundary = content_type
        .strip_prefix("multipart/mixed; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"));
    answer
        .text()
        .split(&format!("--{boundary}"))
        .filter(|p| p.contains("Content-Type"))
        .map(|part| {
            let (headers, payload) = part.split_once("\r\n\r\n").expect("a part has headers");
            (headers.trim().to_string(), payload.trim().to_string())
        })
        .collect()
}
