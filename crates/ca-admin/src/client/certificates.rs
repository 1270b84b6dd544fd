//! `request` and `cert`: submissions, the approval queue, certificates and their exports and imports.

use std::path::PathBuf;

use ::http::Method;
use serde_json::{json, Value};

use super::args::*;
use super::http::ApiClient;
use super::output::{details, emit, table};
use super::{connect, output, percent_encode, query, read_text};

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
            custom_fields,
            comments,
        } => {
            let body = json!({
                "csr": read_text(csr)?, "profile": profile, "org": org, "dept": dept,
                "term_days": term_days, "comments": comments,
                "custom_fields": parse_custom_fields(custom_fields)?,
            });
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

/// `--custom-field NAME=VALUE` flags as the API's `[{name, value}]`. The value is
/// everything after the first `=`, kept as given (it may hold `=` or spaces).
pub(super) fn parse_custom_fields(specs: &[String]) -> Result<Value, String> {
    specs
        .iter()
        .map(|spec| match spec.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok(json!({"name": name.trim(), "value": value}))
            }
            _ => Err(format!(
                "'{spec}': use --custom-field NAME=VALUE (e.g. 'Cost centre=CC-42')"
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
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
