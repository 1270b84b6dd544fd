//! `WWW-Authenticate` spelled as RFC 9110 spells it on HTTP/1.
//!
//! hyper keeps header names lower case and, with `title_case_headers`, writes
//! `Www-Authenticate`. libest's client looks for the challenge with a
//! case-sensitive `strncmp(name, "WWW-Authenticate", 16)` and, not finding it,
//! never answers the challenge with its password. hyper offers no public way to
//! set one name's case, so the connection's writer fixes that one name, in the
//! head of a response only (the bytes before the first blank line of a write that
//! begins with `HTTP/1.`); the replacement has the same length, so nothing else
//! changes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const TITLE_CASE: &[u8] = b"\r\nWww-Authenticate:";
const RFC_CASE: &[u8] = b"\r\nWWW-Authenticate:";

/// A connection whose response heads carry `WWW-Authenticate` in the RFC's case.
pub struct RfcHeaderCase<S> {
    inner: S,
}

impl<S> RfcHeaderCase<S> {
    /// Wraps a connection.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// The buffer with the name fixed in its response head, if it has one to fix.
fn fixed(buf: &[u8]) -> Option<Vec<u8>> {
    if !buf.starts_with(b"HTTP/1.") {
        return None;
    }
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |p| p + 2);
    let at = buf[..head_end]
        .windows(TITLE_CASE.len())
        .position(|w| w == TITLE_CASE)?;
    let mut out = buf.to_vec();
    out[at..at + RFC_CASE.len()].copy_from_slice(RFC_CASE);
    Some(out)
}

impl<S: AsyncRead + Unpin> AsyncRead for RfcHeaderCase<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RfcHeaderCase<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match fixed(buf) {
            // Same length: a partial write of the copy is the same partial write of `buf`.
            Some(copy) => Pin::new(&mut self.inner).poll_write(cx, &copy),
            None => Pin::new(&mut self.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, so hyper flattens each response head into one buffer.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_head_of_a_response_is_touched() {
        let head = b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nWww-Authenticate: Basic realm=\"EST\"\r\n\r\nWww-Authenticate: body\r\n";
        let out = fixed(head).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\r\nWWW-Authenticate: Basic"));
        assert!(text.ends_with("\r\n\r\nWww-Authenticate: body\r\n"));
        assert!(fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").is_none());
        assert!(fixed(b"body bytes\r\nWww-Authenticate: x\r\n").is_none());
    }
}
