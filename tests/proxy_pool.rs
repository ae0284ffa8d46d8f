//! The shared memory pool: LRU eviction under the byte limit, statistics, and proxies of
//! different sources sharing one pool without mixing their chunks.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::proxy_support;

use proxy_support::{expected_u16, generated_u16, SlowSource};
use std::sync::Arc;
use std::time::Duration;
use vastarray::io::b2nd::{Codec, Compression};
use vastarray::proxy::{MemoryPool, Proxy};
use vastarray::{ChunkSource, GeneratedSource, NdData};

fn source_b() -> GeneratedSource {
    GeneratedSource::from_index_fn(&[30, 30], &[10, 10], |ix| (7 + ix[0] * 1000 + ix[1]) as u16)
        .unwrap()
}

#[test]
fn lru_eviction_under_the_byte_limit_shared_by_two_proxies() {
    // Uncompressed storage makes every chunk the same size: measure it once.
    let raw = Compression::new(Codec::None, 0);
    let probe_pool = MemoryPool::new(1 << 20);
    let probe = Proxy::builder(SlowSource::new(
        generated_u16(&[30, 30], &[10, 10]),
        Duration::ZERO,
    ))
    .memory_pool(probe_pool.clone())
    .compression(raw)
    .open()
    .unwrap();
    probe.fetch(&[0..10, 0..10]).unwrap();
    let size = probe_pool.stats().bytes_held;
    assert!(size >= 200, "a 10x10 u16 chunk takes {size} bytes");

    let pool = MemoryPool::new(3 * size + size / 2);
    let a_src = SlowSource::new(generated_u16(&[30, 30], &[10, 10]), Duration::ZERO);
    let b_src = SlowSource::new(source_b(), Duration::ZERO);
    let a = Proxy::builder(a_src.clone())
        .memory_pool(pool.clone())
        .compression(raw)
        .open()
        .unwrap();
    let b = Proxy::builder(b_src.clone())
        .memory_pool(pool.clone())
        .compression(raw)
        .open()
        .unwrap();

    // A caches chunks (0,0), (0,1), (0,2): the pool is full.
    assert_eq!(a.fetch(&[0..10]).unwrap().chunks_read, 3);
    let s = pool.stats();
    assert_eq!(
        (s.entries, s.bytes_held, s.evictions, s.misses, s.hits),
        (3, 3 * size, 0, 3, 0)
    );
    // Touch (0,0): (0,1) becomes the least recently used.
    assert_eq!(
        a.get(&[0..10, 0..10]).unwrap(),
        expected_u16(&[0..10, 0..10])
    );
    assert_eq!(pool.stats().hits, 1);
    // B caches one chunk of its own: A's (0,1) is evicted.
    assert_eq!(
        b.get(&[0..10, 0..10]).unwrap(),
        NdData::from(
            ndarray::Array::from_shape_fn((10, 10), |(i, j)| (7 + i * 1000 + j) as u16).into_dyn()
        )
    );
    let s = pool.stats();
    assert_eq!((s.entries, s.evictions), (3, 1));
    assert!(s.bytes_held <= pool.limit());
    // (0,0) and (0,2) are still cached; (0,1) is read again.
    let before = a_src.reads();
    assert_eq!(
        a.get(&[0..10, 20..30]).unwrap(),
        expected_u16(&[0..10, 20..30])
    );
    assert_eq!(
        a.get(&[0..10, 0..10]).unwrap(),
        expected_u16(&[0..10, 0..10])
    );
    assert_eq!(a_src.reads(), before);
    assert_eq!(
        a.get(&[0..10, 10..20]).unwrap(),
        expected_u16(&[0..10, 10..20])
    );
    assert_eq!(a_src.reads(), before + 1);
    assert_eq!(a_src.per_chunk()[&vec![0, 1]], 2);
    assert!(pool.stats().evictions >= 2);
    // Dropping a proxy frees its chunks.
    drop(a);
    drop(b);
    assert_eq!(pool.stats().bytes_held, 0);
    assert_eq!(b_src.reads(), 1);
    assert_eq!(probe.chunk_shape(), &[10, 10]);
}

/// Chunk `(0, j)` answers after `(3 - j) * 40` ms: later chunks finish first.
struct Reversed(GeneratedSource);

impl ChunkSource for Reversed {
    fn shape(&self) -> &[usize] {
        self.0.shape()
    }
    fn dtype(&self) -> vastarray::DType {
        self.0.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.0.chunk_shape()
    }
    fn name(&self) -> String {
        "reversed".into()
    }
    fn read_chunk(&self, index: &[usize]) -> vastarray::Result<NdData> {
        std::thread::sleep(Duration::from_millis(40 * (3 - index[1].min(3)) as u64));
        self.0.read_chunk(index)
    }
    fn latency_bound(&self) -> bool {
        true
    }
}

#[test]
fn pool_recency_follows_the_request_order_not_the_order_reads_finish() {
    // Finding 14: chunks read concurrently used to enter the pool as their reads finished,
    // so which chunk was least recently used (and evicted next) depended on thread timing.
    let raw = Compression::new(Codec::None, 0);
    let size = 10 * 10 * 2 + 32;
    let pool = MemoryPool::new(3 * size + size / 2);
    let src = Arc::new(Reversed(generated_u16(&[30, 30], &[10, 10])));
    let a = Proxy::builder(src)
        .memory_pool(pool.clone())
        .compression(raw)
        .concurrency(3)
        .open()
        .unwrap();
    let report = a.fetch(&[0..10]).unwrap();
    assert_eq!(report.chunks_read, 3);
    assert_eq!(pool.stats().bytes_held, 3 * size);
    // A fourth chunk evicts the least recently used: (0, 0), the first asked for, although
    // its read finished last.
    let b = Proxy::builder(Arc::new(source_b()))
        .memory_pool(pool.clone())
        .compression(raw)
        .open()
        .unwrap();
    b.fetch(&[0..10, 0..10]).unwrap();
    let s = pool.stats();
    assert_eq!((s.entries, s.evictions, s.insertions), (3, 1, 4));
    assert!(!a.is_cached(&[0, 0]));
    assert!(a.is_cached(&[0, 1]) && a.is_cached(&[0, 2]));
}
