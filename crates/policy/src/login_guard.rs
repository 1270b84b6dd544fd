//! Failed logins per account and client address, with a growing delay.
//!
//! Each (username, client address) pair may fail [`FREE_FAILURES`] times; every
//! failure after that locks the pair for twice as long as the one before
//! ([`FIRST_LOCK`], then 10 s, 20 s ... at most [`MAX_LOCK`]), so guessing one administrator's password
//! slows to a crawl while the same administrator logging in from another
//! address, and every other account, are not held up. Failures older than
//! [`WINDOW`] are forgotten; a success clears the pair; an MRAO can lift an
//! account's locks at once. The table is in memory: a restart clears it, which
//! an attacker cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before the first lock.
pub const FREE_FAILURES: u32 = 3;
/// The first lock.
pub const FIRST_LOCK: Duration = Duration::from_secs(5);
/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Pairs tracked at most (the oldest are forgotten beyond it).
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// The failed logins of every (account, address) pair.
#[derive(Debug, Default)]
pub struct LoginGuard {
    table: Mutex<HashMap<(String, Option<IpAddr>), Entry>>,
}

impl LoginGuard {
    /// `Err(seconds to wait)` while the pair is locked.
    pub fn check(&self, username: &str, client: Option<IpAddr>) -> Result<(), u64> {
        self.check_at(username, client, Instant::now())
    }

    fn check_at(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        match table
            .get(&(username.to_string(), client))
            .and_then(|e| e.locked_until)
        {
            Some(until) if until > now => Err((until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Records a failure; returns the lock it starts, if any.
    pub fn failed(&self, username: &str, client: Option<IpAddr>) -> Option<Duration> {
        self.failed_at(username, client, Instant::now())
    }

    fn failed_at(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let key = (username.to_string(), client);
        if table.len() >= MAX_TRACKED && !table.contains_key(&key) {
            table.retain(|_, e| now.duration_since(e.last) < WINDOW);
            if table.len() >= MAX_TRACKED {
                return None;
            }
        }
        let entry = table.entry(key).or_insert(Entry {
            failures: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(entry.last) >= WINDOW {
            entry.failures = 0;
            entry.locked_until = None;
        }
        entry.failures += 1;
        entry.last = now;
        if entry.failures <= FREE_FAILURES {
            return None;
        }
        let exponent = (entry.failures - FREE_FAILURES - 1).min(20);
        let lock = (FIRST_LOCK * (1u32 << exponent)).min(MAX_LOCK);
        entry.locked_until = Some(now + lock);
        Some(lock)
    }

    /// Clears a pair after a successful login.
    pub fn succeeded(&self, username: &str, client: Option<IpAddr>) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.remove(&(username.to_string(), client));
    }

    /// Lifts every lock of an account; returns how many pairs were cleared.
    pub fn unlock(&self, username: &str) -> usize {
        self.unlock_where(|user| user == username)
    }

    /// Lifts the locks of every account whose name begins with `prefix` (an EST
    /// endpoint's accounts are `est:<endpoint id>:<user name>`); returns how many pairs
    /// were cleared.
    pub fn unlock_prefix(&self, prefix: &str) -> usize {
        self.unlock_where(|user| user.starts_with(prefix))
    }

    fn unlock_where(&self, matches: impl Fn(&str) -> bool) -> usize {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let before = table.len();
        table.retain(|(user, _), _| !matches(user));
        before - table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_per_pair_and_other_pairs_are_free() {
        let guard = LoginGuard::default();
        let a: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        let b: Option<IpAddr> = Some("192.0.2.2".parse().unwrap());
        let t = Instant::now();
        for i in 0..FREE_FAILURES {
            assert_eq!(
                guard.failed_at("admin", a, t + Duration::from_secs(u64::from(i))),
                None
            );
        }
        let mut now = t + Duration::from_secs(10);
        let mut locks = Vec::new();
        for _ in 0..5 {
            let lock = guard.failed_at("admin", a, now).expect("locked");
            assert!(guard.check_at("admin", a, now).is_err());
            locks.push(lock.as_secs());
            now += lock;
            assert!(guard.check_at("admin", a, now).is_ok());
        }
        assert_eq!(locks, vec![5, 10, 20, 40, 80]);
        // Another address, another account: not held up.
        assert!(guard
            .check_at("admin", b, now - Duration::from_secs(1))
            .is_ok());
        assert!(guard
            .check_at("alice", a, now - Duration::from_secs(1))
            .is_ok());
        // The lock never passes the maximum; an unlock lifts it.
        for _ in 0..30 {
            let lock = guard.failed_at("admin", a, now).unwrap();
            assert!(lock <= MAX_LOCK);
        }
        assert!(guard.check_at("admin", a, now).is_err());
        assert_eq!(guard.unlock("admin"), 1);
        assert!(guard.check_at("admin", a, now).is_ok());
    }

    #[test]
    fn an_endpoints_accounts_are_unlocked_by_prefix_only() {
        let guard = LoginGuard::default();
        let a: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        let t = Instant::now();
        for user in ["est:3:device", "est:3:other", "est:31:device"] {
            for _ in 0..=FREE_FAILURES {
                guard.failed_at(user, a, t);
            }
            assert!(guard.check_at(user, a, t).is_err(), "{user}");
        }
        assert_eq!(guard.unlock_prefix("est:3:"), 2);
        assert!(guard.check_at("est:3:device", a, t).is_ok());
        assert!(guard.check_at("est:3:other", a, t).is_ok());
        assert!(guard.check_at("est:31:device", a, t).is_err());
    }
}
