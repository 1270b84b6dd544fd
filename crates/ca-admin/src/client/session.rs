//! The CLI's login session: server URL, the CA certificate it trusts, and the bearer token.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What `ca-admin login` remembers.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Session {
    /// The gateway's HTTPS base URL.
    pub server: String,
    /// The CA certificate (PEM file) trusted for it.
    pub ca_cert: PathBuf,
    /// The bearer token.
    pub token: String,
}

/// Where the session lives: $CERTWRIGHT_SESSION, else $XDG_CONFIG_HOME or ~/.config, /certwright/session.json.
pub fn path() -> PathBuf {
    if let Ok(p) = std::env::var("CERTWRIGHT_SESSION") {
        return PathBuf::from(p);
    }
    let base = std::env::var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|_| PathBuf::from("."));
    base.join("certwright").join("session.json")
}

/// Loads the saved session, if any.
pub fn load() -> Option<Session> {
    let text = std::fs::read_to_string(path()).ok()?;
    serde_json::from_str(&text).ok()
}

/// Saves the session, readable by the owner only (it holds a bearer token).
pub fn save(session: &Session) -> Result<PathBuf, String> {
    use std::io::Write;
    let path = path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(
        serde_json::to_string_pretty(session)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The root CA certificate of a local data directory, for a CLI on the gateway's own machine.
pub fn local_root_certificate(data_dir: &Path) -> Option<PathBuf> {
    let directory = ca_core::authority::CaDirectory::new(data_dir);
    for id in directory.ids().ok()? {
        let meta = directory.metadata(&id).ok()?;
        if meta.role == ca_core::authority::CaRole::Root {
            let path = data_dir.join("cas").join(&id).join("certificate.pem");
            if path.is_file() {
                return std::path::absolute(&path).ok();
            }
        }
    }
    None
}
