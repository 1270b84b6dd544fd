//! Single sign-on of administrators to the console: the SAML identity provider it
//! trusts, the administrator templates that provision administrators just in time,
//! the sign-in of an administrator by their identity at the IdP, the assertions
//! already used (against replays), and the two per-administrator settings (password
//! login on or off, the IdP identity).
//!
//! Nothing here reads SAML. The console's edge (crate `saml-sp`) verifies an assertion
//! and hands over [`SsoClaims`]; the REST API reads the IdP's federation metadata into a
//! [`NewSsoIdentityProvider`].

use std::collections::BTreeMap;
use std::net::IpAddr;

use ca_core::store::keys::u64_from_key;
use ca_core::store::{KeyRange, Record, StoreError, Table, WriteBatch};
use serde::{Deserialize, Serialize};

use super::{check_text, id_key, now, RaError, RaResult, RegistrationAuthority};
use super::{ADMINS, NAMES};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::credentials;
use crate::model::*;

/// The most signing certificates an identity provider is imported with.
pub const MAX_SSO_CERTIFICATES: usize = 8;
/// The most administrator templates.
pub const MAX_ADMIN_TEMPLATES: usize = 100;

const IDP: Table<SsoIdentityProvider> = Table::new("ra_sso_identity_provider");
/// The one identity provider's key.
const IDP_KEY: &[u8] = b"idp";
const TEMPLATES: Table<AdminTemplate> = Table::new("ra_sso_admin_templates");
const USED_ASSERTIONS: Table<UsedAssertion> = Table::new("ra_sso_used_assertions");
/// How many expired used-assertion records one sign-in clears at most.
const PRUNE_PER_SIGN_IN: usize = 256;

/// A signing certificate of the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoCertificate {
    /// The certificate (DER).
    #[serde(with = "serde_bytes")]
    pub der: Vec<u8>,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
    /// Its subject, for people.
    pub subject: String,
    /// Its end of validity (unix time), for people: the IdP's key is trusted as imported.
    pub not_after: i64,
}

/// The SAML identity provider the console trusts (one at a time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoIdentityProvider {
    /// Its entity id: the Issuer of its assertions.
    pub entity_id: String,
    /// Its single sign-on URL (HTTP-Redirect binding).
    pub sso_url: String,
    /// The certificates whose keys sign its assertions.
    pub certificates: Vec<SsoCertificate>,
    /// Unix time of the import.
    pub imported_at: i64,
    /// Who imported it.
    pub imported_by: String,
}

impl Record for SsoIdentityProvider {
    const SCHEMA_VERSION: u16 = 1;
}

/// An identity provider as read from its metadata, to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSsoIdentityProvider {
    /// Its entity id.
    pub entity_id: String,
    /// Its single sign-on URL (HTTP-Redirect binding), `https://` (or `http://`).
    pub sso_url: String,
    /// Its signing certificates (DER).
    pub certificates: Vec<Vec<u8>>,
}

/// An administrator template: an IdP user who has no administrator yet, and one of
/// whose values of `attribute` is `value`, becomes an administrator with this role and
/// these privileges at their first sign-in. The first template by id that matches wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminTemplate {
    /// Its id.
    pub id: u64,
    /// Its name, unique.
    pub name: String,
    /// The attribute looked at (a SAML attribute Name or FriendlyName, e.g. `groups`,
    /// `eduPersonAffiliation`, `urn:oid:1.3.6.1.4.1.5923.1.1.1.1`).
    pub attribute: String,
    /// The value that selects the template (compared exactly).
    pub value: String,
    /// The role and scope given.
    pub role: Role,
    /// The privileges given.
    pub privileges: Privileges,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for AdminTemplate {
    const SCHEMA_VERSION: u16 = 1;
}

/// A template to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdminTemplate {
    /// Its name, unique.
    pub name: String,
    /// The attribute looked at.
    pub attribute: String,
    /// The value that selects it.
    pub value: String,
    /// The role and scope given.
    pub role: Role,
    /// The privileges given.
    pub privileges: Privileges,
}

/// What a verified assertion says about who signs in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsoClaims {
    /// The identity (eduPersonPrincipalName) an administrator is found by.
    pub identity: String,
    /// Their mail address (required).
    pub mail: String,
    /// Their given name, if sent.
    pub given_name: Option<String>,
    /// Their surname, if sent.
    pub surname: Option<String>,
    /// Every attribute by each of its names, for the templates.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// A successful sign-in by single sign-on.
#[derive(Debug, Clone)]
pub struct SsoSignIn {
    /// The administrator signed in.
    pub admin: Administrator,
    /// The template they were just created from, if they were.
    pub provisioned_by: Option<String>,
}

/// An assertion already used to sign in, kept until it could not be used anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct UsedAssertion {
    valid_until: i64,
}

impl Record for UsedAssertion {
    const SCHEMA_VERSION: u16 = 1;
}

/// The unique-name claim of an IdP identity (compared without case).
fn identity_claim(identity: &str) -> String {
    format!("idp:{}", identity.trim().to_lowercase())
}

fn template_claim(name: &str) -> String {
    format!("sso-template:{}", name.trim().to_lowercase())
}

/// A username made from an IdP identity: lower case, `@` as `_`, anything else not
/// allowed in usernames as `-`, at most 60 characters.
fn username_from(identity: &str) -> String {
    let slug: String = identity
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' | '.' => c,
            '@' => '_',
            _ => '-',
        })
        .take(60)
        .collect();
    if slug.trim_matches(['-', '_', '.']).is_empty() {
        "sso-admin".to_string()
    } else {
        slug
    }
}

fn certificate(der: &[u8]) -> RaResult<SsoCertificate> {
    let (_, parsed) = x509_parser::parse_x509_certificate(der).map_err(|_| {
        RaError::InvalidInput("a signing certificate is not an X.509 certificate".into())
    })?;
    Ok(SsoCertificate {
        der: der.to_vec(),
        sha256: hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)),
        subject: parsed.subject().to_string(),
        not_after: parsed.validity().not_after.timestamp(),
    })
}

impl RegistrationAuthority {
    fn require_mrao(&self, actor: &Administrator, action: &str, object: &str) -> RaResult<()> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            action,
            object,
        )
    }

    /// Imports (or replaces) the identity provider the console trusts (MRAO).
    pub fn set_sso_identity_provider(
        &self,
        actor: &Administrator,
        new: NewSsoIdentityProvider,
    ) -> RaResult<SsoIdentityProvider> {
        self.require_mrao(actor, "sso.idp.import", "sso:idp")?;
        check_text("entity id", &new.entity_id, 1024)?;
        check_text("single sign-on URL", &new.sso_url, 2048)?;
        if !(new.sso_url.starts_with("https://") || new.sso_url.starts_with("http://")) {
            return Err(RaError::InvalidInput(
                "the single sign-on URL must be an https:// URL".into(),
            ));
        }
        if new.certificates.is_empty() || new.certificates.len() > MAX_SSO_CERTIFICATES {
            return Err(RaError::InvalidInput(format!(
                "the identity provider needs 1 to {MAX_SSO_CERTIFICATES} signing certificates"
            )));
        }
        let certificates = new
            .certificates
            .iter()
            .map(|der| certificate(der))
            .collect::<RaResult<Vec<_>>>()?;
        let idp = SsoIdentityProvider {
            entity_id: new.entity_id.trim().to_string(),
            sso_url: new.sso_url.trim().to_string(),
            certificates,
            imported_at: now(),
            imported_by: actor.username.clone(),
        };
        let mut batch = WriteBatch::new();
        IDP.put(&mut batch, IDP_KEY, &idp)?;
        let fingerprints: Vec<&str> = idp.certificates.iter().map(|c| c.sha256.as_str()).collect();
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "sso.idp.import",
                "sso:idp",
                format!(
                    "{} at {}, signing certificates {}",
                    idp.entity_id,
                    idp.sso_url,
                    fingerprints.join(", ")
                ),
            ),
            "identity provider",
        )?;
        Ok(idp)
    }

    /// Removes the identity provider (MRAO): single sign-on is off until another is imported.
    pub fn remove_sso_identity_provider(&self, actor: &Administrator) -> RaResult<()> {
        self.require_mrao(actor, "sso.idp.remove", "sso:idp")?;
        let Some(idp) = IDP.get(&self.store, IDP_KEY)? else {
            return Err(RaError::NotFound("identity provider".into()));
        };
        let mut batch = WriteBatch::new();
        IDP.delete(&mut batch, IDP_KEY);
        self.commit(
            batch,
            AuditEvent::success(&actor.username, "sso.idp.remove", "sso:idp", idp.entity_id),
            "identity provider",
        )?;
        Ok(())
    }

    /// The identity provider, if one is imported, for an MRAO.
    pub fn sso_identity_provider_for(
        &self,
        actor: &Administrator,
    ) -> RaResult<Option<SsoIdentityProvider>> {
        self.require_mrao(actor, "sso.idp.show", "sso:idp")?;
        self.sso_identity_provider()
    }

    /// The identity provider, if one is imported (for the console's sign-in, before
    /// anyone is signed in).
    pub fn sso_identity_provider(&self) -> RaResult<Option<SsoIdentityProvider>> {
        Ok(IDP.get(&self.store, IDP_KEY)?)
    }

    /// Creates an administrator template (MRAO).
    pub fn create_admin_template(
        &self,
        actor: &Administrator,
        new: NewAdminTemplate,
    ) -> RaResult<AdminTemplate> {
        self.require_mrao(actor, "sso.template.create", &new.name)?;
        check_text("name", &new.name, 64)?;
        check_text("attribute", &new.attribute, 256)?;
        check_text("value", &new.value, 512)?;
        self.check_role(&new.role)?;
        let existing = self.templates()?;
        if existing.len() >= MAX_ADMIN_TEMPLATES {
            return Err(RaError::InvalidInput(format!(
                "at most {MAX_ADMIN_TEMPLATES} administrator templates"
            )));
        }
        let id = TEMPLATES
            .last_key(&self.store)?
            .and_then(|k| u64_from_key(&k))
            .unwrap_or(0)
            + 1;
        let template = AdminTemplate {
            id,
            name: new.name.trim().to_string(),
            attribute: new.attribute.trim().to_string(),
            value: new.value.trim().to_string(),
            role: new.role,
            privileges: new.privileges,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &template_claim(&template.name), id)?;
        TEMPLATES.require_absent(&mut batch, &id_key(id));
        TEMPLATES.put(&mut batch, &id_key(id), &template)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "sso.template.create",
                &format!("sso-template:{id}"),
                format!(
                    "{}: {} = {} gives {}",
                    template.name,
                    template.attribute,
                    template.value,
                    template.role.name()
                ),
            ),
            &format!("administrator template '{}'", template.name),
        )?;
        Ok(template)
    }

    /// The administrator templates, by id (MRAO).
    pub fn admin_templates(&self, actor: &Administrator) -> RaResult<Vec<AdminTemplate>> {
        self.require_mrao(actor, "sso.template.list", "sso:templates")?;
        self.templates()
    }

    fn templates(&self) -> RaResult<Vec<AdminTemplate>> {
        Ok(TEMPLATES
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
    }

    /// Deletes an administrator template (MRAO); administrators it created stay.
    pub fn delete_admin_template(&self, actor: &Administrator, id: u64) -> RaResult<()> {
        let object = format!("sso-template:{id}");
        self.require_mrao(actor, "sso.template.delete", &object)?;
        let template = TEMPLATES
            .get(&self.store, &id_key(id))?
            .ok_or_else(|| RaError::NotFound(format!("administrator template {id}")))?;
        let mut batch = WriteBatch::new();
        TEMPLATES.delete(&mut batch, &id_key(id));
        NAMES.delete(&mut batch, template_claim(&template.name).as_bytes());
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "sso.template.delete",
                &object,
                template.name,
            ),
            "administrator template",
        )?;
        Ok(())
    }

    /// Turns an administrator's password login on or off (MRAO; not one's own).
    /// Turning it off ends the sessions their password opened.
    pub fn set_password_login(
        &self,
        actor: &Administrator,
        id: AdminId,
        on: bool,
    ) -> RaResult<Administrator> {
        self.require_mrao(actor, "admin.password_login", &id.label())?;
        if actor.id == id && !on {
            return Err(RaError::InvalidInput(
                "you cannot turn off your own password login".into(),
            ));
        }
        let mut admin = self.admin(id)?;
        admin.password_login = on;
        self.save_admin(
            &admin,
            AuditEvent::success(
                &actor.username,
                "admin.password_login",
                &id.label(),
                if on { "on" } else { "off" },
            ),
        )?;
        if !on {
            self.sessions.revoke_all(id);
        }
        Ok(admin)
    }

    /// Sets (or, with `None`, clears) an administrator's identity at the IdP (MRAO);
    /// no two administrators have the same one.
    pub fn set_idp_identity(
        &self,
        actor: &Administrator,
        id: AdminId,
        identity: Option<&str>,
    ) -> RaResult<Administrator> {
        self.require_mrao(actor, "admin.idp_identity", &id.label())?;
        let identity = identity.map(str::trim).filter(|i| !i.is_empty());
        if let Some(identity) = identity {
            check_text("IdP identity", identity, 256)?;
        }
        let mut admin = self.admin(id)?;
        let mut batch = WriteBatch::new();
        let old_claim = admin.idp_identity.as_deref().map(identity_claim);
        let new_claim = identity.map(identity_claim);
        if old_claim != new_claim {
            if let Some(old) = &old_claim {
                NAMES.delete(&mut batch, old.as_bytes());
            }
            if let Some(new) = &new_claim {
                self.claim_name(&mut batch, new, id.0)?;
            }
        }
        admin.idp_identity = identity.map(str::to_string);
        ADMINS.require_present(&mut batch, &id_key(id.0));
        ADMINS.put(&mut batch, &id_key(id.0), &admin)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "admin.idp_identity",
                &id.label(),
                identity.unwrap_or("(none)"),
            ),
            "IdP identity",
        )?;
        Ok(admin)
    }

    /// Records that the assertion `assertion_id` of `issuer` was used, to be refused
    /// until `valid_until` (unix time); [`RaError::Conflict`] if it already was. Durable
    /// before it returns, so a restart does not reopen a replay.
    pub fn consume_sso_assertion(
        &self,
        issuer: &str,
        assertion_id: &str,
        valid_until: i64,
    ) -> RaResult<()> {
        let now = now();
        let key = credentials::sha256_hex(&format!("{issuer}\n{assertion_id}"));
        let mut batch = WriteBatch::new();
        for (old, used) in USED_ASSERTIONS.scan(&self.store, KeyRange::all(), usize::MAX)? {
            if used.valid_until < now && old != key.as_bytes() {
                USED_ASSERTIONS.delete(&mut batch, &old);
                if batch.ops().len() >= PRUNE_PER_SIGN_IN {
                    break;
                }
            }
        }
        USED_ASSERTIONS.require_absent(&mut batch, key.as_bytes());
        USED_ASSERTIONS.put(&mut batch, key.as_bytes(), &UsedAssertion { valid_until })?;
        self.store.write(batch).map_err(|e| match e {
            StoreError::Conflict { .. } => RaError::Conflict("this assertion".into()),
            other => RaError::Store(other),
        })
    }

    /// The administrator who signs in with these claims from `client`: the one whose IdP
    /// identity they name, or, when there is none, one created from the first template
    /// whose attribute has its value among the claims (username from the identity,
    /// password login off, an unusable random password). Refused, and nothing created,
    /// when the administrator is deactivated, when no template matches, or when the
    /// client's address is outside the role's allow-list.
    pub fn sso_sign_in(&self, claims: &SsoClaims, client: Option<IpAddr>) -> RaResult<SsoSignIn> {
        check_text("eduPersonPrincipalName", &claims.identity, 256)?;
        check_text("mail", &claims.mail, 256)?;
        let identity = claims.identity.trim();
        if let Some(claim) = NAMES.get(&self.store, identity_claim(identity).as_bytes())? {
            let admin = self.admin(AdminId(claim.id))?;
            if !admin.active {
                return Err(RaError::Unauthenticated(
                    "this administrator is deactivated".into(),
                ));
            }
            self.check_address(&admin, client)?;
            return Ok(SsoSignIn {
                admin,
                provisioned_by: None,
            });
        }
        let template = self
            .templates()?
            .into_iter()
            .find(|t| {
                claims
                    .attributes
                    .get(&t.attribute)
                    .is_some_and(|values| values.iter().any(|v| v == &t.value))
            })
            .ok_or_else(|| {
                RaError::Unauthenticated(
                    "no administrator has this identity, and no administrator template matches it"
                        .into(),
                )
            })?;
        self.check_role(&template.role)?;
        let base = username_from(identity);
        let mut username = None;
        for n in 1..=9 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if self.admin_by_username(&candidate)?.is_none() {
                username = Some(candidate);
                break;
            }
        }
        let username = username
            .ok_or_else(|| RaError::Conflict(format!("an administrator named like '{base}'")))?;
        let unusable = zeroize::Zeroizing::new(credentials::random_token::<32>());
        let admin = Administrator {
            id: AdminId(0),
            username,
            password_hash: credentials::hash_password(&unusable),
            role: template.role.clone(),
            privileges: template.privileges.clone(),
            active: true,
            created_at: now(),
            client_certificates: Vec::new(),
            idp_identity: Some(identity.to_string()),
            password_login: false,
        };
        // The role's allow-list first: a refused address creates nothing.
        self.check_address(&admin, client)?;
        let admin = Administrator {
            id: AdminId(self.next_id(ADMINS.name())),
            ..admin
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("admin:{}", admin.username), admin.id.0)?;
        self.claim_name(&mut batch, &identity_claim(identity), admin.id.0)?;
        ADMINS.put(&mut batch, &id_key(admin.id.0), &admin)?;
        let name = [claims.given_name.as_deref(), claims.surname.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.commit(
            batch,
            AuditEvent::success(
                "sso",
                "admin.create",
                &admin.id.label(),
                format!(
                    "jit: {} as {} from template '{}' for {identity} <{}>{}",
                    admin.username,
                    admin.role.name(),
                    template.name,
                    claims.mail.trim(),
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!(" ({name})")
                    }
                ),
            ),
            &format!("administrator '{}'", admin.username),
        )?;
        Ok(SsoSignIn {
            admin,
            provisioned_by: Some(template.name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_from_identities_are_slugs() {
        assert_eq!(
            username_from("Alice.Smith@Example.org"),
            "alice.smith_example.org"
        );
        assert_eq!(username_from("bob smith@x"), "bob-smith_x");
        assert_eq!(username_from("@@@"), "sso-admin");
        assert_eq!(username_from(&"a".repeat(100)).len(), 60);
    }
}
