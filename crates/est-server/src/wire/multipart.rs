//! The `/serverkeygen` answer (RFC 7030 §4.4.2): a `multipart/mixed` body
//! whose first part is the private key and whose second part is the
//! certificate, each base64.

use super::{encode_payload, CERTS_ONLY};

/// One serverkeygen answer, ready to send.
pub struct KeyAndCertificate {
    /// The `Content-Type` header, with its boundary.
    pub content_type: String,
    /// The body.
    pub body: zeroize::Zeroizing<Vec<u8>>,
}

/// The multipart body: `key_der` (PKCS#8, or a CMS EnvelopedData holding it) with
/// its media type, then the certs-only PKCS#7 holding the certificate.
pub fn key_and_certificate(
    key_media_type: &str,
    key_der: &[u8],
    certs_only_der: &[u8],
) -> KeyAndCertificate {
    // A boundary that cannot occur in base64 text (it holds '_' and '.').
    let boundary = format!("est_{}.boundary", hex::encode(random::<12>()));
    let key = zeroize::Zeroizing::new(encode_payload(key_der));
    let mut body = zeroize::Zeroizing::new(Vec::with_capacity(key.len() + 4096));
    let mut part = |media_type: &str, payload: &str| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(format!("Content-Type: {media_type}\r\n").as_bytes());
        body.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
        body.extend_from_slice(payload.as_bytes());
    };
    part(key_media_type, &key);
    part(CERTS_ONLY, &encode_payload(certs_only_der));
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    KeyAndCertificate {
        content_type: format!("multipart/mixed; boundary={boundary}"),
        body,
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).expect("the system CSPRNG is available");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_are_delimited_by_the_announced_boundary() {
        let answer = key_and_certificate(super::super::PKCS8, &[1, 2, 3], &[4, 5, 6]);
        let boundary = answer
            .content_type
            .strip_prefix("multipart/mixed; boundary=")
            .unwrap();
        let text = String::from_utf8(answer.body.to_vec()).unwrap();
        assert_eq!(text.matches(&format!("--{boundary}\r\n")).count(), 2);
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        assert!(text.contains("Content-Type: application/pkcs8\r\n"));
        assert!(text.contains("AQID\n"));
        assert!(text.contains("BAUG\n"));
    }
}
