//! Certificate listings through the indexes: every combination of actor scope
//! and filter pages through exactly the certificates a full scan finds, and a
//! data directory whose owner and profile indexes are missing (one written
//! before they existed) has them rebuilt when it is opened.

mod common;

use std::collections::BTreeSet;

use ca_core::revocation::RevocationReason;
use ca_core::store::{KeyRange, WriteBatch};
use common::*;
use policy::authz::in_scope;
use policy::model::*;
use policy::registry::{CertificateFilter, RegistrationAuthority, Requester};

struct World {
    a: OrgId,
    a1: DeptId,
    a2: DeptId,
    b: OrgId,
}

/// Two organizations, A with departments A1 and A2, and 48 certificates spread over
/// them and two profiles, every fifth revoked.
fn populate(env: &Env) -> World {
    let a = org(env, "Org A");
    let a1 = dept(env, a, "A1");
    let a2 = dept(env, a, "A2");
    let b = org(env, "Org B");
    delegate(env, "a.example.com", a, None);
    delegate(env, "b.example.com", b, None);
    for i in 0..48 {
        let (org, dept, domain) = match i % 4 {
            0 => (a, None, "a.example.com"),
            1 => (a, Some(a1), "a.example.com"),
            2 => (a, Some(a2), "a.example.com"),
            _ => (b, None, "b.example.com"),
        };
        let profile = if i % 3 == 0 {
            "tls-client"
        } else {
            "tls-server"
        };
        let name = format!("host{i}.{domain}");
        let request = env
            .ra
            .submit(
                Requester::Admin(&env.mrao),
                submission(csr(&[&name]), profile, org, dept),
            )
            .unwrap_or_else(|e| panic!("submit {name} under {profile}: {e}"));
        let id = request.state.certificate().expect("issued at once");
        if i % 5 == 0 {
            env.ra
                .revoke(&env.mrao, id, RevocationReason::Superseded, "")
                .expect("revoke");
        }
    }
    World { a, a1, a2, b }
}

fn filters(w: &World) -> Vec<(&'static str, CertificateFilter)> {
    let with = |f: &dyn Fn(&mut CertificateFilter)| {
        let mut filter = CertificateFilter::default();
        f(&mut filter);
        filter
    };
    vec![
        ("none", CertificateFilter::default()),
        ("org A", with(&|f| f.org = Some(w.a))),
        (
            "org B revoked",
            with(&|f| {
                f.org = Some(w.b);
                f.status = Some("revoked".into());
            }),
        ),
        ("dept A1", with(&|f| f.dept = Some(w.a1))),
        (
            "dept A2 of org B (none)",
            with(&|f| {
                f.org = Some(w.b);
                f.dept = Some(w.a2);
            }),
        ),
        (
            "profile tls-client",
            with(&|f| f.profile = Some("tls-client".into())),
        ),
        (
            "profiles both",
            with(&|f| f.profiles = Some(vec!["tls-client".into(), "tls-server".into()])),
        ),
        ("revoked", with(&|f| f.status = Some("revoked".into()))),
        (
            "issued tls-server",
            with(&|f| {
                f.status = Some("issued".into());
                f.profile = Some("tls-server".into());
            }),
        ),
        ("unknown status", with(&|f| f.status = Some("lost".into()))),
        ("name host1", with(&|f| f.name = Some("host1".into()))),
    ]
}

/// Every certificate id the actor may see that passes the filter, from one full listing.
fn expected(
    ra: &RegistrationAuthority,
    mrao: &Administrator,
    actor: &Administrator,
    filter: &CertificateFilter,
) -> Vec<u64> {
    ra.certificates(mrao, &CertificateFilter::default(), 0, usize::MAX)
        .expect("full listing")
        .into_iter()
        .filter(|c| {
            in_scope(
                &actor.role,
                Scope {
                    org: c.owner.org,
                    dept: c.owner.dept,
                },
            ) && filter.matches(&c.record, &c.owner)
        })
        .map(|c| c.record.id)
        .collect()
}

/// The listing's ids, read `page` at a time, each page resuming after the last id.
fn paged(
    ra: &RegistrationAuthority,
    actor: &Administrator,
    filter: &CertificateFilter,
    page: usize,
) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let rows = ra
            .certificates(actor, filter, after, page)
            .expect("listing");
        assert!(rows.len() <= page);
        let Some(last) = rows.last() else {
            return ids;
        };
        after = last.record.id;
        ids.extend(rows.iter().map(|c| c.record.id));
    }
}

fn check_every_listing(
    ra: &RegistrationAuthority,
    mrao: &Administrator,
    actors: &[(&str, Administrator)],
    w: &World,
) {
    for (who, actor) in actors {
        for (what, filter) in filters(w) {
            let want = expected(ra, mrao, actor, &filter);
            for page in [1, 7, 500] {
                assert_eq!(
                    paged(ra, actor, &filter, page),
                    want,
                    "{who}, filter {what}, pages of {page}"
                );
            }
        }
    }
}

fn actors(env: &Env, w: &World) -> Vec<(&'static str, Administrator)> {
    let rao = admin(
        env,
        "rao-a",
        Role::Rao {
            orgs: BTreeSet::from([w.a]),
        },
        Privileges::default(),
    )
    .0;
    let rao_both = admin(
        env,
        "rao-ab",
        Role::Rao {
            orgs: BTreeSet::from([w.a, w.b]),
        },
        Privileges::default(),
    )
    .0;
    let drao = admin(
        env,
        "drao-a1-a2",
        Role::Drao {
            depts: BTreeSet::from([w.a1, w.a2]),
        },
        Privileges::default(),
    )
    .0;
    vec![
        ("MRAO", env.mrao.clone()),
        ("RAO of A", rao),
        ("RAO of A and B", rao_both),
        ("DRAO of A1 and A2", drao),
    ]
}

#[test]
fn listings_through_the_indexes_match_a_full_scan_for_every_scope_and_filter() {
    let env = setup();
    let w = populate(&env);
    let actors = actors(&env, &w);
    let all = env
        .ra
        .certificates(&env.mrao, &CertificateFilter::default(), 0, usize::MAX)
        .expect("listing");
    assert_eq!(all.len(), 48);
    // The brute force is not vacuous: each scope sees a different, non-empty part.
    assert_eq!(
        expected(
            &env.ra,
            &env.mrao,
            &actors[1].1,
            &CertificateFilter::default()
        )
        .len(),
        36
    );
    assert_eq!(
        expected(
            &env.ra,
            &env.mrao,
            &actors[3].1,
            &CertificateFilter::default()
        )
        .len(),
        24
    );
    check_every_listing(&env.ra, &env.mrao, &actors, &w);

    // Deleting an external certificate takes it out of its organization's listing too.
    let imported = env
        .ra
        .import_external(
            &env.mrao,
            &external_certificate(&["ext.b.example.com"]),
            w.b,
            None,
        )
        .expect("import");
    let org_b = |ra: &RegistrationAuthority| {
        let filter = CertificateFilter {
            org: Some(w.b),
            ..Default::default()
        };
        paged(ra, &env.mrao, &filter, 5)
    };
    assert!(org_b(&env.ra).contains(&imported.id));
    env.ra
        .delete_external(&env.mrao, imported.id)
        .expect("delete");
    assert!(!org_b(&env.ra).contains(&imported.id));
    assert_eq!(org_b(&env.ra).len(), 12);
}

#[test]
fn a_data_directory_without_the_indexes_has_them_rebuilt_on_open() {
    let env = setup();
    let w = populate(&env);
    let actors = actors(&env, &w);
    let Env { ra, mrao, dir, .. } = env;

    // Take the data directory back to before the indexes: no entries, no "built" marks.
    let store = ra.ca().certificates().store().clone();
    let mut batch = WriteBatch::new();
    for table in [
        "ra_certificates_by_org",
        "ra_certificates_by_dept",
        "ra_index_versions",
        "certificates_by_profile",
        "certificates_index_versions",
    ] {
        let keys = store
            .scan(table, KeyRange::all(), usize::MAX)
            .expect("scan");
        assert!(!keys.is_empty(), "{table} was written");
        for (key, _) in keys {
            batch.delete(table, key);
        }
    }
    store.write(batch).expect("strip the indexes");
    drop(store);
    let rao = &actors[1].1;
    let by_org = CertificateFilter {
        org: Some(w.a),
        ..Default::default()
    };
    assert!(
        ra.certificates(rao, &by_org, 0, 100)
            .expect("listing")
            .is_empty(),
        "without the index the organization's listing is empty"
    );
    drop(ra);

    let ra = open_ra(dir.path());
    check_every_listing(&ra, &mrao, &actors, &w);
    drop(ra);
    drop(dir);
}
