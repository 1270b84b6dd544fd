//! What a relying party sees of a revocation: the CRL (`openssl crl`, signature
//! checked) and OCSP (`openssl ocsp`, response verified).

use std::path::Path;

use crate::{must, run_in};

/// `openssl crl -text` of a CA's CRL from the gateway's plain-HTTP listener, after
/// checking its signature with the CA's certificate.
pub fn crl_text(dir: &Path, http_url: &str, ca_id: &str, ca_pem: &str) -> String {
    let crl = dir.join(format!("{ca_id}.crl"));
    let get = run_in(
        dir,
        "curl",
        &[
            "-sS",
            "--fail",
            "-o",
            crl.to_str().unwrap(),
            &format!("{http_url}/crl/{ca_id}.crl"),
        ],
    );
    assert!(get.ok, "CRL download: {}", get.stderr);
    let run = must(
        dir,
        "openssl",
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            crl.to_str().unwrap(),
            "-CAfile",
            ca_pem,
            "-noout",
            "-text",
        ],
    );
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("verify OK"), "{text}");
    text
}

/// Whether a serial (hex, any case, colons or not) is listed in `openssl crl -text` output.
pub fn crl_lists(crl_text: &str, serial: &str) -> bool {
    let wanted = normalized_serial(serial);
    crl_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .any(|s| normalized_serial(s) == wanted)
}

/// A serial's hex digits, lower case, without colons or leading zeros.
pub fn normalized_serial(serial: &str) -> String {
    let hex: String = serial
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect::<String>()
        .to_ascii_lowercase();
    hex.trim_start_matches('0').to_string()
}

/// `openssl ocsp` for a certificate file against the gateway's responder; the response's
/// signature must verify. The text holds `: good` or `: revoked`.
pub fn ocsp_text(
    dir: &Path,
    http_url: &str,
    issuer_pem: &str,
    root_pem: &str,
    cert: &Path,
) -> String {
    let run = must(
        dir,
        "openssl",
        &[
            "ocsp",
            "-issuer",
            issuer_pem,
            "-cert",
            cert.to_str().unwrap(),
            "-url",
            &format!("{http_url}/ocsp"),
            "-CAfile",
            root_pem,
        ],
    );
    let text = format!("{}{}", run.stdout, run.stderr);
    assert!(text.contains("Response verify OK"), "{text}");
    text
}
