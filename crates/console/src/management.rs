//! The management pages' routes: organizations, administrators, endpoints, CAs,
//! profiles and the audit log, and their few actions (each the RA's own, so
//! authorized and audited as through the REST API).

use std::sync::Arc;

use http::StatusCode;
use policy::model::{AdminId, Administrator, DeptId, EndpointId, OrgId};
use policy::registry::{RaError, RegistrationAuthority};

use crate::{pages, ra_refusal, refused, render, Page};

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

/// The page of a management route, or None when the path is not one.
pub(crate) async fn route(
    ra: Arc<RegistrationAuthority>,
    admin: Administrator,
    csrf: String,
    method: &str,
    segments: &[&str],
    query: &str,
    form: &[(String, String)],
) -> Option<Page> {
    let id = |s: &str| s.parse::<u64>().ok();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
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
