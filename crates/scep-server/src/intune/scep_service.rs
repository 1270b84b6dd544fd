//! The SCEP validation service (`ScepRequestValidationFEService`): validate a
//! request before issuing, report the outcome after.

use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request};
use http_body_util::Full;
use serde_json::json;

use super::activity::ActivityId;
use super::discovery::ServiceMap;
use super::http::call_json;
use super::token::TokenClient;
use super::{IntuneError, IntuneUrls};
use crate::validation::webhook::HttpsClient;

/// The service's name in Graph's list.
pub const VALIDATION_SERVICE: &str = "ScepRequestValidationFEService";
/// The `api-version` the service speaks.
pub const API_VERSION: &str = "2018-02-20";

/// What the service decided on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAnswer {
    /// `code: "Success"`.
    Success,
    /// Any other code (e.g. `ChallengeVerificationFailed`), with its description.
    Refused {
        /// The service's code.
        code: String,
        /// The service's description.
        description: String,
    },
}

/// Everything a success notification tells Intune about the issued certificate.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// SHA-1 over the DER, upper-case hex (the thumbprint Windows shows).
    pub thumbprint: String,
    /// The serial, hex.
    pub serial: String,
    /// notAfter, ISO 8601 UTC.
    pub expires_utc: String,
    /// The issuer's distinguished name.
    pub issuer: String,
}

/// Talks to the SCEP validation service for one Intune endpoint.
pub struct ScepServiceClient {
    urls: IntuneUrls,
    tokens: TokenClient,
    services: ServiceMap,
    /// `Certwright/<version>`: the CA's provider name and version.
    caller_info: String,
    timeout: Duration,
}

impl ScepServiceClient {
    /// A client over `tokens`, looking the service up in the Graph at `urls.graph`.
    pub fn new(urls: IntuneUrls, tokens: TokenClient, timeout: Duration) -> Self {
        Self {
            services: ServiceMap::new(&urls.graph),
            urls,
            tokens,
            caller_info: concat!("Certwright/", env!("CARGO_PKG_VERSION")).to_owned(),
            timeout,
        }
    }

    /// `ScepActions/validateRequest`: is this CSR (base64 DER) one Intune handed out a challenge for?
    pub async fn validate_request(
        &self,
        client: &HttpsClient,
        activity: ActivityId,
        transaction_id: &str,
        csr_base64: &str,
    ) -> Result<ServiceAnswer, IntuneError> {
        let body = json!({"request": {
            "transactionId": transaction_id,
            "certificateRequest": csr_base64,
            "callerInfo": self.caller_info,
        }});
        self.post(client, activity, "ScepActions/validateRequest", &body).await
    }

    /// `ScepActions/successNotification`, after issuing.
    pub async fn notify_success(
        &self,
        client: &HttpsClient,
        activity: ActivityId,
        transaction_id: &str,
        csr_base64: &str,
        certificate: &IssuedCertificate,
    ) -> Result<ServiceAnswer, IntuneError> {
        let body = json!({"notification": {
            "transactionId": transaction_id,
            "certificateRequest": csr_base64,
            "certificateThumbprint": certificate.thumbprint,
            "certificateSerialNumber": certificate.serial,
            "certificateExpirationDateUtc": certificate.expires_utc,
            "issuingCertificateAuthority": certificate.issuer,
            "callerInfo": self.caller_info,
        }});
        self.post(client, activity, "ScepActions/successNotification", &body).await
    }

    /// `ScepActions/failureNotification`, when nothing was issued; `hresult` is a
    /// 32-bit HRESULT, `description` at most 255 characters.
    pub async fn notify_failure(
        &self,
        client: &HttpsClient,
        activity: ActivityId,
        transaction_id: &str,
        csr_base64: &str,
        hresult: u32,
        description: &str,
    ) -> Result<ServiceAnswer, IntuneError> {
        let description: String = description.chars().take(255).collect();
        let body = json!({"notification": {
            "transactionId": transaction_id,
            "certificateRequest": csr_base64,
            "hResult": hresult,
            "errorDescription": description,
            "callerInfo": self.caller_info,
        }});
        self.post(client, activity, "ScepActions/failureNotification", &body).await
    }

    async fn post(
        &self,
        client: &HttpsClient,
        activity: ActivityId,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<ServiceAnswer, IntuneError> {
        const SERVICE: &str = "the Intune SCEP service";
        let base = self
            .services
            .url_of(client, self.timeout, &self.tokens, VALIDATION_SERVICE)
            .await?;
        let token = self
            .tokens
            .token_for(client, self.timeout, &self.urls.intune_resource)
            .await?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{base}/{action}?api-version={API_VERSION}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", token.as_str()))
            .header(header::CONTENT_TYPE, "application/json")
            .header("client-request-id", activity.to_string())
            .header("api-version", API_VERSION)
            .header("UserAgent", &self.caller_info)
            .header(header::USER_AGENT, &self.caller_info)
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| IntuneError::Unreachable {
                service: SERVICE,
                reason: format!("the service URL is unusable: {e}"),
            })?;
        let answer = match call_json(client, self.timeout, SERVICE, request).await {
            Ok(answer) => answer,
            Err(e) => {
                // The service may have moved: look it up afresh next time.
                if e.invalidates_service_map() {
                    self.services.invalidate().await;
                }
                if matches!(e, IntuneError::Status { status: 401, .. }) {
                    self.tokens.forget().await;
                }
                return Err(e);
            }
        };
        let code = answer.get("code").and_then(|c| c.as_str()).unwrap_or("");
        if code.eq_ignore_ascii_case("Success") {
            return Ok(ServiceAnswer::Success);
        }
        Ok(ServiceAnswer::Refused {
            code: if code.is_empty() { "NoCode".into() } else { code.to_owned() },
            description: answer
                .get("errorDescription")
                .and_then(|d| d.as_str())
                .unwrap_or("")
                .to_owned(),
        })
    }
}
