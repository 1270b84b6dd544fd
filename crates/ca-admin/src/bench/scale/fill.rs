//! Filling the data directory: the organizations, departments and administrators
//! the certificates belong to, and the synthetic certificates themselves.
//!
//! Every certificate is written the way the product writes one, in batches of
//! [`BATCH`]: [`CertificateRepository::insert_into`] (the record, its serial,
//! status, expiry and profile index entries, and the revoked-by-CA entry of a
//! revoked one) and [`CertificateOwner::write_into`] (the owner and its
//! organization and department index entries) in one [`WriteBatch`], committed
//! durably through the store's group commit. Each record has its own random
//! serial and the issuing CA's id, so CRLs and OCSP find them; the DER is one
//! real certificate of the issuing CA, reused.
//!
//! What a certificate looks like is a function of its index `i` (see
//! [`Synthetic::of`]), so the expected answer of a listing can be computed
//! without storing anything but each certificate's id and serial.

use std::collections::BTreeSet;
use std::time::Instant;

use ca_core::certificates::{CertificateRecord, CertificateStatus};
use ca_core::csr::VerifiedCsr;
use ca_core::issuance::IssuanceRequest;
use ca_core::names::SubjectAltName;
use ca_core::revocation::RevocationReason;
use ca_core::serial::Serial;
use ca_core::store::{PendingWrite, WriteBatch};
use policy::model::{Address, Administrator, DeptId, OrgId, Privileges, Role};
use policy::registry::CertificateOwner;

use super::{progress, Budget, World};

/// Organizations the certificates are spread over (round-robin).
pub(super) const ORGS: usize = 10;
/// Departments of each organization; a fifth of the certificates have none.
pub(super) const DEPTS_PER_ORG: usize = 4;
/// The profiles of the default set the certificates are spread over.
pub(super) const PROFILES: [&str; 4] = ["tls-server", "tls-client", "device", "smime"];
/// Certificates per committed batch.
pub(super) const BATCH: usize = 1000;
/// The requester recorded with every synthetic certificate.
const REQUESTER: &str = "bench-scale";
/// The RAO scoped to the first organization.
pub(super) const RAO_USERNAME: &str = "bench-rao";

const DAY: i64 = 86_400;
/// The earliest notAfter, relative to the fill's time base: some certificates have expired.
const EXPIRY_FROM: i64 = -30 * DAY;
/// notAfter is spread evenly over this span from [`EXPIRY_FROM`] (30 days + 2 years).
const EXPIRY_SPAN: i64 = 760 * DAY;
/// notAfter − notBefore: long enough that every notBefore is in the past.
const TERM: i64 = 800 * DAY;
/// The reasons revoked certificates are given, in turn.
const REASONS: [RevocationReason; 5] = [
    RevocationReason::KeyCompromise,
    RevocationReason::Superseded,
    RevocationReason::CessationOfOperation,
    RevocationReason::AffiliationChanged,
    RevocationReason::Unspecified,
];

/// What the certificates are filled into, made once.
pub(super) struct Setup {
    /// The organizations, in the order certificates are dealt to them.
    pub orgs: Vec<OrgId>,
    /// Each organization's departments.
    pub depts: Vec<Vec<DeptId>>,
    /// The first MRAO, as login returned it.
    pub mrao: Administrator,
    /// An RAO of the first organization only.
    pub rao: Administrator,
    /// The issuing CA every certificate names.
    pub issuer_id: String,
    /// The DER every synthetic record carries (a real certificate of the issuing CA).
    template_der: Vec<u8>,
    /// The time (unix) the validity periods are laid out around.
    pub base_time: i64,
}

/// One certificate's attributes, a function of its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Synthetic {
    /// Index into [`Setup::orgs`].
    pub org: usize,
    /// Index into the organization's departments, if it has one.
    pub dept: Option<usize>,
    pub profile: &'static str,
    pub not_before: i64,
    pub not_after: i64,
    /// When and why, for a revoked one.
    pub revoked: Option<(i64, RevocationReason)>,
}

impl Synthetic {
    /// Certificate `i`: organization `i mod 10`; in blocks of 100 the department turns
    /// (four departments, then none); exactly one in ten revoked, evenly over the
    /// organizations; profile and notAfter from a hash of `i`.
    pub(super) fn of(base_time: i64, i: usize) -> Self {
        let h = splitmix64(0x5ca1_e000 ^ i as u64);
        let org = i % ORGS;
        let dept = match (i / 100) % (DEPTS_PER_ORG + 1) {
            d if d < DEPTS_PER_ORG => Some(d),
            _ => None,
        };
        let profile = PROFILES[(h % PROFILES.len() as u64) as usize];
        let not_after = base_time + EXPIRY_FROM + ((h >> 8) % EXPIRY_SPAN as u64) as i64;
        let not_before = not_after - TERM;
        let revoked = (i % 10 == (i / 10) % 10).then(|| {
            let since = (base_time - not_before).max(1) as u64;
            let at = not_before + ((h >> 24) % since) as i64;
            (at, REASONS[((h >> 56) % REASONS.len() as u64) as usize])
        });
        Self {
            org,
            dept,
            profile,
            not_before,
            not_after,
            revoked,
        }
    }
}

/// What has been filled: each certificate's id and serial, by index.
#[derive(Debug, Default)]
pub(super) struct Filled {
    pub certs: Vec<FilledCert>,
    pub revoked: usize,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct FilledCert {
    pub id: u64,
    pub serial: [u8; 16],
}

impl FilledCert {
    pub(super) fn serial(&self) -> Serial {
        Serial::from_bytes(&self.serial)
    }
}

impl Filled {
    pub(super) fn len(&self) -> usize {
        self.certs.len()
    }
}

/// SplitMix64: a fast, well-mixed hash of a counter (not for anything secret).
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random 127-bit serial of 16 octets (what [`Serial::random`] makes), as bytes.
fn random_serial() -> [u8; 16] {
    let serial = Serial::random();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(serial.as_bytes());
    bytes
}

impl Setup {
    /// Creates the organizations, departments and the RAO through the RA as the MRAO,
    /// and signs the template certificate through the CA service.
    pub(super) fn create(world: &World, mrao: Administrator) -> Result<Self, String> {
        let ra = &world.ra;
        let mut orgs = Vec::new();
        let mut depts = Vec::new();
        for o in 0..ORGS {
            let org = ra
                .create_organization(&mrao, &format!("Bench Org {o}"), Address::default())
                .map_err(|e| format!("creating organization {o}: {e}"))?;
            let mut of_org = Vec::new();
            for d in 0..DEPTS_PER_ORG {
                let dept = ra
                    .create_department(&mrao, org.id, &format!("Bench Dept {o}.{d}"))
                    .map_err(|e| format!("creating department {o}.{d}: {e}"))?;
                of_org.push(dept.id);
            }
            orgs.push(org.id);
            depts.push(of_org);
        }
        let mut password = [0u8; 16];
        aws_lc_rs::rand::fill(&mut password)
            .map_err(|_| "the system random generator failed".to_string())?;
        let rao = ra
            .create_admin(
                &mrao,
                RAO_USERNAME,
                &hex_of(&password),
                Role::Rao {
                    orgs: BTreeSet::from([orgs[0]]),
                },
                Privileges(Default::default()),
            )
            .map_err(|e| format!("creating the RAO: {e}"))?;
        let issuer_id = world.service.default_issuer().to_string();
        Ok(Self {
            orgs,
            depts,
            mrao,
            rao,
            template_der: template_certificate(world)?,
            issuer_id,
            base_time: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
    }

    /// Certificate `i`'s attributes.
    pub(super) fn synthetic(&self, i: usize) -> Synthetic {
        Synthetic::of(self.base_time, i)
    }

    fn record(&self, world: &World, i: usize, serial: [u8; 16]) -> CertificateRecord {
        let s = self.synthetic(i);
        let host = format!("host-{i}.bench.test");
        CertificateRecord {
            id: world.service.certificates().allocate_id(),
            serial: Serial::from_bytes(&serial),
            issuer_id: self.issuer_id.clone(),
            profile: s.profile.to_string(),
            subject: format!("CN={host}"),
            names: vec![SubjectAltName::Dns(host)],
            not_before: s.not_before,
            not_after: s.not_after,
            requester: REQUESTER.to_string(),
            issued_at: s.not_before,
            status: match s.revoked {
                None => CertificateStatus::Issued,
                Some((revoked_at, reason)) => CertificateStatus::Revoked {
                    revoked_at,
                    reason,
                    message: "bench".to_string(),
                },
            },
            der: self.template_der.clone(),
        }
    }

    fn owner(&self, i: usize) -> CertificateOwner {
        let s = self.synthetic(i);
        CertificateOwner {
            org: self.orgs[s.org],
            dept: s.dept.map(|d| self.depts[s.org][d]),
            request: None,
            external: false,
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One real certificate of the issuing CA (tls-server), signed through the CA
/// service and not stored: its DER is what every synthetic record carries.
fn template_certificate(world: &World) -> Result<Vec<u8>, String> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("generating the template key: {e}"))?;
    let csr = rcgen::CertificateParams::new(vec!["template.bench.test".to_string()])
        .and_then(|params| params.serialize_request(&key))
        .map_err(|e| format!("the template CSR: {e}"))?;
    let csr = VerifiedCsr::from_der(csr.der()).map_err(|e| format!("the template CSR: {e}"))?;
    let profile = world
        .service
        .profile(PROFILES[0])
        .map_err(|e| format!("the CA service: {e}"))?;
    let request = IssuanceRequest {
        csr: &csr,
        profile,
        names: None,
        term_days: None,
        owner_subject: Default::default(),
    };
    let prepared = world
        .service
        .prepare_issue(&request, REQUESTER)
        .map_err(|e| format!("signing the template certificate: {e}"))?;
    Ok(prepared.record.der)
}

/// A committed-or-not batch and what it holds.
struct InFlight {
    pending: PendingWrite,
    certs: Vec<FilledCert>,
    revoked: usize,
}

impl InFlight {
    fn land(self, filled: &mut Filled) -> Result<(), String> {
        self.pending
            .wait()
            .map_err(|e| format!("committing a batch of certificates: {e}"))?;
        filled.certs.extend(self.certs);
        filled.revoked += self.revoked;
        Ok(())
    }
}

/// Fills on to `target` certificates; `false` if the time limit stopped it first.
///
/// Each batch is queued before the previous one is waited for, so two batches often
/// share one commit.
pub(super) fn fill_to(
    world: &World,
    setup: &Setup,
    filled: &mut Filled,
    target: usize,
    budget: &Budget,
) -> Result<bool, String> {
    let store = world.service.certificates().store();
    let repository = world.service.certificates();
    let start = Instant::now();
    let from = filled.len();
    let mut next = from;
    let mut in_flight: Option<InFlight> = None;
    let mut last_report = Instant::now();
    while next < target && !budget.expired() {
        let end = (next + BATCH).min(target);
        let mut batch = WriteBatch::new();
        let mut certs = Vec::with_capacity(end - next);
        let mut revoked = 0;
        for i in next..end {
            let serial = random_serial();
            let record = setup.record(world, i, serial);
            repository
                .insert_into(&mut batch, &record)
                .map_err(|e| format!("certificate {i}: {e}"))?;
            setup
                .owner(i)
                .write_into(&mut batch, record.id)
                .map_err(|e| format!("the owner of certificate {i}: {e}"))?;
            if matches!(record.status, CertificateStatus::Revoked { .. }) {
                revoked += 1;
            }
            certs.push(FilledCert {
                id: record.id,
                serial,
            });
        }
        let pending = store
            .enqueue(batch)
            .map_err(|e| format!("queueing a batch of certificates: {e}"))?;
        next = end;
        if let Some(previous) = in_flight.replace(InFlight {
            pending,
            certs,
            revoked,
        }) {
            previous.land(filled)?;
        }
        if last_report.elapsed().as_secs() >= 10 {
            last_report = Instant::now();
            let rate = (filled.len() - from) as f64 / start.elapsed().as_secs_f64();
            progress(&format!(
                "  filled {} of {target} ({} certificates/s)",
                filled.len(),
                super::super::grouped(rate)
            ));
        }
    }
    if let Some(last) = in_flight {
        last.land(filled)?;
    }
    Ok(filled.len() >= target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_spread_is_as_described() {
        let base = 1_800_000_000;
        let all: Vec<Synthetic> = (0..10_000).map(|i| Synthetic::of(base, i)).collect();
        assert_eq!(all.iter().filter(|s| s.revoked.is_some()).count(), 1000);
        for org in 0..ORGS {
            let of_org: Vec<_> = all.iter().filter(|s| s.org == org).collect();
            assert_eq!(of_org.len(), 1000);
            assert_eq!(of_org.iter().filter(|s| s.revoked.is_some()).count(), 100);
            assert_eq!(of_org.iter().filter(|s| s.dept.is_none()).count(), 200);
        }
        for profile in PROFILES {
            let n = all.iter().filter(|s| s.profile == profile).count();
            assert!((2000..3000).contains(&n), "{profile}: {n}");
        }
        let expired = all.iter().filter(|s| s.not_after < base).count();
        assert!((200..600).contains(&expired), "{expired} expired");
        for s in &all {
            assert!(s.not_before < base && s.not_after > s.not_before);
            if let Some((at, _)) = s.revoked {
                assert!(at >= s.not_before && at < base);
            }
        }
    }
}
