//! `audit verify` against a store changed on disk behind the RA's back: an
//! entry edited, edited and re-hashed, deleted, or two entries swapped; and
//! the chain kept whole when concurrent writes fail.

mod common;

use std::path::{Path, PathBuf};

use ca_core::revocation::RevocationReason;
use ca_core::store::{decode, encode, KeyBuilder, Store, WriteBatch};
use common::*;
use policy::audit::{entry_hash, AuditEntry, ChainBroken};
use policy::model::{Address, Administrator};
use policy::registry::{RaError, RegistrationAuthority, Requester};

const AUDIT: &str = "audit";

fn key(seq: u64) -> Vec<u8> {
    KeyBuilder::new().u64(seq).build()
}

/// A world with some history: organizations, a department, delegations, an
/// administrator, issued and revoked certificates, a refused attempt.
/// Returns the data directory (the RA and its store closed), the MRAO's
/// password and the number of audit entries.
fn world_with_history() -> (tempfile::TempDir, String, u64) {
    let env = setup();
    let a = org(&env, "Org A");
    let a1 = dept(&env, a, "A1");
    delegate(&env, "a.example.com", a, None);
    let (rao, _) = admin(
        &env,
        "rao",
        policy::model::Role::Rao {
            orgs: [a].into_iter().collect(),
        },
        policy::model::Privileges::default(),
    );
    let _ = env.ra.create_department(&rao, a, "refused");
    for i in 0..3 {
        let r = env
            .ra
            .submit(
                Requester::Admin(&env.mrao),
                submission(
                    csr(&[&format!("h{i}.a.example.com")]),
                    "tls-server",
                    a,
                    Some(a1),
                ),
            )
            .expect("submit");
        let cert = r.state.certificate().expect("issued");
        if i == 1 {
            env.ra
                .revoke(&env.mrao, cert, RevocationReason::Superseded, "test")
                .expect("revoke");
        }
    }
    let n = match env.ra.verify_audit(&env.mrao).expect("verify") {
        Ok(n) => n,
        Err(broken) => panic!("the untouched chain is broken: {broken}"),
    };
    let listed = env.ra.audit_entries(&env.mrao, 0, 10_000).expect("list");
    assert_eq!(listed.len() as u64, n);
    assert!(n >= 10, "enough history to tamper with: {n}");
    let Env {
        ra,
        mrao_password,
        dir,
        ..
    } = env;
    // The RA holds the only Arc of the CA service, which holds the store: dropping it
    // closes the redb file.
    drop(ra);
    (dir, mrao_password, n)
}

fn store_path(dir: &Path) -> PathBuf {
    dir.join(ca_core::service::STORE_FILE)
}

fn read_entry(store: &Store, seq: u64) -> AuditEntry {
    let bytes = store
        .get(AUDIT, &key(seq))
        .expect("read")
        .unwrap_or_else(|| panic!("entry {seq} exists"));
    decode::<AuditEntry>(AUDIT, &bytes).expect("decode")
}

fn write_entry(store: &Store, seq: u64, entry: &AuditEntry) {
    let mut batch = WriteBatch::new();
    batch.put(AUDIT, key(seq), encode(AUDIT, entry).expect("encode"));
    store.write(batch).expect("write");
}

/// Reopens the RA over the directory, logs the MRAO in, verifies the chain.
fn reopen_and_verify(
    dir: &Path,
    password: &str,
) -> (
    RegistrationAuthority,
    Administrator,
    Result<u64, ChainBroken>,
) {
    let ra = open_ra(dir);
    let (_, mrao) = ra.login("root-admin", password).expect("login");
    let verdict = ra.verify_audit(&mrao).expect("verify runs");
    (ra, mrao, verdict)
}

#[test]
fn an_untouched_chain_verifies_across_a_restart() {
    let (dir, password, n) = world_with_history();
    let (ra, mrao, verdict) = reopen_and_verify(dir.path(), &password);
    // The login after reopening chained one more entry onto the old head.
    assert_eq!(verdict, Ok(n + 1));
    ra.create_organization(&mrao, "After restart", Address::default())
        .expect("create");
    assert_eq!(ra.verify_audit(&mrao).unwrap(), Ok(n + 2));
}

#[test]
fn an_entry_changed_on_disk_is_detected() {
    let (dir, password, n) = world_with_history();
    let target = n / 2;
    {
        let store = Store::open_redb(store_path(dir.path())).expect("the RA released the store");
        let mut entry = read_entry(&store, target);
        assert_eq!(entry.seq, target);
        assert_eq!(entry.hash, entry_hash(&entry));
        entry.detail = format!("{} (nothing to see here)", entry.detail);
        write_entry(&store, target, &entry);
    }
    let (_ra, _mrao, verdict) = reopen_and_verify(dir.path(), &password);
    let broken = verdict.expect_err("the change is detected");
    assert_eq!(broken.seq, target, "{broken}");
    assert!(
        broken.reason.contains("does not match its hash"),
        "{broken}"
    );
}

#[test]
fn an_entry_changed_and_rehashed_is_detected_at_the_next_entry() {
    let (dir, password, n) = world_with_history();
    let target = n / 2;
    {
        let store = Store::open_redb(store_path(dir.path())).expect("the RA released the store");
        let mut entry = read_entry(&store, target);
        entry.actor = "someone-else".into();
        entry.hash = entry_hash(&entry);
        write_entry(&store, target, &entry);
    }
    let (_ra, _mrao, verdict) = reopen_and_verify(dir.path(), &password);
    let broken = verdict.expect_err("the change is detected");
    assert_eq!(broken.seq, target + 1, "{broken}");
    assert!(broken.reason.contains("previous"), "{broken}");
}

#[test]
fn an_entry_deleted_in_the_middle_is_detected() {
    let (dir, password, n) = world_with_history();
    let target = n / 2;
    {
        let store = Store::open_redb(store_path(dir.path())).expect("the RA released the store");
        let mut batch = WriteBatch::new();
        batch.delete(AUDIT, key(target));
        store.write(batch).expect("delete");
        assert!(store.get(AUDIT, &key(target)).unwrap().is_none());
    }
    let (_ra, _mrao, verdict) = reopen_and_verify(dir.path(), &password);
    let broken = verdict.expect_err("the gap is detected");
    // The first entry that does not verify is the one after the gap.
    assert_eq!(broken.seq, target + 1, "{broken}");
    assert!(
        broken.reason.contains(&format!("expected entry {target}")),
        "{broken}"
    );
}

#[test]
fn two_entries_swapped_are_detected() {
    let (dir, password, n) = world_with_history();
    let target = n / 2;
    {
        let store = Store::open_redb(store_path(dir.path())).expect("the RA released the store");
        let first = store.get(AUDIT, &key(target)).unwrap().unwrap();
        let second = store.get(AUDIT, &key(target + 1)).unwrap().unwrap();
        let mut batch = WriteBatch::new();
        batch.put(AUDIT, key(target), second);
        batch.put(AUDIT, key(target + 1), first);
        store.write(batch).expect("swap");
    }
    let (_ra, _mrao, verdict) = reopen_and_verify(dir.path(), &password);
    let broken = verdict.expect_err("the swap is detected");
    assert_eq!(
        broken.seq,
        target + 1,
        "entry {target} now holds seq {}: {broken}",
        target + 1
    );
}

#[test]
fn verifying_is_mrao_only() {
    let env = setup();
    let a = org(&env, "Org A");
    let (rao, _) = admin(
        &env,
        "rao",
        policy::model::Role::Rao {
            orgs: [a].into_iter().collect(),
        },
        policy::model::Privileges::all(),
    );
    assert!(matches!(
        env.ra.verify_audit(&rao),
        Err(RaError::Forbidden(_))
    ));
    assert!(matches!(env.ra.verify_audit(&env.mrao), Ok(Ok(_))));
}

/// Writes that fail (a unique name already taken) while other writes are queued
/// behind them must not leave a hole in the chain: each entry is written in the
/// batch of the change it records, so a refused batch takes its entry with it,
/// and the entries queued after it were chained onto it.
#[test]
fn failed_concurrent_writes_leave_the_chain_intact() {
    let env = setup();
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    let barrier = std::sync::Barrier::new(THREADS);
    let (created, conflicts) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let env = &env;
                let barrier = &barrier;
                s.spawn(move || {
                    let mut created = 0;
                    let mut conflicts = 0;
                    for round in 0..ROUNDS {
                        barrier.wait();
                        // Every thread tries the same name; one wins, the others conflict.
                        match env.ra.create_organization(
                            &env.mrao,
                            &format!("Contested {round}"),
                            Address::default(),
                        ) {
                            Ok(_) => created += 1,
                            Err(RaError::Conflict(_)) => conflicts += 1,
                            Err(other) => panic!("thread {t}: {other}"),
                        }
                    }
                    (created, conflicts)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    assert_eq!(created, ROUNDS, "one organization per name");
    assert_eq!(conflicts, ROUNDS * (THREADS - 1));
    assert_eq!(env.ra.organizations(&env.mrao).unwrap().len(), ROUNDS);

    let verdict = env.ra.verify_audit(&env.mrao).expect("verify runs");
    let entries = env.ra.audit_entries(&env.mrao, 0, 100_000).expect("list");
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    let holes: Vec<u64> = seqs.windows(2).flat_map(|w| w[0] + 1..w[1]).collect();
    assert!(
        verdict.is_ok() && holes.is_empty(),
        "the audit chain is broken after {conflicts} refused concurrent writes: {verdict:?}; \
         missing entries {holes:?} (of {} stored)",
        entries.len()
    );
}
