//! An Intune endpoint's part of a PKIOperation: Intune validates each new
//! enrollment before anything is issued, and is told the outcome once there is one.
//!
//! Every exchange is in the audit log with its activity id. Intune is told of an
//! outcome once per transaction: a device that repeats its PKCSReq or polls does not
//! cause a second notification. Microsoft's library says a CA must not hand out a
//! certificate whose success notification failed; such a device is answered PENDING
//! and the notification is tried again when it asks next.

use ca_core::certificates::CertificateRecord;
use policy::audit::Outcome as AuditOutcome;
use policy::registry::IntuneStep;
use policy::request::CertificateRequest;

use super::{internal, Answer, Exchange};
use crate::intune::activity::ActivityId;
use crate::intune::scep_service::{IssuedCertificate, ServiceAnswer};
use crate::wire::FailInfo;

/// HRESULTs of failure notifications (MS-ERREF 2.1): access denied, invalid argument,
/// unspecified failure.
const E_ACCESSDENIED: u32 = 0x8007_0005;
const E_INVALIDARG: u32 = 0x8007_0057;
const E_FAIL: u32 = 0x8000_4005;

impl Exchange<'_> {
    /// Asks Intune whether a new enrollment (its CSR, DER) is one it handed a challenge
    /// for. Refused or not asked (Intune down, the secret unopenable): a FAILURE.
    pub(super) fn ask_intune(&self, csr_der: &[u8]) -> Result<(), Answer> {
        let client = self.intune_client()?;
        let activity = ActivityId::random();
        let csr = base64_of(csr_der);
        let txid = &self.request.transaction_id;
        let asked = self.block_on(client.validate_request(activity, txid, &csr))?;
        match asked {
            Ok(ServiceAnswer::Success) => {
                self.audit_intune(
                    IntuneStep::Validation,
                    AuditOutcome::Success,
                    &format!("activity {activity}: Intune validated transaction {txid}"),
                );
                Ok(())
            }
            Ok(ServiceAnswer::Refused { code, description }) => {
                self.audit_intune(
                    IntuneStep::Validation,
                    AuditOutcome::Denied,
                    &format!("activity {activity}: Intune refused transaction {txid}: {code} {description}"),
                );
                let reason = format!("Intune refused the request ({code})");
                self.notify_failure(&csr, E_ACCESSDENIED, &reason);
                Err(Answer::Failure(FailInfo::BadRequest, reason))
            }
            Err(e) => {
                self.audit_intune(
                    IntuneStep::Validation,
                    AuditOutcome::Failed,
                    &format!("activity {activity}: transaction {txid} not validated: {e}"),
                );
                Err(Answer::Failure(
                    FailInfo::BadRequest,
                    "the request could not be validated with Intune; nothing was issued".into(),
                ))
            }
        }
    }

    /// Tells Intune the outcome of a transaction of an Intune endpoint, once: a
    /// certificate (a success) or a refusal (a failure). A pending request has no
    /// outcome yet. Gives the answer to send the device.
    pub(super) fn report_to_intune(
        &self,
        transaction_key: &str,
        request: &CertificateRequest,
        answer: Answer,
    ) -> Answer {
        if !matches!(
            self.endpoint.kind,
            policy::model::EndpointKind::Intune { .. }
        ) || request.renewal_of.is_some()
        {
            return answer;
        }
        match self
            .shared
            .transactions
            .reported(self.endpoint.id, transaction_key)
        {
            Ok(true) => return answer,
            Ok(false) => {}
            Err(e) => return internal(e),
        }
        let csr = base64_of(&request.csr_der);
        let delivered = match &answer {
            Answer::Pending => return answer,
            Answer::Success(_) => {
                let Some(record) = self.issued_record(request) else {
                    return answer;
                };
                self.notify_success(&csr, &record)
            }
            Answer::Failure(info, reason) => {
                let hresult = match info {
                    FailInfo::BadRequest => E_INVALIDARG,
                    _ => E_FAIL,
                };
                self.notify_failure(&csr, hresult, reason)
            }
        };
        if delivered {
            if let Err(e) = self
                .shared
                .transactions
                .mark_reported(self.endpoint.id, transaction_key)
            {
                tracing::error!(error = %e, "Intune report not recorded");
            }
            answer
        } else if matches!(answer, Answer::Success(_)) {
            // Not handed out until Intune knows of it: the device asks again.
            Answer::Pending
        } else {
            answer
        }
    }

    fn issued_record(&self, request: &CertificateRequest) -> Option<CertificateRecord> {
        let id = request.state.certificate()?;
        self.shared.ra.ca().certificates().get(id).ok().flatten()
    }

    /// `successNotification`; whether Intune took it.
    fn notify_success(&self, csr: &str, record: &CertificateRecord) -> bool {
        let Ok(client) = self.intune_client() else {
            return false;
        };
        let certificate = IssuedCertificate {
            thumbprint: hex::encode_upper(
                aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                    &record.der,
                )
                .as_ref(),
            ),
            serial: record.serial.to_hex(),
            expires_utc: iso8601(record.not_after),
            issuer: self
                .shared
                .ra
                .ca()
                .ca(&record.issuer_id)
                .map(|ca| ca.subject_text().to_owned())
                .unwrap_or_default(),
        };
        let activity = ActivityId::random();
        let txid = &self.request.transaction_id;
        let sent = self.block_on(client.notify_success(activity, txid, csr, &certificate));
        self.delivered(
            IntuneStep::SuccessNotification,
            activity,
            sent,
            &format!(
                "certificate {} (thumbprint {})",
                certificate.serial, certificate.thumbprint
            ),
        )
    }

    /// `failureNotification`; whether Intune took it.
    fn notify_failure(&self, csr: &str, hresult: u32, reason: &str) -> bool {
        let Ok(client) = self.intune_client() else {
            return false;
        };
        let activity = ActivityId::random();
        let txid = &self.request.transaction_id;
        let sent = self.block_on(client.notify_failure(activity, txid, csr, hresult, reason));
        self.delivered(
            IntuneStep::FailureNotification,
            activity,
            sent,
            &format!("0x{hresult:08X} {reason}"),
        )
    }

    /// Audits a notification's delivery; whether Intune took it.
    fn delivered(
        &self,
        step: IntuneStep,
        activity: ActivityId,
        sent: Result<Result<ServiceAnswer, crate::intune::IntuneError>, Answer>,
        what: &str,
    ) -> bool {
        let txid = &self.request.transaction_id;
        let (outcome, detail, ok) = match sent {
            Ok(Ok(ServiceAnswer::Success)) => (
                AuditOutcome::Success,
                format!("activity {activity}: transaction {txid}: {what}"),
                true,
            ),
            Ok(Ok(ServiceAnswer::Refused { code, description })) => (
                AuditOutcome::Failed,
                format!("activity {activity}: transaction {txid}: {what}: Intune answered {code} {description}"),
                // Intune answered: it has the report, even if it did not like it.
                true,
            ),
            Ok(Err(e)) => (
                AuditOutcome::Failed,
                format!("activity {activity}: transaction {txid}: {what}: {e}"),
                false,
            ),
            Err(_) => (
                AuditOutcome::Failed,
                format!("activity {activity}: transaction {txid}: {what}: not sent"),
                false,
            ),
        };
        self.audit_intune(step, outcome, &detail);
        ok
    }

    fn intune_client(&self) -> Result<std::sync::Arc<crate::intune::client::IntuneClient>, Answer> {
        match self.shared.ra.intune_access(self.endpoint) {
            Ok(Some(access)) => Ok(self.shared.intune.client(self.endpoint, &access)),
            Ok(None) => Err(internal("the endpoint is not an Intune endpoint")),
            Err(e) => Err(internal(e)),
        }
    }

    /// Runs an Intune call to its end from this blocking-pool thread.
    fn block_on<T>(&self, call: impl std::future::Future<Output = T>) -> Result<T, Answer> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err(internal("no runtime to call Intune from"));
        };
        Ok(runtime.block_on(call))
    }

    fn audit_intune(&self, step: IntuneStep, outcome: AuditOutcome, detail: &str) {
        if let Err(e) = self.shared.ra.record_intune_step(
            self.endpoint,
            self.actor.identity(),
            step,
            outcome,
            detail,
        ) {
            tracing::error!(error = %e, "Intune step not audited");
        }
    }
}

fn base64_of(der: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(der)
}

/// A Unix time as ISO 8601 UTC with milliseconds (`2027-12-04T10:00:00.000Z`), the form
/// the library asks for.
fn iso8601(unix: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}
