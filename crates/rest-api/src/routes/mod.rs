//! The route table: every operation's method, path, query parameters, body and
//! answer, in one place. The router matches requests against it and the
//! OpenAPI document is generated from it, so the two cannot drift apart.

use policy::model::{AdminId, EndpointId, OrgId, RequestId};

macro_rules! route_ids {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Names every operation of the API (one per row of [`ROUTES`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RouteId {
            $($(#[$doc])* $name,)*
        }

        impl RouteId {
            /// Every operation, generated with the enum so that none can be left out.
            pub const ALL: &'static [RouteId] = &[$(RouteId::$name,)*];
        }
    };
}

route_ids! {
    /// POST /login.
    Login,
    /// POST /api-keys.
    CreateApiKey,
    /// POST /api-keys/revoke.
    RevokeApiKey,
    /// GET /admins/{id}/api-keys.
    ListApiKeys,
    /// GET /organizations.
    ListOrganizations,
    /// POST /organizations.
    CreateOrganization,
    /// GET /organizations/{id}.
    GetOrganization,
    /// GET /departments.
    ListDepartments,
    /// POST /departments.
    CreateDepartment,
    /// GET /domains.
    ListDomains,
    /// POST /domains.
    CreateDomain,
    /// GET /admins.
    ListAdmins,
    /// POST /admins.
    CreateAdmin,
    /// POST /admins/{id}/deactivate.
    DeactivateAdmin,
    /// POST /admins/{id}/activate.
    ActivateAdmin,
    /// POST /admins/{id}/unlock.
    UnlockAdmin,
    /// POST /admins/{id}/client-certificates.
    LinkClientCertificate,
    /// GET /access/allow-lists.
    GetAllowLists,
    /// PUT /access/allow-lists.
    SetAllowLists,
    /// POST /admins/{id}/client-certificates/unlink.
    UnlinkClientCertificate,
    /// PUT /admins/{id}/password-login.
    SetPasswordLogin,
    /// PUT /admins/{id}/password.
    ChangePassword,
    /// PUT /admins/{id}/idp-identity.
    SetIdpIdentity,
    /// GET /sso/idp.
    GetSsoIdentityProvider,
    /// PUT /sso/idp.
    SetSsoIdentityProvider,
    /// DELETE /sso/idp.
    RemoveSsoIdentityProvider,
    /// GET /sso/templates.
    ListAdminTemplates,
    /// POST /sso/templates.
    CreateAdminTemplate,
    /// DELETE /sso/templates/{id}.
    DeleteAdminTemplate,
    /// GET /endpoints.
    ListEndpoints,
    /// POST /endpoints.
    CreateEndpoint,
    /// POST /endpoints/{id}/eab-keys.
    CreateEabKey,
    /// POST /endpoints/{id}/scep-challenges.
    CreateScepChallenge,
    /// POST /endpoints/{id}/rotate-secret.
    RotateEndpointSecret,
    /// PUT /endpoints/{id}/scep-webhook.
    SetScepWebhook,
    /// DELETE /endpoints/{id}/scep-webhook.
    RemoveScepWebhook,
    /// PUT /endpoints/{id}/est-settings.
    SetEstSettings,
    /// POST /endpoints/{id}/unlock.
    UnlockEstEndpoint,
    /// PUT /endpoints/{id}/intune.
    SetIntuneApplication,
    /// GET /profiles.
    ListProfiles,
    /// GET /cas.
    ListCas,
    /// GET /custom-fields.
    ListCustomFields,
    /// POST /custom-fields.
    CreateCustomField,
    /// DELETE /custom-fields/{id}.
    DeleteCustomField,
    /// GET /requests.
    ListRequests,
    /// POST /requests.
    SubmitRequest,
    /// GET /requests/{id}.
    GetRequest,
    /// PATCH /requests/{id}.
    EditRequest,
    /// POST /requests/{id}/approve.
    ApproveRequest,
    /// POST /requests/{id}/decline.
    DeclineRequest,
    /// GET /certificates.
    ListCertificates,
    /// GET /certificates.csv.
    ExportCertificatesCsv,
    /// GET /certificates/{id}.
    GetCertificate,
    /// GET /certificates/{id}/download.
    DownloadCertificate,
    /// POST /certificates/{id}/revoke.
    RevokeCertificate,
    /// POST /certificates/{id}/renew.
    RenewCertificate,
    /// POST /certificates/{id}/replace.
    ReplaceCertificate,
    /// POST /certificates/import.
    ImportCertificates,
    /// DELETE /certificates/{id}.
    DeleteCertificate,
    /// GET /certificates/{id}/audit.
    CertificateAudit,
    /// GET /audit.
    ListAudit,
    /// POST /audit/verify.
    VerifyAudit,
    /// GET /openapi.json.
    OpenApi,
}

impl RouteId {
    /// The OpenAPI operationId: the variant name in lower camel case.
    pub fn operation_id(self) -> String {
        let name = format!("{self:?}");
        let mut chars = name.chars();
        match chars.next() {
            Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
            None => name,
        }
    }
}

/// The type of a query parameter, for validation messages and the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A non-negative integer.
    Integer,
    /// Free text.
    Text,
    /// RFC 3339 or unix seconds.
    Time,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
}

/// One query parameter an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParam {
    /// Its name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Its type.
    pub kind: ParamType,
}

/// What body an operation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// None (GET, DELETE): a body is not read.
    None,
    /// Nothing, but an empty body or `{}` is accepted (POST actions without parameters).
    Empty,
    /// A JSON object of the named component schema.
    Json(&'static str),
    /// A JSON object of the named component schema, or an empty body for all defaults.
    OptionalJson(&'static str),
    /// Certificates: PEM, DER or ZIP, by Content-Type.
    Import,
}

/// What an operation answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// A JSON object of the named component schema, with this status.
    Json(u16, &'static str),
    /// A page `{items: [...], next_after}` of the named component schema.
    Page(&'static str),
    /// 204 without a body.
    NoContent,
    /// A CSV file.
    Csv,
    /// A certificate file in the requested format.
    Download,
    /// The OpenAPI document.
    Document,
}

/// One operation.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// Its name.
    pub id: RouteId,
    /// The HTTP method.
    pub method: &'static str,
    /// The path; `{id}` stands for a numeric id.
    pub path: &'static str,
    /// A one-line summary.
    pub summary: &'static str,
    /// The OpenAPI tag (the family).
    pub tag: &'static str,
    /// Whether a bearer token is required.
    pub auth: bool,
    /// The query parameters taken (any other is refused).
    pub query: &'static [QueryParam],
    /// The body taken.
    pub body: BodyKind,
    /// The answer on success.
    pub response: ResponseKind,
}

impl RouteSpec {
    /// The names of the query parameters, for [`crate::query::Query::allow_only`].
    pub fn query_names(&self) -> Vec<&'static str> {
        self.query.iter().map(|q| q.name).collect()
    }
}

/// The prefix of every route.
pub const PREFIX: &str = "/api/v1";

mod table;
pub use table::ROUTES;
use RouteId as I;

/// A matched operation, with its path id parsed into the id type it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the variants are the operations of RouteId, documented there
pub enum Route {
    Login,
    CreateApiKey,
    RevokeApiKey,
    ListApiKeys(AdminId),
    ListOrganizations,
    CreateOrganization,
    GetOrganization(OrgId),
    ListDepartments,
    CreateDepartment,
    ListDomains,
    CreateDomain,
    ListAdmins,
    CreateAdmin,
    DeactivateAdmin(AdminId),
    ActivateAdmin(AdminId),
    UnlockAdmin(AdminId),
    LinkClientCertificate(AdminId),
    UnlinkClientCertificate(AdminId),
    GetAllowLists,
    SetAllowLists,
    SetPasswordLogin(AdminId),
    ChangePassword(AdminId),
    SetIdpIdentity(AdminId),
    GetSsoIdentityProvider,
    SetSsoIdentityProvider,
    RemoveSsoIdentityProvider,
    ListAdminTemplates,
    CreateAdminTemplate,
    DeleteAdminTemplate(u64),
    ListEndpoints,
    CreateEndpoint,
    CreateEabKey(EndpointId),
    CreateScepChallenge(EndpointId),
    RotateEndpointSecret(EndpointId),
    SetScepWebhook(EndpointId),
    RemoveScepWebhook(EndpointId),
    SetEstSettings(EndpointId),
    UnlockEstEndpoint(EndpointId),
    SetIntuneApplication(EndpointId),
    ListProfiles,
    ListCas,
    ListCustomFields,
    CreateCustomField,
    DeleteCustomField(u64),
    ListRequests,
    SubmitRequest,
    GetRequest(RequestId),
    EditRequest(RequestId),
    ApproveRequest(RequestId),
    DeclineRequest(RequestId),
    ListCertificates,
    ExportCertificatesCsv,
    GetCertificate(u64),
    DownloadCertificate(u64),
    RevokeCertificate(u64),
    RenewCertificate(u64),
    ReplaceCertificate(u64),
    ImportCertificates,
    DeleteCertificate(u64),
    CertificateAudit(u64),
    ListAudit,
    VerifyAudit,
    OpenApi,
}

impl Route {
    /// Builds the route of an operation from its path id; `None` when the id is
    /// missing for an operation that needs one (a table error, never input).
    fn build(id: RouteId, param: Option<u64>) -> Option<Route> {
        Some(match id {
            I::Login => Route::Login,
            I::CreateApiKey => Route::CreateApiKey,
            I::RevokeApiKey => Route::RevokeApiKey,
            I::ListApiKeys => Route::ListApiKeys(AdminId(param?)),
            I::ListOrganizations => Route::ListOrganizations,
            I::CreateOrganization => Route::CreateOrganization,
            I::GetOrganization => Route::GetOrganization(OrgId(param?)),
            I::ListDepartments => Route::ListDepartments,
            I::CreateDepartment => Route::CreateDepartment,
            I::ListDomains => Route::ListDomains,
            I::CreateDomain => Route::CreateDomain,
            I::ListAdmins => Route::ListAdmins,
            I::CreateAdmin => Route::CreateAdmin,
            I::DeactivateAdmin => Route::DeactivateAdmin(AdminId(param?)),
            I::ActivateAdmin => Route::ActivateAdmin(AdminId(param?)),
            I::UnlockAdmin => Route::UnlockAdmin(AdminId(param?)),
            I::LinkClientCertificate => Route::LinkClientCertificate(AdminId(param?)),
            I::UnlinkClientCertificate => Route::UnlinkClientCertificate(AdminId(param?)),
            I::GetAllowLists => Route::GetAllowLists,
            I::SetAllowLists => Route::SetAllowLists,
            I::SetPasswordLogin => Route::SetPasswordLogin(AdminId(param?)),
            I::ChangePassword => Route::ChangePassword(AdminId(param?)),
            I::SetIdpIdentity => Route::SetIdpIdentity(AdminId(param?)),
            I::GetSsoIdentityProvider => Route::GetSsoIdentityProvider,
            I::SetSsoIdentityProvider => Route::SetSsoIdentityProvider,
            I::RemoveSsoIdentityProvider => Route::RemoveSsoIdentityProvider,
            I::ListAdminTemplates => Route::ListAdminTemplates,
            I::CreateAdminTemplate => Route::CreateAdminTemplate,
            I::DeleteAdminTemplate => Route::DeleteAdminTemplate(param?),
            I::ListEndpoints => Route::ListEndpoints,
            I::CreateEndpoint => Route::CreateEndpoint,
            I::CreateEabKey => Route::CreateEabKey(EndpointId(param?)),
            I::CreateScepChallenge => Route::CreateScepChallenge(EndpointId(param?)),
            I::RotateEndpointSecret => Route::RotateEndpointSecret(EndpointId(param?)),
            I::SetScepWebhook => Route::SetScepWebhook(EndpointId(param?)),
            I::RemoveScepWebhook => Route::RemoveScepWebhook(EndpointId(param?)),
            I::SetEstSettings => Route::SetEstSettings(EndpointId(param?)),
            I::UnlockEstEndpoint => Route::UnlockEstEndpoint(EndpointId(param?)),
            I::SetIntuneApplication => Route::SetIntuneApplication(EndpointId(param?)),
            I::ListProfiles => Route::ListProfiles,
            I::ListCas => Route::ListCas,
            I::ListCustomFields => Route::ListCustomFields,
            I::CreateCustomField => Route::CreateCustomField,
            I::DeleteCustomField => Route::DeleteCustomField(param?),
            I::ListRequests => Route::ListRequests,
            I::SubmitRequest => Route::SubmitRequest,
            I::GetRequest => Route::GetRequest(RequestId(param?)),
            I::EditRequest => Route::EditRequest(RequestId(param?)),
            I::ApproveRequest => Route::ApproveRequest(RequestId(param?)),
            I::DeclineRequest => Route::DeclineRequest(RequestId(param?)),
            I::ListCertificates => Route::ListCertificates,
            I::ExportCertificatesCsv => Route::ExportCertificatesCsv,
            I::GetCertificate => Route::GetCertificate(param?),
            I::DownloadCertificate => Route::DownloadCertificate(param?),
            I::RevokeCertificate => Route::RevokeCertificate(param?),
            I::RenewCertificate => Route::RenewCertificate(param?),
            I::ReplaceCertificate => Route::ReplaceCertificate(param?),
            I::ImportCertificates => Route::ImportCertificates,
            I::DeleteCertificate => Route::DeleteCertificate(param?),
            I::CertificateAudit => Route::CertificateAudit(param?),
            I::ListAudit => Route::ListAudit,
            I::VerifyAudit => Route::VerifyAudit,
            I::OpenApi => Route::OpenApi,
        })
    }

    /// The operation this route is of.
    pub fn id(&self) -> RouteId {
        match self {
            Route::Login => I::Login,
            Route::CreateApiKey => I::CreateApiKey,
            Route::RevokeApiKey => I::RevokeApiKey,
            Route::ListApiKeys(_) => I::ListApiKeys,
            Route::ListOrganizations => I::ListOrganizations,
            Route::CreateOrganization => I::CreateOrganization,
            Route::GetOrganization(_) => I::GetOrganization,
            Route::ListDepartments => I::ListDepartments,
            Route::CreateDepartment => I::CreateDepartment,
            Route::ListDomains => I::ListDomains,
            Route::CreateDomain => I::CreateDomain,
            Route::ListAdmins => I::ListAdmins,
            Route::CreateAdmin => I::CreateAdmin,
            Route::DeactivateAdmin(_) => I::DeactivateAdmin,
            Route::ActivateAdmin(_) => I::ActivateAdmin,
            Route::UnlockAdmin(_) => I::UnlockAdmin,
            Route::LinkClientCertificate(_) => I::LinkClientCertificate,
            Route::UnlinkClientCertificate(_) => I::UnlinkClientCertificate,
            Route::GetAllowLists => I::GetAllowLists,
            Route::SetAllowLists => I::SetAllowLists,
            Route::SetPasswordLogin(_) => I::SetPasswordLogin,
            Route::ChangePassword(_) => I::ChangePassword,
            Route::SetIdpIdentity(_) => I::SetIdpIdentity,
            Route::GetSsoIdentityProvider => I::GetSsoIdentityProvider,
            Route::SetSsoIdentityProvider => I::SetSsoIdentityProvider,
            Route::RemoveSsoIdentityProvider => I::RemoveSsoIdentityProvider,
            Route::ListAdminTemplates => I::ListAdminTemplates,
            Route::CreateAdminTemplate => I::CreateAdminTemplate,
            Route::DeleteAdminTemplate(_) => I::DeleteAdminTemplate,
            Route::ListEndpoints => I::ListEndpoints,
            Route::CreateEndpoint => I::CreateEndpoint,
            Route::CreateEabKey(_) => I::CreateEabKey,
            Route::CreateScepChallenge(_) => I::CreateScepChallenge,
            Route::RotateEndpointSecret(_) => I::RotateEndpointSecret,
            Route::SetScepWebhook(_) => I::SetScepWebhook,
            Route::RemoveScepWebhook(_) => I::RemoveScepWebhook,
            Route::SetEstSettings(_) => I::SetEstSettings,
            Route::UnlockEstEndpoint(_) => I::UnlockEstEndpoint,
            Route::SetIntuneApplication(_) => I::SetIntuneApplication,
            Route::ListProfiles => I::ListProfiles,
            Route::ListCas => I::ListCas,
            Route::ListCustomFields => I::ListCustomFields,
            Route::CreateCustomField => I::CreateCustomField,
            Route::DeleteCustomField(_) => I::DeleteCustomField,
            Route::ListRequests => I::ListRequests,
            Route::SubmitRequest => I::SubmitRequest,
            Route::GetRequest(_) => I::GetRequest,
            Route::EditRequest(_) => I::EditRequest,
            Route::ApproveRequest(_) => I::ApproveRequest,
            Route::DeclineRequest(_) => I::DeclineRequest,
            Route::ListCertificates => I::ListCertificates,
            Route::ExportCertificatesCsv => I::ExportCertificatesCsv,
            Route::GetCertificate(_) => I::GetCertificate,
            Route::DownloadCertificate(_) => I::DownloadCertificate,
            Route::RevokeCertificate(_) => I::RevokeCertificate,
            Route::RenewCertificate(_) => I::RenewCertificate,
            Route::ReplaceCertificate(_) => I::ReplaceCertificate,
            Route::ImportCertificates => I::ImportCertificates,
            Route::DeleteCertificate(_) => I::DeleteCertificate,
            Route::CertificateAudit(_) => I::CertificateAudit,
            Route::ListAudit => I::ListAudit,
            Route::VerifyAudit => I::VerifyAudit,
            Route::OpenApi => I::OpenApi,
        }
    }
}

/// What the router made of a method and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// An operation.
    Found(&'static RouteSpec, Route),
    /// The path exists, the method does not: these methods do.
    MethodNotAllowed(Vec<&'static str>),
    /// No such path.
    NotFound,
}

impl PartialEq for RouteSpec {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for RouteSpec {}

/// Matches a method and path against [`ROUTES`].
pub fn match_route(method: &str, path: &str) -> Matched {
    let mut allowed = Vec::new();
    for spec in ROUTES {
        let Some(param) = match_path(spec.path, path) else {
            continue;
        };
        if spec.method == method {
            if let Some(route) = Route::build(spec.id, param) {
                return Matched::Found(spec, route);
            }
        } else if !allowed.contains(&spec.method) {
            allowed.push(spec.method);
        }
    }
    if allowed.is_empty() {
        Matched::NotFound
    } else {
        Matched::MethodNotAllowed(allowed)
    }
}

/// `Some(id)` when `path` fits `pattern`; `{id}` takes a decimal u64 only, so that
/// literal siblings (`/certificates/import`) never parse as ids.
fn match_path(pattern: &str, path: &str) -> Option<Option<u64>> {
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    let mut param = None;
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return Some(param),
            (Some("{id}"), Some(segment)) => {
                if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                param = Some(segment.parse().ok()?);
            }
            (Some(literal), Some(segment)) if literal == segment => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_exactly_one_row_and_rows_are_distinct() {
        for id in RouteId::ALL {
            let rows = ROUTES.iter().filter(|r| r.id == *id).count();
            assert_eq!(rows, 1, "{id:?}");
        }
        for (i, a) in ROUTES.iter().enumerate() {
            assert!(a.path.starts_with(PREFIX), "{}", a.path);
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn every_row_matches_its_own_path() {
        for spec in ROUTES {
            let path = spec.path.replace("{id}", "7");
            match match_route(spec.method, &path) {
                Matched::Found(found, route) => {
                    assert_eq!(found.id, spec.id);
                    assert_eq!(route.id(), spec.id);
                }
                other => panic!("{} {path}: {other:?}", spec.method),
            }
        }
    }

    #[test]
    fn ids_literals_and_methods() {
        assert!(matches!(
            match_route("POST", "/api/v1/certificates/import"),
            Matched::Found(spec, Route::ImportCertificates) if spec.id == I::ImportCertificates
        ));
        assert_eq!(
            match_route("GET", "/api/v1/certificates/import"),
            Matched::MethodNotAllowed(vec!["POST"])
        );
        assert_eq!(
            match_route("GET", "/api/v1/organizations/abc"),
            Matched::NotFound
        );
        assert_eq!(
            match_route("GET", "/api/v1/organizations/99999999999999999999999"),
            Matched::NotFound
        );
        assert_eq!(
            match_route("GET", "/api/v1/organizations/"),
            Matched::NotFound
        );
        // A fingerprint is no path id: unlinking is a POST with it in the body.
        assert!(matches!(
            match_route("POST", "/api/v1/admins/3/client-certificates/unlink"),
            Matched::Found(_, Route::UnlinkClientCertificate(AdminId(3)))
        ));
        assert_eq!(
            match_route(
                "DELETE",
                &format!("/api/v1/admins/3/client-certificates/{}", "ab".repeat(32))
            ),
            Matched::NotFound
        );
        assert_eq!(
            match_route("GET", "/api/v1/admins/3/client-certificates"),
            Matched::MethodNotAllowed(vec!["POST"])
        );
        match match_route("PUT", "/api/v1/certificates/5") {
            Matched::MethodNotAllowed(methods) => assert_eq!(methods, vec!["GET", "DELETE"]),
            other => panic!("{other:?}"),
        }
    }
}
