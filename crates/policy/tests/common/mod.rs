//! Shared set-up for the registration authority's integration tests: a data
//! directory with a root and an issuing CA, the CA service over it, the RA,
//! and a bootstrapped MRAO; plus CSR and certificate makers.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use ca_core::authority::{CaDirectory, CaSubject, NewCa, PublicationUrls};
use ca_core::keys::{KeyAlgorithm, KeyProtection, SignatureHash};
use ca_core::service::{CaService, CaServiceConfig};
use policy::model::{
    Address, Administrator, ApprovalMode, DeptId, Endpoint, OrgId, Privileges, Role,
};
use policy::registry::{NewEndpoint, RaError, RegistrationAuthority, Submission};
use policy::request::Channel;

/// The password given to every administrator the tests create (at least 12 characters).
pub const PASSWORD: &str = "correct horse battery staple";

/// The root CA's id.
pub const ROOT_ID: &str = "root";
/// The issuing CA's id (the default issuer).
pub const ISSUING_ID: &str = "issuing";
/// A CA whose private key is not held here: profiles it signs for are rejected by the CA.
pub const OFFLINE_ID: &str = "offline";
/// A TLS-server profile issued by [`OFFLINE_ID`] (only with [`Options::offline_profile`]).
pub const OFFLINE_PROFILE: &str = "tls-offline";

/// What to set up besides the default hierarchy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Add a second issuing CA without its key and a profile `tls-offline` that it
    /// issues: every approval of such a request ends Rejected (the CA cannot sign).
    pub offline_profile: bool,
}

/// One test's world: a temporary data directory, the RA over it, the first MRAO.
pub struct Env {
    /// The RA.
    pub ra: RegistrationAuthority,
    /// The bootstrapped MRAO, as login returns it.
    pub mrao: Administrator,
    /// Its generated password.
    pub mrao_password: String,
    /// The data directory (kept last so it is removed after the RA is dropped).
    pub dir: tempfile::TempDir,
}

fn spec(id: &str, subject: CaSubject, days: u32, path_len: Option<u8>) -> NewCa {
    NewCa {
        id: id.to_string(),
        subject,
        key_algorithm: KeyAlgorithm::EcP256,
        hash: SignatureHash::Sha256,
        validity_days: days,
        path_len,
        permitted_dns: Vec::new(),
        excluded_dns: Vec::new(),
    }
}

/// Creates the CA hierarchy of a test data directory.
pub fn create_hierarchy(dir: &Path, options: Options) {
    let directory = CaDirectory::new(dir);
    let protection = KeyProtection::InsecurePlaintext;
    let urls = PublicationUrls::new("http://127.0.0.1:8080");
    directory
        .create_root(
            &spec(ROOT_ID, CaSubject::root_for("Certwright Test"), 3650, None),
            &protection,
        )
        .expect("create the root CA");
    directory
        .create_subordinate(
            &spec(
                ISSUING_ID,
                CaSubject::issuing_for("Certwright Test"),
                1825,
                Some(0),
            ),
            ROOT_ID,
            &protection,
            Some(&urls),
        )
        .expect("create the issuing CA");
    if options.offline_profile {
        let mut subject = CaSubject::issuing_for("Certwright Test");
        subject.common_name = "Certwright Test Offline CA".into();
        directory
            .create_subordinate(
                &spec(OFFLINE_ID, subject, 1825, Some(0)),
                ROOT_ID,
                &protection,
                Some(&urls),
            )
            .expect("create the offline CA");
        std::fs::remove_file(dir.join("cas").join(OFFLINE_ID).join("key.pem"))
            .expect("remove the offline CA's key");
        let profiles = format!(
            "{}\n\n[[profile]]\nname = \"{OFFLINE_PROFILE}\"\n\
             description = \"TLS server certificates from a CA whose key is offline.\"\n\
             certificate_type = \"tls-server\"\nissuer = \"{OFFLINE_ID}\"\n\
             key_types = [\"ec-p256\"]\nterms_days = [90]\ndefault_term_days = 90\n\
             key_usage = [\"digital-signature\"]\nextended_key_usage = [\"server-auth\"]\n\
             san_types = [\"dns\"]\nmax_sans = 10\n",
            ca_core::profile::DEFAULT_PROFILES_TOML
        );
        std::fs::write(dir.join(ca_core::service::PROFILES_FILE), profiles)
            .expect("write profiles.toml");
    }
}

/// Opens the CA service and the RA over a data directory.
pub fn open_ra(dir: &Path) -> RegistrationAuthority {
    let config = CaServiceConfig::new(
        dir,
        "http://127.0.0.1:8080",
        KeyProtection::InsecurePlaintext,
    );
    let service = CaService::open(&config).expect("open the CA service");
    RegistrationAuthority::open(Arc::new(service), dir).expect("open the RA")
}

/// A fresh world with the default hierarchy.
pub fn setup() -> Env {
    setup_with(Options::default())
}

/// A fresh world.
pub fn setup_with(options: Options) -> Env {
    let dir = tempfile::tempdir().expect("temporary directory");
    create_hierarchy(dir.path(), options);
    let ra = open_ra(dir.path());
    let password = ra
        .bootstrap_mrao("root-admin")
        .expect("bootstrap")
        .expect("no administrator yet, so a password");
    let (_token, mrao) = ra.login("root-admin", &password).expect("MRAO login");
    assert_eq!(mrao.role, Role::Mrao);
    Env {
        ra,
        mrao,
        mrao_password: password.to_string(),
        dir,
    }
}

/// A fresh P-256 key.
pub fn key() -> rcgen::KeyPair {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 key")
}

/// A DER CSR asking for `names` (DNS names, or IP addresses in text form), with a fresh key.
pub fn csr(names: &[&str]) -> Vec<u8> {
    csr_with_key(names, &key())
}

/// A DER CSR asking for `names`, signed by `key`.
pub fn csr_with_key(names: &[&str], key: &rcgen::KeyPair) -> Vec<u8> {
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("CSR parameters");
    params.serialize_request(key).expect("CSR").der().to_vec()
}

/// A self-signed certificate (DER) made elsewhere, for imports.
pub fn external_certificate(names: &[&str]) -> Vec<u8> {
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("certificate parameters");
    params
        .self_signed(&key())
        .expect("self-signed certificate")
        .der()
        .to_vec()
}

/// A submission of `csr` under `profile` for (org, dept), through the REST channel.
pub fn submission(csr: Vec<u8>, profile: &str, org: OrgId, dept: Option<DeptId>) -> Submission {
    Submission {
        csr,
        profile: profile.to_string(),
        org,
        dept,
        term_days: None,
        names: None,
        channel: Channel::Rest,
        renewal_of: None,
        replaces: false,
        annotations: Default::default(),
    }
}

/// Creates an organization as the MRAO.
pub fn org(env: &Env, name: &str) -> OrgId {
    env.ra
        .create_organization(&env.mrao, name, Address::default())
        .expect("create organization")
        .id
}

/// Creates a department as the MRAO.
pub fn dept(env: &Env, org: OrgId, name: &str) -> DeptId {
    env.ra
        .create_department(&env.mrao, org, name)
        .expect("create department")
        .id
}

/// Delegates a domain as the MRAO (the only one who may give an organization a name).
/// To a department, the name must lie inside a domain already delegated to its
/// organization; and no name may overlap another organization's.
pub fn delegate(env: &Env, name: &str, org: OrgId, dept: Option<DeptId>) {
    env.ra
        .delegate_domain(&env.mrao, name, org, dept)
        .expect("delegate domain");
}

/// Creates an administrator as the MRAO and logs them in; returns the logged-in record and token.
pub fn admin(
    env: &Env,
    username: &str,
    role: Role,
    privileges: Privileges,
) -> (Administrator, String) {
    env.ra
        .create_admin(&env.mrao, username, PASSWORD, role, privileges)
        .expect("create administrator");
    let (token, admin) = env.ra.login(username, PASSWORD).expect("login");
    (admin, token.to_string())
}

/// A REST endpoint for (org, dept) and `profile`, as the MRAO (who holds `manage` and
/// `approve` on every class, so may create auto-approving endpoints too).
pub fn rest_endpoint(
    env: &Env,
    name: &str,
    org: OrgId,
    dept: Option<DeptId>,
    profile: &str,
    approval: ApprovalMode,
) -> Endpoint {
    env.ra
        .create_endpoint(&env.mrao, new_endpoint(name, org, dept, profile, approval))
        .expect("create endpoint")
        .0
}

/// The description of a new REST endpoint.
pub fn new_endpoint(
    name: &str,
    org: OrgId,
    dept: Option<DeptId>,
    profile: &str,
    approval: ApprovalMode,
) -> NewEndpoint {
    NewEndpoint {
        name: name.to_string(),
        kind: "rest".into(),
        org,
        dept,
        profile: profile.to_string(),
        default_term_days: None,
        approval,
        eab_required: false,
        est_username: None,
        intune: None,
    }
}

/// A short description of an RA result, for assertion messages.
pub fn describe<T: std::fmt::Debug>(result: &Result<T, RaError>) -> String {
    match result {
        Ok(v) => {
            let text = format!("{v:?}");
            let short: String = text.chars().take(160).collect();
            format!("Ok({short}…)")
        }
        Err(e) => format!("Err({} / {e})", e.code()),
    }
}
