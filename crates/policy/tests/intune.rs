//! Intune endpoints in the RA: the Entra ID application is checked, its secret is
//! sealed (never in a listing, a `{:?}` or the audit log) and opened for the SCEP
//! edge; the name space is SCEP's; and the revocations Intune asks for are carried
//! out only within the endpoint's scope.

mod common;

use ca_core::certificates::CertificateStatus;
use common::*;
use policy::model::*;
use policy::registry::{
    ClientSecret, IntuneRevocationRefusal, NewEndpoint, NewIntuneApplication, RaError,
};
use policy::request::{Channel, RequestState};

/// Hex, so that no value can be taken for an option; random so that a test cannot pass by accident.
fn new_secret() -> String {
    hex::encode(policy::credentials::random_bytes::<24>())
}

fn new_application(secret: &str) -> NewIntuneApplication {
    NewIntuneApplication {
        tenant: "contoso.onmicrosoft.com".into(),
        application_id: "11111111-2222-3333-4444-555555555555".into(),
        client_secret: ClientSecret::new(secret.into()),
        login_url: Some("http://127.0.0.1:9/login".into()),
        graph_url: None,
        intune_resource: None,
    }
}

fn intune_endpoint(
    env: &Env,
    name: &str,
    org: OrgId,
    dept: Option<DeptId>,
    secret: &str,
) -> Endpoint {
    env.ra
        .create_endpoint(
            &env.mrao,
            NewEndpoint {
                kind: "intune".into(),
                intune: Some(new_application(secret)),
                ..new_endpoint(name, org, dept, "device", ApprovalMode::Auto)
            },
        )
        .expect("create the Intune endpoint")
        .0
}

/// Issues a device certificate for (org, dept) through an administrator.
fn issue(env: &Env, org: OrgId, dept: Option<DeptId>) -> (u64, String) {
    let mut submission = submission(csr(&[]), "device", org, dept);
    submission.channel = Channel::Rest;
    let request = env
        .ra
        .submit(policy::registry::Requester::Admin(&env.mrao), submission)
        .expect("submit");
    let request = if request.state == RequestState::Requested {
        env.ra
            .approve(&env.mrao, request.id, "ok")
            .expect("approve")
    } else {
        request
    };
    let RequestState::Issued { certificate } = request.state else {
        panic!("not issued: {:?}", request.state);
    };
    let record = env
        .ra
        .ca()
        .certificates()
        .get(certificate)
        .unwrap()
        .unwrap();
    (certificate, record.serial.to_hex())
}

#[test]
fn the_client_secret_is_sealed_and_shown_nowhere() {
    let env = setup();
    let org = org(&env, "Devices");
    let secret = new_secret();
    let endpoint = intune_endpoint(&env, "intune", org, None, &secret);
    assert_eq!(endpoint.kind.name(), "intune");
    assert_eq!(endpoint.kind.protocol(), "scep");
    // The stored record holds it sealed only.
    let EndpointKind::Intune { application } = &endpoint.kind else {
        panic!("not an Intune endpoint");
    };
    assert!(!String::from_utf8_lossy(&application.sealed_client_secret).contains(&secret));
    assert_eq!(application.cloud.login_url, "http://127.0.0.1:9/login");
    assert_eq!(application.cloud.graph_url, "https://graph.microsoft.com");
    assert!(!format!("{endpoint:?}").contains(&secret));
    assert!(!format!("{:?}", new_application("x".repeat(40).as_str())).contains(&"x".repeat(40)));
    // The SCEP edge finds it among SCEP endpoints and opens the secret.
    let found = env
        .ra
        .endpoint_of_kind("scep", "intune")
        .expect("found as SCEP");
    assert_eq!(found.id, endpoint.id);
    let access = env
        .ra
        .intune_access(&found)
        .unwrap()
        .expect("an application");
    assert_eq!(access.client_secret.expose(), secret);
    assert!(!format!("{access:?}").contains(&secret));
    // A new secret replaces it; the audit log names neither.
    let rotated = new_secret();
    env.ra
        .set_intune_application(&env.mrao, endpoint.id, new_application(&rotated))
        .expect("set the application");
    let reopened = env.ra.endpoint_of_kind("scep", "intune").unwrap();
    let access = env.ra.intune_access(&reopened).unwrap().unwrap();
    assert_eq!(access.client_secret.expose(), rotated);
    let audit = env.ra.audit_entries(&env.mrao, 0, 10_000).unwrap();
    assert!(audit.iter().any(|e| e.action == "endpoint.intune.set"));
    let text = format!("{audit:?}");
    assert!(!text.contains(&secret) && !text.contains(&rotated));
}

#[test]
fn an_intune_endpoint_needs_a_valid_application_and_shares_scep_names() {
    let env = setup();
    let org = org(&env, "Devices");
    let refused = |new: NewEndpoint| {
        let result = env.ra.create_endpoint(&env.mrao, new);
        assert!(
            matches!(result, Err(RaError::InvalidInput(_))),
            "{result:?}"
        );
    };
    refused(NewEndpoint {
        kind: "intune".into(),
        ..new_endpoint("a", org, None, "device", ApprovalMode::Auto)
    });
    let mut bad_tenant = new_application(&new_secret());
    bad_tenant.tenant = "two words".into();
    refused(NewEndpoint {
        kind: "intune".into(),
        intune: Some(bad_tenant),
        ..new_endpoint("b", org, None, "device", ApprovalMode::Auto)
    });
    let mut bad_url = new_application(&new_secret());
    bad_url.graph_url = Some("ftp://graph".into());
    refused(NewEndpoint {
        kind: "intune".into(),
        intune: Some(bad_url),
        ..new_endpoint("c", org, None, "device", ApprovalMode::Auto)
    });
    let mut empty = new_application("");
    empty.client_secret = ClientSecret::new(String::new());
    refused(NewEndpoint {
        kind: "intune".into(),
        intune: Some(empty),
        ..new_endpoint("d", org, None, "device", ApprovalMode::Auto)
    });
    // An application on another kind is refused, not ignored.
    refused(NewEndpoint {
        kind: "scep".into(),
        intune: Some(new_application(&new_secret())),
        ..new_endpoint("e", org, None, "device", ApprovalMode::Auto)
    });
    // One name space with SCEP: /scep/<name> names one endpoint.
    env.ra
        .create_endpoint(
            &env.mrao,
            NewEndpoint {
                kind: "scep".into(),
                ..new_endpoint("shared", org, None, "device", ApprovalMode::Auto)
            },
        )
        .unwrap();
    let clash = env.ra.create_endpoint(
        &env.mrao,
        NewEndpoint {
            kind: "intune".into(),
            intune: Some(new_application(&new_secret())),
            ..new_endpoint("shared", org, None, "device", ApprovalMode::Auto)
        },
    );
    assert!(matches!(clash, Err(RaError::Conflict(_))), "{clash:?}");
}

#[test]
fn intune_revokes_only_within_the_endpoints_scope() {
    let env = setup();
    let devices = org(&env, "Devices");
    let laptops = dept(&env, devices, "Laptops");
    let phones = dept(&env, devices, "Phones");
    let other = org(&env, "Other");
    let endpoint = intune_endpoint(&env, "laptops", devices, Some(laptops), &new_secret());
    let actor = "scep laptops Intune revocations";

    let (mine, mine_serial) = issue(&env, devices, Some(laptops));
    let (_, phone_serial) = issue(&env, devices, Some(phones));
    let (_, foreign_serial) = issue(&env, other, None);

    // In scope: revoked, in upper case with a leading zero and colons too.
    let spelled = format!("0{}", mine_serial.to_uppercase());
    let revoked = env
        .ra
        .revoke_for_intune(&endpoint, actor, &spelled, None)
        .expect("revoked");
    assert!(matches!(revoked.status, CertificateStatus::Revoked { .. }));
    let stored = env.ra.ca().certificates().get(mine).unwrap().unwrap();
    assert!(matches!(stored.status, CertificateStatus::Revoked { .. }));
    assert_eq!(
        env.ra
            .revoke_for_intune(&endpoint, actor, &mine_serial, None),
        Err(IntuneRevocationRefusal::AlreadyRevoked(mine_serial.clone()))
    );

    // Another department, another organization, an unknown or malformed serial: refused.
    for serial in [&phone_serial, &foreign_serial] {
        assert_eq!(
            env.ra.revoke_for_intune(&endpoint, actor, serial, None),
            Err(IntuneRevocationRefusal::OutOfScope(serial.clone()))
        );
    }
    assert!(matches!(
        env.ra
            .revoke_for_intune(&endpoint, actor, "0badc0ffee", None),
        Err(IntuneRevocationRefusal::NotFound(_))
    ));
    assert!(matches!(
        env.ra.revoke_for_intune(&endpoint, actor, "not hex", None),
        Err(IntuneRevocationRefusal::NotFound(_))
    ));
    // An issuer Intune names must be the certificate's.
    let (_, second_serial) = issue(&env, devices, Some(laptops));
    assert!(matches!(
        env.ra
            .revoke_for_intune(&endpoint, actor, &second_serial, Some("CN=Someone Else")),
        Err(IntuneRevocationRefusal::IssuerMismatch { .. })
    ));
    let record = env
        .ra
        .ca()
        .certificates()
        .by_serial(&ca_core::serial::Serial::from_bytes(
            &hex::decode(&second_serial).unwrap(),
        ))
        .unwrap()
        .unwrap();
    let issuer = env
        .ra
        .ca()
        .ca(&record.issuer_id)
        .unwrap()
        .subject_text()
        .to_owned();
    env.ra
        .revoke_for_intune(&endpoint, actor, &second_serial, Some(&issuer))
        .expect("the issuer's own name matches");
}
