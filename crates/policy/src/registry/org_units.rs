//! Organizations and departments as one kind of thing, the way the certificate
//! manager's API sees them: one id names either (they share one sequence), and
//! both can be renamed and deleted.
//!
//! Deleting is refused while anything still hangs off the unit (departments,
//! domains, endpoints, administrators' scopes, requests, certificates): the
//! audit trail of a certificate must always name an owner that exists.

use ca_core::store::{KeyRange, WriteBatch};

use super::{check_text, id_key, RaError, RaResult, RegistrationAuthority};
use super::{ADMINS, DEPTS, DOMAINS, ENDPOINTS, NAMES, ORGS, REQUESTS};
use crate::audit::AuditEvent;
use crate::authz::{in_scope, org_scope, Action};
use crate::model::*;

/// An organization or a department, found by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgUnit {
    /// An organization.
    Organization(Organization),
    /// A department, with its organization.
    Department(Department, Organization),
}

impl OrgUnit {
    /// Its id (an organization's or a department's; they never collide).
    pub fn id(&self) -> u64 {
        match self {
            OrgUnit::Organization(o) => o.id.0,
            OrgUnit::Department(d, _) => d.id.0,
        }
    }

    /// The scope an object owned by it has.
    pub fn scope(&self) -> Scope {
        match self {
            OrgUnit::Organization(o) => org_scope(o.id),
            OrgUnit::Department(d, o) => Scope {
                org: o.id,
                dept: Some(d.id),
            },
        }
    }

    /// The organization (itself, or the department's).
    pub fn organization(&self) -> &Organization {
        match self {
            OrgUnit::Organization(o) | OrgUnit::Department(_, o) => o,
        }
    }
}

/// What changes on an organization: each `Some` replaces the current value.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChange {
    /// A new name.
    pub name: Option<String>,
    /// A new locality.
    pub locality: Option<String>,
    /// A new state or province.
    pub state: Option<String>,
    /// A new country (two upper-case letters).
    pub country: Option<String>,
}

impl RegistrationAuthority {
    /// The organization or department with this id, if visible to the actor.
    pub fn org_unit(&self, actor: &Administrator, id: u64) -> RaResult<OrgUnit> {
        let not_found = || RaError::NotFound(format!("organization or department {id}"));
        if let Some(org) = ORGS.get(&self.store, &id_key(id))? {
            return if self.organization(actor, org.id).is_ok() {
                Ok(OrgUnit::Organization(org))
            } else {
                Err(not_found())
            };
        }
        let dept = DEPTS.get(&self.store, &id_key(id))?.ok_or_else(not_found)?;
        let scope = Scope {
            org: dept.org,
            dept: Some(dept.id),
        };
        if !in_scope(&actor.role, scope) {
            return Err(not_found());
        }
        let org = self.organization_exists(dept.org)?;
        Ok(OrgUnit::Department(dept, org))
    }

    /// Renames or re-addresses an organization (MRAO), or renames a department (MRAO, or an
    /// RAO who manages its organization).
    pub fn update_org_unit(
        &self,
        actor: &Administrator,
        id: u64,
        change: OrganizationChange,
    ) -> RaResult<OrgUnit> {
        let unit = self.org_unit(actor, id)?;
        let mut batch = WriteBatch::new();
        let updated = match unit {
            OrgUnit::Organization(mut org) => {
                self.require(
                    actor,
                    Action::Administer,
                    org_scope(org.id),
                    "org.update",
                    &org.id.label(),
                )?;
                if let Some(name) = change.name.filter(|n| *n != org.name) {
                    check_text("name", &name, 128)?;
                    NAMES.delete(&mut batch, format!("org:{}", org.name).as_bytes());
                    self.claim_name(&mut batch, &format!("org:{name}"), org.id.0)?;
                    org.name = name;
                }
                for (field, value, slot) in [
                    ("locality", change.locality, &mut org.address.locality),
                    ("state", change.state, &mut org.address.state),
                ] {
                    if let Some(v) = value {
                        check_text(field, &v, 128)?;
                        *slot = Some(v);
                    }
                }
                if let Some(c) = change.country {
                    if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                        return Err(RaError::InvalidInput(
                            "country must be two upper-case letters".into(),
                        ));
                    }
                    org.address.country = Some(c);
                }
                ORGS.put(&mut batch, &id_key(org.id.0), &org)?;
                OrgUnit::Organization(org)
            }
            OrgUnit::Department(mut dept, org) => {
                self.require(
                    actor,
                    Action::ManageScope,
                    org_scope(org.id),
                    "dept.update",
                    &dept.id.label(),
                )?;
                if let Some(name) = change.name.filter(|n| *n != dept.name) {
                    check_text("name", &name, 128)?;
                    NAMES.delete(
                        &mut batch,
                        format!("dept:{}:{}", dept.org, dept.name).as_bytes(),
                    );
                    self.claim_name(&mut batch, &format!("dept:{}:{name}", dept.org), dept.id.0)?;
                    dept.name = name;
                }
                DEPTS.put(&mut batch, &id_key(dept.id.0), &dept)?;
                OrgUnit::Department(dept, org)
            }
        };
        let (action, label, name) = match &updated {
            OrgUnit::Organization(o) => ("org.update", o.id.label(), o.name.clone()),
            OrgUnit::Department(d, _) => ("dept.update", d.id.label(), d.name.clone()),
        };
        self.commit(
            batch,
            AuditEvent::success(&actor.username, action, &label, &name),
            &format!("'{name}'"),
        )?;
        Ok(updated)
    }

    /// Deletes an organization (MRAO) or a department (MRAO, or an RAO who manages its
    /// organization) that nothing refers to any more.
    pub fn delete_org_unit(&self, actor: &Administrator, id: u64) -> RaResult<()> {
        let unit = self.org_unit(actor, id)?;
        let scope = unit.scope();
        let (action, label) = match &unit {
            OrgUnit::Organization(o) => ("org.delete", o.id.label()),
            OrgUnit::Department(d, _) => ("dept.delete", d.id.label()),
        };
        let needed = match unit {
            OrgUnit::Organization(_) => Action::Administer,
            OrgUnit::Department(..) => Action::ManageScope,
        };
        self.require(actor, needed, org_scope(scope.org), action, &label)?;
        if let Some(what) = self.what_refers_to(scope)? {
            return Err(RaError::InvalidInput(format!(
                "{label} still has {what}; remove them first"
            )));
        }
        let mut batch = WriteBatch::new();
        match &unit {
            OrgUnit::Organization(o) => {
                ORGS.delete(&mut batch, &id_key(o.id.0));
                NAMES.delete(&mut batch, format!("org:{}", o.name).as_bytes());
            }
            OrgUnit::Department(d, _) => {
                DEPTS.delete(&mut batch, &id_key(d.id.0));
                NAMES.delete(&mut batch, format!("dept:{}:{}", d.org, d.name).as_bytes());
            }
        }
        self.commit(
            batch,
            AuditEvent::success(&actor.username, action, &label, ""),
            "organization",
        )?;
        Ok(())
    }

    /// What still belongs to a scope (an organization: anything in it or its departments).
    fn what_refers_to(&self, scope: Scope) -> RaResult<Option<&'static str>> {
        let within = |org: OrgId, dept: Option<DeptId>| {
            org == scope.org && (scope.dept.is_none() || dept == scope.dept)
        };
        if scope.dept.is_none()
            && DEPTS
                .scan(&self.store, KeyRange::all(), usize::MAX)?
                .iter()
                .any(|(_, d)| d.org == scope.org)
        {
            return Ok(Some("departments"));
        }
        if DOMAINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .iter()
            .any(|(_, d)| within(d.org, d.dept))
        {
            return Ok(Some("domains"));
        }
        if ENDPOINTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .iter()
            .any(|(_, e)| within(e.org, e.dept))
        {
            return Ok(Some("enrollment endpoints"));
        }
        let named_in_role = |role: &Role| match role {
            Role::Mrao => false,
            Role::Rao { orgs } => scope.dept.is_none() && orgs.contains(&scope.org),
            Role::Drao { depts } => scope.dept.is_some_and(|d| depts.contains(&d)),
        };
        if ADMINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .iter()
            .any(|(_, a)| named_in_role(&a.role))
        {
            return Ok(Some("administrators"));
        }
        if REQUESTS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .iter()
            .any(|(_, r)| within(r.org, r.dept))
        {
            return Ok(Some("certificate requests"));
        }
        let holds_certificates = match scope.dept {
            Some(dept) => !super::certificates::CERTIFICATES_BY_DEPT
                .ids_after(&self.store, &super::certificates::dept_prefix(dept), 0, 1)?
                .is_empty(),
            None => !super::certificates::CERTIFICATES_BY_ORG
                .ids_after(
                    &self.store,
                    &super::certificates::org_prefix(scope.org),
                    0,
                    1,
                )?
                .is_empty(),
        };
        if holds_certificates {
            return Ok(Some("certificates"));
        }
        Ok(None)
    }

    /// Removes a domain delegation: an organization's (MRAO) once no department holds a
    /// part of it, or a department's (MRAO, or an RAO who manages the organization).
    pub fn remove_domain_delegation(&self, actor: &Administrator, id: DomainId) -> RaResult<()> {
        let delegation = DOMAINS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))?;
        let scope = Scope {
            org: delegation.org,
            dept: delegation.dept,
        };
        let needed = match delegation.dept {
            None => Action::Administer,
            Some(_) => Action::ManageScope,
        };
        self.require(
            actor,
            needed,
            org_scope(scope.org),
            "domain.remove",
            &id.label(),
        )?;
        if delegation.dept.is_none()
            && self.all_domains()?.iter().any(|d| {
                d.org == delegation.org && d.dept.is_some() && delegation.name.contains(&d.name)
            })
        {
            return Err(RaError::InvalidInput(format!(
                "a department of organization {} holds a part of {}; remove that delegation first",
                delegation.org, delegation.name
            )));
        }
        let mut batch = WriteBatch::new();
        DOMAINS.delete(&mut batch, &id_key(id.0));
        NAMES.delete(
            &mut batch,
            format!(
                "domain:{}:{}:{}",
                delegation.org,
                delegation.dept.map(|d| d.0).unwrap_or(0),
                delegation.name
            )
            .as_bytes(),
        );
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "domain.remove",
                &id.label(),
                format!("{} from {}", delegation.name, super::scope_label(scope)),
            ),
            "domain",
        )?;
        Ok(())
    }
}
