//! Stable numbers for certificate profiles.
//!
//! Profiles are known by name in the configuration, but the certificate
//! manager's API (and the connectors written for it) pick a profile by an
//! integer id. The RA numbers every profile the first time it sees it and
//! keeps the number in the store, so that a profile keeps its number across
//! restarts and reordered profile files, and a removed profile's number is
//! never given to another.

use std::collections::BTreeMap;

use ca_core::store::{KeyRange, Record, Store, WriteBatch};
use serde::{Deserialize, Serialize};

use super::{id_key, RaResult, RegistrationAuthority, PROFILE_NUMBERS};

/// A profile's number, stored under the number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ProfileNumber {
    /// The profile's name.
    pub name: String,
}

impl Record for ProfileNumber {
    const SCHEMA_VERSION: u16 = 1;
}

/// Numbers the profiles not yet numbered (in name order) and returns every
/// profile's number, by name.
pub(super) fn number_profiles(store: &Store, names: &[String]) -> RaResult<BTreeMap<String, u64>> {
    let mut numbers: BTreeMap<String, u64> = PROFILE_NUMBERS
        .scan(store, KeyRange::all(), usize::MAX)?
        .into_iter()
        .filter_map(|(key, record)| {
            ca_core::store::keys::u64_from_key(&key).map(|n| (record.name, n))
        })
        .collect();
    let mut next = numbers.values().copied().max().unwrap_or(0) + 1;
    let mut batch = WriteBatch::new();
    let mut added = false;
    for name in names {
        if !numbers.contains_key(name) {
            PROFILE_NUMBERS.put(
                &mut batch,
                &id_key(next),
                &ProfileNumber { name: name.clone() },
            )?;
            numbers.insert(name.clone(), next);
            next += 1;
            added = true;
        }
    }
    if added {
        store.write(batch)?;
    }
    Ok(numbers)
}

impl RegistrationAuthority {
    /// A loaded profile's number.
    pub fn profile_number(&self, name: &str) -> Option<u64> {
        self.profile_numbers.get(name).copied()
    }

    /// The loaded profile with a number, if any.
    pub fn profile_by_number(&self, number: u64) -> Option<&ca_core::profile::CertificateProfile> {
        self.profile_numbers
            .iter()
            .find(|(_, n)| **n == number)
            .and_then(|(name, _)| self.ca.profile(name).ok())
    }
}
