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
            // A request's state links where such requests or their certificates are listed.
            link: match s.as_str() {
                "requested" => Some("/console/queue".to_string()),
                status @ ("issued" | "revoked" | "replaced") => {
                    Some(format!("/console/certificates?status={status}"))
                }
                _ => None,
            },
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

    let facts: Vec<(String, String)> = certificates
        .iter()
        .map(|c| super::key_facts::key_and_signature(&c.record.der))
        .collect();
    let count = |labels: &mut dyn Iterator<Item = String>| -> Vec<Bar> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for label in labels {
            *counts.entry(label).or_default() += 1;
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
    let by_key = count(&mut facts.iter().map(|(k, _)| k.clone()));
    let by_key_algorithm = count(
        &mut facts
            .iter()
            .map(|(k, _)| k.split(' ').next().unwrap_or_default().to_string()),
    );
    let by_signature = count(&mut facts.iter().map(|(_, s)| s.clone()));
    let by_duration = count(&mut certificates.iter().map(|c| {
        let days = (c.record.not_after - c.record.not_before) / 86_400;
        match days {
            0..=7 => "up to 7 days".to_string(),
            8..=90 => "8 to 90 days".to_string(),
            91..=398 => "91 to 398 days".to_string(),
            399..=825 => "399 to 825 days".to_string(),
            _ => "more than 825 days".to_string(),
        }
    }));
    // Requested and issued per week, the last eight weeks (oldest first).
    const WEEK: i64 = 7 * 86_400;
    let week_of = |at: i64| (now - at).div_euclid(WEEK);
    let mut over_time = Vec::new();
    for week in (0..8).rev() {
        let label = if week == 0 {
            "this week".to_string()
        } else {
            format!("{week} weeks ago")
        };
        let requested = requests
            .iter()
            .filter(|r| week_of(r.created_at) == week)
            .count() as u64;
        let issued = certificates
            .iter()
            .filter(|c| week_of(c.record.issued_at) == week)
            .count() as u64;
        over_time.push(Bar {
            label: format!("{label}: requested"),
            value: requested,
            link: None,
        });
        over_time.push(Bar {
            label: format!("{label}: issued"),
            value: issued,
            link: None,
        });
    }

    Ok(html! {
        p { (requests.len()) " requests and " (certificates.len()) " certificates in your scope." }
        div.cards {
            (bar_chart("Certificates expiring", &expiring_bars))
            (bar_chart("Requests by status", &status_bars))
            (bar_chart("Certificates by profile", &by_profile))
            (bar_chart("Certificates by CA", &by_ca))
            (bar_chart("Certificates by organization", &by_org))
            (bar_chart("Certificates by duration", &by_duration))
            (bar_chart("Key strength", &by_key))
            (bar_chart("Public key algorithms", &by_key_algorithm))
            (bar_chart("Signature algorithms", &by_signature))
            (bar_chart("Requested vs issued, per week", &over_time))
        }
    })
}
