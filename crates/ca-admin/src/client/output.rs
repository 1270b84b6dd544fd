//! Human-readable tables, or JSON for scripts.

use serde_json::Value;

/// Prints `value` as JSON (with `--json`) or runs the human printer.
pub fn emit(json: bool, value: &Value, human: impl FnOnce(&Value)) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        human(value);
    }
}

/// A cell's text: strings bare, null as '-', arrays joined with ',', other JSON compact.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| cell(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// A command-line option with its value for the user to copy: `--name=VALUE`.
///
/// Always the `=` form: a value that begins with `-` (random base64url secrets do,
/// one time in 32) would be read as an option in `--name VALUE` by certbot's, lego's
/// and most other argument parsers. A value with characters a shell treats
/// specially is single-quoted.
pub fn flag(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | '+' | ',' | '%')
        });
    if plain {
        format!("--{name}={value}")
    } else {
        format!("--{name}='{}'", value.replace('\'', "'\\''"))
    }
}

/// Looks up a dotted path ("owner.org") in an object.
pub fn field<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(item, |v, key| v.get(key))
}

/// Prints a table of `items` (an array, or an object with "items") with the given columns.
pub fn table(value: &Value, columns: &[(&str, &str)]) {
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![value],
        },
        _ => vec![value],
    };
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            columns
                .iter()
                .map(|(_, path)| truncate(&cell(field(item, path)), 60))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = columns.iter().map(|(title, _)| title.len()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    println!(
        "{}",
        line(columns.iter().map(|(t, _)| t.to_uppercase()).collect())
    );
    for row in rows {
        println!("{}", line(row));
    }
    if items.is_empty() {
        println!("(none)");
    }
    if let Some(next) = value.get("next_after").filter(|v| !v.is_null()) {
        println!("(more: --after {next})");
    }
}

/// Prints one object as "key: value" lines.
pub fn details(value: &Value) {
    if let Value::Object(map) = value {
        let width = map.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, v) in map {
            let text = match v {
                Value::Object(_) | Value::Array(_) if !matches!(v, Value::Array(a) if a.iter().all(|x| !x.is_object())) => {
                    serde_json::to_string(v).unwrap_or_default()
                }
                _ => cell(Some(v)),
            };
            println!("{k:<width$}  {text}");
        }
    } else {
        println!("{}", cell(Some(value)));
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
