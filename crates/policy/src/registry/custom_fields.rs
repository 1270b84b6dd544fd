//! Custom fields: named values an organization wants on every request of a
//! certificate class (a cost centre, a ticket number), defined by an MRAO,
//! mandatory or not, checked on every request an administrator submits and
//! kept on the request.
//!
//! Protocol clients (ACME, SCEP, EST) cannot send custom fields, so the check
//! applies to the administrators' surfaces (REST API, CLI, the certificate
//! manager's API); what an endpoint issues carries none.

use ca_core::store::{KeyRange, Record, WriteBatch};
use serde::{Deserialize, Serialize};

use super::{check_text, id_key, now, RaError, RaResult, RegistrationAuthority};
use super::{CUSTOM_FIELDS, NAMES};
use crate::audit::AuditEvent;
use crate::authz::Action;
use crate::model::{Administrator, CertificateClass, OrgId};
use crate::request::{CustomFieldValue, RequestAnnotations};

/// The longest custom field value.
pub const MAX_CUSTOM_FIELD_VALUE_CHARS: usize = 256;
/// The most custom fields defined per certificate class.
pub const MAX_CUSTOM_FIELDS_PER_CLASS: usize = 64;

/// A custom field defined for a certificate class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomField {
    /// Its id.
    pub id: u64,
    /// The class of certificates it applies to.
    pub class: CertificateClass,
    /// Its name, unique within the class.
    pub name: String,
    /// Whether every request of the class must give it.
    pub mandatory: bool,
    /// Unix time of creation.
    pub created_at: i64,
}

impl Record for CustomField {
    const SCHEMA_VERSION: u16 = 1;
}

fn claim(class: CertificateClass, name: &str) -> String {
    format!("custom-field:{class:?}:{}", name.to_lowercase())
}

impl RegistrationAuthority {
    /// Defines a custom field for a class of certificates (MRAO).
    pub fn create_custom_field(
        &self,
        actor: &Administrator,
        class: CertificateClass,
        name: &str,
        mandatory: bool,
    ) -> RaResult<CustomField> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "custom_field.create",
            name,
        )?;
        check_text("name", name, 64)?;
        if self.custom_fields(Some(class))?.len() >= MAX_CUSTOM_FIELDS_PER_CLASS {
            return Err(RaError::InvalidInput(format!(
                "at most {MAX_CUSTOM_FIELDS_PER_CLASS} custom fields per certificate class"
            )));
        }
        let field = CustomField {
            id: self.next_id(CUSTOM_FIELDS.name()),
            class,
            name: name.trim().to_string(),
            mandatory,
            created_at: now(),
        };
        let mut batch = WriteBatch::new();
        self.claim_name(&mut batch, &claim(class, &field.name), field.id)?;
        CUSTOM_FIELDS.put(&mut batch, &id_key(field.id), &field)?;
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "custom_field.create",
                &format!("custom-field:{}", field.id),
                format!(
                    "{} for {class:?}{}",
                    field.name,
                    if mandatory { ", mandatory" } else { "" }
                ),
            ),
            &format!("custom field '{name}'"),
        )?;
        Ok(field)
    }

    /// Deletes a custom field definition (MRAO); values already on requests stay.
    pub fn delete_custom_field(&self, actor: &Administrator, id: u64) -> RaResult<()> {
        self.require(
            actor,
            Action::Administer,
            crate::authz::org_scope(OrgId(0)),
            "custom_field.delete",
            &format!("custom-field:{id}"),
        )?;
        let field = CUSTOM_FIELDS
            .get(&self.store, &id_key(id))?
            .ok_or_else(|| RaError::NotFound(format!("custom field {id}")))?;
        let mut batch = WriteBatch::new();
        CUSTOM_FIELDS.delete(&mut batch, &id_key(id));
        NAMES.delete(&mut batch, claim(field.class, &field.name).as_bytes());
        self.commit(
            batch,
            AuditEvent::success(
                &actor.username,
                "custom_field.delete",
                &format!("custom-field:{id}"),
                field.name,
            ),
            "custom field",
        )?;
        Ok(())
    }

    /// The custom fields defined, of one class or of all, by id.
    pub fn custom_fields(&self, class: Option<CertificateClass>) -> RaResult<Vec<CustomField>> {
        Ok(CUSTOM_FIELDS
            .scan(&self.store, KeyRange::all(), usize::MAX)?
            .into_iter()
            .map(|(_, f)| f)
            .filter(|f| class.is_none_or(|c| f.class == c))
            .collect())
    }

    /// Checks an administrator's annotations against the class's custom fields: each
    /// value names a defined field at most once, every mandatory field has a value, and
    /// the texts are within their limits. Field names come back as defined.
    pub(super) fn check_annotations(
        &self,
        class: CertificateClass,
        annotations: &RequestAnnotations,
    ) -> RaResult<RequestAnnotations> {
        if annotations.comments.chars().count() > 1024 {
            return Err(RaError::InvalidInput(
                "comments must be at most 1024 characters".into(),
            ));
        }
        if annotations.external_requester.chars().count() > 512 {
            return Err(RaError::InvalidInput(
                "externalRequester must be at most 512 characters".into(),
            ));
        }
        let defined = self.custom_fields(Some(class))?;
        let mut values: Vec<CustomFieldValue> = Vec::new();
        for given in &annotations.custom_fields {
            let field = defined
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(given.name.trim()))
                .ok_or_else(|| {
                    RaError::InvalidInput(format!(
                        "custom field '{}' is not defined for {class:?} certificates",
                        given.name.chars().take(64).collect::<String>()
                    ))
                })?;
            if values.iter().any(|v| v.name == field.name) {
                return Err(RaError::InvalidInput(format!(
                    "custom field '{}' is given twice",
                    field.name
                )));
            }
            if given.value.chars().count() > MAX_CUSTOM_FIELD_VALUE_CHARS
                || given.value.chars().any(char::is_control)
            {
                return Err(RaError::InvalidInput(format!(
                    "custom field '{}' must be at most {MAX_CUSTOM_FIELD_VALUE_CHARS} characters without control characters",
                    field.name
                )));
            }
            values.push(CustomFieldValue {
                name: field.name.clone(),
                value: given.value.clone(),
            });
        }
        for field in defined.iter().filter(|f| f.mandatory) {
            let given = values
                .iter()
                .any(|v| v.name == field.name && !v.value.trim().is_empty());
            if !given {
                return Err(RaError::MissingCustomField(field.name.clone()));
            }
        }
        Ok(RequestAnnotations {
            comments: annotations.comments.clone(),
            external_requester: annotations.external_requester.clone(),
            custom_fields: values,
        })
    }
}
