//! Single flight, bounded concurrency and failing chunks of the caching proxy, proven with a
//! source that waits, counts its reads and records how many run at once.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::proxy_support;

use proxy_support::{expected_u16, generated_u16, SlowSource};
use std::sync::Arc;
use std::time::Duration;
use vastarray::proxy::{MemoryPool, Proxy};
use vastarray::ChunkSource;

#[test]
fn many_threads_same_missing_chunk_read_once() {
    let slow = SlowSource::new(
        generated_u16(&[40, 30], &[10, 10]),
        Duration::from_millis(200),
    );
    let proxy = Proxy::builder(slow.clone())
        .memory_pool(MemoryPool::new(1 << 20))
        .open()
        .unwrap();
    let barrier = std::sync::Barrier::new(16);
    std::thread::scope(|s| {
        for t in 0..16 {
            let (proxy, barrier) = (&proxy, &barrier);
            s.spawn(move || {
                barrier.wait();
                if t % 2 == 0 {
                    assert_eq!(
                        proxy.read_chunk(&[1, 2]).unwrap(),
                        expected_u16(&[10..20, 20..30])
                    );
                } else {
                    assert_eq!(
                        proxy.get(&[12..15, 21..29]).unwrap(),
                        expected_u16(&[12..15, 21..29])
                    );
                }
            });
        }
    });
    assert_eq!(
        slow.reads(),
        1,
        "16 threads asking for one chunk read it {} times",
        slow.reads()
    );
    let st = proxy.stats();
    assert_eq!(st.source_reads, 1);
    // Every other thread either waited for the read or found the chunk cached after it.
    assert!(st.shared_reads + st.memory_hits >= 15, "{st:?}");
}

#[test]
fn fetch_reads_missing_chunks_concurrently_up_to_the_limit() {
    for limit in [1usize, 3, 8] {
        let slow = SlowSource::new(
            generated_u16(&[60, 40], &[5, 10]),
            Duration::from_millis(20),
        );
        let proxy = Proxy::builder(slow.clone())
            .concurrency(limit)
            .open()
            .unwrap();
        // 12 x 4 = 48 chunks, first a few of them, then all.
        let r = proxy.fetch(&[0..10, 0..40]).unwrap();
        assert_eq!((r.chunks_read, r.chunks_cached), (8, 0));
        let r = proxy.fetch_all().unwrap();
        assert_eq!(
            (r.chunks_total, r.chunks_read, r.chunks_cached),
            (48, 40, 8)
        );
        assert!(
            slow.max_in_flight() <= limit,
            "limit {limit}: {} reads at once",
            slow.max_in_flight()
        );
        assert!(slow.per_chunk().values().all(|&n| n == 1));
        assert_eq!(
            proxy.get(&[0..60, 0..40]).unwrap(),
            expected_u16(&[0..60, 0..40])
        );
        assert_eq!(slow.reads(), 48);
    }
}

#[test]
fn the_limit_holds_across_callers_and_batches() {
    let slow = SlowSource::new(
        generated_u16(&[80, 80], &[10, 10]),
        Duration::from_millis(10),
    );
    let proxy = Arc::new(Proxy::builder(slow.clone()).concurrency(4).open().unwrap());
    std::thread::scope(|s| {
        for t in 0..6usize {
            let proxy = proxy.clone();
            s.spawn(move || {
                let batch: Vec<Vec<usize>> = (0..8).map(|j| vec![t, j]).collect();
                let got = proxy.read_chunks(&batch).unwrap();
                for (idx, g) in batch.iter().zip(got) {
                    let r = [idx[0] * 10..idx[0] * 10 + 10, idx[1] * 10..idx[1] * 10 + 10];
                    assert_eq!(g, expected_u16(&r));
                }
            });
        }
    });
    assert!(
        slow.max_in_flight() <= 4,
        "{} reads at once with a limit of 4",
        slow.max_in_flight()
    );
    assert_eq!(slow.reads(), 48);
}

#[test]
fn a_failing_chunk_fails_the_call_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.b2nd");
    let slow = SlowSource::new(
        generated_u16(&[40, 30], &[10, 10]),
        Duration::from_millis(5),
    );
    slow.fail_chunk(&[2, 1]);
    let proxy = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("s")
        .concurrency(2)
        .open()
        .unwrap();
    let err = proxy
        .fetch_all()
        .err()
        .expect("a failing chunk must fail the fetch");
    let msg = err.to_string();
    assert!(
        msg.contains("[2, 1]") && msg.contains(&slow.name()),
        "{msg}"
    );
    // Every chunk the source delivered is cached and correct; nothing is read twice.
    let read: Vec<Vec<usize>> = slow.per_chunk().keys().cloned().collect();
    assert!(!read.is_empty());
    let before = slow.reads();
    for idx in &read {
        assert!(proxy.is_cached(idx), "{idx:?} was read but is not cached");
        let b = [idx[0] * 10..idx[0] * 10 + 10, idx[1] * 10..idx[1] * 10 + 10];
        assert_eq!(proxy.get(&b).unwrap(), expected_u16(&b));
    }
    assert_eq!(slow.reads(), before);
    assert!(!proxy.is_cached(&[2, 1]));
    assert!(proxy.get(&[20..30, 10..20]).is_err());
    drop(proxy);
    // The file holds exactly the delivered chunks after reopening.
    let proxy = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("s")
        .open()
        .unwrap();
    assert_eq!(proxy.chunks_in_file(), read.len());
}
