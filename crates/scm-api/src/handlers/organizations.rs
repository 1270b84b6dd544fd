//! `/organization/v1`: organizations with their departments (one id space).

use policy::model::{Address, Role};
use policy::registry::{OrgUnit, OrganizationChange};
use serde_json::Value;

use crate::error::{code, ScmError};
use crate::views;
use crate::wire::OrganizationRequest;
use crate::{Ctx, Reply};

fn org_error(e: policy::registry::RaError) -> ScmError {
    ScmError::from_ra(&e, code::BAD_ORG)
}

/// GET: every visible organization with its visible departments.
pub async fn list(ctx: &Ctx) -> Result<Reply, ScmError> {
    let rows = ctx
        .run(|ra, admin| {
            let orgs = ra.organizations(admin)?;
            let depts = ra.departments(admin, None)?;
            Ok(orgs
                .iter()
                .map(|o| views::organization_row(o, &depts))
                .collect::<Vec<Value>>())
        })
        .await?;
    Ok(Reply::Json(
        http::StatusCode::OK,
        Value::Array(rows),
        vec![],
    ))
}

/// GET `{id}`: an organization's or a department's details.
pub async fn details(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    let view = ctx
        .run(move |ra, admin| {
            let unit = ra.org_unit(admin, id).map_err(org_error)?;
            Ok(match &unit {
                OrgUnit::Organization(o) => {
                    let depts = ra.departments(admin, Some(o.id))?;
                    views::organization_details(o, &depts)
                }
                OrgUnit::Department(d, o) => views::department_details(d, o),
            })
        })
        .await?;
    Ok(Reply::Json(http::StatusCode::OK, view, vec![]))
}

/// POST: an organization, or with `parentOrgName` a department of that organization.
pub async fn create(ctx: &Ctx) -> Result<Reply, ScmError> {
    let request = OrganizationRequest::parse(&ctx.body)?;
    let name = request
        .name
        .clone()
        .ok_or_else(|| ScmError::field("name is required"))?;
    let id = ctx
        .run(move |ra, admin| {
            if let Some(parent) = &request.parent_org_name {
                let org = ra
                    .organizations(admin)?
                    .into_iter()
                    .find(|o| &o.name == parent)
                    .ok_or_else(|| {
                        ScmError::bad(code::BAD_ORG, format!("No organization named '{parent}'"))
                    })?;
                Ok(ra.create_department(admin, org.id, &name)?.id.0)
            } else {
                let address = Address {
                    locality: request.city,
                    state: request.state,
                    country: request.country,
                };
                Ok(ra.create_organization(admin, &name, address)?.id.0)
            }
        })
        .await?;
    Ok(Reply::Created(format!("/api/organization/v1/{id}")))
}

/// PUT `{id}`: a new name or address.
pub async fn update(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    let request = OrganizationRequest::parse(&ctx.body)?;
    let view = ctx
        .run(move |ra, admin| {
            let change = OrganizationChange {
                name: request.name,
                locality: request.city,
                state: request.state,
                country: request.country,
            };
            let unit = ra.update_org_unit(admin, id, change).map_err(org_error)?;
            Ok(match &unit {
                OrgUnit::Organization(o) => {
                    let depts = ra.departments(admin, Some(o.id))?;
                    views::organization_details(o, &depts)
                }
                OrgUnit::Department(d, o) => views::department_details(d, o),
            })
        })
        .await?;
    Ok(Reply::Json(http::StatusCode::OK, view, vec![]))
}

/// DELETE `{id}`: only what nothing refers to.
pub async fn delete(ctx: &Ctx, id: u64) -> Result<Reply, ScmError> {
    ctx.run(move |ra, admin| ra.delete_org_unit(admin, id).map_err(org_error))
        .await?;
    Ok(Reply::NoContent)
}

/// GET `managedBy/{role}`: the units the caller manages in that role (RAO_SSL, DRAO_SSL, ...).
///
/// Certwright's roles are MRAO, RAO and DRAO with per-class privileges; a role name of
/// the reference is matched on its first part: RAO_* lists organizations, DRAO_* departments.
pub async fn managed_by(ctx: &Ctx, role: String) -> Result<Reply, ScmError> {
    let upper = role.to_ascii_uppercase();
    let wants_departments = upper.starts_with("DRAO");
    if !wants_departments && !upper.starts_with("RAO") && !upper.starts_with("MRAO") {
        return Err(ScmError::field(format!(
            "unknown role '{}'",
            role.chars().take(32).collect::<String>()
        )));
    }
    let rows = ctx
        .run(move |ra, admin| {
            let orgs = ra.organizations(admin)?;
            let depts = ra.departments(admin, None)?;
            let drao = matches!(admin.role, Role::Drao { .. });
            let rows: Vec<Value> = if wants_departments || drao {
                depts
                    .iter()
                    .filter_map(|d| {
                        let org = orgs.iter().find(|o| o.id == d.org)?;
                        Some(views::department_row(d, org))
                    })
                    .collect()
            } else {
                orgs.iter()
                    .map(|o| serde_json::json!({"id": o.id.0, "name": o.name}))
                    .collect()
            };
            Ok(rows)
        })
        .await?;
    Ok(Reply::Json(
        http::StatusCode::OK,
        Value::Array(rows),
        vec![],
    ))
}
