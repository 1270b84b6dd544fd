//! Enrollment endpoints: creating one, the EAB keys of ACME ones, the challenges of
//! SCEP ones, the password and authentication of EST ones. Every secret is shown
//! once, on the page that answers the form that made it.

use maud::{html, Markup};
use policy::model::{Administrator, ApprovalMode, EndpointKind, EstAuth};
use policy::registry::{EndpointSecret, NewEabKey, RaError, RegistrationAuthority};

/// Where clients find an endpoint (a path on the gateway).
fn client_path(name: &str, kind: &EndpointKind) -> String {
    match kind {
        EndpointKind::Acme { .. } => format!("/acme/{name}/directory"),
        EndpointKind::Scep { .. } | EndpointKind::Intune { .. } => format!("/scep/{name}"),
        EndpointKind::Est { label, .. } => format!("/.well-known/est/{label}/"),
        EndpointKind::Rest => "/api/v1/requests".into(),
    }
}

/// The page's body.
pub fn endpoints(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let endpoints = ra.endpoints(admin)?;
    Ok(html! {
        table #endpoints {
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "Protocol" } th scope="col" { "URL path" }
                th scope="col" { "Profile" } th scope="col" { "Approval" } th scope="col" { "Status" }
                th scope="col" { "Credentials" }
            } }
            tbody {
                @for e in &endpoints {
                    tr {
                        td { (e.name) }
                        td { (e.kind.name()) }
                        td { code { (client_path(&e.name, &e.kind)) } }
                        td { (e.profile) }
                        td { @match e.approval { ApprovalMode::Auto => "automatic", ApprovalMode::Queue => "approval queue" } }
                        td { @if e.active { "active" } @else { "inactive" } }
                        td {
                            @match &e.kind {
                                EndpointKind::Acme { eab_required, eab_keys } => {
                                    (eab_keys.len()) " EAB keys"
                                    @if *eab_required { " (required)" }
                                    form.inline method="post" action=(format!("/console/endpoints/{}/eab-keys", e.id.0)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        " "
                                        button.secondary type="submit" aria-label=(format!("New EAB key for {}", e.name)) { "New EAB key" }
                                    }
                                }
                                EndpointKind::Scep { webhook, .. } => {
                                    @if webhook.is_some() { "webhook validator" } @else { "challenge password" }
                                    form.inline method="post" action=(format!("/console/endpoints/{}/scep-challenges", e.id.0)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        " "
                                        button.secondary type="submit" aria-label=(format!("New one-time challenge for {}", e.name)) { "New one-time challenge" }
                                    }
                                    (rotate_button(e.id.0, &e.name, "challenge password", csrf))
                                }
                                EndpointKind::Est { username, auth, .. } => {
                                    "user " code { (username) }
                                    form.inline method="post" action=(format!("/console/endpoints/{}/est-auth", e.id.0)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        " "
                                        select name="auth" aria-label=(format!("Authentication of {}", e.name)) {
                                            @for mode in [EstAuth::Basic, EstAuth::Certificate, EstAuth::Either, EstAuth::Both] {
                                                option value=(mode.name()) selected[mode == *auth] { (mode.name()) }
                                            }
                                        }
                                        " "
                                        button.secondary type="submit" aria-label=(format!("Set the authentication of {}", e.name)) { "Set" }
                                    }
                                    (rotate_button(e.id.0, &e.name, "password", csrf))
                                }
                                EndpointKind::Intune { application } => {
                                    "Entra ID application " code { (application.application_id) }
                                }
                                EndpointKind::Rest => "API keys",
                            }
                        }
                    }
                }
            }
        }
        p.note { "A new secret replaces the old one at once: hand it to the devices and MDM profiles that use the endpoint. Trust anchors for EST certificate authentication and SCEP webhooks are set with " code { "ca-admin endpoint est-settings" } " and " code { "scep-webhook" } "." }
        (create_form(ra, admin, csrf)?)
    })
}

fn rotate_button(id: u64, name: &str, what: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("/console/endpoints/{id}/rotate-secret")) {
            input type="hidden" name="csrf" value=(csrf);
            " "
            button.secondary type="submit" aria-label=(format!("New {what} for {name}")) { "New " (what) }
        }
    }
}

/// The form for a new endpoint (the RA decides who may: `manage` on the profile's
/// class in the chosen scope, and `approve` too for an automatic one).
fn create_form(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let orgs = ra.organizations(admin)?;
    let depts = ra.departments(admin, None)?;
    let org_name = |id| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.name.as_str())
            .unwrap_or("?")
    };
    Ok(html! {
        h2 { "New endpoint" }
        form.card #new-endpoint method="post" action="/console/endpoints" {
            input type="hidden" name="csrf" value=(csrf);
            label for="endpoint-name" { "Name (letters, digits, - and _; it is part of the URL)" }
            input #endpoint-name type="text" name="name" maxlength="64" required;
            label for="endpoint-kind" { "Protocol" }
            select #endpoint-kind name="kind" {
                option value="acme" { "ACME" }
                option value="scep" { "SCEP" }
                option value="est" { "EST" }
                option value="rest" { "REST" }
            }
            label for="endpoint-org" { "Organization" }
            select #endpoint-org name="org" {
                @for o in &orgs { option value=(o.id.0) { (o.name) } }
            }
            label for="endpoint-dept" { "Department (none: the whole organization)" }
            select #endpoint-dept name="dept" {
                option value="" { "none" }
                @for d in &depts { option value=(d.id.0) { (org_name(d.org)) ": " (d.name) } }
            }
            label for="endpoint-profile" { "Profile" }
            select #endpoint-profile name="profile" {
                @for p in ra.ca().profiles().iter() { option value=(p.name) { (p.name) } }
            }
            label for="endpoint-approval" { "Approval" }
            select #endpoint-approval name="approval" {
                option value="queue" { "approval queue" }
                option value="auto" { "automatic" }
            }
            label.check { input type="checkbox" name="eab_required" value="yes"; " ACME: require external account binding" }
            p { button type="submit" { "Create endpoint" } }
        }
        p.note { "Intune endpoints need their Entra ID application's secret: create them with " code { "ca-admin endpoint create --kind intune" } "." }
    })
}

/// The page that shows an endpoint's new secret, once.
pub fn new_endpoint_secret(endpoint: &str, secret: &EndpointSecret) -> Markup {
    let (what, value) = match secret {
        EndpointSecret::ScepChallenge(c) => ("SCEP challenge password", Some(c.as_str())),
        EndpointSecret::EstPassword(p) => ("EST password", Some(p.as_str())),
        EndpointSecret::None => ("", None),
    };
    html! {
        @match value {
            Some(value) => {
                p { "The " (what) " of " code { (endpoint) } ". "
                    strong { "Copy it now: it is shown only this once." } }
                table { tbody { tr { th scope="row" { (what) } td { code #endpoint-secret { (value) } } } } }
            }
            None => p { "The endpoint " code { (endpoint) } " is ready; it has no secret." }
        }
        p { a href="/console/endpoints" { "Back to the endpoints" } }
    }
}

/// The page that shows a new one-time SCEP challenge, once.
pub fn new_scep_challenge(endpoint: &str, challenge: &str, expires_at: i64) -> Markup {
    html! {
        p { "A one-time challenge for one device's enrollment at " code { (endpoint) } ", valid until "
            (super::date_time(expires_at)) ". " strong { "Copy it now: it is shown only this once." } }
        table { tbody { tr { th scope="row" { "Challenge" } td { code #scep-challenge { (challenge) } } } } }
        p { a href="/console/endpoints" { "Back to the endpoints" } }
    }
}

/// The page that shows a new EAB key, once.
pub fn new_eab_key(endpoint: &str, key: &NewEabKey) -> Markup {
    html! {
        p { "A new external account binding key for the ACME endpoint " code { (endpoint) } ". "
            strong { "Copy the HMAC key now: it is shown only this once." } }
        table {
            tbody {
                tr { th scope="row" { "Key id" } td { code #eab-kid { (key.key_id) } } }
                tr { th scope="row" { "HMAC key" } td { code #eab-hmac { (key.hmac.as_str()) } } }
                tr { th scope="row" { "certbot" } td { code { "--eab-kid=" (key.key_id) " --eab-hmac-key=" (key.hmac.as_str()) } } }
                tr { th scope="row" { "lego" } td { code { "--eab --kid=" (key.key_id) " --hmac=" (key.hmac.as_str()) } } }
            }
        }
        p { a href="/console/endpoints" { "Back to the endpoints" } }
    }
}
