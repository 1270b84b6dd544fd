//! Organizations.

use policy::model::OrgId;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::OrganizationView;
use crate::wire::OrganizationRequest;

/// GET /organizations.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let orgs = ctx.run(|ra, admin| Ok(ra.organizations(admin)?)).await?;
    Reply::ok(
        &page
            .cut(orgs, |o| o.id.0)
            .map(|o| OrganizationView::from(&o)),
    )
}

/// POST /organizations.
pub async fn create(ctx: &Ctx, request: OrganizationRequest) -> Result<Reply, ApiError> {
    let org = ctx
        .run(move |ra, admin| {
            Ok(ra.create_organization(admin, &request.name, request.address.into())?)
        })
        .await?;
    Reply::created(&OrganizationView::from(&org))
}

/// GET /organizations/{id}.
pub async fn get(ctx: &Ctx, id: OrgId) -> Result<Reply, ApiError> {
    let org = ctx
        .run(move |ra, admin| Ok(ra.organization(admin, id)?))
        .await?;
    Reply::ok(&OrganizationView::from(&org))
}
