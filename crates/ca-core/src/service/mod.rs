//! The CA service: the CAs of one data directory, their profiles and their
//! store, behind the operations the layers above call — issue, revoke, CRL,
//! OCSP, look-ups and exports.
//!
//! Nothing is reported issued or revoked before it is durably committed: each
//! call returns only after the store's (group-committed) fsync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use time::{Duration, OffsetDateTime};

use crate::authority::{AuthorityError, CaDirectory, CertificationAuthority, PublicationUrls};
use crate::certificates::{CertificateRecord, CertificateRepository, CertificateStatus, CrlRecord};
use crate::encoding::{self, EncodingError, ExportFormat};
use crate::issuance::{self, IssuanceError, IssuanceRequest};
use crate::keys::{KeyAlgorithm, KeyProtection};
use crate::ocsp::{self, OcspError, OcspQuery, OcspStatus, ResponderKey};
use crate::ocsp_cache::{self, CachedResponse, OcspCache, ResponderGeneration};
use crate::profile::{CertificateProfile, ProfileError, ProfileSet};
use crate::revocation::{self, RevocationReason, RevokedEntry};
use crate::serial::Serial;
use crate::store::{Durability, Store, StoreError, StoreOptions};

/// The file name of the store inside the data directory.
pub const STORE_FILE: &str = "store.redb";
/// The file name of the profile set inside the data directory.
pub const PROFILES_FILE: &str = "profiles.toml";

/// Errors of the CA service.
#[derive(Debug, thiserror::Error)]
pub enum CaServiceError {
    /// The request cannot be issued as asked.
    #[error(transparent)]
    Issuance(#[from] IssuanceError),
    /// A CA problem.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    /// A store problem.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A profile problem.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// No such profile.
    #[error("no profile named '{0}'")]
    UnknownProfile(String),
    /// No such certificate.
    #[error("no certificate {0}")]
    UnknownCertificate(String),
    /// The certificate is already revoked.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    /// The data directory has no CA that can issue.
    #[error("no issuing CA: {0}")]
    NoIssuer(String),
    /// An encoding problem.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// Reading a configuration file failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// How the service is set up.
#[derive(Debug, Clone)]
pub struct CaServiceConfig {
    /// The data directory (CAs, profiles, store).
    pub data_dir: PathBuf,
    /// Where CRLs, CA certificates and OCSP are published (goes into certificates).
    pub base_url: String,
    /// How CA keys are protected at rest.
    pub key_protection: KeyProtection,
    /// The issuing CA used by profiles that name none; `None` picks the only non-root CA.
    pub default_issuer: Option<String>,
    /// How long a CRL is valid.
    pub crl_validity: Duration,
    /// How long an OCSP response is valid.
    pub ocsp_validity: Duration,
    /// Durable (default) or not (benchmarks only).
    pub durability: Durability,
    /// Who signs OCSP responses.
    pub ocsp_signer: OcspSigner,
    /// How many signed OCSP responses are cached (single CertID, no nonce); 0 disables the cache.
    pub ocsp_cache_entries: usize,
}

impl CaServiceConfig {
    /// Defaults for a data directory: CRLs valid 7 days, OCSP responses 1 day, durable writes.
    pub fn new(data_dir: &Path, base_url: &str, key_protection: KeyProtection) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            base_url: base_url.to_string(),
            key_protection,
            default_issuer: None,
            crl_validity: Duration::days(7),
            ocsp_validity: Duration::days(1),
            durability: Durability::Immediate,
            ocsp_signer: OcspSigner::Ca,
            ocsp_cache_entries: ocsp_cache::DEFAULT_CAPACITY,
        }
    }
}

/// The CAs, profiles and store of one gateway.
pub struct CaService {
    cas: BTreeMap<String, CertificationAuthority>,
    default_issuer: String,
    profiles: ProfileSet,
    urls: PublicationUrls,
    certificates: CertificateRepository,
    crl_validity: Duration,
    ocsp_validity: Duration,
    /// Serializes status changes so two revocations of one certificate cannot both win.
    status_lock: Mutex<()>,
    /// Serializes CRL generation so CRL numbers stay monotonic.
    crl_lock: Mutex<()>,
    /// Who signs OCSP responses.
    ocsp_signer: OcspSigner,
    /// Delegated OCSP responders, by CA id (in memory: re-issued after a restart).
    responders: RwLock<BTreeMap<String, Arc<DelegatedResponder>>>,
    /// The last generation given to a delegated responder (each renewal takes the next one).
    responder_generation: AtomicU64,
    /// Signed OCSP responses, by CertID.
    ocsp_cache: OcspCache,
    /// Where protocol identities (SCEP RA keys) are kept, and how their keys are protected.
    pub(crate) identities: crate::identity::IdentityDirectory,
}

/// A revoked certificate record and the uncommitted batch that stores it.
#[derive(Debug)]
pub struct PreparedRevocation {
    /// The record as revoked.
    pub record: CertificateRecord,
    /// The batch that stores it (with a check that its status is unchanged).
    pub batch: crate::store::WriteBatch,
}

/// A signed certificate and the uncommitted batch that stores it.
#[derive(Debug)]
pub struct PreparedIssue {
    /// The certificate record.
    pub record: CertificateRecord,
    /// The batch inserting it with its indexes (and a uniqueness check on its serial).
    pub batch: crate::store::WriteBatch,
}

/// The profile delegated OCSP responder certificates are issued under.
pub const OCSP_RESPONDER_PROFILE: &str = "ocsp-signing";

/// Who signs OCSP responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OcspSigner {
    /// The CA's own key.
    #[default]
    Ca,
    /// A short-lived OCSP-signing certificate per CA (profile `ocsp-signing`), with a key that never leaves memory.
    Delegated,
}

struct DelegatedResponder {
    certificate_der: Vec<u8>,
    key: rcgen::KeyPair,
    renew_after: i64,
    /// Which responder this is: cached responses it did not sign are not served.
    generation: ResponderGeneration,
}

/// An OCSP answer with what HTTP needs for its caching headers (RFC 5019 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    /// The DER OCSPResponse (an unsigned error response where RFC 6960 says so).
    pub der: Vec<u8>,
    /// thisUpdate of the response, Unix seconds (`None` for an error response).
    pub this_update: Option<i64>,
    /// nextUpdate of the response, Unix seconds (`None` for an error response).
    pub next_update: Option<i64>,
    /// A successful answer to a request with one CertID and no nonce: the same
    /// request gets the same bytes until it is re-signed, so HTTP caches may keep it.
    pub cacheable: bool,
}

/// An OCSP request as read: parsed, its CA found, its certificates' statuses read from the store.
struct OcspRead<'a> {
    query: OcspQuery,
    ca: &'a CertificationAuthority,
    statuses: Vec<OcspStatus>,
    /// One CertID and no nonce.
    cacheable: bool,
    /// The cache key (the CertID's DER) when cacheable and the cache is on.
    key: Option<Vec<u8>>,
}

impl std::fmt::Debug for CaService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaService")
            .field("cas", &self.cas.keys().collect::<Vec<_>>())
            .field("default_issuer", &self.default_issuer)
            .finish()
    }
}

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_unix(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Loads the profile set of a data directory (`profiles.toml`, or the shipped defaults).
pub fn load_profiles(data_dir: &Path) -> Result<ProfileSet, CaServiceError> {
    let path = data_dir.join(PROFILES_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(ProfileSet::from_toml(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfileSet::defaults()),
        Err(e) => Err(CaServiceError::Io(path, e)),
    }
}

impl CaService {
    /// Opens the data directory: loads the CAs and profiles, opens the store
    /// (refusing if another process holds it) and makes sure every CA has a current CRL.
    pub fn open(config: &CaServiceConfig) -> Result<Self, CaServiceError> {
        let directory = CaDirectory::new(&config.data_dir);
        let cas: BTreeMap<String, CertificationAuthority> = directory
            .load_all(&config.key_protection)?
            .into_iter()
            .map(|ca| (ca.id().to_string(), ca))
            .collect();
        let default_issuer =
            match &config.default_issuer {
                Some(id) if cas.contains_key(id) => id.clone(),
                Some(id) => {
                    return Err(CaServiceError::NoIssuer(format!(
                        "the default issuer '{id}' does not exist"
                    )))
                }
                None => {
                    let candidates: Vec<&String> = cas
                        .iter()
                        .filter(|(_, ca)| !ca.is_root() && ca.signer().is_some())
                        .map(|(id, _)| id)
                        .collect();
                    match candidates.as_slice() {
                        [one] => (*one).clone(),
                        [] => {
                            return Err(CaServiceError::NoIssuer(
                                "the data directory has no issuing CA with its key".into(),
                            ))
                        }
                        many => {
                            return Err(CaServiceError::NoIssuer(format!(
                            "several issuing CAs ({}); name the default one in the configuration",
                            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                        )))
                        }
                    }
                }
            };
        let profiles = load_profiles(&config.data_dir)?;
        for profile in profiles.iter() {
            if let Some(issuer) = &profile.issuer {
                if !cas.contains_key(issuer) {
                    return Err(CaServiceError::NoIssuer(format!(
                        "profile '{}' names issuer '{issuer}', which does not exist",
                        profile.name
                    )));
                }
            }
        }
        let store = Store::open_redb_with(
            config.data_dir.join(STORE_FILE),
            StoreOptions::with_durability(config.durability),
        )?;
        let service = Self {
            cas,
            default_issuer,
            profiles,
            urls: PublicationUrls::new(&config.base_url),
            certificates: CertificateRepository::open(store)?,
            crl_validity: config.crl_validity,
            ocsp_validity: config.ocsp_validity,
            status_lock: Mutex::new(()),
            crl_lock: Mutex::new(()),
            ocsp_signer: config.ocsp_signer,
            responders: RwLock::new(BTreeMap::new()),
            responder_generation: AtomicU64::new(ocsp_cache::CA_RESPONDER),
            ocsp_cache: OcspCache::new(config.ocsp_cache_entries),
            identities: crate::identity::IdentityDirectory::new(
                &config.data_dir,
                config.key_protection.clone(),
            ),
        };
        if service.ocsp_signer == OcspSigner::Delegated {
            service.profile(OCSP_RESPONDER_PROFILE)?;
        }
        service.refresh_crls(OffsetDateTime::now_utc(), false)?;
        Ok(service)
    }

    /// The CAs, by id.
    pub fn cas(&self) -> impl Iterator<Item = &CertificationAuthority> {
        self.cas.values()
    }

    /// One CA.
    pub fn ca(&self, id: &str) -> Option<&CertificationAuthority> {
        self.cas.get(id)
    }

    /// The default issuing CA's id.
    pub fn default_issuer(&self) -> &str {
        &self.default_issuer
    }

    /// The profiles.
    pub fn profiles(&self) -> &ProfileSet {
        &self.profiles
    }

    /// A profile by name.
    pub fn profile(&self, name: &str) -> Result<&CertificateProfile, CaServiceError> {
        self.profiles
            .get(name)
            .ok_or_else(|| CaServiceError::UnknownProfile(name.to_string()))
    }

    /// The publication URLs.
    pub fn urls(&self) -> &PublicationUrls {
        &self.urls
    }

    /// The certificate records.
    pub fn certificates(&self) -> &CertificateRepository {
        &self.certificates
    }

    /// The issuing CA a profile uses.
    pub fn issuer_for(
        &self,
        profile: &CertificateProfile,
    ) -> Result<&CertificationAuthority, CaServiceError> {
        let id = profile.issuer.as_deref().unwrap_or(&self.default_issuer);
        self.cas
            .get(id)
            .ok_or_else(|| CaServiceError::NoIssuer(format!("CA '{id}' is not loaded")))
    }

    /// Issues a certificate and commits it durably before returning it.
    pub fn issue(
        &self,
        request: &IssuanceRequest<'_>,
        requester: &str,
    ) -> Result<CertificateRecord, CaServiceError> {
        let ca = self.issuer_for(request.profile)?;
        self.issue_from(ca, request, requester)
    }

    /// Issues from a given CA, whatever the profile names.
    pub(crate) fn issue_from(
        &self,
        ca: &CertificationAuthority,
        request: &IssuanceRequest<'_>,
        requester: &str,
    ) -> Result<CertificateRecord, CaServiceError> {
        // A serial collision (2^-127 per pair) is retried with a fresh serial.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let prepared = self.prepare_issue_from(ca, request, requester)?;
            match self.certificates.store().write(prepared.batch) {
                Ok(()) => return Ok(prepared.record),
                Err(StoreError::Conflict { .. }) if attempts < 3 => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Signs a certificate and returns it with the batch that stores it,
    /// uncommitted, so a caller can add its own records (the request's new
    /// state, its audit entry) and commit them atomically with it. A commit
    /// that fails with [`StoreError::Conflict`] hit a serial collision: prepare again.
    pub fn prepare_issue(
        &self,
        request: &IssuanceRequest<'_>,
        requester: &str,
    ) -> Result<PreparedIssue, CaServiceError> {
        let ca = self.issuer_for(request.profile)?;
        self.prepare_issue_from(ca, request, requester)
    }

    fn prepare_issue_from(
        &self,
        ca: &CertificationAuthority,
        request: &IssuanceRequest<'_>,
        requester: &str,
    ) -> Result<PreparedIssue, CaServiceError> {
        let now = OffsetDateTime::now_utc();
        let issued = issuance::issue(ca, &self.urls, request, Serial::random(), now)?;
        let record = CertificateRecord {
            id: self.certificates.allocate_id(),
            serial: issued.serial,
            issuer_id: issued.issuer_id,
            profile: issued.profile,
            subject: issued.subject,
            names: issued.names,
            not_before: unix(issued.not_before),
            not_after: unix(issued.not_after),
            requester: requester.to_string(),
            issued_at: unix(now),
            status: CertificateStatus::Issued,
            der: issued.der,
        };
        let mut batch = crate::store::WriteBatch::new();
        self.certificates.insert_into(&mut batch, &record)?;
        Ok(PreparedIssue { record, batch })
    }

    /// Revokes a certificate, commits it, and re-signs its CA's CRL.
    pub fn revoke(
        &self,
        serial: &Serial,
        reason: RevocationReason,
        message: &str,
    ) -> Result<CertificateRecord, CaServiceError> {
        let _guard = self.status_lock.lock().unwrap_or_else(|e| e.into_inner());
        let prepared = self.prepare_revocation(serial, reason, message)?;
        self.certificates
            .store()
            .write(prepared.batch)
            .map_err(|e| match e {
                StoreError::Conflict { .. } => CaServiceError::AlreadyRevoked(serial.to_hex()),
                other => other.into(),
            })?;
        self.revocation_committed(&prepared.record)?;
        Ok(prepared.record)
    }

    /// The revoked record and the uncommitted batch that stores it, so a caller can commit
    /// its own records (the request's state, the audit entry) in the same transaction. The
    /// batch applies only if the certificate's status has not changed since it was read.
    /// After committing it, call [`CaService::revocation_committed`].
    pub fn prepare_revocation(
        &self,
        serial: &Serial,
        reason: RevocationReason,
        message: &str,
    ) -> Result<PreparedRevocation, CaServiceError> {
        let before = self
            .certificates
            .by_serial(serial)?
            .ok_or_else(|| CaServiceError::UnknownCertificate(serial.to_hex()))?;
        if matches!(before.status, CertificateStatus::Revoked { .. }) {
            return Err(CaServiceError::AlreadyRevoked(serial.to_hex()));
        }
        let mut batch = crate::store::WriteBatch::new();
        let record = self.certificates.update_status_into(
            &mut batch,
            &before,
            CertificateStatus::Revoked {
                revoked_at: unix(OffsetDateTime::now_utc()),
                reason,
                message: message.to_string(),
            },
        )?;
        Ok(PreparedRevocation { record, batch })
    }

    /// Re-signs the CRL of a certificate's CA once its revocation is committed.
    pub fn revocation_committed(&self, record: &CertificateRecord) -> Result<(), CaServiceError> {
        if let Some(ca) = self.cas.get(&record.issuer_id) {
            self.regenerate_crl(ca, OffsetDateTime::now_utc())?;
        }
        Ok(())
    }

    /// Marks a certificate replaced by another (renewal through `replaces`).
    pub fn mark_replaced(
        &self,
        old_id: u64,
        new_id: u64,
    ) -> Result<CertificateRecord, CaServiceError> {
        let _guard = self.status_lock.lock().unwrap_or_else(|e| e.into_inner());
        let before = self
            .certificates
            .get(old_id)?
            .ok_or_else(|| CaServiceError::UnknownCertificate(old_id.to_string()))?;
        if !matches!(before.status, CertificateStatus::Issued) {
            return Ok(before);
        }
        let mut batch = crate::store::WriteBatch::new();
        let after = self.certificates.update_status_into(
            &mut batch,
            &before,
            CertificateStatus::Replaced { by: new_id },
        )?;
        self.certificates.store().write(batch)?;
        Ok(after)
    }

    /// Signs and stores a new CRL for a CA (number = previous + 1).
    pub fn regenerate_crl(
        &self,
        ca: &CertificationAuthority,
        now: OffsetDateTime,
    ) -> Result<CrlRecord, CaServiceError> {
        let _guard = self.crl_lock.lock().unwrap_or_else(|e| e.into_inner());
        let number = self
            .certificates
            .crl(ca.id())?
            .map(|c| c.number + 1)
            .unwrap_or(1);
        let mut entries: Vec<RevokedEntry> = self
            .certificates
            .revoked_of(ca.id())?
            .into_iter()
            .map(|(serial, r)| RevokedEntry {
                serial,
                revoked_at: from_unix(r.revoked_at),
                reason: r.reason,
            })
            .collect();
        entries.sort_by_key(|e| e.revoked_at);
        let next_update = now + self.crl_validity;
        let der = revocation::build_crl(ca, &entries, number, now, next_update)?;
        let record = CrlRecord {
            number,
            this_update: unix(now),
            next_update: unix(next_update),
            der,
        };
        self.certificates.put_crl(ca.id(), &record)?;
        Ok(record)
    }

    /// Re-signs every CRL past half its validity or older than a revocation of
    /// its CA (a crash between a revocation's commit and its CRL), or all of
    /// them with `force`. Returns the ids of the CAs whose CRL was re-signed.
    pub fn refresh_crls(
        &self,
        now: OffsetDateTime,
        force: bool,
    ) -> Result<Vec<String>, CaServiceError> {
        let mut refreshed = Vec::new();
        for ca in self.cas.values().filter(|ca| ca.signer().is_some()) {
            let stale = match self.certificates.crl(ca.id())? {
                None => true,
                Some(crl) => {
                    let half = (crl.next_update - crl.this_update) / 2;
                    unix(now) >= crl.this_update + half
                        || self.certificates.revoked_since(ca.id(), crl.this_update)?
                }
            };
            if force || stale {
                self.regenerate_crl(ca, now)?;
                refreshed.push(ca.id().to_string());
            }
        }
        Ok(refreshed)
    }

    /// The current CRL of a CA (DER), re-signed first if it is past half its validity.
    pub fn crl_der(&self, ca_id: &str) -> Result<Option<Vec<u8>>, CaServiceError> {
        let Some(ca) = self.cas.get(ca_id) else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        match self.certificates.crl(ca_id)? {
            Some(crl) if unix(now) < crl.this_update + (crl.next_update - crl.this_update) / 2 => {
                Ok(Some(crl.der))
            }
            _ if ca.signer().is_some() => Ok(Some(self.regenerate_crl(ca, now)?.der)),
            Some(crl) => Ok(Some(crl.der)),
            None => Ok(None),
        }
    }

    /// Answers a DER OCSP request with a DER OCSP response (an error response where RFC 6960 says so).
    pub fn ocsp_response(&self, request_der: &[u8]) -> Vec<u8> {
        self.ocsp_answer(request_der).der
    }

    /// Answers a DER OCSP request, with the response's thisUpdate and nextUpdate and
    /// whether HTTP caches may keep it.
    ///
    /// A request with one CertID and no nonce is answered from the cache when the
    /// cached response states the status the store gives now, was signed by the
    /// current responder and is not past half its validity; otherwise it is signed
    /// and cached. Other requests are signed every time.
    pub fn ocsp_answer(&self, request_der: &[u8]) -> OcspAnswer {
        self.ocsp_answer_at(request_der, OffsetDateTime::now_utc())
    }

    /// The answer [`CaService::ocsp_answer`] would give, if the cache holds it: `None`
    /// when something would have to be signed (or refused), or a delegated responder
    /// issued. It reads the certificate's status from the store (one read transaction,
    /// which never waits for a writer) and signs nothing, so an async server can call
    /// it on its own thread and send only the rest to a blocking pool.
    pub fn ocsp_answer_from_cache(&self, request_der: &[u8]) -> Option<OcspAnswer> {
        self.cached_ocsp_answer_at(request_der, OffsetDateTime::now_utc())
    }

    fn cached_ocsp_answer_at(&self, request_der: &[u8], now: OffsetDateTime) -> Option<OcspAnswer> {
        if !self.ocsp_cache.enabled() {
            return None;
        }
        let read = self.read_ocsp_request(request_der).ok()?;
        let generation = match self.ocsp_signer {
            OcspSigner::Ca => ocsp_cache::CA_RESPONDER,
            OcspSigner::Delegated => self.current_responder(read.ca, now)?.generation,
        };
        self.cached_ocsp_answer(&read, generation, now)
    }

    /// The cached answer to a request read with [`CaService::read_ocsp_request`], if the
    /// cache holds one signed for the status just read, by `responder`, fresh at `now`.
    fn cached_ocsp_answer(
        &self,
        read: &OcspRead<'_>,
        responder: ResponderGeneration,
        now: OffsetDateTime,
    ) -> Option<OcspAnswer> {
        let key = read.key.as_ref()?;
        let hit = self
            .ocsp_cache
            .lookup(key, &read.statuses[0], responder, unix(now))?;
        Some(OcspAnswer {
            der: hit.der.to_vec(),
            this_update: Some(hit.this_update),
            next_update: Some(hit.next_update),
            cacheable: true,
        })
    }

    fn ocsp_answer_at(&self, request_der: &[u8], now: OffsetDateTime) -> OcspAnswer {
        match self.try_ocsp_response(request_der, now) {
            Ok(answer) => answer,
            Err(e) => {
                tracing::debug!(error = %e, "OCSP request refused");
                OcspAnswer {
                    der: e.to_response_der(),
                    this_update: None,
                    next_update: None,
                    cacheable: false,
                }
            }
        }
    }

    /// The OCSP response cache.
    pub fn ocsp_cache(&self) -> &OcspCache {
        &self.ocsp_cache
    }

    /// Parses a request, finds the CA it names and reads the status of each certificate.
    fn read_ocsp_request(&self, request_der: &[u8]) -> Result<OcspRead<'_>, OcspError> {
        let query = OcspQuery::parse(request_der)?;
        let ca = self
            .cas
            .values()
            .find(|ca| ca.signer().is_some() && query.names_issuer(0, ca))
            .ok_or(OcspError::Unauthorized)?;
        // The store is the truth: the status is read for every request, cached or not,
        // so a revocation committed before it was acknowledged is seen by the next one.
        let mut statuses = Vec::with_capacity(query.len());
        for serial in query.serials() {
            let record = self
                .certificates
                .by_serial(&serial)
                .map_err(|e| OcspError::Internal(e.to_string()))?;
            statuses.push(match record {
                Some(r) if r.issuer_id == ca.id() => match r.status {
                    CertificateStatus::Revoked {
                        revoked_at, reason, ..
                    } => OcspStatus::Revoked {
                        at: from_unix(revoked_at),
                        reason,
                    },
                    _ => OcspStatus::Good,
                },
                _ => OcspStatus::Unknown,
            });
        }
        // RFC 5019: one CertID, no nonce. Only those are cached, here and by HTTP caches.
        let cacheable = query.len() == 1 && !query.has_nonce();
        let key = if cacheable && self.ocsp_cache.enabled() {
            ocsp_cache::cert_id_key(request_der)
        } else {
            None
        };
        Ok(OcspRead {
            query,
            ca,
            statuses,
            cacheable,
            key,
        })
    }

    fn try_ocsp_response(
        &self,
        request_der: &[u8],
        now: OffsetDateTime,
    ) -> Result<OcspAnswer, OcspError> {
        let read = self.read_ocsp_request(request_der)?;
        let (ca, query, statuses) = (read.ca, &read.query, &read.statuses);
        let responder = match self.ocsp_signer {
            OcspSigner::Ca => None,
            OcspSigner::Delegated => Some(
                self.delegated_responder(ca, now)
                    .map_err(|e| OcspError::Internal(e.to_string()))?,
            ),
        };
        let generation = responder
            .as_ref()
            .map_or(ocsp_cache::CA_RESPONDER, |r| r.generation);
        if let Some(answer) = self.cached_ocsp_answer(&read, generation, now) {
            return Ok(answer);
        }
        let der = match &responder {
            None => ocsp::sign_response(
                ca,
                &ResponderKey::Ca,
                query,
                statuses,
                now,
                self.ocsp_validity,
            )?,
            Some(responder) => ocsp::sign_response(
                ca,
                &ResponderKey::Delegated {
                    certificate_der: &responder.certificate_der,
                    key: &responder.key,
                    key_algorithm: KeyAlgorithm::EcP256,
                    public_key_bits: responder.key.public_key_raw(),
                },
                query,
                statuses,
                now,
                self.ocsp_validity,
            )?,
        };
        // sign_response writes whole seconds: thisUpdate = producedAt = now, nextUpdate = now + validity.
        let this_update = unix(now);
        let next_update = unix(now + self.ocsp_validity);
        if let Some(key) = &read.key {
            self.ocsp_cache.insert(
                key,
                CachedResponse {
                    der: Arc::from(der.as_slice()),
                    status: statuses[0],
                    responder: generation,
                    this_update,
                    next_update,
                },
            );
        }
        Ok(OcspAnswer {
            der,
            this_update: Some(this_update),
            next_update: Some(next_update),
            cacheable: read.cacheable,
        })
    }

    /// The CA's delegated OCSP responder if there is one and it is not due for renewal.
    fn current_responder(
        &self,
        ca: &CertificationAuthority,
        now: OffsetDateTime,
    ) -> Option<Arc<DelegatedResponder>> {
        self.responders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(ca.id())
            .filter(|r| unix(now) < r.renew_after)
            .cloned()
    }

    /// The CA's delegated OCSP responder, issued (and recorded like any
    /// certificate) on first use and again once past half its lifetime.
    fn delegated_responder(
        &self,
        ca: &CertificationAuthority,
        now: OffsetDateTime,
    ) -> Result<Arc<DelegatedResponder>, CaServiceError> {
        let fresh = |r: &DelegatedResponder| unix(now) < r.renew_after;
        if let Some(r) = self.current_responder(ca, now) {
            return Ok(r);
        }
        let mut responders = self.responders.write().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = responders.get(ca.id()) {
            if fresh(r) {
                return Ok(r.clone());
            }
        }
        let profile = self.profile(OCSP_RESPONDER_PROFILE)?;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| CaServiceError::NoIssuer(format!("OCSP responder key: {e}")))?;
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("{} OCSP Responder", ca.id()),
        );
        let csr_der = params
            .serialize_request(&key)
            .map_err(|e| CaServiceError::NoIssuer(format!("OCSP responder CSR: {e}")))?;
        let csr = crate::csr::VerifiedCsr::from_der(csr_der.der()).map_err(IssuanceError::from)?;
        let request = IssuanceRequest {
            csr: &csr,
            profile,
            names: None,
            term_days: None,
            owner_subject: Default::default(),
        };
        let record = self.issue_from(ca, &request, "ocsp-responder")?;
        let responder = Arc::new(DelegatedResponder {
            renew_after: record.not_before + (record.not_after - record.not_before) / 2,
            certificate_der: record.der,
            key,
            generation: self.responder_generation.fetch_add(1, Ordering::Relaxed) + 1,
        });
        responders.insert(ca.id().to_string(), responder.clone());
        Ok(responder)
    }

    /// A stored certificate in an export format, with its CA chain.
    pub fn export(
        &self,
        record: &CertificateRecord,
        format: ExportFormat,
    ) -> Result<Vec<u8>, CaServiceError> {
        let chain = self.issuer_chain(record)?;
        Ok(encoding::export(format, &record.der, &chain)?)
    }

    /// The DER certificates of a certificate's issuers: its issuing CA first, the root last.
    pub fn issuer_chain(&self, record: &CertificateRecord) -> Result<Vec<Vec<u8>>, CaServiceError> {
        let ca = self.cas.get(&record.issuer_id).ok_or_else(|| {
            CaServiceError::NoIssuer(format!("CA '{}' is not loaded", record.issuer_id))
        })?;
        let mut chain = vec![ca.certificate_der().to_vec()];
        chain.extend(ca.chain_der().iter().cloned());
        Ok(chain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &Path) -> CaService {
        super::ocsp_cache_tests::service_with(dir, |_| {})
    }

    #[test]
    fn two_revocations_prepared_from_one_read_commit_once() {
        let dir = tempfile::tempdir().unwrap();
        let service = service(dir.path());
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let csr = rcgen::CertificateParams::new(vec!["a.example.com".to_string()])
            .unwrap()
            .serialize_request(&key)
            .unwrap();
        let csr = crate::csr::VerifiedCsr::from_der(csr.der()).unwrap();
        let request = IssuanceRequest {
            csr: &csr,
            profile: service.profile("tls-server").unwrap(),
            names: None,
            term_days: None,
            owner_subject: Default::default(),
        };
        let issued = service.issue(&request, "test").unwrap();

        let first = service
            .prepare_revocation(&issued.serial, RevocationReason::KeyCompromise, "one")
            .unwrap();
        let second = service
            .prepare_revocation(&issued.serial, RevocationReason::Superseded, "two")
            .unwrap();
        service.certificates().store().write(first.batch).unwrap();
        service.revocation_committed(&first.record).unwrap();
        assert!(matches!(
            service.certificates().store().write(second.batch),
            Err(StoreError::Conflict { .. })
        ));
        let stored = service.certificates().get(issued.id).unwrap().unwrap();
        assert!(matches!(
            stored.status,
            CertificateStatus::Revoked {
                reason: RevocationReason::KeyCompromise,
                ..
            }
        ));
        assert_eq!(
            service.certificates().revoked_of("issuing").unwrap().len(),
            1
        );
        assert!(matches!(
            service.revoke(&issued.serial, RevocationReason::Unspecified, ""),
            Err(CaServiceError::AlreadyRevoked(_))
        ));
    }
}

#[cfg(test)]
mod ocsp_cache_tests;
