//! Where Intune's services live: the endpoints Microsoft Graph lists for the
//! Intune service principal (application id `0000000a-0000-0000-c000-000000000000`),
//! cached by service name (case-insensitive) until a call cannot reach one.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request};
use http_body_util::Full;
use tokio::sync::Mutex;

use super::activity::ActivityId;
use super::http::call_json;
use super::token::TokenClient;
use super::IntuneError;
use crate::validation::webhook::HttpsClient;

/// The Intune service principal's application id.
pub const INTUNE_APP_ID: &str = "0000000a-0000-0000-c000-000000000000";

/// The cached map from service name (lower-case) to base URL.
pub struct ServiceMap {
    graph_base: String,
    services: Mutex<HashMap<String, String>>,
}

impl ServiceMap {
    /// An empty map filled from the Graph at `graph_base` on first use.
    pub fn new(graph_base: &str) -> Self {
        Self {
            graph_base: graph_base.trim_end_matches('/').to_owned(),
            services: Mutex::new(HashMap::new()),
        }
    }

    /// The base URL of `service` (e.g. `ScepRequestValidationFEService`).
    pub async fn url_of(
        &self,
        client: &HttpsClient,
        timeout: Duration,
        tokens: &TokenClient,
        service: &str,
    ) -> Result<String, IntuneError> {
        let mut services = self.services.lock().await;
        if services.is_empty() {
            *services = self.fetch(client, timeout, tokens).await?;
        }
        services
            .get(&service.to_ascii_lowercase())
            .cloned()
            .ok_or_else(|| IntuneError::ServiceNotFound(service.to_owned()))
    }

    /// Forgets every URL: the next call looks them up again.
    pub async fn invalidate(&self) {
        self.services.lock().await.clear();
    }

    async fn fetch(
        &self,
        client: &HttpsClient,
        timeout: Duration,
        tokens: &TokenClient,
    ) -> Result<HashMap<String, String>, IntuneError> {
        const SERVICE: &str = "Microsoft Graph";
        let token = tokens.token_for(client, timeout, &self.graph_base).await?;
        let url = format!(
            "{}/v1.0/servicePrincipals/appId={}/endpoints",
            self.graph_base, INTUNE_APP_ID
        );
        let request = Request::builder()
            .method(Method::GET)
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", token.as_str()))
            .header(header::ACCEPT, "application/json")
            .header("client-request-id", ActivityId::random().to_string())
            .body(Full::new(Bytes::new()))
            .map_err(|e| IntuneError::Unreachable {
                service: SERVICE,
                reason: format!("the Graph URL is unusable: {e}"),
            })?;
        let answer = call_json(client, timeout, SERVICE, request).await?;
        let entries = answer
            .get("value")
            .and_then(|v| v.as_array())
            .ok_or_else(|| IntuneError::BadAnswer {
                service: SERVICE,
                reason: "no `value` array".into(),
            })?;
        // Graph v1.0 names a service in `providerName`; the older AAD Graph in
        // `serviceName`: either is accepted.
        let services = entries
            .iter()
            .filter_map(|entry| {
                let name = entry
                    .get("providerName")
                    .or_else(|| entry.get("serviceName"))?
                    .as_str()?;
                let uri = entry.get("uri")?.as_str()?;
                Some((
                    name.to_ascii_lowercase(),
                    uri.trim_end_matches('/').to_owned(),
                ))
            })
            .collect();
        Ok(services)
    }
}
