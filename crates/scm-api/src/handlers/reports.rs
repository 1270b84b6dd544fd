//! `POST /report/v1/{ssl-certificates|device-certificates|client-certificates|domains|activity}`:
//! the reference's report requests and answers (`{"statusCode": 0, "reports": [...]}`),
//! over our requests, certificates, domains and audit log. Dates are ISO-8601.

use ca_core::certificates::CertificateRecord;
use policy::request::{CertificateRequest, StateName};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::lifecycle::area_requests;
use crate::error::{code, ScmError};
use crate::routes::Area;
use crate::views;
use crate::wire;
use crate::{Ctx, Reply};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// TLS server certificates.
    Ssl,
    /// Device certificates.
    Device,
    /// Client (S/MIME) certificates.
    Client,
    /// Domains.
    Domains,
    /// The activity (audit) log.
    Activity,
}

impl Report {
    /// Parses the path's report name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "ssl-certificates" => Self::Ssl,
            "device-certificates" => Self::Device,
            "client-certificates" => Self::Client,
            "domains" => Self::Domains,
            "activity" => Self::Activity,
            _ => return None,
        })
    }
}

fn iso(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A `from` / `to` day (YYYY-MM-DD) as the unix time of its start; `to` covers its whole day.
fn day(map: &Map<String, Value>, field: &str, end_of_day: bool) -> Result<Option<i64>, ScmError> {
    let Some(text) = map
        .get(field)
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
    else {
        return Ok(None);
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text.trim(), &format)
        .map_err(|_| ScmError::field(format!("{field} must be YYYY-MM-DD")))?;
    let start = date.midnight().assume_utc().unix_timestamp();
    Ok(Some(if end_of_day { start + 86_399 } else { start }))
}

/// The certificate filters of the three certificate reports.
struct CertificateFilter {
    orgs: Vec<u64>,
    status: u64,
    date_attribute: Option<u64>,
    from: Option<i64>,
    to: Option<i64>,
    common_name: Option<String>,
}

impl CertificateFilter {
    fn parse(map: &Map<String, Value>) -> Result<Self, ScmError> {
        let orgs = match map.get("organizationIds") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| wire::integer(v, "organizationIds"))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(ScmError::field("organizationIds must be an array")),
        };
        let number = |k: &str| -> Result<Option<u64>, ScmError> {
            match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => wire::integer(v, k).map(Some),
            }
        };
        Ok(Self {
            orgs,
            status: number("certificateStatus")?.unwrap_or(0),
            date_attribute: number("certificateDateAttribute")?,
            from: day(map, "from", false)?,
            to: day(map, "to", true)?,
            common_name: map
                .get("commonName")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_ascii_lowercase),
        })
    }

    /// The date a row is judged by: 0/4 request, 2 revocation, 3 expiration, 5 issuance.
    fn date_of(&self, r: &CertificateRequest, c: Option<&CertificateRecord>) -> Option<i64> {
        match self.date_attribute.unwrap_or(4) {
            2 => r
                .history
                .iter()
                .rev()
                .find(|t| t.to == StateName::Revoked)
                .map(|t| t.at),
            3 => c.map(|c| c.not_after),
            5 => c.map(|c| c.issued_at),
            _ => Some(r.created_at),
        }
    }

    fn matches(&self, r: &CertificateRequest, c: Option<&CertificateRecord>) -> bool {
        let unit = r.dept.map(|d| d.0).unwrap_or(r.org.0);
        let in_orgs = self.orgs.is_empty() || self.orgs.iter().any(|o| *o == unit || *o == r.org.0);
        // 0 any, 1 requested, 2 issued, 3 revoked, 4 expired, 8 approved.
        let state = r.state.name();
        let status = match self.status {
            0 => true,
            1 => state == StateName::Requested,
            2 => state == StateName::Issued,
            3 => state == StateName::Revoked,
            4 => state == StateName::Expired,
            8 => state == StateName::Approved,
            _ => false,
        };
        let dated = match (self.from, self.to) {
            (None, None) => true,
            (from, to) => self
                .date_of(r, c)
                .is_some_and(|d| from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t)),
        };
        let named = self.common_name.as_ref().is_none_or(|n| {
            views::common_name(r, c)
                .to_ascii_lowercase()
                .contains(n.as_str())
        });
        in_orgs && status && dated && named
    }
}

fn certificate_row(
    area: Area,
    r: &CertificateRequest,
    c: Option<&CertificateRecord>,
    org_name: &str,
    profile: Option<(u64, String)>,
) -> Value {
    let facts = c.map(|c| views::facts(&c.der)).unwrap_or_default();
    let id = r.id.0;
    let unit = r.dept.map(|d| d.0).unwrap_or(r.org.0);
    let mut row = match area {
        Area::Ssl => json!({
            "id": id,
            "commonName": views::common_name(r, c),
            "orgId": unit,
            "organizationName": org_name,
            "status": views::status(r.state.name()),
            "backendCertId": id.to_string(),
            "term": r.term_days,
            "requester": r.requester,
            "requested": iso(r.created_at),
            "subjAltNames": r.names.iter().map(|n| n.value()).collect::<Vec<_>>().join("; "),
            "requestedVia": views::requested_via(r),
            "customFields": r.annotations.custom_fields.iter().map(|f| json!({"name": f.name, "value": f.value})).collect::<Vec<_>>(),
        }),
        Area::Device => json!({
            "id": id,
            "commonName": views::common_name(r, c),
            "deviceCertStatus": views::status(r.state.name()),
            "backendCertId": id.to_string(),
            "enrollType": views::requested_via(r),
            "organization": {"id": unit, "name": org_name},
        }),
        Area::Smime => json!({
            "id": id,
            "email": r.names.iter().find(|n| n.kind() == ca_core::names::SanKind::Email).map(|n| n.value()).unwrap_or_default(),
            "backendCertId": id.to_string(),
            "enrollType": views::requested_via(r),
            "organization": {"id": unit, "name": org_name},
        }),
    };
    let m = row.as_object_mut().expect("an object");
    if let Some((number, name)) = profile {
        let (id_key, name_key) = match area {
            Area::Device => ("certTypeId", "certTypeName"),
            _ => ("typeId", "type"),
        };
        m.insert(id_key.into(), json!(number));
        m.insert(name_key.into(), json!(name));
    }
    if let Some(c) = c {
        m.insert("serialNumber".into(), json!(views::serial_text(c)));
        match area {
            Area::Ssl => {
                m.insert("expires".into(), json!(iso(c.not_after)));
                m.insert("issuer".into(), json!(facts.issuer));
                m.insert("sha1".into(), json!(facts.sha1));
                m.insert("publicKeyType".into(), json!(facts.key_algorithm));
                if let Some(at) = r.history.iter().rev().find(|t| t.to == StateName::Approved) {
                    m.insert("approved".into(), json!(iso(at.at)));
                }
            }
            _ => {
                m.insert("subject".into(), json!(facts.subject));
                m.insert("enrolled".into(), json!(iso(c.issued_at)));
                m.insert("expire".into(), json!(iso(c.not_after)));
                if area == Area::Device {
                    m.insert(
                        "keyType".into(),
                        json!(format!(
                            "{} - {}",
                            facts.key_algorithm,
                            facts.key_size.unwrap_or_default()
                        )),
                    );
                    m.insert("caName".into(), json!(c.issuer_id));
                }
            }
        }
        if let Some(t) = r.history.iter().rev().find(|t| t.to == StateName::Revoked) {
            m.insert("revoked".into(), json!(iso(t.at)));
        }
    }
    row
}

/// The handler.
pub async fn report(ctx: &Ctx, report: Report) -> Result<Reply, ScmError> {
    let map = wire::object(&ctx.body)?;
    let rows = match report {
        Report::Ssl | Report::Device | Report::Client => {
            let area = match report {
                Report::Ssl => Area::Ssl,
                Report::Device => Area::Device,
                _ => Area::Smime,
            };
            let filter = CertificateFilter::parse(&map)?;
            ctx.run(move |ra, admin| {
                let orgs = ra.organizations(admin)?;
                let depts = ra.departments(admin, None)?;
                Ok(area_requests(ra, admin, area)?
                    .iter()
                    .filter(|(r, c)| filter.matches(r, c.as_ref()))
                    .map(|(r, c)| {
                        let org = orgs
                            .iter()
                            .find(|o| o.id == r.org)
                            .map(|o| o.name.clone())
                            .unwrap_or_default();
                        let name = match r.dept.and_then(|d| depts.iter().find(|x| x.id == d)) {
                            Some(d) => d.name.clone(),
                            None => org,
                        };
                        let profile = ra
                            .profile_number(&r.profile)
                            .map(|n| (n, r.profile.clone()));
                        certificate_row(area, r, c.as_ref(), &name, profile)
                    })
                    .collect::<Vec<_>>())
            })
            .await?
        }
        Report::Domains => {
            ctx.run(|ra, admin| {
                let mut seen: Vec<String> = Vec::new();
                let mut rows = Vec::new();
                for d in ra.domains(admin)? {
                    let name = d.name.to_string();
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name.clone());
                    rows.push(json!({
                        "id": d.id.0,
                        "name": name,
                        "status": "Active",
                        "requested": iso(d.created_at),
                        "dcvStatus": "Validated",
                    }));
                }
                Ok(rows)
            })
            .await?
        }
        Report::Activity => {
            let from = day(&map, "from", false)?;
            let to = day(&map, "to", true)?;
            ctx.run(move |ra, admin| {
                let mut rows = Vec::new();
                let mut after = 0;
                loop {
                    let page = ra.audit_entries(admin, after, 1000)?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for e in page
                        .iter()
                        .filter(|e| from.is_none_or(|f| e.at >= f) && to.is_none_or(|t| e.at <= t))
                    {
                        rows.push(json!({
                            "id": e.seq,
                            "date": iso(e.at),
                            "accessMethod": "API",
                            "description": format!("{} {}: {}", e.action, e.object, e.detail),
                            "action": {"actionName": e.action},
                            "admin": {"login": e.actor},
                            "outcome": format!("{:?}", e.outcome).to_ascii_lowercase(),
                        }));
                    }
                    if rows.len() > 100_000 {
                        return Err(ScmError::bad(
                            code::REQUIRED_FIELD,
                            "The activity report is larger than 100000 entries; narrow from and to",
                        ));
                    }
                }
                Ok(rows)
            })
            .await?
        }
    };
    Ok(Reply::Json(
        http::StatusCode::OK,
        json!({"statusCode": 0, "reports": rows}),
        vec![],
    ))
}
