//! Administrators: roles, scopes, privileges, API keys; an MRAO deactivates,
//! reactivates and lifts sign-in locks here.

use maud::{html, Markup};
use policy::model::{Administrator, Role};
use policy::registry::{RaError, RegistrationAuthority};

fn scope(ra: &RegistrationAuthority, actor: &Administrator, role: &Role) -> String {
    match role {
        Role::Mrao => "everything".into(),
        Role::Rao { orgs } => {
            let known = ra.organizations(actor).unwrap_or_default();
            orgs.iter()
                .map(|id| {
                    known
                        .iter()
                        .find(|o| o.id == *id)
                        .map(|o| o.name.clone())
                        .unwrap_or_else(|| format!("organization {}", id.0))
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        Role::Drao { depts } => depts
            .iter()
            .map(|id| {
                ra.department(*id)
                    .map(|d| d.name)
                    .unwrap_or_else(|_| format!("department {}", id.0))
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The page's body (an MRAO sees everyone; others see themselves).
pub fn administrators(
    ra: &RegistrationAuthority,
    actor: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let admins = ra.admins(actor)?;
    let mrao = actor.role == Role::Mrao;
    Ok(html! {
        table #administrators {
            thead { tr {
                th scope="col" { "Username" } th scope="col" { "Role" } th scope="col" { "Scope" }
                th scope="col" { "Privileges" } th scope="col" { "Status" }
                @if mrao { th scope="col" { "Actions" } }
            } }
            tbody {
                @for a in &admins {
                    tr {
                        td { (a.username) }
                        td { (a.role.name().to_ascii_uppercase()) }
                        td { (scope(ra, actor, &a.role)) }
                        td {
                            @if a.role == Role::Mrao { "all" } @else {
                                @for (class, privileges) in &a.privileges.0 {
                                    (super::certificates::class_word(*class).1) ": " (privileges.iter().map(|p| format!("{p:?}").to_ascii_lowercase()).collect::<Vec<_>>().join(", ")) br;
                                }
                            }
                        }
                        td { @if a.active { "active" } @else { "deactivated" } }
                        @if mrao {
                            td {
                                @if a.id != actor.id {
                                    form.inline method="post" action=(format!("/console/administrators/{}/active", a.id.0)) {
                                        input type="hidden" name="csrf" value=(csrf);
                                        @if a.active {
                                            button.secondary type="submit" name="active" value="no" aria-label=(format!("Deactivate {}", a.username)) { "Deactivate" }
                                        } @else {
                                            button.secondary type="submit" name="active" value="yes" aria-label=(format!("Reactivate {}", a.username)) { "Reactivate" }
                                        }
                                    }
                                    " "
                                }
                                form.inline method="post" action=(format!("/console/administrators/{}/unlock", a.id.0)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.secondary type="submit" aria-label=(format!("Lift the sign-in lock of {}", a.username)) { "Lift sign-in lock" }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.note { "Administrators and their API keys are created with `ca-admin admin create` and `ca-admin admin api-key`, or the REST API; an API key is shown once, when it is made." }
    })
}
