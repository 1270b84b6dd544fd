//! Certificate serial numbers.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A certificate serial number as its unsigned big-endian magnitude.
///
/// New serials carry 127 bits from the CSPRNG in 16 octets: positive, never
/// zero, well above the Baseline Requirements' 64 bits and below RFC 5280's
/// 20-octet limit. Uniqueness is enforced by the store's serial index.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Serial(#[serde(with = "serde_bytes")] Vec<u8>);

impl Serial {
    /// A fresh random serial.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 16];
        aws_lc_rs::rand::fill(&mut bytes).expect("the system CSPRNG is available");
        // Clear the sign bit (positive) and keep the first octet non-zero, so the
        // DER INTEGER is exactly 16 octets and no leading byte is stripped.
        bytes[0] = (bytes[0] & 0x7f).max(1);
        Serial(bytes)
    }

    /// A serial from big-endian bytes (leading zero octets are dropped).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let start = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        Serial(bytes[start..].to_vec())
    }

    /// Parses hex, with or without ':' separators.
    pub fn from_hex(text: &str) -> Option<Self> {
        let clean: String = text.chars().filter(|c| *c != ':').collect();
        if clean.is_empty() || clean.len() > 40 {
            return None;
        }
        let padded = if clean.len() % 2 == 1 {
            format!("0{clean}")
        } else {
            clean
        };
        hex::decode(padded).ok().map(|b| Serial::from_bytes(&b))
    }

    /// The big-endian magnitude.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_serials_are_positive_sixteen_octets_and_distinct() {
        let a = Serial::random();
        let b = Serial::random();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), 16);
        assert!(a.as_bytes()[0] & 0x80 == 0 && a.as_bytes()[0] != 0);
    }

    #[test]
    fn hex_round_trip_ignores_colons_and_leading_zeros() {
        let s = Serial::from_hex("00:0a:bc").unwrap();
        assert_eq!(s.to_hex(), "0abc");
        assert_eq!(Serial::from_hex("abc").unwrap().as_bytes(), &[0x0a, 0xbc]);
        assert!(Serial::from_hex("zz").is_none());
    }
}
