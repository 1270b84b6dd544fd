//! Administrators.

use policy::model::AdminId;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::{AdminView, LinkedCertificateView};
use crate::wire::{
    AdminRequest, ClientCertificateRequest, PasswordChangeRequest, UnlinkClientCertificateRequest,
};

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

/// POST /admins/{id}/unlock.
pub async fn unlock(ctx: &Ctx, id: AdminId) -> Result<Reply, ApiError> {
    let cleared = ctx
        .run(move |ra, admin| Ok(ra.unlock_login(admin, id)?))
        .await?;
    Reply::ok(&serde_json::json!({ "admin_id": id.0, "cleared": cleared }))
}

/// POST /admins/{id}/client-certificates. The RA allows it for oneself or an MRAO, and
/// refuses what is not a certificate or has expired.
pub async fn link_certificate(
    ctx: &Ctx,
    id: AdminId,
    request: ClientCertificateRequest,
) -> Result<Reply, ApiError> {
    let der = request.der()?;
    let linked = ctx
        .run(move |ra, admin| Ok(ra.link_client_certificate(admin, id, &der)?))
        .await?;
    Reply::created(&LinkedCertificateView::from(&linked))
}

/// POST /admins/{id}/client-certificates/unlink.
pub async fn unlink_certificate(
    ctx: &Ctx,
    id: AdminId,
    request: UnlinkClientCertificateRequest,
) -> Result<Reply, ApiError> {
    let sha256 = request.sha256()?;
    ctx.run(move |ra, admin| Ok(ra.unlink_client_certificate(admin, id, &sha256)?))
        .await?;
    Ok(Reply::NoContent)
}

/// PUT /admins/{id}/password.
pub async fn change_password(
    ctx: &Ctx,
    id: AdminId,
    request: PasswordChangeRequest,
) -> Result<Reply, ApiError> {
    let client = ctx.client;
    let updated = ctx
        .run(move |ra, admin| {
            Ok(ra.change_password(
                admin,
                id,
                request.current_password.as_deref(),
                &request.new_password,
                client,
            )?)
        })
        .await?;
    Reply::ok(&AdminView::from(&updated))
}
