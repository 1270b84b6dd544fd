//! Reading a request body with a size limit.

use bytes::Bytes;
use http::{header, HeaderMap};
use http_body_util::BodyExt;
use hyper::body::Body;

/// Why a body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is (or declares itself) longer than the limit.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection failed while the body was read.
    #[error("the request body could not be read: {0}")]
    Unreadable(String),
}

/// Reads a whole body, refusing more than `limit` bytes.
///
/// A declared `Content-Length` over the limit is refused before anything is
/// read; a body without one (chunked) is counted while it is read and dropped
/// as soon as it passes the limit, so a client cannot make the gateway buffer
/// more than `limit` bytes either way.
pub async fn read_limited<B>(body: B, headers: &HeaderMap, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes> + Send,
    B::Error: std::fmt::Display,
{
    if let Some(declared) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if declared > limit as u64 {
            return Err(BodyError::TooLarge { limit });
        }
    }
    // Pinned on the stack: the body type need not be Unpin.
    let mut body = std::pin::pin!(body);
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(BodyError::TooLarge { limit });
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[tokio::test]
    async fn the_limit_holds_with_and_without_content_length() {
        let body = Full::new(Bytes::from(vec![7u8; 100]));
        let err = read_limited(body.clone(), &HeaderMap::new(), 99)
            .await
            .unwrap_err();
        assert_eq!(err, BodyError::TooLarge { limit: 99 });
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, "1000".parse().unwrap());
        let err = read_limited(body.clone(), &headers, 500).await.unwrap_err();
        assert_eq!(err, BodyError::TooLarge { limit: 500 });
        let ok = read_limited(body, &HeaderMap::new(), 100).await.unwrap();
        assert_eq!(ok.len(), 100);
    }
}
