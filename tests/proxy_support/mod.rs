//! Test sources for the proxy tests: a wrapper that waits, counts reads, tracks how many run at
//! once and can fail chosen chunks; and deterministic generated arrays whose values the tests
//! compute independently.
#![allow(dead_code)]

use ndarray::Dimension;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vastarray::{ChunkSource, DType, Error, GeneratedSource, NdData, Result};

/// Wraps a source: each chunk read sleeps `delay`, is counted, and may be made to fail.
pub struct SlowSource {
    inner: Arc<dyn ChunkSource>,
    delay: Duration,
    reads: AtomicUsize,
    per_chunk: Mutex<BTreeMap<Vec<usize>, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    failing: Mutex<BTreeSet<Vec<usize>>>,
    identity: Option<String>,
}

impl SlowSource {
    pub fn new(inner: impl ChunkSource + 'static, delay: Duration) -> Arc<SlowSource> {
        Arc::new(SlowSource {
            inner: Arc::new(inner),
            delay,
            reads: AtomicUsize::new(0),
            per_chunk: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            failing: Mutex::default(),
            identity: None,
        })
    }

    pub fn with_identity(
        inner: impl ChunkSource + 'static,
        delay: Duration,
        identity: &str,
    ) -> Arc<SlowSource> {
        let mut s = Arc::try_unwrap(SlowSource::new(inner, delay)).ok().unwrap();
        s.identity = Some(identity.to_string());
        Arc::new(s)
    }

    /// Successful chunk reads so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    pub fn per_chunk(&self) -> BTreeMap<Vec<usize>, usize> {
        self.per_chunk.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn fail_chunk(&self, index: &[usize]) {
        self.failing.lock().unwrap().insert(index.to_vec());
    }
}

impl ChunkSource for SlowSource {
    fn shape(&self) -> &[usize] {
        self.inner.shape()
    }
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.inner.chunk_shape()
    }
    fn name(&self) -> String {
        format!("slow {}", self.inner.name())
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        let out = if self.failing.lock().unwrap().contains(index) {
            Err(Error::read(self.name(), Some(index), "injected failure"))
        } else {
            self.inner.read_chunk(index)
        };
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if out.is_ok() {
            self.reads.fetch_add(1, Ordering::SeqCst);
            *self
                .per_chunk
                .lock()
                .unwrap()
                .entry(index.to_vec())
                .or_default() += 1;
        }
        out
    }
    fn latency_bound(&self) -> bool {
        true
    }
    fn identity(&self) -> Option<String> {
        self.identity.clone()
    }
}

/// The value of the test arrays at an index: mildly compressible, different everywhere.
pub fn value_u16(ix: &[usize]) -> u16 {
    let mut h: usize = 0;
    for (d, &i) in ix.iter().enumerate() {
        h = h.wrapping_mul(31).wrapping_add(i * (d + 3));
    }
    (h % 50_000) as u16
}

/// A u16 array whose element at `ix` is `value_u16(ix)`.
pub fn generated_u16(shape: &[usize], chunks: &[usize]) -> GeneratedSource {
    GeneratedSource::new(shape, chunks, DType::U16, |region: &[Range<usize>]| {
        let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
        let starts: Vec<usize> = region.iter().map(|r| r.start).collect();
        let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&shape), |ix| {
            let g: Vec<usize> = ix.slice().iter().zip(&starts).map(|(i, s)| i + s).collect();
            value_u16(&g)
        });
        NdData::from(a)
    })
    .unwrap()
}

/// The expected values of a box of `generated_u16`, computed without any source.
pub fn expected_u16(region: &[Range<usize>]) -> NdData {
    let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
    let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&shape), |ix| {
        let g: Vec<usize> = ix
            .slice()
            .iter()
            .zip(region)
            .map(|(i, r)| i + r.start)
            .collect();
        value_u16(&g)
    });
    NdData::from(a)
}

/// A directory's file size, or 0.
pub fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
