//! The permission matrix, through the registration authority service.
//!
//! Every administrator of the table below tries every action in every place
//! and each cell is compared with an expectation written here from the rules
//! (not from the code):
//!
//! * an MRAO may do everything, everywhere;
//! * an RAO acts inside their organizations (the organization itself and all
//!   of its departments), a DRAO inside their departments only (not the
//!   organization level, not a sibling department);
//! * certificate actions need the privilege for the certificate's class:
//!   submit → `request`, approve / decline → `approve`, revoke → `revoke`,
//!   edit a queued request → `request`;
//! * departments, department-level domain delegations and imports need
//!   `manage` (on any class: they belong to no class); creating departments
//!   and handing names down to a department are organization-level acts, so
//!   a DRAO may do neither;
//! * delegating a name to an organization itself is MRAO only (it vouches for
//!   the name); a department may only be given a name inside a domain
//!   delegated to its own organization (else `RaError::InvalidInput`);
//! * a domain may not be delegated when it overlaps a delegation of another
//!   organization (same name, below it, or above it): `RaError::Conflict`;
//! * an enrollment endpoint is bound to a profile, hence to a class: creating
//!   one, or adding an EAB key to it, needs `manage` on that class, and an
//!   auto-approving one also needs `approve` on that class (it approves on
//!   its creator's behalf);
//! * a renewal or replacement (`renewal_of`) may only name a certificate with
//!   the same owner (organization and department) as the new request; any
//!   other is answered `RaError::NotFound`, as if it did not exist;
//! * creating organizations and administrators and reading the global audit
//!   log are MRAO only.
//!
//! How a refusal looks: an action on an object the administrator cannot see
//! (approve, decline, edit or view a request; revoke a certificate) answers
//! `RaError::NotFound`, exactly as if the object did not exist, and writes no
//! audit entry (visibility is not an attempt on the object); so does a
//! renewal naming a certificate of another owner. Every other refusal of the
//! actor is
//! `RaError::Forbidden(_)` and leaves an audit entry with outcome Denied
//! naming the administrator. An authorized act refused for what it asks
//! (a name outside the organization's, an overlap) is `InvalidInput` or
//! `Conflict` and changes nothing.
//!
//! Reduction of the class dimension: privileges are granted per class
//! (tls-server, client-smime, device, code-signing). The matrix uses
//! tls-server (profile "tls-server") and device (profile "device"): the
//! authorization check treats every class alike, so two classes are enough to
//! show that a privilege on one class does not leak to another, while four
//! would double the run time (every cell issues or revokes certificates with
//! a durable commit). The pure `authz::authorize` matrix at the end covers all
//! four classes.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ca_core::revocation::RevocationReason;
use common::*;
use policy::audit::{AuditEntry, Outcome};
use policy::authz::{authorize, Action, Denied};
use policy::model::*;
use policy::registry::{RaError, Requester};
use policy::request::StateName;

// ------------------------------------------------------------------ the world

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// Organization A itself.
    A,
    /// Department A1 of A.
    A1,
    /// Department A2 of A.
    A2,
    /// Organization B itself.
    B,
    /// Department B1 of B.
    B1,
}

const PLACES: [Place; 5] = [Place::A, Place::A1, Place::A2, Place::B, Place::B1];

impl Place {
    fn org_is_a(self) -> bool {
        matches!(self, Place::A | Place::A1 | Place::A2)
    }
    fn domain(self) -> &'static str {
        if self.org_is_a() {
            "a.example.com"
        } else {
            "b.example.com"
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Place::A => "a",
            Place::A1 => "a1",
            Place::A2 => "a2",
            Place::B => "b",
            Place::B1 => "b1",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mrao,
    /// RAO of organization A.
    RaoA,
    /// DRAO of department A1.
    DraoA1,
}

impl Kind {
    /// Whether an object sitting in `place` is inside this administrator's scope.
    fn sees(self, place: Place) -> bool {
        match self {
            Kind::Mrao => true,
            Kind::RaoA => place.org_is_a(),
            Kind::DraoA1 => place == Place::A1,
        }
    }
    /// Whether this administrator acts at the organization level of `place`'s organization.
    fn holds_org(self, place: Place) -> bool {
        match self {
            Kind::Mrao => true,
            Kind::RaoA => place.org_is_a(),
            Kind::DraoA1 => false,
        }
    }
}

/// The two classes of the matrix and their profiles.
const CLASSES: [(CertificateClass, &str); 2] = [
    (CertificateClass::TlsServer, "tls-server"),
    (CertificateClass::Device, "device"),
];

fn class_slug(class: CertificateClass) -> &'static str {
    match class {
        CertificateClass::TlsServer => "tls",
        CertificateClass::ClientSmime => "smime",
        CertificateClass::Device => "device",
        CertificateClass::CodeSigning => "code",
    }
}

fn profile_of(class: CertificateClass) -> &'static str {
    CLASSES
        .iter()
        .find(|(c, _)| *c == class)
        .map(|(_, p)| *p)
        .expect("a class of the matrix")
}

struct Subject {
    label: String,
    kind: Kind,
    privileges: Privileges,
    admin: Administrator,
}

impl Subject {
    fn may(&self, class: CertificateClass, privilege: Privilege) -> bool {
        self.kind == Kind::Mrao || self.privileges.allows(class, privilege)
    }
    fn manages_anything(&self) -> bool {
        self.kind == Kind::Mrao || self.privileges.allows_any(Privilege::Manage)
    }
}

fn only(class: CertificateClass, privilege: Privilege) -> Privileges {
    Privileges(BTreeMap::from([(class, BTreeSet::from([privilege]))]))
}

fn privilege_slug(p: Privilege) -> &'static str {
    match p {
        Privilege::Request => "request",
        Privilege::Approve => "approve",
        Privilege::Revoke => "revoke",
        Privilege::Manage => "manage",
    }
}

struct World {
    env: Env,
    orgs: BTreeMap<&'static str, OrgId>,
    a1: DeptId,
    a2: DeptId,
    b1: DeptId,
    subjects: Vec<Subject>,
    /// One queue-mode REST endpoint per (place, class), to make queued requests anywhere.
    queues: BTreeMap<(Place, CertificateClass), Endpoint>,
}

impl World {
    fn scope(&self, place: Place) -> (OrgId, Option<DeptId>) {
        let a = self.orgs["A"];
        let b = self.orgs["B"];
        match place {
            Place::A => (a, None),
            Place::A1 => (a, Some(self.a1)),
            Place::A2 => (a, Some(self.a2)),
            Place::B => (b, None),
            Place::B1 => (b, Some(self.b1)),
        }
    }

    fn ra(&self) -> &policy::registry::RegistrationAuthority {
        &self.env.ra
    }

    /// A CSR for a fresh host name under the place's domain.
    fn csr_for(&self, place: Place, n: usize) -> Vec<u8> {
        csr(&[&format!("h{n}.{}", place.domain())])
    }

    /// A request waiting in the queue in `place`, of `class`.
    fn queued(&self, place: Place, class: CertificateClass, n: usize) -> RequestId {
        let endpoint = &self.queues[&(place, class)];
        let request = self
            .ra()
            .submit(
                Requester::Endpoint {
                    endpoint,
                    identity: "fixture",
                },
                submission(
                    self.csr_for(place, n),
                    profile_of(class),
                    endpoint.org,
                    endpoint.dept,
                ),
            )
            .expect("queued fixture");
        assert_eq!(request.state.name(), StateName::Requested, "{request:?}");
        request.id
    }

    /// An issued certificate in `place`, of `class` (the MRAO's requests are approved at once).
    fn issued(&self, place: Place, class: CertificateClass, n: usize) -> u64 {
        let (org, dept) = self.scope(place);
        let request = self
            .ra()
            .submit(
                Requester::Admin(&self.env.mrao),
                submission(self.csr_for(place, n), profile_of(class), org, dept),
            )
            .expect("issued fixture");
        request
            .state
            .certificate()
            .unwrap_or_else(|| panic!("the MRAO's request is issued at once: {request:?}"))
    }

    fn audit_head(&self) -> u64 {
        let log = self.ra().audit_log();
        let mut after = 0;
        loop {
            let page = log.list(after, 1024).expect("audit list");
            match page.last() {
                Some(last) => after = last.seq,
                None => return after,
            }
        }
    }

    fn audit_after(&self, seq: u64) -> Vec<AuditEntry> {
        self.ra().audit_log().list(seq, 1000).expect("audit list")
    }
}

/// Builds organizations A (departments A1, A2) and B (department B1), their
/// delegations, and the administrators of the matrix, each logged in once.
fn world() -> World {
    let env = setup();
    let a = org(&env, "Org A");
    let b = org(&env, "Org B");
    let a1 = dept(&env, a, "A1");
    let a2 = dept(&env, a, "A2");
    let b1 = dept(&env, b, "B1");
    delegate(&env, "a.example.com", a, None);
    delegate(&env, "a1.a.example.com", a, Some(a1));
    delegate(&env, "b.example.com", b, None);

    let mut specs: Vec<(String, Kind, Privileges)> = vec![
        ("rao-all".into(), Kind::RaoA, Privileges::all()),
        ("rao-none".into(), Kind::RaoA, Privileges::default()),
    ];
    for (class, _) in CLASSES {
        for privilege in Privilege::ALL {
            specs.push((
                format!("rao-{}-{}", privilege_slug(privilege), class_slug(class)),
                Kind::RaoA,
                only(class, privilege),
            ));
        }
    }
    specs.push(("drao-all".into(), Kind::DraoA1, Privileges::all()));
    specs.push(("drao-none".into(), Kind::DraoA1, Privileges::default()));

    let mut subjects = vec![Subject {
        label: "mrao".into(),
        kind: Kind::Mrao,
        privileges: Privileges::all(),
        admin: env.mrao.clone(),
    }];
    for (label, kind, privileges) in specs {
        let role = match kind {
            Kind::Mrao => Role::Mrao,
            Kind::RaoA => Role::Rao {
                orgs: BTreeSet::from([a]),
            },
            Kind::DraoA1 => Role::Drao {
                depts: BTreeSet::from([a1]),
            },
        };
        let (admin, _token) = common::admin(&env, &label, role.clone(), privileges.clone());
        assert_eq!(admin.role, role);
        assert_eq!(admin.privileges, privileges);
        subjects.push(Subject {
            label,
            kind,
            privileges,
            admin,
        });
    }

    let mut world = World {
        env,
        orgs: BTreeMap::from([("A", a), ("B", b)]),
        a1,
        a2,
        b1,
        subjects,
        queues: BTreeMap::new(),
    };
    for place in PLACES {
        for (class, profile) in CLASSES {
            let (org, dept) = world.scope(place);
            let endpoint = rest_endpoint(
                &world.env,
                &format!("queue-{}-{}", place.slug(), class_slug(class)),
                org,
                dept,
                profile,
                ApprovalMode::Queue,
            );
            world.queues.insert((place, class), endpoint);
        }
    }
    world
}

// ------------------------------------------------------------------ cells

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Forbidden,
    NotFound,
    /// Authorized, but what is asked is refused (`RaError::InvalidInput`).
    InvalidInput,
    /// Authorized, but it clashes with something of another owner (`RaError::Conflict`).
    Conflict,
}

fn classify<T>(result: &Result<T, RaError>) -> Result<Expect, String> {
    match result {
        Ok(_) => Ok(Expect::Allowed),
        Err(RaError::Forbidden(_)) => Ok(Expect::Forbidden),
        Err(RaError::NotFound(_)) => Ok(Expect::NotFound),
        Err(RaError::InvalidInput(_)) => Ok(Expect::InvalidInput),
        Err(RaError::Conflict(_)) => Ok(Expect::Conflict),
        Err(other) => Err(format!("{} ({other})", other.code())),
    }
}

#[derive(Default)]
struct Report {
    cells: usize,
    failures: Vec<String>,
}

impl Report {
    /// Checks one cell's outcome and its audit trail.
    #[allow(clippy::too_many_arguments)]
    fn cell<T: std::fmt::Debug>(
        &mut self,
        world: &World,
        subject: &Subject,
        action: &str,
        place: &str,
        expected: Expect,
        audit_before: u64,
        result: &Result<T, RaError>,
    ) -> bool {
        self.cells += 1;
        let here = format!("{:<16} {:<22} {:<4}", subject.label, action, place);
        let got = match classify(result) {
            Ok(got) => got,
            Err(other) => {
                self.failures
                    .push(format!("{here} expected {expected:?}, got error {other}"));
                return false;
            }
        };
        if got != expected {
            self.failures.push(format!(
                "{here} expected {expected:?}, got {got:?}: {}",
                describe(result)
            ));
            return false;
        }
        let entries = world.audit_after(audit_before);
        match expected {
            Expect::Forbidden => {
                let denied: Vec<&AuditEntry> = entries
                    .iter()
                    .filter(|e| e.outcome == Outcome::Denied && e.actor == subject.admin.username)
                    .collect();
                if denied.len() != 1 || entries.iter().any(|e| e.outcome == Outcome::Success) {
                    self.failures.push(format!(
                        "{here} refused, but the audit log holds {entries:?} (expected one Denied entry by {})",
                        subject.admin.username
                    ));
                }
            }
            Expect::NotFound => {
                if entries.iter().any(|e| e.outcome == Outcome::Success) {
                    self.failures.push(format!(
                        "{here} invisible, yet something succeeded: {entries:?}"
                    ));
                }
            }
            Expect::InvalidInput | Expect::Conflict => {
                // The actor was allowed to try: no Denied entry, and nothing was done.
                if entries.iter().any(|e| {
                    e.outcome == Outcome::Success
                        || (e.outcome == Outcome::Denied && e.actor == subject.admin.username)
                }) {
                    self.failures.push(format!(
                        "{here} refused as {expected:?}, but the audit log holds {entries:?} \
                         (expected neither a success nor a denial)"
                    ));
                }
            }
            Expect::Allowed => {
                if !entries
                    .iter()
                    .any(|e| e.outcome == Outcome::Success && e.actor == subject.admin.username)
                    && !action.starts_with("view")
                {
                    self.failures.push(format!(
                        "{here} allowed, but no successful audit entry by {}: {entries:?}",
                        subject.admin.username
                    ));
                }
            }
        }
        true
    }

    fn note(&mut self, failure: String) {
        self.failures.push(failure);
    }

    fn finish(self, what: &str) {
        eprintln!("{what}: {} cells checked", self.cells);
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} cells wrong:\n{}",
            self.failures.len(),
            self.cells,
            self.failures.join("\n")
        );
    }
}

fn place_label(place: Place) -> &'static str {
    match place {
        Place::A => "A",
        Place::A1 => "A1",
        Place::A2 => "A2",
        Place::B => "B",
        Place::B1 => "B1",
    }
}

// ------------------------------------------------------------------ certificate actions

/// Submit, approve, decline, revoke, edit and view, for every administrator, place and class.
#[test]
fn certificate_actions_matrix() {
    let world = world();
    let ra = world.ra();
    let mut report = Report::default();
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n
    };

    // Fixtures that survive refusals: refreshed only when an allowed action consumes them.
    let mut queued: BTreeMap<(Place, CertificateClass), RequestId> = BTreeMap::new();
    let mut certs: BTreeMap<(Place, CertificateClass), u64> = BTreeMap::new();
    for place in PLACES {
        for (class, _) in CLASSES {
            queued.insert((place, class), world.queued(place, class, next()));
            certs.insert((place, class), world.issued(place, class, next()));
        }
    }

    for subject in &world.subjects {
        let actor = &subject.admin;
        for place in PLACES {
            let (org, dept) = world.scope(place);
            let pl = place_label(place);
            let sees = subject.kind.sees(place);
            for (class, profile) in CLASSES {
                let cs = class_slug(class);

                // Submit.
                let expected = if sees && subject.may(class, Privilege::Request) {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.submit(
                    Requester::Admin(actor),
                    submission(world.csr_for(place, next()), profile, org, dept),
                );
                if report.cell(
                    &world,
                    subject,
                    &format!("submit {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                ) {
                    if let Ok(request) = &result {
                        // Approved at once exactly when the requester may approve it.
                        let want = if subject.may(class, Privilege::Approve) {
                            StateName::Issued
                        } else {
                            StateName::Requested
                        };
                        if request.state.name() != want {
                            report.note(format!(
                                "{} submit {cs} {pl}: state {:?}, expected {want}",
                                subject.label, request.state
                            ));
                        }
                        if request.org != org || request.dept != dept {
                            report.note(format!(
                                "{} submit {cs} {pl}: owner ({}, {:?})",
                                subject.label, request.org, request.dept
                            ));
                        }
                    }
                }

                // Edit a queued request (its term).
                let id = queued[&(place, class)];
                let expected = if !sees {
                    Expect::NotFound
                } else if subject.may(class, Privilege::Request) {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.edit_request(actor, id, None);
                report.cell(
                    &world,
                    subject,
                    &format!("edit {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                );

                // View the queued request.
                let expected = if sees {
                    Expect::Allowed
                } else {
                    Expect::NotFound
                };
                let head = world.audit_head();
                let result = ra.request(actor, id);
                report.cell(
                    &world,
                    subject,
                    &format!("view {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                );
                let listed = ra
                    .requests(actor, &Default::default(), 0, 100_000)
                    .expect("list requests")
                    .iter()
                    .any(|r| r.id == id);
                if listed != sees {
                    report.note(format!(
                        "{} list requests {pl} {cs}: listed = {listed}, expected {sees}",
                        subject.label
                    ));
                }

                // Approve.
                let expected = if !sees {
                    Expect::NotFound
                } else if subject.may(class, Privilege::Approve) {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.approve(actor, id, "ok");
                if report.cell(
                    &world,
                    subject,
                    &format!("approve {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                ) {
                    match &result {
                        Ok(r) if r.state.name() != StateName::Issued => report.note(format!(
                            "{} approve {cs} {pl}: state {:?}",
                            subject.label, r.state
                        )),
                        Ok(_) => {
                            queued.insert((place, class), world.queued(place, class, next()));
                        }
                        Err(_) => {
                            let state = ra.request_internal(id).expect("fixture").state;
                            if state.name() != StateName::Requested {
                                report.note(format!(
                                    "{} approve {cs} {pl} was refused but moved the request to {state:?}",
                                    subject.label
                                ));
                            }
                        }
                    }
                }

                // Decline.
                let id = queued[&(place, class)];
                let head = world.audit_head();
                let result = ra.decline(actor, id, "no");
                if report.cell(
                    &world,
                    subject,
                    &format!("decline {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                ) {
                    match &result {
                        Ok(r) if r.state.name() != StateName::Declined => report.note(format!(
                            "{} decline {cs} {pl}: state {:?}",
                            subject.label, r.state
                        )),
                        Ok(_) => {
                            queued.insert((place, class), world.queued(place, class, next()));
                        }
                        Err(_) => {
                            let state = ra.request_internal(id).expect("fixture").state;
                            if state.name() != StateName::Requested {
                                report.note(format!(
                                    "{} decline {cs} {pl} was refused but moved the request to {state:?}",
                                    subject.label
                                ));
                            }
                        }
                    }
                }

                // Revoke.
                let cert = certs[&(place, class)];
                let expected = if !sees {
                    Expect::NotFound
                } else if subject.may(class, Privilege::Revoke) {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.revoke(actor, cert, RevocationReason::Superseded, "matrix");
                if report.cell(
                    &world,
                    subject,
                    &format!("revoke {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                ) {
                    let status = ra
                        .ca()
                        .certificates()
                        .get(cert)
                        .expect("store")
                        .expect("certificate")
                        .status;
                    let revoked = status.name() == "revoked";
                    if revoked != result.is_ok() {
                        report.note(format!(
                            "{} revoke {cs} {pl}: result {} but status {status:?}",
                            subject.label,
                            describe(&result)
                        ));
                    }
                    if result.is_ok() {
                        certs.insert((place, class), world.issued(place, class, next()));
                    }
                }

                // View the certificate.
                let cert = certs[&(place, class)];
                let expected = if sees {
                    Expect::Allowed
                } else {
                    Expect::NotFound
                };
                let head = world.audit_head();
                let result = ra.certificate(actor, cert);
                report.cell(
                    &world,
                    subject,
                    &format!("view cert {cs}"),
                    pl,
                    expected,
                    head,
                    &result,
                );
            }
        }
    }
    report.finish("certificate actions");
}

// ------------------------------------------------------------------ management

/// Create a department (in A, B); delegate a domain to every place: a name inside the
/// place's organization's domain, and then names the place may not be given (outside the
/// organization's names, for a department; overlapping the other organization's, for an
/// organization); import an external certificate (into every place).
#[test]
fn management_actions_matrix() {
    let world = world();
    let ra = world.ra();
    let mut report = Report::default();
    let mut n = 0usize;
    // Delegations that were refused: none of them may exist afterwards.
    let mut refused: Vec<(OrgId, Option<DeptId>, String)> = Vec::new();

    for subject in &world.subjects {
        let actor = &subject.admin;
        for place in PLACES {
            let (org, dept) = world.scope(place);
            let pl = place_label(place);
            // The other organization's delegated domain.
            let theirs = if place.org_is_a() {
                Place::B.domain()
            } else {
                Place::A.domain()
            };
            n += 1;

            if dept.is_none() {
                let expected = if subject.kind.holds_org(place) && subject.manages_anything() {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.create_department(actor, org, &format!("dept {n}"));
                report.cell(
                    &world,
                    subject,
                    "create department",
                    pl,
                    expected,
                    head,
                    &result,
                );
            }

            // Giving an organization a name is the MRAO's alone; handing a part of the
            // organization's names down to a department is for whoever manages (any class)
            // at the organization level, which a DRAO never does.
            let may_delegate = match dept {
                None => subject.kind == Kind::Mrao,
                Some(_) => subject.kind.holds_org(place) && subject.manages_anything(),
            };
            let expected = if may_delegate {
                Expect::Allowed
            } else {
                Expect::Forbidden
            };
            let name = format!("d{n}.{}", place.domain());
            let head = world.audit_head();
            let result = ra.delegate_domain(actor, &name, org, dept);
            report.cell(
                &world,
                subject,
                "delegate domain",
                pl,
                expected,
                head,
                &result,
            );
            if result.is_err() {
                refused.push((org, dept, name));
            }

            let (action, wrong_names, refusal) = match dept {
                // A department may only be given names inside its organization's own
                // domains: not a name nobody holds, nor one of the other organization.
                Some(_) => (
                    "delegate outside org",
                    vec![format!("o{n}.example.net"), format!("o{n}.{theirs}")],
                    Expect::InvalidInput,
                ),
                // An organization may not be given a name overlapping another
                // organization's: the same domain, one below it, or one above it.
                None => (
                    "delegate overlapping",
                    vec![
                        theirs.to_string(),
                        format!("o{n}.{theirs}"),
                        "example.com".to_string(),
                    ],
                    Expect::Conflict,
                ),
            };
            for name in wrong_names {
                let expected = if may_delegate {
                    refusal
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.delegate_domain(actor, &name, org, dept);
                report.cell(
                    &world,
                    subject,
                    &format!("{action} {name}"),
                    pl,
                    expected,
                    head,
                    &result,
                );
                refused.push((org, dept, name));
            }

            let expected = if subject.kind.sees(place) && subject.manages_anything() {
                Expect::Allowed
            } else {
                Expect::Forbidden
            };
            let head = world.audit_head();
            let der = external_certificate(&[&format!("ext{n}.{}", place.domain())]);
            let result = ra.import_external(actor, &der, org, dept);
            report.cell(
                &world,
                subject,
                "import external",
                pl,
                expected,
                head,
                &result,
            );
        }
    }

    // A refused delegation left nothing behind.
    let domains = ra.domains(&world.env.mrao).expect("domains");
    for (org, dept, name) in refused {
        if let Some(d) = domains
            .iter()
            .find(|d| d.org == org && d.dept == dept && d.name.to_string() == name)
        {
            report.note(format!("a refused delegation exists: {d:?}"));
        }
    }
    report.finish("management actions");
}

/// Creating an enrollment endpoint needs `manage` on the class of the endpoint's profile,
/// and an auto-approving one needs `approve` on that class too (it approves on its
/// creator's behalf); adding an EAB key to an ACME endpoint needs `manage` on its class.
#[test]
fn endpoint_creation_matrix() {
    let world = world();
    let ra = world.ra();
    let (a, _) = world.scope(Place::A);

    // Besides the matrix's administrators (one privilege each, or all of them): `manage`
    // and `approve` on the same class, and `manage` on one class with `approve` on another.
    let mut extra = Vec::new();
    for (label, privileges) in [
        (
            "rao-manage-approve-tls",
            Privileges(BTreeMap::from([(
                CertificateClass::TlsServer,
                BTreeSet::from([Privilege::Manage, Privilege::Approve]),
            )])),
        ),
        (
            "rao-manage-tls-approve-device",
            Privileges(BTreeMap::from([
                (
                    CertificateClass::TlsServer,
                    BTreeSet::from([Privilege::Manage]),
                ),
                (
                    CertificateClass::Device,
                    BTreeSet::from([Privilege::Approve]),
                ),
            ])),
        ),
    ] {
        let role = Role::Rao {
            orgs: BTreeSet::from([a]),
        };
        let (admin, _token) = common::admin(&world.env, label, role, privileges.clone());
        extra.push(Subject {
            label: label.into(),
            kind: Kind::RaoA,
            privileges,
            admin,
        });
    }

    // One ACME endpoint per (place, class), to add EAB keys to.
    let mut acme: BTreeMap<(Place, CertificateClass), EndpointId> = BTreeMap::new();
    // And one SCEP endpoint per (place, class), to set webhooks on.
    let mut scep: BTreeMap<(Place, CertificateClass), EndpointId> = BTreeMap::new();
    for place in PLACES {
        for (class, profile) in CLASSES {
            let (org, dept) = world.scope(place);
            let mut new = new_endpoint(
                &format!("acme-{}-{}", place.slug(), class_slug(class)),
                org,
                dept,
                profile,
                ApprovalMode::Queue,
            );
            new.kind = "acme".into();
            new.eab_required = true;
            let (endpoint, _) = ra
                .create_endpoint(&world.env.mrao, new)
                .expect("ACME endpoint");
            acme.insert((place, class), endpoint.id);
            let mut new = new_endpoint(
                &format!("scep-{}-{}", place.slug(), class_slug(class)),
                org,
                dept,
                profile,
                ApprovalMode::Queue,
            );
            new.kind = "scep".into();
            let (endpoint, _) = ra
                .create_endpoint(&world.env.mrao, new)
                .expect("SCEP endpoint");
            scep.insert((place, class), endpoint.id);
        }
    }

    let mut report = Report::default();
    let mut n = 0usize;
    for subject in world.subjects.iter().chain(&extra) {
        for place in PLACES {
            let (org, dept) = world.scope(place);
            for (class, profile) in CLASSES {
                n += 1;
                let manages = subject.kind.sees(place) && subject.may(class, Privilege::Manage);
                for approval in [ApprovalMode::Queue, ApprovalMode::Auto] {
                    let expected = if manages
                        && (approval == ApprovalMode::Queue
                            || subject.may(class, Privilege::Approve))
                    {
                        Expect::Allowed
                    } else {
                        Expect::Forbidden
                    };
                    let head = world.audit_head();
                    let result = ra.create_endpoint(
                        &subject.admin,
                        new_endpoint(
                            &format!("ep-{n}-{approval:?}").to_lowercase(),
                            org,
                            dept,
                            profile,
                            approval,
                        ),
                    );
                    report.cell(
                        &world,
                        subject,
                        &format!("endpoint {} {approval:?}", class_slug(class)),
                        place_label(place),
                        expected,
                        head,
                        &result,
                    );
                }

                let expected = if manages {
                    Expect::Allowed
                } else {
                    Expect::Forbidden
                };
                let head = world.audit_head();
                let result = ra.add_eab_key(&subject.admin, acme[&(place, class)]);
                report.cell(
                    &world,
                    subject,
                    &format!("eab key {}", class_slug(class)),
                    place_label(place),
                    expected,
                    head,
                    &result,
                );
                let head = world.audit_head();
                let result = ra.set_scep_webhook(
                    &subject.admin,
                    scep[&(place, class)],
                    Some("https://mdm.example.com/validate".into()),
                );
                report.cell(
                    &world,
                    subject,
                    &format!("scep webhook {}", class_slug(class)),
                    place_label(place),
                    expected,
                    head,
                    &result,
                );
            }
        }
    }
    report.finish("endpoint creation");
}

/// The consequence of the cells the endpoint matrix finds wrong, told as a story: an RAO
/// holding only `manage` on device certificates creates an auto-approving tls-server
/// endpoint, and any client of it then gets TLS server certificates issued for the
/// organization's domains without anyone holding a tls-server privilege being asked.
#[test]
fn manage_on_one_class_does_not_open_another_class() {
    let world = world();
    let ra = world.ra();
    let (a, _) = world.scope(Place::A);
    let device_manager = &world
        .subjects
        .iter()
        .find(|s| s.label == "rao-manage-device")
        .expect("rao-manage-device")
        .admin;
    // The same administrator may not ask for a tls-server certificate directly ...
    let direct = ra.submit(
        Requester::Admin(device_manager),
        submission(world.csr_for(Place::A, 1), "tls-server", a, None),
    );
    assert!(
        matches!(direct, Err(RaError::Forbidden(_))),
        "{}",
        describe(&direct)
    );
    // ... so it must not be able to open a door that issues them without approval.
    let created = ra.create_endpoint(
        device_manager,
        new_endpoint("side-door", a, None, "tls-server", ApprovalMode::Auto),
    );
    if let Ok((endpoint, _)) = &created {
        let through = ra.submit(
            Requester::Endpoint {
                endpoint,
                identity: "anyone",
            },
            submission(world.csr_for(Place::A, 2), "tls-server", a, None),
        );
        panic!(
            "an RAO with only manage on device created an auto-approving tls-server endpoint \
             '{}'; a request through it ended {}",
            endpoint.name,
            match &through {
                Ok(r) => format!("{:?}", r.state),
                Err(e) => format!("refused: {e}"),
            }
        );
    }
    assert!(
        matches!(created, Err(RaError::Forbidden(_))),
        "{}",
        describe(&created)
    );
}

/// `Submission::renewal_of` with `replaces` changes another certificate when the new one
/// is issued (it becomes Replaced, and so does its request). It must only name a
/// certificate the requester could renew: a DRAO of A1 may not replace a certificate of
/// department A2 (which it cannot even see), nor may a client of an A2 endpoint
/// replace one of A1.
#[test]
fn a_replacement_cannot_reach_outside_the_requesters_scope() {
    let world = world();
    let ra = world.ra();
    let (a, a1) = world.scope(Place::A1);
    let (_, a2) = world.scope(Place::A2);
    let drao = &world
        .subjects
        .iter()
        .find(|s| s.label == "drao-all")
        .expect("drao-all")
        .admin;
    let mut failures = Vec::new();

    // A DRAO of A1 names a certificate of A2.
    let victim = world.issued(Place::A2, CertificateClass::TlsServer, 1);
    assert!(matches!(
        ra.certificate(drao, victim),
        Err(RaError::NotFound(_))
    ));
    let mut s = submission(world.csr_for(Place::A1, 2), "tls-server", a, a1);
    s.renewal_of = Some(victim);
    s.replaces = true;
    let result = ra.submit(Requester::Admin(drao), s);
    let status = ra.ca().certificates().get(victim).unwrap().unwrap().status;
    if result.is_ok() || status.name() != "issued" {
        failures.push(format!(
            "DRAO of A1 replacing certificate {victim} of A2: {}; that certificate is now {status:?}",
            describe(&result)
        ));
    }

    // A client of an auto-approving endpoint of A2 names a certificate of A1.
    let victim = world.issued(Place::A1, CertificateClass::TlsServer, 3);
    let endpoint = rest_endpoint(
        &world.env,
        "a2-auto",
        a,
        a2,
        "tls-server",
        ApprovalMode::Auto,
    );
    let mut s = submission(world.csr_for(Place::A2, 4), "tls-server", a, a2);
    s.renewal_of = Some(victim);
    s.replaces = true;
    let result = ra.submit(
        Requester::Endpoint {
            endpoint: &endpoint,
            identity: "client",
        },
        s,
    );
    let status = ra.ca().certificates().get(victim).unwrap().unwrap().status;
    if result.is_ok() || status.name() != "issued" {
        failures.push(format!(
            "client of an A2 endpoint replacing certificate {victim} of A1: {}; that certificate is now {status:?}",
            describe(&result)
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The name policy rests on delegations: an RAO who may manage organization A must not
/// be able to delegate to A a name already delegated to organization B (the same
/// domain, a name below it, or a parent domain covering it), or A could then be issued
/// certificates for B's names.
#[test]
fn an_rao_cannot_take_another_organizations_domain() {
    let world = world();
    let ra = world.ra();
    let a = world.orgs["A"];
    let rao = &world
        .subjects
        .iter()
        .find(|s| s.label == "rao-all")
        .expect("rao-all")
        .admin;
    let mut taken = Vec::new();
    for name in ["b.example.com", "www.b.example.com", "example.com"] {
        let result = ra.delegate_domain(rao, name, a, None);
        if result.is_ok() {
            let probe = ra.submit(
                Requester::Admin(rao),
                submission(csr(&["www.b.example.com"]), "tls-server", a, None),
            );
            taken.push(format!(
                "RAO of A delegated '{name}' to A; a request of A for www.b.example.com then ended {}",
                match &probe {
                    Ok(r) => format!("{:?}", r.state),
                    Err(e) => format!("refused: {e}"),
                }
            ));
        }
    }
    assert!(taken.is_empty(), "{}", taken.join("\n"));
}

/// The other ways to a name of another organization, closed the same way: the MRAO, who
/// may delegate to organizations, cannot give A a name overlapping B's (Conflict), and an
/// RAO of A, who may hand A's names down to A's departments, cannot hand down one of B's
/// (InvalidInput: it is not A's to hand down). Names inside one's own organization stay
/// delegable.
#[test]
fn no_delegation_reaches_another_organizations_domain() {
    let world = world();
    let ra = world.ra();
    let (a, a1) = world.scope(Place::A1);
    let b = world.orgs["B"];
    let rao = &world
        .subjects
        .iter()
        .find(|s| s.label == "rao-all")
        .expect("rao-all")
        .admin;
    let mrao = &world.env.mrao;
    let mut failures = Vec::new();
    let mut check = |what: String, result: Result<_, RaError>, want: &str| {
        let got = describe(&result);
        if result.as_ref().err().map(RaError::code) != Some(want) {
            failures.push(format!("{what}: expected {want}, got {got}"));
        }
    };

    for name in ["b.example.com", "www.b.example.com", "example.com"] {
        check(
            format!("MRAO delegating '{name}' to A"),
            ra.delegate_domain(mrao, name, a, None),
            "conflict",
        );
        check(
            format!("RAO of A delegating '{name}' to A"),
            ra.delegate_domain(rao, name, a, None),
            "forbidden",
        );
        check(
            format!("RAO of A handing '{name}' down to A1"),
            ra.delegate_domain(rao, name, a, a1),
            "invalid_input",
        );
        check(
            format!("MRAO handing '{name}' down to A1"),
            ra.delegate_domain(mrao, name, a, a1),
            "invalid_input",
        );
    }
    // And the other way round: B cannot be given a name of A's.
    check(
        "MRAO delegating 'x.a.example.com' to B".into(),
        ra.delegate_domain(mrao, "x.a.example.com", b, None),
        "conflict",
    );
    check(
        "MRAO handing 'x.a.example.com' down to B1".into(),
        ra.delegate_domain(mrao, "x.a.example.com", b, Some(world.b1)),
        "invalid_input",
    );
    // Overlap within one organization is no conflict.
    let inside = ra.delegate_domain(mrao, "x.a.example.com", a, None);
    assert!(inside.is_ok(), "{}", describe(&inside));
    let inside = ra.delegate_domain(rao, "x.a.example.com", a, a1);
    assert!(inside.is_ok(), "{}", describe(&inside));
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Nothing of B's became A's.
    for dept in [None, a1] {
        let probe = ra
            .submit(
                Requester::Admin(mrao),
                submission(csr(&["www.b.example.com"]), "tls-server", a, dept),
            )
            .expect("submit");
        assert_eq!(probe.state.name(), StateName::Invalid, "{probe:?}");
    }
}

/// `renewal_of` (renew, or replace) may only name a certificate with exactly the owner of
/// the new request: not one of another organization, nor of another department, nor of
/// the organization level from a department or the other way round, even for an
/// administrator who sees both. The other certificate is answered as if it did not
/// exist, and is left as it was.
#[test]
fn a_renewal_names_only_a_certificate_of_the_same_owner() {
    let world = world();
    let ra = world.ra();
    let class = CertificateClass::TlsServer;
    let mut report = Report::default();
    let mut n = 0usize;
    let mut next = || {
        n += 1;
        n
    };
    let mut certs: BTreeMap<Place, u64> = BTreeMap::new();
    for place in PLACES {
        certs.insert(place, world.issued(place, class, next()));
    }
    for subject in world
        .subjects
        .iter()
        .filter(|s| ["mrao", "rao-all", "drao-all"].contains(&s.label.as_str()))
    {
        for place in PLACES {
            let (org, dept) = world.scope(place);
            for of in PLACES {
                for replaces in [false, true] {
                    let old = certs[&of];
                    let expected = if !subject.kind.sees(place) {
                        Expect::Forbidden
                    } else if of != place {
                        Expect::NotFound
                    } else {
                        Expect::Allowed
                    };
                    let mut s = submission(world.csr_for(place, next()), "tls-server", org, dept);
                    s.renewal_of = Some(old);
                    s.replaces = replaces;
                    let head = world.audit_head();
                    let result = ra.submit(Requester::Admin(&subject.admin), s);
                    let action = format!(
                        "{} cert of {}",
                        if replaces { "replace" } else { "renew" },
                        place_label(of)
                    );
                    if !report.cell(
                        &world,
                        subject,
                        &action,
                        place_label(place),
                        expected,
                        head,
                        &result,
                    ) {
                        continue;
                    }
                    let here = format!("{} {action} {}", subject.label, place_label(place));
                    let status = ra.ca().certificates().get(old).unwrap().unwrap().status;
                    match &result {
                        Ok(request) => {
                            if request.state.name() != StateName::Issued
                                || request.renewal_of != Some(old)
                            {
                                report.note(format!("{here}: {request:?}"));
                            }
                            let want = if replaces { "replaced" } else { "issued" };
                            if status.name() != want {
                                report.note(format!("{here}: old certificate {status:?}"));
                            }
                            if replaces {
                                certs.insert(of, world.issued(of, class, next()));
                            }
                        }
                        Err(e) => {
                            if status.name() != "issued" {
                                report.note(format!(
                                    "{here} was refused, yet the old certificate is {status:?}"
                                ));
                            }
                            // The same answer as for a certificate that does not exist.
                            if expected == Expect::NotFound
                                && !matches!(e, RaError::NotFound(m) if *m == format!("certificate:{old}"))
                            {
                                report.note(format!("{here}: {e:?}"));
                            }
                        }
                    }
                }
            }
        }
    }
    // A certificate that does not exist, for comparison.
    let (a, _) = world.scope(Place::A);
    let mut s = submission(world.csr_for(Place::A, next()), "tls-server", a, None);
    s.renewal_of = Some(999_999);
    let result = ra.submit(Requester::Admin(&world.env.mrao), s);
    assert!(
        matches!(&result, Err(RaError::NotFound(m)) if m == "certificate:999999"),
        "{}",
        describe(&result)
    );
    report.finish("renewal owners");
}

/// Listings show exactly what is in scope: organizations, departments, domain
/// delegations, endpoints, administrators.
#[test]
fn listings_show_what_is_in_scope() {
    let world = world();
    let ra = world.ra();
    let a = world.orgs["A"];
    let b = world.orgs["B"];
    for subject in &world.subjects {
        let actor = &subject.admin;
        let who = &subject.label;

        let orgs: BTreeSet<OrgId> = ra
            .organizations(actor)
            .unwrap()
            .iter()
            .map(|o| o.id)
            .collect();
        let want: BTreeSet<OrgId> = match subject.kind {
            Kind::Mrao => [a, b].into(),
            Kind::RaoA | Kind::DraoA1 => [a].into(),
        };
        assert_eq!(orgs, want, "{who}: organizations");

        let depts: BTreeSet<DeptId> = ra
            .departments(actor, None)
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        let want: BTreeSet<DeptId> = match subject.kind {
            Kind::Mrao => [world.a1, world.a2, world.b1].into(),
            Kind::RaoA => [world.a1, world.a2].into(),
            Kind::DraoA1 => [world.a1].into(),
        };
        assert_eq!(depts, want, "{who}: departments");

        let domains: BTreeSet<String> = ra
            .domains(actor)
            .unwrap()
            .iter()
            .map(|d| d.name.to_string())
            .collect();
        let want: BTreeSet<String> = match subject.kind {
            Kind::Mrao => ["a.example.com", "a1.a.example.com", "b.example.com"]
                .map(String::from)
                .into(),
            // The DRAO sees its organization's delegations and its department's.
            Kind::RaoA | Kind::DraoA1 => ["a.example.com", "a1.a.example.com"]
                .map(String::from)
                .into(),
        };
        assert_eq!(domains, want, "{who}: domains");

        let endpoints: BTreeSet<String> = ra
            .endpoints(actor)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        let want: BTreeSet<String> = world
            .queues
            .iter()
            .filter(|((place, _), _)| subject.kind.sees(*place))
            .map(|(_, e)| e.name.clone())
            .collect();
        assert_eq!(endpoints, want, "{who}: endpoints");

        let admins: Vec<AdminId> = ra.admins(actor).unwrap().iter().map(|x| x.id).collect();
        if subject.kind == Kind::Mrao {
            assert_eq!(admins.len(), world.subjects.len(), "{who}: administrators");
        } else {
            assert_eq!(admins, vec![actor.id], "{who}: administrators");
        }
    }
}

/// Create an organization, create an administrator, list and verify the audit log: MRAO only.
#[test]
fn administration_is_mrao_only() {
    let world = world();
    let ra = world.ra();
    let mut report = Report::default();
    for (i, subject) in world.subjects.iter().enumerate() {
        let actor = &subject.admin;
        let expected = if subject.kind == Kind::Mrao {
            Expect::Allowed
        } else {
            Expect::Forbidden
        };
        let head = world.audit_head();
        let result = ra.create_organization(actor, &format!("Org {i}"), Address::default());
        report.cell(
            &world,
            subject,
            "create organization",
            "-",
            expected,
            head,
            &result,
        );

        let head = world.audit_head();
        let result = ra.create_admin(
            actor,
            &format!("new-admin-{i}"),
            PASSWORD,
            Role::Rao {
                orgs: BTreeSet::from([world.orgs["A"]]),
            },
            Privileges::all(),
        );
        report.cell(
            &world,
            subject,
            "create admin",
            "-",
            expected,
            head,
            &result,
        );

        // Listing the audit log as the MRAO succeeds without recording anything.
        let head = world.audit_head();
        let result = ra.audit_entries(actor, 0, 10);
        if subject.kind == Kind::Mrao {
            if result.is_err() {
                report.note(format!("mrao list audit: {}", describe(&result)));
            }
        } else {
            report.cell(&world, subject, "list audit", "-", expected, head, &result);
        }
        let head = world.audit_head();
        let result = ra.verify_audit(actor);
        if subject.kind == Kind::Mrao {
            match &result {
                Ok(Ok(_)) => {}
                other => report.note(format!("mrao verify audit: {other:?}")),
            }
        } else {
            report.cell(
                &world,
                subject,
                "verify audit",
                "-",
                expected,
                head,
                &result,
            );
        }

        // Deactivating someone is administration too (everyone tries it on rao-none).
        let target = world
            .subjects
            .iter()
            .find(|s| s.label == "rao-none")
            .expect("rao-none")
            .admin
            .id;
        if actor.id != target {
            let head = world.audit_head();
            let result = ra.set_admin_active(actor, target, true);
            report.cell(
                &world,
                subject,
                "activate admin",
                "-",
                expected,
                head,
                &result,
            );
        }
    }
    report.finish("administration");
}

// ------------------------------------------------------------------ deactivation and auditing of refusals

fn inactive<T>(r: &Result<T, RaError>) -> bool {
    matches!(r, Err(RaError::Forbidden(Denied::Inactive(_))))
}

fn invisible<T>(r: &Result<T, RaError>) -> bool {
    matches!(r, Err(RaError::NotFound(_)))
}

#[test]
fn a_deactivated_administrator_is_refused_everything() {
    let world = world();
    let ra = world.ra();
    let (a, _) = world.scope(Place::A);
    let (token, _) = ra.login("rao-all", PASSWORD).expect("login");
    assert_eq!(
        ra.authenticate(&token).expect("token works").username,
        "rao-all"
    );
    let queued = world.queued(Place::A, CertificateClass::TlsServer, 1);
    let cert = world.issued(Place::A, CertificateClass::TlsServer, 2);
    let id = world
        .subjects
        .iter()
        .find(|s| s.label == "rao-all")
        .expect("rao-all")
        .admin
        .id;

    let (api_key_record, api_key) = ra
        .create_api_key(&world.env.mrao, id, "ci")
        .expect("API key");
    assert_eq!(api_key_record.admin, id);
    assert_eq!(ra.authenticate(&api_key).expect("API key works").id, id);

    let gone = ra
        .set_admin_active(&world.env.mrao, id, false)
        .expect("deactivate");
    assert!(!gone.active);

    // The session token and the password stop working.
    assert!(matches!(
        ra.authenticate(&token),
        Err(RaError::Unauthenticated(_))
    ));
    assert!(matches!(
        ra.login("rao-all", PASSWORD),
        Err(RaError::Unauthenticated(_))
    ));
    assert!(matches!(
        ra.authenticate(&api_key),
        Err(RaError::Unauthenticated(_))
    ));

    // Every action with the deactivated record is refused: Forbidden(Inactive) for
    // actions, NotFound for objects (they are no longer visible to it).
    let submit = ra.submit(
        Requester::Admin(&gone),
        submission(world.csr_for(Place::A, 3), "tls-server", a, None),
    );
    assert!(inactive(&submit), "submit: {}", describe(&submit));
    let r = ra.approve(&gone, queued, "");
    assert!(invisible(&r), "approve: {}", describe(&r));
    let r = ra.decline(&gone, queued, "");
    assert!(invisible(&r), "decline: {}", describe(&r));
    let r = ra.edit_request(&gone, queued, None);
    assert!(invisible(&r), "edit: {}", describe(&r));
    let r = ra.request(&gone, queued);
    assert!(invisible(&r), "view: {}", describe(&r));
    let r = ra.revoke(&gone, cert, RevocationReason::Unspecified, "");
    assert!(invisible(&r), "revoke: {}", describe(&r));
    let r = ra.certificate(&gone, cert);
    assert!(invisible(&r), "view certificate: {}", describe(&r));
    let r = ra.create_department(&gone, a, "X");
    assert!(inactive(&r), "create department: {}", describe(&r));
    let r = ra.delegate_domain(&gone, "x.a.example.com", a, None);
    assert!(inactive(&r), "delegate: {}", describe(&r));
    let r = ra.create_endpoint(
        &gone,
        new_endpoint("x-ep", a, None, "tls-server", ApprovalMode::Queue),
    );
    assert!(inactive(&r), "create endpoint: {}", describe(&r));
    let r = ra.create_organization(&gone, "X", Address::default());
    assert!(inactive(&r), "create organization: {}", describe(&r));
    let r = ra.audit_entries(&gone, 0, 10);
    assert!(inactive(&r), "audit: {}", describe(&r));
    assert!(ra
        .requests(&gone, &Default::default(), 0, 1000)
        .unwrap()
        .is_empty());
    assert!(ra
        .certificates(&gone, &Default::default(), 0, 1000)
        .unwrap()
        .is_empty());

    // Nothing moved.
    assert_eq!(
        ra.request_internal(queued).unwrap().state.name(),
        StateName::Requested
    );
    assert_eq!(
        ra.ca()
            .certificates()
            .get(cert)
            .unwrap()
            .unwrap()
            .status
            .name(),
        "issued"
    );

    // Reactivated, the administrator can log in and act again.
    ra.set_admin_active(&world.env.mrao, id, true)
        .expect("reactivate");
    assert!(
        matches!(ra.authenticate(&token), Err(RaError::Unauthenticated(_))),
        "deactivation ended the old session for good"
    );
    assert!(
        ra.authenticate(&api_key).is_ok(),
        "API keys live on with the account"
    );
    let (token, back) = ra.login("rao-all", PASSWORD).expect("login again");
    assert!(ra.authenticate(&token).is_ok());
    let r = ra.approve(&back, queued, "back");
    assert_eq!(r.expect("approve").state.name(), StateName::Issued);
}

#[test]
fn a_refused_attempt_leaves_a_denied_audit_entry() {
    let world = world();
    let ra = world.ra();
    let (b, _) = world.scope(Place::B);
    let rao = &world
        .subjects
        .iter()
        .find(|s| s.label == "rao-all")
        .expect("rao-all")
        .admin;
    let head = world.audit_head();
    let result = ra.create_department(rao, b, "Intruders");
    assert!(
        matches!(result, Err(RaError::Forbidden(Denied::OutOfScope(_)))),
        "{}",
        describe(&result)
    );
    let entries = world.audit_after(head);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.outcome, Outcome::Denied);
    assert_eq!(entry.actor, "rao-all");
    assert_eq!(entry.action, "dept.create");
    assert_eq!(entry.object, b.label());
    assert!(
        entry.detail.contains("outside your scope"),
        "{}",
        entry.detail
    );

    // A missing privilege is recorded the same way, with the privilege in the detail.
    let none = &world
        .subjects
        .iter()
        .find(|s| s.label == "rao-request-tls")
        .expect("rao-request-tls")
        .admin;
    let queued = world.queued(Place::A, CertificateClass::TlsServer, 1);
    let head = world.audit_head();
    let result = ra.approve(none, queued, "let me");
    assert!(
        matches!(
            result,
            Err(RaError::Forbidden(Denied::MissingPrivilege {
                class: CertificateClass::TlsServer,
                privilege: Privilege::Approve
            }))
        ),
        "{}",
        describe(&result)
    );
    let entries = world.audit_after(head);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].outcome, Outcome::Denied);
    assert_eq!(entries[0].actor, "rao-request-tls");
    assert_eq!(entries[0].action, "request.approve");
    assert_eq!(entries[0].object, queued.label());

    // And the chain still verifies.
    assert!(matches!(ra.verify_audit(&world.env.mrao), Ok(Ok(_))));
}

// ------------------------------------------------------------------ the pure check, all four classes

fn pure_admin(role: Role, privileges: Privileges, active: bool) -> Administrator {
    Administrator {
        id: AdminId(99),
        username: "someone".into(),
        password_hash: String::new(),
        role,
        privileges,
        active,
        created_at: 0,
        client_certificates: Vec::new(),
        idp_identity: None,
        password_login: true,
    }
}

#[test]
fn authorize_matrix_over_every_class_and_privilege() {
    let a = OrgId(1);
    let b = OrgId(2);
    let a1 = DeptId(11);
    let a2 = DeptId(12);
    let b1 = DeptId(21);
    let places = [
        ("A", Scope { org: a, dept: None }),
        (
            "A1",
            Scope {
                org: a,
                dept: Some(a1),
            },
        ),
        (
            "A2",
            Scope {
                org: a,
                dept: Some(a2),
            },
        ),
        ("B", Scope { org: b, dept: None }),
        (
            "B1",
            Scope {
                org: b,
                dept: Some(b1),
            },
        ),
    ];
    let mut grants: Vec<(String, Privileges)> = vec![
        ("all".into(), Privileges::all()),
        ("none".into(), Privileges::default()),
    ];
    for class in CertificateClass::ALL {
        for privilege in Privilege::ALL {
            grants.push((
                format!("{privilege:?} on {class:?}"),
                only(class, privilege),
            ));
        }
    }
    let roles = [
        ("mrao", Role::Mrao),
        (
            "rao A",
            Role::Rao {
                orgs: BTreeSet::from([a]),
            },
        ),
        (
            "drao A1",
            Role::Drao {
                depts: BTreeSet::from([a1]),
            },
        ),
    ];
    let mut actions = vec![Action::View, Action::ManageScope, Action::Administer];
    for class in CertificateClass::ALL {
        actions.push(Action::RequestCertificate(class));
        actions.push(Action::ApproveCertificate(class));
        actions.push(Action::RevokeCertificate(class));
        actions.push(Action::ManageEndpoints(class));
    }
    let mut cells = 0;
    for (role_name, role) in &roles {
        for (grant_name, privileges) in &grants {
            for active in [true, false] {
                let admin = pure_admin(role.clone(), privileges.clone(), active);
                for action in &actions {
                    for (place_name, scope) in &places {
                        cells += 1;
                        let is_mrao = *role == Role::Mrao;
                        let in_scope = match role {
                            Role::Mrao => true,
                            Role::Rao { .. } => scope.org == a,
                            Role::Drao { .. } => scope.dept == Some(a1),
                        };
                        let holds = |class, p| is_mrao || privileges.allows(class, p);
                        let expected: Result<(), &str> = if !active {
                            Err("inactive")
                        } else if is_mrao {
                            Ok(())
                        } else {
                            match action {
                                Action::Administer => Err("mrao-only"),
                                _ if !in_scope => Err("out-of-scope"),
                                Action::View => Ok(()),
                                Action::ManageScope => {
                                    if privileges.allows_any(Privilege::Manage) {
                                        Ok(())
                                    } else {
                                        Err("missing")
                                    }
                                }
                                Action::RequestCertificate(c) => {
                                    if holds(*c, Privilege::Request) {
                                        Ok(())
                                    } else {
                                        Err("missing")
                                    }
                                }
                                Action::ApproveCertificate(c) => {
                                    if holds(*c, Privilege::Approve) {
                                        Ok(())
                                    } else {
                                        Err("missing")
                                    }
                                }
                                Action::RevokeCertificate(c) => {
                                    if holds(*c, Privilege::Revoke) {
                                        Ok(())
                                    } else {
                                        Err("missing")
                                    }
                                }
                                Action::ManageEndpoints(c) => {
                                    if holds(*c, Privilege::Manage) {
                                        Ok(())
                                    } else {
                                        Err("missing")
                                    }
                                }
                            }
                        };
                        let got = authorize(&admin, *action, *scope).map_err(|d| match d {
                            Denied::Inactive(_) => "inactive",
                            Denied::MraoOnly => "mrao-only",
                            Denied::OutOfScope(_) => "out-of-scope",
                            Denied::MissingPrivilege { .. } => "missing",
                        });
                        assert_eq!(
                            got, expected,
                            "{role_name} with {grant_name} (active {active}), {action:?} in {place_name}"
                        );
                    }
                }
            }
        }
    }
    // 3 roles, 18 grants, active or not, 19 actions (3 + 4 per class), 5 places.
    assert_eq!(cells, 3 * 18 * 2 * 19 * 5);
}
