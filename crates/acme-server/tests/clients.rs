//! Whole ACME flows driven by a real client (instant-acme 0.8.5) against the
//! server on a real HTTPS listener, with real challenge validation.

mod common;

use std::time::Duration;

use ca_core::certificates::CertificateStatus;
use ca_core::serial::Serial;
use common::*;
use instant_acme::{
    AuthorizationStatus, CertificateIdentifier, ChallengeType, ExternalAccountKey, Identifier,
    NewOrder, OrderStatus, RetryPolicy, RevocationReason, RevocationRequest,
};
use policy::model::EndpointKind;
use policy::registry::RequestFilter;
use policy::request::StateName;
use rustls::pki_types::{CertificateDer, Der};
use serde_json::json;

fn stored(h: &Harness, der: &[u8]) -> ca_core::certificates::CertificateRecord {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    h.ra.ca()
        .certificates()
        .by_serial(&Serial::from_bytes(cert.raw_serial()))
        .unwrap()
        .expect("the certificate is in the store")
}

fn san_names(der: &[u8]) -> Vec<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let mut names: Vec<String> = cert
        .subject_alternative_name()
        .unwrap()
        .unwrap()
        .value
        .general_names
        .iter()
        .map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
            x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).unwrap()).to_string(),
                _ => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).unwrap()).to_string(),
            },
            other => format!("{other:?}"),
        })
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_order_issues_a_chain_and_valid_authorizations_are_reused() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let names = [host("www").as_str(), host("api").as_str()].map(str::to_string);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_, pem) = h.issue(&account, &names, ChallengeType::Http01).await;

    // Leaf and issuing CA, not the root.
    let chain = pem_certificates(&pem);
    assert_eq!(chain.len(), 2, "{pem}");
    assert_ne!(chain[1], h.root_der);
    assert_eq!(
        san_names(&chain[0]),
        vec![
            "api.example.test".to_string(),
            "www.example.test".to_string()
        ]
    );
    // Issued through the RA on the ACME channel, owned by the endpoint's organization.
    let record = stored(&h, &chain[0]);
    let owner = h.ra.certificate_owner(record.id).unwrap();
    assert_eq!(owner.org, h.org);
    let request = h.ra.request_internal(owner.request.unwrap()).unwrap();
    assert_eq!(request.channel, policy::request::Channel::Acme);
    assert!(request.requester.starts_with("auto:https://127.0.0.1:"));

    // A second order for the same names finds its authorizations valid already.
    let identifiers = identifiers(&names);
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    assert_eq!(order.state().status, OrderStatus::Ready);
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        assert_eq!(authz.unwrap().status, AuthorizationStatus::Valid);
    }
    let (csr, _) = csr(&names);
    order.finalize_csr(&csr).await.unwrap();
    let pem = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .unwrap();
    assert_eq!(pem_certificates(&pem).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reuse_when_the_lifetime_is_zero() {
    let h = Harness::start_with(|c| c.authorization_reuse_days = 0).await;
    let (account, _) = h.account(AUTO).await;
    let name = host("reuse");
    h.issue(&account, &[&name], ChallengeType::Http01).await;
    let identifiers = identifiers(&[&name]);
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    assert_eq!(order.state().status, OrderStatus::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns01_issues_a_wildcard_and_wildcards_get_dns01_only() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let wildcard = format!("*.{DOMAIN}");
    let identifiers = identifiers(&[&wildcard]);
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    {
        let mut authorizations = order.authorizations();
        let authz = authorizations.next().await.unwrap().unwrap();
        assert!(authz.wildcard);
        assert_eq!(
            authz.identifier().identifier,
            &Identifier::Dns(DOMAIN.into())
        );
        let kinds: Vec<_> = authz.challenges.iter().map(|c| c.r#type.clone()).collect();
        assert_eq!(kinds, vec![ChallengeType::Dns01]);
    }
    h.validate(&mut order, ChallengeType::Dns01).await;
    let (csr, _) = csr(&[&wildcard]);
    order.finalize_csr(&csr).await.unwrap();
    let pem = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .unwrap();
    assert_eq!(san_names(&pem_certificates(&pem)[0]), vec![wildcard]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn01_for_a_name_and_an_ip_address() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let name = host("tls");
    let identifiers = identifiers(&[&name, "127.0.0.1"]);
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    {
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let authz = authz.unwrap();
            let kinds: Vec<_> = authz.challenges.iter().map(|c| c.r#type.clone()).collect();
            if matches!(authz.identifier().identifier, Identifier::Ip(_)) {
                // RFC 8738: no dns-01 for an IP address.
                assert_eq!(kinds, vec![ChallengeType::Http01, ChallengeType::TlsAlpn01]);
            } else {
                assert_eq!(kinds.len(), 3);
            }
        }
    }
    h.validate(&mut order, ChallengeType::TlsAlpn01).await;
    let (csr, _) = csr(&[&name, "127.0.0.1"]);
    order.finalize_csr(&csr).await.unwrap();
    let pem = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .unwrap();
    assert_eq!(
        san_names(&pem_certificates(&pem)[0]),
        vec!["127.0.0.1".to_string(), name]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_challenge_makes_the_order_invalid() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let name = host("bad");
    let identifiers = identifiers(&[&name]);
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .unwrap();
    {
        let mut authorizations = order.authorizations();
        let mut authz = authorizations.next().await.unwrap().unwrap();
        // Nothing provisioned: the responder answers 404.
        let mut challenge = authz.challenge(ChallengeType::Http01).unwrap();
        challenge.set_ready().await.unwrap();
    }
    let error = order
        .poll_ready(&RetryPolicy::new().timeout(Duration::from_secs(20)))
        .await
        .failed();
    let kind = problem_type(&error);
    assert!(
        kind == "incorrectResponse" || kind == "unauthorized" || kind == "connection",
        "{error}"
    );
    assert!(error.to_string().contains(&name), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eab_is_required_verified_and_binds_one_account() {
    let h = Harness::start().await;
    let error = h.account_with(EAB, None).await.failed();
    assert_eq!(problem_type(&error), "externalAccountRequired");

    let (kid, hmac) = &h.eab_keys[0];
    let wrong = ExternalAccountKey::new(kid.clone(), b"not the key");
    assert_eq!(
        problem_type(&h.account_with(EAB, Some(&wrong)).await.failed()),
        "unauthorized"
    );
    let unknown = ExternalAccountKey::new("kid-unknown".into(), hmac);
    assert_eq!(
        problem_type(&h.account_with(EAB, Some(&unknown)).await.failed()),
        "unauthorized"
    );

    let right = ExternalAccountKey::new(kid.clone(), hmac);
    let (account, _) = h.account_with(EAB, Some(&right)).await.unwrap();
    // The binding is durable, in the endpoint's record.
    let endpoint = h.ra.endpoint_by_name(EAB).unwrap();
    let EndpointKind::Acme { eab_keys, .. } = endpoint.kind else {
        panic!("ACME endpoint expected")
    };
    let bound = eab_keys.iter().find(|k| &k.key_id == kid).unwrap();
    assert_eq!(bound.bound_account.as_deref(), Some(account.id()));

    // The key id binds one account: a second account with it is refused.
    let again = ExternalAccountKey::new(kid.clone(), hmac);
    assert_eq!(
        problem_type(&h.account_with(EAB, Some(&again)).await.failed()),
        "unauthorized"
    );
    // The account works, and inherits the endpoint's organization.
    let name = host("eab");
    let (_, pem) = h.issue(&account, &[&name], ChallengeType::Http01).await;
    let record = stored(&h, &pem_certificates(&pem)[0]);
    assert_eq!(h.ra.certificate_owner(record.id).unwrap().org, h.org);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_keeps_the_order_processing_until_approved_or_declined() {
    let h = Harness::start().await;
    let (account, credentials) = h.account(QUEUE).await;
    let name = host("queue");

    // Approved while the client polls.
    let mut order = h
        .authorized_order(&account, &[&name], ChallengeType::Http01, None)
        .await;
    let (csr, _) = csr(&[&name]);
    order.finalize_csr(&csr).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Processing);
    // The processing order says when to come back.
    let key = RawKey::of(&credentials);
    let nonce = h.nonce(QUEUE).await;
    let answer = h
        .post_jws(
            order.url(),
            key.sign_kid(account.id(), &nonce, order.url(), None),
        )
        .await;
    assert_eq!(answer.json()["status"], "processing");
    assert_eq!(answer.header("retry-after").as_deref(), Some("1"));

    let requests =
        h.ra.requests(
            &h.admin,
            &RequestFilter {
                status: Some(StateName::Requested),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(requests.len(), 1);
    let (ra, admin, id) = (h.ra.clone(), h.admin.clone(), requests[0].id);
    let approver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tokio::task::spawn_blocking(move || ra.approve(&admin, id, "looks right"))
            .await
            .unwrap()
            .unwrap()
    });
    let pem = order
        .poll_certificate(&RetryPolicy::new().timeout(Duration::from_secs(30)))
        .await
        .unwrap();
    approver.await.unwrap();
    assert_eq!(pem_certificates(&pem).len(), 2);

    // Declined: the order turns invalid and says why.
    let mut order = h
        .authorized_order(&account, &[&name], ChallengeType::Http01, None)
        .await;
    order.finalize_csr(&csr).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Processing);
    let requests =
        h.ra.requests(
            &h.admin,
            &RequestFilter {
                status: Some(StateName::Requested),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    h.ra.decline(&h.admin, requests[0].id, "not for this host")
        .unwrap();
    let error = order
        .poll_certificate(&RetryPolicy::new().timeout(Duration::from_secs(30)))
        .await
        .failed();
    let text = error.to_string();
    assert!(
        text.contains("declined") && text.contains("not for this host"),
        "{text}"
    );
    let (_, state) = order.into_parts();
    assert_eq!(state.status, OrderStatus::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rollover_then_deactivation() {
    let h = Harness::start().await;
    let (mut account, old_credentials) = h.account(AUTO).await;
    let old_key = RawKey::of(&old_credentials);
    let new_credentials = account.update_key().await.unwrap();
    let new_key = RawKey::of(&new_credentials);
    assert_ne!(old_key.jwk(), new_key.jwk());

    // The account works with the new key ...
    let name = host("key");
    h.issue(&account, &[&name], ChallengeType::Http01).await;
    // ... and no longer with the old one.
    let url = account.id().to_string();
    let nonce = h.nonce(AUTO).await;
    h.post_jws(&url, old_key.sign_kid(account.id(), &nonce, &url, None))
        .await
        .problem(400, "malformed");
    // Looking the account up by the new key finds it; by the old key, nothing.
    let nonce = h.nonce(AUTO).await;
    let new_account = h.url(AUTO, "new-account");
    let lookup = json!({"onlyReturnExisting": true});
    let found = h
        .post_jws(
            &new_account,
            new_key.sign_jwk(&nonce, &new_account, Some(&lookup)),
        )
        .await;
    assert_eq!(found.status.as_u16(), 200);
    assert_eq!(found.header("location").as_deref(), Some(account.id()));
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &new_account,
        old_key.sign_jwk(&nonce, &new_account, Some(&lookup)),
    )
    .await
    .problem(400, "accountDoesNotExist");

    account
        .update_contacts(&["mailto:ops@example.test"])
        .await
        .unwrap();
    let kept = account.clone();
    account.deactivate().await.unwrap();
    let identifiers = identifiers(&[&name]);
    let error = kept.new_order(&NewOrder::new(&identifiers)).await.failed();
    assert_eq!(problem_type(&error), "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_by_the_account_and_by_the_certificate_key() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let name = host("rev");

    let (_, pem) = h.issue(&account, &[&name], ChallengeType::Http01).await;
    let leaf = CertificateDer::from(pem_certificates(&pem)[0].clone());
    account
        .revoke(&RevocationRequest {
            certificate: &leaf,
            reason: Some(RevocationReason::KeyCompromise),
        })
        .await
        .unwrap();
    assert!(matches!(
        stored(&h, &leaf).status,
        CertificateStatus::Revoked { .. }
    ));
    let again = account
        .revoke(&RevocationRequest {
            certificate: &leaf,
            reason: None,
        })
        .await
        .failed();
    assert_eq!(problem_type(&again), "alreadyRevoked");

    // Signed by the certificate's own key (jwk), not by any account.
    let mut order = h
        .authorized_order(&account, &[&name], ChallengeType::Http01, None)
        .await;
    let (csr, cert_key) = csr(&[&name]);
    order.finalize_csr(&csr).await.unwrap();
    let pem = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .unwrap();
    let der = pem_certificates(&pem)[0].clone();
    let url = h.url(AUTO, "revoke-cert");
    let payload = json!({"certificate": base64url(&der), "reason": 7});
    let signer = RawKey::from_pkcs8(&cert_key.serialize_der());
    let nonce = h.nonce(AUTO).await;
    h.post_jws(&url, signer.sign_jwk(&nonce, &url, Some(&payload)))
        .await
        .problem(400, "badRevocationReason");
    // Another key cannot.
    let payload = json!({"certificate": base64url(&der), "reason": 1});
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &url,
        RawKey::generate().sign_jwk(&nonce, &url, Some(&payload)),
    )
    .await
    .problem(403, "unauthorized");
    let nonce = h.nonce(AUTO).await;
    let answer = h
        .post_jws(&url, signer.sign_jwk(&nonce, &url, Some(&payload)))
        .await;
    assert_eq!(
        answer.status.as_u16(),
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert!(matches!(
        stored(&h, &der).status,
        CertificateStatus::Revoked { .. }
    ));
    // Another account cannot revoke this account's certificate.
    let (other, _) = h.account(AUTO).await;
    let (_, pem) = h.issue(&account, &[&name], ChallengeType::Http01).await;
    let leaf = CertificateDer::from(pem_certificates(&pem)[0].clone());
    let refused = other
        .revoke(&RevocationRequest {
            certificate: &leaf,
            reason: None,
        })
        .await
        .failed();
    assert_eq!(problem_type(&refused), "unauthorized");
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewal_info_and_replaces() {
    let h = Harness::start().await;
    let (account, _) = h.account(AUTO).await;
    let name = host("ari");
    let (_, pem) = h.issue(&account, &[&name], ChallengeType::Http01).await;
    let old = pem_certificates(&pem)[0].clone();
    let (aki, serial) = cert_id_parts(&old);
    let cert_id = format!("{}.{}", base64url(&aki), base64url(&serial));

    // The window: two thirds to three quarters of the validity.
    let answer = h
        .send(
            "GET",
            &h.url(AUTO, &format!("renewal-info/{cert_id}")),
            None,
            "",
        )
        .await;
    assert_eq!(answer.status.as_u16(), 200);
    assert!(answer.header("retry-after").is_some());
    let window = answer.json()["suggestedWindow"].clone();
    let record = stored(&h, &old);
    let parse = |v: &serde_json::Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp()
    };
    let lifetime = record.not_after - record.not_before;
    assert_eq!(
        parse(&window["start"]),
        record.not_before + lifetime * 2 / 3
    );
    assert_eq!(parse(&window["end"]), record.not_before + lifetime * 3 / 4);
    // An unknown certID is a 404 problem.
    h.send("GET", &h.url(AUTO, "renewal-info/AAAA.AAAA"), None, "")
        .await
        .problem(404, "malformed");

    // A renewal that replaces it marks it Replaced once issued.
    let replaces = CertificateIdentifier::new(Der::from_slice(&aki), Der::from_slice(&serial));
    let mut order = h
        .authorized_order(
            &account,
            &[&name],
            ChallengeType::Http01,
            Some(replaces.clone().into_owned()),
        )
        .await;
    assert_eq!(order.state().replaces.as_ref(), Some(&replaces));
    let (csr, _) = csr(&[&name]);
    order.finalize_csr(&csr).await.unwrap();
    let new = order
        .poll_certificate(&RetryPolicy::default())
        .await
        .unwrap();
    let new = stored(&h, &pem_certificates(&new)[0]);
    assert_eq!(
        stored(&h, &old).status,
        CertificateStatus::Replaced { by: new.id }
    );
    // It cannot be replaced twice.
    let identifiers = identifiers(&[&name]);
    let error = account
        .new_order(&NewOrder::new(&identifiers).replaces(replaces.into_owned()))
        .await
        .failed();
    assert_eq!(problem_type(&error), "alreadyReplaced");

    // A revoked certificate should be renewed at once.
    let (_, pem) = h.issue(&account, &[&name], ChallengeType::Http01).await;
    let third = pem_certificates(&pem)[0].clone();
    let third_der = CertificateDer::from(third.clone());
    account
        .revoke(&RevocationRequest {
            certificate: &third_der,
            reason: None,
        })
        .await
        .unwrap();
    let (aki, serial) = cert_id_parts(&third);
    let answer = h
        .send(
            "GET",
            &h.url(
                AUTO,
                &format!("renewal-info/{}.{}", base64url(&aki), base64url(&serial)),
            ),
            None,
            "",
        )
        .await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(parse(&answer.json()["suggestedWindow"]["end"]) <= now);
}
