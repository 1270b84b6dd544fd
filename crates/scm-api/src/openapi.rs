//! The API's operations for the OpenAPI document. `ca-admin serve` adds them to
//! the gateway's one document (`/api/v1/openapi.json`) beside our own API; a
//! test routes every documented path, so that nothing documented is unroutable.

use serde_json::{json, Map, Value};

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// GET, HEAD, POST, PUT or DELETE.
    pub method: &'static str,
    /// The path, with `{name}` parameters.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Whether it takes a JSON body.
    pub body: bool,
    /// The success status.
    pub status: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: bool,
    status: u16,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        body,
        status,
    }
}

/// Every operation under `/api/` (the same paths serve under `/private/api/`, and the
/// SSL and S/MIME areas answer under `v2` too).
pub const OPERATIONS: &[Operation] = &[
    op(
        "GET",
        "/api/organization/v1",
        "Organizations with their departments",
        false,
        200,
    ),
    op(
        "POST",
        "/api/organization/v1",
        "Create an organization, or with parentOrgName a department",
        true,
        201,
    ),
    op(
        "GET",
        "/api/organization/v1/{id}",
        "An organization's or a department's details",
        false,
        200,
    ),
    op(
        "PUT",
        "/api/organization/v1/{id}",
        "Rename or re-address an organization or department",
        true,
        200,
    ),
    op(
        "DELETE",
        "/api/organization/v1/{id}",
        "Delete an organization or department nothing refers to",
        false,
        204,
    ),
    op(
        "GET",
        "/api/organization/v1/managedBy/{role}",
        "The units the caller manages in a role",
        false,
        200,
    ),
    op(
        "GET",
        "/api/domain/v1",
        "Domains (position, size, name, orgId, state, status; X-Total-Count)",
        false,
        200,
    ),
    op(
        "HEAD",
        "/api/domain/v1",
        "The number of domains (X-Total-Count)",
        false,
        200,
    ),
    op(
        "GET",
        "/api/domain/v1/count",
        "The number of domains (deprecated)",
        false,
        200,
    ),
    op(
        "POST",
        "/api/domain/v1",
        "Create a domain with its delegations",
        true,
        201,
    ),
    op(
        "GET",
        "/api/domain/v1/{id}",
        "A domain with its delegations",
        false,
        200,
    ),
    op(
        "DELETE",
        "/api/domain/v1/{id}",
        "Delete a domain (every delegation of it)",
        false,
        204,
    ),
    op(
        "POST",
        "/api/domain/v1/{id}/delegation",
        "Delegate a domain to one more organization or department",
        true,
        200,
    ),
    op(
        "DELETE",
        "/api/domain/v1/{id}/delegation",
        "Withdraw a delegation",
        true,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1/types",
        "TLS server profiles with terms and key types",
        false,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1/customFields",
        "Custom fields of TLS server certificates",
        false,
        200,
    ),
    op(
        "POST",
        "/api/ssl/v1/enroll",
        "Request a TLS server certificate: {sslId, renewId}",
        true,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1/collect/{sslId}",
        "Collect (?format=); 400 code 0 while pending",
        false,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1/collect/{sslId}/{format}",
        "Collect in a format; 400 code 0 while pending",
        false,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1",
        "TLS server certificates (paging and filters; X-Total-Count)",
        false,
        200,
    ),
    op(
        "HEAD",
        "/api/ssl/v1",
        "The number of TLS server certificates (X-Total-Count)",
        false,
        200,
    ),
    op(
        "GET",
        "/api/ssl/v1/{sslId}",
        "A certificate's details (?dateFormat=, US by default)",
        false,
        200,
    ),
    op(
        "POST",
        "/api/ssl/v1/renewById/{sslId}",
        "Renew (body empty, \"\", {} or {csr}): {sslId}",
        true,
        200,
    ),
    op(
        "POST",
        "/api/ssl/v1/renew/{renewId}",
        "Renew by the renew id of enroll",
        true,
        204,
    ),
    op(
        "POST",
        "/api/ssl/v1/replace/{sslId}",
        "Replace with a new CSR",
        true,
        204,
    ),
    op(
        "POST",
        "/api/ssl/v1/revoke/{sslId}",
        "Revoke ({reasonCode?, reason?})",
        true,
        204,
    ),
    op(
        "POST",
        "/api/ssl/v1/revoke/serial/{serial}",
        "Revoke by serial number (colons optional)",
        true,
        204,
    ),
    op(
        "POST",
        "/api/ssl/v1/approve/{sslId}",
        "Approve a queued request ({message})",
        true,
        204,
    ),
    op(
        "POST",
        "/api/ssl/v1/decline/{sslId}",
        "Decline a queued request ({message})",
        true,
        204,
    ),
    op("GET", "/api/device/v1/types", "Device profiles", false, 200),
    op(
        "GET",
        "/api/device/v1/customFields",
        "Custom fields of device certificates",
        false,
        200,
    ),
    op(
        "POST",
        "/api/device/v1/enroll",
        "Request a device certificate",
        true,
        200,
    ),
    op(
        "GET",
        "/api/device/v1/collect/{deviceCertId}",
        "Collect (?format=, PKCS#7 by default)",
        false,
        200,
    ),
    op(
        "GET",
        "/api/device/v1",
        "Device certificates (X-Total-Count)",
        false,
        200,
    ),
    op(
        "HEAD",
        "/api/device/v1",
        "The number of device certificates",
        false,
        200,
    ),
    op(
        "GET",
        "/api/device/v1/{deviceCertId}",
        "A device certificate's details",
        false,
        200,
    ),
    op(
        "POST",
        "/api/device/v1/approve/{deviceCertId}",
        "Approve",
        true,
        204,
    ),
    op(
        "POST",
        "/api/device/v1/decline/{deviceCertId}",
        "Decline",
        true,
        204,
    ),
    op(
        "POST",
        "/api/device/v1/revoke/order/{deviceCertId}",
        "Revoke",
        true,
        204,
    ),
    op(
        "POST",
        "/api/device/v1/revoke/serial/{serial}",
        "Revoke by serial number",
        true,
        204,
    ),
    op(
        "POST",
        "/api/device/v1/renew/order/{deviceCertId}",
        "Renew",
        true,
        200,
    ),
    op(
        "POST",
        "/api/device/v1/renew/serial/{serial}",
        "Renew by serial number",
        true,
        200,
    ),
    op(
        "POST",
        "/api/device/v1/replace/order/{deviceCertId}",
        "Replace ({csr, reason, revoke})",
        true,
        204,
    ),
    op(
        "GET",
        "/api/smime/v1/types",
        "Client (S/MIME) profiles",
        false,
        200,
    ),
    op(
        "GET",
        "/api/smime/v1/customFields",
        "Custom fields of client certificates",
        false,
        200,
    ),
    op(
        "POST",
        "/api/smime/v1/enroll",
        "Request a client certificate ({email, firstName, lastName, ...})",
        true,
        200,
    ),
    op(
        "GET",
        "/api/smime/v1/collect/{backendCertId}",
        "Collect (?format=)",
        false,
        200,
    ),
    op(
        "GET",
        "/api/smime/v2",
        "Client certificates (X-Total-Count)",
        false,
        200,
    ),
    op(
        "HEAD",
        "/api/smime/v2",
        "The number of client certificates",
        false,
        200,
    ),
    op(
        "GET",
        "/api/smime/v1/{id}",
        "A client certificate's details",
        false,
        200,
    ),
    op(
        "POST",
        "/api/smime/v2/renew/order/{backendCertId}",
        "Renew",
        true,
        200,
    ),
    op(
        "POST",
        "/api/smime/v2/renew/serial/{serial}",
        "Renew by serial number",
        true,
        200,
    ),
    op(
        "POST",
        "/api/smime/v1/revoke/order/{backendCertId}",
        "Revoke",
        true,
        204,
    ),
    op(
        "POST",
        "/api/smime/v1/revoke/serial/{serial}",
        "Revoke by serial number",
        true,
        204,
    ),
    op(
        "GET",
        "/api/acme/v1/pca/account",
        "ACME accounts: our ACME endpoints' EAB keys (X-Total-Count)",
        false,
        200,
    ),
    op(
        "HEAD",
        "/api/acme/v1/pca/account",
        "The number of ACME accounts",
        false,
        200,
    ),
    op(
        "POST",
        "/api/acme/v1/pca/account",
        "Create an ACME account (an EAB key): {id, macId, macKey}",
        true,
        201,
    ),
    op(
        "GET",
        "/api/acme/v1/pca/account/{id}",
        "An ACME account; macKey while no ACME client has used it",
        false,
        200,
    ),
    op(
        "PUT",
        "/api/acme/v1/pca/account/{id}",
        "Rename an ACME account",
        true,
        200,
    ),
    op(
        "DELETE",
        "/api/acme/v1/pca/account/{id}",
        "Delete an ACME account (its EAB key)",
        false,
        204,
    ),
    op(
        "POST",
        "/api/report/v1/ssl-certificates",
        "Report of TLS server certificates: {statusCode, reports}",
        true,
        200,
    ),
    op(
        "POST",
        "/api/report/v1/device-certificates",
        "Report of device certificates",
        true,
        200,
    ),
    op(
        "POST",
        "/api/report/v1/client-certificates",
        "Report of client certificates",
        true,
        200,
    ),
    op(
        "POST",
        "/api/report/v1/domains",
        "Report of domains",
        true,
        200,
    ),
    op(
        "POST",
        "/api/report/v1/activity",
        "The activity (audit) log between from and to (MRAO)",
        true,
        200,
    ),
];

fn parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect()
}

/// The `paths` entries of the operations.
pub fn paths() -> Map<String, Value> {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let mut operation = json!({
            "tags": ["certificate manager API"],
            "summary": o.summary,
            "security": [{"scmLogin": [], "scmPassword": [], "scmCustomerUri": []}],
            "parameters": parameters(o.path),
            "responses": {
                o.status.to_string(): {"description": "success"},
                "400": {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScmError"}}}},
                "401": {"description": "unknown user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScmError"}}}},
                "404": {"description": "not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScmError"}}}},
            },
        });
        if o.body {
            operation["requestBody"] = json!({
                "required": false,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
        let item = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        item[o.method.to_ascii_lowercase()] = operation;
    }
    paths
}

/// The components the operations refer to: the error body and the three headers.
pub fn components() -> (Map<String, Value>, Map<String, Value>) {
    let mut schemas = Map::new();
    schemas.insert(
        "ScmError".into(),
        json!({
            "type": "object",
            "required": ["code", "description"],
            "properties": {
                "code": {"type": "integer", "description": "Negative; 0 with 'Being processed by Sectigo' while a collect is pending"},
                "description": {"type": "string"},
            },
        }),
    );
    let mut security = Map::new();
    for (name, header) in [
        ("scmLogin", "login"),
        ("scmPassword", "password"),
        ("scmCustomerUri", "customerUri"),
    ] {
        security.insert(
            name.into(),
            json!({"type": "apiKey", "in": "header", "name": header}),
        );
    }
    (schemas, security)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn every_documented_operation_routes() {
        for o in OPERATIONS {
            let path = o
                .path
                .split('/')
                .map(|seg| match seg {
                    "{serial}" => "0A:1B",
                    "{renewId}" => "abcdefghij",
                    "{role}" => "RAO_SSL",
                    "{format}" => "x509CO",
                    s if s.starts_with('{') => "7",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let (below, _) = crate::routes::strip_prefix(&path).expect("under /api/");
            let method = Method::from_bytes(o.method.as_bytes()).unwrap();
            assert!(
                crate::routes::route(&method, below).is_ok(),
                "{} {} does not route",
                o.method,
                o.path
            );
        }
        assert!(paths().len() > 30);
    }
}
