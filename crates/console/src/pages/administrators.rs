//! Administrators: roles, scopes, privileges, API keys; an MRAO creates,
//! deactivates, reactivates and lifts sign-in locks here, and everyone makes and
//! revokes their own API keys (an MRAO anyone's).

use maud::{html, Markup};
use policy::model::{Administrator, CertificateClass, Privilege, Role};
use policy::registry::{ApiKeyRecord, RaError, RegistrationAuthority};

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
        (api_keys(ra, actor, &admins, csrf)?)
        (password_form(actor, &admins, csrf))
        @if mrao { (create_form(ra, actor, csrf)?) }
    })
}

/// The form word of a privilege (`request`, `approve`, ...), as the REST API spells it.
pub fn privilege_word(privilege: Privilege) -> &'static str {
    match privilege {
        Privilege::Request => "request",
        Privilege::Approve => "approve",
        Privilege::Revoke => "revoke",
        Privilege::Manage => "manage",
    }
}

/// The API keys of the administrators shown, with a revoke button each and a form
/// for a new one (the key is shown once, on the page that answers it).
fn api_keys(
    ra: &RegistrationAuthority,
    actor: &Administrator,
    admins: &[Administrator],
    csrf: &str,
) -> Result<Markup, RaError> {
    let mut rows: Vec<(&Administrator, ApiKeyRecord)> = Vec::new();
    for admin in admins {
        for key in ra.api_keys(actor, admin.id)? {
            rows.push((admin, key));
        }
    }
    Ok(html! {
        h2 { "API keys" }
        @if rows.is_empty() {
            p { "No API keys." }
        } @else {
            table #api-keys {
                thead { tr {
                    th scope="col" { "Administrator" } th scope="col" { "Key id" }
                    th scope="col" { "Label" } th scope="col" { "Created" } th scope="col" { "Actions" }
                } }
                tbody {
                    @for (admin, key) in &rows {
                        tr {
                            td { (admin.username) }
                            td { code { (key.id) } }
                            td { (key.label) }
                            td { (super::date_time(key.created_at)) }
                            td {
                                form.inline method="post" action="/console/api-keys/revoke" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="id" value=(key.id);
                                    button.secondary type="submit" aria-label=(format!("Revoke API key {} ({})", key.id, key.label)) { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.card method="post" action="/console/api-keys" {
            input type="hidden" name="csrf" value=(csrf);
            label for="key-admin" { "For" }
            select #key-admin name="admin" {
                @for a in admins {
                    option value=(a.id.0) selected[a.id == actor.id] { (a.username) }
                }
            }
            label for="key-label" { "Label (what the key is for)" }
            input #key-label type="text" name="label" maxlength="64" required;
            p { button type="submit" { "Create API key" } }
        }
    })
}

/// An MRAO's form for a new administrator: role, the scope it is delegated, and its
/// privileges per certificate class (the RA refuses a scope that does not fit the role).
fn create_form(
    ra: &RegistrationAuthority,
    actor: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let orgs = ra.organizations(actor)?;
    let depts = ra.departments(actor, None)?;
    let org_name = |id| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.name.as_str())
            .unwrap_or("?")
    };
    Ok(html! {
        h2 { "New administrator" }
        form.card #new-admin method="post" action="/console/administrators" {
            input type="hidden" name="csrf" value=(csrf);
            label for="admin-username" { "Username" }
            input #admin-username type="text" name="username" maxlength="64" autocomplete="off" required;
            label for="admin-password" { "Initial password (at least 12 characters, not the username)" }
            input #admin-password type="password" name="password" minlength="12" autocomplete="new-password" required;
            label for="admin-role" { "Role" }
            select #admin-role name="role" {
                option value="rao" { "RAO: administers organizations" }
                option value="drao" { "DRAO: administers departments" }
                option value="mrao" { "MRAO: administers everything" }
            }
            fieldset {
                legend { "An RAO's organizations" }
                @if orgs.is_empty() { "No organizations yet." }
                @for o in &orgs {
                    label.check { input type="checkbox" name="org" value=(o.id.0); " " (o.name) }
                }
            }
            fieldset {
                legend { "A DRAO's departments" }
                @if depts.is_empty() { "No departments yet (create them on the Organizations page)." }
                @for d in &depts {
                    label.check { input type="checkbox" name="dept" value=(d.id.0); " " (org_name(d.org)) ": " (d.name) }
                }
            }
            fieldset {
                legend { "Privileges (an MRAO holds them all)" }
                table {
                    thead { tr {
                        th scope="col" { "Class" }
                        @for p in Privilege::ALL { th scope="col" { (privilege_word(p)) } }
                    } }
                    tbody {
                        @for class in CertificateClass::ALL {
                            tr {
                                th scope="row" { (super::certificates::class_word(class).1) }
                                @for p in Privilege::ALL {
                                    td {
                                        input type="checkbox" name="privilege"
                                            value=(format!("{}:{}", super::certificates::class_word(class).0, privilege_word(p)))
                                            aria-label=(format!("{} {}", super::certificates::class_word(class).1, privilege_word(p)));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { button type="submit" { "Create administrator" } }
        }
    })
}

/// The page that shows a new API key, once.
pub fn new_api_key(owner: &str, key: &ApiKeyRecord, secret: &str) -> Markup {
    html! {
        p { "A new API key for " strong { (owner) } " (" (key.label) "). "
            strong { "Copy it now: it is shown only this once." } }
        table {
            tbody {
                tr { th scope="row" { "Key id" } td { code { (key.id) } } }
                tr { th scope="row" { "API key" } td { code #api-key { (secret) } } }
                tr { th scope="row" { "Use" } td { code { "Authorization: Bearer " (secret) } } }
            }
        }
        p { a href="/console/administrators" { "Back to the administrators" } }
    }
}

/// A password change: one's own with the current password (the session ends, and the
/// browser signs in again), or, for an MRAO, anyone's.
fn password_form(actor: &Administrator, admins: &[Administrator], csrf: &str) -> Markup {
    html! {
        h2 { "Change a password" }
        form.card #change-password method="post" action="/console/password" {
            input type="hidden" name="csrf" value=(csrf);
            label for="password-admin" { "Whose" }
            select #password-admin name="admin" {
                @for a in admins {
                    option value=(a.id.0) selected[a.id == actor.id] { (a.username) }
                }
            }
            label for="password-current" { "Your current password (to change your own)" }
            input #password-current type="password" name="current" autocomplete="current-password";
            label for="password-new" { "New password (at least 12 characters, not the username)" }
            input #password-new type="password" name="new" minlength="12" autocomplete="new-password" required;
            p { button type="submit" { "Change password" } }
        }
    }
}
