//! Reading a response body without reading more than a cap, or for longer than the attempt's
//! limit.

use super::failure::{Failure, Limits};

/// Reads the whole body of `response`, refusing one longer than `cap` bytes: at once when the
/// server announces a larger `Content-Length`, otherwise as soon as more than `cap` bytes have
/// arrived. Timeouts (between reads, or of the whole attempt) are classified by `limits`.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: u64,
    limits: &Limits,
) -> Result<Vec<u8>, Failure> {
    if let Some(len) = response.content_length() {
        if len > cap {
            return Err(Failure::permanent(format!(
                "response body too large: Content-Length {len} exceeds the cap of {cap} bytes"
            )));
        }
    }
    let expected = response.content_length().unwrap_or(0).min(cap);
    let mut buf = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    loop {
        if limits.over() {
            return Err(limits.attempt_over(buf.len()));
        }
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(Failure::reading_body(&e, limits, buf.len())),
        };
        if (buf.len() as u64).saturating_add(chunk.len() as u64) > cap {
            return Err(Failure::permanent(format!(
                "response body too large: more than the cap of {cap} bytes (no Content-Length given)"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Reads at most `max` bytes of the body, for the start of an error response; a failure ends
/// the reading quietly.
pub(crate) async fn read_start(mut response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    while buf.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = max - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    buf
}
