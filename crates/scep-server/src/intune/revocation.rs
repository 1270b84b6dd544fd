//! The revocation side of Intune's PKI connector service (`PkiConnectorFEService`):
//! the revocation requests Intune holds for a CA (devices retired or wiped, certificates
//! removed from a profile), and the results the CA uploads once it has acted on them.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::activity::ActivityId;
use super::client::IntuneClient;
use super::IntuneError;

/// The service's name in Graph's list.
pub const CONNECTOR_SERVICE: &str = "PkiConnectorFEService";
/// The `api-version` its revocation actions speak.
pub const API_VERSION: &str = "5019-05-05";
/// The most requests one download may ask for.
pub const MAX_REQUESTS_PER_DOWNLOAD: u32 = 500;

/// One certificate Intune asks the CA to revoke.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationRequest {
    /// Intune's handle on the request, echoed in its result.
    pub request_context: String,
    /// The certificate's serial, hex.
    pub serial_number: String,
    /// The issuer Intune recorded at issuance, if any.
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// The CA configuration Intune's profile names (unused: the endpoint is the CA).
    #[serde(default)]
    pub ca_configuration: Option<String>,
}

/// The error codes of a revocation result (the library's `CARequestErrorCodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationErrorCode {
    /// Done.
    None = 0,
    /// A service error that will not go away by retrying.
    NonRetryableServiceException = 4000,
    /// The request's parameters are invalid.
    ParameterDataInvalidError = 4002,
    /// No such certificate (or none the endpoint may revoke).
    CertificateNotFoundError = 4004,
    /// Revoked already.
    ConflictError = 4005,
    /// A retryable service error.
    RetryableServiceException = 4100,
}

/// What the CA did with one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationResult {
    /// The request's context, as Intune sent it.
    pub request_context: String,
    /// Whether the certificate is now revoked.
    pub succeeded: bool,
    /// 0 on success, else a [`RevocationErrorCode`].
    pub error_code: u32,
    /// Why it failed (null on success).
    pub error_message: Option<String>,
}

impl RevocationResult {
    /// The certificate is revoked.
    pub fn revoked(request_context: &str) -> Self {
        Self {
            request_context: request_context.to_owned(),
            succeeded: true,
            error_code: RevocationErrorCode::None as u32,
            error_message: None,
        }
    }

    /// It was not revoked, for `why`.
    pub fn refused(request_context: &str, code: RevocationErrorCode, why: &str) -> Self {
        Self {
            request_context: request_context.to_owned(),
            succeeded: false,
            error_code: code as u32,
            error_message: Some(why.chars().take(255).collect()),
        }
    }
}

impl IntuneClient {
    /// `CertificateAuthorityRequests/downloadRevocationRequests`: up to `max` (1 to
    /// [`MAX_REQUESTS_PER_DOWNLOAD`]) pending requests, for any issuer.
    pub async fn download_revocation_requests(
        &self,
        activity: ActivityId,
        max: u32,
    ) -> Result<Vec<RevocationRequest>, IntuneError> {
        let body = json!({"downloadParameters": {
            "maxRequests": max.clamp(1, MAX_REQUESTS_PER_DOWNLOAD),
            "issuerName": null,
        }});
        let answer = self
            .post(
                CONNECTOR_SERVICE,
                "CertificateAuthorityRequests/downloadRevocationRequests",
                API_VERSION,
                activity,
                &body,
            )
            .await?;
        let bad = |reason: String| IntuneError::BadAnswer {
            service: "the Intune PKI connector service",
            reason,
        };
        let value = answer
            .get("value")
            .cloned()
            .ok_or_else(|| bad("no `value` array".into()))?;
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }

    /// `CertificateAuthorityRequests/uploadRevocationResults`; Intune answers
    /// `value: true` once it has taken them.
    pub async fn upload_revocation_results(
        &self,
        activity: ActivityId,
        results: &[RevocationResult],
    ) -> Result<(), IntuneError> {
        let answer = self
            .post(
                CONNECTOR_SERVICE,
                "CertificateAuthorityRequests/uploadRevocationResults",
                API_VERSION,
                activity,
                &json!({ "results": results }),
            )
            .await?;
        match answer.get("value").and_then(|v| v.as_bool()) {
            Some(true) => Ok(()),
            _ => Err(IntuneError::BadAnswer {
                service: "the Intune PKI connector service",
                reason: "it did not take the results (value is not true)".into(),
            }),
        }
    }
}
