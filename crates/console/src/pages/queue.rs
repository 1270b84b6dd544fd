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
            form #bulk method="post" action="/console/queue/approve" {
                input type="hidden" name="csrf" value=(csrf);
                label for="bulk-message" { "Message for the selected requests" }
                input #bulk-message type="text" name="message" maxlength="512";
                " "
                button type="submit" { "Approve selected" }
            }
            table {
                thead { tr {
                    th scope="col" { "Select" } th scope="col" { "Request" } th scope="col" { "Names" } th scope="col" { "Profile" }
                    th scope="col" { "Requester" } th scope="col" { "Channel" } th scope="col" { "Decision" }
                } }
                tbody {
                    @for r in &waiting {
                        tr {
                            td {
                                input type="checkbox" name="ids" value=(r.id.0) form="bulk"
                                    aria-label=(format!("select request {}", r.id.0));
                            }
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
