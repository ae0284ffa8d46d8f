//! [`MemoryPool`]: tier 1 of the chunk cache, a byte-bounded LRU store of compressed chunks
//! that any number of proxies share.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A compressed chunk as the caches hold it.
pub type ChunkBytes = Arc<Vec<u8>>;

/// What a [`MemoryPool`] has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Lookups that found their chunk.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Chunks stored.
    pub insertions: u64,
    /// Chunks dropped to stay under the byte limit.
    pub evictions: u64,
    /// Chunks not stored because a single one exceeds the limit.
    pub rejected: u64,
    /// Compressed bytes held now.
    pub bytes_held: usize,
    /// Chunks held now.
    pub entries: usize,
    /// The byte limit.
    pub limit: usize,
}

type Key = (u64, usize);

#[derive(Default)]
struct Inner {
    map: HashMap<Key, (ChunkBytes, u64)>,
    lru: BTreeMap<u64, Key>,
    tick: u64,
    stats: PoolStats,
}

/// A byte-bounded, least-recently-used store of compressed chunks, shared (`Arc`) by any
/// number of [`super::Proxy`] instances. Each proxy's chunks are kept under a key of its own,
/// so proxies of different sources never see each other's chunks.
///
/// ```
/// use vastarray::proxy::MemoryPool;
/// let pool = MemoryPool::new(256 << 20);
/// assert_eq!(pool.stats().bytes_held, 0);
/// ```
pub struct MemoryPool {
    limit: usize,
    inner: Mutex<Inner>,
    next_owner: AtomicU64,
}

impl MemoryPool {
    /// A pool holding at most `limit_bytes` of compressed chunks.
    pub fn new(limit_bytes: usize) -> Arc<MemoryPool> {
        let inner = Inner {
            stats: PoolStats {
                limit: limit_bytes,
                ..PoolStats::default()
            },
            ..Inner::default()
        };
        Arc::new(MemoryPool {
            limit: limit_bytes,
            inner: Mutex::new(inner),
            next_owner: AtomicU64::new(1),
        })
    }

    /// The byte limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A snapshot of the statistics.
    pub fn stats(&self) -> PoolStats {
        self.lock().stats.clone()
    }

    /// Drops every chunk (statistics other than bytes and entries are kept).
    pub fn clear(&self) {
        let mut g = self.lock();
        g.map.clear();
        g.lru.clear();
        g.stats.bytes_held = 0;
        g.stats.entries = 0;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent data (every update is completed
        // before any call that could panic), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh owner id for one proxy's keys.
    pub(crate) fn new_owner(&self) -> u64 {
        self.next_owner.fetch_add(1, Ordering::Relaxed)
    }

    /// Looks a chunk up (counting a hit or miss and marking it recently used).
    pub(crate) fn get(&self, owner: u64, chunk: usize) -> Option<ChunkBytes> {
        let mut g = self.lock();
        let tick = g.tick + 1;
        let found = match g.map.get_mut(&(owner, chunk)) {
            Some((bytes, t)) => {
                let old = std::mem::replace(t, tick);
                Some((bytes.clone(), old))
            }
            None => None,
        };
        match found {
            Some((bytes, old)) => {
                g.tick = tick;
                g.lru.remove(&old);
                g.lru.insert(tick, (owner, chunk));
                g.stats.hits += 1;
                Some(bytes)
            }
            None => {
                g.stats.misses += 1;
                None
            }
        }
    }

    /// Looks a chunk up without counting it or changing its recency.
    pub(crate) fn peek(&self, owner: u64, chunk: usize) -> Option<ChunkBytes> {
        self.lock().map.get(&(owner, chunk)).map(|(b, _)| b.clone())
    }

    /// Stores a chunk, evicting the least recently used ones to stay under the limit.
    pub(crate) fn insert(&self, owner: u64, chunk: usize, bytes: ChunkBytes) {
        let size = bytes.len();
        let mut g = self.lock();
        if size > self.limit {
            g.stats.rejected += 1;
            return;
        }
        if let Some((old, t)) = g.map.remove(&(owner, chunk)) {
            g.lru.remove(&t);
            g.stats.bytes_held -= old.len();
        }
        while g.stats.bytes_held + size > self.limit {
            let Some((_, key)) = g.lru.pop_first() else {
                break;
            };
            if let Some((old, _)) = g.map.remove(&key) {
                g.stats.bytes_held -= old.len();
                g.stats.evictions += 1;
            }
        }
        g.tick += 1;
        let tick = g.tick;
        g.map.insert((owner, chunk), (bytes, tick));
        g.lru.insert(tick, (owner, chunk));
        g.stats.bytes_held += size;
        g.stats.insertions += 1;
        g.stats.entries = g.map.len();
    }

    /// Drops every chunk of one owner (a proxy that goes away).
    pub(crate) fn remove_owner(&self, owner: u64) {
        let mut g = self.lock();
        let keys: Vec<(Key, u64)> = g
            .map
            .iter()
            .filter(|(k, _)| k.0 == owner)
            .map(|(k, (_, t))| (*k, *t))
            .collect();
        for (k, t) in keys {
            if let Some((old, _)) = g.map.remove(&k) {
                g.stats.bytes_held -= old.len();
            }
            g.lru.remove(&t);
        }
        g.stats.entries = g.map.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_eviction_under_limit() {
        let pool = MemoryPool::new(300);
        let chunk = |n: usize| Arc::new(vec![n as u8; 100]);
        for n in 0..3 {
            pool.insert(1, n, chunk(n));
        }
        assert!(pool.get(1, 0).is_some()); // 0 is now the most recent; 1 the least.
        pool.insert(1, 3, chunk(3));
        let s = pool.stats();
        assert_eq!((s.entries, s.bytes_held, s.evictions), (3, 300, 1));
        assert!(pool.get(1, 1).is_none());
        assert!(pool.get(1, 0).is_some() && pool.get(1, 2).is_some() && pool.get(1, 3).is_some());
        assert!(pool.get(2, 0).is_none(), "another owner's key");
        pool.insert(1, 9, Arc::new(vec![0; 301]));
        assert_eq!(pool.stats().rejected, 1);
        pool.remove_owner(1);
        assert_eq!(pool.stats().bytes_held, 0);
    }
}
