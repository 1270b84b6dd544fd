//! Organizations, their departments, and the domains delegated to them.

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{RaError, RegistrationAuthority};

/// The page's body: what the administrator's scope holds.
pub fn organizations(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let orgs = ra.organizations(admin)?;
    let depts = ra.departments(admin, None)?;
    let domains = ra.domains(admin)?;
    let org_name = |id| {
        orgs.iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| format!("organization {}", id.0))
    };
    let dept_name = |id| {
        depts
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("department {}", id.0))
    };
    Ok(html! {
        table #organizations {
            caption { "Organizations and departments" }
            thead { tr { th scope="col" { "Id" } th scope="col" { "Organization" } th scope="col" { "Departments" } th scope="col" { "Certificates" } } }
            tbody {
                @for o in &orgs {
                    tr {
                        td { (o.id.0) }
                        td { (o.name) }
                        td { (depts.iter().filter(|d| d.org == o.id).map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")) }
                        td { a href=(format!("/console/certificates?org={}", o.id.0)) { "certificates of " (o.name) } }
                    }
                }
            }
        }
        h2 { "Delegated domains" }
        @if domains.is_empty() {
            p { "No domain is delegated in your scope." }
        } @else {
            table #domains {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Organization" } th scope="col" { "Department" } } }
                tbody {
                    @for d in &domains {
                        tr {
                            td { code { (d.name.to_string()) } }
                            td { (org_name(d.org)) }
                            td { (d.dept.map(dept_name).unwrap_or_else(|| "all".into())) }
                        }
                    }
                }
            }
        }
        h2 { "Add" }
        p.note { "The RA decides who may: an MRAO creates organizations; an RAO who manages an organization adds its departments and delegations." }
        div.cards {
            form.card method="post" action="/console/organizations" {
                input type="hidden" name="csrf" value=(csrf);
                label for="new-org" { "New organization's name" }
                input #new-org type="text" name="name" maxlength="128" required;
                p { button type="submit" { "Create organization" } }
            }
            form.card method="post" action="/console/departments" {
                input type="hidden" name="csrf" value=(csrf);
                label for="dept-org" { "Organization" }
                select #dept-org name="org" {
                    @for o in &orgs { option value=(o.id.0) { (o.name) } }
                }
                label for="new-dept" { "New department's name" }
                input #new-dept type="text" name="name" maxlength="128" required;
                p { button type="submit" { "Create department" } }
            }
            form.card method="post" action="/console/domains" {
                input type="hidden" name="csrf" value=(csrf);
                label for="domain-name" { "Domain or network (example.com, 10.0.0.0/8)" }
                input #domain-name type="text" name="name" maxlength="253" required;
                label for="domain-org" { "Organization" }
                select #domain-org name="org" {
                    @for o in &orgs { option value=(o.id.0) { (o.name) } }
                }
                label for="domain-dept" { "Department (none: the whole organization)" }
                select #domain-dept name="dept" {
                    option value="" { "none" }
                    @for d in &depts { option value=(d.id.0) { (org_name(d.org)) ": " (d.name) } }
                }
                p { button type="submit" { "Delegate" } }
            }
        }
    })
}
