//! The request state machine through the registration authority: illegal
//! transitions, decline-then-approve, the three ways a submission is approved
//! or queued, name policy, profile refusals, racing approvals, renewal,
//! replacement, and external certificates.

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;

use ca_core::certificates::CertificateStatus;
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceError;
use ca_core::keys::KeyAlgorithm;
use ca_core::names::SubjectAltName;
use ca_core::revocation::RevocationReason;
use ca_core::store::{KeyBuilder, Table, WriteBatch};
use common::*;
use policy::model::*;
use policy::registry::{CertificateFilter, NewEndpoint, RaError, RequestFilter, Requester};
use policy::request::{CertificateRequest, Channel, IllegalTransition, RequestState, StateName};

/// One organization "Org A" with departments A1 and A2, `a.example.com` delegated to it.
struct Org {
    a: OrgId,
    a1: DeptId,
    a2: DeptId,
}

fn org_a(env: &Env) -> Org {
    let a = org(env, "Org A");
    let a1 = dept(env, a, "A1");
    let a2 = dept(env, a, "A2");
    delegate(env, "a.example.com", a, None);
    Org { a, a1, a2 }
}

fn tls(names: &[&str], org: &Org) -> policy::registry::Submission {
    submission(csr(names), "tls-server", org.a, None)
}

/// An RAO of the organization holding only `privileges` on tls-server.
fn rao(env: &Env, name: &str, org: &Org, privileges: &[Privilege]) -> Administrator {
    admin(
        env,
        name,
        Role::Rao {
            orgs: BTreeSet::from([org.a]),
        },
        Privileges(
            [(
                CertificateClass::TlsServer,
                privileges.iter().copied().collect(),
            )]
            .into_iter()
            .collect(),
        ),
    )
    .0
}

fn issued_by_mrao(env: &Env, org: &Org, name: &str) -> CertificateRequest {
    let request = env
        .ra
        .submit(Requester::Admin(&env.mrao), tls(&[name], org))
        .expect("submit");
    assert_eq!(request.state.name(), StateName::Issued, "{request:?}");
    request
}

fn assert_illegal<T: std::fmt::Debug>(
    result: Result<T, RaError>,
    from: StateName,
    to: StateName,
    what: &str,
) {
    match result {
        Err(RaError::IllegalTransition(IllegalTransition { from: f, to: t })) => {
            assert_eq!((f, t), (from, to), "{what}");
        }
        other => panic!("{what}: expected IllegalTransition {from} -> {to}, got {other:?}"),
    }
}

/// Tries approve, decline and edit on a request that is not Requested; each must be
/// refused and leave the request exactly as it was.
fn assert_frozen(env: &Env, id: RequestId, state: StateName) {
    let before = env.ra.request_internal(id).expect("request");
    assert_eq!(before.state.name(), state);
    assert_ne!(
        state,
        StateName::Declined,
        "a declined request can be approved; assert_frozen is not for it"
    );
    let approve = env.ra.approve(&env.mrao, id, "try approve");
    assert_illegal(
        approve,
        state,
        StateName::Approved,
        &format!("approve {state}"),
    );
    assert_illegal(
        env.ra.decline(&env.mrao, id, "try decline"),
        state,
        StateName::Declined,
        &format!("decline {state}"),
    );
    assert_illegal(
        env.ra.edit_request(&env.mrao, id, Some(90)),
        state,
        StateName::Requested,
        &format!("edit {state}"),
    );
    let after = env.ra.request_internal(id).expect("request");
    assert_eq!(after, before, "a refused transition changed the request");
}

/// The request table, to stage a state the API never stores (Approved is transient:
/// approval and issuance commit together).
const REQUESTS: Table<CertificateRequest> = Table::new("ra_requests");

// ------------------------------------------------------------------ illegal transitions

#[test]
fn every_illegal_transition_is_refused() {
    let env = setup_with(Options {
        offline_profile: true,
    });
    let org = org_a(&env);
    let ra = &env.ra;

    // Issued.
    let issued = issued_by_mrao(&env, &org, "issued.a.example.com");
    assert_frozen(&env, issued.id, StateName::Issued);

    // Invalid (a name outside the delegations).
    let invalid = ra
        .submit(
            Requester::Admin(&env.mrao),
            tls(&["www.c.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(invalid.state, RequestState::Invalid);
    assert_frozen(&env, invalid.id, StateName::Invalid);

    // Rejected (the profile's CA does not hold its key, so the CA refuses to sign).
    let rejected = ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(
                csr(&["offline.a.example.com"]),
                OFFLINE_PROFILE,
                org.a,
                None,
            ),
        )
        .expect("submit");
    assert_eq!(rejected.state, RequestState::Rejected, "{rejected:?}");
    let last = rejected.history.last().expect("history");
    assert_eq!(
        (last.from, last.to, last.actor.as_str()),
        (Some(StateName::Approved), StateName::Rejected, "ca")
    );
    assert!(!last.reason.is_empty(), "a rejection says why");
    assert_frozen(&env, rejected.id, StateName::Rejected);

    // Declined: declining again and editing are refused (approving is legal, tested below).
    let requester = rao(&env, "requester", &org, &[Privilege::Request]);
    let queued = ra
        .submit(
            Requester::Admin(&requester),
            tls(&["q.a.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(queued.state, RequestState::Requested);
    ra.decline(&env.mrao, queued.id, "no").expect("decline");
    assert_illegal(
        ra.decline(&env.mrao, queued.id, "no again"),
        StateName::Declined,
        StateName::Declined,
        "decline a declined request",
    );
    assert_illegal(
        ra.edit_request(&env.mrao, queued.id, Some(90)),
        StateName::Declined,
        StateName::Requested,
        "edit a declined request",
    );

    // Approved (staged in the store: the API never leaves a request there).
    let staged = ra
        .submit(
            Requester::Admin(&requester),
            tls(&["s.a.example.com"], &org),
        )
        .expect("submit");
    let mut approved = staged.clone();
    approved
        .transition(RequestState::Approved, "staging", 0, "staged")
        .expect("requested -> approved");
    let mut batch = WriteBatch::new();
    REQUESTS
        .put(
            &mut batch,
            &KeyBuilder::new().u64(staged.id.0).build(),
            &approved,
        )
        .expect("encode");
    ra.ca()
        .certificates()
        .store()
        .write(batch)
        .expect("stage Approved");
    assert_frozen(&env, staged.id, StateName::Approved);

    // Revoked: revoking twice is refused with the CA's AlreadyRevoked, reported as illegal_transition.
    let revoked = issued_by_mrao(&env, &org, "revoked.a.example.com");
    let cert = revoked.state.certificate().expect("certificate");
    ra.revoke(&env.mrao, cert, RevocationReason::KeyCompromise, "leaked")
        .expect("revoke");
    let request = ra.request_internal(revoked.id).expect("request");
    assert_eq!(request.state, RequestState::Revoked { certificate: cert });
    let last = request.history.last().expect("history");
    assert_eq!(last.actor, "root-admin");
    assert!(last.reason.contains("leaked"), "{last:?}");
    let again = ra.revoke(&env.mrao, cert, RevocationReason::KeyCompromise, "again");
    match &again {
        Err(e) => assert_eq!(e.code(), "illegal_transition", "{e:?}"),
        Ok(r) => panic!("revoked twice: {r:?}"),
    }
    assert_eq!(
        ra.request_internal(revoked.id).expect("request"),
        request,
        "the second revocation changed the request"
    );
    assert_frozen(&env, revoked.id, StateName::Revoked);

    // Replaced.
    let old = issued_by_mrao(&env, &org, "old.a.example.com");
    let old_cert = old.state.certificate().expect("certificate");
    let renewal = ra
        .renew(&env.mrao, old_cert, Some(csr(&["old.a.example.com"])), true)
        .expect("replace");
    assert_eq!(renewal.state.name(), StateName::Issued);
    assert_frozen(&env, old.id, StateName::Replaced);

    // Nothing a refusal did broke the audit chain.
    assert!(matches!(ra.verify_audit(&env.mrao), Ok(Ok(_))));
}

#[test]
fn expired_requests_refuse_every_transition() {
    let env = setup();
    let org = org_a(&env);
    let request = issued_by_mrao(&env, &org, "soon.a.example.com");
    let cert = request.state.certificate().expect("certificate");
    let not_after = env
        .ra
        .ca()
        .certificates()
        .get(cert)
        .unwrap()
        .unwrap()
        .not_after;
    assert_eq!(env.ra.sweep_expired(not_after - 10).expect("sweep"), 0);
    assert_eq!(env.ra.sweep_expired(not_after + 1).expect("sweep"), 1);
    let expired = env.ra.request_internal(request.id).expect("request");
    assert_eq!(expired.state, RequestState::Expired { certificate: cert });
    assert_eq!(
        env.ra.sweep_expired(not_after + 1).expect("sweep"),
        0,
        "once only"
    );
    assert_frozen(&env, request.id, StateName::Expired);
}

// ------------------------------------------------------------------ decline, then approve

#[test]
fn a_declined_request_approved_later_issues() {
    let env = setup();
    let org = org_a(&env);
    let requester = rao(&env, "requester", &org, &[Privilege::Request]);
    let approver = rao(
        &env,
        "approver",
        &org,
        &[Privilege::Request, Privilege::Approve],
    );
    let ra = &env.ra;

    let queued = ra
        .submit(
            Requester::Admin(&requester),
            tls(&["later.a.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(queued.state, RequestState::Requested);
    let declined = ra
        .decline(&approver, queued.id, "no change ticket")
        .expect("decline");
    assert_eq!(declined.state, RequestState::Declined);
    assert!(ra
        .certificates(&env.mrao, &CertificateFilter::default(), 0, 100)
        .unwrap()
        .iter()
        .all(|c| c.owner.request != Some(queued.id)));

    let issued = ra
        .approve(&env.mrao, queued.id, "ticket CHG-42 attached")
        .expect("approve after decline");
    let cert = match issued.state {
        RequestState::Issued { certificate } => certificate,
        other => panic!("expected Issued, got {other:?}"),
    };
    assert_eq!(ra.request_internal(queued.id).unwrap(), issued, "stored");

    let steps: Vec<(Option<StateName>, StateName, &str, &str)> = issued
        .history
        .iter()
        .map(|t| (t.from, t.to, t.actor.as_str(), t.reason.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, StateName::Requested, "requester", ""),
            (
                Some(StateName::Requested),
                StateName::Declined,
                "approver",
                "no change ticket"
            ),
            (
                Some(StateName::Declined),
                StateName::Approved,
                "root-admin",
                "ticket CHG-42 attached"
            ),
            (
                Some(StateName::Approved),
                StateName::Issued,
                "root-admin",
                ""
            ),
        ]
    );
    assert!(issued.history.windows(2).all(|w| w[0].at <= w[1].at));

    let owned = ra.certificate(&env.mrao, cert).expect("certificate");
    assert_eq!(owned.owner.request, Some(queued.id));
    assert_eq!(owned.owner.org, org.a);
    assert!(!owned.owner.external);
    assert_eq!(
        owned.record.names,
        vec![SubjectAltName::dns("later.a.example.com").unwrap()]
    );
    assert_eq!(owned.record.status, CertificateStatus::Issued);
}

// ------------------------------------------------------------------ approved at once, or queued

#[test]
fn a_request_is_approved_at_once_only_when_its_requester_or_endpoint_may() {
    let env = setup();
    let org = org_a(&env);
    let ra = &env.ra;

    // An administrator who may approve: issued at once.
    let approver = rao(
        &env,
        "approver",
        &org,
        &[Privilege::Request, Privilege::Approve],
    );
    let r = ra
        .submit(
            Requester::Admin(&approver),
            tls(&["self.a.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(r.state.name(), StateName::Issued);
    let steps: Vec<(Option<StateName>, StateName, &str)> = r
        .history
        .iter()
        .map(|t| (t.from, t.to, t.actor.as_str()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (None, StateName::Requested, "approver"),
            (Some(StateName::Requested), StateName::Approved, "approver"),
            (Some(StateName::Approved), StateName::Issued, "approver"),
        ]
    );

    // A DRAO who may approve in their department: issued at once there.
    let drao = admin(
        &env,
        "drao",
        Role::Drao {
            depts: BTreeSet::from([org.a1]),
        },
        Privileges::all(),
    )
    .0;
    let r = ra
        .submit(
            Requester::Admin(&drao),
            submission(csr(&["d.a.example.com"]), "tls-server", org.a, Some(org.a1)),
        )
        .expect("submit");
    assert_eq!(r.state.name(), StateName::Issued);
    assert_eq!((r.org, r.dept), (org.a, Some(org.a1)));

    // Approve on another class does not count.
    let device_approver = admin(
        &env,
        "device-approver",
        Role::Rao {
            orgs: BTreeSet::from([org.a]),
        },
        Privileges(
            [
                (
                    CertificateClass::TlsServer,
                    BTreeSet::from([Privilege::Request]),
                ),
                (
                    CertificateClass::Device,
                    BTreeSet::from([Privilege::Approve]),
                ),
            ]
            .into_iter()
            .collect(),
        ),
    )
    .0;
    let r = ra
        .submit(
            Requester::Admin(&device_approver),
            tls(&["other.a.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(r.state, RequestState::Requested);

    // A requester without approve: queued.
    let requester = rao(&env, "requester", &org, &[Privilege::Request]);
    let queued = ra
        .submit(
            Requester::Admin(&requester),
            tls(&["wait.a.example.com"], &org),
        )
        .expect("submit");
    assert_eq!(queued.state, RequestState::Requested);
    assert_eq!(queued.history.len(), 1);
    let waiting = ra
        .requests(
            &env.mrao,
            &RequestFilter {
                status: Some(StateName::Requested),
                ..Default::default()
            },
            0,
            100,
        )
        .expect("queue");
    assert!(waiting.iter().any(|w| w.id == queued.id));
    assert!(waiting.iter().all(|w| w.state == RequestState::Requested));

    // An auto-approve endpoint: issued at once.
    let auto = rest_endpoint(
        &env,
        "auto",
        org.a,
        Some(org.a2),
        "tls-server",
        ApprovalMode::Auto,
    );
    let r = ra
        .submit(
            Requester::Endpoint {
                endpoint: &auto,
                identity: "client-1",
            },
            // The endpoint decides owner and profile, whatever the submission says.
            submission(csr(&["auto.a.example.com"]), "device", OrgId(999), None),
        )
        .expect("submit");
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    assert_eq!(r.requester, "auto:client-1");
    assert_eq!(r.endpoint, Some(auto.id));
    assert_eq!(
        (r.org, r.dept, r.profile.as_str()),
        (org.a, Some(org.a2), "tls-server")
    );

    // A queue endpoint: waits.
    let queue = rest_endpoint(
        &env,
        "queue",
        org.a,
        None,
        "tls-server",
        ApprovalMode::Queue,
    );
    let r = ra
        .submit(
            Requester::Endpoint {
                endpoint: &queue,
                identity: "client-2",
            },
            submission(csr(&["queued.a.example.com"]), "tls-server", org.a, None),
        )
        .expect("submit");
    assert_eq!(r.state, RequestState::Requested);
    assert_eq!(r.requester, "queue:client-2");

    // The requester who cannot approve cannot approve their own queued request either.
    assert!(matches!(
        ra.approve(&requester, queued.id, "mine"),
        Err(RaError::Forbidden(_))
    ));
    let done = ra.approve(&approver, queued.id, "fine").expect("approve");
    assert_eq!(done.state.name(), StateName::Issued);
}

// ------------------------------------------------------------------ name policy

fn submit_names(
    env: &Env,
    names: &[&str],
    profile: &str,
    org: OrgId,
    dept: Option<DeptId>,
) -> CertificateRequest {
    env.ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(csr(names), profile, org, dept),
        )
        .expect("submit")
}

fn assert_invalid_naming(request: &CertificateRequest, needle: &str) {
    assert_eq!(request.state, RequestState::Invalid, "{request:?}");
    let last = request.history.last().expect("history");
    assert_eq!(last.to, StateName::Invalid);
    assert!(
        last.reason.contains(needle),
        "the reason should name {needle}: {}",
        last.reason
    );
}

/// A submission the profile refuses: the RA answers with the typed error, which carries
/// the request as recorded (Invalid) and the profile's reason.
fn refused_by_profile(
    result: Result<CertificateRequest, RaError>,
) -> (CertificateRequest, IssuanceError) {
    let refused = result.expect_err("the profile refuses it");
    assert_eq!(refused.code(), "invalid_input", "{refused}");
    match refused {
        RaError::RefusedByProfile { request, error } => (*request, error),
        other => panic!("expected RefusedByProfile, got {other:?}"),
    }
}

/// [`submit_names`] for names the profile refuses: the recorded request.
fn submit_names_refused_by_profile(
    env: &Env,
    names: &[&str],
    profile: &str,
    org: OrgId,
    dept: Option<DeptId>,
) -> CertificateRequest {
    let (request, error) = refused_by_profile(env.ra.submit(
        Requester::Admin(&env.mrao),
        submission(csr(names), profile, org, dept),
    ));
    assert!(
        matches!(error, IssuanceError::NameNotAllowed { .. }),
        "{names:?} under {profile}: {error:?}"
    );
    request
}

/// The domain delegations table, to stage a delegation the API no longer makes.
const DOMAINS: Table<DomainDelegation> = Table::new("ra_domains");

/// Writes a domain delegation straight into the store (with an id far above the RA's).
fn stage_delegation(env: &Env, name: &str, org: OrgId, dept: Option<DeptId>) {
    let id = 1_000_000 + env.ra.domains(&env.mrao).expect("domains").len() as u64;
    let delegation = DomainDelegation {
        id: DomainId(id),
        name: name.parse().expect("a delegable name"),
        org,
        dept,
        created_at: 0,
    };
    let mut batch = WriteBatch::new();
    DOMAINS
        .put(&mut batch, &KeyBuilder::new().u64(id).build(), &delegation)
        .expect("encode");
    env.ra
        .ca()
        .certificates()
        .store()
        .write(batch)
        .expect("stage the delegation");
    assert!(env
        .ra
        .domains(&env.mrao)
        .expect("domains")
        .contains(&delegation));
}

#[test]
fn name_policy_is_applied_on_submission() {
    let env = setup();
    let org = org_a(&env);
    let b = common::org(&env, "Org B");
    delegate(&env, "b.example.com", b, None);
    delegate(&env, "10.0.0.0/8", org.a, None);
    delegate(&env, "2001:db8::/32", org.a, None);
    let a = org.a;
    // A department is handed a part of its organization's names ...
    delegate(&env, "a1.a.example.com", a, Some(org.a1));
    // ... and nothing else: a name outside them must be delegated to the organization first.
    let outside = env
        .ra
        .delegate_domain(&env.mrao, "a1only.example.net", a, Some(org.a1));
    assert!(
        matches!(outside, Err(RaError::InvalidInput(_))),
        "{}",
        describe(&outside)
    );
    // A department-only delegation outside the organization's names (as one made before
    // that rule would be) is staged in the store, to show the name policy serves a
    // department's delegation to that department only.
    stage_delegation(&env, "a1only.example.net", a, Some(org.a1));

    // Delegated, and subdomains of it at any depth (names are case-insensitive).
    for name in [
        "a.example.com",
        "www.a.example.com",
        "x.y.z.a.example.com",
        "MIXED.A.Example.COM",
    ] {
        let r = submit_names(&env, &[name], "tls-server", a, None);
        assert_eq!(r.state.name(), StateName::Issued, "{name}: {r:?}");
    }

    // Not delegated: the request is recorded Invalid with a reason naming the name.
    for (name, tagged) in [
        ("www.c.example.com", "dns:www.c.example.com"),
        ("evil-a.example.com", "dns:evil-a.example.com"),
        ("example.com", "dns:example.com"),
        ("a.example.com.evil.net", "dns:a.example.com.evil.net"),
        ("www.b.example.com", "dns:www.b.example.com"),
    ] {
        let r = submit_names(&env, &[name], "tls-server", a, None);
        assert_invalid_naming(&r, tagged);
        assert_eq!(r.state.certificate(), None);
    }
    // One bad name among good ones spoils the request, and is the one named.
    let r = submit_names(
        &env,
        &["ok.a.example.com", "bad.c.example.com"],
        "tls-server",
        a,
        None,
    );
    assert_invalid_naming(&r, "dns:bad.c.example.com");
    // Names decided by the protocol (ACME identifiers) are checked, not the CSR's.
    let mut s = submission(csr(&["fine.a.example.com"]), "tls-server", a, None);
    s.names = Some(vec![SubjectAltName::dns("other.c.example.com").unwrap()]);
    let r = env
        .ra
        .submit(Requester::Admin(&env.mrao), s)
        .expect("submit");
    assert_invalid_naming(&r, "dns:other.c.example.com");
    // The Invalid request is kept, visible, and its reason audited.
    assert_eq!(env.ra.request(&env.mrao, r.id).unwrap(), r);

    // A department's delegation serves that department only.
    let r = submit_names(
        &env,
        &["h.a1only.example.net"],
        "tls-server",
        a,
        Some(org.a1),
    );
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    let r = submit_names(
        &env,
        &["h.a1only.example.net"],
        "tls-server",
        a,
        Some(org.a2),
    );
    assert_invalid_naming(&r, "dns:h.a1only.example.net");
    let r = submit_names(&env, &["h.a1only.example.net"], "tls-server", a, None);
    assert_invalid_naming(&r, "dns:h.a1only.example.net");
    // A part of the organization's names handed down to a department serves it (and, being
    // the organization's, its sibling departments as well).
    let r = submit_names(&env, &["h.a1.a.example.com"], "tls-server", a, Some(org.a1));
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    let r = submit_names(&env, &["h.a1.a.example.com"], "tls-server", a, Some(org.a2));
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    // ... while the organization's delegation serves its departments.
    let r = submit_names(&env, &["h.a.example.com"], "tls-server", a, Some(org.a2));
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    // Another organization's domain is not ours, and ours is not theirs.
    let r = submit_names(&env, &["www.a.example.com"], "tls-server", b, None);
    assert_invalid_naming(&r, "dns:www.a.example.com");

    // Wildcards: allowed by tls-server inside a delegation ...
    let r = submit_names(&env, &["*.a.example.com"], "tls-server", a, None);
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    let r = submit_names(&env, &["*.x.a.example.com"], "tls-server", a, None);
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    // ... refused above it (the wildcard would cover names not delegated) ...
    let r = submit_names(&env, &["*.example.com"], "tls-server", a, None);
    assert_invalid_naming(&r, "dns:*.example.com");
    // ... and refused by a profile without wildcards, even inside a delegation.
    let r = submit_names_refused_by_profile(&env, &["*.a.example.com"], "tls-client", a, None);
    assert_invalid_naming(&r, "*.a.example.com");
    assert!(
        r.history.last().unwrap().reason.contains("wildcard"),
        "{:?}",
        r.history
    );
    let r = submit_names(&env, &["host.a.example.com"], "tls-client", a, None);
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");

    // IP addresses: inside a delegated network, outside it, and in a profile without IPs.
    let r = submit_names(&env, &["10.1.2.3"], "tls-server", a, None);
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    assert_eq!(
        r.names,
        vec![SubjectAltName::Ip("10.1.2.3".parse().unwrap())]
    );
    let r = submit_names(&env, &["2001:db8::5"], "tls-server", a, None);
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    let r = submit_names(&env, &["192.168.1.1"], "tls-server", a, None);
    assert_invalid_naming(&r, "ip:192.168.1.1");
    let r = submit_names(&env, &["11.0.0.1"], "tls-server", a, None);
    assert_invalid_naming(&r, "ip:11.0.0.1");
    let r = submit_names_refused_by_profile(&env, &["10.1.2.3"], "device", a, None);
    assert_invalid_naming(&r, "10.1.2.3");
    let r = submit_names(&env, &["10.1.2.3"], "tls-server", b, None);
    assert_invalid_naming(&r, "ip:10.1.2.3");

    // Wildcards cannot be delegated.
    assert!(matches!(
        env.ra
            .delegate_domain(&env.mrao, "*.c.example.com", a, None),
        Err(RaError::InvalidInput(_))
    ));
}

// ------------------------------------------------------------------ profile refusals

/// A request the profile refused: recorded Invalid by "policy" with the profile's reason,
/// stored as returned, audited, and without a certificate.
fn assert_recorded_invalid(env: &Env, request: &CertificateRequest, needle: &str) {
    assert_eq!(request.state, RequestState::Invalid, "{request:?}");
    let last = request.history.last().expect("history");
    assert_eq!(
        (last.to, last.actor.as_str()),
        (StateName::Invalid, "policy")
    );
    assert!(
        last.reason.contains(needle),
        "the reason should name {needle}: {}",
        last.reason
    );
    assert_eq!(
        env.ra.request_internal(request.id).expect("stored"),
        *request
    );
    let audited = env.ra.audit_entries(&env.mrao, 0, 10_000).expect("audit");
    assert!(
        audited.iter().any(|e| e.action == "request.submit"
            && e.object == request.id.label()
            && e.detail.starts_with("invalid: ")
            && e.detail.contains(needle)),
        "no audit entry for the invalid {}",
        request.id.label()
    );
}

/// A CSR whose key type the profile does not allow (code-signing takes no RSA-2048 key) is
/// refused with the typed error, `RefusedByProfile` carrying `KeyNotAllowed`, whoever
/// submits it: an administrator (`submit`) and a protocol client through an endpoint with
/// the CSR already verified (`submit_verified`, as ACME finalize does). Either way the
/// request is recorded Invalid and nothing is issued; the same key under a profile that
/// allows it, and an allowed key under code-signing, are issued.
#[test]
fn a_key_type_the_profile_does_not_allow_is_refused_with_a_typed_error() {
    let env = setup();
    let org = org_a(&env);
    let ra = &env.ra;
    let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let rsa_csr = csr_with_key(&[], &rsa);
    let certificates = || ra.ca().certificates().list(0, 1000).expect("list").len();
    let before = certificates();
    let key_not_allowed = |error: &IssuanceError| {
        assert!(
            matches!(
                error,
                IssuanceError::KeyNotAllowed { key: KeyAlgorithm::Rsa2048, profile, allowed }
                    if profile == "code-signing" && !allowed.contains("rsa-2048")
            ),
            "{error:?}"
        );
    };

    // An administrator who may approve it (so it would issue at once).
    let (request, error) = refused_by_profile(ra.submit(
        Requester::Admin(&env.mrao),
        submission(rsa_csr.clone(), "code-signing", org.a, None),
    ));
    key_not_allowed(&error);
    assert_recorded_invalid(&env, &request, "rsa-2048");
    assert_eq!(request.channel, Channel::Rest);

    // A protocol client through an auto-approving ACME endpoint, with a verified CSR.
    let (endpoint, _) = ra
        .create_endpoint(
            &env.mrao,
            NewEndpoint {
                kind: "acme".into(),
                ..new_endpoint(
                    "signing-acme",
                    org.a,
                    None,
                    "code-signing",
                    ApprovalMode::Auto,
                )
            },
        )
        .expect("create endpoint");
    let mut through = submission(Vec::new(), "code-signing", org.a, None);
    through.channel = Channel::Acme;
    let (request, error) = refused_by_profile(ra.submit_verified(
        Requester::Endpoint {
            endpoint: &endpoint,
            identity: "account/1",
        },
        through,
        VerifiedCsr::from_der(&rsa_csr).expect("a well-formed CSR"),
    ));
    key_not_allowed(&error);
    assert_recorded_invalid(&env, &request, "rsa-2048");
    assert_eq!(
        (request.channel, request.endpoint),
        (Channel::Acme, Some(endpoint.id))
    );
    assert_eq!(certificates(), before, "a refused CSR was issued");

    // The refusal is about the pair: the RSA-2048 key under tls-server, and a P-256 key
    // under code-signing, issue.
    let r = ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(
                csr_with_key(&["rsa.a.example.com"], &rsa),
                "tls-server",
                org.a,
                None,
            ),
        )
        .expect("submit");
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    let r = ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(csr(&[]), "code-signing", org.a, None),
        )
        .expect("submit");
    assert_eq!(r.state.name(), StateName::Issued, "{r:?}");
    assert_eq!(certificates(), before + 2);
}

// ------------------------------------------------------------------ racing approvals

#[test]
fn racing_approvals_issue_exactly_one_certificate() {
    let env = setup();
    let org = org_a(&env);
    let requester = rao(&env, "requester", &org, &[Privilege::Request]);
    let approvers: Vec<Administrator> = (0..2)
        .map(|i| rao(&env, &format!("approver-{i}"), &org, &[Privilege::Approve]))
        .collect();
    let ra = &env.ra;
    const THREADS: usize = 8;

    for round in 0..4 {
        let queued = ra
            .submit(
                Requester::Admin(&requester),
                tls(&[&format!("race{round}.a.example.com")], &org),
            )
            .expect("submit");
        assert_eq!(queued.state, RequestState::Requested);
        // Every other round the request was declined first: approvals race from Declined.
        if round % 2 == 1 {
            ra.decline(&env.mrao, queued.id, "first no")
                .expect("decline");
        }
        let barrier = Barrier::new(THREADS);
        let results: Vec<Result<CertificateRequest, RaError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let barrier = &barrier;
                    let actor = if t % 3 == 0 {
                        &env.mrao
                    } else {
                        &approvers[t % 2]
                    };
                    s.spawn(move || {
                        barrier.wait();
                        ra.approve(actor, queued.id, &format!("thread {t}"))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });

        let winners: Vec<&CertificateRequest> =
            results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let cert = match winners[0].state {
            RequestState::Issued { certificate } => certificate,
            ref other => panic!("round {round}: the winner ended {other:?}"),
        };
        for r in &results {
            if let Err(e) = r {
                match e {
                    RaError::IllegalTransition(IllegalTransition { from, to }) => {
                        assert_eq!((*from, *to), (StateName::Issued, StateName::Approved))
                    }
                    other => panic!("round {round}: a loser got {other:?}"),
                }
            }
        }
        let certificates: Vec<u64> = ra
            .certificates(&env.mrao, &CertificateFilter::default(), 0, 100)
            .expect("certificates")
            .into_iter()
            .filter(|c| c.owner.request == Some(queued.id))
            .map(|c| c.record.id)
            .collect();
        assert_eq!(certificates, vec![cert], "round {round}");
        let stored = ra.request_internal(queued.id).expect("request");
        assert_eq!(stored.state, RequestState::Issued { certificate: cert });
        let approvals = stored
            .history
            .iter()
            .filter(|t| t.to == StateName::Approved)
            .count();
        assert_eq!(approvals, 1, "round {round}: {:?}", stored.history);
        let issue_entries = ra
            .audit_log()
            .for_object(&format!("certificate:{cert}"), 100)
            .expect("audit")
            .into_iter()
            .filter(|e| e.action == "certificate.issue")
            .count();
        assert_eq!(issue_entries, 1);
    }
    assert!(matches!(ra.verify_audit(&env.mrao), Ok(Ok(_))));
}

// ------------------------------------------------------------------ renewal and replacement

fn spki(der: &[u8]) -> Vec<u8> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).expect("certificate");
    cert.public_key().raw.to_vec()
}

fn csr_spki(der: &[u8]) -> Vec<u8> {
    ca_core::csr::VerifiedCsr::from_der(der)
        .expect("CSR")
        .spki_der()
        .to_vec()
}

#[test]
fn renewal_with_the_same_key_and_with_a_new_csr() {
    let env = setup();
    let org = org_a(&env);
    let ra = &env.ra;
    let key = key();
    let original = ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(
                csr_with_key(&["renew.a.example.com"], &key),
                "tls-server",
                org.a,
                None,
            ),
        )
        .expect("submit");
    let old = original.state.certificate().expect("issued");
    let old_record = ra.certificate(&env.mrao, old).unwrap().record;

    // Same key: the stored CSR is reused.
    let same = ra.renew(&env.mrao, old, None, false).expect("renew");
    let same_cert = same.state.certificate().expect("issued");
    assert_ne!(same_cert, old);
    assert_eq!(same.renewal_of, Some(old));
    assert!(!same.replaces);
    assert_eq!(same.csr_der, original.csr_der);
    let same_record = ra.certificate(&env.mrao, same_cert).unwrap().record;
    assert_eq!(spki(&same_record.der), spki(&old_record.der));
    assert_ne!(same_record.serial, old_record.serial);
    assert_eq!(same_record.names, old_record.names);
    // A renewal leaves the old certificate valid.
    assert_eq!(
        ra.certificate(&env.mrao, old).unwrap().record.status,
        CertificateStatus::Issued
    );
    assert_eq!(
        ra.request_internal(original.id).unwrap().state,
        RequestState::Issued { certificate: old }
    );

    // A new CSR: new key, and the names it asks for.
    let new_csr = csr(&["renew.a.example.com", "www.renew.a.example.com"]);
    let fresh = ra
        .renew(&env.mrao, old, Some(new_csr.clone()), false)
        .expect("renew");
    let fresh_cert = fresh.state.certificate().expect("issued");
    let fresh_record = ra.certificate(&env.mrao, fresh_cert).unwrap().record;
    assert_eq!(spki(&fresh_record.der), csr_spki(&new_csr));
    assert_ne!(spki(&fresh_record.der), spki(&old_record.der));
    assert_eq!(fresh_record.names.len(), 2);
    assert_eq!(fresh.renewal_of, Some(old));

    // A new CSR is checked like any request.
    let outside = ra
        .renew(&env.mrao, old, Some(csr(&["renew.c.example.com"])), false)
        .expect("renew");
    assert_eq!(outside.state, RequestState::Invalid);

    // Renewing something unknown or invisible is NotFound.
    assert!(matches!(
        ra.renew(&env.mrao, 987_654, None, false),
        Err(RaError::NotFound(_))
    ));
}

#[test]
fn replacing_marks_the_old_certificate_and_request_replaced() {
    let env = setup();
    let org = org_a(&env);
    let ra = &env.ra;

    // Issued at once by the MRAO.
    let old = issued_by_mrao(&env, &org, "replace.a.example.com");
    let old_cert = old.state.certificate().unwrap();
    let new = ra
        .renew(
            &env.mrao,
            old_cert,
            Some(csr(&["replace.a.example.com"])),
            true,
        )
        .expect("replace");
    let new_cert = new.state.certificate().expect("issued");
    assert!(new.replaces);
    assert_eq!(
        ra.certificate(&env.mrao, old_cert).unwrap().record.status,
        CertificateStatus::Replaced { by: new_cert }
    );
    let old_now = ra.request_internal(old.id).unwrap();
    assert_eq!(
        old_now.state,
        RequestState::Replaced {
            certificate: old_cert,
            by: new_cert
        }
    );
    let last = old_now.history.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.actor.as_str()),
        (Some(StateName::Issued), StateName::Replaced, "root-admin")
    );
    let replaced: Vec<u64> = ra
        .certificates(
            &env.mrao,
            &CertificateFilter {
                status: Some("replaced".into()),
                ..Default::default()
            },
            0,
            100,
        )
        .unwrap()
        .into_iter()
        .map(|c| c.record.id)
        .collect();
    assert_eq!(replaced, vec![old_cert]);
    assert_eq!(
        ra.certificate(&env.mrao, new_cert).unwrap().record.status,
        CertificateStatus::Issued
    );

    // Through the queue: the old certificate is replaced only when the new one is issued.
    let requester = rao(&env, "requester", &org, &[Privilege::Request]);
    let old = issued_by_mrao(&env, &org, "queued-replace.a.example.com");
    let old_cert = old.state.certificate().unwrap();
    let pending = ra
        .renew(&requester, old_cert, None, true)
        .expect("replace, queued");
    assert_eq!(pending.state, RequestState::Requested);
    assert_eq!(
        ra.certificate(&env.mrao, old_cert).unwrap().record.status,
        CertificateStatus::Issued
    );
    let issued = ra.approve(&env.mrao, pending.id, "go").expect("approve");
    let new_cert = issued.state.certificate().expect("issued");
    assert_eq!(
        ra.certificate(&env.mrao, old_cert).unwrap().record.status,
        CertificateStatus::Replaced { by: new_cert }
    );
    assert_eq!(
        ra.request_internal(old.id).unwrap().state,
        RequestState::Replaced {
            certificate: old_cert,
            by: new_cert
        }
    );
    assert!(matches!(ra.verify_audit(&env.mrao), Ok(Ok(_))));
}

// ------------------------------------------------------------------ external certificates

#[test]
fn external_certificates_are_imported_and_deleted_but_issued_ones_are_not_deleted() {
    let env = setup();
    let org = org_a(&env);
    let ra = &env.ra;
    let der = external_certificate(&["legacy.a.example.com"]);

    let record = ra
        .import_external(&env.mrao, &der, org.a, Some(org.a1))
        .expect("import");
    assert_eq!(record.profile, "external");
    assert_eq!(record.der, der);
    assert_eq!(
        record.names,
        vec![SubjectAltName::dns("legacy.a.example.com").unwrap()]
    );
    let owned = ra.certificate(&env.mrao, record.id).expect("visible");
    assert!(owned.owner.external);
    assert_eq!((owned.owner.org, owned.owner.dept), (org.a, Some(org.a1)));
    // An import record owns it: a request in state Issued, through the import channel.
    let import = ra
        .request(&env.mrao, owned.owner.request.expect("an import record"))
        .expect("the import record");
    assert_eq!(
        import.state,
        RequestState::Issued {
            certificate: record.id
        }
    );
    assert_eq!(import.channel, policy::request::Channel::Import);
    assert!(import.csr_der.is_empty());
    assert!(ra
        .certificates(&env.mrao, &CertificateFilter::default(), 0, 100)
        .unwrap()
        .iter()
        .any(|c| c.record.id == record.id));

    // Imported twice: the serial is taken.
    assert!(matches!(
        ra.import_external(&env.mrao, &der, org.a, None),
        Err(RaError::Conflict(_))
    ));
    // Not a certificate.
    assert!(matches!(
        ra.import_external(&env.mrao, b"not a certificate", org.a, None),
        Err(RaError::InvalidInput(_))
    ));
    // Neither revoked through the CA nor renewed here; a manual revocation records the
    // outside CA's, once, in the certificate and its import record, and lists it in no CRL.
    assert!(matches!(
        ra.revoke(&env.mrao, record.id, RevocationReason::Unspecified, ""),
        Err(RaError::InvalidInput(_))
    ));
    assert!(matches!(
        ra.revoke_external(
            &env.mrao,
            issued_by_mrao(&env, &org, "ours.a.example.com")
                .state
                .certificate()
                .unwrap(),
            RevocationReason::Unspecified,
            ""
        ),
        Err(RaError::InvalidInput(_))
    ));
    assert!(matches!(
        ra.renew(&env.mrao, record.id, None, false),
        Err(RaError::InvalidInput(_))
    ));

    // An issued certificate cannot be deleted.
    let issued = issued_by_mrao(&env, &org, "keep.a.example.com");
    let cert = issued.state.certificate().unwrap();
    assert!(matches!(
        ra.delete_external(&env.mrao, cert),
        Err(RaError::InvalidInput(_))
    ));
    assert!(ra.certificate(&env.mrao, cert).is_ok());
    assert!(ra.ca().certificates().get(cert).unwrap().is_some());

    // The external one can, and is gone afterwards.
    ra.delete_external(&env.mrao, record.id).expect("delete");
    assert!(matches!(
        ra.certificate(&env.mrao, record.id),
        Err(RaError::NotFound(_))
    ));
    assert!(ra.ca().certificates().get(record.id).unwrap().is_none());
    assert!(ra
        .ca()
        .certificates()
        .by_serial(&record.serial)
        .unwrap()
        .is_none());
    assert!(matches!(
        ra.delete_external(&env.mrao, record.id),
        Err(RaError::NotFound(_))
    ));
    // Once deleted, it can be imported again.
    let again = ra
        .import_external(&env.mrao, &der, org.a, None)
        .expect("import again");
    assert_ne!(again.id, record.id);
    assert!(matches!(ra.verify_audit(&env.mrao), Ok(Ok(_))));
}
