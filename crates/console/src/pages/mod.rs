//! The pages, as maud templates: the layout every page shares, the login form,
//! the dashboard, the approval queue, the certificate lists and the
//! management pages.

mod access;
mod administrators;
mod audit;
mod authorities;
mod certificate;
mod certificates;
mod dashboard;
mod endpoints;
mod key_facts;
mod organizations;
mod queue;

pub use access::access;
pub use administrators::{administrators, new_api_key};
pub use audit::audit;
pub use authorities::{authorities, profiles};
pub use endpoints::{endpoints, new_eab_key, new_endpoint_secret, new_scep_challenge};
pub use organizations::organizations;

pub use administrators::privilege_word;
pub use certificate::certificate;
pub use certificates::certificates;
pub use certificates::class_word;
pub use certificates::ListQuery;
pub use dashboard::dashboard;
pub use queue::queue;

use maud::{html, Markup, DOCTYPE};
use policy::model::Administrator;

/// A unix time as the pages show it: `2026-12-07 20:41 UTC`.
pub(crate) fn date_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
        .unwrap_or_default()
}

/// A unix time's date: `2026-12-07`.
pub(crate) fn day(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// The `<head>` every page shares: its title, the stylesheet, the icon (without one a
/// browser asks for `/favicon.ico`), and for a page that moves on by itself, where to.
pub fn head(title: &str, refresh: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if let Some(next) = refresh {
                meta http-equiv="refresh" content=(format!("0;url={next}"));
            }
            title { (title) " · Certwright" }
            link rel="stylesheet" href="/console/assets/console.css";
            link rel="icon" href="/console/assets/icon.svg" type="image/svg+xml";
        }
    }
}

/// The page around every signed-in view: navigation, the administrator, logout.
pub fn layout(title: &str, admin: &Administrator, csrf: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body {
                header {
                    span.brand { "Certwright" }
                    nav aria-label="main" {
                        a href="/console/" { "Dashboard" }
                        a href="/console/certificates" { "Certificates" }
                        a href="/console/queue" { "Approval queue" }
                        a href="/console/organizations" { "Organizations" }
                        a href="/console/administrators" { "Administrators" }
                        a href="/console/endpoints" { "Endpoints" }
                        a href="/console/authorities" { "CAs" }
                        a href="/console/profiles" { "Profiles" }
                        @if admin.role == policy::model::Role::Mrao {
                            a href="/console/access" { "Access" }
                            a href="/console/audit" { "Audit log" }
                        }
                    }
                    span { (admin.username) " (" (admin.role.name().to_ascii_uppercase()) ")" }
                    form method="post" action="/console/logout" {
                        input type="hidden" name="csrf" value=(csrf);
                        button.secondary type="submit" { "Log out" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The login form; `csrf` is the login cookie's token, `error` what went wrong last.
pub fn login(csrf: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in", None))
            body {
                main.login {
                    h1 { "Sign in to Certwright" }
                    @if let Some(error) = error {
                        p.error role="alert" { (error) }
                    }
                    form method="post" action="/console/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        label for="username" { "Username" }
                        input #username type="text" name="username" autocomplete="username" required;
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="current-password" required;
                        p { button type="submit" { "Sign in" } }
                    }
                    p { a href="/console/saml/login" { "Sign in with single sign-on" } }
                }
            }
        }
    }
}

/// A short page for a refusal (bad CSRF token, unknown page).
pub fn message(title: &str, text: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, None))
            body { main.login { h1 { (title) } p { (text) } p { a href="/console/" { "Back to the console" } } } }
        }
    }
}
