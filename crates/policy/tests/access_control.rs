//! The per-role allow-lists of client addresses and the EST Basic login guard,
//! through the registration authority service:
//!
//! - an MRAO sets a role's list; an RAO may neither read nor set one;
//! - an RAO outside their role's list cannot log in (no token is made), cannot pass a
//!   password check, and `check_address` refuses them (403 at every edge), while an
//!   address inside the list (also in its IPv4-mapped IPv6 form) is admitted;
//! - an MRAO's change of the MRAO list that would exclude the MRAO's own address (or
//!   with no address known) is refused and changes nothing; the offline path can;
//! - the lists are durable (the RA reopened over the same store keeps them);
//! - EST Basic passwords: three free failures per (user, address), then a lock that
//!   holds for the right password too, not for another address; an MRAO lifts it.

mod common;

use std::net::IpAddr;

use common::*;
use policy::audit::Outcome;
use policy::model::{OrgId, Privileges, Role};
use policy::registry::{parse_networks, RaError, RoleName};

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

fn rao_of(org: OrgId) -> Role {
    Role::Rao {
        orgs: [org].into_iter().collect(),
    }
}

#[test]
fn an_rao_outside_the_rao_list_is_refused_everywhere_it_signs_in() {
    let env = setup();
    let org = org(&env, "Acme");
    let (rao, _token) = admin(&env, "officer", rao_of(org), Privileges::all());
    let local = ip("127.0.0.1");
    let allowed = ip("127.0.0.2");

    // Only an MRAO reads or sets the lists.
    let only_two = parse_networks(&["127.0.0.2/32"]).unwrap();
    assert!(matches!(
        env.ra
            .set_allow_lists(&rao, allowed, &[(RoleName::Rao, only_two.clone())]),
        Err(RaError::Forbidden(_))
    ));
    assert!(matches!(
        env.ra.allow_lists(&rao),
        Err(RaError::Forbidden(_))
    ));
    let lists = env
        .ra
        .set_allow_lists(&env.mrao, local, &[(RoleName::Rao, only_two)])
        .unwrap();
    let rao_list = lists.iter().find(|l| l.role == RoleName::Rao).unwrap();
    assert_eq!(rao_list.describe(), "127.0.0.2/32");
    assert_eq!(rao_list.updated_by.as_deref(), Some("root-admin"));
    let mrao_list = lists.iter().find(|l| l.role == RoleName::Mrao).unwrap();
    assert!(mrao_list.networks.is_empty() && mrao_list.updated_by.is_none());

    // Outside: no token, no password check, no request; the MRAO is not restricted.
    let refused = env.ra.login_from("officer", PASSWORD, local);
    assert!(
        matches!(refused, Err(RaError::AddressNotAllowed { role: "rao", .. })),
        "{}",
        describe(&refused)
    );
    let error = refused.err().unwrap();
    assert_eq!(error.code(), "forbidden");
    assert!(
        error.to_string().contains("127.0.0.1") && error.to_string().contains("rao allow-list"),
        "{error}"
    );
    assert!(env
        .ra
        .verify_credentials("officer", PASSWORD, local)
        .is_err());
    assert!(env.ra.check_address(&rao, local).is_err());
    assert!(env.ra.check_address(&rao, None).is_err(), "unknown address");
    assert!(env.ra.check_address(&env.mrao, local).is_ok());
    // Inside, also as a dual-stack listener reports it.
    assert!(env.ra.login_from("officer", PASSWORD, allowed).is_ok());
    assert!(env
        .ra
        .verify_credentials("officer", PASSWORD, ip("::ffff:127.0.0.2"))
        .is_ok());
    assert!(env.ra.check_address(&rao, ip("::ffff:127.0.0.2")).is_ok());

    // Audited: the change and each refusal.
    let audit = env.ra.audit_log().list(0, 1000).unwrap();
    assert!(audit.iter().any(|e| e.action == "access.allow-list"
        && e.outcome == Outcome::Success
        && e.detail.contains("rao: 127.0.0.2/32")));
    assert!(audit.iter().any(|e| e.action == "access.refused"
        && e.actor == "officer"
        && e.detail.contains("127.0.0.1")));

    // Durable: a new RA over the same store has the same lists.
    let dir = env.dir;
    drop(env.ra);
    let reopened = open_ra(dir.path());
    let lists = reopened.allow_lists_offline().unwrap();
    let rao_list = lists.iter().find(|l| l.role == RoleName::Rao).unwrap();
    assert_eq!(rao_list.describe(), "127.0.0.2/32");
    assert!(reopened.login_from("officer", PASSWORD, local).is_err());
}

#[test]
fn an_mrao_cannot_lock_themself_out_but_the_offline_path_can_change_anything() {
    let env = setup();
    let from = ip("127.0.0.1");
    for (networks, address) in [
        (vec!["10.0.0.0/8"], from),
        (vec!["127.0.0.2/32", "::1"], from),
        (vec!["127.0.0.0/8"], None),
    ] {
        let networks = parse_networks(&networks).unwrap();
        let result = env
            .ra
            .set_allow_lists(&env.mrao, address, &[(RoleName::Mrao, networks)]);
        let Err(RaError::InvalidInput(message)) = &result else {
            panic!("{}", describe(&result));
        };
        assert!(message.contains("lock yourself out"), "{message}");
        assert!(message.contains("--offline"), "{message}");
    }
    let lists = env.ra.allow_lists(&env.mrao).unwrap();
    assert!(lists.iter().all(|l| l.networks.is_empty()), "{lists:?}");
    // A list that admits the address the change comes from (mapped or not) is taken.
    let loopback = parse_networks(&["127.0.0.0/8"]).unwrap();
    env.ra
        .set_allow_lists(
            &env.mrao,
            ip("::ffff:127.0.0.1"),
            &[(RoleName::Mrao, loopback)],
        )
        .unwrap();
    assert!(env.ra.check_address(&env.mrao, ip("10.1.1.1")).is_err());
    // Changing another role's list is no lock-out whatever it says.
    let elsewhere = parse_networks(&["198.51.100.0/24"]).unwrap();
    env.ra
        .set_allow_lists(&env.mrao, from, &[(RoleName::Drao, elsewhere)])
        .unwrap();

    // The offline path (no actor, no address) is the recovery and can set anything.
    let none_of_us = parse_networks(&["203.0.113.0/24"]).unwrap();
    env.ra
        .set_allow_list_offline(RoleName::Mrao, none_of_us)
        .unwrap();
    assert!(env.ra.check_address(&env.mrao, from).is_err());
    let cleared = env
        .ra
        .set_allow_list_offline(RoleName::Mrao, Vec::new())
        .unwrap();
    assert!(cleared.networks.is_empty());
    assert!(env.ra.check_address(&env.mrao, from).is_ok());
    let audit = env.ra.audit_log().list(0, 1000).unwrap();
    assert!(audit.iter().any(|e| e.action == "access.allow-list"
        && e.outcome == Outcome::Denied
        && e.detail.contains("would exclude")));
    assert!(audit.iter().any(|e| e.action == "access.allow-list"
        && e.actor == "local-operator"
        && e.detail == "mrao: any address"));
}

#[test]
fn est_basic_passwords_are_locked_per_user_and_address_and_unlocked_by_an_mrao() {
    let env = setup();
    env.ra.ensure_demo_organization().unwrap();
    let password = env
        .ra
        .ensure_demo_est_endpoint()
        .unwrap()
        .expect("a new EST endpoint");
    let endpoint = env.ra.endpoint_of_kind("est", "default").unwrap();
    let a = ip("192.0.2.1");
    let b = ip("192.0.2.2");
    let check = |user: &str, pass: &str, from| {
        env.ra
            .check_est_password(&endpoint, user, pass, "est test", from)
    };
    for _ in 0..policy::login_guard::FREE_FAILURES + 1 {
        assert!(matches!(
            check("est", "wrong", a),
            Err(RaError::Unauthenticated(_))
        ));
    }
    // Locked: the right password too, at once, without an Argon2 check.
    let locked = check("est", &password, a);
    assert!(
        matches!(locked, Err(RaError::TooManyFailures { retry_after }) if retry_after >= 1),
        "{}",
        describe(&locked)
    );
    assert!(env.ra.est_login_open(&endpoint, "est", a).is_err());
    // Another address, another user name: not held up.
    assert!(check("est", &password, b).is_ok());
    assert!(env.ra.est_login_open(&endpoint, "someone-else", a).is_ok());

    // Only an MRAO lifts it; then the right password works from the locked address.
    let org = org(&env, "Acme");
    let (rao, _) = admin(&env, "officer", rao_of(org), Privileges::all());
    assert!(matches!(
        env.ra.unlock_est_logins(&rao, endpoint.id),
        Err(RaError::Forbidden(_))
    ));
    assert_eq!(env.ra.unlock_est_logins(&env.mrao, endpoint.id).unwrap(), 1);
    assert!(check("est", &password, a).is_ok());
    let audit = env.ra.audit_log().list(0, 1000).unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "est.authenticate" && e.detail.contains("locked for")));
    assert!(audit.iter().any(|e| e.action == "endpoint.est.unlock"));
}
