//! The handlers, one module per area; [`dispatch`] sends a route to its handler.

mod acme_accounts;
mod collect;
mod domains;
mod imports;
mod lifecycle;
mod organizations;
mod paging;
mod reports;

pub use reports::Report;

use crate::routes::{CertRoute, Route};
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
        Route::Report(report) => reports::report(ctx, report).await,
        Route::AcmeAccounts => acme_accounts::list(ctx).await,
        Route::CreateAcmeAccount => acme_accounts::create(ctx).await,
        Route::AcmeAccount(id) => acme_accounts::details(ctx, id).await,
        Route::RenameAcmeAccount(id) => acme_accounts::rename(ctx, id).await,
        Route::DeleteAcmeAccount(id) => acme_accounts::delete(ctx, id).await,
        Route::Certificates(area, route) => match route {
            CertRoute::List => lifecycle::list(ctx, area).await,
            CertRoute::Types => lifecycle::types(ctx, area).await,
            CertRoute::CustomFields => lifecycle::custom_fields(ctx, area).await,
            CertRoute::Enroll => lifecycle::enroll(ctx, area).await,
            CertRoute::Collect(id, format) => collect::collect(ctx, area, id, format).await,
            CertRoute::Details(id) => lifecycle::details(ctx, area, id).await,
            CertRoute::RenewById(id) => lifecycle::renew_by_id(ctx, area, id).await,
            CertRoute::RenewBySerial(serial) => lifecycle::renew_by_serial(ctx, area, serial).await,
            CertRoute::RenewByRenewId(renew_id) => {
                lifecycle::renew_by_renew_id(ctx, area, renew_id).await
            }
            CertRoute::Replace(id) => lifecycle::replace(ctx, area, id).await,
            CertRoute::Revoke(id) => lifecycle::revoke(ctx, area, id).await,
            CertRoute::RevokeBySerial(serial) => {
                lifecycle::revoke_by_serial(ctx, area, serial).await
            }
            CertRoute::Approve(id) => lifecycle::decide(ctx, area, id, true).await,
            CertRoute::Decline(id) => lifecycle::decide(ctx, area, id, false).await,
            CertRoute::Import => imports::import(ctx, area).await,
            CertRoute::RevokeManual => imports::revoke_manual(ctx, area).await,
            CertRoute::Delete(id) => imports::delete(ctx, area, id).await,
        },
    }
}
