//! EST on the wire (RFC 7030 §4, with the RFC 8951 clarification that the
//! payloads are always base64): the media types, the base64 transfer
//! encoding in both directions, and the DER structures EST defines.

pub mod csrattrs;
pub mod multipart;

use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// The CA certificates' PKCS#7 (`/cacerts`): RFC 7030 §4.1.3 names the bare type, and
/// libest built with the Safe C library compares the whole header value with it.
pub const CACERTS: &str = "application/pkcs7-mime";
/// A certs-only PKCS#7 (`/simpleenroll`, `/simplereenroll`, §4.2.3).
pub const CERTS_ONLY: &str = "application/pkcs7-mime; smime-type=certs-only";
/// The `CsrAttrs` structure (`/csrattrs`).
pub const CSRATTRS: &str = "application/csrattrs";
/// A PKCS#10 request, as devices send it.
pub const PKCS10: &str = "application/pkcs10";
/// A PKCS#8 private key (`/serverkeygen`, unencrypted).
pub const PKCS8: &str = "application/pkcs8";
/// A CMS EnvelopedData (`/serverkeygen`, the key encrypted to the device).
pub const ENVELOPED_KEY: &str = "application/pkcs7-mime; smime-type=server-generated-key";

/// Why a request body is no CSR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Empty.
    #[error("the request body is empty; EST expects a base64 PKCS#10 CSR")]
    Empty,
    /// Neither base64 nor DER nor PEM.
    #[error("the request body is not a base64 PKCS#10 CSR")]
    NotBase64,
}

/// The decoder: standard alphabet, padding optional (some clients strip it).
const LIBERAL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The DER of a request payload. EST sends base64 with or without line breaks,
/// and with or without a `Content-Transfer-Encoding` header (RFC 8951 §3.2: the
/// header is ignored); a client that sends the DER itself or a PEM block is
/// understood too.
pub fn decode_payload(body: &[u8]) -> Result<Vec<u8>, PayloadError> {
    let text_start = body.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = text_start else {
        return Err(PayloadError::Empty);
    };
    let body = &body[start..];
    // A DER SEQUENCE with a long-form length cannot be base64 text: 0x30 is '0', but
    // 0x82/0x81 are not ASCII.
    if body.len() > 2 && body[0] == 0x30 && !body[1].is_ascii() {
        return Ok(body.to_vec());
    }
    if body.starts_with(b"-----BEGIN") {
        let pem = x509_parser::pem::parse_x509_pem(body)
            .map_err(|_| PayloadError::NotBase64)?
            .1;
        return Ok(pem.contents);
    }
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    LIBERAL
        .decode(&compact)
        .map_err(|_| PayloadError::NotBase64)
}

/// The base64 transfer encoding of an answer: 64-character lines ending in LF,
/// which `openssl base64 -d`, coreutils `base64 -d` (it refuses CR) and libest's
/// OpenSSL BIO decoder all read.
pub fn encode_payload(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 32 + 2);
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_decode_with_and_without_line_breaks_and_padding() {
        let der: Vec<u8> = (0u8..=200).collect();
        let wrapped = encode_payload(&der);
        assert!(wrapped.lines().all(|l| l.len() <= 64));
        assert_eq!(decode_payload(wrapped.as_bytes()).unwrap(), der);
        let flat = STANDARD.encode(&der);
        assert_eq!(decode_payload(flat.as_bytes()).unwrap(), der);
        assert_eq!(
            decode_payload(flat.trim_end_matches('=').as_bytes()).unwrap(),
            der
        );
        let crlf: String = wrapped.replace('\n', "\r\n");
        assert_eq!(decode_payload(crlf.as_bytes()).unwrap(), der);
        assert_eq!(decode_payload(b"  \n"), Err(PayloadError::Empty));
        assert_eq!(
            decode_payload(b"this is not base64!"),
            Err(PayloadError::NotBase64)
        );
    }

    #[test]
    fn raw_der_is_understood() {
        let der = [0x30, 0x82, 0x00, 0x02, 0x05, 0x00];
        assert_eq!(decode_payload(&der).unwrap(), der);
    }
}
