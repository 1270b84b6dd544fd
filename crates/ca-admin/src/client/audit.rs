//! `audit`: the hash-chained audit log, listed and verified.

use ::http::Method;
use serde_json::json;

use super::args::*;
use super::output::{emit, table};
use super::{connect, output, query};

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
