//! `simpleenroll`, `simplereenroll` and `serverkeygen`: one authenticated CSR
//! through the RA (RFC 7030 §4.2, §4.4). Runs on the blocking pool: Argon2,
//! signing and durable commits.

use std::net::IpAddr;

use base64::Engine;
use ca_core::certificates::{CertificateRecord, NotRenewable};
use ca_core::csr::VerifiedCsr;
use ca_core::profile::SubjectAttribute;
use gateway_http::actor::Protocol;
use gateway_http::{HttpResponse, PeerIdentity, ProtocolActor, Refusal, RefusalKind};
use http::{HeaderMap, StatusCode};
use policy::model::{ApprovalMode, Endpoint, EndpointKind, EstAuth};
use policy::registry::{RaError, Submission};
use policy::request::{CertificateRequest, Channel, RequestState};
use x509_parser::prelude::*;

use crate::auth::{self, BasicCredentials};
use crate::keygen::{self, GeneratedKey};
use crate::pending::{Pending, PendingKey};
use crate::respond::{
    self, accepted, base64_answer, internal, refuse, text, unauthorized, Refused,
};
use crate::wire;
use crate::{Operation, Shared};

/// The Retry-After of a queued request, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 60;

/// One enrollment request as it came in.
pub(crate) struct Incoming<'a> {
    pub(crate) operation: Operation,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    pub(crate) peer: Option<&'a PeerIdentity>,
}

/// Who the device proved to be.
struct Authenticated {
    /// How the audit log names it.
    actor: ProtocolActor,
    /// For `simplereenroll`: the certificate being renewed.
    renewed: Option<CertificateRecord>,
}

/// Answers one enrollment request for an endpoint.
pub(crate) fn handle(shared: &Shared, endpoint: &Endpoint, incoming: Incoming<'_>) -> HttpResponse {
    match enroll(shared, endpoint, &incoming) {
        Ok(response) => response,
        Err(response) => *response,
    }
}

fn enroll(
    shared: &Shared,
    endpoint: &Endpoint,
    incoming: &Incoming<'_>,
) -> Result<HttpResponse, Refused> {
    let client = incoming.peer.map(|p| p.remote.ip());
    let who = authenticate(shared, endpoint, incoming, client)?;
    if incoming.operation == Operation::ServerKeygen && endpoint.approval == ApprovalMode::Queue {
        // The key is not kept (no escrow), so it could not be handed out after an approval.
        return Err(refuse(text(
            StatusCode::NOT_IMPLEMENTED,
            "serverkeygen is offered by auto-approving endpoints only: a generated key is not kept while a request waits",
        )));
    }
    let der = wire::decode_payload(incoming.body)
        .map_err(|e| refuse(text(StatusCode::BAD_REQUEST, &e.to_string())))?;
    let csr = VerifiedCsr::from_der(&der)
        .map_err(|e| refuse(text(StatusCode::BAD_REQUEST, &e.to_string())))?;
    check_proof_of_possession(endpoint, incoming.peer, &csr)?;
    let renewal_of = who.renewed.as_ref().map(|r| r.id);
    let key = PendingKey::new(endpoint.id, &der, renewal_of);
    // A request already begun is answered as it stands, before the renewed certificate is
    // checked: once its renewal is issued that certificate is Replaced, and the device,
    // which still authenticates with it, comes to collect the new one.
    match shared.pending.get(&key) {
        Ok(Some(pending)) => {
            let request = shared
                .ra
                .request_internal(pending.request)
                .map_err(|e| refuse(ra_refusal(&e)))?;
            return answer(shared, &request, incoming.operation, None);
        }
        Ok(None) => {}
        Err(e) => return Err(refuse(internal(e))),
    }
    if let Some(record) = &who.renewed {
        renewable(record)?;
        same_subject_and_names(record, &csr)?;
    }
    let device_names = csr.requested_names().to_vec();
    let (csr, generated) = match incoming.operation {
        Operation::ServerKeygen => {
            let (csr, key) = keygen::generate(shared, endpoint, &der, &csr, incoming.peer)?;
            (csr, Some(key))
        }
        _ => (csr, None),
    };
    let submission = Submission {
        csr: Vec::new(),
        profile: endpoint.profile.clone(),
        org: endpoint.org,
        dept: endpoint.dept,
        term_days: None,
        // A generated key's CSR carries the subject only: the names are the device's.
        names: generated.is_some().then_some(device_names),
        channel: Channel::Est,
        renewal_of,
        replaces: renewal_of.is_some(),
        annotations: Default::default(),
    };
    let request = match shared
        .ra
        .submit_verified(who.actor.requester(endpoint), submission, csr)
    {
        Ok(request) => request,
        Err(RaError::RefusedByProfile { error, .. }) => {
            return Err(refuse(text(
                StatusCode::BAD_REQUEST,
                &format!("the CSR is refused by the endpoint's profile: {error}"),
            )))
        }
        Err(e) => return Err(refuse(ra_refusal(&e))),
    };
    if matches!(request.state, RequestState::Requested) {
        let pending = Pending {
            request: request.id,
            created_at: ::time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        if let Err(e) = shared.pending.insert(&key, &pending) {
            tracing::error!(error = %e, request = %request.id.label(), "EST queued request not recorded");
        }
    }
    answer(shared, &request, incoming.operation, generated.as_ref())
}

/// Authenticates the device as the endpoint and the operation require.
fn authenticate(
    shared: &Shared,
    endpoint: &Endpoint,
    incoming: &Incoming<'_>,
    client: Option<IpAddr>,
) -> Result<Authenticated, Refused> {
    let EndpointKind::Est {
        auth: mode,
        trust_anchors,
        password_hash,
        ..
    } = &endpoint.kind
    else {
        return Err(refuse(text(StatusCode::NOT_FOUND, "not an EST endpoint")));
    };
    let failed = |reason: &str| {
        if let Some(ip) = client {
            shared.throttle.failed(ip);
        }
        tracing::info!(endpoint = %endpoint.name, client = ?client, %reason, "EST authentication refused");
        refuse(unauthorized(reason))
    };
    let chain = incoming
        .peer
        .and_then(|p| p.tls.as_ref())
        .map(|t| t.client_chain.clone())
        .unwrap_or_default();
    let ca = shared.ra.ca();
    if incoming.operation == Operation::SimpleReenroll {
        let Some(leaf) = chain.first() else {
            return Err(refuse(unauthorized(
                "simplereenroll needs the TLS client certificate being renewed",
            )));
        };
        let record = match auth::issued_here(ca, leaf) {
            Ok(Some(record)) => record,
            Ok(None) => {
                return Err(failed(
                    "the TLS client certificate was not issued by this CA, so it cannot be renewed here",
                ))
            }
            Err(e) => return Err(failed(&e)),
        };
        let actor = ProtocolActor::new(
            Protocol::Est,
            &format!("{} certificate {}", endpoint.name, record.serial.to_hex()),
            client,
        );
        if let Some(ip) = client {
            shared.throttle.succeeded(ip);
        }
        return Ok(Authenticated {
            actor,
            renewed: Some(record),
        });
    }
    // simpleenroll and serverkeygen.
    let basic = auth::basic(incoming.headers)
        .map_err(|_| failed("the Authorization header is not valid HTTP Basic"))?;
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    let certificate = chain.first().map(|leaf| {
        auth::chains_to_anchor(&chain, trust_anchors, now).or_else(|anchor_error| {
            // A certificate this gateway issued to the endpoint's organization also
            // identifies a device (RFC 7030 §3.3.2), unless revoked or replaced.
            own_certificate(shared, endpoint, leaf).ok_or(anchor_error)
        })
    });
    // A user locked by the RA's growing delay (per user and address, as administrators'
    // logins are) is refused at once, before any password is looked at (remembered ones
    // too), with 429 and Retry-After. That refusal is not counted by the address's
    // throttle: its failures were, and a device retrying a stale password must not lock
    // out the other devices behind its address.
    let locked = |retry_after: u64| {
        tracing::info!(endpoint = %endpoint.name, client = ?client, retry_after, "EST user locked after failed passwords");
        refuse(respond::user_locked(retry_after))
    };
    let password_ok = |credentials: &BasicCredentials| -> Result<(), Refused> {
        if let Err(RaError::TooManyFailures { retry_after }) =
            shared
                .ra
                .est_login_open(endpoint, &credentials.username, client)
        {
            return Err(locked(retry_after));
        }
        if shared
            .passwords
            .known(endpoint.id, password_hash, credentials)
        {
            return Ok(());
        }
        let actor = ProtocolActor::new(Protocol::Est, &endpoint.name, client);
        match shared.ra.check_est_password(
            endpoint,
            &credentials.username,
            &credentials.password,
            actor.identity(),
            client,
        ) {
            Ok(()) => {
                shared
                    .passwords
                    .remember(endpoint.id, password_hash, credentials);
                Ok(())
            }
            Err(RaError::TooManyFailures { retry_after }) => Err(locked(retry_after)),
            Err(e) => Err(failed(&Refusal::of(&e).message)),
        }
    };
    let identity = match (mode, &basic, &certificate) {
        (EstAuth::Certificate, _, Some(Ok(subject)))
        | (EstAuth::Either, None, Some(Ok(subject))) => {
            format!("{} certificate {subject}", endpoint.name)
        }
        (EstAuth::Certificate | EstAuth::Either, None, Some(Err(why)))
        | (EstAuth::Both, _, Some(Err(why))) => return Err(failed(why)),
        (EstAuth::Certificate, _, None) | (EstAuth::Both, _, None) => {
            return Err(refuse(unauthorized(
                "this endpoint authenticates devices by TLS client certificate; none was presented",
            )))
        }
        (EstAuth::Certificate, _, Some(Err(why))) => return Err(failed(why)),
        (_, Some(credentials), _) => {
            password_ok(credentials)?;
            if *mode == EstAuth::Both {
                let Some(Ok(subject)) = &certificate else {
                    return Err(failed("a trusted client certificate is required too"));
                };
                format!(
                    "{} user {} certificate {subject}",
                    endpoint.name, credentials.username
                )
            } else {
                format!("{} user {}", endpoint.name, credentials.username)
            }
        }
        (_, None, _) => {
            return Err(refuse(unauthorized(
                "this endpoint needs HTTP Basic credentials",
            )));
        }
    };
    if let Some(ip) = client {
        shared.throttle.succeeded(ip);
    }
    Ok(Authenticated {
        actor: ProtocolActor::new(Protocol::Est, &identity, client),
        renewed: None,
    })
}

/// The subject of a client certificate this gateway issued, valid and owned by the
/// endpoint's organization.
fn own_certificate(
    shared: &Shared,
    endpoint: &Endpoint,
    leaf: &rustls_pki_types::CertificateDer<'_>,
) -> Option<String> {
    let record = auth::issued_here(shared.ra.ca(), leaf).ok()??;
    renewable(&record).ok()?;
    let owner = shared.ra.certificate_owner(record.id).ok()?;
    (owner.org == endpoint.org).then_some(record.subject)
}

/// RFC 7030 §3.5: where the endpoint wants it, the CSR's challengePassword is the
/// TLS channel binding, base64. Ours is RFC 9266 `tls-exporter`, for TLS 1.3 and
/// TLS 1.2 alike (rustls offers no tls-unique).
fn check_proof_of_possession(
    endpoint: &Endpoint,
    peer: Option<&PeerIdentity>,
    csr: &VerifiedCsr,
) -> Result<(), Refused> {
    let EndpointKind::Est { pop_required, .. } = &endpoint.kind else {
        return Ok(());
    };
    if !pop_required {
        return Ok(());
    }
    let Some(binding) = peer
        .and_then(|p| p.tls.as_ref())
        .and_then(|t| t.channel_binding)
    else {
        return Err(refuse(text(
            StatusCode::BAD_REQUEST,
            "this endpoint requires proof of possession, and the TLS session has no channel binding",
        )));
    };
    let Some(presented) = csr.challenge_password().map(|p| p.as_str()) else {
        return Err(refuse(text(
            StatusCode::BAD_REQUEST,
            "this endpoint requires proof of possession: the CSR's challengePassword must be the base64 tls-exporter channel binding (RFC 9266) of this TLS session",
        )));
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(presented.trim())
        .unwrap_or_default();
    if aws_lc_rs::constant_time::verify_slices_are_equal(&decoded, &binding).is_err() {
        return Err(refuse(text(
            StatusCode::BAD_REQUEST,
            "the CSR's challengePassword is not this TLS session's channel binding (tls-exporter, RFC 9266)",
        )));
    }
    Ok(())
}

/// Whether a certificate may authenticate its own renewal: within its validity,
/// and neither revoked nor replaced.
fn renewable(record: &CertificateRecord) -> Result<(), Refused> {
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    record.renewable_at(now).map_err(|why| {
        refuse(unauthorized(&match why {
            NotRenewable::OutsideValidity => {
                "the certificate being renewed is outside its validity".to_string()
            }
            NotRenewable::Status(status) => {
                format!("the certificate being renewed is {}", status.name())
            }
        }))
    })
}

/// RFC 7030 §4.2.2: a re-enrollment keeps the subject and the subject alternative
/// names of the certificate it renews. The subject attributes the CSR carries must
/// be the certificate's (a CSR may leave out those the organization supplies, O and
/// C, or copy them from the certificate as libest does).
fn same_subject_and_names(record: &CertificateRecord, csr: &VerifiedCsr) -> Result<(), Refused> {
    let mismatch = |what: &str| {
        Err(refuse(text(
            StatusCode::BAD_REQUEST,
            &format!("simplereenroll must keep the {what} of the certificate being renewed"),
        )))
    };
    let Ok((_, certificate)) = X509Certificate::from_der(&record.der) else {
        return Err(refuse(internal("the renewed certificate does not parse")));
    };
    let subject = certificate.subject();
    let of = |attribute: SubjectAttribute| -> Option<String> {
        let oid = match attribute {
            SubjectAttribute::CommonName => x509_parser::oid_registry::OID_X509_COMMON_NAME,
            SubjectAttribute::Organization => x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME,
            SubjectAttribute::OrganizationalUnit => {
                x509_parser::oid_registry::OID_X509_ORGANIZATIONAL_UNIT
            }
            SubjectAttribute::Locality => x509_parser::oid_registry::OID_X509_LOCALITY_NAME,
            SubjectAttribute::State => x509_parser::oid_registry::OID_X509_STATE_OR_PROVINCE_NAME,
            SubjectAttribute::Country => x509_parser::oid_registry::OID_X509_COUNTRY_NAME,
        };
        subject
            .iter_by_oid(&oid)
            .next()
            .and_then(|v| v.as_str().ok().map(str::to_string))
    };
    for attribute in [
        SubjectAttribute::CommonName,
        SubjectAttribute::OrganizationalUnit,
    ] {
        if csr.subject_attribute(attribute).map(str::to_string) != of(attribute) {
            return mismatch("subject");
        }
    }
    for attribute in [
        SubjectAttribute::Organization,
        SubjectAttribute::Locality,
        SubjectAttribute::State,
        SubjectAttribute::Country,
    ] {
        if let Some(value) = csr.subject_attribute(attribute) {
            if of(attribute).as_deref() != Some(value) {
                return mismatch("subject");
            }
        }
    }
    let mut asked: Vec<_> = csr.requested_names().to_vec();
    let mut held = record.names.clone();
    asked.sort();
    asked.dedup();
    held.sort();
    held.dedup();
    if asked != held {
        return mismatch("subject alternative names");
    }
    Ok(())
}

/// The answer for a request in its current state.
fn answer(
    shared: &Shared,
    request: &CertificateRequest,
    operation: Operation,
    generated: Option<&GeneratedKey>,
) -> Result<HttpResponse, Refused> {
    match &request.state {
        RequestState::Requested | RequestState::Approved => Ok(accepted(RETRY_AFTER_SECONDS)),
        RequestState::Issued { certificate } => {
            let record = match shared.ra.ca().certificates().get(*certificate) {
                Ok(Some(record)) => record,
                Ok(None) => {
                    return Err(refuse(internal(format!(
                        "certificate {certificate} is gone"
                    ))))
                }
                Err(e) => return Err(refuse(internal(e))),
            };
            let certs_only = ca_core::encoding::pkcs7_certs_only(&[&record.der])
                .map_err(|e| refuse(internal(e)))?;
            match (operation, generated) {
                (Operation::ServerKeygen, Some(key)) => {
                    let (media_type, key_der) = key.deliverable(shared, &record)?;
                    let multipart =
                        wire::multipart::key_and_certificate(media_type, &key_der, &certs_only);
                    let body = bytes::Bytes::from(multipart.body.to_vec());
                    Ok(http::Response::builder()
                        .status(StatusCode::OK)
                        .header(http::header::CONTENT_TYPE, multipart.content_type)
                        .body(http_body_util::Full::new(body))
                        .expect("the boundary is a valid header value"))
                }
                (Operation::ServerKeygen, None) => Err(refuse(text(
                    StatusCode::GONE,
                    "the certificate was issued, but a server-generated key is not kept: send a new serverkeygen request",
                ))),
                _ => Ok(base64_answer(StatusCode::OK, wire::CERTS_ONLY, &certs_only)),
            }
        }
        RequestState::Expired { .. }
        | RequestState::Replaced { .. }
        | RequestState::Revoked { .. } => Err(refuse(text(
            StatusCode::FORBIDDEN,
            &format!(
                "the certificate of this request is {}; send a new request",
                request.state.name().as_str()
            ),
        ))),
        RequestState::Declined | RequestState::Invalid | RequestState::Rejected => {
            let reason = request
                .history
                .last()
                .map(|t| t.reason.clone())
                .unwrap_or_default();
            let status = match request.state {
                RequestState::Invalid => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            Err(refuse(text(
                status,
                &format!("the request is {}: {reason}", request.state.name().as_str()),
            )))
        }
    }
}

/// An RA refusal as an EST status.
fn ra_refusal(e: &RaError) -> HttpResponse {
    let refusal = Refusal::of(e);
    let status = match refusal.kind {
        RefusalKind::Unauthenticated => return unauthorized(&refusal.message),
        RefusalKind::Forbidden => StatusCode::FORBIDDEN,
        RefusalKind::NotFound => StatusCode::FORBIDDEN,
        RefusalKind::BadRequest => StatusCode::BAD_REQUEST,
        RefusalKind::Conflict => StatusCode::CONFLICT,
        RefusalKind::Internal => StatusCode::SERVICE_UNAVAILABLE,
    };
    text(status, &refusal.message)
}
