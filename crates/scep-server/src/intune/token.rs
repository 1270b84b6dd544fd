//! Client-credentials access tokens from Entra ID (OAuth 2.0, RFC 6749 §4.4),
//! cached per resource until shortly before they expire.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, Method, Request};
use http_body_util::Full;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::http::call_json;
use super::{IntuneCredentials, IntuneError};
use crate::validation::webhook::HttpsClient;

/// A token is renewed this long before Entra ID says it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

struct CachedToken {
    token: Zeroizing<String>,
    renew_after: Instant,
}

/// Gets (and caches) access tokens for one application.
pub struct TokenClient {
    login_base: String,
    credentials: IntuneCredentials,
    cache: Mutex<HashMap<String, CachedToken>>,
}

impl TokenClient {
    /// A client for `credentials` against the login service at `login_base`.
    pub fn new(login_base: &str, credentials: IntuneCredentials) -> Self {
        Self {
            login_base: login_base.trim_end_matches('/').to_owned(),
            credentials,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A bearer token for `resource` (e.g. `https://graph.microsoft.com/`): the
    /// cached one while it is fresh, else a new one.
    pub async fn token_for(
        &self,
        client: &HttpsClient,
        timeout: Duration,
        resource: &str,
    ) -> Result<Zeroizing<String>, IntuneError> {
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.get(resource) {
            if Instant::now() < cached.renew_after {
                return Ok(cached.token.clone());
            }
        }
        let (token, lifetime) = self.request(client, timeout, resource).await?;
        cache.insert(
            resource.to_owned(),
            CachedToken {
                token: token.clone(),
                renew_after: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN),
            },
        );
        Ok(token)
    }

    /// Drops every cached token (after a 401, say).
    pub async fn forget(&self) {
        self.cache.lock().await.clear();
    }

    async fn request(
        &self,
        client: &HttpsClient,
        timeout: Duration,
        resource: &str,
    ) -> Result<(Zeroizing<String>, Duration), IntuneError> {
        const SERVICE: &str = "Entra ID";
        // The v2.0 endpoint takes a scope: the resource's `.default` permissions.
        let scope = format!("{}/.default", resource);
        let form = Zeroizing::new(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "client_credentials")
                .append_pair("client_id", &self.credentials.application_id)
                .append_pair("client_secret", &self.credentials.client_secret)
                .append_pair("scope", &scope)
                .finish(),
        );
        let tenant: String =
            form_urlencoded::byte_serialize(self.credentials.tenant.as_bytes()).collect();
        let url = format!("{}/{}/oauth2/v2.0/token", self.login_base, tenant);
        let request = Request::builder()
            .method(Method::POST)
            .uri(&url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::copy_from_slice(form.as_bytes())))
            .map_err(|e| IntuneError::Unreachable {
                service: SERVICE,
                reason: format!("the login URL is unusable: {e}"),
            })?;
        let answer = call_json(client, timeout, SERVICE, request).await?;
        let bad = |reason: &str| IntuneError::BadAnswer {
            service: SERVICE,
            reason: reason.into(),
        };
        let token = answer
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("no access_token"))?;
        // expires_in is a number, or (in older services) a string of digits.
        let lifetime = match answer.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(300);
        Ok((
            Zeroizing::new(token.to_owned()),
            Duration::from_secs(lifetime),
        ))
    }
}
