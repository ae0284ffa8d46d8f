//! `store_zarr`: arrays written by vastarray (v3 plain and sharded, v2; zstd, gzip, blosc, none)
//! open in zarr-python with equal values and the chosen chunks, shards and codecs; a failed
//! store leaves nothing; an existing array is replaced only once the new one is complete.
#![cfg(feature = "zarr")]

use crate::common;

use common::{run_python, Recorder};
use ndarray::{ArrayD, Dimension, IxDyn};
use std::path::Path;
use vastarray::io::zarr::{store_zarr, ZarrCodec, ZarrFormat, ZarrStore, ZarrStoreOptions};
use vastarray::{ChunkSource, MemorySource, NdData};

/// Prints, for the array at argv[1]: format, chunks, shards, codec class names, dtype, fill
/// value, and every value (C order) as repr.
const READ: &str = r#"
import sys, json, numpy as np, zarr
a = zarr.open_array(sys.argv[1], mode="r")
codecs = [type(c).__name__ for c in (list(a.filters) + [a.serializer] + list(a.compressors)) if c is not None]
inner = []
if a.shards is not None:
    inner = [type(c).__name__ for c in a.metadata.codecs[0].codecs]
v = a[...]
print(json.dumps({"format": a.metadata.zarr_format, "chunks": list(a.chunks),
    "shards": list(a.shards) if a.shards else None, "codecs": codecs, "inner": inner,
    "dtype": str(v.dtype), "fill": repr(a.fill_value.item() if hasattr(a.fill_value, "item") else a.fill_value),
    "values": [repr(x) for x in v.ravel().tolist()]}))
"#;

fn python_reads(path: &Path) -> serde_json::Value {
    serde_json::from_str(&run_python(READ, &[path.to_str().unwrap()])).unwrap()
}

fn values_text(d: &NdData) -> Vec<String> {
    // Python's repr of the same values (floats through f64, as numpy's tolist gives them).
    vastarray::with_nd!(d, a: T => a.iter().map(|v| {
        let f = format!("{v:?}");
        match f.as_str() {
            "true" => "True".to_string(),
            "false" => "False".to_string(),
            _ => f,
        }
    }).collect())
}

fn source(shape: &[usize]) -> MemorySource {
    let a = ArrayD::from_shape_fn(IxDyn(shape), |ix| {
        let k = ix
            .as_array_view()
            .iter()
            .fold(0usize, |acc, i| acc * 31 + i);
        (k % 97) as f64 * 0.5 - 20.0
    });
    MemorySource::new(a, &shape.iter().map(|n| n.div_ceil(3)).collect::<Vec<_>>()).unwrap()
}

#[test]
fn zarr_python_reads_what_vastarray_writes() {
    let dir = tempfile::tempdir().unwrap();
    type Case = (
        &'static str,
        ZarrStoreOptions,
        &'static [&'static str],
        vastarray::DType,
    );
    let v3 = ZarrStoreOptions::default;
    let cases: Vec<Case> = vec![
        (
            "v3_zstd",
            ZarrStoreOptions {
                chunks: Some(vec![7, 5]),
                ..v3()
            },
            &["BytesCodec", "ZstdCodec"],
            vastarray::DType::F64,
        ),
        (
            "v3_sharded_blosc",
            ZarrStoreOptions {
                chunks: Some(vec![4, 5]),
                shards: Some(vec![8, 10]),
                codec: ZarrCodec::Blosc {
                    cname: "zstd".into(),
                    clevel: 5,
                },
                ..v3()
            },
            &["BytesCodec", "BloscCodec"],
            vastarray::DType::F32,
        ),
        (
            "v3_gzip_i32",
            ZarrStoreOptions {
                chunks: Some(vec![6, 6]),
                codec: ZarrCodec::Gzip(6),
                fill_value: -7.0,
                ..v3()
            },
            &["BytesCodec", "GzipCodec"],
            vastarray::DType::I32,
        ),
        (
            "v3_none_u16",
            ZarrStoreOptions {
                chunks: Some(vec![20, 3]),
                codec: ZarrCodec::None,
                ..v3()
            },
            &["BytesCodec"],
            vastarray::DType::U16,
        ),
        (
            "v2_zstd_i64",
            ZarrStoreOptions {
                format: ZarrFormat::V2,
                chunks: Some(vec![5, 4]),
                ..v3()
            },
            &["Zstd"],
            vastarray::DType::I64,
        ),
        (
            "v2_blosc_u8",
            ZarrStoreOptions {
                format: ZarrFormat::V2,
                chunks: Some(vec![9, 9]),
                codec: ZarrCodec::Blosc {
                    cname: "lz4".into(),
                    clevel: 5,
                },
                ..v3()
            },
            &["Blosc"],
            vastarray::DType::U8,
        ),
        (
            "v3_bool",
            ZarrStoreOptions {
                chunks: Some(vec![4, 4]),
                ..v3()
            },
            &["BytesCodec", "ZstdCodec"],
            vastarray::DType::Bool,
        ),
    ];
    for (name, opts, codecs, dtype) in cases {
        let path = dir.path().join(format!("{name}.zarr"));
        let src = source(&[19, 23]);
        let full = src.read_region(&[0..19, 0..23]).unwrap().cast(dtype);
        let typed = MemorySource::from_data(full.clone(), &[19, 23]).unwrap();
        let report = store_zarr(&typed, &path, &opts).unwrap();
        let py = python_reads(&path);
        let want_format = if opts.format == ZarrFormat::V2 { 2 } else { 3 };
        assert_eq!(py["format"], want_format, "{name}");
        let inner = opts.chunks.clone().unwrap();
        match &opts.shards {
            Some(s) => {
                assert_eq!(py["shards"], serde_json::json!(s), "{name}");
                assert_eq!(py["chunks"], serde_json::json!(inner), "{name}");
                assert_eq!(
                    py["inner"],
                    serde_json::json!(["BytesCodec", "BloscCodec"]),
                    "{name}"
                );
            }
            None => assert_eq!(py["chunks"], serde_json::json!(inner), "{name}"),
        }
        let got: Vec<&str> = py["codecs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(
            codecs.iter().all(|c| got.iter().any(|g| g.contains(c))),
            "{name}: codecs {got:?}"
        );
        let theirs: Vec<String> = py["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(theirs, values_text(&full), "{name}: values");
        let want_fill = match dtype {
            vastarray::DType::Bool => "False".to_string(),
            d if d.is_float() => format!("{:?}", opts.fill_value),
            _ => format!("{}", opts.fill_value as i64),
        };
        assert_eq!(py["fill"], want_fill.as_str(), "{name}: fill value");
        assert!(report.chunks_written > 0);
        // And vastarray reads its own array back.
        let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
        assert_eq!(
            back.read_region(&[0..19, 0..23]).unwrap(),
            full,
            "{name}: read back"
        );
    }
}

#[test]
fn fill_value_chunks_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = ArrayD::<f32>::from_elem(IxDyn(&[20, 20]), 2.5);
    a[[13, 17]] = 1.0; // only chunk (1, 1) of the 10 x 10 grid holds anything but the fill value
    let src = MemorySource::new(a.clone(), &[20, 20]).unwrap();
    let path = dir.path().join("sparse.zarr");
    let opts = ZarrStoreOptions {
        chunks: Some(vec![10, 10]),
        fill_value: 2.5,
        ..Default::default()
    };
    let r = store_zarr(&src, &path, &opts).unwrap();
    assert_eq!(r.chunks_written, 1);
    let mut files: Vec<String> = walk(&path);
    files.sort();
    assert_eq!(files, vec!["c/1/1", "zarr.json"]);
    let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
    assert_eq!(back.read_region(&[0..20, 0..20]).unwrap(), NdData::from(a));
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn a_failed_store_leaves_nothing_and_keeps_the_old_array() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let data = NdData::from(ArrayD::from_shape_fn(IxDyn(&[40, 10]), |ix| {
        (ix[0] * 10 + ix[1]) as i32
    }));
    let opts = ZarrStoreOptions {
        chunks: Some(vec![10, 10]),
        buffer_bytes: 400,
        ..Default::default()
    };
    // A first store fails on its third buffer: nothing at the destination, no temporaries.
    let failing = Recorder::new(data.clone(), Some(3));
    let e = store_zarr(&failing, &path, &opts).unwrap_err().to_string();
    assert!(
        e.contains("buffer 3 of 4") && e.contains("injected failure"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A complete store, then a failing one over it: the complete array is still there.
    store_zarr(&Recorder::new(data.clone(), None), &path, &opts).unwrap();
    let e = store_zarr(
        &Recorder::new(data.clone().cast(vastarray::DType::F64), Some(2)),
        &path,
        &opts,
    );
    assert!(e.is_err());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a.zarr")]);
    let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
    assert_eq!(back.dtype(), vastarray::DType::I32);
    assert_eq!(back.read_region(&[0..40, 0..10]).unwrap(), data);
    // A successful store replaces it.
    store_zarr(
        &Recorder::new(data.clone().cast(vastarray::DType::F64), None),
        &path,
        &opts,
    )
    .unwrap();
    let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
    assert_eq!(back.dtype(), vastarray::DType::F64);
    // Something that is not a Zarr node is never replaced.
    let other = dir.path().join("plain.zarr");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let e = store_zarr(&Recorder::new(data, None), &other, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a Zarr array"), "{e}");
    assert!(other.join("notes.txt").exists());
}

#[test]
fn a_killed_store_leaves_a_directory_the_next_store_removes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    // What a store killed with SIGKILL leaves: its temporary array, without a live lock.
    let stale = dir.path().join(".a.zarr.vastarray-tmp-999999999-0");
    std::fs::create_dir_all(stale.join("c/0")).unwrap();
    std::fs::write(stale.join("c/0/0"), b"partial").unwrap();
    let data = NdData::from(ArrayD::from_shape_fn(IxDyn(&[6, 4]), |ix| ix[0] as u8));
    store_zarr(
        &Recorder::new(data.clone(), None),
        &path,
        &ZarrStoreOptions::default(),
    )
    .unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a.zarr")]);
    let back = ZarrStore::open_dir(&path).unwrap().array("/").unwrap();
    assert_eq!(back.read_region(&[0..6, 0..4]).unwrap(), data);
}
