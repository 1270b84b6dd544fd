//! The management pages' routes: organizations, administrators, endpoints, CAs,
//! profiles and the audit log, and their few actions (each the RA's own, so
//! authorized and audited as through the REST API).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use http::StatusCode;
use policy::model::{
    AdminId, Administrator, ApprovalMode, CertificateClass, DeptId, EndpointId, OrgId, Privilege,
    Privileges, Role,
};
use policy::registry::{
    parse_networks, ChallengeBinding, EstSettings, NewEndpoint, RaError, RegistrationAuthority,
    RoleName,
};

use crate::pages::{class_word, privilege_word};
use crate::{pages, ra_refusal, refused, render, Page};

/// A submitted form's fields.
struct Form<'a>(&'a [(String, String)]);

impl Form<'_> {
    /// The first value of a field, trimmed ("" when absent).
    fn field(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The first value of a field as typed: passwords are not trimmed (the login form
    /// does not trim them either).
    fn secret(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value of a field (checkboxes), trimmed.
    fn all<'n>(&'n self, name: &'n str) -> impl Iterator<Item = &'n str> + 'n {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

/// The role the new-administrator form asks for, with its scope; a scope that does
/// not belong to the role is refused rather than dropped (as the REST API does), so
/// that a slip of the mouse cannot create a wider administrator than meant.
fn role_of(form: &Form) -> Result<Role, RaError> {
    let ids = |name: &str| -> Result<Vec<u64>, RaError> {
        form.all(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| RaError::InvalidInput(format!("{name}: not an id")))
            })
            .collect()
    };
    let (orgs, depts) = (ids("org")?, ids("dept")?);
    let role: RoleName = form.field("role").parse().map_err(RaError::InvalidInput)?;
    match role {
        RoleName::Mrao if orgs.is_empty() && depts.is_empty() => Ok(Role::Mrao),
        RoleName::Mrao => Err(RaError::InvalidInput(
            "an MRAO sees everything: leave the organizations and departments unticked".into(),
        )),
        RoleName::Rao if depts.is_empty() => Ok(Role::Rao {
            orgs: orgs.into_iter().map(OrgId).collect(),
        }),
        RoleName::Rao => Err(RaError::InvalidInput(
            "an RAO is delegated organizations, not departments".into(),
        )),
        RoleName::Drao if orgs.is_empty() => Ok(Role::Drao {
            depts: depts.into_iter().map(DeptId).collect(),
        }),
        RoleName::Drao => Err(RaError::InvalidInput(
            "a DRAO is delegated departments, not organizations".into(),
        )),
    }
}

/// The ticked privileges (`class:privilege`, in the words the form wrote them).
fn privileges_of(form: &Form) -> Result<Privileges, RaError> {
    let mut out: BTreeMap<CertificateClass, BTreeSet<Privilege>> = BTreeMap::new();
    for value in form.all("privilege") {
        let found = value.split_once(':').and_then(|(class, privilege)| {
            let class = CertificateClass::ALL
                .into_iter()
                .find(|c| class_word(*c).0 == class)?;
            let privilege = Privilege::ALL
                .into_iter()
                .find(|p| privilege_word(*p) == privilege)?;
            Some((class, privilege))
        });
        let (class, privilege) = found.ok_or_else(|| {
            RaError::InvalidInput(format!(
                "unknown privilege '{}'",
                value.chars().take(40).collect::<String>()
            ))
        })?;
        out.entry(class).or_default().insert(privilege);
    }
    Ok(Privileges(out))
}

/// The new-endpoint form as the RA's request.
fn new_endpoint(form: &Form) -> Result<NewEndpoint, RaError> {
    let org = form
        .field("org")
        .parse()
        .map(OrgId)
        .map_err(|_| RaError::InvalidInput("choose an organization".into()))?;
    let dept = match form.field("dept").as_str() {
        "" => None,
        text => Some(DeptId(text.parse().map_err(|_| {
            RaError::InvalidInput("department: not an id".into())
        })?)),
    };
    let approval = match form.field("approval").as_str() {
        "auto" => ApprovalMode::Auto,
        "queue" => ApprovalMode::Queue,
        _ => return Err(RaError::InvalidInput("approval: auto or queue".into())),
    };
    Ok(NewEndpoint {
        name: form.field("name"),
        kind: form.field("kind"),
        org,
        dept,
        profile: form.field("profile"),
        default_term_days: None,
        approval,
        eab_required: form.field("eab_required") == "yes",
        est_username: None,
        intune: None,
    })
}

/// The allow-lists form: one textarea per role, a network per line.
fn allow_list_changes(
    form: &Form,
) -> Result<Vec<(RoleName, Vec<policy::registry::AllowedNetwork>)>, RaError> {
    RoleName::ALL
        .into_iter()
        .filter(|role| form.0.iter().any(|(k, _)| k == role.name()))
        .map(|role| {
            let text = form.field(role.name());
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            Ok((role, parse_networks(&lines)?))
        })
        .collect()
}

/// The name of an endpoint the administrator can see (for the pages that show a secret).
fn endpoint_name(ra: &RegistrationAuthority, admin: &Administrator, id: EndpointId) -> String {
    ra.endpoints(admin)
        .ok()
        .and_then(|all| all.into_iter().find(|e| e.id == id))
        .map(|e| e.name)
        .unwrap_or_default()
}

/// Runs an RA action off the async threads; on success, sends the browser to `then`.
async fn act<F>(ra: Arc<RegistrationAuthority>, admin: Administrator, then: String, f: F) -> Page
where
    F: FnOnce(&RegistrationAuthority, &Administrator) -> Result<(), RaError> + Send + 'static,
{
    match tokio::task::spawn_blocking(move || f(&ra, &admin)).await {
        Ok(Ok(())) => Page::Redirect(then, Vec::new()),
        Ok(Err(e)) => ra_refusal(&e),
        Err(_) => refused(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "The action did not finish.",
        ),
    }
}

/// What a signed-in request to a management page asks.
pub(crate) struct Asked<'a> {
    pub method: &'a str,
    /// The path's segments (`["console", "endpoints", "3", "rotate-secret"]`).
    pub segments: &'a [&'a str],
    pub query: &'a str,
    /// The posted form (empty for a GET).
    pub form: &'a [(String, String)],
    /// The address the request came from (a change of the allow-lists is checked
    /// against it).
    pub client: Option<IpAddr>,
}

/// The page of a management route, or None when the path is not one.
pub(crate) async fn route(
    ra: Arc<RegistrationAuthority>,
    admin: Administrator,
    csrf: String,
    asked: Asked<'_>,
) -> Option<Page> {
    let Asked {
        method,
        segments,
        query,
        form,
        client,
    } = asked;
    let id = |s: &str| s.parse::<u64>().ok();
    let form = Form(form);
    let field = |name: &str| form.field(name);
    Some(match (method, segments) {
        ("GET", ["console", "organizations"]) => {
            render(ra, admin, csrf, "Organizations", pages::organizations).await
        }
        ("POST", ["console", "organizations"]) => {
            let name = field("name");
            act(
                ra,
                admin,
                "/console/organizations".into(),
                move |ra, admin| {
                    ra.create_organization(admin, &name, Default::default())
                        .map(|_| ())
                },
            )
            .await
        }
        ("POST", ["console", "departments"]) => {
            let (org, name) = (OrgId(id(&field("org"))?), field("name"));
            act(
                ra,
                admin,
                "/console/organizations".into(),
                move |ra, admin| ra.create_department(admin, org, &name).map(|_| ()),
            )
            .await
        }
        ("POST", ["console", "domains"]) => {
            let (name, org) = (field("name"), OrgId(id(&field("org"))?));
            let dept = id(&field("dept")).map(DeptId);
            act(
                ra,
                admin,
                "/console/organizations".into(),
                move |ra, admin| ra.delegate_domain(admin, &name, org, dept).map(|_| ()),
            )
            .await
        }
        ("GET", ["console", "administrators"]) => {
            render(ra, admin, csrf, "Administrators", pages::administrators).await
        }
        ("POST", ["console", "administrators"]) => {
            let (username, password) = (field("username"), form.secret("password"));
            let (role, privileges) = match (role_of(&form), privileges_of(&form)) {
                (Ok(role), Ok(privileges)) => (role, privileges),
                (Err(e), _) | (_, Err(e)) => return Some(ra_refusal(&e)),
            };
            act(
                ra,
                admin,
                "/console/administrators".into(),
                move |ra, admin| {
                    ra.create_admin(admin, &username, &password, role, privileges)
                        .map(|_| ())
                },
            )
            .await
        }
        ("POST", ["console", "password"]) => {
            let target = AdminId(id(&field("admin"))?);
            let (current, new) = (form.secret("current"), form.secret("new"));
            // One's own password ends one's session: sign in again with the new one.
            let then = if target == admin.id {
                "/console/login"
            } else {
                "/console/administrators"
            };
            act(ra, admin, then.into(), move |ra, admin| {
                let current = Some(current.as_str()).filter(|c| !c.is_empty());
                ra.change_password(admin, target, current, &new, client)
                    .map(|_| ())
            })
            .await
        }
        ("POST", ["console", "api-keys"]) => {
            let (owner, label) = (AdminId(id(&field("admin"))?), field("label"));
            render(ra, admin, csrf, "New API key", move |ra, admin, _| {
                let (record, key) = ra.create_api_key(admin, owner, &label)?;
                let owner = ra.admin(record.admin)?.username;
                Ok(pages::new_api_key(&owner, &record, &key))
            })
            .await
        }
        ("POST", ["console", "api-keys", "revoke"]) => {
            let key = field("id");
            act(
                ra,
                admin,
                "/console/administrators".into(),
                move |ra, admin| ra.revoke_api_key(admin, &key).map(|_| ()),
            )
            .await
        }
        ("POST", ["console", "administrators", target, "active"]) => {
            let target = id(target)?;
            let active = field("active") == "yes";
            act(
                ra,
                admin,
                "/console/administrators".into(),
                move |ra, admin| {
                    ra.set_admin_active(admin, AdminId(target), active)
                        .map(|_| ())
                },
            )
            .await
        }
        ("POST", ["console", "administrators", target, "unlock"]) => {
            let target = id(target)?;
            act(
                ra,
                admin,
                "/console/administrators".into(),
                move |ra, admin| ra.unlock_login(admin, AdminId(target)).map(|_| ()),
            )
            .await
        }
        ("GET", ["console", "endpoints"]) => {
            render(ra, admin, csrf, "Enrollment endpoints", pages::endpoints).await
        }
        ("POST", ["console", "endpoints"]) => {
            let new = match new_endpoint(&form) {
                Ok(new) => new,
                Err(e) => return Some(ra_refusal(&e)),
            };
            render(ra, admin, csrf, "New endpoint", move |ra, admin, _| {
                let (endpoint, secret) = ra.create_endpoint(admin, new)?;
                Ok(pages::new_endpoint_secret(&endpoint.name, &secret))
            })
            .await
        }
        ("POST", ["console", "endpoints", endpoint, "rotate-secret"]) => {
            let endpoint = EndpointId(id(endpoint)?);
            render(
                ra,
                admin,
                csrf,
                "New endpoint secret",
                move |ra, admin, _| {
                    let secret = ra.rotate_endpoint_secret(admin, endpoint)?;
                    Ok(pages::new_endpoint_secret(
                        &endpoint_name(ra, admin, endpoint),
                        &secret,
                    ))
                },
            )
            .await
        }
        ("POST", ["console", "endpoints", endpoint, "scep-challenges"]) => {
            let endpoint = EndpointId(id(endpoint)?);
            render(
                ra,
                admin,
                csrf,
                "New one-time challenge",
                move |ra, admin, _| {
                    let (challenge, expires_at) =
                        ra.mint_scep_challenge(admin, endpoint, ChallengeBinding::default())?;
                    Ok(pages::new_scep_challenge(
                        &endpoint_name(ra, admin, endpoint),
                        &challenge,
                        expires_at,
                    ))
                },
            )
            .await
        }
        ("POST", ["console", "endpoints", endpoint, "est-auth"]) => {
            let endpoint = EndpointId(id(endpoint)?);
            let settings = EstSettings {
                auth: Some(field("auth")),
                ..EstSettings::default()
            };
            act(ra, admin, "/console/endpoints".into(), move |ra, admin| {
                ra.set_est_settings(admin, endpoint, settings).map(|_| ())
            })
            .await
        }
        ("GET", ["console", "access"]) => {
            render(ra, admin, csrf, "Access control", move |ra, admin, csrf| {
                pages::access(ra, admin, csrf, client)
            })
            .await
        }
        ("POST", ["console", "access"]) => {
            let changes = match allow_list_changes(&form) {
                Ok(changes) => changes,
                Err(e) => return Some(ra_refusal(&e)),
            };
            act(ra, admin, "/console/access".into(), move |ra, admin| {
                // Only the lists that differ: an unchanged one keeps who set it and when,
                // and the audit log names what changed.
                let current = ra.allow_lists(admin)?;
                let changed: Vec<_> = changes
                    .into_iter()
                    .filter(|(role, networks)| {
                        current
                            .iter()
                            .find(|l| l.role == *role)
                            .is_none_or(|l| &l.networks != networks)
                    })
                    .collect();
                if changed.is_empty() {
                    return Ok(());
                }
                ra.set_allow_lists(admin, client, &changed).map(|_| ())
            })
            .await
        }
        ("POST", ["console", "endpoints", endpoint, "eab-keys"]) => {
            let endpoint = EndpointId(id(endpoint)?);
            render(ra, admin, csrf, "New EAB key", move |ra, admin, _| {
                let key = ra.add_named_eab_key(admin, endpoint, "")?;
                let name = ra
                    .endpoints(admin)?
                    .into_iter()
                    .find(|e| e.id == endpoint)
                    .map(|e| e.name)
                    .unwrap_or_default();
                Ok(pages::new_eab_key(&name, &key))
            })
            .await
        }
        ("GET", ["console", "authorities"]) => {
            render(ra, admin, csrf, "Certification authorities", |ra, _, _| {
                Ok(pages::authorities(ra))
            })
            .await
        }
        ("GET", ["console", "profiles"]) => {
            render(ra, admin, csrf, "Certificate profiles", |ra, admin, _| {
                Ok(pages::profiles(ra, admin))
            })
            .await
        }
        ("GET", ["console", "audit"]) => {
            let before = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "before")
                .and_then(|(_, v)| v.parse().ok());
            render(ra, admin, csrf, "Audit log", move |ra, admin, _| {
                pages::audit(ra, admin, before)
            })
            .await
        }
        _ => return None,
    })
}
