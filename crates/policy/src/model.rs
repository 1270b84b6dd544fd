//! The registration authority's records: organizations, departments, domain
//! delegations, administrators and their privileges, enrollment endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use ca_core::profile::CertificateType;
use ca_core::store::Record;
use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl $name {
            /// A short label for audit entries, e.g. `org:3`.
            pub fn label(self) -> String {
                format!(concat!($prefix, ":{}"), self.0)
            }
        }
    };
}

id_type!(
    /// An organization's id.
    OrgId, "org"
);
id_type!(
    /// A department's id.
    DeptId, "dept"
);
id_type!(
    /// A domain delegation's id.
    DomainId, "domain"
);
id_type!(
    /// An administrator's id.
    AdminId, "admin"
);
id_type!(
    /// An enrollment endpoint's id.
    EndpointId, "endpoint"
);
id_type!(
    /// A certificate request's id.
    RequestId, "request"
);

/// A postal address (the subject attributes an organization forces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Address {
    /// L.
    pub locality: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// C, two letters.
    pub country: Option<String>,
}

/// An organization: owns departments, domains and certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Its name (O in certificates whose profile forces it).
    pub name: String,
    /// Its address.
    pub address: Address,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for Organization {
    const SCHEMA_VERSION: u16 = 1;
}

/// A department inside an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Its id.
    pub id: DeptId,
    /// The organization it belongs to.
    pub org: OrgId,
    /// Its name (OU where a profile takes it).
    pub name: String,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for Department {
    const SCHEMA_VERSION: u16 = 1;
}

/// A domain (or IP network) delegated to an organization or one of its departments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainDelegation {
    /// Its id.
    pub id: DomainId,
    /// The delegated name: a DNS domain (covering its subdomains) or an IP network in CIDR form.
    pub name: crate::names::DelegatedName,
    /// The organization.
    pub org: OrgId,
    /// The department, when delegated to one only.
    pub dept: Option<DeptId>,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for DomainDelegation {
    const SCHEMA_VERSION: u16 = 1;
}

/// The classes of certificate that privileges are granted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateClass {
    /// TLS server certificates.
    TlsServer,
    /// TLS client and S/MIME certificates.
    ClientSmime,
    /// Device certificates (and SCEP RA / OCSP signing, which are infrastructure).
    Device,
    /// Code-signing certificates.
    CodeSigning,
}

impl CertificateClass {
    /// Every class.
    pub const ALL: [CertificateClass; 4] = [
        CertificateClass::TlsServer,
        CertificateClass::ClientSmime,
        CertificateClass::Device,
        CertificateClass::CodeSigning,
    ];

    /// The class a profile's certificate type falls in.
    pub fn of(certificate_type: CertificateType) -> Self {
        match certificate_type {
            CertificateType::TlsServer => CertificateClass::TlsServer,
            CertificateType::TlsClient | CertificateType::Smime => CertificateClass::ClientSmime,
            CertificateType::Device
            | CertificateType::ScepRa
            | CertificateType::EstSigner
            | CertificateType::OcspSigning => CertificateClass::Device,
            CertificateType::CodeSigning => CertificateClass::CodeSigning,
        }
    }
}

/// What an administrator may do with a class of certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Privilege {
    /// Submit requests.
    Request,
    /// Approve or decline requests.
    Approve,
    /// Revoke certificates.
    Revoke,
    /// Manage the enrollment endpoints, domains and departments of their scope.
    Manage,
}

impl Privilege {
    /// Every privilege.
    pub const ALL: [Privilege; 4] = [
        Privilege::Request,
        Privilege::Approve,
        Privilege::Revoke,
        Privilege::Manage,
    ];
}

/// Privileges per certificate class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Privileges(pub BTreeMap<CertificateClass, BTreeSet<Privilege>>);

impl Privileges {
    /// Every privilege on every class.
    pub fn all() -> Self {
        Privileges(
            CertificateClass::ALL
                .into_iter()
                .map(|c| (c, Privilege::ALL.into_iter().collect()))
                .collect(),
        )
    }

    /// Whether `privilege` is held for `class`.
    pub fn allows(&self, class: CertificateClass, privilege: Privilege) -> bool {
        self.0
            .get(&class)
            .is_some_and(|set| set.contains(&privilege))
    }

    /// Whether `privilege` is held for any class.
    pub fn allows_any(&self, privilege: Privilege) -> bool {
        self.0.values().any(|set| set.contains(&privilege))
    }
}

/// An administrator's role and, for RAO / DRAO, the scope delegated to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Role {
    /// Master RA officer: everything, everywhere.
    Mrao,
    /// RA officer for the organizations delegated to them and their departments.
    Rao {
        /// The organizations.
        orgs: BTreeSet<OrgId>,
    },
    /// Department RA officer for the departments delegated to them.
    Drao {
        /// The departments.
        depts: BTreeSet<DeptId>,
    },
}

impl Role {
    /// The role's short name.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Mrao => "mrao",
            Role::Rao { .. } => "rao",
            Role::Drao { .. } => "drao",
        }
    }
}

/// An administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    /// Its id.
    pub id: AdminId,
    /// Login name, unique.
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Role and scope.
    pub role: Role,
    /// Per-class privileges (MRAO holds all whatever this says).
    pub privileges: Privileges,
    /// A deactivated administrator can neither log in nor use API keys.
    pub active: bool,
    /// Unix time of creation.
    pub created_at: i64,
    /// TLS client certificates that stand for the password on the certificate
    /// manager's `/private/api/` (pinned by their SHA-256).
    #[serde(default)]
    pub client_certificates: Vec<LinkedCertificate>,
    /// Their identity at the SAML identity provider (eduPersonPrincipalName), unique:
    /// the console's single sign-on signs them in by it.
    #[serde(default)]
    pub idp_identity: Option<String>,
    /// Whether their password signs them in (REST login, the certificate manager's
    /// `login` / `password` headers, the console); off, every password is refused as a
    /// wrong one. Records from before this setting: on.
    #[serde(default = "password_login_default")]
    pub password_login: bool,
}

fn password_login_default() -> bool {
    true
}

/// A TLS client certificate linked to an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedCertificate {
    /// SHA-256 of the certificate's DER, lower-case hex.
    pub sha256: String,
    /// Its subject, for people.
    pub subject: String,
    /// Its end of validity (unix time); after it, it authenticates no one.
    pub not_after: i64,
}

impl Record for Administrator {
    // 2: `password_login` (an older build must not read an administrator whose password
    // login is off as one whose password signs them in).
    const SCHEMA_VERSION: u16 = 2;
}

/// How an endpoint's requests are approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalMode {
    /// Approved at once.
    Auto,
    /// Wait in the approval queue for an administrator.
    Queue,
}

/// One ACME external-account-binding key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EabKey {
    /// The key id clients send.
    pub key_id: String,
    /// The HMAC key, sealed with the gateway's secret-box key (AES-256-GCM).
    #[serde(with = "serde_bytes")]
    pub sealed_hmac_key: Vec<u8>,
    /// The ACME account it is bound to, once used (a key id binds one account).
    pub bound_account: Option<String>,
    /// Unix time of creation.
    pub created_at: i64,
    /// Its number, unique across endpoints (the certificate manager's ACME account id);
    /// 0 on keys from before numbers.
    #[serde(default)]
    pub number: u64,
    /// A name for people (the certificate manager's account name); may be empty.
    #[serde(default)]
    pub name: String,
}

/// A SCEP endpoint's webhook validator: the endpoint POSTs each new enrollment's
/// details to `url`, signed with the HMAC key, and enrolls only on a 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScepWebhook {
    /// An `http` or `https` URL.
    pub url: String,
    /// The HMAC-SHA256 key, sealed with the gateway's secret-box key (AES-256-GCM).
    #[serde(with = "serde_bytes")]
    pub sealed_hmac_key: Vec<u8>,
}

/// The Microsoft endpoints of one cloud: the public cloud's by default; national
/// clouds (US Government, China) have their own, and tests point them at a stand-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntuneCloud {
    /// Entra ID's login service (`https://login.microsoftonline.com`).
    pub login_url: String,
    /// Microsoft Graph (`https://graph.microsoft.com`).
    pub graph_url: String,
    /// The Intune resource the service's tokens are for (`https://api.manage.microsoft.com/`).
    pub intune_resource: String,
}

impl Default for IntuneCloud {
    fn default() -> Self {
        Self {
            login_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            intune_resource: "https://api.manage.microsoft.com/".into(),
        }
    }
}

/// The Entra ID application an Intune endpoint authenticates as (it holds the
/// "Intune SCEP challenge validation" permission, `scep_challenge_provider`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntuneApplication {
    /// The tenant: its id (a GUID) or a verified domain.
    pub tenant: String,
    /// The application (client) id.
    pub application_id: String,
    /// The client secret, sealed with the gateway's secret-box key (AES-256-GCM);
    /// never shown after it is entered.
    #[serde(with = "serde_bytes")]
    pub sealed_client_secret: Vec<u8>,
    /// The cloud's endpoints.
    pub cloud: IntuneCloud,
}

impl std::fmt::Debug for IntuneApplication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntuneApplication")
            .field("tenant", &self.tenant)
            .field("application_id", &self.application_id)
            .field("sealed_client_secret", &"<sealed>")
            .field("cloud", &self.cloud)
            .finish()
    }
}

/// How an EST endpoint authenticates a device for `simpleenroll` and `serverkeygen`
/// (`simplereenroll` always takes the certificate being renewed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EstAuth {
    /// HTTP Basic with the endpoint's credentials.
    #[default]
    Basic,
    /// A TLS client certificate chaining to one of the endpoint's trust anchors.
    Certificate,
    /// Either of the two.
    Either,
    /// Both: the client certificate and the password.
    Both,
}

impl EstAuth {
    /// Its name in settings and listings.
    pub fn name(self) -> &'static str {
        match self {
            EstAuth::Basic => "basic",
            EstAuth::Certificate => "certificate",
            EstAuth::Either => "either",
            EstAuth::Both => "both",
        }
    }

    /// Parses a name as [`EstAuth::name`] gives it.
    pub fn parse(name: &str) -> Option<Self> {
        [
            EstAuth::Basic,
            EstAuth::Certificate,
            EstAuth::Either,
            EstAuth::Both,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// A CA certificate an EST endpoint trusts for device identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustAnchor {
    /// Its subject, for listings.
    pub subject: String,
    /// The certificate (DER).
    #[serde(with = "serde_bytes")]
    pub der: Vec<u8>,
}

/// What protocol an endpoint speaks and the credential it checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EndpointKind {
    /// ACME, with external account binding keys.
    Acme {
        /// Whether new accounts must present an EAB.
        eab_required: bool,
        /// The EAB keys.
        eab_keys: Vec<EabKey>,
    },
    /// SCEP, with a static challenge password (its hash) and, optionally, a webhook
    /// that decides on each enrollment instead of the challenge.
    Scep {
        /// The challenge's hash.
        challenge_hash: String,
        /// The webhook validator, if one is set (records from before webhooks have none).
        #[serde(default)]
        webhook: Option<ScepWebhook>,
    },
    /// EST, with a label and HTTP Basic credentials (password as Argon2id hash).
    Est {
        /// The EST label (the path segment after /.well-known/est/).
        label: String,
        /// The Basic user name.
        username: String,
        /// The password's hash.
        password_hash: String,
        /// How devices authenticate (records from before this setting: Basic).
        #[serde(default)]
        auth: EstAuth,
        /// Manufacturer CAs whose certificates (IDevID-style factory identities)
        /// authenticate `simpleenroll`; the gateway's own CAs always anchor re-enrollment.
        #[serde(default)]
        trust_anchors: Vec<TrustAnchor>,
        /// Whether the CSR must carry the TLS channel binding (RFC 7030 §3.5).
        #[serde(default)]
        pop_required: bool,
    },
    /// SCEP for Intune-managed devices: Intune checks each request's one-time
    /// challenge (the SCEP edge asks it through the Entra ID application), is told
    /// the outcome, and asks for the certificates of retired devices to be revoked.
    /// Served under `/scep/<name>`, in the one name space of SCEP endpoints.
    Intune {
        /// The Entra ID application the gateway authenticates as.
        application: IntuneApplication,
    },
    /// REST submissions by API clients.
    Rest,
}

impl EndpointKind {
    /// The kind's name.
    pub fn name(&self) -> &'static str {
        match self {
            EndpointKind::Acme { .. } => "acme",
            EndpointKind::Scep { .. } => "scep",
            EndpointKind::Est { .. } => "est",
            EndpointKind::Intune { .. } => "intune",
            EndpointKind::Rest => "rest",
        }
    }

    /// The protocol whose URLs serve the endpoint: an Intune endpoint speaks SCEP.
    pub fn protocol(&self) -> &'static str {
        protocol_of(self.name())
    }
}

/// The protocol (and URL name space) of an endpoint kind's name: `intune` is SCEP.
pub fn protocol_of(kind: &str) -> &str {
    match kind {
        "intune" => "scep",
        other => other,
    }
}

/// An enrollment endpoint: a protocol credential bound to an owner, a profile and an approval mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Its name, unique (used in URLs, e.g. /acme/<name>/directory).
    pub name: String,
    /// Protocol and credential.
    pub kind: EndpointKind,
    /// The owning organization.
    pub org: OrgId,
    /// The owning department, if any.
    pub dept: Option<DeptId>,
    /// The certificate profile.
    pub profile: String,
    /// Default term in days (else the profile's).
    pub default_term_days: Option<u32>,
    /// Auto-approve or queue.
    pub approval: ApprovalMode,
    /// An inactive endpoint refuses requests.
    pub active: bool,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for Endpoint {
    // 2: the `intune` kind (an older build must not misread it).
    const SCHEMA_VERSION: u16 = 2;
}

/// Where an object sits: the organization and, optionally, the department. Authorization checks scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The organization.
    pub org: OrgId,
    /// The department, if the object belongs to one.
    pub dept: Option<DeptId>,
}
