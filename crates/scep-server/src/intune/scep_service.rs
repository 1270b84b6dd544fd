//! The SCEP validation service (`ScepRequestValidationFEService`): validate a
//! request before issuing, report the outcome after.

use serde_json::json;

use super::activity::ActivityId;
use super::client::{IntuneClient, PROVIDER_NAME_AND_VERSION};
use super::IntuneError;

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

impl IntuneClient {
    /// `ScepActions/validateRequest`: is this CSR (base64 DER) one Intune handed out a challenge for?
    pub async fn validate_request(
        &self,
        activity: ActivityId,
        transaction_id: &str,
        csr_base64: &str,
    ) -> Result<ServiceAnswer, IntuneError> {
        let body = json!({"request": {
            "transactionId": transaction_id,
            "certificateRequest": csr_base64,
            "callerInfo": PROVIDER_NAME_AND_VERSION,
        }});
        self.scep_action(activity, "ScepActions/validateRequest", &body)
            .await
    }

    /// `ScepActions/successNotification`, after issuing.
    pub async fn notify_success(
        &self,
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
            "callerInfo": PROVIDER_NAME_AND_VERSION,
        }});
        self.scep_action(activity, "ScepActions/successNotification", &body)
            .await
    }

    /// `ScepActions/failureNotification`, when nothing was issued; `hresult` is a
    /// 32-bit HRESULT, `description` at most 255 characters.
    pub async fn notify_failure(
        &self,
        activity: ActivityId,
        transaction_id: &str,
        csr_base64: &str,
        hresult: u32,
        description: &str,
    ) -> Result<ServiceAnswer, IntuneError> {
        let mut description: String = description.chars().take(255).collect();
        if description.is_empty() {
            description = "the request was refused".into();
        }
        let body = json!({"notification": {
            "transactionId": transaction_id,
            "certificateRequest": csr_base64,
            "hResult": hresult,
            "errorDescription": description,
            "callerInfo": PROVIDER_NAME_AND_VERSION,
        }});
        self.scep_action(activity, "ScepActions/failureNotification", &body)
            .await
    }

    async fn scep_action(
        &self,
        activity: ActivityId,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<ServiceAnswer, IntuneError> {
        let answer = self
            .post(VALIDATION_SERVICE, action, API_VERSION, activity, body)
            .await?;
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
    use std::time::Duration;

    use bytes::Bytes;
    use http::{header, Request, Response, StatusCode};
    use http_body_util::BodyExt;
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper_util::rt::TokioIo;
    use zeroize::Zeroizing;

    use super::*;
    use crate::intune::{IntuneCredentials, IntuneUrls};

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
        let service = IntuneClient::new(
            urls,
            IntuneCredentials {
                tenant: "tenant-1".into(),
                application_id: "app-1".into(),
                client_secret: Zeroizing::new("s3cr+t".into()),
            },
            Duration::from_secs(5),
        );
        let good = service
            .validate_request(ActivityId::random(), "good", "Q1NS")
            .await;
        assert_eq!(good, Ok(ServiceAnswer::Success));
        let bad = service
            .validate_request(ActivityId::random(), "forged", "Q1NS")
            .await;
        assert!(
            matches!(bad, Ok(ServiceAnswer::Refused { ref code, .. }) if code == "ChallengeVerificationFailed")
        );
    }
}
