//! Query strings: `application/x-www-form-urlencoded` decoding, refusal of
//! parameters the operation does not take, and typed getters.

use std::str::FromStr;

use crate::error::ApiError;

/// The longest query value accepted, in characters (the same bound as JSON strings).
const MAX_VALUE_CHARS: usize = crate::body::MAX_STRING_CHARS;

/// The decoded parameters of a query string.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes a raw query string. A parameter given twice is refused: which one
    /// would win is a guess, and a guess about a filter lists the wrong objects.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            let key = decode(key)?;
            let value = decode(value)?;
            if value.chars().count() > MAX_VALUE_CHARS {
                return Err(ApiError::invalid_input(format!(
                    "query parameter '{key}' is longer than {MAX_VALUE_CHARS} characters"
                )));
            }
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(ApiError::invalid_input(format!(
                    "query parameter '{key}' is given more than once"
                )));
            }
            pairs.push((key, value));
        }
        Ok(Self { pairs })
    }

    /// Refuses any parameter not in `allowed` (a misspelt filter must not silently list everything).
    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            None => Ok(()),
            Some((k, _)) if allowed.is_empty() => Err(ApiError::invalid_input(format!(
                "unknown query parameter '{}': this operation takes none",
                truncate(k)
            ))),
            Some((k, _)) => Err(ApiError::invalid_input(format!(
                "unknown query parameter '{}' (this operation takes {})",
                truncate(k),
                allowed.join(", ")
            ))),
        }
    }

    /// A parameter's value; an empty value counts as absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A parameter parsed with `FromStr`, with the parser's message on failure.
    pub fn parsed<T>(&self, key: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.get(key)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::invalid_input(format!("query parameter '{key}': {e}")))
            })
            .transpose()
    }

    /// An unsigned integer parameter (ids, limits).
    pub fn u64(&self, key: &str) -> Result<Option<u64>, ApiError> {
        self.get(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::invalid_input(format!(
                        "query parameter '{key}' must be a non-negative integer"
                    ))
                })
            })
            .transpose()
    }

    /// A point in time: RFC 3339 or unix seconds.
    pub fn time(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(|v| {
                if let Ok(unix) = v.parse::<i64>() {
                    return Ok(unix);
                }
                time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                    .map(|t| t.unix_timestamp())
                    .map_err(|_| {
                        ApiError::invalid_input(format!(
                            "query parameter '{key}' must be an RFC 3339 time or unix seconds"
                        ))
                    })
            })
            .transpose()
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Percent-decodes one component, with `+` as space; refuses bad escapes and non-UTF-8.
fn decode(text: &str) -> Result<String, ApiError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::invalid_input("the query string has a bad percent-escape")
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::invalid_input("the query string is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses() {
        let q = Query::parse(Some("name=a%20b+c&org=3&empty=")).unwrap();
        assert_eq!(q.get("name"), Some("a b c"));
        assert_eq!(q.u64("org").unwrap(), Some(3));
        assert_eq!(q.get("empty"), None);
        assert!(q.allow_only(&["name", "org", "empty"]).is_ok());
        assert!(q.allow_only(&["name"]).is_err());
        assert!(Query::parse(Some("a=%zz")).is_err());
        assert!(Query::parse(Some("a=%ff")).is_err());
        assert!(Query::parse(Some("a=1&a=2")).is_err());
        assert!(Query::parse(Some("org=x")).unwrap().u64("org").is_err());
        let t = Query::parse(Some("t=2030-01-01T00:00:00Z&u=1700000000")).unwrap();
        assert_eq!(t.time("t").unwrap(), Some(1_893_456_000));
        assert_eq!(t.time("u").unwrap(), Some(1_700_000_000));
    }
}
