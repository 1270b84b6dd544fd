//! Certwright's one binary: `ca-admin serve` runs the gateway, every other
//! command is an operator command.
//!
//! The binary's `main` is a thin wrapper over [`run`], so the workspace
//! tests can build the same program under their own name.

pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod offline;
pub mod protection;
pub mod serve;

use std::process::ExitCode;

use clap::Parser;

/// Parses the command line, runs the command, and maps errors to exit code 1 with a message.
pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Init(args) => offline::init(args),
        cli::Command::Serve(args) => serve::serve(args),
        cli::Command::Issue(args) => offline::issue(args),
        cli::Command::Revoke(args) => offline::revoke(args),
        cli::Command::Ca(command) => offline::ca(command),
        cli::Command::Bench(command) => bench::run_command(command),
        cli::Command::Login(args) => client::login(args),
        cli::Command::Org(args) => client::org(args),
        cli::Command::Dept(args) => client::dept(args),
        cli::Command::Domain(args) => client::domain(args),
        cli::Command::Admin(args) => client::admin(args),
        cli::Command::Endpoint(args) => client::endpoint(args),
        cli::Command::Profile(args) => client::profile(args),
        cli::Command::Request(args) => client::request(args),
        cli::Command::CustomField(args) => client::custom_field(args),
        cli::Command::Cert(args) => client::cert(args),
        cli::Command::Audit(args) => client::audit(args),
        cli::Command::Sso(args) => client::sso(args),
        cli::Command::Access(args) => client::access(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
