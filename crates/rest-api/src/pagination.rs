//! Keyset pagination: `?limit=` (1 to 500, default 50) and `?after=<id>`;
//! answers are `{"items": [...], "next_after": <id or null>}`.
//!
//! Keyset rather than offsets because the lists grow while a client pages
//! through them: an id cursor never skips or repeats an item.

use serde::Serialize;

use crate::error::ApiError;
use crate::query::Query;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size.
pub const MAX_LIMIT: usize = 500;

/// A requested page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page.
    pub limit: usize,
    /// Only items with an id above this.
    pub after: u64,
}

impl PageRequest {
    /// Reads `limit` and `after` from the query.
    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        let limit = match query.u64("limit")? {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as u64).contains(&n) => n as usize,
            Some(_) => {
                return Err(ApiError::invalid_input(format!(
                    "limit must be 1 to {MAX_LIMIT}"
                )))
            }
        };
        Ok(Self {
            limit,
            after: query.u64("after")?.unwrap_or(0),
        })
    }

    /// How many to fetch from a source that honours `after`: one more than the
    /// page, to learn whether there is a next page without a second query.
    pub fn fetch(&self) -> usize {
        self.limit + 1
    }

    /// Cuts a page out of items in ascending id order: drops those at or before
    /// `after`, keeps `limit`, and says where the next page starts.
    pub fn cut<T>(&self, items: Vec<T>, id: impl Fn(&T) -> u64) -> Page<T> {
        let mut items: Vec<T> = items.into_iter().filter(|i| id(i) > self.after).collect();
        let next_after = if items.len() > self.limit {
            items.truncate(self.limit);
            items.last().map(&id)
        } else {
            None
        };
        Page { items, next_after }
    }
}

/// One page of an answer.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The `after` of the next page; `null` on the last.
    pub next_after: Option<u64>,
}

impl<T> Page<T> {
    /// A complete list (no further page).
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_after: None,
        }
    }

    /// The same page with its items converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_after: self.next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_by_id() {
        let page = PageRequest { limit: 2, after: 0 };
        let cut = page.cut(vec![1u64, 2, 3], |i| *i);
        assert_eq!((cut.items, cut.next_after), (vec![1, 2], Some(2)));
        let page = PageRequest { limit: 2, after: 2 };
        let cut = page.cut(vec![1u64, 2, 3], |i| *i);
        assert_eq!((cut.items, cut.next_after), (vec![3], None));
        let q = Query::parse(Some("limit=0")).unwrap();
        assert!(PageRequest::from_query(&q).is_err());
        let q = Query::parse(Some("limit=501")).unwrap();
        assert!(PageRequest::from_query(&q).is_err());
        let q = Query::parse(None).unwrap();
        assert_eq!(PageRequest::from_query(&q).unwrap().limit, DEFAULT_LIMIT);
    }
}
