//! The Intune revocation poller: at an interval, for every active Intune endpoint,
//! download the revocation requests Intune holds, revoke what belongs to the
//! endpoint's scope (the RA decides; each revocation is committed and the CRL
//! regenerated before its result is uploaded), refuse the rest, and upload the
//! results. Every download, refusal and upload is in the audit log with its
//! activity id; each revocation is audited by the RA as `certificate.revoke`.

use std::sync::Arc;
use std::time::Duration;

use gateway_http::actor::Protocol;
use gateway_http::ProtocolActor;
use policy::audit::Outcome;
use policy::model::Endpoint;
use policy::registry::{IntuneRevocationRefusal, IntuneStep, RegistrationAuthority};

use crate::intune::activity::ActivityId;
use crate::intune::clients::IntuneClients;
use crate::intune::revocation::{RevocationErrorCode, RevocationRequest, RevocationResult};

/// How many requests one poll downloads per endpoint.
const REQUESTS_PER_POLL: u32 = 100;

/// How often Intune is asked, by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// Starts the poller on the current runtime: the first poll after `interval`, then
/// every `interval`; each call to Microsoft gets `timeout`.
pub fn spawn(
    ra: Arc<RegistrationAuthority>,
    interval: Duration,
    timeout: Duration,
) -> tokio::task::JoinHandle<()> {
    let clients = Arc::new(IntuneClients::new(timeout));
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            poll_once(&ra, &clients).await;
        }
    })
}

/// One poll of every active Intune endpoint.
pub async fn poll_once(ra: &Arc<RegistrationAuthority>, clients: &IntuneClients) {
    let listed = {
        let ra = ra.clone();
        tokio::task::spawn_blocking(move || ra.active_intune_endpoints()).await
    };
    let endpoints = match listed {
        Ok(Ok(endpoints)) => endpoints,
        Ok(Err(e)) => return tracing::error!(error = %e, "Intune endpoints not listed"),
        Err(e) => return tracing::error!(error = %e, "Intune endpoint listing failed"),
    };
    for endpoint in endpoints {
        poll_endpoint(ra, clients, &endpoint).await;
    }
}

async fn poll_endpoint(
    ra: &Arc<RegistrationAuthority>,
    clients: &IntuneClients,
    endpoint: &Endpoint,
) {
    let actor = ProtocolActor::new(
        Protocol::Scep,
        &format!("{} Intune revocations", endpoint.name),
        None,
    );
    let audit = |step: IntuneStep, outcome: Outcome, detail: String| {
        if let Err(e) = ra.record_intune_step(endpoint, actor.identity(), step, outcome, &detail) {
            tracing::error!(error = %e, "Intune step not audited");
        }
    };
    let access = match ra.intune_access(endpoint) {
        Ok(Some(access)) => access,
        Ok(None) => return,
        Err(e) => {
            return audit(
                IntuneStep::RevocationDownload,
                Outcome::Failed,
                format!("the application could not be opened: {e}"),
            )
        }
    };
    let client = clients.client(endpoint, &access);
    let activity = ActivityId::random();
    let requests = match client
        .download_revocation_requests(activity, REQUESTS_PER_POLL)
        .await
    {
        Ok(requests) => requests,
        Err(e) => {
            tracing::warn!(endpoint = %endpoint.name, error = %e, "Intune revocation requests not downloaded");
            return audit(
                IntuneStep::RevocationDownload,
                Outcome::Failed,
                format!("activity {activity}: {e}"),
            );
        }
    };
    if requests.is_empty() {
        return;
    }
    audit(
        IntuneStep::RevocationDownload,
        Outcome::Success,
        format!(
            "activity {activity}: {} revocation requests",
            requests.len()
        ),
    );
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        let result = revoke(ra, endpoint, actor.identity(), activity, &request).await;
        if let Some(message) = &result.error_message {
            audit(
                IntuneStep::Revocation,
                if result.error_code == RevocationErrorCode::RetryableServiceException as u32 {
                    Outcome::Failed
                } else {
                    Outcome::Denied
                },
                format!(
                    "activity {activity}: request {}: {message}",
                    short(&request.request_context)
                ),
            );
        }
        results.push(result);
    }
    let upload = ActivityId::random();
    match client.upload_revocation_results(upload, &results).await {
        Ok(()) => audit(
            IntuneStep::RevocationUpload,
            Outcome::Success,
            format!(
                "activity {upload}: {} results ({} revoked)",
                results.len(),
                results.iter().filter(|r| r.succeeded).count()
            ),
        ),
        Err(e) => audit(
            IntuneStep::RevocationUpload,
            Outcome::Failed,
            format!("activity {upload}: {e} (Intune hands the requests out again)"),
        ),
    }
}

/// Acts on one request: revoked (or revoked already, which is what Intune asks for),
/// or refused with the library's error code.
async fn revoke(
    ra: &Arc<RegistrationAuthority>,
    endpoint: &Endpoint,
    actor: &str,
    activity: ActivityId,
    request: &RevocationRequest,
) -> RevocationResult {
    let context = &request.request_context;
    let done = {
        let ra = ra.clone();
        let endpoint = endpoint.clone();
        let actor = format!("{actor}, activity {activity}");
        let serial = request.serial_number.clone();
        let issuer = request.issuer_name.clone();
        tokio::task::spawn_blocking(move || {
            ra.revoke_for_intune(&endpoint, &actor, &serial, issuer.as_deref())
        })
        .await
    };
    use IntuneRevocationRefusal as R;
    match done {
        Ok(Ok(_)) | Ok(Err(R::AlreadyRevoked(_))) => RevocationResult::revoked(context),
        Ok(Err(why @ (R::NotFound(_) | R::OutOfScope(_)))) => RevocationResult::refused(
            context,
            RevocationErrorCode::CertificateNotFoundError,
            &why.to_string(),
        ),
        Ok(Err(why @ R::IssuerMismatch { .. })) => RevocationResult::refused(
            context,
            RevocationErrorCode::ParameterDataInvalidError,
            &why.to_string(),
        ),
        Ok(Err(why @ R::Failed(_))) => RevocationResult::refused(
            context,
            RevocationErrorCode::RetryableServiceException,
            &why.to_string(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "Intune revocation task failed");
            RevocationResult::refused(
                context,
                RevocationErrorCode::RetryableServiceException,
                "the revocation could not be carried out",
            )
        }
    }
}

/// A request context as the audit log names it (Intune's contexts can be long).
fn short(context: &str) -> String {
    context.chars().take(80).collect()
}
