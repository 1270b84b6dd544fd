//! Enrollment endpoints, their ACME EAB keys, and their SCEP one-time challenges and webhooks.

use policy::model::EndpointId;
use policy::registry::{ChallengeBinding, EndpointSecret, NewEndpoint, NewIntuneApplication};
use serde_json::json;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::{EndpointCreatedView, EndpointView, ScepChallengeView};
use crate::wire::ScepWebhookRequest;

/// GET /endpoints.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let endpoints = ctx.run(|ra, admin| Ok(ra.endpoints(admin)?)).await?;
    Reply::ok(
        &page
            .cut(endpoints, |e| e.id.0)
            .map(|e| EndpointView::from(&e)),
    )
}

/// POST /endpoints: the one-time secret is in this answer and nowhere else.
pub async fn create(ctx: &Ctx, request: NewEndpoint) -> Result<Reply, ApiError> {
    let view = ctx
        .run(move |ra, admin| {
            let (endpoint, secret) = ra.create_endpoint(admin, request)?;
            Ok(EndpointCreatedView::new(&endpoint, &secret))
        })
        .await?;
    Reply::created(&view)
}

/// PUT /endpoints/{id}/intune: the secret is sealed and the answer does not carry it.
pub async fn set_intune_application(
    ctx: &Ctx,
    id: EndpointId,
    request: NewIntuneApplication,
) -> Result<Reply, ApiError> {
    let view = ctx
        .run(move |ra, admin| {
            let endpoint = ra.set_intune_application(admin, id, request)?;
            Ok(EndpointView::from(&endpoint))
        })
        .await?;
    Reply::ok(&view)
}

/// POST /endpoints/{id}/eab-keys.
pub async fn add_eab_key(ctx: &Ctx, id: EndpointId) -> Result<Reply, ApiError> {
    let value = ctx
        .run(move |ra, admin| {
            let (key_id, hmac_key) = ra.add_eab_key(admin, id)?;
            Ok(json!({
                "endpoint": id.0,
                "key_id": key_id,
                "hmac_key": hmac_key.as_str(),
            }))
        })
        .await?;
    Reply::created(&value)
}

/// POST /endpoints/{id}/scep-challenges: the challenge is in this answer and nowhere else.
pub async fn mint_scep_challenge(
    ctx: &Ctx,
    id: EndpointId,
    binding: ChallengeBinding,
) -> Result<Reply, ApiError> {
    let view = ctx
        .run(move |ra, admin| {
            let (challenge, expires_at) = ra.mint_scep_challenge(admin, id, binding)?;
            Ok(ScepChallengeView::new(id, &challenge, expires_at))
        })
        .await?;
    Reply::created(&view)
}

/// PUT /endpoints/{id}/scep-webhook: the new HMAC key is in this answer and nowhere else.
pub async fn set_scep_webhook(
    ctx: &Ctx,
    id: EndpointId,
    request: ScepWebhookRequest,
) -> Result<Reply, ApiError> {
    let value = ctx
        .run(move |ra, admin| {
            let url = request.url;
            let key = ra
                .set_scep_webhook(admin, id, Some(url.clone()))?
                .ok_or_else(|| ApiError::internal("a webhook was set without a key"))?;
            Ok(json!({
                "endpoint": id.0,
                "url": url,
                "hmac_key": key.as_str(),
            }))
        })
        .await?;
    Reply::ok(&value)
}

/// DELETE /endpoints/{id}/scep-webhook.
pub async fn remove_scep_webhook(ctx: &Ctx, id: EndpointId) -> Result<Reply, ApiError> {
    ctx.run(move |ra, admin| Ok(ra.set_scep_webhook(admin, id, None)?))
        .await?;
    Ok(Reply::NoContent)
}

/// PUT /endpoints/{id}/est-settings.
pub async fn set_est_settings(
    ctx: &Ctx,
    id: EndpointId,
    request: policy::registry::EstSettings,
) -> Result<Reply, ApiError> {
    let value = ctx
        .run(move |ra, admin| {
            let endpoint = ra.set_est_settings(admin, id, request)?;
            let policy::model::EndpointKind::Est {
                auth,
                trust_anchors,
                pop_required,
                ..
            } = &endpoint.kind
            else {
                return Err(ApiError::internal("not an EST endpoint"));
            };
            Ok(json!({
                "endpoint": id.0,
                "auth": auth.name(),
                "pop_required": pop_required,
                "trust_anchors": trust_anchors.iter().map(|a| a.subject.clone()).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Reply::ok(&value)
}

/// POST /endpoints/{id}/rotate-secret: the new secret is in this answer and nowhere else.
pub async fn rotate_secret(ctx: &Ctx, id: EndpointId) -> Result<Reply, ApiError> {
    let value = ctx
        .run(move |ra, admin| {
            Ok(match ra.rotate_endpoint_secret(admin, id)? {
                EndpointSecret::ScepChallenge(c) => {
                    json!({ "endpoint": id.0, "scep_challenge": c.as_str() })
                }
                EndpointSecret::EstPassword(p) => {
                    json!({ "endpoint": id.0, "est_password": p.as_str() })
                }
                EndpointSecret::None => json!({ "endpoint": id.0 }),
            })
        })
        .await?;
    Reply::ok(&value)
}
