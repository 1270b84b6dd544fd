//! http-01 (RFC 8555 §8.3): GET the key authorization over HTTP/1.1.

use std::net::IpAddr;

use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;

use super::net::{self, Phase, Progress};
use super::{
    Identifier, ValidationConfig, ValidationError, ValidationRecord, Validator, HTTP01_MAX_BODY,
    HTTP01_MAX_REDIRECTS,
};

const USER_AGENT: &str = concat!("Certwright-ACME-validation/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The standard port, left out of URLs.
    fn standard_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// Lower-case, without a final dot.
    Name(String),
    Ip(IpAddr),
}

/// One URL to fetch.
#[derive(Debug, Clone)]
struct Target {
    scheme: Scheme,
    host: Host,
    port: u16,
    /// Whether the Host header names the port (a redirect's Location did).
    explicit_port: bool,
    /// Path and query, from '/'.
    path: String,
}

impl Target {
    /// The host as written in a URL or a Host header (IPv6 in brackets).
    fn host_text(&self) -> String {
        match &self.host {
            Host::Name(name) => name.clone(),
            Host::Ip(IpAddr::V4(ip)) => ip.to_string(),
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        }
    }

    fn url(&self) -> String {
        if self.port == self.scheme.standard_port() {
            format!(
                "{}://{}{}",
                self.scheme.as_str(),
                self.host_text(),
                self.path
            )
        } else {
            format!(
                "{}://{}:{}{}",
                self.scheme.as_str(),
                self.host_text(),
                self.port,
                self.path
            )
        }
    }

    fn host_header(&self) -> String {
        if self.explicit_port && self.port != self.scheme.standard_port() {
            format!("{}:{}", self.host_text(), self.port)
        } else {
            self.host_text()
        }
    }
}

/// Aborts the task driving an HTTP connection when the exchange is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A response, with the task that reads it.
struct Exchange {
    response: http::Response<Incoming>,
    _connection: AbortOnDrop,
}

/// An error and its causes, for a message.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The token is base64url (RFC 8555 §8.1), so it can go in a path as it is.
fn check_token(token: &str) -> Result<(), ValidationError> {
    if !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(())
    } else {
        Err(ValidationError::Unauthorized(format!(
            "the token {token:?} is not base64url"
        )))
    }
}

/// http-01: GET `http://{host}:{http_port}/.well-known/acme-challenge/{token}`.
pub(super) async fn validate(
    validator: &Validator,
    identifier: &Identifier,
    token: &str,
    key_authorization: &str,
    progress: &Progress,
) -> Result<ValidationRecord, ValidationError> {
    let host = match identifier {
        Identifier::Dns(name) => Host::Name(net::normalize_dns_name(name)?),
        Identifier::Ip(ip) => Host::Ip(*ip),
    };
    check_token(token)?;
    let config = &validator.config;
    let mut target = Target {
        scheme: Scheme::Http,
        host,
        port: config.http_port,
        explicit_port: false,
        path: format!("/.well-known/acme-challenge/{token}"),
    };
    let mut fetched: Vec<String> = Vec::new();
    loop {
        let url = target.url();
        if fetched.contains(&url) {
            return Err(ValidationError::Connection(format!(
                "redirect loop: {url} was fetched already"
            )));
        }
        fetched.push(url.clone());

        progress.set(Phase::Resolving);
        let addresses = match &target.host {
            Host::Name(name) => net::resolve_name(validator, name).await?,
            Host::Ip(ip) => vec![*ip],
        };
        progress.set(Phase::Connecting);
        let (stream, used) =
            net::connect(&addresses, target.port, &target.host_text(), config.timeout).await?;
        let exchange = match target.scheme {
            Scheme::Http => {
                progress.set(Phase::Requesting);
                send(TokioIo::new(stream), &target, &url).await?
            }
            Scheme::Https => {
                progress.set(Phase::Handshaking);
                let server_name = match &target.host {
                    Host::Name(name) => ServerName::try_from(name.clone()).map_err(|e| {
                        ValidationError::Connection(format!("{url}: invalid TLS server name: {e}"))
                    })?,
                    Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
                };
                let connector = tokio_rustls::TlsConnector::from(validator.https_client.clone());
                let tls = connector.connect(server_name, stream).await.map_err(|e| {
                    ValidationError::Connection(format!("{url}: TLS handshake failed: {e}"))
                })?;
                progress.set(Phase::Requesting);
                send(TokioIo::new(tls), &target, &url).await?
            }
        };

        let status = exchange.response.status();
        if matches!(
            status,
            StatusCode::MOVED_PERMANENTLY
                | StatusCode::FOUND
                | StatusCode::SEE_OTHER
                | StatusCode::TEMPORARY_REDIRECT
                | StatusCode::PERMANENT_REDIRECT
        ) {
            if fetched.len() > HTTP01_MAX_REDIRECTS {
                return Err(ValidationError::Connection(format!(
                    "{url}: too many redirects (more than {HTTP01_MAX_REDIRECTS})"
                )));
            }
            let location = exchange
                .response
                .headers()
                .get(header::LOCATION)
                .ok_or_else(|| {
                    ValidationError::IncorrectResponse(format!(
                        "{url}: HTTP status {status} without a Location"
                    ))
                })?
                .to_str()
                .map_err(|_| {
                    ValidationError::Connection(format!(
                        "{url}: the redirect's Location is not ASCII"
                    ))
                })?;
            target = redirect_target(&target, location, config)
                .map_err(|why| ValidationError::Connection(format!("{url}: {why}")))?;
            continue;
        }
        if status != StatusCode::OK {
            return Err(ValidationError::IncorrectResponse(format!(
                "{url}: HTTP status {status}, expected 200 OK"
            )));
        }

        let body = read_body(exchange, &url).await?;
        if trim_trailing_whitespace(&body) != key_authorization.as_bytes() {
            return Err(ValidationError::IncorrectResponse(format!(
                "{url}: the response is {}, expected the key authorization {key_authorization:?}",
                net::preview(&body)
            )));
        }
        return Ok(ValidationRecord {
            url: Some(url),
            hostname: match &target.host {
                Host::Name(name) => name.clone(),
                Host::Ip(ip) => ip.to_string(),
            },
            port: Some(target.port),
            addresses_resolved: addresses,
            address_used: Some(used),
        });
    }
}

/// Sends `GET target.path` over `io` (HTTP/1.1) and waits for the response head.
async fn send<T>(io: T, target: &Target, url: &str) -> Result<Exchange, ValidationError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let failed =
        |e: hyper::Error| ValidationError::Connection(format!("{url}: {}", error_chain(&e)));
    let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .map_err(failed)?;
    let connection = AbortOnDrop(tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "http-01 connection ended with an error");
        }
    }));
    let request = Request::builder()
        .method(Method::GET)
        .uri(target.path.as_str())
        .header(header::HOST, target.host_header())
        .header(header::USER_AGENT, USER_AGENT)
        .header(header::ACCEPT, "*/*")
        .header(header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| {
            ValidationError::Connection(format!("{url}: cannot build the request: {e}"))
        })?;
    let response = sender.send_request(request).await.map_err(failed)?;
    Ok(Exchange {
        response,
        _connection: connection,
    })
}

/// Reads the body, at most [`HTTP01_MAX_BODY`] bytes: a longer one fails
/// without being read further.
async fn read_body(exchange: Exchange, url: &str) -> Result<Vec<u8>, ValidationError> {
    let Exchange {
        response,
        _connection,
    } = exchange;
    let too_long = |head: &[u8]| {
        ValidationError::IncorrectResponse(format!(
            "{url}: the response body is longer than {HTTP01_MAX_BODY} bytes; it starts with {}",
            net::preview(head)
        ))
    };
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = declared.filter(|&length| length > HTTP01_MAX_BODY as u64) {
        return Err(ValidationError::IncorrectResponse(format!(
            "{url}: the response body is {length} bytes long (Content-Length), more than the {HTTP01_MAX_BODY} allowed"
        )));
    }
    let mut body = response.into_body();
    let mut buffer = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ValidationError::Connection(format!(
                "{url}: reading the response failed: {}",
                error_chain(&e)
            ))
        })?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > HTTP01_MAX_BODY {
                let head: Vec<u8> = buffer
                    .iter()
                    .chain(data.iter())
                    .take(128)
                    .copied()
                    .collect();
                return Err(too_long(&head));
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer)
}

/// RFC 8555 §8.3: whitespace at the end of the body is ignored.
fn trim_trailing_whitespace(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Whether a URI reference starts with a scheme (RFC 3986 §3.1).
fn has_scheme(reference: &str) -> bool {
    match reference.find(':') {
        Some(colon) => {
            let scheme = &reference[..colon];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Where a redirect leads, if it may be followed: http or https, to one of
/// the two configured ports (a Location without a port means the configured
/// port of its scheme, as in Boulder).
fn redirect_target(
    current: &Target,
    location: &str,
    config: &ValidationConfig,
) -> Result<Target, String> {
    let invalid = |why: &str| format!("redirect to {location:?} refused: {why}");
    let reference = location.split('#').next().unwrap_or("").trim();
    let absolute = if reference.starts_with("//") {
        Some(format!("{}:{reference}", current.scheme.as_str()))
    } else if has_scheme(reference) {
        Some(reference.to_owned())
    } else {
        None
    };
    let Some(absolute) = absolute else {
        // A reference relative to the current URL.
        let path = if reference.starts_with('/') {
            reference.to_owned()
        } else {
            let base = current.path.split('?').next().unwrap_or("/");
            let directory = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            if directory.is_empty() {
                format!("/{reference}")
            } else {
                format!("{directory}{reference}")
            }
        };
        path.parse::<http::uri::PathAndQuery>()
            .map_err(|e| invalid(&e.to_string()))?;
        return Ok(Target {
            path,
            ..current.clone()
        });
    };
    let uri: Uri = absolute
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("http") => Scheme::Http,
        Some("https") => Scheme::Https,
        _ => return Err(invalid("only http and https URLs are followed")),
    };
    let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("user information is not allowed"));
    }
    let host_text = authority.host();
    let host_text = host_text
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host_text);
    let host = match host_text.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(
            net::normalize_dns_name(host_text)
                .map_err(|_| invalid("the host is not a DNS name"))?,
        ),
    };
    let configured = match scheme {
        Scheme::Http => config.http_port,
        Scheme::Https => config.tls_alpn_port,
    };
    let (port, explicit_port) = match authority.port_u16() {
        Some(port) => (port, true),
        None => (configured, false),
    };
    if port != config.http_port && port != config.tls_alpn_port {
        return Err(invalid(&format!(
            "only ports {} and {} are followed",
            config.http_port, config.tls_alpn_port
        )));
    }
    let path = uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| p.starts_with('/'))
        .unwrap_or("/")
        .to_owned();
    Ok(Target {
        scheme,
        host,
        port,
        explicit_port,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> Target {
        Target {
            scheme: Scheme::Http,
            host: Host::Name("example.com".into()),
            port: 80,
            explicit_port: false,
            path: "/.well-known/acme-challenge/tok".into(),
        }
    }

    #[test]
    fn redirects() {
        let config = ValidationConfig::default();
        let t = redirect_target(&start(), "/other?x=1", &config).unwrap();
        assert_eq!(t.url(), "http://example.com/other?x=1");
        let t = redirect_target(&start(), "sibling", &config).unwrap();
        assert_eq!(
            t.url(),
            "http://example.com/.well-known/acme-challenge/sibling"
        );
        let t = redirect_target(&start(), "https://Other.Example/x#frag", &config).unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Https, 443));
        assert_eq!(t.url(), "https://other.example/x");
        let t = redirect_target(&start(), "//[::1]:443/y", &config).unwrap();
        assert_eq!(t.host, Host::Ip("::1".parse().unwrap()));
        assert_eq!(t.url(), "http://[::1]:443/y");
        assert_eq!(t.host_header(), "[::1]:443");
        let t = redirect_target(&start(), "http://example.net", &config).unwrap();
        assert_eq!(t.url(), "http://example.net/");
        assert!(redirect_target(&start(), "ftp://example.com/", &config).is_err());
        assert!(redirect_target(&start(), "http://example.com:8080/", &config).is_err());
        assert!(redirect_target(&start(), "http://user@example.com/", &config).is_err());
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_trailing_whitespace(b"abc \r\n\t"), b"abc");
        assert_eq!(trim_trailing_whitespace(b" abc"), b" abc");
        assert_eq!(trim_trailing_whitespace(b"  "), b"");
    }
}
