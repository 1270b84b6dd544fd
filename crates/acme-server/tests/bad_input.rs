//! What a broken, hostile or unlucky client meets: every refusal is a problem
//! document of the right type and status, with a fresh nonce, and the server
//! keeps answering. Requests are made by hand here (instant-acme cannot send
//! a bad JWS), signed with aws-lc-rs.

mod common;

use common::*;
use instant_acme::{AuthorizationStatus, ChallengeType, NewOrder, OrderStatus};
use policy::model::ApprovalMode;
use policy::registry::{NewEndpoint, RequestFilter};
use policy::request::{Channel, StateName};
use serde_json::{json, Value};

/// A new account made with raw requests: its key and URL.
async fn raw_account(h: &Harness, endpoint: &str) -> (RawKey, String) {
    let key = RawKey::generate();
    let url = h.url(endpoint, "new-account");
    let nonce = h.nonce(endpoint).await;
    let answer = h
        .post_jws(
            &url,
            key.sign_jwk(&nonce, &url, Some(&json!({"termsOfServiceAgreed": true}))),
        )
        .await;
    assert_eq!(answer.status.as_u16(), 201, "{}", answer.json());
    let kid = answer.header("location").expect("Location");
    (key, kid)
}

/// POSTs `payload` (None: POST-as-GET) signed by an account.
async fn post(h: &Harness, key: &RawKey, kid: &str, url: &str, payload: Option<&Value>) -> Answer {
    let nonce = h.nonce(AUTO).await;
    h.post_jws(url, key.sign_kid(kid, &nonce, url, payload))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_nonces_and_routing() {
    let h = Harness::start().await;
    let answer = h.send("GET", &h.directory(AUTO), None, "").await;
    assert_eq!(answer.status.as_u16(), 200);
    let directory = answer.json();
    for field in [
        "newNonce",
        "newAccount",
        "newOrder",
        "revokeCert",
        "keyChange",
        "renewalInfo",
    ] {
        assert!(
            directory[field]
                .as_str()
                .unwrap()
                .starts_with(&h.url(AUTO, "")),
            "{field}: {directory}"
        );
    }
    assert_eq!(directory["meta"]["externalAccountRequired"], false);
    assert!(answer
        .links()
        .contains(&format!("<{}>;rel=\"index\"", h.directory(AUTO))));
    let eab = h.send("GET", &h.directory(EAB), None, "").await.json();
    assert_eq!(eab["meta"]["externalAccountRequired"], true);

    let head = h.send("HEAD", &h.url(AUTO, "new-nonce"), None, "").await;
    assert_eq!(head.status.as_u16(), 200);
    assert_eq!(head.header("cache-control").as_deref(), Some("no-store"));
    let get = h.send("GET", &h.url(AUTO, "new-nonce"), None, "").await;
    assert_eq!(get.status.as_u16(), 204);
    assert_ne!(head.nonce(), get.nonce());
    assert_eq!(get.nonce().len(), 22);

    h.send("GET", &h.directory("nope"), None, "")
        .await
        .problem(404, "malformed");
    h.send("GET", &h.url(AUTO, "nothing/here"), None, "")
        .await
        .problem(404, "malformed");
    h.send("GET", &format!("{}/acme", h.base_url), None, "")
        .await
        .problem(404, "malformed");
    h.send("GET", &format!("{}/acme/", h.base_url), None, "")
        .await
        .problem(404, "malformed");
    let wrong_method = h.send("GET", &h.url(AUTO, "new-account"), None, "").await;
    wrong_method.problem(405, "malformed");
    assert_eq!(wrong_method.header("allow").as_deref(), Some("POST"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jws_gets_the_right_problem_and_the_server_keeps_answering() {
    let h = Harness::start().await;
    let (key, kid) = raw_account(&h, AUTO).await;
    let new_order = h.url(AUTO, "new-order");
    let order_payload = json!({"identifiers": [{"type": "dns", "value": host("one")}]});

    // Signed by another key than the account's.
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &new_order,
        RawKey::generate().sign_kid(&kid, &nonce, &new_order, Some(&order_payload)),
    )
    .await
    .problem(400, "malformed");

    // A payload changed after signing.
    let nonce = h.nonce(AUTO).await;
    let mut tampered: Value =
        serde_json::from_slice(&key.sign_kid(&kid, &nonce, &new_order, Some(&order_payload)))
            .unwrap();
    tampered["payload"] = json!("e30");
    h.post_jws(&new_order, serde_json::to_vec(&tampered).unwrap())
        .await
        .problem(400, "malformed");

    // A nonce used twice: badNonce, with a fresh nonce to retry with.
    let nonce = h.nonce(AUTO).await;
    let first = h
        .post_jws(
            &new_order,
            key.sign_kid(&kid, &nonce, &new_order, Some(&order_payload)),
        )
        .await;
    assert_eq!(first.status.as_u16(), 201);
    let replay = h
        .post_jws(
            &new_order,
            key.sign_kid(&kid, &nonce, &new_order, Some(&order_payload)),
        )
        .await;
    replay.problem(400, "badNonce");
    let fresh = replay.nonce();
    assert_ne!(fresh, nonce);
    let retried = h
        .post_jws(
            &new_order,
            key.sign_kid(&kid, &fresh, &new_order, Some(&order_payload)),
        )
        .await;
    assert_eq!(retried.status.as_u16(), 201);
    // A nonce this server never made, and none at all.
    h.post_jws(
        &new_order,
        key.sign_kid(
            &kid,
            "AAAAAAAAAAAAAAAAAAAAAA",
            &new_order,
            Some(&order_payload),
        ),
    )
    .await
    .problem(400, "badNonce");
    h.post_jws(
        &new_order,
        key.sign_with_header(
            json!({"alg": "ES256", "kid": kid, "url": new_order}),
            Some(&order_payload),
        ),
    )
    .await
    .problem(400, "badNonce");

    // Signed for another URL.
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &new_order,
        key.sign_kid(
            &kid,
            &nonce,
            &h.url(AUTO, "revoke-cert"),
            Some(&order_payload),
        ),
    )
    .await
    .problem(403, "unauthorized");

    // An account that does not exist, here or at all.
    for unknown in [
        h.url(AUTO, "account/999999"),
        h.url(QUEUE, "account/1"),
        "https://elsewhere.example/acct/1".to_string(),
    ] {
        let nonce = h.nonce(AUTO).await;
        h.post_jws(
            &new_order,
            key.sign_kid(&unknown, &nonce, &new_order, Some(&order_payload)),
        )
        .await
        .problem(400, "accountDoesNotExist");
    }

    // The wrong key form for the resource.
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &new_order,
        key.sign_jwk(&nonce, &new_order, Some(&order_payload)),
    )
    .await
    .problem(400, "malformed");
    let new_account = h.url(AUTO, "new-account");
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &new_account,
        key.sign_kid(&kid, &nonce, &new_account, Some(&json!({}))),
    )
    .await
    .problem(400, "malformed");

    // An algorithm that is not accepted.
    let nonce = h.nonce(AUTO).await;
    let doc = h
        .post_jws(
            &new_order,
            key.sign_with_header(
                json!({"alg": "RS512", "kid": kid, "nonce": nonce, "url": new_order}),
                Some(&order_payload),
            ),
        )
        .await
        .problem(400, "badSignatureAlgorithm");
    assert!(doc["algorithms"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
    // A key that is not on its curve.
    let nonce = h.nonce(AUTO).await;
    let bad_jwk = json!({"kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"});
    h.post_jws(
        &new_account,
        key.sign_with_header(
            json!({"alg": "ES256", "jwk": bad_jwk, "nonce": nonce, "url": new_account}),
            Some(&json!({})),
        ),
    )
    .await
    .problem(400, "badPublicKey");

    // Not JOSE, too large, junk, empty, a JWS of the wrong shape.
    let nonce = h.nonce(AUTO).await;
    h.send(
        "POST",
        &new_order,
        Some("application/json"),
        key.sign_kid(&kid, &nonce, &new_order, Some(&order_payload)),
    )
    .await
    .problem(415, "malformed");
    h.send(
        "POST",
        &new_order,
        Some("application/jose+json"),
        vec![b'{'; 70 * 1024],
    )
    .await
    .problem(413, "malformed");
    h.post_jws(&new_order, b"\x00\xff\xfe junk \x13\x37".to_vec())
        .await
        .problem(400, "malformed");
    h.post_jws(&new_order, Vec::new())
        .await
        .problem(400, "malformed");
    h.post_jws(
        &new_order,
        br#"{"protected": 1, "payload": [], "signature": {}}"#.to_vec(),
    )
    .await
    .problem(400, "malformed");
    h.post_jws(
        &new_order,
        br#"{"protected": "e30", "payload": "", "signature": "", "header": {"alg": "none"}}"#
            .to_vec(),
    )
    .await
    .problem(400, "malformed");
    // A payload that is not the resource's.
    let answer = post(
        &h,
        &key,
        &kid,
        &new_order,
        Some(&json!({"identifiers": "x"})),
    )
    .await;
    answer.problem(400, "malformed");
    let answer = post(&h, &key, &kid, &new_order, None).await;
    answer.problem(400, "malformed");

    // Still answering.
    let answer = h.send("GET", &h.directory(AUTO), None, "").await;
    assert_eq!(answer.status.as_u16(), 200);
    let answer = post(&h, &key, &kid, &kid, None).await;
    assert_eq!(answer.status.as_u16(), 200);
    assert_eq!(answer.json()["status"], "valid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_account_problems() {
    let h =
        Harness::start_with(|c| c.terms_of_service = Some("https://ca.example/tos".into())).await;
    let url = h.url(AUTO, "new-account");
    let key = RawKey::generate();
    let send = |payload: Value| {
        let key = &key;
        let url = &url;
        let h = &h;
        async move {
            let nonce = h.nonce(AUTO).await;
            h.post_jws(url, key.sign_jwk(&nonce, url, Some(&payload)))
                .await
        }
    };
    send(json!({"onlyReturnExisting": true}))
        .await
        .problem(400, "accountDoesNotExist");
    let answer = send(json!({})).await;
    answer.problem(403, "userActionRequired");
    assert!(answer
        .links()
        .contains(&"<https://ca.example/tos>;rel=\"terms-of-service\"".to_string()));
    send(json!({"termsOfServiceAgreed": true, "contact": ["tel:+1555"]}))
        .await
        .problem(400, "unsupportedContact");
    send(json!({"termsOfServiceAgreed": true, "contact": ["mailto:not-an-address"]}))
        .await
        .problem(400, "invalidContact");
    let created =
        send(json!({"termsOfServiceAgreed": true, "contact": ["mailto:a@example.test"]})).await;
    assert_eq!(created.status.as_u16(), 201);
    let again = send(json!({"termsOfServiceAgreed": true})).await;
    assert_eq!(again.status.as_u16(), 200);
    assert_eq!(again.header("location"), created.header("location"));
    assert_eq!(again.json()["contact"], json!(["mailto:a@example.test"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_and_finalize_problems() {
    let h = Harness::start().await;
    let (account, credentials) = h.account(AUTO).await;

    // Outside the organization: rejectedIdentifier, with a subproblem naming it.
    let names = [
        host("one"),
        "www.other.test".to_string(),
        "10.0.0.1".to_string(),
    ];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = identifiers(&names);
    let error = account.new_order(&NewOrder::new(&ids)).await.failed();
    assert_eq!(problem_type(&error), "rejectedIdentifier");
    let instant_acme::Error::Api(problem) = &error else {
        unreachable!()
    };
    let refused: Vec<String> = problem
        .subproblems
        .iter()
        .map(|s| {
            assert_eq!(
                s.r#type.as_deref(),
                Some("urn:ietf:params:acme:error:rejectedIdentifier")
            );
            s.identifier.as_ref().unwrap().authorized(false).to_string()
        })
        .collect();
    assert_eq!(
        refused,
        vec!["www.other.test".to_string(), "10.0.0.1".to_string()]
    );

    // Raw: an unsupported identifier type, and not-before.
    let key = RawKey::of(&credentials);
    let kid = account.id().to_string();
    let new_order = h.url(AUTO, "new-order");
    let doc = post(
        &h,
        &key,
        &kid,
        &new_order,
        Some(&json!({"identifiers": [{"type": "email", "value": "a@example.test"}]})),
    )
    .await
    .problem(400, "unsupportedIdentifier");
    assert_eq!(doc["subproblems"][0]["identifier"]["type"], "email");
    post(
        &h,
        &key,
        &kid,
        &new_order,
        Some(&json!({"identifiers": [{"type": "dns", "value": host("one")}], "notBefore": "2030-01-01T00:00:00Z"})),
    )
    .await
    .problem(400, "malformed");
    post(
        &h,
        &key,
        &kid,
        &new_order,
        Some(&json!({"identifiers": []})),
    )
    .await
    .problem(400, "malformed");

    // Finalize before the authorizations are valid: orderNotReady.
    let one = host("one");
    let ids = identifiers(&[&one]);
    let mut pending = account.new_order(&NewOrder::new(&ids)).await.unwrap();
    let (csr_one, _) = csr(&[&one]);
    let error = pending.finalize_csr(&csr_one).await.failed();
    assert_eq!(problem_type(&error), "orderNotReady");

    // A CSR whose names differ from the order's: badCSR, with a subproblem per difference;
    // the order stays ready for a good CSR.
    let two = host("two");
    let mut order = h
        .authorized_order(&account, &[&one], ChallengeType::Http01, None)
        .await;
    let (other_csr, _) = csr(&[&one, &two]);
    let error = order.finalize_csr(&other_csr).await.failed();
    assert_eq!(problem_type(&error), "badCSR");
    let instant_acme::Error::Api(problem) = &error else {
        unreachable!()
    };
    assert_eq!(problem.subproblems.len(), 1);
    assert_eq!(
        problem.subproblems[0]
            .identifier
            .as_ref()
            .unwrap()
            .authorized(false)
            .to_string(),
        two
    );
    let error = order.finalize_csr(b"not a CSR").await.failed();
    assert_eq!(problem_type(&error), "badCSR");
    // The account key as the certificate key.
    let account_key =
        rcgen::KeyPair::try_from(credentials.private_key().secret_pkcs8_der()).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![one.clone()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let same_key_csr = params.serialize_request(&account_key).unwrap();
    let error = order.finalize_csr(same_key_csr.der()).await.failed();
    assert_eq!(problem_type(&error), "badCSR");
    order.refresh().await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Ready);
    order.finalize_csr(&csr_one).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Valid);
    // Finalizing twice: the order is no longer ready.
    let error = order.finalize_csr(&csr_one).await.failed();
    assert_eq!(problem_type(&error), "orderNotReady");

    // Another account cannot see the order, its authorizations or its certificate.
    let (stranger, stranger_credentials) = h.account(AUTO).await;
    let stranger_key = RawKey::of(&stranger_credentials);
    let certificate = order.state().certificate.clone().unwrap();
    for url in [order.url().to_string(), certificate] {
        post(&h, &stranger_key, stranger.id(), &url, None)
            .await
            .problem(404, "malformed");
    }

    // Deactivating an authorization makes its order invalid.
    {
        let mut authorizations = pending.authorizations();
        let mut authz = authorizations.next().await.unwrap().unwrap();
        authz.deactivate().await.unwrap();
        assert_eq!(authz.status, AuthorizationStatus::Deactivated);
    }
    pending.refresh().await.unwrap();
    assert_eq!(pending.state().status, OrderStatus::Invalid);
}

/// A CSR the endpoint's profile refuses (an RSA key where the profile takes EC keys only)
/// is the RA's refusal, answered as badCSR with the profile's reason; the order stays ready,
/// and a CSR the profile takes then issues on it. The RA records the refused request as
/// Invalid, as it does for every channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csr_the_profile_refuses_is_bad_csr_and_the_order_stays_ready() {
    let h = Harness::start().await;
    let endpoint = "ec-only";
    h.ra.create_endpoint(
        &h.admin,
        NewEndpoint {
            name: endpoint.into(),
            kind: "acme".into(),
            org: h.org,
            dept: None,
            profile: EC_ONLY_PROFILE.into(),
            default_term_days: None,
            approval: ApprovalMode::Auto,
            eab_required: false,
            est_username: None,
            intune: None,
        },
    )
    .expect("an EC-only endpoint");
    let (account, _) = h.account(endpoint).await;
    let name = host("key");
    let mut order = h
        .authorized_order(&account, &[&name], ChallengeType::Http01, None)
        .await;

    let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.clone()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let rsa_csr = params.serialize_request(&rsa).unwrap();
    let error = order.finalize_csr(rsa_csr.der()).await.failed();
    assert_eq!(problem_type(&error), "badCSR");
    let instant_acme::Error::Api(problem) = &error else {
        unreachable!()
    };
    let detail = problem.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains("rsa-2048") && detail.contains(EC_ONLY_PROFILE),
        "{detail}"
    );
    order.refresh().await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Ready);

    let invalid =
        h.ra.requests(
            &h.admin,
            &RequestFilter {
                status: Some(StateName::Invalid),
                ..Default::default()
            },
            0,
            10,
        )
        .unwrap();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0].channel, Channel::Acme);

    let (ec_csr, _) = csr(&[&name]);
    order.finalize_csr(&ec_csr).await.unwrap();
    assert_eq!(order.state().status, OrderStatus::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_rate_limited_with_retry_after() {
    let h = Harness::start_with(|c| {
        c.rate_limits.new_orders_per_account_per_hour = 2;
        c.rate_limits.new_accounts_per_endpoint_per_hour = 2;
    })
    .await;
    let (key, kid) = raw_account(&h, AUTO).await;
    let new_order = h.url(AUTO, "new-order");
    let payload = json!({"identifiers": [{"type": "dns", "value": host("one")}]});
    for _ in 0..2 {
        let answer = post(&h, &key, &kid, &new_order, Some(&payload)).await;
        assert_eq!(answer.status.as_u16(), 201);
    }
    let answer = post(&h, &key, &kid, &new_order, Some(&payload)).await;
    answer.problem(429, "rateLimited");
    let retry_after: u64 = answer.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 60, "{retry_after}");

    raw_account(&h, AUTO).await;
    let url = h.url(AUTO, "new-account");
    let nonce = h.nonce(AUTO).await;
    h.post_jws(
        &url,
        RawKey::generate().sign_jwk(&nonce, &url, Some(&json!({"termsOfServiceAgreed": true}))),
    )
    .await
    .problem(429, "rateLimited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_list_is_paginated() {
    let h = Harness::start().await;
    let (key, kid) = raw_account(&h, AUTO).await;
    let new_order = h.url(AUTO, "new-order");
    let payload = json!({"identifiers": [{"type": "dns", "value": host("list")}]});
    // One nonce leads to the next: each answer carries one.
    let mut nonce = h.nonce(AUTO).await;
    let mut created = Vec::new();
    for _ in 0..101 {
        let answer = h
            .post_jws(
                &new_order,
                key.sign_kid(&kid, &nonce, &new_order, Some(&payload)),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 201);
        nonce = answer.nonce();
        created.push(answer.header("location").unwrap());
    }
    let account = post(&h, &key, &kid, &kid, None).await.json();
    let orders_url = account["orders"].as_str().unwrap().to_string();
    let first = post(&h, &key, &kid, &orders_url, None).await;
    let page: Vec<String> = serde_json::from_value(first.json()["orders"].clone()).unwrap();
    assert_eq!(page.len(), 100);
    let next = first
        .links()
        .into_iter()
        .find(|l| l.ends_with("rel=\"next\""))
        .expect("a next link");
    let next_url = next
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    let second = post(&h, &key, &kid, &next_url, None).await;
    let rest: Vec<String> = serde_json::from_value(second.json()["orders"].clone()).unwrap();
    assert_eq!(rest.len(), 1);
    assert!(second.links().iter().all(|l| !l.contains("rel=\"next\"")));
    let listed: Vec<String> = page.into_iter().chain(rest).collect();
    assert_eq!(listed, created);
    // Another account's list is not for this one.
    let (other_key, other_kid) = raw_account(&h, AUTO).await;
    post(&h, &other_key, &other_kid, &orders_url, None)
        .await
        .problem(403, "unauthorized");
}
