//! [`GuardedStore`]: a zarrs store in front of another that checks every chunk's bytes before
//! zarrs decodes them, so hostile or damaged data gives an error, never an abort.
//!
//! zarrs trusts what it reads in a few places: a Zstandard frame's declared content size is
//! allocated at once, gzip is decoded without a limit, a Blosc header's `nbytes` is allocated,
//! and a shard index's `offset + size` is added unchecked. The guard knows the array's codec
//! chain ([`ChainCheck`], [`ShardLayout`]) and checks, per value read (chunks of the chains
//! vastarray decodes itself, [`super::direct`] and [`super::sharded`], bypass these checks: their
//! one decoding with a limit is the check):
//! - a chunk (or an inner chunk read from a shard): its compressor's header declares at most the
//!   bytes a chunk decodes to (gzip and zstd frames without a declared size are decoded here
//!   with that limit first);
//! - a shard index: every entry is empty (`u64::MAX` twice) or lies inside the shard;
//! - a whole shard: its index, then each inner chunk the index names.

use super::meta::{ChainCheck, Compressor, ShardLayout};
use std::io::Read;
use std::sync::Arc;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    Bytes, MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

/// A read-only store that checks chunk bytes (see the module doc).
pub(super) struct GuardedStore {
    inner: Arc<dyn ReadableStorageTraits>,
    /// The array's key prefix (`""` or `group/array/`).
    prefix: String,
    chunk: ChainCheck,
    shards: Option<ShardLayout>,
    /// The directory of a local store: a key naming anything but a regular file (a named pipe
    /// would block the read) is refused.
    local_root: Option<std::path::PathBuf>,
}

impl GuardedStore {
    /// Guards the chunks of the array at `prefix` (empty, or ending in `/`) of `inner`.
    pub(super) fn new(
        inner: Arc<dyn ReadableStorageTraits>,
        prefix: String,
        chunk: ChainCheck,
        shards: Option<ShardLayout>,
    ) -> GuardedStore {
        GuardedStore {
            inner,
            prefix,
            chunk,
            shards,
            local_root: None,
        }
    }

    /// Refuses keys of `root` (a local directory store) that name anything but a regular file.
    pub(super) fn with_local_root(mut self, root: std::path::PathBuf) -> GuardedStore {
        self.local_root = Some(root);
        self
    }

    fn check_local(&self, key: &StoreKey) -> Result<(), StorageError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let path = root.join(key.as_str());
        match std::fs::metadata(&path) {
            Ok(m) if !m.is_file() => Err(StorageError::Other(format!(
                "{}: not a regular file",
                path.display()
            ))),
            _ => Ok(()),
        }
    }

    /// The stored bytes of `key` unchecked (a local key must still be a regular file): for a
    /// caller that decodes them itself with a limit ([`super::direct::DirectChain`]).
    pub(super) fn get_stored(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.check_local(key)?;
        self.inner.get(key)
    }

    /// One byte range of `key` unchecked (a local key must still be a regular file), `None`
    /// when the key is absent: for a caller that checks the bytes itself
    /// ([`super::sharded::ShardedDirect`]).
    pub(super) fn get_range_stored(
        &self,
        key: &StoreKey,
        range: ByteRange,
    ) -> Result<Option<Bytes>, StorageError> {
        self.check_local(key)?;
        let Some(mut values) = self
            .inner
            .get_partial_many(key, Box::new(std::iter::once(range)))?
        else {
            return Ok(None);
        };
        match values.next() {
            Some(v) => v.map(Some),
            None => Err(StorageError::Other(format!(
                "{}: no bytes for range {range}",
                key.as_str()
            ))),
        }
    }

    /// The size of `key` in bytes (`None`: absent); a local key must be a regular file.
    pub(super) fn size_stored(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.check_local(key)?;
        self.inner.size_key(key)
    }

    /// True for a local directory store (sizes cost no request).
    pub(super) fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    fn is_chunk_key(&self, key: &StoreKey) -> bool {
        let Some(rest) = key.as_str().strip_prefix(&self.prefix) else {
            return false;
        };
        !matches!(rest, "zarr.json" | ".zarray" | ".zattrs" | ".zgroup")
    }

    /// Checks one value read for `key` at `range`.
    fn check(&self, key: &StoreKey, range: &ByteRange, bytes: &[u8]) -> Result<(), StorageError> {
        let fail = |m: String| StorageError::Other(format!("{}: {m}", key.as_str()));
        let Some(layout) = &self.shards else {
            return check_chunk(bytes, &self.chunk).map_err(fail);
        };
        let ib = layout.index_bytes;
        let is_index = match *range {
            ByteRange::Suffix(n) => n == ib && !layout.index_at_start,
            ByteRange::FromStart(0, Some(n)) => n == ib && layout.index_at_start,
            ByteRange::FromStart(0, None) => {
                return check_shard(bytes, layout).map_err(fail);
            }
            ByteRange::FromStart(_, _) => false,
        };
        if is_index {
            let len = self
                .inner
                .size_key(key)?
                .ok_or_else(|| fail("the shard went away while it was read".into()))?;
            check_index(bytes, layout, len).map_err(fail)
        } else {
            check_chunk(bytes, &layout.inner).map_err(|m| fail(format!("inner chunk: {m}")))
        }
    }
}

impl ReadableStorageTraits for GuardedStore {
    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        self.check_local(key)?;
        if !self.is_chunk_key(key) {
            return self.inner.get_partial_many(key, byte_ranges);
        }
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        let Some(values) = self
            .inner
            .get_partial_many(key, Box::new(ranges.clone().into_iter()))?
        else {
            return Ok(None);
        };
        let mut out: Vec<Result<Bytes, StorageError>> = Vec::with_capacity(ranges.len());
        for (v, r) in values.zip(&ranges) {
            let v = v?;
            self.check(key, r, &v)?;
            out.push(Ok(v));
        }
        Ok(Some(Box::new(out.into_iter())))
    }

    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.check_local(key)?;
        let v = self.inner.get(key)?;
        if let Some(b) = &v {
            if self.is_chunk_key(key) {
                self.check(key, &ByteRange::FromStart(0, None), b)?;
            }
        }
        Ok(v)
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        self.inner.size_key(key)
    }

    fn supports_get_partial(&self) -> bool {
        self.inner.supports_get_partial()
    }
}

/// Checks the bytes of one stored chunk against what its codec chain decodes to.
pub(super) fn check_chunk(bytes: &[u8], check: &ChainCheck) -> Result<(), String> {
    let Some((kind, crc_after, decoded)) = check.compressor else {
        return Ok(()); // bytes (and crc32c) check lengths themselves
    };
    let strip = 4 * crc_after;
    let body = bytes
        .len()
        .checked_sub(strip)
        .map(|n| &bytes[..n])
        .ok_or_else(|| {
            format!(
                "{} bytes: truncated (shorter than its checksums)",
                bytes.len()
            )
        })?;
    let limit = |declared: u64| -> Result<(), String> {
        if declared > decoded {
            Err(format!(
                "{} data declares {declared} decoded bytes, a chunk holds {decoded}",
                kind.name()
            ))
        } else {
            Ok(())
        }
    };
    match kind {
        Compressor::Zstd => {
            if body.len() < 4 || body[..4] != [0x28, 0xB5, 0x2F, 0xFD] {
                return Err(format!(
                    "{} bytes: not a Zstandard frame (truncated or damaged)",
                    body.len()
                ));
            }
            // The declared size of the (first) frame; a frame without one is decoded with a limit.
            match zstd::zstd_safe::get_frame_content_size(body) {
                Ok(Some(n)) => limit(n),
                _ => decoded_within(zstd::stream::read::Decoder::new(body), decoded, kind),
            }
        }
        Compressor::Gzip => decoded_within(Ok(flate2::read::GzDecoder::new(body)), decoded, kind),
        Compressor::Blosc => {
            if body.len() < 16 {
                return Err(format!(
                    "{} bytes: shorter than a Blosc header (truncated)",
                    body.len()
                ));
            }
            let word =
                |i: usize| u32::from_le_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
            let (nbytes, cbytes) = (word(4) as u64, word(12) as u64);
            if cbytes != body.len() as u64 {
                return Err(format!(
                    "Blosc header says {cbytes} compressed bytes, {} were read (truncated or damaged)",
                    body.len()
                ));
            }
            limit(nbytes)
        }
    }
}

/// Decodes `r` into nothing, failing if it yields more than `decoded` bytes or fails.
fn decoded_within(
    r: Result<impl Read, std::io::Error>,
    decoded: u64,
    kind: Compressor,
) -> Result<(), String> {
    let r = r.map_err(|e| format!("{}: {e}", kind.name()))?;
    let n = std::io::copy(&mut r.take(decoded + 1), &mut std::io::sink())
        .map_err(|e| format!("{}: {e} (truncated or damaged)", kind.name()))?;
    if n > decoded {
        return Err(format!(
            "{} data decodes to more than the {decoded} bytes of a chunk",
            kind.name()
        ));
    }
    Ok(())
}

/// Checks a shard index (its encoded bytes) of a shard of `shard_len` bytes.
pub(super) fn check_index(
    index: &[u8],
    layout: &ShardLayout,
    shard_len: u64,
) -> Result<(), String> {
    if index.len() as u64 != layout.index_bytes || shard_len < layout.index_bytes {
        return Err(format!(
            "shard of {shard_len} bytes: its index takes {} bytes (truncated)",
            layout.index_bytes
        ));
    }
    let data_len = shard_len - layout.index_bytes;
    let base = if layout.index_at_start {
        layout.index_bytes
    } else {
        0
    };
    for (k, off, size) in index_entries(index, layout) {
        let inside = off
            .checked_add(size)
            .is_some_and(|end| off >= base && end <= base + data_len);
        if !inside {
            return Err(format!(
                "shard index entry {k} (offset {off}, {size} bytes) lies outside the shard's {shard_len} bytes"
            ));
        }
    }
    Ok(())
}

/// The entries of a shard index that name an inner chunk: (inner chunk number, offset, size);
/// entries of chunks never written (both fields `u64::MAX`) are left out.
fn index_entries<'a>(
    index: &'a [u8],
    layout: &ShardLayout,
) -> impl Iterator<Item = (usize, u64, u64)> + 'a {
    let n = 16 * layout.inner_per_shard as usize;
    index[..n.min(index.len())]
        .chunks_exact(16)
        .enumerate()
        .filter_map(|(k, e)| {
            let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0xff; 8]));
            let (off, size) = (word(&e[..8]), word(&e[8..]));
            (off != u64::MAX || size != u64::MAX).then_some((k, off, size))
        })
}

/// Checks a whole shard: its index, then every inner chunk the index names.
fn check_shard(shard: &[u8], layout: &ShardLayout) -> Result<(), String> {
    let len = shard.len() as u64;
    if len < layout.index_bytes {
        return Err(format!(
            "shard of {len} bytes: shorter than its index of {} bytes (truncated)",
            layout.index_bytes
        ));
    }
    let ib = layout.index_bytes as usize;
    let index = if layout.index_at_start {
        &shard[..ib]
    } else {
        &shard[shard.len() - ib..]
    };
    check_index(index, layout, len)?;
    for (k, off, size) in index_entries(index, layout) {
        // check_index proved off + size <= len.
        let piece = &shard[off as usize..(off + size) as usize];
        check_chunk(piece, &layout.inner).map_err(|m| format!("inner chunk {k}: {m}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zstd_check(decoded: u64) -> ChainCheck {
        ChainCheck {
            decoded_bytes: decoded,
            compressor: Some((Compressor::Zstd, 0, decoded)),
        }
    }

    #[test]
    fn zstd_sizes() {
        let data = vec![7u8; 1000];
        let z = zstd::bulk::compress(&data, 3).unwrap();
        assert!(check_chunk(&z, &zstd_check(1000)).is_ok());
        let e = check_chunk(&z, &zstd_check(999)).unwrap_err();
        assert!(e.contains("1000 decoded bytes"), "{e}");
        assert!(check_chunk(&z[..2], &zstd_check(1000)).is_err());
        // A frame without a declared size (streamed) of a small chunk is decoded to check it.
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        std::io::Write::write_all(&mut enc, &data).unwrap();
        let s = enc.finish().unwrap();
        assert!(check_chunk(&s, &zstd_check(1000)).is_ok());
        assert!(check_chunk(&s, &zstd_check(999))
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn gzip_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![0u8; 100_000]).unwrap();
        let g = enc.finish().unwrap();
        let check = |n| ChainCheck {
            decoded_bytes: n,
            compressor: Some((Compressor::Gzip, 0, n)),
        };
        assert!(check_chunk(&g, &check(100_000)).is_ok());
        assert!(check_chunk(&g, &check(1000))
            .unwrap_err()
            .contains("more than"));
        assert!(check_chunk(&g[..g.len() / 2], &check(100_000)).is_err());
    }

    #[test]
    fn index_bounds() {
        let layout = ShardLayout {
            inner_chunks: vec![2],
            inner_per_shard: 2,
            index_bytes: 32,
            index_at_start: false,
            inner: ChainCheck {
                decoded_bytes: 8,
                compressor: None,
            },
        };
        let mut idx = Vec::new();
        for v in [0u64, 8, u64::MAX, u64::MAX] {
            idx.extend_from_slice(&v.to_le_bytes());
        }
        assert!(check_index(&idx, &layout, 40).is_ok());
        assert!(check_index(&idx, &layout, 39).is_err());
        idx[..8].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        assert!(check_index(&idx, &layout, 40)
            .unwrap_err()
            .contains("outside"));
    }
}
