//! The SCEP server end to end through its HTTP handler, with requests built
//! the way devices build them: every message type, every content cipher with
//! SHA-256 and SHA-512, the approval queue and polling, renewal, and the bad
//! input of the issue (another RA's message, a tampered signature, a replayed
//! transaction id with another key, an unknown transaction in CertPoll,
//! truncated DER, junk, an oversized body, broken base64).

use std::sync::Arc;

use bytes::Bytes;
use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::identity::ProtocolIdentity;
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::revocation::RevocationReason;
use ca_core::service::{CaService, CaServiceConfig};
use der::{Decode, Encode};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use policy::model::{Address, Administrator, ApprovalMode, OrgId};
use policy::registry::{ChallengeBinding, EndpointSecret, NewEndpoint, RegistrationAuthority};
use scep_server::wire::algorithms::{ContentCipher, Digest};
use scep_server::wire::envelope::Envelope;
use scep_server::wire::request::RequestSpec;
use scep_server::wire::signed::SignedRequest;
use scep_server::wire::MessageType;
use scep_server::ScepServer;
use x509_cert::Certificate;

struct Harness {
    _dir: tempfile::TempDir,
    ra: Arc<RegistrationAuthority>,
    admin: Administrator,
    org: OrgId,
    server: ScepServer,
    challenges: std::collections::HashMap<String, String>,
}

fn spec(id: &str, subject: CaSubject, path_len: Option<u8>) -> NewCa {
    NewCa {
        id: id.into(),
        subject,
        key_algorithm: KeyAlgorithm::EcP256,
        hash: SignatureHash::Sha256,
        validity_days: 3650,
        path_len,
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    }
}

impl Harness {
    fn start() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let base = "http://127.0.0.1:8080";
        let cas = CaDirectory::new(dir.path());
        let plain = KeyProtection::InsecurePlaintext;
        cas.create_root(
            &spec("root", CaSubject::root_for("SCEP Test"), None),
            &plain,
        )
        .unwrap();
        cas.create_subordinate(
            &spec("issuing", CaSubject::issuing_for("SCEP Test"), Some(0)),
            "root",
            &plain,
            Some(&PublicationUrls::new(base)),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(ca_core::service::PROFILES_FILE),
            ca_core::profile::DEFAULT_PROFILES_TOML,
        )
        .unwrap();
        let mut config = CaServiceConfig::new(dir.path(), base, plain);
        config.default_issuer = Some("issuing".into());
        let service = CaService::open(&config).unwrap();
        let ra = Arc::new(RegistrationAuthority::open(Arc::new(service), dir.path()).unwrap());
        let password = ra.bootstrap_mrao("admin").unwrap().unwrap();
        let (_, admin) = ra.login("admin", &password).unwrap();
        let org = ra
            .create_organization(&admin, "Devices", Address::default())
            .unwrap()
            .id;
        ra.delegate_domain(&admin, "devices.test", org, None)
            .unwrap();
        let mut challenges = std::collections::HashMap::new();
        for (name, approval) in [("auto", ApprovalMode::Auto), ("queue", ApprovalMode::Queue)] {
            let (_, secret) = ra
                .create_endpoint(
                    &admin,
                    NewEndpoint {
                        name: name.into(),
                        kind: "scep".into(),
                        org,
                        dept: None,
                        profile: "device".into(),
                        default_term_days: None,
                        approval,
                        eab_required: false,
                        est_username: None,
                        intune: None,
                    },
                )
                .unwrap();
            let EndpointSecret::ScepChallenge(challenge) = secret else {
                panic!("a SCEP endpoint has a challenge")
            };
            challenges.insert(name.to_string(), challenge.to_string());
        }
        let server = ScepServer::new(ra.clone());
        Harness {
            _dir: dir,
            ra,
            admin,
            org,
            server,
            challenges,
        }
    }

    async fn call(&self, request: Request<Full<Bytes>>) -> (StatusCode, String, Vec<u8>) {
        let response = self.server.handle(request).await;
        let status = response.status();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, content_type, body)
    }

    async fn get(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        self.call(Request::get(path).body(Full::new(Bytes::new())).unwrap())
            .await
    }

    async fn post(&self, endpoint: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
        // No Content-Type, as sscep sends it.
        self.call(
            Request::post(format!("/scep/{endpoint}?operation=PKIOperation"))
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
        .await
    }

    /// The RA certificate from GetCACert (the leaf whose CN ends in "SCEP RA").
    async fn ra_certificate(&self, endpoint: &str) -> Certificate {
        let (status, content_type, body) = self
            .get(&format!("/scep/{endpoint}?operation=GetCACert"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "application/x-x509-ca-ra-cert");
        let info = cms::content_info::ContentInfo::from_der(&body).unwrap();
        let signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
        signed
            .certificates
            .unwrap()
            .0
            .into_vec()
            .into_iter()
            .filter_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => Some(c),
                _ => None,
            })
            .find(|c| c.tbs_certificate.subject.to_string().contains("SCEP RA"))
            .expect("an RA certificate")
    }

    fn request_count(&self) -> usize {
        self.ra
            .requests(&self.admin, &Default::default(), 0, 1000)
            .unwrap()
            .len()
    }
}

/// A device: an RSA-2048 key and the self-signed certificate it signs its first request with.
struct Device {
    pkcs8: Vec<u8>,
    key: rcgen::KeyPair,
    cert: Certificate,
    identity: ProtocolIdentity,
}

impl Device {
    fn new(cn: &str) -> Device {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        Self::with(key, cert.der().to_vec())
    }

    fn with(key: rcgen::KeyPair, cert_der: Vec<u8>) -> Device {
        let pkcs8 = key.serialize_der();
        Device {
            identity: ProtocolIdentity::from_parts(cert_der.clone(), &pkcs8).unwrap(),
            cert: Certificate::from_der(&cert_der).unwrap(),
            pkcs8,
            key,
        }
    }

    /// The same key, now signing with `cert_der` (an issued certificate).
    fn signing_with(&self, cert_der: &[u8]) -> Device {
        let key = rcgen::KeyPair::try_from(self.pkcs8.as_slice()).unwrap();
        Device::with(key, cert_der.to_vec())
    }

    fn csr(&self, cn: &str, challenge: Option<&str>) -> Vec<u8> {
        self.csr_with_names(cn, challenge, Vec::new())
    }

    fn csr_with_names(
        &self,
        cn: &str,
        challenge: Option<&str>,
        names: Vec<rcgen::SanType>,
    ) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = names;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let attributes = match challenge {
            Some(c) => {
                // challengePassword: a SET of one PrintableString.
                let mut set = der::asn1::SetOfVec::new();
                set.insert(der::asn1::PrintableStringRef::new(c).unwrap())
                    .unwrap();
                let value = set.to_der().unwrap();
                vec![rcgen::Attribute {
                    oid: &[1, 2, 840, 113549, 1, 9, 7],
                    values: value,
                }]
            }
            None => Vec::new(),
        };
        params
            .serialize_request_with_attributes(&self.key, attributes)
            .unwrap()
            .der()
            .to_vec()
    }

    #[allow(clippy::too_many_arguments)]
    fn message(
        &self,
        message_type: MessageType,
        transaction_id: &str,
        content: &[u8],
        ra: &Certificate,
        cipher: ContentCipher,
        digest: Digest,
    ) -> Vec<u8> {
        RequestSpec {
            message_type,
            transaction_id,
            content,
            recipient: ra,
            cipher,
            digest,
        }
        .build(&self.identity, &self.cert)
        .unwrap()
    }
}

/// A parsed answer: status, failInfo, and on success the certificates it carried.
struct Answer {
    status: String,
    fail_info: Option<String>,
    certificates: Vec<Vec<u8>>,
}

fn read_answer(body: &[u8], device: &Device, ra: &Certificate, transaction_id: &str) -> Answer {
    let rep = SignedRequest::parse(body).expect("a CertRep");
    assert_eq!(rep.message_type, MessageType::CertRep);
    assert_eq!(rep.transaction_id, transaction_id);
    rep.verify().expect("signed by the RA");
    assert_eq!(
        rep.signer_der,
        ra.to_der().unwrap(),
        "signed by the RA certificate"
    );
    let status = rep.pki_status.clone().expect("a pkiStatus");
    let mut certificates = Vec::new();
    if status == "0" {
        let plain = Envelope::parse(rep.content.as_deref().unwrap())
            .unwrap()
            .open(&device.identity, &device.cert)
            .expect("encrypted to the device");
        let info = cms::content_info::ContentInfo::from_der(&plain).unwrap();
        let signed: cms::signed_data::SignedData = info.content.decode_as().unwrap();
        if let Some(set) = signed.certificates {
            for c in set.0.into_vec() {
                if let cms::cert::CertificateChoices::Certificate(c) = c {
                    certificates.push(c.to_der().unwrap());
                }
            }
        }
        if let Some(crls) = signed.crls {
            for c in crls.0.into_vec() {
                if let cms::revocation::RevocationInfoChoice::Crl(c) = c {
                    certificates.push(c.to_der().unwrap());
                }
            }
        }
    }
    Answer {
        status,
        fail_info: rep.fail_info,
        certificates,
    }
}

const CIPHERS: [ContentCipher; 4] = [
    ContentCipher::Des,
    ContentCipher::Des3,
    ContentCipher::Aes128,
    ContentCipher::Aes256,
];

#[tokio::test]
async fn caps_and_ca_certificates_are_served_under_both_path_forms() {
    let h = Harness::start();
    let (status, _, caps) = h.get("/scep/auto?operation=GetCACaps").await;
    assert_eq!(status, StatusCode::OK);
    let caps = String::from_utf8(caps).unwrap();
    for cap in [
        "POSTPKIOperation",
        "Renewal",
        "SHA-256",
        "SHA-512",
        "AES",
        "DES3",
        "SCEPStandard",
    ] {
        assert!(caps.lines().any(|l| l == cap), "{cap} in {caps}");
    }
    let (status, _, again) = h.get("/scep/auto/pkiclient.exe?operation=GetCACaps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(String::from_utf8(again).unwrap(), caps);
    let ra = h.ra_certificate("auto").await;
    // The RA certificate can encrypt and sign, and is a leaf.
    let der = ra.to_der().unwrap();
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    let ku = parsed.key_usage().unwrap().unwrap().value;
    assert!(ku.digital_signature() && ku.key_encipherment());
    assert!(!parsed.is_ca());
    // Each endpoint has its own RA certificate.
    assert_ne!(h.ra_certificate("queue").await, ra);
    let (status, _, _) = h.get("/scep/nonexistent?operation=GetCACaps").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = h.get("/scep/auto?operation=GetNextCACert").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_cipher_and_digest_enrolls_over_post_and_get() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let challenge = h.challenges["auto"].clone();
    let mut n = 0;
    for cipher in CIPHERS {
        for digest in [Digest::Sha256, Digest::Sha512] {
            n += 1;
            let device = Device::new(&format!("device-{n}"));
            let txid = format!("tx-{n}");
            let csr = device.csr(&format!("device-{n}"), Some(&challenge));
            let message = device.message(MessageType::PkcsReq, &txid, &csr, &ra, cipher, digest);
            let (status, content_type, body) = if n % 2 == 0 {
                h.post("auto", message).await
            } else {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(&message);
                let encoded: String = form_urlencoded::byte_serialize(b64.as_bytes()).collect();
                h.get(&format!(
                    "/scep/auto?operation=PKIOperation&message={encoded}"
                ))
                .await
            };
            assert_eq!(
                status,
                StatusCode::OK,
                "{cipher:?} {digest:?}: {}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(content_type, "application/x-pki-message");
            let answer = read_answer(&body, &device, &ra, &txid);
            assert_eq!(
                answer.status, "0",
                "{cipher:?} {digest:?}: failInfo {:?}",
                answer.fail_info
            );
            let (_, issued) = x509_parser::parse_x509_certificate(&answer.certificates[0]).unwrap();
            // The certificate certifies the device's key, under the device profile.
            assert_eq!(
                issued.public_key().raw,
                rcgen::PublicKeyData::subject_public_key_info(&device.key).as_slice()
            );
            assert!(issued
                .subject()
                .to_string()
                .contains(&format!("device-{n}")));
        }
    }
    assert_eq!(h.request_count(), 8);
}

#[tokio::test]
async fn a_wrong_or_missing_challenge_fails_and_a_one_time_challenge_works_once() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let enroll = |challenge: Option<String>, txid: &'static str| {
        let ra = ra.clone();
        let h = &h;
        async move {
            let device = Device::new(txid);
            let csr = device.csr(txid, challenge.as_deref());
            let m = device.message(
                MessageType::PkcsReq,
                txid,
                &csr,
                &ra,
                ContentCipher::Aes128,
                Digest::Sha256,
            );
            let (status, _, body) = h.post("auto", m).await;
            assert_eq!(status, StatusCode::OK);
            read_answer(&body, &device, &ra, txid)
        }
    };
    let wrong = enroll(Some("not-the-challenge".into()), "wrong").await;
    assert_eq!(
        (wrong.status.as_str(), wrong.fail_info.as_deref()),
        ("2", Some("2"))
    );
    let missing = enroll(None, "missing").await;
    assert_eq!(
        (missing.status.as_str(), missing.fail_info.as_deref()),
        ("2", Some("2"))
    );
    // The queue endpoint's challenge is not this endpoint's.
    let other = enroll(Some(h.challenges["queue"].clone()), "other").await;
    assert_eq!(other.status, "2");
    assert_eq!(
        h.request_count(),
        0,
        "nothing is recorded for a bad challenge"
    );

    let endpoint = h.ra.endpoint_of_kind("scep", "auto").unwrap();
    let (one_time, _) =
        h.ra.mint_scep_challenge(&h.admin, endpoint.id, ChallengeBinding::default())
            .unwrap();
    let first = enroll(Some(one_time.to_string()), "first").await;
    assert_eq!(first.status, "0");
    let second = enroll(Some(one_time.to_string()), "second").await;
    assert_eq!(
        (second.status.as_str(), second.fail_info.as_deref()),
        ("2", Some("2"))
    );

    // A bound challenge refuses another subject.
    let (bound, _) =
        h.ra.mint_scep_challenge(
            &h.admin,
            endpoint.id,
            ChallengeBinding {
                subject: Some("kiosk-7".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let refused = enroll(Some(bound.to_string()), "not-kiosk").await;
    assert_eq!(refused.status, "2");
    assert_eq!(h.request_count(), 1);
}

#[tokio::test]
async fn a_queued_request_is_pending_until_approved_and_a_repeat_is_the_same_request() {
    let h = Harness::start();
    let ra = h.ra_certificate("queue").await;
    let device = Device::new("queued");
    let csr = device.csr("queued", Some(&h.challenges["queue"]));
    let pkcs_req = |d: &Device| {
        d.message(
            MessageType::PkcsReq,
            "tx-q",
            &csr,
            &ra,
            ContentCipher::Des3,
            Digest::Sha256,
        )
    };
    let (_, _, body) = h.post("queue", pkcs_req(&device)).await;
    assert_eq!(
        read_answer(&body, &device, &ra, "tx-q").status,
        "3",
        "PENDING"
    );
    // micromdm's client repeats the PKCSReq; Apple's polls with CertPoll. Neither makes a second request.
    let (_, _, body) = h.post("queue", pkcs_req(&device)).await;
    assert_eq!(read_answer(&body, &device, &ra, "tx-q").status, "3");
    let issuer_and_subject = b"\x30\x00";
    let poll = device.message(
        MessageType::CertPoll,
        "tx-q",
        issuer_and_subject,
        &ra,
        ContentCipher::Aes256,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", poll.clone()).await;
    assert_eq!(read_answer(&body, &device, &ra, "tx-q").status, "3");
    assert_eq!(h.request_count(), 1);

    // The same transaction id from another key is refused, not attached.
    let intruder = Device::new("intruder");
    let csr2 = intruder.csr("intruder", Some(&h.challenges["queue"]));
    let m = intruder.message(
        MessageType::PkcsReq,
        "tx-q",
        &csr2,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", m).await;
    let answer = read_answer(&body, &intruder, &ra, "tx-q");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );
    let poll_other = intruder.message(
        MessageType::CertPoll,
        "tx-q",
        issuer_and_subject,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", poll_other).await;
    assert_eq!(read_answer(&body, &intruder, &ra, "tx-q").status, "2");
    assert_eq!(h.request_count(), 1);

    let request =
        h.ra.requests(&h.admin, &Default::default(), 0, 10)
            .unwrap()
            .remove(0);
    h.ra.approve(&h.admin, request.id, "device checked")
        .unwrap();
    let (_, _, body) = h.post("queue", poll).await;
    let answer = read_answer(&body, &device, &ra, "tx-q");
    assert_eq!(answer.status, "0");
    let (_, _, body) = h.post("queue", pkcs_req(&device)).await;
    let again = read_answer(&body, &device, &ra, "tx-q");
    assert_eq!(
        again.certificates, answer.certificates,
        "the same certificate"
    );
    assert_eq!(h.request_count(), 1);

    // An unknown transaction in CertPoll: badCertId.
    let unknown = device.message(
        MessageType::CertPoll,
        "tx-unknown",
        issuer_and_subject,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", unknown).await;
    let answer = read_answer(&body, &device, &ra, "tx-unknown");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("4"))
    );
}

#[tokio::test]
async fn a_declined_request_fails_with_bad_request() {
    let h = Harness::start();
    let ra = h.ra_certificate("queue").await;
    let device = Device::new("declined");
    let csr = device.csr("declined", Some(&h.challenges["queue"]));
    let m = device.message(
        MessageType::PkcsReq,
        "tx-d",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", m.clone()).await;
    assert_eq!(read_answer(&body, &device, &ra, "tx-d").status, "3");
    let request =
        h.ra.requests(&h.admin, &Default::default(), 0, 10)
            .unwrap()
            .remove(0);
    h.ra.decline(&h.admin, request.id, "not one of ours")
        .unwrap();
    let (_, _, body) = h.post("queue", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-d");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );
}

#[tokio::test]
async fn renewal_with_the_issued_certificate_replaces_it_and_a_revoked_one_cannot_renew() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let device = Device::new("renewing");
    let csr = device.csr("renewing", Some(&h.challenges["auto"]));
    let m = device.message(
        MessageType::PkcsReq,
        "tx-r",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let first = read_answer(&body, &device, &ra, "tx-r")
        .certificates
        .remove(0);

    // RenewalReq signed with the issued certificate, no challenge, the same transaction id
    // (micromdm derives it from the key): a new certificate, and the old one is replaced.
    let renewing = device.signing_with(&first);
    let csr = device.csr("renewing", None);
    let m = renewing.message(
        MessageType::RenewalReq,
        "tx-r",
        &csr,
        &ra,
        ContentCipher::Aes256,
        Digest::Sha512,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &renewing, &ra, "tx-r");
    assert_eq!(answer.status, "0", "{:?}", answer.fail_info);
    let second = answer.certificates[0].clone();
    assert_ne!(second, first);
    let old = Certificate::from_der(&first).unwrap();
    let serial = ca_core::serial::Serial::from_bytes(old.tbs_certificate.serial_number.as_bytes());
    let record =
        h.ra.ca()
            .certificates()
            .by_serial(&serial)
            .unwrap()
            .unwrap();
    assert!(
        matches!(
            record.status,
            ca_core::certificates::CertificateStatus::Replaced { .. }
        ),
        "{:?}",
        record.status
    );

    // sscep renews with a PKCSReq signed by the current certificate: a renewal too.
    let renewing = device.signing_with(&second);
    let m = renewing.message(
        MessageType::PkcsReq,
        "tx-sscep",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let third = read_answer(&body, &renewing, &ra, "tx-sscep");
    assert_eq!(third.status, "0", "{:?}", third.fail_info);

    // A revoked certificate cannot renew.
    let current = Certificate::from_der(&third.certificates[0]).unwrap();
    let serial =
        ca_core::serial::Serial::from_bytes(current.tbs_certificate.serial_number.as_bytes());
    let record =
        h.ra.ca()
            .certificates()
            .by_serial(&serial)
            .unwrap()
            .unwrap();
    h.ra.revoke(&h.admin, record.id, RevocationReason::KeyCompromise, "lost")
        .unwrap();
    let revoked = device.signing_with(&third.certificates[0]);
    let m = revoked.message(
        MessageType::RenewalReq,
        "tx-rev",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &revoked, &ra, "tx-rev");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );

    // A RenewalReq signed by a certificate that is not ours is refused.
    let stranger = Device::new("stranger");
    let m = stranger.message(
        MessageType::RenewalReq,
        "tx-s",
        &stranger.csr("stranger", None),
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    assert_eq!(read_answer(&body, &stranger, &ra, "tx-s").status, "2");
}

#[tokio::test]
async fn get_cert_and_get_crl_answer_for_our_certificates() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let device = Device::new("lookup");
    let csr = device.csr("lookup", Some(&h.challenges["auto"]));
    let m = device.message(
        MessageType::PkcsReq,
        "tx-l",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let issued = read_answer(&body, &device, &ra, "tx-l")
        .certificates
        .remove(0);
    let cert = Certificate::from_der(&issued).unwrap();
    let ias = cms::cert::IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: cert.tbs_certificate.serial_number.clone(),
    }
    .to_der()
    .unwrap();
    let m = device.message(
        MessageType::GetCert,
        "tx-gc",
        &ias,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-gc");
    assert_eq!(answer.certificates, vec![issued.clone()]);
    let m = device.message(
        MessageType::GetCrl,
        "tx-crl",
        &ias,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-crl");
    assert_eq!(answer.status, "0");
    x509_cert::crl::CertificateList::from_der(&answer.certificates[0]).expect("a CRL");
    // An unknown serial: badCertId.
    let unknown = cms::cert::IssuerAndSerialNumber {
        issuer: cert.tbs_certificate.issuer.clone(),
        serial_number: x509_cert::serial_number::SerialNumber::new(&[0x42; 16]).unwrap(),
    }
    .to_der()
    .unwrap();
    let m = device.message(
        MessageType::GetCert,
        "tx-gu",
        &unknown,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-gu");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("4"))
    );
}

#[tokio::test]
async fn bad_input_gets_a_failinfo_or_a_4xx_and_the_server_keeps_serving() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let other_ra = h.ra_certificate("queue").await;
    let device = Device::new("bad");
    let csr = device.csr("bad", Some(&h.challenges["auto"]));

    // Encrypted to another RA: badMessageCheck.
    let m = device.message(
        MessageType::PkcsReq,
        "tx-1",
        &csr,
        &other_ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-1");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("1"))
    );

    // A tampered signature: badMessageCheck.
    let mut m = device.message(
        MessageType::PkcsReq,
        "tx-2",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let n = m.len();
    m[n - 10] ^= 0x01;
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-2");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("1"))
    );

    // Truncated DER, junk, empty: 400 with a reason.
    let m = device.message(
        MessageType::PkcsReq,
        "tx-3",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    for body in [
        m[..m.len() / 2].to_vec(),
        b"junk bytes".to_vec(),
        Vec::new(),
    ] {
        let (status, content_type, reason) = h.post("auto", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(content_type.starts_with("text/plain"));
        assert!(!reason.is_empty() && reason.len() < 300);
    }
    // An oversized body: 413.
    let (status, _, _) = h
        .post("auto", vec![0x30; scep_server::MAX_MESSAGE_BYTES + 1])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A GET with broken base64: 400.
    let (status, _, _) = h
        .get("/scep/auto?operation=PKIOperation&message=%%%not-base64***")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = h.get("/scep/auto?operation=PKIOperation").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = h.get("/scep/auto?operation=Nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(h.request_count(), 0);

    // And the server still enrolls.
    let (_, _, body) = h.post("auto", m).await;
    assert_eq!(read_answer(&body, &device, &ra, "tx-3").status, "0");
    assert_eq!(h.org, h.ra.endpoint_of_kind("scep", "auto").unwrap().org);
}

#[tokio::test]
async fn a_upn_and_an_intune_sid_are_carried_with_the_strong_mapping_extension() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let device = Device::new("laptop-42");
    let sid = "S-1-5-21-1004336348-1177238915-682003330-512";
    let csr = device.csr_with_names(
        "laptop-42",
        Some(&h.challenges["auto"]),
        vec![
            rcgen::SanType::OtherName((
                vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
                rcgen::OtherNameValue::Utf8String("alice@devices.test".into()),
            )),
            rcgen::SanType::URI(
                format!("tag:microsoft.com,2022-09-14:sid:{sid}")
                    .try_into()
                    .unwrap(),
            ),
        ],
    );
    let m = device.message(
        MessageType::PkcsReq,
        "tx-sid",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-sid");
    assert_eq!(answer.status, "0", "{:?}", answer.fail_info);
    let cert = Certificate::from_der(&answer.certificates[0]).unwrap();
    let extensions = cert.tbs_certificate.extensions.unwrap();
    let san = extensions
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
        .unwrap();
    let names = x509_cert::ext::pkix::SubjectAltName::from_der(san.extn_value.as_bytes()).unwrap();
    let upn = names.0.iter().find_map(|n| match n {
        x509_cert::ext::pkix::name::GeneralName::OtherName(o) => Some(o.clone()),
        _ => None,
    });
    let upn = upn.expect("the UPN is carried");
    assert_eq!(upn.type_id.to_string(), "1.3.6.1.4.1.311.20.2.3");
    assert_eq!(
        upn.value
            .decode_as::<der::asn1::Utf8StringRef<'_>>()
            .unwrap()
            .as_str(),
        "alice@devices.test"
    );
    let ntds = extensions
        .iter()
        .find(|e| e.extn_id.to_string() == "1.3.6.1.4.1.311.25.2")
        .expect("the strong-mapping extension");
    let names: Vec<x509_cert::ext::pkix::name::GeneralName> =
        Vec::from_der(ntds.extn_value.as_bytes()).unwrap();
    let x509_cert::ext::pkix::name::GeneralName::OtherName(other) = &names[0] else {
        panic!("an otherName")
    };
    assert_eq!(other.type_id.to_string(), "1.3.6.1.4.1.311.25.2.1");
    assert_eq!(
        other
            .value
            .decode_as::<der::asn1::OctetString>()
            .unwrap()
            .as_bytes(),
        sid.as_bytes()
    );

    // A UPN outside the organization's domains is refused by the name policy.
    let outsider = Device::new("outsider");
    let csr = outsider.csr_with_names(
        "outsider",
        Some(&h.challenges["auto"]),
        vec![rcgen::SanType::OtherName((
            vec![1, 3, 6, 1, 4, 1, 311, 20, 2, 3],
            rcgen::OtherNameValue::Utf8String("mallory@elsewhere.example".into()),
        ))],
    );
    let m = outsider.message(
        MessageType::PkcsReq,
        "tx-out",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("auto", m).await;
    let answer = read_answer(&body, &outsider, &ra, "tx-out");
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );
}

#[tokio::test]
async fn a_queued_renewal_is_collected_with_the_certificate_it_replaced() {
    let h = Harness::start();
    let ra = h.ra_certificate("queue").await;
    let device = Device::new("renew-queued");
    let csr = device.csr("renew-queued", Some(&h.challenges["queue"]));
    let m = device.message(
        MessageType::PkcsReq,
        "tx-rq",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", m.clone()).await;
    assert_eq!(read_answer(&body, &device, &ra, "tx-rq").status, "3");
    let first =
        h.ra.requests(&h.admin, &Default::default(), 0, 10)
            .unwrap()
            .remove(0);
    h.ra.approve(&h.admin, first.id, "ok").unwrap();
    let (_, _, body) = h.post("queue", m).await;
    let issued = read_answer(&body, &device, &ra, "tx-rq")
        .certificates
        .remove(0);

    let renewing = device.signing_with(&issued);
    let csr = device.csr("renew-queued", None);
    let m = renewing.message(
        MessageType::RenewalReq,
        "tx-rq",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let (_, _, body) = h.post("queue", m.clone()).await;
    assert_eq!(
        read_answer(&body, &renewing, &ra, "tx-rq").status,
        "3",
        "the renewal waits"
    );
    let pending: Vec<_> =
        h.ra.requests(&h.admin, &Default::default(), 0, 10)
            .unwrap()
            .into_iter()
            .filter(|r| r.renewal_of.is_some())
            .collect();
    assert_eq!(pending.len(), 1);
    h.ra.approve(&h.admin, pending[0].id, "ok").unwrap();
    // The device still signs with the certificate that is now Replaced, and collects its renewal.
    let (_, _, body) = h.post("queue", m).await;
    let answer = read_answer(&body, &renewing, &ra, "tx-rq");
    assert_eq!(answer.status, "0", "{:?}", answer.fail_info);
    assert_ne!(answer.certificates[0], issued);
    assert_eq!(h.request_count(), 2);
}

/// One call a webhook receiver got.
struct Received {
    method: http::Method,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

/// A webhook receiver on 127.0.0.1: records every call and answers with `status`
/// (which a test may change), or never answers when `silent`.
struct Receiver {
    url: String,
    received: Arc<std::sync::Mutex<Vec<Received>>>,
    status: Arc<std::sync::atomic::AtomicU16>,
}

impl Receiver {
    async fn start(status: u16, silent: bool) -> Receiver {
        use hyper::service::service_fn;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/scep/validate", listener.local_addr().unwrap());
        let received = Arc::new(std::sync::Mutex::new(Vec::new()));
        let status = Arc::new(std::sync::atomic::AtomicU16::new(status));
        let (log, answer) = (received.clone(), status.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                if silent {
                    held.push(stream);
                    continue;
                }
                let (log, answer) = (log.clone(), answer.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let (log, answer) = (log.clone(), answer.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await?.to_bytes().to_vec();
                            log.lock().unwrap().push(Received {
                                method: parts.method,
                                headers: parts.headers,
                                body,
                            });
                            let status = answer.load(std::sync::atomic::Ordering::SeqCst);
                            Ok::<_, hyper::Error>(
                                http::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::from_static(b"{\"note\":\"ignored\"}")))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver {
            url,
            received,
            status,
        }
    }

    fn answer(&self, status: u16) {
        self.status
            .store(status, std::sync::atomic::Ordering::SeqCst);
    }

    fn calls(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The last call's JSON body, once its signature verified with `key` (base64url).
    fn last_verified(&self, key: &str) -> serde_json::Value {
        use base64::Engine;
        let received = self.received.lock().unwrap();
        let call = received.last().expect("the webhook was called");
        assert_eq!(call.method, http::Method::POST);
        assert_eq!(call.headers["content-type"], "application/json");
        let timestamp = call.headers["x-certwright-timestamp"].to_str().unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((timestamp.parse::<i64>().unwrap() - now).abs() < 60);
        let signature = call.headers["x-certwright-signature"].to_str().unwrap();
        let mac = hex::decode(signature.strip_prefix("sha256=").expect("sha256=")).unwrap();
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(key)
            .unwrap();
        let mut signed = format!("{timestamp}.").into_bytes();
        signed.extend_from_slice(&call.body);
        aws_lc_rs::hmac::verify(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key),
            &signed,
            &mac,
        )
        .expect("the HMAC verifies with the key the webhook was given");
        serde_json::from_slice(&call.body).unwrap()
    }
}

impl Harness {
    /// A PKIOperation POST from a client address, as `ca-admin serve` hands it over.
    async fn post_from(&self, endpoint: &str, body: Vec<u8>) -> Vec<u8> {
        let mut request = Request::post(format!("/scep/{endpoint}?operation=PKIOperation"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        request
            .extensions_mut()
            .insert(gateway_http::PeerIdentity::plain(
                "192.0.2.7:50123".parse().unwrap(),
            ));
        let (status, _, body) = self.call(request).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        body
    }

    fn set_webhook(&self, endpoint: &str, url: &str) -> String {
        let endpoint = self.ra.endpoint_of_kind("scep", endpoint).unwrap();
        self.ra
            .set_scep_webhook(&self.admin, endpoint.id, Some(url.to_string()))
            .unwrap()
            .expect("a new key")
            .to_string()
    }

    fn webhook_audit(&self) -> Vec<policy::audit::AuditEntry> {
        self.ra
            .audit_entries(&self.admin, 0, 10_000)
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "scep.webhook")
            .collect()
    }
}

#[tokio::test]
async fn a_webhook_decides_instead_of_the_challenge_and_renewals_skip_it() {
    let h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    let receiver = Receiver::start(200, false).await;
    let key = h.set_webhook("auto", &receiver.url);

    // The MDM's own challenge, which the endpoint does not know: the webhook accepts.
    let device = Device::new("laptop-7");
    let csr = device.csr_with_names(
        "laptop-7",
        Some("mdm-challenge-4242"),
        vec![rcgen::SanType::DnsName(
            "laptop-7.devices.test".try_into().unwrap(),
        )],
    );
    let m = device.message(
        MessageType::PkcsReq,
        "tx-wh",
        &csr,
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let body = h.post_from("auto", m).await;
    let answer = read_answer(&body, &device, &ra, "tx-wh");
    assert_eq!(answer.status, "0", "{:?}", answer.fail_info);
    assert_eq!(answer.certificates.len(), 1);
    assert_eq!(receiver.calls(), 1);
    let sent = receiver.last_verified(&key);
    assert_eq!(sent["endpoint"], "auto");
    assert_eq!(sent["transaction_id"], "tx-wh");
    assert_eq!(sent["challenge"], "mdm-challenge-4242");
    assert_eq!(sent["subject"], "CN=laptop-7");
    assert_eq!(
        sent["sans"],
        serde_json::json!(["dns:laptop-7.devices.test"])
    );
    assert_eq!(sent["client_address"], "192.0.2.7");
    assert_eq!(sent["message_type"], "PKCSReq");
    assert_eq!(h.request_count(), 1);

    // The webhook refuses: FAILURE badRequest, even with the endpoint's static challenge,
    // and nothing is recorded or issued.
    receiver.answer(403);
    let other = Device::new("laptop-8");
    let csr = other.csr("laptop-8", Some(&h.challenges["auto"]));
    let m = other.message(
        MessageType::PkcsReq,
        "tx-wh-403",
        &csr,
        &ra,
        ContentCipher::Aes256,
        Digest::Sha256,
    );
    let body = h.post_from("auto", m).await;
    let refused = read_answer(&body, &other, &ra, "tx-wh-403");
    assert_eq!(
        (refused.status.as_str(), refused.fail_info.as_deref()),
        ("2", Some("2"))
    );
    assert!(refused.certificates.is_empty());
    assert_eq!(receiver.calls(), 2);
    assert_eq!(
        receiver.last_verified(&key)["challenge"],
        h.challenges["auto"]
    );
    assert_eq!(h.request_count(), 1);

    // A renewal signed with the issued certificate skips the webhook, as it skips the challenge.
    let renewing = device.signing_with(&answer.certificates[0]);
    let m = renewing.message(
        MessageType::RenewalReq,
        "tx-wh",
        &device.csr("laptop-7", None),
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let body = h.post_from("auto", m).await;
    let renewed = read_answer(&body, &renewing, &ra, "tx-wh");
    assert_eq!(renewed.status, "0", "{:?}", renewed.fail_info);
    assert_eq!(receiver.calls(), 2, "a renewal does not call the webhook");

    // The audit log has each decision, and neither the key nor a challenge anywhere.
    let decisions = h.webhook_audit();
    let outcomes: Vec<_> = decisions.iter().map(|e| e.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            policy::audit::Outcome::Success,
            policy::audit::Outcome::Denied
        ]
    );
    assert!(
        decisions[1].detail.contains("403"),
        "{}",
        decisions[1].detail
    );
    assert!(decisions[0].actor.contains("tx-wh") && decisions[0].actor.contains("192.0.2.7"));
    let key_hex = {
        use base64::Engine;
        hex::encode(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&key)
                .unwrap(),
        )
    };
    for entry in h.ra.audit_entries(&h.admin, 0, 10_000).unwrap() {
        let text = format!(
            "{} {} {} {}",
            entry.actor, entry.action, entry.object, entry.detail
        );
        for secret in [
            key.as_str(),
            key_hex.as_str(),
            "mdm-challenge-4242",
            h.challenges["auto"].as_str(),
        ] {
            assert!(!text.contains(secret), "a secret in the audit log: {text}");
        }
    }

    // Removed: the static challenge applies again.
    let endpoint = h.ra.endpoint_of_kind("scep", "auto").unwrap();
    h.ra.set_scep_webhook(&h.admin, endpoint.id, None).unwrap();
    let third = Device::new("laptop-9");
    let m = third.message(
        MessageType::PkcsReq,
        "tx-static",
        &third.csr("laptop-9", Some(&h.challenges["auto"])),
        &ra,
        ContentCipher::Aes128,
        Digest::Sha256,
    );
    let body = h.post_from("auto", m).await;
    assert_eq!(read_answer(&body, &third, &ra, "tx-static").status, "0");
    assert_eq!(receiver.calls(), 2);
}

/// On the multi-threaded runtime `ca-admin serve` runs (the other tests use the
/// current-thread one): the blocking-pool thread waits on the webhook call either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_is_down_or_silent_refuses_and_nothing_is_issued() {
    let mut h = Harness::start();
    let ra = h.ra_certificate("auto").await;
    async fn enroll(h: &Harness, ra: &Certificate, txid: &str) -> Answer {
        let device = Device::new(txid);
        let m = device.message(
            MessageType::PkcsReq,
            txid,
            &device.csr(txid, Some(&h.challenges["auto"])),
            ra,
            ContentCipher::Aes128,
            Digest::Sha256,
        );
        let body = h.post_from("auto", m).await;
        read_answer(&body, &device, ra, txid)
    }

    // A closed port: connection refused.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    h.set_webhook("auto", &format!("http://{closed}/validate"));
    let answer = enroll(&h, &ra, "tx-down").await;
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );

    // A receiver that accepts the connection and never answers: the timeout refuses.
    h.server =
        ScepServer::with_webhook_timeout(h.ra.clone(), std::time::Duration::from_millis(300));
    let silent = Receiver::start(200, true).await;
    h.set_webhook("auto", &silent.url);
    let started = std::time::Instant::now();
    let answer = enroll(&h, &ra, "tx-silent").await;
    assert_eq!(
        (answer.status.as_str(), answer.fail_info.as_deref()),
        ("2", Some("2"))
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    assert_eq!(h.request_count(), 0, "nothing is recorded or issued");
    let decisions = h.webhook_audit();
    assert_eq!(decisions.len(), 2);
    assert!(decisions
        .iter()
        .all(|e| e.outcome == policy::audit::Outcome::Failed));
    assert!(
        decisions[1].detail.contains("no answer"),
        "{}",
        decisions[1].detail
    );
}
