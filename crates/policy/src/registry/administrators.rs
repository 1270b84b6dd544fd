//! Administrators: the first MRAO, creating, listing and (de)activating
//! administrators, login with a password, bearer-token authentication (session
//! tokens and API keys), and API keys.

use std::net::IpAddr;

use ca_core::store::{KeyRange, Record, WriteBatch};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{check_slug, check_text, id_key, now, RaError, RaResult, RegistrationAuthority};
use super::{ADMINS, API_KEYS, NAMES};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::credentials;
use crate::model::*;

/// An API key record (the key itself is shown once and stored as SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// The key's id part.
    pub id: String,
    /// Its owner.
    pub admin: AdminId,
    /// A label.
    pub label: String,
    /// SHA-256 of the whole key, hex.
    pub hash: String,
    /// Unix time.
    pub created_at: i64,
}

impl Record for ApiKeyRecord {
    const SCHEMA_VERSION: u16 = 1;
}

impl RegistrationAuthority {
    /// Creates the first MRAO when there is no administrator; returns its generated password (shown once).
    pub fn bootstrap_mrao(&self, username: &str) -> RaResult<Option<Zeroizing<String>>> {
        if !ADMINS.scan(&self.store, KeyRange::all(), 1)?.is_empty() {
            return Ok(None);
        }
        let password = Zeroizing::new(credentials::random_token::<18>());
        let admin = Administrator {
            id: AdminId(self.next_id(ADMINS.name())),
            username: username.to_string(),
            password_hash: credentials::hash_password(&password),
            role: Role::Mrao,
            privileges: Privileges::all(),
            active: true,
            created_at: now(),
            client_certificates: Vec::new(),
            idp_identity: None,
            password_login: true,
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("admin:{}", admin.username), admin.id.0)?;
        ADMINS.put(&mut batch, &id_key(admin.id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success("system", "admin.bootstrap", &admin.id.label(), "first MRAO"),
            "administrator",
        )?;
        Ok(Some(password))
    }

    /// Logs in with username and password; returns a short-lived bearer token.
    pub fn login(
        &self,
        username: &str,
        password: &str,
    ) -> RaResult<(Zeroizing<String>, Administrator)> {
        self.login_from(username, password, None)
    }

    /// [`RegistrationAuthority::login`] from a client address: failed logins of the
    /// (account, address) pair are limited with a growing delay (`login_guard`), and the
    /// address must be in the allow-list of the administrator's role
    /// ([`RegistrationAuthority::check_address`]; no token is made otherwise).
    pub fn login_from(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> RaResult<(Zeroizing<String>, Administrator)> {
        let admin = self.check_password(username, password, client)?;
        self.check_address(&admin, client)?;
        let token = self.sessions.issue(admin.id, now(), self.session_ttl);
        self.audit.record(AuditEvent::success(
            &admin.username,
            "login",
            &admin.id.label(),
            "",
        ))?;
        Ok((token, admin))
    }

    /// The active administrator with this username and password, for APIs that send the
    /// password with every request (the certificate manager's `login` / `password`
    /// headers): no session is made and a success is not audited (every call is audited by
    /// what it does); a failure is, and counts toward the account's lock. The address
    /// must be in the allow-list of the administrator's role.
    pub fn verify_credentials(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> RaResult<Administrator> {
        let admin = self.check_password(username, password, client)?;
        self.check_address(&admin, client)?;
        Ok(admin)
    }

    fn check_password(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> RaResult<Administrator> {
        if let Err(retry_after) = self.login_guard.check(username, client) {
            return Err(RaError::TooManyFailures { retry_after });
        }
        let admin = self.admin_by_username(username)?;
        let hash = admin
            .as_ref()
            .map(|a| a.password_hash.as_str())
            .unwrap_or(credentials::decoy_password_hash());
        let ok = credentials::verify_password(hash, password);
        let from = client.map(|c| format!(" from {c}")).unwrap_or_default();
        // An administrator whose password login is off is answered as a wrong password
        // (no oracle), and it counts as one.
        let password_off = admin.as_ref().is_some_and(|a| ok && !a.password_login);
        match admin {
            Some(admin) if ok && admin.active && !password_off => {
                self.login_guard.succeeded(username, client);
                Ok(admin)
            }
            Some(admin) if ok && !password_off => {
                let _ = self.audit.record(AuditEvent::denied(
                    &admin.username,
                    "login",
                    &admin.id.label(),
                    "deactivated",
                ));
                Err(RaError::Unauthenticated(
                    "this administrator is deactivated".into(),
                ))
            }
            _ => {
                let lock = self.login_guard.failed(username, client);
                let why = if password_off {
                    "password login is off"
                } else {
                    "bad credentials"
                };
                let detail = match lock {
                    Some(lock) => format!("{why}{from}; locked for {} s", lock.as_secs()),
                    None => format!("{why}{from}"),
                };
                let _ = self
                    .audit
                    .record(AuditEvent::denied(username, "login", "admin:?", detail));
                Err(RaError::Unauthenticated(
                    "wrong username or password".into(),
                ))
            }
        }
    }

    /// An active administrator by id (a credential cache re-checks that it still is).
    pub fn active_admin(&self, id: AdminId) -> RaResult<Administrator> {
        let admin = self.admin(id)?;
        if !admin.active {
            return Err(RaError::Unauthenticated(
                "this administrator is deactivated".into(),
            ));
        }
        Ok(admin)
    }

    /// Lifts the failed-login locks of an administrator (MRAO), at once.
    pub fn unlock_login(&self, actor: &Administrator, id: AdminId) -> RaResult<usize> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "admin.unlock",
            &id.label(),
        )?;
        let admin = self.admin(id)?;
        let cleared = self.login_guard.unlock(&admin.username);
        self.audit.record(AuditEvent::success(
            &actor.username,
            "admin.unlock",
            &id.label(),
            format!("{cleared} locked address(es) cleared"),
        ))?;
        Ok(cleared)
    }

    /// The administrator behind a bearer token (a session token or an API key).
    pub fn authenticate(&self, token: &str) -> RaResult<Administrator> {
        let bad =
            || RaError::Unauthenticated("the token is invalid or expired; log in again".into());
        let admin_id = if let Some(key_id) = credentials::api_key_id(token) {
            let record = API_KEYS
                .get(&self.store, key_id.as_bytes())?
                .ok_or_else(bad)?;
            if !credentials::digests_equal(&credentials::sha256_hex(token), &record.hash) {
                return Err(bad());
            }
            record.admin
        } else {
            self.sessions.resolve(token, now()).ok_or_else(bad)?
        };
        let admin = ADMINS
            .get(&self.store, &id_key(admin_id.0))?
            .ok_or_else(bad)?;
        if !admin.active {
            return Err(RaError::Unauthenticated(
                "this administrator is deactivated".into(),
            ));
        }
        Ok(admin)
    }

    /// Creates a long-lived API key for an administrator (oneself, or anyone for an MRAO).
    pub fn create_api_key(
        &self,
        actor: &Administrator,
        admin: AdminId,
        label: &str,
    ) -> RaResult<(ApiKeyRecord, Zeroizing<String>)> {
        check_text("label", label, 64)?;
        if actor.id != admin {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "apikey.create",
                &admin.label(),
            )?;
        }
        let owner = self.admin(admin)?;
        let key = credentials::new_api_key();
        let record = ApiKeyRecord {
            id: key.id.clone(),
            admin: owner.id,
            label: label.to_string(),
            hash: key.hash,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        API_KEYS.require_absent(&mut batch, record.id.as_bytes());
        API_KEYS.put(&mut batch, record.id.as_bytes(), &record)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "apikey.create",
                &owner.id.label(),
                format!("key {} ({label})", record.id),
            ),
            "API key",
        )?;
        Ok((record, key.key))
    }

    /// The API keys of an administrator (their own, or anyone's for an MRAO), oldest
    /// first: ids, labels and creation times; the keys themselves are not kept.
    pub fn api_keys(&self, actor: &Administrator, admin: AdminId) -> RaResult<Vec<ApiKeyRecord>> {
        if actor.id != admin {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "apikey.list",
                &admin.label(),
            )?;
        }
        let mut keys: Vec<ApiKeyRecord> = API_KEYS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, k)| k)
            .filter(|k| k.admin == admin)
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    /// Revokes an API key (one's own, or anyone's for an MRAO): from the commit on, a
    /// call with it is refused as unauthenticated.
    pub fn revoke_api_key(&self, actor: &Administrator, key_id: &str) -> RaResult<ApiKeyRecord> {
        let record = API_KEYS
            .get(&self.store, key_id.as_bytes())?
            .ok_or_else(|| {
                RaError::NotFound(format!(
                    "API key {}",
                    key_id.chars().take(40).collect::<String>()
                ))
            })?;
        if record.admin != actor.id {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "apikey.revoke",
                &record.admin.label(),
            )?;
        }
        let mut batch = WriteBatch::new();
        API_KEYS.require_present(&mut batch, record.id.as_bytes());
        API_KEYS.delete(&mut batch, record.id.as_bytes());
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "apikey.revoke",
                &record.admin.label(),
                format!("key {} ({})", record.id, record.label),
            ),
            "API key",
        )?;
        Ok(record)
    }

    pub(super) fn admin_by_username(&self, username: &str) -> RaResult<Option<Administrator>> {
        match NAMES.get(&self.store, format!("admin:{username}").as_bytes())? {
            Some(claim) => Ok(ADMINS.get(&self.store, &id_key(claim.id))?),
            None => Ok(None),
        }
    }

    /// An administrator by id (internal).
    pub fn admin(&self, id: AdminId) -> RaResult<Administrator> {
        ADMINS
            .get(&self.store, &id_key(id.0))?
            .ok_or_else(|| RaError::NotFound(id.label()))
    }

    /// Creates an administrator (MRAO).
    pub fn create_admin(
        &self,
        actor: &Administrator,
        username: &str,
        password: &str,
        role: Role,
        privileges: Privileges,
    ) -> RaResult<Administrator> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "admin.create",
            username,
        )?;
        check_slug("username", username)?;
        credentials::check_password_strength(password, username).map_err(RaError::InvalidInput)?;
        self.check_role(&role)?;
        let admin = Administrator {
            id: AdminId(self.next_id(ADMINS.name())),
            username: username.to_string(),
            password_hash: credentials::hash_password(password),
            role,
            privileges,
            active: true,
            created_at: now(),
            client_certificates: Vec::new(),
            idp_identity: None,
            password_login: true,
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("admin:{username}"), admin.id.0)?;
        ADMINS.put(&mut batch, &id_key(admin.id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "admin.create",
                &admin.id.label(),
                format!("{username} as {}", admin.role.name()),
            ),
            &format!("administrator '{username}'"),
        )?;
        Ok(admin)
    }

    /// Refuses an RAO without organizations or a DRAO without departments, and scopes
    /// that do not exist.
    pub(super) fn check_role(&self, role: &Role) -> RaResult<()> {
        match role {
            Role::Mrao => {}
            Role::Rao { orgs } => {
                if orgs.is_empty() {
                    return Err(RaError::InvalidInput(
                        "an RAO needs at least one organization".into(),
                    ));
                }
                for org in orgs {
                    self.organization_exists(*org)?;
                }
            }
            Role::Drao { depts } => {
                if depts.is_empty() {
                    return Err(RaError::InvalidInput(
                        "a DRAO needs at least one department".into(),
                    ));
                }
                for dept in depts {
                    self.department(*dept)?;
                }
            }
        }
        Ok(())
    }

    /// Administrators (MRAO sees all; others see themselves).
    pub fn admins(&self, actor: &Administrator) -> RaResult<Vec<Administrator>> {
        Ok(ADMINS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| actor.role == Role::Mrao || a.id == actor.id)
            .collect())
    }

    /// Activates or deactivates an administrator (MRAO); deactivation ends their sessions.
    pub fn set_admin_active(
        &self,
        actor: &Administrator,
        id: AdminId,
        active: bool,
    ) -> RaResult<Administrator> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "admin.update",
            &id.label(),
        )?;
        if actor.id == id && !active {
            return Err(RaError::InvalidInput(
                "you cannot deactivate yourself".into(),
            ));
        }
        let mut admin = self.admin(id)?;
        admin.active = active;
        self.save_admin(
            &admin,
            AuditEvent::success(
                &actor.username,
                if active {
                    "admin.activate"
                } else {
                    "admin.deactivate"
                },
                &id.label(),
                "",
            ),
        )?;
        if !active {
            self.sessions.revoke_all(id);
        }
        Ok(admin)
    }

    /// Changes a password. One's own needs the current password (checked as a login
    /// is, from `client`: wrong guesses count toward the account's lock); an MRAO sets
    /// another administrator's without it. The new one must pass the password policy
    /// (length, not the username). Every token of the administrator ends, and every
    /// console session begun with the old password.
    pub fn change_password(
        &self,
        actor: &Administrator,
        id: AdminId,
        current: Option<&str>,
        new: &str,
        client: Option<IpAddr>,
    ) -> RaResult<Administrator> {
        let mut admin = if actor.id == id {
            let Some(current) = current else {
                return Err(RaError::InvalidInput(
                    "changing your own password needs your current password".into(),
                ));
            };
            self.check_password(&actor.username, current, client)
                .map_err(|e| match e {
                    RaError::Unauthenticated(_) => {
                        RaError::InvalidInput("the current password is wrong".into())
                    }
                    other => other,
                })?
        } else {
            self.require(
                actor,
                Action::Administer,
                crate::authz::org_scope(OrgId(0)),
                "admin.password",
                &id.label(),
            )?;
            self.admin(id)?
        };
        credentials::check_password_strength(new, &admin.username)
            .map_err(RaError::InvalidInput)?;
        admin.password_hash = credentials::hash_password(new);
        let detail = if actor.id == id {
            "changed by the administrator"
        } else {
            "set by an MRAO"
        };
        self.save_admin(
            &admin,
            AuditEvent::success(&actor.username, "admin.password", &id.label(), detail),
        )?;
        self.sessions.revoke_all(id);
        Ok(admin)
    }

    /// Writes back a changed administrator, which must still exist, with its audit event.
    pub(super) fn save_admin(&self, admin: &Administrator, event: AuditEvent) -> RaResult<()> {
        let mut batch = WriteBatch::new();
        ADMINS.require_present(&mut batch, &id_key(admin.id.0));
        ADMINS.put(&mut batch, &id_key(admin.id.0), admin)?;
        self.commit(batch, event, "administrator").map(|_| ())
    }
}
