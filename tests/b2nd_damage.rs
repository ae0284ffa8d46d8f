//! Regressions of issue 11 on damaged `.b2nd` files, each made in the test from a good file
//! written by python-blosc2 or by vastarray: a wrong compressed size in a chunk header (it
//! corrupted C-Blosc2's heap in `stats`, `eval` and `copy`), and a b2nd metalayer with blocks
//! larger than chunks or zero (SIGFPE in `info`). Library and command alike must answer with an
//! error naming the file (and the chunk), never a signal.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use vastarray::io::b2nd::B2ndSource;
use vastarray::io::b2nd::{store_b2nd, B2ndOptions};
use vastarray::io::b2nd::{B2ndFile, B2ndMeta, Compression};
use vastarray::{ChunkSource, DType, MemorySource, NdData};

const WRITE: &str = r#"
import sys, numpy as np, blosc2
out = sys.argv[1]
a = (np.arange(30 * 20 * 6) % 251).astype("float32").reshape(30, 20, 6)
blosc2.asarray(a, chunks=(8, 10, 6), blocks=(4, 5, 6), urlpath=out + "/py_zstd.b2nd", mode="w")
b = (np.arange(50 * 40) * 7 % 60000).astype("uint16").reshape(50, 40)
cp = blosc2.CParams(codec=blosc2.Codec.LZ4, clevel=5)
blosc2.asarray(b, chunks=(16, 40), blocks=(8, 40), urlpath=out + "/py_lz4.b2nd", mode="w", cparams=cp)
print("ok")
"#;

/// A temporary folder with two python-blosc2 files and one written by vastarray.
fn fixtures() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_python(WRITE, &[dir.path().to_str().unwrap()]);
    assert_eq!(out.trim(), "ok");
    let a = ndarray::Array::from_shape_fn((33, 21), |(i, j)| (i * 21 + j) as i32 - 300).into_dyn();
    let src = MemorySource::new(a, &[33, 21]).unwrap();
    let opts = B2ndOptions {
        chunks: Some(vec![10, 8]),
        blocks: Some(vec![5, 4]),
        compression: Compression::lz4(),
        ..B2ndOptions::default()
    };
    let ours = dir.path().join("ours.b2nd");
    store_b2nd(&src, &ours, &opts).unwrap();
    let files = vec![
        dir.path().join("py_zstd.b2nd"),
        dir.path().join("py_lz4.b2nd"),
        ours,
    ];
    (dir, files)
}

/// Runs the built `vastarray` binary: exit code (or the signal that killed it) and stderr.
fn vastarray(args: &[&str]) -> (Option<i32>, Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vastarray"))
        .args(args)
        .output()
        .expect("starting vastarray");
    (
        out.status.code(),
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn all(src: &dyn ChunkSource) -> Vec<std::ops::Range<usize>> {
    src.shape().iter().map(|&n| 0..n).collect()
}

fn with_bytes(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn a_wrong_compressed_size_in_any_chunk_is_an_error_never_a_crash() {
    let (dir, files) = fixtures();
    let mut cli_case = None;
    for file in &files {
        let good = std::fs::read(file).unwrap();
        let f = B2ndFile::open(file).unwrap();
        let grid = f.meta().grid();
        let mut stored = 0;
        for n in 0..f.num_chunks() {
            let Some(span) = f.chunk_span(n).unwrap() else {
                continue;
            };
            stored += 1;
            let idx = grid.multi_index(n);
            // Byte 14 is the third byte of the chunk header's compressed size (cbytes).
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[span.start as usize + 14] ^= 1 << bit;
                let p = with_bytes(dir.path(), &format!("bad_{n}_{bit}.b2nd"), &bad);
                let src = B2ndSource::open(&p).unwrap();
                let msg = src
                    .read_chunk(&idx)
                    .err()
                    .unwrap_or_else(|| panic!("{}: chunk {n} bit {bit} read", file.display()))
                    .to_string();
                assert!(
                    msg.contains(&p.display().to_string()) && msg.contains(&format!("{idx:?}")),
                    "{msg}"
                );
                assert!(src.read_region(&all(&src)).is_err());
                if cli_case.is_none() {
                    cli_case = Some(p.clone());
                } else {
                    std::fs::remove_file(&p).unwrap();
                }
            }
        }
        assert!(stored >= 3, "{}: {stored} chunks hold data", file.display());
    }
    // The command as the issue ran it: an error and exit 1, never a signal.
    let p = cli_case.unwrap();
    let ps = p.to_str().unwrap();
    let input = format!("x={ps}");
    let dest = dir.path().join("copy.npy");
    for args in [
        vec!["stats", ps],
        vec!["eval", "sum(x)", "-i", &input],
        vec!["copy", ps, dest.to_str().unwrap()],
    ] {
        let (code, signal, stderr) = vastarray(&args);
        assert_eq!(signal, None, "{args:?} died of a signal: {stderr}");
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(ps), "{args:?}: {stderr}");
    }
    assert!(!dest.exists());
}

/// The file with its b2nd metalayer replaced by that of `meta` (same length: same number of
/// axes and dtype string).
fn with_metalayer(good: &[u8], real: &B2ndMeta, meta: &B2ndMeta) -> Vec<u8> {
    let (old, new) = (real.to_metalayer(), meta.to_metalayer());
    assert_eq!(old.len(), new.len());
    let at = good
        .windows(old.len())
        .position(|w| w == old.as_slice())
        .expect("the b2nd metalayer is in the header");
    let mut bad = good.to_vec();
    bad[at..at + new.len()].copy_from_slice(&new);
    bad
}

#[test]
fn damaged_b2nd_metalayers_are_refused_naming_the_file() {
    let (dir, files) = fixtures();
    for file in &files {
        let good = std::fs::read(file).unwrap();
        let real = B2ndFile::open(file).unwrap().meta().clone();
        let nd = real.shape.len();
        let with = |f: &dyn Fn(&mut B2ndMeta)| {
            let mut m = real.clone();
            f(&mut m);
            m
        };
        let cases = [
            (
                "blocks larger than chunks",
                with(&|m| m.blocks[0] = m.chunks[0] + 1),
            ),
            ("zero block", with(&|m| m.blocks[nd - 1] = 0)),
            ("zero chunk", with(&|m| m.chunks[0] = 0)),
            ("other shape", with(&|m| m.shape[0] += 1000)),
            ("huge shape", with(&|m| m.shape[0] = 1 << 62)),
            (
                "other item size",
                with(&|m| {
                    m.dtype = if m.dtype.size() == 4 {
                        DType::I16
                    } else {
                        DType::I32
                    }
                }),
            ),
        ];
        for (what, meta) in cases {
            let p = with_bytes(
                dir.path(),
                "meta.b2nd",
                &with_metalayer(&good, &real, &meta),
            );
            let msg = B2ndSource::open(&p)
                .err()
                .unwrap_or_else(|| panic!("{what}: {} opened", file.display()))
                .to_string();
            assert!(msg.contains(&p.display().to_string()), "{what}: {msg}");
            let (code, signal, stderr) = vastarray(&["info", p.to_str().unwrap()]);
            assert_eq!(signal, None, "{what}: info died of a signal: {stderr}");
            assert_eq!(code, Some(1), "{what}: {stderr}");
            assert!(stderr.contains(p.to_str().unwrap()), "{what}: {stderr}");
        }
        // A negative extent and a number of axes past the limit.
        let raw = real.to_metalayer();
        let at = good
            .windows(raw.len())
            .position(|w| w == raw.as_slice())
            .unwrap();
        for (offset, value, what) in [(5usize, 0xffu8, "negative extent"), (2, 17, "17 axes")] {
            let mut bad = good.clone();
            bad[at + offset] = value;
            let p = with_bytes(dir.path(), "axes.b2nd", &bad);
            let msg = B2ndSource::open(&p).err().expect(what).to_string();
            assert!(msg.contains(&p.display().to_string()), "{what}: {msg}");
        }
    }
}

#[test]
fn damaged_frame_sizes_are_refused_before_any_chunk_is_read() {
    let (dir, files) = fixtures();
    let good = std::fs::read(&files[0]).unwrap();
    let be = |at: usize, n: usize| {
        good[at..at + n]
            .iter()
            .fold(0u64, |a, &b| a << 8 | b as u64)
    };
    let (header_len, frame_len, cbytes) = (be(11, 4), be(16, 8), be(39, 8));
    let set = |at: usize, n: usize, v: u64| {
        let mut bad = good.clone();
        bad[at..at + n].copy_from_slice(&v.to_be_bytes()[8 - n..]);
        bad
    };
    let cases = [
        ("header longer than the file", set(11, 4, frame_len + 1)),
        ("header shorter than its fixed part", set(11, 4, 20)),
        ("frame longer than the file", set(16, 8, frame_len + 4096)),
        (
            "frame shorter than its parts",
            set(16, 8, header_len + cbytes),
        ),
        ("data past the frame", set(39, 8, frame_len)),
        ("negative data length", set(39, 8, u64::MAX - 5)),
        ("data shorter than the chunks", set(39, 8, cbytes / 2)),
        ("zero item size", set(48, 4, 0)),
        ("other chunk size", set(58, 4, 12345)),
        ("uncompressed size of 2^40 chunks", set(30, 8, 1 << 40)),
        ("trailer length past the frame", {
            let mut b = good.clone();
            let at = frame_len as usize - 22;
            b[at..at + 4].copy_from_slice(&(frame_len as u32 + 10).to_be_bytes());
            b
        }),
    ];
    for (what, bad) in cases {
        let p = with_bytes(dir.path(), "frame.b2nd", &bad);
        match B2ndSource::open(&p) {
            Err(e) => assert!(
                e.to_string().contains(&p.display().to_string()),
                "{what}: {e}"
            ),
            // Data shorter than the chunks is seen chunk by chunk.
            Ok(src) => {
                let e = src.read_region(&all(&src)).err();
                let msg = e.unwrap_or_else(|| panic!("{what}: read")).to_string();
                assert!(msg.contains(&p.display().to_string()), "{what}: {msg}");
            }
        }
    }
    // The good file still reads, and equals what python-blosc2 wrote.
    let src = B2ndSource::open(&files[0]).unwrap();
    let want = NdData::from(
        ndarray::Array::from_shape_fn((30, 20, 6), |(i, j, k)| {
            ((i * 120 + j * 6 + k) % 251) as f32
        })
        .into_dyn(),
    );
    assert_eq!(src.read_region(&all(&src)).unwrap(), want);
}
