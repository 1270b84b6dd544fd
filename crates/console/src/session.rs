//! Console sessions: a random token in a `Secure; HttpOnly; SameSite=Strict`
//! cookie, held in memory with the administrator it stands for and the CSRF
//! token every form of the session carries. A session ends after
//! [`IDLE_TIMEOUT`] without a request, [`MAX_AGE`] after it began, at logout,
//! or when the administrator is deactivated (re-read on every request).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use policy::model::AdminId;

/// A session without a request for this long is over.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// No session lives longer than this.
pub const MAX_AGE: Duration = Duration::from_secs(8 * 60 * 60);
/// The session cookie's name.
pub const COOKIE: &str = "cw_console";
/// The cookie of the login form's CSRF token (before there is a session).
pub const LOGIN_COOKIE: &str = "cw_login";
/// The most sessions held at once (the oldest go first beyond it).
const MAX_SESSIONS: usize = 10_000;

/// A random URL-safe token of 32 bytes.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system CSPRNG is available");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two tokens in constant time.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// One signed-in administrator.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub admin: AdminId,
    /// The token every form of this session must carry.
    pub csrf: String,
    /// For a session begun with a password (not by single sign-on), the password hash it
    /// was checked against: the session ends once that password is changed or the
    /// administrator's password login is turned off.
    pub password_hash: Option<String>,
    began: Instant,
    seen: Instant,
}

/// Every live session.
#[derive(Debug, Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session signed in with a password (whose hash it keeps); returns its
    /// cookie token.
    pub fn begin(&self, admin: AdminId, password_hash: &str) -> String {
        self.start(admin, Some(password_hash.to_string()))
    }

    /// Starts a session signed in by single sign-on; returns its cookie token.
    pub fn begin_sso(&self, admin: AdminId) -> String {
        self.start(admin, None)
    }

    fn start(&self, admin: AdminId, password_hash: Option<String>) -> String {
        let token = random_token();
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_SESSIONS {
            table.retain(|_, s| s.alive(now));
            if table.len() >= MAX_SESSIONS {
                if let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, s)| s.seen)
                    .map(|(k, _)| k.clone())
                {
                    table.remove(&oldest);
                }
            }
        }
        table.insert(
            token.clone(),
            Session {
                admin,
                csrf: random_token(),
                password_hash,
                began: now,
                seen: now,
            },
        );
        token
    }

    /// The live session of a cookie token (and marks it used), if any.
    pub fn get(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let alive = table.get(token).is_some_and(|s| s.alive(now));
        if !alive {
            table.remove(token);
            return None;
        }
        let session = table.get_mut(token)?;
        session.seen = now;
        Some(session.clone())
    }

    /// Ends a session.
    pub fn end(&self, token: &str) {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }
}

impl Session {
    fn alive(&self, now: Instant) -> bool {
        now.duration_since(self.seen) < IDLE_TIMEOUT && now.duration_since(self.began) < MAX_AGE
    }
}

/// Every `cookie` field of a request as one `a=b; c=d` string: HTTP/1.1 sends one,
/// HTTP/2 may send one per cookie.
pub fn cookie_header(headers: &http::HeaderMap) -> Option<String> {
    let fields: Vec<&str> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!fields.is_empty()).then(|| fields.join("; "))
}

/// The value of a cookie in a `Cookie` header.
pub fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// A `Set-Cookie` value for the console's path, `Secure; HttpOnly; SameSite=Strict`.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>) -> String {
    let age = max_age
        .map(|d| format!("; Max-Age={}", d.as_secs()))
        .unwrap_or_default();
    format!("{name}={value}; Path=/console/; Secure; HttpOnly; SameSite=Strict{age}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_begin_resolve_and_end() {
        let sessions = Sessions::default();
        let token = sessions.begin(AdminId(7), "$argon2id$test");
        let s = sessions.get(&token).expect("alive");
        assert_eq!(s.admin, AdminId(7));
        assert_ne!(s.csrf, token);
        assert!(sessions.get("nope").is_none());
        sessions.end(&token);
        assert!(sessions.get(&token).is_none());
    }

    #[test]
    fn cookies_are_found_and_set_strictly() {
        assert_eq!(
            cookie(Some("a=1; cw_console=xyz; b=2"), COOKIE),
            Some("xyz")
        );
        assert_eq!(cookie(Some("a=1"), COOKIE), None);
        let mut h2 = http::HeaderMap::new();
        h2.append(http::header::COOKIE, "cw_login=abc".parse().unwrap());
        h2.append(http::header::COOKIE, "cw_console=xyz".parse().unwrap());
        assert_eq!(
            cookie(cookie_header(&h2).as_deref(), COOKIE),
            Some("xyz"),
            "HTTP/2 sends a field per cookie"
        );
        let set = set_cookie(COOKIE, "v", None);
        for part in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/console/"] {
            assert!(set.contains(part), "{set}");
        }
    }
}
