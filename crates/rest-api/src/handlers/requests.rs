//! Certificate requests: submit, list, show, edit, approve, decline.

use policy::model::{OrgId, RequestId};
use policy::registry::{RaError, RequestFilter, Requester, Submission};
use policy::request::{CertificateRequest, Channel, RequestAnnotations, StateName};

use super::{Ctx, Reply};
use crate::error::ApiError;
use crate::views::RequestView;
use crate::wire::{DecisionRequest, EditRequest, SubmitRequest};

/// GET /requests.
pub async fn list(ctx: &Ctx) -> Result<Reply, ApiError> {
    let page = ctx.page()?;
    let filter = RequestFilter {
        status: ctx.query.parsed::<StateName>("status")?,
        org: ctx.query.u64("org")?.map(OrgId),
        profile: ctx.query.get("profile").map(str::to_string),
        name: ctx.query.get("name").map(str::to_string),
    };
    let requests = ctx
        .run(move |ra, admin| Ok(ra.requests(admin, &filter, page.after, page.fetch())?))
        .await?;
    Reply::ok(
        &page
            .cut(requests, |r| r.id.0)
            .map(|r| RequestView::from(&r)),
    )
}

/// A submission as the RA recorded it. A CSR the profile refuses is recorded as Invalid
/// like one the name policy refuses; the RA answers it with
/// [`RaError::RefusedByProfile`], which carries that record, and the API shows it like
/// any other recorded request (201, status `invalid`, with the reason).
pub(crate) fn recorded(
    result: Result<CertificateRequest, RaError>,
) -> Result<CertificateRequest, RaError> {
    match result {
        Err(RaError::RefusedByProfile { request, .. }) => Ok(*request),
        other => other,
    }
}

/// POST /requests.
pub async fn submit(ctx: &Ctx, request: SubmitRequest) -> Result<Reply, ApiError> {
    let submitted = ctx
        .run(move |ra, admin| {
            Ok(recorded(ra.submit(
                Requester::Admin(admin),
                Submission {
                    csr: request.csr.into_bytes(),
                    profile: request.profile,
                    org: request.org,
                    dept: request.dept,
                    term_days: request.term_days,
                    names: None,
                    channel: Channel::Rest,
                    renewal_of: None,
                    replaces: false,
                    // The RA checks them against the class's custom fields (a mandatory
                    // one missing is refused before anything is recorded).
                    annotations: RequestAnnotations {
                        comments: request.comments,
                        external_requester: request.external_requester,
                        custom_fields: request.custom_fields.into_iter().map(Into::into).collect(),
                    },
                },
            ))?)
        })
        .await?;
    Reply::created(&RequestView::from(&submitted))
}

/// GET /requests/{id}.
pub async fn get(ctx: &Ctx, id: RequestId) -> Result<Reply, ApiError> {
    let request = ctx.run(move |ra, admin| Ok(ra.request(admin, id)?)).await?;
    Reply::ok(&RequestView::from(&request))
}

/// PATCH /requests/{id}.
pub async fn edit(ctx: &Ctx, id: RequestId, edit: EditRequest) -> Result<Reply, ApiError> {
    let request = ctx
        .run(move |ra, admin| Ok(ra.edit_request(admin, id, edit.term_days)?))
        .await?;
    Reply::ok(&RequestView::from(&request))
}

/// POST /requests/{id}/approve.
pub async fn approve(
    ctx: &Ctx,
    id: RequestId,
    decision: DecisionRequest,
) -> Result<Reply, ApiError> {
    let request = ctx
        .run(move |ra, admin| Ok(ra.approve(admin, id, &decision.message)?))
        .await?;
    Reply::ok(&RequestView::from(&request))
}

/// POST /requests/{id}/decline.
pub async fn decline(
    ctx: &Ctx,
    id: RequestId,
    decision: DecisionRequest,
) -> Result<Reply, ApiError> {
    let request = ctx
        .run(move |ra, admin| Ok(ra.decline(admin, id, &decision.message)?))
        .await?;
    Reply::ok(&RequestView::from(&request))
}
