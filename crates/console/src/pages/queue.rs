//! The approval queue: requests of every channel waiting for a decision.

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{RaError, RegistrationAuthority, RequestFilter};
use policy::request::StateName;

/// The queue's body: each request with approve and decline forms.
pub fn queue(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    csrf: &str,
) -> Result<Markup, RaError> {
    let filter = RequestFilter {
        status: Some(StateName::Requested),
        ..Default::default()
    };
    let waiting = ra.requests(admin, &filter, 0, 1000)?;
    Ok(html! {
        @if waiting.is_empty() {
            p { "Nothing is waiting for approval." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Request" } th scope="col" { "Names" } th scope="col" { "Profile" }
                    th scope="col" { "Requester" } th scope="col" { "Channel" } th scope="col" { "Decision" }
                } }
                tbody {
                    @for r in &waiting {
                        tr {
                            td { (r.id.0) }
                            td { (r.names.iter().map(|n| n.value()).collect::<Vec<_>>().join(", ")) }
                            td { (r.profile) }
                            td { (r.requester) }
                            td { (format!("{:?}", r.channel).to_ascii_lowercase()) }
                            td {
                                form.inline method="post" action=(format!("/console/requests/{}/approve", r.id.0)) {
                                    input type="hidden" name="csrf" value=(csrf);
                                    label for=(format!("message-{}", r.id.0)) { "Message" }
                                    input id=(format!("message-{}", r.id.0)) type="text" name="message" maxlength="512";
                                    button type="submit" { "Approve" }
                                    " "
                                    button.secondary type="submit" formaction=(format!("/console/requests/{}/decline", r.id.0)) { "Decline" }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}
