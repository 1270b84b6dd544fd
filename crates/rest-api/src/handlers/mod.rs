//! The handlers, one module per route family. They take decoded request types
//! and the authenticated administrator, call the registration authority on
//! the blocking pool (it may wait for a durable fsync), and return views.

pub(crate) mod access;
mod admins;
mod audit;
mod auth;
mod certificates;
mod custom_fields;
mod departments;
mod domains;
mod endpoints;
mod organizations;
mod profiles_cas;
mod requests;
mod sso;

use std::sync::Arc;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use policy::model::Administrator;
use policy::registry::RegistrationAuthority;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::body;
use crate::error::ApiError;
use crate::pagination::PageRequest;
use crate::query::Query;
use crate::routes::Route;
use crate::wire::EmptyRequest;

/// Everything a handler may use about one request.
pub(crate) struct Ctx {
    /// The registration authority.
    pub ra: Arc<RegistrationAuthority>,
    /// The client's address, when the gateway says (not in unit tests).
    pub client: Option<std::net::IpAddr>,
    /// Failed logins per client address.
    pub throttle: Arc<gateway_http::Throttle>,
    /// The caller; `None` only on the operations that need no token.
    pub admin: Option<Administrator>,
    /// The query parameters (already checked against the route's list).
    pub query: Query,
    /// The body (already size-limited; empty for operations that take none).
    pub body: Bytes,
    /// The request headers.
    pub headers: HeaderMap,
    /// The OpenAPI document, serialized once.
    pub openapi: Bytes,
}

impl Ctx {
    /// The caller.
    pub fn admin(&self) -> Result<Administrator, ApiError> {
        self.admin
            .clone()
            .ok_or_else(|| ApiError::unauthenticated("this operation needs a bearer token"))
    }

    /// Runs `f` with the RA and the caller on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&RegistrationAuthority, &Administrator) -> Result<T, ApiError> + Send + 'static,
    {
        let admin = self.admin()?;
        blocking(self.ra.clone(), move |ra| f(ra, &admin)).await
    }

    /// The body as a JSON request type.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        body::json(&self.body)
    }

    /// The body as a JSON request type whose fields are all optional (empty body allowed).
    pub fn json_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        body::json_or_default(&self.body)
    }

    /// Checks that an action without parameters got no parameters.
    pub fn empty(&self) -> Result<(), ApiError> {
        self.json_or_default::<EmptyRequest>().map(|_| ())
    }

    /// The page asked for.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        PageRequest::from_query(&self.query)
    }
}

/// Runs a call of the RA on tokio's blocking pool: its commits wait for an fsync,
/// which must not stall the async workers serving other connections.
pub(crate) async fn blocking<T, F>(ra: Arc<RegistrationAuthority>, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&RegistrationAuthority) -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || f(&ra))
        .await
        .map_err(|e| ApiError::internal(format!("a blocking RA call did not finish: {e}")))?
}

/// A successful answer.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A JSON document.
    Json(StatusCode, serde_json::Value),
    /// Bytes of a given media type, as an attachment when a file name is given.
    Raw {
        status: StatusCode,
        content_type: &'static str,
        filename: Option<String>,
        body: Bytes,
    },
    /// 204.
    NoContent,
}

impl Reply {
    /// 200 with a JSON view.
    pub fn ok<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        Self::json(StatusCode::OK, value)
    }

    /// 201 with a JSON view.
    pub fn created<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        Self::json(StatusCode::CREATED, value)
    }

    fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Self, ApiError> {
        serde_json::to_value(value)
            .map(|v| Reply::Json(status, v))
            .map_err(ApiError::internal)
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let (status, content_type, filename, body) = match self {
            Reply::Json(status, value) => (
                status,
                "application/json",
                None,
                Bytes::from(serde_json::to_vec(&value).unwrap_or_default()),
            ),
            Reply::Raw {
                status,
                content_type,
                filename,
                body,
            } => (status, content_type, filename, body),
            Reply::NoContent => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::NO_CONTENT;
                return r;
            }
        };
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        // File names are built from ids and fixed extensions here, never from input.
        if let Some(value) = filename
            .and_then(|f| HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok())
        {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// Calls the handler of a route.
pub(crate) async fn dispatch(ctx: Ctx, route: Route) -> Result<Reply, ApiError> {
    use Route as R;
    match route {
        R::Login => auth::login(&ctx, ctx.json()?).await,
        R::CreateApiKey => auth::create_api_key(&ctx, ctx.json()?).await,
        R::RevokeApiKey => auth::revoke_api_key(&ctx, ctx.json()?).await,
        R::ListApiKeys(id) => auth::list_api_keys(&ctx, id).await,
        R::ListOrganizations => organizations::list(&ctx).await,
        R::CreateOrganization => organizations::create(&ctx, ctx.json()?).await,
        R::GetOrganization(id) => organizations::get(&ctx, id).await,
        R::ListDepartments => departments::list(&ctx).await,
        R::CreateDepartment => departments::create(&ctx, ctx.json()?).await,
        R::ListDomains => domains::list(&ctx).await,
        R::CreateDomain => domains::create(&ctx, ctx.json()?).await,
        R::ListAdmins => admins::list(&ctx).await,
        R::CreateAdmin => admins::create(&ctx, ctx.json()?).await,
        R::DeactivateAdmin(id) => {
            ctx.empty()?;
            admins::set_active(&ctx, id, false).await
        }
        R::ActivateAdmin(id) => {
            ctx.empty()?;
            admins::set_active(&ctx, id, true).await
        }
        R::UnlockAdmin(id) => {
            ctx.empty()?;
            admins::unlock(&ctx, id).await
        }
        R::LinkClientCertificate(id) => admins::link_certificate(&ctx, id, ctx.json()?).await,
        R::UnlinkClientCertificate(id) => admins::unlink_certificate(&ctx, id, ctx.json()?).await,
        R::GetAllowLists => access::get(&ctx).await,
        R::SetAllowLists => access::set(&ctx, ctx.json()?).await,
        R::UnlockEstEndpoint(id) => {
            ctx.empty()?;
            access::unlock_est(&ctx, id).await
        }
        R::SetPasswordLogin(id) => sso::set_password_login(&ctx, id, ctx.json()?).await,
        R::ChangePassword(id) => admins::change_password(&ctx, id, ctx.json()?).await,
        R::SetIdpIdentity(id) => sso::set_idp_identity(&ctx, id, ctx.json()?).await,
        R::GetSsoIdentityProvider => sso::get_idp(&ctx).await,
        R::SetSsoIdentityProvider => sso::set_idp(&ctx, ctx.json()?).await,
        R::RemoveSsoIdentityProvider => sso::remove_idp(&ctx).await,
        R::ListAdminTemplates => sso::list_templates(&ctx).await,
        R::CreateAdminTemplate => sso::create_template(&ctx, ctx.json()?).await,
        R::DeleteAdminTemplate(id) => sso::delete_template(&ctx, id).await,
        R::ListEndpoints => endpoints::list(&ctx).await,
        R::CreateEndpoint => endpoints::create(&ctx, ctx.json()?).await,
        R::CreateEabKey(id) => {
            ctx.empty()?;
            endpoints::add_eab_key(&ctx, id).await
        }
        R::RotateEndpointSecret(id) => {
            ctx.empty()?;
            endpoints::rotate_secret(&ctx, id).await
        }
        R::CreateScepChallenge(id) => {
            endpoints::mint_scep_challenge(&ctx, id, ctx.json_or_default()?).await
        }
        R::SetScepWebhook(id) => endpoints::set_scep_webhook(&ctx, id, ctx.json()?).await,
        R::SetEstSettings(id) => endpoints::set_est_settings(&ctx, id, ctx.json()?).await,
        R::SetIntuneApplication(id) => {
            endpoints::set_intune_application(&ctx, id, ctx.json()?).await
        }
        R::RemoveScepWebhook(id) => endpoints::remove_scep_webhook(&ctx, id).await,
        R::ListProfiles => profiles_cas::profiles(&ctx).await,
        R::ListCas => profiles_cas::cas(&ctx).await,
        R::ListCustomFields => custom_fields::list(&ctx).await,
        R::CreateCustomField => custom_fields::create(&ctx, ctx.json()?).await,
        R::DeleteCustomField(id) => custom_fields::delete(&ctx, id).await,
        R::ListRequests => requests::list(&ctx).await,
        R::SubmitRequest => requests::submit(&ctx, ctx.json()?).await,
        R::GetRequest(id) => requests::get(&ctx, id).await,
        R::EditRequest(id) => requests::edit(&ctx, id, ctx.json()?).await,
        R::ApproveRequest(id) => requests::approve(&ctx, id, ctx.json_or_default()?).await,
        R::DeclineRequest(id) => requests::decline(&ctx, id, ctx.json_or_default()?).await,
        R::ListCertificates => certificates::list(&ctx).await,
        R::ExportCertificatesCsv => certificates::csv(&ctx).await,
        R::GetCertificate(id) => certificates::get(&ctx, id).await,
        R::DownloadCertificate(id) => certificates::download(&ctx, id).await,
        R::RevokeCertificate(id) => certificates::revoke(&ctx, id, ctx.json()?).await,
        R::RenewCertificate(id) => certificates::renew(&ctx, id, ctx.json_or_default()?).await,
        R::ReplaceCertificate(id) => certificates::replace(&ctx, id, ctx.json()?).await,
        R::ImportCertificates => certificates::import(&ctx).await,
        R::DeleteCertificate(id) => certificates::delete(&ctx, id).await,
        R::CertificateAudit(id) => certificates::audit(&ctx, id).await,
        R::ListAudit => audit::list(&ctx).await,
        R::VerifyAudit => {
            ctx.empty()?;
            audit::verify(&ctx).await
        }
        R::OpenApi => Ok(Reply::Raw {
            status: StatusCode::OK,
            content_type: "application/json",
            filename: None,
            body: ctx.openapi.clone(),
        }),
    }
}
