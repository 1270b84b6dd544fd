//! The operator commands: each is a client of the running gateway's REST API,
//! because the embedded store is held by one process.

pub mod access;
pub mod args;
mod http;
mod output;
mod session;
pub mod sso;

mod audit;
mod certificates;
mod custom_fields;
mod endpoints;
mod organizations;

pub use access::access;
pub use audit::audit;
pub use certificates::{cert, request};
pub use custom_fields::custom_field;
pub use endpoints::endpoint;
pub use organizations::{admin, dept, domain, org};
pub use sso::sso;

use std::path::{Path, PathBuf};

use ::http::Method;
use serde_json::json;

use args::*;
use http::ApiClient;
use output::{emit, table};

const DEFAULT_SERVER: &str = "https://127.0.0.1:8443";

/// Opens a client from the flags, the environment and the saved session.
fn connect(connection: &Connection) -> Result<ApiClient, String> {
    let saved = session::load();
    let server = connection
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|s| s.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let ca_cert = trusted_ca(connection, saved.as_ref())?;
    let token = std::env::var("CERTWRIGHT_TOKEN")
        .ok()
        .or_else(|| saved.map(|s| s.token))
        .ok_or("not logged in: run `ca-admin login --username NAME` (or set CERTWRIGHT_TOKEN to an API key)")?;
    ApiClient::new(&server, &ca_cert, Some(token))
}

fn trusted_ca(
    connection: &Connection,
    saved: Option<&session::Session>,
) -> Result<PathBuf, String> {
    connection
        .ca_cert
        .clone()
        .or_else(|| saved.map(|s| s.ca_cert.clone()))
        .or_else(|| session::local_root_certificate(Path::new("./ca-data")))
        .ok_or_else(|| {
            "no CA certificate to trust: give --ca-cert ROOT.pem (the gateway's root CA)"
                .to_string()
        })
}

/// The CA certificate `login` trusts: `--ca-cert`, else the root of `./ca-data`, else
/// the saved session's.
///
/// Unlike the other commands, which keep trusting the root their session was made
/// with, `login` starts a session: on the gateway's machine the data directory's root
/// is the one its server certificate comes from, while a saved session's file may
/// belong to a data directory that has since been made anew (new root, same
/// server URL).
fn login_trusted_ca(
    connection: &Connection,
    saved: Option<&session::Session>,
) -> Result<PathBuf, String> {
    connection
        .ca_cert
        .clone()
        .or_else(|| session::local_root_certificate(Path::new("./ca-data")))
        .or_else(|| saved.map(|s| s.ca_cert.clone()))
        .ok_or_else(|| {
            "no CA certificate to trust: give --ca-cert ROOT.pem (the gateway's root CA)"
                .to_string()
        })
}

fn read_secret(file: Option<&Path>, env: &str, what: &str) -> Result<String, String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_string());
    }
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    eprint!("{what}: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `ca-admin login`.
pub fn login(args: &LoginArgs) -> Result<(), String> {
    let saved = session::load();
    let server = args
        .connection
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|s| s.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let ca_cert = login_trusted_ca(&args.connection, saved.as_ref())?;
    let password = read_secret(
        args.password_file.as_deref(),
        "CERTWRIGHT_PASSWORD",
        "password",
    )?;
    let client = ApiClient::new(&server, &ca_cert, None)?;
    let response = client.send_json(
        Method::POST,
        "login",
        &json!({"username": args.username, "password": password}),
    )?;
    let token = response["token"]
        .as_str()
        .ok_or("the server sent no token")?
        .to_string();
    // Absolute: the session is read from whatever directory the next command runs in.
    let ca_cert = std::path::absolute(&ca_cert).unwrap_or(ca_cert);
    let path = session::save(&session::Session {
        server: server.clone(),
        ca_cert,
        token,
    })?;
    emit(args.connection.json, &response["admin"], |admin| {
        println!(
            "Logged in to {server} as {} ({}); session saved in {}",
            args.username,
            output::cell(admin.get("role")),
            path.display()
        );
    });
    Ok(())
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", percent_encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// `ca-admin profile list`.
pub fn profile(args: &Profile) -> Result<(), String> {
    let client = connect(&args.connection)?;
    emit(args.connection.json, &client.get_json("profiles")?, |v| {
        table(
            v,
            &[
                ("name", "name"),
                ("type", "certificate_type"),
                ("issuer", "issuer"),
                ("keys", "key_types"),
                ("terms", "terms_days"),
                ("names", "san_types"),
            ],
        )
    });
    Ok(())
}

/// `ca-admin ca list`.
pub fn ca_list(connection: &Connection) -> Result<(), String> {
    let client = connect(connection)?;
    emit(connection.json, &client.get_json("cas")?, |v| {
        table(
            v,
            &[
                ("id", "id"),
                ("role", "role"),
                ("subject", "subject"),
                ("key", "key_type"),
                ("not after", "not_after"),
            ],
        )
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::endpoints::{eab_key_lines, scep_challenge_lines};
    use super::*;

    #[test]
    fn a_scep_challenge_is_on_a_line_of_its_own() {
        let lines = scep_challenge_lines(&json!({
            "endpoint": 3, "challenge": "00ff", "expires_at": "2030-01-01T00:00:00Z"
        }));
        assert!(
            lines.contains(&"  challenge  00ff".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"  expires    2030-01-01T00:00:00Z".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn eab_flags_keep_a_key_that_begins_with_a_dash_a_value() {
        let lines = eab_key_lines("kid-0011223344556677", "-Zx_9aB");
        assert_eq!(lines[1], "EAB HMAC key: -Zx_9aB (shown once)");
        assert_eq!(
            lines[2],
            "certbot:      --eab-kid=kid-0011223344556677 --eab-hmac-key=-Zx_9aB"
        );
        assert_eq!(
            lines[3],
            "lego:         --eab --kid=kid-0011223344556677 --hmac=-Zx_9aB"
        );
        // No suggestion leaves a value as a word of its own, where a parser could take
        // one beginning with `-` for an option.
        for line in &lines[2..] {
            assert!(!line.contains(" -Zx"), "{line}");
        }
    }

    #[test]
    fn custom_field_flags_split_at_the_first_equals_sign() {
        let fields = super::certificates::parse_custom_fields(&[
            " Cost centre =CC-42".to_string(),
            "Ticket=a=b ".to_string(),
            "Empty=".to_string(),
        ])
        .unwrap();
        assert_eq!(
            fields,
            json!([
                {"name": "Cost centre", "value": "CC-42"},
                {"name": "Ticket", "value": "a=b "},
                {"name": "Empty", "value": ""}
            ])
        );
        for bad in ["no-equals", "=value", " =value"] {
            let error = super::certificates::parse_custom_fields(&[bad.to_string()]).unwrap_err();
            assert!(error.contains("NAME=VALUE"), "{error}");
        }
    }

    #[test]
    fn the_custom_field_commands_parse() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "ca-admin",
            "custom-field",
            "create",
            "--class",
            "tls-server",
            "--name",
            "Cost centre",
            "--mandatory",
            "--json",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::CustomField(CustomField {
                command:
                    CustomFieldCommand::Create {
                        class,
                        name,
                        mandatory,
                    },
                connection,
            }) => {
                assert_eq!(
                    (class.as_str(), name.as_str()),
                    ("tls-server", "Cost centre")
                );
                assert!(mandatory && connection.json);
            }
            other => panic!("{other:?}"),
        }
        assert!(crate::cli::Cli::try_parse_from([
            "ca-admin",
            "custom-field",
            "list",
            "--class",
            "tls-sever"
        ])
        .is_err());
        let cli = crate::cli::Cli::try_parse_from([
            "ca-admin",
            "request",
            "submit",
            "--csr",
            "x.csr",
            "--profile",
            "tls-server",
            "--org",
            "1",
            "--custom-field",
            "Cost centre=CC-42",
            "--custom-field",
            "Ticket=T-1",
            "--comments",
            "for the shop",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Request(RequestArgs {
                command:
                    RequestCommand::Submit {
                        custom_fields,
                        comments,
                        ..
                    },
                ..
            }) => {
                assert_eq!(custom_fields, ["Cost centre=CC-42", "Ticket=T-1"]);
                assert_eq!(comments, "for the shop");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_certificate_link_commands_parse() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "ca-admin",
            "admin",
            "link-certificate",
            "3",
            "--certificate",
            "me.pem",
            "--json",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Admin(Admin {
                command: AdminCommand::LinkCertificate { id, certificate },
                connection,
            }) => {
                assert_eq!((id, certificate.to_str()), (3, Some("me.pem")));
                assert!(connection.json);
            }
            other => panic!("{other:?}"),
        }
        let cli = crate::cli::Cli::try_parse_from([
            "ca-admin",
            "admin",
            "unlink-certificate",
            "3",
            "--sha256",
            "AB:CD",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Admin(Admin {
                command: AdminCommand::UnlinkCertificate { id, sha256 },
                ..
            }) => assert_eq!((id, sha256.as_str()), (3, "AB:CD")),
            other => panic!("{other:?}"),
        }
        // The certificate and the fingerprint are required.
        for args in [
            &["ca-admin", "admin", "link-certificate", "3"][..],
            &["ca-admin", "admin", "unlink-certificate", "3"][..],
            &[
                "ca-admin",
                "admin",
                "link-certificate",
                "--certificate",
                "me.pem",
            ][..],
        ] {
            assert!(crate::cli::Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn only_the_certificate_of_a_file_is_sent() {
        use super::organizations::certificate_pem;
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let certificate = rcgen::CertificateParams::new(vec!["me.example".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let sent = |name: &str, contents: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, contents).unwrap();
            certificate_pem(&path)
        };
        let ders = |pem: &str| ca_core::authority::pem_certificates(pem).unwrap();

        // With the key in the same file (as curl keeps them), and as DER.
        let combined = format!("{}{}", key.serialize_pem(), certificate.pem());
        let pem = sent("combined.pem", combined.as_bytes()).unwrap();
        assert!(!pem.contains("PRIVATE KEY"), "{pem}");
        assert_eq!(ders(&pem), vec![certificate.der().to_vec()]);
        let pem = sent("me.der", certificate.der()).unwrap();
        assert_eq!(ders(&pem), vec![certificate.der().to_vec()]);

        let chain = format!("{}{}", certificate.pem(), certificate.pem());
        let error = sent("chain.pem", chain.as_bytes()).unwrap_err();
        assert!(error.contains("2 certificates"), "{error}");
        let error = sent("key.pem", key.serialize_pem().as_bytes()).unwrap_err();
        assert!(error.contains("no CERTIFICATE block"), "{error}");
        let error = sent("junk.bin", b"\xff\xfe junk").unwrap_err();
        assert!(error.contains("neither PEM nor DER"), "{error}");
        assert!(certificate_pem(&dir.path().join("missing.pem")).is_err());
    }

    #[test]
    fn the_admin_table_counts_linked_certificates() {
        let list = json!({ "items": [
            { "id": 1, "client_certificates": [] },
            { "id": 2, "client_certificates": [{ "sha256": "ab" }, { "sha256": "cd" }] },
            { "id": 3 }
        ], "next_after": null });
        let counted = super::organizations::with_certificate_counts(&list);
        let counts: Vec<&serde_json::Value> = counted["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| &a["client_certificate_count"])
            .collect();
        assert_eq!(counts, [&json!(0), &json!(2), &json!(0)]);
    }

    #[test]
    fn a_flag_value_a_shell_would_split_is_quoted() {
        assert_eq!(output::flag("hmac", "-abc_DEF"), "--hmac=-abc_DEF");
        assert_eq!(output::flag("name", "a b"), "--name='a b'");
        assert_eq!(output::flag("name", "it's"), "--name='it'\\''s'");
        assert_eq!(output::flag("name", ""), "--name=''");
    }
}
