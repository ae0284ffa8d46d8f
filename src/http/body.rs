//! Reading a response body without reading more than a cap.

use super::failure::Failure;
use std::io::Read;
use std::time::Duration;

/// Reads the whole body of `response`, refusing one longer than `cap` bytes: at once when the
/// server announces a larger `Content-Length`, otherwise as soon as byte `cap + 1` arrives.
pub(crate) fn read_capped(
    response: &mut reqwest::blocking::Response,
    cap: u64,
    read_timeout: Duration,
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
    response
        .by_ref()
        .take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Failure::reading_body(&e, read_timeout))?;
    if buf.len() as u64 > cap {
        return Err(Failure::permanent(format!(
            "response body too large: more than the cap of {cap} bytes (no Content-Length given)"
        )));
    }
    Ok(buf)
}
