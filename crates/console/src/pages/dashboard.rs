//! The dashboard: charts of what the administrator's scope holds.

use std::collections::BTreeMap;

use maud::{html, Markup};
use policy::model::Administrator;
use policy::registry::{CertificateFilter, RaError, RegistrationAuthority, RequestFilter};
use policy::request::StateName;

use crate::charts::{bar_chart, Bar};

/// The dashboard's body.
pub fn dashboard(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    now: i64,
) -> Result<Markup, RaError> {
    let requests = ra.requests(admin, &RequestFilter::default(), 0, usize::MAX)?;
    let certificates = ra.certificates(admin, &CertificateFilter::default(), 0, usize::MAX)?;

    let mut by_status: BTreeMap<StateName, u64> = BTreeMap::new();
    for r in &requests {
        *by_status.entry(r.state.name()).or_default() += 1;
    }
    let status_bars: Vec<Bar> = StateName::ALL
        .iter()
        .map(|s| Bar {
            label: s.as_str().to_string(),
            value: by_status.get(s).copied().unwrap_or(0),
            link: Some(format!("/console/certificates?status={}", s.as_str())),
        })
        .collect();

    let live: Vec<_> = certificates
        .iter()
        .filter(|c| c.record.status.name() == "issued" && c.record.not_after > now)
        .collect();
    let expiring_bars: Vec<Bar> = [30i64, 60, 90]
        .iter()
        .map(|days| Bar {
            label: format!("next {days} days"),
            value: live
                .iter()
                .filter(|c| c.record.not_after <= now + days * 86_400)
                .count() as u64,
            link: Some(format!(
                "/console/certificates?status=issued&expires_within={days}"
            )),
        })
        .collect();

    let group = |key: &dyn Fn(&policy::registry::OwnedCertificate) -> String| -> Vec<Bar> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for c in &certificates {
            *counts.entry(key(c)).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(label, value)| Bar {
                label,
                value,
                link: None,
            })
            .collect()
    };
    let by_profile = group(&|c| c.record.profile.clone());
    let by_ca = group(&|c| c.record.issuer_id.clone());
    let orgs = ra.organizations(admin)?;
    let by_org = group(&|c| {
        orgs.iter()
            .find(|o| o.id == c.owner.org)
            .map(|o| o.name.clone())
            .unwrap_or_else(|| c.owner.org.to_string())
    });

    Ok(html! {
        p { (requests.len()) " requests and " (certificates.len()) " certificates in your scope." }
        div.cards {
            (bar_chart("Certificates expiring", &expiring_bars))
            (bar_chart("Requests by status", &status_bars))
            (bar_chart("Certificates by profile", &by_profile))
            (bar_chart("Certificates by CA", &by_ca))
            (bar_chart("Certificates by organization", &by_org))
        }
    })
}
