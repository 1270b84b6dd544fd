//! Challenge validation against real servers on loopback: http-01 against a
//! small hyper server, dns-01 against a small UDP DNS responder, tls-alpn-01
//! against a tokio-rustls server with an rcgen certificate. Every listener is
//! on 127.0.0.1 with an ephemeral port; names map to 127.0.0.1 through
//! `ValidationConfig::hosts` (or through the test DNS responder).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acme_server::validation::{
    ChallengeAttempt, ChallengeKind, Identifier, ValidationConfig, ValidationError,
    ValidationRecord, Validator,
};
use base64::Engine as _;
use bytes::Bytes;
use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, TXT};
use hickory_resolver::proto::rr::{RData, Record};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";

fn key_authorization(token: &str) -> String {
    format!("{token}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI")
}

fn sha256(data: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data.as_bytes());
    digest.as_ref().try_into().unwrap()
}

/// base64url(SHA-256(key authorization)), computed here independently of the crate.
fn dns01_value(key_authorization: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(key_authorization))
}

/// A loopback UDP port with nothing listening on it (bound, then released).
async fn dead_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.local_addr().unwrap()
}

/// A loopback TCP port with nothing listening on it (bound, then released).
async fn dead_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A configuration where the given names are 127.0.0.1 and the resolver is a
/// loopback port with nothing behind it (so that nothing ever leaves the machine).
async fn config(names: &[&str]) -> ValidationConfig {
    ValidationConfig {
        hosts: names
            .iter()
            .map(|name| (name.to_string(), LOCALHOST))
            .collect(),
        http_port: dead_tcp_port().await,
        tls_alpn_port: dead_tcp_port().await,
        dns_resolver: Some(dead_udp_port().await),
        timeout: Duration::from_secs(5),
    }
}

async fn validate(
    config: ValidationConfig,
    kind: ChallengeKind,
    identifier: Identifier,
    key_authorization: &str,
) -> Result<ValidationRecord, ValidationError> {
    let validator = Validator::new(config);
    validator
        .validate(ChallengeAttempt {
            kind,
            identifier: &identifier,
            token: TOKEN,
            key_authorization,
        })
        .await
}

fn dns(name: &str) -> Identifier {
    Identifier::Dns(name.to_owned())
}

// ---------------------------------------------------------------- http-01

type Handler = dyn Fn(&Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync;

/// What the test HTTP server saw: (Host header, path) of each request.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

fn serve_http<S>(stream: S, handler: Arc<Handler>, seen: Seen)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = service_fn(move |request: Request<Incoming>| {
            let host = request
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned();
            seen.lock()
                .unwrap()
                .push((host, request.uri().path().to_owned()));
            let response = handler(&request);
            async move { Ok::<_, Infallible>(response) }
        });
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .await;
    });
}

/// A plain HTTP/1.1 server on 127.0.0.1:<ephemeral>.
async fn http_server(
    handler: impl Fn(&Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + 'static,
) -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler: Arc<Handler> = Arc::new(handler);
    let seen: Seen = Arc::default();
    let seen_by_server = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            serve_http(stream, handler.clone(), seen_by_server.clone());
        }
    });
    (port, seen)
}

fn respond(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(body.into()))
        .unwrap()
}

fn challenge_path() -> String {
    format!("/.well-known/acme-challenge/{TOKEN}")
}

/// Serves `body` at the challenge path and 404 elsewhere.
async fn challenge_server(body: String) -> (u16, Seen) {
    http_server(move |request| {
        if request.uri().path() == challenge_path() {
            respond(StatusCode::OK, body.clone())
        } else {
            respond(StatusCode::NOT_FOUND, "not found")
        }
    })
    .await
}

#[tokio::test]
async fn http01_valid() {
    let key_auth = key_authorization(TOKEN);
    // Trailing whitespace is ignored (RFC 8555 §8.3).
    let (port, seen) = challenge_server(format!("{key_auth}\r\n")).await;
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    let record = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(
        record,
        ValidationRecord {
            url: Some(format!(
                "http://www.example.test:{port}{}",
                challenge_path()
            )),
            hostname: "www.example.test".into(),
            port: Some(port),
            addresses_resolved: vec![LOCALHOST],
            address_used: Some(LOCALHOST),
        }
    );
    // The Host header is the identifier, without the (test) port.
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        &[("www.example.test".to_owned(), challenge_path())]
    );
}

#[tokio::test]
async fn http01_wrong_body() {
    let key_auth = key_authorization(TOKEN);
    let (port, _) = challenge_server("someone else's key authorization".into()).await;
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap_err();
    match &error {
        ValidationError::IncorrectResponse(message) => {
            assert!(
                message.contains("someone else's key authorization"),
                "{message}"
            )
        }
        other => panic!("expected IncorrectResponse, got {other:?}"),
    }
    assert_eq!(error.acme_type(), "incorrectResponse");
}

#[tokio::test]
async fn http01_not_found() {
    let (port, _) = http_server(|_| respond(StatusCode::NOT_FOUND, "nope")).await;
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    match error {
        ValidationError::IncorrectResponse(message) => {
            assert!(message.contains("404"), "{message}")
        }
        other => panic!("expected IncorrectResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn http01_nothing_listening() {
    let config = config(&["www.example.test"]).await; // http_port: nothing there
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ValidationError::Connection(_)), "{error:?}");
}

#[tokio::test]
async fn http01_server_that_never_answers_times_out() {
    // Accepts connections and never writes a byte.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    config.timeout = Duration::from_millis(800);
    let started = Instant::now();
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    match error {
        ValidationError::Connection(message) => assert!(message.contains("timed out"), "{message}"),
        other => panic!("expected Connection, got {other:?}"),
    }
    server.abort();
}

#[tokio::test]
async fn http01_huge_streamed_body_is_cut_at_the_limit() {
    // A raw HTTP/1.1 response with no Content-Length and a body of up to
    // 64 MiB, written until the client goes away.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let written = Arc::new(Mutex::new(0usize));
    let written_by_server = written.clone();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..1024 {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
            *written_by_server.lock().unwrap() += chunk.len();
        }
    });
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    match error {
        ValidationError::IncorrectResponse(message) => {
            assert!(message.contains("longer than 16384 bytes"), "{message}");
            assert!(message.contains("aaaa"), "{message}");
            assert!(
                message.len() < 1024,
                "the message is not truncated: {}",
                message.len()
            );
        }
        other => panic!("expected IncorrectResponse, got {other:?}"),
    }
    // The client stopped reading long before the 64 MiB were sent.
    assert!(*written.lock().unwrap() < 64 * 1024 * 1024);
}

#[tokio::test]
async fn http01_declared_huge_body_is_refused() {
    let (port, _) = http_server(|_| respond(StatusCode::OK, vec![b'x'; 1024 * 1024])).await;
    let mut config = config(&["www.example.test"]).await;
    config.http_port = port;
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ValidationError::IncorrectResponse(m) if m.contains("Content-Length")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http01_ip_identifier() {
    let key_auth = key_authorization(TOKEN);
    let (port, seen) = challenge_server(key_auth.clone()).await;
    let mut config = config(&[]).await;
    config.http_port = port;
    let record = validate(
        config,
        ChallengeKind::Http01,
        Identifier::Ip(LOCALHOST),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(
        record.url.as_deref(),
        Some(format!("http://127.0.0.1:{port}{}", challenge_path()).as_str())
    );
    assert_eq!(record.hostname, "127.0.0.1");
    assert_eq!(record.address_used, Some(LOCALHOST));
    assert_eq!(seen.lock().unwrap()[0].0, "127.0.0.1");
}

#[tokio::test]
async fn http01_wildcard_is_unauthorized() {
    let config = config(&["example.test"]).await;
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("*.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ValidationError::Unauthorized(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn http01_follows_a_redirect() {
    let key_auth = key_authorization(TOKEN);
    let served = key_auth.clone();
    // The port is only known once bound: the handler reads it from here.
    let port_cell = Arc::new(Mutex::new(0u16));
    let port_for_handler = port_cell.clone();
    let (port, seen) = http_server(move |request| {
        let port = *port_for_handler.lock().unwrap();
        match request.uri().path() {
            "/final" => respond(StatusCode::OK, served.clone()),
            path if path == challenge_path() => Response::builder()
                .status(StatusCode::FOUND)
                .header(
                    http::header::LOCATION,
                    format!("http://other.example.test:{port}/final"),
                )
                .body(Full::new(Bytes::new()))
                .unwrap(),
            _ => respond(StatusCode::NOT_FOUND, ""),
        }
    })
    .await;
    *port_cell.lock().unwrap() = port;
    let mut config = config(&["www.example.test", "other.example.test"]).await;
    config.http_port = port;
    let record = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(
        record.url.as_deref(),
        Some(format!("http://other.example.test:{port}/final").as_str())
    );
    assert_eq!(record.hostname, "other.example.test");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        &[
            ("www.example.test".to_owned(), challenge_path()),
            (format!("other.example.test:{port}"), "/final".to_owned()),
        ]
    );
}

#[tokio::test]
async fn http01_refuses_redirects_to_other_ports_and_loops() {
    let (port, _) = http_server(|request| {
        let location = match request.uri().path() {
            "/loop" => "/loop",
            _ => "http://www.example.test:65001/elsewhere",
        };
        Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(http::header::LOCATION, location)
            .body(Full::new(Bytes::new()))
            .unwrap()
    })
    .await;
    let mut config_a = config(&["www.example.test"]).await;
    config_a.http_port = port;
    let error = validate(
        config_a.clone(),
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ValidationError::Connection(m) if m.contains("only ports")),
        "{error:?}"
    );

    let (loop_port, seen) = http_server(|_| {
        Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(http::header::LOCATION, "/loop")
            .body(Full::new(Bytes::new()))
            .unwrap()
    })
    .await;
    config_a.http_port = loop_port;
    let error = validate(
        config_a,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, ValidationError::Connection(m) if m.contains("loop")),
        "{error:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn http01_follows_a_redirect_to_https() {
    let key_auth = key_authorization(TOKEN);
    // The https side: a TLS server (self-signed, not verified by the
    // validator, as Boulder does for redirects) on what stands for port 443.
    let (certificate, key) = certificate(&["secure.example.test"], None);
    let tls_config = server_tls_config(certificate, key, vec![b"http/1.1".to_vec()]);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    let tls_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tls_port = tls_listener.local_addr().unwrap().port();
    let served = key_auth.clone();
    let handler: Arc<Handler> = Arc::new(move |request: &Request<Incoming>| {
        if request.uri().path() == "/secure" {
            respond(StatusCode::OK, served.clone())
        } else {
            respond(StatusCode::NOT_FOUND, "")
        }
    });
    let https_seen: Seen = Arc::default();
    let https_seen_by_server = https_seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = tls_listener.accept().await {
            if let Ok(tls) = acceptor.accept(stream).await {
                serve_http(tls, handler.clone(), https_seen_by_server.clone());
            }
        }
    });
    // The http side redirects to https without a port: the configured https port.
    let (port, _) = http_server(|_| {
        Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(http::header::LOCATION, "https://secure.example.test/secure")
            .body(Full::new(Bytes::new()))
            .unwrap()
    })
    .await;
    let mut config = config(&["www.example.test", "secure.example.test"]).await;
    config.http_port = port;
    config.tls_alpn_port = tls_port;
    let record = validate(
        config,
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(
        record.url.as_deref(),
        Some(format!("https://secure.example.test:{tls_port}/secure").as_str())
    );
    assert_eq!(record.port, Some(tls_port));
    assert_eq!(
        https_seen.lock().unwrap().as_slice(),
        &[("secure.example.test".to_owned(), "/secure".to_owned())]
    );
}

// ---------------------------------------------------------------- dns-01

/// TEST SCAFFOLDING: a minimal authoritative DNS responder on
/// 127.0.0.1:<ephemeral> (UDP). It answers each question from a fixed list of
/// records: the matching records if the name and type are there, an empty
/// NOERROR if the name exists with other types, NXDOMAIN otherwise. Messages
/// are built with hickory-proto's types (re-exported by hickory-resolver).
async fn dns_server(records: Vec<(&str, RData)>) -> SocketAddr {
    let records: Vec<(String, RData)> = records
        .into_iter()
        .map(|(name, data)| (name.to_ascii_lowercase(), data))
        .collect();
    dns_server_shared(Arc::new(Mutex::new(records))).await
}

/// [`dns_server`] whose records the test may change while it runs
/// (owner names in lower case, without a final dot).
async fn dns_server_shared(records: Arc<Mutex<Vec<(String, RData)>>>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buffer = [0u8; 4096];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buffer).await else {
                return;
            };
            let Ok(request) = Message::from_vec(&buffer[..len]) else {
                continue;
            };
            let mut response = Message::response(request.metadata.id, request.metadata.op_code);
            response.metadata.authoritative = true;
            response.metadata.recursion_desired = request.metadata.recursion_desired;
            response.edns = request.edns.clone();
            if let Some(query) = request.queries.first() {
                response.add_query(query.clone());
                let name = query.name().to_string().to_ascii_lowercase();
                let name = name.trim_end_matches('.');
                let mut name_exists = false;
                for (owner, data) in records.lock().unwrap().iter() {
                    if owner == name {
                        name_exists = true;
                        if data.record_type() == query.query_type() {
                            response.add_answer(Record::from_rdata(
                                query.name().clone(),
                                60,
                                data.clone(),
                            ));
                        }
                    }
                }
                if !name_exists {
                    response.metadata.response_code = ResponseCode::NXDomain;
                }
            }
            if let Ok(bytes) = response.to_vec() {
                let _ = socket.send_to(&bytes, peer).await;
            }
        }
    });
    address
}

fn txt(value: &str) -> RData {
    RData::TXT(TXT::new(vec![value.to_owned()]))
}

#[tokio::test]
async fn dns01_valid() {
    let key_auth = key_authorization(TOKEN);
    let resolver = dns_server(vec![
        ("_acme-challenge.example.test", txt("an unrelated record")),
        ("_acme-challenge.example.test", txt(&dns01_value(&key_auth))),
    ])
    .await;
    let mut config = config(&[]).await;
    config.dns_resolver = Some(resolver);
    let record = validate(config, ChallengeKind::Dns01, dns("example.test"), &key_auth)
        .await
        .unwrap();
    assert_eq!(
        record,
        ValidationRecord {
            url: None,
            hostname: "example.test".into(),
            port: None,
            addresses_resolved: vec![],
            address_used: None,
        }
    );
}

#[tokio::test]
async fn dns01_value_split_into_character_strings() {
    let key_auth = key_authorization(TOKEN);
    let value = dns01_value(&key_auth);
    let (first, second) = value.split_at(20);
    let resolver = dns_server(vec![(
        "_acme-challenge.example.test",
        RData::TXT(TXT::new(vec![first.to_owned(), second.to_owned()])),
    )])
    .await;
    let mut config = config(&[]).await;
    config.dns_resolver = Some(resolver);
    validate(config, ChallengeKind::Dns01, dns("example.test"), &key_auth)
        .await
        .unwrap();
}

#[tokio::test]
async fn dns01_answers_are_not_cached() {
    // A client that fixes its TXT record and asks again is seen at once by
    // the same validator (no positive or negative caching).
    let key_auth = key_authorization(TOKEN);
    let records = Arc::new(Mutex::new(Vec::new()));
    let resolver = dns_server_shared(records.clone()).await;
    let mut config = config(&[]).await;
    config.dns_resolver = Some(resolver);
    let validator = Validator::new(config);
    let identifier = dns("example.test");
    let attempt = ChallengeAttempt {
        kind: ChallengeKind::Dns01,
        identifier: &identifier,
        token: TOKEN,
        key_authorization: &key_auth,
    };
    let error = validator.validate(attempt.clone()).await.unwrap_err();
    assert!(
        matches!(error, ValidationError::IncorrectResponse(_)),
        "{error:?}"
    );
    records.lock().unwrap().push((
        "_acme-challenge.example.test".to_owned(),
        txt(&dns01_value("stale")),
    ));
    let error = validator.validate(attempt.clone()).await.unwrap_err();
    assert!(
        matches!(error, ValidationError::IncorrectResponse(_)),
        "{error:?}"
    );
    records.lock().unwrap()[0].1 = txt(&dns01_value(&key_auth));
    validator.validate(attempt).await.unwrap();
}

#[tokio::test]
async fn dns01_wrong_txt() {
    let key_auth = key_authorization(TOKEN);
    let resolver = dns_server(vec![(
        "_acme-challenge.example.test",
        txt(&dns01_value("another.key-authorization")),
    )])
    .await;
    let mut config = config(&[]).await;
    config.dns_resolver = Some(resolver);
    let error = validate(config, ChallengeKind::Dns01, dns("example.test"), &key_auth)
        .await
        .unwrap_err();
    match error {
        ValidationError::IncorrectResponse(message) => assert!(
            message.contains(&dns01_value("another.key-authorization")),
            "{message}"
        ),
        other => panic!("expected IncorrectResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn dns01_no_record() {
    let key_auth = key_authorization(TOKEN);
    // NXDOMAIN for _acme-challenge.missing.test; and an empty NOERROR for a
    // name that has only an A record.
    let resolver = dns_server(vec![(
        "_acme-challenge.a-only.test",
        RData::A(A::new(127, 0, 0, 1)),
    )])
    .await;
    for name in ["missing.test", "a-only.test"] {
        let mut config = config(&[]).await;
        config.dns_resolver = Some(resolver);
        let error = validate(config, ChallengeKind::Dns01, dns(name), &key_auth)
            .await
            .unwrap_err();
        match error {
            ValidationError::IncorrectResponse(message) => assert!(
                message.contains(&format!("no TXT record at _acme-challenge.{name}")),
                "{message}"
            ),
            other => panic!("expected IncorrectResponse for {name}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn dns01_unreachable_resolver() {
    let mut config = config(&[]).await; // dns_resolver: nothing listening
    config.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let error = validate(
        config,
        ChallengeKind::Dns01,
        dns("example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ValidationError::Dns(_)), "{error:?}");
    assert_eq!(error.acme_type(), "dns");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn dns01_ip_identifier_is_unauthorized() {
    let config = config(&[]).await;
    let error = validate(
        config,
        ChallengeKind::Dns01,
        Identifier::Ip(LOCALHOST),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ValidationError::Unauthorized(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn http01_name_resolved_through_the_resolver() {
    // A name that is not in `hosts` is looked up (A/AAAA) at the resolver.
    let key_auth = key_authorization(TOKEN);
    let (port, _) = challenge_server(key_auth.clone()).await;
    let resolver = dns_server(vec![("www.example.test", RData::A(A::new(127, 0, 0, 1)))]).await;
    let mut config = config(&[]).await;
    config.http_port = port;
    config.dns_resolver = Some(resolver);
    let record = validate(
        config.clone(),
        ChallengeKind::Http01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(record.addresses_resolved, vec![LOCALHOST]);
    // A name the resolver does not know is a DNS error.
    let error = validate(
        config,
        ChallengeKind::Http01,
        dns("unknown.example.test"),
        &key_auth,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ValidationError::Dns(_)), "{error:?}");
}

// ---------------------------------------------------------------- tls-alpn-01

/// A self-signed certificate for `names` (IP addresses become iPAddress
/// SANs), with the acmeIdentifier extension if a digest is given.
fn certificate(
    names: &[&str],
    acme_identifier: Option<rcgen::CustomExtension>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    certificate_with(&rcgen::PKCS_ECDSA_P256_SHA256, names, acme_identifier)
}

/// [`certificate`] with a key of the given algorithm.
fn certificate_with(
    algorithm: &'static rcgen::SignatureAlgorithm,
    names: &[&str],
    acme_identifier: Option<rcgen::CustomExtension>,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    params.custom_extensions.extend(acme_identifier);
    let certificate = params.self_signed(&key).unwrap();
    (
        certificate.der().clone(),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

fn server_tls_config(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: Vec<Vec<u8>>,
) -> Arc<rustls::ServerConfig> {
    server_tls_config_with(certificate, key, alpn, rustls::DEFAULT_VERSIONS)
}

/// A server configuration limited to `versions`. The key is not checked
/// against the certificate, so a test can make the server sign with a key
/// that is not the certificate's.
fn server_tls_config_with(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: Vec<Vec<u8>>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    // Not `with_single_cert`: it parses the certificate with webpki, which
    // refuses the (critical, unknown to it) acmeIdentifier extension.
    let signing_key = provider.key_provider.load_private_key(key).unwrap();
    let certified = rustls::sign::CertifiedKey::new(vec![certificate], signing_key);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
    config.alpn_protocols = alpn;
    Arc::new(config)
}

/// A TLS server presenting `certificate` with the given ALPN protocols; it
/// records the SNI of each completed handshake.
async fn tls_server(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: Vec<Vec<u8>>,
) -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    tls_server_with(server_tls_config(certificate, key, alpn)).await
}

async fn tls_server_with(
    config: Arc<rustls::ServerConfig>,
) -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sni: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let sni_by_server = sni.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let sni = sni_by_server.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    let name = tls.get_ref().1.server_name().map(str::to_owned);
                    sni.lock().unwrap().push(name);
                    // Wait for the client to close.
                    let mut buffer = [0u8; 64];
                    let _ = tls.read(&mut buffer).await;
                }
            });
        }
    });
    (port, sni)
}

fn acme_tls() -> Vec<Vec<u8>> {
    vec![b"acme-tls/1".to_vec()]
}

fn acme_identifier(key_authorization: &str) -> Option<rcgen::CustomExtension> {
    Some(rcgen::CustomExtension::new_acme_identifier(&sha256(
        key_authorization,
    )))
}

#[tokio::test]
async fn tls_alpn01_valid() {
    let key_auth = key_authorization(TOKEN);
    let (cert, key) = certificate(&["www.example.test"], acme_identifier(&key_auth));
    let (port, sni) = tls_server(cert, key, acme_tls()).await;
    let mut config = config(&["www.example.test"]).await;
    config.tls_alpn_port = port;
    let record = validate(
        config,
        ChallengeKind::TlsAlpn01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(
        record,
        ValidationRecord {
            url: None,
            hostname: "www.example.test".into(),
            port: Some(port),
            addresses_resolved: vec![LOCALHOST],
            address_used: Some(LOCALHOST),
        }
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        sni.lock().unwrap().as_slice(),
        &[Some("www.example.test".to_owned())]
    );
}

#[tokio::test]
async fn tls_alpn01_ip_identifier() {
    let key_auth = key_authorization(TOKEN);
    let (cert, key) = certificate(&["127.0.0.1"], acme_identifier(&key_auth));
    let (port, sni) = tls_server(cert, key, acme_tls()).await;
    let mut config = config(&[]).await;
    config.tls_alpn_port = port;
    let record = validate(
        config,
        ChallengeKind::TlsAlpn01,
        Identifier::Ip(LOCALHOST),
        &key_auth,
    )
    .await
    .unwrap();
    assert_eq!(record.address_used, Some(LOCALHOST));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // RFC 8738 §6: the SNI is the reverse-DNS name.
    assert_eq!(
        sni.lock().unwrap().as_slice(),
        &[Some("1.0.0.127.in-addr.arpa".to_owned())]
    );
}

#[tokio::test]
async fn tls_alpn01_key_types_and_tls_versions() {
    // The handshake signature is checked with the certificate's key (not
    // through webpki, which refuses the critical acmeIdentifier extension):
    // each key type over TLS 1.2 and TLS 1.3.
    let key_auth = key_authorization(TOKEN);
    for algorithm in [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
        &rcgen::PKCS_ED25519,
        &rcgen::PKCS_RSA_SHA256,
    ] {
        for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
            let (cert, key) =
                certificate_with(algorithm, &["www.example.test"], acme_identifier(&key_auth));
            let (port, _) =
                tls_server_with(server_tls_config_with(cert, key, acme_tls(), &[version])).await;
            let mut config = config(&["www.example.test"]).await;
            config.tls_alpn_port = port;
            let result = validate(
                config,
                ChallengeKind::TlsAlpn01,
                dns("www.example.test"),
                &key_auth,
            )
            .await;
            assert!(result.is_ok(), "{algorithm:?} {version:?}: {result:?}");
        }
    }
}

#[tokio::test]
async fn tls_alpn01_server_without_the_certificates_key() {
    // The server presents a good validation certificate but signs the
    // handshake with another key: the handshake fails, over TLS 1.2 and 1.3.
    let key_auth = key_authorization(TOKEN);
    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let (cert, _) = certificate(&["www.example.test"], acme_identifier(&key_auth));
        let (_, other_key) = certificate(&["www.example.test"], None);
        let (port, _) = tls_server_with(server_tls_config_with(
            cert,
            other_key,
            acme_tls(),
            &[version],
        ))
        .await;
        let mut config = config(&["www.example.test"]).await;
        config.tls_alpn_port = port;
        let error = validate(
            config,
            ChallengeKind::TlsAlpn01,
            dns("www.example.test"),
            &key_auth,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ValidationError::Tls(_)),
            "{version:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn tls_alpn01_wrong_digest() {
    let key_auth = key_authorization(TOKEN);
    let (cert, key) = certificate(
        &["www.example.test"],
        acme_identifier("another.key-authorization"),
    );
    let (port, _) = tls_server(cert, key, acme_tls()).await;
    let mut config = config(&["www.example.test"]).await;
    config.tls_alpn_port = port;
    let error = validate(
        config,
        ChallengeKind::TlsAlpn01,
        dns("www.example.test"),
        &key_auth,
    )
    .await
    .unwrap_err();
    match error {
        ValidationError::IncorrectResponse(message) => {
            assert!(message.contains("acmeIdentifier"), "{message}");
            assert!(
                message.contains(&hex::encode(sha256("another.key-authorization"))),
                "{message}"
            );
        }
        other => panic!("expected IncorrectResponse, got {other:?}"),
    }
}

#[tokio::test]
async fn tls_alpn01_missing_or_non_critical_extension() {
    let key_auth = key_authorization(TOKEN);
    let mut non_critical = rcgen::CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 31],
        [&[0x04, 0x20][..], &sha256(&key_auth)[..]].concat(),
    );
    non_critical.set_criticality(false);
    for (extension, expected) in [
        (None, "no acmeIdentifier"),
        (Some(non_critical), "not critical"),
    ] {
        let (cert, key) = certificate(&["www.example.test"], extension);
        let (port, _) = tls_server(cert, key, acme_tls()).await;
        let mut config = config(&["www.example.test"]).await;
        config.tls_alpn_port = port;
        let error = validate(
            config,
            ChallengeKind::TlsAlpn01,
            dns("www.example.test"),
            &key_auth,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&error, ValidationError::IncorrectResponse(m) if m.contains(expected)),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn tls_alpn01_without_acme_tls_alpn() {
    let key_auth = key_authorization(TOKEN);
    // A server offering only h2 (the handshake fails: no common protocol),
    // and one with no ALPN at all (the handshake succeeds without a protocol).
    for alpn in [vec![b"h2".to_vec()], vec![]] {
        let (cert, key) = certificate(&["www.example.test"], acme_identifier(&key_auth));
        let (port, _) = tls_server(cert, key, alpn.clone()).await;
        let mut config = config(&["www.example.test"]).await;
        config.tls_alpn_port = port;
        let error = validate(
            config,
            ChallengeKind::TlsAlpn01,
            dns("www.example.test"),
            &key_auth,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, ValidationError::Tls(_)),
            "ALPN {alpn:?}: {error:?}"
        );
        assert_eq!(error.acme_type(), "tls");
    }
}

#[tokio::test]
async fn tls_alpn01_san_mismatch() {
    let key_auth = key_authorization(TOKEN);
    // Another host; and the right host along with another one.
    for names in [
        &["other.example.test"][..],
        &["www.example.test", "other.example.test"][..],
    ] {
        let (cert, key) = certificate(names, acme_identifier(&key_auth));
        let (port, _) = tls_server(cert, key, acme_tls()).await;
        let mut config = config(&["www.example.test"]).await;
        config.tls_alpn_port = port;
        let error = validate(
            config,
            ChallengeKind::TlsAlpn01,
            dns("www.example.test"),
            &key_auth,
        )
        .await
        .unwrap_err();
        match error {
            ValidationError::IncorrectResponse(message) => {
                assert!(message.contains("other.example.test"), "{message}")
            }
            other => panic!("{names:?}: expected IncorrectResponse, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn tls_alpn01_nothing_listening() {
    let config = config(&["www.example.test"]).await;
    let error = validate(
        config,
        ChallengeKind::TlsAlpn01,
        dns("www.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ValidationError::Connection(_)), "{error:?}");
}

#[tokio::test]
async fn tls_alpn01_wildcard_is_unauthorized() {
    let config = config(&["example.test"]).await;
    let error = validate(
        config,
        ChallengeKind::TlsAlpn01,
        dns("*.example.test"),
        &key_authorization(TOKEN),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, ValidationError::Unauthorized(_)),
        "{error:?}"
    );
}

#[test]
fn validator_is_send_and_sync_and_its_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Validator>();
    let validator = Validator::new(ValidationConfig {
        dns_resolver: Some(SocketAddr::from(([127, 0, 0, 1], 9))),
        ..ValidationConfig::default()
    });
    let identifier = dns("example.test");
    let future = validator.validate(ChallengeAttempt {
        kind: ChallengeKind::Http01,
        identifier: &identifier,
        token: TOKEN,
        key_authorization: "x",
    });
    assert_send(&future);
}
