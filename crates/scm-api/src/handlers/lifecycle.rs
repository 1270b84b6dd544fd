//! The certificate areas (`/ssl/v1` and `v2`, `/device/v1`, `/smime/v1` and
//! `v2`): profiles, custom fields, enroll, list, details, renew, replace,
//! revoke, approve and decline, each area over one class of certificates.
//!
//! The reference's certificate (`sslId`, `deviceCertId`, an S/MIME
//! `backendCertId` / `orderNumber`) is one of our requests: it has a state from
//! Requested to Issued and beyond, and once issued, a certificate. All of the
//! reference's ids of one certificate are that request's id.

use ca_core::csr::VerifiedCsr;
use ca_core::names::SubjectAltName;
use ca_core::serial::Serial;
use policy::model::{Administrator, CertificateClass, RequestId};
use policy::registry::{
    external_class, RaError, RegistrationAuthority, RequestFilter, Requester, Submission,
    EXTERNAL_PROFILE,
};
use policy::request::{CertificateRequest, Channel, RequestAnnotations, StateName};
use serde_json::{json, Value};

use crate::dates::DateStyle;
use crate::error::{code, ScmError};
use crate::routes::Area;
use crate::views;
use crate::wire::{self, EnrollRequest, ReplaceRequest, RevokeRequest};
use crate::{Ctx, Reply};

/// The class of certificates an area covers.
fn class(area: Area) -> CertificateClass {
    match area {
        Area::Ssl => CertificateClass::TlsServer,
        Area::Device => CertificateClass::Device,
        Area::Smime => CertificateClass::ClientSmime,
    }
}

fn ok(value: Value) -> Result<Reply, ScmError> {
    Ok(Reply::Json(http::StatusCode::OK, value, vec![]))
}

fn in_class(ra: &RegistrationAuthority, area: Area, request: &CertificateRequest) -> bool {
    if request.profile == EXTERNAL_PROFILE {
        // An imported certificate's class is what its extended key usage says.
        return request
            .state
            .certificate()
            .and_then(|id| ra.ca().certificates().get(id).ok().flatten())
            .is_some_and(|c| external_class(&c.der) == class(area));
    }
    ra.ca()
        .profile(&request.profile)
        .is_ok_and(|p| CertificateClass::of(p.certificate_type) == class(area))
}

/// A request of this area visible to the caller; anything else is an unknown id.
pub(super) fn area_request(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    area: Area,
    id: u64,
) -> Result<CertificateRequest, ScmError> {
    let unknown = || ScmError::not_found(code::BAD_CERT_ID, format!("Wrong certificate ID {id}"));
    let request = ra.request(admin, RequestId(id)).map_err(|_| unknown())?;
    if !in_class(ra, area, &request) {
        return Err(unknown());
    }
    Ok(request)
}

/// The certificate of an issued request, or the refusal `not_issued` says.
fn issued_certificate(request: &CertificateRequest, not_issued: i32) -> Result<u64, ScmError> {
    match (request.state.name(), request.state.certificate()) {
        (StateName::Issued, Some(id)) => Ok(id),
        (state, _) => Err(ScmError::bad(
            not_issued,
            format!("The certificate is {}, not Issued", views::status(state)),
        )),
    }
}

/// Turns a request the RA did not issue or queue into the reference's refusal.
fn refused(request: &CertificateRequest) -> Option<ScmError> {
    let reason = request
        .history
        .last()
        .map(|t| t.reason.clone())
        .unwrap_or_default();
    match request.state.name() {
        StateName::Invalid => Some(ScmError::bad(code::DOMAIN_NOT_DELEGATED, reason)),
        StateName::Rejected => Some(ScmError::bad(
            code::INTERNAL,
            format!("The CA refused to issue: {reason}"),
        )),
        _ => None,
    }
}

/// GET `/types`: the TLS server profiles with their numbers, terms and key types.
pub async fn types(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let organization = match ctx.param("organizationId") {
        Some(v) if !v.trim().is_empty() => Some(wire::integer(&json!(v), "organizationId")?),
        _ => None,
    };
    let rows = ctx
        .run(move |ra, admin| {
            if let Some(unit) = organization {
                ra.org_unit(admin, unit)
                    .map_err(|e| ScmError::from_ra(&e, code::BAD_ORG))?;
            }
            let mut rows: Vec<(u64, Value)> = ra
                .ca()
                .profiles()
                .iter()
                .filter(|p| CertificateClass::of(p.certificate_type) == class(area))
                .filter_map(|p| {
                    ra.profile_number(&p.name)
                        .map(|n| (n, views::profile_type(n, p)))
                })
                .collect();
            rows.sort_by_key(|(n, _)| *n);
            Ok(rows.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
        })
        .await?;
    ok(Value::Array(rows))
}

/// GET `/customFields`: `[{id, name, mandatory}]` of the area's class.
pub async fn custom_fields(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let rows = ctx
        .run(move |ra, _| {
            Ok(ra
                .custom_fields(Some(class(area)))?
                .into_iter()
                .map(|f| json!({"id": f.id, "name": f.name, "mandatory": f.mandatory}))
                .collect::<Vec<_>>())
        })
        .await?;
    ok(Value::Array(rows))
}

/// What enroll and renew answer in each area.
fn order_answer(area: Area, request: &CertificateRequest, enroll: bool) -> Value {
    let id = request.id.0;
    match area {
        Area::Ssl if enroll => json!({"sslId": id, "renewId": request.renew_id}),
        Area::Ssl => json!({"sslId": id}),
        Area::Device => json!({
            "deviceCertId": id,
            "status": views::status(request.state.name()).to_ascii_uppercase(),
            "backendCertId": id.to_string(),
            "orderNumber": id,
        }),
        Area::Smime => json!({"orderNumber": id, "backendCertId": id.to_string()}),
    }
}

/// POST `/enroll`: SSL `{sslId, renewId}`, device `{deviceCertId, status, backendCertId,
/// orderNumber}`, S/MIME `{orderNumber, backendCertId}`. The request is issued at once when
/// the caller may approve it, else it waits in the approval queue (collect answers pending
/// meanwhile). S/MIME needs `email` (it becomes the certificate's rfc822Name); a device's
/// `optionalFields` (dnsName, userPrincipalName, email, ipAddress) become its names.
pub async fn enroll(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let request = EnrollRequest::parse(&ctx.body, area)?;
    let answer = ctx
        .run(move |ra, admin| {
            let scope = ra
                .org_unit(admin, request.org_id)
                .map_err(|e| match e {
                    RaError::NotFound(_) => {
                        ScmError::bad(code::BAD_ORG, format!("Invalid org ID {}", request.org_id))
                    }
                    other => other.into(),
                })?
                .scope();
            let profile = ra
                .profile_by_number(request.cert_type)
                .filter(|p| CertificateClass::of(p.certificate_type) == class(area))
                .ok_or_else(|| {
                    ScmError::bad(
                        code::BAD_PROFILE,
                        format!("Invalid certificate type {}", request.cert_type),
                    )
                })?;
            let term = match request.term {
                None => None,
                Some(t) if profile.terms_days.iter().any(|d| u64::from(*d) == t) => Some(t as u32),
                Some(t) => {
                    return Err(ScmError::bad(
                        code::BAD_TERM,
                        format!(
                            "Term {t} is not allowed for {}; allowed: {:?}",
                            profile.name, profile.terms_days
                        ),
                    ))
                }
            };
            let csr = VerifiedCsr::parse(&request.csr)
                .map_err(|e| ScmError::bad(code::BAD_CSR, format!("The CSR is bad: {e}")))?;
            let mut names = csr.requested_names().to_vec();
            for text in &request.subject_alt_names {
                let name = SubjectAltName::parse_tagged(text).map_err(|e| {
                    ScmError::bad(code::DOMAIN_NOT_DELEGATED, format!("Invalid name: {e}"))
                })?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            let submission = Submission {
                csr: Vec::new(),
                profile: profile.name.clone(),
                org: scope.org,
                dept: scope.dept,
                term_days: term,
                names: Some(names),
                channel: Channel::ScmApi,
                renewal_of: None,
                replaces: false,
                annotations: RequestAnnotations {
                    comments: request.comments,
                    external_requester: request.external_requester,
                    custom_fields: request.custom_fields,
                },
            };
            let submitted = ra.submit_verified(Requester::Admin(admin), submission, csr)?;
            if let Some(error) = refused(&submitted) {
                return Err(error);
            }
            Ok(order_answer(area, &submitted, true))
        })
        .await?;
    ok(answer)
}

/// Every request of an area visible to the caller, with its certificate once issued.
pub(super) fn area_requests(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    area: Area,
) -> Result<
    Vec<(
        CertificateRequest,
        Option<ca_core::certificates::CertificateRecord>,
    )>,
    ScmError,
> {
    let mut out = Vec::new();
    for r in ra.requests(admin, &RequestFilter::default(), 0, usize::MAX)? {
        if !in_class(ra, area, &r) {
            continue;
        }
        let certificate = match r.state.certificate() {
            Some(id) => ra.certificate(admin, id).ok().map(|c| c.record),
            None => None,
        };
        out.push((r, certificate));
    }
    Ok(out)
}

/// The filters of the list that Certwright can answer.
struct ListFilter {
    name: Option<String>,
    status: Option<StateName>,
    profile: Option<String>,
    org: Option<u64>,
    serial: Option<Serial>,
    requester: Option<String>,
}

fn list_filter(ctx: &Ctx, ra: &RegistrationAuthority) -> Result<ListFilter, ScmError> {
    let given = |name: &str| ctx.param(name).filter(|v| !v.trim().is_empty());
    let status = match given("status") {
        None => None,
        Some(s) => Some(views::parse_status(s).ok_or_else(|| {
            ScmError::field(format!(
                "unknown status '{}'",
                s.chars().take(32).collect::<String>()
            ))
        })?),
    };
    let profile = match given("sslTypeId") {
        None => None,
        Some(v) => {
            let number = wire::integer(&json!(v), "sslTypeId")?;
            Some(
                ra.profile_by_number(number)
                    .map(|p| p.name.clone())
                    // An unknown profile matches nothing.
                    .unwrap_or_else(|| "\u{0}none".to_string()),
            )
        }
    };
    let org = given("orgId")
        .map(|v| wire::integer(&json!(v), "orgId"))
        .transpose()?;
    let serial =
        match given("serialNumber") {
            None => None,
            Some(s) => Some(Serial::from_hex(s.trim()).ok_or_else(|| {
                ScmError::field("serialNumber must be hex, with or without colons")
            })?),
        };
    Ok(ListFilter {
        name: given("commonName")
            .or(given("subjectAlternativeName"))
            .map(|s| s.to_ascii_lowercase()),
        status,
        profile,
        org,
        serial,
        requester: given("requester").map(str::to_string),
    })
}

/// GET (and HEAD, the count) the list: summary rows with `X-Total-Count`.
///
/// The filters Certwright keeps are answered (commonName, subjectAlternativeName,
/// status, sslTypeId, orgId, serialNumber, requester); the others of the reference
/// (key and hash filters, install and renewal status) are accepted and ignored.
pub async fn list(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let filter = list_filter(ctx, &ctx.ra)?;
    let rows = ctx
        .run(move |ra, admin| {
            let requests = ra.requests(
                admin,
                &RequestFilter {
                    status: filter.status,
                    org: None,
                    profile: filter.profile.clone(),
                    name: filter.name.clone(),
                },
                0,
                usize::MAX,
            )?;
            let mut rows = Vec::new();
            for r in requests {
                if !in_class(ra, area, &r) {
                    continue;
                }
                let unit = r.dept.map(|d| d.0).unwrap_or(r.org.0);
                if filter.org.is_some_and(|o| o != unit && o != r.org.0) {
                    continue;
                }
                if filter.requester.as_ref().is_some_and(|q| &r.requester != q) {
                    continue;
                }
                let certificate = match r.state.certificate() {
                    Some(id) => ra.certificate(admin, id).ok().map(|c| c.record),
                    None => None,
                };
                if let Some(serial) = &filter.serial {
                    if certificate.as_ref().is_none_or(|c| &c.serial != serial) {
                        continue;
                    }
                }
                rows.push(views::list_row(area, &r, certificate.as_ref()));
            }
            Ok(rows)
        })
        .await?;
    super::paging::paged(ctx, rows)
}

/// GET `{id}`: the details object, US dates unless `dateFormat` says otherwise.
pub async fn details(ctx: &Ctx, area: Area, id: u64) -> Result<Reply, ScmError> {
    let dates = DateStyle::parse(ctx.param("dateFormat"))?;
    let view = ctx
        .run(move |ra, admin| {
            let request = area_request(ra, admin, area, id)?;
            let certificate = match request.state.certificate() {
                Some(c) => Some(ra.certificate(admin, c)?.record),
                None => None,
            };
            let profile = ra
                .ca()
                .profile(&request.profile)
                .ok()
                .and_then(|p| ra.profile_number(&p.name).map(|n| (n, p)));
            Ok(views::details(views::DetailsInput {
                request: &request,
                certificate: certificate.as_ref(),
                org_unit: request.dept.map(|d| d.0).unwrap_or(request.org.0),
                profile,
                dates,
                area,
            }))
        })
        .await?;
    ok(view)
}

/// Renews the certificate of a request: a new request, issued or queued like an enroll.
fn renew(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    request: &CertificateRequest,
    csr: Option<Vec<u8>>,
    replace: bool,
) -> Result<CertificateRequest, ScmError> {
    let certificate = issued_certificate(request, code::NOT_ISSUED)?;
    let renewed = ra
        .renew(admin, certificate, csr, replace)
        .map_err(|e| match e {
            RaError::InvalidInput(m) if m.contains("CSR") => ScmError::bad(code::BAD_CSR, m),
            other => other.into(),
        })?;
    if let Some(error) = refused(&renewed) {
        return Err(error);
    }
    Ok(renewed)
}

/// POST `renewById/{id}` (an empty body, `""`, `{}` or `{csr}`): `{sslId}` of the renewal.
pub async fn renew_by_id(ctx: &Ctx, area: Area, id: u64) -> Result<Reply, ScmError> {
    let csr = wire::renew_csr(&ctx.body)?;
    let answer = ctx
        .run(move |ra, admin| {
            let request = area_request(ra, admin, area, id)?;
            let renewed = renew(ra, admin, &request, csr, false)?;
            Ok(order_answer(area, &renewed, false))
        })
        .await?;
    ok(answer)
}

/// POST `renew/{renewId}`: 204.
pub async fn renew_by_renew_id(ctx: &Ctx, area: Area, renew_id: String) -> Result<Reply, ScmError> {
    let csr = wire::renew_csr(&ctx.body)?;
    ctx.run(move |ra, admin| {
        let request = ra
            .request_by_renew_id(admin, &renew_id)
            .map_err(|_| ScmError::not_found(code::NOT_FOUND, "Unknown renew id"))?;
        if !in_class(ra, area, &request) {
            return Err(ScmError::not_found(code::NOT_FOUND, "Unknown renew id"));
        }
        renew(ra, admin, &request, csr, false).map(|_| ())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// POST `replace/{id}` `{csr, reason, ...}`: a new certificate that replaces the old one
/// when issued; 204. The names come from the new CSR (`commonName` and
/// `subjectAlternativeNames` of the body are accepted and not used).
///
/// With `"revoke": true` (device `replace/order`), the replaced certificate is also revoked
/// (superseded) once its replacement is issued.
pub async fn replace(ctx: &Ctx, area: Area, id: u64) -> Result<Reply, ScmError> {
    let body = ReplaceRequest::parse(&ctx.body)?;
    ctx.run(move |ra, admin| {
        let request = area_request(ra, admin, area, id)?;
        let old = issued_certificate(&request, code::NOT_ISSUED)?;
        let replacement = renew(ra, admin, &request, Some(body.csr), true)?;
        if body.revoke && replacement.state.name() == StateName::Issued {
            let reason = if body.reason.is_empty() {
                "replaced"
            } else {
                &body.reason
            };
            ra.revoke(
                admin,
                old,
                ca_core::revocation::RevocationReason::Superseded,
                reason,
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// The request behind a serial number, in an area.
fn request_by_serial(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    area: Area,
    serial: &str,
) -> Result<CertificateRequest, ScmError> {
    let serial = Serial::from_hex(serial.trim())
        .ok_or_else(|| ScmError::field("the serial number must be hex, with or without colons"))?;
    let unknown = || ScmError::not_found(code::NOT_FOUND, "Certificate not found");
    let owned = ra
        .certificate_by_serial(admin, &serial)
        .map_err(|_| unknown())?;
    let request_id = owned.owner.request.ok_or_else(unknown)?;
    area_request(ra, admin, area, request_id.0).map_err(|_| unknown())
}

/// POST `renew/serial/{serial}` (device and S/MIME): as `renew/order/{id}`.
pub async fn renew_by_serial(ctx: &Ctx, area: Area, serial: String) -> Result<Reply, ScmError> {
    let csr = wire::renew_csr(&ctx.body)?;
    let answer = ctx
        .run(move |ra, admin| {
            let request = request_by_serial(ra, admin, area, &serial)?;
            let renewed = renew(ra, admin, &request, csr, false)?;
            Ok(order_answer(area, &renewed, false))
        })
        .await?;
    ok(answer)
}

fn revoke_certificate(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    request: &CertificateRequest,
    body: RevokeRequest,
) -> Result<(), ScmError> {
    let certificate = issued_certificate(request, code::NOT_ISSUED_FOR_REVOKE)?;
    let message = if body.reason.is_empty() {
        "revoked through the certificate manager API".to_string()
    } else {
        body.reason
    };
    ra.revoke(admin, certificate, body.reason_code, &message)
        .map_err(|e| match e {
            RaError::Ca(ca_core::service::CaServiceError::AlreadyRevoked(_)) => ScmError::bad(
                code::NOT_ISSUED_FOR_REVOKE,
                "Only issued certificates can be revoked: it is revoked already",
            ),
            other => other.into(),
        })?;
    Ok(())
}

/// POST `revoke/{id}` `{reasonCode?, reason?}`: 204.
pub async fn revoke(ctx: &Ctx, area: Area, id: u64) -> Result<Reply, ScmError> {
    let body = RevokeRequest::parse(&ctx.body)?;
    ctx.run(move |ra, admin| {
        let request = area_request(ra, admin, area, id)?;
        revoke_certificate(ra, admin, &request, body)
    })
    .await?;
    Ok(Reply::NoContent)
}

/// POST `revoke/serial/{serial}` (hex, with or without colons, any case): 204.
pub async fn revoke_by_serial(ctx: &Ctx, area: Area, serial: String) -> Result<Reply, ScmError> {
    let body = RevokeRequest::parse(&ctx.body)?;
    ctx.run(move |ra, admin| {
        let request = request_by_serial(ra, admin, area, &serial)?;
        revoke_certificate(ra, admin, &request, body)
    })
    .await?;
    Ok(Reply::NoContent)
}

/// POST `approve/{id}` or `decline/{id}` `{message}`: 204.
pub async fn decide(ctx: &Ctx, area: Area, id: u64, approve: bool) -> Result<Reply, ScmError> {
    let message = wire::decision_message(&ctx.body)?;
    ctx.run(move |ra, admin| {
        area_request(ra, admin, area, id)?;
        let result = if approve {
            ra.approve(admin, RequestId(id), &message)
        } else {
            ra.decline(admin, RequestId(id), &message)
        };
        match result {
            Ok(_) => Ok(()),
            Err(RaError::IllegalTransition(t)) => Err(ScmError::bad(
                code::CANNOT_DECIDE,
                format!(
                    "Cannot {} in the current state: {t}",
                    if approve { "approve" } else { "decline" }
                ),
            )),
            Err(other) => Err(other.into()),
        }
    })
    .await?;
    Ok(Reply::NoContent)
}
