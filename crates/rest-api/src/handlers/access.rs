//! Access control: the per-role allow-lists of client addresses, and lifting the
//! failed-login locks of an EST endpoint's Basic users. Both MRAO only (the RA decides).

use policy::model::EndpointId;
use policy::registry::AllowList;
use serde_json::{json, Value};

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::rfc3339;
use crate::wire::AllowListsRequest;

/// Every role's list, keyed by role name (as REST and the CLI's offline path show it).
pub fn allow_lists_view(lists: &[AllowList]) -> Value {
    let mut out = serde_json::Map::new();
    for list in lists {
        out.insert(
            list.role.name().to_string(),
            json!({
                "networks": list.networks.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "restricted": !list.networks.is_empty(),
                "updated_by": list.updated_by,
                "updated_at": list.updated_at.map(rfc3339),
            }),
        );
    }
    Value::Object(out)
}

/// GET /access/allow-lists.
pub async fn get(ctx: &Ctx) -> Result<Reply, ApiError> {
    let lists = ctx.run(|ra, admin| Ok(ra.allow_lists(admin)?)).await?;
    Reply::ok(&allow_lists_view(&lists))
}

/// PUT /access/allow-lists. The caller's own address goes to the RA, which refuses a
/// change of the caller's role's list that would not admit it.
pub async fn set(ctx: &Ctx, request: AllowListsRequest) -> Result<Reply, ApiError> {
    let changes = request.changes()?;
    let from = ctx.client;
    let lists = ctx
        .run(move |ra, admin| Ok(ra.set_allow_lists(admin, from, &changes)?))
        .await?;
    Reply::ok(&allow_lists_view(&lists))
}

/// POST /endpoints/{id}/unlock.
pub async fn unlock_est(ctx: &Ctx, id: EndpointId) -> Result<Reply, ApiError> {
    let cleared = ctx
        .run(move |ra, admin| Ok(ra.unlock_est_logins(admin, id)?))
        .await?;
    Reply::ok(&json!({ "endpoint": id.0, "cleared": cleared }))
}
