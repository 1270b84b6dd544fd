//! The wire layer against messages captured from micromdm's scepclient 2.1.0
//! (`fixtures/scep/`, described in its README): SHA-1 signatures, single-DES
//! content, `encryptedContent` as a constructed BER string.

use std::path::PathBuf;

use ca_core::identity::ProtocolIdentity;
use der::{Decode, Encode};
use scep_server::wire::algorithms::{ContentCipher, Digest};
use scep_server::wire::cert_rep::CertRep;
use scep_server::wire::envelope::{seal, Envelope};
use scep_server::wire::signed::SignedRequest;
use scep_server::wire::{MessageType, PkiStatus, WireError};

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/scep")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// scepserver's CA, which acted as the RA of the captured exchanges.
fn captured_ra() -> (ProtocolIdentity, x509_cert::Certificate) {
    let der = fixture("ca/ca.der");
    let identity =
        ProtocolIdentity::from_parts(der.clone(), &fixture("ca/ca.key.pkcs8.der")).unwrap();
    (identity, x509_cert::Certificate::from_der(&der).unwrap())
}

#[test]
fn a_captured_pkcsreq_verifies_and_opens_to_the_csr_it_carried() {
    let request = SignedRequest::parse(&fixture("enroll/pkcsreq.der")).unwrap();
    assert_eq!(request.message_type, MessageType::PkcsReq);
    assert_eq!(request.transaction_id.len(), 28);
    assert_eq!(request.verify().unwrap(), Digest::Sha1);
    let envelope = Envelope::parse(request.content.as_deref().unwrap()).unwrap();
    assert_eq!(envelope.cipher, Ok(ContentCipher::Des));
    let (identity, ra_cert) = captured_ra();
    let csr = envelope.open(&identity, &ra_cert).unwrap();
    assert_eq!(&csr[..], &fixture("enroll/pkcsreq.envelope.plain.der")[..]);
    ca_core::csr::VerifiedCsr::from_der(&csr).unwrap();
}

#[test]
fn a_captured_renewal_is_signed_by_the_certificate_it_renews() {
    let request = SignedRequest::parse(&fixture("renew/renewalreq.der")).unwrap();
    assert_eq!(request.message_type, MessageType::RenewalReq);
    request.verify().unwrap();
    let issued = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/scep/enroll/issued-cert.pem"),
    )
    .unwrap();
    let issued = ca_core::authority::pem_certificates(&issued)
        .unwrap()
        .remove(0);
    assert_eq!(request.signer_der, issued);
}

#[test]
fn a_tampered_signature_or_content_is_refused() {
    let mut bytes = fixture("enroll/pkcsreq.der");
    // The last bytes are the signature.
    let n = bytes.len();
    bytes[n - 5] ^= 0x01;
    let request = SignedRequest::parse(&bytes).unwrap();
    assert_eq!(request.verify(), Err(WireError::BadSignature));

    let original = fixture("enroll/pkcsreq.der");
    let envelope = fixture("enroll/pkcsreq.envelope.der");
    let at = original
        .windows(envelope.len())
        .position(|w| w == envelope.as_slice())
        .unwrap();
    let mut bytes = original.clone();
    bytes[at + envelope.len() - 3] ^= 0x80;
    let request = SignedRequest::parse(&bytes).unwrap();
    // The content no longer matches the signed message digest.
    assert_eq!(request.verify(), Err(WireError::BadSignature));
}

#[test]
fn a_message_for_another_ra_or_with_a_broken_key_block_gives_one_error() {
    let request = SignedRequest::parse(&fixture("enroll/pkcsreq.der")).unwrap();
    let envelope = Envelope::parse(request.content.as_deref().unwrap()).unwrap();
    // Another RA: the device's own certificate and key stand in for one.
    let other = ProtocolIdentity::from_parts(
        fixture("enroll/signer-selfsigned.der"),
        &fixture("enroll/client.key.pkcs8.der"),
    )
    .unwrap();
    let other_cert =
        x509_cert::Certificate::from_der(&fixture("enroll/signer-selfsigned.der")).unwrap();
    assert_eq!(envelope.open(&other, &other_cert), Err(WireError::NotForUs));

    // A corrupted key-transport block: a random key is substituted, and the answer is
    // the same error as for a corrupted content (never a padding oracle).
    let plain_envelope = fixture("enroll/pkcsreq.envelope.der");
    let (identity, ra_cert) = captured_ra();
    let mut broken_key = plain_envelope.clone();
    // The encrypted key is the 256-byte OCTET STRING after the recipient's serial: flip a byte in it.
    let key_at = find_encrypted_key(&plain_envelope);
    broken_key[key_at + 10] ^= 0x55;
    let e1 = Envelope::parse(&broken_key)
        .unwrap()
        .open(&identity, &ra_cert);
    let mut broken_content = plain_envelope.clone();
    let n = broken_content.len();
    broken_content[n - 2] ^= 0x55;
    let e2 = Envelope::parse(&broken_content)
        .unwrap()
        .open(&identity, &ra_cert);
    for e in [e1, e2] {
        // Either the padding fails or the plaintext is garbage that is no CSR; both are one error.
        match e {
            Err(err) => assert_eq!(err, WireError::Undecryptable),
            Ok(plain) => assert!(ca_core::csr::VerifiedCsr::from_der(&plain).is_err()),
        }
    }
}

/// The offset of the 256-byte encryptedKey in an EnvelopedData DER.
fn find_encrypted_key(envelope: &[u8]) -> usize {
    envelope
        .windows(4)
        .position(|w| w == [0x04, 0x82, 0x01, 0x00])
        .expect("a 256-byte OCTET STRING")
        + 4
}

#[test]
fn truncated_or_junk_messages_are_malformed_not_panics() {
    let bytes = fixture("enroll/pkcsreq.der");
    for cut in [0, 1, 10, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            SignedRequest::parse(&bytes[..cut]),
            Err(WireError::Malformed(_))
        ));
    }
    assert!(SignedRequest::parse(b"not a message").is_err());
    assert!(Envelope::parse(b"\x30\x03\x02\x01\x00").is_err());
}

#[test]
fn a_sealed_cert_rep_is_signed_by_the_ra_and_opens_with_the_device_key() {
    let request = SignedRequest::parse(&fixture("enroll/pkcsreq.der")).unwrap();
    let (identity, ra_cert) = captured_ra();
    let issued = fixture("ca/ca.der");
    for cipher in [
        ContentCipher::Des,
        ContentCipher::Des3,
        ContentCipher::Aes128,
        ContentCipher::Aes256,
    ] {
        let envelope = seal(&issued, &request.signer, cipher).unwrap();
        let rep = CertRep {
            status: PkiStatus::Success,
            fail_info: None,
            transaction_id: &request.transaction_id_value,
            recipient_nonce: &request.sender_nonce,
            envelope: Some(envelope),
            digest: Digest::Sha1,
        }
        .sign(&identity, &ra_cert)
        .unwrap();
        // Read back with our own parser: signed by the RA (SHA-256 for a SHA-1 request), same transaction.
        let answer = SignedRequest::parse(&rep).unwrap();
        assert_eq!(answer.message_type, MessageType::CertRep);
        assert_eq!(answer.transaction_id, request.transaction_id);
        assert_eq!(answer.verify().unwrap(), Digest::Sha256);
        assert_eq!(answer.signer_der, ra_cert.to_der().unwrap());
        let device = ProtocolIdentity::from_parts(
            fixture("enroll/signer-selfsigned.der"),
            &fixture("enroll/client.key.pkcs8.der"),
        )
        .unwrap();
        let opened = Envelope::parse(answer.content.as_deref().unwrap())
            .unwrap()
            .open(&device, &request.signer)
            .unwrap();
        assert_eq!(&opened[..], &issued[..], "{cipher:?}");
    }
}
