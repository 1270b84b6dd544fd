//! Anti-replay nonces (RFC 8555 §6.5): 128 random bits, base64url, each
//! accepted once and only before it expires.
//!
//! Kept in memory: a nonce outliving a restart is not worth a disk write per
//! response, and a client that meets `badNonce` retries with the fresh nonce
//! that comes with it. The store is bounded so that a flood of HEAD requests
//! cannot exhaust memory: past the cap the oldest nonces are forgotten (their
//! clients get one `badNonce` and retry).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Why a nonce was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceError {
    /// Not a nonce this server could have made.
    Malformed,
    /// Unknown: never issued, already used, expired or forgotten.
    Unknown,
}

#[derive(Debug, Default)]
struct Inner {
    /// Outstanding nonces and when they expire.
    live: HashMap<u128, Instant>,
    /// Every issued nonce in issue order (so also in expiry order), used or not.
    order: VecDeque<(u128, Instant)>,
}

/// The nonce store.
#[derive(Debug)]
pub struct NonceStore {
    inner: Mutex<Inner>,
    lifetime: Duration,
    cap: usize,
}

impl NonceStore {
    /// A store whose nonces live `lifetime`, remembering at most `cap` of them.
    pub fn new(lifetime: Duration, cap: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            lifetime,
            cap: cap.max(1),
        }
    }

    /// A fresh nonce.
    pub fn issue(&self) -> String {
        let mut bytes = [0u8; 16];
        // The system CSPRNG does not fail on the platforms we run on; if it ever did,
        // a nonce of zeros would be refused as unknown after its first use anyway.
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let value = u128::from_be_bytes(bytes);
        let now = Instant::now();
        let expires = now + self.lifetime;
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Expired entries sit at the front: prune them, then make room under the cap.
        while let Some(&(old, at)) = inner.order.front() {
            if at > now && inner.order.len() < self.cap {
                break;
            }
            inner.order.pop_front();
            inner.live.remove(&old);
        }
        inner.order.push_back((value, expires));
        inner.live.insert(value, expires);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Accepts a nonce once.
    pub fn consume(&self, nonce: &str) -> Result<(), NonceError> {
        if nonce.len() != 22 {
            return Err(NonceError::Malformed);
        }
        let bytes: [u8; 16] = URL_SAFE_NO_PAD
            .decode(nonce)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(NonceError::Malformed)?;
        let value = u128::from_be_bytes(bytes);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.live.remove(&value) {
            Some(expires) if expires > Instant::now() => Ok(()),
            _ => Err(NonceError::Unknown),
        }
    }

    /// How many nonces are outstanding.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .live
            .len()
    }

    /// Whether no nonce is outstanding.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once() {
        let store = NonceStore::new(Duration::from_secs(60), 100);
        let n = store.issue();
        assert_eq!(n.len(), 22);
        assert_eq!(store.consume(&n), Ok(()));
        assert_eq!(store.consume(&n), Err(NonceError::Unknown));
        assert_eq!(
            store.consume("AAAAAAAAAAAAAAAAAAAAAA"),
            Err(NonceError::Unknown)
        );
        assert_eq!(store.consume("not a nonce"), Err(NonceError::Malformed));
        assert_eq!(
            store.consume("!!!!!!!!!!!!!!!!!!!!!!"),
            Err(NonceError::Malformed)
        );
    }

    #[test]
    fn expired_nonces_are_refused() {
        let store = NonceStore::new(Duration::from_millis(1), 100);
        let n = store.issue();
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(store.consume(&n), Err(NonceError::Unknown));
    }

    #[test]
    fn the_store_is_bounded_and_forgets_the_oldest() {
        let store = NonceStore::new(Duration::from_secs(60), 1000);
        let first = store.issue();
        let nonces: Vec<String> = (0..5000).map(|_| store.issue()).collect();
        assert!(store.len() <= 1000);
        assert_eq!(store.consume(&first), Err(NonceError::Unknown));
        assert_eq!(store.consume(nonces.last().unwrap()), Ok(()));
    }
}
