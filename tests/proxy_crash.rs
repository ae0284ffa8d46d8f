//! Crash safety and locking of the cache file, with real child processes: the test binary
//! re-runs itself with an environment variable that turns `child_process_entry` into a child's
//! main, and the parent kills it with SIGKILL.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::common;
use crate::proxy_support;

use proxy_support::{expected_u16, generated_u16, SlowSource};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;
use vastarray::io::b2nd::journal_path;
use vastarray::proxy::{LockMode, Proxy};
use vastarray::{ChunkSource, DType, GeneratedSource, NdData};

const CHILD_ENV: &str = "VASTARRAY_PROXY_CRASH_CHILD";
const PATH_ENV: &str = "VASTARRAY_PROXY_CRASH_PATH";

const SMALL: ([usize; 2], [usize; 2]) = ([60, 40], [10, 40]);
const BIG: ([usize; 3], [usize; 3]) = ([12, 1024, 1024], [1, 1024, 1024]);

/// Incompressible values, so chunk writes take a while and kills land inside them.
fn noisy(k: usize, i: usize, j: usize) -> u32 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15;
    for v in [k, i, j] {
        h = (h ^ v as u64).wrapping_mul(0x100_0000_01b3).rotate_left(29);
    }
    (h >> 13) as u32
}

fn noisy_source() -> GeneratedSource {
    GeneratedSource::new(
        &BIG.0,
        &BIG.1,
        DType::U32,
        |region: &[std::ops::Range<usize>]| {
            let shape: Vec<usize> = region.iter().map(|r| r.len()).collect();
            let (k0, i0, j0) = (region[0].start, region[1].start, region[2].start);
            let a = ndarray::Array3::from_shape_fn((shape[0], shape[1], shape[2]), |(k, i, j)| {
                noisy(k0 + k, i0 + i, j0 + j)
            });
            NdData::from(a.into_dyn())
        },
    )
    .unwrap()
}

/// The child's main: does nothing unless the test binary was started as a child.
#[test]
fn child_process_entry() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let path = std::env::var(PATH_ENV).unwrap();
    let say = |s: &str| {
        println!("{s}");
        std::io::stdout().flush().unwrap();
    };
    match mode.as_str() {
        "stop-after-data" => {
            let hook = Arc::new(move |n: usize| {
                if n == 3 {
                    println!("DATA-WRITTEN 3");
                    std::io::stdout().flush().unwrap();
                    loop {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            });
            let p = Proxy::builder(Arc::new(generated_u16(&SMALL.0, &SMALL.1)))
                .cache_file(&path)
                .stamp("crash")
                .concurrency(1)
                .after_chunk_data_written(hook)
                .open()
                .unwrap();
            p.fetch(&[0..60]).unwrap();
        }
        "write-all" => {
            let hook = Arc::new(|n: usize| {
                println!("DATA {n}");
                std::io::stdout().flush().unwrap();
            });
            let p = Proxy::builder(Arc::new(noisy_source()))
                .cache_file(&path)
                .stamp("noisy")
                .concurrency(2)
                .after_chunk_data_written(hook)
                .open()
                .unwrap();
            say("STARTED");
            p.fetch_all().unwrap();
            say("DONE");
        }
        "hold" => {
            let p = Proxy::builder(Arc::new(generated_u16(&SMALL.0, &SMALL.1)))
                .cache_file(&path)
                .stamp("crash")
                .open()
                .unwrap();
            say("OPEN");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            p.fetch(&[0..30]).unwrap();
            say("FETCHED");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn spawn_child(mode: &str, path: &Path) -> Child {
    common::child_test(module_path!(), "child_process_entry")
        .env(CHILD_ENV, mode)
        .env(PATH_ENV, path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Reads the child's output until a line containing `marker` (libtest prints its own text before it).
fn wait_for(lines: &mut impl Iterator<Item = std::io::Result<String>>, marker: &str) {
    for line in lines {
        if line.unwrap().contains(marker) {
            return;
        }
    }
    panic!("child ended before printing {marker}");
}

#[test]
fn killed_before_the_header_switch_leaves_a_valid_file_without_the_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.b2nd");
    let mut child = spawn_child("stop-after-data", &path);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    wait_for(&mut lines, "DATA-WRITTEN 3");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!journal_path(&path).exists(), "updates need no journal");
    // python-blosc2 opens the file exactly as the killed process left it: chunks 0..3 and
    // their bitmap bits, chunk 3's bytes appended but not part of the frame.
    let killed_len = std::fs::metadata(&path).unwrap().len();
    let want: u64 = expected_u16(&[0..30, 0..40])
        .to_f64()
        .iter()
        .map(|&v| v as u64)
        .sum();
    let out = common::run_python(PRESENT_SCRIPT, &[path.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("(60, 40) {want} 3"));

    let slow = SlowSource::new(generated_u16(&SMALL.0, &SMALL.1), Duration::ZERO);
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("crash")
        .open()
        .unwrap();
    assert!(
        p.cache_recovered(),
        "the unfinished update was seen and cut off"
    );
    assert!(std::fs::metadata(&path).unwrap().len() < killed_len);
    assert_eq!(p.chunks_in_file(), 3);
    for k in 0..3 {
        assert!(p.is_cached(&[k, 0]));
    }
    assert!(
        !p.is_cached(&[3, 0]),
        "the chunk whose write was interrupted must be missing"
    );
    assert_eq!(p.get(&[0..30]).unwrap(), expected_u16(&[0..30, 0..40]));
    assert_eq!(slow.reads(), 0);
    assert_eq!(p.get(&[0..60]).unwrap(), expected_u16(&[0..60, 0..40]));
    let read: Vec<Vec<usize>> = slow.per_chunk().keys().cloned().collect();
    assert_eq!(read, vec![vec![3, 0], vec![4, 0], vec![5, 0]]);
    drop(p);
    let want_all: u64 = expected_u16(&[0..60, 0..40])
        .to_f64()
        .iter()
        .map(|&v| v as u64)
        .sum();
    let out = common::run_python(PRESENT_SCRIPT, &[path.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("(60, 40) {want_all} 6"));
}

/// Prints the shape, the sum of every value and the number of chunks marked present.
const PRESENT_SCRIPT: &str = r#"
import sys, numpy as np, blosc2
a = blosc2.open(sys.argv[1])
bits = np.unpackbits(np.frombuffer(a.schunk.vlmeta["proxy-present"], dtype=np.uint8), bitorder="little")
print(a.shape, int(a[:].astype(np.uint64).sum()), int(bits.sum()))
"#;

/// Opens the cache with python-blosc2 and checks every chunk along axis 0 against `noisy`
/// computed by numpy: right values where the bitmap says present, zeros elsewhere. Prints the
/// number of chunks present.
const NOISY_CHECK: &str = r#"
import sys, numpy as np, blosc2
a = blosc2.open(sys.argv[1])
bits = np.unpackbits(np.frombuffer(a.schunk.vlmeta["proxy-present"], dtype=np.uint8), bitorder="little")
I, J = np.meshgrid(np.arange(a.shape[1], dtype=np.uint64), np.arange(a.shape[2], dtype=np.uint64), indexing="ij")
def noisy(k):
    h = np.full(I.shape, 0x9e3779b97f4a7c15, dtype=np.uint64)
    for v in (np.uint64(k), I, J):
        h = (h ^ v) * np.uint64(0x100000001b3)
        h = (h << np.uint64(29)) | (h >> np.uint64(35))
    return (h >> np.uint64(13)).astype(np.uint32)
for k in range(a.shape[0]):
    got = a[k]
    if bits[k]:
        assert np.array_equal(got, noisy(k)), f"chunk {k} marked present holds wrong values"
    else:
        assert not got.any(), f"chunk {k} not marked present is not zero"
print("present", int(bits[: a.shape[0]].sum()))
"#;

/// Checks every chunk the cache claims to hold; returns how many it holds.
fn verify_cache(path: &Path) -> (usize, bool) {
    let failing = SlowSource::new(noisy_source(), Duration::ZERO);
    let p = Proxy::builder(failing.clone())
        .cache_file(path)
        .stamp("noisy")
        .open()
        .unwrap();
    let recovered = p.cache_recovered();
    for k in 0..BIG.0[0] {
        if p.is_cached(&[k, 0, 0]) {
            let r = [k..k + 1, 0..BIG.0[1], 0..BIG.0[2]];
            let got = p.get(&r).unwrap().into_typed::<u32>().unwrap();
            let bad = got
                .indexed_iter()
                .filter(|(ix, v)| **v != noisy(k, ix[1], ix[2]))
                .count();
            assert_eq!(bad, 0, "chunk {k} marked present holds wrong values");
        }
    }
    assert_eq!(failing.reads(), 0);
    (p.chunks_in_file(), recovered)
}

#[test]
fn killed_at_many_points_while_writing_the_cache_python_opens_it_and_it_reopens_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.b2nd");
    let mut recovered = 0;
    for round in 0..10u64 {
        // Each round fills a new cache, so every round has chunks left to write.
        let _ = std::fs::remove_file(&path);
        let mut child = spawn_child("write-all", &path);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        wait_for(&mut lines, "STARTED");
        // Right before the switch of chunk `1 + round % 5`'s header, then a little later each
        // round: the kill lands before, during or after a switch, or inside the appends.
        for _ in 0..=round % 5 {
            wait_for(&mut lines, "DATA");
        }
        std::thread::sleep(Duration::from_micros(450 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        // The file as the killed process left it is a valid frame for python-blosc2, and
        // every chunk it marks present holds the right values.
        let out = common::run_python(NOISY_CHECK, &[path.to_str().unwrap()]);
        assert!(out.starts_with("present"), "{out}");
        let (n, r) = verify_cache(&path);
        recovered += r as usize;
        eprintln!("round {round}: {n} chunks cached after the kill ({out:?}), cut off: {r}");
    }
    eprintln!("{recovered} of 10 kills interrupted a chunk write");
    // Finally let a child finish: everything is cached and right, python-blosc2 agrees.
    let mut child = spawn_child("write-all", &path);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    wait_for(&mut lines, "DONE");
    child.wait().unwrap();
    assert_eq!(verify_cache(&path).0, BIG.0[0]);
    let out = common::run_python(NOISY_CHECK, &[path.to_str().unwrap()]);
    assert_eq!(out.trim(), format!("present {}", BIG.0[0]));
}

#[test]
fn a_second_process_waits_or_fails_and_never_corrupts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.b2nd");
    let mut child = spawn_child("hold", &path);
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    wait_for(&mut lines, "OPEN");
    let src = || SlowSource::new(generated_u16(&SMALL.0, &SMALL.1), Duration::ZERO);
    // Fail mode: an error naming the file at once.
    let err = Proxy::builder(src())
        .cache_file(&path)
        .stamp("crash")
        .lock_mode(LockMode::Fail)
        .open()
        .err();
    let msg = err.expect("the cache is held by the child").to_string();
    assert!(
        msg.contains("in use") && msg.contains(&path.display().to_string()),
        "{msg}"
    );
    // Wait mode (the default): blocks until the child is done. The child fetches its chunks
    // only after we have started waiting, so seeing them proves we waited.
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let slow = src();
            let p = Proxy::builder(slow.clone())
                .cache_file(&path)
                .stamp("crash")
                .open()
                .unwrap();
            assert_eq!(p.chunks_in_file(), 3);
            assert_eq!(p.get(&[0..30]).unwrap(), expected_u16(&[0..30, 0..40]));
            assert_eq!(slow.reads(), 0);
            p.fetch_all().unwrap();
            assert_eq!(slow.reads(), 3);
        });
        std::thread::sleep(Duration::from_millis(100));
        writeln!(stdin, "go").unwrap();
        wait_for(&mut lines, "FETCHED");
        child.wait().unwrap();
        waiter.join().unwrap();
    });
    let slow = src();
    let p = Proxy::builder(slow.clone())
        .cache_file(&path)
        .stamp("crash")
        .open()
        .unwrap();
    assert_eq!(p.get(&[0..60]).unwrap(), expected_u16(&[0..60, 0..40]));
    assert_eq!(slow.reads(), 0);
    assert_eq!(p.dtype(), DType::U16);
}
