//! The ACME resources. [`dispatch`] resolves the endpoint, routes, and for a
//! POST checks the JWS (url, key, signature, nonce) before a handler sees it;
//! handlers get the authenticated account (or key) and speak in the records'
//! and the wire module's validated types.
//!
//! Everything here runs on tokio's blocking pool: store commits wait for an
//! fsync and the RA is synchronous.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{Method, StatusCode};
use policy::model::{Endpoint, EndpointKind};
use policy::registry::{RaError, RegistrationAuthority};
use serde::Serialize;

use crate::config::AcmeConfig;
use crate::limits::RateLimiter;
use crate::nonce::{NonceError, NonceStore};
use crate::records::{AccountRecord, AccountStatus, ChallengeType, Records};
use crate::validation::Validator;
use crate::wire::jwk::PublicJwk;
use crate::wire::jws::{KeyRef, SignedRequest};
use crate::wire::problem::{Problem, ProblemType};

pub(crate) mod account;
pub(crate) mod authz;
pub(crate) mod certificate;
pub(crate) mod challenge;
pub(crate) mod directory;
pub(crate) mod finalize;
pub(crate) mod order;
pub(crate) mod renewal_info;
pub(crate) mod revoke;

/// What every request shares.
pub(crate) struct Shared {
    pub ra: Arc<RegistrationAuthority>,
    pub config: AcmeConfig,
    /// e.g. `https://127.0.0.1:8443`, without a trailing slash.
    pub base_url: String,
    pub nonces: NonceStore,
    pub limits: RateLimiter,
    pub records: Records,
    pub validator: Validator,
    /// Authorizations whose validation task is running in this process.
    pub validating: Mutex<HashSet<u64>>,
}

/// The resources under `/acme/<endpoint>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Directory,
    NewNonce,
    NewAccount,
    NewOrder,
    RevokeCert,
    KeyChange,
    RenewalInfo(String),
    Account(u64),
    AccountOrders(u64),
    Order(u64),
    Finalize(u64),
    Authz(u64),
    Challenge(u64, ChallengeType),
    Certificate(u64),
}

fn parse_id(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl Route {
    /// The route of the path after `/acme/<endpoint>/`.
    pub fn parse(rest: &str) -> Option<Route> {
        let segments: Vec<&str> = rest.split('/').collect();
        Some(match segments.as_slice() {
            ["directory"] => Route::Directory,
            ["new-nonce"] => Route::NewNonce,
            ["new-account"] => Route::NewAccount,
            ["new-order"] => Route::NewOrder,
            ["revoke-cert"] => Route::RevokeCert,
            ["key-change"] => Route::KeyChange,
            ["renewal-info", id] if !id.is_empty() && id.len() <= 256 => {
                Route::RenewalInfo((*id).to_string())
            }
            ["account", id] => Route::Account(parse_id(id)?),
            ["account", id, "orders"] => Route::AccountOrders(parse_id(id)?),
            ["order", id] => Route::Order(parse_id(id)?),
            ["order", id, "finalize"] => Route::Finalize(parse_id(id)?),
            ["authz", id] => Route::Authz(parse_id(id)?),
            ["challenge", id, kind] => {
                Route::Challenge(parse_id(id)?, ChallengeType::from_name(kind)?)
            }
            ["certificate", id] => Route::Certificate(parse_id(id)?),
            _ => return None,
        })
    }

    /// Whether the resource is one a JWS is POSTed to (everything but what RFC 8555 and
    /// RFC 9773 let a client GET without an account).
    fn takes_post(&self) -> bool {
        !matches!(
            self,
            Route::Directory | Route::NewNonce | Route::RenewalInfo(_)
        )
    }

    /// The methods the resource answers.
    fn allowed(&self) -> &'static str {
        match self {
            Route::Directory | Route::NewNonce => "GET, HEAD",
            Route::RenewalInfo(_) => "GET",
            _ => "POST",
        }
    }
}

/// The URLs of one endpoint's resources.
#[derive(Debug, Clone)]
pub(crate) struct Urls {
    /// `<base_url>/acme/<endpoint>`.
    base: String,
}

impl Urls {
    pub fn new(base_url: &str, endpoint: &str) -> Self {
        Self {
            base: format!("{base_url}/acme/{endpoint}"),
        }
    }
    pub fn new_nonce(&self) -> String {
        format!("{}/new-nonce", self.base)
    }
    pub fn new_account(&self) -> String {
        format!("{}/new-account", self.base)
    }
    pub fn new_order(&self) -> String {
        format!("{}/new-order", self.base)
    }
    pub fn revoke_cert(&self) -> String {
        format!("{}/revoke-cert", self.base)
    }
    pub fn key_change(&self) -> String {
        format!("{}/key-change", self.base)
    }
    pub fn renewal_info(&self) -> String {
        format!("{}/renewal-info", self.base)
    }
    fn account_prefix(&self) -> String {
        format!("{}/account/", self.base)
    }
    pub fn account(&self, id: u64) -> String {
        format!("{}{id}", self.account_prefix())
    }
    pub fn account_orders(&self, id: u64) -> String {
        format!("{}/account/{id}/orders", self.base)
    }
    pub fn order(&self, id: u64) -> String {
        format!("{}/order/{id}", self.base)
    }
    pub fn finalize(&self, id: u64) -> String {
        format!("{}/order/{id}/finalize", self.base)
    }
    pub fn authz(&self, id: u64) -> String {
        format!("{}/authz/{id}", self.base)
    }
    pub fn challenge(&self, authz: u64, kind: ChallengeType) -> String {
        format!("{}/challenge/{authz}/{}", self.base, kind.name())
    }
    pub fn certificate(&self, id: u64) -> String {
        format!("{}/certificate/{id}", self.base)
    }
    /// The account id a `kid` names, if it is an account URL of this endpoint.
    pub fn account_id(&self, kid: &str) -> Option<u64> {
        kid.strip_prefix(&self.account_prefix()).and_then(parse_id)
    }
}

/// One request, read and routed, on its way to the blocking pool.
pub(crate) struct Incoming {
    pub method: Method,
    pub endpoint: String,
    pub route: Option<Route>,
    /// The full URL the client used (base URL, path, query): a JWS must name it.
    pub url: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    /// The body, or why it was refused (too large, unreadable).
    pub body: Result<Bytes, Problem>,
}

/// A successful answer (or a problem turned into one).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub body: Bytes,
    /// Headers besides Replay-Nonce, Cache-Control and the index link, which every
    /// answer gets: Location, Retry-After, Link, Allow.
    pub headers: Vec<(HeaderName, String)>,
}

impl Reply {
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            content_type: None,
            body: Bytes::new(),
            headers: Vec::new(),
        }
    }

    pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, Problem> {
        let body = serde_json::to_vec(value).map_err(Problem::internal)?;
        Ok(Self {
            content_type: Some("application/json"),
            body: Bytes::from(body),
            ..Self::empty(status)
        })
    }

    pub fn problem(problem: &Problem) -> Self {
        let body = serde_json::to_vec(&problem.document()).unwrap_or_default();
        let reply = Self {
            content_type: Some("application/problem+json"),
            body: Bytes::from(body),
            headers: problem.headers.clone(),
            ..Self::empty(problem.status)
        };
        match problem.retry_after {
            Some(wait) => reply.with_retry_after(wait.as_secs().max(1)),
            None => reply,
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn with_location(self, url: String) -> Self {
        self.with_header(header::LOCATION, url)
    }

    pub fn with_retry_after(self, seconds: u64) -> Self {
        self.with_header(header::RETRY_AFTER, seconds.to_string())
    }

    pub fn with_link(self, url: &str, rel: &str) -> Self {
        self.with_header(header::LINK, format!("<{url}>;rel=\"{rel}\""))
    }
}

/// Who signed a request.
pub(crate) enum Signer {
    /// A key given in the JWS (newAccount, revokeCert by certificate key).
    Key(PublicJwk),
    /// An account, named by its URL.
    Account(AccountRecord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyForm {
    Jwk,
    Kid,
    Either,
}

/// The context of one request at one endpoint.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub endpoint: Endpoint,
    pub urls: Urls,
    pub url: String,
    pub query: Option<String>,
}

/// The current Unix time.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// RFC 3339 of a Unix time.
pub(crate) fn rfc3339(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    ca_core::authority::rfc3339(t)
}

/// Store errors are the server's, never the client's.
impl From<ca_core::store::StoreError> for Problem {
    fn from(e: ca_core::store::StoreError) -> Self {
        Problem::internal(e)
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Answers one request (on the blocking pool).
pub(crate) fn dispatch(shared: &Arc<Shared>, request: Incoming) -> Result<Reply, Problem> {
    let endpoint = match shared.ra.endpoint_by_name(&request.endpoint) {
        Ok(e) if matches!(e.kind, EndpointKind::Acme { .. }) => e,
        Ok(_) | Err(RaError::NotFound(_)) => {
            return Err(Problem::not_found(format!(
                "the ACME endpoint '{}'",
                shorten(&request.endpoint)
            )))
        }
        Err(e) => return Err(Problem::internal(e)),
    };
    if !endpoint.active {
        return Err(Problem::unauthorized("this ACME endpoint is disabled"));
    }
    let route = request
        .route
        .ok_or_else(|| Problem::not_found("the resource"))?;
    let ctx = Ctx {
        shared,
        urls: Urls::new(&shared.base_url, &endpoint.name),
        endpoint,
        url: request.url,
        query: request.query,
    };
    match (&request.method, route) {
        (&Method::GET | &Method::HEAD, Route::Directory) => directory::directory(&ctx),
        (&Method::HEAD, Route::NewNonce) => Ok(Reply::empty(StatusCode::OK)),
        (&Method::GET, Route::NewNonce) => Ok(Reply::empty(StatusCode::NO_CONTENT)),
        (&Method::GET, Route::RenewalInfo(id)) => renewal_info::renewal_info(&ctx, &id),
        (&Method::POST, route) if route.takes_post() => {
            ctx.post(route, request.content_type.as_deref(), request.body?)
        }
        (_, route) => {
            let problem = Problem::malformed(format!(
                "{} is not allowed here (allowed: {})",
                request.method,
                route.allowed()
            ))
            .with_status(StatusCode::METHOD_NOT_ALLOWED);
            Ok(Reply::problem(&problem).with_header(header::ALLOW, route.allowed().into()))
        }
    }
}

impl Ctx<'_> {
    fn post(
        &self,
        route: Route,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Reply, Problem> {
        if content_type != Some("application/jose+json") {
            return Err(Problem::malformed(
                "the Content-Type of an ACME request is application/jose+json",
            )
            .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let jws = SignedRequest::parse(&body)?;
        match route {
            Route::NewAccount => match self.authenticate(&jws, KeyForm::Jwk)? {
                Signer::Key(key) => account::new_account(self, key, &jws),
                Signer::Account(_) => Err(Problem::internal("newAccount authenticated a kid")),
            },
            Route::RevokeCert => {
                let signer = self.authenticate(&jws, KeyForm::Either)?;
                revoke::revoke(self, signer, &jws)
            }
            other => {
                let Signer::Account(account) = self.authenticate(&jws, KeyForm::Kid)? else {
                    return Err(Problem::internal("a kid request authenticated a jwk"));
                };
                match other {
                    Route::KeyChange => account::key_change(self, account, &jws),
                    Route::Account(id) => account::account(self, account, id, &jws),
                    Route::AccountOrders(id) => account::orders(self, account, id, &jws),
                    Route::NewOrder => order::new_order(self, account, &jws),
                    Route::Order(id) => order::order(self, account, id, &jws),
                    Route::Finalize(id) => finalize::finalize(self, account, id, &jws),
                    Route::Authz(id) => authz::authorization(self, account, id, &jws),
                    Route::Challenge(id, kind) => challenge::respond(self, account, id, kind, &jws),
                    Route::Certificate(id) => certificate::download(self, account, id, &jws),
                    _ => Err(Problem::malformed("POST is not allowed here")),
                }
            }
        }
    }

    /// Checks a request JWS: the URL it was signed for, the key form the resource takes,
    /// the account behind a kid, the signature, and last the nonce (so that a request
    /// that fails any other check does not burn it).
    fn authenticate(&self, jws: &SignedRequest, form: KeyForm) -> Result<Signer, Problem> {
        if jws.url != self.url {
            return Err(Problem::unauthorized(format!(
                "the JWS was signed for {} but sent to {}",
                shorten(&jws.url),
                self.url
            )));
        }
        let signer = match (&jws.key, form) {
            (KeyRef::Jwk(key), KeyForm::Jwk | KeyForm::Either) => Signer::Key(key.clone()),
            (KeyRef::Kid(kid), KeyForm::Kid | KeyForm::Either) => {
                Signer::Account(self.account_of_kid(kid)?)
            }
            (KeyRef::Jwk(_), _) => {
                return Err(Problem::malformed(
                    "this resource takes requests signed by an account ('kid'), not a 'jwk'",
                ))
            }
            (KeyRef::Kid(_), _) => {
                return Err(Problem::malformed(
                    "this resource takes requests with the key ('jwk'), not a 'kid'",
                ))
            }
        };
        let key = match &signer {
            Signer::Key(key) => key,
            Signer::Account(account) => &account.key,
        };
        jws.verify(key)?;
        let nonce = jws
            .nonce
            .as_deref()
            .ok_or_else(|| Problem::new(ProblemType::BadNonce, "the JWS header has no nonce"))?;
        self.shared.nonces.consume(nonce).map_err(|e| {
            Problem::new(
                ProblemType::BadNonce,
                match e {
                    NonceError::Malformed => "the nonce is not one this server makes",
                    NonceError::Unknown => {
                        "the nonce is unknown, used or expired; use the one in this response"
                    }
                },
            )
        })?;
        Ok(signer)
    }

    fn account_of_kid(&self, kid: &str) -> Result<AccountRecord, Problem> {
        let missing = || {
            Problem::new(
                ProblemType::AccountDoesNotExist,
                format!("there is no account {} at this endpoint", shorten(kid)),
            )
        };
        let id = self.urls.account_id(kid).ok_or_else(missing)?;
        let account = self
            .shared
            .records
            .account(id)?
            .filter(|a| a.endpoint == self.endpoint.id)
            .ok_or_else(missing)?;
        if account.status == AccountStatus::Deactivated {
            return Err(Problem::unauthorized("the account is deactivated"));
        }
        Ok(account)
    }

    /// The actor name audit entries and RA requests carry for an account.
    pub fn actor(&self, account: u64) -> String {
        format!("{}:{}", self.endpoint.name, self.urls.account(account))
    }

    /// Takes a token from each rate limit named, or answers `rateLimited`.
    pub fn charge(&self, charges: &[crate::limits::Charge]) -> Result<(), Problem> {
        self.shared.limits.take(charges).map_err(|wait| {
            Problem::rate_limited(
                format!(
                    "too many requests; try again in {} seconds",
                    wait.as_secs().max(1)
                ),
                wait,
            )
        })
    }

    /// The Retry-After of resources that are being worked on.
    pub fn retry_after(&self) -> u64 {
        self.shared.config.retry_after_secs.max(1)
    }
}

/// A resource of another account reads as absent (no existence oracle).
pub(crate) fn not_yours(what: &str) -> Problem {
    Problem::not_found(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_parse_and_refuse_junk() {
        assert_eq!(Route::parse("directory"), Some(Route::Directory));
        assert_eq!(
            Route::parse("account/12/orders"),
            Some(Route::AccountOrders(12))
        );
        assert_eq!(
            Route::parse("challenge/3/tls-alpn-01"),
            Some(Route::Challenge(3, ChallengeType::TlsAlpn01))
        );
        for junk in [
            "",
            "account/+1",
            "account/-1",
            "account/99999999999999999999999",
            "order/1/finalize/x",
            "challenge/1/http-02",
            "renewal-info/",
            "directory/",
        ] {
            assert_eq!(Route::parse(junk), None, "{junk}");
        }
        let urls = Urls::new("https://h:1", "ep");
        assert_eq!(urls.account_id("https://h:1/acme/ep/account/7"), Some(7));
        assert_eq!(urls.account_id("https://h:1/acme/other/account/7"), None);
    }
}
