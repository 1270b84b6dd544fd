//! `endpoint`: ACME, SCEP and EST endpoints, their credentials and settings.

use ::http::Method;
use serde_json::{json, Value};

use super::args::*;
use super::http::ApiClient;
use super::output::{emit, table};
use super::{connect, output};

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
            intune,
        } => {
            let profile = match (profile, kind.as_str()) {
                (Some(profile), _) => profile.clone(),
                (None, "intune") => "device".to_string(),
                (None, _) => return Err("--profile is required".into()),
            };
            let mut body = json!({
                "name": name, "kind": kind, "org": org, "dept": dept, "profile": profile,
                "default_term_days": term_days, "approval": approval, "eab_required": eab_required,
            });
            if kind == "intune" {
                body["intune"] = intune_application(intune)?;
            } else if intune.intune_tenant.is_some() || intune.intune_client_secret_file.is_some() {
                return Err("the --intune-* options are for --kind intune".into());
            }
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
        EndpointCommand::Intune { id, application } => {
            let body = intune_application(application)?;
            let set = client.send_json(Method::PUT, &format!("endpoints/{id}/intune"), &body)?;
            emit(json_out, &set, |v| {
                let intune = v.get("intune").unwrap_or(v);
                println!("Intune endpoint {id}");
                println!("  tenant          {}", output::cell(intune.get("tenant")));
                println!(
                    "  application id  {}",
                    output::cell(intune.get("application_id"))
                );
                println!("  client secret   sealed (not shown)");
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
        EndpointCommand::RotateSecret { id } => {
            let answer = client.send_json(
                Method::POST,
                &format!("endpoints/{id}/rotate-secret"),
                &json!({}),
            )?;
            emit(json_out, &answer, |v| {
                if let Some(challenge) = v.get("scep_challenge") {
                    println!("endpoint {id}: new SCEP challenge password (shown once):");
                    println!("{}", output::cell(Some(challenge)));
                } else if let Some(password) = v.get("est_password") {
                    println!("endpoint {id}: new EST password (shown once):");
                    println!("{}", output::cell(Some(password)));
                }
            });
        }
        EndpointCommand::Unlock { id } => {
            let answer =
                client.send_json(Method::POST, &format!("endpoints/{id}/unlock"), &json!({}))?;
            emit(json_out, &answer, |v| {
                println!(
                    "EST endpoint {id}: {} locked user/address pair(s) cleared",
                    output::cell(v.get("cleared"))
                )
            });
        }
    }
    Ok(())
}

/// The `intune` object of a request, its secret read from the named file or standard input.
fn intune_application(args: &IntuneApplicationArgs) -> Result<Value, String> {
    let missing = |flag: &str| format!("an Intune endpoint needs --{flag}");
    let tenant = args
        .intune_tenant
        .as_ref()
        .ok_or_else(|| missing("intune-tenant"))?;
    let application_id = args
        .intune_application_id
        .as_ref()
        .ok_or_else(|| missing("intune-application-id"))?;
    let path = args
        .intune_client_secret_file
        .as_ref()
        .ok_or_else(|| missing("intune-client-secret-file"))?;
    let secret = zeroize::Zeroizing::new(if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| format!("standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
    });
    // A secret file written by an editor or `echo` ends with a newline that is no part of it.
    let secret = secret.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(format!("{}: the client secret is empty", path.display()));
    }
    Ok(json!({
        "tenant": tenant,
        "application_id": application_id,
        "client_secret": secret,
        "login_url": args.intune_login_url,
        "graph_url": args.intune_graph_url,
        "intune_resource": args.intune_resource,
    }))
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
pub(super) fn eab_key_lines(key_id: &str, hmac_key: &str) -> Vec<String> {
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
pub(super) fn scep_challenge_lines(v: &Value) -> Vec<String> {
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
