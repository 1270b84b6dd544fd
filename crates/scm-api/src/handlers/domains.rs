//! `/domain/v1`: delegated domains.
//!
//! Certwright keeps one record per delegation (a name given to an organization or
//! a department); the reference's domain is a name with its delegations. A domain's
//! id here is the id of its first delegation, so that it stays the same while the
//! domain has delegations; a domain without any does not exist. Delegations in a
//! private CA are in force once made: status ACTIVE, validation "Validated".

use policy::model::{DomainDelegation, DomainId};
use policy::registry::RegistrationAuthority;
use serde_json::{json, Value};

use crate::error::{code, ScmError};
use crate::wire::{self, DomainRequest};
use crate::{Ctx, Reply};

/// The visible domains: (id, name, delegations), by id.
fn domains(
    ra: &RegistrationAuthority,
    admin: &policy::model::Administrator,
) -> Result<Vec<(u64, String, Vec<DomainDelegation>)>, ScmError> {
    let mut out: Vec<(u64, String, Vec<DomainDelegation>)> = Vec::new();
    for d in ra.domains(admin)? {
        let name = d.name.to_string();
        match out.iter_mut().find(|(_, n, _)| *n == name) {
            Some((id, _, list)) => {
                *id = (*id).min(d.id.0);
                list.push(d);
            }
            None => out.push((d.id.0, name, vec![d])),
        }
    }
    out.sort_by_key(|(id, _, _)| *id);
    Ok(out)
}

fn domain(
    ra: &RegistrationAuthority,
    admin: &policy::model::Administrator,
    id: u64,
) -> Result<(u64, String, Vec<DomainDelegation>), ScmError> {
    domains(ra, admin)?
        .into_iter()
        .find(|(i, _, _)| *i == id)
        .ok_or_else(|| ScmError::not_found(code::NO_DOMAIN, format!("Domain {id} does not exist")))
}

fn delegation_view(d: &DomainDelegation) -> Value {
    json!({
        "orgId": d.dept.map(|x| x.0).unwrap_or(d.org.0),
        "certTypes": ["SSL", "SMIME"],
        "domainCertificateRequestPrivileges": ["DOMAIN", "SUBDOMAIN", "WILDCARD_1ST_LEVEL"],
        "status": "ACTIVE",
    })
}

/// GET (and HEAD) the list, or the deprecated `/count`; filters `name`, `orgId`, `state`, `status`.
pub async fn list(ctx: &Ctx, count_only: bool) -> Result<Reply, ScmError> {
    let name = ctx.param("name").map(|n| n.to_ascii_lowercase());
    let org = match ctx.param("orgId") {
        Some(v) if !v.trim().is_empty() => Some(wire::integer(&json!(v), "orgId")?),
        _ => None,
    };
    // Every delegation is active and approved: an inactive or requested filter finds none.
    let none_match = matches!(ctx.param("state"), Some(s) if s.eq_ignore_ascii_case("inactive"))
        || matches!(ctx.param("status"), Some(s) if s.eq_ignore_ascii_case("requested"));
    let rows = ctx
        .run(move |ra, admin| {
            Ok(domains(ra, admin)?
                .into_iter()
                .filter(|_| !none_match)
                .filter(|(_, n, _)| name.as_ref().is_none_or(|f| n.contains(f.as_str())))
                .filter(|(_, _, ds)| {
                    org.is_none_or(|o| {
                        ds.iter()
                            .any(|d| d.org.0 == o || d.dept.is_some_and(|x| x.0 == o))
                    })
                })
                .map(|(id, name, _)| json!({"id": id, "name": name}))
                .collect::<Vec<_>>())
        })
        .await?;
    if count_only {
        return Ok(Reply::Json(
            http::StatusCode::OK,
            json!({"count": rows.len()}),
            vec![],
        ));
    }
    super::paging::paged(ctx, rows)
}

/// GET `{id}` with its delegations.
pub async fn details(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    let view = ctx
        .run(move |ra, admin| {
            let (id, name, delegations) = domain(ra, admin, id)?;
            Ok(json!({
                "id": id,
                "name": name,
                "delegationStatus": "ACTIVE",
                "state": "ACTIVE",
                "validationStatus": "Validated",
                "delegations": delegations.iter().map(delegation_view).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(Reply::Json(http::StatusCode::OK, view, vec![]))
}

fn delegate_to(
    ra: &RegistrationAuthority,
    admin: &policy::model::Administrator,
    name: &str,
    unit: u64,
) -> Result<DomainDelegation, ScmError> {
    let scope = ra
        .org_unit(admin, unit)
        .map_err(|e| ScmError::from_ra(&e, code::BAD_ORG))?
        .scope();
    Ok(ra.delegate_domain(admin, name, scope.org, scope.dept)?)
}

/// POST: a domain with at least one delegation; the organizations come first, so that a
/// department's delegation finds its organization's.
pub async fn create(ctx: &Ctx) -> Result<Reply, ScmError> {
    let request = DomainRequest::parse(&ctx.body)?;
    let id = ctx
        .run(move |ra, admin| {
            let mut first = None;
            for unit in &request.delegations {
                let d = delegate_to(ra, admin, &request.name, *unit)?;
                first = Some(first.unwrap_or(d.id.0).min(d.id.0));
            }
            first.ok_or_else(|| ScmError::field("delegations must hold at least one delegation"))
        })
        .await?;
    Ok(Reply::Created(format!("/api/domain/v1/{id}")))
}

/// DELETE `{id}`: every delegation of the domain (departments' first).
pub async fn delete(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    ctx.run(move |ra, admin| {
        let (_, _, mut delegations) = domain(ra, admin, id)?;
        delegations.sort_by_key(|d| d.dept.is_none());
        for d in delegations {
            ra.remove_domain_delegation(admin, d.id)?;
        }
        Ok(())
    })
    .await?;
    Ok(Reply::NoContent)
}

/// POST `{id}/delegation` `{orgId, ...}`: delegates the domain to one more unit.
pub async fn delegate(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    let body: Value = Value::Object(wire::object(&ctx.body)?);
    let unit = wire::delegation_org(&body)?;
    ctx.run(move |ra, admin| {
        let (_, name, _) = domain(ra, admin, id)?;
        delegate_to(ra, admin, &name, unit).map(|_| ())
    })
    .await?;
    Ok(Reply::Json(http::StatusCode::OK, json!({}), vec![]))
}

/// DELETE `{id}/delegation` `{orgId}`: withdraws the delegation to that unit.
pub async fn undelegate(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    let body: Value = Value::Object(wire::object(&ctx.body)?);
    let unit = wire::delegation_org(&body)?;
    ctx.run(move |ra, admin| {
        let (_, _, delegations) = domain(ra, admin, id)?;
        let target = delegations
            .iter()
            .find(|d| d.dept.map(|x| x.0).unwrap_or(d.org.0) == unit)
            .ok_or_else(|| {
                ScmError::bad(
                    code::BAD_ORG,
                    format!("The domain is not delegated to {unit}"),
                )
            })?;
        Ok(ra.remove_domain_delegation(admin, DomainId(target.id.0))?)
    })
    .await?;
    Ok(Reply::Json(http::StatusCode::OK, json!({}), vec![]))
}
