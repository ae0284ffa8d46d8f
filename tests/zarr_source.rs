//! Zarr arrays written by zarr-python (v3 and v2, sharded or not, zstd/blosc/gzip/crc32c,
//! transpose, fill values, chunks never written, several dtypes, C and F order) read by
//! vastarray equal to what zarr-python reads back (saved by numpy as `.npy`).
#![cfg(feature = "zarr")]

use crate::common;

use common::run_python;
use std::path::Path;
use vastarray::io::zarr::{ZarrNode, ZarrStore};
use vastarray::NpySource;
use vastarray::{ChunkSource, NdData};

/// Writes each fixture `NAME.zarr` into argv[1] and what zarr-python reads back as `NAME.npy`.
const WRITE: &str = r#"
import sys, numpy as np, zarr
from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec, Crc32cCodec, TransposeCodec, BytesCodec, ShardingCodec
d = sys.argv[1]
def done(name):
    a = zarr.open_array(f"{d}/{name}.zarr", mode="r")[...]
    np.save(f"{d}/{name}.npy", a.astype(a.dtype.newbyteorder("=")))

a = zarr.create_array(f"{d}/f32.zarr", shape=(37, 29), chunks=(8, 7), dtype="f4", fill_value=-1.5)
a[3:20, 0:15] = np.arange(17 * 15, dtype="f4").reshape(17, 15) * 0.5 - 30   # other chunks never written
done("f32")

s = zarr.create_array(f"{d}/i16_sharded.zarr", shape=(40, 36), chunks=(4, 6), shards=(8, 12), dtype="i2", fill_value=7)
s[0:13, 0:20] = (np.arange(13 * 20).reshape(13, 20) - 100).astype("i2")   # some shards, some inner chunks missing
s[30:40, 30:36] = -5
done("i16_sharded")

b = zarr.create_array(f"{d}/u8_blosc.zarr", shape=(50,), chunks=(16,), dtype="u1",
                      compressors=BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"))
b[:] = (np.arange(50) * 7 % 256).astype("u1")
done("u8_blosc")

g = zarr.create_array(f"{d}/i64_gzip.zarr", shape=(6, 7, 8), chunks=(4, 4, 5), dtype="i8", compressors=GzipCodec(level=6), fill_value=-1)
g[:, :, :6] = np.arange(6 * 7 * 6).reshape(6, 7, 6) * 1000003 - 2**40
done("i64_gzip")

t = zarr.create_array(f"{d}/bool.zarr", shape=(9, 11), chunks=(4, 4), dtype="bool", fill_value=True)
t[:5, :] = (np.arange(5 * 11).reshape(5, 11) % 3) == 0
done("bool")

c = zarr.create_array(f"{d}/f64_transpose.zarr", shape=(10, 13), chunks=(4, 5), dtype="f8",
                      filters=[TransposeCodec(order=(1, 0))], compressors=[ZstdCodec(level=3), Crc32cCodec()])
c[:] = np.sin(np.arange(130).reshape(10, 13))
done("f64_transpose")

u = zarr.create_array(f"{d}/u64.zarr", shape=(20,), chunks=(6,), dtype="u8", fill_value=2**64 - 1)
u[:10] = np.arange(10, dtype="u8") * 2**60
done("u64")

x = zarr.create_array(f"{d}/f32_shard_blosc_start.zarr", shape=(30, 30), dtype="f4", fill_value=np.nan,
                      serializer=ShardingCodec(chunk_shape=(5, 5), codecs=[BytesCodec(), BloscCodec(cname="zstd")], index_location="start"),
                      chunks=(10, 15), compressors=None)
x[2:27, 1:22] = np.arange(25 * 21, dtype="f4").reshape(25, 21) / 7
done("f32_shard_blosc_start")

# Sharded arrays whose inner chunks vastarray reads itself (bytes [+ zstd | gzip], index at the
# end or the start, with or without its crc32c), inner chunks and shards never written, edge
# shards; and two that stay on zarrs (big-endian inner bytes, a crc32c in the inner chain).
p = zarr.create_array(f"{d}/u16_shard_gzip_start.zarr", shape=(20, 23), dtype="u2", fill_value=9,
                      serializer=ShardingCodec(chunk_shape=(3, 5), codecs=[BytesCodec(), GzipCodec(level=4)],
                                               index_codecs=[BytesCodec()], index_location="start"),
                      chunks=(6, 10), compressors=None)
p[1:17, 2:21] = (np.arange(16 * 19).reshape(16, 19) * 211 % 65536).astype("u2")
p[0:3, 0:5] = 9   # an inner chunk of fill values: zarr-python leaves it unwritten
done("u16_shard_gzip_start")

q = zarr.create_array(f"{d}/f64_shard_zstd.zarr", shape=(10, 9, 7), chunks=(2, 3, 7), shards=(4, 6, 7), dtype="f8",
                      fill_value=np.nan)
q[0:7, 3:9, :] = np.tan(np.arange(7 * 6 * 7).reshape(7, 6, 7) / 10)
done("f64_shard_zstd")

r = zarr.create_array(f"{d}/i8_shard_raw.zarr", shape=(50,), dtype="i1", fill_value=-3,
                      serializer=ShardingCodec(chunk_shape=(4,), codecs=[BytesCodec()]), chunks=(16,), compressors=None)
r[5:37] = np.arange(-16, 16, dtype="i1")
done("i8_shard_raw")

e = zarr.create_array(f"{d}/i32_shard_big.zarr", shape=(12, 12), dtype="i4", fill_value=1,
                      serializer=ShardingCodec(chunk_shape=(3, 3), codecs=[BytesCodec(endian="big"), ZstdCodec()]),
                      chunks=(6, 6), compressors=None)
e[2:12, 0:7] = np.arange(70, dtype="i4").reshape(10, 7) - 2**30
done("i32_shard_big")

k = zarr.create_array(f"{d}/u32_shard_crc.zarr", shape=(9, 8), dtype="u4", fill_value=4,
                      serializer=ShardingCodec(chunk_shape=(3, 4), codecs=[BytesCodec(), ZstdCodec(), Crc32cCodec()]),
                      chunks=(9, 8), compressors=None)
k[:5, :] = np.arange(40, dtype="u4").reshape(5, 8) * 3**15
done("u32_shard_crc")

v = zarr.create_array(f"{d}/v2_u16_F.zarr", shape=(11, 9), chunks=(4, 4), dtype="<u2", zarr_format=2, order="F", fill_value=3)
v[2:9, 1:7] = np.arange(42, dtype="u2").reshape(7, 6) * 11
done("v2_u16_F")

import numcodecs
w = zarr.create_array(f"{d}/v2_f8_be_blosc.zarr", shape=(7, 10), chunks=(3, 4), dtype=">f8", zarr_format=2,
                      compressors=numcodecs.Blosc(cname="lz4"), fill_value=0.25)
w[1:7, :] = np.cos(np.arange(60).reshape(6, 10))
done("v2_f8_be_blosc")

y = zarr.create_array(f"{d}/v2_i4_gzip.zarr", shape=(15, 5), chunks=(4, 5), dtype="<i4", zarr_format=2,
                      compressors=numcodecs.GZip(level=5), fill_value=-9, order="C")
y[:8] = np.arange(40, dtype="i4").reshape(8, 5) * -3
done("v2_i4_gzip")

z = zarr.create_array(f"{d}/v2_i1_blosc.zarr", shape=(33,), chunks=(10,), dtype="|i1", zarr_format=2,
                      compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE), fill_value=0)
z[5:30] = np.arange(-12, 13, dtype="i1")
done("v2_i1_blosc")

root = zarr.open_group(f"{d}/tree.zarr", mode="w", attributes={"title": "demo"})
sub = root.create_group("sub", attributes={"level": 1})
arr = sub.create_array("x", shape=(4, 3), chunks=(2, 2), dtype="f4", attributes={"units": "K"})
arr[:] = np.arange(12, dtype="f4").reshape(4, 3) + 0.5
root.create_array("top", shape=(5,), chunks=(5,), dtype="i2")[:] = np.arange(5, dtype="i2")
np.save(f"{d}/tree_x.npy", arr[...])
"#;

const NAMES: [&str; 16] = [
    "f32",
    "i16_sharded",
    "u16_shard_gzip_start",
    "f64_shard_zstd",
    "i8_shard_raw",
    "i32_shard_big",
    "u32_shard_crc",
    "u8_blosc",
    "i64_gzip",
    "bool",
    "f64_transpose",
    "u64",
    "f32_shard_blosc_start",
    "v2_u16_F",
    "v2_f8_be_blosc",
    "v2_i4_gzip",
];

fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run_python(WRITE, &[dir.path().to_str().unwrap()]);
    dir
}

fn reference(path: &Path) -> NdData {
    let src = NpySource::open(path).unwrap();
    let full: Vec<_> = src.shape().iter().map(|n| 0..*n).collect();
    src.read_region(&full).unwrap()
}

/// Equality that treats NaN as equal to NaN (fill values may be NaN).
fn same(a: &NdData, b: &NdData) -> bool {
    if a.dtype() != b.dtype() || a.shape() != b.shape() {
        return false;
    }
    if a.dtype().is_float() {
        let (x, y) = (a.to_f64(), b.to_f64());
        return x
            .iter()
            .zip(y.iter())
            .all(|(p, q)| p == q || (p.is_nan() && q.is_nan()));
    }
    a == b
}

#[test]
fn zarr_python_arrays_read_equal() {
    let dir = fixtures();
    let d = dir.path();
    for name in NAMES.iter().copied().chain(["v2_i1_blosc"]) {
        let store = ZarrStore::open_dir(&d.join(format!("{name}.zarr"))).unwrap();
        let src = store.array("/").unwrap();
        let want = reference(&d.join(format!("{name}.npy")));
        assert_eq!(src.shape(), want.shape(), "{name}");
        let full: Vec<_> = src.shape().iter().map(|n| 0..*n).collect();
        let got = src.read_region(&full).unwrap();
        assert!(same(&got, &want), "{name}: whole array differs");
        // Every chunk of the source's grid on its own (inner chunks of sharded arrays).
        let grid = src.grid();
        for idx in grid.chunks_in_box(&full) {
            let chunk = src.read_chunk(&idx).unwrap();
            let bx = grid.chunk_box(&idx);
            let mut part = NdData::zeros(want.dtype(), &grid.chunk_extent(&idx));
            vastarray::source::copy_overlap(&want, &full, &mut part, &bx).unwrap();
            assert!(same(&chunk, &part), "{name} chunk {idx:?}");
        }
        // A box across chunk (and shard) boundaries, through the lazy API.
        let a = vastarray::DynArray::from_source(src);
        let sel = a.select_str("1:-1:2, ...").unwrap().ndarray().unwrap();
        let arr = vastarray::DynArray::from_source(
            vastarray::MemorySource::from_data(want.clone(), want.shape()).unwrap(),
        );
        let want_sel = arr.select_str("1:-1:2, ...").unwrap().ndarray().unwrap();
        assert!(same(&sel, &want_sel), "{name}: strided selection differs");
    }
}

#[test]
fn sharded_arrays_expose_inner_chunks() {
    let dir = fixtures();
    let store = ZarrStore::open_dir(&dir.path().join("i16_sharded.zarr")).unwrap();
    let src = store.array("/").unwrap();
    assert_eq!(src.chunk_shape(), &[4, 6]);
    assert_eq!(src.stored_chunks(), &[8, 12]);
    assert_eq!(src.meta().codecs, vec!["sharding_indexed"]);
    let store = ZarrStore::open_dir(&dir.path().join("v2_u16_F.zarr")).unwrap();
    let src = store.array("/").unwrap();
    assert_eq!(src.meta().order, 'F');
    assert_eq!(src.chunk_shape(), &[4, 4]);
}

#[test]
fn groups_list_their_tree_and_attributes() {
    let dir = fixtures();
    let store = ZarrStore::open_dir(&dir.path().join("tree.zarr")).unwrap();
    let tree = store.tree(1000).unwrap();
    let paths: Vec<&str> = tree.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec!["/", "/sub", "/sub/x", "/top"]);
    match &tree[0].1 {
        ZarrNode::Group { attributes, .. } => assert_eq!(attributes["title"], "demo"),
        other => panic!("root is {other:?}"),
    }
    match &tree[2].1 {
        ZarrNode::Array(m) => {
            assert_eq!(m.attributes["units"], "K");
            assert_eq!(m.shape, vec![4, 3]);
        }
        other => panic!("/sub/x is {other:?}"),
    }
    let src = store.array("/sub/x").unwrap();
    let got = src.read_region(&[0..4, 0..3]).unwrap();
    assert!(same(&got, &reference(&dir.path().join("tree_x.npy"))));
    let e = store.array("/sub").err().unwrap().to_string();
    assert!(e.contains("group, not an array"), "{e}");
}

/// The sharded fixtures hold what the equality test must meet: an inner chunk never written
/// inside a shard that exists (an index entry of all ones), and a shard never written; the
/// index at the start of `u16_shard_gzip_start`, read here by hand.
#[test]
fn sharded_fixtures_hold_missing_inner_chunks_and_shards() {
    let dir = fixtures();
    let d = dir.path().join("u16_shard_gzip_start.zarr");
    let shard = std::fs::read(d.join("c/0/0")).unwrap();
    // 2 x 2 inner chunks of 3 x 5 per shard of 6 x 10; no crc32c: 64 bytes of index first.
    let entry = |k: usize| {
        let e = &shard[16 * k..16 * k + 16];
        (
            u64::from_le_bytes(e[..8].try_into().unwrap()),
            u64::from_le_bytes(e[8..].try_into().unwrap()),
        )
    };
    assert_eq!(
        entry(0),
        (u64::MAX, u64::MAX),
        "inner chunk (0, 0) is unwritten"
    );
    for k in 1..4 {
        let (off, size) = entry(k);
        assert!(off >= 64 && off + size <= shard.len() as u64, "entry {k}");
    }
    assert!(
        !d.join("c/3").exists(),
        "shards of rows 18..20 are unwritten"
    );
    // Read through the source: the unwritten inner chunk is the fill value, the next one data.
    let src = ZarrStore::open_dir(&d).unwrap().array("/").unwrap();
    let want = reference(&dir.path().join("u16_shard_gzip_start.npy"));
    assert_eq!(src.chunk_shape(), &[3, 5]);
    let fill = src.read_chunk(&[0, 0]).unwrap().to_f64();
    assert!(fill.iter().all(|v| *v == 9.0));
    let got = src.read_region(&[16..20, 18..23]).unwrap();
    let mut part = NdData::zeros(want.dtype(), &[4, 5]);
    vastarray::source::copy_overlap(&want, &[0..20, 0..23], &mut part, &[16..20, 18..23]).unwrap();
    assert_eq!(got, part);
}
