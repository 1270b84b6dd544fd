//! What the dashboard reads off a certificate's DER: its key and signature algorithm.

/// A certificate's public key ("RSA 2048", "EC P-256") and signature algorithm.
pub fn key_and_signature(der: &[u8]) -> (String, String) {
    use x509_parser::prelude::*;
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return ("unreadable".into(), "unreadable".into());
    };
    let key = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(ec)) => match ec.key_size() {
            256 => "EC P-256".to_string(),
            384 => "EC P-384".to_string(),
            n => format!("EC {n}"),
        },
        _ => "other".to_string(),
    };
    let signature = match cert.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" => "ECDSA with SHA-256",
        "1.2.840.10045.4.3.3" => "ECDSA with SHA-384",
        "1.2.840.113549.1.1.11" => "RSA with SHA-256",
        "1.2.840.113549.1.1.12" => "RSA with SHA-384",
        "1.2.840.113549.1.1.13" => "RSA with SHA-512",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        _ => "other",
    }
    .to_string();
    (key, signature)
}
