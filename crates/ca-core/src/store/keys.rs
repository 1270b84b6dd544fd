//! Order-preserving key encodings.
//!
//! Engines order keys as unsigned bytes, so a key encoding decides what a
//! range scan means. Integers are big-endian (so byte order is numeric
//! order); signed integers have their sign bit flipped (so negatives sort
//! before positives); composite keys concatenate fixed-width segments, with
//! variable-length segments length-prefixed so that one segment can never
//! run into the next.
//!
//! Length-prefixed segments sort by length first, then by content: fine for
//! exact matches and for prefixes that end before or after such a segment,
//! not for alphabetical order.

use super::KeyRange;

/// `v` as 8 big-endian bytes: byte order is numeric order.
pub const fn u64_key(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// The inverse of [`u64_key`]; `None` unless `key` is exactly 8 bytes.
pub fn u64_from_key(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

/// `v` as 8 bytes whose byte order is numeric order: big-endian with the
/// sign bit flipped, so `i64::MIN` is all zeros and `-1` sorts just below `0`.
/// For timestamps (expiry dates), which may be before 1970.
pub const fn i64_key(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// The inverse of [`i64_key`]; `None` unless `key` is exactly 8 bytes.
pub fn i64_from_key(key: &[u8]) -> Option<i64> {
    let raw = u64::from_be_bytes(key.try_into().ok()?);
    Some((raw ^ (1 << 63)) as i64)
}

/// Builds a composite key segment by segment, e.g. `(status, id)` or
/// `(expiry, id)` for a secondary index:
///
/// ```
/// # use ca_core::store::keys::KeyBuilder;
/// let key = KeyBuilder::new().u8(2).i64(1_767_225_600).u64(42).build();
/// assert_eq!(key.len(), 17);
/// // Every entry with status 2, in expiry order:
/// let range = KeyBuilder::new().u8(2).prefix();
/// assert!(range.contains(&key));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyBuilder {
    buf: Vec<u8>,
}

impl KeyBuilder {
    /// An empty key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one byte (an enum discriminant, a status).
    pub fn u8(mut self, v: u8) -> Self {
        self.buf.push(v);
        self
    }

    /// Append a `u64`, big-endian (see [`u64_key`]).
    pub fn u64(mut self, v: u64) -> Self {
        self.buf.extend_from_slice(&u64_key(v));
        self
    }

    /// Append an `i64`, order-preserving (see [`i64_key`]).
    pub fn i64(mut self, v: i64) -> Self {
        self.buf.extend_from_slice(&i64_key(v));
        self
    }

    /// Append bytes with a 4-byte big-endian length prefix, so the segment
    /// ends unambiguously.
    ///
    /// # Panics
    /// If `v` is 4 GiB or longer, which no key is.
    pub fn bytes(mut self, v: &[u8]) -> Self {
        let len = u32::try_from(v.len()).expect("key segment shorter than 4 GiB");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(v);
        self
    }

    /// Append a string as length-prefixed UTF-8 bytes (see [`Self::bytes`]).
    pub fn str(self, v: &str) -> Self {
        self.bytes(v.as_bytes())
    }

    /// Append bytes as they are, with no length prefix: only as the last
    /// segment, or for fixed-width values.
    pub fn raw(mut self, v: &[u8]) -> Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// The key so far.
    pub fn build(self) -> Vec<u8> {
        self.buf
    }

    /// Every key that starts with the segments so far.
    pub fn prefix(self) -> KeyRange {
        KeyRange::prefix(self.buf)
    }
}

impl From<KeyBuilder> for Vec<u8> {
    fn from(builder: KeyBuilder) -> Vec<u8> {
        builder.buf
    }
}

/// Reads back the segments of a key made by [`KeyBuilder`], in the same
/// order: index entries carry the record's id in their key, not in a value.
/// Each method returns `None` if the key is too short.
#[derive(Debug, Clone)]
pub struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    /// Start reading at the beginning of `key`.
    pub fn new(key: &'a [u8]) -> Self {
        KeyReader { rest: key }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    /// Read one byte.
    pub fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    /// Read a `u64` written by [`KeyBuilder::u64`].
    pub fn u64(&mut self) -> Option<u64> {
        u64_from_key(self.take(8)?)
    }

    /// Read an `i64` written by [`KeyBuilder::i64`].
    pub fn i64(&mut self) -> Option<i64> {
        i64_from_key(self.take(8)?)
    }

    /// Read a segment written by [`KeyBuilder::bytes`].
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = u32::from_be_bytes(self.take(4)?.try_into().ok()?);
        self.take(usize::try_from(len).ok()?)
    }

    /// Read a segment written by [`KeyBuilder::str`]; `None` if it is not
    /// UTF-8.
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    /// Whatever has not been read (a [`KeyBuilder::raw`] tail).
    pub fn rest(self) -> &'a [u8] {
        self.rest
    }

    /// Whether the whole key has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i64_keys_sort_numerically_across_zero() {
        let values = [
            i64::MIN,
            i64::MIN + 1,
            -1_000_000,
            -256,
            -1,
            0,
            1,
            255,
            256,
            1_767_225_600,
            i64::MAX - 1,
            i64::MAX,
        ];
        let keys: Vec<_> = values.iter().map(|&v| i64_key(v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:02x?}");
        for (&v, k) in values.iter().zip(&keys) {
            assert_eq!(i64_from_key(k), Some(v));
        }
        assert_eq!(i64_key(i64::MIN), [0; 8]);
        assert_eq!(i64_key(0), [0x80, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn u64_keys_sort_numerically() {
        let values = [0u64, 1, 255, 256, 65_536, u64::MAX];
        let keys: Vec<_> = values.iter().map(|&v| u64_key(v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(u64_from_key(&keys[3]), Some(256));
        assert_eq!(u64_from_key(&[1, 2, 3]), None);
    }

    #[test]
    fn composite_keys_order_and_read_back() {
        let key = |status: u8, expiry: i64, id: u64| {
            KeyBuilder::new().u8(status).i64(expiry).u64(id).build()
        };
        // (status, expiry, id) order, expiry negative before positive.
        assert!(key(1, 5, 0) < key(2, -5, 0));
        assert!(key(2, -5, 9) < key(2, 5, 0));
        assert!(key(2, 5, 0) < key(2, 5, 1));

        let k = KeyBuilder::new()
            .str("example.org")
            .bytes(&[0, 1])
            .i64(-7)
            .raw(b"tail")
            .build();
        let mut r = KeyReader::new(&k);
        assert_eq!(r.str(), Some("example.org"));
        assert_eq!(r.bytes(), Some(&[0u8, 1][..]));
        assert_eq!(r.i64(), Some(-7));
        assert_eq!(r.rest(), b"tail");

        let mut short = KeyReader::new(&[0, 0, 0, 9, 1]);
        assert_eq!(short.bytes(), None);
    }

    #[test]
    fn length_prefix_keeps_segments_apart() {
        // Without the prefix, ("ab", "c") and ("a", "bc") would be one key.
        let a = KeyBuilder::new().str("ab").str("c").build();
        let b = KeyBuilder::new().str("a").str("bc").build();
        assert_ne!(a, b);
        // A prefix on the first segment does not match a longer string.
        let range = KeyBuilder::new().str("a").prefix();
        assert!(range.contains(&b));
        assert!(!range.contains(&a));
    }
}
