//! Login and API keys.

use policy::model::AdminId;
use policy::registry::RaError;
use serde_json::json;

use super::{blocking, Ctx, Reply};
use crate::error::ApiError;
use crate::views::{rfc3339, AdminView};
use crate::wire::{ApiKeyRequest, LoginRequest, RevokeApiKeyRequest};

/// POST /login.
pub async fn login(ctx: &Ctx, request: LoginRequest) -> Result<Reply, ApiError> {
    let LoginRequest { username, password } = request;
    if let Some(seconds) = ctx.client.and_then(|a| ctx.throttle.locked(a)) {
        return Err(ApiError::throttled(seconds));
    }
    let client = ctx.client;
    let result = blocking(ctx.ra.clone(), move |ra| {
        ra.login_from(&username, &password, client)
            .map_err(|e| match e {
                RaError::TooManyFailures { retry_after } => ApiError::account_locked(retry_after),
                other => other.into(),
            })
    })
    .await;
    // The address's limit counts wrong passwords only: not the refusals of an account
    // already locked (its failures were counted; a client retrying a stale password must
    // not lock out the other administrators behind its address), nor a right password
    // from outside the role's allow-list (403).
    if let Some(address) = ctx.client {
        match &result {
            Ok(_) => ctx.throttle.succeeded(address),
            Err(e) if e.status() == http::StatusCode::UNAUTHORIZED => ctx.throttle.failed(address),
            Err(_) => {}
        }
    }
    let (token, admin) = result?;
    Reply::ok(&json!({
        "token": token.as_str(),
        "token_type": "Bearer",
        "expires_in": ctx.ra.session_ttl(),
        "admin": AdminView::from(&admin),
    }))
}

/// POST /api-keys.
pub async fn create_api_key(ctx: &Ctx, request: ApiKeyRequest) -> Result<Reply, ApiError> {
    let value = ctx
        .run(move |ra, admin| {
            let owner = request.admin_id.map(AdminId).unwrap_or(admin.id);
            let (record, key) = ra.create_api_key(admin, owner, &request.label)?;
            Ok(json!({
                "id": record.id,
                "key": key.as_str(),
                "admin_id": record.admin.0,
                "label": record.label,
                "created_at": rfc3339(record.created_at),
            }))
        })
        .await?;
    Reply::created(&value)
}

fn api_key_json(record: &policy::registry::ApiKeyRecord) -> serde_json::Value {
    json!({
        "id": record.id,
        "admin_id": record.admin.0,
        "label": record.label,
        "created_at": rfc3339(record.created_at),
    })
}

/// GET /admins/{id}/api-keys.
pub async fn list_api_keys(ctx: &Ctx, id: AdminId) -> Result<Reply, ApiError> {
    let keys = ctx
        .run(move |ra, admin| Ok(ra.api_keys(admin, id)?))
        .await?;
    Reply::ok(&json!({ "items": keys.iter().map(api_key_json).collect::<Vec<_>>() }))
}

/// POST /api-keys/revoke.
pub async fn revoke_api_key(ctx: &Ctx, request: RevokeApiKeyRequest) -> Result<Reply, ApiError> {
    let record = ctx
        .run(move |ra, admin| Ok(ra.revoke_api_key(admin, request.id.trim())?))
        .await?;
    Reply::ok(&api_key_json(&record))
}
