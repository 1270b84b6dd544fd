//! The audit log (MRAO), newest page first, with the verification of its hash chain.

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{RaError, RegistrationAuthority};

/// Entries on a page.
const PAGE: u64 = 100;

fn when(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| {
            format!(
                "{} {:02}:{:02}:{:02}",
                t.date(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default()
}

/// The page's body; `before` is the first sequence number not shown (the newest page when None).
pub fn audit(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    before: Option<u64>,
) -> Result<Markup, RaError> {
    let verified = ra.verify_audit_head(admin)?;
    let head = verified.as_ref().map(|(seq, _)| *seq).unwrap_or(0);
    let end = before.unwrap_or(head + 1).min(head + 1);
    let start = end.saturating_sub(PAGE).max(1);
    let mut entries = ra.audit_entries(admin, start - 1, (end - start) as usize)?;
    entries.reverse();
    Ok(html! {
        @match &verified {
            Ok((0, _)) => p #verification { "The audit log is empty." },
            Ok((seq, hash)) => p #verification.ok {
                "The hash chain verifies: " (seq) " entries. Head " code { (hash) }
                " (record it elsewhere to detect a removal of the newest entries)."
            },
            Err(broken) => p #verification.error role="alert" {
                "The hash chain is broken at entry " (broken.seq) ": " (broken.reason)
            },
        }
        table #audit {
            thead { tr {
                th scope="col" { "#" } th scope="col" { "When (UTC)" } th scope="col" { "Who" }
                th scope="col" { "What" } th scope="col" { "On" } th scope="col" { "Outcome" } th scope="col" { "Detail" }
            } }
            tbody {
                @for e in &entries {
                    tr {
                        td { (e.seq) } td { (when(e.at)) } td { (e.actor) } td { (e.action) }
                        td { (e.object) } td { (format!("{:?}", e.outcome).to_ascii_lowercase()) } td { (e.detail) }
                    }
                }
            }
        }
        nav.pager aria-label="pages" {
            @if start > 1 {
                a rel="next" href=(format!("/console/audit?before={start}")) { "Older entries" }
            }
            @if end <= head {
                " " a rel="prev" href="/console/audit" { "Newest entries" }
            }
        }
    })
}
