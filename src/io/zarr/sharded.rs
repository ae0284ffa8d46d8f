//! [`ShardedDirect`]: the inner chunks of a sharded v3 array read and decoded by vastarray,
//! once, when the shard's layout is the common one: inner chain `bytes` (little endian) alone
//! or with `zstd` or `gzip` ([`DirectChain`]), index chain `bytes` (+ `crc32c`), the index at
//! the end or the start of the shard. Other layouts stay on zarrs' sharded partial decoding.
//!
//! Reading inner chunk `k` of a shard: the shard's index is read (one byte range: a suffix, or
//! the first bytes) and checked (its length, its checksum, every entry inside the shard), then
//! kept in a cache bounded in entries and bytes; then only the inner chunk's byte range is read
//! (a local `pread`, or one HTTP range request) and decoded straight into the chunk's buffer
//! with the decoded size as the limit. An entry of all ones (offset and size `u64::MAX`) is an
//! inner chunk never written, a shard that is absent holds none: both read as the fill value.

use super::direct::DirectChain;
use super::guard::{check_index, GuardedStore};
use super::meta::{ShardLayout, ZarrFormat, ZarrMeta};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zarrs::storage::byte_range::ByteRange;
use zarrs::storage::{Bytes, StoreKey};

/// Shard indexes kept at most (each is 16 bytes per inner chunk).
const MAX_CACHED_INDEXES: usize = 1024;
/// Bytes of shard indexes kept at most.
const MAX_CACHED_INDEX_BYTES: u64 = 64 << 20;
/// Inner chunks read together are fetched in one range when the bytes between them are at
/// most this many (zarr-python writes a shard's inner chunks back to back: no gap at all).
const MERGE_GAP: u64 = 64 << 10;
/// Bytes one merged range holds at most (a shard of many large inner chunks takes several).
const MAX_MERGED: u64 = 64 << 20;

/// A shard's index, checked: 16 bytes per inner chunk (offset, size; little endian), or none
/// when the shard was never written.
type ShardIndex = Option<Box<[u8]>>;

/// One cache slot: filled by the first reader of the shard, which the others wait for (so a
/// shard's index is read once even when its inner chunks are read concurrently).
type Slot = Arc<Mutex<Option<Arc<ShardIndex>>>>;

/// The inner chunks of a sharded array decoded without zarrs (see the module doc).
pub(crate) struct ShardedDirect {
    chain: DirectChain,
    layout: ShardLayout,
    /// Inner chunks per shard along each axis.
    per_shard: Vec<usize>,
    /// True when the index ends with a `crc32c` checksum.
    crc: bool,
    /// The indexes kept at most (at least one, at most [`MAX_CACHED_INDEXES`]).
    max_cached: usize,
    indexes: Mutex<HashMap<Vec<u64>, Slot>>,
}

impl ShardedDirect {
    /// The direct reader of a sharded array's inner chunks, when its layout is the common one
    /// (`None`: zarrs reads them).
    pub(crate) fn of(meta: &ZarrMeta) -> Option<ShardedDirect> {
        let layout = meta.shards.clone()?;
        if meta.format != ZarrFormat::V3 || meta.codecs != ["sharding_indexed"] {
            return None;
        }
        let conf = meta.document.pointer("/codecs/0/configuration")?;
        let inner = conf.get("codecs")?.as_array()?;
        let chain = DirectChain::of_v3(inner, meta, layout.inner.decoded_bytes)?;
        let n = layout.inner_per_shard;
        let crc = match layout.index_bytes.checked_sub(16 * n) {
            Some(0) => false,
            Some(4) => true,
            _ => return None,
        };
        let per_shard = meta
            .chunks
            .iter()
            .zip(&layout.inner_chunks)
            .map(|(s, i)| s / i)
            .collect();
        let max_cached = (MAX_CACHED_INDEX_BYTES / layout.index_bytes.max(1))
            .clamp(1, MAX_CACHED_INDEXES as u64) as usize;
        Some(ShardedDirect {
            chain,
            layout,
            per_shard,
            crc,
            max_cached,
            indexes: Mutex::default(),
        })
    }

    /// How inner chunks are decoded (their decoded size is the chain's).
    pub(crate) fn chain(&self) -> &DirectChain {
        &self.chain
    }

    /// The shard holding inner chunk `inner` (a position in the inner chunk grid) and the
    /// chunk's entry in the shard's index (C order within the shard).
    pub(crate) fn locate(&self, inner: &[usize]) -> (Vec<u64>, usize) {
        let mut k = 0usize;
        let mut shard = Vec::with_capacity(inner.len());
        for (i, p) in inner.iter().zip(&self.per_shard) {
            shard.push((i / p) as u64);
            // At most inner_per_shard (checked against 2^20 by the metadata check).
            k = k * p + i % p;
        }
        (shard, k)
    }

    /// The stored bytes of entries `ks` of shard `shard` (stored under `key`), `None` for an
    /// inner chunk never written (or a shard never written), read with one range request
    /// per run of entries stored close together (gaps up to [`MERGE_GAP`], at most
    /// [`MAX_MERGED`] bytes a run): a pass over a remote shard asks for its index and then its
    /// data in one request, not one per inner chunk. An error names the position in `ks` it
    /// belongs to.
    pub(crate) fn inner_bytes_many(
        &self,
        store: &GuardedStore,
        key: &StoreKey,
        shard: &[u64],
        ks: &[usize],
    ) -> Result<Vec<Option<Bytes>>, (usize, String)> {
        let index = self.index(store, key, shard).map_err(|e| (0, e))?;
        let mut out: Vec<Option<Bytes>> = vec![None; ks.len()];
        let Some(entries) = index.as_ref() else {
            return Ok(out);
        };
        // (offset, size, position in ks) of the written entries, by offset.
        let mut stored = Vec::with_capacity(ks.len());
        for (pos, &k) in ks.iter().enumerate() {
            let e = entries
                .get(16 * k..16 * k + 16)
                .ok_or_else(|| (pos, format!("internal: no entry {k} in a shard index")))?;
            let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0xff; 8]));
            let (offset, size) = (word(&e[..8]), word(&e[8..]));
            if !(offset == u64::MAX && size == u64::MAX) {
                stored.push((offset, size, pos));
            }
        }
        stored.sort_unstable();
        let mut i = 0;
        while i < stored.len() {
            // The index check proved every offset + size inside the shard: no overflow.
            let (start, mut end) = (stored[i].0, stored[i].0 + stored[i].1);
            let mut j = i + 1;
            while j < stored.len() {
                let (o, s, _) = stored[j];
                let next_end = end.max(o + s);
                if o > end.saturating_add(MERGE_GAP) || next_end - start > MAX_MERGED {
                    break;
                }
                end = next_end;
                j += 1;
            }
            let run = store
                .get_range_stored(key, ByteRange::FromStart(start, Some(end - start)))
                .map_err(|e| (stored[i].2, e.to_string()))?
                .ok_or((
                    stored[i].2,
                    "the shard went away while it was read".to_string(),
                ))?;
            for &(o, s, pos) in &stored[i..j] {
                let (a, b) = (o - start, o - start + s);
                if (run.len() as u64) < b {
                    return Err((
                        pos,
                        format!(
                            "{} of the {} bytes at offset {start} that hold its {s} bytes at offset {o} were read (truncated)",
                            run.len(),
                            end - start
                        ),
                    ));
                }
                out[pos] = Some(run.slice(a as usize..b as usize));
            }
            i = j;
        }
        Ok(out)
    }

    /// The checked index of shard `shard`, from the cache or read once.
    fn index(
        &self,
        store: &GuardedStore,
        key: &StoreKey,
        shard: &[u64],
    ) -> Result<Arc<ShardIndex>, String> {
        let slot = {
            let mut map = self.indexes.lock().unwrap_or_else(|p| p.into_inner());
            if !map.contains_key(shard) && map.len() >= self.max_cached {
                map.clear();
            }
            map.entry(shard.to_vec()).or_default().clone()
        };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = &*slot {
            return Ok(index.clone());
        }
        let index = Arc::new(self.read_index(store, key)?);
        *slot = Some(index.clone());
        Ok(index)
    }

    /// Reads and checks the index of the shard stored under `key`.
    fn read_index(&self, store: &GuardedStore, key: &StoreKey) -> Result<ShardIndex, String> {
        let ib = self.layout.index_bytes;
        let size = || store.size_stored(key).map_err(|e| e.to_string());
        // A local shard's size costs nothing and bounds the read; a remote one's comes with
        // the index's answer (Content-Range).
        if store.is_local() {
            match size()? {
                None => return Ok(None),
                Some(len) if len < ib => return Err(short(len, ib)),
                Some(_) => {}
            }
        }
        let range = if self.layout.index_at_start {
            ByteRange::FromStart(0, Some(ib))
        } else {
            ByteRange::Suffix(ib)
        };
        let Some(bytes) = store
            .get_range_stored(key, range)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let len = size()?.ok_or("the shard went away while it was read")?;
        if (bytes.len() as u64) < ib || len < ib {
            return Err(short(len.min(bytes.len() as u64), ib));
        }
        let entries = 16 * self.layout.inner_per_shard as usize;
        if self.crc {
            let stored = u32::from_le_bytes(
                bytes[entries..entries + 4]
                    .try_into()
                    .map_err(|_| "internal: a shard index checksum of 4 bytes".to_string())?,
            );
            let computed = crc32c::crc32c(&bytes[..entries]);
            if stored != computed {
                return Err(format!(
                    "shard index checksum {stored:#010x} does not match its entries' {computed:#010x} (damaged)"
                ));
            }
        }
        check_index(&bytes, &self.layout, len)?;
        Ok(Some(bytes[..entries].into()))
    }
}

fn short(len: u64, ib: u64) -> String {
    format!("shard of {len} bytes: shorter than its index of {ib} bytes (truncated)")
}
