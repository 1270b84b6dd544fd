//! A bounded, thread-safe cache of signed OCSP responses (the RFC 5019 profile).
//!
//! Only requests with exactly one CertID and no nonce are cached: their response
//! depends on nothing but that CertID, the certificate's status, who signs and
//! when. The key is the CertID's DER encoding (hash algorithm, issuer name hash,
//! issuer key hash, serial); the value is the signed response with the status it
//! was signed for, the responder that signed it and its thisUpdate / nextUpdate.
//!
//! The cache never decides on its own that an entry is still right: the caller
//! reads the certificate's status from the store on every request and asks for
//! an entry signed for *that* status, by *that* responder, and not yet past half
//! its validity ([`OcspCache::lookup`]). A revocation committed to the store is
//! therefore seen by the next request without any invalidation hook, and a
//! response signed before it is never served after it.
//!
//! Eviction is first-in, first-out: a queue holds the keys in the order they
//! were first inserted, and inserting a new key into a full cache drops the
//! oldest one. Replacing an entry (a re-signed response) keeps its place. FIFO
//! keeps look-ups read-only (no recency bit or list to update), so concurrent
//! look-ups share the read side of one `RwLock`; the price is that a busy entry
//! can be dropped while it is still in use, which costs one re-signature.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use der::{Decode, Encode};
use x509_ocsp::OcspRequest;

use crate::ocsp::OcspStatus;

/// The default number of cached responses.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The longest CertID (DER) that is cached. A SHA-512 CertID with a 20-octet serial
/// (RFC 5280's limit) is well under it; longer ones (oversized serials) are answered
/// but not kept, so the cache's memory stays bounded by its entry count.
pub const MAX_KEY_BYTES: usize = 256;

/// Who signed a response: [`CA_RESPONDER`] for the CA's own key, otherwise the
/// generation of the delegated responder certificate (a new one for every renewal).
pub type ResponderGeneration = u64;

/// The generation that stands for the CA's own key.
pub const CA_RESPONDER: ResponderGeneration = 0;

/// One signed response and what it was signed for.
#[derive(Debug, Clone)]
pub struct CachedResponse {
    /// The OCSPResponse, DER.
    pub der: Arc<[u8]>,
    /// The status it states.
    pub status: OcspStatus,
    /// Who signed it.
    pub responder: ResponderGeneration,
    /// Its thisUpdate (and producedAt), Unix seconds.
    pub this_update: i64,
    /// Its nextUpdate, Unix seconds.
    pub next_update: i64,
}

impl CachedResponse {
    /// Whether it may still be served at `now` (Unix seconds): not before its
    /// thisUpdate, and before half its validity (it is re-signed from then on, so
    /// relying parties always get a response with at least half its life ahead).
    pub fn fresh_at(&self, now: i64) -> bool {
        let half = (self.next_update - self.this_update) / 2;
        self.this_update <= now && now < self.this_update + half
    }
}

/// Hit and miss counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that found nothing usable (absent, other status, other responder, stale).
    pub misses: u64,
}

#[derive(Default)]
struct Inner {
    map: HashMap<Arc<[u8]>, CachedResponse>,
    /// Every key of `map`, once, oldest-inserted first.
    order: VecDeque<Arc<[u8]>>,
}

/// The cache. A capacity of 0 disables it: nothing is kept, every look-up misses.
pub struct OcspCache {
    capacity: usize,
    inner: RwLock<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for OcspCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl Default for OcspCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl OcspCache {
    /// A cache of at most `capacity` responses (0: disabled).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: RwLock::new(Inner::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The most responses it holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether it keeps anything at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// How many responses it holds.
    pub fn len(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every entry.
    pub fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        inner.map.clear();
        inner.order.clear();
    }

    /// Hits and misses of [`OcspCache::lookup`] so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The entry for `key`, whatever it states.
    pub fn get(&self, key: &[u8]) -> Option<CachedResponse> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .get(key)
            .cloned()
    }

    /// The entry for `key` if it was signed for `status` by `responder` and is
    /// fresh at `now` (Unix seconds); counts a hit or a miss.
    pub fn lookup(
        &self,
        key: &[u8],
        status: &OcspStatus,
        responder: ResponderGeneration,
        now: i64,
    ) -> Option<CachedResponse> {
        let found = self.get(key).filter(|entry| {
            entry.status == *status && entry.responder == responder && entry.fresh_at(now)
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value` under `key`, replacing what was there; a new key in a full
    /// cache drops the oldest-inserted one first. Keys over [`MAX_KEY_BYTES`] and
    /// a disabled cache keep nothing.
    pub fn insert(&self, key: &[u8], value: CachedResponse) {
        if self.capacity == 0 || key.len() > MAX_KEY_BYTES {
            return;
        }
        let mut inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = inner.map.get_mut(key) {
            *existing = value;
            return;
        }
        while inner.map.len() >= self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => {
                    inner.map.remove(&oldest);
                }
                None => break,
            }
        }
        let key: Arc<[u8]> = Arc::from(key);
        inner.order.push_back(key.clone());
        inner.map.insert(key, value);
    }
}

/// The cache key of a DER OCSPRequest: the DER of its CertID, if it asks about
/// exactly one certificate and carries no nonce (no request extension of type
/// id-pkix-ocsp-nonce); `None` otherwise, and for anything that does not parse.
pub fn cert_id_key(request_der: &[u8]) -> Option<Vec<u8>> {
    let request = OcspRequest::from_der(request_der).ok()?;
    let tbs = &request.tbs_request;
    let [single] = tbs.request_list.as_slice() else {
        return None;
    };
    let nonce = tbs
        .request_extensions
        .as_ref()
        .is_some_and(|exts| exts.iter().any(|e| e.extn_id == ID_PKIX_OCSP_NONCE));
    if nonce {
        return None;
    }
    single.req_cert.to_der().ok()
}

/// id-pkix-ocsp-nonce.
const ID_PKIX_OCSP_NONCE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::revocation::RevocationReason;

    fn entry(byte: u8, status: OcspStatus, this_update: i64) -> CachedResponse {
        CachedResponse {
            der: Arc::from(vec![byte; 8]),
            status,
            responder: CA_RESPONDER,
            this_update,
            next_update: this_update + 100,
        }
    }

    #[test]
    fn the_capacity_bound_holds_and_the_oldest_goes_first() {
        let cache = OcspCache::new(64);
        for i in 0..64u32 + 40 {
            cache.insert(&i.to_be_bytes(), entry(1, OcspStatus::Good, 0));
            assert!(cache.len() <= 64);
        }
        assert_eq!(cache.len(), 64);
        // The first 40 inserted were dropped, the last 64 are there.
        assert!(cache.get(&0u32.to_be_bytes()).is_none());
        assert!(cache.get(&39u32.to_be_bytes()).is_none());
        assert!(cache.get(&40u32.to_be_bytes()).is_some());
        assert!(cache.get(&103u32.to_be_bytes()).is_some());
        // Replacing an entry neither grows the cache nor evicts another.
        cache.insert(&50u32.to_be_bytes(), entry(2, OcspStatus::Good, 0));
        assert_eq!(cache.len(), 64);
        assert_eq!(&*cache.get(&50u32.to_be_bytes()).unwrap().der, &[2u8; 8]);
        assert!(cache.get(&40u32.to_be_bytes()).is_some());
    }

    #[test]
    fn a_disabled_cache_keeps_nothing_and_long_keys_are_not_kept() {
        let off = OcspCache::new(0);
        off.insert(b"k", entry(1, OcspStatus::Good, 0));
        assert!(off.is_empty() && !off.enabled());
        let cache = OcspCache::new(4);
        cache.insert(&[7u8; MAX_KEY_BYTES + 1], entry(1, OcspStatus::Good, 0));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_lookup_wants_the_same_status_the_same_responder_and_a_fresh_entry() {
        let cache = OcspCache::new(4);
        cache.insert(b"k", entry(1, OcspStatus::Good, 1000));
        assert!(cache
            .lookup(b"k", &OcspStatus::Good, CA_RESPONDER, 1000)
            .is_some());
        assert!(cache
            .lookup(b"k", &OcspStatus::Good, CA_RESPONDER, 1049)
            .is_some());
        // Past half its validity: re-sign. Before its thisUpdate (clock moved back): re-sign.
        assert!(cache
            .lookup(b"k", &OcspStatus::Good, CA_RESPONDER, 1050)
            .is_none());
        assert!(cache
            .lookup(b"k", &OcspStatus::Good, CA_RESPONDER, 999)
            .is_none());
        let revoked = OcspStatus::Revoked {
            at: time::OffsetDateTime::UNIX_EPOCH,
            reason: RevocationReason::KeyCompromise,
        };
        assert!(cache.lookup(b"k", &revoked, CA_RESPONDER, 1000).is_none());
        assert!(cache
            .lookup(b"k", &OcspStatus::Unknown, CA_RESPONDER, 1000)
            .is_none());
        assert!(cache.lookup(b"k", &OcspStatus::Good, 7, 1000).is_none());
        assert_eq!(cache.stats(), CacheStats { hits: 2, misses: 5 });
    }
}
