//! `.b2nd` files written by python-blosc2 read through `B2ndSource`, compared with the values
//! numpy dumped as raw bytes; and the errors bad files give.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::common;

use std::path::Path;
use vastarray::io::b2nd::nd_from_bytes;
use vastarray::io::b2nd::B2ndSource;
use vastarray::{ChunkSource, DType, Error, NdData};

const WRITE: &str = r#"
import sys, numpy as np, blosc2
out = sys.argv[1]
shape, chunks, blocks = (13, 17, 5), (4, 6, 5), (2, 3, 2)
rng = np.random.default_rng(7)
for codec in ("zstd", "lz4"):
    for dt in ("uint16", "float32", "int64", "bool", "uint8", "float64", "int8", "int32", "uint64"):
        if dt == "bool":
            a = rng.random(shape) > 0.5
        elif dt.startswith("float"):
            a = rng.standard_normal(shape).astype(dt)
        else:
            info = np.iinfo(dt)
            a = rng.integers(max(info.min, -1000), min(info.max, 60000), size=shape, dtype=dt)
        name = f"{out}/{codec}_{dt}"
        cparams = blosc2.CParams(codec=getattr(blosc2.Codec, codec.upper()), clevel=5)
        blosc2.asarray(a, chunks=chunks, blocks=blocks, urlpath=name + ".b2nd", mode="w", cparams=cparams)
        open(name + ".raw", "wb").write(a.tobytes())
c = np.arange(12, dtype="complex64").reshape(3, 4)
blosc2.asarray(c, chunks=(2, 2), blocks=(1, 2), urlpath=f"{out}/complex.b2nd", mode="w")
s = np.array(["ab", "cd", "ef"])
blosc2.asarray(s, chunks=(2,), blocks=(1,), urlpath=f"{out}/strings.b2nd", mode="w")
print("ok")
"#;

const DTYPES: [(&str, DType); 9] = [
    ("uint16", DType::U16),
    ("float32", DType::F32),
    ("int64", DType::I64),
    ("bool", DType::Bool),
    ("uint8", DType::U8),
    ("float64", DType::F64),
    ("int8", DType::I8),
    ("int32", DType::I32),
    ("uint64", DType::U64),
];

fn slice(a: &NdData, region: &[std::ops::Range<usize>]) -> NdData {
    use ndarray::{Slice, SliceInfoElem};
    let sl: Vec<SliceInfoElem> = region
        .iter()
        .map(|r| Slice::from(r.clone()).into())
        .collect();
    vastarray::map_nd!(a, x: T => x.slice(sl.as_slice()).to_owned())
}

fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_python(WRITE, &[dir.path().to_str().unwrap()]);
    assert_eq!(out.trim(), "ok");
    dir
}

#[test]
fn reads_python_files_every_dtype_and_codec() {
    let dir = fixtures();
    let shape = [13usize, 17, 5];
    for codec in ["zstd", "lz4"] {
        for (name, dt) in DTYPES {
            let base = dir.path().join(format!("{codec}_{name}"));
            let raw = std::fs::read(base.with_extension("raw")).unwrap();
            let want = nd_from_bytes(dt, &shape, &raw).unwrap();
            let src = B2ndSource::open(base.with_extension("b2nd")).unwrap();
            assert_eq!(src.shape(), &shape);
            assert_eq!(src.chunk_shape(), &[4, 6, 5]);
            assert_eq!(src.block_shape(), &[2, 3, 2]);
            assert_eq!(src.dtype(), dt);
            assert!(src.prefers_region_reads());
            // Every chunk, including the partial edge chunks (13 = 3*4+1, 17 = 2*6+5).
            let grid = src.grid();
            for idx in grid.all_chunks() {
                let got = src.read_chunk(&idx).unwrap();
                assert_eq!(
                    got,
                    slice(&want, &grid.chunk_box(&idx)),
                    "{codec} {name} chunk {idx:?}"
                );
            }
            // Boxes inside one chunk, across chunks and the whole array.
            for region in [
                vec![1..3, 2..5, 1..4],
                vec![3..12, 5..17, 0..5],
                vec![0..13, 0..17, 0..5],
                vec![12..13, 16..17, 4..5],
            ] {
                assert_eq!(
                    src.read_region(&region).unwrap(),
                    slice(&want, &region),
                    "{codec} {name} {region:?}"
                );
            }
        }
    }
}

#[test]
fn parallel_reads_from_many_threads() {
    let dir = fixtures();
    let base = dir.path().join("zstd_float64");
    let raw = std::fs::read(base.with_extension("raw")).unwrap();
    let want = nd_from_bytes(DType::F64, &[13, 17, 5], &raw).unwrap();
    let src = B2ndSource::open(base.with_extension("b2nd")).unwrap();
    let grid = src.grid();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (src, grid, want) = (&src, &grid, &want);
            s.spawn(move || {
                for round in 0..20 {
                    for (k, idx) in grid.all_chunks().iter().enumerate() {
                        if (k + t + round) % 3 == 0 {
                            assert_eq!(
                                src.read_chunk(idx).unwrap(),
                                slice(want, &grid.chunk_box(idx))
                            );
                        } else {
                            let b = grid.chunk_box(idx);
                            let r: Vec<_> = b
                                .iter()
                                .map(|r| r.start..(r.start + 1).min(r.end))
                                .collect();
                            assert_eq!(src.read_region(&r).unwrap(), slice(want, &r));
                        }
                    }
                }
            });
        }
    });
}

fn file_error_names(path: &Path, err: Error, what: &str) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "{what}: error does not name the file: {msg}"
    );
}

#[test]
fn bad_files_give_errors_naming_the_file() {
    let dir = fixtures();
    let missing = dir.path().join("nope.b2nd");
    let e = B2ndSource::open(&missing)
        .err()
        .expect("missing file must fail");
    file_error_names(&missing, e, "missing");

    let good = std::fs::read(dir.path().join("zstd_uint16.b2nd")).unwrap();
    for cut in [10usize, 100, good.len() / 2, good.len() - 3] {
        let p = dir.path().join(format!("cut{cut}.b2nd"));
        std::fs::write(&p, &good[..cut]).unwrap();
        let e = B2ndSource::open(&p)
            .err()
            .expect("truncated file must fail");
        file_error_names(&p, e, "truncated");
    }
    let p = dir.path().join("garbage.b2nd");
    std::fs::write(&p, vec![0x5au8; 4096]).unwrap();
    file_error_names(
        &p,
        B2ndSource::open(&p).err().expect("garbage must fail"),
        "garbage",
    );

    for name in ["complex", "strings"] {
        let p = dir.path().join(format!("{name}.b2nd"));
        let e = B2ndSource::open(&p)
            .err()
            .expect("unsupported dtype must fail");
        let msg = e.to_string();
        assert!(msg.contains("unsupported"), "{msg}");
        file_error_names(&p, e, name);
    }
}

#[test]
fn corrupt_chunk_bytes_fail_the_read_naming_file_and_chunk() {
    let dir = fixtures();
    let p = dir.path().join("lz4_float64.b2nd");
    let mut bytes = std::fs::read(&p).unwrap();
    // The first chunk starts right after the frame header, whose length is a big-endian i32 at
    // byte 11. Blosc2 has no checksums, so damage inside compressed data may decode silently;
    // damage to a chunk header (sizes, flags) must be caught.
    let header_len = i32::from_be_bytes(bytes[11..15].try_into().unwrap()) as usize;
    for b in &mut bytes[header_len + 4..header_len + 12] {
        *b ^= 0x5a;
    }
    std::fs::write(&p, &bytes).unwrap();
    let src = B2ndSource::open(&p).unwrap();
    let e = src
        .read_chunk(&[0, 0, 0])
        .err()
        .expect("a damaged chunk header must fail the read");
    let msg = e.to_string();
    assert!(
        msg.contains(&p.display().to_string()) && msg.contains("[0, 0, 0]"),
        "{msg}"
    );
    // Other chunks still read (and reading never panics).
    assert!(src.read_chunk(&[1, 1, 0]).is_ok());
}
