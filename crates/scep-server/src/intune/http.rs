//! The one outbound request shape the Intune clients share: a bounded, timed
//! call whose answer is JSON.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full, Limited};

use super::IntuneError;
use crate::validation::webhook::{error_chain, HttpsClient};

/// The most of an answer's body that is read.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Sends `request` and parses a 2xx answer's body as JSON.
pub(super) async fn call_json(
    client: &HttpsClient,
    timeout: Duration,
    service: &'static str,
    request: Request<Full<Bytes>>,
) -> Result<serde_json::Value, IntuneError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let unreachable = |reason: String| IntuneError::Unreachable { service, reason };
    let response = match tokio::time::timeout_at(deadline, client.request(request)).await {
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} ms",
                timeout.as_millis()
            )))
        }
        Ok(Err(e)) => return Err(unreachable(error_chain(&e))),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let body = match tokio::time::timeout_at(
        deadline,
        Limited::new(response.into_body(), MAX_ANSWER_BYTES).collect(),
    )
    .await
    {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(e)) => return Err(unreachable(format!("the answer could not be read: {e}"))),
        Err(_) => return Err(unreachable("the answer did not arrive in time".into())),
    };
    if !status.is_success() {
        return Err(IntuneError::Status {
            service,
            status: status.as_u16(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| IntuneError::BadAnswer {
        service,
        reason: e.to_string(),
    })
}
