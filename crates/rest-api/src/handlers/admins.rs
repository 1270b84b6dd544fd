//! Administrators.

use policy::model::AdminId;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::AdminView;
use crate::wire::AdminRequest;

/// GET /admins.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let admins = ctx.run(|ra, admin| Ok(ra.admins(admin)?)).await?;
    Reply::ok(&page.cut(admins, |a| a.id.0).map(|a| AdminView::from(&a)))
}

/// POST /admins.
pub async fn create(ctx: &Ctx, request: AdminRequest) -> Result<Reply, ApiError> {
    let role = request.role()?;
    let privileges = request.privileges()?;
    let created = ctx
        .run(move |ra, admin| {
            Ok(ra.create_admin(
                admin,
                &request.username,
                &request.password,
                role,
                privileges,
            )?)
        })
        .await?;
    Reply::created(&AdminView::from(&created))
}

/// POST /admins/{id}/deactivate and /activate.
pub async fn set_active(ctx: &Ctx, id: AdminId, active: bool) -> Result<Reply, ApiError> {
    let updated = ctx
        .run(move |ra, admin| Ok(ra.set_admin_active(admin, id, active)?))
        .await?;
    Reply::ok(&AdminView::from(&updated))
}
