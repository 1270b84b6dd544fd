//! The operator commands' arguments (each a client of the REST API).

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// How to reach the gateway.
#[derive(Debug, Args, Clone)]
pub struct Connection {
    /// The gateway's HTTPS URL (default: the logged-in session's, else https://127.0.0.1:8443).
    #[arg(long, env = "CERTWRIGHT_SERVER", global = true)]
    pub server: Option<String>,
    /// The CA certificate to trust for it (default: the session's, else the root of ./ca-data; for `login`: the root of ./ca-data, else the session's).
    #[arg(long, env = "CERTWRIGHT_CA_CERT", global = true)]
    pub ca_cert: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `ca-admin login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The administrator's username.
    #[arg(long)]
    pub username: String,
    /// A file whose first line is the password (else CERTWRIGHT_PASSWORD, else one line on standard input).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `ca-admin org ...`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List organizations.
    List,
    /// Show one organization.
    Show {
        /// Its id.
        id: u64,
    },
    /// Create an organization (MRAO).
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// Locality.
        #[arg(long)]
        locality: Option<String>,
        /// State or province.
        #[arg(long)]
        state: Option<String>,
        /// Country, two letters.
        #[arg(long)]
        country: Option<String>,
    },
}

/// `ca-admin dept ...`.
#[derive(Debug, Subcommand)]
pub enum DeptCommand {
    /// List departments.
    List {
        /// Only of this organization.
        #[arg(long)]
        org: Option<u64>,
    },
    /// Create a department.
    Create {
        /// The organization.
        #[arg(long)]
        org: u64,
        /// Its name.
        #[arg(long)]
        name: String,
    },
}

/// `ca-admin domain ...`.
#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// List delegated domains.
    List,
    /// Delegate a domain (or IP network) to an organization or department.
    Add {
        /// The domain, e.g. example.com (covers its subdomains), or a network, e.g. 10.0.0.0/8.
        #[arg(long)]
        name: String,
        /// The organization.
        #[arg(long)]
        org: u64,
        /// The department.
        #[arg(long)]
        dept: Option<u64>,
    },
}

/// `ca-admin admin ...`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List administrators.
    List,
    /// Create an administrator (MRAO).
    Create {
        /// Login name.
        #[arg(long)]
        username: String,
        /// A file whose first line is the password (at least 12 characters).
        #[arg(long)]
        password_file: PathBuf,
        /// mrao, rao or drao.
        #[arg(long)]
        role: String,
        /// For an RAO: an organization delegated to them; repeatable.
        #[arg(long = "org")]
        orgs: Vec<u64>,
        /// For a DRAO: a department delegated to them; repeatable.
        #[arg(long = "dept")]
        depts: Vec<u64>,
        /// Privileges as CLASS=PRIV,PRIV (classes: tls-server, client-smime, device, code-signing;
        /// privileges: request, approve, revoke, manage); repeatable.
        #[arg(long = "privilege")]
        privileges: Vec<String>,
    },
    /// Deactivate an administrator.
    Deactivate {
        /// Its id.
        id: u64,
    },
    /// Reactivate an administrator.
    Activate {
        /// Its id.
        id: u64,
    },
    /// Lift an administrator's failed-login locks (MRAO).
    Unlock {
        /// Its id.
        id: u64,
    },
    /// Create a long-lived API key (printed once).
    ApiKey {
        /// For this administrator (MRAO only; default: yourself).
        #[arg(long)]
        admin: Option<u64>,
        /// A label.
        #[arg(long)]
        label: String,
    },
    /// Change a password: your own (with your current one), or anyone's as an MRAO. The
    /// new one needs 12 characters and must not contain the username; the
    /// administrator's sessions end.
    Password {
        /// The administrator's id.
        id: u64,
        /// A file whose first line is the new password (else it is asked for).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// Changing your own: a file whose first line is your current password (an
        /// RAO or DRAO is asked for it when this is not given; an MRAO changing their
        /// own gives it).
        #[arg(long, value_name = "FILE")]
        current_password_file: Option<PathBuf>,
    },
    /// List an administrator's API keys: ids, labels, creation times (never the keys).
    ApiKeys {
        /// The administrator's id (yourself, or anyone as an MRAO).
        id: u64,
    },
    /// Revoke an API key by its id (the `cw_<id>_` part of the key, as `api-keys` lists
    /// it): calls with it are refused from then on.
    RevokeApiKey {
        /// The key's id.
        key_id: String,
    },
    /// Link a TLS client certificate to an administrator (yourself, or anyone as an
    /// MRAO): with it, they log in on the certificate manager's /private/api/.
    LinkCertificate {
        /// The administrator's id.
        id: u64,
        /// The certificate: a PEM file (or DER). Only its CERTIFICATE block is sent, so a
        /// file that also holds the private key can be given without the key leaving.
        #[arg(long, value_name = "FILE")]
        certificate: PathBuf,
    },
    /// Turn an administrator's password login on or off (MRAO; not your own): off, every
    /// password is refused as a wrong one, and single sign-on is their way in.
    PasswordLogin {
        /// Its id.
        id: u64,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// Link an administrator to their identity at the SAML identity provider, the
    /// eduPersonPrincipalName single sign-on finds them by (MRAO; "" unlinks).
    SetIdpIdentity {
        /// Its id.
        id: u64,
        /// The eduPersonPrincipalName, e.g. alice@example.org.
        identity: String,
    },
    /// Unlink a client certificate from an administrator (yourself, or anyone as an MRAO).
    UnlinkCertificate {
        /// The administrator's id.
        id: u64,
        /// The certificate's SHA-256 fingerprint in hex, as `admin list --json` shows it
        /// (the AB:CD:... form of `openssl x509 -fingerprint -sha256` will do).
        #[arg(long, value_name = "HEX")]
        sha256: String,
    },
}

/// `ca-admin endpoint ...`.
#[derive(Debug, Subcommand)]
pub enum EndpointCommand {
    /// List enrollment endpoints.
    List,
    /// Create an enrollment endpoint (its secret, if any, is printed once).
    Create {
        /// Unique name (used in URLs).
        #[arg(long)]
        name: String,
        /// acme, scep, intune, est or rest.
        #[arg(long)]
        kind: String,
        /// The owning organization.
        #[arg(long)]
        org: u64,
        /// The owning department.
        #[arg(long)]
        dept: Option<u64>,
        /// The certificate profile (Intune endpoints: `device` unless given, which
        /// carries the UPN and SID and writes the strong-mapping extension).
        #[arg(long)]
        profile: Option<String>,
        /// Default term in days.
        #[arg(long)]
        term_days: Option<u32>,
        /// auto or queue.
        #[arg(long, default_value = "queue")]
        approval: String,
        /// ACME: require external account binding.
        #[arg(long)]
        eab_required: bool,
        /// Intune: the Entra ID application (tenant, application id, client secret file).
        #[command(flatten)]
        intune: IntuneApplicationArgs,
    },
    /// Replace an Intune endpoint's Entra ID application (a new client secret, say).
    Intune {
        /// The Intune endpoint's id.
        id: u64,
        /// The application.
        #[command(flatten)]
        application: IntuneApplicationArgs,
    },
    /// Create an ACME external-account-binding key (printed once, with the certbot and lego flags that use it).
    EabKey {
        /// The endpoint's id.
        id: u64,
    },
    /// Mint a one-time SCEP challenge password for one device (printed once; its first use consumes it).
    ScepChallenge {
        /// The SCEP endpoint's id.
        id: u64,
        /// Only for a CSR with this subject common name.
        #[arg(long, value_name = "CN")]
        subject: Option<String>,
        /// Only for a CSR that asks for this name (DNS, e-mail, URI or IP).
        #[arg(long, value_name = "NAME")]
        san: Option<String>,
        /// Validity in seconds (60 to 2592000; default a day).
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<i64>,
    },
    /// Set a SCEP endpoint's webhook validator (its new HMAC key is printed once), or remove it.
    ScepWebhook {
        /// The endpoint's id.
        id: u64,
        /// The http or https URL each new enrollment is POSTed to; it decides instead of the challenge.
        #[arg(long, required_unless_present = "remove", conflicts_with = "remove")]
        url: Option<String>,
        /// Remove the webhook: the endpoint's challenges apply again.
        #[arg(long)]
        remove: bool,
    },
    /// Change an EST endpoint's authentication, proof-of-possession requirement or
    /// manufacturer trust anchors (what is not given stays).
    EstSettings {
        /// The endpoint's id.
        id: u64,
        /// How devices authenticate for simpleenroll and serverkeygen.
        #[arg(long, value_parser = ["basic", "certificate", "either", "both"])]
        auth: Option<String>,
        /// Require the TLS channel binding in the CSR's challengePassword (RFC 7030 §3.5).
        #[arg(long, value_name = "BOOL")]
        pop_required: Option<bool>,
        /// A PEM file of manufacturer CA certificates; replaces the anchors (repeatable).
        #[arg(long = "trust-anchor", value_name = "PEM_FILE")]
        trust_anchors: Vec<std::path::PathBuf>,
        /// Remove every manufacturer trust anchor.
        #[arg(long, conflicts_with = "trust_anchors")]
        clear_trust_anchors: bool,
    },
    /// Lift the failed-password locks of an EST endpoint's Basic users, from every
    /// address, at once (MRAO).
    Unlock {
        /// The EST endpoint's id.
        id: u64,
    },
    /// Replace a SCEP endpoint's challenge password or an EST endpoint's Basic password
    /// with a new one, printed once; the old one stops working at once.
    RotateSecret {
        /// The endpoint's id.
        id: u64,
    },
}

/// `ca-admin request ...`.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// List requests.
    List {
        /// Only in this state (requested, approved, declined, invalid, rejected, issued, revoked, expired, replaced).
        #[arg(long)]
        status: Option<String>,
        /// Only of this organization.
        #[arg(long)]
        org: Option<u64>,
        /// Only of this profile.
        #[arg(long)]
        profile: Option<String>,
        /// Only with a name containing this text.
        #[arg(long)]
        name: Option<String>,
        /// Start after this id.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one request with its history.
    Show {
        /// Its id.
        id: u64,
    },
    /// Submit a CSR.
    Submit {
        /// The CSR (PEM).
        #[arg(long)]
        csr: PathBuf,
        /// The certificate profile.
        #[arg(long)]
        profile: String,
        /// The owning organization.
        #[arg(long)]
        org: u64,
        /// The owning department.
        #[arg(long)]
        dept: Option<u64>,
        /// Term in days.
        #[arg(long)]
        term_days: Option<u32>,
        /// A custom field's value, as NAME=VALUE (`custom-field list` shows the fields of
        /// each certificate class); repeatable.
        #[arg(long = "custom-field", value_name = "NAME=VALUE")]
        custom_fields: Vec<String>,
        /// Comments kept on the request.
        #[arg(long, default_value = "")]
        comments: String,
    },
    /// Approve a request (it is issued at once).
    Approve {
        /// Its id.
        id: u64,
        /// A message recorded with the approval.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Decline a request (it can still be approved later).
    Decline {
        /// Its id.
        id: u64,
        /// A message recorded with the decline.
        #[arg(long, default_value = "")]
        message: String,
    },
}

/// `ca-admin custom-field ...`.
#[derive(Debug, Subcommand)]
pub enum CustomFieldCommand {
    /// List the custom fields that requests carry, of one certificate class or of all.
    List {
        /// Only of this class.
        #[arg(long, value_parser = CERTIFICATE_CLASSES)]
        class: Option<String>,
    },
    /// Define a custom field for a certificate class (MRAO).
    Create {
        /// The class of certificates whose requests carry it.
        #[arg(long, value_parser = CERTIFICATE_CLASSES)]
        class: String,
        /// Its name, unique within the class.
        #[arg(long)]
        name: String,
        /// Every request of the class must give it.
        #[arg(long)]
        mandatory: bool,
    },
    /// Delete a custom field definition (MRAO); the values already on requests stay.
    Delete {
        /// Its id.
        id: u64,
    },
}

/// The certificate classes, as the REST API names them.
const CERTIFICATE_CLASSES: [&str; 4] = ["tls-server", "client-smime", "device", "code-signing"];

/// `ca-admin cert ...`.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// List certificates.
    List {
        /// Only with this status (issued, revoked, replaced).
        #[arg(long)]
        status: Option<String>,
        /// Only of this organization.
        #[arg(long)]
        org: Option<u64>,
        /// Only of this profile.
        #[arg(long)]
        profile: Option<String>,
        /// Only with a name or subject containing this text.
        #[arg(long)]
        name: Option<String>,
        /// Only expiring before this time (RFC 3339).
        #[arg(long)]
        expires_before: Option<String>,
        /// Write CSV to this file instead of printing a table.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Start after this id.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one certificate.
    Show {
        /// Its id.
        id: u64,
    },
    /// Download a certificate.
    Download {
        /// Its id.
        id: u64,
        /// der, pem, pem-chain, pem-full-chain, chain-only, pkcs7-der, pkcs7-pem.
        #[arg(long, default_value = "pem-chain")]
        format: String,
        /// Write here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Revoke a certificate.
    Revoke {
        /// Its id.
        id: u64,
        /// RFC 5280 reason (e.g. key-compromise, superseded).
        #[arg(long, default_value = "unspecified")]
        reason: String,
        /// A message recorded with the revocation.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Renew a certificate (same key unless --csr is given); the old one stays valid.
    Renew {
        /// Its id.
        id: u64,
        /// A new CSR (PEM).
        #[arg(long)]
        csr: Option<PathBuf>,
    },
    /// Replace a certificate with one for a new CSR; the old one becomes Replaced.
    Replace {
        /// Its id.
        id: u64,
        /// The new CSR (PEM).
        #[arg(long)]
        csr: PathBuf,
    },
    /// Import externally issued certificates (PEM, DER or ZIP files).
    Import {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The owning organization.
        #[arg(long)]
        org: u64,
        /// The owning department.
        #[arg(long)]
        dept: Option<u64>,
    },
    /// Delete an externally managed certificate.
    Delete {
        /// Its id.
        id: u64,
    },
}

/// `ca-admin audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit entries.
    List {
        /// Start after this sequence number.
        #[arg(long)]
        after: Option<u64>,
        /// At most this many.
        #[arg(long)]
        limit: Option<u32>,
        /// Only entries about this certificate id.
        #[arg(long)]
        certificate: Option<u64>,
    },
    /// Verify the audit log's hash chain.
    Verify,
}

macro_rules! with_connection {
    ($(#[$doc:meta])* $name:ident, $command:ty) => {
        $(#[$doc])*
        #[derive(Debug, Args)]
        pub struct $name {
            /// What to do.
            #[command(subcommand)]
            pub command: $command,
            #[command(flatten)]
            pub connection: Connection,
        }
    };
}

with_connection!(
    /// `ca-admin org`.
    Org, OrgCommand
);
with_connection!(
    /// `ca-admin dept`.
    Dept, DeptCommand
);
with_connection!(
    /// `ca-admin domain`.
    Domain, DomainCommand
);
with_connection!(
    /// `ca-admin admin`.
    Admin, AdminCommand
);
with_connection!(
    /// `ca-admin endpoint`.
    EndpointArgs, EndpointCommand
);
with_connection!(
    /// `ca-admin request`.
    RequestArgs, RequestCommand
);
with_connection!(
    /// `ca-admin custom-field`.
    CustomField, CustomFieldCommand
);
with_connection!(
    /// `ca-admin cert`.
    Cert, CertCommand
);
with_connection!(
    /// `ca-admin audit`.
    Audit, AuditCommand
);

/// `ca-admin profile list` / `ca-admin ca list`: read-only views.
#[derive(Debug, Subcommand)]
pub enum ListOnly {
    /// List them.
    List,
}

with_connection!(
    /// `ca-admin profile`.
    Profile, ListOnly
);

/// The Entra ID application of an Intune endpoint. The client secret is read from a
/// file (or standard input with `-`), never from the command line, where `ps` shows it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct IntuneApplicationArgs {
    /// Intune: the Entra ID tenant id or verified domain.
    #[arg(long, value_name = "TENANT")]
    pub intune_tenant: Option<String>,
    /// Intune: the application (client) id.
    #[arg(long, value_name = "GUID")]
    pub intune_application_id: Option<String>,
    /// Intune: a file holding the application's client secret (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub intune_client_secret_file: Option<std::path::PathBuf>,
    /// Intune: Entra ID's login URL (national clouds; default https://login.microsoftonline.com).
    #[arg(long, value_name = "URL")]
    pub intune_login_url: Option<String>,
    /// Intune: Microsoft Graph's URL (default https://graph.microsoft.com).
    #[arg(long, value_name = "URL")]
    pub intune_graph_url: Option<String>,
    /// Intune: the Intune resource (default https://api.manage.microsoft.com/).
    #[arg(long, value_name = "URL")]
    pub intune_resource: Option<String>,
}
