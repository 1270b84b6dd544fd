//! The in-process measurements at one size: look-ups, OCSP, listings, the
//! expiry sweep and CRL generation. Each answer is checked against what was
//! filled (outside the timed calls), so a fast wrong answer is an error, not a
//! figure.

use std::collections::HashSet;
use std::time::Instant;

use ca_core::authority::CertificationAuthority;
use der::asn1::{Null, OctetString};
use der::{Decode, Encode};
use policy::model::Administrator;
use policy::registry::CertificateFilter;
use serde::Serialize;
use time::OffsetDateTime;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest,
};

use super::fill::{splitmix64, Filled, Setup};
use super::World;

const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;
/// id-sha1, the CertID hash openssl and most clients send.
const ID_SHA1: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

/// Latencies of one operation, µs.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Stat {
    pub samples: usize,
    pub mean_us: f64,
    pub p99_us: f64,
}

impl Stat {
    fn of(mut micros: Vec<f64>) -> Self {
        micros.sort_by(f64::total_cmp);
        let n = micros.len();
        let p99 = if n == 0 {
            f64::NAN
        } else {
            micros[((n as f64 * 0.99).ceil() as usize).clamp(1, n) - 1]
        };
        Self {
            samples: n,
            mean_us: micros.iter().sum::<f64>() / n.max(1) as f64,
            p99_us: p99,
        }
    }
}

/// The µs `op` took.
fn timed<T>(op: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let value = op();
    (value, start.elapsed().as_secs_f64() * 1e6)
}

/// A small, fast generator for the random picks (seeded from the system generator).
pub(super) struct Picker(u64);

impl Picker {
    pub(super) fn new() -> Self {
        let mut seed = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut seed);
        Self(u64::from_le_bytes(seed))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(1);
        (splitmix64(self.0) % n as u64) as usize
    }

    /// `count` indices below `n`, distinct (at most `n` of them).
    pub(super) fn distinct(&mut self, n: usize, count: usize) -> Vec<usize> {
        let count = count.min(n);
        let mut seen = HashSet::with_capacity(count);
        let mut picks = Vec::with_capacity(count);
        while picks.len() < count {
            let i = self.below(n);
            if seen.insert(i) {
                picks.push(i);
            }
        }
        picks
    }
}

/// `CertificateRepository::by_serial` of each picked certificate.
pub(super) fn by_serial(world: &World, filled: &Filled, picks: &[usize]) -> Result<Stat, String> {
    let repository = world.service.certificates();
    let mut micros = Vec::with_capacity(picks.len());
    for &i in picks {
        let cert = filled.certs[i];
        let serial = cert.serial();
        let (found, us) = timed(|| repository.by_serial(&serial));
        let found = found.map_err(|e| format!("by_serial: {e}"))?;
        if found.map(|r| r.id) != Some(cert.id) {
            return Err(format!("serial {serial} is not certificate {}", cert.id));
        }
        micros.push(us);
    }
    Ok(Stat::of(micros))
}

/// `RegistrationAuthority::certificate` (owner, scope check, record) of each pick.
pub(super) fn by_id(
    world: &World,
    actor: &Administrator,
    filled: &Filled,
    picks: &[usize],
) -> Result<Stat, String> {
    let mut micros = Vec::with_capacity(picks.len());
    for &i in picks {
        let id = filled.certs[i].id;
        let (found, us) = timed(|| world.ra.certificate(actor, id));
        let found = found.map_err(|e| format!("certificate {id}: {e}"))?;
        if found.record.id != id {
            return Err(format!("certificate {id} came back as {}", found.record.id));
        }
        micros.push(us);
    }
    Ok(Stat::of(micros))
}

/// A DER OCSPRequest for one serial of `ca`: SHA-1 CertID, no nonce (what openssl sends
/// with `-no_nonce`, and what caches and the gateway's response cache key on).
pub(super) fn ocsp_request(ca: &CertificationAuthority, serial: &[u8]) -> Result<Vec<u8>, String> {
    let sha1 = &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY;
    let der_error = |e: der::Error| format!("building an OCSP request: {e}");
    let cert_id = CertId {
        hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: ID_SHA1,
            parameters: Some(der::Any::from(Null)),
        },
        issuer_name_hash: OctetString::new(
            aws_lc_rs::digest::digest(sha1, ca.subject_der()).as_ref(),
        )
        .map_err(der_error)?,
        issuer_key_hash: OctetString::new(
            aws_lc_rs::digest::digest(sha1, ca.public_key_bits()).as_ref(),
        )
        .map_err(der_error)?,
        serial_number: x509_cert::serial_number::SerialNumber::new(serial).map_err(der_error)?,
    };
    OcspRequest {
        tbs_request: TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(der_error)
}

/// Whether a DER OCSPResponse is a successful one stating revoked (`Some(true)`) or good.
fn ocsp_says_revoked(der: &[u8]) -> Result<bool, String> {
    let response = OcspResponse::from_der(der).map_err(|e| format!("OCSP response: {e}"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(format!("the OCSP answer is {:?}", response.response_status));
    }
    let bytes = response
        .response_bytes
        .ok_or("a successful OCSP response without a body")?;
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| format!("BasicOCSPResponse: {e}"))?;
    match basic
        .tbs_response_data
        .responses
        .first()
        .map(|r| &r.cert_status)
    {
        Some(CertStatus::Good(_)) => Ok(false),
        Some(CertStatus::Revoked(_)) => Ok(true),
        other => Err(format!("the OCSP answer states {other:?}")),
    }
}

/// `CaService::ocsp_response` for each pick, with the requests built beforehand; each
/// answer's status is checked against what was filled.
pub(super) fn ocsp(
    world: &World,
    setup: &Setup,
    filled: &Filled,
    picks: &[usize],
    rounds: usize,
) -> Result<Stat, String> {
    let ca = world
        .service
        .ca(&setup.issuer_id)
        .ok_or_else(|| format!("the CA service has no CA '{}'", setup.issuer_id))?;
    let requests = picks
        .iter()
        .map(|&i| ocsp_request(ca, &filled.certs[i].serial))
        .collect::<Result<Vec<_>, _>>()?;
    let mut micros = Vec::with_capacity(picks.len() * rounds);
    let mut answers = Vec::with_capacity(picks.len());
    for round in 0..rounds {
        for request in &requests {
            let (answer, us) = timed(|| world.service.ocsp_response(request));
            micros.push(us);
            if round == 0 {
                answers.push(answer);
            }
        }
    }
    for (&i, answer) in picks.iter().zip(&answers) {
        let revoked = setup.synthetic(i).revoked.is_some();
        if ocsp_says_revoked(answer)? != revoked {
            return Err(format!(
                "OCSP states certificate {} {}",
                filled.certs[i].id,
                if revoked {
                    "good, but it is revoked"
                } else {
                    "revoked, but it is not"
                }
            ));
        }
    }
    Ok(Stat::of(micros))
}

/// The listings measured at each size.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Listing {
    /// Rows of the page (checked against the expected ids).
    pub rows: usize,
    pub per_page: Stat,
}

/// Which listing.
pub(super) enum ListingKind {
    /// The MRAO: organization 0, status issued, expiring within a year.
    MraoFiltered,
    /// The RAO of organization 0, no filter.
    RaoScoped,
}

/// The first page and a late one (after the id at about 90 % of the matching ids, but
/// with a full page left), `repeats` times each; the rows must be exactly the expected ids.
pub(super) fn listings(
    world: &World,
    setup: &Setup,
    filled: &Filled,
    kind: ListingKind,
    page_size: usize,
    repeats: usize,
) -> Result<(Listing, Listing), String> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let expires_before = now + YEAR;
    let (actor, filter) = match kind {
        ListingKind::MraoFiltered => (
            &setup.mrao,
            CertificateFilter {
                org: Some(setup.orgs[0]),
                status: Some("issued".into()),
                expires_before: Some(expires_before),
                ..Default::default()
            },
        ),
        ListingKind::RaoScoped => (&setup.rao, CertificateFilter::default()),
    };
    let expected: Vec<u64> = filled
        .certs
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            let s = setup.synthetic(*i);
            s.org == 0
                && match kind {
                    ListingKind::MraoFiltered => {
                        s.revoked.is_none() && s.not_after < expires_before
                    }
                    ListingKind::RaoScoped => true,
                }
        })
        .map(|(_, c)| c.id)
        .collect();
    let late = (expected.len() * 9 / 10).min(expected.len().saturating_sub(page_size));
    let mut pages = Vec::new();
    for skip in [0, late] {
        let after = if skip == 0 { 0 } else { expected[skip - 1] };
        let want = &expected[skip..(skip + page_size).min(expected.len())];
        let mut micros = Vec::with_capacity(repeats);
        let mut rows = 0;
        for _ in 0..repeats.max(1) {
            let (page, us) = timed(|| world.ra.certificates(actor, &filter, after, page_size));
            let page = page.map_err(|e| format!("listing certificates: {e}"))?;
            let ids: Vec<u64> = page.iter().map(|c| c.record.id).collect();
            if ids != want {
                return Err(format!(
                    "a listing after {after} gave {} rows, not the {} expected",
                    ids.len(),
                    want.len()
                ));
            }
            rows = ids.len();
            micros.push(us);
        }
        pages.push(Listing {
            rows,
            per_page: Stat::of(micros),
        });
    }
    Ok((pages[0], pages[1]))
}

/// Every certificate of every organization, read through the RA's listing (pages of
/// 10,000): what the store holds, counted the way the product lists it.
pub(super) fn count_listed(world: &World, setup: &Setup) -> Result<(usize, f64), String> {
    let start = Instant::now();
    let mut count = 0;
    for org in &setup.orgs {
        let filter = CertificateFilter {
            org: Some(*org),
            ..Default::default()
        };
        let mut after = 0;
        loop {
            let page = world
                .ra
                .certificates(&setup.mrao, &filter, after, 10_000)
                .map_err(|e| format!("listing certificates: {e}"))?;
            let Some(last) = page.last() else { break };
            after = last.record.id;
            count += page.len();
        }
    }
    Ok((count, start.elapsed().as_secs_f64() * 1e3))
}

/// One expiry sweep.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Sweep {
    pub micros: f64,
    /// Certificates whose notAfter falls in the swept range.
    pub certificates_in_range: usize,
    /// Requests the sweep marked expired (the synthetic certificates have none).
    pub requests_expired: usize,
}

/// A sweep up to now − 1 day (the first after opening: everything expired so far),
/// then the one day up to now.
pub(super) fn sweeps(world: &World) -> Result<(Sweep, Sweep), String> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let in_range = |from: i64, to: i64| {
        world
            .service
            .certificates()
            .ids_expiring_between(from, to, usize::MAX)
            .map(|ids| ids.len())
            .map_err(|e| format!("the expiry index: {e}"))
    };
    let sweep = |from: i64, to: i64| -> Result<Sweep, String> {
        let (expired, micros) = timed(|| world.ra.sweep_expired(to));
        Ok(Sweep {
            micros,
            requests_expired: expired.map_err(|e| format!("the expiry sweep: {e}"))?,
            certificates_in_range: in_range(from, to)?,
        })
    };
    let first = sweep(i64::MIN, now - DAY)?;
    let day = sweep(now - DAY, now)?;
    Ok((first, day))
}

/// One CRL generation.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct CrlFigures {
    /// `CaService::regenerate_crl`: read the revoked entries, build, sign, store.
    pub millis: f64,
    /// Revoked entries in the signed CRL (parsed back).
    pub entries: usize,
    pub bytes: usize,
    /// Of the generation, reading the revoked entries alone (`revoked_of`), ms.
    pub read_revoked_millis: f64,
}

/// Re-signs the issuing CA's CRL.
pub(super) fn crl(world: &World, setup: &Setup) -> Result<CrlFigures, String> {
    let ca = world
        .service
        .ca(&setup.issuer_id)
        .ok_or_else(|| format!("the CA service has no CA '{}'", setup.issuer_id))?;
    let (record, micros) = timed(|| world.service.regenerate_crl(ca, OffsetDateTime::now_utc()));
    let record = record.map_err(|e| format!("CRL generation: {e}"))?;
    let (revoked, read_micros) =
        timed(|| world.service.certificates().revoked_of(&setup.issuer_id));
    revoked.map_err(|e| format!("reading the revoked entries: {e}"))?;
    let list = x509_cert::crl::CertificateList::from_der(&record.der)
        .map_err(|e| format!("the CRL does not parse: {e}"))?;
    Ok(CrlFigures {
        millis: micros / 1e3,
        entries: list
            .tbs_cert_list
            .revoked_certificates
            .map_or(0, |r| r.len()),
        bytes: record.der.len(),
        read_revoked_millis: read_micros / 1e3,
    })
}
