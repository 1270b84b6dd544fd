//! Rate limits: a token bucket per (limit, subject) that holds a limit's hourly
//! allowance and refills evenly over the hour, so a burst up to the allowance
//! passes and a steady stream above it is refused with the time until the next
//! token as Retry-After.
//!
//! In memory: after a restart every bucket starts full, which only ever
//! errs on the generous side.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// New orders of one account.
    OrdersPerAccount,
    /// New orders through one endpoint.
    OrdersPerEndpoint,
    /// New accounts through one endpoint.
    AccountsPerEndpoint,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    per_hour: u32,
}

/// Past this many buckets, the full ones (idle subjects) are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// The rate limiter.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(Limit, u64), Bucket>>,
}

/// One charge: a limit, its subject and its hourly allowance.
pub type Charge = (Limit, u64, u32);

impl RateLimiter {
    /// Takes one token from each bucket named, all or none; `Err` carries how long until
    /// every one of them has a token again.
    pub fn take(&self, charges: &[Charge]) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            // A full bucket is what a new one would be: forgetting it changes nothing.
            buckets.retain(|_, bucket| refill(bucket, now) < f64::from(bucket.per_hour));
        }
        let mut wait = Duration::ZERO;
        for &(limit, subject, per_hour) in charges {
            let bucket = buckets.entry((limit, subject)).or_insert(Bucket {
                tokens: f64::from(per_hour),
                at: now,
                per_hour,
            });
            bucket.per_hour = per_hour;
            let tokens = refill(bucket, now);
            if tokens < 1.0 {
                let rate = f64::from(per_hour.max(1)) / 3600.0;
                wait = wait.max(Duration::from_secs_f64((1.0 - tokens) / rate));
            }
        }
        if wait > Duration::ZERO {
            return Err(wait.max(Duration::from_secs(1)));
        }
        for &(limit, subject, _) in charges {
            if let Some(bucket) = buckets.get_mut(&(limit, subject)) {
                bucket.tokens -= 1.0;
            }
        }
        Ok(())
    }
}

/// Brings a bucket up to date and returns its tokens.
fn refill(bucket: &mut Bucket, now: Instant) -> f64 {
    let capacity = f64::from(bucket.per_hour);
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    bucket.tokens = (bucket.tokens + elapsed * capacity / 3600.0).min(capacity);
    bucket.at = now;
    bucket.tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_up_to_the_allowance_passes_then_the_limit_holds() {
        let limiter = RateLimiter::default();
        for _ in 0..3 {
            assert!(limiter.take(&[(Limit::OrdersPerAccount, 1, 3)]).is_ok());
        }
        let wait = limiter
            .take(&[(Limit::OrdersPerAccount, 1, 3)])
            .unwrap_err();
        assert!(wait > Duration::from_secs(1000) && wait <= Duration::from_secs(1200));
        // Another subject has its own bucket.
        assert!(limiter.take(&[(Limit::OrdersPerAccount, 2, 3)]).is_ok());
    }

    #[test]
    fn all_or_none_of_the_charges_are_taken() {
        let limiter = RateLimiter::default();
        assert!(limiter.take(&[(Limit::OrdersPerEndpoint, 9, 1)]).is_ok());
        assert!(limiter
            .take(&[
                (Limit::OrdersPerAccount, 1, 5),
                (Limit::OrdersPerEndpoint, 9, 1)
            ])
            .is_err());
        // The account's bucket was not charged by the refused request.
        for _ in 0..5 {
            assert!(limiter.take(&[(Limit::OrdersPerAccount, 1, 5)]).is_ok());
        }
    }

    #[test]
    fn a_zero_allowance_refuses_everything() {
        let limiter = RateLimiter::default();
        assert!(limiter.take(&[(Limit::AccountsPerEndpoint, 1, 0)]).is_err());
    }
}
