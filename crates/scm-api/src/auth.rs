//! Who is calling: the `login`, `password` and `customerUri` headers of a
//! Certwright administrator (header names are case-insensitive).
//!
//! Connectors send the password with every request, and an Argon2id check
//! costs tens of milliseconds; a verified (login, password digest) is kept for
//! a minute, compared in constant time, and the administrator is re-read on
//! every request so that a deactivation takes effect at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::{constant_time, digest};
use http::HeaderMap;
use policy::model::{AdminId, Administrator};
use policy::registry::RegistrationAuthority;

use crate::error::ScmError;

/// How long a verified password is remembered.
const REMEMBERED_FOR: Duration = Duration::from_secs(60);
/// The most remembered logins (older ones are forgotten first).
const MAX_REMEMBERED: usize = 1024;
/// The longest header value looked at.
const MAX_HEADER_CHARS: usize = 256;

/// The credentials of one request.
#[derive(Debug)]
pub struct Credentials {
    /// The administrator's username.
    pub login: String,
    /// The password (absent on `/private/api`, where a client certificate stands for it).
    pub password: Option<String>,
    /// The tenant slug.
    pub customer_uri: String,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    (!value.is_empty() && value.len() <= MAX_HEADER_CHARS).then(|| value.to_string())
}

impl Credentials {
    /// Reads the headers; a missing one is the reference's 401.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ScmError> {
        Ok(Self {
            login: header(headers, "login").ok_or_else(ScmError::unknown_user)?,
            password: header(headers, "password"),
            customer_uri: header(headers, "customeruri").ok_or_else(ScmError::unknown_user)?,
        })
    }
}

/// Verified passwords, remembered briefly.
#[derive(Debug, Default, Clone)]
pub struct CredentialCache {
    entries: Arc<Mutex<HashMap<String, Remembered>>>,
}

#[derive(Debug)]
struct Remembered {
    digest: Vec<u8>,
    admin: AdminId,
    at: Instant,
}

fn password_digest(login: &str, password: &str) -> Vec<u8> {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(login.as_bytes());
    context.update(&[0]);
    context.update(password.as_bytes());
    context.finish().as_ref().to_vec()
}

impl CredentialCache {
    /// The administrator with this login and password: remembered, or checked by the RA.
    pub fn authenticate(
        &self,
        ra: &RegistrationAuthority,
        login: &str,
        password: &str,
        client: Option<std::net::IpAddr>,
    ) -> Result<Administrator, ScmError> {
        let wanted = password_digest(login, password);
        let remembered = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(login).and_then(|r| {
                let fresh = r.at.elapsed() < REMEMBERED_FOR;
                let same = constant_time::verify_slices_are_equal(&r.digest, &wanted).is_ok();
                (fresh && same).then_some(r.admin)
            })
        };
        if let Some(id) = remembered {
            match ra.active_admin(id) {
                Ok(admin) if admin.password_login => return Ok(admin),
                // Password login turned off since: the RA answers, as to a wrong password.
                Ok(_) => {}
                Err(_) => return Err(ScmError::unknown_user()),
            }
        }
        let admin = ra
            .verify_credentials(login, password, client)
            .map_err(|e| match e {
                policy::registry::RaError::TooManyFailures { retry_after } => {
                    ScmError::account_locked(retry_after)
                }
                // The right password from outside the role's allow-list: 403, not "unknown".
                e @ policy::registry::RaError::AddressNotAllowed { .. } => ScmError::from(e),
                _ => ScmError::unknown_user(),
            })?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_REMEMBERED {
            entries.retain(|_, r| r.at.elapsed() < REMEMBERED_FOR);
            if entries.len() >= MAX_REMEMBERED {
                entries.clear();
            }
        }
        entries.insert(
            login.to_string(),
            Remembered {
                digest: wanted,
                admin: admin.id,
                at: Instant::now(),
            },
        );
        Ok(admin)
    }
}

/// Compares the customer URI sent with the configured one, in constant time.
pub fn customer_uri_matches(sent: &str, configured: &str) -> bool {
    constant_time::verify_slices_are_equal(
        sent.to_ascii_lowercase().as_bytes(),
        configured.to_ascii_lowercase().as_bytes(),
    )
    .is_ok()
}
