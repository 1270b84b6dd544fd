//! `ca-admin access allow-list ...`: the client addresses (IP networks) each role's
//! administrators may sign in and act from.
//!
//! Like every operator command it is a client of the running gateway's REST API
//! (`GET/PUT /api/v1/access/allow-lists`), where the RA refuses an MRAO change that
//! would not admit the MRAO's own address. With `--offline` it opens the data
//! directory itself instead (the server must be stopped: the store is held by one
//! process) and changes the lists without that check: the recovery path for an MRAO
//! list that admits nobody who can still reach the gateway.

use std::path::PathBuf;
use std::sync::Arc;

use ::http::Method;
use clap::{Args, Subcommand};
use policy::registry::{parse_networks, RegistrationAuthority, RoleName};
use serde_json::{json, Value};

use super::args::Connection;
use super::connect;
use super::output::emit;

/// `ca-admin access`.
#[derive(Debug, Args)]
pub struct Access {
    /// What to do.
    #[command(subcommand)]
    pub command: AccessCommand,
    #[command(flatten)]
    pub connection: Connection,
}

/// `ca-admin access ...`.
#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Per role, the client addresses its administrators may sign in and act from
    /// (REST API, certificate manager API, console); an empty list restricts nothing.
    #[command(subcommand)]
    AllowList(AllowListCommand),
}

/// `ca-admin access allow-list ...`.
#[derive(Debug, Subcommand)]
pub enum AllowListCommand {
    /// Replace a role's list (MRAO). Refused through the gateway when the MRAO list would
    /// not admit your own address; use --offline on the gateway's machine to repair one.
    Set {
        /// mrao, rao or drao.
        #[arg(value_parser = ["mrao", "rao", "drao"])]
        role: String,
        /// IPv4 / IPv6 networks (192.0.2.0/24, 2001:db8::/32) or addresses (a /32 or /128).
        #[arg(required = true, value_name = "CIDR")]
        networks: Vec<String>,
        #[command(flatten)]
        offline: OfflineArgs,
    },
    /// Empty a role's list: its administrators may come from any address (MRAO).
    Clear {
        /// mrao, rao or drao.
        #[arg(value_parser = ["mrao", "rao", "drao"])]
        role: String,
        #[command(flatten)]
        offline: OfflineArgs,
    },
    /// Show every role's list (MRAO).
    Show {
        #[command(flatten)]
        offline: OfflineArgs,
    },
}

/// The offline path: the data directory itself, with the server stopped.
#[derive(Debug, Args, Clone)]
pub struct OfflineArgs {
    /// Open the data directory instead of calling the gateway (stop the server first):
    /// how an MRAO list that locks everyone out is repaired. Audited as `local-operator`.
    #[arg(long)]
    pub offline: bool,
    /// With --offline: the data directory.
    #[arg(long, default_value = "./ca-data", requires = "offline")]
    pub data_dir: PathBuf,
    /// With --offline: a file whose first line is the CA key passphrase (default: as the
    /// data directory's configuration says, else CERTWRIGHT_CA_PASSPHRASE).
    #[arg(long, requires = "offline")]
    pub passphrase_file: Option<PathBuf>,
    /// With --offline: the CA keys are stored unencrypted (a throw-away test CA).
    #[arg(long, requires = "offline")]
    pub insecure_plaintext_keys: bool,
}

/// `ca-admin access`.
pub fn access(args: &Access) -> Result<(), String> {
    let AccessCommand::AllowList(command) = &args.command;
    let json_out = args.connection.json;
    let (offline, change) = match command {
        AllowListCommand::Set {
            role,
            networks,
            offline,
        } => (offline, Some((role.as_str(), networks.clone()))),
        AllowListCommand::Clear { role, offline } => (offline, Some((role.as_str(), Vec::new()))),
        AllowListCommand::Show { offline } => (offline, None),
    };
    let lists = if offline.offline {
        offline_lists(offline, change)?
    } else {
        let client = connect(&args.connection)?;
        match change {
            Some((role, networks)) => client.send_json(
                Method::PUT,
                "access/allow-lists",
                &json!({ role: networks }),
            )?,
            None => client.get_json("access/allow-lists")?,
        }
    };
    emit(json_out, &lists, print_lists);
    Ok(())
}

/// Reads (and with `change`, first changes) the lists in the data directory itself.
fn offline_lists(args: &OfflineArgs, change: Option<(&str, Vec<String>)>) -> Result<Value, String> {
    let config_path = args.data_dir.join(crate::config::CONFIG_FILE);
    let config = if config_path.is_file() {
        crate::config::GatewayConfig::load(&config_path)?
    } else {
        crate::config::GatewayConfig::for_data_dir(&args.data_dir)
    };
    let protection = if args.passphrase_file.is_some() || args.insecure_plaintext_keys {
        crate::protection::resolve(
            args.passphrase_file.as_deref(),
            args.insecure_plaintext_keys,
        )?
    } else {
        crate::protection::resolve(
            config.keys.passphrase_file.as_deref(),
            config.keys.insecure_plaintext_keys,
        )?
    };
    let service = crate::offline::open_offline(&args.data_dir, protection)?;
    let ra = RegistrationAuthority::open(Arc::new(service), &args.data_dir)
        .map_err(|e| e.to_string())?;
    if let Some((role, networks)) = change {
        let role: RoleName = role.parse()?;
        let networks = parse_networks(&networks).map_err(|e| e.to_string())?;
        ra.set_allow_list_offline(role, networks)
            .map_err(|e| e.to_string())?;
    }
    let lists = ra.allow_lists_offline().map_err(|e| e.to_string())?;
    Ok(rest_api::allow_lists_view(&lists))
}

fn print_lists(lists: &Value) {
    for role in RoleName::ALL {
        let networks: Vec<&str> = lists[role.name()]["networks"]
            .as_array()
            .map(|n| n.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let shown = if networks.is_empty() {
            "any address (no restriction)".to_string()
        } else {
            networks.join(", ")
        };
        println!("{:<5} {shown}", role.name());
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn the_allow_list_commands_parse() {
        let cli = Cli::try_parse_from([
            "ca-admin",
            "access",
            "allow-list",
            "set",
            "rao",
            "10.0.0.0/8",
            "2001:db8::/32",
            "--json",
        ])
        .unwrap();
        match cli.command {
            Command::Access(Access {
                command:
                    AccessCommand::AllowList(AllowListCommand::Set {
                        role,
                        networks,
                        offline,
                    }),
                connection,
            }) => {
                assert_eq!(role, "rao");
                assert_eq!(networks, ["10.0.0.0/8", "2001:db8::/32"]);
                assert!(!offline.offline && connection.json);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from([
            "ca-admin",
            "access",
            "allow-list",
            "clear",
            "mrao",
            "--offline",
            "--data-dir",
            "/srv/ca",
        ])
        .unwrap();
        match cli.command {
            Command::Access(Access {
                command: AccessCommand::AllowList(AllowListCommand::Clear { role, offline }),
                ..
            }) => {
                assert_eq!(role, "mrao");
                assert!(offline.offline);
                assert_eq!(offline.data_dir, PathBuf::from("/srv/ca"));
            }
            other => panic!("{other:?}"),
        }
        for args in [
            &["ca-admin", "access", "allow-list", "set", "rao"][..],
            &[
                "ca-admin",
                "access",
                "allow-list",
                "set",
                "admin",
                "10.0.0.0/8",
            ][..],
            &[
                "ca-admin",
                "access",
                "allow-list",
                "show",
                "--data-dir",
                "x",
            ][..],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
