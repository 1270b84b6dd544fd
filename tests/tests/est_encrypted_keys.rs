//! EST `/serverkeygen` with the key encrypted to the device (RFC 7030
//! §4.4.1.2, §4.4.2), checked with openssl: the device enrolls an RSA key with
//! `openssl req` and curl, then asks for a server-generated key with an
//! AsymmetricDecryptionKeyIdentifier naming that certificate's key over a TLS
//! session authenticated with it. `openssl cms -verify` checks the answer's
//! signature up to the demo root, `openssl cms -decrypt` opens the envelope with
//! the device's key, and the key inside matches the certificate that came with
//! it. The requests the server cannot honour get EST errors with reasons.

use certwright_tests::est::{multipart_parts, public_key, Est, ISSUING_PEM, ROOT_PEM};
use certwright_tests::must;
use der::{Decode, Encode};

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

/// id-aa-asymmDecryptKeyID.
const ASYMMETRIC_DECRYPT_KEY_ID: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 54];
/// id-aa-decryptKeyID.
const DECRYPT_KEY_ID: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 2, 37];

/// A base64 CSR (`<name>.b64`) for a throwaway key, carrying `attribute` with
/// one OCTET STRING value. openssl req cannot add an OCTET STRING attribute,
/// so rcgen writes it.
fn csr_with_key_id(
    est: &Est,
    name: &str,
    cn: &str,
    attribute: &'static [u64],
    id: &[u8],
) -> String {
    assert!(id.len() < 120, "short identifiers only");
    let mut values = vec![0x31, (id.len() + 2) as u8, 0x04, id.len() as u8];
    values.extend_from_slice(id);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![format!("{cn}.test")]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let csr = params
        .serialize_request_with_attributes(
            &key,
            vec![rcgen::Attribute {
                oid: attribute,
                values,
            }],
        )
        .unwrap();
    let der = format!("{name}.csr.der");
    std::fs::write(est.dir.join(&der), csr.der()).unwrap();
    let b64 = format!("{name}.b64");
    let encoded = must(&est.dir, "base64", &[&der]).stdout;
    std::fs::write(est.dir.join(&b64), encoded).unwrap();
    b64
}

/// The subjectKeyIdentifier of a PEM certificate, as openssl prints it.
fn subject_key_id(est: &Est, cert: &str) -> Vec<u8> {
    let out = must(
        &est.dir,
        "openssl",
        &[
            "x509",
            "-in",
            cert,
            "-noout",
            "-ext",
            "subjectKeyIdentifier",
        ],
    )
    .stdout;
    let hex_line = out
        .lines()
        .map(str::trim)
        .find(|l| l.contains(':') && !l.contains("Identifier"))
        .unwrap_or_else(|| panic!("no subjectKeyIdentifier in {out}"));
    hex::decode(hex_line.replace(':', "")).unwrap()
}

/// An RSA device certificate from `simpleenroll` (`<name>.pem`, `<name>.key`).
fn rsa_device(est: &Est, name: &str) {
    let csr = est.csr_with(
        name,
        &format!("/CN={name}"),
        Some(&format!("DNS:{name}.test")),
        &[
            "req",
            "-new",
            "-nodes",
            "-newkey",
            "rsa:2048",
            "-keyout",
            &format!("{name}.key"),
        ],
    );
    let enrolled = est.post("simpleenroll", &csr, &["--user", &est.user()]);
    est.certificates(&enrolled, &format!("{name}.pem"));
    est.check_certificate(&format!("{name}.pem"), name);
}

#[test]
fn a_server_generated_key_is_sealed_to_the_device_certificate_and_opened_by_openssl() {
    let est = Est::start(BIN);
    let dir = &est.dir;
    rsa_device(&est, "sensor-7");
    let key_id = subject_key_id(&est, "sensor-7.pem");

    let request = csr_with_key_id(
        &est,
        "kg",
        "sealed-device",
        ASYMMETRIC_DECRYPT_KEY_ID,
        &key_id,
    );
    let answer = est.post(
        "serverkeygen",
        &request,
        &[
            "--user",
            &est.user(),
            "--cert",
            "sensor-7.pem",
            "--key",
            "sensor-7.key",
        ],
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let parts = multipart_parts(&answer);
    assert_eq!(parts.len(), 2, "{}", answer.text());
    assert!(
        parts[0]
            .0
            .contains("Content-Type: application/pkcs7-mime; smime-type=server-generated-key"),
        "{}",
        parts[0].0
    );
    assert!(
        !parts[0].0.contains("application/pkcs8"),
        "the key went out in the clear: {}",
        parts[0].0
    );
    std::fs::write(dir.join("key.b64"), format!("{}\n", parts[0].1)).unwrap();
    must(
        dir,
        "openssl",
        &["base64", "-d", "-in", "key.b64", "-out", "signed.der"],
    );
    std::fs::write(dir.join("cert.b64"), format!("{}\n", parts[1].1)).unwrap();
    must(
        dir,
        "openssl",
        &["base64", "-d", "-in", "cert.b64", "-out", "cert.p7"],
    );
    must(
        dir,
        "openssl",
        &[
            "pkcs7",
            "-inform",
            "DER",
            "-in",
            "cert.p7",
            "-print_certs",
            "-out",
            "kg.pem",
        ],
    );
    est.check_certificate("kg.pem", "sealed-device");

    // The signature: the EST signer's certificate chains to the demo root.
    let chain = format!(
        "{}{}",
        std::fs::read_to_string(dir.join(ROOT_PEM)).unwrap(),
        std::fs::read_to_string(dir.join(ISSUING_PEM)).unwrap()
    );
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    must(
        dir,
        "openssl",
        &[
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            "signed.der",
            "-CAfile",
            "chain.pem",
            "-purpose",
            "any",
            "-out",
            "enveloped.der",
        ],
    );
    let printed = must(
        dir,
        "openssl",
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            "signed.der",
        ],
    )
    .stdout;
    assert!(printed.contains("pkcs7-envelopedData"), "{printed}");

    // The envelope, as a ContentInfo for openssl, opened with the device's key.
    let enveloped = std::fs::read(dir.join("enveloped.der")).unwrap();
    let info = cms::content_info::ContentInfo {
        content_type: const_oid::db::rfc5911::ID_ENVELOPED_DATA,
        content: der::Any::from_der(&enveloped).expect("the signed content is an EnvelopedData"),
    };
    std::fs::write(dir.join("enveloped.p7m"), info.to_der().unwrap()).unwrap();
    must(
        dir,
        "openssl",
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "enveloped.p7m",
            "-recip",
            "sensor-7.pem",
            "-inkey",
            "sensor-7.key",
            "-out",
            "package.der",
        ],
    );
    // An AsymmetricKeyPackage: a SEQUENCE of one OneAsymmetricKey, which openssl reads as PKCS#8.
    let package = std::fs::read(dir.join("package.der")).unwrap();
    let keys: Vec<der::Any> = Vec::from_der(&package).expect("an AsymmetricKeyPackage");
    assert_eq!(keys.len(), 1);
    std::fs::write(dir.join("generated.der"), keys[0].to_der().unwrap()).unwrap();
    assert_eq!(
        public_key(dir, &["x509", "-in", "kg.pem", "-noout", "-pubkey"]),
        public_key(
            dir,
            &["pkey", "-inform", "DER", "-in", "generated.der", "-pubout"]
        ),
        "the sealed key does not match the certificate"
    );
    assert_ne!(
        public_key(dir, &["x509", "-in", "kg.pem", "-noout", "-pubkey"]),
        public_key(dir, &["x509", "-in", "sensor-7.pem", "-noout", "-pubkey"]),
    );
}

#[test]
fn encrypted_key_requests_the_server_cannot_honour_are_refused_before_issuance() {
    let est = Est::start(BIN);
    rsa_device(&est, "sensor-8");
    let key_id = subject_key_id(&est, "sensor-8.pem");
    let basic = est.user();
    let with_cert = [
        "--user",
        basic.as_str(),
        "--cert",
        "sensor-8.pem",
        "--key",
        "sensor-8.key",
    ];

    // No TLS client certificate to seal to.
    let request = csr_with_key_id(
        &est,
        "no-cert",
        "no-cert",
        ASYMMETRIC_DECRYPT_KEY_ID,
        &key_id,
    );
    let refused = est.post("serverkeygen", &request, &["--user", &basic]);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("authenticate the TLS session"),
        "{}",
        refused.text()
    );

    // An identifier that is not the TLS certificate's.
    let other: Vec<u8> = key_id.iter().map(|b| b ^ 0x5a).collect();
    let request = csr_with_key_id(
        &est,
        "other",
        "other-key",
        ASYMMETRIC_DECRYPT_KEY_ID,
        &other,
    );
    let refused = est.post("serverkeygen", &request, &with_cert);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("not the key identifier"),
        "{}",
        refused.text()
    );

    // A symmetric key the server was never given.
    let request = csr_with_key_id(&est, "kek", "kek-device", DECRYPT_KEY_ID, b"kek-1");
    let refused = est.post("serverkeygen", &request, &with_cert);
    assert_eq!(refused.status, 501, "{}", refused.text());
    assert!(
        refused.text().contains("DecryptKeyIdentifier"),
        "{}",
        refused.text()
    );

    // None of them was issued: the only certificate is the device's own.
    let listed = est.admin.json(&["cert", "list"]);
    let text = listed.to_string();
    assert!(text.contains("sensor-8"), "{text}");
    for cn in ["no-cert", "other-key", "kek-device"] {
        assert!(!text.contains(cn), "{cn} was issued: {text}");
    }
}
