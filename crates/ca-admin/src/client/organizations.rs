//! `org`, `dept`, `domain` and `admin`: the RA's organizations, their domains and administrators.

use std::path::Path;

use ::http::Method;
use serde_json::{json, Value};

use super::args::*;
use super::output::{details, emit, table};
use super::{connect, output, query, read_secret};

const ORG_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("country", "address.country"),
    ("created", "created_at"),
];

/// `ca-admin org`.
pub fn org(args: &Org) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        OrgCommand::List => emit(json_out, &client.get_json("organizations")?, |v| {
            table(v, ORG_COLUMNS)
        }),
        OrgCommand::Show { id } => emit(
            json_out,
            &client.get_json(&format!("organizations/{id}"))?,
            details,
        ),
        OrgCommand::Create {
            name,
            locality,
            state,
            country,
        } => {
            let body = json!({"name": name, "address": {"locality": locality, "state": state, "country": country}});
            let created = client.send_json(Method::POST, "organizations", &body)?;
            emit(json_out, &created, |v| {
                println!(
                    "created organization {} ({})",
                    output::cell(v.get("id")),
                    name
                )
            });
        }
    }
    Ok(())
}

/// `ca-admin dept`.
pub fn dept(args: &Dept) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        DeptCommand::List { org } => emit(
            json_out,
            &client.get_json(&format!(
                "departments{}",
                query(&[("org", org.map(|o| o.to_string()))])
            ))?,
            |v| table(v, &[("id", "id"), ("org", "org"), ("name", "name")]),
        ),
        DeptCommand::Create { org, name } => {
            let created = client.send_json(
                Method::POST,
                "departments",
                &json!({"org": org, "name": name}),
            )?;
            emit(json_out, &created, |v| {
                println!(
                    "created department {} ({name}) in organization {org}",
                    output::cell(v.get("id"))
                )
            });
        }
    }
    Ok(())
}

/// `ca-admin domain`.
pub fn domain(args: &Domain) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        DomainCommand::List => emit(json_out, &client.get_json("domains")?, |v| {
            table(
                v,
                &[
                    ("id", "id"),
                    ("name", "name"),
                    ("org", "org"),
                    ("dept", "dept"),
                ],
            )
        }),
        DomainCommand::Add { name, org, dept } => {
            let created = client.send_json(
                Method::POST,
                "domains",
                &json!({"name": name, "org": org, "dept": dept}),
            )?;
            emit(json_out, &created, |v| {
                println!(
                    "delegated {} to organization {org}{}",
                    output::cell(v.get("name")),
                    dept.map(|d| format!(" department {d}")).unwrap_or_default()
                )
            });
        }
    }
    Ok(())
}

pub(super) fn parse_privileges(specs: &[String]) -> Result<Value, String> {
    let mut map = serde_json::Map::new();
    for spec in specs {
        let (class, privileges) = spec.split_once('=').ok_or_else(|| {
            format!("'{spec}': use CLASS=PRIV,PRIV (e.g. tls-server=request,approve)")
        })?;
        let list: Vec<Value> = privileges
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.trim().to_string()))
            .collect();
        map.insert(class.trim().to_string(), Value::Array(list));
    }
    Ok(Value::Object(map))
}

/// `ca-admin admin`.
pub fn admin(args: &Admin) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        AdminCommand::List => emit(json_out, &client.get_json("admins")?, |v| {
            table(
                &with_certificate_counts(v),
                &[
                    ("id", "id"),
                    ("username", "username"),
                    ("role", "role"),
                    ("orgs", "orgs"),
                    ("depts", "depts"),
                    ("active", "active"),
                    ("password login", "password_login"),
                    ("idp identity", "idp_identity"),
                    ("client certs", "client_certificate_count"),
                ],
            )
        }),
        AdminCommand::Create {
            username,
            password_file,
            role,
            orgs,
            depts,
            privileges,
        } => {
            let password = read_secret(Some(password_file), "", "password")?;
            let body = json!({
                "username": username, "password": password, "role": role,
                "orgs": orgs, "depts": depts, "privileges": parse_privileges(privileges)?,
            });
            let created = client.send_json(Method::POST, "admins", &body)?;
            emit(json_out, &created, |v| {
                println!(
                    "created administrator {} ({username}, {role})",
                    output::cell(v.get("id"))
                )
            });
        }
        AdminCommand::Deactivate { id } | AdminCommand::Activate { id } => {
            let verb = if matches!(args.command, AdminCommand::Deactivate { .. }) {
                "deactivate"
            } else {
                "activate"
            };
            let updated =
                client.send_json(Method::POST, &format!("admins/{id}/{verb}"), &json!({}))?;
            emit(json_out, &updated, |_| {
                println!("administrator {id}: {verb}d")
            });
        }
        AdminCommand::Unlock { id } => {
            let answer =
                client.send_json(Method::POST, &format!("admins/{id}/unlock"), &json!({}))?;
            emit(json_out, &answer, |v| {
                println!(
                    "administrator {id}: {} locked address(es) cleared",
                    output::cell(v.get("cleared"))
                )
            });
        }
        AdminCommand::ApiKey { admin, label } => {
            let created = client.send_json(
                Method::POST,
                "api-keys",
                &json!({"admin_id": admin, "label": label}),
            )?;
            emit(json_out, &created, |v| {
                println!(
                    "API key {} (shown once; use it as CERTWRIGHT_TOKEN):",
                    output::cell(v.get("id"))
                );
                println!("{}", output::cell(v.get("key")));
            });
        }
        AdminCommand::Password {
            id,
            password_file,
            current_password_file,
        } => {
            let me = client.get_json("admins")?;
            let own = me
                .get("items")
                .and_then(|items| items.as_array())
                .is_some_and(|items| items.len() == 1 && items[0]["id"] == *id);
            let current = if own || current_password_file.is_some() {
                Some(read_secret(
                    current_password_file.as_deref(),
                    "",
                    "current password",
                )?)
            } else {
                None
            };
            let new = read_secret(password_file.as_deref(), "", "new password")?;
            let updated = client.send_json(
                Method::PUT,
                &format!("admins/{id}/password"),
                &json!({"current_password": current, "new_password": new}),
            )?;
            emit(json_out, &updated, |_| {
                println!("administrator {id}: password changed")
            });
        }
        AdminCommand::ApiKeys { id } => {
            let keys = client.get_json(&format!("admins/{id}/api-keys"))?;
            emit(json_out, &keys, |v| {
                output::table(
                    v,
                    &[("ID", "id"), ("LABEL", "label"), ("CREATED", "created_at")],
                )
            });
        }
        AdminCommand::RevokeApiKey { key_id } => {
            let revoked =
                client.send_json(Method::POST, "api-keys/revoke", &json!({"id": key_id}))?;
            emit(json_out, &revoked, |v| {
                println!(
                    "API key {} ({}) revoked",
                    output::cell(v.get("id")),
                    output::cell(v.get("label"))
                )
            });
        }
        AdminCommand::LinkCertificate { id, certificate } => {
            let pem = certificate_pem(certificate)?;
            let linked = client.send_json(
                Method::POST,
                &format!("admins/{id}/client-certificates"),
                &json!({"certificate": pem}),
            )?;
            emit(json_out, &linked, |v| {
                println!(
                    "linked to administrator {id}: {} (until {})",
                    output::cell(v.get("subject")),
                    output::cell(v.get("not_after"))
                );
                println!("sha256 {}", output::cell(v.get("sha256")));
            });
        }
        AdminCommand::PasswordLogin { id, state } => {
            let updated = client.send_json(
                Method::PUT,
                &format!("admins/{id}/password-login"),
                &json!({"enabled": state == "on"}),
            )?;
            emit(json_out, &updated, |_| {
                println!("administrator {id}: password login {state}")
            });
        }
        AdminCommand::SetIdpIdentity { id, identity } => {
            let identity = Some(identity.trim()).filter(|i| !i.is_empty());
            let updated = client.send_json(
                Method::PUT,
                &format!("admins/{id}/idp-identity"),
                &json!({"identity": identity}),
            )?;
            emit(json_out, &updated, |_| match identity {
                Some(identity) => println!("administrator {id}: IdP identity {identity}"),
                None => println!("administrator {id}: no IdP identity"),
            });
        }
        AdminCommand::UnlinkCertificate { id, sha256 } => {
            let response = client.send(
                Method::POST,
                &format!("admins/{id}/client-certificates/unlink"),
                Some("application/json"),
                serde_json::to_vec(&json!({"sha256": sha256})).map_err(|e| e.to_string())?,
            )?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            emit(json_out, &json!({"admin": id, "unlinked": sha256}), |_| {
                println!("certificate {sha256} unlinked from administrator {id}")
            });
        }
    }
    Ok(())
}

/// The admin list with each item's number of linked certificates, for the table (which
/// shows arrays of objects badly; `--json` has the fingerprints).
pub(super) fn with_certificate_counts(list: &Value) -> Value {
    let mut list = list.clone();
    if let Some(Value::Array(items)) = list.get_mut("items") {
        for item in items {
            let count = item
                .get("client_certificates")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            item["client_certificate_count"] = json!(count);
        }
    }
    list
}

/// The one certificate of a PEM (or DER) file, as a PEM block of its own. Re-encoded
/// rather than sent as read, so that a private key in the same file (curl and many
/// clients keep both in one) never leaves this machine.
pub(super) fn certificate_pem(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let pem_text = std::str::from_utf8(&bytes)
        .ok()
        .filter(|text| text.contains("-----BEGIN"));
    let ders = match pem_text {
        Some(text) => ca_core::authority::pem_certificates(text)
            .map_err(|e| format!("{}: {e}", path.display()))?,
        // DER is a SEQUENCE; the server checks that it is a certificate.
        None if bytes.first() == Some(&0x30) => vec![bytes.clone()],
        None => return Err(format!("{}: neither PEM nor DER", path.display())),
    };
    match ders.as_slice() {
        [der] => Ok(ca_core::encoding::pem("CERTIFICATE", der)),
        [] => Err(format!("{}: no CERTIFICATE block", path.display())),
        more => Err(format!(
            "{}: {} certificates; link one at a time (the client certificate, not its chain)",
            path.display(),
            more.len()
        )),
    }
}
