//! `store_b2nd`: python-blosc2 reads what it writes, buffers are chunk-aligned and bounded,
//! a failure half-way leaves nothing behind.

#![cfg(feature = "b2nd")]
// Selections name the leading axes only, as in python-blosc2 (`fetch(&[0..2])`); sources
// without Debug are checked with `.err().expect(..)`.
#![allow(clippy::single_range_in_vec_init, clippy::err_expect)]

use crate::common;

use common::Recorder;
use vastarray::io::b2nd::B2ndSource;
use vastarray::io::b2nd::{nd_to_bytes, Codec, Compression};
use vastarray::io::b2nd::{store_b2nd, B2ndOptions};
use vastarray::{ChunkSource, DType, MemorySource, NdData};

fn sample(dtype: DType, shape: &[usize]) -> NdData {
    let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(shape), |ix| {
        use ndarray::Dimension;
        let v = ix
            .slice()
            .iter()
            .enumerate()
            .fold(0usize, |h, (d, &i)| h * 31 + i * (d + 2))
            % 251;
        v as f64 - 100.0 + 0.25
    });
    NdData::from(a).cast(dtype)
}

const CHECK: &str = r#"
import sys, json, numpy as np, blosc2
for case in json.loads(sys.argv[1]):
    a = blosc2.open(case["path"])
    want = np.frombuffer(open(case["raw"], "rb").read(), dtype=case["dtype"]).reshape(case["shape"])
    assert a.shape == tuple(case["shape"]), (a.shape, case)
    assert a.chunks == tuple(case["chunks"]), (a.chunks, case)
    assert a.blocks == tuple(case["blocks"]), (a.blocks, case)
    assert a.dtype == np.dtype(case["dtype"]), (a.dtype, case)
    assert a.schunk.cparams.codec.name.lower() == case["codec"], (a.schunk.cparams.codec, case)
    assert np.array_equal(a[:], want), case
print("ok")
"#;

#[test]
fn python_blosc2_reads_what_store_b2nd_writes() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [23usize, 17, 9];
    let mut cases = Vec::new();
    let codecs = [
        (Codec::Zstd, "zstd"),
        (Codec::Lz4, "lz4"),
        (Codec::Zlib, "zlib"),
        (Codec::Blosclz, "blosclz"),
    ];
    for (k, dtype) in DType::ALL.into_iter().enumerate() {
        let (codec, cname) = codecs[k % codecs.len()];
        let data = sample(dtype, &shape);
        let src = MemorySource::from_data(data.clone(), &[5, 5, 9]).unwrap();
        let path = dir.path().join(format!("{dtype}.b2nd"));
        let raw = dir.path().join(format!("{dtype}.raw"));
        std::fs::write(&raw, nd_to_bytes(&data)).unwrap();
        // Chunks that do not divide the shape (edge chunks are partial), buffers of a few chunks.
        let opts = B2ndOptions {
            chunks: Some(vec![6, 7, 4]),
            blocks: Some(vec![3, 4, 2]),
            compression: Compression::new(codec, 5),
            buffer_bytes: 6 * 7 * 4 * 8 * 3,
        };
        let report = store_b2nd(&src, &path, &opts).unwrap();
        assert!(report.buffers > 1);
        assert_eq!(report.chunks_written + report.zero_chunks, 4 * 3 * 3);
        // vastarray reads it back too.
        let back = B2ndSource::open(&path).unwrap();
        assert_eq!(back.read_region(&[0..23, 0..17, 0..9]).unwrap(), data);
        let np_name = vastarray::io::b2nd::numpy_dtype_str(dtype);
        cases.push(format!(
            r#"{{"path": "{}", "raw": "{}", "dtype": "{np_name}", "shape": [23, 17, 9], "chunks": [6, 7, 4], "blocks": [3, 4, 2], "codec": "{cname}"}}"#,
            path.display(),
            raw.display()
        ));
    }
    let arg = format!("[{}]", cases.join(","));
    assert_eq!(common::run_python(CHECK, &[&arg]).trim(), "ok");
}

#[test]
fn buffers_are_chunk_aligned_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(DType::F32, &[100, 60]);
    let rec = Recorder::new(data.clone(), None);
    let chunks = [8usize, 25];
    let limit = 8 * 25 * 4 * 5; // five chunks
    let opts = B2ndOptions {
        chunks: Some(chunks.to_vec()),
        buffer_bytes: limit,
        ..Default::default()
    };
    let path = dir.path().join("a.b2nd");
    let report = store_b2nd(&rec, &path, &opts).unwrap();
    let regions = rec.asked();
    assert_eq!(regions.len(), report.buffers);
    let mut covered = 0;
    for r in &regions {
        let n: usize = r.iter().map(|x| x.len()).product();
        covered += n;
        assert!(n * 4 <= limit, "buffer {r:?} exceeds the limit");
        for (x, c) in r.iter().zip(&chunks) {
            assert_eq!(x.start % c, 0, "buffer {r:?} starts inside a chunk");
        }
    }
    assert_eq!(covered, 100 * 60, "every element computed exactly once");
    assert_eq!(
        B2ndSource::open(&path)
            .unwrap()
            .read_region(&[0..100, 0..60])
            .unwrap(),
        data
    );
}

#[test]
fn a_failure_half_way_leaves_no_file_and_names_the_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample(DType::I32, &[40, 40]);
    let rec = Recorder::new(data, Some(3));
    let opts = B2ndOptions {
        chunks: Some(vec![10, 40]),
        buffer_bytes: 10 * 40 * 4,
        ..Default::default()
    };
    let path = dir.path().join("out.b2nd");
    let err = store_b2nd(&rec, &path, &opts)
        .err()
        .expect("the third buffer fails");
    let msg = err.to_string();
    assert!(
        msg.contains("buffer 3 of 4") && msg.contains("20..30") && msg.contains("injected failure"),
        "{msg}"
    );
    assert!(!path.exists(), "a failed store left {path:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn all_zero_chunks_stay_special_and_read_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = ndarray::Array2::<f64>::zeros((40, 40));
    a[[35, 35]] = 1.5;
    let data = NdData::from(a.into_dyn());
    let src = MemorySource::from_data(data.clone(), &[40, 40]).unwrap();
    let path = dir.path().join("sparse.b2nd");
    let opts = B2ndOptions {
        chunks: Some(vec![10, 10]),
        ..Default::default()
    };
    let report = store_b2nd(&src, &path, &opts).unwrap();
    assert_eq!((report.chunks_written, report.zero_chunks), (1, 15));
    assert_eq!(
        B2ndSource::open(&path)
            .unwrap()
            .read_region(&[0..40, 0..40])
            .unwrap(),
        data
    );
}
