//! The certificate list, filtered by status, name and expiry.

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{CertificateFilter, RaError, RegistrationAuthority};

/// What the list is filtered by (from the query string).
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    /// "issued", "revoked", "replaced".
    pub status: Option<String>,
    /// Text in a name or the subject.
    pub name: Option<String>,
    /// Only those expiring within this many days.
    pub expires_within: Option<i64>,
}

/// The list's body: a filter form and the table.
pub fn certificates(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    query: &ListQuery,
    now: i64,
) -> Result<Markup, RaError> {
    let filter = CertificateFilter {
        status: query
            .status
            .clone()
            .filter(|s| ["issued", "revoked", "replaced"].contains(&s.as_str())),
        name: query.name.clone(),
        expires_before: query
            .expires_within
            .map(|d| now + d.clamp(0, 36_500) * 86_400),
        ..Default::default()
    };
    let rows = ra.certificates(admin, &filter, 0, 500)?;
    Ok(html! {
        form method="get" action="/console/certificates" {
            label for="name" { "Name or subject contains" }
            input #name type="text" name="name" value=(query.name.clone().unwrap_or_default());
            label for="status" { "Status" }
            select #status name="status" {
                option value="" { "any" }
                @for s in ["issued", "revoked", "replaced"] {
                    option value=(s) selected[query.status.as_deref() == Some(s)] { (s) }
                }
            }
            p { button type="submit" { "Filter" } }
        }
        p { (rows.len()) " certificates" }
        table {
            thead { tr {
                th scope="col" { "Id" } th scope="col" { "Subject" } th scope="col" { "Names" }
                th scope="col" { "Profile" } th scope="col" { "Serial" } th scope="col" { "Expires" }
                th scope="col" { "Status" }
            } }
            tbody {
                @for c in &rows {
                    tr {
                        td { a href=(format!("/console/certificates/{}", c.record.id)) { (c.record.id) } }
                        td { (c.record.subject) }
                        td { (c.record.names.iter().map(|n| n.value()).collect::<Vec<_>>().join(", ")) }
                        td { (c.record.profile) }
                        td { code { (c.record.serial.to_hex()) } }
                        td { (time::OffsetDateTime::from_unix_timestamp(c.record.not_after).map(|t| t.date().to_string()).unwrap_or_default()) }
                        td { (c.record.status.name()) }
                    }
                }
            }
        }
    })
}
