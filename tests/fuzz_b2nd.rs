//! Fuzzing of `.b2nd` frames and chunks (issue 11): real files, made here by python-blosc2 and
//! by vastarray (an array and a proxy's cache file), are damaged by bit flips, byte overwrites
//! (boundary values in sizes and offsets) and truncations aimed at the header, the metalayers,
//! the chunk index, the trailer, chunk headers and anywhere, then opened and read through
//! `B2ndSource` and the caching `Proxy`. Only clean errors naming the file are allowed, or
//! reads of the right shape and type (and, when only the trailer was touched, the right
//! values); never a panic or a signal.
//!
//! The cases run in a child process (this binary run again with `FUZZ_DIR_ENV` set), so a
//! signal is reported with the case that caused it instead of killing the test runner.
//! `VASTARRAY_FUZZ_CASES` sets how many (`make fuzz` runs many more).

#![cfg(feature = "b2nd")]

use crate::common;
use crate::proxy_support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use proxy_support::generated_u16;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vastarray::io::b2nd::B2ndSource;
use vastarray::io::b2nd::{store_b2nd, B2ndOptions};
use vastarray::io::b2nd::{B2ndFile, Compression};
use vastarray::proxy::Proxy;
use vastarray::{ChunkSource, MemorySource, NdData};

const FUZZ_DIR_ENV: &str = "VASTARRAY_FUZZ_B2ND_DIR";
const CACHE_STAMP: &str = "fuzz";

const WRITE: &str = r#"
import sys, numpy as np, blosc2
out = sys.argv[1]
a = np.linspace(-5, 5, 24 * 18 * 4, dtype="float32").reshape(24, 18, 4)
blosc2.asarray(a, chunks=(10, 8, 4), blocks=(5, 4, 2), urlpath=out + "/py_zstd.b2nd", mode="w")
b = (np.arange(60 * 11) % 7).astype("int64").reshape(60, 11)
cp = blosc2.CParams(codec=blosc2.Codec.LZ4, clevel=9, filters=[blosc2.Filter.BITSHUFFLE])
blosc2.asarray(b, chunks=(16, 11), blocks=(4, 11), urlpath=out + "/py_lz4_bitshuffle.b2nd", mode="w", cparams=cp)
c = np.zeros((20, 20), dtype="uint8"); c[15:, 15:] = 9
blosc2.asarray(c, chunks=(10, 10), blocks=(5, 5), urlpath=out + "/py_zeros.b2nd", mode="w")
print("ok")
"#;

/// The files of the fuzz: python-blosc2's, one of `store_b2nd`, and a cache file.
fn make_files(dir: &Path) {
    let out = common::run_python(WRITE, &[dir.to_str().unwrap()]);
    assert_eq!(out.trim(), "ok");
    let a = ndarray::Array::from_shape_fn((33, 21), |(i, j)| (i * 21 + j) as u32 * 3).into_dyn();
    let src = MemorySource::new(a, &[33, 21]).unwrap();
    let opts = B2ndOptions {
        chunks: Some(vec![10, 8]),
        blocks: Some(vec![5, 4]),
        compression: Compression::lz4(),
        ..B2ndOptions::default()
    };
    store_b2nd(&src, &dir.join("ours.b2nd"), &opts).unwrap();
    let proxy = cache_proxy(&dir.join("cache.b2nd")).unwrap();
    proxy.fetch(&[0..20, 0..30]).unwrap();
    proxy.fetch(&[30..40, 10..20]).unwrap();
}

fn cache_proxy(path: &Path) -> vastarray::Result<Proxy> {
    Proxy::builder(Arc::new(generated_u16(&[40, 30], &[10, 10])))
        .cache_file(path)
        .stamp(CACHE_STAMP)
        .concurrency(1)
        .open()
}

/// Where in a file a damage lands.
#[derive(Clone, Copy, Debug)]
enum Area {
    FixedHeader,
    Metalayers,
    ChunkIndex,
    Trailer,
    ChunkHeader,
    Anywhere,
}

/// One damage: where, how, and with what.
#[derive(Clone, Debug)]
struct Damage {
    area: Area,
    at: u64,
    kind: u8,
    value: u8,
}

/// The byte ranges of a good file's parts, from its header and the chunk spans.
struct Layout {
    header_fixed: std::ops::Range<usize>,
    metalayers: std::ops::Range<usize>,
    index: std::ops::Range<usize>,
    trailer: std::ops::Range<usize>,
    chunks: Vec<usize>,
    len: usize,
}

fn layout(path: &Path, bytes: &[u8]) -> Layout {
    let be = |at: usize, n: usize| {
        bytes[at..at + n]
            .iter()
            .fold(0usize, |a, &b| a << 8 | b as usize)
    };
    let (header_len, frame_len, cbytes) = (be(11, 4), be(16, 8), be(39, 8));
    let trailer_len = be(frame_len - 22, 4);
    let f = B2ndFile::open(path).unwrap();
    let chunks = (0..f.num_chunks())
        .filter_map(|n| f.chunk_span(n).unwrap())
        .map(|s| s.start as usize)
        .collect();
    Layout {
        header_fixed: 0..87,
        metalayers: 87..header_len,
        index: header_len + cbytes..frame_len - trailer_len,
        trailer: frame_len - trailer_len..frame_len,
        chunks,
        len: bytes.len(),
    }
}

/// Values that break sizes and offsets: zero, one, negative, the largest, near the file's length.
fn boundary(len: usize, pick: u8) -> [u8; 4] {
    let v: u32 = match pick % 8 {
        0 => 0,
        1 => 1,
        2 => u32::MAX,
        3 => i32::MAX as u32,
        4 => 1 << 31,
        5 => len as u32,
        6 => len as u32 + 1,
        _ => 0x0001_0000,
    };
    v.to_be_bytes()
}

fn apply(bytes: &mut Vec<u8>, lay: &Layout, d: &Damage) {
    let pick = |r: &std::ops::Range<usize>| {
        if r.is_empty() {
            0
        } else {
            r.start + (d.at as usize) % r.len()
        }
    };
    let pos = match d.area {
        Area::FixedHeader => pick(&lay.header_fixed),
        Area::Metalayers => pick(&lay.metalayers),
        Area::ChunkIndex => pick(&lay.index),
        Area::Trailer => pick(&lay.trailer),
        Area::ChunkHeader if !lay.chunks.is_empty() => {
            lay.chunks[(d.at as usize) % lay.chunks.len()] + (d.at as usize >> 16) % 32
        }
        _ => pick(&(0..lay.len)),
    };
    if bytes.is_empty() {
        return;
    }
    let pos = pos.min(bytes.len() - 1);
    match d.kind % 4 {
        0 => bytes[pos] ^= 1 << (d.value % 8),
        1 => bytes[pos] = d.value,
        2 => {
            let b = boundary(lay.len, d.value);
            // Sizes are big-endian in the frame and little-endian in chunks: write both ways.
            let b = if d.value & 0x80 != 0 {
                b
            } else {
                u32::from_be_bytes(b).to_le_bytes()
            };
            for (k, v) in b.iter().enumerate() {
                if let Some(x) = bytes.get_mut(pos + k) {
                    *x = *v;
                }
            }
        }
        _ => bytes.truncate(pos),
    }
}

fn damage() -> impl Strategy<Value = Damage> {
    (0u8..6, any::<u64>(), any::<u8>(), any::<u8>()).prop_map(|(a, at, kind, value)| Damage {
        area: [
            Area::FixedHeader,
            Area::Metalayers,
            Area::ChunkIndex,
            Area::Trailer,
            Area::ChunkHeader,
            Area::Anywhere,
        ][a as usize],
        at,
        kind,
        value,
    })
}

fn names(e: &vastarray::Error, path: &Path) -> bool {
    e.to_string().contains(&path.display().to_string())
}

fn all(src: &dyn ChunkSource) -> Vec<std::ops::Range<usize>> {
    src.shape().iter().map(|&n| 0..n).collect()
}

/// How a case ended: refused at open, opened but a read failed, or read whole.
#[derive(Clone, Copy)]
enum Outcome {
    Refused,
    ReadFailed,
    Read,
}

/// Opens and reads a damaged array file; panics on anything but clean errors or good reads.
fn check_array(path: &Path, good: &NdData, trailer_only: bool) -> Outcome {
    let src = match B2ndSource::open(path) {
        Ok(s) => s,
        Err(e) => {
            assert!(names(&e, path), "open error does not name the file: {e}");
            return Outcome::Refused;
        }
    };
    let grid = src.grid();
    for idx in grid.all_chunks() {
        match src.read_chunk(&idx) {
            Ok(d) => {
                assert_eq!(d.shape(), grid.chunk_extent(&idx).as_slice());
                assert_eq!(d.dtype(), src.dtype());
            }
            Err(e) => assert!(names(&e, path), "read error does not name the file: {e}"),
        }
    }
    match src.read_region(&all(&src)) {
        Ok(d) => {
            assert_eq!(d.shape(), src.shape());
            if trailer_only {
                assert_eq!(
                    &d, good,
                    "only the trailer was damaged: the data must be right"
                );
            }
            Outcome::Read
        }
        Err(e) => {
            assert!(names(&e, path), "read error does not name the file: {e}");
            Outcome::ReadFailed
        }
    }
}

/// Opens a damaged cache file through a proxy; panics on anything but clean errors or reads of
/// the right shape.
fn check_cache(path: &Path) -> Outcome {
    let proxy = match cache_proxy(path) {
        Ok(p) => p,
        Err(e) => {
            assert!(names(&e, path), "cache error does not name the file: {e}");
            return Outcome::Refused;
        }
    };
    match proxy.get(&[0..40, 0..30]) {
        Ok(d) => {
            assert_eq!(d.shape(), &[40, 30]);
            Outcome::Read
        }
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("cache of") || names(&e, path), "{m}");
            Outcome::ReadFailed
        }
    }
}

/// The child's main: runs the cases over the files in `FUZZ_DIR_ENV`.
#[test]
fn fuzz_child_process() {
    let Ok(dir) = std::env::var(FUZZ_DIR_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let names = ["py_zstd", "py_lz4_bitshuffle", "py_zeros", "ours", "cache"];
    let files: Vec<(PathBuf, Vec<u8>, Layout, Option<NdData>)> = names
        .iter()
        .map(|n| {
            let p = dir.join(format!("{n}.b2nd"));
            let bytes = std::fs::read(&p).unwrap();
            let lay = layout(&p, &bytes);
            let good = (*n != "cache").then(|| {
                let s = B2ndSource::open(&p).unwrap();
                s.read_region(&all(&s)).unwrap()
            });
            (p, bytes, lay, good)
        })
        .collect();
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let config = Config {
        cases: common::fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (0..files.len(), prop::collection::vec(damage(), 1..4));
    let case = std::cell::Cell::new(0u64);
    let outcomes = std::cell::Cell::new([0u64; 3]);
    runner
        .run(&strategy, |(f, damages)| {
            case.set(case.get() + 1);
            let (path, good_bytes, lay, good) = &files[f];
            // Printed first, so a signal can be traced to its case.
            eprintln!("case {}: {} {damages:?}", case.get(), path.display());
            std::io::stderr().flush().ok();
            let mut bytes = good_bytes.clone();
            for d in &damages {
                apply(&mut bytes, lay, d);
            }
            let trailer_only = damages
                .iter()
                .all(|d| matches!(d.area, Area::Trailer) && d.kind % 4 != 3);
            let p = work.join(path.file_name().unwrap());
            std::fs::write(&p, &bytes).unwrap();
            let _ = std::fs::remove_file(work.join(format!("{}.lock", p.display())));
            let o = match good {
                Some(good) => check_array(&p, good, trailer_only),
                None => check_cache(&p),
            };
            let mut n = outcomes.get();
            n[o as usize] += 1;
            outcomes.set(n);
            Ok(())
        })
        .unwrap();
    let [refused, failed, read] = outcomes.get();
    eprintln!("refused at open {refused}, a read failed {failed}, read whole {read}");
    println!("FUZZ-DONE {}", case.get());
}

#[test]
fn damaged_b2nd_files_give_clean_errors_or_right_reads() {
    if std::env::var(FUZZ_DIR_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_files(dir.path());
    let out = common::child_test(module_path!(), "fuzz_child_process")
        .env(FUZZ_DIR_ENV, dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last: Vec<&str> = stderr.lines().rev().take(8).collect();
    assert_eq!(
        out.status.signal(),
        None,
        "the fuzz child died of a signal; last lines:\n{}",
        last.join("\n")
    );
    assert!(out.status.success(), "fuzz child failed:\n{stderr}");
    if let Some(summary) = stderr.lines().find(|l| l.starts_with("refused at open")) {
        eprintln!("{summary}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("FUZZ-DONE {}", common::fuzz_cases())),
        "{stdout}\n{stderr}"
    );
}
