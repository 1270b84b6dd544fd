//! Orders (RFC 8555 §7.4): newOrder with its policy checks, and reading an
//! order, whose status follows its authorizations until it is finalized and
//! its RA request after.

use std::collections::BTreeSet;

use ca_core::names::SubjectAltName;
use ca_core::profile::CertificateProfile;
use ca_core::store::WriteBatch;
use http::StatusCode;
use policy::names::check_names;

use super::{challenge, finalize, not_yours, now, rfc3339, Ctx, Reply};
use crate::limits::Limit;
use crate::records::{
    AccountRecord, AcmeIdentifier, AuthzRecord, AuthzStatus, ChallengeRecord, ChallengeStatus,
    OrderPhase, OrderRecord,
};
use crate::wire::jws::SignedRequest;
use crate::wire::objects::{IdentifierObject, NewOrderPayload, OrderObject};
use crate::wire::problem::{Problem, ProblemDocument, ProblemType, Subproblem};

/// Identifiers per order, whatever the profile allows.
const MAX_IDENTIFIERS: usize = 100;
/// How long a new order (and a new authorization) may take to be completed.
const ORDER_LIFETIME_SECS: i64 = 7 * 86_400;

/// A fresh random token (challenge tokens: 128 bits, base64url).
pub(crate) fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    // The system CSPRNG does not fail where we run; zeros would only make a guessable token.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn shown(object: &IdentifierObject) -> IdentifierObject {
    IdentifierObject {
        kind: object.kind.chars().take(16).collect(),
        value: object.value.chars().take(256).collect(),
    }
}

/// Why the profile refuses a name, if it does.
fn profile_refuses(profile: &CertificateProfile, san: &SubjectAltName) -> Option<String> {
    if !profile.san_types.contains(&san.kind()) {
        Some(format!(
            "the profile '{}' does not allow {} names",
            profile.name,
            san.kind()
        ))
    } else if san.is_wildcard() && !profile.allow_wildcards {
        Some(format!(
            "the profile '{}' does not allow wildcards",
            profile.name
        ))
    } else {
        None
    }
}

/// Validates the identifiers of a new order against the endpoint's profile and the
/// names delegated to the account's organization / department; every refusal is a
/// subproblem naming its identifier.
fn check_identifiers(
    ctx: &Ctx<'_>,
    account: &AccountRecord,
    objects: &[IdentifierObject],
) -> Result<Vec<AcmeIdentifier>, Problem> {
    if objects.is_empty() {
        return Err(Problem::malformed("an order needs at least one identifier"));
    }
    if objects.len() > MAX_IDENTIFIERS {
        return Err(Problem::new(
            ProblemType::RejectedIdentifier,
            format!("at most {MAX_IDENTIFIERS} identifiers per order"),
        ));
    }
    let ra = &ctx.shared.ra;
    let profile = ra
        .ca()
        .profile(&ctx.endpoint.profile)
        .map_err(Problem::internal)?;
    let delegations = ra
        .delegations_usable_by(account.org, account.dept)
        .map_err(Problem::internal)?;
    let mut subproblems = Vec::new();
    let mut identifiers = BTreeSet::new();
    for object in objects {
        let mut refuse = |kind, detail: String| {
            subproblems.push(Subproblem {
                kind,
                detail,
                identifier: shown(object),
            })
        };
        let identifier = match AcmeIdentifier::parse(object) {
            Ok(identifier) => identifier,
            Err((kind, detail)) => {
                refuse(kind, detail);
                continue;
            }
        };
        let san = identifier.san();
        if let Some(reason) = profile_refuses(profile, &san) {
            refuse(ProblemType::RejectedIdentifier, reason);
        } else if let Err(e) = check_names(
            std::slice::from_ref(&san),
            account.org,
            account.dept,
            &delegations,
        ) {
            refuse(ProblemType::RejectedIdentifier, e.to_string());
        } else {
            identifiers.insert(identifier);
        }
    }
    if !subproblems.is_empty() {
        let first = subproblems[0].kind;
        let kind = if subproblems.iter().all(|s| s.kind == first) {
            first
        } else if subproblems
            .iter()
            .any(|s| s.kind == ProblemType::RejectedIdentifier)
        {
            ProblemType::RejectedIdentifier
        } else {
            ProblemType::Malformed
        };
        let detail = format!(
            "{} of the order's identifiers cannot be issued for: {}",
            subproblems.len(),
            subproblems
                .iter()
                .map(|s| format!("{} ({})", s.identifier.value, s.detail))
                .collect::<Vec<_>>()
                .join("; ")
        );
        return Err(Problem::new(kind, detail).with_subproblems(subproblems));
    }
    if identifiers.len() > profile.max_sans {
        return Err(Problem::new(
            ProblemType::RejectedIdentifier,
            format!(
                "{} identifiers; the profile '{}' allows at most {}",
                identifiers.len(),
                profile.name,
                profile.max_sans
            ),
        ));
    }
    Ok(identifiers.into_iter().collect())
}

fn new_authz(
    ctx: &Ctx<'_>,
    account: u64,
    identifier: &AcmeIdentifier,
    now: i64,
) -> Result<AuthzRecord, Problem> {
    Ok(AuthzRecord {
        id: ctx.shared.records.next_authz_id()?,
        account,
        identifier: identifier.clone(),
        status: AuthzStatus::Pending,
        expires: now + ORDER_LIFETIME_SECS,
        challenges: identifier
            .challenge_types()
            .iter()
            .map(|kind| ChallengeRecord {
                kind: *kind,
                token: random_token(),
                status: ChallengeStatus::Pending,
                validated: None,
                error: None,
                validation_record: None,
            })
            .collect(),
        created_at: now,
    })
}

/// newOrder.
pub(crate) fn new_order(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    let payload: NewOrderPayload = jws.payload_json()?;
    if payload.not_before.is_some() || payload.not_after.is_some() {
        return Err(Problem::malformed(
            "notBefore and notAfter are not supported: the certificate profile decides the validity",
        ));
    }
    if let Some(profile) = &payload.profile {
        if *profile != ctx.endpoint.profile {
            return Err(Problem::malformed(format!(
                "this endpoint issues with the profile '{}' only",
                ctx.endpoint.profile
            )));
        }
    }
    let identifiers = check_identifiers(ctx, &account, &payload.identifiers)?;
    let replaces = payload
        .replaces
        .as_deref()
        .map(|text| super::renewal_info::replaced_certificate(ctx, &account, text, &identifiers))
        .transpose()?;
    let limits = &ctx.shared.config.rate_limits;
    ctx.charge(&[
        (
            Limit::OrdersPerAccount,
            account.id,
            limits.new_orders_per_account_per_hour,
        ),
        (
            Limit::OrdersPerEndpoint,
            ctx.endpoint.id.0,
            limits.new_orders_per_endpoint_per_hour,
        ),
    ])?;

    let records = &ctx.shared.records;
    let now = now();
    let reuse = ctx.shared.config.authorization_reuse().as_secs() as i64;
    let mut batch = WriteBatch::new();
    let mut authorizations = Vec::with_capacity(identifiers.len());
    let mut expires = now + ORDER_LIFETIME_SECS;
    for identifier in &identifiers {
        let reused = if reuse > 0 {
            records.reusable_authz(account.id, identifier, now - reuse, now)?
        } else {
            None
        };
        let authz = match reused {
            Some(authz) => authz,
            None => {
                let authz = new_authz(ctx, account.id, identifier, now)?;
                records.put_authz(&mut batch, &authz, true)?;
                authz
            }
        };
        expires = expires.min(authz.expires);
        authorizations.push(authz.id);
    }
    let order = OrderRecord {
        id: records.next_order_id()?,
        account: account.id,
        identifiers,
        authorizations,
        expires,
        replaces,
        phase: OrderPhase::Authorizing,
        created_at: now,
    };
    records.put_order(&mut batch, &order, true)?;
    records.write(batch)?;
    Ok(order_reply(ctx, &order, StatusCode::CREATED)?.with_location(ctx.urls.order(order.id)))
}

/// An order of the account, or 404.
pub(crate) fn owned_order(
    ctx: &Ctx<'_>,
    account: &AccountRecord,
    id: u64,
) -> Result<OrderRecord, Problem> {
    ctx.shared
        .records
        .order(id)?
        .filter(|o| o.account == account.id)
        .ok_or_else(|| not_yours("the order"))
}

/// An order's status as of now, and its error.
pub(crate) struct OrderState {
    pub status: &'static str,
    pub error: Option<ProblemDocument>,
}

/// Works out an order's status: an order still authorizing is pending until every
/// authorization is valid (then ready), and invalid as soon as one fails or it expires.
pub(crate) fn evaluate(ctx: &Ctx<'_>, order: &OrderRecord) -> Result<OrderState, Problem> {
    let (status, error) = match &order.phase {
        OrderPhase::Processing { .. } => ("processing", None),
        OrderPhase::Valid { .. } => ("valid", None),
        OrderPhase::Invalid { error } => ("invalid", Some(error.clone())),
        OrderPhase::Authorizing => {
            let now = now();
            let mut all_valid = true;
            let mut failure = None;
            for id in &order.authorizations {
                let authz = ctx
                    .shared
                    .records
                    .authz(*id)?
                    .ok_or_else(|| Problem::internal(format!("authorization {id} vanished")))?;
                // A validation interrupted by a restart starts again when its order is read.
                challenge::ensure_running(ctx.shared, &authz);
                match authz.status_at(now) {
                    "valid" => {}
                    "pending" => all_valid = false,
                    other => {
                        let name = authz.identifier.order_object().value;
                        // A failed challenge says best why: its type, with the name in front.
                        let error = match authz.challenges.iter().find_map(|c| c.error.as_ref()) {
                            Some(cause) => ProblemDocument {
                                detail: format!(
                                    "the authorization for {name} is {other}: {}",
                                    cause.detail
                                ),
                                ..cause.clone()
                            },
                            None => Problem::unauthorized(format!(
                                "the authorization for {name} is {other}"
                            ))
                            .document(),
                        };
                        failure.get_or_insert(error);
                    }
                }
            }
            match failure {
                Some(error) => ("invalid", Some(error)),
                None if order.expires <= now => (
                    "invalid",
                    Some(
                        Problem::malformed("the order expired before it was finalized").document(),
                    ),
                ),
                None if all_valid => ("ready", None),
                None => ("pending", None),
            }
        }
    };
    Ok(OrderState { status, error })
}

/// The order as JSON, with Retry-After while it is processing.
pub(crate) fn order_reply(
    ctx: &Ctx<'_>,
    order: &OrderRecord,
    status: StatusCode,
) -> Result<Reply, Problem> {
    let state = evaluate(ctx, order)?;
    let certificate = match order.phase {
        OrderPhase::Valid { certificate } => Some(ctx.urls.certificate(certificate)),
        _ => None,
    };
    let object = OrderObject {
        status: state.status,
        expires: rfc3339(order.expires),
        identifiers: order
            .identifiers
            .iter()
            .map(AcmeIdentifier::order_object)
            .collect(),
        authorizations: order
            .authorizations
            .iter()
            .map(|a| ctx.urls.authz(*a))
            .collect(),
        finalize: ctx.urls.finalize(order.id),
        certificate,
        error: state.error,
        replaces: order.replaces.as_ref().map(|r| r.cert_id.clone()),
    };
    let reply = Reply::json(status, &object)?;
    Ok(if state.status == "processing" {
        reply.with_retry_after(ctx.retry_after())
    } else {
        reply
    })
}

/// POST-as-GET an order; one waiting for approval asks the RA how its request stands.
pub(crate) fn order(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    jws.require_post_as_get()?;
    let order = owned_order(ctx, &account, id)?;
    let order = finalize::follow(ctx, order)?;
    order_reply(ctx, &order, StatusCode::OK)
}
