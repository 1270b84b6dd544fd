//! Method and path into a [`Route`]. Paths are the same under `/api/` and
//! `/private/api/`, `v1` and `v2` are aliases for the SSL area, and a trailing
//! slash is accepted everywhere.

use http::Method;

use crate::error::{code, ScmError};

/// The certificate areas of the API, each over one class of certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `/ssl/v1` and `/ssl/v2`: TLS server certificates.
    Ssl,
    /// `/device/v1`: device certificates.
    Device,
    /// `/smime/v1` and `/smime/v2`: client (S/MIME) certificates.
    Smime,
}

/// The certificate lifecycle operations of an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRoute {
    /// GET (or HEAD, the count) the list.
    List,
    /// GET the profiles.
    Types,
    /// GET the custom fields.
    CustomFields,
    /// POST a request.
    Enroll,
    /// GET a certificate; the format from the path, or from `?format=`.
    Collect(u64, Option<String>),
    /// GET the details.
    Details(u64),
    /// POST renew by the request's id (SSL `renewById`, device and S/MIME `renew/order`).
    RenewById(u64),
    /// POST renew by serial number.
    RenewBySerial(String),
    /// POST renew by the renew id.
    RenewByRenewId(String),
    /// POST replace.
    Replace(u64),
    /// POST revoke by the request's id.
    Revoke(u64),
    /// POST revoke by serial number.
    RevokeBySerial(String),
    /// POST approve.
    Approve(u64),
    /// POST decline.
    Decline(u64),
    /// POST imports of certificates issued elsewhere.
    Import,
    /// POST the revocation of an imported certificate by its outside CA.
    RevokeManual,
    /// DELETE an imported certificate.
    Delete(u64),
}

/// Every operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// GET the organizations with their departments.
    Organizations,
    /// POST an organization or (with `parentOrgName`) a department.
    CreateOrganization,
    /// GET one organization or department.
    Organization(u64),
    /// PUT changes.
    UpdateOrganization(u64),
    /// DELETE one.
    DeleteOrganization(u64),
    /// GET the units an administrator role manages.
    ManagedBy(String),
    /// GET (or HEAD) the domains.
    Domains,
    /// GET the deprecated count.
    DomainCount,
    /// POST a domain with its delegations.
    CreateDomain,
    /// GET one domain with its delegations.
    Domain(u64),
    /// DELETE a domain (every delegation of it).
    DeleteDomain(u64),
    /// POST a delegation of a domain.
    Delegate(u64),
    /// DELETE a delegation of a domain.
    Undelegate(u64),
    /// A certificate area.
    Certificates(Area, CertRoute),
    /// GET (or HEAD) the ACME accounts.
    AcmeAccounts,
    /// POST an ACME account.
    CreateAcmeAccount,
    /// GET one.
    AcmeAccount(u64),
    /// PUT its name.
    RenameAcmeAccount(u64),
    /// DELETE it.
    DeleteAcmeAccount(u64),
    /// POST a report request.
    Report(crate::Report),
}

/// Whether the method is GET or HEAD (HEAD is the count of a list).
fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

fn id(text: &str, code: i32, what: &str) -> Result<u64, ScmError> {
    text.parse::<u64>()
        .map_err(|_| ScmError::bad(code, format!("'{}' is not a valid {what}", short(text))))
}

fn short(text: &str) -> String {
    text.chars().take(64).collect()
}

fn unknown(path: &str) -> ScmError {
    ScmError::not_found(code::INTERNAL, format!("No operation at {}", short(path)))
}

/// The path below `/api/` (or `/private/api/`), and whether it came under `/private`.
pub fn strip_prefix(path: &str) -> Option<(&str, bool)> {
    if let Some(rest) = path.strip_prefix("/private/api/") {
        Some((rest, true))
    } else {
        path.strip_prefix("/api/").map(|rest| (rest, false))
    }
}

/// Parses method and path (below `/api/`).
pub fn route(method: &Method, below_api: &str) -> Result<Route, ScmError> {
    let trimmed = below_api.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    let (area, version, rest) = match segments.as_slice() {
        [area, version, rest @ ..] => (*area, *version, rest),
        _ => return Err(unknown(below_api)),
    };
    let m = method;
    match (area, version) {
        ("organization", "v1") => organization(m, rest),
        ("domain", "v1") => domain(m, rest),
        ("ssl", "v1" | "v2") => certificates(Area::Ssl, m, rest),
        ("device", "v1") => certificates(Area::Device, m, rest),
        ("smime", "v1" | "v2") => certificates(Area::Smime, m, rest),
        ("acme", "v1") => acme(m, rest),
        ("report", "v1") => match rest {
            [name] if m == Method::POST => crate::Report::parse(name).map(|r| Ok(Route::Report(r))),
            _ => None,
        },
        _ => None,
    }
    .ok_or_else(|| unknown(below_api))?
}

fn organization(m: &Method, rest: &[&str]) -> Option<Result<Route, ScmError>> {
    let bad = |t: &str| id(t, code::BAD_ORG, "organization id");
    Some(match rest {
        [] if is_read(m) => Ok(Route::Organizations),
        [] if m == Method::POST => Ok(Route::CreateOrganization),
        ["managedBy" | "managed-by", role] if is_read(m) => Ok(Route::ManagedBy(role.to_string())),
        [i] if is_read(m) => bad(i).map(Route::Organization),
        [i] if m == Method::PUT => bad(i).map(Route::UpdateOrganization),
        [i] if m == Method::DELETE => bad(i).map(Route::DeleteOrganization),
        _ => return None,
    })
}

fn domain(m: &Method, rest: &[&str]) -> Option<Result<Route, ScmError>> {
    let bad = |t: &str| id(t, code::NO_DOMAIN, "domain id");
    Some(match rest {
        [] if is_read(m) => Ok(Route::Domains),
        [] if m == Method::POST => Ok(Route::CreateDomain),
        ["count"] if is_read(m) => Ok(Route::DomainCount),
        [i] if is_read(m) => bad(i).map(Route::Domain),
        [i] if m == Method::DELETE => bad(i).map(Route::DeleteDomain),
        [i, "delegation"] if m == Method::POST => bad(i).map(Route::Delegate),
        [i, "delegation"] if m == Method::DELETE => bad(i).map(Route::Undelegate),
        _ => return None,
    })
}

fn acme(m: &Method, rest: &[&str]) -> Option<Result<Route, ScmError>> {
    let bad = |t: &str| id(t, code::NOT_FOUND, "ACME account id");
    Some(match rest {
        ["pca", "account"] if is_read(m) => Ok(Route::AcmeAccounts),
        ["pca", "account"] if m == Method::POST => Ok(Route::CreateAcmeAccount),
        ["pca", "account", i] if is_read(m) => bad(i).map(Route::AcmeAccount),
        ["pca", "account", i] if m == Method::PUT => bad(i).map(Route::RenameAcmeAccount),
        ["pca", "account", i] if m == Method::DELETE => bad(i).map(Route::DeleteAcmeAccount),
        _ => return None,
    })
}

fn certificates(area: Area, m: &Method, rest: &[&str]) -> Option<Result<Route, ScmError>> {
    let cert = |t: &str| id(t, code::BAD_CERT_ID, "certificate id");
    let post = m == Method::POST;
    let ssl = area == Area::Ssl;
    let route = match rest {
        [] if is_read(m) => Ok(CertRoute::List),
        ["types"] if is_read(m) => Ok(CertRoute::Types),
        ["customFields"] if is_read(m) => Ok(CertRoute::CustomFields),
        ["enroll"] if post => Ok(CertRoute::Enroll),
        ["collect", i] if is_read(m) => cert(i).map(|i| CertRoute::Collect(i, None)),
        ["collect", i, format] if is_read(m) => {
            cert(i).map(|i| CertRoute::Collect(i, Some(format.to_string())))
        }
        ["renewById", i] if post && ssl => cert(i).map(CertRoute::RenewById),
        ["renew", renew_id] if post && ssl => Ok(CertRoute::RenewByRenewId(renew_id.to_string())),
        ["renew", "order", i] if post => cert(i).map(CertRoute::RenewById),
        ["renew", "serial", serial] if post => Ok(CertRoute::RenewBySerial(serial.to_string())),
        ["replace", i] if post && ssl => cert(i).map(CertRoute::Replace),
        ["replace", "order", i] if post => cert(i).map(CertRoute::Replace),
        ["revoke", "manual"] if post => Ok(CertRoute::RevokeManual),
        ["import"] if post => Ok(CertRoute::Import),
        ["revoke", "serial", serial] if post => Ok(CertRoute::RevokeBySerial(serial.to_string())),
        ["revoke", "order", i] if post => cert(i).map(CertRoute::Revoke),
        ["revoke", i] if post && ssl => cert(i).map(CertRoute::Revoke),
        ["approve", i] if post => cert(i).map(CertRoute::Approve),
        ["decline", i] if post => cert(i).map(CertRoute::Decline),
        [i] if is_read(m) => cert(i).map(CertRoute::Details),
        [i] if m == Method::DELETE => cert(i).map(CertRoute::Delete),
        _ => return None,
    };
    Some(route.map(|r| Route::Certificates(area, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, path: &str) -> Result<Route, ScmError> {
        let (below, _) = strip_prefix(path).expect("under /api/");
        route(&method, below)
    }

    #[test]
    fn both_prefixes_both_versions_and_a_trailing_slash() {
        for path in [
            "/api/ssl/v1/enroll",
            "/api/ssl/v1/enroll/",
            "/api/ssl/v2/enroll",
            "/private/api/ssl/v1/enroll",
        ] {
            assert_eq!(
                r(Method::POST, path).unwrap(),
                Route::Certificates(Area::Ssl, CertRoute::Enroll),
                "{path}"
            );
        }
        assert!(strip_prefix("/private/api/x").unwrap().1);
        assert!(strip_prefix("/apix").is_none());
    }

    #[test]
    fn collect_in_both_forms() {
        assert_eq!(
            r(Method::GET, "/api/ssl/v1/collect/12/x509CO").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::Collect(12, Some("x509CO".into())))
        );
        assert_eq!(
            r(Method::GET, "/api/ssl/v1/collect/12").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::Collect(12, None))
        );
        let bad = r(Method::GET, "/api/ssl/v1/collect/abc").unwrap_err();
        assert_eq!(bad.code, code::BAD_CERT_ID);
    }

    #[test]
    fn imports_manual_revocations_and_deletes() {
        assert_eq!(
            r(Method::POST, "/api/ssl/v1/revoke/manual").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::RevokeManual)
        );
        assert_eq!(
            r(Method::POST, "/api/ssl/v2/import").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::Import)
        );
        assert_eq!(
            r(Method::DELETE, "/api/ssl/v1/9").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::Delete(9))
        );
        assert_eq!(
            r(Method::DELETE, "/api/ssl/v1/types").unwrap_err().code,
            code::BAD_CERT_ID
        );
    }

    #[test]
    fn device_and_smime_paths() {
        assert_eq!(
            r(Method::POST, "/api/device/v1/revoke/order/5").unwrap(),
            Route::Certificates(Area::Device, CertRoute::Revoke(5))
        );
        assert_eq!(
            r(Method::POST, "/api/smime/v2/renew/order/5").unwrap(),
            Route::Certificates(Area::Smime, CertRoute::RenewById(5))
        );
        assert_eq!(
            r(Method::POST, "/api/device/v1/renew/serial/0A").unwrap(),
            Route::Certificates(Area::Device, CertRoute::RenewBySerial("0A".into()))
        );
        assert_eq!(
            r(Method::GET, "/api/smime/v2").unwrap(),
            Route::Certificates(Area::Smime, CertRoute::List)
        );
        // SSL's own spellings are SSL's only.
        assert!(r(Method::POST, "/api/device/v1/renewById/5").is_err());
        assert!(r(Method::POST, "/api/device/v1/revoke/5").is_err());
    }

    #[test]
    fn heads_are_counts_and_unknown_paths_are_404() {
        assert_eq!(
            r(Method::HEAD, "/api/ssl/v1").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::List)
        );
        assert_eq!(r(Method::HEAD, "/api/domain/v1/").unwrap(), Route::Domains);
        assert_eq!(
            r(Method::POST, "/api/ssl/v1/revoke/serial/0A:1B").unwrap(),
            Route::Certificates(Area::Ssl, CertRoute::RevokeBySerial("0A:1B".into()))
        );
        assert_eq!(
            r(Method::GET, "/api/nothing/v1").unwrap_err().status,
            http::StatusCode::NOT_FOUND
        );
        assert_eq!(
            r(Method::PUT, "/api/ssl/v1/types").unwrap_err().status,
            http::StatusCode::NOT_FOUND
        );
    }
}
