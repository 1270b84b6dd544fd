//! Departments.

use policy::model::OrgId;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::DepartmentView;
use crate::wire::DepartmentRequest;

/// GET /departments.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let org = ctx.query.u64("org")?.map(OrgId);
    let depts = ctx
        .run(move |ra, admin| Ok(ra.departments(admin, org)?))
        .await?;
    Reply::ok(
        &page
            .cut(depts, |d| d.id.0)
            .map(|d| DepartmentView::from(&d)),
    )
}

/// POST /departments.
pub async fn create(ctx: &Ctx, request: DepartmentRequest) -> Result<Reply, ApiError> {
    let dept = ctx
        .run(move |ra, admin| Ok(ra.create_department(admin, request.org, &request.name)?))
        .await?;
    Reply::created(&DepartmentView::from(&dept))
}
