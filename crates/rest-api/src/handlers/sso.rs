//! Single sign-on to the console: the SAML identity provider (imported from its
//! federation metadata), the administrator templates of just-in-time provisioning, and
//! the two per-administrator settings (password login, IdP identity). Every operation
//! is an MRAO's, which the RA enforces and audits.

use policy::model::AdminId;
use policy::registry::{NewAdminTemplate, NewSsoIdentityProvider};

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::pagination::Page;
use crate::views::{AdminTemplateView, AdminView, SsoIdentityProviderView};
use crate::wire::{
    AdminTemplateRequest, IdpIdentityRequest, PasswordLoginRequest, SsoMetadataRequest,
};

/// GET /sso/idp.
pub async fn get_idp(ctx: &Ctx) -> Result<Reply, ApiError> {
    let idp = ctx
        .run(|ra, admin| Ok(ra.sso_identity_provider_for(admin)?))
        .await?
        .ok_or_else(|| ApiError::not_found("no identity provider is imported"))?;
    Reply::ok(&SsoIdentityProviderView::from(&idp))
}

/// PUT /sso/idp: the metadata is read here (the edge), the RA stores what it says.
pub async fn set_idp(ctx: &Ctx, request: SsoMetadataRequest) -> Result<Reply, ApiError> {
    let idp = saml_sp::parse_idp_metadata(&request.metadata)
        .map_err(|e| ApiError::invalid_input(format!("the metadata: {e}")))?;
    let imported = ctx
        .run(move |ra, admin| {
            Ok(ra.set_sso_identity_provider(
                admin,
                NewSsoIdentityProvider {
                    entity_id: idp.entity_id,
                    sso_url: idp.sso_url,
                    certificates: idp.signing_certificates,
                },
            )?)
        })
        .await?;
    Reply::ok(&SsoIdentityProviderView::from(&imported))
}

/// DELETE /sso/idp.
pub async fn remove_idp(ctx: &Ctx) -> Result<Reply, ApiError> {
    ctx.run(|ra, admin| Ok(ra.remove_sso_identity_provider(admin)?))
        .await?;
    Ok(Reply::NoContent)
}

/// GET /sso/templates.
pub async fn list_templates(ctx: &Ctx) -> Result<Reply, ApiError> {
    let templates = ctx.run(|ra, admin| Ok(ra.admin_templates(admin)?)).await?;
    // At most MAX_ADMIN_TEMPLATES: one page holds them all.
    Reply::ok(&Page::all(
        templates.iter().map(AdminTemplateView::from).collect(),
    ))
}

/// POST /sso/templates.
pub async fn create_template(ctx: &Ctx, request: AdminTemplateRequest) -> Result<Reply, ApiError> {
    let (role, privileges) = request.role_and_privileges()?;
    let created = ctx
        .run(move |ra, admin| {
            Ok(ra.create_admin_template(
                admin,
                NewAdminTemplate {
                    name: request.name,
                    attribute: request.attribute,
                    value: request.value,
                    role,
                    privileges,
                },
            )?)
        })
        .await?;
    Reply::created(&AdminTemplateView::from(&created))
}

/// DELETE /sso/templates/{id}.
pub async fn delete_template(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    ctx.run(move |ra, admin| Ok(ra.delete_admin_template(admin, id)?))
        .await?;
    Ok(Reply::NoContent)
}

/// PUT /admins/{id}/password-login.
pub async fn set_password_login(
    ctx: &Ctx,
    id: AdminId,
    request: PasswordLoginRequest,
) -> Result<Reply, ApiError> {
    let updated = ctx
        .run(move |ra, admin| Ok(ra.set_password_login(admin, id, request.enabled)?))
        .await?;
    Reply::ok(&AdminView::from(&updated))
}

/// PUT /admins/{id}/idp-identity.
pub async fn set_idp_identity(
    ctx: &Ctx,
    id: AdminId,
    request: IdpIdentityRequest,
) -> Result<Reply, ApiError> {
    let updated = ctx
        .run(move |ra, admin| Ok(ra.set_idp_identity(admin, id, request.identity.as_deref())?))
        .await?;
    Reply::ok(&AdminView::from(&updated))
}
