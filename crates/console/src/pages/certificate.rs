//! One certificate: its details, validity, history from the audit log, the
//! downloads, and a revocation form when its status allows it.

use ca_core::encoding::ExportFormat;
use ca_core::revocation::RevocationReason;
use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{RaError, RegistrationAuthority};

use super::date_time as date;

/// The issuing CA and its parents up to the root, as ids.
fn chain(ra: &RegistrationAuthority, issuer: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(issuer.to_string());
    while let Some(id) = next.take() {
        if out.contains(&id) || out.len() > 8 {
            break;
        }
        next = ra.ca().ca(&id).and_then(|ca| ca.metadata().parent.clone());
        out.push(id);
    }
    out
}

/// The page's body.
pub fn certificate(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    id: u64,
    csrf: &str,
) -> Result<Markup, RaError> {
    let owned = ra.certificate(admin, id)?;
    let history = ra.certificate_audit(admin, id)?;
    let r = &owned.record;
    let revocable = r.status.name() != "revoked" && !owned.owner.external;
    // Renewal reuses the stored request's CSR, so only what was requested here renews.
    let renewable =
        r.status.name() == "issued" && !owned.owner.external && owned.owner.request.is_some();
    Ok(html! {
        table {
            tbody {
                tr { th scope="row" { "Subject" } td { (r.subject) } }
                tr { th scope="row" { "Names" } td { (r.names.iter().map(|n| n.value()).collect::<Vec<_>>().join(", ")) } }
                tr { th scope="row" { "Serial" } td { code { (r.serial.to_hex()) } } }
                tr { th scope="row" { "Profile" } td { (r.profile) } }
                tr { th scope="row" { "Issuer" } td { (r.issuer_id) } }
                tr { th scope="row" { "Chain" } td {
                    @for (i, ca) in chain(ra, &r.issuer_id).iter().enumerate() {
                        @if i > 0 { " → " }
                        a href=(format!("/ca/{ca}.pem")) { (ca) }
                    }
                } }
                tr { th scope="row" { "Valid" } td { (date(r.not_before)) " to " (date(r.not_after)) " (" ((r.not_after - r.not_before) / 86_400) " days)" } }
                tr { th scope="row" { "Status" } td { (r.status.name()) } }
            }
        }
        h2 { "Download" }
        p {
            @for format in [ExportFormat::Pem, ExportFormat::PemChain, ExportFormat::Der, ExportFormat::Pkcs7Pem] {
                @let word = match format {
                    ExportFormat::Pem => "pem",
                    ExportFormat::PemChain => "pem-chain",
                    ExportFormat::Der => "der",
                    _ => "pkcs7-pem",
                };
                a href=(format!("/console/certificates/{id}/download?format={word}")) { (word) }
                " "
            }
        }
        @if renewable {
            h2 { "Renew or replace" }
            p { "A renewal asks for the same names with the same key; it is approved as a new request would be. A replacement also revokes this certificate once the new one is issued." }
            form method="post" action=(format!("/console/certificates/{id}/renew")) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { "Renew" }
                " "
                button.secondary type="submit" name="replace" value="yes" { "Replace" }
            }
        }
        @if revocable {
            h2 { "Revoke" }
            form method="post" action=(format!("/console/certificates/{id}/revoke")) {
                input type="hidden" name="csrf" value=(csrf);
                label for="reason" { "Reason" }
                select #reason name="reason" {
                    @for reason in [RevocationReason::Unspecified, RevocationReason::KeyCompromise, RevocationReason::AffiliationChanged, RevocationReason::Superseded, RevocationReason::CessationOfOperation] {
                        option value=(reason.as_str()) { (reason.as_str()) }
                    }
                }
                label for="message" { "Message" }
                input #message type="text" name="message" maxlength="512";
                p { button type="submit" { "Revoke" } }
            }
        }
        h2 { "History" }
        table {
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Detail" } } }
            tbody {
                @for e in &history {
                    tr { td { (date(e.at)) } td { (e.actor) } td { (e.action) } td { (e.detail) } }
                }
            }
        }
    })
}
