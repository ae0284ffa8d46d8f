//! Bad Zarr input gives clear errors that name the array (and the chunk), never a panic, an
//! abort or a hang: missing or malformed metadata, unsupported codecs and data types, truncated
//! and hostile chunks (a Zstandard frame declaring a huge size, a gzip bomb, a Blosc header
//! lying about its size), a shard index pointing outside its shard, a named pipe as a chunk.
#![cfg(feature = "zarr")]

use crate::common;

use common::run_python;
use std::io::Write;
use std::path::Path;
use vastarray::io::zarr::ZarrStore;
use vastarray::ChunkSource;

const WRITE: &str = r#"
import sys, numpy as np, zarr, numcodecs
from zarr.codecs import GzipCodec, BloscCodec
d = sys.argv[1]
a = zarr.create_array(f"{d}/z.zarr", shape=(8, 8), chunks=(4, 4), dtype="f4")
a[:] = np.arange(64, dtype="f4").reshape(8, 8)
g = zarr.create_array(f"{d}/g.zarr", shape=(8, 8), chunks=(4, 4), dtype="f4", compressors=GzipCodec())
g[:] = 1
b = zarr.create_array(f"{d}/b.zarr", shape=(8, 8), chunks=(4, 4), dtype="f4", compressors=BloscCodec(cname="lz4"))
b[:] = 2
s = zarr.create_array(f"{d}/s.zarr", shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype="i4")
s[:] = np.arange(64, dtype="i4").reshape(8, 8)
c = zarr.create_array(f"{d}/c64.zarr", shape=(3,), chunks=(3,), dtype="complex64")
v = zarr.create_array(f"{d}/f2.zarr", shape=(3,), chunks=(3,), dtype="<f2", zarr_format=2)
w = zarr.create_array(f"{d}/filt.zarr", shape=(6,), chunks=(3,), dtype="<i4", zarr_format=2, filters=[numcodecs.Delta(dtype="<i4")])
w[:] = 5
zarr.open_group(f"{d}/grp.zarr", mode="w").create_array("x", shape=(2,), dtype="i1")
"#;

fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run_python(WRITE, &[dir.path().to_str().unwrap()]);
    dir
}

fn open_err(path: &Path) -> String {
    match ZarrStore::open_dir(path).and_then(|s| s.array("/")) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}

fn read_err(path: &Path, region: &[std::ops::Range<usize>]) -> String {
    let src = ZarrStore::open_dir(path).unwrap().array("/").unwrap();
    match src.read_region(region) {
        Ok(_) => panic!("{} read", path.display()),
        Err(e) => e.to_string(),
    }
}

fn chunk_err(path: &Path, idx: &[usize]) -> String {
    let src = ZarrStore::open_dir(path).unwrap().array("/").unwrap();
    match src.read_chunk(idx) {
        Ok(_) => panic!("{} chunk {idx:?} read", path.display()),
        Err(e) => e.to_string(),
    }
}

fn has(e: &str, parts: &[&str]) {
    for p in parts {
        assert!(e.contains(p), "{e:?} does not say {p:?}");
    }
}

#[test]
fn metadata_errors_name_the_array() {
    let dir = fixtures();
    let d = dir.path();
    let empty = d.join("empty.zarr");
    std::fs::create_dir(&empty).unwrap();
    has(&open_err(&empty), &["empty.zarr", "no zarr.json"]);
    has(
        &open_err(&d.join("missing.zarr")),
        &["missing.zarr", "cannot open"],
    );

    let z = d.join("z.zarr/zarr.json");
    let good = std::fs::read_to_string(&z).unwrap();
    std::fs::write(&z, &good[..good.len() / 2]).unwrap();
    has(
        &open_err(&d.join("z.zarr")),
        &["z.zarr", "zarr.json", "not valid JSON"],
    );
    for (from, to, says) in [
        ("\"zstd\"", "\"lz5\"", "codec \"lz5\" is not supported"),
        (
            "\"float32\"",
            "\"float16\"",
            "data type \"float16\" is not supported",
        ),
        (
            "\"regular\"",
            "\"rectilinear\"",
            "only the regular chunk grid",
        ),
        (
            "\"shape\": [\n    8,",
            "\"shape\": [\n    -8,",
            "not a non-negative integer",
        ),
    ] {
        assert!(good.contains(from), "{from}");
        std::fs::write(&z, good.replacen(from, to, 1)).unwrap();
        has(&open_err(&d.join("z.zarr")), &["z.zarr", says]);
    }
    let huge = good.replacen(
        "\"chunk_shape\": [\n        4,\n        4",
        "\"chunk_shape\": [\n        400000,\n        400000",
        1,
    );
    assert_ne!(huge, good);
    std::fs::write(&z, huge).unwrap();
    has(&open_err(&d.join("z.zarr")), &["MiB decoded"]);

    has(
        &open_err(&d.join("c64.zarr")),
        &["c64.zarr", "complex64", "not supported"],
    );
    has(
        &open_err(&d.join("f2.zarr")),
        &["f2.zarr", ".zarray", "<f2", "not supported"],
    );
    has(
        &open_err(&d.join("filt.zarr")),
        &["filt.zarr", "filters are not supported"],
    );
    let store = ZarrStore::open_dir(&d.join("grp.zarr")).unwrap();
    has(
        &store.array("/").err().unwrap().to_string(),
        &["grp.zarr", "group, not an array"],
    );
    has(
        &store.array("/nope").err().unwrap().to_string(),
        &["grp.zarr:/nope", "no zarr.json"],
    );
    has(
        &vastarray::open(d.join("grp.zarr").to_str().unwrap())
            .err()
            .unwrap()
            .to_string(),
        &["group, not an array"],
    );
}

#[test]
fn damaged_chunks_are_errors_naming_array_and_chunk() {
    let dir = fixtures();
    let d = dir.path();
    // Truncated Zstandard chunk.
    let c = d.join("z.zarr/c/1/0");
    let bytes = std::fs::read(&c).unwrap();
    std::fs::write(&c, &bytes[..bytes.len() - 3]).unwrap();
    has(
        &chunk_err(&d.join("z.zarr"), &[1, 0]),
        &["z.zarr", "chunk [1, 0]"],
    );
    // A valid frame that declares far more than a chunk holds (zarrs would allocate it).
    let big = zstd::bulk::compress(&vec![0u8; 1 << 20], 1).unwrap();
    std::fs::write(&c, big).unwrap();
    has(
        &chunk_err(&d.join("z.zarr"), &[1, 0]),
        &[
            "z.zarr",
            "chunk [1, 0]",
            "c/1/0",
            "1048576 decoded bytes, a chunk holds 64",
        ],
    );
    // A hand-made frame declaring 1 TiB (one raw block of one byte): zarrs would try to
    // allocate all of it at once.
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0xE0];
    frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
    frame.extend_from_slice(&[0x09, 0x00, 0x00, 0x2A]);
    std::fs::write(&c, &frame).unwrap();
    has(
        &chunk_err(&d.join("z.zarr"), &[1, 0]),
        &["z.zarr", "chunk [1, 0]", "1099511627776 decoded bytes"],
    );
    // A region read names the array too; untouched chunks still read.
    has(
        &read_err(&d.join("z.zarr"), &[3..5, 0..2]),
        &["z.zarr", "c/1/0"],
    );
    let src = ZarrStore::open_dir(&d.join("z.zarr"))
        .unwrap()
        .array("/")
        .unwrap();
    assert!(src.read_chunk(&[0, 1]).is_ok());
    // Not a Zstandard frame at all.
    std::fs::write(&c, b"garbage!").unwrap();
    has(
        &chunk_err(&d.join("z.zarr"), &[1, 0]),
        &["not a Zstandard frame"],
    );

    // A gzip bomb: decodes to far more than a chunk, refused before zarrs decodes it.
    let g = d.join("g.zarr/c/0/1");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&vec![0u8; 8 << 20]).unwrap();
    std::fs::write(&g, enc.finish().unwrap()).unwrap();
    has(
        &chunk_err(&d.join("g.zarr"), &[0, 1]),
        &[
            "g.zarr",
            "chunk [0, 1]",
            "gzip data decodes to more than the 64 bytes",
        ],
    );
    // Truncated gzip.
    let good = std::fs::read(d.join("g.zarr/c/1/1")).unwrap();
    std::fs::write(&g, &good[..good.len() / 2]).unwrap();
    has(
        &chunk_err(&d.join("g.zarr"), &[0, 1]),
        &["g.zarr", "chunk [0, 1]"],
    );

    // A Blosc header that claims a huge decoded size.
    let b = d.join("b.zarr/c/0/0");
    let mut raw = std::fs::read(&b).unwrap();
    raw[4..8].copy_from_slice(&(1u32 << 31).to_le_bytes());
    std::fs::write(&b, &raw).unwrap();
    has(
        &chunk_err(&d.join("b.zarr"), &[0, 0]),
        &["b.zarr", "blosc data declares 2147483648 decoded bytes"],
    );
    std::fs::write(&b, &raw[..10]).unwrap();
    has(
        &chunk_err(&d.join("b.zarr"), &[0, 0]),
        &["shorter than a Blosc header"],
    );
}

#[test]
fn hostile_shards_are_errors() {
    let dir = fixtures();
    let d = dir.path();
    let shard = d.join("s.zarr/c/0/1");
    let good = std::fs::read(&shard).unwrap();
    // Index at the end: 4 inner chunks x 16 bytes + crc32c. An entry pointing past the shard,
    // with a checksum that matches (so only the bounds check can catch it).
    let n = good.len();
    let mut bad = good.clone();
    let at = n - 68;
    bad[at..at + 8].copy_from_slice(&(u64::MAX - 5).to_le_bytes());
    let crc = crc32c(&bad[at..n - 4]);
    bad[n - 4..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&shard, &bad).unwrap();
    has(
        &chunk_err(&d.join("s.zarr"), &[0, 2]),
        &[
            "s.zarr",
            "inner chunk [0, 2] of shard [0, 1]",
            "c/0/1",
            "entry 0 of its index",
            "outside the shard",
        ],
    );
    // A whole-array read meets the same shard.
    has(
        &read_err(&d.join("s.zarr"), &[0..8, 0..8]),
        &["s.zarr", "outside the shard"],
    );
    // Truncated shard (shorter than its index).
    std::fs::write(&shard, &good[..30]).unwrap();
    has(
        &chunk_err(&d.join("s.zarr"), &[0, 2]),
        &["s.zarr", "inner chunk [0, 2]"],
    );
    // A damaged index (checksum no longer matches).
    let mut flipped = good.clone();
    flipped[n - 20] ^= 0xFF;
    std::fs::write(&shard, &flipped).unwrap();
    has(
        &chunk_err(&d.join("s.zarr"), &[0, 2]),
        &["s.zarr", "inner chunk [0, 2]", "checksum", "damaged"],
    );
    // A truncated inner chunk: its entry (checksum made to match) names 3 bytes fewer than its
    // zstd frame; the other inner chunks of the shard still read.
    let mut cut = good.clone();
    let size = u64::from_le_bytes(cut[at + 8..at + 16].try_into().unwrap());
    cut[at + 8..at + 16].copy_from_slice(&(size - 3).to_le_bytes());
    let crc = crc32c(&cut[at..n - 4]);
    cut[n - 4..].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&shard, &cut).unwrap();
    has(
        &chunk_err(&d.join("s.zarr"), &[0, 2]),
        &[
            "s.zarr",
            "inner chunk [0, 2] of shard [0, 1]",
            "c/0/1",
            "zstd",
            "truncated",
        ],
    );
    let src = ZarrStore::open_dir(&d.join("s.zarr"))
        .unwrap()
        .array("/")
        .unwrap();
    let v = src.read_chunk(&[1, 3]).unwrap().to_f64();
    assert_eq!(
        v.iter().copied().collect::<Vec<_>>(),
        vec![22.0, 23.0, 30.0, 31.0]
    );
    // The other shards still read.
    let src = ZarrStore::open_dir(&d.join("s.zarr"))
        .unwrap()
        .array("/")
        .unwrap();
    let v = src.read_region(&[4..6, 0..2]).unwrap().to_f64();
    assert_eq!(
        v.iter().copied().collect::<Vec<_>>(),
        vec![32.0, 33.0, 40.0, 41.0]
    );
}

#[test]
fn a_named_pipe_is_refused_not_waited_on() {
    let dir = fixtures();
    let d = dir.path();
    let c = d.join("z.zarr/c/0/0");
    std::fs::remove_file(&c).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&c)
        .status()
        .unwrap();
    assert!(status.success());
    has(
        &chunk_err(&d.join("z.zarr"), &[0, 0]),
        &["z.zarr", "not a regular file"],
    );
    let meta = d.join("b.zarr/zarr.json");
    std::fs::remove_file(&meta).unwrap();
    std::process::Command::new("mkfifo")
        .arg(&meta)
        .status()
        .unwrap();
    has(
        &open_err(&d.join("b.zarr")),
        &["b.zarr", "zarr.json", "not a regular file"],
    );
}

/// CRC-32C (Castagnoli), bit by bit: the checksum of a shard index.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
