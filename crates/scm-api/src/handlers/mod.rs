//! The handlers, one module per area; [`dispatch`] sends a route to its handler.

mod collect;
mod domains;
mod organizations;
mod paging;
mod ssl;

use crate::routes::{Route, SslRoute};
use crate::{Ctx, Reply, ScmError};

/// Runs the handler of a route.
pub(crate) async fn dispatch(ctx: &Ctx, route: Route) -> Result<Reply, ScmError> {
    match route {
        Route::Organizations => organizations::list(ctx).await,
        Route::CreateOrganization => organizations::create(ctx).await,
        Route::Organization(id) => organizations::details(ctx, id).await,
        Route::UpdateOrganization(id) => organizations::update(ctx, id).await,
        Route::DeleteOrganization(id) => organizations::delete(ctx, id).await,
        Route::ManagedBy(role) => organizations::managed_by(ctx, role).await,
        Route::Domains => domains::list(ctx, false).await,
        Route::DomainCount => domains::list(ctx, true).await,
        Route::CreateDomain => domains::create(ctx).await,
        Route::Domain(id) => domains::details(ctx, id).await,
        Route::DeleteDomain(id) => domains::delete(ctx, id).await,
        Route::Delegate(id) => domains::delegate(ctx, id).await,
        Route::Undelegate(id) => domains::undelegate(ctx, id).await,
        Route::Ssl(route) => match route {
            SslRoute::List => ssl::list(ctx).await,
            SslRoute::Types => ssl::types(ctx).await,
            SslRoute::CustomFields => ssl::custom_fields(ctx).await,
            SslRoute::Enroll => ssl::enroll(ctx).await,
            SslRoute::Collect(id, format) => collect::collect(ctx, id, format).await,
            SslRoute::Details(id) => ssl::details(ctx, id).await,
            SslRoute::RenewById(id) => ssl::renew_by_id(ctx, id).await,
            SslRoute::RenewByRenewId(renew_id) => ssl::renew_by_renew_id(ctx, renew_id).await,
            SslRoute::Replace(id) => ssl::replace(ctx, id).await,
            SslRoute::Revoke(id) => ssl::revoke(ctx, id).await,
            SslRoute::RevokeBySerial(serial) => ssl::revoke_by_serial(ctx, serial).await,
            SslRoute::Approve(id) => ssl::decide(ctx, id, true).await,
            SslRoute::Decline(id) => ssl::decide(ctx, id, false).await,
        },
    }
}
