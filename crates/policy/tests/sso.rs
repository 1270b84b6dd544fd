//! Single sign-on in the registration authority: the identity provider and the
//! administrator templates are the MRAO's; sign-in by IdP identity; just-in-time
//! provisioning from the first matching template (nothing created when none matches);
//! password login off answers every password as a wrong one; used assertions are
//! refused again, also after a reopen.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use policy::model::*;
use policy::registry::{NewAdminTemplate, NewSsoIdentityProvider, RaError, SsoClaims};

fn idp_certificate() -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    rcgen::CertificateParams::new(vec!["idp.example.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap()
        .der()
        .to_vec()
}

fn claims(identity: &str, groups: &[&str]) -> SsoClaims {
    SsoClaims {
        identity: identity.into(),
        mail: format!("{identity}.mail"),
        given_name: Some("Given".into()),
        surname: Some("Sur".into()),
        attributes: BTreeMap::from([(
            "groups".to_string(),
            groups.iter().map(|g| g.to_string()).collect(),
        )]),
    }
}

fn tls_request() -> Privileges {
    Privileges(
        [(
            CertificateClass::TlsServer,
            BTreeSet::from([Privilege::Request]),
        )]
        .into_iter()
        .collect(),
    )
}

#[test]
fn the_identity_provider_and_templates_are_the_mraos() {
    let env = setup();
    let a = org(&env, "Org A");
    let (rao, _) = admin(
        &env,
        "rao-a",
        Role::Rao {
            orgs: BTreeSet::from([a]),
        },
        Privileges::all(),
    );
    let new = NewSsoIdentityProvider {
        entity_id: "https://idp.example.test/metadata".into(),
        sso_url: "https://idp.example.test/sso".into(),
        certificates: vec![idp_certificate()],
    };
    assert!(matches!(
        env.ra.set_sso_identity_provider(&rao, new.clone()),
        Err(RaError::Forbidden(_))
    ));
    assert!(env.ra.sso_identity_provider().unwrap().is_none());
    let imported = env
        .ra
        .set_sso_identity_provider(&env.mrao, new.clone())
        .unwrap();
    assert_eq!(imported.certificates.len(), 1);
    assert_eq!(imported.certificates[0].sha256.len(), 64);
    assert_eq!(
        env.ra.sso_identity_provider_for(&env.mrao).unwrap(),
        Some(imported)
    );
    for bad in [
        NewSsoIdentityProvider {
            certificates: vec![],
            ..new.clone()
        },
        NewSsoIdentityProvider {
            certificates: vec![b"junk".to_vec()],
            ..new.clone()
        },
        NewSsoIdentityProvider {
            sso_url: "javascript:alert(1)".into(),
            ..new.clone()
        },
    ] {
        assert!(matches!(
            env.ra.set_sso_identity_provider(&env.mrao, bad),
            Err(RaError::InvalidInput(_))
        ));
    }

    let template = NewAdminTemplate {
        name: "PKI team".into(),
        attribute: "groups".into(),
        value: "pki".into(),
        role: Role::Rao {
            orgs: BTreeSet::from([a]),
        },
        privileges: tls_request(),
    };
    assert!(matches!(
        env.ra.create_admin_template(&rao, template.clone()),
        Err(RaError::Forbidden(_))
    ));
    let created = env
        .ra
        .create_admin_template(&env.mrao, template.clone())
        .unwrap();
    assert!(matches!(
        env.ra.create_admin_template(&env.mrao, template.clone()),
        Err(RaError::Conflict(_))
    ));
    let no_orgs = NewAdminTemplate {
        name: "Empty".into(),
        role: Role::Rao {
            orgs: BTreeSet::new(),
        },
        ..template
    };
    assert!(matches!(
        env.ra.create_admin_template(&env.mrao, no_orgs),
        Err(RaError::InvalidInput(_))
    ));
    assert_eq!(
        env.ra.admin_templates(&env.mrao).unwrap(),
        vec![created.clone()]
    );
    env.ra.delete_admin_template(&env.mrao, created.id).unwrap();
    assert!(env.ra.admin_templates(&env.mrao).unwrap().is_empty());

    let audit = format!("{:?}", env.ra.audit_log().list(0, 1000).unwrap());
    assert!(audit.contains("sso.idp.import") && audit.contains("sso.template.create"));
}

#[test]
fn sign_in_by_identity_and_just_in_time_from_the_first_matching_template() {
    let env = setup();
    let a = org(&env, "Org A");
    let first = env
        .ra
        .create_admin_template(
            &env.mrao,
            NewAdminTemplate {
                name: "RAO of A".into(),
                attribute: "groups".into(),
                value: "pki".into(),
                role: Role::Rao {
                    orgs: BTreeSet::from([a]),
                },
                privileges: tls_request(),
            },
        )
        .unwrap();
    env.ra
        .create_admin_template(
            &env.mrao,
            NewAdminTemplate {
                name: "MRAO".into(),
                attribute: "groups".into(),
                value: "pki".into(),
                role: Role::Mrao,
                privileges: Privileges::all(),
            },
        )
        .unwrap();
    let before = env.ra.admins(&env.mrao).unwrap().len();

    // No template matches: refused, nothing created.
    let refused = env
        .ra
        .sso_sign_in(&claims("eve@example.test", &["staff"]), None);
    assert!(
        matches!(refused, Err(RaError::Unauthenticated(_))),
        "{refused:?}"
    );
    assert_eq!(env.ra.admins(&env.mrao).unwrap().len(), before);

    // The first matching template by id.
    let signed = env
        .ra
        .sso_sign_in(&claims("Alice@Example.test", &["staff", "pki"]), None)
        .unwrap();
    assert_eq!(signed.provisioned_by.as_deref(), Some(first.name.as_str()));
    let alice = signed.admin;
    assert_eq!(alice.username, "alice_example.test");
    assert_eq!(
        alice.role,
        Role::Rao {
            orgs: BTreeSet::from([a])
        }
    );
    assert_eq!(alice.privileges, tls_request());
    assert_eq!(alice.idp_identity.as_deref(), Some("Alice@Example.test"));
    assert!(!alice.password_login);
    assert_eq!(env.ra.admins(&env.mrao).unwrap().len(), before + 1);
    let audit = format!("{:?}", env.ra.audit_log().list(0, 1000).unwrap());
    assert!(
        audit.contains("jit: alice_example.test as rao from template 'RAO of A'"),
        "{audit}"
    );

    // Next time: the same administrator, found without case.
    let again = env
        .ra
        .sso_sign_in(&claims("alice@example.test", &[]), None)
        .unwrap();
    assert_eq!((again.admin.id, again.provisioned_by), (alice.id, None));

    // A deactivated one is refused.
    env.ra.set_admin_active(&env.mrao, alice.id, false).unwrap();
    assert!(env
        .ra
        .sso_sign_in(&claims("alice@example.test", &[]), None)
        .is_err());

    // An existing administrator linked by the MRAO; identities are unique.
    let (bob, _) = admin(&env, "bob", Role::Mrao, Privileges::all());
    env.ra
        .set_idp_identity(&env.mrao, bob.id, Some("bob@example.test"))
        .unwrap();
    assert!(matches!(
        env.ra
            .set_idp_identity(&env.mrao, env.mrao.id, Some("BOB@example.test")),
        Err(RaError::Conflict(_))
    ));
    let signed = env
        .ra
        .sso_sign_in(&claims("bob@example.test", &[]), None)
        .unwrap();
    assert_eq!(signed.admin.id, bob.id);
    env.ra.set_idp_identity(&env.mrao, bob.id, None).unwrap();
    assert!(env
        .ra
        .sso_sign_in(&claims("bob@example.test", &[]), None)
        .is_err());
    env.ra
        .set_idp_identity(&env.mrao, env.mrao.id, Some("bob@example.test"))
        .unwrap();
}

#[test]
fn password_login_off_is_a_wrong_password_everywhere() {
    let env = setup();
    let (carol, _) = admin(&env, "carol", Role::Mrao, Privileges::all());
    assert!(matches!(
        env.ra.set_password_login(&env.mrao, env.mrao.id, false),
        Err(RaError::InvalidInput(_))
    ));
    env.ra
        .set_password_login(&env.mrao, carol.id, false)
        .unwrap();
    let wrong = env
        .ra
        .login("carol", "not the password at all")
        .unwrap_err();
    let off = env.ra.login("carol", PASSWORD).unwrap_err();
    assert_eq!(off.to_string(), wrong.to_string(), "no oracle");
    assert!(matches!(
        env.ra.verify_credentials("carol", PASSWORD, None),
        Err(RaError::Unauthenticated(_))
    ));
    env.ra
        .set_password_login(&env.mrao, carol.id, true)
        .unwrap();
    env.ra.login("carol", PASSWORD).expect("on again");
}

#[test]
fn a_used_assertion_is_refused_also_after_a_reopen() {
    let env = setup();
    let until = time::OffsetDateTime::now_utc().unix_timestamp() + 300;
    env.ra
        .consume_sso_assertion("https://idp", "_a1", until)
        .unwrap();
    assert!(matches!(
        env.ra.consume_sso_assertion("https://idp", "_a1", until),
        Err(RaError::Conflict(_))
    ));
    env.ra
        .consume_sso_assertion("https://other-idp", "_a1", until)
        .unwrap();
    // Expired records are cleared by later sign-ins.
    env.ra
        .consume_sso_assertion("https://idp", "_old", 1)
        .unwrap();
    env.ra
        .consume_sso_assertion("https://idp", "_a2", until)
        .unwrap();
    env.ra
        .consume_sso_assertion("https://idp", "_old", 1)
        .unwrap();
    drop(env.ra);
    let ra = open_ra(env.dir.path());
    assert!(matches!(
        ra.consume_sso_assertion("https://idp", "_a1", until),
        Err(RaError::Conflict(_))
    ));
}
