//! The directory (RFC 8555 §7.1.1). newNonce is answered in `dispatch`: its
//! answer is nothing but the Replay-Nonce every response carries.

use http::StatusCode;
use policy::model::EndpointKind;

use super::{Ctx, Reply};
use crate::wire::objects::{DirectoryMeta, DirectoryObject};
use crate::wire::problem::Problem;

/// GET the directory.
pub(crate) fn directory(ctx: &Ctx<'_>) -> Result<Reply, Problem> {
    let config = &ctx.shared.config;
    let urls = &ctx.urls;
    Reply::json(
        StatusCode::OK,
        &DirectoryObject {
            new_nonce: urls.new_nonce(),
            new_account: urls.new_account(),
            new_order: urls.new_order(),
            revoke_cert: urls.revoke_cert(),
            key_change: urls.key_change(),
            renewal_info: urls.renewal_info(),
            meta: DirectoryMeta {
                terms_of_service: config.terms_of_service.clone(),
                website: config.website.clone(),
                caa_identities: config.caa_identities.clone(),
                external_account_required: matches!(
                    ctx.endpoint.kind,
                    EndpointKind::Acme {
                        eab_required: true,
                        ..
                    }
                ),
            },
        },
    )
}
