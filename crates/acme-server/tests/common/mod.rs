//! The ACME server for real: a CA hierarchy and registration authority in a
//! temporary directory, an organization with delegated names and three ACME
//! endpoints, the server on an HTTPS listener (127.0.0.1, ephemeral port, a
//! certificate from the test's own CA), and the challenge responders the
//! validator talks to: http-01 (HTTP), tls-alpn-01 (TLS with ALPN acme-tls/1)
//! and a tiny DNS server answering TXT records for dns-01.
//!
//! Clients: instant-acme over a hyper-rustls client trusting the test root,
//! and a raw client that sends hand-made JWS for the bad-input tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acme_server::{AcmeConfig, AcmeServer};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceRequest;
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::names::SubjectAltName;
use ca_core::service::{CaService, CaServiceConfig};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, BodyWrapper, ChallengeType,
    ExternalAccountKey, Identifier, NewAccount, NewOrder, Order, OrderStatus, RetryPolicy,
};
use policy::model::{Address, Administrator, ApprovalMode, OrgId};
use policy::registry::{NewEndpoint, RegistrationAuthority};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::{json, Value};
use tokio::net::{TcpListener, UdpSocket};

/// The endpoint that issues at once.
pub const AUTO: &str = "auto";
/// The endpoint that requires an external account binding.
pub const EAB: &str = "eab";
/// The endpoint whose requests wait for an administrator.
pub const QUEUE: &str = "queue";
/// A TLS-server profile that takes EC keys only (the defaults take every key type),
/// for the tests of what a profile refuses at finalize. No endpoint uses it unless a
/// test makes one.
pub const EC_ONLY_PROFILE: &str = "tls-server-ec";
/// The domain delegated to the test organization.
pub const DOMAIN: &str = "example.test";
/// Labels under [`DOMAIN`] that the validator resolves to 127.0.0.1.
pub const LABELS: &[&str] = &[
    "www", "api", "mail", "shop", "app", "tls", "dns", "ari", "rev", "key", "eab", "queue", "bad",
    "one", "two", "three", "list", "reuse",
];

type HttpsConnector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A server and everything around it.
pub struct Harness {
    _dir: tempfile::TempDir,
    pub ra: Arc<RegistrationAuthority>,
    pub admin: Administrator,
    pub org: OrgId,
    pub base_url: String,
    pub root_der: Vec<u8>,
    /// EAB keys of the `eab` endpoint: (key id, HMAC key).
    pub eab_keys: Vec<(String, Vec<u8>)>,
    http01: Arc<Mutex<HashMap<String, String>>>,
    tls_alpn: Arc<AlpnCertificates>,
    dns: Arc<Mutex<HashMap<String, Vec<String>>>>,
    raw: Client<HttpsConnector, Full<Bytes>>,
    acme_http: Client<HttpsConnector, BodyWrapper<Bytes>>,
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

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The host names the validator resolves without DNS.
pub fn host(label: &str) -> String {
    format!("{label}.{DOMAIN}")
}

impl Harness {
    /// A harness with the default configuration (validation pointed at the responders).
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    /// A harness whose ACME configuration `tweak` may change.
    pub async fn start_with(tweak: impl FnOnce(&mut AcmeConfig)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = "http://127.0.0.1:8080";
        let cas = CaDirectory::new(dir.path());
        cas.create_root(
            &ca_spec("test-root", CaSubject::root_for("ACME Test"), 3650, None),
            &KeyProtection::InsecurePlaintext,
        )
        .expect("root CA");
        cas.create_subordinate(
            &ca_spec(
                "test-issuing",
                CaSubject::issuing_for("ACME Test"),
                1825,
                Some(0),
            ),
            "test-root",
            &KeyProtection::InsecurePlaintext,
            Some(&PublicationUrls::new(base)),
        )
        .expect("issuing CA");
        std::fs::write(
            dir.path().join(ca_core::service::PROFILES_FILE),
            format!(
                "{}\n\n[[profile]]\nname = \"{EC_ONLY_PROFILE}\"\n\
                 description = \"TLS server certificates for EC keys only.\"\n\
                 certificate_type = \"tls-server\"\n\
                 key_types = [\"ec-p256\", \"ec-p384\"]\nterms_days = [90]\ndefault_term_days = 90\n\
                 key_usage = [\"digital-signature\"]\nextended_key_usage = [\"server-auth\"]\n\
                 san_types = [\"dns\", \"ip\"]\nmax_sans = 100\n",
                ca_core::profile::DEFAULT_PROFILES_TOML
            ),
        )
        .expect("profiles.toml");
        let service = CaService::open(&CaServiceConfig::new(
            dir.path(),
            base,
            KeyProtection::InsecurePlaintext,
        ))
        .expect("CA service");
        let root_der = service.ca("test-root").unwrap().certificate_der().to_vec();
        let issuing_der = service
            .ca("test-issuing")
            .unwrap()
            .certificate_der()
            .to_vec();

        // The HTTPS listener's certificate, for 127.0.0.1.
        let server_key = rcgen::KeyPair::generate().unwrap();
        let csr_der = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .serialize_request(&server_key)
            .unwrap();
        let csr = VerifiedCsr::from_der(csr_der.der()).unwrap();
        let server_cert = service
            .issue(
                &IssuanceRequest {
                    csr: &csr,
                    profile: service.profile("tls-server").unwrap(),
                    names: Some(vec![SubjectAltName::Ip(Ipv4Addr::LOCALHOST.into())]),
                    term_days: None,
                    owner_subject: Default::default(),
                },
                "test",
            )
            .expect("server certificate");

        let ra = Arc::new(RegistrationAuthority::open(Arc::new(service), dir.path()).expect("RA"));
        let password = ra.bootstrap_mrao("admin").unwrap().unwrap();
        let (_, admin) = ra.login("admin", &password).unwrap();
        let org = ra
            .create_organization(&admin, "Example", Address::default())
            .unwrap()
            .id;
        ra.delegate_domain(&admin, DOMAIN, org, None).unwrap();
        ra.delegate_domain(&admin, "127.0.0.0/8", org, None)
            .unwrap();
        // Another organization's name, for the rejectedIdentifier tests.
        let other = ra
            .create_organization(&admin, "Other", Address::default())
            .unwrap()
            .id;
        ra.delegate_domain(&admin, "other.test", other, None)
            .unwrap();
        let mut eab_keys = Vec::new();
        for (name, approval, eab_required) in [
            (AUTO, ApprovalMode::Auto, false),
            (EAB, ApprovalMode::Auto, true),
            (QUEUE, ApprovalMode::Queue, false),
        ] {
            let (endpoint, _) = ra
                .create_endpoint(
                    &admin,
                    NewEndpoint {
                        name: name.into(),
                        kind: "acme".into(),
                        org,
                        dept: None,
                        profile: "tls-server".into(),
                        default_term_days: None,
                        approval,
                        eab_required,
                        est_username: None,
                        intune: None,
                    },
                )
                .unwrap();
            if eab_required {
                for _ in 0..2 {
                    let (kid, key) = ra.add_eab_key(&admin, endpoint.id).unwrap();
                    eab_keys.push((kid, URL_SAFE_NO_PAD.decode(key.as_bytes()).unwrap()));
                }
            }
        }

        let http01 = Arc::new(Mutex::new(HashMap::new()));
        let http_port = serve_http01(http01.clone()).await;
        let tls_alpn = Arc::new(AlpnCertificates::default());
        let tls_alpn_port = serve_tls_alpn(tls_alpn.clone()).await;
        let dns = Arc::new(Mutex::new(HashMap::new()));
        let dns_address = serve_dns(dns.clone()).await;

        let mut config = AcmeConfig::default();
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        config.validation.hosts.insert(DOMAIN.into(), localhost);
        for label in LABELS {
            config.validation.hosts.insert(host(label), localhost);
        }
        config.validation.http_port = http_port;
        config.validation.tls_alpn_port = tls_alpn_port;
        config.validation.dns_resolver = Some(dns_address);
        config.validation.timeout_secs = 5;
        config.retry_after_secs = 1;
        tweak(&mut config);

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("https://{}", listener.local_addr().unwrap());
        let server = AcmeServer::new(ra.clone(), config, base_url.clone());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let tls = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(server_cert.der.clone()),
                    CertificateDer::from(issuing_der),
                ],
                key,
            )
            .unwrap();
        serve_https(listener, Arc::new(tls), server);

        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(root_der.clone())).unwrap();
        let client_tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = || {
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(client_tls.clone())
                .https_only()
                .enable_http1()
                .build()
        };
        Harness {
            _dir: dir,
            ra,
            admin,
            org,
            base_url,
            root_der,
            eab_keys,
            http01,
            tls_alpn,
            dns,
            // No connection reuse for hand-made requests: the server answers some bad
            // requests (an oversized body) before reading them and then closes the
            // connection, which a pooled client could pick up again mid-close.
            raw: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector()),
            acme_http: Client::builder(TokioExecutor::new()).build(connector()),
        }
    }

    /// The directory URL of an endpoint.
    pub fn directory(&self, endpoint: &str) -> String {
        format!("{}/acme/{endpoint}/directory", self.base_url)
    }

    /// A URL under an endpoint.
    pub fn url(&self, endpoint: &str, path: &str) -> String {
        format!("{}/acme/{endpoint}/{path}", self.base_url)
    }

    /// An instant-acme account builder over the client that trusts the test root.
    pub fn builder(&self) -> instant_acme::AccountBuilder {
        Account::builder_with_http(Box::new(self.acme_http.clone()))
    }

    /// A new account at an endpoint.
    pub async fn account(&self, endpoint: &str) -> (Account, AccountCredentials) {
        self.account_with(endpoint, None)
            .await
            .expect("new account")
    }

    /// A new account at an endpoint, with an optional EAB.
    pub async fn account_with(
        &self,
        endpoint: &str,
        eab: Option<&ExternalAccountKey>,
    ) -> Result<(Account, AccountCredentials), instant_acme::Error> {
        self.builder()
            .create(
                &NewAccount {
                    contact: &["mailto:admin@example.test"],
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.directory(endpoint),
                eab,
            )
            .await
    }

    /// Makes the responders answer one challenge.
    pub fn provision(
        &self,
        kind: &ChallengeType,
        identifier: &Identifier,
        token: &str,
        key_authorization: &str,
    ) {
        match kind {
            ChallengeType::Http01 => {
                self.http01
                    .lock()
                    .unwrap()
                    .insert(token.to_string(), key_authorization.to_string());
            }
            ChallengeType::Dns01 => {
                let Identifier::Dns(name) = identifier else {
                    panic!("dns-01 for {identifier:?}")
                };
                let digest = aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    key_authorization.as_bytes(),
                );
                self.dns
                    .lock()
                    .unwrap()
                    .entry(format!("_acme-challenge.{name}"))
                    .or_default()
                    .push(URL_SAFE_NO_PAD.encode(digest.as_ref()));
            }
            ChallengeType::TlsAlpn01 => {
                let (san, sni) = match identifier {
                    Identifier::Dns(name) => (name.clone(), name.clone()),
                    Identifier::Ip(IpAddr::V4(ip)) => {
                        let [a, b, c, d] = ip.octets();
                        (ip.to_string(), format!("{d}.{c}.{b}.{a}.in-addr.arpa"))
                    }
                    other => panic!("tls-alpn-01 for {other:?}"),
                };
                self.tls_alpn.provision(&san, &sni, key_authorization);
            }
            other => panic!("no responder for {other:?}"),
        }
    }

    /// Runs an order to a certificate: every pending authorization through `kind`.
    pub async fn issue(
        &self,
        account: &Account,
        names: &[&str],
        kind: ChallengeType,
    ) -> (Order, String) {
        let mut order = self.authorized_order(account, names, kind, None).await;
        let (csr, _) = csr(names);
        order.finalize_csr(&csr).await.expect("finalize");
        let pem = order
            .poll_certificate(&RetryPolicy::new().timeout(Duration::from_secs(20)))
            .await
            .expect("certificate");
        (order, pem)
    }

    /// A new order with every authorization validated (ready to finalize).
    pub async fn authorized_order(
        &self,
        account: &Account,
        names: &[&str],
        kind: ChallengeType,
        replaces: Option<instant_acme::CertificateIdentifier<'static>>,
    ) -> Order {
        let identifiers = identifiers(names);
        let mut new_order = NewOrder::new(&identifiers);
        if let Some(replaces) = replaces {
            new_order = new_order.replaces(replaces);
        }
        let mut order = account.new_order(&new_order).await.expect("new order");
        self.validate(&mut order, kind).await;
        order
    }

    /// Answers every pending authorization of an order with `kind` and waits until ready.
    pub async fn validate(&self, order: &mut Order, kind: ChallengeType) {
        let mut authorizations = order.authorizations();
        while let Some(result) = authorizations.next().await {
            let mut authz = result.expect("authorization");
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => panic!("authorization is {other:?}"),
            }
            let mut challenge = authz
                .challenge(kind.clone())
                .unwrap_or_else(|| panic!("no {kind:?} challenge"));
            let key_authorization = challenge.key_authorization();
            let identifier = challenge.identifier().identifier.clone();
            self.provision(
                &kind,
                &identifier,
                &challenge.token,
                key_authorization.as_str(),
            );
            challenge.set_ready().await.expect("challenge ready");
        }
        let status = order
            .poll_ready(&RetryPolicy::new().timeout(Duration::from_secs(20)))
            .await
            .expect("order ready");
        assert_eq!(status, OrderStatus::Ready);
    }

    // ---------------------------------------------------------------- raw requests

    /// Sends a request as it is.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(url);
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let response = self
            .raw
            .request(builder.body(Full::new(body.into())).unwrap())
            .await
            .expect("HTTP request");
        Answer::read(response).await
    }

    /// A fresh nonce (HEAD newNonce).
    pub async fn nonce(&self, endpoint: &str) -> String {
        let answer = self
            .send("HEAD", &self.url(endpoint, "new-nonce"), None, Bytes::new())
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        answer.nonce()
    }

    /// POSTs a JWS.
    pub async fn post_jws(&self, url: &str, jws: Vec<u8>) -> Answer {
        self.send("POST", url, Some("application/jose+json"), jws)
            .await
    }
}

/// A raw answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    async fn read(response: Response<hyper::body::Incoming>) -> Answer {
        let (parts, body) = response.into_parts();
        Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.expect("body").to_bytes(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(300)])
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    pub fn links(&self) -> Vec<String> {
        self.headers
            .get_all("link")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    pub fn nonce(&self) -> String {
        self.header("replay-nonce").expect("Replay-Nonce")
    }

    /// Asserts a problem document of `kind` with `status`; returns it.
    #[track_caller]
    pub fn problem(&self, status: u16, kind: &str) -> Value {
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "not a problem: {} {}",
            self.status,
            String::from_utf8_lossy(&self.body)
        );
        let doc = self.json();
        assert_eq!(
            (self.status.as_u16(), doc["type"].as_str().unwrap_or("")),
            (
                status,
                format!("urn:ietf:params:acme:error:{kind}").as_str()
            ),
            "unexpected problem: {doc}"
        );
        assert!(self.header("replay-nonce").is_some(), "no Replay-Nonce");
        doc
    }
}

/// The instant-acme problem type of an error, e.g. "badCSR".
pub fn problem_type(error: &instant_acme::Error) -> String {
    match error {
        instant_acme::Error::Api(problem) => problem
            .r#type
            .as_deref()
            .unwrap_or("")
            .trim_start_matches("urn:ietf:params:acme:error:")
            .to_string(),
        other => panic!("not a problem: {other:?}"),
    }
}

/// Identifiers for names (an IP address is an IP identifier).
pub fn identifiers(names: &[&str]) -> Vec<Identifier> {
    names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Identifier::Ip(ip),
            Err(_) => Identifier::Dns(n.to_string()),
        })
        .collect()
}

/// A CSR (DER) for names, and its key.
pub fn csr(names: &[&str]) -> (Vec<u8>, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let der = params.serialize_request(&key).unwrap().der().to_vec();
    (der, key)
}

/// The DER certificates of a PEM chain.
pub fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    ca_core::authority::pem_certificates(pem).expect("PEM chain")
}

/// The RFC 9773 certID parts of a certificate: (AKI keyIdentifier, serial DER).
pub fn cert_id_parts(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    use x509_parser::extensions::ParsedExtension;
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    let aki = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
        .expect("AKI");
    (aki, cert.tbs_certificate.raw_serial().to_vec())
}

// ---------------------------------------------------------------- raw JWS

/// A P-256 key that signs raw JWS.
pub struct RawKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl RawKey {
    /// A fresh key.
    pub fn generate() -> RawKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        RawKey::from_pkcs8(pkcs8.as_ref())
    }

    /// A key from PKCS#8 (an instant-acme account's, a certificate's).
    pub fn from_pkcs8(pkcs8: &[u8]) -> RawKey {
        RawKey {
            pair: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).unwrap(),
            rng: SystemRandom::new(),
        }
    }

    /// The key of an instant-acme account.
    pub fn of(credentials: &AccountCredentials) -> RawKey {
        RawKey::from_pkcs8(credentials.private_key().secret_pkcs8_der())
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        })
    }

    /// A flattened JWS over `payload` (None: POST-as-GET) with the given protected header.
    pub fn sign_with_header(&self, header: Value, payload: Option<&Value>) -> Vec<u8> {
        let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap());
        let payload = payload
            .map(|p| URL_SAFE_NO_PAD.encode(serde_json::to_vec(p).unwrap()))
            .unwrap_or_default();
        let signature = self
            .pair
            .sign(&self.rng, format!("{protected}.{payload}").as_bytes())
            .unwrap();
        serde_json::to_vec(&json!({
            "protected": protected,
            "payload": payload,
            "signature": URL_SAFE_NO_PAD.encode(signature.as_ref()),
        }))
        .unwrap()
    }

    /// A JWS with a `kid`.
    pub fn sign_kid(&self, kid: &str, nonce: &str, url: &str, payload: Option<&Value>) -> Vec<u8> {
        self.sign_with_header(
            json!({"alg": "ES256", "kid": kid, "nonce": nonce, "url": url}),
            payload,
        )
    }

    /// A JWS with the `jwk`.
    pub fn sign_jwk(&self, nonce: &str, url: &str, payload: Option<&Value>) -> Vec<u8> {
        self.sign_with_header(
            json!({"alg": "ES256", "jwk": self.jwk(), "nonce": nonce, "url": url}),
            payload,
        )
    }
}

// ---------------------------------------------------------------- responders

async fn serve_http01(tokens: Arc<Mutex<HashMap<String, String>>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let tokens = tokens.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let answer = request
                            .uri()
                            .path()
                            .strip_prefix("/.well-known/acme-challenge/")
                            .and_then(|token| tokens.lock().unwrap().get(token).cloned());
                        async move {
                            let mut response = Response::new(Full::new(Bytes::from(
                                answer.clone().unwrap_or_default(),
                            )));
                            if answer.is_none() {
                                *response.status_mut() = StatusCode::NOT_FOUND;
                            }
                            Ok::<_, Infallible>(response)
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    port
}

/// tls-alpn-01 certificates by SNI name.
#[derive(Debug, Default)]
struct AlpnCertificates(Mutex<HashMap<String, Arc<CertifiedKey>>>);

impl AlpnCertificates {
    fn provision(&self, san: &str, sni: &str, key_authorization: &str) {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key_authorization.as_bytes());
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![san.to_string()]).unwrap();
        params.custom_extensions =
            vec![rcgen::CustomExtension::new_acme_identifier(digest.as_ref())];
        let cert = params.self_signed(&key).unwrap();
        let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(
            &PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
        self.0.lock().unwrap().insert(
            sni.to_string(),
            Arc::new(CertifiedKey::new(vec![cert.der().clone()], signing_key)),
        );
    }
}

impl ResolvesServerCert for AlpnCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?.to_ascii_lowercase();
        self.0.lock().unwrap().get(&name).cloned()
    }
}

async fn serve_tls_alpn(certificates: Arc<AlpnCertificates>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"acme-tls/1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // The handshake is the whole answer; the validator closes afterwards.
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tls).await;
                }
            });
        }
    });
    port
}

/// Answers TXT queries from `records` (name → values); NXDOMAIN for other names.
async fn serve_dns(records: Arc<Mutex<HashMap<String, Vec<String>>>>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 1500];
        loop {
            let Ok((n, peer)) = socket.recv_from(&mut buffer).await else {
                continue;
            };
            let answer = dns_answer(&buffer[..n], &records.lock().unwrap());
            if let Some(answer) = answer {
                let _ = socket.send_to(&answer, peer).await;
            }
        }
    });
    address
}

fn dns_answer(query: &[u8], records: &HashMap<String, Vec<String>>) -> Option<Vec<u8>> {
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(pos)?);
        pos += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(pos..pos + len)?).to_ascii_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*query.get(pos)?, *query.get(pos + 1)?]);
    pos += 4;
    let question = query.get(12..pos)?;
    let name = labels.join(".");
    let values = records.get(&name);
    let answers: Vec<&String> = match (qtype, values) {
        (16, Some(values)) => values.iter().collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&query[..2]);
    out.push(0x84 | (query[2] & 0x01)); // response, authoritative, RD echoed
    out.push(if values.is_some() { 0x80 } else { 0x83 }); // RA; NOERROR or NXDOMAIN
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(question);
    for value in answers {
        out.extend_from_slice(&[0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 0]);
        out.extend_from_slice(&((value.len() + 1) as u16).to_be_bytes());
        out.push(value.len() as u8);
        out.extend_from_slice(value.as_bytes());
    }
    Some(out)
}

fn serve_https(listener: TcpListener, tls: Arc<rustls::ServerConfig>, server: AcmeServer) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let server = server.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(server.handle(request).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
}

/// The error of an instant-acme call that must fail (its values are not `Debug`).
pub trait Failed {
    /// The error; panics if the call succeeded.
    fn failed(self) -> instant_acme::Error;
}

impl<T> Failed for Result<T, instant_acme::Error> {
    #[track_caller]
    fn failed(self) -> instant_acme::Error {
        match self {
            Ok(_) => panic!("the call succeeded but should have failed"),
            Err(e) => e,
        }
    }
}
