//! A SCEP endpoint's webhook validator: the URL an MDM gives, to which the
//! endpoint POSTs each new enrollment (the SCEP edge makes the call), and the
//! HMAC key that signs those calls: generated here, shown once, sealed at rest
//! like an ACME EAB key, and never written to the audit log.
//!
//! Where a webhook is set it decides instead of the static and one-time
//! challenges (the MDM checks the challenge it handed out); renewals signed
//! with a valid certificate of ours need neither.

use ca_core::store::WriteBatch;
use zeroize::Zeroizing;

use super::{id_key, RaError, RaResult, RegistrationAuthority, ENDPOINTS};
use crate::audit::{AuditEvent, Outcome};
use crate::credentials;
use crate::model::*;

/// The longest webhook URL accepted, in characters.
pub const MAX_SCEP_WEBHOOK_URL_CHARS: usize = 2048;

/// How many random bytes a webhook HMAC key has.
pub const SCEP_WEBHOOK_KEY_BYTES: usize = 32;

/// The longest detail of a validation outcome kept in the audit log, in characters.
const MAX_VALIDATION_DETAIL_CHARS: usize = 300;

/// How an external validator (a SCEP endpoint's webhook) decided on an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScepValidationOutcome {
    /// It accepted: the enrollment goes on.
    Accepted,
    /// It answered and refused.
    Refused,
    /// It could not be asked (unreachable, timed out, the call could not be made):
    /// the enrollment is refused too.
    Failed,
}

/// Refuses a webhook URL that is not an absolute `http` or `https` URL with a host,
/// or that carries credentials (`user:password@`), a fragment, spaces or non-ASCII.
/// Checked by hand: the RA knows nothing of HTTP, and the edge parses the URL again
/// when it calls it.
fn check_webhook_url(url: &str) -> RaResult<()> {
    check_http_url("webhook url", url)
}

/// Refuses `url` (called `what` in the error) unless it is an absolute `http` or
/// `https` URL with a host, without credentials, a fragment, spaces or non-ASCII.
pub(super) fn check_http_url(what: &str, url: &str) -> RaResult<()> {
    let invalid = |why: &str| RaError::InvalidInput(format!("the {what} {why}"));
    if url.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if url.chars().count() > MAX_SCEP_WEBHOOK_URL_CHARS {
        return Err(invalid(&format!(
            "must be at most {MAX_SCEP_WEBHOOK_URL_CHARS} characters"
        )));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "must be ASCII without spaces or control characters (percent-encode the rest)",
        ));
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url["https://".len()..]
    } else if lower.starts_with("http://") {
        &url["http://".len()..]
    } else {
        return Err(invalid("must begin with http:// or https://"));
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if authority.contains('@') {
        return Err(invalid("must not carry credentials (user:password@)"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((address, port)) if port.is_empty() || port.starts_with(':') => {
                check_port(what, port.strip_prefix(':'))?;
                address
            }
            _ => return Err(invalid("has a malformed IPv6 host")),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => {
                check_port(what, Some(port))?;
                host
            }
            None => authority,
        },
    };
    if host.is_empty() {
        return Err(invalid("has no host"));
    }
    if url.contains('#') {
        return Err(invalid("must not have a fragment"));
    }
    Ok(())
}

fn check_port(what: &str, port: Option<&str>) -> RaResult<()> {
    match port {
        None => Ok(()),
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Ok(()),
                _ => Err(RaError::InvalidInput(format!(
                    "the {what}'s port {p} is not between 1 and 65535"
                ))),
            }
        }
        Some(p) => Err(RaError::InvalidInput(format!(
            "the {what}'s port '{p}' is not a number"
        ))),
    }
}

/// A URL as the audit log names it: without its query, which may carry a token of the
/// receiver's own (an Azure Functions `?code=`, say).
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

/// A detail for the audit log: one line, cut to a length an entry can carry.
pub(super) fn audit_detail(detail: &str) -> String {
    detail
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_VALIDATION_DETAIL_CHARS)
        .collect()
}

impl RegistrationAuthority {
    /// Sets (or with `url` `None` removes) the webhook validator of a SCEP endpoint.
    /// Setting one generates a new HMAC key, returned base64url and shown once (a
    /// webhook set again gets a new key; the old one stops working). Needs `manage`
    /// on the endpoint's certificate class within its scope. The audit entry names
    /// the URL without its query, never the key.
    pub fn set_scep_webhook(
        &self,
        actor: &Administrator,
        endpoint_id: EndpointId,
        url: Option<String>,
    ) -> RaResult<Option<Zeroizing<String>>> {
        let action = if url.is_some() {
            "endpoint.scep_webhook.set"
        } else {
            "endpoint.scep_webhook.remove"
        };
        let mut endpoint = self.endpoint_to_manage(actor, endpoint_id, action)?;
        let EndpointKind::Scep { webhook, .. } = &mut endpoint.kind else {
            return Err(RaError::InvalidInput(format!(
                "endpoint '{}' is not a SCEP endpoint",
                endpoint.name
            )));
        };
        let (key, detail) = match url {
            Some(url) => {
                check_webhook_url(&url)?;
                let key =
                    Zeroizing::new(credentials::random_bytes::<SCEP_WEBHOOK_KEY_BYTES>().to_vec());
                let detail = format!("webhook {}, new HMAC key", without_query(&url));
                *webhook = Some(ScepWebhook {
                    url,
                    sealed_hmac_key: self.secrets.seal(&key),
                });
                (Some(key), detail)
            }
            None => {
                let detail = match webhook.take() {
                    Some(old) => format!("webhook {} removed", without_query(&old.url)),
                    None => "no webhook was set".to_string(),
                };
                (None, detail)
            }
        };
        let mut batch = WriteBatch::new();
        ENDPOINTS.put(&mut batch, &id_key(endpoint.id.0), &endpoint)?;
        self.commit(
            batch,
            AuditEvent::success(&actor.username, action, &endpoint_id.label(), detail),
            "SCEP webhook",
        )?;
        use base64::Engine;
        Ok(key.map(|k| {
            Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&k[..]))
        }))
    }

    /// The webhook of a SCEP endpoint with its HMAC key opened, for the SCEP edge
    /// that calls it: `None` where the endpoint has none. A key that cannot be
    /// opened (the data directory's `secrets.key` was replaced) is an error, so
    /// that the edge refuses the enrollment rather than fall back to the challenge.
    pub fn scep_webhook_key(
        &self,
        endpoint: &Endpoint,
    ) -> RaResult<Option<(String, Zeroizing<Vec<u8>>)>> {
        let EndpointKind::Scep {
            webhook: Some(webhook),
            ..
        } = &endpoint.kind
        else {
            return Ok(None);
        };
        let key = self
            .secrets
            .open_sealed(&webhook.sealed_hmac_key)
            .ok_or_else(|| {
                RaError::Store(ca_core::store::StoreError::Codec {
                    table: ENDPOINTS.name(),
                    reason: format!(
                        "the webhook HMAC key of endpoint '{}' cannot be opened with this secrets.key",
                        endpoint.name
                    ),
                })
            })?;
        Ok(Some((webhook.url.clone(), key)))
    }

    /// Records in the audit log how a SCEP endpoint's webhook decided on an
    /// enrollment by `actor` (the SCEP client). `detail` is the edge's account of
    /// the answer ("answered 403", "timed out"); it must name neither the challenge
    /// nor the key, and is cut to one short line.
    pub fn record_scep_validation(
        &self,
        endpoint: &Endpoint,
        actor: &str,
        outcome: ScepValidationOutcome,
        detail: &str,
    ) -> RaResult<()> {
        let mut event = AuditEvent::success(
            actor,
            "scep.webhook",
            &endpoint.id.label(),
            audit_detail(detail),
        );
        event.outcome = match outcome {
            ScepValidationOutcome::Accepted => Outcome::Success,
            ScepValidationOutcome::Refused => Outcome::Denied,
            ScepValidationOutcome::Failed => Outcome::Failed,
        };
        self.audit.record(event)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_absolute_http_or_https_with_a_host_and_no_credentials() {
        for good in [
            "https://mdm.example.com/scep/validate",
            "http://127.0.0.1:8080/hook",
            "HTTPS://MDM.example.com",
            "https://[::1]:9443/v?tenant=4",
            "http://[2001:db8::1]/",
        ] {
            check_webhook_url(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            "mdm.example.com/validate",
            "ftp://mdm.example.com/",
            "https://",
            "https:///path",
            "https://user:secret@mdm.example.com/",
            "https://mdm.example.com:0/",
            "https://mdm.example.com:99999/",
            "https://mdm.example.com:http/",
            "https://mdm.example.com/a b",
            "https://mdm.example.com/\u{e9}",
            "https://mdm.example.com/#frag",
            "https://[::1/",
            "javascript:alert(1)",
        ] {
            assert!(check_webhook_url(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("https://mdm.example.com/{}", "a".repeat(3000));
        assert!(check_webhook_url(&long).is_err());
    }

    #[test]
    fn an_endpoint_record_from_before_webhooks_still_decodes() {
        use ca_core::store::Record;
        use serde::{Deserialize, Serialize};

        #[derive(Serialize, Deserialize)]
        #[serde(tag = "kind", rename_all = "kebab-case")]
        enum OldKind {
            Scep { challenge_hash: String },
        }
        impl Record for OldKind {
            const SCHEMA_VERSION: u16 = 1;
        }
        #[derive(Serialize, Deserialize)]
        #[serde(transparent)]
        struct NewKind(EndpointKind);
        impl Record for NewKind {
            const SCHEMA_VERSION: u16 = 1;
        }

        let old = ca_core::store::encode(
            "t",
            &OldKind::Scep {
                challenge_hash: "abc".into(),
            },
        )
        .unwrap();
        let NewKind(kind) = ca_core::store::decode("t", &old).unwrap();
        assert_eq!(
            kind,
            EndpointKind::Scep {
                challenge_hash: "abc".into(),
                webhook: None
            }
        );
        let with = EndpointKind::Scep {
            challenge_hash: "abc".into(),
            webhook: Some(ScepWebhook {
                url: "https://mdm.example.com/".into(),
                sealed_hmac_key: vec![1, 2, 3],
            }),
        };
        let encoded = ca_core::store::encode("t", &NewKind(with.clone())).unwrap();
        let NewKind(back) = ca_core::store::decode("t", &encoded).unwrap();
        assert_eq!(back, with);
    }
}
