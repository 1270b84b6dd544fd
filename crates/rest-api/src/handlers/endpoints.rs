//! Enrollment endpoints, their ACME EAB keys and their SCEP one-time challenges.

use policy::model::EndpointId;
use policy::registry::{ChallengeBinding, NewEndpoint};
use serde_json::json;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::{EndpointCreatedView, EndpointView, ScepChallengeView};

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
