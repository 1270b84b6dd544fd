//! Certificate download (RFC 8555 §7.4.2): the leaf and its issuing chain
//! without the root, as `application/pem-certificate-chain`. A certificate
//! has one chain here (its issuing CA's), so there is no `alternate` link.

use bytes::Bytes;
use ca_core::encoding::ExportFormat;
use http::StatusCode;

use super::{not_yours, Ctx, Reply};
use crate::records::AccountRecord;
use crate::wire::jws::SignedRequest;
use crate::wire::problem::Problem;

/// POST-as-GET a certificate of the account.
pub(crate) fn download(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    jws.require_post_as_get()?;
    ctx.shared
        .records
        .certificate_link(id)?
        .filter(|link| link.account == account.id)
        .ok_or_else(|| not_yours("the certificate"))?;
    let ca = ctx.shared.ra.ca();
    let record = ca
        .certificates()
        .get(id)?
        .ok_or_else(|| not_yours("the certificate"))?;
    let pem = ca
        .export(&record, ExportFormat::PemChain)
        .map_err(Problem::internal)?;
    Ok(Reply {
        content_type: Some(ExportFormat::PemChain.media_type()),
        body: Bytes::from(pem),
        ..Reply::empty(StatusCode::OK)
    })
}
