//! `/acme/v1/pca/account`: the certificate manager's "Universal ACME" accounts,
//! which are our ACME endpoints' EAB keys (`macId` the key id, `macKey` the HMAC
//! key), so that connectors that hand EAB keys to ACME clients work.
//!
//! Choices where the reference is unsure: `macKey` is in the create answer and in
//! the details while no ACME account has used the key (it is sealed at rest and
//! opens nothing once bound), and is `""` in lists and after binding. `acmeServer`
//! is the endpoint's directory URL; on create, its URL or the endpoint's name.

use policy::model::{Administrator, EndpointKind};
use policy::registry::{EabAccount, RegistrationAuthority};
use serde_json::{json, Value};

use crate::error::{code, ScmError};
use crate::wire;
use crate::{Ctx, Reply};

fn unit_of(account: &EabAccount) -> u64 {
    account
        .endpoint
        .dept
        .map(|d| d.0)
        .unwrap_or(account.endpoint.org.0)
}

fn view(base: &str, account: &EabAccount, mac_key: Option<&str>) -> Value {
    json!({
        "id": account.key.number,
        "name": account.key.name,
        "macId": account.key.key_id,
        "macKey": mac_key.unwrap_or(""),
        "acmeServer": format!("{base}/acme/{}/directory", account.endpoint.name),
        "organizationId": unit_of(account),
        "accountId": account.key.bound_account.clone().unwrap_or_default(),
        "profileName": account.endpoint.profile,
    })
}

fn not_found(number: u64) -> ScmError {
    ScmError::not_found(code::NOT_FOUND, format!("ACME account {number} not found"))
}

/// GET: the accounts (position, size, organizationId, name, acmeServer; X-Total-Count).
pub async fn list(ctx: &Ctx) -> Result<Reply, ScmError> {
    let base = ctx.https_base.clone();
    let unit = match ctx.param("organizationId") {
        // "%2C-2" (",-2") after the id leaves departments out.
        Some(v) if !v.trim().is_empty() => {
            let first = v.split(',').next().unwrap_or_default();
            Some((
                wire::integer(&json!(first), "organizationId")?,
                v.contains(",-2"),
            ))
        }
        _ => None,
    };
    let name = ctx.param("name").map(str::to_ascii_lowercase);
    let server = ctx.param("acmeServer").map(str::to_string);
    let rows = ctx
        .run(move |ra, admin| {
            Ok(ra
                .eab_accounts(admin)?
                .iter()
                .filter(|a| {
                    unit.is_none_or(|(u, no_depts)| {
                        unit_of(a) == u || (!no_depts && a.endpoint.org.0 == u)
                    })
                })
                .filter(|a| {
                    name.as_ref()
                        .is_none_or(|n| a.key.name.to_ascii_lowercase().contains(n.as_str()))
                })
                .map(|a| view(&base, a, None))
                .filter(|v| {
                    server
                        .as_ref()
                        .is_none_or(|s| v["acmeServer"] == s.as_str())
                })
                .collect::<Vec<_>>())
        })
        .await?;
    super::paging::paged(ctx, rows)
}

/// The ACME endpoint an account is created on: named by `acmeServer` (its directory
/// URL or its name), or the one ACME endpoint of the unit with that profile.
fn endpoint_for(
    ra: &RegistrationAuthority,
    admin: &Administrator,
    server: &str,
    unit: u64,
    profile: &str,
) -> Result<policy::model::EndpointId, ScmError> {
    let name = server
        .trim_end_matches('/')
        .trim_end_matches("/directory")
        .rsplit("/acme/")
        .next()
        .unwrap_or(server)
        .trim_matches('/')
        .to_string();
    let candidates: Vec<_> = ra
        .endpoints(admin)?
        .into_iter()
        .filter(|e| matches!(e.kind, EndpointKind::Acme { .. }))
        .filter(|e| e.dept.map(|d| d.0).unwrap_or(e.org.0) == unit)
        .filter(|e| profile.is_empty() || e.profile == profile)
        .filter(|e| name.is_empty() || e.name == name)
        .collect();
    match candidates.as_slice() {
        [one] => Ok(one.id),
        [] => Err(ScmError::bad(
            code::REQUIRED_FIELD,
            format!(
                "No ACME endpoint {}of organization {unit}{}",
                if name.is_empty() {
                    String::new()
                } else {
                    format!("'{name}' ")
                },
                if profile.is_empty() {
                    String::new()
                } else {
                    format!(" with profile '{profile}'")
                }
            ),
        )),
        _ => Err(ScmError::field(
            "Several ACME endpoints match; name one in acmeServer",
        )),
    }
}

/// POST `{name, acmeServer, organizationId, profileName}`: 201 with Location, and the
/// new `{id, macId, macKey}`.
pub async fn create(ctx: &Ctx) -> Result<Reply, ScmError> {
    let map = wire::object(&ctx.body)?;
    let text = |k: &str| {
        map.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let name = text("name");
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ScmError::field("name must be 1 to 128 characters"));
    }
    let unit = match map.get("organizationId") {
        Some(v) => wire::integer(v, "organizationId")?,
        None => return Err(ScmError::field("organizationId is required")),
    };
    let (server, profile) = (text("acmeServer"), text("profileName"));
    let base = ctx.https_base.clone();
    let (number, body) = ctx
        .run(move |ra, admin| {
            ra.org_unit(admin, unit)
                .map_err(|e| ScmError::from_ra(&e, code::BAD_ORG))?;
            let endpoint = endpoint_for(ra, admin, &server, unit, &profile)?;
            let key = ra.add_named_eab_key(admin, endpoint, &name)?;
            let account = ra.eab_account(admin, key.number)?;
            Ok((key.number, view(&base, &account, Some(key.hmac.as_str()))))
        })
        .await?;
    Ok(Reply::CreatedWith(
        format!("/api/acme/v1/pca/account/{number}"),
        body,
    ))
}

/// GET `{id}`: the account, with `macKey` while it is unused.
pub async fn details(ctx: &Ctx, number: u64) -> Result<Reply, ScmError> {
    let base = ctx.https_base.clone();
    let body = ctx
        .run(move |ra, admin| {
            let account = ra
                .eab_account(admin, number)
                .map_err(|_| not_found(number))?;
            let hmac = ra.unbound_eab_hmac(admin, number)?;
            Ok(view(&base, &account, hmac.as_ref().map(|h| h.as_str())))
        })
        .await?;
    Ok(Reply::Json(http::StatusCode::OK, body, vec![]))
}

/// PUT `{id}` `{name}`.
pub async fn rename(ctx: &Ctx, number: u64) -> Result<Reply, ScmError> {
    let map = wire::object(&ctx.body)?;
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    ctx.run(move |ra, admin| {
        ra.eab_account(admin, number)
            .map_err(|_| not_found(number))?;
        Ok(ra.rename_eab_key(admin, number, &name)?)
    })
    .await?;
    Ok(Reply::Json(http::StatusCode::OK, json!({}), vec![]))
}

/// DELETE `{id}`: 204; no new ACME account can use the key.
pub async fn delete(ctx: &Ctx, number: u64) -> Result<Reply, ScmError> {
    ctx.run(move |ra, admin| {
        ra.eab_account(admin, number)
            .map_err(|_| not_found(number))?;
        Ok(ra.remove_eab_key(admin, number)?)
    })
    .await?;
    Ok(Reply::NoContent)
}
