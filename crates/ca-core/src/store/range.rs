//! Key ranges for scans.
//!
//! Owned byte vectors rather than borrowed slices so a range can be built in
//! one place (a prefix helper, a composite key builder) and handed across the
//! engine boundary without lifetimes; a range is built once per scan, so the
//! copy does not matter.

use std::ops::Bound;

/// A range of keys, compared as unsigned bytes (lexicographically).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<Vec<u8>>,
    /// Upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// A range from two bounds.
    pub fn new(start: Bound<Vec<u8>>, end: Bound<Vec<u8>>) -> Self {
        KeyRange { start, end }
    }

    /// Every key of the table.
    pub fn all() -> Self {
        KeyRange::new(Bound::Unbounded, Bound::Unbounded)
    }

    /// Every key that starts with `prefix`.
    ///
    /// The end bound is the smallest key greater than every key with the
    /// prefix: the prefix with trailing `0xFF` bytes dropped and its last byte
    /// incremented, or no bound at all if the prefix is empty or all `0xFF`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> Self {
        let prefix = prefix.into();
        let end = match prefix_successor(&prefix) {
            Some(next) => Bound::Excluded(next),
            None => Bound::Unbounded,
        };
        KeyRange::new(Bound::Included(prefix), end)
    }

    /// Keys `>= start`.
    pub fn starting_at(start: impl Into<Vec<u8>>) -> Self {
        KeyRange::new(Bound::Included(start.into()), Bound::Unbounded)
    }

    /// Keys `< end`.
    pub fn before(end: impl Into<Vec<u8>>) -> Self {
        KeyRange::new(Bound::Unbounded, Bound::Excluded(end.into()))
    }

    /// The half-open range `start <= key < end`.
    pub fn between(start: impl Into<Vec<u8>>, end: impl Into<Vec<u8>>) -> Self {
        KeyRange::new(Bound::Included(start.into()), Bound::Excluded(end.into()))
    }

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let above_start = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let below_end = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        above_start && below_end
    }

    /// Whether the range can contain no key at all (start above end, or an
    /// empty half-open range).
    ///
    /// Engines check this first because ordered maps (the standard
    /// library's among them) panic on inverted ranges.
    pub fn is_empty(&self) -> bool {
        match (&self.start, &self.end) {
            (Bound::Unbounded, _) | (_, Bound::Unbounded) => false,
            (Bound::Included(s), Bound::Included(e)) => s > e,
            (Bound::Included(s), Bound::Excluded(e))
            | (Bound::Excluded(s), Bound::Included(e))
            | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        }
    }

    /// The bounds as borrowed slices, the form ordered maps take.
    pub fn as_slices(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (as_slice(&self.start), as_slice(&self.end))
    }
}

impl Default for KeyRange {
    fn default() -> Self {
        KeyRange::all()
    }
}

fn as_slice(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The smallest byte string greater than every string starting with
/// `prefix`, or `None` if there is none (empty or all-`0xFF` prefix).
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut next = prefix[..=last].to_vec();
    next[last] += 1;
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_bounds() {
        let r = KeyRange::prefix(vec![1, 2]);
        assert_eq!(r.end, Bound::Excluded(vec![1, 3]));
        assert!(r.contains(&[1, 2]));
        assert!(r.contains(&[1, 2, 0xFF, 0xFF]));
        assert!(!r.contains(&[1, 3]));
        assert!(!r.contains(&[1, 1, 0xFF]));

        // A trailing 0xFF cannot be incremented: carry into the byte before.
        let r = KeyRange::prefix(vec![1, 0xFF]);
        assert_eq!(r.end, Bound::Excluded(vec![2]));
        assert!(r.contains(&[1, 0xFF, 7]));
        assert!(!r.contains(&[2]));

        assert_eq!(KeyRange::prefix(vec![0xFF, 0xFF]).end, Bound::Unbounded);
        assert_eq!(
            KeyRange::prefix(Vec::new()),
            KeyRange::new(Bound::Included(vec![]), Bound::Unbounded)
        );
    }

    #[test]
    fn emptiness() {
        assert!(!KeyRange::all().is_empty());
        assert!(KeyRange::between(vec![2], vec![2]).is_empty());
        assert!(KeyRange::between(vec![3], vec![2]).is_empty());
        assert!(!KeyRange::new(Bound::Included(vec![2]), Bound::Included(vec![2])).is_empty());
        assert!(!KeyRange::prefix(vec![0xFF]).is_empty());
    }
}
