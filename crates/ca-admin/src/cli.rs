//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Certwright: a self-hosted private CA and enrollment gateway.
#[derive(Debug, Parser)]
#[command(name = "ca-admin", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a data directory with a root and an issuing CA (offline).
    Init(InitArgs),
    /// Run the gateway. With no configuration: ./ca-data, a demo hierarchy on first start, loopback listeners.
    Serve(ServeArgs),
    /// Issue a certificate from a CSR into a data directory the server is not holding (offline).
    Issue(IssueArgs),
    /// Revoke a certificate in a data directory the server is not holding (offline).
    Revoke(RevokeArgs),
    /// Manage CAs in a data directory (offline).
    #[command(subcommand)]
    Ca(CaCommand),
    /// Measure issuance, signing and durable-commit rates on this machine
    /// (`bench scale`: how the store and the gateway behave up to a million certificates).
    Bench(crate::bench::BenchCommand),
    /// Log in to the running gateway (saves a session for the commands below).
    Login(crate::client::args::LoginArgs),
    /// Organizations.
    Org(crate::client::args::Org),
    /// Departments.
    Dept(crate::client::args::Dept),
    /// Delegated domains.
    Domain(crate::client::args::Domain),
    /// Administrators and API keys.
    Admin(crate::client::args::Admin),
    /// Enrollment endpoints (ACME, SCEP, EST, REST).
    Endpoint(crate::client::args::EndpointArgs),
    /// Certificate profiles (read-only).
    Profile(crate::client::args::Profile),
    /// Certificate requests and the approval queue.
    Request(crate::client::args::RequestArgs),
    /// Custom fields that requests of a certificate class carry.
    CustomField(crate::client::args::CustomField),
    /// Certificates.
    Cert(crate::client::args::Cert),
    /// The audit log.
    Audit(crate::client::args::Audit),
    /// SAML single sign-on to the console: the identity provider, administrator templates.
    Sso(crate::client::sso::Sso),
    /// Access control: per role, the client addresses (IP allow-lists) administrators
    /// may sign in and act from.
    Access(crate::client::access::Access),
}

/// Where the data directory is and how its keys are protected.
#[derive(Debug, Args, Clone)]
pub struct KeyArgs {
    /// The data directory.
    #[arg(long, default_value = "./ca-data")]
    pub data_dir: PathBuf,
    /// A file whose first line is the CA key passphrase (else CERTWRIGHT_CA_PASSPHRASE).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Store CA keys unencrypted. Only for throw-away test CAs.
    #[arg(long)]
    pub insecure_plaintext_keys: bool,
}

/// `ca-admin init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The customer name: CN "<name> Root CA" / "<name> Issuing CA", O = name.
    #[arg(long)]
    pub name: String,
    /// Locality (L) of the CA subjects.
    #[arg(long)]
    pub locality: Option<String>,
    /// State or province (ST) of the CA subjects.
    #[arg(long)]
    pub state: Option<String>,
    /// Country (C), two letters.
    #[arg(long)]
    pub country: Option<String>,
    /// Override the root CA's common name.
    #[arg(long)]
    pub root_cn: Option<String>,
    /// Override the issuing CA's common name.
    #[arg(long)]
    pub issuing_cn: Option<String>,
    /// Key type of both CAs: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096.
    #[arg(long, default_value = "ec-p256")]
    pub key_type: String,
    /// Signature hash for RSA keys: sha256, sha384, sha512 (ECDSA uses its curve's hash).
    #[arg(long, default_value = "sha256")]
    pub hash: String,
    /// Root CA lifetime in years.
    #[arg(long, default_value_t = 20)]
    pub root_years: u32,
    /// Issuing CA lifetime in years (never beyond the root's).
    #[arg(long, default_value_t = 10)]
    pub issuing_years: u32,
    /// The root CA's id.
    #[arg(long, default_value = "root")]
    pub root_id: String,
    /// The issuing CA's id.
    #[arg(long, default_value = "issuing")]
    pub issuing_id: String,
    /// Path-length constraint of the issuing CA (0: it can only sign end entities).
    #[arg(long, default_value_t = 0)]
    pub path_len: u8,
    /// Permitted DNS subtree for the issuing CA (name constraints); repeatable.
    #[arg(long = "permit-dns")]
    pub permit_dns: Vec<String>,
    /// Excluded DNS subtree for the issuing CA; repeatable.
    #[arg(long = "exclude-dns")]
    pub exclude_dns: Vec<String>,
    /// The root is offline or external: create only the issuing CA's key and write its CSR.
    #[arg(long)]
    pub external_root: bool,
    /// Base URL put into certificates (CRL distribution point, AIA).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
    /// HTTP listen address written into the configuration.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_listen: SocketAddr,
}

/// `ca-admin serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (default: <data-dir>/certwright.toml, created by the demo start).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory when no --config is given.
    #[arg(long, default_value = "./ca-data")]
    pub data_dir: PathBuf,
    /// Override the HTTP listen address.
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Override the HTTPS listen address (REST API and the public routes).
    #[arg(long)]
    pub https_listen: Option<SocketAddr>,
    /// Override how often Intune is asked for revocation requests, in seconds.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub intune_revocation_poll_seconds: Option<u64>,
}

/// `ca-admin issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The CSR (PEM or DER).
    #[arg(long)]
    pub csr: PathBuf,
    /// The certificate profile.
    #[arg(long)]
    pub profile: String,
    /// Term in days (default: the profile's).
    #[arg(long)]
    pub term_days: Option<u32>,
    /// Write the certificate here (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format: der, pem, pem-chain, pem-full-chain, chain-only, pkcs7-der, pkcs7-pem.
    #[arg(long, default_value = "pem-chain")]
    pub format: String,
    /// Who is recorded as the requester.
    #[arg(long, default_value = "cli")]
    pub requester: String,
}

/// `ca-admin revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The certificate's serial number (hex).
    #[arg(long)]
    pub serial: String,
    /// RFC 5280 reason: unspecified, key-compromise, ca-compromise, affiliation-changed,
    /// superseded, cessation-of-operation, certificate-hold, privilege-withdrawn, aa-compromise.
    #[arg(long, default_value = "unspecified")]
    pub reason: String,
    /// A message recorded with the revocation.
    #[arg(long, default_value = "")]
    pub message: String,
}

/// `ca-admin ca ...`.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// List the running gateway's CAs (through the REST API).
    List {
        #[command(flatten)]
        connection: crate::client::args::Connection,
    },
    /// Create another CA signed by a CA held here (any depth).
    Create(CreateCaArgs),
    /// Print the pending CSR of an externally signed CA.
    Csr {
        /// The data directory.
        #[arg(long, default_value = "./ca-data")]
        data_dir: PathBuf,
        /// The CA's id.
        #[arg(long)]
        id: String,
    },
    /// Import the signed certificate of an externally signed CA.
    Import(ImportCaArgs),
}

/// `ca-admin ca create`.
#[derive(Debug, Args)]
pub struct CreateCaArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The new CA's id.
    #[arg(long)]
    pub id: String,
    /// The parent CA's id.
    #[arg(long)]
    pub parent: String,
    /// The new CA's common name.
    #[arg(long)]
    pub cn: String,
    /// O of the new CA's subject.
    #[arg(long)]
    pub organization: Option<String>,
    /// C of the new CA's subject.
    #[arg(long)]
    pub country: Option<String>,
    /// Key type.
    #[arg(long, default_value = "ec-p256")]
    pub key_type: String,
    /// Signature hash for RSA keys.
    #[arg(long, default_value = "sha256")]
    pub hash: String,
    /// Lifetime in days (never beyond the parent's).
    #[arg(long, default_value_t = 3650)]
    pub days: u32,
    /// Path-length constraint (omit for none).
    #[arg(long)]
    pub path_len: Option<u8>,
    /// Permitted DNS subtree; repeatable.
    #[arg(long = "permit-dns")]
    pub permit_dns: Vec<String>,
    /// Excluded DNS subtree; repeatable.
    #[arg(long = "exclude-dns")]
    pub exclude_dns: Vec<String>,
    /// Base URL for the parent's CRL and certificate (CDP, AIA).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
}

/// `ca-admin ca import`.
#[derive(Debug, Args)]
pub struct ImportCaArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The CA's id.
    #[arg(long)]
    pub id: String,
    /// The signed certificate (PEM).
    #[arg(long)]
    pub cert: PathBuf,
    /// The issuer chain (PEM, parent first, root last).
    #[arg(long)]
    pub chain: PathBuf,
}
