//! HDF5 datasets as sources: files written by h5py, values compared with numpy's.

#![cfg(feature = "hdf5")]
// One-axis regions are written `&[a..b]`, which is what `read_region` takes.
#![allow(clippy::single_range_in_vec_init)]

use crate::common;
use crate::hdf5_helpers;

use hdf5_helpers::Fixture;
use vastarray::io::hdf5::{ChunkIndexQuery, Hdf5Layout, Hdf5Options, Hdf5Source, PipelineFilter};
use vastarray::{ChunkSource, DType};

fn library_only() -> Hdf5Options {
    Hdf5Options {
        raw_reads: false,
        ..Hdf5Options::default()
    }
}

/// Every element type, chunked with partial edge chunks and in both byte orders, read
/// through the raw path, equals numpy's values; so does the library path.
#[test]
fn every_dtype_round_trips() {
    let fx = Fixture::make(
        r#"
rng = np.random.default_rng(1)
types = ['bool', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f4', 'f8', '>i2', '>i4', '>u8', '>f4', '>f8']
with h5py.File(os.path.join(OUT, 'types.h5'), 'w') as f:
    for t in types:
        dt = np.dtype(t)
        if dt.kind == 'b':
            a = rng.random((13, 7)) > 0.5
        elif dt.kind == 'f':
            a = (rng.standard_normal((13, 7)) * 1e3).astype(dt)
            a[0, 0] = np.nan
            a[1, 1] = -np.inf
        else:
            info = np.iinfo(dt)
            a = rng.integers(info.min, info.max, size=(13, 7), dtype=dt.newbyteorder('='), endpoint=True).astype(dt)
        key = t.replace('>', 'be_')
        f.create_dataset(key, data=a, chunks=(4, 3))
        f.create_dataset(key + '_contig', data=a)
        dump(key, a)
"#,
    );
    let file = fx.path("types.h5");
    for t in [
        "bool", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8", "be_i2", "be_i4",
        "be_u8", "be_f4", "be_f8",
    ] {
        let src = Hdf5Source::open(&file, &format!("/{t}")).unwrap();
        assert_eq!(src.chunk_shape(), &[4, 3]);
        fx.assert_source_equals(&src, t);
        let s = src.stats();
        assert_eq!(
            (s.raw_chunks, s.library_chunks),
            (12, 0),
            "{t}: every chunk read raw"
        );

        let lib = Hdf5Source::open_with(&file, &format!("/{t}"), &library_only()).unwrap();
        fx.assert_source_equals(&lib, t);
        assert_eq!(lib.stats().raw_chunks, 0);

        let contig = Hdf5Source::open(&file, &format!("/{t}_contig")).unwrap();
        assert_eq!(contig.info().layout, Hdf5Layout::Contiguous);
        fx.assert_source_equals(&contig, t);
        assert!(
            contig.stats().raw_chunks > 0,
            "{t}: contiguous read by pread"
        );
    }
}

/// Deflate, shuffle and Fletcher32 in every combination, with partial edge chunks, decode
/// outside the library (stats prove it) to numpy's values and to what the library reads.
#[test]
fn filter_combinations_decode_raw() {
    let fx = Fixture::make(
        r#"
rng = np.random.default_rng(2)
a = np.round(rng.standard_normal((37, 23, 5)) * 100).astype('f4')
b = rng.integers(-1000, 1000, size=(37, 23, 5)).astype('>i8')
dump('a', a)
dump('b', b)
combos = {
    'none': {},
    'gzip': dict(compression='gzip'),
    'gzip9': dict(compression='gzip', compression_opts=9),
    'shuffle': dict(shuffle=True),
    'fletcher': dict(fletcher32=True),
    'gzip_shuffle': dict(compression='gzip', shuffle=True),
    'gzip_fletcher': dict(compression='gzip', fletcher32=True),
    'all': dict(compression='gzip', shuffle=True, fletcher32=True),
}
with h5py.File(os.path.join(OUT, 'filters.h5'), 'w') as f:
    for name, kw in combos.items():
        f.create_dataset('a_' + name, data=a, chunks=(8, 5, 5), **kw)
        f.create_dataset('b_' + name, data=b, chunks=(10, 10, 2), **kw)
"#,
    );
    let file = fx.path("filters.h5");
    for combo in [
        "none",
        "gzip",
        "gzip9",
        "shuffle",
        "fletcher",
        "gzip_shuffle",
        "gzip_fletcher",
        "all",
    ] {
        for key in ["a", "b"] {
            let name = format!("/{key}_{combo}");
            let src = Hdf5Source::open(&file, &name).unwrap();
            let n = src.grid().num_chunks();
            fx.assert_source_equals(&src, key);
            let s = src.stats();
            assert_eq!(
                (s.raw_chunks, s.library_chunks, s.fill_chunks),
                (n, 0, 0),
                "{name}: all raw"
            );
            assert_eq!(s.index_loads, 1, "{name}: chunk index read once");
            if combo == "all" {
                assert_eq!(
                    src.info().filters,
                    vec![
                        PipelineFilter::Shuffle,
                        PipelineFilter::Deflate(4),
                        PipelineFilter::Fletcher32
                    ]
                );
            }
            // Raw and library reads agree chunk by chunk.
            let lib = Hdf5Source::open_with(&file, &name, &library_only()).unwrap();
            assert_eq!(
                hdf5_helpers::all_chunks(&src),
                hdf5_helpers::all_chunks(&lib),
                "{name}"
            );
            assert_eq!(lib.stats().library_chunks, n);
        }
    }
}

/// The chunk index is not read when a source is opened, only on the first chunk read.
#[test]
fn chunk_index_is_read_lazily() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'lazy.h5'), 'w') as f:
    f.create_dataset('x', data=np.arange(100, dtype='u2').reshape(10, 10), chunks=(3, 3), compression='gzip')
"#,
    );
    let src = Hdf5Source::open(fx.path("lazy.h5"), "/x").unwrap();
    assert_eq!(src.stats().index_loads, 0);
    src.read_chunk(&[1, 1]).unwrap();
    src.read_chunk(&[3, 3]).unwrap();
    assert_eq!(src.stats().index_loads, 1);
}

/// Chunks never written read as the dataset's fill value (user-defined or the default 0)
/// without I/O, whether the stored chunks are listed up front or looked up one by one; a
/// region read does not even visit unwritten chunks when the chunks are listed.
#[test]
fn unwritten_chunks_read_as_fill_value() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'fill.h5'), 'w') as f:
    d = f.create_dataset('user', shape=(10, 12), dtype='i4', chunks=(4, 5), fillvalue=-7, compression='gzip')
    d[0:4, 5:10] = np.arange(20).reshape(4, 5)
    d[8:10, 10:12] = 3
    dump('user', d[...])
    e = f.create_dataset('default', shape=(9,), dtype='f8', chunks=(2,))
    e[4:6] = 1.5
    dump('default', e[...])
"#,
    );
    let file = fx.path("fill.h5");
    for query in [
        ChunkIndexQuery::Auto,
        ChunkIndexQuery::ByIndex,
        ChunkIndexQuery::ByCoord,
    ] {
        let opts = Hdf5Options {
            chunk_index_query: query,
            ..Hdf5Options::default()
        };
        let listed = query != ChunkIndexQuery::ByCoord;
        let src = Hdf5Source::open_with(&file, "/user", &opts).unwrap();
        fx.assert_source_equals(&src, "user");
        let s = src.stats();
        assert_eq!(s.raw_chunks, 2, "{query:?}");
        // Listed: the region read visits the 2 stored chunks only; looked up: all 9.
        assert_eq!(s.fill_chunks, if listed { 0 } else { 7 }, "{query:?}");
        assert_eq!(s.lookups, if listed { 0 } else { 9 }, "{query:?}");
        // Chunk by chunk: 7 fill chunks, equal to the library's reads.
        let lib = Hdf5Source::open_with(&file, "/user", &library_only()).unwrap();
        assert_eq!(
            hdf5_helpers::all_chunks(&src),
            hdf5_helpers::all_chunks(&lib)
        );
        assert_eq!(src.stats().fill_chunks - s.fill_chunks, 7, "{query:?}");
        let src = Hdf5Source::open_with(&file, "/default", &opts).unwrap();
        fx.assert_source_equals(&src, "default");
        assert_eq!(src.stats().raw_chunks, 1, "{query:?}");
    }
}

/// Datasets declaring shapes far beyond memory, almost all unwritten (h5py writes them in a
/// few kilobytes): `(2**40, 2**20)` float32 in chunks of (1024, 1024), `(2**50,)` uint8 in
/// chunks of 1, and one with more stored chunks than are listed up front (each chunk looked up
/// when read). `VASTARRAY_HUGE_H5` passes the file to the child process.
fn huge_script() -> String {
    format!(
        r#"
STORED = {}
"#,
        many_stored()
    ) + r#"
with h5py.File(os.path.join(OUT, 'huge.h5'), 'w') as f:
    d = f.create_dataset('big2d', shape=(2**40, 2**20), dtype='f4', chunks=(1024, 1024), fillvalue=-1.5, compression='gzip', shuffle=True)
    d[5:7, 1000:1030] = np.arange(60, dtype='f4').reshape(2, 30)
    d[2**40 - 3:, 2**20 - 2:] = 7
    e = f.create_dataset('bytes', shape=(2**50,), dtype='u1', chunks=(1,))
    e[10] = 3
    e[2**50 - 1] = 9
    g = f.create_dataset('many', shape=(2**40,), dtype='u2', chunks=(4,), compression='gzip', shuffle=True, fillvalue=11)
    g[:4 * STORED] = np.arange(4 * STORED, dtype='u2')
"#
}

/// Stored chunks of `/many` in the huge file: more than are listed up front.
fn many_stored() -> usize {
    vastarray::io::hdf5::LIST_LIMIT + 100
}

/// Opens the huge datasets, reads small regions and chunks, and checks them against values
/// computed here by hand. Returns nothing; panics on a wrong value.
fn check_huge_file(path: &std::path::Path) {
    use ndarray::{ArrayD, IxDyn};
    use vastarray::NdData;
    let big = Hdf5Source::open(path, "/big2d").unwrap();
    assert_eq!(big.shape(), &[1 << 40, 1 << 20]);
    assert_eq!(big.chunk_shape(), &[1024, 1024]);
    let got = big.read_region(&[0..8, 990..1040]).unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[8, 50]), |ix| {
        let (i, j) = (ix[0], ix[1] + 990);
        if (5..7).contains(&i) && (1000..1030).contains(&j) {
            ((i - 5) * 30 + (j - 1000)) as f32
        } else {
            -1.5
        }
    });
    assert_eq!(got, NdData::F32(want));
    let n0 = 1usize << 40;
    let n1 = 1usize << 20;
    let got = big.read_region(&[n0 - 4..n0, n1 - 3..n1]).unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[4, 3]), |ix| {
        if ix[0] >= 1 && ix[1] >= 1 {
            7.0f32
        } else {
            -1.5
        }
    });
    assert_eq!(got, NdData::F32(want));
    // An unwritten chunk in the middle, read whole.
    let mid = big.read_chunk(&[1 << 29, 511]).unwrap();
    assert_eq!(
        mid,
        NdData::F32(ArrayD::from_elem(IxDyn(&[1024, 1024]), -1.5))
    );
    let s = big.stats();
    assert_eq!((s.raw_chunks, s.fill_chunks, s.lookups), (3, 1, 0), "{s:?}");

    let bytes = Hdf5Source::open(path, "/bytes").unwrap();
    assert_eq!(bytes.shape(), &[1 << 50]);
    let got = bytes.read_region(&[0..20]).unwrap();
    let mut want = vec![0u8; 20];
    want[10] = 3;
    assert_eq!(
        got,
        NdData::U8(ArrayD::from_shape_vec(IxDyn(&[20]), want).unwrap())
    );
    let end = 1usize << 50;
    let got = bytes.read_region(&[end - 5..end]).unwrap();
    assert_eq!(
        got,
        NdData::U8(ArrayD::from_shape_vec(IxDyn(&[5]), vec![0, 0, 0, 0, 9]).unwrap())
    );
    assert_eq!(bytes.stats().raw_chunks, 2);

    // More stored chunks than are listed, so every chunk read is a lookup.
    let many = Hdf5Source::open(path, "/many").unwrap();
    let end = 4 * many_stored();
    let got = many.read_region(&[end - 10..end + 10]).unwrap();
    let want: Vec<u16> = (end - 10..end + 10)
        .map(|i| if i < end { i as u16 } else { 11 })
        .collect();
    assert_eq!(
        got,
        NdData::U16(ArrayD::from_shape_vec(IxDyn(&[20]), want).unwrap())
    );
    let s = many.stats();
    assert_eq!((s.raw_chunks, s.fill_chunks, s.lookups), (3, 3, 6), "{s:?}");
    let far = many.read_chunk(&[(1 << 38) - 1]).unwrap();
    assert_eq!(far, NdData::U16(ArrayD::from_elem(IxDyn(&[4]), 11)));
}

/// Huge declared shapes open at once and small regions read right (values by hand); a
/// dataset with more stored chunks than are listed reads the same through lookups as through
/// an explicit listing and the library.
#[test]
fn huge_declared_shapes_read_small_regions() {
    let fx = Fixture::make(&huge_script());
    let path = fx.path("huge.h5");
    check_huge_file(&path);
    let listing = Hdf5Options {
        chunk_index_query: ChunkIndexQuery::ByIndex,
        ..Hdf5Options::default()
    };
    let listed = Hdf5Source::open_with(&path, "/many", &listing).unwrap();
    let looked_up = Hdf5Source::open(&path, "/many").unwrap();
    let lib = Hdf5Source::open_with(&path, "/many", &library_only()).unwrap();
    let all = 0..4 * many_stored() + 100;
    let a = listed.read_region(std::slice::from_ref(&all)).unwrap();
    assert_eq!(
        a,
        looked_up.read_region(std::slice::from_ref(&all)).unwrap()
    );
    assert_eq!(a, lib.read_region(&[all]).unwrap());
    assert_eq!(listed.stats().lookups, 0);
    assert_eq!(looked_up.stats().lookups, many_stored() + 25);
}

/// Run by `huge_declared_shapes_stay_in_bounded_memory` in a child process.
#[test]
#[ignore]
fn child_reads_huge_declared_shapes() {
    let path = std::env::var("VASTARRAY_HUGE_H5").expect("VASTARRAY_HUGE_H5");
    check_huge_file(std::path::Path::new(&path));
    println!("CHILD OK");
    common::print_own_peak_rss();
}

/// The same reads in a child process whose peak resident memory is measured (by the child
/// itself): a per-chunk table of these shapes would need terabytes; the reads need a few
/// chunks.
#[test]
fn huge_declared_shapes_stay_in_bounded_memory() {
    let fx = Fixture::make(&huge_script());
    let output = common::child_test(module_path!(), "child_reads_huge_declared_shapes")
        .env("VASTARRAY_HUGE_H5", fx.path("huge.h5"))
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success() && out.contains("CHILD OK"),
        "child failed:\n{out}\n{err}"
    );
    let peak_mib = common::printed_peak_rss_kib(&out) / 1024;
    eprintln!("child peak RSS {peak_mib} MiB");
    // A per-chunk table of these shapes would need terabytes; the reads need a few chunks,
    // plus what the allocator keeps per busy thread (more arenas on a loaded machine).
    assert!(peak_mib < 256, "peak RSS {peak_mib} MiB");
}

/// A file with a user block: chunk and contiguous addresses are offset by it.
#[test]
fn user_block_offsets_are_honoured() {
    let fx = Fixture::make(
        r#"
a = np.arange(600, dtype='f4').reshape(20, 30) * 0.5
with h5py.File(os.path.join(OUT, 'ub.h5'), 'w', userblock_size=1024) as f:
    f.create_dataset('c', data=a, chunks=(7, 8), compression='gzip', shuffle=True)
    f.create_dataset('plain', data=a, chunks=(7, 8))
    f.create_dataset('contig', data=a)
dump('a', a)
"#,
    );
    let file = fx.path("ub.h5");
    for query in [ChunkIndexQuery::ByIndex, ChunkIndexQuery::ByCoord] {
        let opts = Hdf5Options {
            chunk_index_query: query,
            ..Hdf5Options::default()
        };
        for ds in ["/c", "/plain", "/contig"] {
            let src = Hdf5Source::open_with(&file, ds, &opts).unwrap();
            fx.assert_source_equals(&src, "a");
            assert_eq!(src.stats().library_chunks, 0);
        }
    }
}

/// A chunk stored with a filter skipped (its filter-mask bit set) decodes correctly.
#[test]
fn filter_mask_skips_filters() {
    let fx = Fixture::make(
        r#"
import zlib
a = np.arange(64, dtype='<i4').reshape(8, 8)
with h5py.File(os.path.join(OUT, 'mask.h5'), 'w') as f:
    d = f.create_dataset('x', shape=(8, 8), dtype='<i4', chunks=(4, 8), compression='gzip', shuffle=True)
    d[0:4] = a[0:4]
    # Chunk 1 stored shuffled but not deflated: filter 1 (deflate) skipped.
    raw = np.ascontiguousarray(a[4:8]).tobytes()
    shuffled = np.frombuffer(raw, dtype='u1').reshape(-1, 4).T.copy().tobytes()
    d.id.write_direct_chunk((4, 0), shuffled, filter_mask=0b10)
dump('a', a)
"#,
    );
    let src = Hdf5Source::open(fx.path("mask.h5"), "/x").unwrap();
    fx.assert_source_equals(&src, "a");
    assert_eq!(src.stats().raw_chunks, 2);
}

/// Reading chunks in parallel (read_chunks on a 2-thread pool) gives what the library gives.
#[test]
fn parallel_raw_reads_equal_library_reads() {
    let fx = Fixture::make(
        r#"
rng = np.random.default_rng(3)
a = rng.standard_normal((64, 50, 30)).astype('f8')
with h5py.File(os.path.join(OUT, 'par.h5'), 'w') as f:
    f.create_dataset('x', data=a, chunks=(4, 25, 30), compression='gzip', shuffle=True, fletcher32=True)
dump('a', a)
"#,
    );
    let file = fx.path("par.h5");
    let src = Hdf5Source::open(&file, "/x").unwrap();
    let lib = Hdf5Source::open_with(&file, "/x", &library_only()).unwrap();
    let all = src.grid().all_chunks();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let par = pool.install(|| src.read_chunks(&all)).unwrap();
    let seq = lib.read_chunks(&all).unwrap();
    assert_eq!(par, seq);
    assert_eq!(src.stats().raw_chunks, all.len());
    assert_eq!(lib.stats().library_chunks, all.len());
    fx.assert_source_equals(&src, "a");
}

/// Compact and scalar datasets go through the library; results still equal numpy's.
#[test]
fn compact_and_scalar_datasets() {
    let fx = Fixture::make(
        r#"
a = np.arange(12, dtype='u2').reshape(3, 4)
with h5py.File(os.path.join(OUT, 'small.h5'), 'w') as f:
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple((3, 4))
    dsid = h5py.h5d.create(f.id, b'compact', h5py.h5t.NATIVE_UINT16, space, dcpl=dcpl)
    dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, a)
    f.create_dataset('scalar', data=np.float64(2.5))
dump('a', a)
dump('s', np.float64(2.5))
"#,
    );
    let file = fx.path("small.h5");
    let c = Hdf5Source::open(&file, "/compact").unwrap();
    assert_eq!(c.info().layout, Hdf5Layout::Compact);
    fx.assert_source_equals(&c, "a");
    let s = Hdf5Source::open(&file, "/scalar").unwrap();
    assert_eq!(s.shape(), &[] as &[usize]);
    fx.assert_equals(&s.read_chunk(&[]).unwrap(), "s");
}

/// An unchunked dataset gets a grid of contiguous slabs of about the requested size.
#[test]
fn contiguous_dataset_gets_a_slab_grid() {
    let fx = Fixture::make(
        r#"
a = np.arange(300 * 1000, dtype='f8').reshape(300, 1000)
with h5py.File(os.path.join(OUT, 'contig.h5'), 'w') as f:
    f.create_dataset('x', data=a)
    f.create_dataset('never', shape=(50, 10), dtype='i2', fillvalue=4)
dump('a', a)
dump('never', np.full((50, 10), 4, dtype='i2'))
"#,
    );
    let file = fx.path("contig.h5");
    let opts = Hdf5Options {
        contiguous_chunk_bytes: 400_000,
        ..Hdf5Options::default()
    };
    let src = Hdf5Source::open_with(&file, "/x", &opts).unwrap();
    assert_eq!(src.chunk_shape(), &[50, 1000]);
    fx.assert_source_equals(&src, "a");
    assert_eq!(src.stats().raw_chunks, 6);
    assert_eq!(src.dtype(), DType::F64);
    // Storage never allocated: the library delivers the fill value.
    let never = Hdf5Source::open(&file, "/never").unwrap();
    fx.assert_source_equals(&never, "never");
}
