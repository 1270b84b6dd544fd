//! Activity ids: one random GUID per call, sent as `client-request-id`, recorded
//! in the audit log.

use std::fmt;

/// A version-4 GUID, lower-case hyphenated on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivityId([u8; 16]);

impl ActivityId {
    /// A fresh random id (the system's random generator, through aws-lc-rs).
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
        // RFC 9562 version 4, variant 10.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }
}

impl fmt::Display for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_id_is_a_version_4_guid() {
        let id = ActivityId::random().to_string();
        assert_eq!(id.len(), 36);
        let groups: Vec<&str> = id.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"));
        assert_ne!(id, ActivityId::random().to_string());
    }
}
