//! Reading a response body without reading more than a cap, or for longer than a deadline.

use super::failure::Failure;
use std::io::Read;
use std::time::{Duration, Instant};

/// Limits on reading one body.
pub(crate) struct BodyLimits {
    /// Largest body accepted, in bytes.
    pub(crate) cap: u64,
    /// When the attempt must be over (`None`: never).
    pub(crate) deadline: Option<Instant>,
    /// The per-read timeout (for messages).
    pub(crate) read_timeout: Duration,
    /// The whole-attempt limit (for messages).
    pub(crate) attempt_deadline: Duration,
}

/// Reads the whole body of `response`, refusing one longer than the cap: at once when the
/// server announces a larger `Content-Length`, otherwise as soon as byte `cap + 1` arrives.
pub(crate) fn read_capped(
    response: &mut reqwest::blocking::Response,
    limits: &BodyLimits,
) -> Result<Vec<u8>, Failure> {
    let cap = limits.cap;
    if let Some(len) = response.content_length() {
        if len > cap {
            return Err(Failure::permanent(format!(
                "response body too large: Content-Length {len} exceeds the cap of {cap} bytes"
            )));
        }
    }
    let expected = response.content_length().unwrap_or(0).min(cap);
    let mut buf = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    let mut block = vec![0u8; 64 * 1024];
    loop {
        if limits.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(Failure::transient(format!(
                "the response took longer than {:?} ({} bytes received)",
                limits.attempt_deadline,
                buf.len()
            )));
        }
        // Never ask for more than one byte past the cap.
        let room = usize::try_from(cap.saturating_add(1).saturating_sub(buf.len() as u64))
            .unwrap_or(usize::MAX);
        let want = block.len().min(room.max(1));
        let n = match response.read(&mut block[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Failure::reading_body(&e, limits.read_timeout)),
        };
        buf.extend_from_slice(&block[..n]);
        if buf.len() as u64 > cap {
            return Err(Failure::permanent(format!(
                "response body too large: more than the cap of {cap} bytes (no Content-Length given)"
            )));
        }
    }
    Ok(buf)
}
