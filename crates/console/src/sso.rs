//! SAML 2.0 single sign-on for administrators: three routes, reachable without a
//! session.
//!
//! - `GET /console/saml/metadata`: this service provider's metadata (entity id = that
//!   URL, ACS = `/console/saml/acs`, HTTP-POST binding), for the identity provider.
//! - `GET /console/saml/login[?next=/console/...]`: SP-initiated sign-in, a redirect to
//!   the IdP with an AuthnRequest (HTTP-Redirect binding) and the path as RelayState.
//! - `POST /console/saml/acs`: the IdP's Response (HTTP-POST binding), SP- or
//!   IdP-initiated. `saml_sp` verifies it (signature, issuer, audience, recipient,
//!   times, status); here its InResponseTo must name an outstanding request of ours
//!   (once, within ten minutes), its assertion id must be new (the RA remembers used ids
//!   durably until they expire), and the RA signs in the administrator with that
//!   eduPersonPrincipalName, or creates one from the first matching administrator
//!   template. Every refusal is a 403 page, audited as `console.sso`, that creates
//!   nothing; a success is audited as `console.login` with detail `sso`.
//!
//! The session cookie is `SameSite=Strict`: a browser does not send it on the request
//! a cross-site POST is redirected to, so a success answers with a page that moves on
//! to the RelayState path by itself (a meta refresh: a navigation from this site) rather
//! than with a 303. The RelayState is only ever a path under `/console/` (never an
//! absolute URL: no open redirect); anything else goes to `/console/`.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{header, StatusCode};
use maud::{html, DOCTYPE};
use policy::audit::AuditEvent;
use policy::registry::{RaError, RegistrationAuthority, SsoClaims, SsoIdentityProvider};
use saml_sp::{attributes, IdentityProvider, OutstandingRequests, SamlRefusal, ServiceProvider};

use crate::{now, refused, session, Console, Page};

/// The SP metadata path.
pub const METADATA_PATH: &str = saml_sp::METADATA_PATH;
/// The SP-initiated sign-in path.
pub const LOGIN_PATH: &str = "/console/saml/login";
/// The AssertionConsumerService path.
pub const ACS_PATH: &str = saml_sp::ACS_PATH;
/// The largest ACS form body read (a Response with its certificate and many group
/// claims, base64 and URL-encoded, is well beyond the other forms' limit).
pub const ACS_BODY_LIMIT: usize = 384 * 1024;
/// The longest RelayState path kept.
const MAX_PATH: usize = 512;

/// What single sign-on needs to know of the deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettings {
    /// The HTTPS base URL the console is reached at (e.g. `https://pki.example.com:8443`):
    /// the entity id and the ACS URL are made from it.
    pub https_base: String,
}

/// The service provider and its requests under way.
#[derive(Debug, Default)]
pub(crate) struct Sso {
    sp: Option<ServiceProvider>,
    outstanding: OutstandingRequests,
}

impl Sso {
    pub(crate) fn new(settings: &SsoSettings) -> Self {
        Self {
            sp: Some(ServiceProvider::at(&settings.https_base)),
            outstanding: OutstandingRequests::default(),
        }
    }
}

/// Why a sign-in through the IdP is refused.
enum Refusal {
    NotSetUp,
    Saml(SamlRefusal),
    Ra(RaError),
}

impl Refusal {
    fn code(&self) -> &'static str {
        match self {
            Refusal::NotSetUp => "not-set-up",
            Refusal::Saml(r) => r.code(),
            Refusal::Ra(_) => "no-administrator",
        }
    }

    fn text(&self) -> String {
        match self {
            Refusal::NotSetUp => "Single sign-on is not set up for this console.".to_string(),
            Refusal::Saml(r) => format!("{}.", capitalized(&r.to_string())),
            Refusal::Ra(e @ RaError::AddressNotAllowed { .. }) => {
                gateway_http::Refusal::of(e).message
            }
            Refusal::Ra(RaError::Unauthenticated(why)) => format!("{}.", capitalized(why)),
            Refusal::Ra(_) => "The sign-in could not be completed.".to_string(),
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A path under `/console/` to go to after sign-in, or `None` (then `/console/`): never
/// an absolute or scheme-relative URL, nothing that leaves the console's paths.
pub(crate) fn console_path(relay_state: &str) -> Option<String> {
    let path = relay_state.trim();
    let under = path == "/console" || path.starts_with("/console/");
    let plain = path.len() <= MAX_PATH
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !path.contains("//")
        && !path.to_ascii_lowercase().contains("%2e")
        && !path.to_ascii_lowercase().contains("%2f")
        && !path.to_ascii_lowercase().contains("%5c")
        && !path
            .split(['/', '?', '#'])
            .any(|segment| segment == ".." || segment == ".");
    (under && plain).then(|| path.to_string())
}

fn idp_of(record: &SsoIdentityProvider) -> IdentityProvider {
    IdentityProvider {
        entity_id: record.entity_id.clone(),
        sso_url: record.sso_url.clone(),
        signing_certificates: record.certificates.iter().map(|c| c.der.clone()).collect(),
    }
}

fn from(client: Option<IpAddr>) -> String {
    client.map(|c| format!(" from {c}")).unwrap_or_default()
}

impl Console {
    /// `GET /console/saml/metadata`.
    pub(crate) fn sso_metadata(&self) -> Page {
        match &self.sso.sp {
            Some(sp) => Page::File {
                content_type: "application/samlmetadata+xml",
                filename: "certwright-console-sp-metadata.xml".into(),
                body: Bytes::from(saml_sp::sp_metadata_xml(sp)),
            },
            None => refused(
                StatusCode::NOT_FOUND,
                "Not found",
                "Single sign-on is not available: the console has no HTTPS address.",
            ),
        }
    }

    /// `GET /console/saml/login`: to the IdP with an AuthnRequest.
    pub(crate) async fn sso_login(&self, query: &str) -> Page {
        let Some(sp) = self.sso.sp.clone() else {
            return not_set_up();
        };
        let next = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "next")
            .and_then(|(_, v)| console_path(&v))
            .unwrap_or_else(|| "/console/".to_string());
        let ra = self.ra.clone();
        let idp = match tokio::task::spawn_blocking(move || ra.sso_identity_provider()).await {
            Ok(Ok(Some(idp))) => idp_of(&idp),
            Ok(Ok(None)) => return not_set_up(),
            _ => {
                return refused(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "The sign-in did not start.",
                )
            }
        };
        match sp.authn_request(&idp, &next) {
            Some(redirect) => {
                self.sso.outstanding.remember(&redirect.id, now());
                Page::Redirect(redirect.url, Vec::new())
            }
            None => refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error",
                "The sign-in request could not be made; check the identity provider's single sign-on URL.",
            ),
        }
    }

    /// `POST /console/saml/acs`.
    pub(crate) async fn sso_acs(
        &self,
        saml_response: String,
        relay_state: String,
        client: Option<IpAddr>,
    ) -> Page {
        let ra = self.ra.clone();
        let sso = self.sso.clone();
        let result =
            tokio::task::spawn_blocking(move || sign_in(&ra, &sso, &saml_response, client)).await;
        let (admin, next) = match result {
            Ok(Ok(signed)) => (signed, console_path(&relay_state)),
            Ok(Err((who, refusal))) => {
                let ra = self.ra.clone();
                let text = refusal.text();
                let detail = format!("{}: {text}{}", refusal.code(), from(client));
                let _ = tokio::task::spawn_blocking(move || {
                    ra.audit_log().record(AuditEvent::denied(
                        &who,
                        "console.sso",
                        "sso:idp",
                        detail,
                    ))
                })
                .await;
                return sso_refused(&text);
            }
            Err(_) => {
                return refused(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    "The sign-in did not finish.",
                )
            }
        };
        let token = self.sessions.begin_sso(admin);
        let next = next.unwrap_or_else(|| "/console/".to_string());
        Page::Html(
            StatusCode::OK,
            signed_in(&next),
            vec![(
                header::SET_COOKIE,
                session::set_cookie(session::COOKIE, &token, None),
            )],
        )
    }
}

/// Verifies the Response and signs the administrator in; on a refusal, who it was
/// (their identity when known) and why.
fn sign_in(
    ra: &RegistrationAuthority,
    sso: &Arc<Sso>,
    saml_response: &str,
    client: Option<IpAddr>,
) -> Result<policy::model::AdminId, (String, Refusal)> {
    let anonymous = |r: Refusal| ("saml".to_string(), r);
    let sp = sso.sp.as_ref().ok_or(anonymous(Refusal::NotSetUp))?;
    let idp = match ra.sso_identity_provider() {
        Ok(Some(idp)) => idp_of(&idp),
        Ok(None) => return Err(anonymous(Refusal::NotSetUp)),
        Err(e) => return Err(anonymous(Refusal::Ra(e))),
    };
    let now = now();
    let verified = sp
        .verify_response(&idp, saml_response, now)
        .map_err(|r| anonymous(Refusal::Saml(r)))?;
    let identity = verified.first(attributes::EPPN);
    let who = identity.clone().unwrap_or_else(|| "saml".to_string());
    let refuse = |r: Refusal| (who.clone(), r);
    // Used once only, remembered durably until it would expire anyway.
    match ra.consume_sso_assertion(&verified.issuer, &verified.id, verified.valid_until) {
        Ok(()) => {}
        Err(RaError::Conflict(_)) => return Err(refuse(Refusal::Saml(SamlRefusal::Replayed))),
        Err(e) => return Err(refuse(Refusal::Ra(e))),
    }
    if let Some(request) = &verified.in_response_to {
        if !sso.outstanding.take(request, now) {
            return Err(refuse(Refusal::Saml(SamlRefusal::UnknownRequest)));
        }
    }
    let identity = identity.ok_or_else(|| {
        refuse(Refusal::Saml(SamlRefusal::MissingAttribute(
            "eduPersonPrincipalName",
        )))
    })?;
    let mail = verified
        .first(attributes::MAIL)
        .ok_or_else(|| refuse(Refusal::Saml(SamlRefusal::MissingAttribute("mail"))))?;
    let claims = SsoClaims {
        identity,
        mail,
        given_name: verified.first(attributes::GIVEN_NAME),
        surname: verified.first(attributes::SURNAME),
        attributes: verified.by_name(),
    };
    let signed = ra
        .sso_sign_in(&claims, client)
        .map_err(|e| refuse(Refusal::Ra(e)))?;
    let admin = signed.admin;
    let detail = match &signed.provisioned_by {
        Some(template) => format!(
            "sso {} (created from template '{template}'){}",
            claims.identity,
            from(client)
        ),
        None => format!("sso {}{}", claims.identity, from(client)),
    };
    ra.audit_log()
        .record(AuditEvent::success(
            &admin.username,
            "console.login",
            &admin.id.label(),
            detail,
        ))
        .map_err(|e| refuse(Refusal::Ra(RaError::Store(e))))?;
    Ok(admin.id)
}

fn not_set_up() -> Page {
    sso_refused(&Refusal::NotSetUp.text())
}

fn sso_refused(text: &str) -> Page {
    Page::Html(
        StatusCode::FORBIDDEN,
        html! {
            (DOCTYPE)
            html lang="en" {
                (crate::pages::head("Single sign-on refused", None))
                body {
                    main.login {
                        h1 { "Single sign-on refused" }
                        p.error role="alert" { (text) }
                        p { "Nothing was changed. " a href="/console/login" { "Back to sign-in" } }
                    }
                }
            }
        },
        Vec::new(),
    )
}

/// The page after a successful sign-in: it moves on to `next` by itself.
fn signed_in(next: &str) -> maud::Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (crate::pages::head("Signed in", Some(next)))
            body {
                main.login {
                    h1 { "Signed in" }
                    p { a href=(next) { "Continue to the console" } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_relay_states() {
        for good in [
            "/console",
            "/console/",
            "/console/queue",
            "/console/certificates?name=a&status=issued",
        ] {
            assert_eq!(console_path(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "https://evil.example/console/",
            "//evil.example/console/",
            "/console//evil.example",
            "/console/\\evil.example",
            "/console/../api/v1/admins",
            "/console/%2e%2e/api",
            "/consolex",
            "/api/v1/login",
            "javascript:alert(1)",
            "/console/ space",
            "",
        ] {
            assert_eq!(console_path(bad), None, "{bad}");
        }
        assert_eq!(console_path(&format!("/console/{}", "a".repeat(600))), None);
    }
}
