//! Authorization: may this administrator do this action on an object in this scope?
//!
//! A pure function of the actor, the action and the object's scope, so the
//! permission matrix can be tested cell by cell.

use crate::model::{Administrator, CertificateClass, DeptId, OrgId, Privilege, Role, Scope};

/// What an administrator wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Submit a certificate request of a class in a scope.
    RequestCertificate(CertificateClass),
    /// Approve or decline a request of a class in a scope.
    ApproveCertificate(CertificateClass),
    /// Revoke a certificate of a class in a scope.
    RevokeCertificate(CertificateClass),
    /// See requests, certificates and the audit entries of a scope.
    View,
    /// Create or change departments and sub-delegated domains, import external certificates, in a scope.
    ManageScope,
    /// Create or change enrollment endpoints that issue a class of certificates.
    ManageEndpoints(CertificateClass),
    /// Create organizations and administrators; change configuration. MRAO only.
    Administer,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The administrator is deactivated.
    #[error("administrator '{0}' is deactivated")]
    Inactive(String),
    /// The object is outside the administrator's organizations / departments.
    #[error("{0} is outside your scope")]
    OutOfScope(String),
    /// The administrator lacks a privilege.
    #[error("you lack the '{privilege:?}' privilege for {class:?} certificates")]
    MissingPrivilege {
        /// The class.
        class: CertificateClass,
        /// The privilege.
        privilege: Privilege,
    },
    /// Only an MRAO may do this.
    #[error("only an MRAO may do this")]
    MraoOnly,
}

/// How an organization's departments are known to the check: a DRAO's scope is a
/// set of departments, and an object in a department also sits in its organization.
pub fn in_scope(role: &Role, scope: Scope) -> bool {
    match role {
        Role::Mrao => true,
        Role::Rao { orgs } => orgs.contains(&scope.org),
        Role::Drao { depts } => scope.dept.is_some_and(|d| depts.contains(&d)),
    }
}

fn describe(scope: Scope) -> String {
    match scope.dept {
        Some(d) => format!("department {d} of organization {}", scope.org),
        None => format!("organization {}", scope.org),
    }
}

/// Decides one action. `scope` is where the object is (for `Administer`, ignored).
pub fn authorize(admin: &Administrator, action: Action, scope: Scope) -> Result<(), Denied> {
    if !admin.active {
        return Err(Denied::Inactive(admin.username.clone()));
    }
    if admin.role == Role::Mrao {
        return Ok(());
    }
    if action == Action::Administer {
        return Err(Denied::MraoOnly);
    }
    if !in_scope(&admin.role, scope) {
        return Err(Denied::OutOfScope(describe(scope)));
    }
    let need = |class: CertificateClass, privilege: Privilege| {
        if admin.privileges.allows(class, privilege) {
            Ok(())
        } else {
            Err(Denied::MissingPrivilege { class, privilege })
        }
    };
    match action {
        Action::RequestCertificate(class) => need(class, Privilege::Request),
        Action::ApproveCertificate(class) => need(class, Privilege::Approve),
        Action::RevokeCertificate(class) => need(class, Privilege::Revoke),
        Action::View => Ok(()),
        Action::ManageEndpoints(class) => need(class, Privilege::Manage),
        Action::ManageScope => {
            if admin.privileges.allows_any(Privilege::Manage) {
                Ok(())
            } else {
                Err(Denied::MissingPrivilege {
                    class: CertificateClass::TlsServer,
                    privilege: Privilege::Manage,
                })
            }
        }
        Action::Administer => Err(Denied::MraoOnly),
    }
}

/// The scope of an organization-level object.
pub fn org_scope(org: OrgId) -> Scope {
    Scope { org, dept: None }
}

/// The scope of a department-level object.
pub fn dept_scope(org: OrgId, dept: DeptId) -> Scope {
    Scope {
        org,
        dept: Some(dept),
    }
}
