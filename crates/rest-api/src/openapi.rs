//! The OpenAPI 3.1 document, generated from the route table ([`ROUTES`]) that
//! the router uses, so every routable operation is documented and nothing
//! documented is unroutable. The component schemas are written here by hand;
//! tests check that every reference resolves and (in tests/api.rs) that the
//! request schemas are accepted by the handlers' decoders.

use policy::registry::{
    DEFAULT_ONE_TIME_CHALLENGE_SECONDS, MAX_CUSTOM_FIELDS_PER_CLASS, MAX_CUSTOM_FIELD_VALUE_CHARS,
    MAX_LINKED_CERTIFICATES, MAX_ONE_TIME_CHALLENGE_SECONDS,
};
use serde_json::{json, Map, Value};

use crate::body::{MAX_CSR_CHARS, MAX_STRING_CHARS};
use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::routes::{BodyKind, ParamType, ResponseKind, RouteSpec, ROUTES};

/// Operations that other edges of the same gateway add to its one document (the
/// certificate manager's compatible API): `ca-admin serve` composes them, so that this
/// crate knows nothing of the other edge.
#[derive(Debug, Clone, Default)]
pub struct DocumentExtension {
    /// More `paths` entries.
    pub paths: Map<String, Value>,
    /// More component schemas.
    pub schemas: Map<String, Value>,
    /// More security schemes.
    pub security_schemes: Map<String, Value>,
}

/// The whole document with another edge's operations added.
pub fn document_with(base_url: &str, extension: &DocumentExtension) -> Value {
    let mut document = document(base_url);
    for (section, entries) in [
        ("/paths", &extension.paths),
        ("/components/schemas", &extension.schemas),
        ("/components/securitySchemes", &extension.security_schemes),
    ] {
        if let Some(Value::Object(target)) = document.pointer_mut(section) {
            for (k, v) in entries {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    document
}

/// The whole document; `base_url` is the server's (e.g. `https://127.0.0.1:8443`).
pub fn document(base_url: &str) -> Value {
    let mut paths = Map::new();
    for spec in ROUTES {
        let item = paths
            .entry(spec.path.to_string())
            .or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(spec.method.to_ascii_lowercase(), operation(spec));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Certwright REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": concat!(
                "Operators' and integrations' API of the Certwright private CA. ",
                "Every operation but login and this document needs `Authorization: Bearer <token>`, ",
                "with a token from POST /api/v1/login or a long-lived API key. ",
                "Errors are `{\"error\": {\"code\", \"message\"}}`. ",
                "Lists are pages `{\"items\", \"next_after\"}`: pass next_after as ?after= for the next page."
            ),
        },
        "servers": [{ "url": base_url.trim_end_matches('/') }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A session token (POST /api/v1/login) or an API key (POST /api/v1/api-keys)."
                }
            },
            "responses": {
                "Error": {
                    "description": "An error; `code` is machine-readable.",
                    "content": { "application/json": { "schema": reference("Error") } }
                }
            },
            "schemas": schemas(),
        }
    })
}

fn reference(schema: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{schema}") })
}

fn operation(spec: &RouteSpec) -> Value {
    let mut parameters = Vec::new();
    if spec.path.contains("{id}") {
        parameters.push(json!({
            "name": "id",
            "in": "path",
            "required": true,
            "schema": { "type": "integer", "format": "int64", "minimum": 0 }
        }));
    }
    for q in spec.query {
        let schema = match q.kind {
            ParamType::Integer if q.name == "limit" => json!({
                "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT
            }),
            ParamType::Integer => json!({ "type": "integer", "format": "int64", "minimum": 0 }),
            ParamType::Text => json!({ "type": "string", "maxLength": MAX_STRING_CHARS }),
            ParamType::Time => json!({
                "type": "string",
                "description": "RFC 3339 (2030-01-01T00:00:00Z) or unix seconds"
            }),
            ParamType::Enum(words) => json!({ "type": "string", "enum": words }),
        };
        parameters.push(json!({
            "name": q.name,
            "in": "query",
            "required": false,
            "description": q.description,
            "schema": schema
        }));
    }

    let mut responses = Map::new();
    let (status, success) = match spec.response {
        ResponseKind::Json(status, schema) => (
            status,
            json!({
                "description": "Success.",
                "content": { "application/json": { "schema": reference(schema) } }
            }),
        ),
        ResponseKind::Page(schema) => (
            200,
            json!({
                "description": "A page of items.",
                "content": { "application/json": { "schema": {
                    "type": "object",
                    "required": ["items", "next_after"],
                    "properties": {
                        "items": { "type": "array", "items": reference(schema) },
                        "next_after": { "type": ["integer", "null"] }
                    }
                } } }
            }),
        ),
        ResponseKind::NoContent => (204, json!({ "description": "Done." })),
        ResponseKind::Csv => (
            200,
            json!({
                "description": "CSV (RFC 4180) with a header row.",
                "content": { "text/csv": { "schema": { "type": "string" } } }
            }),
        ),
        ResponseKind::Download => (
            200,
            json!({
                "description": "The certificate file, with a Content-Disposition file name.",
                "content": {
                    "application/pkix-cert": { "schema": { "type": "string", "format": "binary" } },
                    "application/pem-certificate-chain": { "schema": { "type": "string" } },
                    "application/pkcs7-mime": { "schema": { "type": "string", "format": "binary" } },
                    "application/x-pem-file": { "schema": { "type": "string" } }
                }
            }),
        ),
        ResponseKind::Document => (
            200,
            json!({
                "description": "The OpenAPI document.",
                "content": { "application/json": { "schema": { "type": "object" } } }
            }),
        ),
    };
    responses.insert(status.to_string(), success);
    let error = json!({ "$ref": "#/components/responses/Error" });
    let mut errors = vec!["400", "404", "500"];
    if spec.auth {
        errors.extend(["401", "403"]);
    }
    if spec.id == crate::routes::RouteId::Login {
        // A wrong password; a right one from outside the role's allow-list; a locked
        // account or address (with Retry-After).
        errors.extend(["401", "403", "429"]);
    }
    if spec.body != BodyKind::None {
        errors.extend(["413", "415"]);
    }
    if spec.method != "GET" {
        errors.push("409");
    }
    for code in errors {
        responses.insert(code.to_string(), error.clone());
    }

    let mut op = json!({
        "operationId": spec.id.operation_id(),
        "summary": spec.summary,
        "tags": [spec.tag],
        "security": if spec.auth { json!([{ "bearer": [] }]) } else { json!([]) },
        "parameters": parameters,
        "responses": responses,
    });
    let body = match spec.body {
        BodyKind::None | BodyKind::Empty => None,
        BodyKind::Json(schema) => Some(json!({
            "required": true,
            "content": { "application/json": { "schema": reference(schema) } }
        })),
        BodyKind::OptionalJson(schema) => Some(json!({
            "required": false,
            "content": { "application/json": { "schema": reference(schema) } }
        })),
        BodyKind::Import => Some(json!({
            "required": true,
            "description": "At most 16 MiB; a ZIP may hold PEM and DER files.",
            "content": {
                "application/x-pem-file": { "schema": { "type": "string" } },
                "application/pkix-cert": { "schema": { "type": "string", "format": "binary" } },
                "application/zip": { "schema": { "type": "string", "format": "binary" } }
            }
        })),
    };
    if let (Some(body), Value::Object(op)) = (body, &mut op) {
        op.insert("requestBody".into(), body);
    }
    op
}

fn text(max: usize) -> Value {
    json!({ "type": "string", "maxLength": max })
}

fn id() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 0 })
}

fn optional_id() -> Value {
    json!({ "type": ["integer", "null"], "format": "int64", "minimum": 0 })
}

fn time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

/// One role's allow-list in a request: IPv4 / IPv6 networks in CIDR form, or bare
/// addresses (a /32 or /128); empty: no restriction.
fn networks() -> Value {
    json!({
        "type": "array",
        "maxItems": policy::registry::MAX_ALLOWED_NETWORKS,
        "items": { "type": "string", "maxLength": 64, "example": "192.0.2.0/24" },
        "description": "Replaces the role's list; a network must have no host bits set (10.1.0.0/16, not 10.1.2.3/16). An IPv4-mapped IPv6 client address (::ffff:a.b.c.d) matches IPv4 networks."
    })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// A request body schema: closed (the decoders refuse unknown fields).
fn closed(required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties
    })
}

/// A response schema.
fn open(properties: Value) -> Value {
    json!({ "type": "object", "properties": properties })
}

const CLASSES: [&str; 4] = ["tls-server", "client-smime", "device", "code-signing"];
const PRIVILEGES: [&str; 4] = ["request", "approve", "revoke", "manage"];

fn schemas() -> Value {
    let reasons: Vec<&str> = ca_core::revocation::RevocationReason::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    let s = MAX_STRING_CHARS;
    // One json! per schema: a single literal this size passes the macro recursion limit.
    let entries: Vec<(&str, Value)> = vec![
        (
            "Error",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": { "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string", "enum": [
                            "invalid_input", "malformed_json", "unknown_field", "unauthenticated",
                            "forbidden", "not_found", "method_not_allowed", "conflict",
                            "illegal_transition", "too_large", "unsupported_media_type",
                            "too_many_failures", "internal"
                        ] },
                        "message": { "type": "string" }
                    }
                } }
            }),
        ),
        (
            "LoginRequest",
            closed(
                &["username", "password"],
                json!({
                    "username": text(s),
                    "password": text(s)
                }),
            ),
        ),
        (
            "LoginResponse",
            open(json!({
                "token": { "type": "string" },
                "token_type": { "type": "string", "enum": ["Bearer"] },
                "expires_in": { "type": "integer", "description": "Seconds." },
                "admin": reference("Admin")
            })),
        ),
        (
            "ApiKeyRequest",
            closed(
                &["label"],
                json!({
                    "admin_id": optional_id(),
                    "label": text(64)
                }),
            ),
        ),
        (
            "ApiKeyCreated",
            open(json!({
                "id": { "type": "string" },
                "key": { "type": "string", "description": "Shown once; store it." },
                "admin_id": id(),
                "label": { "type": "string" },
                "created_at": time()
            })),
        ),
        (
            "RevokeApiKeyRequest",
            closed(
                &["id"],
                json!({ "id": { "type": "string", "maxLength": 64, "description": "The key's id (the part before the dot)." } }),
            ),
        ),
        (
            "ApiKey",
            open(json!({
                "id": { "type": "string" },
                "admin_id": id(),
                "label": { "type": "string" },
                "created_at": time()
            })),
        ),
        (
            "ApiKeyList",
            open(json!({ "items": { "type": "array", "items": reference("ApiKey") } })),
        ),
        (
            "OrganizationRequest",
            closed(
                &["name"],
                json!({
                    "name": text(128),
                    "address": closed(&[], json!({
                        "locality": { "type": ["string", "null"], "maxLength": 128 },
                        "state": { "type": ["string", "null"], "maxLength": 128 },
                        "country": { "type": ["string", "null"], "pattern": "^[A-Z]{2}$", "example": "DE" }
                    }))
                }),
            ),
        ),
        (
            "Organization",
            open(json!({
                "id": id(),
                "name": { "type": "string" },
                "address": open(json!({
                    "locality": { "type": ["string", "null"] },
                    "state": { "type": ["string", "null"] },
                    "country": { "type": ["string", "null"] }
                })),
                "created_at": time()
            })),
        ),
        (
            "DepartmentRequest",
            closed(
                &["org", "name"],
                json!({
                    "org": id(),
                    "name": text(128)
                }),
            ),
        ),
        (
            "Department",
            open(json!({
                "id": id(), "org": id(), "name": { "type": "string" }, "created_at": time()
            })),
        ),
        (
            "DomainRequest",
            closed(
                &["name", "org"],
                json!({
                    "name": { "type": "string", "maxLength": 253, "description": "A DNS domain (covers its subdomains) or an IP network in CIDR form.", "example": "example.com" },
                    "org": id(),
                    "dept": optional_id()
                }),
            ),
        ),
        (
            "Domain",
            open(json!({
                "id": id(), "name": { "type": "string" }, "org": id(), "dept": optional_id(), "created_at": time()
            })),
        ),
        (
            "AdminRequest",
            closed(
                &["username", "password", "role"],
                json!({
                    "username": { "type": "string", "maxLength": 64, "pattern": "^[a-z0-9._-]+$" },
                    "password": { "type": "string", "minLength": 12, "maxLength": 1024 },
                    "role": { "type": "string", "enum": ["mrao", "rao", "drao"] },
                    "orgs": { "type": "array", "items": id(), "description": "An RAO's organizations." },
                    "depts": { "type": "array", "items": id(), "description": "A DRAO's departments." },
                    "privileges": {
                        "type": "object",
                        "propertyNames": { "enum": CLASSES },
                        "additionalProperties": { "type": "array", "items": { "type": "string", "enum": PRIVILEGES } },
                        "example": { "tls-server": ["request", "approve"] }
                    }
                }),
            ),
        ),
        (
            "Admin",
            open(json!({
                "id": id(),
                "username": { "type": "string" },
                "role": { "type": "string", "enum": ["mrao", "rao", "drao"] },
                "orgs": { "type": "array", "items": id() },
                "depts": { "type": "array", "items": id() },
                "privileges": { "type": "object", "additionalProperties": strings() },
                "active": { "type": "boolean" },
                "created_at": time(),
                "client_certificates": {
                    "type": "array",
                    "items": reference("LinkedCertificate"),
                    "maxItems": MAX_LINKED_CERTIFICATES,
                    "description": "TLS client certificates that log them in on the certificate manager's /private/api/ (with the login header)."
                },
                "idp_identity": { "type": ["string", "null"], "description": "Their eduPersonPrincipalName at the SAML identity provider: single sign-on to the console finds them by it." },
                "password_login": { "type": "boolean", "description": "false: every password is refused as a wrong one (REST login, the certificate manager's headers, the console)." }
            })),
        ),
        (
            "PasswordLoginRequest",
            closed(&["enabled"], json!({ "enabled": { "type": "boolean" } })),
        ),
        (
            "PasswordChangeRequest",
            closed(
                &["new_password"],
                json!({
                    "current_password": { "type": "string", "maxLength": 1024, "description": "Required to change your own password." },
                    "new_password": { "type": "string", "minLength": 12, "maxLength": 1024 }
                }),
            ),
        ),
        (
            "IdpIdentityRequest",
            closed(
                &["identity"],
                json!({
                    "identity": { "type": ["string", "null"], "maxLength": 256, "example": "alice@example.org" }
                }),
            ),
        ),
        (
            "SsoMetadataRequest",
            closed(
                &["metadata"],
                json!({
                    "metadata": { "type": "string", "description": "The identity provider's SAML federation metadata (an EntityDescriptor with an IDPSSODescriptor), as XML." }
                }),
            ),
        ),
        (
            "SsoIdentityProvider",
            open(json!({
                "entity_id": { "type": "string" },
                "sso_url": { "type": "string", "description": "Its SingleSignOnService for the HTTP-Redirect binding." },
                "certificates": { "type": "array", "items": reference("LinkedCertificate") },
                "imported_at": time(),
                "imported_by": { "type": "string" }
            })),
        ),
        (
            "AdminTemplateRequest",
            closed(
                &["name", "attribute", "value", "role"],
                json!({
                    "name": { "type": "string", "maxLength": 64 },
                    "attribute": { "type": "string", "maxLength": 256, "example": "eduPersonAffiliation" },
                    "value": { "type": "string", "maxLength": 512, "example": "staff" },
                    "role": { "type": "string", "enum": ["mrao", "rao", "drao"] },
                    "orgs": { "type": "array", "items": id(), "description": "An RAO's organizations." },
                    "depts": { "type": "array", "items": id(), "description": "A DRAO's departments." },
                    "privileges": {
                        "type": "object",
                        "propertyNames": { "enum": CLASSES },
                        "additionalProperties": { "type": "array", "items": { "type": "string", "enum": PRIVILEGES } }
                    }
                }),
            ),
        ),
        (
            "AdminTemplate",
            open(json!({
                "id": id(),
                "name": { "type": "string" },
                "attribute": { "type": "string" },
                "value": { "type": "string" },
                "role": { "type": "string", "enum": ["mrao", "rao", "drao"] },
                "orgs": { "type": "array", "items": id() },
                "depts": { "type": "array", "items": id() },
                "privileges": { "type": "object", "additionalProperties": strings() },
                "created_at": time()
            })),
        ),
        (
            "ClientCertificateRequest",
            closed(
                &["certificate"],
                json!({
                    "certificate": {
                        "type": "string",
                        "maxLength": MAX_CSR_CHARS,
                        "description": "One PEM CERTIFICATE block; it must not have expired. Only its SHA-256 is trusted, not its issuer.",
                        "example": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"
                    }
                }),
            ),
        ),
        (
            "UnlinkClientCertificateRequest",
            closed(
                &["sha256"],
                json!({
                    "sha256": {
                        "type": "string",
                        "maxLength": 95,
                        "description": "The linked certificate's SHA-256: 64 hex digits, colons allowed.",
                        "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                    }
                }),
            ),
        ),
        (
            "Unlocked",
            open(json!({
                "admin_id": id(),
                "cleared": { "type": "integer", "minimum": 0, "description": "How many (address) locks were lifted." }
            })),
        ),
        (
            "EstUnlocked",
            open(json!({
                "endpoint": id(),
                "cleared": { "type": "integer", "minimum": 0, "description": "How many (Basic user, address) locks were lifted." }
            })),
        ),
        (
            "AllowListsRequest",
            closed(
                &[],
                json!({
                    "mrao": networks(),
                    "rao": networks(),
                    "drao": networks()
                }),
            ),
        ),
        (
            "AllowLists",
            open(json!({
                "mrao": reference("AllowList"),
                "rao": reference("AllowList"),
                "drao": reference("AllowList")
            })),
        ),
        (
            "AllowList",
            open(json!({
                "networks": { "type": "array", "items": { "type": "string", "example": "192.0.2.0/24" } },
                "restricted": { "type": "boolean", "description": "false: the list is empty and admits any address." },
                "updated_by": { "type": ["string", "null"] },
                "updated_at": { "type": ["string", "null"], "format": "date-time" }
            })),
        ),
        (
            "LinkedCertificate",
            open(json!({
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "subject": { "type": "string" },
                "not_after": time()
            })),
        ),
        (
            "EndpointRequest",
            closed(
                &["name", "kind", "org", "profile", "approval"],
                json!({
                    "name": { "type": "string", "maxLength": 64, "pattern": "^[a-z0-9._-]+$" },
                    "kind": { "type": "string", "enum": ["acme", "scep", "intune", "est", "rest"] },
                    "org": id(),
                    "dept": optional_id(),
                    "profile": text(s),
                    "default_term_days": { "type": ["integer", "null"], "minimum": 1 },
                    "approval": { "type": "string", "enum": ["auto", "queue"] },
                    "eab_required": { "type": "boolean", "default": false },
                    "est_username": { "type": ["string", "null"], "maxLength": 64 },
                    "intune": {
                        "oneOf": [reference("IntuneApplicationRequest"), { "type": "null" }],
                        "description": "Intune endpoints (required there): the Entra ID application."
                    }
                }),
            ),
        ),
        (
            "IntuneApplicationRequest",
            closed(
                &["tenant", "application_id", "client_secret"],
                json!({
                    "tenant": { "type": "string", "maxLength": 256, "description": "The Entra ID tenant id or a verified domain.", "example": "contoso.onmicrosoft.com" },
                    "application_id": { "type": "string", "maxLength": 256, "description": "The application (client) id." },
                    "client_secret": { "type": "string", "maxLength": 1024, "writeOnly": true, "description": "The application's client secret: sealed at rest, never shown again." },
                    "login_url": { "type": ["string", "null"], "default": "https://login.microsoftonline.com", "description": "Entra ID's login service (national clouds differ)." },
                    "graph_url": { "type": ["string", "null"], "default": "https://graph.microsoft.com" },
                    "intune_resource": { "type": ["string", "null"], "default": "https://api.manage.microsoft.com/" }
                }),
            ),
        ),
        (
            "Endpoint",
            open(json!({
                "id": id(),
                "name": { "type": "string" },
                "kind": { "type": "string", "enum": ["acme", "scep", "intune", "est", "rest"] },
                "org": id(),
                "dept": optional_id(),
                "profile": { "type": "string" },
                "default_term_days": { "type": ["integer", "null"] },
                "approval": { "type": "string", "enum": ["auto", "queue"] },
                "active": { "type": "boolean" },
                "created_at": time(),
                "eab_required": { "type": "boolean" },
                "eab_keys": { "type": "array", "items": open(json!({
                    "key_id": { "type": "string" },
                    "bound_account": { "type": ["string", "null"] },
                    "created_at": time()
                })) },
                "est_label": { "type": "string" },
                "est_username": { "type": "string" },
                "scep_webhook_url": { "type": ["string", "null"], "description": "SCEP endpoints: the webhook validator's URL, null where the challenges apply." },
                "intune": { "description": "Intune endpoints: the Entra ID application (never its secret).", "type": "object", "properties": {
                    "tenant": { "type": "string" },
                    "application_id": { "type": "string" },
                    "login_url": { "type": "string" },
                    "graph_url": { "type": "string" },
                    "intune_resource": { "type": "string" }
                } }
            })),
        ),
        (
            "EndpointCreated",
            json!({
                "allOf": [reference("Endpoint"), open(json!({
                    "scep_challenge": { "type": "string", "description": "SCEP endpoints: shown once." },
                    "est_password": { "type": "string", "description": "EST endpoints: shown once." }
                }))]
            }),
        ),
        (
            "EndpointSecretRotated",
            open(json!({
                "endpoint": id(),
                "scep_challenge": { "type": "string", "description": "SCEP endpoints: the new challenge password; shown once." },
                "est_password": { "type": "string", "description": "EST endpoints: the new Basic password; shown once." }
            })),
        ),
        (
            "EabKeyCreated",
            open(json!({
                "endpoint": id(),
                "key_id": { "type": "string" },
                "hmac_key": { "type": "string", "description": "base64url; shown once." }
            })),
        ),
        (
            "ScepChallengeRequest",
            closed(
                &[],
                json!({
                    "subject": { "type": ["string", "null"], "maxLength": 255, "description": "The subject common name the CSR must carry." },
                    "san": { "type": ["string", "null"], "maxLength": 255, "description": "A name (DNS, e-mail, URI or IP) the CSR must ask for." },
                    "expires_in_seconds": {
                        "type": ["integer", "null"],
                        "minimum": 60,
                        "maximum": MAX_ONE_TIME_CHALLENGE_SECONDS,
                        "default": DEFAULT_ONE_TIME_CHALLENGE_SECONDS
                    }
                }),
            ),
        ),
        (
            "ScepWebhookRequest",
            closed(
                &["url"],
                json!({
                    "url": {
                        "type": "string",
                        "maxLength": policy::registry::MAX_SCEP_WEBHOOK_URL_CHARS,
                        "description": "http or https; without credentials or a fragment.",
                        "example": "https://mdm.example.com/scep/validate"
                    }
                }),
            ),
        ),
        (
            "EstSettingsRequest",
            closed(
                &[],
                json!({
                    "auth": { "type": "string", "enum": ["basic", "certificate", "either", "both"] },
                    "pop_required": { "type": "boolean", "description": "CSRs must carry the TLS channel binding (tls-exporter, RFC 9266) as challengePassword." },
                    "trust_anchors_pem": { "type": "array", "items": { "type": "string" }, "maxItems": policy::registry::MAX_EST_TRUST_ANCHORS, "description": "Replaces the manufacturer CA certificates (PEM); an empty list removes them." }
                }),
            ),
        ),
        (
            "EstSettings",
            open(json!({
                "endpoint": id(),
                "auth": { "type": "string" },
                "pop_required": { "type": "boolean" },
                "trust_anchors": { "type": "array", "items": { "type": "string" }, "description": "The anchors' subjects." }
            })),
        ),
        (
            "ScepChallengeCreated",
            open(json!({
                "endpoint": id(),
                "challenge": { "type": "string", "description": "The challenge password for one device's CSR; shown once, consumed by its first use." },
                "expires_at": time()
            })),
        ),
        (
            "ScepWebhookSet",
            open(json!({
                "endpoint": id(),
                "url": { "type": "string" },
                "hmac_key": { "type": "string", "description": "base64url, 32 bytes; signs every call (X-Certwright-Signature); shown once." }
            })),
        ),
        (
            "Profile",
            open(json!({
                "name": { "type": "string" },
                "description": { "type": "string" },
                "certificate_type": { "type": "string" },
                "issuer": { "type": "string" },
                "key_types": strings(),
                "terms_days": { "type": "array", "items": { "type": "integer" } },
                "default_term_days": { "type": "integer" },
                "max_term_days": { "type": "integer" },
                "key_usage": strings(),
                "extended_key_usage": { "type": "array" },
                "san_types": strings(),
                "allow_wildcards": { "type": "boolean" },
                "max_sans": { "type": "integer" },
                "require_san": { "type": "boolean" },
                "subject_from_csr": strings(),
                "subject_from_organization": strings()
            })),
        ),
        (
            "Ca",
            open(json!({
                "id": { "type": "string" },
                "subject": { "type": "string" },
                "role": { "type": "string", "enum": ["root", "issuing", "externally-signed"] },
                "parent": { "type": ["string", "null"] },
                "key_type": { "type": "string" },
                "not_before": time(),
                "not_after": time(),
                "can_issue": { "type": "boolean" },
                "default_issuer": { "type": "boolean" },
                "certificate_url": { "type": "string" },
                "crl_url": { "type": "string" },
                "certificate_pem": { "type": "string" }
            })),
        ),
        (
            "SubmitRequest",
            closed(
                &["csr", "profile", "org"],
                json!({
                    "csr": { "type": "string", "maxLength": MAX_CSR_CHARS, "description": "PKCS#10, PEM." },
                    "profile": text(s),
                    "org": id(),
                    "dept": optional_id(),
                    "term_days": { "type": ["integer", "null"], "minimum": 1 },
                    "comments": text(1024),
                    "external_requester": { "type": "string", "maxLength": 512, "description": "E-mail addresses outside the RA to notify, comma-separated." },
                    "custom_fields": {
                        "type": "array",
                        "items": reference("CustomFieldValue"),
                        "maxItems": MAX_CUSTOM_FIELDS_PER_CLASS,
                        "description": "Values of the custom fields of the profile's certificate class (GET /custom-fields); every mandatory one must be given."
                    }
                }),
            ),
        ),
        (
            "CustomFieldValue",
            closed(
                &["name", "value"],
                json!({
                    "name": { "type": "string", "maxLength": 64, "description": "As defined for the class (compared without regard to case)." },
                    "value": { "type": "string", "maxLength": MAX_CUSTOM_FIELD_VALUE_CHARS }
                }),
            ),
        ),
        (
            "CustomFieldRequest",
            closed(
                &["class", "name"],
                json!({
                    "class": { "type": "string", "enum": CLASSES },
                    "name": { "type": "string", "maxLength": 64, "example": "Cost centre" },
                    "mandatory": { "type": "boolean", "default": false, "description": "Every administrator's request of the class must give it." }
                }),
            ),
        ),
        (
            "CustomField",
            open(json!({
                "id": id(),
                "class": { "type": "string", "enum": CLASSES },
                "name": { "type": "string" },
                "mandatory": { "type": "boolean" },
                "created_at": time()
            })),
        ),
        (
            "EditRequest",
            closed(
                &[],
                json!({
                    "term_days": { "type": ["integer", "null"], "minimum": 1, "description": "null: the profile's default." }
                }),
            ),
        ),
        (
            "DecisionRequest",
            closed(
                &[],
                json!({
                    "message": text(1024)
                }),
            ),
        ),
        (
            "Request",
            open(json!({
                "id": id(),
                "status": { "type": "string", "enum": [
                    "requested", "approved", "declined", "invalid", "rejected",
                    "issued", "revoked", "expired", "replaced"
                ] },
                "org": id(),
                "dept": optional_id(),
                "profile": { "type": "string" },
                "names": { "type": "array", "items": { "type": "string", "example": "dns:www.example.com" } },
                "term_days": { "type": ["integer", "null"] },
                "requester": { "type": "string" },
                "channel": { "type": "string", "enum": ["acme", "scep", "est", "rest", "cli", "scm-api", "import"] },
                "endpoint": optional_id(),
                "renewal_of": optional_id(),
                "replaces": { "type": "boolean" },
                "certificate": optional_id(),
                "replaced_by": optional_id(),
                "reason": { "type": "string" },
                "history": { "type": "array", "items": open(json!({
                    "from": { "type": ["string", "null"] },
                    "to": { "type": "string" },
                    "actor": { "type": "string" },
                    "at": time(),
                    "reason": { "type": "string" }
                })) },
                "created_at": time(),
                "comments": { "type": "string" },
                "external_requester": { "type": "string" },
                "custom_fields": { "type": "array", "items": open(json!({
                    "name": { "type": "string" },
                    "value": { "type": "string" }
                })) }
            })),
        ),
        (
            "RevokeRequest",
            closed(
                &["reason"],
                json!({
                    "reason": { "type": "string", "enum": reasons },
                    "message": text(1024)
                }),
            ),
        ),
        (
            "RenewRequest",
            closed(
                &[],
                json!({
                    "csr": { "type": ["string", "null"], "maxLength": MAX_CSR_CHARS, "description": "Absent: renew with the same key." }
                }),
            ),
        ),
        (
            "ReplaceRequest",
            closed(
                &["csr"],
                json!({
                    "csr": { "type": "string", "maxLength": MAX_CSR_CHARS }
                }),
            ),
        ),
        (
            "Certificate",
            open(json!({
                "id": id(),
                "serial": { "type": "string", "description": "Hex." },
                "status": { "type": "string", "enum": ["issued", "revoked", "replaced"] },
                "subject": { "type": "string" },
                "names": strings(),
                "profile": { "type": "string" },
                "issuer": { "type": "string" },
                "not_before": time(),
                "not_after": time(),
                "requester": { "type": "string" },
                "issued_at": time(),
                "org": id(),
                "dept": optional_id(),
                "request": optional_id(),
                "external": { "type": "boolean" },
                "revoked_at": time(),
                "revocation_reason": { "type": "string", "enum": reasons },
                "revocation_message": { "type": "string" },
                "replaced_by": id()
            })),
        ),
        (
            "CertificateDetails",
            json!({
                "allOf": [reference("Certificate"), open(json!({ "pem": { "type": "string" } }))]
            }),
        ),
        (
            "ImportResult",
            open(json!({
                "imported": { "type": "array", "items": reference("Certificate") },
                "errors": { "type": "array", "items": open(json!({
                    "source": { "type": "string" },
                    "code": { "type": "string" },
                    "message": { "type": "string" }
                })) }
            })),
        ),
        (
            "AuditEntry",
            open(json!({
                "seq": id(),
                "at": time(),
                "actor": { "type": "string" },
                "action": { "type": "string" },
                "object": { "type": "string" },
                "outcome": { "type": "string", "enum": ["success", "denied", "failed"] },
                "detail": { "type": "string" },
                "prev_hash": { "type": "string" },
                "hash": { "type": "string" }
            })),
        ),
        (
            "AuditVerification",
            open(json!({
                "intact": { "type": "boolean" },
                "entries": { "type": "integer" },
                "broken_at": { "type": "integer" },
                "head_hash": { "type": "string", "description": "SHA-256 of the newest entry (hex); record it elsewhere to detect removal of the newest entries" },
                "reason": { "type": "string" }
            })),
        ),
    ];
    Value::Object(
        entries
            .into_iter()
            .map(|(name, schema)| (name.to_string(), schema))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::RouteId;

    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        out.push(v.as_str().unwrap_or("").to_string());
                    }
                    refs(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_route_is_an_operation_of_the_document() {
        let doc = document("https://127.0.0.1:8443");
        for id in RouteId::ALL {
            let spec = ROUTES.iter().find(|r| r.id == *id).expect("in the table");
            let op = &doc["paths"][spec.path][spec.method.to_ascii_lowercase()];
            assert_eq!(op["operationId"], json!(id.operation_id()), "{id:?}");
        }
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(operations, RouteId::ALL.len());
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document("https://127.0.0.1:8443");
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "dangling {r}");
        }
    }
}
