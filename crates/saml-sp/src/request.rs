//! SP-initiated sign-in: the AuthnRequest (HTTP-Redirect binding) and the requests
//! still waiting for their answer.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{random_id, IdentityProvider, ServiceProvider};

/// How long an AuthnRequest waits for its answer, in seconds.
pub const REQUEST_LIFETIME_SECONDS: i64 = 10 * 60;
/// The most requests waiting at once (the oldest are forgotten beyond it).
const MAX_OUTSTANDING: usize = 10_000;
/// The longest RelayState sent (SAML bindings §3.4.3: at most 80 bytes).
pub const MAX_RELAY_STATE_BYTES: usize = 80;

/// An AuthnRequest ready to send: the browser is redirected to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRedirect {
    /// The request's ID (the answer's InResponseTo).
    pub id: String,
    /// The IdP's SSO URL with `SAMLRequest` (deflated, base64, URL-encoded) and `RelayState`.
    pub url: String,
}

impl ServiceProvider {
    /// An AuthnRequest to `idp` for the HTTP-POST binding to our ACS, with a random
    /// 128-bit ID, sent by the HTTP-Redirect binding with `relay_state` (dropped when
    /// longer than [`MAX_RELAY_STATE_BYTES`]). Not signed (the metadata says so).
    pub fn authn_request(
        &self,
        idp: &IdentityProvider,
        relay_state: &str,
    ) -> Option<AuthnRedirect> {
        let sp = samael::service_provider::ServiceProvider {
            entity_id: Some(self.entity_id().to_string()),
            acs_url: Some(self.acs_url().to_string()),
            ..Default::default()
        };
        let mut request = sp.make_authentication_request(&idp.sso_url).ok()?;
        // samael's own ID has 32 random bits; ours has 128.
        request.id = random_id();
        let relay = if relay_state.len() <= MAX_RELAY_STATE_BYTES {
            relay_state
        } else {
            ""
        };
        let url = request.redirect(relay).ok()??;
        Some(AuthnRedirect {
            id: request.id,
            url: url.to_string(),
        })
    }
}

/// The AuthnRequests sent and not yet answered, each answerable once within
/// [`REQUEST_LIFETIME_SECONDS`]. Held in memory: a restart forgets them, and a
/// sign-in under way then starts again.
#[derive(Debug, Default)]
pub struct OutstandingRequests {
    /// Request ID → unix time it expires.
    table: Mutex<HashMap<String, i64>>,
}

impl OutstandingRequests {
    /// Remembers a request sent at `now` (unix seconds).
    pub fn remember(&self, id: &str, now: i64) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_OUTSTANDING {
            table.retain(|_, expires| *expires > now);
            while table.len() >= MAX_OUTSTANDING {
                let Some(oldest) = table
                    .iter()
                    .min_by_key(|(_, e)| **e)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                table.remove(&oldest);
            }
        }
        table.insert(id.to_string(), now + REQUEST_LIFETIME_SECONDS);
    }

    /// Takes the request `id` answered at `now`: true once, while it has not expired.
    pub fn take(&self, id: &str, now: i64) -> bool {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        matches!(table.remove(id), Some(expires) if expires > now)
    }
}
