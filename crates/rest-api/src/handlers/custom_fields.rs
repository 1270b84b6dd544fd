//! Custom fields: the values an organization wants on every request of a certificate
//! class. Any administrator may list them (they are what a submission must carry);
//! only an MRAO defines or deletes them, which the RA enforces.

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::pagination::Page;
use crate::views::CustomFieldView;
use crate::wire::{certificate_class, CustomFieldRequest};

/// GET /custom-fields.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let class = ctx.query.get("class").map(certificate_class).transpose()?;
    let fields = ctx
        .run(move |ra, _admin| Ok(ra.custom_fields(class)?))
        .await?;
    // At most MAX_CUSTOM_FIELDS_PER_CLASS per class: one page holds them all.
    Reply::ok(&Page::all(
        fields.iter().map(CustomFieldView::from).collect(),
    ))
}

/// POST /custom-fields.
pub async fn create(ctx: &Ctx, request: CustomFieldRequest) -> Result<Reply, ApiError> {
    let field = ctx
        .run(move |ra, admin| {
            Ok(ra.create_custom_field(admin, request.class, &request.name, request.mandatory)?)
        })
        .await?;
    Reply::created(&CustomFieldView::from(&field))
}

/// DELETE /custom-fields/{id}.
pub async fn delete(ctx: &Ctx, id: u64) -> Result<Reply, ApiError> {
    ctx.run(move |ra, admin| Ok(ra.delete_custom_field(admin, id)?))
        .await?;
    Ok(Reply::NoContent)
}
