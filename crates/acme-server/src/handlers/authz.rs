//! Authorizations (RFC 8555 §7.5): reading one, and deactivating it.

use ca_core::store::WriteBatch;
use http::StatusCode;

use super::{challenge, not_yours, now, rfc3339, Ctx, Reply};
use crate::records::{
    AccountRecord, AuthzRecord, AuthzStatus, ChallengeRecord, ChallengeStatus, LockKind,
};
use crate::wire::jws::SignedRequest;
use crate::wire::objects::{AuthorizationObject, AuthorizationUpdatePayload, ChallengeObject};
use crate::wire::problem::Problem;

/// An authorization of the account, or 404.
pub(crate) fn owned_authz(
    ctx: &Ctx<'_>,
    account: &AccountRecord,
    id: u64,
) -> Result<AuthzRecord, Problem> {
    ctx.shared
        .records
        .authz(id)?
        .filter(|a| a.account == account.id)
        .ok_or_else(|| not_yours("the authorization"))
}

/// A challenge as JSON.
pub(crate) fn challenge_object(
    ctx: &Ctx<'_>,
    authz: u64,
    challenge: &ChallengeRecord,
) -> ChallengeObject {
    ChallengeObject {
        kind: challenge.kind.name(),
        url: ctx.urls.challenge(authz, challenge.kind),
        status: challenge.status.name(),
        token: challenge.token.clone(),
        validated: challenge.validated.map(rfc3339),
        error: challenge.error.clone(),
        validation_record: challenge.validation_record.iter().cloned().collect(),
    }
}

/// The authorization as JSON, with Retry-After while a challenge is being validated.
pub(crate) fn authz_reply(ctx: &Ctx<'_>, authz: &AuthzRecord) -> Result<Reply, Problem> {
    let object = AuthorizationObject {
        identifier: authz.identifier.authz_object(),
        status: authz.status_at(now()),
        expires: rfc3339(authz.expires),
        challenges: authz
            .challenges
            .iter()
            .map(|c| challenge_object(ctx, authz.id, c))
            .collect(),
        wildcard: authz.identifier.is_wildcard(),
    };
    let reply = Reply::json(StatusCode::OK, &object)?;
    Ok(
        if authz
            .challenges
            .iter()
            .any(|c| c.status == ChallengeStatus::Processing)
        {
            reply.with_retry_after(ctx.retry_after())
        } else {
            reply
        },
    )
}

/// POST to an authorization: read it (POST-as-GET) or deactivate it.
pub(crate) fn authorization(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    if jws.is_post_as_get() {
        let authz = owned_authz(ctx, &account, id)?;
        challenge::ensure_running(ctx.shared, &authz);
        return authz_reply(ctx, &authz);
    }
    let update: AuthorizationUpdatePayload = jws.payload_json()?;
    if update.status != "deactivated" {
        return Err(Problem::malformed(
            "an authorization's status can only be set to \"deactivated\"",
        ));
    }
    let records = &ctx.shared.records;
    let _guard = records.lock(LockKind::Authz, id);
    let mut authz = owned_authz(ctx, &account, id)?;
    let status = authz.status_at(now());
    if !matches!(status, "pending" | "valid") {
        return Err(Problem::malformed(format!(
            "an authorization that is {status} cannot be deactivated"
        )));
    }
    authz.status = AuthzStatus::Deactivated;
    let mut batch = WriteBatch::new();
    records.put_authz(&mut batch, &authz, false)?;
    records.write(batch)?;
    authz_reply(ctx, &authz)
}
