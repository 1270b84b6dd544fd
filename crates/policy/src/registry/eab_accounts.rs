//! ACME external-account-binding keys as accounts with a number and a name: the
//! certificate manager's "ACME accounts" (`macId` the key id, `macKey` the HMAC
//! key), which connectors create and hand to ACME clients.
//!
//! The HMAC key is sealed at rest. It is returned on creation, and after that
//! only to an administrator who manages the endpoint and only while no ACME
//! account has used it: once bound, it opens nothing new and is never shown.

use ca_core::store::{KeyRange, Store, WriteBatch};
use zeroize::Zeroizing;

use super::{check_text, id_key, now, RaError, RaResult, RegistrationAuthority};
use super::{EAB_NUMBERS, ENDPOINTS, NAMES};
use crate::audit::AuditEvent;
use crate::credentials;
use crate::model::*;

/// An EAB key with the endpoint it belongs to.
#[derive(Debug, Clone)]
pub struct EabAccount {
    /// The ACME endpoint.
    pub endpoint: Endpoint,
    /// The key.
    pub key: EabKey,
}

/// A new EAB key: its number, key id and HMAC key (base64url), shown once.
#[derive(Debug)]
pub struct NewEabKey {
    /// Its number.
    pub number: u64,
    /// The key id clients send.
    pub key_id: String,
    /// The HMAC key, base64url.
    pub hmac: Zeroizing<String>,
}

/// The highest EAB key number in the store (0 when there is none).
pub(super) fn last_number(store: &Store) -> RaResult<u64> {
    Ok(ENDPOINTS
        .scan(store, KeyRange::all(), usize::MAX)?
        .into_iter()
        .filter_map(|(_, e)| match e.kind {
            EndpointKind::Acme { eab_keys, .. } => eab_keys.iter().map(|k| k.number).max(),
            _ => None,
        })
        .max()
        .unwrap_or(0))
}

impl RegistrationAuthority {
    /// Adds a named EAB key to an ACME endpoint (an administrator who manages it).
    pub fn add_named_eab_key(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        name: &str,
    ) -> RaResult<NewEabKey> {
        if !name.is_empty() {
            check_text("name", name, 128)?;
        }
        let mut endpoint = self.endpoint_to_manage(actor, endpoint_id, "endpoint.eab.create")?;
        let EndpointKind::Acme { eab_keys, .. } = &mut endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not an ACME endpoint",
                endpoint.name
            )));
        };
        let key_id = format!("kid-{}", hex::encode(credentials::random_bytes::<8>()));
        let hmac = Zeroizing::new(credentials::random_bytes::<32>().to_vec());
        let number = self.next_id(EAB_NUMBERS);
        eab_keys.push(EabKey {
            key_id: key_id.clone(),
            sealed_hmac_key: self.secrets.seal(&hmac),
            bound_account: None,
            created_at: now(),
            number,
            name: name.to_string(),
        });
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &format!("eab:{key_id}"), endpoint.id.0)?;
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "endpoint.eab.create",
                &endpoint_id.label(),
                format!("{key_id} (account {number})"),
            ),
            "EAB key",
        )?;
        use base64::Engine;
        Ok(NewEabKey {
            number,
            key_id,
            hmac: Zeroizing::new(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&hmac[..]),
            ),
        })
    }

    /// The numbered EAB keys of the ACME endpoints visible to the actor, by number.
    pub fn eab_accounts(&self, actor: &Administrator) -> RaResult<Vec<EabAccount>> {
        let mut out = Vec::new();
        for endpoint in self.endpoints(actor)? {
            if let EndpointKind::Acme { eab_keys, .. } = &endpoint.kind {
                for key in eab_keys.iter().filter(|k| k.number > 0) {
                    out.push(EabAccount {
                        endpoint: endpoint.clone(),
                        key: key.clone(),
                    });
                }
            }
        }
        out.sort_by_key(|a| a.key.number);
        Ok(out)
    }

    /// One numbered EAB key, if visible to the actor.
    pub fn eab_account(&self, actor: &Administrator, number: u64) -> RaResult<EabAccount> {
        self.eab_accounts(actor)?
            .into_iter()
            .find(|a| a.key.number == number)
            .ok_or_else(|| RaError::NotFound(format!("ACME account {number}")))
    }

    /// The HMAC key (base64url) of a key no ACME account has used yet, for an
    /// administrator who manages its endpoint; `None` once it is bound.
    pub fn unbound_eab_hmac(
        &self,
        actor: &Administrator,
        number: u64,
    ) -> RaResult<Option<Zeroizing<String>>> {
        let account = self.eab_account(actor, number)?;
        self.endpoint_to_manage(actor, account.endpoint.id, "endpoint.eab.show")?;
        if account.key.bound_account.is_some() {
            return Ok(None);
        }
        use base64::Engine;
        Ok(self
            .secrets
            .open_sealed(&account.key.sealed_hmac_key)
            .map(|k| {
                Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&k[..]))
            }))
    }

    /// Renames a numbered EAB key.
    pub fn rename_eab_key(&self, actor: &Administrator, number: u64, name: &str) -> RaResult<()> {
        check_text("name", name, 128)?;
        self.change_eab_key(actor, number, "endpoint.eab.rename", |keys| {
            if let Some(k) = keys.iter_mut().find(|k| k.number == number) {
                k.name = name.to_string();
            }
        })
    }

    /// Removes a numbered EAB key: no new ACME account can use it (an account that
    /// already did keeps working; deactivate it through ACME or the endpoint).
    pub fn remove_eab_key(&self, actor: &Administrator, number: u64) -> RaResult<()> {
        self.change_eab_key(actor, number, "endpoint.eab.remove", |keys| {
            keys.retain(|k| k.number != number)
        })
    }

    fn change_eab_key(
        &self,
        actor: &Administrator,
        number: u64,
        action: &str,
        change: impl FnOnce(&mut Vec<EabKey>),
    ) -> RaResult<()> {
        let account = self.eab_account(actor, number)?;
        let mut endpoint = self.endpoint_to_manage(actor, account.endpoint.id, action)?;
        let EndpointKind::Acme { eab_keys, .. } = &mut endpoint.kind else {
            return Err(RaError::NotFound(format!("ACME account {number}")));
        };
        change(eab_keys);
        let mut batch = WriteBatch::new();
        if !eab_keys.iter().any(|k| k.number == number) {
            NAMES.delete(&mut batch, format!("eab:{}", account.key.key_id).as_bytes());
        }
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                action,
                &endpoint.id.label(),
                format!("{} (account {number})", account.key.key_id),
            ),
            "EAB key",
        )?;
        Ok(())
    }
}
