//! Read-only views of ca-core: the certificate profiles and the CAs.
//! Any authenticated administrator may read them: they are what requests are made against.

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::pagination::Page;
use crate::views::{CaView, ProfileView};

/// GET /profiles.
pub async fn profiles(ctx: &Ctx) -> Result<Reply, ApiError> {
    let ca = ctx.ra.ca();
    let views: Vec<ProfileView> = ca
        .profiles()
        .iter()
        .map(|p| ProfileView::new(p, ca))
        .collect();
    Reply::ok(&Page::all(views))
}

/// GET /cas.
pub async fn cas(ctx: &Ctx) -> Result<Reply, ApiError> {
    let ca = ctx.ra.ca();
    let views: Vec<CaView> = ca.cas().map(|c| CaView::new(c, ca)).collect();
    Reply::ok(&Page::all(views))
}
