//! `position` and `size` paging with `X-Total-Count`.

use serde_json::Value;

use crate::{Ctx, Reply, ScmError};

/// The largest page.
pub const MAX_SIZE: usize = 200;

/// The page asked for: offset and length.
pub fn page(ctx: &Ctx) -> Result<(usize, usize), ScmError> {
    let number = |name: &str, default: usize| -> Result<usize, ScmError> {
        match ctx.param(name) {
            None => Ok(default),
            Some(v) if v.trim().is_empty() => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| ScmError::field(format!("{name} must be a non-negative integer"))),
        }
    };
    let position = number("position", 0)?;
    let size = number("size", MAX_SIZE)?.min(MAX_SIZE);
    Ok((position, size))
}

/// A page of `rows` (all matching rows, in order) as the answer, with the total count.
pub fn paged(ctx: &Ctx, rows: Vec<Value>) -> Result<Reply, ScmError> {
    let (position, size) = page(ctx)?;
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(position).take(size).collect();
    Ok(Reply::Json(
        http::StatusCode::OK,
        Value::Array(page),
        vec![("x-total-count", total.to_string())],
    ))
}
