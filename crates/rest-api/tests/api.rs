//! The REST API in-process: a real CA hierarchy and registration authority in a
//! temporary directory, requests as `http::Request<Full<Bytes>>` straight into
//! `RestApi::handle` (no network).

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::service::{CaService, CaServiceConfig};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use policy::model::{AdminId, Administrator};
use policy::registry::{CertificateFilter, RegistrationAuthority, RequestFilter};
use rest_api::routes::{BodyKind, ROUTES};
use rest_api::RestApi;
use serde_json::{json, Value};

const BASE: &str = "http://127.0.0.1:8080";

struct Harness {
    _dir: tempfile::TempDir,
    ra: Arc<RegistrationAuthority>,
    api: RestApi,
    mrao_password: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.text()
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status.as_u16(), self.code().as_str()),
            (status, code),
            "unexpected answer: {}",
            self.text()
        );
    }
}

fn ca_spec(id: &str, subject: CaSubject, days: u32, path_len: Option<u8>) -> NewCa {
    NewCa {
        id: id.to_string(),
        subject,
        key_algorithm: KeyAlgorithm::EcP256,
        hash: SignatureHash::Sha256,
        validity_days: days,
        path_len,
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    }
}

fn setup() -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let cas = CaDirectory::new(dir.path());
    cas.create_root(
        &ca_spec("test-root", CaSubject::root_for("API Test"), 3650, None),
        &KeyProtection::InsecurePlaintext,
    )
    .expect("root CA");
    cas.create_subordinate(
        &ca_spec(
            "test-issuing",
            CaSubject::issuing_for("API Test"),
            1825,
            Some(0),
        ),
        "test-root",
        &KeyProtection::InsecurePlaintext,
        Some(&PublicationUrls::new(BASE)),
    )
    .expect("issuing CA");
    let service = CaService::open(&CaServiceConfig::new(
        dir.path(),
        BASE,
        KeyProtection::InsecurePlaintext,
    ))
    .expect("CA service");
    let ra = Arc::new(RegistrationAuthority::open(Arc::new(service), dir.path()).expect("RA"));
    let password = ra
        .bootstrap_mrao("admin")
        .expect("bootstrap")
        .expect("first MRAO");
    let api = RestApi::new(ra.clone(), "https://127.0.0.1:8443".into());
    Harness {
        _dir: dir,
        ra,
        api,
        mrao_password: password.to_string(),
    }
}

impl Harness {
    async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let response = self
            .api
            .handle(builder.body(Full::new(body.into())).expect("request"))
            .await;
        let (parts, body) = response.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.expect("body").to_bytes(),
        }
    }

    async fn get(&self, path: &str, token: &str) -> Answer {
        self.raw("GET", path, Some(token), None, Bytes::new()).await
    }

    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.raw(
            method,
            path,
            token,
            Some("application/json"),
            serde_json::to_vec(&body).expect("json"),
        )
        .await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send("POST", path, Some(token), body).await
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let answer = self
            .send(
                "POST",
                "/api/v1/login",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        answer.expect(200)["token"]
            .as_str()
            .expect("token")
            .to_string()
    }

    async fn mrao(&self) -> String {
        self.login("admin", &self.mrao_password).await
    }

    fn mrao_admin(&self) -> Administrator {
        self.ra.admin(AdminId(1)).expect("the bootstrap MRAO")
    }

    /// How many of each kind of object the store holds, counted through the RA.
    fn counts(&self) -> Vec<usize> {
        let a = self.mrao_admin();
        let ra = &self.ra;
        vec![
            ra.organizations(&a).unwrap().len(),
            ra.departments(&a, None).unwrap().len(),
            ra.domains(&a).unwrap().len(),
            ra.admins(&a).unwrap().len(),
            ra.endpoints(&a).unwrap().len(),
            ra.requests(&a, &RequestFilter::default(), 0, usize::MAX)
                .unwrap()
                .len(),
            ra.certificates(&a, &CertificateFilter::default(), 0, usize::MAX)
                .unwrap()
                .len(),
        ]
    }
}

fn id_of(v: &Value) -> u64 {
    v["id"].as_u64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn csr(names: &[&str]) -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
        .expect("params")
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem")
}

fn external_certificate(name: &str) -> rcgen::Certificate {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    rcgen::CertificateParams::new(vec![name.to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate")
}

const STRONG_PASSWORD: &str = "correct horse battery staple";

/// An organization with a department and a domain delegated to both; returns (org, dept).
async fn org_with_department(h: &Harness, token: &str, name: &str, domain: &str) -> (u64, u64) {
    let org = id_of(
        &h.post(
            "/api/v1/organizations",
            token,
            json!({ "name": name, "address": { "country": "DE", "locality": "Berlin" } }),
        )
        .await
        .expect(201),
    );
    let dept = id_of(
        &h.post(
            "/api/v1/departments",
            token,
            json!({ "org": org, "name": "Web" }),
        )
        .await
        .expect(201),
    );
    // A department's domain must be under one of its organization's.
    for dept in [None, Some(dept)] {
        h.post(
            "/api/v1/domains",
            token,
            json!({ "name": domain, "org": org, "dept": dept }),
        )
        .await
        .expect(201);
    }
    (org, dept)
}

async fn create_admin(h: &Harness, token: &str, body: Value) -> u64 {
    let mut body = body;
    body["password"] = json!(STRONG_PASSWORD);
    id_of(&h.post("/api/v1/admins", token, body).await.expect(201))
}

#[tokio::test]
async fn login_tokens_api_keys_and_deactivation() {
    let h = setup();
    let token = h.mrao().await;
    let me = h
        .send(
            "POST",
            "/api/v1/login",
            None,
            json!({ "username": "admin", "password": h.mrao_password }),
        )
        .await
        .expect(200);
    assert_eq!(me["token_type"], "Bearer");
    assert_eq!(me["expires_in"], 3600);
    assert_eq!(me["admin"]["role"], "mrao");
    assert!(!me.to_string().contains("argon2"), "no password hash: {me}");
    h.get("/api/v1/organizations", &token).await.expect(200);

    // Bad passwords and unknown users look the same.
    for (user, password) in [("admin", "wrong password!"), ("nobody", "whatever12345")] {
        let answer = h
            .send(
                "POST",
                "/api/v1/login",
                None,
                json!({ "username": user, "password": password }),
            )
            .await;
        answer.expect_error(401, "unauthenticated");
        assert!(answer.headers.contains_key("www-authenticate"));
    }

    // No token, a token never issued, a wrong scheme.
    h.raw("GET", "/api/v1/organizations", None, None, Bytes::new())
        .await
        .expect_error(401, "unauthenticated");
    h.get("/api/v1/organizations", "cws_neverissued")
        .await
        .expect_error(401, "unauthenticated");
    let mut basic = Request::builder()
        .uri("/api/v1/organizations")
        .header("authorization", "Basic YWRtaW46YWRtaW4=");
    basic = basic.method("GET");
    let response = h
        .api
        .handle(basic.body(Full::new(Bytes::new())).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A DRAO with an API key; then deactivated: the session and the key stop working.
    let (_, dept) = org_with_department(&h, &token, "Acme", "acme.test").await;
    let drao = create_admin(
        &h,
        &token,
        json!({ "username": "drao", "role": "drao", "depts": [dept],
                "privileges": { "tls-server": ["request"] } }),
    )
    .await;
    let drao_token = h.login("drao", STRONG_PASSWORD).await;
    let key = h
        .post("/api/v1/api-keys", &drao_token, json!({ "label": "ci" }))
        .await
        .expect(201);
    let key = key["key"].as_str().expect("key").to_string();
    assert!(key.starts_with("cw_"));
    h.get("/api/v1/requests", &key).await.expect(200);
    // The same key id with another secret.
    let forged = format!("{}_{}", &key[..15], "A".repeat(43));
    assert_ne!(forged, key);
    h.get("/api/v1/requests", &forged)
        .await
        .expect_error(401, "unauthenticated");
    // A DRAO cannot make keys for others, nor deactivate anyone.
    h.post(
        "/api/v1/api-keys",
        &drao_token,
        json!({ "admin_id": 1, "label": "steal" }),
    )
    .await
    .expect_error(403, "forbidden");
    h.post("/api/v1/admins/1/deactivate", &drao_token, json!({}))
        .await
        .expect_error(403, "forbidden");

    // Keys are listed without their secrets, and a revoked key is refused at once.
    let second = h
        .post(
            "/api/v1/api-keys",
            &drao_token,
            json!({ "label": "old-ci" }),
        )
        .await
        .expect(201);
    let second_key = second["key"].as_str().expect("key").to_string();
    h.get("/api/v1/requests", &second_key).await.expect(200);
    let listed = h
        .get(&format!("/api/v1/admins/{drao}/api-keys"), &drao_token)
        .await
        .expect(200);
    let mut labels: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|k| k["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["ci", "old-ci"]);
    assert!(!listed.to_string().contains(&second_key[16..]), "{listed}");
    h.get("/api/v1/admins/1/api-keys", &drao_token)
        .await
        .expect_error(403, "forbidden");
    h.post(
        "/api/v1/api-keys/revoke",
        &drao_token,
        json!({ "id": "000000000000" }),
    )
    .await
    .expect_error(404, "not_found");
    let revoked = h
        .post(
            "/api/v1/api-keys/revoke",
            &drao_token,
            json!({ "id": second["id"] }),
        )
        .await
        .expect(200);
    assert_eq!(revoked["label"], "old-ci");
    h.get("/api/v1/requests", &second_key)
        .await
        .expect_error(401, "unauthenticated");
    h.get("/api/v1/requests", &key).await.expect(200);
    let listed = h
        .get(&format!("/api/v1/admins/{drao}/api-keys"), &token)
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    // A password change: one's own needs the current password and passes the policy;
    // it ends the tokens; an MRAO sets another's without it.
    let own = format!("/api/v1/admins/{drao}/password");
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    h.send(
        "PUT",
        &own,
        Some(&drao_token),
        change("not the password", "a brand new passphrase"),
    )
    .await
    .expect_error(400, "invalid_input");
    h.send(
        "PUT",
        &own,
        Some(&drao_token),
        change(STRONG_PASSWORD, "short"),
    )
    .await
    .expect_error(400, "invalid_input");
    h.send(
        "PUT",
        &own,
        Some(&drao_token),
        change(STRONG_PASSWORD, "the drao of the lab"),
    )
    .await
    .expect_error(400, "invalid_input");
    h.send(
        "PUT",
        &own,
        Some(&drao_token),
        json!({ "new_password": "a brand new passphrase" }),
    )
    .await
    .expect_error(400, "invalid_input");
    h.send(
        "PUT",
        &own,
        Some(&drao_token),
        change(STRONG_PASSWORD, "a brand new passphrase"),
    )
    .await
    .expect(200);
    h.get("/api/v1/requests", &drao_token)
        .await
        .expect_error(401, "unauthenticated");
    let renewed_token = h.login("drao", "a brand new passphrase").await;
    h.send(
        "PUT",
        "/api/v1/admins/1/password",
        Some(&renewed_token),
        json!({ "new_password": "taking over the mrao" }),
    )
    .await
    .expect_error(403, "forbidden");
    h.send(
        "PUT",
        &own,
        Some(&token),
        json!({ "new_password": STRONG_PASSWORD }),
    )
    .await
    .expect(200);
    h.get("/api/v1/requests", &renewed_token)
        .await
        .expect_error(401, "unauthenticated");
    let drao_token = h.login("drao", STRONG_PASSWORD).await;

    let deactivated = h
        .post(
            &format!("/api/v1/admins/{drao}/deactivate"),
            &token,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(deactivated["active"], false);
    h.get("/api/v1/requests", &drao_token)
        .await
        .expect_error(401, "unauthenticated");
    h.get("/api/v1/requests", &key)
        .await
        .expect_error(401, "unauthenticated");
    h.send(
        "POST",
        "/api/v1/login",
        None,
        json!({ "username": "drao", "password": STRONG_PASSWORD }),
    )
    .await
    .expect_error(401, "unauthenticated");
    h.raw(
        "POST",
        &format!("/api/v1/admins/{drao}/activate"),
        Some(&token),
        None,
        Bytes::new(),
    )
    .await
    .expect(200);
    h.get("/api/v1/requests", &key).await.expect(200);
    // An MRAO cannot deactivate itself (the last way in).
    h.post("/api/v1/admins/1/deactivate", &token, json!({}))
        .await
        .expect_error(400, "invalid_input");

    let admins = h.get("/api/v1/admins", &token).await;
    assert!(!admins.text().contains("argon2"));
    assert_eq!(admins.expect(200)["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn request_approval_download_revoke_and_csv() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "web.acme.test").await;
    let other = id_of(
        &h.post("/api/v1/organizations", &mrao, json!({ "name": "Other" }))
            .await
            .expect(201),
    );
    create_admin(
        &h,
        &mrao,
        json!({ "username": "drao-web", "role": "drao", "depts": [web],
                "privileges": { "tls-server": ["request"] } }),
    )
    .await;
    create_admin(
        &h,
        &mrao,
        json!({ "username": "rao-other", "role": "rao", "orgs": [other],
                "privileges": { "tls-server": ["request", "approve", "revoke", "manage"] } }),
    )
    .await;
    create_admin(
        &h,
        &mrao,
        json!({ "username": "rao-acme-requester", "role": "rao", "orgs": [acme],
                "privileges": { "tls-server": ["request"] } }),
    )
    .await;
    let drao = h.login("drao-web", STRONG_PASSWORD).await;
    let rao_other = h.login("rao-other", STRONG_PASSWORD).await;
    let rao_requester = h.login("rao-acme-requester", STRONG_PASSWORD).await;

    // Inside the department's domain: queued, since the DRAO may not approve.
    let inside = h
        .post(
            "/api/v1/requests",
            &drao,
            json!({ "csr": csr(&["www.web.acme.test"]), "profile": "tls-server",
                    "org": acme, "dept": web }),
        )
        .await
        .expect(201);
    assert_eq!(inside["status"], "requested", "{inside}");
    assert_eq!(inside["names"], json!(["dns:www.web.acme.test"]));
    assert_eq!(inside["channel"], "rest");
    assert!(inside.get("csr_der").is_none());
    let request = id_of(&inside);

    // Outside it: recorded as Invalid, with the reason.
    let outside = h
        .post(
            "/api/v1/requests",
            &drao,
            json!({ "csr": csr(&["evil.example.org"]), "profile": "tls-server",
                    "org": acme, "dept": web }),
        )
        .await
        .expect(201);
    assert_eq!(outside["status"], "invalid");
    assert!(!outside["reason"].as_str().unwrap().is_empty());

    // Who may not approve: the requester without the privilege (403), an RAO of
    // another organization (the request is outside its scope: the RA answers as if
    // it did not exist, 404), an RAO of the organization without approve (403).
    let approve = format!("/api/v1/requests/{request}/approve");
    h.post(&approve, &drao, json!({}))
        .await
        .expect_error(403, "forbidden");
    h.post(&approve, &rao_other, json!({}))
        .await
        .expect_error(404, "not_found");
    h.post(&approve, &rao_requester, json!({}))
        .await
        .expect_error(403, "forbidden");
    h.get(&format!("/api/v1/requests/{request}"), &rao_other)
        .await
        .expect_error(404, "not_found");

    // Edit while Requested, then approve.
    let edited = h
        .send(
            "PATCH",
            &format!("/api/v1/requests/{request}"),
            Some(&mrao),
            json!({ "term_days": 30 }),
        )
        .await
        .expect(200);
    assert_eq!(edited["term_days"], 30);
    h.send(
        "PATCH",
        &format!("/api/v1/requests/{request}"),
        Some(&mrao),
        json!({ "term_days": 5000 }),
    )
    .await
    .expect_error(400, "invalid_input");
    let issued = h
        .post(&approve, &mrao, json!({ "message": "looks right" }))
        .await
        .expect(200);
    assert_eq!(issued["status"], "issued", "{issued}");
    let certificate = issued["certificate"].as_u64().expect("certificate id");
    h.send(
        "PATCH",
        &format!("/api/v1/requests/{request}"),
        Some(&mrao),
        json!({ "term_days": 10 }),
    )
    .await
    .expect_error(409, "illegal_transition");
    h.post(&approve, &mrao, json!({}))
        .await
        .expect_error(409, "illegal_transition");

    // Filters.
    let list = |query: &'static str, token: String| {
        let h = &h;
        async move {
            h.get(&format!("/api/v1/requests{query}"), &token)
                .await
                .expect(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(id_of)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?status=issued", mrao.clone()).await, vec![request]);
    assert_eq!(
        list("?status=invalid", mrao.clone()).await,
        vec![id_of(&outside)]
    );
    assert_eq!(list("?name=web.acme", mrao.clone()).await, vec![request]);
    assert_eq!(
        list("?profile=tls-server", drao.clone()).await,
        vec![request, id_of(&outside)]
    );
    assert!(list("", rao_other.clone()).await.is_empty());
    h.get(&format!("/api/v1/requests?org={other}"), &mrao)
        .await
        .expect(200);
    h.get("/api/v1/requests?status=bogus", &mrao)
        .await
        .expect_error(400, "invalid_input");

    // The certificate.
    let details = h
        .get(&format!("/api/v1/certificates/{certificate}"), &drao)
        .await
        .expect(200);
    assert_eq!(details["status"], "issued");
    assert_eq!(details["org"], acme);
    assert_eq!(details["names"], json!(["dns:www.web.acme.test"]));
    assert!(details["pem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(details["not_after"].as_str().unwrap().ends_with('Z'));
    h.get(&format!("/api/v1/certificates/{certificate}"), &rao_other)
        .await
        .expect_error(404, "not_found");

    // Every download format.
    let formats = [
        ("pem", "application/pem-certificate-chain", 1),
        ("der", "application/pkix-cert", 0),
        ("pem-chain", "application/pem-certificate-chain", 2),
        ("pem-full-chain", "application/pem-certificate-chain", 3),
        ("chain-only", "application/pem-certificate-chain", 2),
        ("pkcs7-der", "application/pkcs7-mime", 0),
        ("pkcs7-pem", "application/x-pem-file", 0),
    ];
    for (format, media_type, pem_blocks) in formats {
        let answer = h
            .get(
                &format!("/api/v1/certificates/{certificate}/download?format={format}"),
                &drao,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{format}: {}", answer.text());
        assert_eq!(answer.headers["content-type"], media_type, "{format}");
        let disposition = answer.headers["content-disposition"].to_str().unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"certificate-"),
            "{disposition}"
        );
        match format {
            "der" | "pkcs7-der" => assert_eq!(answer.body[0], 0x30, "{format}"),
            "pkcs7-pem" => assert!(answer.text().starts_with("-----BEGIN PKCS7-----")),
            _ => assert_eq!(
                answer.text().matches("-----BEGIN CERTIFICATE-----").count(),
                pem_blocks,
                "{format}"
            ),
        }
    }
    h.get(
        &format!("/api/v1/certificates/{certificate}/download?format=pfx"),
        &drao,
    )
    .await
    .expect_error(400, "invalid_input");
    let trail = h
        .get(&format!("/api/v1/certificates/{certificate}/audit"), &drao)
        .await
        .expect(200);
    let downloads = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "certificate.download")
        .count();
    assert_eq!(downloads, formats.len());

    // Revoke: not by a DRAO without the privilege; by the MRAO; not twice.
    let revoke = format!("/api/v1/certificates/{certificate}/revoke");
    h.post(&revoke, &drao, json!({ "reason": "key-compromise" }))
        .await
        .expect_error(403, "forbidden");
    h.post(&revoke, &mrao, json!({ "reason": "because" }))
        .await
        .expect_error(400, "invalid_input");
    let revoked = h
        .post(
            &revoke,
            &mrao,
            json!({ "reason": "key-compromise", "message": "laptop lost" }),
        )
        .await
        .expect(200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["revocation_reason"], "key-compromise");
    h.post(&revoke, &mrao, json!({ "reason": "superseded" }))
        .await
        .expect_error(409, "illegal_transition");
    let after = h
        .get(&format!("/api/v1/requests/{request}"), &mrao)
        .await
        .expect(200);
    assert_eq!(after["status"], "revoked");

    // CSV of a filtered list.
    let csv = h
        .get("/api/v1/certificates.csv?status=revoked", &mrao)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("id,serial,status,subject,names"));
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].starts_with(&format!("{certificate},")));
    assert!(lines[1].contains(",revoked,"));
    assert!(lines[1].contains("dns:www.web.acme.test"));
    assert!(lines[1].contains("key-compromise"));
    let none = h
        .get("/api/v1/certificates.csv?status=issued", &mrao)
        .await
        .text();
    assert_eq!(none.lines().count(), 1);
    let soon = h
        .get(
            "/api/v1/certificates?expires_before=2000-01-01T00:00:00Z",
            &mrao,
        )
        .await
        .expect(200);
    assert!(soon["items"].as_array().unwrap().is_empty());
    let later = h
        .get("/api/v1/certificates?expires_before=9999999999", &mrao)
        .await
        .expect(200);
    assert_eq!(later["items"].as_array().unwrap().len(), 1);

    // The global audit log is the MRAO's, and it verifies.
    h.get("/api/v1/audit", &drao)
        .await
        .expect_error(403, "forbidden");
    let audit = h.get("/api/v1/audit?limit=5", &mrao).await.expect(200);
    assert_eq!(audit["items"].as_array().unwrap().len(), 5);
    assert_eq!(audit["next_after"], 5);
    let verified = h
        .raw(
            "POST",
            "/api/v1/audit/verify",
            Some(&mrao),
            None,
            Bytes::new(),
        )
        .await
        .expect(200);
    assert_eq!(verified["intact"], true);
    assert!(verified["entries"].as_u64().unwrap() > 10);
}

#[tokio::test]
async fn decline_renew_replace_endpoints_and_reads() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    create_admin(
        &h,
        &mrao,
        json!({ "username": "drao", "role": "drao", "depts": [web],
                "privileges": { "tls-server": ["request"] } }),
    )
    .await;
    let drao = h.login("drao", STRONG_PASSWORD).await;

    // Declined, then approved after all.
    let queued = id_of(
        &h.post(
            "/api/v1/requests",
            &drao,
            json!({ "csr": csr(&["a.acme.test"]), "profile": "tls-server",
                    "org": acme, "dept": web }),
        )
        .await
        .expect(201),
    );
    let declined = h
        .post(
            &format!("/api/v1/requests/{queued}/decline"),
            &mrao,
            json!({ "message": "wrong team" }),
        )
        .await
        .expect(200);
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["reason"], "wrong team");
    let approved = h
        .raw(
            "POST",
            &format!("/api/v1/requests/{queued}/approve"),
            Some(&mrao),
            None,
            Bytes::new(),
        )
        .await
        .expect(200);
    assert_eq!(approved["status"], "issued");
    let first = approved["certificate"].as_u64().unwrap();

    // An MRAO's own request is issued at once; renew with the same key, then replace.
    let own = h
        .post(
            "/api/v1/requests",
            &mrao,
            json!({ "csr": csr(&["b.acme.test"]), "profile": "tls-server", "org": acme,
                    "dept": web, "term_days": 90 }),
        )
        .await
        .expect(201);
    assert_eq!(own["status"], "issued");
    let renewed = h
        .raw(
            "POST",
            &format!("/api/v1/certificates/{first}/renew"),
            Some(&mrao),
            None,
            Bytes::new(),
        )
        .await
        .expect(201);
    assert_eq!(renewed["status"], "issued");
    assert_eq!(renewed["renewal_of"], first);
    let replaced = h
        .post(
            &format!("/api/v1/certificates/{first}/replace"),
            &mrao,
            json!({ "csr": csr(&["a.acme.test"]) }),
        )
        .await
        .expect(201);
    assert_eq!(replaced["status"], "issued");
    assert_eq!(replaced["replaces"], true);
    let old = h
        .get(&format!("/api/v1/certificates/{first}"), &mrao)
        .await
        .expect(200);
    assert_eq!(old["status"], "replaced");
    assert_eq!(old["replaced_by"], replaced["certificate"]);
    // Issued certificates are never deleted.
    h.raw(
        "DELETE",
        &format!("/api/v1/certificates/{first}"),
        Some(&mrao),
        None,
        Bytes::new(),
    )
    .await
    .expect_error(400, "invalid_input");

    // Endpoints: secrets shown once, never listed; EAB keys for ACME only.
    let scep = h
        .post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "intune", "kind": "scep", "org": acme, "dept": web,
                    "profile": "device", "approval": "auto" }),
        )
        .await
        .expect(201);
    let challenge = scep["scep_challenge"]
        .as_str()
        .expect("challenge")
        .to_string();
    let acme_endpoint = h
        .post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "acme-web", "kind": "acme", "org": acme, "profile": "tls-server",
                    "approval": "auto", "eab_required": true }),
        )
        .await
        .expect(201);
    assert!(acme_endpoint.get("scep_challenge").is_none());
    let eab = h
        .raw(
            "POST",
            &format!("/api/v1/endpoints/{}/eab-keys", id_of(&acme_endpoint)),
            Some(&mrao),
            None,
            Bytes::new(),
        )
        .await
        .expect(201);
    let hmac = eab["hmac_key"].as_str().expect("hmac").to_string();
    assert!(eab["key_id"].as_str().unwrap().starts_with("kid-"));
    h.post(
        &format!("/api/v1/endpoints/{}/eab-keys", id_of(&scep)),
        &mrao,
        json!({}),
    )
    .await
    .expect_error(400, "invalid_input");
    let listed = h.get("/api/v1/endpoints", &mrao).await;
    let text = listed.text();
    assert!(!text.contains(&challenge) && !text.contains(&hmac));
    assert!(!text.contains("argon2") && !text.contains("sealed"));
    let listed = listed.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][1]["eab_keys"].as_array().unwrap().len(), 1);
    h.post(
        "/api/v1/endpoints",
        &mrao,
        json!({ "name": "intune", "kind": "scep", "org": acme,
                "profile": "device", "approval": "auto" }),
    )
    .await
    .expect_error(409, "conflict");

    // Read-only views of ca-core.
    let profiles = h.get("/api/v1/profiles", &drao).await.expect(200);
    let tls = profiles["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "tls-server")
        .expect("tls-server profile")
        .clone();
    assert_eq!(tls["issuer"], "test-issuing");
    assert_eq!(tls["max_term_days"], 397);
    let cas = h.get("/api/v1/cas", &drao).await.expect(200);
    let cas = cas["items"].as_array().unwrap();
    assert_eq!(cas.len(), 2);
    assert!(cas
        .iter()
        .any(|c| c["id"] == "test-issuing" && c["default_issuer"] == true));

    // Organizations: visibility and pagination.
    for i in 0..4 {
        h.post(
            "/api/v1/organizations",
            &mrao,
            json!({ "name": format!("Org {i}") }),
        )
        .await
        .expect(201);
    }
    let page1 = h
        .get("/api/v1/organizations?limit=2", &mrao)
        .await
        .expect(200);
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let after = page1["next_after"].as_u64().expect("more pages");
    let page2 = h
        .get(
            &format!("/api/v1/organizations?limit=2&after={after}"),
            &mrao,
        )
        .await
        .expect(200);
    let page3 = h
        .get(
            &format!(
                "/api/v1/organizations?limit=2&after={}",
                page2["next_after"].as_u64().expect("a third page")
            ),
            &mrao,
        )
        .await
        .expect(200);
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_after"].is_null());
    let seen = h.get("/api/v1/organizations", &drao).await.expect(200);
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    h.get(&format!("/api/v1/organizations/{acme}"), &drao)
        .await
        .expect(200);
    h.get(&format!("/api/v1/organizations/{after}"), &drao)
        .await
        .expect_error(404, "not_found");
    h.post("/api/v1/organizations", &drao, json!({ "name": "Mine" }))
        .await
        .expect_error(403, "forbidden");
    h.post("/api/v1/organizations", &mrao, json!({ "name": "Acme" }))
        .await
        .expect_error(409, "conflict");
    let depts = h
        .get(&format!("/api/v1/departments?org={acme}"), &mrao)
        .await
        .expect(200);
    assert_eq!(depts["items"].as_array().unwrap().len(), 1);
    let domains = h
        .get(&format!("/api/v1/domains?org={acme}"), &mrao)
        .await
        .expect(200);
    assert_eq!(domains["items"][0]["name"], "acme.test");
}

/// A CSR with a subject common name and DNS names, as DER.
fn csr_der(common_name: &str, names: &[&str]) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.serialize_request(&key).expect("csr").der().to_vec()
}

/// SCEP one-time challenges: minted for a SCEP endpoint by whoever may manage it, shown
/// once, bound and expiring as asked, consumed by their first use; refused for another
/// kind of endpoint (400), an unknown one (404) and without the manage privilege (403).
#[tokio::test]
async fn scep_one_time_challenges_are_minted_once_and_refused_on_bad_input() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    let scep = id_of(
        &h.post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "mdm", "kind": "scep", "org": acme, "dept": web,
                    "profile": "device", "approval": "auto" }),
        )
        .await
        .expect(201),
    );
    let acme_endpoint = id_of(
        &h.post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "web", "kind": "acme", "org": acme, "profile": "tls-server",
                    "approval": "auto" }),
        )
        .await
        .expect(201),
    );
    let path = format!("/api/v1/endpoints/{scep}/scep-challenges");

    // No body: unbound, a day.
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let minted = h
        .raw("POST", &path, Some(&mrao), None, Bytes::new())
        .await
        .expect(201);
    assert_eq!(minted["endpoint"], scep);
    let unbound = minted["challenge"].as_str().expect("challenge").to_string();
    assert!(
        unbound.len() >= 32 && unbound.bytes().all(|b| b.is_ascii_hexdigit()),
        "{minted}"
    );
    let expires = time::OffsetDateTime::parse(
        minted["expires_at"].as_str().expect("expires_at"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339")
    .unix_timestamp();
    assert!(
        (before + 86_400..=before + 86_400 + 60).contains(&expires),
        "{minted}"
    );

    // Bound to a subject and a name, ten minutes.
    let bound = h
        .post(
            &path,
            &mrao,
            json!({ "subject": "device-7", "san": "device-7.acme.test", "expires_in_seconds": 600 }),
        )
        .await
        .expect(201);
    let bound_challenge = bound["challenge"].as_str().unwrap().to_string();
    assert_ne!(bound_challenge, unbound);

    // Never listed.
    let listed = h.get("/api/v1/endpoints", &mrao).await.text();
    assert!(!listed.contains(&unbound) && !listed.contains(&bound_challenge));

    // Consumed by the first use; the binding holds.
    let endpoint = h.ra.endpoint_of_kind("scep", "mdm").expect("the endpoint");
    let check = |challenge: &str, cn: &str, names: &[&str]| {
        let csr = ca_core::csr::VerifiedCsr::from_der(&csr_der(cn, names)).expect("csr");
        h.ra.check_scep_challenge(&endpoint, Some(challenge), &csr, "test device")
    };
    assert!(check(&bound_challenge, "device-8", &["device-8.acme.test"]).is_err());
    assert!(check(&bound_challenge, "device-7", &["device-7.acme.test"]).is_ok());
    assert!(check(&bound_challenge, "device-7", &["device-7.acme.test"]).is_err());
    assert!(check(&unbound, "anything", &["x.acme.test"]).is_ok());
    assert!(check(&unbound, "anything", &["x.acme.test"]).is_err());

    // Not a SCEP endpoint; no such endpoint.
    h.post(
        &format!("/api/v1/endpoints/{acme_endpoint}/scep-challenges"),
        &mrao,
        json!({}),
    )
    .await
    .expect_error(400, "invalid_input");
    h.post("/api/v1/endpoints/999/scep-challenges", &mrao, json!({}))
        .await
        .expect_error(404, "not_found");

    // Bad bodies.
    for (body, code) in [
        (json!({ "expires_in_seconds": 10 }), "invalid_input"),
        (
            json!({ "expires_in_seconds": 31 * 86_400 }),
            "invalid_input",
        ),
        (json!({ "expires_in_seconds": -5 }), "invalid_input"),
        (json!({ "expires_in_seconds": "soon" }), "invalid_input"),
        (json!({ "subject": "x".repeat(256) }), "invalid_input"),
        (json!({ "subject": "" }), "invalid_input"),
        (json!({ "subjects": "device-1" }), "unknown_field"),
    ] {
        let answer = h.post(&path, &mrao, body.clone()).await;
        assert_eq!(
            (answer.status.as_u16(), answer.code()),
            (400, code.to_string()),
            "{body}: {}",
            answer.text()
        );
    }

    // Without `manage` on the device class: a DRAO of the department who may only request.
    create_admin(
        &h,
        &mrao,
        json!({ "username": "requester", "role": "drao", "depts": [web],
                "privileges": { "device": ["request", "approve"] } }),
    )
    .await;
    let requester = h.login("requester", STRONG_PASSWORD).await;
    h.post(&path, &requester, json!({}))
        .await
        .expect_error(403, "forbidden");
    // With it, in scope.
    create_admin(
        &h,
        &mrao,
        json!({ "username": "manager", "role": "drao", "depts": [web],
                "privileges": { "device": ["manage"] } }),
    )
    .await;
    let manager = h.login("manager", STRONG_PASSWORD).await;
    h.post(&path, &manager, json!({ "subject": "device-9" }))
        .await
        .expect(201);
}

#[tokio::test]
async fn import_pem_der_and_zip() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    let one = external_certificate("one.partner.test");
    let two = external_certificate("two.partner.test");
    let three = external_certificate("three.partner.test");
    let import = format!("/api/v1/certificates/import?org={acme}&dept={web}");

    let bundle = format!("{}{}", one.pem(), two.pem());
    let answer = h
        .raw(
            "POST",
            &import,
            Some(&mrao),
            Some("application/x-pem-file"),
            bundle,
        )
        .await
        .expect(200);
    assert_eq!(answer["imported"].as_array().unwrap().len(), 2);
    assert_eq!(answer["imported"][0]["external"], true);
    assert!(answer["errors"].as_array().unwrap().is_empty());

    // A ZIP with a DER file, a PEM already imported and a broken file.
    let mut zip_bytes = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("three.der", options).unwrap();
        zip.write_all(three.der()).unwrap();
        zip.start_file("one.pem", options).unwrap();
        zip.write_all(one.pem().as_bytes()).unwrap();
        zip.start_file("junk.txt", options).unwrap();
        zip.write_all(b"not a certificate").unwrap();
        zip.finish().unwrap();
    }
    let answer = h
        .raw(
            "POST",
            &import,
            Some(&mrao),
            Some("application/zip"),
            zip_bytes,
        )
        .await
        .expect(200);
    assert_eq!(answer["imported"].as_array().unwrap().len(), 1, "{answer}");
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{answer}");
    assert!(errors
        .iter()
        .any(|e| e["source"] == "one.pem" && e["code"] == "conflict"));
    assert!(errors.iter().any(|e| e["source"] == "junk.txt"));

    // DER alone; then again (a duplicate, nothing imported: 409).
    let four = external_certificate("four.partner.test");
    let answer = h
        .raw(
            "POST",
            &import,
            Some(&mrao),
            Some("application/pkix-cert"),
            four.der().to_vec(),
        )
        .await
        .expect(200);
    let imported_id = id_of(&answer["imported"][0]);
    h.raw(
        "POST",
        &import,
        Some(&mrao),
        Some("application/pkix-cert"),
        four.der().to_vec(),
    )
    .await
    .expect_error(409, "conflict");

    // An imported certificate downloads without a chain, and can be deleted.
    let pem = h
        .get(
            &format!("/api/v1/certificates/{imported_id}/download?format=pem-full-chain"),
            &mrao,
        )
        .await;
    assert_eq!(pem.status, StatusCode::OK);
    assert_eq!(pem.text().matches("BEGIN CERTIFICATE").count(), 1);
    let before = h.counts();
    h.raw(
        "DELETE",
        &format!("/api/v1/certificates/{imported_id}"),
        Some(&mrao),
        None,
        Bytes::new(),
    )
    .await
    .expect(204);
    assert_eq!(h.counts()[6], before[6] - 1);
    h.get(&format!("/api/v1/certificates/{imported_id}"), &mrao)
        .await
        .expect_error(404, "not_found");

    // Missing owner, a type we do not read.
    h.raw(
        "POST",
        "/api/v1/certificates/import",
        Some(&mrao),
        Some("application/x-pem-file"),
        one.pem(),
    )
    .await
    .expect_error(400, "invalid_input");
    h.raw("POST", &import, Some(&mrao), Some("image/png"), one.pem())
        .await
        .expect_error(415, "unsupported_media_type");
}

/// One body per JSON operation with a string longer than the edge allows.
fn overlong_body(path: &str, method: &str) -> Value {
    let long = "x".repeat(5000);
    let long_csr = "x".repeat(70_000);
    match (method, path) {
        ("POST", "/api/v1/login") => json!({ "username": long, "password": "p" }),
        ("POST", "/api/v1/api-keys") => json!({ "label": long }),
        ("POST", "/api/v1/organizations") => json!({ "name": long }),
        ("POST", "/api/v1/departments") => json!({ "org": 1, "name": long }),
        ("POST", "/api/v1/domains") => json!({ "name": long, "org": 1 }),
        ("POST", "/api/v1/custom-fields") => json!({ "class": "tls-server", "name": long }),
        ("POST", "/api/v1/admins") => {
            json!({ "username": long, "password": STRONG_PASSWORD, "role": "mrao" })
        }
        ("POST", "/api/v1/endpoints") => json!({ "name": long, "kind": "rest", "org": 1,
                                                 "profile": "tls-server", "approval": "auto" }),
        ("POST", "/api/v1/requests") => {
            json!({ "csr": long_csr, "profile": "tls-server", "org": 1 })
        }
        ("PATCH", _) => json!({ "term_days": 1, long: 1 }),
        ("PUT", p) if p.ends_with("/scep-webhook") => json!({ "url": long }),
        ("PUT", p) if p.ends_with("/password") => {
            json!({ "current_password": long, "new_password": long })
        }
        ("POST", "/api/v1/api-keys/revoke") => json!({ "id": long }),
        ("PUT", p) if p.ends_with("/est-settings") => json!({ "auth": long }),
        ("PUT", p) if p.ends_with("/intune") => {
            json!({ "tenant": long, "application_id": "a", "client_secret": "s" })
        }
        ("POST", p) if p.ends_with("/approve") || p.ends_with("/decline") => {
            json!({ "message": long })
        }
        ("POST", p) if p.ends_with("/revoke") => json!({ "reason": "superseded", "message": long }),
        ("POST", p) if p.ends_with("/renew") || p.ends_with("/replace") => {
            json!({ "csr": long_csr })
        }
        ("POST", p) if p.ends_with("/scep-challenges") => json!({ "subject": long }),
        ("POST", p) if p.ends_with("/client-certificates") => json!({ "certificate": long_csr }),
        ("POST", p) if p.ends_with("/client-certificates/unlink") => json!({ "sha256": long }),
        ("PUT", "/api/v1/access/allow-lists") => json!({ "rao": [long] }),
        ("PUT", p) if p.ends_with("/password-login") => json!({ "enabled": long }),
        ("PUT", p) if p.ends_with("/idp-identity") => json!({ "identity": long }),
        ("PUT", "/api/v1/sso/idp") => json!({ "metadata": long }),
        ("POST", "/api/v1/sso/templates") => {
            json!({ "name": long, "attribute": "groups", "value": "pki", "role": "mrao" })
        }
        other => panic!("no overlong body for {other:?}"),
    }
}

/// A self-signed client certificate for `subject` (a common name) valid until `not_after`
/// (year, month, day), with its SHA-256 in lower-case hex.
fn client_certificate(subject: &str, not_after: (i32, u8, u8)) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, subject);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let certificate = params.self_signed(&key).expect("certificate");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, certificate.der());
    let sha256 = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    (certificate.pem(), sha256)
}

/// TLS client certificates linked to administrators: an RAO links one to themselves
/// and sees it (fingerprint, subject, end of validity) in GET /admins and at login; an
/// RAO can link none to another administrator, an MRAO can; what is not one valid
/// certificate is a 400; unlinking (by any spelling of the fingerprint) removes it, and
/// an unknown fingerprint is a 404.
#[tokio::test]
async fn client_certificates_are_linked_to_administrators_and_unlinked() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, _) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    let rao_id = create_admin(
        &h,
        &mrao,
        json!({ "username": "rao", "role": "rao", "orgs": [acme] }),
    )
    .await;
    let rao = h.login("rao", STRONG_PASSWORD).await;
    let own = format!("/api/v1/admins/{rao_id}/client-certificates");

    // Oneself: 201 with the view; linking it again changes nothing.
    let (pem, sha256) = client_certificate("rao@acme.test", (2040, 1, 1));
    let linked = h
        .post(&own, &rao, json!({ "certificate": pem }))
        .await
        .expect(201);
    let expected = json!({ "sha256": sha256, "subject": "CN=rao@acme.test",
                           "not_after": "2040-01-01T00:00:00Z" });
    assert_eq!(linked, expected);
    h.post(&own, &rao, json!({ "certificate": pem }))
        .await
        .expect(201);
    let listed = h.get("/api/v1/admins", &rao).await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(
        listed["items"][0]["client_certificates"],
        json!([expected]),
        "{listed}"
    );
    let login = h
        .send(
            "POST",
            "/api/v1/login",
            None,
            json!({ "username": "rao", "password": STRONG_PASSWORD }),
        )
        .await
        .expect(200);
    assert_eq!(login["admin"]["client_certificates"], json!([expected]));

    // Another administrator's: an RAO may not, an MRAO may.
    let (other_pem, other_sha256) = client_certificate("ops@acme.test", (2039, 6, 30));
    h.post(
        "/api/v1/admins/1/client-certificates",
        &rao,
        json!({ "certificate": other_pem }),
    )
    .await
    .expect_error(403, "forbidden");
    h.post(
        "/api/v1/admins/1/client-certificates/unlink",
        &rao,
        json!({ "sha256": other_sha256 }),
    )
    .await
    .expect_error(403, "forbidden");
    h.post(&own, &mrao, json!({ "certificate": other_pem }))
        .await
        .expect(201);
    h.post(
        "/api/v1/admins/999/client-certificates",
        &mrao,
        json!({ "certificate": other_pem }),
    )
    .await
    .expect_error(404, "not_found");
    let mrao_view = h.get("/api/v1/admins", &mrao).await.expect(200);
    let rao_view = mrao_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| id_of(a) == rao_id)
        .cloned()
        .unwrap_or_else(|| panic!("the RAO is not listed: {mrao_view}"));
    let fingerprints: Vec<&str> = rao_view["client_certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints, [sha256.as_str(), other_sha256.as_str()]);
    assert_eq!(mrao_view["items"][0]["client_certificates"], json!([]));

    // Not one valid certificate: 400, and nothing linked.
    let block = pem.clone();
    let (expired, _) = client_certificate("old@acme.test", (2021, 1, 1));
    for (certificate, says) in [
        ("hello".to_string(), "no PEM CERTIFICATE block"),
        (csr(&["www.acme.test"]), "no PEM CERTIFICATE block"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_string(),
            "not a certificate",
        ),
        (format!("{block}{other_pem}"), "2 CERTIFICATE blocks"),
        (expired, "expired"),
    ] {
        let answer = h
            .post(&own, &rao, json!({ "certificate": certificate }))
            .await;
        answer.expect_error(400, "invalid_input");
        assert!(answer.message().contains(says), "{}", answer.text());
    }
    h.post(&own, &rao, json!({ "pem": pem }))
        .await
        .expect_error(400, "unknown_field");

    // At most MAX_LINKED_CERTIFICATES each.
    let max = policy::registry::MAX_LINKED_CERTIFICATES;
    for n in 2..max {
        let (more, _) = client_certificate(&format!("device-{n}@acme.test"), (2040, 1, 1));
        h.post(&own, &rao, json!({ "certificate": more }))
            .await
            .expect(201);
    }
    let (one_too_many, _) = client_certificate("one-too-many@acme.test", (2040, 1, 1));
    let answer = h
        .post(&own, &rao, json!({ "certificate": one_too_many }))
        .await;
    answer.expect_error(400, "invalid_input");
    assert!(answer.message().contains("unlink one"), "{}", answer.text());

    // Unlinking: the fingerprint as openssl prints it (upper case, colons) will do.
    let unlink = format!("{own}/unlink");
    let openssl_style = sha256
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    h.post(&unlink, &rao, json!({ "sha256": openssl_style }))
        .await
        .expect(204);
    let listed = h.get("/api/v1/admins", &rao).await.expect(200);
    let remaining = listed["items"][0]["client_certificates"]
        .as_array()
        .unwrap();
    assert_eq!(remaining.len(), max - 1, "{listed}");
    assert!(
        remaining.iter().all(|c| c["sha256"] != json!(sha256)),
        "{listed}"
    );
    for gone in [sha256.clone(), "0".repeat(64)] {
        h.post(&unlink, &rao, json!({ "sha256": gone }))
            .await
            .expect_error(404, "not_found");
    }
    for malformed in ["", "abc", &"g".repeat(64)] {
        h.post(&unlink, &rao, json!({ "sha256": malformed }))
            .await
            .expect_error(400, "invalid_input");
    }
    // The MRAO unlinks the one it linked.
    h.post(&unlink, &mrao, json!({ "sha256": other_sha256 }))
        .await
        .expect(204);

    let audit = h.get("/api/v1/audit?limit=500", &mrao).await.expect(200);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["admin.certificate.link", "admin.certificate.unlink"] {
        assert!(actions.contains(&action), "no {action} in {actions:?}");
    }
}

/// Custom fields: an MRAO defines a mandatory field for TLS server certificates; a
/// submission without it is refused with a 400 naming it and stores nothing, one with it
/// is recorded with the value (under the name as defined) and shows it with its comments.
/// An RAO lists the fields but can neither define nor delete them; once deleted, the
/// field is no longer asked for and the values already given stay on their requests.
#[tokio::test]
async fn custom_fields_are_defined_by_an_mrao_and_required_on_submissions() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    create_admin(
        &h,
        &mrao,
        json!({ "username": "rao", "role": "rao", "orgs": [acme],
                "privileges": { "tls-server": ["request"] } }),
    )
    .await;
    let rao = h.login("rao", STRONG_PASSWORD).await;

    // Only an MRAO defines them.
    h.post(
        "/api/v1/custom-fields",
        &rao,
        json!({ "class": "tls-server", "name": "Cost centre", "mandatory": true }),
    )
    .await
    .expect_error(403, "forbidden");
    let field = h
        .post(
            "/api/v1/custom-fields",
            &mrao,
            json!({ "class": "tls-server", "name": "Cost centre", "mandatory": true }),
        )
        .await
        .expect(201);
    assert_eq!(
        (&field["class"], &field["name"], &field["mandatory"]),
        (&json!("tls-server"), &json!("Cost centre"), &json!(true)),
        "{field}"
    );
    assert!(field["created_at"].is_string(), "{field}");
    let field_id = id_of(&field);
    // Not mandatory unless asked; another class's field is not asked of TLS requests.
    let asset = h
        .post(
            "/api/v1/custom-fields",
            &mrao,
            json!({ "class": "device", "name": "Asset tag" }),
        )
        .await
        .expect(201);
    assert_eq!(asset["mandatory"], false, "{asset}");
    // A name is unique within its class, whatever its case.
    h.post(
        "/api/v1/custom-fields",
        &mrao,
        json!({ "class": "tls-server", "name": "cost CENTRE" }),
    )
    .await
    .expect_error(409, "conflict");
    h.post(
        "/api/v1/custom-fields",
        &mrao,
        json!({ "class": "tls-sever", "name": "Typo" }),
    )
    .await
    .expect_error(400, "invalid_input");

    // Any administrator lists them, by class or all.
    let listed = h
        .get("/api/v1/custom-fields?class=tls-server", &rao)
        .await
        .expect(200);
    let ids: Vec<u64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, vec![field_id], "{listed}");
    let all = h.get("/api/v1/custom-fields", &rao).await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");
    h.get("/api/v1/custom-fields?class=server", &rao)
        .await
        .expect_error(400, "invalid_input");

    // Without the mandatory field: refused, naming it, and nothing recorded.
    let baseline = h.counts();
    let submission = json!({ "csr": csr(&["www.acme.test"]), "profile": "tls-server",
                             "org": acme, "dept": web });
    let refused = h.post("/api/v1/requests", &rao, submission.clone()).await;
    refused.expect_error(400, "invalid_input");
    assert!(
        refused.message().contains("'Cost centre'") && refused.message().contains("mandatory"),
        "{}",
        refused.text()
    );
    let mut blank = submission.clone();
    blank["custom_fields"] = json!([{ "name": "Cost centre", "value": "  " }]);
    h.post("/api/v1/requests", &rao, blank)
        .await
        .expect_error(400, "invalid_input");
    let mut undefined = submission.clone();
    undefined["custom_fields"] = json!([
        { "name": "Cost centre", "value": "CC-42" },
        { "name": "Asset tag", "value": "A-1" }
    ]);
    let answer = h.post("/api/v1/requests", &rao, undefined).await;
    answer.expect_error(400, "invalid_input");
    assert!(answer.message().contains("Asset tag"), "{}", answer.text());
    let mut unknown_key = submission.clone();
    unknown_key["custom_fields"] = json!([{ "name": "Cost centre", "value": "CC-42", "x": 1 }]);
    h.post("/api/v1/requests", &rao, unknown_key)
        .await
        .expect_error(400, "unknown_field");
    assert_eq!(
        h.counts(),
        baseline,
        "a refused submission stored something"
    );

    // With it (in another case): recorded under the name as defined, with the comments.
    let mut complete = submission.clone();
    complete["custom_fields"] = json!([{ "name": "cost centre", "value": "CC-42" }]);
    complete["comments"] = json!("for the web shop");
    complete["external_requester"] = json!("ops@acme.test");
    let created = h.post("/api/v1/requests", &rao, complete).await.expect(201);
    assert_eq!(created["status"], "requested", "{created}");
    let request = id_of(&created);
    let shown = h
        .get(&format!("/api/v1/requests/{request}"), &mrao)
        .await
        .expect(200);
    assert_eq!(
        shown["custom_fields"],
        json!([{ "name": "Cost centre", "value": "CC-42" }]),
        "{shown}"
    );
    assert_eq!(shown["comments"], "for the web shop", "{shown}");
    assert_eq!(shown["external_requester"], "ops@acme.test", "{shown}");
    let listed = h.get("/api/v1/requests", &rao).await.expect(200);
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| id_of(r) == request)
        .cloned()
        .unwrap_or_else(|| panic!("request {request} not listed: {listed}"));
    assert_eq!(item["custom_fields"], shown["custom_fields"], "{item}");

    // Deleting: MRAO only; then the field is no longer asked for, and the value stays.
    let path = format!("/api/v1/custom-fields/{field_id}");
    h.raw("DELETE", &path, Some(&rao), None, Bytes::new())
        .await
        .expect_error(403, "forbidden");
    h.raw("DELETE", &path, Some(&mrao), None, Bytes::new())
        .await
        .expect(204);
    h.raw("DELETE", &path, Some(&mrao), None, Bytes::new())
        .await
        .expect_error(404, "not_found");
    let listed = h
        .get("/api/v1/custom-fields?class=tls-server", &rao)
        .await
        .expect(200);
    assert_eq!(listed["items"], json!([]), "{listed}");
    let mut fresh = submission.clone();
    fresh["csr"] = json!(csr(&["shop.acme.test"]));
    let later = h.post("/api/v1/requests", &rao, fresh).await.expect(201);
    assert_eq!(later["custom_fields"], json!([]), "{later}");
    let kept = h
        .get(&format!("/api/v1/requests/{request}"), &rao)
        .await
        .expect(200);
    assert_eq!(kept["custom_fields"], shown["custom_fields"], "{kept}");
}

/// A CSR the profile refuses (code-signing takes no names) is recorded as Invalid, like one
/// the name policy refuses: 201, with the profile's reason, and listed as invalid.
#[tokio::test]
async fn a_csr_the_profile_refuses_is_recorded_invalid() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "web.acme.test").await;
    let refused = h
        .post(
            "/api/v1/requests",
            &mrao,
            json!({ "csr": csr(&["www.web.acme.test"]), "profile": "code-signing",
                    "org": acme, "dept": web }),
        )
        .await
        .expect(201);
    assert_eq!(refused["status"], "invalid", "{refused}");
    assert!(
        refused["reason"].as_str().unwrap().contains("code-signing"),
        "{refused}"
    );
    let listed = h
        .get("/api/v1/requests?status=invalid", &mrao)
        .await
        .expect(200);
    let ids: Vec<u64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    assert_eq!(ids, vec![id_of(&refused)]);
}

#[tokio::test]
async fn bad_input_on_every_route_family_is_a_4xx_and_stores_nothing() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    let issued = h
        .post(
            "/api/v1/requests",
            &mrao,
            json!({ "csr": csr(&["www.acme.test"]), "profile": "tls-server",
                    "org": acme, "dept": web }),
        )
        .await
        .expect(201);
    let request = id_of(&issued);
    let certificate = issued["certificate"].as_u64().unwrap();
    let key = h
        .post("/api/v1/api-keys", &mrao, json!({ "label": "automation" }))
        .await
        .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong_secret = format!("{}{}", &key[..key.len() - 4], "AAAA");
    assert_ne!(wrong_secret, key);
    let baseline = h.counts();

    let concrete = |path: &str| {
        path.replace(
            "{id}",
            &if path.starts_with("/api/v1/requests") {
                request
            } else if path.starts_with("/api/v1/certificates") {
                certificate
            } else {
                1
            }
            .to_string(),
        )
    };

    for spec in ROUTES {
        let path = concrete(spec.path);
        let label = format!("{} {}", spec.method, spec.path);

        // Credentials: none, never issued, an API key with a wrong secret, garbage.
        if spec.auth {
            for token in [
                None,
                Some("cws_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                Some(wrong_secret.as_str()),
                Some("cw_123456789012_forged"),
                Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."),
            ] {
                let answer = h
                    .raw(spec.method, &path, token, Some("application/json"), "{}")
                    .await;
                assert_eq!(
                    (answer.status.as_u16(), answer.code()),
                    (401, "unauthenticated".to_string()),
                    "{label} with {token:?}: {}",
                    answer.text()
                );
            }
        }

        // Unknown query parameters.
        let answer = h
            .raw(
                spec.method,
                &format!("{path}?bogus=1"),
                Some(&mrao),
                None,
                Bytes::new(),
            )
            .await;
        answer.expect_error(400, "invalid_input");

        if let BodyKind::Json(_) | BodyKind::OptionalJson(_) | BodyKind::Empty = spec.body {
            let token = if spec.auth { Some(mrao.as_str()) } else { None };
            for (body, code) in [
                (&b"{\"name\": "[..], "malformed_json"),
                (&b"{\"name\": \"a\",}"[..], "malformed_json"),
                (&b"[1, 2]"[..], "malformed_json"),
                (&b"\"text\""[..], "malformed_json"),
                (&b"\xff\xfe"[..], "malformed_json"),
                (&b"{\"definitely_not_a_field\": 1}"[..], "unknown_field"),
            ] {
                let answer = h
                    .raw(
                        spec.method,
                        &path,
                        token,
                        Some("application/json"),
                        body.to_vec(),
                    )
                    .await;
                assert_eq!(
                    (answer.status.as_u16(), answer.code()),
                    (400, code.to_string()),
                    "{label} with {:?}: {}",
                    String::from_utf8_lossy(body),
                    answer.text()
                );
            }
            // The wrong media type, and a body over the limit (no Content-Length: counted while read).
            h.raw(spec.method, &path, token, Some("text/xml"), "<x/>")
                .await
                .expect_error(415, "unsupported_media_type");
            h.raw(
                spec.method,
                &path,
                token,
                Some("application/json"),
                vec![b' '; 2 << 20],
            )
            .await
            .expect_error(413, "too_large");
            if !matches!(spec.body, BodyKind::Empty) {
                let answer = h
                    .send(
                        spec.method,
                        &path,
                        token,
                        overlong_body(spec.path, spec.method),
                    )
                    .await;
                answer.expect_error(400, "invalid_input");
                assert!(
                    answer.message().contains("longer than"),
                    "{label}: {}",
                    answer.text()
                );
            }
        }
        assert_eq!(h.counts(), baseline, "{label} stored something");
    }

    // Invalid domain names.
    for name in [
        "exa mple.com",
        "-bad-.com",
        "*.wild.acme.test",
        "a..b",
        "under_score.test",
        "10.0.0.0/40",
        "",
        "ünïcode.test",
        &format!("{}.test", "a".repeat(64)),
    ] {
        let answer = h
            .post(
                "/api/v1/domains",
                &mrao,
                json!({ "name": name, "org": acme, "dept": web }),
            )
            .await;
        answer.expect_error(400, "invalid_input");
    }
    // Wrong types, unknown enum words, bad scopes.
    for (path, body) in [
        ("/api/v1/departments", json!({ "org": "one", "name": "x" })),
        ("/api/v1/departments", json!({ "org": -1, "name": "x" })),
        (
            "/api/v1/organizations",
            json!({ "name": "X", "address": { "country": "Germany" } }),
        ),
        (
            "/api/v1/organizations",
            json!({ "name": "X", "address": { "zip": "10115" } }),
        ),
        ("/api/v1/organizations", json!({ "name": "   " })),
        (
            "/api/v1/admins",
            json!({ "username": "x", "password": STRONG_PASSWORD, "role": "root" }),
        ),
        (
            "/api/v1/admins",
            json!({ "username": "x", "password": "short", "role": "mrao" }),
        ),
        (
            "/api/v1/admins",
            json!({ "username": "Bad Name", "password": STRONG_PASSWORD, "role": "mrao" }),
        ),
        (
            "/api/v1/admins",
            json!({ "username": "x", "password": STRONG_PASSWORD, "role": "rao" }),
        ),
        (
            "/api/v1/admins",
            json!({ "username": "x", "password": STRONG_PASSWORD, "role": "mrao", "orgs": [1] }),
        ),
        (
            "/api/v1/admins",
            json!({ "username": "x", "password": STRONG_PASSWORD, "role": "drao",
                                   "depts": [web], "privileges": { "everything": ["request"] } }),
        ),
        (
            "/api/v1/endpoints",
            json!({ "name": "e", "kind": "telnet", "org": acme,
                                      "profile": "tls-server", "approval": "auto" }),
        ),
        (
            "/api/v1/endpoints",
            json!({ "name": "e", "kind": "acme", "org": acme,
                                      "profile": "no-such-profile", "approval": "auto" }),
        ),
        (
            "/api/v1/endpoints",
            json!({ "name": "e", "kind": "acme", "org": acme,
                                      "profile": "tls-server", "approval": "sometimes" }),
        ),
        (
            "/api/v1/requests",
            json!({ "csr": csr(&["x.acme.test"]), "profile": "nope", "org": acme }),
        ),
        ("/api/v1/api-keys", json!({ "label": "" })),
    ] {
        let answer = h.post(path, &mrao, body.clone()).await;
        assert_eq!(
            answer.status.as_u16(),
            400,
            "{path} {body}: {}",
            answer.text()
        );
    }
    // A scope that does not exist.
    h.post(
        "/api/v1/departments",
        &mrao,
        json!({ "org": 999, "name": "x" }),
    )
    .await
    .expect_error(404, "not_found");

    // Broken CSRs: on submit, renew and replace.
    let good = csr(&["y.acme.test"]);
    let truncated = good[..good.len() / 2].to_string();
    let flipped = good.replacen("MII", "MIJ", 1);
    for broken in [
        "".to_string(),
        "not a csr".to_string(),
        truncated,
        flipped,
        "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".into(),
        external_certificate("z.acme.test").pem(),
    ] {
        h.post(
            "/api/v1/requests",
            &mrao,
            json!({ "csr": broken, "profile": "tls-server", "org": acme, "dept": web }),
        )
        .await
        .expect_error(400, "invalid_input");
        for action in ["renew", "replace"] {
            h.post(
                &format!("/api/v1/certificates/{certificate}/{action}"),
                &mrao,
                json!({ "csr": broken }),
            )
            .await
            .expect_error(400, "invalid_input");
        }
    }
    // Broken certificates to import.
    let import = format!("/api/v1/certificates/import?org={acme}");
    for (content_type, body) in [
        (
            "application/x-pem-file",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
        ),
        ("application/x-pem-file", b"hello".to_vec()),
        ("application/pkix-cert", vec![0x30, 0x03, 0x02, 0x01, 0x01]),
        (
            "application/zip",
            b"PK\x03\x04 definitely not a zip".to_vec(),
        ),
        ("application/pkix-cert", Vec::new()),
    ] {
        h.raw("POST", &import, Some(&mrao), Some(content_type), body)
            .await
            .expect_error(400, "invalid_input");
    }
    h.raw(
        "POST",
        "/api/v1/certificates/import?org=abc",
        Some(&mrao),
        Some("application/x-pem-file"),
        "x",
    )
    .await
    .expect_error(400, "invalid_input");
    // Bad ids and filters.
    for path in [
        "/api/v1/certificates?status=valid",
        "/api/v1/certificates?expires_before=tomorrow",
        "/api/v1/certificates?limit=0",
        "/api/v1/certificates?limit=100000",
        "/api/v1/certificates?after=-1",
        "/api/v1/requests?org=%zz",
        "/api/v1/audit?limit=2&limit=3",
    ] {
        h.get(path, &mrao).await.expect_error(400, "invalid_input");
    }
    h.get("/api/v1/certificates/abc", &mrao)
        .await
        .expect_error(404, "not_found");
    h.get("/api/v1/nothing-here", &mrao)
        .await
        .expect_error(404, "not_found");
    let answer = h
        .raw(
            "PUT",
            "/api/v1/organizations",
            Some(&mrao),
            None,
            Bytes::new(),
        )
        .await;
    answer.expect_error(405, "method_not_allowed");
    assert_eq!(answer.headers["allow"], "GET, POST");

    assert_eq!(h.counts(), baseline, "a refused request stored something");
}

/// A sample value of a JSON schema: every property (`all`) or the required ones only.
fn sample(schema: &Value, doc: &Value, all: bool) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}"));
        return sample(target, doc, all);
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    // A nullable object: the first alternative that is not null.
    if let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) {
        if let Some(first) = alternatives.iter().find(|a| a["type"] != "null") {
            return sample(first, doc, all);
        }
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ => "object".into(),
    };
    match kind.as_str() {
        "string" => json!("x".repeat(schema["minLength"].as_u64().unwrap_or(1) as usize)),
        "integer" => json!(schema["minimum"].as_u64().unwrap_or(0).max(1)),
        "boolean" => json!(false),
        "array" => json!([]),
        "null" => Value::Null,
        _ => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut out = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, prop) in props {
                    if all || required.contains(&name.as_str()) {
                        out.insert(name.clone(), sample(prop, doc, all));
                    }
                }
            }
            Value::Object(out)
        }
    }
}

#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let h = setup();
    let answer = h
        .raw("GET", "/api/v1/openapi.json", None, None, Bytes::new())
        .await;
    let doc = answer.expect(200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");

    // Every route of the router is an operation of the document.
    for spec in ROUTES {
        let op = &paths
            .get(spec.path)
            .unwrap_or_else(|| panic!("{} missing", spec.path))[spec.method.to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} missing", spec.method, spec.path);
        assert_eq!(
            op["security"].as_array().map(|s| !s.is_empty()),
            Some(spec.auth),
            "{} {}",
            spec.method,
            spec.path
        );
    }

    // Every operation of the document is routable: without a token, an operation that
    // needs one answers 401 (the router found it); the open ones answer on their own.
    let mut operations = 0;
    let mrao = h.mrao().await;
    // A SCEP endpoint, so that the sample bodies of its challenge operation are not only
    // decoded but answered.
    let org = id_of(
        &h.post("/api/v1/organizations", &mrao, json!({ "name": "Docs" }))
            .await
            .expect(201),
    );
    let scep = id_of(
        &h.post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "docs", "kind": "scep", "org": org, "profile": "device",
                    "approval": "auto" }),
        )
        .await
        .expect(201),
    );
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            let method = method.to_ascii_uppercase();
            let concrete = if path.ends_with("/scep-challenges") {
                path.replace("{id}", &scep.to_string())
            } else {
                path.replace("{id}", "1")
            };
            let answer = h.raw(&method, &concrete, None, None, Bytes::new()).await;
            let needs_token = !op["security"].as_array().unwrap().is_empty();
            if needs_token {
                answer.expect_error(401, "unauthenticated");
            } else {
                assert!(
                    ![404, 405].contains(&answer.status.as_u16()),
                    "{method} {path}: {}",
                    answer.text()
                );
            }

            // The request schema is what the decoder takes: all its properties are
            // known fields of the right types, and its required list is complete.
            let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") else {
                continue;
            };
            let token = if needs_token {
                Some(mrao.as_str())
            } else {
                None
            };
            for all in [true, false] {
                let body = sample(schema, &doc, all);
                let answer = h.send(&method, &concrete, token, body.clone()).await;
                if path.ends_with("/scep-challenges") {
                    // Answered, with the fields its response schema names.
                    let created = answer.expect(201);
                    let schema = &doc["components"]["schemas"]["ScepChallengeCreated"];
                    for field in created.as_object().expect("an object").keys() {
                        assert!(
                            schema["properties"].get(field).is_some(),
                            "{field} is not in {schema}"
                        );
                    }
                    assert!(created["challenge"].is_string(), "{created}");
                }
                if answer.status.is_success() {
                    continue;
                }
                let message = answer.message();
                assert!(
                    !["malformed_json", "unknown_field"].contains(&answer.code().as_str())
                        && !message.contains("missing field")
                        && !message.contains("invalid type")
                        && !message.contains("unknown variant"),
                    "{method} {path} with {body}: {}",
                    answer.text()
                );
            }
        }
    }
    assert_eq!(operations, ROUTES.len());
}

/// A SCEP endpoint's webhook: set with a new HMAC key shown once, the URL (never the
/// key) in the endpoint's view and the audit log, refused for other kinds, bad URLs and
/// administrators without `manage`, and removed.
#[tokio::test]
async fn a_scep_webhook_is_set_with_a_key_shown_once_and_removed() {
    let h = setup();
    let mrao = h.mrao().await;
    let (acme, web) = org_with_department(&h, &mrao, "Acme", "acme.test").await;
    let scep = id_of(
        &h.post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "intune", "kind": "scep", "org": acme, "dept": web,
                    "profile": "device", "approval": "auto" }),
        )
        .await
        .expect(201),
    );
    let acme_endpoint = id_of(
        &h.post(
            "/api/v1/endpoints",
            &mrao,
            json!({ "name": "acme-web", "kind": "acme", "org": acme, "profile": "tls-server",
                    "approval": "auto" }),
        )
        .await
        .expect(201),
    );
    let path = format!("/api/v1/endpoints/{scep}/scep-webhook");
    let url = "https://mdm.acme.test/scep/validate?tenant=7";
    let set = h
        .send("PUT", &path, Some(&mrao), json!({ "url": url }))
        .await
        .expect(200);
    assert_eq!(
        (set["endpoint"].as_u64(), set["url"].as_str()),
        (Some(scep), Some(url))
    );
    let key = set["hmac_key"].as_str().expect("hmac_key").to_string();
    // 32 bytes, base64url without padding.
    assert_eq!(key.len(), 43, "{key}");
    assert!(key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

    // Set again: a new key.
    let again = h
        .send("PUT", &path, Some(&mrao), json!({ "url": url }))
        .await
        .expect(200);
    let second = again["hmac_key"].as_str().unwrap().to_string();
    assert_ne!(second, key);

    let listed = h.get("/api/v1/endpoints", &mrao).await;
    let text = listed.text();
    assert!(!text.contains(&key) && !text.contains(&second), "{text}");
    assert!(!text.contains("sealed") && !text.contains("hmac"), "{text}");
    let listed = listed.expect(200);
    let view = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| id_of(e) == scep)
        .unwrap()
        .clone();
    assert_eq!(view["scep_webhook_url"], url);
    let acme_view = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| id_of(e) == acme_endpoint)
        .unwrap()
        .clone();
    assert!(acme_view.get("scep_webhook_url").is_none());

    // Not for another kind; not a URL that is not http(s), carries credentials or is too long.
    h.send(
        "PUT",
        &format!("/api/v1/endpoints/{acme_endpoint}/scep-webhook"),
        Some(&mrao),
        json!({ "url": url }),
    )
    .await
    .expect_error(400, "invalid_input");
    for bad in [
        "ftp://mdm.acme.test/".to_string(),
        "mdm.acme.test/validate".to_string(),
        "https://user:secret@mdm.acme.test/".to_string(),
        "https://mdm.acme.test/a b".to_string(),
        format!("https://mdm.acme.test/{}", "a".repeat(3000)),
    ] {
        h.send("PUT", &path, Some(&mrao), json!({ "url": bad }))
            .await
            .expect_error(400, "invalid_input");
    }
    h.send(
        "PUT",
        "/api/v1/endpoints/999/scep-webhook",
        Some(&mrao),
        json!({ "url": url }),
    )
    .await
    .expect_error(404, "not_found");
    // An administrator who may request but not manage device endpoints may not set one.
    create_admin(
        &h,
        &mrao,
        json!({ "username": "rao", "role": "rao", "orgs": [acme],
                "privileges": { "device": ["request", "approve"] } }),
    )
    .await;
    let rao = h.login("rao", STRONG_PASSWORD).await;
    h.send("PUT", &path, Some(&rao), json!({ "url": url }))
        .await
        .expect_error(403, "forbidden");
    h.raw("DELETE", &path, Some(&rao), None, Bytes::new())
        .await
        .expect_error(403, "forbidden");

    // The audit log names the URL (not its query, which may carry the receiver's own
    // token), never a key.
    let audit = h.get("/api/v1/audit?limit=500", &mrao).await;
    let text = audit.text();
    assert!(!text.contains(&key) && !text.contains(&second));
    assert!(text.contains("https://mdm.acme.test/scep/validate") && !text.contains("tenant=7"));
    let audit = audit.expect(200);
    let sets = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "endpoint.scep_webhook.set" && e["outcome"] == "success")
        .count();
    assert_eq!(sets, 2);

    // Removed: 204, and the view says so.
    let removed = h
        .raw("DELETE", &path, Some(&mrao), None, Bytes::new())
        .await;
    assert_eq!(removed.status.as_u16(), 204, "{}", removed.text());
    assert!(removed.body.is_empty());
    let listed = h.get("/api/v1/endpoints", &mrao).await.expect(200);
    let view = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| id_of(e) == scep)
        .unwrap()
        .clone();
    assert!(view["scep_webhook_url"].is_null(), "{view}");
}
