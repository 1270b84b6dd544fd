//! Certificates: list, CSV, details, download, revoke, renew, replace,
//! import, delete, and their audit trail.

use bytes::Bytes;
use ca_core::encoding::{self, ExportFormat};
use ca_core::revocation::RevocationReason;
use ca_core::service::CaServiceError;
use http::StatusCode;
use policy::model::{DeptId, OrgId};
use policy::registry::{CertificateFilter, CertificateOwner, RaError};
use serde_json::json;

use super::requests::recorded;
use super::{Ctx, Reply};
use crate::body::media_type;
use crate::error::ApiError;
use crate::import::{self, ImportFormat};
use crate::pagination::Page;
use crate::views::{AuditEntryView, CertificateView, RequestView};
use crate::wire::{RenewRequest, ReplaceRequest, RevokeRequest};

/// The states a certificate record can be in (the RA compares the word as given).
const CERTIFICATE_STATES: [&str; 3] = ["issued", "revoked", "replaced"];

fn filter(ctx: &Ctx) -> Result<CertificateFilter, ApiError> {
    let status = ctx.query.get("status").map(str::to_ascii_lowercase);
    if let Some(s) = &status {
        if !CERTIFICATE_STATES.contains(&s.as_str()) {
            return Err(ApiError::invalid_input(format!(
                "query parameter 'status' must be one of {}",
                CERTIFICATE_STATES.join(", ")
            )));
        }
    }
    Ok(CertificateFilter {
        status,
        org: ctx.query.u64("org")?.map(OrgId),
        profile: ctx.query.get("profile").map(str::to_string),
        expires_before: ctx.query.time("expires_before")?,
        name: ctx.query.get("name").map(str::to_string),
        dept: ctx.query.u64("dept")?.map(DeptId),
        issuer: ctx.query.get("issuer").map(str::to_string),
        serial: ctx.query.get("serial").map(str::to_string),
        expires_after: ctx.query.time("expires_after")?,
        profiles: None,
    })
}

/// GET /certificates.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let filter = filter(ctx)?;
    let certificates = ctx
        .run(move |ra, admin| Ok(ra.certificates(admin, &filter, page.after, page.fetch())?))
        .await?;
    Reply::ok(
        &page
            .cut(certificates, |c| c.record.id)
            .map(|c| CertificateView::from(&c)),
    )
}

/// GET /certificates.csv: every matching certificate.
pub async fn csv(ctx: &Ctx) -> Result<Reply, ApiError> {
    let filter = filter(ctx)?;
    let text = ctx
        .run(move |ra, admin| Ok(gateway_http::csv::certificates_csv(ra, admin, &filter)?))
        .await?;
    Ok(Reply::Raw {
        status: StatusCode::OK,
        content_type: "text/csv; charset=utf-8",
        filename: Some("certificates.csv".into()),
        body: Bytes::from(text),
    })
}

/// GET /certificates/{id}.
pub async fn get(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    let owned = ctx
        .run(move |ra, admin| Ok(ra.certificate(admin, id)?))
        .await?;
    Reply::ok(&CertificateView::details(&owned))
}

/// The word a format is known by (the same as `?format=` takes).
fn format_word(format: ExportFormat) -> String {
    match serde_json::to_value(format) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{format:?}"),
    }
}

/// GET /certificates/{id}/download: the download is recorded in the audit log
/// before a byte is sent, so that no download goes unrecorded.
pub async fn download(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    let format: ExportFormat = ctx
        .query
        .parsed::<ExportFormat>("format")?
        .unwrap_or(ExportFormat::Pem);
    let bytes = ctx
        .run(move |ra, admin| {
            let owned = ra.certificate(admin, id)?;
            let bytes = if owned.owner.external {
                // An imported certificate's issuer is not one of ours: it has no chain here.
                encoding::export(format, &owned.record.der, &[])
                    .map_err(|e| ApiError::from(RaError::Ca(CaServiceError::Encoding(e))))?
            } else {
                ra.ca()
                    .export(&owned.record, format)
                    .map_err(|e| ApiError::from(RaError::Ca(e)))?
            };
            ra.record_download(admin, id, &format_word(format))?;
            Ok(bytes)
        })
        .await?;
    Ok(Reply::Raw {
        status: StatusCode::OK,
        content_type: format.media_type(),
        filename: Some(format!("certificate-{id}.{}", format.file_extension())),
        body: Bytes::from(bytes),
    })
}

/// POST /certificates/{id}/revoke.
pub async fn revoke(ctx: &Ctx, id: u64, request: RevokeRequest) -> Result<Reply, ApiError> {
    let reason: RevocationReason = request.reason.parse().map_err(ApiError::invalid_input)?;
    let view = ctx
        .run(move |ra, admin| {
            let record = ra.revoke(admin, id, reason, &request.message)?;
            let owner = ra.certificate_owner(id)?;
            Ok(CertificateView::new(&record, &owner))
        })
        .await?;
    Reply::ok(&view)
}

/// POST /certificates/{id}/renew.
pub async fn renew(ctx: &Ctx, id: u64, request: RenewRequest) -> Result<Reply, ApiError> {
    let renewal = ctx
        .run(move |ra, admin| {
            Ok(recorded(ra.renew(
                admin,
                id,
                request.csr.map(String::into_bytes),
                false,
            ))?)
        })
        .await?;
    Reply::created(&RequestView::from(&renewal))
}

/// POST /certificates/{id}/replace.
pub async fn replace(ctx: &Ctx, id: u64, request: ReplaceRequest) -> Result<Reply, ApiError> {
    let replacement = ctx
        .run(move |ra, admin| {
            Ok(recorded(ra.renew(
                admin,
                id,
                Some(request.csr.into_bytes()),
                true,
            ))?)
        })
        .await?;
    Reply::created(&RequestView::from(&replacement))
}

/// POST /certificates/import.
///
/// Each certificate is imported on its own, so one bad file in a ZIP does not
/// refuse the rest; the answer lists both. An error that would be the same for
/// every certificate (authorization, an unknown organization, a server failure)
/// ends the import at once. When nothing at all was imported the answer is an
/// error, so a client checking the status alone is not misled.
pub async fn import(ctx: &Ctx) -> Result<Reply, ApiError> {
    let org = ctx
        .query
        .u64("org")?
        .map(OrgId)
        .ok_or_else(|| ApiError::invalid_input("query parameter 'org' is required"))?;
    let dept = ctx.query.u64("dept")?.map(DeptId);
    let format = ImportFormat::of(media_type(&ctx.headers)?.as_deref(), &ctx.body)?;
    let items = import::split(format, &ctx.body)?;
    let value = ctx
        .run(move |ra, admin| {
            let owner = CertificateOwner {
                org,
                dept,
                request: None,
                external: true,
            };
            let mut imported = Vec::new();
            let mut errors = Vec::new();
            let mut all_conflicts = true;
            for item in items {
                let failure = match item.der {
                    Err(reason) => ApiError::invalid_input(reason),
                    Ok(der) => match ra.import_external(admin, &der, org, dept) {
                        Ok(record) => {
                            imported.push(CertificateView::new(&record, &owner));
                            continue;
                        }
                        Err(e) => {
                            let e = ApiError::from(e);
                            if matches!(
                                e.code(),
                                "unauthenticated" | "forbidden" | "not_found" | "internal"
                            ) {
                                return Err(e);
                            }
                            e
                        }
                    },
                };
                all_conflicts &= failure.code() == "conflict";
                errors.push(json!({
                    "source": item.source,
                    "code": failure.code(),
                    "message": failure.message(),
                }));
            }
            if imported.is_empty() {
                let summary: Vec<String> = errors
                    .iter()
                    .take(3)
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e["source"].as_str().unwrap_or(""),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                let message = format!("no certificate was imported ({})", summary.join("; "));
                return Err(if all_conflicts {
                    ApiError::new(StatusCode::CONFLICT, "conflict", message)
                } else {
                    ApiError::invalid_input(message)
                });
            }
            Ok(json!({ "imported": imported, "errors": errors }))
        })
        .await?;
    Reply::ok(&value)
}

/// DELETE /certificates/{id}.
pub async fn delete(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    ctx.run(move |ra, admin| Ok(ra.delete_external(admin, id)?))
        .await?;
    Ok(Reply::NoContent)
}

/// GET /certificates/{id}/audit.
pub async fn audit(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    let entries = ctx
        .run(move |ra, admin| Ok(ra.certificate_audit(admin, id)?))
        .await?;
    let views: Vec<AuditEntryView> = entries.iter().map(AuditEntryView::from).collect();
    Reply::ok(&Page::all(views))
}
