//! Certificates issued elsewhere: `import` (the v2 form, an array of
//! `{orgID, cert}`), `revoke/manual` (what the outside CA did), and delete.
//!
//! An import is one of our orders with the outside certificate (policy's import
//! record), so it has an `sslId` like any other; its area is the one its
//! extended key usage puts it in. The v1 multipart ZIP form is not served: our
//! own REST API takes ZIPs (`POST /api/v1/certificates/import`).

use base64::Engine;
use ca_core::revocation::RevocationReason;
use ca_core::serial::Serial;
use policy::registry::external_class;
use serde_json::{json, Value};

use super::lifecycle::area_request;
use crate::error::{code, ScmError};
use crate::routes::Area;
use crate::{views, wire, Ctx, Reply};

/// The most certificates in one import (the reference's limit).
const MAX_IMPORTS: usize = 128;

fn class_of(area: Area) -> policy::model::CertificateClass {
    use policy::model::CertificateClass::*;
    match area {
        Area::Ssl => TlsServer,
        Area::Device => Device,
        Area::Smime => ClientSmime,
    }
}

/// A certificate given as base64 DER or PEM.
fn certificate_der(value: Option<&Value>) -> Result<Vec<u8>, String> {
    let text = value
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or("cert is required")?;
    if text.contains("-----BEGIN") {
        let blocks = ca_core::authority::pem_certificates(text)
            .map_err(|e| format!("cert is not PEM: {e}"))?;
        return match blocks.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err("cert must hold exactly one certificate".into()),
        };
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "cert is not base64 DER or PEM".to_string())
}

/// POST `import`: `[{orgID, cert, ...}]` → `[{cert: {id, subject, serialNumber}, created}]`,
/// or `{errorMessage}` in the place of each one refused.
pub async fn import(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let items: Vec<Value> = match serde_json::from_slice::<Value>(&ctx.body) {
        Ok(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_IMPORTS => items,
        Ok(Value::Array(_)) => {
            return Err(ScmError::field(format!(
                "an import holds 1 to {MAX_IMPORTS} certificates"
            )))
        }
        _ => {
            return Err(ScmError::field(
                "the body must be a JSON array of {orgID, cert}",
            ))
        }
    };
    let rows = ctx
        .run(move |ra, admin| {
            let mut rows = Vec::new();
            for item in items {
                let one = || -> Result<Value, String> {
                    let unit = item
                        .get("orgID")
                        .or_else(|| item.get("orgId"))
                        .ok_or("orgID is required")?;
                    let unit = wire::integer(unit, "orgID").map_err(|e| e.description)?;
                    let scope = ra
                        .org_unit(admin, unit)
                        .map_err(|_| format!("Invalid org ID {unit}"))?
                        .scope();
                    let der = certificate_der(item.get("cert"))?;
                    if external_class(&der) != class_of(area) {
                        return Err(
                            "the certificate's extended key usage does not belong to this area"
                                .into(),
                        );
                    }
                    let record = ra
                        .import_external(admin, &der, scope.org, scope.dept)
                        .map_err(|e| ScmError::from(e).description)?;
                    let order = ra
                        .certificate_owner(record.id)
                        .ok()
                        .and_then(|o| o.request)
                        .map(|r| r.0)
                        .unwrap_or_default();
                    Ok(json!({
                        "cert": {
                            "id": order,
                            "subject": views::facts(&record.der).subject,
                            "serialNumber": views::serial_text(&record),
                        },
                        "created": true,
                    }))
                };
                rows.push(one().unwrap_or_else(|e| json!({"errorMessage": e})));
            }
            Ok(rows)
        })
        .await?;
    Ok(Reply::Json(
        http::StatusCode::OK,
        Value::Array(rows),
        vec![],
    ))
}

/// POST `revoke/manual` `{certId}` or `{serialNumber, issuer}`, with `reasonCode` (and
/// `reason`): records the outside CA's revocation of an imported certificate; 204.
/// `revokeDate` is accepted and the revocation is recorded at the time of the call.
pub async fn revoke_manual(ctx: &Ctx, area: Area) -> Result<Reply, ScmError> {
    let map = wire::object(&ctx.body)?;
    let revoke = wire::RevokeRequest::parse(&ctx.body)?;
    let by_id = match map.get("certId") {
        Some(v) => Some(wire::integer(v, "certId")?),
        None => None,
    };
    let serial = match (by_id, map.get("serialNumber").and_then(Value::as_str)) {
        (Some(_), _) => None,
        (None, Some(s)) => Some(
            Serial::from_hex(s.trim())
                .ok_or_else(|| ScmError::field("serialNumber must be hex"))?,
        ),
        (None, None) => return Err(ScmError::field("certId or serialNumber is required")),
    };
    ctx.run(move |ra, admin| {
        let unknown = || ScmError::not_found(code::NOT_FOUND, "Certificate not found");
        let request = match (by_id, serial) {
            (Some(id), _) => area_request(ra, admin, area, id)?,
            (None, Some(serial)) => {
                let owned = ra
                    .certificate_by_serial(admin, &serial)
                    .map_err(|_| unknown())?;
                let order = owned.owner.request.ok_or_else(unknown)?;
                area_request(ra, admin, area, order.0).map_err(|_| unknown())?
            }
            (None, None) => return Err(unknown()),
        };
        let certificate = request.state.certificate().ok_or_else(unknown)?;
        let message = if revoke.reason.is_empty() {
            "revoked by its issuing CA"
        } else {
            &revoke.reason
        };
        let reason: RevocationReason = revoke.reason_code;
        ra.revoke_external(admin, certificate, reason, message)
            .map_err(|e| match e {
                policy::registry::RaError::Ca(
                    ca_core::service::CaServiceError::AlreadyRevoked(_),
                ) => ScmError::bad(
                    code::NOT_ISSUED_FOR_REVOKE,
                    "The certificate is revoked already",
                ),
                other => other.into(),
            })?;
        Ok(())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// DELETE `{id}`: an imported certificate (ours are never deleted); 204.
pub async fn delete(ctx: &Ctx, area: Area, id: u64) -> Result<Reply, ScmError> {
    ctx.run(move |ra, admin| {
        let request = area_request(ra, admin, area, id)?;
        let certificate = request
            .state
            .certificate()
            .ok_or_else(|| ScmError::field("Only imported certificates can be deleted"))?;
        Ok(ra.delete_external(admin, certificate)?)
    })
    .await?;
    Ok(Reply::NoContent)
}
