//! Request bodies as they arrive on the wire, and their conversion into the
//! RA's validated types. Every type refuses unknown fields; the RA checks the
//! content (lengths, names, existence), this module the shape.

use std::collections::{BTreeMap, BTreeSet};

use policy::model::{Address, CertificateClass, DeptId, OrgId, Privilege, Privileges, Role};
use policy::request::CustomFieldValue;
use serde::Deserialize;

use crate::error::ApiError;

/// POST /login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// PUT /access/allow-lists: each role given gets this list of networks (IPv4 / IPv6
/// CIDR, or a bare address); an empty list lifts the role's restriction; a role not
/// given keeps its list.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowListsRequest {
    /// The MRAO list.
    pub mrao: Option<Vec<String>>,
    /// The RAO list.
    pub rao: Option<Vec<String>>,
    /// The DRAO list.
    pub drao: Option<Vec<String>>,
}

impl AllowListsRequest {
    /// The roles given with their lists, each network parsed and checked.
    pub fn changes(
        &self,
    ) -> Result<
        Vec<(
            policy::registry::RoleName,
            Vec<policy::registry::AllowedNetwork>,
        )>,
        ApiError,
    > {
        use policy::registry::RoleName;
        let mut changes = Vec::new();
        for (role, list) in [
            (RoleName::Mrao, &self.mrao),
            (RoleName::Rao, &self.rao),
            (RoleName::Drao, &self.drao),
        ] {
            if let Some(list) = list {
                let networks = policy::registry::parse_networks(list).map_err(|e| match e {
                    policy::registry::RaError::InvalidInput(m) => {
                        ApiError::invalid_input(format!("{role}: {m}"))
                    }
                    other => other.into(),
                })?;
                changes.push((role, networks));
            }
        }
        if changes.is_empty() {
            return Err(ApiError::invalid_input(
                "give the list of at least one role: mrao, rao or drao",
            ));
        }
        Ok(changes)
    }
}

/// POST /api-keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// Whose key (default: the caller's own).
    pub admin_id: Option<u64>,
    /// A label for listings.
    pub label: String,
}

/// POST /api-keys/revoke.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeApiKeyRequest {
    /// The key's id.
    pub id: String,
}

/// An organization's address.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    /// L.
    pub locality: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// C, two upper-case letters.
    pub country: Option<String>,
}

impl From<AddressRequest> for Address {
    fn from(a: AddressRequest) -> Self {
        Address {
            locality: a.locality,
            state: a.state,
            country: a.country,
        }
    }
}

/// POST /organizations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    /// The name.
    pub name: String,
    /// The address.
    #[serde(default)]
    pub address: AddressRequest,
}

/// POST /departments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentRequest {
    /// The organization.
    pub org: OrgId,
    /// The name.
    pub name: String,
}

/// POST /domains.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainRequest {
    /// A DNS domain or an IP network (CIDR).
    pub name: String,
    /// The organization.
    pub org: OrgId,
    /// The department, to delegate to one only.
    pub dept: Option<DeptId>,
}

/// An administrator's role name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Master RA officer.
    Mrao,
    /// RA officer of organizations.
    Rao,
    /// Department RA officer.
    Drao,
}

/// POST /admins.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminRequest {
    /// Login name.
    pub username: String,
    /// Initial password (at least 12 characters).
    pub password: String,
    /// The role.
    pub role: RoleName,
    /// An RAO's organizations.
    #[serde(default)]
    pub orgs: Vec<OrgId>,
    /// A DRAO's departments.
    #[serde(default)]
    pub depts: Vec<DeptId>,
    /// Privileges per certificate class, e.g. `{"tls-server": ["request", "approve"]}`.
    #[serde(default)]
    pub privileges: BTreeMap<String, Vec<String>>,
}

impl AdminRequest {
    /// The role with its scope; a scope that does not belong to the role is refused
    /// rather than ignored, so that a typo cannot create a wider administrator.
    pub fn role(&self) -> Result<Role, ApiError> {
        match self.role {
            RoleName::Mrao if !self.orgs.is_empty() || !self.depts.is_empty() => Err(
                ApiError::invalid_input("an MRAO has no orgs or depts: it sees everything"),
            ),
            RoleName::Mrao => Ok(Role::Mrao),
            RoleName::Rao if !self.depts.is_empty() => Err(ApiError::invalid_input(
                "an RAO is delegated organizations (orgs), not departments",
            )),
            RoleName::Rao => Ok(Role::Rao {
                orgs: self.orgs.iter().copied().collect(),
            }),
            RoleName::Drao if !self.orgs.is_empty() => Err(ApiError::invalid_input(
                "a DRAO is delegated departments (depts), not organizations",
            )),
            RoleName::Drao => Ok(Role::Drao {
                depts: self.depts.iter().copied().collect(),
            }),
        }
    }

    /// The privileges; an MRAO holds all of them whatever is asked.
    pub fn privileges(&self) -> Result<Privileges, ApiError> {
        if self.role == RoleName::Mrao {
            return Ok(Privileges::all());
        }
        let mut out: BTreeMap<CertificateClass, BTreeSet<Privilege>> = BTreeMap::new();
        for (class, privileges) in &self.privileges {
            let class = certificate_class(class)?;
            let set = out.entry(class).or_default();
            for privilege in privileges {
                set.insert(word(privilege).map_err(|_| {
                    ApiError::invalid_input(format!(
                        "unknown privilege '{privilege}' (request, approve, revoke, manage)"
                    ))
                })?);
            }
        }
        Ok(Privileges(out))
    }
}

/// Parses a kebab-case word with the model's own serde names, so the API and the
/// store cannot disagree on spelling.
fn word<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
}

/// A certificate class by its wire name (`tls-server`, ...), as privileges and the
/// custom-field filter spell it.
pub fn certificate_class(text: &str) -> Result<CertificateClass, ApiError> {
    word(text).map_err(|_| {
        ApiError::invalid_input(format!(
            "unknown certificate class '{}' (tls-server, client-smime, device, code-signing)",
            text.chars().take(64).collect::<String>()
        ))
    })
}

/// POST /admins/{id}/client-certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificateRequest {
    /// The certificate, one PEM `CERTIFICATE` block (text around it is ignored).
    pub certificate: String,
}

impl ClientCertificateRequest {
    /// The certificate's DER. Exactly one block: a link pins one certificate, and taking
    /// the first of a chain could pin another than the one meant.
    pub fn der(&self) -> Result<Vec<u8>, ApiError> {
        let mut blocks = ca_core::authority::pem_certificates(&self.certificate)
            .map_err(|e| ApiError::invalid_input(format!("certificate: {e}")))?;
        match blocks.len() {
            1 => Ok(blocks.remove(0)),
            0 => Err(ApiError::invalid_input(
                "certificate: no PEM CERTIFICATE block found",
            )),
            n => Err(ApiError::invalid_input(format!(
                "certificate: {n} CERTIFICATE blocks; link one certificate at a time"
            ))),
        }
    }
}

/// POST /admins/{id}/client-certificates/unlink.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnlinkClientCertificateRequest {
    /// The linked certificate's SHA-256 fingerprint, hex (upper or lower case; the
    /// `AB:CD:...` form that `openssl x509 -fingerprint -sha256` prints is accepted).
    pub sha256: String,
}

impl UnlinkClientCertificateRequest {
    /// The fingerprint as the RA stores it (64 lower-case hex digits). Checked here so
    /// that a typo is a 400 naming the expected form, not a 404 that looks like a
    /// missing link.
    pub fn sha256(&self) -> Result<String, ApiError> {
        let hex: String = self
            .sha256
            .trim()
            .chars()
            .filter(|c| *c != ':')
            .collect::<String>()
            .to_ascii_lowercase();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(hex)
        } else {
            Err(ApiError::invalid_input(
                "sha256: a SHA-256 fingerprint is 64 hex digits (colons allowed)",
            ))
        }
    }
}

/// PUT /endpoints/{id}/scep-webhook.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScepWebhookRequest {
    /// The `http` or `https` URL the endpoint POSTs each new enrollment to.
    pub url: String,
}

/// A body that must be empty or `{}` (actions without parameters).
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// POST /requests.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// The PKCS#10 CSR, PEM.
    pub csr: String,
    /// The certificate profile.
    pub profile: String,
    /// The owning organization.
    pub org: OrgId,
    /// The owning department.
    pub dept: Option<DeptId>,
    /// Term in days (default: the profile's).
    pub term_days: Option<u32>,
    /// Free-text comments, kept on the request.
    #[serde(default)]
    pub comments: String,
    /// E-mail addresses outside the RA to notify, comma-separated.
    #[serde(default)]
    pub external_requester: String,
    /// Values of the custom fields defined for the profile's certificate class; the RA
    /// refuses a request without one that the class makes mandatory.
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldValueRequest>,
}

/// One custom field's value in a submission.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldValueRequest {
    /// The field's name, as defined for the class (compared without regard to case).
    pub name: String,
    /// Its value.
    pub value: String,
}

impl From<CustomFieldValueRequest> for CustomFieldValue {
    fn from(f: CustomFieldValueRequest) -> Self {
        CustomFieldValue {
            name: f.name,
            value: f.value,
        }
    }
}

/// POST /custom-fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldRequest {
    /// The class of certificates whose requests carry it.
    pub class: CertificateClass,
    /// Its name, unique within the class.
    pub name: String,
    /// Whether every administrator's request of the class must give it.
    #[serde(default)]
    pub mandatory: bool,
}

/// PATCH /requests/{id}.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The new term in days; `null` for the profile's default.
    pub term_days: Option<u32>,
}

/// POST /requests/{id}/approve and /decline.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why (recorded in the history and the audit log).
    #[serde(default)]
    pub message: String,
}

/// POST /certificates/{id}/revoke.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// An RFC 5280 reason name (e.g. "key-compromise") or code.
    pub reason: String,
    /// Free text.
    #[serde(default)]
    pub message: String,
}

/// POST /certificates/{id}/renew.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RenewRequest {
    /// A new CSR (PEM); absent to renew with the same key.
    pub csr: Option<String>,
}

/// PUT /sso/idp.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoMetadataRequest {
    /// The identity provider's SAML federation metadata (XML).
    pub metadata: String,
}

/// POST /sso/templates: the role, scope and privileges are spelled as in POST /admins.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminTemplateRequest {
    /// Its name, unique.
    pub name: String,
    /// The SAML attribute looked at (Name or FriendlyName).
    pub attribute: String,
    /// The value that selects the template.
    pub value: String,
    /// The role given.
    pub role: RoleName,
    /// An RAO's organizations.
    #[serde(default)]
    pub orgs: Vec<OrgId>,
    /// A DRAO's departments.
    #[serde(default)]
    pub depts: Vec<DeptId>,
    /// Privileges per certificate class.
    #[serde(default)]
    pub privileges: BTreeMap<String, Vec<String>>,
}

impl AdminTemplateRequest {
    /// The role with its scope and the privileges, checked as for an administrator.
    pub fn role_and_privileges(&self) -> Result<(Role, Privileges), ApiError> {
        let as_admin = AdminRequest {
            username: String::new(),
            password: String::new(),
            role: self.role,
            orgs: self.orgs.clone(),
            depts: self.depts.clone(),
            privileges: self.privileges.clone(),
        };
        Ok((as_admin.role()?, as_admin.privileges()?))
    }
}

/// PUT /admins/{id}/password-login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordLoginRequest {
    /// Whether their password signs them in.
    pub enabled: bool,
}

/// PUT /admins/{id}/password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    /// The caller's current password (changing their own).
    pub current_password: Option<String>,
    /// The new password.
    pub new_password: String,
}

/// PUT /admins/{id}/idp-identity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpIdentityRequest {
    /// Their eduPersonPrincipalName at the identity provider; null clears it.
    pub identity: Option<String>,
}

/// POST /certificates/{id}/replace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceRequest {
    /// The new CSR (PEM).
    pub csr: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(json: serde_json::Value) -> AdminRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn roles_and_privileges() {
        let a = admin(serde_json::json!({
            "username": "d", "password": "p", "role": "drao", "depts": [3],
            "privileges": {"tls-server": ["request", "approve"]}
        }));
        assert!(matches!(a.role().unwrap(), Role::Drao { depts } if depts.len() == 1));
        let p = a.privileges().unwrap();
        assert!(p.allows(CertificateClass::TlsServer, Privilege::Approve));
        assert!(!p.allows(CertificateClass::Device, Privilege::Request));

        let bad = admin(serde_json::json!({
            "username": "d", "password": "p", "role": "drao", "orgs": [1], "depts": [3]
        }));
        assert!(bad.role().is_err());
        let bad = admin(serde_json::json!({
            "username": "d", "password": "p", "role": "rao", "orgs": [1],
            "privileges": {"tls-sever": ["request"]}
        }));
        assert!(bad.privileges().is_err());
        let bad = admin(serde_json::json!({
            "username": "d", "password": "p", "role": "rao", "orgs": [1],
            "privileges": {"tls-server": ["approv"]}
        }));
        assert!(bad.privileges().is_err());
    }

    #[test]
    fn fingerprints_are_normalized_and_checked() {
        let unlink = |text: &str| {
            UnlinkClientCertificateRequest {
                sha256: text.to_string(),
            }
            .sha256()
        };
        let lower = "ab".repeat(32);
        assert_eq!(unlink(&lower).unwrap(), lower);
        assert_eq!(unlink(&"AB".repeat(32)).unwrap(), lower);
        assert_eq!(unlink(&vec!["AB"; 32].join(":")).unwrap(), lower);
        assert_eq!(unlink(&format!(" {lower}\n")).unwrap(), lower);
        let spaced = vec!["ab"; 32].join(" ");
        for bad in [
            "",
            "ab",
            &"ab".repeat(33),
            &"zz".repeat(32),
            spaced.as_str(),
        ] {
            assert_eq!(unlink(bad).unwrap_err().code(), "invalid_input", "{bad:?}");
        }
    }

    #[test]
    fn a_certificate_is_one_pem_block() {
        let der = |text: &str| {
            ClientCertificateRequest {
                certificate: text.to_string(),
            }
            .der()
        };
        let block = ca_core::encoding::pem("CERTIFICATE", &[0x30, 0x00]);
        assert_eq!(der(&block).unwrap(), vec![0x30, 0x00]);
        assert_eq!(
            der(&format!("subject=CN=x\n{block}")).unwrap(),
            vec![0x30, 0x00]
        );
        for bad in [
            "".to_string(),
            "hello".to_string(),
            format!("{block}{block}"),
        ] {
            assert_eq!(der(&bad).unwrap_err().code(), "invalid_input", "{bad:?}");
        }
    }
}
