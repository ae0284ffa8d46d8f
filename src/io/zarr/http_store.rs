//! [`HttpStore`]: a read-only zarrs store over the crate's own [`HttpClient`] (retries, size cap,
//! the bound on requests in flight, deadlines), with byte-range reads (`Range: bytes=A-B` and
//! suffix ranges), so a shard's index and single inner chunks are fetched alone.
//!
//! A key that the server answers 404 for is absent (a chunk never written). The total size of
//! each key is remembered from `Content-Range` (or a full body), so the shard-index check needs
//! no request of its own. A server that ignores `Range` and sends the whole value still works:
//! the range is cut out of it.

use crate::http::{HttpClient, HttpRequest, HttpResponse};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{Bytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey};

/// Sizes of keys remembered by one store before the table is emptied.
const MAX_SIZES: usize = 1 << 16;

/// A read-only store of the values under one base URL.
pub(super) struct HttpStore {
    client: Arc<HttpClient>,
    base: String,
    sizes: Mutex<HashMap<String, u64>>,
    /// `ETag` (else `Last-Modified`) of the metadata documents read, for cache stamps.
    validators: Mutex<HashMap<String, String>>,
}

impl HttpStore {
    /// A store of the values under `base` (`http://HOST:PORT/PATH.zarr`, no trailing slash
    /// needed) read with `client`.
    pub(super) fn new(client: Arc<HttpClient>, base: &str) -> HttpStore {
        HttpStore {
            client,
            base: base.trim_end_matches('/').to_string(),
            sizes: Mutex::default(),
            validators: Mutex::default(),
        }
    }

    /// The URL of `key`.
    pub(super) fn url(&self, key: &str) -> String {
        format!("{}/{}", self.base, key)
    }

    /// The client (for its statistics).
    pub(super) fn client(&self) -> &Arc<HttpClient> {
        &self.client
    }

    fn remember(&self, key: &str, size: u64) {
        let mut s = self.sizes.lock().unwrap_or_else(|p| p.into_inner());
        if s.len() >= MAX_SIZES {
            s.clear();
        }
        s.insert(key.to_string(), size);
    }

    /// The server's `ETag` (or `Last-Modified`) of metadata document `key`, once it was read.
    pub(super) fn validator(&self, key: &str) -> Option<String> {
        let v = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        v.get(key).cloned()
    }

    fn known_size(&self, key: &str) -> Option<u64> {
        let s = self.sizes.lock().unwrap_or_else(|p| p.into_inner());
        s.get(key).copied()
    }

    /// Fetches `range` of `key`; `None` when the server has no such key.
    fn fetch(&self, key: &str, range: &ByteRange) -> Result<Option<Bytes>, StorageError> {
        let url = self.url(key);
        let header = match *range {
            ByteRange::FromStart(0, None) => None,
            ByteRange::FromStart(a, None) => Some(format!("bytes={a}-")),
            ByteRange::FromStart(_, Some(0)) | ByteRange::Suffix(0) => {
                return Ok(Some(Bytes::new()))
            }
            ByteRange::FromStart(a, Some(n)) => {
                let last = a
                    .checked_add(n - 1)
                    .ok_or_else(|| StorageError::Other(format!("{url}: byte range overflows")))?;
                Some(format!("bytes={a}-{last}"))
            }
            ByteRange::Suffix(n) => Some(format!("bytes=-{n}")),
        };
        let mut request = HttpRequest::get(&url).passing(404);
        if let Some(h) = &header {
            request = request.header("Range", h.clone());
        }
        let response = self
            .client
            .send(&request)
            .map_err(|e| StorageError::Other(e.to_string()))?;
        if response.status == 404 {
            return Ok(None);
        }
        let is_meta = ["zarr.json", ".zarray", ".zattrs", ".zgroup"]
            .iter()
            .any(|m| key == *m || key.ends_with(&format!("/{m}")));
        if is_meta {
            if let Some(v) = response
                .header("etag")
                .or_else(|| response.header("last-modified"))
            {
                let mut vs = self.validators.lock().unwrap_or_else(|p| p.into_inner());
                vs.insert(key.to_string(), v.to_string());
            }
        }
        self.cut(key, &url, range, response).map(Some)
    }

    /// The bytes of `range` out of a response (206 with `Content-Range`, or a whole 200 body).
    fn cut(
        &self,
        key: &str,
        url: &str,
        range: &ByteRange,
        response: HttpResponse,
    ) -> Result<Bytes, StorageError> {
        let bad = |m: String| StorageError::Other(format!("{url}: {m}"));
        let body = response.body.clone();
        if response.status == 206 {
            let cr = response
                .header("content-range")
                .ok_or_else(|| bad("206 answer without Content-Range".into()))?;
            let (start, total) = parse_content_range(cr)
                .ok_or_else(|| bad(format!("cannot read Content-Range {cr:?}")))?;
            self.remember(key, total);
            let (want_start, want_len) = span(range, total)
                .ok_or_else(|| bad(format!("range {range} beyond the value's {total} bytes")))?;
            if start != want_start || body.len() as u64 != want_len {
                return Err(bad(format!(
                    "asked for {want_len} bytes at {want_start}, got {} at {start} (Content-Range {cr:?})",
                    body.len()
                )));
            }
            return Ok(body);
        }
        // A whole value: the server ignored the range (or none was asked).
        let total = body.len() as u64;
        self.remember(key, total);
        let (start, len) = span(range, total)
            .ok_or_else(|| bad(format!("range {range} beyond the value's {total} bytes")))?;
        Ok(body.slice(start as usize..(start + len) as usize))
    }
}

/// The start and length of `range` in a value of `total` bytes (`None` if it does not fit;
/// a suffix longer than the value is the whole value, as servers answer it).
fn span(range: &ByteRange, total: u64) -> Option<(u64, u64)> {
    match *range {
        ByteRange::FromStart(a, None) => Some((a, total.checked_sub(a)?)),
        ByteRange::FromStart(a, Some(n)) => {
            a.checked_add(n).filter(|e| *e <= total).map(|_| (a, n))
        }
        ByteRange::Suffix(n) => Some((total.saturating_sub(n), n.min(total))),
    }
}

/// `bytes A-B/TOTAL` -> (A, TOTAL).
fn parse_content_range(v: &str) -> Option<(u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (a, _b) = span.split_once('-')?;
    Some((a.trim().parse().ok()?, total.trim().parse().ok()?))
}

impl ReadableStorageTraits for HttpStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        let key = key.as_str();
        let results = self
            .client
            .map_concurrent(ranges.len(), |i| self.fetch(key, &ranges[i]));
        let mut out = Vec::with_capacity(results.len());
        for r in results {
            match r? {
                Some(b) => out.push(Ok(b)),
                None => return Ok(None),
            }
        }
        Ok(Some(Box::new(out.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        if let Some(n) = self.known_size(key.as_str()) {
            return Ok(Some(n));
        }
        // One byte asks the server for the total in Content-Range.
        match self.fetch(key.as_str(), &ByteRange::FromStart(0, Some(1)))? {
            None => Ok(None),
            Some(_) => Ok(self.known_size(key.as_str())),
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 10-19/100"), Some((10, 100)));
        assert_eq!(parse_content_range("bytes */100"), None);
    }
}
