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

const LIMIT: QueryParam = QueryParam {
    name: "limit",
    description: "Page size, 1 to 500 (default 50).",
    kind: ParamType::Integer,
};
const AFTER: QueryParam = QueryParam {
    name: "after",
    description: "Return items after this id (the previous page's next_after).",
    kind: ParamType::Integer,
};
const ORG: QueryParam = QueryParam {
    name: "org",
    description: "Only this organization's.",
    kind: ParamType::Integer,
};
const PROFILE: QueryParam = QueryParam {
    name: "profile",
    description: "Only this profile's.",
    kind: ParamType::Text,
};
const NAME: QueryParam = QueryParam {
    name: "name",
    description: "Only those with a name (or subject) containing this text.",
    kind: ParamType::Text,
};
const REQUEST_STATUS: QueryParam = QueryParam {
    name: "status",
    description: "Only requests in this state.",
    kind: ParamType::Enum(&[
        "requested",
        "approved",
        "declined",
        "invalid",
        "rejected",
        "issued",
        "revoked",
        "expired",
        "replaced",
    ]),
};
const CERTIFICATE_STATUS: QueryParam = QueryParam {
    name: "status",
    description: "Only certificates in this state.",
    kind: ParamType::Enum(&["issued", "revoked", "replaced"]),
};
const EXPIRES_BEFORE: QueryParam = QueryParam {
    name: "expires_before",
    description: "Only certificates expiring before this time (RFC 3339 or unix seconds).",
    kind: ParamType::Time,
};
const EXPIRES_AFTER: QueryParam = QueryParam {
    name: "expires_after",
    description: "Only certificates expiring at or after this time (RFC 3339 or unix seconds).",
    kind: ParamType::Time,
};
const DEPT: QueryParam = QueryParam {
    name: "dept",
    description: "Only this department's.",
    kind: ParamType::Integer,
};
const ISSUER: QueryParam = QueryParam {
    name: "issuer",
    description: "Only those of this issuing CA (its id).",
    kind: ParamType::Text,
};
const SERIAL: QueryParam = QueryParam {
    name: "serial",
    description: "Only serial numbers containing these hex digits (case and colons ignored).",
    kind: ParamType::Text,
};

const CERTIFICATE_CLASS: QueryParam = QueryParam {
    name: "class",
    description: "Only the custom fields of this class of certificates.",
    kind: ParamType::Enum(&["tls-server", "client-smime", "device", "code-signing"]),
};

const PAGE: &[QueryParam] = &[LIMIT, AFTER];
const REQUEST_FILTERS: &[QueryParam] = &[LIMIT, AFTER, REQUEST_STATUS, ORG, PROFILE, NAME];
const CERTIFICATE_FILTERS: &[QueryParam] = &[
    LIMIT,
    AFTER,
    CERTIFICATE_STATUS,
    ORG,
    PROFILE,
    NAME,
    EXPIRES_BEFORE,
    EXPIRES_AFTER,
    DEPT,
    ISSUER,
    SERIAL,
];
const CSV_FILTERS: &[QueryParam] = &[
    CERTIFICATE_STATUS,
    ORG,
    PROFILE,
    NAME,
    EXPIRES_BEFORE,
    EXPIRES_AFTER,
    DEPT,
    ISSUER,
    SERIAL,
];

use BodyKind as B;
use ResponseKind as R;
use RouteId as I;

/// Every operation of the API.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        id: I::Login,
        method: "POST",
        path: "/api/v1/login",
        tag: "auth",
        summary: "Log in with username and password; returns a short-lived bearer token.",
        auth: false,
        query: &[],
        body: B::Json("LoginRequest"),
        response: R::Json(200, "LoginResponse"),
    },
    RouteSpec {
        id: I::CreateApiKey,
        method: "POST",
        path: "/api/v1/api-keys",
        tag: "auth",
        summary: "Create a long-lived API key (shown once) for yourself, or for anyone as an MRAO.",
        auth: true,
        query: &[],
        body: B::Json("ApiKeyRequest"),
        response: R::Json(201, "ApiKeyCreated"),
    },
    RouteSpec {
        id: I::ListOrganizations,
        method: "GET",
        path: "/api/v1/organizations",
        tag: "organizations",
        summary: "List the organizations you can see.",
        auth: true,
        query: PAGE,
        body: B::None,
        response: R::Page("Organization"),
    },
    RouteSpec {
        id: I::CreateOrganization,
        method: "POST",
        path: "/api/v1/organizations",
        tag: "organizations",
        summary: "Create an organization (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("OrganizationRequest"),
        response: R::Json(201, "Organization"),
    },
    RouteSpec {
        id: I::GetOrganization,
        method: "GET",
        path: "/api/v1/organizations/{id}",
        tag: "organizations",
        summary: "One organization.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Json(200, "Organization"),
    },
    RouteSpec {
        id: I::ListDepartments,
        method: "GET",
        path: "/api/v1/departments",
        tag: "departments",
        summary: "List the departments you can see.",
        auth: true,
        query: &[LIMIT, AFTER, ORG],
        body: B::None,
        response: R::Page("Department"),
    },
    RouteSpec {
        id: I::CreateDepartment,
        method: "POST",
        path: "/api/v1/departments",
        tag: "departments",
        summary: "Create a department in an organization.",
        auth: true,
        query: &[],
        body: B::Json("DepartmentRequest"),
        response: R::Json(201, "Department"),
    },
    RouteSpec {
        id: I::ListDomains,
        method: "GET",
        path: "/api/v1/domains",
        tag: "domains",
        summary: "List the domain delegations you can see.",
        auth: true,
        query: &[LIMIT, AFTER, ORG],
        body: B::None,
        response: R::Page("Domain"),
    },
    RouteSpec {
        id: I::CreateDomain,
        method: "POST",
        path: "/api/v1/domains",
        tag: "domains",
        summary: "Delegate a domain (or IP network) to an organization or one of its departments.",
        auth: true,
        query: &[],
        body: B::Json("DomainRequest"),
        response: R::Json(201, "Domain"),
    },
    RouteSpec {
        id: I::ListAdmins,
        method: "GET",
        path: "/api/v1/admins",
        tag: "admins",
        summary: "List administrators (an MRAO sees all, others themselves).",
        auth: true,
        query: PAGE,
        body: B::None,
        response: R::Page("Admin"),
    },
    RouteSpec {
        id: I::CreateAdmin,
        method: "POST",
        path: "/api/v1/admins",
        tag: "admins",
        summary: "Create an administrator (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("AdminRequest"),
        response: R::Json(201, "Admin"),
    },
    RouteSpec {
        id: I::DeactivateAdmin,
        method: "POST",
        path: "/api/v1/admins/{id}/deactivate",
        tag: "admins",
        summary: "Deactivate an administrator: ends their sessions, refuses their API keys (MRAO).",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(200, "Admin"),
    },
    RouteSpec {
        id: I::ActivateAdmin,
        method: "POST",
        path: "/api/v1/admins/{id}/activate",
        tag: "admins",
        summary: "Activate an administrator again (MRAO).",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(200, "Admin"),
    },
    RouteSpec {
        id: I::UnlockAdmin,
        method: "POST",
        path: "/api/v1/admins/{id}/unlock",
        tag: "admins",
        summary: "Lift an administrator's failed-login locks at once (MRAO); answers how many addresses were locked.",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(200, "Unlocked"),
    },
    RouteSpec {
        id: I::LinkClientCertificate,
        method: "POST",
        path: "/api/v1/admins/{id}/client-certificates",
        tag: "admins",
        summary: "Link a TLS client certificate (PEM) to an administrator, pinned by its SHA-256, for client-certificate login on the certificate manager's /private/api/ (yourself, or anyone as an MRAO).",
        auth: true,
        query: &[],
        body: B::Json("ClientCertificateRequest"),
        response: R::Json(201, "LinkedCertificate"),
    },
    // A POST action rather than DELETE .../{sha256}: path parameters are decimal ids only
    // (see match_path), and a second kind of parameter is not worth it for one operation.
    RouteSpec {
        id: I::UnlinkClientCertificate,
        method: "POST",
        path: "/api/v1/admins/{id}/client-certificates/unlink",
        tag: "admins",
        summary: "Unlink a client certificate from an administrator by its SHA-256 (yourself, or anyone as an MRAO).",
        auth: true,
        query: &[],
        body: B::Json("UnlinkClientCertificateRequest"),
        response: R::NoContent,
    },
    RouteSpec {
        id: I::GetAllowLists,
        method: "GET",
        path: "/api/v1/access/allow-lists",
        tag: "access",
        summary: "The client addresses (IP networks) each role's administrators may sign in and act from; an empty list restricts nothing (MRAO).",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Json(200, "AllowLists"),
    },
    RouteSpec {
        id: I::SetAllowLists,
        method: "PUT",
        path: "/api/v1/access/allow-lists",
        tag: "access",
        summary: "Replace the allow-lists of the roles given (the others stay); refused when the MRAO list would not admit the address of the MRAO making the change (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("AllowListsRequest"),
        response: R::Json(200, "AllowLists"),
    },
    RouteSpec {
        id: I::SetPasswordLogin,
        method: "PUT",
        path: "/api/v1/admins/{id}/password-login",
        tag: "admins",
        summary: "Turn an administrator's password login on or off; off, every password surface answers as to a wrong password, and single sign-on is their way in (MRAO; not your own).",
        auth: true,
        query: &[],
        body: B::Json("PasswordLoginRequest"),
        response: R::Json(200, "Admin"),
    },
    RouteSpec {
        id: I::SetIdpIdentity,
        method: "PUT",
        path: "/api/v1/admins/{id}/idp-identity",
        tag: "admins",
        summary: "Set (or clear, with null) the identity at the SAML identity provider (eduPersonPrincipalName) that signs an administrator in to the console; unique (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("IdpIdentityRequest"),
        response: R::Json(200, "Admin"),
    },
    RouteSpec {
        id: I::GetSsoIdentityProvider,
        method: "GET",
        path: "/api/v1/sso/idp",
        tag: "sso",
        summary: "The SAML identity provider the console's single sign-on trusts (MRAO); 404 when none is imported.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Json(200, "SsoIdentityProvider"),
    },
    RouteSpec {
        id: I::SetSsoIdentityProvider,
        method: "PUT",
        path: "/api/v1/sso/idp",
        tag: "sso",
        summary: "Import (or replace) the identity provider from its SAML federation metadata: entity id, HTTP-Redirect SSO URL, signing certificates (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("SsoMetadataRequest"),
        response: R::Json(200, "SsoIdentityProvider"),
    },
    RouteSpec {
        id: I::RemoveSsoIdentityProvider,
        method: "DELETE",
        path: "/api/v1/sso/idp",
        tag: "sso",
        summary: "Remove the identity provider: single sign-on is off until another is imported (MRAO).",
        auth: true,
        query: &[],
        body: B::None,
        response: R::NoContent,
    },
    RouteSpec {
        id: I::ListAdminTemplates,
        method: "GET",
        path: "/api/v1/sso/templates",
        tag: "sso",
        summary: "The administrator templates of just-in-time provisioning, in the order they are tried (MRAO).",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Page("AdminTemplate"),
    },
    RouteSpec {
        id: I::CreateAdminTemplate,
        method: "POST",
        path: "/api/v1/sso/templates",
        tag: "sso",
        summary: "Create an administrator template: a single sign-on user with no administrator yet, one of whose values of the attribute is the value, becomes an administrator with this role and these privileges (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("AdminTemplateRequest"),
        response: R::Json(201, "AdminTemplate"),
    },
    RouteSpec {
        id: I::DeleteAdminTemplate,
        method: "DELETE",
        path: "/api/v1/sso/templates/{id}",
        tag: "sso",
        summary: "Delete an administrator template; the administrators it created stay (MRAO).",
        auth: true,
        query: &[],
        body: B::None,
        response: R::NoContent,
    },
    RouteSpec {
        id: I::ListEndpoints,
        method: "GET",
        path: "/api/v1/endpoints",
        tag: "endpoints",
        summary: "List the enrollment endpoints you can see.",
        auth: true,
        query: PAGE,
        body: B::None,
        response: R::Page("Endpoint"),
    },
    RouteSpec {
        id: I::CreateEndpoint,
        method: "POST",
        path: "/api/v1/endpoints",
        tag: "endpoints",
        summary: "Create an enrollment endpoint; a SCEP challenge or EST password is shown once.",
        auth: true,
        query: &[],
        body: B::Json("EndpointRequest"),
        response: R::Json(201, "EndpointCreated"),
    },
    RouteSpec {
        id: I::CreateEabKey,
        method: "POST",
        path: "/api/v1/endpoints/{id}/eab-keys",
        tag: "endpoints",
        summary: "Add an external account binding key to an ACME endpoint (the HMAC key is shown once).",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(201, "EabKeyCreated"),
    },
    RouteSpec {
        id: I::CreateScepChallenge,
        method: "POST",
        path: "/api/v1/endpoints/{id}/scep-challenges",
        tag: "endpoints",
        summary: "Mint a one-time challenge password for a SCEP endpoint (shown once; consumed by its first use).",
        auth: true,
        query: &[],
        body: B::OptionalJson("ScepChallengeRequest"),
        response: R::Json(201, "ScepChallengeCreated"),
    },
    RouteSpec {
        id: I::SetScepWebhook,
        method: "PUT",
        path: "/api/v1/endpoints/{id}/scep-webhook",
        tag: "endpoints",
        summary: "Set a SCEP endpoint's webhook validator: it decides on each new enrollment instead of the challenge (a new HMAC key, shown once).",
        auth: true,
        query: &[],
        body: B::Json("ScepWebhookRequest"),
        response: R::Json(200, "ScepWebhookSet"),
    },
    RouteSpec {
        id: I::RemoveScepWebhook,
        method: "DELETE",
        path: "/api/v1/endpoints/{id}/scep-webhook",
        tag: "endpoints",
        summary: "Remove a SCEP endpoint's webhook validator: its challenges apply again.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::NoContent,
    },
    RouteSpec {
        id: I::SetEstSettings,
        method: "PUT",
        path: "/api/v1/endpoints/{id}/est-settings",
        tag: "endpoints",
        summary: "Change an EST endpoint's authentication (basic, certificate, either, both), proof-of-possession requirement or manufacturer trust anchors.",
        auth: true,
        query: &[],
        body: B::Json("EstSettingsRequest"),
        response: R::Json(200, "EstSettings"),
    },
    RouteSpec {
        id: I::UnlockEstEndpoint,
        method: "POST",
        path: "/api/v1/endpoints/{id}/unlock",
        tag: "endpoints",
        summary: "Lift the failed-login locks of an EST endpoint's Basic users, from every address, at once (MRAO); answers how many user/address pairs were locked.",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(200, "EstUnlocked"),
    },
    RouteSpec {
        id: I::SetIntuneApplication,
        method: "PUT",
        path: "/api/v1/endpoints/{id}/intune",
        tag: "endpoints",
        summary: "Replace an Intune endpoint's Entra ID application (a new client secret, say); the secret is sealed and never shown again.",
        auth: true,
        query: &[],
        body: B::Json("IntuneApplicationRequest"),
        response: R::Json(200, "Endpoint"),
    },
    RouteSpec {
        id: I::ListProfiles,
        method: "GET",
        path: "/api/v1/profiles",
        tag: "profiles",
        summary: "List the certificate profiles.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Page("Profile"),
    },
    RouteSpec {
        id: I::ListCas,
        method: "GET",
        path: "/api/v1/cas",
        tag: "cas",
        summary: "List the certificate authorities.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Page("Ca"),
    },
    RouteSpec {
        id: I::ListCustomFields,
        method: "GET",
        path: "/api/v1/custom-fields",
        tag: "custom-fields",
        summary: "List the custom fields that requests of a certificate class carry.",
        auth: true,
        query: &[CERTIFICATE_CLASS],
        body: B::None,
        response: R::Page("CustomField"),
    },
    RouteSpec {
        id: I::CreateCustomField,
        method: "POST",
        path: "/api/v1/custom-fields",
        tag: "custom-fields",
        summary: "Define a custom field for a certificate class; a mandatory one must be given on every administrator's request of the class (MRAO).",
        auth: true,
        query: &[],
        body: B::Json("CustomFieldRequest"),
        response: R::Json(201, "CustomField"),
    },
    RouteSpec {
        id: I::DeleteCustomField,
        method: "DELETE",
        path: "/api/v1/custom-fields/{id}",
        tag: "custom-fields",
        summary: "Delete a custom field definition; the values already on requests stay (MRAO).",
        auth: true,
        query: &[],
        body: B::None,
        response: R::NoContent,
    },
    RouteSpec {
        id: I::ListRequests,
        method: "GET",
        path: "/api/v1/requests",
        tag: "requests",
        summary: "List certificate requests, filtered.",
        auth: true,
        query: REQUEST_FILTERS,
        body: B::None,
        response: R::Page("Request"),
    },
    RouteSpec {
        id: I::SubmitRequest,
        method: "POST",
        path: "/api/v1/requests",
        tag: "requests",
        summary: "Submit a CSR. Issued at once if you may approve it, else queued; Invalid if policy refuses its names.",
        auth: true,
        query: &[],
        body: B::Json("SubmitRequest"),
        response: R::Json(201, "Request"),
    },
    RouteSpec {
        id: I::GetRequest,
        method: "GET",
        path: "/api/v1/requests/{id}",
        tag: "requests",
        summary: "One request with its history.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Json(200, "Request"),
    },
    RouteSpec {
        id: I::EditRequest,
        method: "PATCH",
        path: "/api/v1/requests/{id}",
        tag: "requests",
        summary: "Change the term of a request while it is Requested.",
        auth: true,
        query: &[],
        body: B::Json("EditRequest"),
        response: R::Json(200, "Request"),
    },
    RouteSpec {
        id: I::ApproveRequest,
        method: "POST",
        path: "/api/v1/requests/{id}/approve",
        tag: "requests",
        summary: "Approve a Requested or Declined request; the certificate is issued.",
        auth: true,
        query: &[],
        body: B::OptionalJson("DecisionRequest"),
        response: R::Json(200, "Request"),
    },
    RouteSpec {
        id: I::DeclineRequest,
        method: "POST",
        path: "/api/v1/requests/{id}/decline",
        tag: "requests",
        summary: "Decline a Requested request (it can still be approved later).",
        auth: true,
        query: &[],
        body: B::OptionalJson("DecisionRequest"),
        response: R::Json(200, "Request"),
    },
    RouteSpec {
        id: I::ListCertificates,
        method: "GET",
        path: "/api/v1/certificates",
        tag: "certificates",
        summary: "List certificates, filtered.",
        auth: true,
        query: CERTIFICATE_FILTERS,
        body: B::None,
        response: R::Page("Certificate"),
    },
    RouteSpec {
        id: I::ExportCertificatesCsv,
        method: "GET",
        path: "/api/v1/certificates.csv",
        tag: "certificates",
        summary: "Every certificate matching the filters, as CSV.",
        auth: true,
        query: CSV_FILTERS,
        body: B::None,
        response: R::Csv,
    },
    RouteSpec {
        id: I::GetCertificate,
        method: "GET",
        path: "/api/v1/certificates/{id}",
        tag: "certificates",
        summary: "One certificate, with its PEM.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Json(200, "CertificateDetails"),
    },
    RouteSpec {
        id: I::DownloadCertificate,
        method: "GET",
        path: "/api/v1/certificates/{id}/download",
        tag: "certificates",
        summary: "Download a certificate in a format (recorded in the audit log).",
        auth: true,
        query: &[QueryParam {
            name: "format",
            description: "The format (default pem).",
            kind: ParamType::Enum(&[
                "pem",
                "der",
                "pem-chain",
                "pem-full-chain",
                "chain-only",
                "pkcs7-der",
                "pkcs7-pem",
            ]),
        }],
        body: B::None,
        response: R::Download,
    },
    RouteSpec {
        id: I::RevokeCertificate,
        method: "POST",
        path: "/api/v1/certificates/{id}/revoke",
        tag: "certificates",
        summary: "Revoke a certificate.",
        auth: true,
        query: &[],
        body: B::Json("RevokeRequest"),
        response: R::Json(200, "Certificate"),
    },
    RouteSpec {
        id: I::RenewCertificate,
        method: "POST",
        path: "/api/v1/certificates/{id}/renew",
        tag: "certificates",
        summary: "Renew a certificate: with its key (no csr) or a new CSR; the old one stays valid.",
        auth: true,
        query: &[],
        body: B::OptionalJson("RenewRequest"),
        response: R::Json(201, "Request"),
    },
    RouteSpec {
        id: I::ReplaceCertificate,
        method: "POST",
        path: "/api/v1/certificates/{id}/replace",
        tag: "certificates",
        summary: "Replace a certificate with one for a new CSR; the old one is marked Replaced.",
        auth: true,
        query: &[],
        body: B::Json("ReplaceRequest"),
        response: R::Json(201, "Request"),
    },
    RouteSpec {
        id: I::ImportCertificates,
        method: "POST",
        path: "/api/v1/certificates/import",
        tag: "certificates",
        summary: "Import externally issued certificates (PEM, DER or a ZIP of such files).",
        auth: true,
        query: &[
            QueryParam {
                name: "org",
                description: "The owning organization (required).",
                kind: ParamType::Integer,
            },
            QueryParam {
                name: "dept",
                description: "The owning department.",
                kind: ParamType::Integer,
            },
        ],
        body: B::Import,
        response: R::Json(200, "ImportResult"),
    },
    RouteSpec {
        id: I::DeleteCertificate,
        method: "DELETE",
        path: "/api/v1/certificates/{id}",
        tag: "certificates",
        summary: "Delete an imported (externally managed) certificate.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::NoContent,
    },
    RouteSpec {
        id: I::CertificateAudit,
        method: "GET",
        path: "/api/v1/certificates/{id}/audit",
        tag: "certificates",
        summary: "The audit entries about one certificate.",
        auth: true,
        query: &[],
        body: B::None,
        response: R::Page("AuditEntry"),
    },
    RouteSpec {
        id: I::ListAudit,
        method: "GET",
        path: "/api/v1/audit",
        tag: "audit",
        summary: "The audit log, oldest first (MRAO).",
        auth: true,
        query: PAGE,
        body: B::None,
        response: R::Page("AuditEntry"),
    },
    RouteSpec {
        id: I::VerifyAudit,
        method: "POST",
        path: "/api/v1/audit/verify",
        tag: "audit",
        summary: "Verify the audit log's hash chain (MRAO).",
        auth: true,
        query: &[],
        body: B::Empty,
        response: R::Json(200, "AuditVerification"),
    },
    RouteSpec {
        id: I::OpenApi,
        method: "GET",
        path: "/api/v1/openapi.json",
        tag: "meta",
        summary: "This document.",
        auth: false,
        query: &[],
        body: B::None,
        response: R::Document,
    },
];

/// A matched operation, with its path id parsed into the id type it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // the variants are the operations of RouteId, documented there
pub enum Route {
    Login,
    CreateApiKey,
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
