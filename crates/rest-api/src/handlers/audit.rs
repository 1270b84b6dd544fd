//! The audit log.

use serde_json::json;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::AuditEntryView;

/// GET /audit.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let entries = ctx
        .run(move |ra, admin| Ok(ra.audit_entries(admin, page.after, page.fetch())?))
        .await?;
    Reply::ok(
        &page
            .cut(entries, |e| e.seq)
            .map(|e| AuditEntryView::from(&e)),
    )
}

/// POST /audit/verify.
pub async fn verify(ctx: &Ctx) -> Result<Reply, ApiError> {
    let result = ctx
        .run(|ra, admin| Ok(ra.verify_audit_head(admin)?))
        .await?;
    Reply::ok(&match result {
        Ok((entries, head_hash)) => {
            json!({ "intact": true, "entries": entries, "head_hash": head_hash })
        }
        Err(broken) => json!({
            "intact": false,
            "entries": broken.seq.saturating_sub(1),
            "broken_at": broken.seq,
            "reason": broken.reason,
        }),
    })
}
