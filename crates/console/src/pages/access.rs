//! Access control: the client networks each role's administrators may use the
//! console, the REST API and the SCM-compatible API from (MRAO).

use std::net::IpAddr;

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{RaError, RegistrationAuthority};

/// The page's body: each role's list, editable as one network per line.
pub fn access(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    csrf: &str,
    client: Option<IpAddr>,
) -> Result<Markup, RaError> {
    let lists = ra.allow_lists(admin)?;
    let address = client.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    Ok(html! {
        p { "An empty list admits every address. Your address is " code #client-address { (address) } "; a change to your own role's list that would not admit it is refused." }
        form.card #allow-lists method="post" action="/console/access" {
            input type="hidden" name="csrf" value=(csrf);
            @for list in &lists {
                @let id = format!("allow-{}", list.role.name());
                label for=(id) { (list.role.name().to_ascii_uppercase()) " networks (one per line, e.g. 10.0.0.0/8 or 2001:db8::/32)" }
                textarea id=(id) name=(list.role.name()) rows="4" {
                    (list.networks.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
                }
                p.note {
                    @match (&list.updated_by, list.updated_at) {
                        (Some(by), Some(at)) => { "Last changed by " (by) ", " (super::date_time(at)) "." }
                        _ => "Never set.",
                    }
                }
            }
            p { button type="submit" { "Save allow-lists" } }
        }
        p.note { "A list that shuts you out can be repaired on the gateway's machine with " code { "ca-admin access allow-list set ROLE ... --offline" } "." }
    })
}
