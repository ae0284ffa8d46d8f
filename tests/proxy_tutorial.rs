//! python-blosc2's proxy tutorial, recreated: a slow source of shape (10, 1248, 2689), u16,
//! one chunk per plane, 100 ms per chunk read; fetch and get through a persistent cache file;
//! reopen and read everything again without touching the source; python-blosc2 opens the cache.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::common;
use crate::proxy_support;

use proxy_support::{expected_u16, file_len, generated_u16, SlowSource};
use std::time::Duration;
use vastarray::proxy::Proxy;
use vastarray::ChunkSource;

const SHAPE: [usize; 3] = [10, 1248, 2689];
const CHUNKS: [usize; 3] = [1, 1248, 2689];

/// The file grows by about the compressed size of what was fetched: the chunk bytes plus the
/// rewritten chunk index and metadata (a few hundred bytes).
fn assert_growth(before: u64, after: u64, stored: usize, what: &str) {
    let growth = after as i64 - before as i64;
    let stored = stored as i64;
    assert!(
        growth >= stored - 1024 && growth <= stored + 16 * 1024,
        "{what}: file grew by {growth} bytes for {stored} compressed bytes fetched"
    );
}

#[test]
fn tutorial_fetch_get_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxy-cache.b2nd");
    let slow = SlowSource::new(generated_u16(&SHAPE, &CHUNKS), Duration::from_millis(100));
    let proxy = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("tutorial source v1")
        .open()
        .unwrap();
    assert_eq!(proxy.shape(), &SHAPE);
    assert!(proxy.latency_bound(), "latency_bound forwards the source's");
    // A fresh cache holds no data: every chunk is a special zero chunk (no bytes stored).
    let size0 = file_len(&path);
    assert!(size0 < 64 * 1024, "empty cache file is {size0} bytes");

    let r = proxy.fetch(&[0..2]).unwrap();
    assert_eq!((r.chunks_total, r.chunks_read, r.chunks_cached), (2, 2, 0));
    assert_eq!(r.bytes_read, 2 * 1248 * 2689 * 2);
    assert_eq!(slow.reads(), 2);
    let size1 = file_len(&path);
    assert_growth(size0, size1, r.bytes_stored, "fetch [0..2]");

    let r = proxy.fetch(&[2..3, 6..7]).unwrap();
    assert_eq!((r.chunks_read, r.chunks_cached), (1, 0));
    assert_eq!(slow.reads(), 3);
    let size2 = file_len(&path);
    assert_growth(size1, size2, r.bytes_stored, "fetch [2..3, 6..7]");

    let got = proxy.get(&[5..7, 1..3]).unwrap();
    assert_eq!(slow.reads(), 5, "get [5..7, 1..3] reads chunks 5 and 6");
    assert_eq!(got.shape(), &[2, 2, 2689]);
    assert_eq!(got, expected_u16(&[5..7, 1..3, 0..2689]));
    let size3 = file_len(&path);
    assert!(size3 > size2);

    // Already cached: no reads.
    let r = proxy.fetch(&[0..3]).unwrap();
    assert_eq!((r.chunks_read, r.chunks_cached), (0, 3));
    assert_eq!(
        proxy.get(&[1..2, 100..110, 2000..2010]).unwrap(),
        expected_u16(&[1..2, 100..110, 2000..2010])
    );
    assert_eq!(slow.reads(), 5);
    assert_eq!(proxy.chunks_in_file(), 5);
    drop(proxy);

    // Reopen with the same geometry and stamp: every cached chunk with zero source reads.
    let slow2 = SlowSource::new(generated_u16(&SHAPE, &CHUNKS), Duration::from_millis(100));
    let proxy = Proxy::builder(slow2.clone())
        .cache_file(&path)
        .stamp("tutorial source v1")
        .open()
        .unwrap();
    assert_eq!(proxy.chunks_in_file(), 5);
    for sel in [0..3, 5..7] {
        let r = proxy.fetch(std::slice::from_ref(&sel)).unwrap();
        assert_eq!(r.chunks_read, 0);
        let region = [sel, 0..1248, 0..2689];
        assert_eq!(proxy.get(&region).unwrap(), expected_u16(&region));
    }
    for idx in [[0, 0, 0], [6, 0, 0]] {
        assert_eq!(
            proxy.read_chunk(&idx).unwrap(),
            expected_u16(&[idx[0]..idx[0] + 1, 0..1248, 0..2689])
        );
    }
    assert_eq!(slow2.reads(), 0, "reopened cache read from the source");
    // A chunk never fetched is read (once).
    proxy.fetch(&[9..10]).unwrap();
    proxy.fetch(&[9..10]).unwrap();
    assert_eq!(slow2.reads(), 1);
    drop(proxy);

    // python-blosc2 opens the cache as an ordinary array: fetched chunks hold the data, the
    // others read as zero; the bitmap in vlmeta lists the fetched chunks.
    let script = r#"
import sys, numpy as np, blosc2
a = blosc2.open(sys.argv[1])
assert a.shape == (10, 1248, 2689), a.shape
assert a.dtype == np.uint16, a.dtype
assert a.chunks == (1, 1248, 2689), a.chunks
vl = a.schunk.vlmeta
bits = vl["proxy-present"]
present = [n for n in range(10) if bits[n // 8] >> (n % 8) & 1]
assert present == [0, 1, 2, 5, 6, 9], present
assert vl["proxy-stamp"] == "tutorial source v1"
i, j, k = np.ogrid[0:10, 0:1248, 0:2689]
h = ((i * 3) * 31 + j * 4) * 31 + k * 5
want = (h % 50000).astype(np.uint16)
got = a[:]
for n in range(10):
    if n in present:
        assert np.array_equal(got[n], want[n]), n
    else:
        assert not got[n].any(), n
print("ok")
"#;
    assert_eq!(
        common::run_python(script, &[path.to_str().unwrap()]).trim(),
        "ok"
    );
}
