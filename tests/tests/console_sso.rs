//! SAML 2.0 single sign-on to the console against a real identity provider:
//! pysaml2's (`tests/saml/idp.py`, signing with xmlsec1), fed the console's SP metadata
//! from `/console/saml/metadata`, its own metadata imported with
//! `ca-admin sso import-metadata`. curl is the browser: a cookie jar per person, the
//! redirects followed, the IdP's auto-submitting form posted to the ACS, the success
//! page's refresh followed.
//!
//! - SP-initiated: the login page's link → AuthnRequest by the HTTP-Redirect binding →
//!   the IdP's signed Response → a session on the RelayState page, for an administrator
//!   linked by `admin set-idp-identity`; their password no longer signs them in
//!   (`admin password-login off`: REST login, the certificate manager's `login` /
//!   `password` headers and the console's form alike, answered as a wrong password),
//!   and a console session begun with a password ends;
//! - IdP-initiated, with just-in-time provisioning: a new user whose affiliation
//!   matches a template becomes an administrator with the template's role and scope;
//! - refused with a 403 page, audited, creating nothing: a tampered Response (the
//!   ePPN changed after signing), another SP's audience, an expired assertion, a
//!   replayed Response, a user no template matches; a RelayState that is an absolute
//!   URL is not followed.

use std::path::Path;

use certwright_tests::cli::{id, items};
use certwright_tests::curl::{Answer, Curl};
use certwright_tests::saml::{meta_refresh, post_form, TestIdp};
use certwright_tests::{Gateway, Operator};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");
const ROOT_PEM: &str = "ca-data/cas/demo-root/certificate.pem";

/// One person's browser: curl with a cookie jar of its own.
struct Browser {
    curl: Curl,
    jar: String,
}

impl Browser {
    fn new(dir: &Path, name: &str) -> Self {
        Self {
            curl: Curl::new(dir, ROOT_PEM),
            jar: dir.join(format!("{name}.cookies")).display().to_string(),
        }
    }

    fn get(&self, url: &str) -> Answer {
        self.curl
            .run("GET", url, &["-b", &self.jar, "-c", &self.jar])
    }

    fn post(&self, url: &str, fields: &[(String, String)]) -> Answer {
        let pairs: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut extra = vec!["-b", self.jar.as_str(), "-c", self.jar.as_str()];
        for pair in &pairs {
            extra.extend(["--data-urlencode", pair.as_str()]);
        }
        self.curl.run("POST", url, &extra)
    }

    /// Whether the jar holds a console session cookie.
    fn has_session(&self) -> bool {
        std::fs::read_to_string(&self.jar)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("\tcw_console\t") && !l.trim_end().ends_with("\tcw_console\t"))
    }

    /// Posts the IdP's auto-submitting form (its SAMLResponse and RelayState) to its
    /// action, the console's ACS, as a browser does.
    fn submit(&self, idp_page: &Answer) -> Answer {
        assert_eq!(
            idp_page.status,
            200,
            "the IdP answered: {}",
            idp_page.text()
        );
        let form = post_form(&idp_page.text())
            .unwrap_or_else(|| panic!("no form in the IdP's answer: {}", idp_page.text()));
        assert!(form.field("SAMLResponse").is_some(), "{form:?}");
        self.post(&form.action, &form.fields)
    }

    /// After a successful ACS post: follows the page's refresh; returns the path and page.
    fn follow(&self, base: &str, signed_in: &Answer) -> (String, Answer) {
        assert_eq!(signed_in.status, 200, "{}", signed_in.text());
        let next = meta_refresh(&signed_in.text())
            .unwrap_or_else(|| panic!("no refresh on {}", signed_in.text()));
        assert!(next.starts_with("/console"), "{next}");
        let page = self.get(&format!("{base}{next}"));
        (next, page)
    }
}

fn admins(admin: &Operator) -> Vec<serde_json::Value> {
    items(&admin.json(&["admin", "list"]))
}

fn admin_named(admin: &Operator, username: &str) -> Option<serde_json::Value> {
    admins(admin)
        .into_iter()
        .find(|a| a["username"] == username)
}

/// An IdP-initiated Response for `user` in `mode`, as the IdP's form page.
fn idp_initiated(browser: &Browser, idp: &TestIdp, user: &str, mode: &str, relay: &str) -> Answer {
    browser.get(&format!(
        "{}/idp-initiated?user={user}&mode={mode}&relay_state={}",
        idp.url(),
        relay.replace('/', "%2F").replace(':', "%3A")
    ))
}

fn assert_refused(answer: &Answer, text: &str) {
    assert_eq!(answer.status, 403, "{}", answer.text());
    let body = answer.text();
    assert!(body.contains("Single sign-on refused"), "{body}");
    assert!(body.contains(text), "{text:?} not in {body}");
}

#[test]
fn single_sign_on_sp_and_idp_initiated_with_just_in_time_provisioning_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let base = gateway.https_url().to_string();
    let password = gateway.first_admin_password();
    let admin = Operator::new(BIN, dir, "admin", &base).with_ca_cert(Some(Path::new(ROOT_PEM)));
    admin.login("admin", &password);
    let org = admin.demo_org();

    // Before an IdP is imported: the login page links to SSO, which says it is not set up.
    let visitor = Browser::new(dir, "visitor");
    let login = visitor.get(&format!("{base}/console/login"));
    assert!(
        login.text().contains("href=\"/console/saml/login\""),
        "{}",
        login.text()
    );
    assert_refused(
        &visitor.get(&format!("{base}/console/saml/login")),
        "not set up",
    );

    // The SP metadata, at its stable URL, for the IdP.
    let metadata = visitor.get(&format!("{base}/console/saml/metadata"));
    assert_eq!(metadata.status, 200);
    let sp_xml = metadata.text();
    assert!(
        sp_xml.contains(&format!("entityID=\"{base}/console/saml/metadata\"")),
        "{sp_xml}"
    );
    assert!(
        sp_xml.contains(&format!("Location=\"{base}/console/saml/acs\"")),
        "{sp_xml}"
    );
    assert!(sp_xml.contains("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"));
    std::fs::write(dir.join("sp-metadata.xml"), &sp_xml).unwrap();

    let person = |eppn: &str, affiliation: &str, given: &str| {
        json!({
            "eduPersonPrincipalName": [eppn],
            "mail": [eppn],
            "givenName": [given],
            "sn": ["Tester"],
            "eduPersonAffiliation": [affiliation, "member"],
        })
    };
    let idp = TestIdp::start(
        dir,
        &dir.join("sp-metadata.xml"),
        &json!({
            "alice": person("alice@example.org", "staff", "Alice"),
            "bob": person("bob@example.org", "pki-officer", "Bob"),
            "carol": person("carol@example.org", "pki-officer", "Carol"),
            "eve": person("eve@example.org", "student", "Eve"),
        }),
        &[],
    );
    let imported = admin.json(&["sso", "import-metadata", idp.metadata().to_str().unwrap()]);
    assert_eq!(
        imported["entity_id"],
        format!("{}/metadata", idp.url()),
        "{imported}"
    );
    assert_eq!(imported["sso_url"], format!("{}/sso/redirect", idp.url()));
    assert_eq!(imported["certificates"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin.json(&["sso", "show"])["entity_id"],
        imported["entity_id"]
    );

    // Alice: an RAO with a password, linked to her IdP identity, password login off.
    std::fs::write(dir.join("alice.password"), "an old officer password 2026\n").unwrap();
    let alice = admin.json(&[
        "admin",
        "create",
        "--username",
        "alice",
        "--password-file",
        dir.join("alice.password").to_str().unwrap(),
        "--role",
        "rao",
        "--org",
        &org,
        "--privilege",
        "tls-server=request",
    ]);
    let alice_id = id(&alice);
    admin.ok(&["admin", "set-idp-identity", &alice_id, "alice@example.org"]);
    // The certificate manager's API with the password in its headers: in, then not.
    let scm = |password: &str| {
        Curl::new(dir, ROOT_PEM).run(
            "GET",
            &format!("{base}/api/organization/v1"),
            &[
                "-H",
                "login: alice",
                "-H",
                &format!("password: {password}"),
                "-H",
                "customerUri: demo",
            ],
        )
    };
    assert_eq!(scm("an old officer password 2026").status, 200);
    admin.ok(&["admin", "password-login", &alice_id, "off"]);
    let off = scm("an old officer password 2026");
    let wrong = scm("not her password at all");
    assert_eq!(off.status, 401, "{}", off.text());
    assert_eq!(
        (off.status, off.text()),
        (wrong.status, wrong.text()),
        "no oracle"
    );
    let listed = admin_named(&admin, "alice").unwrap();
    assert_eq!(listed["idp_identity"], "alice@example.org");
    assert_eq!(listed["password_login"], false);

    // Her password signs her in nowhere, with the answer a wrong password gets.
    let rest = Operator::new(BIN, dir, "alice-rest", &base).with_ca_cert(Some(Path::new(ROOT_PEM)));
    let refused = rest.login_run("alice", "an old officer password 2026");
    assert!(!refused.ok);
    assert!(
        refused.stderr.contains("wrong username or password"),
        "{}",
        refused.stderr
    );
    let by_form = Browser::new(dir, "alice-password");
    let form = by_form.get(&format!("{base}/console/login"));
    let form = post_form(&form.text()).expect("the login form");
    let posted = by_form.post(
        &format!("{base}/console/login"),
        &[
            ("csrf".to_string(), form.field("csrf").unwrap().to_string()),
            ("username".to_string(), "alice".to_string()),
            (
                "password".to_string(),
                "an old officer password 2026".to_string(),
            ),
        ],
    );
    assert_eq!(posted.status, 401, "{}", posted.text());
    assert!(posted.text().contains("Wrong username or password"));
    assert!(!by_form.has_session());

    // A console session begun with a password ends when password login is turned off.
    std::fs::write(dir.join("dave.password"), "a night shift password 2026\n").unwrap();
    let dave = admin.json(&[
        "admin",
        "create",
        "--username",
        "dave",
        "--password-file",
        dir.join("dave.password").to_str().unwrap(),
        "--role",
        "mrao",
    ]);
    let dave_browser = Browser::new(dir, "dave");
    let form = dave_browser.get(&format!("{base}/console/login"));
    let form = post_form(&form.text()).expect("the login form");
    let posted = dave_browser.post(
        &format!("{base}/console/login"),
        &[
            ("csrf".to_string(), form.field("csrf").unwrap().to_string()),
            ("username".to_string(), "dave".to_string()),
            (
                "password".to_string(),
                "a night shift password 2026".to_string(),
            ),
        ],
    );
    assert_eq!(posted.status, 303, "{}", posted.text());
    assert_eq!(dave_browser.get(&format!("{base}/console/")).status, 200);
    admin.ok(&["admin", "password-login", &id(&dave), "off"]);
    let after = dave_browser.get(&format!("{base}/console/"));
    assert_eq!(after.status, 303, "the password's session ended");
    assert_eq!(after.header("location").as_deref(), Some("/console/login"));

    // The template that makes a PKI officer an RAO of Demo.
    let template = admin.json(&[
        "sso",
        "template",
        "create",
        "--name",
        "officers",
        "--attribute",
        "eduPersonAffiliation",
        "--value",
        "pki-officer",
        "--role",
        "rao",
        "--org",
        &org,
        "--privileges",
        "tls-server=request,approve",
    ]);
    assert_eq!(template["role"], "rao");
    let templates = items(&admin.json(&["sso", "template", "list"]));
    assert_eq!(templates.len(), 1, "{templates:?}");

    // SP-initiated, as Alice: the console's redirect, the IdP's form, the ACS, the queue.
    let browser = Browser::new(dir, "alice");
    let start = browser.get(&format!("{base}/console/saml/login?next=/console/queue"));
    assert_eq!(start.status, 303, "{}", start.text());
    let to_idp = start.header("location").expect("a redirect to the IdP");
    assert!(
        to_idp.starts_with(&format!("{}/sso/redirect?SAMLRequest=", idp.url())),
        "{to_idp}"
    );
    assert!(to_idp.contains("RelayState=%2Fconsole%2Fqueue"), "{to_idp}");
    let idp_page = browser.get(&format!("{to_idp}&user=alice"));
    let signed_in = browser.submit(&idp_page);
    assert!(browser.has_session(), "a session cookie after the ACS");
    let (next, queue) = browser.follow(&base, &signed_in);
    assert_eq!(next, "/console/queue");
    assert_eq!(queue.status, 200, "{}", queue.text());
    assert!(queue.text().contains("alice (RAO)"), "{}", queue.text());
    // The same answer again: refused (its request was answered, its assertion used).
    let replay = Browser::new(dir, "alice-replay");
    let again = replay.submit(&idp_page);
    assert_refused(&again, "already used");
    assert!(!replay.has_session());

    // IdP-initiated, as Bob, who has no administrator yet: one is made from the template.
    let before = admins(&admin).len();
    let bob_browser = Browser::new(dir, "bob");
    let bob_page = idp_initiated(&bob_browser, &idp, "bob", "normal", "/console/certificates");
    let signed_in = bob_browser.submit(&bob_page);
    let (next, page) = bob_browser.follow(&base, &signed_in);
    assert_eq!(next, "/console/certificates");
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(
        page.text().contains("bob_example.org (RAO)"),
        "{}",
        page.text()
    );
    let bob = admin_named(&admin, "bob_example.org").expect("Bob was provisioned");
    assert_eq!(admins(&admin).len(), before + 1);
    assert_eq!(bob["role"], "rao");
    assert_eq!(bob["orgs"], json!([org.parse::<u64>().unwrap()]));
    assert_eq!(
        bob["privileges"]["tls-server"],
        json!(["request", "approve"])
    );
    assert_eq!(bob["idp_identity"], "bob@example.org");
    assert_eq!(bob["password_login"], false);
    // Posting Bob's Response once more: a replay.
    let replayed = Browser::new(dir, "bob-replay").submit(&bob_page);
    assert_refused(&replayed, "already used");
    // His second sign-in finds him; nobody new.
    let bob_again = Browser::new(dir, "bob-again");
    let signed_in = bob_again.submit(&idp_initiated(&bob_again, &idp, "bob", "normal", ""));
    let (next, _) = bob_again.follow(&base, &signed_in);
    assert_eq!(next, "/console/");
    assert_eq!(admins(&admin).len(), before + 1);

    // Refusals for Carol, whom the template would provision: each a 403, nothing made.
    let cases = [
        ("tamper", "not signed by the identity provider"),
        ("wrong-audience", "meant for another application"),
        ("expired", "expired"),
        ("unsigned", "not signed by the identity provider"),
    ];
    for (mode, text) in cases {
        let carol = Browser::new(dir, &format!("carol-{mode}"));
        let page = idp_initiated(&carol, &idp, "carol", mode, "/console/");
        assert_refused(&carol.submit(&page), text);
        assert!(!carol.has_session(), "{mode}");
        assert!(admin_named(&admin, "carol_example.org").is_none(), "{mode}");
    }
    // Tampered in the SP-initiated flow too.
    let carol = Browser::new(dir, "carol-sp");
    let start = carol.get(&format!("{base}/console/saml/login"));
    let to_idp = start.header("location").unwrap();
    let page = carol.get(&format!("{to_idp}&user=carol&mode=tamper"));
    assert_refused(&carol.submit(&page), "not signed by the identity provider");
    // No template matches Eve.
    let eve = Browser::new(dir, "eve");
    let page = idp_initiated(&eve, &idp, "eve", "normal", "/console/");
    assert_refused(&eve.submit(&page), "no administrator template matches");
    assert!(admin_named(&admin, "eve_example.org").is_none());
    assert_eq!(admins(&admin).len(), before + 1);

    // An absolute RelayState is not followed: Carol lands on the console (and is made).
    let carol = Browser::new(dir, "carol");
    let page = idp_initiated(
        &carol,
        &idp,
        "carol",
        "normal",
        "https://evil.example/console/",
    );
    let signed_in = carol.submit(&page);
    let (next, page) = carol.follow(&base, &signed_in);
    assert_eq!(next, "/console/");
    assert_eq!(page.status, 200);
    assert!(admin_named(&admin, "carol_example.org").is_some());

    // In Chromium: SP-initiated from the login page's link (the IdP answers for Bob,
    // made above), and IdP-initiated with a relay state (Alice, to the queue).
    let chrome_out =
        certwright_tests::browser::screenshot_dir(env!("CARGO_TARGET_TMPDIR"), "console-sso");
    let made = admins(&admin).len();
    let control = Browser::new(dir, "control");
    assert_eq!(
        control
            .get(&format!("{}/control?user=bob&mode=normal", idp.url()))
            .status,
        200
    );
    let chromium = |username: &'static str| certwright_tests::browser::Console {
        base: &base,
        username,
        password: "",
        dir,
        out: &chrome_out,
    };
    let sp = chromium("bob").run("sso-sp", &["--expect-user", "bob_example.org"]);
    assert_eq!(sp["url"], format!("{base}/console/"), "{sp}");
    let idp_start = format!(
        "{}/idp-initiated?user=alice&mode=normal&relay_state=%2Fconsole%2Fqueue",
        idp.url()
    );
    let from_idp = chromium("alice").run(
        "sso-idp",
        &[
            "--idp-start",
            &idp_start,
            "--expect-path",
            "/console/queue",
            "--expect-user",
            "alice",
        ],
    );
    assert_eq!(
        from_idp["url"],
        format!("{base}/console/queue"),
        "{from_idp}"
    );
    assert_eq!(
        admins(&admin).len(),
        made,
        "Chromium's sign-ins made nobody new"
    );

    // From outside the RAO allow-list, Bob (an RAO) is refused and gets no session.
    admin.ok(&["access", "allow-list", "set", "rao", "192.0.2.0/24"]);
    let outside = Browser::new(dir, "bob-outside");
    let refused = outside.submit(&idp_initiated(&outside, &idp, "bob", "normal", ""));
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("allow-list"), "{}", refused.text());
    assert!(!outside.has_session());
    admin.ok(&["access", "allow-list", "clear", "rao"]);

    // The audit log: each refusal, the provisioning, the sign-ins.
    let audit = admin.json(&["audit", "list", "--limit", "500"]).to_string();
    for needle in [
        "console.sso",
        "bad-signature",
        "wrong-audience",
        "expired",
        "replayed",
        "no-administrator",
        "sso.idp.import",
        "sso.template.create",
        "jit: bob_example.org as rao from template 'officers'",
        "sso alice@example.org",
        "admin.password_login",
    ] {
        assert!(
            audit.contains(needle),
            "{needle} not in the audit log: {audit}"
        );
    }
}
