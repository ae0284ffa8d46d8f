//! Storing into HDF5: files open in h5py with equal values; buffers cover whole chunks, each
//! chunk written once; a failed store leaves nothing that looks complete.

#![cfg(feature = "hdf5")]

use crate::common;
use crate::hdf5_helpers;

use common::Recorder;
use ndarray::Dimension as _;
use std::path::Path;
use vastarray::io::hdf5::{store_hdf5, Hdf5StoreOptions, StoreMode, COMPLETE_ATTR};
use vastarray::io::hdf5::{Hdf5Options, Hdf5Source};
use vastarray::{ChunkGrid, ChunkSource, DType, MemorySource, NdData};

/// Compares the dataset h5py reads with the raw little-endian values in `raw`, checks the
/// completion mark and prints chunks and filters.
const H5PY_CHECK: &str = r#"
import sys, numpy as np, h5py
path, name, raw, dtype = sys.argv[1:5]
with h5py.File(path, 'r') as f:
    d = f[name]
    want = np.frombuffer(open(raw, 'rb').read(), dtype=np.dtype(dtype).newbyteorder('<') if dtype != 'bool' else 'u1')
    want = want.astype(bool) if dtype == 'bool' else want
    want = want.reshape(d.shape)
    got = d[...]
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    assert np.array_equal(got, want, equal_nan=(got.dtype.kind == 'f')), 'values differ'
    assert int(d.attrs['vastarray_complete']) == 1
    print(d.chunks, d.compression, d.shuffle, d.fletcher32, d.id.get_num_chunks() if d.chunks else 0)
"#;

fn h5py_check(path: &Path, name: &str, data: &NdData) -> String {
    let raw = path.with_extension("raw");
    std::fs::write(&raw, hdf5_helpers::le_bytes(data)).unwrap();
    let out = common::run_python(
        H5PY_CHECK,
        &[
            path.to_str().unwrap(),
            name,
            raw.to_str().unwrap(),
            data.dtype().name(),
        ],
    );
    out.trim().to_owned()
}

/// Deterministic test data of any type, with NaN and infinities for floats.
fn sample(dtype: DType, shape: &[usize]) -> NdData {
    let n: usize = shape.iter().product();
    let vals = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(shape), |i| {
        let k = i.slice().iter().fold(0usize, |acc, &x| acc * 131 + x);
        ((k * 2654435761) % 100_003) as f64 - 50_000.0 + 0.25
    });
    let mut data = NdData::F64(vals).cast(dtype);
    if let NdData::F32(a) = &mut data {
        a.as_slice_mut().unwrap()[n / 2] = f32::NAN;
        a.as_slice_mut().unwrap()[n / 3] = f32::INFINITY;
    }
    data
}

#[test]
fn every_dtype_round_trips_through_h5py() {
    let dir = tempfile::tempdir().unwrap();
    for (i, dtype) in DType::ALL.into_iter().enumerate() {
        let data = sample(dtype, &[23, 17]);
        let src = MemorySource::from_data(data.clone(), &[5, 5]).unwrap();
        let path = dir.path().join(format!("t{i}.h5"));
        let opts = Hdf5StoreOptions {
            chunks: Some(vec![6, 8]),
            deflate: Some(4),
            shuffle: true,
            fletcher32: i % 2 == 0,
            buffer_bytes: 1000,
            ..Hdf5StoreOptions::default()
        };
        let report = store_hdf5(&src, &path, "/g/h/data", &opts).unwrap();
        assert!(report.direct_chunk_writes);
        assert_eq!(report.chunk_writes, 4 * 3);
        let out = h5py_check(&path, "/g/h/data", &data);
        assert!(out.starts_with("(6, 8) gzip True"), "{dtype}: {out}");
        // And back through vastarray's reader.
        let back = Hdf5Source::open(&path, "/g/h/data").unwrap();
        let got = back.read_region(&[0..23, 0..17]).unwrap();
        assert_eq!(
            hdf5_helpers::le_bytes(&got),
            hdf5_helpers::le_bytes(&data),
            "{dtype}"
        );
    }
}

/// The library write path, the unchunked path and scalar datasets give the same files.
#[test]
fn library_path_contiguous_and_scalar() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(DType::I32, &[40, 30, 3]);
    let src = MemorySource::from_data(data.clone(), &[7, 30, 3]).unwrap();
    let lib = Hdf5StoreOptions {
        chunks: Some(vec![8, 8, 3]),
        deflate: Some(1),
        direct_chunk_writes: false,
        buffer_bytes: 10_000,
        ..Hdf5StoreOptions::default()
    };
    let p = dir.path().join("lib.h5");
    let report = store_hdf5(&src, &p, "/x", &lib).unwrap();
    assert!(!report.direct_chunk_writes);
    assert_eq!(report.chunks_written_twice, 0);
    assert_eq!(h5py_check(&p, "/x", &data), "(8, 8, 3) gzip False False 20");

    let scalar = MemorySource::from_data(NdData::F64(ndarray::arr0(2.5).into_dyn()), &[]).unwrap();
    let p = dir.path().join("scalar.h5");
    store_hdf5(&scalar, &p, "/s", &Hdf5StoreOptions::default()).unwrap();
    assert_eq!(
        h5py_check(&p, "/s", &NdData::F64(ndarray::arr0(2.5).into_dyn())),
        "None None False False 0"
    );
}

fn recorder(fail_on: Option<usize>) -> (Recorder, NdData) {
    let data = sample(DType::F32, &[50, 33, 10]);
    (Recorder::new(data.clone(), fail_on), data)
}

/// Buffers are computed one at a time, each a union of whole target chunks within the byte
/// limit, and together they cover every chunk exactly once; HDF5 holds every chunk.
#[test]
fn buffers_cover_each_chunk_once() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, data) = recorder(None);
    let chunks = vec![4, 10, 10];
    let limit = 4 * 10 * 10 * 4 * 3; // three chunks of f32
    let opts = Hdf5StoreOptions {
        chunks: Some(chunks.clone()),
        deflate: Some(3),
        buffer_bytes: limit,
        ..Hdf5StoreOptions::default()
    };
    let p = dir.path().join("b.h5");
    let report = store_hdf5(&rec, &p, "/d", &opts).unwrap();
    let grid = ChunkGrid::new(vec![50, 33, 10], chunks.clone());
    let asked = rec.asked();
    assert_eq!(asked, report.buffers, "each buffer computed once, in order");
    let mut seen = vec![0usize; grid.num_chunks()];
    for region in &asked {
        let bytes = region.iter().map(|r| r.len()).product::<usize>() * 4;
        assert!(bytes <= limit, "{region:?} exceeds the limit");
        for ((r, c), n) in region.iter().zip(&chunks).zip(grid.shape()) {
            assert_eq!(r.start % c, 0, "{region:?} starts inside a chunk");
            assert!(
                r.end % c == 0 || r.end == *n,
                "{region:?} ends inside a chunk"
            );
        }
        for c in grid.chunks_in_box(region) {
            seen[grid.linear_index(&c)] += 1;
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "every chunk in exactly one buffer"
    );
    assert_eq!(report.chunk_writes, grid.num_chunks());
    assert_eq!(report.chunks_written_twice, 0);
    let out = h5py_check(&p, "/d", &data);
    assert!(
        out.ends_with(&format!(" {}", grid.num_chunks())),
        "h5py counts every chunk stored: {out}"
    );
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A store into a new file that fails half-way names the buffer and leaves no file at all.
#[test]
fn failed_store_leaves_no_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, _) = recorder(Some(3));
    let opts = Hdf5StoreOptions {
        chunks: Some(vec![5, 33, 10]),
        buffer_bytes: 1,
        ..Hdf5StoreOptions::default()
    };
    let p = dir.path().join("new.h5");
    let e = store_hdf5(&rec, &p, "/d", &opts).unwrap_err().to_string();
    eprintln!("{e}");
    assert!(
        e.contains("new.h5")
            && e.contains("buffer 3 of 10")
            && e.contains("10..15")
            && e.contains("injected failure"),
        "{e}"
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

/// Overwriting an existing file: on failure the old file is untouched; on success replaced.
#[test]
fn failed_overwrite_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.h5");
    let old = sample(DType::I16, &[10, 10]);
    store_hdf5(
        &MemorySource::from_data(old.clone(), &[10, 10]).unwrap(),
        &p,
        "/old",
        &Hdf5StoreOptions::default(),
    )
    .unwrap();
    let (rec, data) = recorder(Some(2));
    let opts = Hdf5StoreOptions {
        chunks: Some(vec![10, 33, 10]),
        buffer_bytes: 1,
        mode: StoreMode::Overwrite,
        ..Hdf5StoreOptions::default()
    };
    assert!(store_hdf5(&rec, &p, "/d", &opts).is_err());
    assert_eq!(leftovers(dir.path()), vec!["old.h5"]);
    assert_eq!(h5py_check(&p, "/old", &old), "(10, 10) None False False 1");

    let (rec, _) = recorder(None);
    store_hdf5(&rec, &p, "/d", &opts).unwrap();
    assert_eq!(
        h5py_check(&p, "/d", &data),
        "(10, 33, 10) None False False 5"
    );
    assert!(
        Hdf5Source::open(&p, "/old").is_err(),
        "the file was replaced"
    );
    // CreateNew refuses an existing file.
    let e = store_hdf5(&rec, &p, "/d", &Hdf5StoreOptions::default()).unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");
}

/// Updating an existing file: a failure leaves the dataset marked incomplete, which h5py sees
/// and vastarray's reader refuses; a later successful store marks it complete.
#[test]
fn failed_update_is_marked_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("up.h5");
    let keep = sample(DType::U8, &[4, 4]);
    store_hdf5(
        &MemorySource::from_data(keep.clone(), &[4, 4]).unwrap(),
        &p,
        "/keep",
        &Hdf5StoreOptions::default(),
    )
    .unwrap();
    let opts = Hdf5StoreOptions {
        chunks: Some(vec![5, 33, 10]),
        buffer_bytes: 1,
        mode: StoreMode::Update,
        ..Hdf5StoreOptions::default()
    };
    let (rec, data) = recorder(Some(4));
    let e = store_hdf5(&rec, &p, "/grp/d", &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("buffer 4 of 10"), "{e}");
    let mark = common::run_python(
        "import sys, h5py\nwith h5py.File(sys.argv[1], 'r') as f: print(int(f['/grp/d'].attrs[sys.argv[2]]))",
        &[p.to_str().unwrap(), COMPLETE_ATTR],
    );
    assert_eq!(mark.trim(), "0");
    let e = Hdf5Source::open(&p, "/grp/d").unwrap_err().to_string();
    assert!(e.contains("incomplete"), "{e}");
    assert!(Hdf5Source::open_with(
        &p,
        "/grp/d",
        &Hdf5Options {
            allow_incomplete: true,
            ..Hdf5Options::default()
        }
    )
    .is_ok());

    // Writing again into the existing, compatible dataset completes it; other data stays.
    let (rec, _) = recorder(None);
    store_hdf5(&rec, &p, "/grp/d", &opts).unwrap();
    assert_eq!(
        h5py_check(&p, "/grp/d", &data),
        "(5, 33, 10) None False False 10"
    );
    assert_eq!(h5py_check(&p, "/keep", &keep), "(4, 4) None False False 1");

    // An incompatible existing dataset is refused.
    let other = MemorySource::from_data(sample(DType::F64, &[3]), &[3]).unwrap();
    let e = store_hdf5(&other, &p, "/grp/d", &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("shape") && e.contains("float64"), "{e}");
}
