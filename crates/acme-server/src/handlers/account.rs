//! Accounts (RFC 8555 §7.3): creation with optional external account
//! binding, look-up by key, contact update, deactivation, key rollover, and
//! the order list.

use ca_core::names::SubjectAltName;
use ca_core::store::{StoreError, WriteBatch};
use http::{header, StatusCode};
use policy::audit::AuditEvent;
use policy::model::{EabKey, EndpointKind};
use policy::registry::RaError;

use super::{Ctx, Reply};
use crate::limits::Limit;
use crate::records::{AccountRecord, AccountStatus, LockKind};
use crate::wire::jwk::PublicJwk;
use crate::wire::jws::{ExternalBinding, KeyRef, SignedRequest};
use crate::wire::objects::{
    AccountObject, AccountUpdatePayload, KeyChangePayload, NewAccountPayload, OrderListObject,
};
use crate::wire::problem::{Problem, ProblemType};

/// Orders per page of an account's order list.
const ORDERS_PER_PAGE: usize = 100;
/// Contacts per account.
const MAX_CONTACTS: usize = 10;

fn account_label(id: u64) -> String {
    format!("acme-account:{id}")
}

fn account_object(ctx: &Ctx<'_>, account: &AccountRecord) -> AccountObject {
    AccountObject {
        status: account.status.name(),
        contact: account.contact.clone(),
        terms_of_service_agreed: account.terms_agreed,
        orders: ctx.urls.account_orders(account.id),
    }
}

/// Contacts must be `mailto:` URLs of one plain address each (RFC 8555 §7.3).
fn validate_contacts(contacts: &[String]) -> Result<Vec<String>, Problem> {
    if contacts.len() > MAX_CONTACTS {
        return Err(Problem::new(
            ProblemType::InvalidContact,
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    contacts
        .iter()
        .map(|contact| {
            let shown: String = contact.chars().take(64).collect();
            let address = contact
                .get(..7)
                .filter(|scheme| scheme.eq_ignore_ascii_case("mailto:"))
                .map(|_| &contact[7..])
                .ok_or_else(|| {
                    Problem::new(
                        ProblemType::UnsupportedContact,
                        format!("'{shown}': only mailto: contacts are supported"),
                    )
                })?;
            if address.contains(['?', ',', '%']) || address.len() > 254 {
                return Err(Problem::new(
                    ProblemType::InvalidContact,
                    format!("'{shown}': a contact is one e-mail address, without parameters"),
                ));
            }
            match SubjectAltName::email(address) {
                Ok(SubjectAltName::Email(email)) => Ok(format!("mailto:{email}")),
                _ => Err(Problem::new(
                    ProblemType::InvalidContact,
                    format!("'{shown}' is not a valid e-mail address"),
                )),
            }
        })
        .collect()
}

fn existing_account(ctx: &Ctx<'_>, account: AccountRecord) -> Result<Reply, Problem> {
    if account.status == AccountStatus::Deactivated {
        return Err(Problem::unauthorized(
            "the account of this key is deactivated",
        ));
    }
    Ok(Reply::json(StatusCode::OK, &account_object(ctx, &account))?
        .with_location(ctx.urls.account(account.id)))
}

/// Checks an external account binding; returns the EAB key id it proves.
fn check_binding(
    ctx: &Ctx<'_>,
    eab_keys: &[EabKey],
    binding: serde_json::Value,
    account_key: &PublicJwk,
) -> Result<String, Problem> {
    let binding = ExternalBinding::from_value(binding)?;
    if binding.url != ctx.urls.new_account() {
        return Err(Problem::unauthorized(
            "the external account binding was made for another URL",
        ));
    }
    if binding.has_nonce {
        return Err(Problem::malformed(
            "an external account binding carries no nonce",
        ));
    }
    let unknown =
        || Problem::unauthorized("the external account binding's key id is not valid here");
    let key = eab_keys
        .iter()
        .find(|k| k.key_id == binding.key_id)
        .ok_or_else(unknown)?;
    if key.bound_account.is_some() {
        return Err(Problem::unauthorized(
            "the external account binding's key id is already bound to an account",
        ));
    }
    let hmac_key = ctx
        .shared
        .ra
        .secrets()
        .open_sealed(&key.sealed_hmac_key)
        .ok_or_else(|| Problem::internal(format!("EAB key {} does not open", key.key_id)))?;
    if !binding.verify(&hmac_key) {
        return Err(Problem::unauthorized(
            "the external account binding's MAC does not verify",
        ));
    }
    let bound: serde_json::Value = serde_json::from_slice(&binding.payload)
        .map_err(|_| Problem::malformed("the external account binding's payload is not a JWK"))?;
    if PublicJwk::from_json(&bound)? != *account_key {
        return Err(Problem::unauthorized(
            "the external account binding is for another key",
        ));
    }
    Ok(binding.key_id)
}

/// newAccount.
pub(crate) fn new_account(
    ctx: &Ctx<'_>,
    key: PublicJwk,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    let payload: NewAccountPayload = jws.payload_json()?;
    let records = &ctx.shared.records;
    let thumbprint = key.thumbprint();
    if let Some(existing) = records.account_by_key(ctx.endpoint.id, &thumbprint)? {
        return existing_account(ctx, existing);
    }
    if payload.only_return_existing {
        return Err(Problem::new(
            ProblemType::AccountDoesNotExist,
            "there is no account with this key",
        ));
    }
    if let Some(terms) = &ctx.shared.config.terms_of_service {
        if payload.terms_of_service_agreed != Some(true) {
            return Err(Problem::new(
                ProblemType::UserActionRequired,
                format!("agree to the terms of service at {terms} (termsOfServiceAgreed)"),
            )
            .with_header(header::LINK, format!("<{terms}>;rel=\"terms-of-service\"")));
        }
    }
    let contact = validate_contacts(payload.contact.as_deref().unwrap_or(&[]))?;
    let EndpointKind::Acme {
        eab_required,
        eab_keys,
    } = &ctx.endpoint.kind
    else {
        return Err(Problem::internal("not an ACME endpoint"));
    };
    let eab_key_id = match payload.external_account_binding {
        Some(binding) => Some(check_binding(ctx, eab_keys, binding, &key)?),
        None if *eab_required => {
            return Err(Problem::new(
                ProblemType::ExternalAccountRequired,
                "this endpoint requires an external account binding; ask its administrator for an EAB key",
            ))
        }
        None => None,
    };
    ctx.charge(&[(
        Limit::AccountsPerEndpoint,
        ctx.endpoint.id.0,
        ctx.shared
            .config
            .rate_limits
            .new_accounts_per_endpoint_per_hour,
    )])?;

    let account = AccountRecord {
        id: records.next_account_id()?,
        endpoint: ctx.endpoint.id,
        status: AccountStatus::Valid,
        key,
        contact,
        terms_agreed: payload.terms_of_service_agreed == Some(true),
        eab_key_id,
        org: ctx.endpoint.org,
        dept: ctx.endpoint.dept,
        created_at: super::now(),
    };
    let url = ctx.urls.account(account.id);
    let mut batch = WriteBatch::new();
    records.claim_key(&mut batch, &account)?;
    records.put_account(&mut batch, &account)?;
    let bound_taken = || {
        Problem::unauthorized(
            "the external account binding's key id is already bound to an account",
        )
    };
    if let Some(key_id) = &account.eab_key_id {
        ctx.shared
            .ra
            .bind_eab_key_into(&mut batch, ctx.endpoint.id, key_id, &url)
            .map_err(|e| match e {
                RaError::Conflict(_) | RaError::NotFound(_) => bound_taken(),
                other => Problem::internal(other),
            })?;
    }
    let detail = format!(
        "key {thumbprint}{}",
        account
            .eab_key_id
            .as_ref()
            .map(|k| format!(", bound to EAB key {k}"))
            .unwrap_or_default()
    );
    let event = AuditEvent::success(
        &ctx.actor(account.id),
        "acme.account.create",
        &account_label(account.id),
        detail,
    );
    match ctx.shared.ra.audit_log().commit_with(batch, event) {
        Ok(_) => {}
        // Another request claimed the key, or the EAB key, in between.
        Err(StoreError::Conflict { .. }) => {
            return match records.account_by_key(ctx.endpoint.id, &thumbprint)? {
                Some(existing) => existing_account(ctx, existing),
                None => Err(bound_taken()),
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::json(StatusCode::CREATED, &account_object(ctx, &account))?.with_location(url))
}

/// POST to an account URL: read (POST-as-GET), update contacts, or deactivate.
pub(crate) fn account(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    if id != account.id {
        return Err(Problem::unauthorized("a request for another account"));
    }
    if jws.is_post_as_get() {
        return Ok(Reply::json(StatusCode::OK, &account_object(ctx, &account))?
            .with_location(ctx.urls.account(id)));
    }
    let update: AccountUpdatePayload = jws.payload_json()?;
    let deactivate = match update.status.as_deref() {
        None | Some("valid") => false,
        Some("deactivated") => true,
        Some(_) => {
            return Err(Problem::malformed(
                "an account's status can only be set to \"deactivated\"",
            ))
        }
    };
    let contact = update
        .contact
        .as_deref()
        .map(validate_contacts)
        .transpose()?;
    let records = &ctx.shared.records;
    let _guard = records.lock(LockKind::Account, id);
    let mut current = records
        .account(id)?
        .ok_or_else(|| Problem::internal("the account vanished"))?;
    if current.status == AccountStatus::Deactivated {
        return Err(Problem::unauthorized("the account is deactivated"));
    }
    let action = if deactivate {
        current.status = AccountStatus::Deactivated;
        "acme.account.deactivate"
    } else if let Some(contact) = contact {
        current.contact = contact;
        "acme.account.update"
    } else {
        return Reply::json(StatusCode::OK, &account_object(ctx, &current));
    };
    let mut batch = WriteBatch::new();
    records.put_account(&mut batch, &current)?;
    ctx.shared.ra.audit_log().commit_with(
        batch,
        AuditEvent::success(
            &ctx.actor(id),
            action,
            &account_label(id),
            current.contact.join(", "),
        ),
    )?;
    Reply::json(StatusCode::OK, &account_object(ctx, &current))
}

/// keyChange (RFC 8555 §7.3.5): the outer JWS is signed by the account's key, the inner
/// one by the new key over `{account, oldKey}`.
pub(crate) fn key_change(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    let inner = SignedRequest::from_value(jws.payload_json()?).map_err(|p| Problem {
        detail: format!("the inner JWS: {}", p.detail),
        ..p
    })?;
    let KeyRef::Jwk(new_key) = &inner.key else {
        return Err(Problem::malformed(
            "the inner JWS must carry the new key as 'jwk'",
        ));
    };
    if inner.nonce.is_some() {
        return Err(Problem::malformed("the inner JWS must not carry a nonce"));
    }
    if inner.url != jws.url {
        return Err(Problem::malformed(
            "the inner JWS must name the same url as the outer one",
        ));
    }
    inner.verify(new_key)?;
    let payload: KeyChangePayload = inner.payload_json()?;
    if payload.account != ctx.urls.account(account.id) {
        return Err(Problem::malformed(
            "the key change names another account than the one that signed it",
        ));
    }
    if PublicJwk::from_json(&payload.old_key)? != account.key {
        return Err(Problem::unauthorized(
            "oldKey is not the account's current key",
        ));
    }
    if *new_key == account.key {
        return Err(Problem::malformed("the new key is the current key"));
    }
    let records = &ctx.shared.records;
    let conflict = |other: u64| {
        Problem::malformed("another account already uses the new key")
            .with_status(StatusCode::CONFLICT)
            .with_header(header::LOCATION, ctx.urls.account(other))
    };
    if let Some(other) = records.account_by_key(ctx.endpoint.id, &new_key.thumbprint())? {
        return Err(conflict(other.id));
    }
    let _guard = records.lock(LockKind::Account, account.id);
    let mut current = records
        .account(account.id)?
        .ok_or_else(|| Problem::internal("the account vanished"))?;
    if current.key != account.key || current.status != AccountStatus::Valid {
        return Err(Problem::unauthorized(
            "the account changed while the key change was checked; try again",
        ));
    }
    let mut batch = WriteBatch::new();
    records.release_key(&mut batch, &current);
    current.key = new_key.clone();
    records.claim_key(&mut batch, &current)?;
    records.put_account(&mut batch, &current)?;
    let event = AuditEvent::success(
        &ctx.actor(account.id),
        "acme.account.key-change",
        &account_label(account.id),
        format!(
            "key {} replaced by {}",
            account.key.thumbprint(),
            current.key.thumbprint()
        ),
    );
    match ctx.shared.ra.audit_log().commit_with(batch, event) {
        Ok(_) => {}
        Err(StoreError::Conflict { .. }) => {
            let other = records
                .account_by_key(ctx.endpoint.id, &current.key.thumbprint())?
                .map(|a| a.id)
                .unwrap_or(account.id);
            return Err(conflict(other));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::json(StatusCode::OK, &account_object(ctx, &current))?
        .with_location(ctx.urls.account(account.id)))
}

/// The order list of an account (RFC 8555 §7.1.2.1), paginated with `?cursor=<order id>`.
pub(crate) fn orders(
    ctx: &Ctx<'_>,
    account: AccountRecord,
    id: u64,
    jws: &SignedRequest,
) -> Result<Reply, Problem> {
    if id != account.id {
        return Err(Problem::unauthorized("the order list of another account"));
    }
    jws.require_post_as_get()?;
    let after = match ctx.query.as_deref() {
        None | Some("") => 0,
        Some(query) => query
            .strip_prefix("cursor=")
            .and_then(|c| c.parse::<u64>().ok())
            .ok_or_else(|| Problem::malformed("the order list takes one parameter, cursor"))?,
    };
    let mut ids = ctx
        .shared
        .records
        .orders_of(id, after, ORDERS_PER_PAGE + 1)?;
    let more = ids.len() > ORDERS_PER_PAGE;
    ids.truncate(ORDERS_PER_PAGE);
    let mut reply = Reply::json(
        StatusCode::OK,
        &OrderListObject {
            orders: ids.iter().map(|o| ctx.urls.order(*o)).collect(),
        },
    )?;
    if let (true, Some(last)) = (more, ids.last()) {
        reply = reply.with_link(
            &format!("{}?cursor={last}", ctx.urls.account_orders(id)),
            "next",
        );
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_mailto_addresses() {
        assert_eq!(
            validate_contacts(&["MAILTO:Admin@Example.COM".into()]).unwrap(),
            vec!["mailto:Admin@example.com".to_string()]
        );
        for (bad, kind) in [
            ("tel:+123", ProblemType::UnsupportedContact),
            ("mailto:", ProblemType::InvalidContact),
            ("mailto:a@b.com?subject=x", ProblemType::InvalidContact),
            ("mailto:a@b.com,c@d.com", ProblemType::InvalidContact),
            ("mailto:nobody", ProblemType::InvalidContact),
            ("m", ProblemType::UnsupportedContact),
        ] {
            assert_eq!(
                validate_contacts(&[bad.into()]).unwrap_err().kind,
                kind,
                "{bad}"
            );
        }
        assert!(validate_contacts(&vec!["mailto:a@b.com".to_string(); 11]).is_err());
    }
}
