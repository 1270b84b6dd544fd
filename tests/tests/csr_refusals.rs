//! CSRs made by the real `openssl req` for each key type are accepted; a CSR
//! with a broken signature, an RSA-1024 key, a disallowed name, a key type or
//! term the profile refuses, or garbage bytes is refused with the right typed
//! error — in-process through ca-core, and through `ca-admin issue` as an
//! operator sees it.

use std::path::{Path, PathBuf};

use ca_core::csr::{CsrError, VerifiedCsr, MAX_CSR_BYTES};
use ca_core::issuance::{check_request, IssuanceError, IssuanceRequest};
use ca_core::keys::{KeyAlgorithm, KeyProtection};
use ca_core::names::SubjectAltName;
use ca_core::profile::{CertificateProfile, ProfileSet};
use ca_core::service::{CaService, CaServiceConfig};
use certwright_tests::{must, openssl_csr, run_in};

const ADMIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

const EC_P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const EC_P384: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"];
const RSA_1024: &[&str] = &["-newkey", "rsa:1024"];
const RSA_2048: &[&str] = &["-newkey", "rsa:2048"];
const RSA_3072: &[&str] = &["-newkey", "rsa:3072"];
const RSA_4096: &[&str] = &["-newkey", "rsa:4096"];

/// The CN used where a test tampers with the subject (unique in the DER: not also a SAN).
const MARKER_CN: &str = "refusal-subject-marker";

/// Asserts that a result is an error matching a pattern (with an optional guard).
macro_rules! assert_refused {
    ($result:expr, $pattern:pat $(if $guard:expr)?) => {{
        let result = $result;
        let shown = match &result {
            Ok(_) => "accepted".to_string(),
            Err(e) => format!("{e:?} ({e})"),
        };
        assert!(
            matches!(result, Err($pattern) $(if $guard)?),
            "expected {}, got {shown}",
            stringify!($pattern)
        );
    }};
}

/// A CSR from `openssl req`: its PEM bytes and its DER (`openssl req -outform DER`).
struct OpensslCsr {
    pem_path: PathBuf,
    pem: Vec<u8>,
    der: Vec<u8>,
}

fn csr(dir: &Path, name: &str, key_args: &[&str], subject: &str, san: Option<&str>) -> OpensslCsr {
    let pem_path = openssl_csr(dir, name, key_args, subject, san);
    let der_name = format!("{name}.der");
    must(
        dir,
        "openssl",
        &[
            "req",
            "-in",
            &format!("{name}.csr"),
            "-outform",
            "DER",
            "-out",
            &der_name,
        ],
    );
    OpensslCsr {
        pem: std::fs::read(&pem_path).unwrap(),
        der: std::fs::read(dir.join(der_name)).unwrap(),
        pem_path,
    }
}

/// A CSR for a key that already exists (`openssl req -key`), to avoid generating RSA keys over and over.
fn csr_with_key(
    dir: &Path,
    name: &str,
    key: &str,
    subject: &str,
    san: Option<&str>,
) -> VerifiedCsr {
    let out = format!("{name}.der");
    let mut args = vec![
        "req", "-new", "-key", key, "-subj", subject, "-outform", "DER", "-out", &out,
    ];
    let ext;
    if let Some(san) = san {
        ext = format!("subjectAltName={san}");
        args.push("-addext");
        args.push(&ext);
    }
    must(dir, "openssl", &args);
    let der = std::fs::read(dir.join(&out)).unwrap();
    VerifiedCsr::parse(&der).unwrap_or_else(|e| panic!("openssl's CSR {name} is refused: {e}"))
}

fn generate_key(dir: &Path, name: &str, args: &[&str]) -> String {
    let file = format!("{name}.key");
    let mut full = vec!["genpkey"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-out", &file]);
    must(dir, "openssl", &full);
    file
}

fn check(
    csr: &VerifiedCsr,
    profile: &CertificateProfile,
    term_days: Option<u32>,
) -> Result<Vec<SubjectAltName>, IssuanceError> {
    check_request(&IssuanceRequest {
        csr,
        profile,
        names: None,
        term_days,
        owner_subject: Default::default(),
    })
}

fn dns(name: &str) -> SubjectAltName {
    SubjectAltName::dns(name).unwrap()
}

/// The contents range of the DER TLV at `pos`: (tag, start, end).
fn tlv(der: &[u8], pos: usize) -> (u8, usize, usize) {
    let tag = der[pos];
    let first = der[pos + 1] as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let len = der[pos + 2..pos + 2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    (tag, pos + header, pos + header + len)
}

/// The contents of the signature BIT STRING of a DER CSR (SEQUENCE { info, algorithm, signature }).
fn signature_range(der: &[u8]) -> (usize, usize) {
    let (tag, start, end) = tlv(der, 0);
    assert_eq!((tag, end), (0x30, der.len()), "a DER CSR");
    let (_, _, info_end) = tlv(der, start);
    let (_, _, algorithm_end) = tlv(der, info_end);
    let (tag, signature_start, signature_end) = tlv(der, algorithm_end);
    assert_eq!(
        (tag, signature_end),
        (0x03, der.len()),
        "the signature BIT STRING ends the CSR"
    );
    (signature_start, signature_end)
}

fn profiles() -> ProfileSet {
    ProfileSet::defaults()
}

#[test]
fn openssl_csrs_of_every_key_type_are_accepted_as_pem_and_der() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let profiles = profiles();
    let tls_server = profiles.get("tls-server").unwrap();
    for (name, args, algorithm) in [
        ("ec-p256", EC_P256, KeyAlgorithm::EcP256),
        ("ec-p384", EC_P384, KeyAlgorithm::EcP384),
        ("rsa-2048", RSA_2048, KeyAlgorithm::Rsa2048),
        ("rsa-3072", RSA_3072, KeyAlgorithm::Rsa3072),
        ("rsa-4096", RSA_4096, KeyAlgorithm::Rsa4096),
    ] {
        let made = csr(
            dir,
            name,
            args,
            "/CN=host.example.com",
            Some("DNS:host.example.com"),
        );
        for (form, bytes) in [("PEM", &made.pem), ("DER", &made.der)] {
            let parsed = VerifiedCsr::parse(bytes)
                .unwrap_or_else(|e| panic!("{name} as {form} is refused: {e:?} ({e})"));
            assert_eq!(parsed.key_algorithm(), algorithm, "{name} as {form}");
            assert_eq!(
                parsed.requested_names(),
                &[dns("host.example.com")],
                "{name} as {form}"
            );
            assert_eq!(
                parsed.der(),
                made.der.as_slice(),
                "{name} as {form} keeps the DER"
            );
            let names = check(&parsed, tls_server, None)
                .unwrap_or_else(|e| panic!("{name} as {form} is refused by tls-server: {e}"));
            assert_eq!(names, vec![dns("host.example.com")], "{name} as {form}");
        }
        let from_der = VerifiedCsr::from_der(&made.der).expect("from_der takes openssl's DER");
        assert_eq!(from_der.key_algorithm(), algorithm);
        // Leading whitespace before a PEM block is tolerated.
        let mut padded = b"\n  \r\n".to_vec();
        padded.extend_from_slice(&made.pem);
        assert_eq!(
            VerifiedCsr::parse(&padded)
                .expect("padded PEM")
                .key_algorithm(),
            algorithm
        );
    }
}

#[test]
fn a_broken_signature_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let subject = format!("/CN={MARKER_CN}");
    for (name, args) in [("ec", EC_P256), ("rsa", RSA_2048)] {
        let made = csr(dir, name, args, &subject, Some("DNS:host.example.com"));
        VerifiedCsr::parse(&made.der).expect("the untouched CSR is accepted");
        let (sig_start, sig_end) = signature_range(&made.der);

        // The last byte of the DER is the last byte of the signature.
        let mut last = made.der.clone();
        *last.last_mut().unwrap() ^= 0x01;
        assert_refused!(VerifiedCsr::parse(&last), CsrError::BadSignature);
        let pem = ca_core::encoding::pem("CERTIFICATE REQUEST", &last);
        assert_refused!(VerifiedCsr::parse(pem.as_bytes()), CsrError::BadSignature);

        // A byte in the middle of the signature.
        let mut middle = made.der.clone();
        middle[(sig_start + sig_end) / 2] ^= 0x40;
        assert_refused!(VerifiedCsr::parse(&middle), CsrError::BadSignature);

        // A letter of the subject CN: the structure still parses, the signature no longer covers it.
        let at = made
            .der
            .windows(MARKER_CN.len())
            .position(|w| w == MARKER_CN.as_bytes())
            .expect("the CN in the DER");
        assert!(at < sig_start);
        let mut cn = made.der.clone();
        cn[at] = b's';
        assert_refused!(VerifiedCsr::parse(&cn), CsrError::BadSignature);
        // openssl agrees: it reads the altered subject and reports the signature broken.
        let altered = format!("{name}-altered-cn.der");
        std::fs::write(dir.join(&altered), &cn).unwrap();
        let run = must(
            dir,
            "openssl",
            &[
                "req", "-inform", "DER", "-in", &altered, "-noout", "-subject", "-verify",
            ],
        );
        assert!(run.stdout.contains("sefusal-subject-marker"), "{run:?}");
        assert!(run.stderr.contains("verify failure"), "{run:?}");
    }
}

#[test]
fn an_rsa_1024_key_is_refused_as_too_small() {
    let work = tempfile::tempdir().unwrap();
    let made = csr(
        work.path(),
        "rsa-1024",
        RSA_1024,
        "/CN=host.example.com",
        Some("DNS:host.example.com"),
    );
    assert_refused!(
        VerifiedCsr::parse(&made.pem),
        CsrError::KeyTooSmall { bits: 1024 }
    );
    assert_refused!(
        VerifiedCsr::parse(&made.der),
        CsrError::KeyTooSmall { bits: 1024 }
    );
    assert_refused!(
        VerifiedCsr::from_der(&made.der),
        CsrError::KeyTooSmall { bits: 1024 }
    );
    let message = VerifiedCsr::parse(&made.der).unwrap_err().to_string();
    assert!(
        message.contains("1024") && message.contains("2048"),
        "{message}"
    );
}

#[test]
fn key_types_certwright_never_issues_for_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let ed25519 = csr(dir, "ed25519", &["-newkey", "ed25519"], "/CN=x", None);
    assert_refused!(
        VerifiedCsr::parse(&ed25519.pem),
        CsrError::UnsupportedKey(_)
    );
    let p521 = csr(
        dir,
        "p521",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "/CN=x",
        None,
    );
    assert_refused!(VerifiedCsr::parse(&p521.pem), CsrError::UnsupportedKey(_));
}

#[test]
fn names_the_profile_does_not_allow_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let key = generate_key(
        dir,
        "ec",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let profiles = profiles();
    let tls_server = profiles.get("tls-server").unwrap();
    let tls_client = profiles.get("tls-client").unwrap();
    let smime = profiles.get("smime").unwrap();

    // An e-mail name against tls-server (dns and ip only); smime takes it.
    let email = csr_with_key(dir, "email", &key, "/CN=a", Some("email:a@example.com"));
    assert_eq!(
        email.requested_names(),
        &[SubjectAltName::email("a@example.com").unwrap()]
    );
    assert_refused!(
        check(&email, tls_server, None),
        IssuanceError::NameNotAllowed { ref name, ref profile, ref reason }
            if name == "email:a@example.com" && profile == "tls-server" && reason.contains("email")
    );
    assert_eq!(
        check(&email, smime, None).expect("smime takes an e-mail name"),
        vec![SubjectAltName::email("a@example.com").unwrap()]
    );

    // A wildcard: tls-server allows it; the same profile without wildcards, and tls-client, refuse it.
    let wildcard = csr_with_key(dir, "wildcard", &key, "/CN=x", Some("DNS:*.example.com"));
    assert_eq!(
        check(&wildcard, tls_server, None).unwrap(),
        vec![dns("*.example.com")]
    );
    let mut no_wildcards = tls_server.clone();
    no_wildcards.name = "tls-server-no-wildcards".into();
    no_wildcards.allow_wildcards = false;
    no_wildcards.validate().expect("a valid profile");
    assert_refused!(
        check(&wildcard, &no_wildcards, None),
        IssuanceError::NameNotAllowed { ref name, ref profile, ref reason }
            if name == "dns:*.example.com" && profile == "tls-server-no-wildcards" && reason.contains("wildcard")
    );
    assert!(!tls_client.allow_wildcards);
    assert_refused!(
        check(&wildcard, tls_client, None),
        IssuanceError::NameNotAllowed { ref reason, .. } if reason.contains("wildcard")
    );

    // An IP address: tls-server allows it, tls-client (dns, email, uri) does not.
    let ip = csr_with_key(dir, "ip", &key, "/CN=x", Some("IP:192.0.2.10"));
    let address: std::net::IpAddr = "192.0.2.10".parse().unwrap();
    assert_eq!(
        check(&ip, tls_server, None).unwrap(),
        vec![SubjectAltName::Ip(address)]
    );
    assert_refused!(
        check(&ip, tls_client, None),
        IssuanceError::NameNotAllowed { ref name, ref profile, ref reason }
            if name == "ip:192.0.2.10" && profile == "tls-client" && reason.contains("ip")
    );

    // One name allowed, one not, in the same CSR: the whole request is refused.
    let mixed = csr_with_key(
        dir,
        "mixed",
        &key,
        "/CN=x",
        Some("DNS:host.example.com,email:a@example.com"),
    );
    assert_refused!(
        check(&mixed, tls_server, None),
        IssuanceError::NameNotAllowed { ref name, .. } if name == "email:a@example.com"
    );

    // More names than max_sans (tls-client: 10; tls-server: 100). Exactly the limit passes.
    let list = |n: usize| {
        (1..=n)
            .map(|i| format!("DNS:h{i}.example.com"))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(tls_client.max_sans, 10);
    let ten = csr_with_key(dir, "ten", &key, "/CN=x", Some(&list(10)));
    assert_eq!(check(&ten, tls_client, None).unwrap().len(), 10);
    let eleven = csr_with_key(dir, "eleven", &key, "/CN=x", Some(&list(11)));
    assert_refused!(
        check(&eleven, tls_client, None),
        IssuanceError::TooManyNames { count: 11, max: 10, ref profile } if profile == "tls-client"
    );
    // Duplicates are counted once.
    let repeated = csr_with_key(
        dir,
        "repeated",
        &key,
        "/CN=x",
        Some(&format!(
            "{},DNS:h1.example.com,DNS:H2.example.com",
            list(10)
        )),
    );
    assert_eq!(check(&repeated, tls_client, None).unwrap().len(), 10);
    assert_eq!(tls_server.max_sans, 100);
    let many = csr_with_key(dir, "many", &key, "/CN=x", Some(&list(101)));
    assert_refused!(
        check(&many, tls_server, None),
        IssuanceError::TooManyNames {
            count: 101,
            max: 100,
            ..
        }
    );

    // A SAN where the profile allows none at all (code-signing: san_types = []).
    let code_signing = profiles.get("code-signing").unwrap();
    let named = csr_with_key(dir, "named", &key, "/CN=x", Some("DNS:host.example.com"));
    assert_refused!(
        check(&named, code_signing, None),
        IssuanceError::NameNotAllowed { ref profile, .. } if profile == "code-signing"
    );
    // And no name where one is required.
    let nameless = csr_with_key(dir, "nameless", &key, "/CN=not-a-host-name", None);
    assert_refused!(check(&nameless, tls_server, None), IssuanceError::NoNames(ref p) if p == "tls-server");
}

#[test]
fn a_key_type_the_profile_does_not_allow_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let profiles = profiles();
    let code_signing = profiles.get("code-signing").unwrap();
    let rsa2048 = generate_key(
        dir,
        "rsa2048",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let rsa3072 = generate_key(
        dir,
        "rsa3072",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    );
    let ec = generate_key(
        dir,
        "ec",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );

    let small = csr_with_key(dir, "small", &rsa2048, "/CN=Signer", None);
    assert_eq!(small.key_algorithm(), KeyAlgorithm::Rsa2048);
    assert_refused!(
        check(&small, code_signing, None),
        IssuanceError::KeyNotAllowed { key: KeyAlgorithm::Rsa2048, ref profile, ref allowed }
            if profile == "code-signing" && allowed.contains("rsa-3072") && !allowed.contains("rsa-2048")
    );
    let message = check(&small, code_signing, None).unwrap_err().to_string();
    assert!(message.contains("rsa-2048"), "{message}");
    // The key check comes first: a term or names the profile would also refuse do not hide it.
    assert_refused!(
        check(&small, code_signing, Some(5000)),
        IssuanceError::KeyNotAllowed { .. }
    );

    // The key types it does allow pass.
    let big = csr_with_key(dir, "big", &rsa3072, "/CN=Signer", None);
    assert_eq!(check(&big, code_signing, None).unwrap(), vec![]);
    let ec_csr = csr_with_key(dir, "ec", &ec, "/CN=Signer", None);
    assert_eq!(check(&ec_csr, code_signing, None).unwrap(), vec![]);

    // scep-ra takes RSA keys only.
    let scep_ra = profiles.get("scep-ra").unwrap();
    assert_refused!(
        check(&ec_csr, scep_ra, None),
        IssuanceError::KeyNotAllowed {
            key: KeyAlgorithm::EcP256,
            ..
        }
    );
}

#[test]
fn a_term_beyond_the_profile_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let made = csr(
        work.path(),
        "ec",
        EC_P256,
        "/CN=x",
        Some("DNS:host.example.com"),
    );
    let parsed = VerifiedCsr::parse(&made.pem).unwrap();
    let profiles = profiles();
    let tls_server = profiles.get("tls-server").unwrap();
    assert_refused!(
        check(&parsed, tls_server, Some(400)),
        IssuanceError::TermNotAllowed { requested: 400, max: 397, ref profile } if profile == "tls-server"
    );
    assert_refused!(
        check(&parsed, tls_server, Some(398)),
        IssuanceError::TermNotAllowed { requested: 398, .. }
    );
    assert_refused!(
        check(&parsed, tls_server, Some(0)),
        IssuanceError::TermNotAllowed { requested: 0, .. }
    );
    assert!(check(&parsed, tls_server, Some(397)).is_ok());
    assert!(check(&parsed, tls_server, Some(30)).is_ok());
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn garbage_is_refused_as_malformed_or_too_large() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();

    assert_refused!(
        VerifiedCsr::parse(&noise(1000, 0x9e37_79b9_7f4a_7c15)),
        CsrError::Malformed(_)
    );
    // Noise behind a plausible SEQUENCE header.
    let mut shaped = vec![0x30, 0x82, 0x03, 0xe4];
    shaped.extend(noise(0x3e4, 42));
    assert_refused!(VerifiedCsr::parse(&shaped), CsrError::Malformed(_));
    assert_refused!(VerifiedCsr::parse(b""), CsrError::Malformed(_));
    assert_refused!(VerifiedCsr::from_der(b""), CsrError::Malformed(_));
    assert_refused!(VerifiedCsr::parse(b" \n\t "), CsrError::Malformed(_));
    assert_refused!(
        VerifiedCsr::parse(b"hello, I am a CSR"),
        CsrError::Malformed(_)
    );

    // A certificate where a CSR belongs, as PEM (wrong label) and as DER.
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
            "cert.key",
            "-out",
            "cert.pem",
            "-subj",
            "/CN=host.example.com",
            "-days",
            "1",
        ],
    );
    must(
        dir,
        "openssl",
        &[
            "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
        ],
    );
    let cert_pem = std::fs::read(dir.join("cert.pem")).unwrap();
    assert_refused!(
        VerifiedCsr::parse(&cert_pem),
        CsrError::Malformed(ref m) if m.contains("CERTIFICATE")
    );
    assert_refused!(
        VerifiedCsr::parse(&std::fs::read(dir.join("cert.der")).unwrap()),
        CsrError::Malformed(_)
    );

    // The right label around the wrong bytes, a truncated CSR, and trailing bytes.
    let bogus_pem = ca_core::encoding::pem("CERTIFICATE REQUEST", &noise(300, 7));
    assert_refused!(
        VerifiedCsr::parse(bogus_pem.as_bytes()),
        CsrError::Malformed(_)
    );
    assert_refused!(
        VerifiedCsr::parse(b"-----BEGIN CERTIFICATE REQUEST-----\n!!!not base64!!!\n-----END CERTIFICATE REQUEST-----\n"),
        CsrError::Malformed(_)
    );
    let made = csr(dir, "ec", EC_P256, "/CN=x", Some("DNS:host.example.com"));
    assert_refused!(
        VerifiedCsr::parse(&made.der[..made.der.len() - 10]),
        CsrError::Malformed(_)
    );
    assert_refused!(
        VerifiedCsr::parse(&made.der[..made.der.len() / 2]),
        CsrError::Malformed(_)
    );
    let mut trailing = made.der.clone();
    trailing.extend_from_slice(&[0, 0]);
    assert_refused!(VerifiedCsr::parse(&trailing), CsrError::Malformed(_));
    let truncated_pem =
        ca_core::encoding::pem("CERTIFICATE REQUEST", &made.der[..made.der.len() - 10]);
    assert_refused!(
        VerifiedCsr::parse(truncated_pem.as_bytes()),
        CsrError::Malformed(_)
    );

    // Over 64 KiB: refused before parsing, whatever it holds.
    assert_refused!(
        VerifiedCsr::parse(&vec![b'A'; MAX_CSR_BYTES + 1]),
        CsrError::TooLarge
    );
    assert_refused!(VerifiedCsr::parse(&noise(1 << 20, 3)), CsrError::TooLarge);
    let mut padded = made.pem.clone();
    padded.resize(MAX_CSR_BYTES + 1, b'\n');
    assert_refused!(VerifiedCsr::parse(&padded), CsrError::TooLarge);
    // At the limit it is parsed (and refused for what it is).
    assert_refused!(
        VerifiedCsr::parse(&vec![b'A'; MAX_CSR_BYTES]),
        CsrError::Malformed(_)
    );
}

#[test]
fn the_cli_refuses_bad_csrs_and_stores_nothing() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let data = dir.join("data");
    let data_text = data.to_str().unwrap();
    must(
        dir,
        ADMIN,
        &[
            "init",
            "--data-dir",
            data_text,
            "--name",
            "Refusal Test",
            "--insecure-plaintext-keys",
        ],
    );
    let issue = |csr: &Path| {
        run_in(
            dir,
            ADMIN,
            &[
                "issue",
                "--data-dir",
                data_text,
                "--insecure-plaintext-keys",
                "--csr",
                csr.to_str().unwrap(),
                "--profile",
                "tls-server",
            ],
        )
    };

    let rsa1024 = csr(
        dir,
        "rsa1024",
        RSA_1024,
        "/CN=host.example.com",
        Some("DNS:host.example.com"),
    );
    let run = issue(&rsa1024.pem_path);
    assert!(!run.ok, "an RSA-1024 CSR was issued: {run:?}");
    assert!(run.stderr.contains("2048"), "{run:?}");
    assert!(!run.stdout.contains("BEGIN CERTIFICATE"), "{run:?}");

    let good = csr(
        dir,
        "good",
        EC_P256,
        &format!("/CN={MARKER_CN}"),
        Some("DNS:host.example.com"),
    );
    let mut broken = good.der.clone();
    *broken.last_mut().unwrap() ^= 0x01;
    let broken_path = dir.join("broken.csr");
    std::fs::write(
        &broken_path,
        ca_core::encoding::pem("CERTIFICATE REQUEST", &broken),
    )
    .unwrap();
    let run = issue(&broken_path);
    assert!(!run.ok, "a CSR with a broken signature was issued: {run:?}");
    assert!(run.stderr.contains("signature"), "{run:?}");

    let email = csr(dir, "email", EC_P256, "/CN=a", Some("email:a@example.com"));
    let run = issue(&email.pem_path);
    assert!(
        !run.ok,
        "an e-mail name was issued under tls-server: {run:?}"
    );
    assert!(run.stderr.contains("not allowed"), "{run:?}");

    let garbage_path = dir.join("garbage.csr");
    std::fs::write(&garbage_path, noise(2000, 99)).unwrap();
    let run = issue(&garbage_path);
    assert!(!run.ok, "garbage was issued: {run:?}");
    assert!(run.stderr.contains("malformed"), "{run:?}");

    let config = CaServiceConfig::new(
        &data,
        "http://127.0.0.1:8080",
        KeyProtection::InsecurePlaintext,
    );
    {
        let service = CaService::open(&config).expect("open the data directory");
        let stored = service.certificates().list(0, 10).unwrap();
        assert!(
            stored.is_empty(),
            "refused requests left certificates: {stored:?}"
        );
    }

    // The same command with a good CSR does issue (the refusals were about the CSRs).
    let run = issue(&good.pem_path);
    assert!(run.ok, "{run:?}");
    assert!(run.stdout.contains("BEGIN CERTIFICATE"), "{run:?}");
    let service = CaService::open(&config).expect("open the data directory");
    let stored = service.certificates().list(0, 10).unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].names, vec![dns("host.example.com")]);
}

/// RSA key sizes are counted in bits: x509-parser's `key_size` counts whole
/// bytes, which took a 2050-bit key for RSA-2048 and reported a 2047-bit key
/// as 2040 bits.
#[test]
fn rsa_key_sizes_are_counted_in_bits() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let odd = csr(
        dir,
        "rsa-2050",
        &["-newkey", "rsa:2050"],
        "/CN=x",
        Some("DNS:host.example.com"),
    );
    assert_refused!(VerifiedCsr::parse(&odd.der), CsrError::UnsupportedKey(_));
    let short = csr(
        dir,
        "rsa-2047",
        &["-newkey", "rsa:2047"],
        "/CN=x",
        Some("DNS:host.example.com"),
    );
    assert_refused!(
        VerifiedCsr::parse(&short.der),
        CsrError::KeyTooSmall { bits: 2047 }
    );
}
