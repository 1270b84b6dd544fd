//! What the certificate manager's API needs of the RA's model: one id space for
//! organizations and departments, renaming and deleting them, stable profile
//! numbers, custom fields, renew ids.

mod common;

use std::collections::BTreeSet;

use common::*;
use policy::model::{CertificateClass, DomainId, Privilege, Privileges, Role};
use policy::registry::{OrgUnit, OrganizationChange, RaError, Requester};
use policy::request::{CustomFieldValue, RequestAnnotations, StateName};

#[test]
fn organizations_and_departments_share_one_id_space() {
    let env = setup();
    let a = org(&env, "Org A");
    let d = dept(&env, a, "Dept A1");
    let b = org(&env, "Org B");
    let ids = BTreeSet::from([a.0, d.0, b.0]);
    assert_eq!(ids.len(), 3, "{a} {d} {b}");
    assert!(matches!(env.ra.org_unit(&env.mrao, a.0), Ok(OrgUnit::Organization(o)) if o.id == a));
    match env.ra.org_unit(&env.mrao, d.0).expect("the department") {
        OrgUnit::Department(dept, org) => {
            assert_eq!((dept.id, org.id), (d, a));
        }
        other => panic!("{other:?}"),
    }
    // An RAO of B sees neither A nor its department.
    let (rao, _) = admin(
        &env,
        "rao-b",
        Role::Rao {
            orgs: BTreeSet::from([b]),
        },
        Privileges::default(),
    );
    assert!(matches!(
        env.ra.org_unit(&rao, a.0),
        Err(RaError::NotFound(_))
    ));
    assert!(matches!(
        env.ra.org_unit(&rao, d.0),
        Err(RaError::NotFound(_))
    ));
    // Ids survive a reopen without colliding.
    drop(env.ra);
    let ra = open_ra(env.dir.path());
    let c = ra
        .create_organization(&env.mrao, "Org C", Default::default())
        .expect("org C");
    assert!(!ids.contains(&c.id.0), "{c:?}");
}

#[test]
fn units_are_renamed_and_deleted_only_when_empty() {
    let env = setup();
    let a = org(&env, "Org A");
    let d = dept(&env, a, "Dept A1");
    let renamed = env
        .ra
        .update_org_unit(
            &env.mrao,
            a.0,
            OrganizationChange {
                name: Some("Org A2".into()),
                country: Some("DE".into()),
                ..Default::default()
            },
        )
        .expect("rename");
    assert_eq!(renamed.organization().name, "Org A2");
    // The old name is free again, the new one is taken.
    org(&env, "Org A");
    assert!(matches!(
        env.ra
            .create_organization(&env.mrao, "Org A2", Default::default()),
        Err(RaError::Conflict(_))
    ));
    // An organization with a department is not deleted; the department is.
    let refused = env.ra.delete_org_unit(&env.mrao, a.0);
    assert!(
        matches!(&refused, Err(RaError::InvalidInput(m)) if m.contains("departments")),
        "{refused:?}"
    );
    delegate(&env, "a.example", a, None);
    env.ra
        .delete_org_unit(&env.mrao, d.0)
        .expect("delete the department");
    let refused = env.ra.delete_org_unit(&env.mrao, a.0);
    assert!(
        matches!(&refused, Err(RaError::InvalidInput(m)) if m.contains("domains")),
        "{refused:?}"
    );
    let domain = env.ra.domains(&env.mrao).expect("domains")[0].id;
    env.ra
        .remove_domain_delegation(&env.mrao, domain)
        .expect("remove the delegation");
    assert!(matches!(
        env.ra
            .remove_domain_delegation(&env.mrao, DomainId(domain.0)),
        Err(RaError::NotFound(_))
    ));
    env.ra
        .delete_org_unit(&env.mrao, a.0)
        .expect("delete the organization");
    assert!(matches!(
        env.ra.org_unit(&env.mrao, a.0),
        Err(RaError::NotFound(_))
    ));
}

#[test]
fn profiles_keep_their_numbers_across_a_reopen() {
    let env = setup();
    let tls = env.ra.profile_number("tls-server").expect("numbered");
    let device = env.ra.profile_number("device").expect("numbered");
    assert_ne!(tls, device);
    assert_eq!(
        env.ra.profile_by_number(tls).map(|p| p.name.as_str()),
        Some("tls-server")
    );
    assert!(env.ra.profile_by_number(9999).is_none());
    drop(env.ra);
    let ra = open_ra(env.dir.path());
    assert_eq!(ra.profile_number("tls-server"), Some(tls));
    assert_eq!(ra.profile_number("device"), Some(device));
}

fn field(name: &str, value: &str) -> CustomFieldValue {
    CustomFieldValue {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn mandatory_custom_fields_are_required_and_kept_on_the_request() {
    let env = setup();
    let a = org(&env, "Org A");
    delegate(&env, "a.example", a, None);
    env.ra
        .create_custom_field(&env.mrao, CertificateClass::TlsServer, "Cost Centre", true)
        .expect("define");
    env.ra
        .create_custom_field(&env.mrao, CertificateClass::TlsServer, "Ticket", false)
        .expect("define");
    assert!(matches!(
        env.ra
            .create_custom_field(&env.mrao, CertificateClass::TlsServer, "cost centre", false),
        Err(RaError::Conflict(_))
    ));
    // Device certificates have no custom fields: a device request needs none.
    assert!(env
        .ra
        .custom_fields(Some(CertificateClass::Device))
        .unwrap()
        .is_empty());

    let submit = |fields: Vec<CustomFieldValue>| {
        let mut s = submission(csr(&["www.a.example"]), "tls-server", a, None);
        s.annotations = RequestAnnotations {
            comments: "for the shop".into(),
            external_requester: "ops@a.example".into(),
            custom_fields: fields,
        };
        env.ra.submit(Requester::Admin(&env.mrao), s)
    };
    assert!(matches!(submit(vec![]), Err(RaError::MissingCustomField(n)) if n == "Cost Centre"));
    assert!(matches!(
        submit(vec![field("Cost Centre", "  ")]),
        Err(RaError::MissingCustomField(_))
    ));
    assert!(matches!(
        submit(vec![field("Cost Centre", "4711"), field("Colour", "red")]),
        Err(RaError::InvalidInput(m)) if m.contains("Colour")
    ));
    let issued = submit(vec![field("cost centre", "4711")]).expect("issued");
    assert_eq!(issued.state.name(), StateName::Issued);
    assert_eq!(
        issued.annotations.custom_fields,
        vec![field("Cost Centre", "4711")]
    );
    assert_eq!(issued.annotations.comments, "for the shop");
    // Only an MRAO defines fields.
    let (rao, _) = admin(
        &env,
        "rao-a",
        Role::Rao {
            orgs: BTreeSet::from([a]),
        },
        Privileges(
            [(CertificateClass::TlsServer, BTreeSet::from(Privilege::ALL))]
                .into_iter()
                .collect(),
        ),
    );
    assert!(matches!(
        env.ra
            .create_custom_field(&rao, CertificateClass::TlsServer, "Mine", false),
        Err(RaError::Forbidden(_))
    ));
}

#[test]
fn a_request_is_found_by_its_renew_id_within_scope() {
    let env = setup();
    let a = org(&env, "Org A");
    let b = org(&env, "Org B");
    delegate(&env, "a.example", a, None);
    let issued = env
        .ra
        .submit(
            Requester::Admin(&env.mrao),
            submission(csr(&["www.a.example"]), "tls-server", a, None),
        )
        .expect("issued");
    assert_eq!(issued.renew_id.len(), 20, "{}", issued.renew_id);
    let found = env
        .ra
        .request_by_renew_id(&env.mrao, &issued.renew_id)
        .expect("found");
    assert_eq!(found.id, issued.id);
    let (rao_b, _) = admin(
        &env,
        "rao-b",
        Role::Rao {
            orgs: BTreeSet::from([b]),
        },
        Privileges::all(),
    );
    assert!(matches!(
        env.ra.request_by_renew_id(&rao_b, &issued.renew_id),
        Err(RaError::NotFound(_))
    ));
    assert!(matches!(
        env.ra.request_by_renew_id(&env.mrao, "not-a-renew-id"),
        Err(RaError::NotFound(_))
    ));
}

#[test]
fn an_import_is_recorded_as_an_order_and_revoked_manually() {
    use ca_core::revocation::RevocationReason;
    let env = setup();
    let a = org(&env, "Org A");
    let der = external_certificate(&["legacy.a.example"]);
    let record = env
        .ra
        .import_external(&env.mrao, &der, a, None)
        .expect("import");
    let owner = env.ra.certificate_owner(record.id).unwrap();
    let order = owner.request.expect("an import record");
    let revoked = env
        .ra
        .revoke_external(
            &env.mrao,
            record.id,
            RevocationReason::KeyCompromise,
            "the old CA says so",
        )
        .expect("manual revocation");
    assert!(matches!(
        revoked.status,
        ca_core::certificates::CertificateStatus::Revoked { .. }
    ));
    let request = env.ra.request(&env.mrao, order).unwrap();
    assert_eq!(request.state.name(), StateName::Revoked);
    assert!(matches!(
        env.ra.revoke_external(
            &env.mrao,
            record.id,
            RevocationReason::KeyCompromise,
            "again"
        ),
        Err(RaError::Ca(_))
    ));
    // Nothing of ours lists it.
    let crl = env.ra.ca().certificates().revoked_of(ISSUING_ID).unwrap();
    assert!(crl.iter().all(|(serial, _)| *serial != record.serial));
    // Deleted with its import record.
    env.ra
        .delete_external(&env.mrao, record.id)
        .expect("delete");
    assert!(matches!(
        env.ra.request(&env.mrao, order),
        Err(RaError::NotFound(_))
    ));
}
