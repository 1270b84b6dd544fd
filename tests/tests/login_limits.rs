//! Failed-login limits and IP allow-lists on every password surface of a running
//! `ca-admin serve`, with curl as the client and other loopback addresses as other
//! clients (`--interface 127.0.0.x`: all of 127.0.0.0/8 is the loopback's on Linux,
//! and the test gateway listens on 127.0.0.1).
//!
//! The limits (`policy::login_guard`, `gateway_http::throttle`): three free failures
//! per (account, address), then a lock of 5 s that doubles with each further failure
//! (at most 15 min), answered at once with 429 and Retry-After before any password is
//! looked at; and per address, 30 failed passwords a minute on the administrators'
//! surfaces (5 on EST) before the address is refused for a minute. A refusal of an
//! account already locked is not counted against its address, so one client retrying a
//! wrong password does not shut out the other accounts behind the same address.
//!
//! `fifty_wrong_passwords_lock_the_account_from_that_address_only`: on the REST API's
//! login, the certificate manager API's `login` / `password` headers, the console's
//! sign-in form (with its CSRF cookie) and EST Basic on
//! `/.well-known/est/default/simpleenroll`, fifty wrong passwords for one account from
//! one address answer 401 three... four times, then 429 with a Retry-After and a
//! message naming the account's lock — immediate refusals: the test never waits for a
//! lock to lapse and asserts on answers, never on time. The right password of the
//! locked account is refused too; another account from the same address and the same
//! account from another address get in; spraying wrong passwords over many accounts
//! from one address trips the address's limit, which then refuses even a right password
//! of another account ("from this address"); an MRAO's unlock (`ca-admin admin unlock`,
//! `ca-admin endpoint unlock` for EST) lifts the lock at once; all of it is audited.
//!
//! `allow_lists_refuse_other_addresses_on_every_admin_surface`: with the RAO list set to
//! 127.0.0.2/32 (`ca-admin access allow-list set`), an RAO from 127.0.0.1 is refused with
//! 403 on the REST API (login, and a token made at 127.0.0.2), the certificate manager
//! API (password, remembered password, client certificate on /private/api/) and the
//! console (sign-in, and a session begun at 127.0.0.2), and admitted from 127.0.0.2. An
//! MRAO cannot lock themself out through the REST API (or the CLI over it); an MRAO list
//! that does shut out the CLI's address is repaired offline
//! (`ca-admin access allow-list clear mrao --offline`, server stopped).

use std::path::Path;

use certwright_tests::cli::{id, items};
use certwright_tests::curl::{Answer, Curl};
use certwright_tests::est::{Est, ROOT_PEM};
use certwright_tests::{must, Gateway, Operator};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_certwright-ca-admin");

/// The attacker's address, and the test's other clients.
const A: &str = "127.0.0.1";
const B: &str = "127.0.0.2";
const C: &str = "127.0.0.3";
const D: &str = "127.0.0.4";

const WRONG_LOGINS: usize = 50;
/// policy::login_guard::FREE_FAILURES: the fourth failure starts the first lock.
const FREE_FAILURES: usize = 3;
/// gateway_http::throttle::ADMIN_MAX_FAILURES and MAX_FAILURES.
const ADMIN_ADDRESS_LIMIT: usize = 30;
const EST_ADDRESS_LIMIT: usize = 5;
/// policy::login_guard::MAX_LOCK, in seconds.
const MAX_LOCK: u64 = 15 * 60;

const PASSWORD: &str = "right password 2026 !";

/// A login with (address, user, password), as one surface sends it.
type Login<'a> = Box<dyn Fn(&str, &str, &str) -> Answer + 'a>;

/// One password surface: how a login with (user, password) from an address is sent.
struct Surface<'a> {
    name: &'static str,
    login: Login<'a>,
    /// The status of a successful login.
    ok: u16,
    /// Words of the answer to a login refused because the account is locked.
    account_locked: &'static str,
    /// Words of the answer to a login refused because the address is over its limit.
    address_locked: &'static str,
    address_limit: usize,
    /// Checks the surface's own form of a lock's refusal (its error code, media type).
    locked_form: fn(&Answer),
}

fn retry_after(surface: &str, answer: &Answer, at_most: u64) -> u64 {
    let wait = answer
        .retry_after()
        .unwrap_or_else(|| panic!("{surface}: a 429 without Retry-After: {}", answer.headers));
    assert!(
        (1..=at_most).contains(&wait),
        "{surface}: Retry-After {wait}"
    );
    wait
}

/// The right password of `victim` from A, refused because the account is locked.
fn right_password_waits(s: &Surface<'_>, victim: &str) {
    let answer = (s.login)(A, victim, PASSWORD);
    assert_eq!(answer.status, 429, "{}: {}", s.name, answer.text());
    assert!(
        answer.text().contains(s.account_locked),
        "{}",
        answer.text()
    );
    retry_after(s.name, &answer, MAX_LOCK);
    (s.locked_form)(&answer);
}

/// Wrong passwords for `victim` from `from` until an answer says the account is
/// locked for at least `seconds` more; returns that answer.
fn lock(s: &Surface<'_>, victim: &str, from: &str, seconds: u64) -> Answer {
    for _ in 0..8 {
        let answer = (s.login)(from, victim, "not the password");
        if answer.status == 429 && retry_after(s.name, &answer, MAX_LOCK) >= seconds {
            return answer;
        }
        assert!(
            matches!(answer.status, 401 | 429),
            "{}: {}",
            s.name,
            answer.text()
        );
    }
    panic!("{}: {victim} is not locked for {seconds} s", s.name);
}

/// Fifty wrong passwords for `victim` from A, the right one from elsewhere, another
/// account from A; then an address spray from D. Asserts as it goes.
///
/// Nothing here waits for a lock to lapse, and nothing asserts on time: where an
/// answer depends on a lock still holding, it is asked right after a refusal whose
/// Retry-After leaves seconds of margin.
fn wrong_logins_lock_the_account_only(s: &Surface<'_>, victim: &str, other: &str) {
    let mut statuses = Vec::new();
    let mut right_password_tried = false;
    for i in 0..WRONG_LOGINS {
        let answer = (s.login)(A, victim, "not the password");
        match answer.status {
            401 => {}
            429 => {
                let wait = retry_after(s.name, &answer, MAX_LOCK);
                assert!(
                    answer.text().contains(s.account_locked),
                    "{}: attempt {}: {}",
                    s.name,
                    i + 1,
                    answer.text()
                );
                if !right_password_tried && wait >= 2 {
                    // The right password of the locked account waits too.
                    right_password_waits(s, victim);
                    right_password_tried = true;
                }
            }
            other => panic!("{}: attempt {}: {other} {}", s.name, i + 1, answer.text()),
        }
        statuses.push(answer.status);
        if i + 1 == FREE_FAILURES + 1 {
            // Locked now, from A: another account from the same address is not.
            let answer = (s.login)(A, other, PASSWORD);
            assert_eq!(answer.status, s.ok, "{}: {}", s.name, answer.text());
        }
    }
    assert!(right_password_tried, "{}: {statuses:?}", s.name);
    // Three free failures, the fourth starts the lock; every later one is refused at
    // once while it holds. (A lock lapsing during the loop lets one more password be
    // checked, which doubles it: 5 s, 10 s, 20 s — a few at most in any run.)
    assert_eq!(
        statuses[..=FREE_FAILURES],
        [401; FREE_FAILURES + 1],
        "{}: {statuses:?}",
        s.name
    );
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        refused >= WRONG_LOGINS - FREE_FAILURES - 1 - 3,
        "{}: {statuses:?}",
        s.name
    );
    // From another address the locked account's right password works, and so does
    // another account from the attacker's address.
    let answer = (s.login)(B, victim, PASSWORD);
    assert_eq!(answer.status, s.ok, "{}: {}", s.name, answer.text());
    let answer = (s.login)(A, other, PASSWORD);
    assert_eq!(answer.status, s.ok, "{}: {}", s.name, answer.text());

    // One address trying many accounts is what the address's limit is for: once over
    // it, even another account's right password from there waits, with its own message.
    for i in 0..s.address_limit {
        let answer = (s.login)(D, &format!("{}-ghost-{i}", s.name), "guess");
        assert_eq!(answer.status, 401, "{}: {}", s.name, answer.text());
    }
    let answer = (s.login)(D, other, PASSWORD);
    assert_eq!(answer.status, 429, "{}: {}", s.name, answer.text());
    assert!(
        answer.text().contains(s.address_locked) && !answer.text().contains(s.account_locked),
        "{}: {}",
        s.name,
        answer.text()
    );
    retry_after(s.name, &answer, 60);
}

/// An MRAO's unlock (`unlock`: the CLI command, which answers how many locks it
/// cleared) lifts a lock that holds for seconds more: the right password works at once.
/// The lock is made afresh from an address of its own, C (three free failures, the
/// fourth starts it, the fifth is refused with seconds to go): the one at A may have
/// lapsed by now, and a test that waited for a new one to begin would wait for time.
fn unlock_lifts_the_lock(s: &Surface<'_>, victim: &str, unlock: &dyn Fn() -> serde_json::Value) {
    lock(s, victim, C, 2);
    let unlocked = unlock();
    assert!(
        unlocked["cleared"].as_u64().is_some_and(|n| n >= 1),
        "{}: {unlocked}",
        s.name
    );
    let answer = (s.login)(C, victim, PASSWORD);
    assert_eq!(
        answer.status,
        s.ok,
        "{}: unlocked: {}",
        s.name,
        answer.text()
    );
}

fn create_rao(admin: &Operator, dir: &Path, org: &str, username: &str) -> String {
    let file = dir.join(format!("{username}.password"));
    std::fs::write(&file, format!("{PASSWORD}\n")).unwrap();
    let created = admin.json(&[
        "admin",
        "create",
        "--username",
        username,
        "--password-file",
        file.to_str().unwrap(),
        "--role",
        "rao",
        "--org",
        org,
        "--privilege",
        "tls-server=request",
    ]);
    id(&created)
}

/// The console's login form: its CSRF cookie in a jar, and the token of its hidden field.
fn console_login_form(curl: &Curl, https: &str, jar: &Path) -> String {
    let form = curl.run(
        "GET",
        &format!("{https}/console/login"),
        &["-c", jar.to_str().unwrap()],
    );
    assert_eq!(form.status, 200, "{}", form.text());
    let html = form.text();
    let start =
        html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A console sign-in: the form's token and cookie (not updated: the same pair serves
/// every attempt, as a browser tab left open would).
fn console_sign_in(
    curl: &Curl,
    https: &str,
    jar: &Path,
    csrf: &str,
    from: &str,
    user: &str,
    password: &str,
) -> Answer {
    curl.from(from).run(
        "POST",
        &format!("{https}/console/login"),
        &[
            "-b",
            jar.to_str().unwrap(),
            "--data-urlencode",
            &format!("csrf={csrf}"),
            "--data-urlencode",
            &format!("username={user}"),
            "--data-urlencode",
            &format!("password={password}"),
        ],
    )
}

/// The console session cookie a successful sign-in sets.
fn session_cookie(answer: &Answer) -> String {
    answer
        .headers
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.trim().strip_prefix("cw_console="))
        .and_then(|v| v.split(';').next())
        .map(|v| format!("cw_console={v}"))
        .unwrap_or_else(|| panic!("no session cookie in\n{}", answer.headers))
}

fn rest_login(curl: &Curl, https: &str, from: &str, user: &str, password: &str) -> Answer {
    let body = json!({ "username": user, "password": password }).to_string();
    curl.from(from).run(
        "POST",
        &format!("{https}/api/v1/login"),
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
        ],
    )
}

fn scm_get(curl: &Curl, https: &str, from: &str, user: &str, password: &str) -> Answer {
    curl.from(from).run(
        "GET",
        &format!("{https}/api/organization/v1"),
        &[
            "-H",
            &format!("login: {user}"),
            "-H",
            &format!("password: {password}"),
            "-H",
            "customerUri: demo",
        ],
    )
}

fn audit_text(admin: &Operator) -> String {
    admin.json(&["audit", "list", "--limit", "500"]).to_string()
}

#[test]
fn fifty_wrong_passwords_lock_the_account_from_that_address_only() {
    // The demo gateway with its EST endpoint `default` (user `est`) and an MRAO session.
    let est = Est::start(BIN);
    let dir = est.dir.as_path();
    let https = est.gateway.https_url().to_string();
    let admin = &est.admin;
    let org = admin.demo_org();
    let curl = Curl::new(dir, ROOT_PEM);
    let rest_victim = create_rao(admin, dir, &org, "rest-victim");
    let scm_victim = create_rao(admin, dir, &org, "scm-victim");
    let console_victim = create_rao(admin, dir, &org, "console-victim");
    create_rao(admin, dir, &org, "bystander");

    // The REST API's login.
    let rest = Surface {
        name: "rest",
        login: Box::new(|from, user, password| rest_login(&curl, &https, from, user, password)),
        ok: 200,
        account_locked: "for this account from this address",
        address_locked: "from this address",
        address_limit: ADMIN_ADDRESS_LIMIT,
        locked_form: |answer| assert_eq!(answer.json()["error"]["code"], "too_many_failures"),
    };
    wrong_logins_lock_the_account_only(&rest, "rest-victim", "bystander");
    unlock_lifts_the_lock(&rest, "rest-victim", &|| {
        admin.json(&["admin", "unlock", &rest_victim])
    });

    // The certificate manager API: the password comes with every call.
    let scm = Surface {
        name: "scm",
        login: Box::new(|from, user, password| scm_get(&curl, &https, from, user, password)),
        ok: 200,
        account_locked: "for this account from this address",
        address_locked: "from this address",
        address_limit: ADMIN_ADDRESS_LIMIT,
        locked_form: |answer| assert_eq!(answer.json()["code"], -16, "{}", answer.text()),
    };
    wrong_logins_lock_the_account_only(&scm, "scm-victim", "bystander");
    unlock_lifts_the_lock(&scm, "scm-victim", &|| {
        admin.json(&["admin", "unlock", &scm_victim])
    });

    // The console's sign-in form, with its CSRF cookie.
    let jar = dir.join("login.cookies");
    let csrf = console_login_form(&curl, &https, &jar);
    let console = Surface {
        name: "console",
        login: Box::new(|from, user, password| {
            console_sign_in(&curl, &https, &jar, &csrf, from, user, password)
        }),
        ok: 303,
        account_locked: "for this account from this address",
        address_locked: "from this address",
        address_limit: ADMIN_ADDRESS_LIMIT,
        locked_form: |answer| {
            assert!(answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")));
            assert!(answer.text().contains("name=\"csrf\""), "the form again");
        },
    };
    let wrong = console_sign_in(&curl, &https, &jar, &csrf, A, "nobody-at-all", "no");
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Wrong username or password"));
    wrong_logins_lock_the_account_only(&console, "console-victim", "bystander");
    unlock_lifts_the_lock(&console, "console-victim", &|| {
        admin.json(&["admin", "unlock", &console_victim])
    });

    // EST Basic: the demo endpoint's user `est`; another endpoint's user `est-other`
    // (a queued endpoint: its right password answers 202, the request waits).
    let (other_endpoint, other_password) = est.create_queued_endpoint("est-other");
    let csr = est.csr("device", "/CN=limits-device", None);
    let est_login = |from: &str, user: &str, password: &str| {
        // The other endpoint's password, for its own user: the test's PASSWORD stands
        // for "the right one" on every surface.
        let (endpoint, password) = match (user, password) {
            ("est-other", PASSWORD) => ("est-other", other_password.as_str()),
            ("est", PASSWORD) => ("default", est.password.as_str()),
            ("est-other", p) => ("est-other", p),
            (_, p) => ("default", p),
        };
        let data = format!("@{csr}");
        let credentials = format!("{user}:{password}");
        curl.from(from).run(
            "POST",
            &est.url(&format!("{endpoint}/simpleenroll")),
            &[
                "-H",
                "Content-Type: application/pkcs10",
                "--data-binary",
                &data,
                "--user",
                &credentials,
            ],
        )
    };
    let est_surface = Surface {
        name: "est",
        login: Box::new(|from, user, password| {
            let answer = est_login(from, user, password);
            // The demo endpoint issues at once (200); the other one queues (202).
            if user == "est-other" && answer.status == 202 {
                return Answer {
                    status: 200,
                    ..answer
                };
            }
            answer
        }),
        ok: 200,
        account_locked: "for this user from this address",
        address_locked: "from this address",
        address_limit: EST_ADDRESS_LIMIT,
        // RFC 7030 §4.2.3: an error status with a plain-text reason.
        locked_form: |answer| {
            assert!(answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/plain")));
        },
    };
    wrong_logins_lock_the_account_only(&est_surface, "est", "est-other");
    let default_endpoint = est.est_endpoint_id("default");
    assert_ne!(other_endpoint, default_endpoint);
    unlock_lifts_the_lock(&est_surface, "est", &|| {
        admin.json(&["endpoint", "unlock", &default_endpoint])
    });

    // Audited: each failure (and the locks they started), each unlock.
    let audit = audit_text(admin);
    for word in [
        "admin.unlock",
        "endpoint.est.unlock",
        "locked for",
        "est.authenticate",
        "user locked for",
    ] {
        assert!(audit.contains(word), "no {word} in the audit log");
    }
}

#[test]
fn allow_lists_refuse_other_addresses_on_every_admin_surface() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let gateway = Gateway::start(BIN, dir, &[]);
    let mrao_password = gateway.first_admin_password();
    let https = gateway.https_url().to_string();
    let admin = Operator::new(BIN, dir, "admin", &https).with_ca_cert(Some(Path::new(ROOT_PEM)));
    admin.login("admin", &mrao_password);
    let org = admin.demo_org();
    let officer = create_rao(&admin, dir, &org, "officer");
    let curl = Curl::new(dir, ROOT_PEM);

    // Only 127.0.0.2 for RAOs; the other roles unrestricted.
    let lists = admin.json(&["access", "allow-list", "set", "rao", "127.0.0.2/32"]);
    assert_eq!(lists["rao"]["networks"], json!(["127.0.0.2/32"]), "{lists}");
    assert_eq!(lists["mrao"]["networks"], json!([]), "{lists}");
    let shown = admin.ok(&["access", "allow-list", "show"]);
    assert!(
        shown.contains("rao   127.0.0.2/32") && shown.contains("mrao  any address"),
        "{shown}"
    );
    let bad = admin.run(&["access", "allow-list", "set", "rao", "10.1.2.3/8"]);
    assert!(
        !bad.ok && bad.stderr.contains("host bits"),
        "{}",
        bad.stderr
    );

    // REST API: no token from outside; a token made inside is refused outside.
    let refused = rest_login(&curl, &https, A, "officer", PASSWORD);
    assert_eq!(refused.status, 403, "{}", refused.text());
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "forbidden");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("127.0.0.1") && m.contains("rao allow-list")),
        "{error}"
    );
    let login = rest_login(&curl, &https, B, "officer", PASSWORD);
    assert_eq!(login.status, 200, "{}", login.text());
    let token = login.json()["token"].as_str().unwrap().to_string();
    let bearer = format!("Authorization: Bearer {token}");
    let orgs = |from: &str| {
        curl.from(from).run(
            "GET",
            &format!("{https}/api/v1/organizations"),
            &["-H", &bearer],
        )
    };
    assert_eq!(orgs(B).status, 200);
    let outside = orgs(A);
    assert_eq!(outside.status, 403, "{}", outside.text());
    assert!(outside.text().contains("allow-list"), "{}", outside.text());

    // The certificate manager API: a password, then the same one remembered (checked
    // again from every address), then a client certificate on /private/api/.
    let inside = scm_get(&curl, &https, B, "officer", PASSWORD);
    assert_eq!(inside.status, 200, "{}", inside.text());
    let outside = scm_get(&curl, &https, A, "officer", PASSWORD);
    assert_eq!(outside.status, 403, "{}", outside.text());
    assert_eq!(outside.json()["code"], -3, "{}", outside.text());
    assert!(outside.text().contains("allow-list"), "{}", outside.text());
    must(
        dir,
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "officer.key",
            "-out",
            "officer.crt",
            "-days",
            "2",
            "-subj",
            "/CN=officer",
        ],
    );
    admin.ok(&[
        "admin",
        "link-certificate",
        &officer,
        "--certificate",
        "officer.crt",
    ]);
    let private = |from: &str| {
        curl.from(from).run(
            "GET",
            &format!("{https}/private/api/organization/v1"),
            &[
                "--cert",
                "officer.crt",
                "--key",
                "officer.key",
                "-H",
                "login: officer",
                "-H",
                "customerUri: demo",
            ],
        )
    };
    assert_eq!(private(B).status, 200, "{}", private(B).text());
    let outside = private(A);
    assert_eq!(outside.status, 403, "{}", outside.text());
    assert_eq!(outside.json()["code"], -3);

    // The console: sign-in from outside refused; a session begun inside is refused outside.
    let jar = dir.join("officer.cookies");
    let csrf = console_login_form(&curl, &https, &jar);
    let outside = console_sign_in(&curl, &https, &jar, &csrf, A, "officer", PASSWORD);
    assert_eq!(outside.status, 403, "{}", outside.text());
    assert!(
        outside.text().contains("rao allow-list"),
        "{}",
        outside.text()
    );
    let signed = console_sign_in(&curl, &https, &jar, &csrf, B, "officer", PASSWORD);
    assert_eq!(signed.status, 303, "{}", signed.text());
    let session = session_cookie(&signed);
    let dashboard = |from: &str| {
        curl.from(from)
            .run("GET", &format!("{https}/console/"), &["-b", &session])
    };
    assert_eq!(dashboard(B).status, 200);
    let outside = dashboard(A);
    assert_eq!(outside.status, 403, "{}", outside.text());
    assert!(outside.text().contains("allow-list"), "{}", outside.text());

    // An MRAO cannot shut out their own address through the REST API (nor the CLI).
    let mrao_login = rest_login(&curl, &https, A, "admin", &mrao_password);
    let mrao_token = mrao_login.json()["token"].as_str().unwrap().to_string();
    let put = |from: &str, token: &str, body: serde_json::Value| {
        curl.from(from).run(
            "PUT",
            &format!("{https}/api/v1/access/allow-lists"),
            &[
                "-H",
                &format!("Authorization: Bearer {token}"),
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body.to_string(),
            ],
        )
    };
    let refused = put(A, &mrao_token, json!({ "mrao": ["10.0.0.0/8"] }));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("lock yourself out") && refused.text().contains("127.0.0.1"),
        "{}",
        refused.text()
    );
    let cli = admin.run(&["access", "allow-list", "set", "mrao", "10.0.0.0/8"]);
    assert!(
        !cli.ok && cli.stderr.contains("lock yourself out"),
        "{}",
        cli.stderr
    );
    let lists = admin.json(&["access", "allow-list", "show"]);
    assert_eq!(lists["mrao"]["networks"], json!([]), "{lists}");
    assert_eq!(lists["rao"]["networks"], json!(["127.0.0.2/32"]), "{lists}");

    // A list that admits the address it is set from is taken, even one that shuts out
    // the CLI's address: set from 127.0.0.2, it leaves the CLI (127.0.0.1) outside.
    let inside = rest_login(&curl, &https, B, "admin", &mrao_password);
    let inside_token = inside.json()["token"].as_str().unwrap().to_string();
    let set = put(B, &inside_token, json!({ "mrao": ["127.0.0.2"] }));
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(set.json()["mrao"]["networks"], json!(["127.0.0.2/32"]));
    let shut_out = admin.run(&["access", "allow-list", "show"]);
    assert!(
        !shut_out.ok && shut_out.stderr.contains("mrao allow-list"),
        "{}",
        shut_out.stderr
    );

    // The recovery: on the gateway's machine, with the server stopped, offline.
    gateway.stop();
    let cleared = must(
        dir,
        BIN,
        &[
            "access",
            "allow-list",
            "clear",
            "mrao",
            "--offline",
            "--json",
        ],
    );
    let cleared: serde_json::Value = serde_json::from_str(&cleared.stdout).unwrap();
    assert_eq!(cleared["mrao"]["networks"], json!([]), "{cleared}");
    assert_eq!(cleared["mrao"]["updated_by"], "local-operator");
    assert_eq!(cleared["rao"]["networks"], json!(["127.0.0.2/32"]));
    let gateway = Gateway::start(BIN, dir, &[]);
    let admin = admin.with_server(gateway.https_url());
    admin.login("admin", &mrao_password);
    let lists = admin.json(&["access", "allow-list", "show"]);
    assert_eq!(lists["mrao"]["networks"], json!([]), "{lists}");
    admin.ok(&["access", "allow-list", "clear", "rao"]);
    let https = gateway.https_url().to_string();
    assert_eq!(
        rest_login(&curl, &https, A, "officer", PASSWORD).status,
        200,
        "the RAO list is empty again"
    );

    // Audited: the changes (by the MRAO and offline), the refusals.
    let audit = admin.json(&["audit", "list", "--limit", "500"]);
    let entries = items(&audit);
    let has = |action: &str, actor: &str, outcome: &str| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["actor"] == actor && e["outcome"] == outcome)
    };
    assert!(has("access.allow-list", "admin", "success"), "{audit}");
    assert!(
        has("access.allow-list", "local-operator", "success"),
        "{audit}"
    );
    assert!(has("access.allow-list", "admin", "denied"), "{audit}");
    assert!(has("access.refused", "officer", "denied"), "{audit}");
}
