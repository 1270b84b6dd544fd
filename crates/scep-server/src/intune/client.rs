//! One Intune endpoint's connection to Microsoft: its tokens, its cached map of
//! service URLs and the one shape of call every Intune service takes.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request};
use http_body_util::Full;
use policy::registry::IntuneAccess;
use zeroize::Zeroizing;

use super::activity::ActivityId;
use super::discovery::ServiceMap;
use super::http::call_json;
use super::token::TokenClient;
use super::{IntuneCredentials, IntuneError, IntuneUrls};
use crate::validation::webhook::{build_client, HttpsClient};

/// The CA's provider name and version, as Intune shows it (`callerInfo`, `UserAgent`).
pub const PROVIDER_NAME_AND_VERSION: &str = concat!("Certwright/", env!("CARGO_PKG_VERSION"));

/// Talks to Intune's services for one endpoint's application.
pub struct IntuneClient {
    urls: IntuneUrls,
    tokens: TokenClient,
    services: ServiceMap,
    http: HttpsClient,
    timeout: Duration,
}

impl IntuneClient {
    /// A client for an application against the services at `urls`; every call
    /// (token, Graph, service) must answer within `timeout`.
    pub fn new(urls: IntuneUrls, credentials: IntuneCredentials, timeout: Duration) -> Self {
        Self {
            services: ServiceMap::new(&urls.graph),
            tokens: TokenClient::new(&urls.login, credentials),
            http: build_client(timeout),
            urls,
            timeout,
        }
    }

    /// The client of an Intune endpoint's application as the RA holds it.
    pub fn for_access(access: &IntuneAccess, timeout: Duration) -> Self {
        Self::new(
            IntuneUrls {
                login: access.cloud.login_url.clone(),
                graph: access.cloud.graph_url.clone(),
                intune_resource: access.cloud.intune_resource.clone(),
            },
            IntuneCredentials {
                tenant: access.tenant.clone(),
                application_id: access.application_id.clone(),
                client_secret: Zeroizing::new(access.client_secret.expose().to_owned()),
            },
            timeout,
        )
    }

    /// POSTs `body` to `<service URL>/<action>?api-version=<version>` with a bearer
    /// token for the Intune resource and `activity` as `client-request-id`; the 2xx
    /// answer's JSON. A service that cannot be reached drops the cached URLs (it may
    /// have moved); a 401 drops the cached tokens.
    pub(super) async fn post(
        &self,
        service: &str,
        action: &str,
        api_version: &str,
        activity: ActivityId,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, IntuneError> {
        const SERVICE: &str = "the Intune service";
        let base = self
            .services
            .url_of(&self.http, self.timeout, &self.tokens, service)
            .await?;
        let token = self
            .tokens
            .token_for(&self.http, self.timeout, &self.urls.intune_resource)
            .await?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{base}/{action}?api-version={api_version}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", token.as_str()))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("client-request-id", activity.to_string())
            .header("api-version", api_version)
            .header("UserAgent", PROVIDER_NAME_AND_VERSION)
            .header(header::USER_AGENT, PROVIDER_NAME_AND_VERSION)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| IntuneError::Unreachable {
                service: SERVICE,
                reason: format!("the service URL is unusable: {e}"),
            })?;
        match call_json(&self.http, self.timeout, SERVICE, request).await {
            Ok(answer) => Ok(answer),
            Err(e) => {
                if e.invalidates_service_map() {
                    self.services.invalidate().await;
                }
                if matches!(e, IntuneError::Status { status: 401, .. }) {
                    self.tokens.forget().await;
                }
                Err(e)
            }
        }
    }
}
