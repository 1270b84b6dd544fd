//! revokeCert (RFC 8555 §7.6): by the account the certificate was issued to
//! (or one holding valid authorizations for all its names), or by a request
//! signed with the certificate's own key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ca_core::certificates::CertificateStatus;
use ca_core::revocation::RevocationReason;
use ca_core::serial::Serial;
use ca_core::service::CaServiceError;
use http::StatusCode;
use policy::registry::RaError;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{now, Ctx, Reply, Signer};
use crate::records::AcmeIdentifier;
use crate::wire::jws::SignedRequest;
use crate::wire::objects::RevocationPayload;
use crate::wire::problem::{Problem, ProblemType};

/// The reasons a subscriber may give: not a CA compromise (theirs to declare is their
/// own key, not the CA's), and not a hold, which ACME has no way to lift.
fn reason_of(code: Option<i64>) -> Result<RevocationReason, Problem> {
    let reason = match code {
        None => Some(RevocationReason::Unspecified),
        Some(code) => u8::try_from(code)
            .ok()
            .and_then(RevocationReason::from_code),
    };
    match reason {
        Some(
            RevocationReason::CaCompromise
            | RevocationReason::AaCompromise
            | RevocationReason::CertificateHold,
        )
        | None => Err(Problem::new(
            ProblemType::BadRevocationReason,
            "the reason must be one of 0, 1, 3, 4, 5, 9 (RFC 5280 CRLReason)",
        )),
        Some(reason) => Ok(reason),
    }
}

/// revokeCert.
pub(crate) fn revoke(ctx: &Ctx<'_>, signer: Signer, jws: &SignedRequest) -> Result<Reply, Problem> {
    let payload: RevocationPayload = jws.payload_json()?;
    let der = URL_SAFE_NO_PAD
        .decode(payload.certificate.trim_end_matches('='))
        .map_err(|_| Problem::malformed("the certificate is not base64url"))?;
    let certificate = match X509Certificate::from_der(&der) {
        Ok(([], certificate)) => certificate,
        _ => {
            return Err(Problem::malformed(
                "the certificate is not a DER certificate",
            ))
        }
    };
    let reason = reason_of(payload.reason)?;
    let ra = &ctx.shared.ra;
    let unknown = || Problem::not_found("a certificate issued here with this serial number");
    let record = ra
        .ca()
        .certificates()
        .by_serial(&Serial::from_bytes(certificate.raw_serial()))?
        .filter(|r| r.der == der)
        .ok_or_else(unknown)?;
    let owner = ra.certificate_owner(record.id).map_err(|_| unknown())?;
    if owner.external {
        return Err(unknown());
    }
    let actor = match &signer {
        Signer::Key(key) => {
            if !key.matches_spki(certificate.public_key().raw) {
                return Err(Problem::unauthorized(
                    "the request is not signed by the certificate's key",
                ));
            }
            if owner.org != ctx.endpoint.org {
                return Err(Problem::unauthorized(
                    "the certificate does not belong to this endpoint's organization",
                ));
            }
            format!("{}:certificate-key", ctx.endpoint.name)
        }
        Signer::Account(account) => {
            let issued_to_it = ctx
                .shared
                .records
                .certificate_link(record.id)?
                .is_some_and(|link| link.account == account.id);
            let authorized_for_all = owner.org == account.org
                && match record
                    .names
                    .iter()
                    .map(AcmeIdentifier::from_san)
                    .collect::<Option<Vec<_>>>()
                {
                    Some(ids) if !ids.is_empty() => {
                        ctx.shared
                            .records
                            .holds_authorizations(account.id, &ids, now())?
                    }
                    _ => false,
                };
            if !issued_to_it && !authorized_for_all {
                return Err(Problem::unauthorized(
                    "this account may not revoke this certificate",
                ));
            }
            ctx.actor(account.id)
        }
    };
    if matches!(record.status, CertificateStatus::Revoked { .. }) {
        return Err(Problem::new(
            ProblemType::AlreadyRevoked,
            "the certificate is already revoked",
        ));
    }
    ra.revoke_internal(
        &actor,
        record.id,
        owner.request,
        reason,
        "revoked through ACME",
    )
    .map_err(|e| match e {
        RaError::Ca(CaServiceError::AlreadyRevoked(_)) => Problem::new(
            ProblemType::AlreadyRevoked,
            "the certificate is already revoked",
        ),
        other => Problem::internal(other),
    })?;
    Ok(Reply::empty(StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_a_subscriber_may_give() {
        assert_eq!(reason_of(None).unwrap(), RevocationReason::Unspecified);
        assert_eq!(reason_of(Some(1)).unwrap(), RevocationReason::KeyCompromise);
        assert_eq!(reason_of(Some(4)).unwrap(), RevocationReason::Superseded);
        for bad in [2, 6, 7, 8, 10, 11, -1, 256, i64::MAX] {
            assert_eq!(
                reason_of(Some(bad)).unwrap_err().kind,
                ProblemType::BadRevocationReason,
                "{bad}"
            );
        }
    }
}
