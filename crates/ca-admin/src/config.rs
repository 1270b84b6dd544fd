//! The gateway's configuration file (`certwright.toml`).
//!
//! `ca-admin init` and the demo start write one into the data directory;
//! `ca-admin serve` reads `--config FILE`, or `<data-dir>/certwright.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The name of the configuration file inside a data directory.
pub const CONFIG_FILE: &str = "certwright.toml";

/// The whole configuration.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The data directory; relative paths are relative to the configuration file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// HTTP listener settings.
    #[serde(default)]
    pub http: HttpConfig,
    /// CA key protection.
    #[serde(default)]
    pub keys: KeysConfig,
    /// CA behaviour.
    #[serde(default)]
    pub ca: CaConfig,
    /// HTTPS listener settings (the REST API and the same public routes as HTTP).
    #[serde(default)]
    pub https: HttpsConfig,
    /// The ACME server (validation, rate limits, nonces).
    #[serde(default)]
    pub acme: acme_server::config::AcmeConfig,
    /// Intune endpoints: how often Intune is asked for revocations.
    #[serde(default)]
    pub intune: IntuneConfig,
    /// The certificate manager's compatible REST API (`/api/ssl/v1/...`).
    #[serde(default)]
    pub scm_api: ScmApiConfig,
}

/// The certificate manager's compatible REST API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScmApiConfig {
    /// Whether it is served (under `/api/` and `/private/api/`, over HTTPS only).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The customer URI that connectors send in their `customerUri` header (the tenant
    /// slug of the old manager's portal URL, `https://<host>/customer/<uri>`).
    #[serde(default = "default_customer_uri")]
    pub customer_uri: String,
}

impl Default for ScmApiConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            customer_uri: default_customer_uri(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_customer_uri() -> String {
    "demo".to_string()
}

/// What Intune endpoints share (each endpoint holds its own application and cloud).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntuneConfig {
    /// Seconds between two polls of Intune for revocation requests (at least 1).
    #[serde(default = "default_intune_poll_seconds")]
    pub revocation_poll_seconds: u64,
    /// Seconds each call to Entra ID, Graph or Intune may take.
    #[serde(default = "default_intune_timeout_seconds")]
    pub timeout_seconds: u64,
}

impl Default for IntuneConfig {
    fn default() -> Self {
        Self {
            revocation_poll_seconds: default_intune_poll_seconds(),
            timeout_seconds: default_intune_timeout_seconds(),
        }
    }
}

fn default_intune_poll_seconds() -> u64 {
    300
}
fn default_intune_timeout_seconds() -> u64 {
    10
}

/// The plain-HTTP listener (CA certificates, CRLs, OCSP, health, metrics).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The base URL put into certificates (CRL distribution point, AIA).
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

/// The HTTPS listener: the REST API under `/api/`, and the same public routes as HTTP.
///
/// Its server certificate is issued at every start from the gateway's own
/// issuing CA (through the named profile, recorded like any certificate) for
/// a key that exists only in memory, and is renewed in place before it expires.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HttpsConfig {
    /// Whether to run the HTTPS listener at all.
    #[serde(default = "default_https_enabled")]
    pub enabled: bool,
    /// Address to listen on.
    #[serde(default = "default_https_listen")]
    pub listen: SocketAddr,
    /// DNS names and IP addresses the server certificate covers.
    #[serde(default = "default_https_names")]
    pub names: Vec<String>,
    /// The certificate profile the server certificate is issued under.
    #[serde(default = "default_https_profile")]
    pub profile: String,
    /// The URL clients reach this listener at when it is not the bound address, e.g.
    /// `https://pki.example.com` behind a load balancer on port 443: the ACME
    /// directory's links, the REST API's and the SAML entity id and ACS URL are made
    /// from it. Without it, the bound address (for a wildcard bind, the first of
    /// `names` with the bound port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// How CA private keys are protected at rest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// A file whose first line is the passphrase (else the CERTWRIGHT_CA_PASSPHRASE environment variable).
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// Keys stored unencrypted. For demos and tests only.
    #[serde(default)]
    pub insecure_plaintext_keys: bool,
}

/// CA behaviour.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    /// The issuing CA for profiles that name none (needed when there are several).
    #[serde(default)]
    pub default_issuer: Option<String>,
    /// How long a CRL is valid, in hours; CRLs are re-signed at half that.
    #[serde(default = "default_crl_hours")]
    pub crl_validity_hours: u32,
    /// How long an OCSP response is valid, in hours.
    #[serde(default = "default_ocsp_hours")]
    pub ocsp_validity_hours: u32,
    /// Who signs OCSP responses: "ca" (the CA's key) or "delegated" (a short-lived
    /// OCSP-signing certificate per CA, profile `ocsp-signing`).
    #[serde(default)]
    pub ocsp_signer: ca_core::service::OcspSigner,
    /// How many signed OCSP responses (one CertID, no nonce) are kept in memory and
    /// served until half their validity; 0 disables the cache.
    #[serde(default = "default_ocsp_cache_entries")]
    pub ocsp_cache_entries: usize,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from(".")
}
fn default_listen() -> SocketAddr {
    "127.0.0.1:8080".parse().expect("valid address")
}
fn default_base_url() -> String {
    "http://127.0.0.1:8080".to_string()
}
fn default_https_enabled() -> bool {
    true
}
fn default_https_listen() -> SocketAddr {
    "127.0.0.1:8443".parse().expect("valid address")
}
fn default_https_names() -> Vec<String> {
    vec!["localhost".to_string(), "127.0.0.1".to_string()]
}
/// A public base URL: `https://host[:port]`, without a path, query or credentials (the
/// gateway's paths are appended to it).
fn check_public_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("'{url}' must start with https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "'{url}' must be https://host or https://host:port, without a path, query or user"
        ));
    }
    Ok(())
}

fn default_https_profile() -> String {
    "tls-server".to_string()
}
fn default_crl_hours() -> u32 {
    168
}
fn default_ocsp_hours() -> u32 {
    24
}
fn default_ocsp_cache_entries() -> usize {
    ca_core::ocsp_cache::DEFAULT_CAPACITY
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            base_url: default_base_url(),
        }
    }
}

impl Default for HttpsConfig {
    fn default() -> Self {
        Self {
            enabled: default_https_enabled(),
            listen: default_https_listen(),
            names: default_https_names(),
            profile: default_https_profile(),
            public_url: None,
        }
    }
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            default_issuer: None,
            crl_validity_hours: default_crl_hours(),
            ocsp_validity_hours: default_ocsp_hours(),
            ocsp_signer: Default::default(),
            ocsp_cache_entries: default_ocsp_cache_entries(),
        }
    }
}

impl GatewayConfig {
    /// A configuration for a data directory, with defaults.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            http: HttpConfig::default(),
            keys: KeysConfig::default(),
            ca: CaConfig::default(),
            https: HttpsConfig::default(),
            acme: Default::default(),
            intune: IntuneConfig::default(),
            scm_api: ScmApiConfig::default(),
        }
    }

    /// Reads and checks a configuration file; a relative data_dir is taken relative to the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut config: GatewayConfig =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if config.data_dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            config.data_dir = base.join(&config.data_dir);
        }
        if config.ca.crl_validity_hours < 2 || config.ca.ocsp_validity_hours == 0 {
            return Err(format!(
                "{}: crl_validity_hours must be at least 2 and ocsp_validity_hours at least 1",
                path.display()
            ));
        }
        if !(config.http.base_url.starts_with("http://")
            || config.http.base_url.starts_with("https://"))
        {
            return Err(format!(
                "{}: http.base_url must start with http:// or https://",
                path.display()
            ));
        }
        if let Some(url) = &mut config.https.public_url {
            // `https://pki.example.com/` means the same as without the slash.
            while url.ends_with('/') {
                url.pop();
            }
            check_public_url(url)
                .map_err(|e| format!("{}: https.public_url {e}", path.display()))?;
        }
        if config.https.enabled && config.https.names.iter().all(|n| n.trim().is_empty()) {
            return Err(format!(
                "{}: https.names must name at least one DNS name or IP address (or set https.enabled = false)",
                path.display()
            ));
        }
        Ok(config)
    }

    /// Writes the configuration into its data directory as `certwright.toml` (data_dir = ".").
    pub fn write_into_data_dir(&self) -> Result<PathBuf, String> {
        let mut relative = self.clone();
        relative.data_dir = PathBuf::from(".");
        let text = toml::to_string_pretty(&relative).map_err(|e| e.to_string())?;
        let path = self.data_dir.join(CONFIG_FILE);
        std::fs::write(
            &path,
            format!("# Certwright gateway configuration.\n{text}"),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<GatewayConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, text).unwrap();
        GatewayConfig::load(&path)
    }

    #[test]
    fn a_file_without_https_gets_the_defaults() {
        // Files written before the HTTPS listener existed must keep loading.
        let config = load_text("data_dir = \".\"\n[http]\nlisten = \"127.0.0.1:8080\"\n").unwrap();
        assert_eq!(config.https, HttpsConfig::default());
        assert!(config.https.enabled);
        assert_eq!(config.https.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(config.https.names, ["localhost", "127.0.0.1"]);
        assert_eq!(config.https.profile, "tls-server");
    }

    #[test]
    fn https_settings_are_read_and_checked() {
        let config = load_text(
            "[https]\nlisten = \"0.0.0.0:9443\"\nnames = [\"pki.example.com\"]\nprofile = \"web\"\nenabled = false\n",
        )
        .unwrap();
        assert!(!config.https.enabled);
        assert_eq!(config.https.listen.to_string(), "0.0.0.0:9443");
        assert_eq!(config.https.names, ["pki.example.com"]);
        assert_eq!(config.https.profile, "web");
        assert!(load_text("[https]\nlisten_on = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .contains("unknown field"));
        assert!(load_text("[https]\nnames = []\n")
            .unwrap_err()
            .contains("https.names"));
        assert!(load_text("[https]\nnames = []\nenabled = false\n").is_ok());
        let public = load_text("[https]\npublic_url = \"https://pki.example.com/\"\n").unwrap();
        assert_eq!(
            public.https.public_url.as_deref(),
            Some("https://pki.example.com")
        );
        for bad in [
            "http://pki.example.com",
            "https://pki.example.com/acme",
            "https://user@pki.example.com",
            "https://",
        ] {
            let error = load_text(&format!("[https]\npublic_url = \"{bad}\"\n")).unwrap_err();
            assert!(error.contains("https.public_url"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_ocsp_cache_size_is_read_and_defaults_to_100000() {
        assert_eq!(load_text("").unwrap().ca.ocsp_cache_entries, 100_000);
        let off = load_text("[ca]\nocsp_cache_entries = 0\n").unwrap();
        assert_eq!(off.ca.ocsp_cache_entries, 0);
    }

    #[test]
    fn a_written_configuration_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = GatewayConfig::for_data_dir(dir.path());
        let path = config.write_into_data_dir().unwrap();
        let back = GatewayConfig::load(&path).unwrap();
        assert_eq!(back.https, config.https);
    }
}
