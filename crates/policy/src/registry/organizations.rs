//! Organizations, their departments, and the delegation of domains (and IP
//! networks) to an organization or one of its departments: who owns which names.

use ca_core::store::{KeyRange, WriteBatch};

use super::{check_text, id_key, now, scope_label, RaError, RaResult, RegistrationAuthority};
use super::{DEPTS, DOMAINS, ORGS, ORG_UNITS};
use crate::audit::AuditEvent;
use crate::authz::{in_scope, Action};
use crate::model::*;
use crate::names::DelegatedName;

impl RegistrationAuthority {
    /// Creates an organization (MRAO).
    pub fn create_organization(
        &self,
        actor: &Administrator,
        name: &str,
        address: Address,
    ) -> RaResult<Organization> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "org.create",
            name,
        )?;
        check_text("name", name, 128)?;
        for (field, value) in [("locality", &address.locality), ("state", &address.state)] {
            if let Some(v) = value {
                check_text(field, v, 128)?;
            }
        }
        if let Some(c) = &address.country {
            if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                return Err(RaError::InvalidInput(
                    "country must be two upper-case letters".into(),
                ));
            }
        }
        let org = Organization {
            id: OrgId(self.next_id(ORG_UNITS)),
            name: name.to_string(),
            address,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("org:{name}"), org.id.0)?;
        ORGS.put(&mut batch, &id_key(org.id.0), &org)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "org.create", &org.id.label(), name),
            &format!("organization '{name}'"),
        )?;
        Ok(org)
    }

    /// One organization, if visible to the actor.
    pub fn organization(&self, actor: &Administrator, id: OrgId) -> RaResult<Organization> {
        let org = ORGS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))?;
        if !self.sees_org(actor, id)? {
            return Err(RaError::NotFound(id.label()));
        }
        Ok(org)
    }

    fn sees_org(&self, actor: &Administrator, org: OrgId) -> RaResult<bool> {
        Ok(match &actor.role {
            Role::Mrao => true,
            Role::Rao { orgs } => orgs.contains(&org),
            Role::Drao { depts } => depts.iter().any(|d| {
                DEPTS
                    .get(&self.store, &id_key(d.0))
                    .ok()
                    .flatten()
                    .is_some_and(|dept| dept.org == org)
            }),
        })
    }

    /// Organizations visible to the actor.
    pub fn organizations(&self, actor: &Administrator) -> RaResult<Vec<Organization>> {
        let all = ORGS.scan(&self.store, KeyRange::all(), usize::MAX)?;
        let mut out = Vec::new();
        for (_, org) in all {
            if self.sees_org(actor, org.id)? {
                out.push(org);
            }
        }
        Ok(out)
    }

    /// Creates a department (MRAO, or an RAO with a manage privilege in that organization).
    pub fn create_department(
        &self,
        actor: &Administrator,
        org: OrgId,
        name: &str,
    ) -> RaResult<Department> {
        self.organization_exists(org)?;
        self.require(
            actor,
            Action::ManageScope,
            crate::authz::org_scope(org),
            "dept.create",
            &org.label(),
        )?;
        check_text("name", name, 128)?;
        let dept = Department {
            id: DeptId(self.next_id(ORG_UNITS)),
            org,
            name: name.to_string(),
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("dept:{org}:{name}"), dept.id.0)?;
        DEPTS.put(&mut batch, &id_key(dept.id.0), &dept)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "dept.create", &dept.id.label(), name),
            &format!("department '{name}'"),
        )?;
        Ok(dept)
    }

    pub(super) fn organization_exists(&self, org: OrgId) -> RaResult<Organization> {
        ORGS.get(&self.store, &id_key(org.0))?
            .ok_or_else(|| RaError::NotFound(org.label()))
    }

    /// A department by id (internal: no authorization).
    pub fn department(&self, id: DeptId) -> RaResult<Department> {
        DEPTS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// Departments visible to the actor, optionally of one organization.
    pub fn departments(
        &self,
        actor: &Administrator,
        org: Option<OrgId>,
    ) -> RaResult<Vec<Department>> {
        Ok(DEPTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| org.is_none_or(|o| d.org == o))
            .filter(|d| {
                in_scope(
                    &actor.role,
                    Scope {
                        org: d.org,
                        dept: Some(d.id),
                    },
                )
            })
            .collect())
    }

    pub(super) fn scope_of(&self, org: OrgId, dept: Option<DeptId>) -> RaResult<Scope> {
        self.organization_exists(org)?;
        if let Some(d) = dept {
            let dept_record = self.department(d)?;
            if dept_record.org != org {
                return Err(RaError::InvalidInput(format!(
                    "department {d} is not in organization {org}"
                )));
            }
        }
        Ok(Scope { org, dept })
    }

    /// Delegates a domain (or IP network) to an organization or one of its departments.
    pub fn delegate_domain(
        &self,
        actor: &Administrator,
        name: &str,
        org: OrgId,
        dept: Option<DeptId>,
    ) -> RaResult<DomainDelegation> {
        let scope = self.scope_of(org, dept)?;
        let delegated: DelegatedName = name.parse().map_err(RaError::InvalidInput)?;
        let existing = self.all_domains()?;
        match dept {
            // Giving an organization a name is the MRAO's decision (it vouches for the name).
            None => self.require(
                actor,
                Action::Administer,
                scope,
                "domain.delegate",
                &scope_label(scope),
            )?,
            // Handing part of the organization's names down to a department is the organization's.
            Some(_) => {
                self.require(
                    actor,
                    Action::ManageScope,
                    crate::authz::org_scope(org),
                    "domain.delegate",
                    &scope_label(scope),
                )?;
                if !existing
                    .iter()
                    .any(|d| d.org == org && d.dept.is_none() && d.name.contains(&delegated))
                {
                    return Err(RaError::InvalidInput(format!(
                        "{delegated} is not under a domain delegated to organization {org}; delegate it to the organization first"
                    )));
                }
            }
        }
        if let Some(clash) = existing
            .iter()
            .find(|d| d.org != org && (d.name.contains(&delegated) || delegated.contains(&d.name)))
        {
            return Err(RaError::Conflict(format!(
                "{delegated} overlaps {} of organization {}; a delegation of it",
                clash.name, clash.org
            )));
        }
        let delegation = DomainDelegation {
            id: DomainId(self.next_id(DOMAINS.name())),
            name: delegated,
            org,
            dept,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(
            &mut batch,
            &format!(
                "domain:{org}:{}:{}",
                dept.map(|d| d.0).unwrap_or(0),
                delegation.name
            ),
            delegation.id.0,
        )?;
        DOMAINS.put(&mut batch, &id_key(delegation.id.0), &delegation)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "domain.delegate",
                &delegation.id.label(),
                format!("{} to {}", delegation.name, scope_label(scope)),
            ),
            &format!("delegation of {}", delegation.name),
        )?;
        Ok(delegation)
    }

    /// Domain delegations visible to the actor.
    pub fn domains(&self, actor: &Administrator) -> RaResult<Vec<DomainDelegation>> {
        let mut out = Vec::new();
        for (_, d) in DOMAINS.scan(&self.store, KeyRange::all(), usize::MAX)? {
            if in_scope(
                &actor.role,
                Scope {
                    org: d.org,
                    dept: d.dept,
                },
            ) || self.sees_org(actor, d.org)? && d.dept.is_none()
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    pub(super) fn all_domains(&self) -> RaResult<Vec<DomainDelegation>> {
        Ok(DOMAINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// The delegations an organization / department may use (the organization-wide ones and,
    /// with a department, its own): for protocol servers that check names before a CSR exists
    /// (an ACME newOrder), with [`check_names`](crate::names::check_names).
    pub fn delegations_usable_by(
        &self,
        org: OrgId,
        dept: Option<DeptId>,
    ) -> RaResult<Vec<DomainDelegation>> {
        Ok(self
            .all_domains()?
            .into_iter()
            .filter(|d| d.org == org && (d.dept.is_none() || d.dept == dept))
            .collect())
    }
}
