//! Enrollment endpoints, and the EAB keys of ACME ones (a new key is shown once).

use maud::{html, Markup};
use policy::model::{Administrator, ApprovalMode, EndpointKind};
use policy::registry::{NewEabKey, RaError, RegistrationAuthority};

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
                                    @if webhook.is_some() { "webhook validator" } @else { "challenge password (set with ca-admin)" }
                                }
                                EndpointKind::Est { username, auth, .. } => {
                                    (auth.name()) ", user " code { (username) }
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
        p.note { "Endpoints are created with `ca-admin endpoint create` or the REST API; SCEP challenges and EST passwords are set there and never shown again." }
    })
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
