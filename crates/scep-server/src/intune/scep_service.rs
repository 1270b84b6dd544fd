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
        self.post(client, activity, "ScepActions/validateRequest", &body)
            .await
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
        self.post(client, activity, "ScepActions/successNotification", &body)
            .await
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
        self.post(client, activity, "ScepActions/failureNotification", &body)
            .await
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
            code: if code.is_empty() {
                "NoCode".into()
            } else {
                code.to_owned()
            },
            description: answer
                .get("errorDescription")
                .and_then(|d| d.as_str())
                .unwrap_or("")
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{Response, StatusCode};
    use http_body_util::BodyExt;
    use hyper::body::Incoming;
    use hyper_util::rt::TokioIo;
    use zeroize::Zeroizing;

    use super::*;
    use crate::intune::IntuneCredentials;

    /// A stand-in for Entra ID, Graph and the SCEP service on one port: it checks the
    /// bearer token and the api-version, and accepts transaction id `good` only.
    async fn stand_in(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let path = request.uri().path().to_owned();
        let query = request.uri().query().unwrap_or("").to_owned();
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let has_activity = request.headers().contains_key("client-request-id");
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body).to_string();
        let (status, answer) = if path == "/tenant-1/oauth2/v2.0/token" {
            if body.contains("client_secret=s3cr%2Bt")
                && body.contains("grant_type=client_credentials")
            {
                (
                    200,
                    json!({"access_token": "tok", "expires_in": 3600}).to_string(),
                )
            } else {
                (401, "{}".into())
            }
        } else if bearer.as_deref() != Some("Bearer tok") || !has_activity {
            (401, "{}".into())
        } else if path
            == format!(
                "/v1.0/servicePrincipals/appId={}/endpoints",
                super::super::discovery::INTUNE_APP_ID
            )
        {
            (200, json!({"value": [{"providerName": VALIDATION_SERVICE, "uri": "http://PLACEHOLDER/scep"}]}).to_string())
        } else if path == "/scep/ScepActions/validateRequest"
            && query == format!("api-version={API_VERSION}")
        {
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
            if parsed["request"]["transactionId"] == "good"
                && parsed["request"]["certificateRequest"] == "Q1NS"
            {
                (
                    200,
                    json!({"code": "Success", "errorDescription": ""}).to_string(),
                )
            } else {
                (
                    200,
                    json!({"code": "ChallengeVerificationFailed", "errorDescription": "no"})
                        .to_string(),
                )
            }
        } else {
            (404, "{}".into())
        };
        Ok(Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .body(Full::new(Bytes::from(answer)))
            .unwrap())
    }

    #[tokio::test]
    async fn a_request_is_validated_through_the_token_graph_and_service() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = base.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let served = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |r| {
                        let served = served.clone();
                        async move {
                            let mut answer = stand_in(r).await?;
                            // Point Graph's answer at this stand-in's real port.
                            let bytes = answer
                                .body_mut()
                                .clone()
                                .collect()
                                .await
                                .unwrap()
                                .to_bytes();
                            let text = String::from_utf8_lossy(&bytes)
                                .replace("http://PLACEHOLDER", &served);
                            *answer.body_mut() = Full::new(Bytes::from(text));
                            Ok::<_, Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let urls = IntuneUrls {
            login: base.clone(),
            graph: base.clone(),
            intune_resource: "https://api.manage.microsoft.com/".into(),
        };
        let tokens = TokenClient::new(
            &urls.login,
            IntuneCredentials {
                tenant: "tenant-1".into(),
                application_id: "app-1".into(),
                client_secret: Zeroizing::new("s3cr+t".into()),
            },
        );
        let timeout = Duration::from_secs(5);
        let service = ScepServiceClient::new(urls, tokens, timeout);
        let client = crate::validation::webhook::build_client(timeout);
        let good = service
            .validate_request(&client, ActivityId::random(), "good", "Q1NS")
            .await;
        assert_eq!(good, Ok(ServiceAnswer::Success));
        let bad = service
            .validate_request(&client, ActivityId::random(), "forged", "Q1NS")
            .await;
        assert!(
            matches!(bad, Ok(ServiceAnswer::Refused { ref code, .. }) if code == "ChallengeVerificationFailed")
        );
    }
}
