//! finalize (RFC 8555 §7.4): the CSR is checked against the order, then
//! handed to the RA as one enrollment request. An endpoint that
//! auto-approves issues at once (the order is valid); one with an approval
//! queue leaves the order processing, and every read of the order follows
//! its RA request ([`follow`]) until an administrator approves or declines.

use std::collections::BTreeSet;
use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ca_core::csr::VerifiedCsr;
use ca_core::names::SubjectAltName;
use ca_core::profile::SubjectAttribute;
use ca_core::store::WriteBatch;
use http::StatusCode;
use policy::audit::AuditEvent;
use policy::registry::{RaError, Requester, Submission};
use policy::request::{CertificateRequest, Channel, RequestState};

use super::order::{evaluate, order_reply, owned_order};
use super::{Ctx, Reply};
use crate::records::{
    AccountRecord, AcmeIdentifier, CertificateLink, LockKind, OrderPhase, OrderRecord,
};
use crate::wire::jws::SignedRequest;
use crate::wire::objects::{FinalizePayload, IdentifierObject};
use crate::wire::problem::{Problem, ProblemType, Subproblem};

fn bad_csr(detail: impl Into<String>) -> Problem {
    Problem::new(ProblemType::BadCsr, detail)
}

fn identifier_of(name: &SubjectAltName) -> IdentifierObject {
    match AcmeIdentifier::from_san(name) {
        Some(identifier) => identifier.order_object(),
        None => IdentifierObject {
            kind: name.kind().to_string(),
            value: name.value(),
        },
    }
}

/// The names a CSR asks for: its subjectAltNames and its common name (RFC 8555 §7.4
/// lets a DNS name appear in either).
fn csr_names(csr: &VerifiedCsr) -> Result<BTreeSet<SubjectAltName>, Problem> {
    let mut names: BTreeSet<SubjectAltName> = csr.requested_names().iter().cloned().collect();
    if let Some(cn) = csr.subject_attribute(SubjectAttribute::CommonName) {
        let name = match cn.parse::<IpAddr>() {
            Ok(ip) => SubjectAltName::Ip(ip),
            Err(_) => SubjectAltName::dns(cn).map_err(|_| {
                bad_csr("the CSR's common name is neither a DNS name nor an IP address")
            })?,
        };
        names.insert(name);
    }
    Ok(names)
}

/// Compares the CSR's names with the order's, with a subproblem per difference.
fn check_csr_names(csr: &VerifiedCsr, wanted: &BTreeSet<SubjectAltName>) -> Result<(), Problem> {
    let asked = csr_names(csr)?;
    if asked == *wanted {
        return Ok(());
    }
    let missing = wanted.difference(&asked).map(|n| Subproblem {
        kind: ProblemType::BadCsr,
        detail: format!(
            "the order has {} but the CSR does not ask for it",
            n.value()
        ),
        identifier: identifier_of(n),
    });
    let extra = asked.difference(wanted).map(|n| Subproblem {
        kind: ProblemType::BadCsr,
        detail: format!(
            "the CSR asks for {} but the order does not have it",
            n.value()
        ),
        identifier: identifier_of(n),
    });
    let subproblems: Vec<Subproblem> = missing.chain(extra).collect();
    Err(bad_csr(format!(
        "the CSR must ask for exactly the order's identifiers ({})",
        wanted
            .iter()
            .map(|n| n.value())
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .with_subproblems(subproblems))
}

/// The problem an RA request that will not issue leaves its order with.
fn failure_of(request: &CertificateRequest) -> Option<Problem> {
    let last = request.history.last();
    let reason = last.map(|t| t.reason.clone()).unwrap_or_default();
    let because = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    match request.state {
        RequestState::Declined => Some(Problem::unauthorized(format!(
            "the certificate request was declined by {}{because}",
            last.map(|t| t.actor.as_str()).unwrap_or("an administrator")
        ))),
        RequestState::Invalid => Some(bad_csr(format!(
            "the certificate request is invalid{because}"
        ))),
        RequestState::Rejected => Some(Problem::new(
            ProblemType::ServerInternal,
            format!("the CA refused to issue{because}"),
        )),
        _ => None,
    }
}

/// Moves an order along with its RA request; returns whether it changed.
fn apply(order: &mut OrderRecord, request: &CertificateRequest) -> bool {
    let phase = match (&request.state, failure_of(request)) {
        (_, Some(problem)) => OrderPhase::Invalid {
            error: problem.document(),
        },
        (state, None) => match state.certificate() {
            Some(certificate) => OrderPhase::Valid { certificate },
            None => OrderPhase::Processing {
                request: request.id,
            },
        },
    };
    let changed = phase != order.phase;
    order.phase = phase;
    changed
}

/// Adds an order in its new phase to a batch, with the certificate's link once valid.
fn put_order(ctx: &Ctx<'_>, batch: &mut WriteBatch, order: &OrderRecord) -> Result<(), Problem> {
    let records = &ctx.shared.records;
    records.put_order(batch, order, false)?;
    if let OrderPhase::Valid { certificate } = order.phase {
        records.put_certificate_link(
            batch,
            certificate,
            &CertificateLink {
                account: order.account,
                order: order.id,
            },
        )?;
    }
    Ok(())
}

/// Brings an order waiting for approval up to date with its RA request.
pub(crate) fn follow(ctx: &Ctx<'_>, order: OrderRecord) -> Result<OrderRecord, Problem> {
    if !matches!(order.phase, OrderPhase::Processing { .. }) {
        return Ok(order);
    }
    let records = &ctx.shared.records;
    let _guard = records.lock(LockKind::Order, order.id);
    let mut order = records
        .order(order.id)?
        .ok_or_else(|| Problem::internal("the order vanished"))?;
    let OrderPhase::Processing { request } = order.phase else {
        return Ok(order);
    };
    let request = ctx
        .shared
        .ra
        .request_internal(request)
        .map_err(Problem::internal)?;
    if apply(&mut order, &request) {
        let mut batch = WriteBatch::new();
        put_order(ctx, &mut batch, &order)?;
        records.write(batch)?;
    }
    Ok(order)
}

/// finalize.
pub(crate) fn finalize(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    let payload: FinalizePayload = jws.payload_json()?;
    let records = &ctx.shared.records;
    let _guard = records.lock(LockKind::Order, id);
    let mut order = owned_order(ctx, &account, id)?;
    let state = evaluate(ctx, &order)?;
    if state.status != "ready" {
        return Err(Problem::new(
            ProblemType::OrderNotReady,
            format!("the order is {}, not ready", state.status),
        ));
    }
    let der = URL_SAFE_NO_PAD
        .decode(payload.csr.trim_end_matches('='))
        .map_err(|_| bad_csr("the CSR is not base64url"))?;
    let csr = VerifiedCsr::from_der(&der).map_err(|e| bad_csr(e.to_string()))?;
    let names: Vec<SubjectAltName> = order.identifiers.iter().map(|i| i.san()).collect();
    check_csr_names(&csr, &names.iter().cloned().collect())?;
    if account.key.matches_spki(csr.spki_der()) {
        return Err(bad_csr("the certificate key must not be the account key"));
    }
    let ra = &ctx.shared.ra;

    let account_url = ctx.urls.account(account.id);
    let replaced = order.replaces.as_ref().map(|r| r.certificate);
    let request = ra
        .submit_verified(
            Requester::Endpoint {
                endpoint: &ctx.endpoint,
                identity: &account_url,
            },
            Submission {
                // submit_verified takes the CSR already verified above.
                csr: Vec::new(),
                profile: ctx.endpoint.profile.clone(),
                org: ctx.endpoint.org,
                dept: ctx.endpoint.dept,
                term_days: None,
                names: Some(names),
                channel: Channel::Acme,
                renewal_of: replaced,
                replaces: replaced.is_some(),
                annotations: Default::default(),
            },
            csr,
        )
        .map_err(|e| match e {
            // What the profile refuses (a key type, a key size, ...): badCSR, and the order
            // stays ready for another CSR (the RA has recorded the request as Invalid).
            RaError::RefusedByProfile { error, .. } => bad_csr(error.to_string()),
            RaError::InvalidInput(reason) => bad_csr(reason),
            RaError::Forbidden(denied) => Problem::unauthorized(denied.to_string()),
            RaError::NotFound(what) => {
                Problem::malformed(format!("{what} (named by replaces) is gone"))
            }
            other => Problem::internal(other),
        })?;
    apply(&mut order, &request);
    let mut batch = WriteBatch::new();
    put_order(ctx, &mut batch, &order)?;
    ra.audit_log().commit_with(
        batch,
        AuditEvent::success(
            &ctx.actor(account.id),
            "acme.order.finalize",
            &format!("acme-order:{id}"),
            format!("{}: {}", request.id.label(), request.state.name()),
        ),
    )?;
    Ok(order_reply(ctx, &order, StatusCode::OK)?.with_location(ctx.urls.order(id)))
}
