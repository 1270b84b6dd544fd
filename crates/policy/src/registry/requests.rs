//! Certificate requests: submission (checked against the profile and the name
//! policy), issuance of approved requests, the approval queue (approve,
//! decline, edit) and listing.

use std::collections::BTreeMap;

use ca_core::certificates::CertificateStatus;
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::{check_request, IssuanceRequest};
use ca_core::names::SubjectAltName;
use ca_core::profile::SubjectAttribute;
use ca_core::store::{KeyRange, StoreError, WriteBatch};
use serde::{Deserialize, Serialize};

use super::REQUESTS;
use super::{
    check_message, id_key, now, scope_label, CertificateOwner, RaError, RaResult,
    RegistrationAuthority,
};
use crate::audit::AuditEvent;
use crate::authz::{authorize, Action, Denied};
use crate::model::*;
use crate::names::check_names;
use crate::request::{
    CertificateRequest, Channel, IllegalTransition, RequestAnnotations, RequestState, StateName,
    Transition,
};

/// Who is asking: an administrator, or a protocol client through an enrollment endpoint.
#[derive(Debug, Clone)]
pub enum Requester<'a> {
    /// An administrator (REST API or CLI).
    Admin(&'a Administrator),
    /// A protocol client (ACME account, SCEP device, EST client) through an endpoint.
    Endpoint {
        /// The endpoint.
        endpoint: &'a Endpoint,
        /// How the client is known (an ACME account URL, a device name).
        identity: &'a str,
    },
}

impl Requester<'_> {
    fn name(&self) -> String {
        match self {
            Requester::Admin(a) => a.username.clone(),
            Requester::Endpoint { endpoint, identity } => format!("{}:{identity}", endpoint.name),
        }
    }
}

/// A new certificate request.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The CSR (PEM or DER).
    pub csr: Vec<u8>,
    /// The profile (for endpoint requests the endpoint's profile is used).
    pub profile: String,
    /// The owning organization (endpoint requests: the endpoint's).
    pub org: OrgId,
    /// The owning department.
    pub dept: Option<DeptId>,
    /// Term in days.
    pub term_days: Option<u32>,
    /// Names decided by the protocol (ACME identifiers); None takes the CSR's.
    pub names: Option<Vec<SubjectAltName>>,
    /// The channel.
    pub channel: Channel,
    /// The certificate this renews or replaces.
    pub renewal_of: Option<u64>,
    /// Whether issuing marks `renewal_of` Replaced.
    pub replaces: bool,
    /// Comments and custom fields (checked for an administrator's request; protocol
    /// clients send none, and whatever is here for them is dropped).
    pub annotations: RequestAnnotations,
}

/// Filters for listing requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestFilter {
    /// Only this state.
    pub status: Option<StateName>,
    /// Only this organization.
    pub org: Option<OrgId>,
    /// Only this profile.
    pub profile: Option<String>,
    /// Only names containing this text.
    pub name: Option<String>,
}

impl RegistrationAuthority {
    fn owner_subject(
        &self,
        org: &Organization,
        dept: Option<&Department>,
    ) -> BTreeMap<SubjectAttribute, String> {
        let mut subject = BTreeMap::new();
        subject.insert(SubjectAttribute::Organization, org.name.clone());
        if let Some(l) = &org.address.locality {
            subject.insert(SubjectAttribute::Locality, l.clone());
        }
        if let Some(s) = &org.address.state {
            subject.insert(SubjectAttribute::State, s.clone());
        }
        if let Some(c) = &org.address.country {
            subject.insert(SubjectAttribute::Country, c.clone());
        }
        if let Some(d) = dept {
            subject.insert(SubjectAttribute::OrganizationalUnit, d.name.clone());
        }
        subject
    }

    /// Submits a certificate request. A CSR that does not parse is refused and nothing is
    /// stored. A CSR the profile refuses (key type or size, names, term) is recorded as
    /// Invalid and answered with [`RaError::RefusedByProfile`], which carries the recorded
    /// request and the profile's reason; a request the name policy refuses (a name not
    /// delegated to the owner) is recorded and returned as Invalid. One whose requester may
    /// approve it, or whose endpoint auto-approves, is issued at once.
    pub fn submit(
        &self,
        requester: Requester<'_>,
        submission: Submission,
    ) -> RaResult<CertificateRequest> {
        self.submit_inner(requester, submission, None)
    }

    /// [`RegistrationAuthority::submit`] for a caller that has already parsed and verified
    /// the CSR (a protocol edge checking its names): the RA uses `csr` and does not verify
    /// its signature again; `submission.csr` is ignored.
    pub fn submit_verified(
        &self,
        requester: Requester<'_>,
        submission: Submission,
        csr: VerifiedCsr,
    ) -> RaResult<CertificateRequest> {
        self.submit_inner(requester, submission, Some(csr))
    }

    fn submit_inner(
        &self,
        requester: Requester<'_>,
        submission: Submission,
        verified: Option<VerifiedCsr>,
    ) -> RaResult<CertificateRequest> {
        let (org, dept, profile_name, term_days, endpoint_id, channel) = match &requester {
            Requester::Admin(_) => (
                submission.org,
                submission.dept,
                submission.profile.clone(),
                submission.term_days,
                None,
                submission.channel,
            ),
            Requester::Endpoint { endpoint, .. } => {
                if !endpoint.active {
                    return Err(RaError::Forbidden(Denied::Inactive(endpoint.name.clone())));
                }
                (
                    endpoint.org,
                    endpoint.dept,
                    endpoint.profile.clone(),
                    submission.term_days.or(endpoint.default_term_days),
                    Some(endpoint.id),
                    submission.channel,
                )
            }
        };
        let scope = self.scope_of(org, dept)?;
        let profile = self.profile(&profile_name)?;
        let class = CertificateClass::of(profile.certificate_type);
        let annotations = if let Requester::Admin(admin) = &requester {
            self.require(
                admin,
                Action::RequestCertificate(class),
                scope,
                "request.submit",
                &scope_label(scope),
            )?;
            self.check_annotations(class, &submission.annotations)?
        } else {
            RequestAnnotations::default()
        };
        if let Some(old) = submission.renewal_of {
            // Renewing or replacing reaches into another certificate: only one with the same owner.
            let owned = self
                .certificate_owner(old)
                .map_err(|_| RaError::NotFound(format!("certificate:{old}")))?;
            if owned.org != org || owned.dept != dept {
                return Err(RaError::NotFound(format!("certificate:{old}")));
            }
        }
        let csr = match verified {
            Some(csr) => csr,
            None => VerifiedCsr::parse(&submission.csr)
                .map_err(|e| RaError::InvalidInput(e.to_string()))?,
        };
        let actor_name = requester.name();
        let at = now();
        let mut request = CertificateRequest {
            id: RequestId(self.next_id(REQUESTS.name())),
            org,
            dept,
            profile: profile_name,
            csr_der: csr.der().to_vec(),
            names: submission
                .names
                .clone()
                .unwrap_or_else(|| csr.requested_names().to_vec()),
            term_days,
            requester: actor_name.clone(),
            channel,
            endpoint: endpoint_id,
            renewal_of: submission.renewal_of,
            replaces: submission.replaces,
            state: RequestState::Requested,
            history: vec![Transition {
                from: None,
                to: StateName::Requested,
                actor: actor_name.clone(),
                at,
                reason: String::new(),
            }],
            created_at: at,
            annotations,
            renew_id: crate::credentials::random_token::<15>(),
        };

        // The profile decides what can be asked: a CSR it refuses (key type or size, names,
        // term) is recorded Invalid and answered with the typed error, whatever the channel,
        // so that an edge can answer in its protocol's terms (ACME: badCSR).
        let names = match check_request(&IssuanceRequest {
            csr: &csr,
            profile,
            names: submission.names.clone(),
            term_days,
            owner_subject: BTreeMap::new(),
        }) {
            Ok(names) => names,
            Err(error) => {
                let request = self.record_invalid(request, &actor_name, at, &error.to_string())?;
                return Err(RaError::RefusedByProfile {
                    request: Box::new(request),
                    error,
                });
            }
        };
        // The delegations decide which names: a name outside them is recorded Invalid.
        request.names = names.clone();
        let checked = self
            .all_domains()
            .map_err(|e| e.to_string())
            .and_then(|domains| {
                check_names(&names, org, dept, &domains).map_err(|e| e.to_string())
            });
        if let Err(reason) = checked {
            return self.record_invalid(request, &actor_name, at, &reason);
        }

        let auto = match &requester {
            Requester::Admin(admin) => {
                authorize(admin, Action::ApproveCertificate(class), scope).is_ok()
            }
            Requester::Endpoint { endpoint, .. } => endpoint.approval == ApprovalMode::Auto,
        };
        if !auto {
            let mut batch = WriteBatch::new();
            self.index_renew_id(&mut batch, &request)?;
            REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
            self.commit(
                batch,
                AuditEvent::success(
                    &actor_name,
                    "request.submit",
                    &request.id.label(),
                    "waiting for approval",
                ),
                "request",
            )?;
            return Ok(request);
        }
        // A new request is seen by no one else until it commits, so concurrent submissions
        // issue in parallel and share the store's group commit. A renewal changes the
        // certificate it renews, which a revocation or another renewal may be changing too.
        let _guard = request
            .renewal_of
            .is_some()
            .then(|| self.request_lock.lock().unwrap_or_else(|e| e.into_inner()));
        request.transition(
            RequestState::Approved,
            &actor_name,
            at,
            "approved on submission",
        )?;
        self.issue_locked(request, &actor_name, Some(&csr))
    }

    /// Adds the claim of a new request's renew id (so that it can be found by it) to a batch.
    fn index_renew_id(&self, batch: &mut WriteBatch, request: &CertificateRequest) -> RaResult<()> {
        self.claim_name(batch, &format!("renew:{}", request.renew_id), request.id.0)
    }

    /// The request with a renew id, if visible to the actor.
    pub fn request_by_renew_id(
        &self,
        actor: &Administrator,
        renew_id: &str,
    ) -> RaResult<CertificateRequest> {
        let not_found = || RaError::NotFound("renew id".into());
        if renew_id.is_empty() || renew_id.len() > 64 {
            return Err(not_found());
        }
        let claim = super::NAMES
            .get(&self.store, format!("renew:{renew_id}").as_bytes())?
            .ok_or_else(not_found)?;
        self.request(actor, RequestId(claim.id))
            .map_err(|_| not_found())
    }

    /// Records a submitted request as Invalid (the profile or the name policy refuses it as
    /// asked), with its audit entry.
    fn record_invalid(
        &self,
        mut request: CertificateRequest,
        actor_name: &str,
        at: i64,
        reason: &str,
    ) -> RaResult<CertificateRequest> {
        request.transition(RequestState::Invalid, "policy", at, reason)?;
        let mut batch = WriteBatch::new();
        self.index_renew_id(&mut batch, &request)?;
        REQUESTS.put(&mut batch, &id_key(request.id.0), &request)?;
        self.commit(
            batch,
            AuditEvent::success(
                actor_name,
                "request.submit",
                &request.id.label(),
                format!("invalid: {reason}"),
            ),
            "request",
        )?;
        Ok(request)
    }

    /// Issues an Approved request, committing certificate, request state, ownership and audit entry together.
    ///
    /// `verified` is the CSR when the caller has just verified it (submission: the request
    /// is not in the store yet), so the hot path does not parse and check its signature
    /// twice; approvals of stored requests pass `None` and parse the stored DER.
    fn issue_locked(
        &self,
        mut request: CertificateRequest,
        actor: &str,
        verified: Option<&VerifiedCsr>,
    ) -> RaResult<CertificateRequest> {
        let parsed;
        let csr = match verified {
            Some(csr) => csr,
            None => {
                parsed = VerifiedCsr::from_der(&request.csr_der)
                    .map_err(|e| RaError::InvalidInput(e.to_string()))?;
                &parsed
            }
        };
        let profile = self.profile(&request.profile)?;
        let org = self.organization_exists(request.org)?;
        let dept = request.dept.map(|d| self.department(d)).transpose()?;
        let issuance = IssuanceRequest {
            csr,
            profile,
            names: Some(request.names.clone()),
            term_days: request.term_days,
            owner_subject: self.owner_subject(&org, dept.as_ref()),
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let prepared = match self.ca.prepare_issue(&issuance, &request.requester) {
                Ok(p) => p,
                Err(e) => {
                    let reason = e.to_string();
                    let mut rejected = request.clone();
                    rejected.transition(RequestState::Rejected, "ca", now(), &reason)?;
                    let mut batch = WriteBatch::new();
                    REQUESTS.put(&mut batch, &id_key(rejected.id.0), &rejected)?;
                    self.commit(
                        batch,
                        AuditEvent::success(actor, "request.reject", &rejected.id.label(), reason),
                        "request",
                    )?;
                    return Ok(rejected);
                }
            };
            let mut batch = prepared.batch;
            let certificate = prepared.record.id;
            let mut issued = request.clone();
            if verified.is_some() {
                // Issued on submission: the request is new to the store.
                self.index_renew_id(&mut batch, &issued)?;
            }
            issued.transition(RequestState::Issued { certificate }, actor, now(), "")?;
            REQUESTS.put(&mut batch, &id_key(issued.id.0), &issued)?;
            CertificateOwner {
                org: issued.org,
                dept: issued.dept,
                request: Some(issued.id),
                external: false,
            }
            .write_into(&mut batch, certificate)?;
            // A replacement commits with the new certificate: the old one becomes Replaced
            // (and its request with it) in the same transaction, or neither happens.
            let mut replaced = None;
            if let (true, Some(old)) = (issued.replaces, issued.renewal_of) {
                if self.replacement_into(&mut batch, old, certificate, actor)? {
                    replaced = Some(old);
                }
            }
            let event = AuditEvent::success(
                actor,
                "certificate.issue",
                &format!("certificate:{certificate}"),
                format!(
                    "{} for {} serial {}{}",
                    issued.id.label(),
                    prepared.record.subject,
                    prepared.record.serial,
                    replaced
                        .map(|old| format!(", replacing certificate:{old}"))
                        .unwrap_or_default()
                ),
            );
            match self.audit.commit_with(batch, event) {
                Ok(_) => {
                    request = issued;
                    break;
                }
                Err(StoreError::Conflict { .. }) if attempts < 3 => continue,
                Err(e) => return Err(e.into()),
            }
        }
        if let (true, Some(old), Some(new)) = (
            request.replaces,
            request.renewal_of,
            request.state.certificate(),
        ) {
            // The old certificate's own trail (the change itself committed above).
            self.audit.record(AuditEvent::success(
                actor,
                "certificate.replace",
                &format!("certificate:{old}"),
                format!("by certificate:{new}"),
            ))?;
        }
        Ok(request)
    }

    /// Adds "old is Replaced by new" to a batch: the certificate's status (only if it is
    /// still Issued when the batch commits) and its request's state. False if it is not Issued.
    fn replacement_into(
        &self,
        batch: &mut WriteBatch,
        old: u64,
        new: u64,
        actor: &str,
    ) -> RaResult<bool> {
        let Some(before) = self.ca.certificates().get(old)? else {
            return Ok(false);
        };
        if !matches!(before.status, CertificateStatus::Issued) {
            return Ok(false);
        }
        self.ca.certificates().update_status_into(
            batch,
            &before,
            CertificateStatus::Replaced { by: new },
        )?;
        if let Some(request_id) = self.certificate_owner(old)?.request {
            if let Some(mut request) = REQUESTS.get(&self.store, &id_key(request_id.0))? {
                if request.state.name() == StateName::Issued {
                    request.transition(
                        RequestState::Replaced {
                            certificate: old,
                            by: new,
                        },
                        actor,
                        now(),
                        "replaced",
                    )?;
                    REQUESTS.put(batch, &id_key(request.id.0), &request)?;
                }
            }
        }
        Ok(true)
    }

    /// A request, if visible to the actor.
    pub fn request(&self, actor: &Administrator, id: RequestId) -> RaResult<CertificateRequest> {
        let request = self.request_internal(id)?;
        if authorize(
            actor,
            Action::View,
            Scope {
                org: request.org,
                dept: request.dept,
            },
        )
        .is_err()
        {
            return Err(RaError::NotFound(id.label()));
        }
        Ok(request)
    }

    /// A request by id (internal: protocol servers poll their own requests).
    pub fn request_internal(&self, id: RequestId) -> RaResult<CertificateRequest> {
        REQUESTS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// A request the actor may approve or decline (call with the request lock held).
    fn request_for_decision(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
        action: &str,
    ) -> RaResult<CertificateRequest> {
        check_message(message)?;
        let request = self.request(actor, id)?;
        let class = CertificateClass::of(self.profile(&request.profile)?.certificate_type);
        let scope = Scope {
            org: request.org,
            dept: request.dept,
        };
        self.require(
            actor,
            Action::ApproveCertificate(class),
            scope,
            action,
            &id.label(),
        )?;
        Ok(request)
    }

    /// Approves a Requested or Declined request and issues it.
    pub fn approve(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request_for_decision(actor, id, message, "request.approve")?;
        request.transition(RequestState::Approved, &actor.username, now(), message)?;
        self.issue_locked(request, &actor.username, None)
    }

    /// Declines a Requested request (it can still be approved later).
    pub fn decline(
        &self,
        actor: &Administrator,
        id: RequestId,
        message: &str,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request_for_decision(actor, id, message, "request.decline")?;
        request.transition(RequestState::Declined, &actor.username, now(), message)?;
        let mut batch = WriteBatch::new();
        REQUESTS.put(&mut batch, &id_key(id.0), &request)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "request.decline", &id.label(), message),
            "request",
        )?;
        Ok(request)
    }

    /// Changes the term of a request while it is Requested.
    pub fn edit_request(
        &self,
        actor: &Administrator,
        id: RequestId,
        term_days: Option<u32>,
    ) -> RaResult<CertificateRequest> {
        let _guard = self.request_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut request = self.request(actor, id)?;
        if request.state.name() != StateName::Requested {
            return Err(RaError::IllegalTransition(IllegalTransition {
                from: request.state.name(),
                to: StateName::Requested,
            }));
        }
        let profile = self.profile(&request.profile)?;
        let class = CertificateClass::of(profile.certificate_type);
        self.require(
            actor,
            Action::RequestCertificate(class),
            Scope {
                org: request.org,
                dept: request.dept,
            },
            "request.edit",
            &id.label(),
        )?;
        if profile.term_for(term_days).is_none() {
            return Err(RaError::InvalidInput(format!(
                "profile '{}' allows at most {} days",
                profile.name,
                profile.max_term_days()
            )));
        }
        request.term_days = term_days;
        let mut batch = WriteBatch::new();
        REQUESTS.put(&mut batch, &id_key(id.0), &request)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "request.edit",
                &id.label(),
                format!("term {term_days:?}"),
            ),
            "request",
        )?;
        Ok(request)
    }

    /// Requests visible to the actor, after `after` (id), at most `limit`, filtered.
    pub fn requests(
        &self,
        actor: &Administrator,
        filter: &RequestFilter,
        after: u64,
        limit: usize,
    ) -> RaResult<Vec<CertificateRequest>> {
        let needle = filter.name.as_ref().map(|n| n.to_ascii_lowercase());
        let mut out = Vec::new();
        let mut cursor = after;
        loop {
            let page = REQUESTS.scan(
                &self.store,
                KeyRange::starting_at(id_key(cursor.saturating_add(1))),
                512,
            )?;
            if page.is_empty() {
                return Ok(out);
            }
            for (_, r) in page {
                cursor = r.id.0;
                let visible = authorize(
                    actor,
                    Action::View,
                    Scope {
                        org: r.org,
                        dept: r.dept,
                    },
                )
                .is_ok();
                let matches = filter.status.is_none_or(|s| r.state.name() == s)
                    && filter.org.is_none_or(|o| r.org == o)
                    && filter.profile.as_ref().is_none_or(|p| &r.profile == p)
                    && needle
                        .as_ref()
                        .is_none_or(|n| r.names.iter().any(|x| x.value().contains(n.as_str())));
                if visible && matches {
                    out.push(r);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
        }
    }
}
