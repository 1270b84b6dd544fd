//! `ca-admin sso ...`: SAML single sign-on to the console. The identity provider is
//! imported from its federation metadata (`PUT /api/v1/sso/idp`); administrator
//! templates provision administrators at their first sign-in (`/api/v1/sso/templates`).
//! The console's own metadata, for the identity provider, is at
//! `<server>/console/saml/metadata`.

use std::io::Read;
use std::path::PathBuf;

use ::http::Method;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::args::Connection;
use super::output::{emit, table};
use super::{connect, output};

/// `ca-admin sso`.
#[derive(Debug, Args)]
pub struct Sso {
    /// What to do.
    #[command(subcommand)]
    pub command: SsoCommand,
    #[command(flatten)]
    pub connection: Connection,
}

/// `ca-admin sso ...`.
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Import (or replace) the identity provider from its SAML federation metadata
    /// (Entra ID: "Federation Metadata XML"): entity id, SSO URL, signing certificates (MRAO).
    ImportMetadata {
        /// The metadata file (`-`: standard input).
        file: PathBuf,
    },
    /// Show the identity provider (MRAO).
    Show,
    /// Remove the identity provider: single sign-on is off until another is imported (MRAO).
    Remove,
    /// Administrator templates: who becomes an administrator at their first sign-in.
    #[command(subcommand)]
    Template(TemplateCommand),
}

/// `ca-admin sso template ...`.
#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Create a template (MRAO): a user with no administrator yet, one of whose values of
    /// the attribute is the value, becomes an administrator with this role (password
    /// login off, username from their eduPersonPrincipalName).
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// The SAML attribute looked at, by Name or FriendlyName (e.g. groups,
        /// eduPersonAffiliation, http://schemas.microsoft.com/ws/2008/06/identity/claims/groups).
        #[arg(long)]
        attribute: String,
        /// The value that selects the template.
        #[arg(long)]
        value: String,
        /// mrao, rao or drao.
        #[arg(long, value_parser = ["mrao", "rao", "drao"])]
        role: String,
        /// For an RAO: an organization delegated to them; repeatable.
        #[arg(long = "org")]
        orgs: Vec<u64>,
        /// For a DRAO: a department delegated to them; repeatable.
        #[arg(long = "dept")]
        depts: Vec<u64>,
        /// Privileges as CLASS=PRIV,PRIV, as `admin create` takes them; repeatable.
        #[arg(long = "privilege", visible_alias = "privileges")]
        privileges: Vec<String>,
    },
    /// List the templates, in the order they are tried (MRAO).
    List,
    /// Delete a template; the administrators it created stay (MRAO).
    Delete {
        /// Its id.
        id: u64,
    },
}

fn read_metadata(file: &PathBuf) -> Result<String, String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))
}

fn print_idp(v: &Value) {
    println!("identity provider  {}", output::cell(v.get("entity_id")));
    println!("single sign-on     {}", output::cell(v.get("sso_url")));
    for c in v["certificates"].as_array().into_iter().flatten() {
        println!(
            "signing cert       {} (until {})",
            output::cell(c.get("subject")),
            output::cell(c.get("not_after"))
        );
        println!("  sha256           {}", output::cell(c.get("sha256")));
    }
    println!(
        "imported           {} by {}",
        output::cell(v.get("imported_at")),
        output::cell(v.get("imported_by"))
    );
}

/// `ca-admin sso`.
pub fn sso(args: &Sso) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        SsoCommand::ImportMetadata { file } => {
            let metadata = read_metadata(file)?;
            let imported =
                client.send_json(Method::PUT, "sso/idp", &json!({ "metadata": metadata }))?;
            emit(json_out, &imported, print_idp);
        }
        SsoCommand::Show => emit(json_out, &client.get_json("sso/idp")?, print_idp),
        SsoCommand::Remove => {
            let response = client.send(Method::DELETE, "sso/idp", None, Vec::new())?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            emit(json_out, &json!({ "removed": true }), |_| {
                println!("identity provider removed: single sign-on is off")
            });
        }
        SsoCommand::Template(TemplateCommand::Create {
            name,
            attribute,
            value,
            role,
            orgs,
            depts,
            privileges,
        }) => {
            let body = json!({
                "name": name, "attribute": attribute, "value": value, "role": role,
                "orgs": orgs, "depts": depts,
                "privileges": super::organizations::parse_privileges(privileges)?,
            });
            let created = client.send_json(Method::POST, "sso/templates", &body)?;
            emit(json_out, &created, |v| {
                println!(
                    "created administrator template {} ({name}: {attribute} = {value} gives {role})",
                    output::cell(v.get("id"))
                )
            });
        }
        SsoCommand::Template(TemplateCommand::List) => {
            emit(json_out, &client.get_json("sso/templates")?, |v| {
                table(
                    v,
                    &[
                        ("id", "id"),
                        ("name", "name"),
                        ("attribute", "attribute"),
                        ("value", "value"),
                        ("role", "role"),
                        ("orgs", "orgs"),
                        ("depts", "depts"),
                    ],
                )
            })
        }
        SsoCommand::Template(TemplateCommand::Delete { id }) => {
            let response = client.send(
                Method::DELETE,
                &format!("sso/templates/{id}"),
                None,
                Vec::new(),
            )?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            emit(json_out, &json!({ "deleted": id }), |_| {
                println!("administrator template {id} deleted")
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_sso_commands_parse() {
        let cli = crate::cli::Cli::try_parse_from([
            "ca-admin",
            "sso",
            "template",
            "create",
            "--name",
            "PKI",
            "--attribute",
            "groups",
            "--value",
            "pki",
            "--role",
            "rao",
            "--org",
            "3",
            "--privileges",
            "tls-server=request",
            "--json",
        ])
        .unwrap();
        match cli.command {
            crate::cli::Command::Sso(Sso {
                command:
                    SsoCommand::Template(TemplateCommand::Create {
                        role,
                        orgs,
                        privileges,
                        ..
                    }),
                connection,
            }) => {
                assert_eq!((role.as_str(), orgs), ("rao", vec![3]));
                assert_eq!(privileges, ["tls-server=request"]);
                assert!(connection.json);
            }
            other => panic!("{other:?}"),
        }
        let cli =
            crate::cli::Cli::try_parse_from(["ca-admin", "sso", "import-metadata", "-"]).unwrap();
        assert!(matches!(
            cli.command,
            crate::cli::Command::Sso(Sso {
                command: SsoCommand::ImportMetadata { .. },
                ..
            })
        ));
        assert!(crate::cli::Cli::try_parse_from([
            "ca-admin",
            "sso",
            "template",
            "create",
            "--name",
            "x",
            "--attribute",
            "a",
            "--value",
            "v",
            "--role",
            "root",
        ])
        .is_err());
        for args in [
            &["ca-admin", "admin", "password-login", "3", "off"][..],
            &[
                "ca-admin",
                "admin",
                "set-idp-identity",
                "3",
                "alice@example.org",
            ][..],
        ] {
            assert!(crate::cli::Cli::try_parse_from(args).is_ok(), "{args:?}");
        }
        assert!(crate::cli::Cli::try_parse_from([
            "ca-admin",
            "admin",
            "password-login",
            "3",
            "maybe"
        ])
        .is_err());
    }
}
