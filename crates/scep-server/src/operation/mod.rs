//! PKIOperation: one verified, decrypted SCEP request in, one signed CertRep
//! out (RFC 8894 §3.3). Runs on the blocking pool: it decrypts, signs and
//! waits for durable commits.

use std::net::IpAddr;

use ca_core::certificates::{CertificateRecord, NotRenewable};
use ca_core::csr::VerifiedCsr;
use ca_core::serial::Serial;
use cms::cert::IssuerAndSerialNumber;
use der::{Decode, Encode};
use gateway_http::actor::Protocol;
use gateway_http::{ProtocolActor, Refusal, RefusalKind};
use policy::model::Endpoint;
use policy::registry::{RaError, ScepValidationOutcome, Submission};
use policy::request::{CertificateRequest, Channel, RequestState};
use zeroize::Zeroizing;

mod intune;

use crate::ra_identity::RaIdentity;
use crate::transactions::Transaction;
use crate::validation::webhook::{Enrollment, Verdict};
use crate::wire::algorithms::{ContentCipher, Digest};
use crate::wire::cert_rep::CertRep;
use crate::wire::envelope::{seal, Envelope};
use crate::wire::signed::SignedRequest;
use crate::wire::{degenerate, FailInfo, MessageType, PkiStatus, WireError};
use crate::Shared;

/// The outcome of a PKIOperation.
pub(crate) enum Outcome {
    /// A signed CertRep (DER).
    CertRep(Vec<u8>),
    /// No CertRep can be made: an HTTP status and a one-line reason.
    Refused(http::StatusCode, String),
}

/// What a CertRep will say, before it is signed.
enum Answer {
    Success(Vec<u8>),
    Pending,
    Failure(FailInfo, String),
}

/// Everything one request's answer needs.
struct Exchange<'a> {
    shared: &'a Shared,
    endpoint: &'a Endpoint,
    ra: &'a RaIdentity,
    request: &'a SignedRequest,
    actor: ProtocolActor,
    client: Option<IpAddr>,
    digest: Digest,
    cipher: ContentCipher,
}

/// Answers one PKIOperation message for an endpoint.
pub(crate) fn handle(
    shared: &Shared,
    endpoint: &Endpoint,
    message: &[u8],
    client: Option<IpAddr>,
) -> Outcome {
    let request = match SignedRequest::parse(message) {
        Ok(r) => r,
        Err(e) => return Outcome::Refused(http::StatusCode::BAD_REQUEST, e.to_string()),
    };
    let ra = match shared.identities.get(shared.ra.ca(), endpoint) {
        Ok(ra) => ra,
        Err(e) => {
            tracing::error!(endpoint = %endpoint.name, error = %e, "SCEP RA identity unavailable");
            return Outcome::Refused(
                http::StatusCode::SERVICE_UNAVAILABLE,
                "the endpoint's RA certificate is not available".into(),
            );
        }
    };
    let actor = ProtocolActor::new(
        Protocol::Scep,
        &format!("{} transaction {}", endpoint.name, request.transaction_id),
        client,
    );
    let digest = request.digest.clone().unwrap_or(Digest::Sha256);
    let mut exchange = Exchange {
        shared,
        endpoint,
        ra: &ra,
        request: &request,
        actor,
        client,
        digest,
        cipher: ContentCipher::Aes128,
    };
    let answer = match exchange.open() {
        Ok(content) => exchange.dispatch(&content),
        Err(e) => Answer::Failure(e.fail_info(), e.to_string()),
    };
    exchange.sign(answer)
}

/// The cipher of the answer: AES-256 for a client that used it, else AES-128,
/// which every client that reads our GetCACaps ("AES") can decrypt (micromdm's
/// scepclient, which encrypts with single DES, decrypts AES too).
fn answer_cipher(request: ContentCipher) -> ContentCipher {
    match request {
        ContentCipher::Aes256 => ContentCipher::Aes256,
        _ => ContentCipher::Aes128,
    }
}

impl Exchange<'_> {
    /// Verifies the signature and opens the envelope.
    fn open(&mut self) -> Result<Zeroizing<Vec<u8>>, WireError> {
        self.digest = self.request.verify()?;
        let content = self
            .request
            .content
            .as_deref()
            .ok_or_else(|| WireError::Malformed("the request has no content".into()))?;
        let envelope = Envelope::parse(content)?;
        self.cipher = answer_cipher(envelope.cipher.clone()?);
        envelope.open(&self.ra.identity, &self.ra.certificate)
    }

    fn dispatch(&self, content: &[u8]) -> Answer {
        match self.request.message_type {
            MessageType::PkcsReq | MessageType::RenewalReq => self.enroll(content),
            MessageType::CertPoll => self.poll(),
            MessageType::GetCert => self.get_cert(content),
            MessageType::GetCrl => self.get_crl(content),
            MessageType::CertRep => Answer::Failure(
                FailInfo::BadRequest,
                "a CertRep is an answer, not a request".into(),
            ),
        }
    }

    /// Signs the answer; a failure is logged and audited with its reason.
    fn sign(&self, answer: Answer) -> Outcome {
        let (status, fail_info, envelope) = match answer {
            Answer::Success(payload) => match seal(&payload, &self.request.signer, self.cipher) {
                Ok(envelope) => (PkiStatus::Success, None, Some(envelope)),
                Err(e) => (PkiStatus::Failure, Some(e.fail_info()), None),
            },
            Answer::Pending => (PkiStatus::Pending, None, None),
            Answer::Failure(info, reason) => {
                tracing::info!(endpoint = %self.endpoint.name, transaction = %self.request.transaction_id, fail_info = info.name(), %reason, "SCEP request refused");
                (PkiStatus::Failure, Some(info), None)
            }
        };
        let rep = CertRep {
            status,
            fail_info,
            transaction_id: &self.request.transaction_id_value,
            recipient_nonce: &self.request.sender_nonce,
            envelope,
            digest: self.digest,
        };
        match rep.sign(&self.ra.identity, &self.ra.certificate) {
            Ok(der) => Outcome::CertRep(der),
            Err(e) => {
                tracing::error!(error = %e, "SCEP CertRep could not be signed");
                Outcome::Refused(
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    "the answer could not be signed".into(),
                )
            }
        }
    }

    /// PKCSReq and RenewalReq.
    fn enroll(&self, content: &[u8]) -> Answer {
        // Content that is no CSR is what a wrong content key gives: the same answer as a decryption failure.
        let Ok(csr) = VerifiedCsr::from_der(content) else {
            return Answer::Failure(
                FailInfo::BadMessageCheck,
                WireError::Undecryptable.to_string(),
            );
        };
        let shared = self.shared;
        let signer_key = self.request.signer_key_id();
        let renewed = match self.renewed_certificate() {
            Ok(r) => r,
            Err(answer) => return answer,
        };
        let renewal_of = renewed.as_ref().map(|r| r.id);
        let txid = &self.transaction_key(renewal_of);
        // A transaction already begun is answered as it stands, before the renewed
        // certificate is checked: once its renewal is issued, that certificate is Replaced,
        // and the device, which still signs with it, comes to collect the new one.
        match shared.transactions.get(self.endpoint.id, txid) {
            Ok(Some(existing)) => return self.answer_transaction(txid, &existing, &signer_key),
            Ok(None) => {}
            Err(e) => return internal(e),
        }
        let Some(_flight) = shared.in_flight.claim(self.endpoint.id, txid) else {
            // The same transaction is being enrolled right now: the device asks again later.
            return Answer::Pending;
        };
        if let Some(record) = &renewed {
            if let Err(answer) = renewable(record) {
                return answer;
            }
        }
        if renewal_of.is_none() {
            if self.request.message_type == MessageType::RenewalReq {
                return Answer::Failure(
                    FailInfo::BadRequest,
                    "a RenewalReq must be signed with a certificate this CA issued".into(),
                );
            }
            if let Err(answer) = self.authorize_enrollment(content, &csr) {
                return answer;
            }
        }
        let submission = Submission {
            csr: Vec::new(),
            profile: self.endpoint.profile.clone(),
            org: self.endpoint.org,
            dept: self.endpoint.dept,
            term_days: None,
            names: None,
            channel: Channel::Scep,
            renewal_of,
            replaces: renewal_of.is_some(),
            annotations: Default::default(),
        };
        let request =
            match shared
                .ra
                .submit_verified(self.actor.requester(self.endpoint), submission, csr)
            {
                Ok(request) => request,
                Err(RaError::RefusedByProfile { request, error }) => {
                    self.record(txid, &request, &signer_key);
                    let answer = Answer::Failure(FailInfo::BadRequest, error.to_string());
                    return self.report_to_intune(txid, &request, answer);
                }
                Err(e) => return refusal(&e),
            };
        self.record(txid, &request, &signer_key);
        let answer = self.answer_request(&request);
        self.report_to_intune(txid, &request, answer)
    }

    /// A new enrollment (not a renewal): Intune decides for an Intune endpoint, the
    /// endpoint's webhook where it has one, else the static or a one-time challenge.
    fn authorize_enrollment(&self, content: &[u8], csr: &VerifiedCsr) -> Result<(), Answer> {
        if matches!(
            self.endpoint.kind,
            policy::model::EndpointKind::Intune { .. }
        ) {
            return self.ask_intune(content);
        }
        let challenge = csr.challenge_password().map(|c| c.as_str());
        match self.shared.ra.scep_webhook_key(self.endpoint) {
            Ok(Some((url, key))) => self.ask_webhook(&url, &key, content, csr, challenge),
            Ok(None) => self
                .shared
                .ra
                .check_scep_challenge(self.endpoint, challenge, csr, self.actor.identity())
                .map(|_| ())
                .map_err(|e| Answer::Failure(FailInfo::BadRequest, e.to_string())),
            // A webhook whose key cannot be opened refuses: never a fall back to the challenge.
            Err(e) => Err(internal(e)),
        }
    }

    /// Asks the endpoint's webhook (waiting on the blocking pool for the async call)
    /// and records its decision in the audit log; anything but a 2xx refuses.
    fn ask_webhook(
        &self,
        url: &str,
        key: &[u8],
        content: &[u8],
        csr: &VerifiedCsr,
        challenge: Option<&str>,
    ) -> Result<(), Answer> {
        let enrollment = Enrollment {
            endpoint: &self.endpoint.name,
            transaction_id: &self.request.transaction_id,
            subject: subject_text(content),
            sans: csr
                .requested_names()
                .iter()
                .map(ToString::to_string)
                .collect(),
            challenge,
            client_address: self.client.map(|ip| ip.to_string()),
            message_type: match self.request.message_type {
                MessageType::RenewalReq => "RenewalReq",
                _ => "PKCSReq",
            },
        };
        // This runs on a blocking-pool thread of the runtime, which may block on a future.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err(internal("no runtime to call the webhook from"));
        };
        let verdict = runtime.block_on(self.shared.webhooks.call(url, key, &enrollment));
        let outcome = match verdict {
            Verdict::Accepted(_) => ScepValidationOutcome::Accepted,
            Verdict::Refused(_) => ScepValidationOutcome::Refused,
            Verdict::Failed(_) => ScepValidationOutcome::Failed,
        };
        let detail = verdict.describe();
        if let Err(e) = self.shared.ra.record_scep_validation(
            self.endpoint,
            self.actor.identity(),
            outcome,
            &detail,
        ) {
            return Err(internal(e));
        }
        match outcome {
            ScepValidationOutcome::Accepted => Ok(()),
            _ => Err(Answer::Failure(FailInfo::BadRequest, detail)),
        }
    }

    /// The transaction a request belongs to. A renewal is a transaction of its own even
    /// where the client reuses the transaction id of the enrollment it renews (micromdm's
    /// derives it from the key, which a renewal keeps).
    fn transaction_key(&self, renewal_of: Option<u64>) -> String {
        match renewal_of {
            Some(id) => format!("{}\u{0}renewal-of-{id}", self.request.transaction_id),
            None => self.request.transaction_id.clone(),
        }
    }

    fn record(&self, transaction_key: &str, request: &CertificateRequest, signer_key: &str) {
        let transaction = Transaction {
            request: request.id,
            signer_key: signer_key.to_string(),
            created_at: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        if let Err(e) =
            self.shared
                .transactions
                .insert(self.endpoint.id, transaction_key, &transaction)
        {
            tracing::error!(error = %e, transaction = %self.request.transaction_id, "SCEP transaction not recorded");
        }
    }

    /// A renewal is a request signed with a certificate this CA issued (RenewalReq, or an
    /// sscep-style PKCSReq signed with the old certificate): that certificate's record.
    fn renewed_certificate(&self) -> Result<Option<CertificateRecord>, Answer> {
        let ca = self.shared.ra.ca();
        let serial =
            Serial::from_bytes(self.request.signer.tbs_certificate.serial_number.as_bytes());
        match ca.certificates().by_serial(&serial) {
            Ok(Some(record)) if record.der == self.request.signer_der => Ok(Some(record)),
            Ok(_) => Ok(None),
            Err(e) => Err(internal(e)),
        }
    }

    /// A repeated PKCSReq or a CertPoll: the answer of the transaction's request.
    fn answer_transaction(
        &self,
        transaction_key: &str,
        transaction: &Transaction,
        signer_key: &str,
    ) -> Answer {
        if transaction.signer_key != signer_key {
            return Answer::Failure(
                FailInfo::BadRequest,
                "the transaction was begun with another key".into(),
            );
        }
        match self.shared.ra.request_internal(transaction.request) {
            Ok(request) => {
                let answer = self.answer_request(&request);
                self.report_to_intune(transaction_key, &request, answer)
            }
            Err(e) => refusal(&e),
        }
    }

    fn answer_request(&self, request: &CertificateRequest) -> Answer {
        match &request.state {
            RequestState::Requested | RequestState::Approved => Answer::Pending,
            RequestState::Issued { certificate }
            | RequestState::Expired { certificate }
            | RequestState::Replaced { certificate, .. } => self.certificate_payload(*certificate),
            RequestState::Revoked { .. } => Answer::Failure(
                FailInfo::BadRequest,
                "the certificate of this transaction was revoked".into(),
            ),
            RequestState::Declined | RequestState::Invalid | RequestState::Rejected => {
                let reason = request
                    .history
                    .last()
                    .map(|t| t.reason.clone())
                    .unwrap_or_default();
                Answer::Failure(
                    FailInfo::BadRequest,
                    format!("the request is {}: {reason}", request.state.name().as_str()),
                )
            }
        }
    }

    fn certificate_payload(&self, id: u64) -> Answer {
        match self.shared.ra.ca().certificates().get(id) {
            Ok(Some(record)) => match degenerate::certificates(&[&record.der]) {
                Ok(payload) => Answer::Success(payload),
                Err(e) => Answer::Failure(e.fail_info(), e.to_string()),
            },
            Ok(None) => Answer::Failure(FailInfo::BadCertId, format!("certificate {id} is gone")),
            Err(e) => internal(e),
        }
    }

    /// CertPoll (GetCertInitial): by transaction id.
    fn poll(&self) -> Answer {
        let renewal_of = match self.renewed_certificate() {
            Ok(r) => r.map(|r| r.id),
            Err(answer) => return answer,
        };
        let transaction_key = self.transaction_key(renewal_of);
        match self
            .shared
            .transactions
            .get(self.endpoint.id, &transaction_key)
        {
            Ok(Some(transaction)) => self.answer_transaction(
                &transaction_key,
                &transaction,
                &self.request.signer_key_id(),
            ),
            Ok(None) => Answer::Failure(
                FailInfo::BadCertId,
                format!("no transaction '{}'", self.request.transaction_id),
            ),
            Err(e) => internal(e),
        }
    }

    /// GetCert: a certificate of this endpoint's organization, by issuer and serial.
    fn get_cert(&self, content: &[u8]) -> Answer {
        let Ok(wanted) = IssuerAndSerialNumber::from_der(content) else {
            return Answer::Failure(
                FailInfo::BadMessageCheck,
                WireError::Undecryptable.to_string(),
            );
        };
        let ca = self.shared.ra.ca();
        let serial = Serial::from_bytes(wanted.serial_number.as_bytes());
        let record = match ca.certificates().by_serial(&serial) {
            Ok(Some(r)) => r,
            Ok(None) => return Answer::Failure(FailInfo::BadCertId, "no such certificate".into()),
            Err(e) => return internal(e),
        };
        let issuer_matches = ca.ca(&record.issuer_id).is_some_and(|issuer| {
            wanted.issuer.to_der().ok().as_deref() == Some(issuer.subject_der())
        });
        let owned = self
            .shared
            .ra
            .certificate_owner(record.id)
            .is_ok_and(|o| o.org == self.endpoint.org);
        if !issuer_matches || !owned {
            return Answer::Failure(FailInfo::BadCertId, "no such certificate".into());
        }
        match degenerate::certificates(&[&record.der]) {
            Ok(payload) => Answer::Success(payload),
            Err(e) => Answer::Failure(e.fail_info(), e.to_string()),
        }
    }

    /// GetCRL: the CRL of the CA that issued the named certificate (sscep names the CA
    /// certificate itself).
    fn get_crl(&self, content: &[u8]) -> Answer {
        let Ok(wanted) = IssuerAndSerialNumber::from_der(content) else {
            return Answer::Failure(
                FailInfo::BadMessageCheck,
                WireError::Undecryptable.to_string(),
            );
        };
        let ca = self.shared.ra.ca();
        let issuer_der = wanted.issuer.to_der().unwrap_or_default();
        let serial = wanted.serial_number.as_bytes();
        let by_ca_certificate = ca.cas().find(|c| {
            x509_cert::Certificate::from_der(c.certificate_der()).is_ok_and(|cert| {
                cert.tbs_certificate.serial_number.as_bytes() == serial
                    && cert.tbs_certificate.issuer.to_der().ok() == Some(issuer_der.clone())
            })
        });
        let ca_id = match by_ca_certificate {
            Some(c) => c.id().to_string(),
            None => match ca.certificates().by_serial(&Serial::from_bytes(serial)) {
                Ok(Some(record)) => record.issuer_id,
                Ok(None) => {
                    return Answer::Failure(FailInfo::BadCertId, "no such certificate".into())
                }
                Err(e) => return internal(e),
            },
        };
        match ca.crl_der(&ca_id) {
            Ok(Some(crl)) => match degenerate::crl(&crl) {
                Ok(payload) => Answer::Success(payload),
                Err(e) => Answer::Failure(e.fail_info(), e.to_string()),
            },
            Ok(None) => Answer::Failure(FailInfo::BadCertId, "no CRL for that CA".into()),
            Err(e) => internal(e),
        }
    }
}

/// Whether a certificate may sign its own renewal: within its validity, and neither
/// revoked nor replaced.
fn renewable(record: &CertificateRecord) -> Result<(), Answer> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    record.renewable_at(now).map_err(|why| match why {
        NotRenewable::OutsideValidity => Answer::Failure(
            FailInfo::BadTime,
            "the certificate signing the renewal is outside its validity".into(),
        ),
        NotRenewable::Status(status) => Answer::Failure(
            FailInfo::BadRequest,
            format!("the certificate signing the renewal is {}", status.name()),
        ),
    })
}

/// The CSR's subject as text (`CN=…, O=…`), for the webhook.
fn subject_text(csr_der: &[u8]) -> String {
    use x509_parser::prelude::*;
    X509CertificationRequest::from_der(csr_der)
        .map(|(_, csr)| csr.certification_request_info.subject.to_string())
        .unwrap_or_default()
}

fn internal(e: impl std::fmt::Display) -> Answer {
    tracing::error!(error = %e, "SCEP request failed");
    Answer::Failure(
        FailInfo::BadRequest,
        "the server could not complete the request".into(),
    )
}

/// An RA refusal as a SCEP failure.
fn refusal(e: &RaError) -> Answer {
    let refusal = Refusal::of(e);
    let info = match refusal.kind {
        RefusalKind::NotFound => FailInfo::BadCertId,
        _ => FailInfo::BadRequest,
    };
    Answer::Failure(info, refusal.message)
}
