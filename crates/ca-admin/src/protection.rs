//! Resolving how CA keys are protected: a passphrase from a file or the
//! environment, or the explicit insecure plaintext setting.

use std::path::Path;

use ca_core::keys::KeyProtection;
use zeroize::Zeroizing;

/// The environment variable that can hold the CA key passphrase.
pub const PASSPHRASE_ENV: &str = "CERTWRIGHT_CA_PASSPHRASE";

/// The protection to use, from (in order) a passphrase file, the environment,
/// or the insecure flag. No source is an error that says what to do.
pub fn resolve(
    passphrase_file: Option<&Path>,
    insecure_plaintext: bool,
) -> Result<KeyProtection, String> {
    if let Some(path) = passphrase_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        );
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        return passphrase(line);
    }
    if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        let value = Zeroizing::new(value);
        return passphrase(&value);
    }
    if insecure_plaintext {
        return Ok(KeyProtection::InsecurePlaintext);
    }
    Err(format!(
        "CA keys must be protected: give --passphrase-file FILE or set {PASSPHRASE_ENV} \
         (or, for a throw-away test CA only, --insecure-plaintext-keys)"
    ))
}

fn passphrase(text: &str) -> Result<KeyProtection, String> {
    if text.chars().count() < 12 {
        return Err("the CA key passphrase must be at least 12 characters".into());
    }
    Ok(KeyProtection::Passphrase(Zeroizing::new(text.to_string())))
}

/// The warning printed whenever plaintext keys are in use.
pub const PLAINTEXT_WARNING: &str = "\
WARNING: CA private keys are stored UNENCRYPTED (insecure_plaintext_keys = true).\n\
WARNING: This is a demo setup. Anyone who can read the data directory can issue certificates.\n\
WARNING: For real use run `ca-admin init` with --passphrase-file or CERTWRIGHT_CA_PASSPHRASE.";
