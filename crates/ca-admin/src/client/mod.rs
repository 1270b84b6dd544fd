//! The operator commands: each is a client of the running gateway's REST API,
//! because the embedded store is held by one process.

pub mod args;
mod http;
mod output;
mod session;

use std::path::{Path, PathBuf};

use ::http::Method;
use serde_json::{json, Value};

use args::*;
use http::ApiClient;
use output::{details, emit, table};

const DEFAULT_SERVER: &str = "https://127.0.0.1:8443";

/// Opens a client from the flags, the environment and the saved session.
fn connect(connection: &Connection) -> Result<ApiClient, String> {
    let saved = session::load();
    let server = connection
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|s| s.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let ca_cert = trusted_ca(connection, saved.as_ref())?;
    let token = std::env::var("CERTWRIGHT_TOKEN")
        .ok()
        .or_else(|| saved.map(|s| s.token))
        .ok_or("not logged in: run `ca-admin login --username NAME` (or set CERTWRIGHT_TOKEN to an API key)")?;
    ApiClient::new(&server, &ca_cert, Some(token))
}

fn trusted_ca(
    connection: &Connection,
    saved: Option<&session::Session>,
) -> Result<PathBuf, String> {
    connection
        .ca_cert
        .clone()
        .or_else(|| saved.map(|s| s.ca_cert.clone()))
        .or_else(|| session::local_root_certificate(Path::new("./ca-data")))
        .ok_or_else(|| {
            "no CA certificate to trust: give --ca-cert ROOT.pem (the gateway's root CA)"
                .to_string()
        })
}

/// The CA certificate `login` trusts: `--ca-cert`, else the root of `./ca-data`, else
/// the saved session's.
///
/// Unlike the other commands, which keep trusting the root their session was made
/// with, `login` starts a session: on the gateway's machine the data directory's root
/// is the one its server certificate comes from, while a saved session's file may
/// belong to a data directory that has since been made anew (new root, same
/// server URL).
fn login_trusted_ca(
    connection: &Connection,
    saved: Option<&session::Session>,
) -> Result<PathBuf, String> {
    connection
        .ca_cert
        .clone()
        .or_else(|| session::local_root_certificate(Path::new("./ca-data")))
        .or_else(|| saved.map(|s| s.ca_cert.clone()))
        .ok_or_else(|| {
            "no CA certificate to trust: give --ca-cert ROOT.pem (the gateway's root CA)"
                .to_string()
        })
}

fn read_secret(file: Option<&Path>, env: &str, what: &str) -> Result<String, String> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(text
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_string());
    }
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    eprint!("{what}: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// `ca-admin login`.
pub fn login(args: &LoginArgs) -> Result<(), String> {
    let saved = session::load();
    let server = args
        .connection
        .server
        .clone()
        .or_else(|| saved.as_ref().map(|s| s.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_string());
    let ca_cert = login_trusted_ca(&args.connection, saved.as_ref())?;
    let password = read_secret(
        args.password_file.as_deref(),
        "CERTWRIGHT_PASSWORD",
        "password",
    )?;
    let client = ApiClient::new(&server, &ca_cert, None)?;
    let response = client.send_json(
        Method::POST,
        "login",
        &json!({"username": args.username, "password": password}),
    )?;
    let token = response["token"]
        .as_str()
        .ok_or("the server sent no token")?
        .to_string();
    // Absolute: the session is read from whatever directory the next command runs in.
    let ca_cert = std::path::absolute(&ca_cert).unwrap_or(ca_cert);
    let path = session::save(&session::Session {
        server: server.clone(),
        ca_cert,
        token,
    })?;
    emit(args.connection.json, &response["admin"], |admin| {
        println!(
            "Logged in to {server} as {} ({}); session saved in {}",
            args.username,
            output::cell(admin.get("role")),
            path.display()
        );
    });
    Ok(())
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", percent_encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

const ORG_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("name", "name"),
    ("country", "address.country"),
    ("created", "created_at"),
];
const REQUEST_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("status", "status"),
    ("org", "org"),
    ("dept", "dept"),
    ("profile", "profile"),
    ("names", "names"),
    ("requester", "requester"),
    ("certificate", "certificate"),
];
const CERT_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("status", "status"),
    ("serial", "serial"),
    ("subject", "subject"),
    ("not after", "not_after"),
    ("profile", "profile"),
    ("org", "org"),
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

fn parse_privileges(specs: &[String]) -> Result<Value, String> {
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
                v,
                &[
                    ("id", "id"),
                    ("username", "username"),
                    ("role", "role"),
                    ("orgs", "orgs"),
                    ("depts", "depts"),
                    ("active", "active"),
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
    }
    Ok(())
}

/// `ca-admin endpoint`.
pub fn endpoint(args: &EndpointArgs) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        EndpointCommand::List => emit(json_out, &client.get_json("endpoints")?, |v| {
            table(
                v,
                &[
                    ("id", "id"),
                    ("name", "name"),
                    ("kind", "kind"),
                    ("org", "org"),
                    ("dept", "dept"),
                    ("profile", "profile"),
                    ("approval", "approval"),
                ],
            )
        }),
        EndpointCommand::Create {
            name,
            kind,
            org,
            dept,
            profile,
            term_days,
            approval,
            eab_required,
        } => {
            let body = json!({
                "name": name, "kind": kind, "org": org, "dept": dept, "profile": profile,
                "default_term_days": term_days, "approval": approval, "eab_required": eab_required,
            });
            let created = client.send_json(Method::POST, "endpoints", &body)?;
            emit(json_out, &created, |v| {
                println!(
                    "created {kind} endpoint {} ({name})",
                    output::cell(field_or_self(v, "endpoint").get("id"))
                );
                for secret in ["scep_challenge", "est_password"] {
                    if let Some(s) = v.get(secret).and_then(|s| s.as_str()) {
                        println!("{secret} (shown once): {s}");
                    }
                }
            });
        }
        EndpointCommand::EabKey { id } => {
            let created = client.send_json(
                Method::POST,
                &format!("endpoints/{id}/eab-keys"),
                &json!({}),
            )?;
            emit(json_out, &created, |v| {
                let key_id = output::cell(v.get("key_id"));
                let hmac_key = output::cell(v.get("hmac_key"));
                for line in eab_key_lines(&key_id, &hmac_key) {
                    println!("{line}");
                }
            });
        }
        EndpointCommand::ScepChallenge {
            id,
            subject,
            san,
            expires_in,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(subject) = subject {
                body.insert("subject".into(), json!(subject));
            }
            if let Some(san) = san {
                body.insert("san".into(), json!(san));
            }
            if let Some(seconds) = expires_in {
                body.insert("expires_in_seconds".into(), json!(seconds));
            }
            let created = client.send_json(
                Method::POST,
                &format!("endpoints/{id}/scep-challenges"),
                &Value::Object(body),
            )?;
            emit(json_out, &created, |v| {
                for line in scep_challenge_lines(v) {
                    println!("{line}");
                }
            });
        }
        EndpointCommand::ScepWebhook { id, url, remove } => {
            scep_webhook(&client, *id, url.as_deref(), *remove, json_out)?
        }
        EndpointCommand::EstSettings {
            id,
            auth,
            pop_required,
            trust_anchors,
            clear_trust_anchors,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(auth) = auth {
                body.insert("auth".into(), json!(auth));
            }
            if let Some(pop) = pop_required {
                body.insert("pop_required".into(), json!(pop));
            }
            if *clear_trust_anchors {
                body.insert("trust_anchors_pem".into(), json!([]));
            } else if !trust_anchors.is_empty() {
                let pems = trust_anchors
                    .iter()
                    .map(|path| {
                        std::fs::read_to_string(path)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                body.insert("trust_anchors_pem".into(), json!(pems));
            }
            let set = client.send_json(
                Method::PUT,
                &format!("endpoints/{id}/est-settings"),
                &serde_json::Value::Object(body),
            )?;
            emit(json_out, &set, |v| {
                println!("EST endpoint {id}");
                println!("  auth          {}", output::cell(v.get("auth")));
                println!("  pop required  {}", output::cell(v.get("pop_required")));
                println!("  trust anchors {}", output::cell(v.get("trust_anchors")));
            });
        }
    }
    Ok(())
}

/// `ca-admin endpoint scep-webhook`: PUT (the key printed once) or DELETE.
fn scep_webhook(
    client: &ApiClient,
    id: u64,
    url: Option<&str>,
    remove: bool,
    json_out: bool,
) -> Result<(), String> {
    let path = format!("endpoints/{id}/scep-webhook");
    match url {
        Some(url) if !remove => {
            let set = client.send_json(Method::PUT, &path, &json!({ "url": url }))?;
            emit(json_out, &set, |v| {
                println!(
                    "SCEP webhook of endpoint {id}: {}",
                    output::cell(v.get("url"))
                );
                println!("  hmac key  {}", output::cell(v.get("hmac_key")));
                println!("(shown once: the webhook checks X-Certwright-Signature with it)");
            });
        }
        _ => {
            let response = client.send(Method::DELETE, &path, None, Vec::new())?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            if json_out {
                println!("{{\"endpoint\": {id}, \"scep_webhook\": null}}");
            } else {
                println!("SCEP webhook of endpoint {id} removed: its challenges apply again");
            }
        }
    }
    Ok(())
}

/// What `endpoint eab-key` prints: the pair, and the flags to give certbot and lego.
///
/// The flags are in the `--flag=VALUE` form: the HMAC key is random base64url and
/// begins with `-` one time in 32, which `--flag VALUE` would hand to the client's
/// argument parser as an option.
fn eab_key_lines(key_id: &str, hmac_key: &str) -> Vec<String> {
    vec![
        format!("EAB key id:   {key_id}"),
        format!("EAB HMAC key: {hmac_key} (shown once)"),
        format!(
            "certbot:      {} {}",
            output::flag("eab-kid", key_id),
            output::flag("eab-hmac-key", hmac_key)
        ),
        format!(
            "lego:         --eab {} {}",
            output::flag("kid", key_id),
            output::flag("hmac", hmac_key)
        ),
    ]
}

/// What `endpoint scep-challenge` prints: the challenge on a line of its own (for scripts
/// to cut: `  challenge  <value>`) and its expiry.
fn scep_challenge_lines(v: &Value) -> Vec<String> {
    vec![
        format!(
            "One-time SCEP challenge for endpoint {} (shown once; its first use consumes it):",
            output::cell(v.get("endpoint"))
        ),
        format!("  challenge  {}", output::cell(v.get("challenge"))),
        format!("  expires    {}", output::cell(v.get("expires_at"))),
    ]
}

fn field_or_self<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(value)
}

/// `ca-admin profile list`.
pub fn profile(args: &Profile) -> Result<(), String> {
    let client = connect(&args.connection)?;
    emit(args.connection.json, &client.get_json("profiles")?, |v| {
        table(
            v,
            &[
                ("name", "name"),
                ("type", "certificate_type"),
                ("issuer", "issuer"),
                ("keys", "key_types"),
                ("terms", "terms_days"),
                ("names", "san_types"),
            ],
        )
    });
    Ok(())
}

/// `ca-admin ca list`.
pub fn ca_list(connection: &Connection) -> Result<(), String> {
    let client = connect(connection)?;
    emit(connection.json, &client.get_json("cas")?, |v| {
        table(
            v,
            &[
                ("id", "id"),
                ("role", "role"),
                ("subject", "subject"),
                ("key", "key_type"),
                ("not after", "not_after"),
            ],
        )
    });
    Ok(())
}

/// `ca-admin request`.
pub fn request(args: &RequestArgs) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        RequestCommand::List {
            status,
            org,
            profile,
            name,
            after,
            limit,
        } => {
            let q = query(&[
                ("status", status.clone()),
                ("org", org.map(|o| o.to_string())),
                ("profile", profile.clone()),
                ("name", name.clone()),
                ("after", after.map(|a| a.to_string())),
                ("limit", limit.map(|l| l.to_string())),
            ]);
            emit(json_out, &client.get_json(&format!("requests{q}"))?, |v| {
                table(v, REQUEST_COLUMNS)
            });
        }
        RequestCommand::Show { id } => emit(
            json_out,
            &client.get_json(&format!("requests/{id}"))?,
            details,
        ),
        RequestCommand::Submit {
            csr,
            profile,
            org,
            dept,
            term_days,
        } => {
            let body = json!({"csr": read_text(csr)?, "profile": profile, "org": org, "dept": dept, "term_days": term_days});
            let created = client.send_json(Method::POST, "requests", &body)?;
            emit(json_out, &created, print_request_outcome);
        }
        RequestCommand::Approve { id, message } => {
            let updated = client.send_json(
                Method::POST,
                &format!("requests/{id}/approve"),
                &json!({"message": message}),
            )?;
            emit(json_out, &updated, print_request_outcome);
        }
        RequestCommand::Decline { id, message } => {
            let updated = client.send_json(
                Method::POST,
                &format!("requests/{id}/decline"),
                &json!({"message": message}),
            )?;
            emit(json_out, &updated, print_request_outcome);
        }
    }
    Ok(())
}

fn print_request_outcome(v: &Value) {
    let state = output::cell(v.get("status"));
    let mut line = format!("request {}: {state}", output::cell(v.get("id")));
    if let Some(cert) = v.get("certificate").filter(|c| !c.is_null()) {
        line.push_str(&format!(" (certificate {cert})"));
    }
    if let Some(reason) = v
        .get("history")
        .and_then(|h| h.as_array())
        .and_then(|h| h.last())
        .and_then(|t| t.get("reason"))
        .and_then(|r| r.as_str())
    {
        if !reason.is_empty() {
            line.push_str(&format!(": {reason}"));
        }
    }
    println!("{line}");
}

/// `ca-admin cert`.
pub fn cert(args: &Cert) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        CertCommand::List {
            status,
            org,
            profile,
            name,
            expires_before,
            csv,
            after,
            limit,
        } => {
            let q = query(&[
                ("status", status.clone()),
                ("org", org.map(|o| o.to_string())),
                ("profile", profile.clone()),
                ("name", name.clone()),
                ("expires_before", expires_before.clone()),
                ("after", after.map(|a| a.to_string())),
                ("limit", limit.map(|l| l.to_string())),
            ]);
            match csv {
                Some(path) => {
                    let response = client.send(
                        Method::GET,
                        &format!("certificates.csv{q}"),
                        None,
                        Vec::new(),
                    )?;
                    if !response.status.is_success() {
                        return Err(response.error_message());
                    }
                    std::fs::write(path, &response.body)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => emit(
                    json_out,
                    &client.get_json(&format!("certificates{q}"))?,
                    |v| table(v, CERT_COLUMNS),
                ),
            }
        }
        CertCommand::Show { id } => emit(
            json_out,
            &client.get_json(&format!("certificates/{id}"))?,
            details,
        ),
        CertCommand::Download { id, format, out } => {
            let response = client.send(
                Method::GET,
                &format!(
                    "certificates/{id}/download?format={}",
                    percent_encode(format)
                ),
                None,
                Vec::new(),
            )?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            match out {
                Some(path) => {
                    std::fs::write(path, &response.body)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    eprintln!("wrote {} ({})", path.display(), response.content_type);
                }
                None => {
                    use std::io::Write;
                    std::io::stdout()
                        .write_all(&response.body)
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        CertCommand::Revoke {
            id,
            reason,
            message,
        } => {
            let updated = client.send_json(
                Method::POST,
                &format!("certificates/{id}/revoke"),
                &json!({"reason": reason, "message": message}),
            )?;
            emit(json_out, &updated, |v| {
                println!(
                    "certificate {id} revoked ({})",
                    output::cell(v.get("revocation_reason").or(v.get("status")))
                )
            });
        }
        CertCommand::Renew { id, csr } => {
            let body = match csr {
                Some(path) => json!({"csr": read_text(path)?}),
                None => json!({}),
            };
            let created =
                client.send_json(Method::POST, &format!("certificates/{id}/renew"), &body)?;
            emit(json_out, &created, print_request_outcome);
        }
        CertCommand::Replace { id, csr } => {
            let created = client.send_json(
                Method::POST,
                &format!("certificates/{id}/replace"),
                &json!({"csr": read_text(csr)?}),
            )?;
            emit(json_out, &created, print_request_outcome);
        }
        CertCommand::Import { files, org, dept } => import(&client, files, *org, *dept, json_out)?,
        CertCommand::Delete { id } => {
            let response = client.send(
                Method::DELETE,
                &format!("certificates/{id}"),
                None,
                Vec::new(),
            )?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            if json_out {
                println!("{{\"deleted\": {id}}}");
            } else {
                println!("certificate {id} deleted");
            }
        }
    }
    Ok(())
}

/// Imports files in chunks of PEM blocks, with a progress line on standard error.
fn import(
    client: &ApiClient,
    files: &[PathBuf],
    org: u64,
    dept: Option<u64>,
    json_out: bool,
) -> Result<(), String> {
    const CHUNK: usize = 200;
    let q = query(&[
        ("org", Some(org.to_string())),
        ("dept", dept.map(|d| d.to_string())),
    ]);
    let mut pem_blocks: Vec<String> = Vec::new();
    let mut uploads: Vec<(String, &'static str, Vec<u8>)> = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if bytes.starts_with(b"PK") {
            uploads.push((path.display().to_string(), "application/zip", bytes));
        } else if let Ok(text) = std::str::from_utf8(&bytes) {
            let certs = ca_core::authority::pem_certificates(text)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{}: no PEM certificate found", path.display()));
            }
            pem_blocks.extend(
                certs
                    .iter()
                    .map(|der| ca_core::encoding::pem("CERTIFICATE", der)),
            );
        } else {
            uploads.push((path.display().to_string(), "application/pkix-cert", bytes));
        }
    }
    for chunk in pem_blocks.chunks(CHUNK) {
        uploads.push((
            format!("{} PEM certificates", chunk.len()),
            "application/x-pem-file",
            chunk.concat().into_bytes(),
        ));
    }
    let total_pem = pem_blocks.len();
    let mut imported = Vec::new();
    let mut errors = Vec::new();
    let mut done = 0usize;
    for (label, content_type, body) in uploads {
        let response = client.send(
            Method::POST,
            &format!("certificates/import{q}"),
            Some(content_type),
            body,
        )?;
        // When nothing in an upload could be imported the API answers with an error document.
        let value = match response.json() {
            Ok(value) => value,
            Err(message) => {
                json!({"imported": [], "errors": [{"message": format!("{label}: {message}")}]})
            }
        };
        imported.extend(value["imported"].as_array().cloned().unwrap_or_default());
        errors.extend(value["errors"].as_array().cloned().unwrap_or_default());
        done += value["imported"].as_array().map(|a| a.len()).unwrap_or(0)
            + value["errors"].as_array().map(|a| a.len()).unwrap_or(0);
        if !json_out {
            eprint!(
                "\rimporting: {done} processed ({} imported, {} failed){}",
                imported.len(),
                errors.len(),
                if total_pem > 0 {
                    format!(" of at least {total_pem}")
                } else {
                    String::new()
                }
            );
        }
    }
    if !json_out {
        eprintln!();
    }
    let result = json!({"imported": imported, "errors": errors});
    emit(json_out, &result, |v| {
        println!(
            "imported {} certificate(s), {} error(s)",
            imported.len(),
            errors.len()
        );
        for e in v["errors"].as_array().into_iter().flatten() {
            println!("  error: {}", output::cell(e.get("message").or(Some(e))));
        }
    });
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} certificate(s) could not be imported",
            errors.len()
        ))
    }
}

/// `ca-admin audit`.
pub fn audit(args: &Audit) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    let columns: &[(&str, &str)] = &[
        ("seq", "seq"),
        ("time", "at"),
        ("actor", "actor"),
        ("action", "action"),
        ("object", "object"),
        ("outcome", "outcome"),
        ("detail", "detail"),
    ];
    match &args.command {
        AuditCommand::List {
            after,
            limit,
            certificate,
        } => {
            let path = match certificate {
                Some(id) => format!("certificates/{id}/audit"),
                None => format!(
                    "audit{}",
                    query(&[
                        ("after", after.map(|a| a.to_string())),
                        ("limit", limit.map(|l| l.to_string()))
                    ])
                ),
            };
            emit(json_out, &client.get_json(&path)?, |v| table(v, columns));
        }
        AuditCommand::Verify => {
            let result = client.send_json(Method::POST, "audit/verify", &json!({}))?;
            let intact = result["intact"].as_bool().unwrap_or(false);
            emit(json_out, &result, |v| {
                if intact {
                    println!(
                        "audit log intact: {} entries verified",
                        output::cell(v.get("entries"))
                    );
                    println!(
                        "head hash {} (record it elsewhere: a chain cannot show that its newest entries were removed)",
                        output::cell(v.get("head_hash"))
                    );
                } else {
                    println!(
                        "AUDIT LOG BROKEN at entry {}: {}",
                        output::cell(v.get("broken_at")),
                        output::cell(v.get("reason"))
                    );
                }
            });
            if !intact {
                return Err("the audit log's hash chain does not verify".into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scep_challenge_is_on_a_line_of_its_own() {
        let lines = scep_challenge_lines(&json!({
            "endpoint": 3, "challenge": "00ff", "expires_at": "2030-01-01T00:00:00Z"
        }));
        assert!(
            lines.contains(&"  challenge  00ff".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"  expires    2030-01-01T00:00:00Z".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn eab_flags_keep_a_key_that_begins_with_a_dash_a_value() {
        let lines = eab_key_lines("kid-0011223344556677", "-Zx_9aB");
        assert_eq!(lines[1], "EAB HMAC key: -Zx_9aB (shown once)");
        assert_eq!(
            lines[2],
            "certbot:      --eab-kid=kid-0011223344556677 --eab-hmac-key=-Zx_9aB"
        );
        assert_eq!(
            lines[3],
            "lego:         --eab --kid=kid-0011223344556677 --hmac=-Zx_9aB"
        );
        // No suggestion leaves a value as a word of its own, where a parser could take
        // one beginning with `-` for an option.
        for line in &lines[2..] {
            assert!(!line.contains(" -Zx"), "{line}");
        }
    }

    #[test]
    fn a_flag_value_a_shell_would_split_is_quoted() {
        assert_eq!(output::flag("hmac", "-abc_DEF"), "--hmac=-abc_DEF");
        assert_eq!(output::flag("name", "a b"), "--name='a b'");
        assert_eq!(output::flag("name", "it's"), "--name='it'\\''s'");
        assert_eq!(output::flag("name", ""), "--name=''");
    }
}
