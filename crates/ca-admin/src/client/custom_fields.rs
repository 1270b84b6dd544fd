//! `custom-field`: the values requests of a certificate class carry (defined by an MRAO).

use ::http::Method;
use serde_json::json;

use super::args::*;
use super::output::{emit, table};
use super::{connect, output, query};

/// `ca-admin custom-field`.
pub fn custom_field(args: &CustomField) -> Result<(), String> {
    let client = connect(&args.connection)?;
    let json_out = args.connection.json;
    match &args.command {
        CustomFieldCommand::List { class } => emit(
            json_out,
            &client.get_json(&format!(
                "custom-fields{}",
                query(&[("class", class.clone())])
            ))?,
            |v| {
                table(
                    v,
                    &[
                        ("id", "id"),
                        ("class", "class"),
                        ("name", "name"),
                        ("mandatory", "mandatory"),
                        ("created", "created_at"),
                    ],
                )
            },
        ),
        CustomFieldCommand::Create {
            class,
            name,
            mandatory,
        } => {
            let created = client.send_json(
                Method::POST,
                "custom-fields",
                &json!({"class": class, "name": name, "mandatory": mandatory}),
            )?;
            emit(json_out, &created, |v| {
                println!(
                    "created custom field {} ({}) for {class} certificates{}",
                    output::cell(v.get("id")),
                    output::cell(v.get("name")),
                    if *mandatory { ", mandatory" } else { "" }
                )
            });
        }
        CustomFieldCommand::Delete { id } => {
            let response = client.send(
                Method::DELETE,
                &format!("custom-fields/{id}"),
                None,
                Vec::new(),
            )?;
            if !response.status.is_success() {
                return Err(response.error_message());
            }
            if json_out {
                println!("{{\"deleted\": {id}}}");
            } else {
                println!("custom field {id} deleted");
            }
        }
    }
    Ok(())
}
