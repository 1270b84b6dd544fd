//! Domain delegations.

use policy::model::OrgId;

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::DomainView;
use crate::wire::DomainRequest;

/// GET /domains.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let org = ctx.query.u64("org")?.map(OrgId);
    let domains = ctx.run(|ra, admin| Ok(ra.domains(admin)?)).await?;
    let domains = domains
        .into_iter()
        .filter(|d| org.is_none_or(|o| d.org == o))
        .collect();
    Reply::ok(&page.cut(domains, |d| d.id.0).map(|d| DomainView::from(&d)))
}

/// POST /domains.
pub async fn create(ctx: &Ctx, request: DomainRequest) -> Result<Reply, ApiError> {
    let delegation = ctx
        .run(move |ra, admin| {
            Ok(ra.delegate_domain(admin, &request.name, request.org, request.dept)?)
        })
        .await?;
    Reply::created(&DomainView::from(&delegation))
}
