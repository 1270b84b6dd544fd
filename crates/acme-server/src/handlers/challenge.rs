//! Challenges (RFC 8555 §7.5.1, §8): the client's POST `{}` moves a pending
//! challenge to processing and starts its validation in a tokio task; the
//! task's outcome makes the challenge and its authorization valid or invalid.
//! The answer does not wait for the validation: clients poll.
//!
//! A validation that a restart interrupted is started again the next time
//! its authorization or order is read: the challenge is still `processing`
//! on disk and no task in this process is working on it.

use std::sync::Arc;

use ca_core::store::{StoreError, WriteBatch};
use http::StatusCode;

use super::authz::{challenge_object, owned_authz};
use super::{now, Ctx, Reply, Shared};
use crate::records::{
    AccountRecord, AuthzRecord, AuthzStatus, ChallengeStatus, ChallengeType, LockKind,
};
use crate::validation::{ChallengeAttempt, ValidationError, ValidationRecord};
use crate::wire::jws::SignedRequest;
use crate::wire::objects::ValidationRecordObject;
use crate::wire::problem::{Problem, ProblemType};

/// The shortest time a valid authorization stays valid (even with reuse turned off, the
/// order it was made for must still be finalized).
const MIN_VALID_AUTHZ_SECS: i64 = 86_400;

/// POST to a challenge: `{}` asks for validation, POST-as-GET reads it.
pub(crate) fn respond(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    authz_id: u64,
    kind: ChallengeType,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    let trigger = if jws.is_post_as_get() {
        false
    } else {
        let _: serde_json::Map<String, serde_json::Value> = jws.payload_json()?;
        true
    };
    let records = &ctx.shared.records;
    let (authz, started) = {
        let _guard = records.lock(LockKind::Authz, authz_id);
        let mut authz = owned_authz(ctx, &account, authz_id)?;
        let Some(challenge) = authz.challenge(kind) else {
            return Err(Problem::not_found("the challenge"));
        };
        // One validation per authorization at a time; a challenge that is no longer
        // pending (or whose authorization is not) is answered as it stands.
        let start = trigger
            && challenge.status == ChallengeStatus::Pending
            && authz.status_at(now()) == "pending"
            && !authz
                .challenges
                .iter()
                .any(|c| c.status == ChallengeStatus::Processing);
        if start {
            if let Some(challenge) = authz.challenge_mut(kind) {
                challenge.status = ChallengeStatus::Processing;
            }
            let mut batch = WriteBatch::new();
            records.put_authz(&mut batch, &authz, false)?;
            records.write(batch)?;
        }
        (authz, start)
    };
    if started {
        start_validation(ctx.shared, authz.id, kind);
    } else {
        ensure_running(ctx.shared, &authz);
    }
    let challenge = authz
        .challenge(kind)
        .ok_or_else(|| Problem::internal("the challenge vanished"))?;
    let mut reply = Reply::json(StatusCode::OK, &challenge_object(ctx, authz.id, challenge))?
        .with_link(&ctx.urls.authz(authz.id), "up");
    if challenge.status == ChallengeStatus::Processing {
        reply = reply.with_retry_after(ctx.retry_after());
    }
    Ok(reply)
}

/// Starts the validation of an authorization's processing challenge unless this
/// process is already validating it.
pub(crate) fn ensure_running(shared: &Arc<Shared>, authz: &AuthzRecord) {
    if authz.status != AuthzStatus::Pending {
        return;
    }
    if let Some(challenge) = authz
        .challenges
        .iter()
        .find(|c| c.status == ChallengeStatus::Processing)
    {
        start_validation(shared, authz.id, challenge.kind);
    }
}

fn start_validation(shared: &Arc<Shared>, authz_id: u64, kind: ChallengeType) {
    if !shared
        .validating
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(authz_id)
    {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!(authz_id, "no tokio runtime to validate a challenge on");
        shared
            .validating
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&authz_id);
        return;
    };
    let shared = shared.clone();
    runtime.spawn(async move {
        if let Err(e) = validate(&shared, authz_id, kind).await {
            tracing::error!(authz_id, error = %e, "challenge validation could not be recorded");
        }
        shared
            .validating
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&authz_id);
    });
}

async fn validate(
    shared: &Arc<Shared>,
    authz_id: u64,
    kind: ChallengeType,
) -> Result<(), StoreError> {
    let reader = shared.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let Some(authz) = reader.records.authz(authz_id)? else {
            return Ok(None);
        };
        Ok::<_, StoreError>(reader.records.account(authz.account)?.map(|a| (authz, a)))
    })
    .await
    .map_err(|e| StoreError::Engine(e.to_string()))??;
    let Some((authz, account)) = loaded else {
        return Ok(());
    };
    let Some(challenge) = authz
        .challenge(kind)
        .filter(|c| c.status == ChallengeStatus::Processing)
    else {
        return Ok(());
    };
    let identifier = authz.identifier.validation_identifier();
    // The key authorization binds the token to the account's key as it is now.
    let key_authorization = format!("{}.{}", challenge.token, account.key.thumbprint());
    let outcome = shared
        .validator
        .validate(ChallengeAttempt {
            kind: kind.kind(),
            identifier: &identifier,
            token: &challenge.token,
            key_authorization: &key_authorization,
        })
        .await;
    tracing::info!(
        authz_id,
        challenge = kind.name(),
        ok = outcome.is_ok(),
        "challenge validated"
    );
    let writer = shared.clone();
    tokio::task::spawn_blocking(move || record_outcome(&writer, authz_id, kind, outcome))
        .await
        .map_err(|e| StoreError::Engine(e.to_string()))?
}

/// Records a validation's outcome: the challenge and its authorization turn valid or invalid.
fn record_outcome(
    shared: &Shared,
    authz_id: u64,
    kind: ChallengeType,
    outcome: Result<ValidationRecord, ValidationError>,
) -> Result<(), StoreError> {
    let records = &shared.records;
    let _guard = records.lock(LockKind::Authz, authz_id);
    let Some(mut authz) = records.authz(authz_id)? else {
        return Ok(());
    };
    // Deactivated meanwhile: the outcome no longer matters.
    if authz.status != AuthzStatus::Pending {
        return Ok(());
    }
    let now = now();
    let valid_for =
        (shared.config.authorization_reuse().as_secs() as i64).max(MIN_VALID_AUTHZ_SECS);
    let Some(challenge) = authz
        .challenge_mut(kind)
        .filter(|c| c.status == ChallengeStatus::Processing)
    else {
        return Ok(());
    };
    let valid = outcome.is_ok();
    match outcome {
        Ok(record) => {
            challenge.status = ChallengeStatus::Valid;
            challenge.validated = Some(now);
            challenge.validation_record = Some(ValidationRecordObject {
                url: record.url,
                hostname: record.hostname,
                port: record.port.map(|p| p.to_string()),
                addresses_resolved: record
                    .addresses_resolved
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                address_used: record.address_used.map(|a| a.to_string()),
            });
        }
        Err(error) => {
            challenge.status = ChallengeStatus::Invalid;
            let kind =
                ProblemType::from_name(error.acme_type()).unwrap_or(ProblemType::Unauthorized);
            challenge.error = Some(Problem::new(kind, error.to_string()).document());
        }
    }
    if valid {
        authz.status = AuthzStatus::Valid;
        authz.expires = now + valid_for;
    } else {
        authz.status = AuthzStatus::Invalid;
    }
    let mut batch = WriteBatch::new();
    records.put_authz(&mut batch, &authz, false)?;
    records.write(batch)
}
