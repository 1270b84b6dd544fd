//! ACME Renewal Information (RFC 9773): the suggested renewal window of a
//! certificate, and the `replaces` field of newOrder.

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::serial::Serial;
use http::StatusCode;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{now, rfc3339, Ctx, Reply};
use crate::records::{AccountRecord, AcmeIdentifier, Replaces};
use crate::wire::objects::{CertId, RenewalInfoObject, SuggestedWindow};
use crate::wire::problem::{Problem, ProblemType};

/// How often clients are asked to look again (RFC 9773 suggests hours).
const RETRY_AFTER_SECS: u64 = 6 * 3600;

fn authority_key_identifier(der: &[u8]) -> Option<Vec<u8>> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    certificate
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

/// The certificate a certID names: its serial, from the issuer its AKI names (a serial
/// is unique per issuer only, so the AKI must match too).
pub(crate) fn certificate_by_cert_id(
    ctx: &Ctx<'_>,
    text: &str,
) -> Result<CertificateRecord, Problem> {
    let id = CertId::parse(text)?;
    let unknown = || Problem::not_found("a certificate with this certID");
    let record = ctx
        .shared
        .ra
        .ca()
        .certificates()
        .by_serial(&Serial::from_bytes(&id.serial))?
        .ok_or_else(unknown)?;
    if authority_key_identifier(&record.der).as_deref() != Some(id.key_identifier.as_slice()) {
        return Err(unknown());
    }
    Ok(record)
}

/// GET renewalInfo/<certID>: the window at two thirds to three quarters of the
/// validity, or right now for a revoked certificate.
pub(crate) fn renewal_info(ctx: &Ctx<'_>, text: &str) -> Result<Reply, Problem> {
    let record = certificate_by_cert_id(ctx, text)?;
    let (start, end) = match record.status {
        CertificateStatus::Revoked { .. } => {
            let now = now();
            (now - 3600, now - 60)
        }
        _ => {
            let lifetime = record.not_after - record.not_before;
            (
                record.not_before + lifetime * 2 / 3,
                record.not_before + lifetime * 3 / 4,
            )
        }
    };
    Ok(Reply::json(
        StatusCode::OK,
        &RenewalInfoObject {
            suggested_window: SuggestedWindow {
                start: rfc3339(start),
                end: rfc3339(end),
            },
        },
    )?
    .with_retry_after(RETRY_AFTER_SECS))
}

/// Checks a newOrder's `replaces`: a certificate issued to this account, not replaced
/// yet, sharing at least one identifier with the new order (RFC 9773 §5).
pub(crate) fn replaced_certificate(
    ctx: &Ctx<'_>,
    account: &AccountRecord,
    text: &str,
    identifiers: &[AcmeIdentifier],
) -> Result<Replaces, Problem> {
    let record = certificate_by_cert_id(ctx, text)?;
    let issued_to_it = ctx
        .shared
        .records
        .certificate_link(record.id)?
        .is_some_and(|link| link.account == account.id);
    if !issued_to_it {
        return Err(Problem::unauthorized(
            "the certificate named by replaces was not issued to this account",
        ));
    }
    if matches!(record.status, CertificateStatus::Replaced { .. }) {
        return Err(Problem::new(
            ProblemType::AlreadyReplaced,
            "the certificate named by replaces has been replaced already",
        ));
    }
    if !identifiers.iter().any(|i| record.names.contains(&i.san())) {
        return Err(Problem::malformed(
            "the order shares no identifier with the certificate it replaces",
        ));
    }
    Ok(Replaces {
        cert_id: text.to_string(),
        certificate: record.id,
    })
}
