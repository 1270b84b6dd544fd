//! Secrets: administrator passwords (Argon2id), API keys (random, stored as
//! SHA-256, compared in constant time), short-lived session tokens, and a
//! secret box (AES-256-GCM) for the secrets that must be recovered later
//! (ACME EAB HMAC keys).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use zeroize::Zeroizing;

use crate::model::AdminId;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Random bytes from the system CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).expect("the system CSPRNG is available");
    out
}

/// A random URL-safe token of `N` bytes.
pub fn random_token<const N: usize>() -> String {
    B64.encode(random_bytes::<N>())
}

/// Hashes a password with Argon2id (RFC 9106 defaults of the argon2 crate: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters does not fail")
        .to_string()
}

/// Checks a password against its Argon2 hash (the comparison is constant-time).
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to check passwords against when the user does not exist, so the
/// time taken does not tell whether a username exists.
pub fn decoy_password_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that nobody has"))
}

/// Password rules for administrators: at least 12 characters, at most 1024 bytes,
/// and not built around the username (the first guess of anyone who knows it).
pub fn check_password_strength(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("a password must be at least 12 characters".into());
    }
    if password.len() > 1024 {
        return Err("a password must be at most 1024 bytes".into());
    }
    let folded = password.to_lowercase();
    let name = username.to_lowercase();
    if !name.is_empty() && (folded.contains(&name) || name.contains(&folded)) {
        return Err("a password must not contain the username".into());
    }
    if folded
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        < 4
    {
        return Err("a password must use at least 4 different characters".into());
    }
    Ok(())
}

/// SHA-256 of a secret, hex.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref())
}

/// Constant-time equality of two hex digests.
pub fn digests_equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// A new API key: `cw_<id>_<secret>`; the id finds the record, the secret's hash is compared.
pub struct NewApiKey {
    /// The id part (stored in clear, shown in listings).
    pub id: String,
    /// The whole key, shown once.
    pub key: Zeroizing<String>,
    /// SHA-256 of the whole key, stored.
    pub hash: String,
}

/// Makes a new API key.
pub fn new_api_key() -> NewApiKey {
    let id = hex::encode(random_bytes::<6>());
    let key = Zeroizing::new(format!("cw_{id}_{}", random_token::<32>()));
    let hash = sha256_hex(&key);
    NewApiKey { id, key, hash }
}

/// The id part of an API key, if it has the right shape.
pub fn api_key_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("cw_")?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && !secret.is_empty()).then_some(id)
}

/// Short-lived bearer tokens handed out by login, kept in memory (a restart logs everyone out).
#[derive(Debug, Default)]
pub struct SessionTokens {
    tokens: Mutex<HashMap<String, (AdminId, i64)>>,
}

impl SessionTokens {
    /// Issues a token valid for `ttl_seconds`.
    pub fn issue(&self, admin: AdminId, now: i64, ttl_seconds: i64) -> Zeroizing<String> {
        let token = Zeroizing::new(format!("cws_{}", random_token::<32>()));
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.retain(|_, (_, expires)| *expires > now);
        tokens.insert(sha256_hex(&token), (admin, now + ttl_seconds));
        token
    }

    /// The administrator a live token belongs to. Tokens are stored as their
    /// SHA-256: a map look-up on a hash leaks nothing useful about the token.
    pub fn resolve(&self, token: &str, now: i64) -> Option<AdminId> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match tokens.get(&sha256_hex(token)) {
            Some((admin, expires)) if *expires > now => Some(*admin),
            _ => None,
        }
    }

    /// Drops every token of an administrator (deactivation, password change).
    pub fn revoke_all(&self, admin: AdminId) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (a, _)| *a != admin);
    }
}

/// AES-256-GCM under a key file of the data directory, for secrets the gateway must read back.
pub struct SecretBox {
    key: aws_lc_rs::aead::LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox([redacted])")
    }
}

impl SecretBox {
    /// Opens `<data_dir>/secrets.key`, creating it (owner-only) on first use.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join("secrets.key");
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::io::Write;
                let fresh = Zeroizing::new(random_bytes::<32>().to_vec());
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(&path)?;
                file.write_all(&fresh)?;
                file.sync_all()?;
                fresh
            }
            Err(e) => return Err(e),
        };
        if bytes.len() != 32 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "secrets.key must hold 32 bytes",
            ));
        }
        let unbound = aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &bytes)
            .map_err(|_| std::io::Error::other("AES key"))?;
        Ok(Self {
            key: aws_lc_rs::aead::LessSafeKey::new(unbound),
        })
    }

    /// Encrypts: a random 96-bit nonce followed by the ciphertext and tag.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes::<12>();
        let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce_bytes);
        let mut data = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(nonce, aws_lc_rs::aead::Aad::empty(), &mut data)
            .expect("AES-GCM sealing does not fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        out
    }

    /// Decrypts what [`SecretBox::seal`] made; `None` if it was altered or sealed under another key.
    pub fn open_sealed(&self, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < 12 + 16 {
            return None;
        }
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(&sealed[..12]).ok()?;
        let mut data = sealed[12..].to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aws_lc_rs::aead::Aad::empty(), &mut data)
            .ok()?;
        Some(Zeroizing::new(plain.to_vec()))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn passwords_are_long_varied_and_not_the_username() {
        assert!(check_password_strength("correct horse battery", "alice").is_ok());
        assert!(check_password_strength("short", "alice").is_err());
        assert!(check_password_strength("xxAlice-2026-xx", "alice").is_err());
        assert!(check_password_strength("aaaaaaaaaaaaaaaa", "bob").is_err());
        assert!(check_password_strength("ababababcdcdcd", "bob").is_ok());
    }

    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterx"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn api_keys_have_an_id_and_a_hash() {
        let key = new_api_key();
        assert_eq!(api_key_id(&key.key), Some(key.id.as_str()));
        assert!(digests_equal(&sha256_hex(&key.key), &key.hash));
        assert_eq!(api_key_id("cw_short_x"), None);
    }

    #[test]
    fn session_tokens_expire_and_are_revocable() {
        let tokens = SessionTokens::default();
        let t = tokens.issue(AdminId(1), 100, 60);
        assert_eq!(tokens.resolve(&t, 120), Some(AdminId(1)));
        assert_eq!(tokens.resolve(&t, 161), None);
        let t = tokens.issue(AdminId(1), 200, 60);
        tokens.revoke_all(AdminId(1));
        assert_eq!(tokens.resolve(&t, 201), None);
        assert_eq!(tokens.resolve("forged", 201), None);
    }

    #[test]
    fn the_secret_box_round_trips_and_detects_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = SecretBox::open(dir.path()).unwrap().seal(b"hmac key");
        let reopened = SecretBox::open(dir.path()).unwrap();
        assert_eq!(&reopened.open_sealed(&sealed).unwrap()[..], b"hmac key");
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(reopened.open_sealed(&tampered).is_none());
    }
}
