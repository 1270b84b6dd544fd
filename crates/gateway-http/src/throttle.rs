//! The failed-attempt limit per client address, for every edge that takes a
//! password or a client certificate (EST, the REST API's login, the certificate
//! manager API).
//!
//! A client address that fails authentication (a wrong password, an
//! untrusted or unusable client certificate) [`MAX_FAILURES`] times within
//! [`WINDOW`] is refused with `429 Too Many Requests` and a `Retry-After` of the
//! time left, for [`LOCKOUT`] from the last failure, before its credentials are
//! looked at: password guessing costs an attacker a minute per five guesses and
//! costs the gateway no Argon2 work. A request without credentials (the
//! challenge a client answers with its password) is no failure. The table is in
//! memory: a restart clears it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// The window failures are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long an address is refused once over the limit.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// Addresses tracked at most; the oldest entries are dropped beyond it.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    first: Instant,
    count: u32,
    locked_until: Option<Instant>,
}

/// Failures allowed per address within [`WINDOW`] on the administrators' surfaces
/// (REST login, the certificate manager API): there the RA limits each account from
/// each address with a growing delay, and this higher limit stops one address trying
/// many accounts, without locking out the other administrators behind it.
pub const ADMIN_MAX_FAILURES: u32 = 30;

/// The failures of every client address.
#[derive(Debug)]
pub struct Throttle {
    table: Mutex<HashMap<IpAddr, Failures>>,
    max_failures: u32,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::with_limit(MAX_FAILURES)
    }
}

impl Throttle {
    /// A throttle that locks an address after `max_failures` within [`WINDOW`].
    pub fn with_limit(max_failures: u32) -> Self {
        Self {
            table: Mutex::default(),
            max_failures: max_failures.max(1),
        }
    }

    /// `Some(seconds to wait)` if the address is locked out now.
    pub fn locked(&self, address: IpAddr) -> Option<u64> {
        self.locked_at(address, Instant::now())
    }

    fn locked_at(&self, address: IpAddr, now: Instant) -> Option<u64> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let until = table.get(&address)?.locked_until?;
        (until > now).then(|| (until - now).as_secs().max(1))
    }

    /// Records a failed authentication.
    pub fn failed(&self, address: IpAddr) {
        self.failed_at(address, Instant::now())
    }

    fn failed_at(&self, address: IpAddr, now: Instant) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_TRACKED && !table.contains_key(&address) {
            table.retain(|_, f| now.duration_since(f.first) < WINDOW || f.locked_until > Some(now));
            if table.len() >= MAX_TRACKED {
                return;
            }
        }
        let entry = table.entry(address).or_insert(Failures {
            first: now,
            count: 0,
            locked_until: None,
        });
        if now.duration_since(entry.first) >= WINDOW {
            *entry = Failures {
                first: now,
                count: 0,
                locked_until: None,
            };
        }
        entry.count += 1;
        if entry.count >= self.max_failures {
            entry.locked_until = Some(now + LOCKOUT);
        }
    }

    /// Clears an address after a successful authentication.
    pub fn succeeded(&self, address: IpAddr) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table
            .get(&address)
            .is_some_and(|f| f.locked_until.is_none())
        {
            table.remove(&address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_in_a_minute_lock_the_address_for_a_minute() {
        let throttle = Throttle::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let start = Instant::now();
        for i in 0..MAX_FAILURES - 1 {
            throttle.failed_at(a, start + Duration::from_secs(u64::from(i)));
        }
        assert_eq!(throttle.locked_at(a, start + Duration::from_secs(5)), None);
        throttle.failed_at(a, start + Duration::from_secs(10));
        let wait = throttle
            .locked_at(a, start + Duration::from_secs(11))
            .unwrap();
        assert!((50..=60).contains(&wait), "{wait}");
        assert_eq!(throttle.locked_at(b, start + Duration::from_secs(11)), None);
        assert_eq!(throttle.locked_at(a, start + Duration::from_secs(71)), None);
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let throttle = Throttle::default();
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let start = Instant::now();
        for i in 0..20u64 {
            throttle.failed_at(a, start + Duration::from_secs(i * 20));
            assert_eq!(
                throttle.locked_at(a, start + Duration::from_secs(i * 20)),
                None
            );
        }
    }
}
