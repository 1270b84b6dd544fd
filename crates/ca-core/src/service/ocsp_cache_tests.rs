//! The OCSP answer path with its cache, and the CRL refresh, through the service.
use super::*;
use const_oid::db::rfc5912::ID_SHA_1;
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::pkix::crl::CrlReason;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, Request, TbsRequest,
};

const NONCE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

/// A root and an issuing CA (P-256), opened with a changed configuration.
pub(super) fn service_with(dir: &Path, change: impl FnOnce(&mut CaServiceConfig)) -> CaService {
    use crate::authority::{CaSubject, NewCa};
    use crate::keys::SignatureHash;
    let directory = CaDirectory::new(dir);
    let spec = |id: &str, days| NewCa {
        id: id.into(),
        subject: CaSubject::root_for(id),
        key_algorithm: KeyAlgorithm::EcP256,
        hash: SignatureHash::Sha256,
        validity_days: days,
        path_len: None,
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    };
    let plain = KeyProtection::InsecurePlaintext;
    directory.create_root(&spec("root", 3650), &plain).unwrap();
    directory
        .create_subordinate(&spec("issuing", 1825), "root", &plain, None)
        .unwrap();
    let mut config = CaServiceConfig::new(
        dir,
        "http://pki.example.com",
        KeyProtection::InsecurePlaintext,
    );
    change(&mut config);
    CaService::open(&config).unwrap()
}

fn issue(service: &CaService, name: &str) -> CertificateRecord {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = rcgen::CertificateParams::new(vec![name.to_string()])
        .unwrap()
        .serialize_request(&key)
        .unwrap();
    let csr = crate::csr::VerifiedCsr::from_der(csr.der()).unwrap();
    let request = IssuanceRequest {
        csr: &csr,
        profile: service.profile("tls-server").unwrap(),
        names: None,
        term_days: None,
        owner_subject: Default::default(),
    };
    service.issue(&request, "test").unwrap()
}

#[test]
fn a_revocation_committed_without_its_crl_is_caught_by_the_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let record = issue(&service, "crash.example.com");
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        service.refresh_crls(now, false).unwrap(),
        Vec::<String>::new(),
        "a fresh CRL with nothing newer is left alone"
    );
    // The revocation commits, then the process dies before re-signing the CRL.
    let prepared = service
        .prepare_revocation(&record.serial, RevocationReason::KeyCompromise, "")
        .unwrap();
    service
        .certificates()
        .store()
        .write(prepared.batch)
        .unwrap();
    let listed = |service: &CaService| {
        let der = service.certificates().crl("issuing").unwrap().unwrap().der;
        let crl = x509_cert::crl::CertificateList::from_der(&der).unwrap();
        crl.tbs_cert_list
            .revoked_certificates
            .unwrap_or_default()
            .iter()
            .any(|r| r.serial_number.as_bytes() == record.serial.as_bytes())
    };
    assert!(!listed(&service));
    // (A refresh runs at the time it is called; a second later than the revocation.)
    let later = OffsetDateTime::now_utc() + Duration::seconds(1);
    assert_eq!(service.refresh_crls(later, false).unwrap(), vec!["issuing"]);
    assert!(listed(&service), "the refreshed CRL lists the revocation");
    assert!(service.refresh_crls(later, false).unwrap().is_empty());
}

/// A DER OCSPRequest for `serial` of the `issuing` CA (SHA-1 CertID, as openssl sends).
fn request(service: &CaService, serial: &[u8], nonce: Option<&[u8]>) -> Vec<u8> {
    let ca = service.ca("issuing").unwrap();
    let sha1 = &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY;
    let cert_id = CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned {
            oid: ID_SHA_1,
            parameters: Some(der::Any::from(Null)),
        },
        issuer_name_hash: OctetString::new(
            aws_lc_rs::digest::digest(sha1, ca.subject_der()).as_ref(),
        )
        .unwrap(),
        issuer_key_hash: OctetString::new(
            aws_lc_rs::digest::digest(sha1, ca.public_key_bits()).as_ref(),
        )
        .unwrap(),
        serial_number: x509_cert::serial_number::SerialNumber::new(serial).unwrap(),
    };
    let nonce = nonce.map(|n| {
        vec![x509_cert::ext::Extension {
            extn_id: NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(n).unwrap().to_der().unwrap()).unwrap(),
        }]
    });
    OcspRequest {
        tbs_request: TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: nonce,
        },
        optional_signature: None,
    }
    .to_der()
    .unwrap()
}

fn basic(der: &[u8]) -> BasicOcspResponse {
    let response = OcspResponse::from_der(der).unwrap();
    let bytes = response.response_bytes.expect("a successful response");
    BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap()
}

fn status(der: &[u8]) -> CertStatus {
    basic(der).tbs_response_data.responses[0].cert_status
}

fn at(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

#[test]
fn the_same_nonceless_request_twice_is_answered_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let leaf = issue(&service, "a.example.com");
    let req = request(&service, leaf.serial.as_bytes(), None);
    assert_eq!(
        service.ocsp_answer_from_cache(&req),
        None,
        "nothing cached yet"
    );
    let first = service.ocsp_answer(&req);
    let second = service.ocsp_answer(&req);
    assert!(first.cacheable && second.cacheable);
    assert_eq!(
        first.der, second.der,
        "byte-identical: served from the cache"
    );
    assert_eq!(first.this_update, second.this_update);
    let (this_update, next_update) = (first.this_update.unwrap(), first.next_update.unwrap());
    assert_eq!(next_update - this_update, Duration::days(1).whole_seconds());
    assert!(matches!(status(&first.der), CertStatus::Good(_)));
    assert_eq!(service.ocsp_cache().len(), 1);
    assert_eq!(service.ocsp_cache().stats().hits, 1);
    // The old entry point answers the same bytes, and so does the cache-only one.
    assert_eq!(service.ocsp_response(&req), first.der);
    assert_eq!(service.ocsp_answer_from_cache(&req), Some(first));
}

#[test]
fn a_revocation_through_the_service_is_answered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let leaf = issue(&service, "b.example.com");
    let req = request(&service, leaf.serial.as_bytes(), None);
    let now = at(unix(OffsetDateTime::now_utc()));
    let good = service.ocsp_answer_at(&req, now);
    assert_eq!(service.ocsp_answer_at(&req, now).der, good.der);
    assert!(matches!(status(&good.der), CertStatus::Good(_)));

    assert_eq!(service.cached_ocsp_answer_at(&req, now), Some(good.clone()));
    service
        .revoke(&leaf.serial, RevocationReason::KeyCompromise, "lost")
        .unwrap();
    // Same instant, a fresh cached Good response: still, the store says revoked.
    assert_eq!(service.cached_ocsp_answer_at(&req, now), None);
    let revoked = service.ocsp_answer_at(&req, now);
    assert_ne!(revoked.der, good.der);
    match status(&revoked.der) {
        CertStatus::Revoked(info) => {
            assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise))
        }
        other => panic!("expected revoked, got {other:?}"),
    }
    // The revoked answer replaced the good one in the cache, and is served from it.
    assert_eq!(service.ocsp_answer_at(&req, now).der, revoked.der);
    assert_eq!(service.cached_ocsp_answer_at(&req, now), Some(revoked));
    assert_eq!(service.ocsp_cache().len(), 1);
}

#[test]
fn unknown_is_cached_until_the_certificate_exists() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let now = at(unix(OffsetDateTime::now_utc()));
    // A serial nobody issued: unknown, cached.
    let serial = Serial::random();
    let req = request(&service, serial.as_bytes(), None);
    let unknown = service.ocsp_answer_at(&req, now);
    assert!(matches!(status(&unknown.der), CertStatus::Unknown(_)));
    assert_eq!(service.ocsp_answer_at(&req, now).der, unknown.der);
    // Issued afterwards (here: a record with that serial): good at once.
    let leaf = issue(&service, "c.example.com");
    let mut record = leaf.clone();
    record.id = service.certificates().allocate_id();
    record.serial = serial.clone();
    service.certificates().insert(&record).unwrap();
    let good = service.ocsp_answer_at(&req, now);
    assert!(matches!(status(&good.der), CertStatus::Good(_)));
}

#[test]
fn a_nonced_request_is_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let leaf = issue(&service, "d.example.com");
    let now = at(unix(OffsetDateTime::now_utc()));
    let one = request(&service, leaf.serial.as_bytes(), Some(b"nonce-one"));
    let two = request(&service, leaf.serial.as_bytes(), Some(b"nonce-two"));
    let first = service.ocsp_answer_at(&one, now);
    let second = service.ocsp_answer_at(&two, now + Duration::seconds(1));
    let again = service.ocsp_answer_at(&one, now);
    assert!(!first.cacheable && !second.cacheable && !again.cacheable);
    assert_ne!(first.der, second.der);
    // The same nonce'd request twice is signed twice (ECDSA: a new signature).
    assert_ne!(first.der, again.der);
    let nonce_of = |der: &[u8]| {
        basic(der).tbs_response_data.response_extensions.unwrap()[0]
            .extn_value
            .clone()
    };
    assert_ne!(nonce_of(&first.der), nonce_of(&second.der));
    assert_ne!(
        basic(&first.der).tbs_response_data.produced_at,
        basic(&second.der).tbs_response_data.produced_at
    );
    assert!(service.ocsp_cache().is_empty());
    assert_eq!(service.ocsp_cache().stats(), Default::default());
    assert_eq!(service.cached_ocsp_answer_at(&one, now), None);
}

#[test]
fn the_cache_holds_at_most_its_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |c| c.ocsp_cache_entries = 8);
    let now = at(unix(OffsetDateTime::now_utc()));
    for _ in 0..8 + 5 {
        let req = request(&service, Serial::random().as_bytes(), None);
        assert!(service.ocsp_answer_at(&req, now).cacheable);
        assert!(service.ocsp_cache().len() <= 8);
    }
    assert_eq!(service.ocsp_cache().len(), 8);
}

#[test]
fn zero_entries_disables_the_cache_but_not_the_caching_headers() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |c| c.ocsp_cache_entries = 0);
    let leaf = issue(&service, "e.example.com");
    let req = request(&service, leaf.serial.as_bytes(), None);
    let now = at(unix(OffsetDateTime::now_utc()));
    let first = service.ocsp_answer_at(&req, now);
    let second = service.ocsp_answer_at(&req, now);
    assert!(first.cacheable);
    assert_ne!(first.der, second.der, "signed each time");
    assert!(service.ocsp_cache().is_empty());
    assert_eq!(service.cached_ocsp_answer_at(&req, now), None);
}

#[test]
fn an_entry_past_half_its_validity_is_signed_again() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |_| {});
    let leaf = issue(&service, "f.example.com");
    let req = request(&service, leaf.serial.as_bytes(), None);
    let t0 = unix(OffsetDateTime::now_utc());
    let half = Duration::days(1).whole_seconds() / 2;
    let first = service.ocsp_answer_at(&req, at(t0));
    let before_half = service.ocsp_answer_at(&req, at(t0 + half - 1));
    assert_eq!(before_half.der, first.der);
    let at_half = service.ocsp_answer_at(&req, at(t0 + half));
    assert_ne!(at_half.der, first.der);
    assert_eq!(at_half.this_update, Some(t0 + half));
    let produced = basic(&at_half.der).tbs_response_data.produced_at;
    assert_eq!(produced.0.to_unix_duration().as_secs() as i64, t0 + half);
    // The re-signed response replaced the old one.
    assert_eq!(
        service.ocsp_answer_at(&req, at(t0 + half + 1)).der,
        at_half.der
    );
    assert_eq!(service.ocsp_cache().len(), 1);
    // A clock that moved back before the entry's thisUpdate does not get it either.
    assert_ne!(service.ocsp_answer_at(&req, at(t0)).der, at_half.der);
}

#[test]
fn a_renewed_delegated_responder_does_not_serve_the_old_ones_responses() {
    let dir = tempfile::tempdir().unwrap();
    let service = service_with(dir.path(), |c| c.ocsp_signer = OcspSigner::Delegated);
    let leaf = issue(&service, "g.example.com");
    let req = request(&service, leaf.serial.as_bytes(), None);
    let now = at(unix(OffsetDateTime::now_utc()));
    let first = service.ocsp_answer_at(&req, now);
    assert_eq!(service.ocsp_answer_at(&req, now).der, first.der);
    let responder_of = |der: &[u8]| basic(der).certs.unwrap()[0].to_der().unwrap();
    // Renewal (what passing its renew_after does): a new responder certificate.
    service.responders.write().unwrap().clear();
    // The cache-only path issues no responder: it leaves that to the full one.
    assert_eq!(service.cached_ocsp_answer_at(&req, now), None);
    let renewed = service.ocsp_answer_at(&req, now);
    assert_ne!(renewed.der, first.der);
    assert_ne!(responder_of(&renewed.der), responder_of(&first.der));
    assert_eq!(service.ocsp_answer_at(&req, now).der, renewed.der);
    assert_eq!(
        service.cached_ocsp_answer_at(&req, now).map(|a| a.der),
        Some(renewed.der)
    );
}
