//! HDF5 datasets as sources: files written by h5py, values compared with numpy's.

mod common;
mod hdf5_helpers;

use hdf5_helpers::Fixture;
use vastarray::source::hdf5::{
    ChunkIndexQuery, Hdf5Layout, Hdf5Options, Hdf5Source, PipelineFilter,
};
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
/// without I/O; both index queries find the same chunks.
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
        let src = Hdf5Source::open_with(&file, "/user", &opts).unwrap();
        fx.assert_source_equals(&src, "user");
        let s = src.stats();
        assert_eq!((s.raw_chunks, s.fill_chunks), (2, 7), "{query:?}");
        let src = Hdf5Source::open_with(&file, "/default", &opts).unwrap();
        fx.assert_source_equals(&src, "default");
        assert_eq!(src.stats().fill_chunks, 4);
    }
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
