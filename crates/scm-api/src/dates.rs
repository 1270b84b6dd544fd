//! Dates in certificate details: US `MM/dd/yyyy` unless `?dateFormat=` names
//! another of the reference's formats. Reports and ACME use ISO-8601.

use time::OffsetDateTime;

use crate::error::ScmError;

/// How dates are written in a details answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// yyyy-MM-dd.
    Iso,
    /// dd.MM.yyyy.
    Eu,
    /// MM/dd/yyyy (the default).
    #[default]
    Us,
    /// dd/MM/yyyy.
    Uk,
    /// yyyy/MM/dd.
    Jp,
}

/// A date format with or without the time of day (`_HMS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateStyle {
    /// The order of day, month and year.
    pub format: DateFormat,
    /// Whether ` HH:mm:ss` (UTC) follows.
    pub with_time: bool,
}

impl DateStyle {
    /// Parses `dateFormat` (case-insensitive); none is US.
    pub fn parse(value: Option<&str>) -> Result<Self, ScmError> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let upper = value.trim().to_ascii_uppercase();
        let (base, with_time) = match upper.strip_suffix("_HMS") {
            Some(base) => (base, true),
            None => (upper.as_str(), false),
        };
        let format = match base {
            "ISO" => DateFormat::Iso,
            "EU" => DateFormat::Eu,
            "US" => DateFormat::Us,
            "UK" => DateFormat::Uk,
            "JP" => DateFormat::Jp,
            _ => {
                return Err(ScmError::field(
                    "dateFormat must be one of ISO, EU, US, UK, JP, each optionally with _HMS",
                ))
            }
        };
        Ok(Self { format, with_time })
    }

    /// A unix time in this style (UTC).
    pub fn format(self, unix: i64) -> String {
        let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
        let date = match self.format {
            DateFormat::Iso => format!("{y:04}-{m:02}-{d:02}"),
            DateFormat::Eu => format!("{d:02}.{m:02}.{y:04}"),
            DateFormat::Us => format!("{m:02}/{d:02}/{y:04}"),
            DateFormat::Uk => format!("{d:02}/{m:02}/{y:04}"),
            DateFormat::Jp => format!("{y:04}/{m:02}/{d:02}"),
        };
        if self.with_time {
            format!("{date} {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
        } else {
            date
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_is_the_default_and_every_style_is_written() {
        let t = 1_747_829_655; // 2025-05-21 12:14:15 UTC
        assert_eq!(DateStyle::parse(None).unwrap().format(t), "05/21/2025");
        for (name, text) in [
            ("ISO", "2025-05-21"),
            ("iso_hms", "2025-05-21 12:14:15"),
            ("EU", "21.05.2025"),
            ("UK", "21/05/2025"),
            ("JP", "2025/05/21"),
            ("US_HMS", "05/21/2025 12:14:15"),
        ] {
            assert_eq!(
                DateStyle::parse(Some(name)).unwrap().format(t),
                text,
                "{name}"
            );
        }
        assert!(DateStyle::parse(Some("yyyy")).is_err());
    }
}
