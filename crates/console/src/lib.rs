//! Certwright: the administrators' web console, at `/console/` on HTTPS.
//!
//! Server-rendered HTML (maud templates, every value escaped), no script: a
//! page reads and every button works without JavaScript. It is an edge like
//! the others: every page asks the RA with the signed-in administrator, so it
//! shows only what their role and scope allow, and every action is the RA's
//! (audited the same way as through the REST API).
//!
//! Security: sessions in `Secure; HttpOnly; SameSite=Strict` cookies with an
//! idle timeout ([`session`]); a CSRF token on every form (the session's, or
//! for the login form a cookie-bound one); a Content-Security-Policy without
//! `unsafe-inline` (the one stylesheet is served from here); bodies limited;
//! passwords checked by the RA, whose failed-login limit applies here too (a lock is
//! a 429 with Retry-After); the allow-list of the administrator's role is checked at
//! sign-in and on every signed-in request.

#![warn(missing_docs)]

pub mod charts;
mod management;
mod pages;
pub mod session;
mod sso;

pub use sso::SsoSettings;

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use maud::Markup;
use policy::audit::AuditEvent;
use policy::model::{Administrator, RequestId};
use policy::registry::{RaError, RegistrationAuthority};

use session::{Session, Sessions};

/// Where `ca-admin serve` mounts the console.
pub const PATH_PREFIX: &str = "/console/";
/// The largest form body read.
const BODY_LIMIT: usize = 16 * 1024;
/// The stylesheet, embedded in the binary.
const STYLESHEET: &str = include_str!("../assets/console.css");
/// The icon browsers show in a tab (without one they ask for `/favicon.ico`).
const ICON: &str = include_str!("../assets/icon.svg");
/// No inline script or style, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console service (cheap to clone).
#[derive(Clone)]
pub struct Console {
    ra: Arc<RegistrationAuthority>,
    sessions: Arc<Sessions>,
    /// Failed sign-ins per client address (the RA limits each account per address too).
    throttle: Arc<gateway_http::Throttle>,
    /// SAML single sign-on ([`sso`]): off until [`Console::with_sso`].
    sso: Arc<sso::Sso>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console").finish_non_exhaustive()
    }
}

/// An answer before the security headers are added.
enum Page {
    Html(StatusCode, Markup, Vec<(header::HeaderName, String)>),
    Redirect(String, Vec<(header::HeaderName, String)>),
    File {
        content_type: &'static str,
        filename: String,
        body: Bytes,
    },
    /// An embedded file (the stylesheet, the icon).
    Asset {
        content_type: &'static str,
        body: &'static str,
    },
}

fn html(status: StatusCode, markup: Markup) -> Page {
    Page::Html(status, markup, Vec::new())
}

fn refused(status: StatusCode, title: &str, text: &str) -> Page {
    html(status, pages::message(title, text))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Console {
    /// The console over a registration authority.
    pub fn new(ra: Arc<RegistrationAuthority>) -> Self {
        Self {
            ra,
            sessions: Arc::default(),
            throttle: Arc::new(gateway_http::Throttle::with_limit(
                gateway_http::throttle::ADMIN_MAX_FAILURES,
            )),
            sso: Arc::default(),
        }
    }

    /// The same console with SAML single sign-on at `settings.https_base` (it is set up
    /// once an MRAO imports the identity provider's metadata).
    pub fn with_sso(mut self, settings: SsoSettings) -> Self {
        self.sso = Arc::new(sso::Sso::new(&settings));
        self
    }

    /// Answers one request; never fails.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let page = self.serve(request).await;
        let mut response = match page {
            Page::Html(status, markup, headers) => {
                let mut r = Response::new(Full::new(Bytes::from(markup.into_string())));
                *r.status_mut() = status;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                add(&mut r, headers);
                r
            }
            Page::Redirect(location, headers) => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::SEE_OTHER;
                add(&mut r, vec![(header::LOCATION, location)]);
                add(&mut r, headers);
                r
            }
            Page::File {
                content_type,
                filename,
                body,
            } => {
                let mut r = Response::new(Full::new(body));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                add(
                    &mut r,
                    vec![(
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename={filename}"),
                    )],
                );
                r
            }
            Page::Asset { content_type, body } => {
                let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                r
            }
        };
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    async fn serve<B>(&self, request: Request<B>) -> Page
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let client = gateway_http::PeerIdentity::of(&request).map(|p| p.remote.ip());
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().trim_end_matches('/').to_string();
        let query = parts.uri.query().unwrap_or("").to_string();
        let method = parts.method.clone();
        // HTTP/2 may split the cookies over several `cookie` fields (RFC 9113 §8.2.3).
        let cookies = session::cookie_header(&parts.headers);
        let form = if method == Method::POST {
            let limit = if path == sso::ACS_PATH {
                sso::ACS_BODY_LIMIT
            } else {
                BODY_LIMIT
            };
            match read_form(body, &parts.headers, limit).await {
                Ok(form) => form,
                Err(page) => return page,
            }
        } else {
            Vec::new()
        };
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        match (method.as_str(), path.as_str()) {
            ("GET", "/console/assets/console.css") => Page::Asset {
                content_type: "text/css; charset=utf-8",
                body: STYLESHEET,
            },
            ("GET", "/console/assets/icon.svg") => Page::Asset {
                content_type: "image/svg+xml",
                body: ICON,
            },
            ("GET", "/console/login") => login_form(None, StatusCode::OK),
            // Single sign-on: before any session.
            ("GET", sso::METADATA_PATH) => self.sso_metadata(),
            ("GET", sso::LOGIN_PATH) => self.sso_login(&query).await,
            ("POST", sso::ACS_PATH) => {
                self.sso_acs(field("SAMLResponse"), field("RelayState"), client)
                    .await
            }
            ("POST", "/console/login") => {
                let expected =
                    session::cookie(cookies.as_deref(), session::LOGIN_COOKIE).unwrap_or("");
                if expected.is_empty() || !session::tokens_equal(expected, &field("csrf")) {
                    return login_form(
                        Some("The form expired; sign in again."),
                        StatusCode::FORBIDDEN,
                    );
                }
                self.login(&field("username"), &field("password"), client)
                    .await
            }
            _ => {
                let token = session::cookie(cookies.as_deref(), session::COOKIE)
                    .unwrap_or("")
                    .to_string();
                let Some((session, admin)) = self.session(&token).await else {
                    return Page::Redirect("/console/login".into(), Vec::new());
                };
                // Every signed-in request: the address a session is used from can change.
                if let Err(refusal) = self.admitted(&admin, client).await {
                    return refusal;
                }
                if method == Method::POST && !session::tokens_equal(&session.csrf, &field("csrf")) {
                    return refused(
                        StatusCode::FORBIDDEN,
                        "Refused",
                        "The form is stale or did not come from this console; reload the page.",
                    );
                }
                self.signed_in(
                    &method,
                    &path,
                    &query,
                    &token,
                    &session,
                    admin,
                    Action {
                        message: field("message"),
                        reason: field("reason"),
                        ids: form
                            .iter()
                            .filter(|(k, _)| k == "ids")
                            .filter_map(|(_, v)| v.parse().ok())
                            .take(500)
                            .collect(),
                        replace: field("replace") == "yes",
                        form: form.clone(),
                        client,
                    },
                )
                .await
            }
        }
    }

    async fn login(&self, username: &str, password: &str, client: Option<IpAddr>) -> Page {
        if let Some(seconds) = client.and_then(|c| self.throttle.locked(c)) {
            return with_retry_after(
                login_form(
                    Some(&format!(
                        "Too many failed sign-ins from this address; try again in {seconds} s."
                    )),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                seconds,
            );
        }
        let ra = self.ra.clone();
        let (username, password) = (username.to_string(), password.to_string());
        let result = tokio::task::spawn_blocking(move || {
            let admin = ra.verify_credentials(&username, &password, client)?;
            ra.audit_log().record(AuditEvent::success(
                &admin.username,
                "console.login",
                &admin.id.label(),
                client.map(|c| c.to_string()).unwrap_or_default(),
            ))?;
            Ok::<_, RaError>(admin)
        })
        .await;
        // The address's limit counts wrong passwords only, not the refusals of an account
        // already locked nor a right password from outside the role's allow-list.
        if let Some(c) = client {
            match &result {
                Ok(Ok(_)) => self.throttle.succeeded(c),
                Ok(Err(RaError::TooManyFailures { .. } | RaError::AddressNotAllowed { .. })) => {}
                _ => self.throttle.failed(c),
            }
        }
        match result {
            Ok(Ok(admin)) => {
                let token = self.sessions.begin(admin.id, &admin.password_hash);
                // The login form's token has served; the session's own takes over.
                Page::Redirect(
                    "/console/".into(),
                    vec![
                        (
                            header::SET_COOKIE,
                            session::set_cookie(session::COOKIE, &token, None),
                        ),
                        (
                            header::SET_COOKIE,
                            session::set_cookie(
                                session::LOGIN_COOKIE,
                                "",
                                Some(std::time::Duration::ZERO),
                            ),
                        ),
                    ],
                )
            }
            Ok(Err(RaError::TooManyFailures { retry_after })) => with_retry_after(
                login_form(
                    Some(&format!(
                        "Too many failed sign-ins for this account from this address; try again in {retry_after} s, or ask an MRAO to unlock it."
                    )),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                retry_after,
            ),
            Ok(Err(e @ RaError::AddressNotAllowed { .. })) => login_form(
                Some(&gateway_http::Refusal::of(&e).message),
                StatusCode::FORBIDDEN,
            ),
            _ => login_form(
                Some("Wrong username or password."),
                StatusCode::UNAUTHORIZED,
            ),
        }
    }

    /// `Err(403 page)` unless the allow-list of the administrator's role admits `client`.
    async fn admitted(&self, admin: &Administrator, client: Option<IpAddr>) -> Result<(), Page> {
        let ra = self.ra.clone();
        let admin = admin.clone();
        match tokio::task::spawn_blocking(move || ra.check_address(&admin, client)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ra_refusal(&e)),
            Err(_) => Err(refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "The request did not finish.",
            )),
        }
    }

    /// The session of a cookie token and its administrator, re-read (still active).
    async fn session(&self, token: &str) -> Option<(Session, Administrator)> {
        let session = self.sessions.get(token)?;
        let ra = self.ra.clone();
        let id = session.admin;
        let admin = tokio::task::spawn_blocking(move || ra.active_admin(id))
            .await
            .ok()?
            .ok();
        match admin {
            // A password's session ends with the administrator's password login, and
            // with that password.
            Some(admin)
                if session
                    .password_hash
                    .as_ref()
                    .is_none_or(|h| admin.password_login && *h == admin.password_hash) =>
            {
                Some((session, admin))
            }
            _ => {
                self.sessions.end(token);
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn signed_in(
        &self,
        method: &Method,
        path: &str,
        query: &str,
        token: &str,
        session: &Session,
        admin: Administrator,
        action: Action,
    ) -> Page {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let csrf = session.csrf.clone();
        let ra = self.ra.clone();
        let Action {
            message,
            reason,
            ids,
            replace,
            form,
            client,
        } = action;
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["console", "logout"]) => {
                self.sessions.end(token);
                Page::Redirect(
                    "/console/login".into(),
                    vec![(
                        header::SET_COOKIE,
                        session::set_cookie(session::COOKIE, "", Some(std::time::Duration::ZERO)),
                    )],
                )
            }
            ("GET", ["console"]) => {
                render(ra, admin, csrf, "Dashboard", |ra, admin, _| {
                    pages::dashboard(ra, admin, now())
                })
                .await
            }
            ("GET", ["console", "queue"]) => {
                render(ra, admin, csrf, "Approval queue", |ra, admin, csrf| {
                    pages::queue(ra, admin, csrf)
                })
                .await
            }
            ("GET", ["console", "certificates"]) => {
                let q = pages::ListQuery::parse(query);
                render(ra, admin, csrf, "Certificates", move |ra, admin, _| {
                    pages::certificates(ra, admin, &q, now())
                })
                .await
            }
            ("GET", ["console", "certificates.csv"]) => {
                let q = pages::ListQuery::parse(query);
                let result = tokio::task::spawn_blocking(move || {
                    let filter = q.filter(&ra, now());
                    gateway_http::csv::certificates_csv(&ra, &admin, &filter)
                })
                .await;
                match result {
                    Ok(Ok(text)) => Page::File {
                        content_type: "text/csv; charset=utf-8",
                        filename: "certificates.csv".into(),
                        body: Bytes::from(text),
                    },
                    Ok(Err(e)) => ra_refusal(&e),
                    Err(_) => refused(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Failed",
                        "The export failed.",
                    ),
                }
            }
            ("GET", ["console", "certificates", id]) => {
                let Ok(id) = id.parse::<u64>() else {
                    return refused(StatusCode::NOT_FOUND, "Not found", "No such certificate.");
                };
                render(ra, admin, csrf, "Certificate", move |ra, admin, csrf| {
                    pages::certificate(ra, admin, id, csrf)
                })
                .await
            }
            ("GET", ["console", "certificates", id, "download"]) => {
                let Ok(id) = id.parse::<u64>() else {
                    return refused(StatusCode::NOT_FOUND, "Not found", "No such certificate.");
                };
                let format = list_format(query);
                let result = tokio::task::spawn_blocking(move || {
                    let owned = ra.certificate(&admin, id)?;
                    let bytes = if owned.owner.external {
                        ca_core::encoding::export(format, &owned.record.der, &[]).map_err(|e| {
                            RaError::Ca(ca_core::service::CaServiceError::Encoding(e))
                        })?
                    } else {
                        ra.ca().export(&owned.record, format)?
                    };
                    ra.record_download(&admin, id, &format!("console {format:?}"))?;
                    Ok::<_, RaError>(bytes)
                })
                .await;
                match result {
                    Ok(Ok(bytes)) => Page::File {
                        content_type: format.media_type(),
                        filename: format!("certificate-{id}.{}", format.file_extension()),
                        body: Bytes::from(bytes),
                    },
                    Ok(Err(e)) => ra_refusal(&e),
                    Err(_) => refused(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Error",
                        "The download did not finish.",
                    ),
                }
            }
            ("POST", ["console", "certificates", id, "revoke"]) => {
                let Ok(id) = id.parse::<u64>() else {
                    return refused(StatusCode::NOT_FOUND, "Not found", "No such certificate.");
                };
                let Ok(reason) = reason.parse::<ca_core::revocation::RevocationReason>() else {
                    return refused(
                        StatusCode::BAD_REQUEST,
                        "Refused",
                        "Unknown revocation reason.",
                    );
                };
                let result =
                    tokio::task::spawn_blocking(move || ra.revoke(&admin, id, reason, &message))
                        .await;
                match result {
                    Ok(Ok(_)) => Page::Redirect(format!("/console/certificates/{id}"), Vec::new()),
                    Ok(Err(e)) => ra_refusal(&e),
                    Err(_) => refused(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Error",
                        "The revocation did not finish.",
                    ),
                }
            }
            ("POST", ["console", "certificates", id, "renew"]) => {
                let Ok(id) = id.parse::<u64>() else {
                    return refused(StatusCode::NOT_FOUND, "Not found", "No such certificate.");
                };
                let result =
                    tokio::task::spawn_blocking(move || ra.renew(&admin, id, None, replace)).await;
                match result {
                    Ok(Ok(request)) => match request.state {
                        policy::request::RequestState::Issued { certificate } => Page::Redirect(
                            format!("/console/certificates/{certificate}"),
                            Vec::new(),
                        ),
                        _ => Page::Redirect("/console/queue".into(), Vec::new()),
                    },
                    Ok(Err(e)) => ra_refusal(&e),
                    Err(_) => refused(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Failed",
                        "The renewal failed.",
                    ),
                }
            }
            ("POST", ["console", "queue", "approve"]) => {
                // Each is the RA's approval of its own: one refused does not stop the others.
                let result = tokio::task::spawn_blocking(move || {
                    let mut refusals = Vec::new();
                    for id in ids {
                        if let Err(e) = ra.approve(&admin, RequestId(id), &message) {
                            refusals.push(format!(
                                "request {id}: {}",
                                gateway_http::Refusal::of(&e).message
                            ));
                        }
                    }
                    refusals
                })
                .await
                .unwrap_or_else(|_| vec!["the approvals did not finish".into()]);
                if result.is_empty() {
                    Page::Redirect("/console/queue".into(), Vec::new())
                } else {
                    refused(
                        StatusCode::BAD_REQUEST,
                        "Some requests were not approved",
                        &result.join("; "),
                    )
                }
            }
            ("POST", ["console", "requests", id, decision @ ("approve" | "decline")]) => {
                let Ok(id) = id.parse::<u64>() else {
                    return refused(StatusCode::NOT_FOUND, "Not found", "No such request.");
                };
                let approve = *decision == "approve";
                let result = tokio::task::spawn_blocking(move || {
                    if approve {
                        ra.approve(&admin, RequestId(id), &message).map(|_| ())
                    } else {
                        ra.decline(&admin, RequestId(id), &message).map(|_| ())
                    }
                })
                .await;
                match result {
                    Ok(Ok(())) => Page::Redirect("/console/queue".into(), Vec::new()),
                    Ok(Err(e)) => ra_refusal(&e),
                    Err(_) => refused(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Error",
                        "The request did not finish.",
                    ),
                }
            }
            _ => {
                let asked = management::Asked {
                    method: method.as_str(),
                    segments: &segments,
                    query,
                    form: &form,
                    client,
                };
                let page = management::route(ra, admin, csrf, asked).await;
                page.unwrap_or_else(|| {
                    refused(
                        StatusCode::NOT_FOUND,
                        "Not found",
                        "There is no such page in the console.",
                    )
                })
            }
        }
    }
}

/// Renders a signed-in page with the RA on the blocking pool.
async fn render<F>(
    ra: Arc<RegistrationAuthority>,
    admin: Administrator,
    csrf: String,
    title: &'static str,
    body: F,
) -> Page
where
    F: FnOnce(&RegistrationAuthority, &Administrator, &str) -> Result<Markup, RaError>
        + Send
        + 'static,
{
    let result = tokio::task::spawn_blocking(move || {
        body(&ra, &admin, &csrf).map(|b| pages::layout(title, &admin, &csrf, b))
    })
    .await;
    match result {
        Ok(Ok(page)) => html(StatusCode::OK, page),
        Ok(Err(e)) => ra_refusal(&e),
        Err(_) => refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "The page did not finish.",
        ),
    }
}

fn ra_refusal(error: &RaError) -> Page {
    let refusal = gateway_http::Refusal::of(error);
    let status = match refusal.kind {
        gateway_http::RefusalKind::Forbidden => StatusCode::FORBIDDEN,
        gateway_http::RefusalKind::NotFound => StatusCode::NOT_FOUND,
        gateway_http::RefusalKind::BadRequest | gateway_http::RefusalKind::Conflict => {
            StatusCode::BAD_REQUEST
        }
        gateway_http::RefusalKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refused(status, "Refused", &refusal.message)
}

/// A page with `Retry-After: seconds` (a 429).
fn with_retry_after(page: Page, seconds: u64) -> Page {
    match page {
        Page::Html(status, markup, mut headers) => {
            headers.push((header::RETRY_AFTER, seconds.to_string()));
            Page::Html(status, markup, headers)
        }
        other => other,
    }
}

fn login_form(error: Option<&str>, status: StatusCode) -> Page {
    let csrf = session::random_token();
    Page::Html(
        status,
        pages::login(&csrf, error),
        vec![(
            header::SET_COOKIE,
            session::set_cookie(
                session::LOGIN_COOKIE,
                &csrf,
                Some(std::time::Duration::from_secs(3600)),
            ),
        )],
    )
}

/// What a form asks for besides its CSRF token.
struct Action {
    message: String,
    reason: String,
    /// The requests a bulk approval selects.
    ids: Vec<u64>,
    /// A renewal replaces the certificate (the "Replace" button).
    replace: bool,
    /// The whole form, for the management pages' forms.
    form: Vec<(String, String)>,
    /// The address the request came from (a change of the allow-lists is checked
    /// against it).
    client: Option<IpAddr>,
}

/// The `format` of a download (PEM when none or an unknown one is asked).
fn list_format(query: &str) -> ca_core::encoding::ExportFormat {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "format")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(ca_core::encoding::ExportFormat::Pem)
}

async fn read_form<B>(
    body: B,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Vec<(String, String)>, Page>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    let bytes = gateway_http::read_limited(body, headers, limit)
        .await
        .map_err(|e| refused(StatusCode::PAYLOAD_TOO_LARGE, "Refused", &e.to_string()))?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

fn add(response: &mut Response<Full<Bytes>>, headers: Vec<(header::HeaderName, String)>) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, v);
        }
    }
}

impl gateway_http::ProtocolService for Console {
    fn call(&self, request: Request<hyper::body::Incoming>) -> gateway_http::ResponseFuture {
        let console = self.clone();
        Box::pin(async move { console.handle(request).await })
    }
}
