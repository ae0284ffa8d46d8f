//! HDF5 sources fail with errors that name the file, the dataset and the chunk: missing
//! files and datasets, unsupported types, truncated and corrupted files, filters that cannot
//! be decoded. Never a panic.

#![cfg(feature = "hdf5")]

use crate::hdf5_helpers;

use hdf5_helpers::Fixture;
use vastarray::io::hdf5::{Hdf5Options, Hdf5Source};
use vastarray::{ChunkSource, Error};

fn open_err(path: &std::path::Path, ds: &str) -> String {
    match Hdf5Source::open(path, ds) {
        Ok(_) => panic!("opening {ds} in {} should fail", path.display()),
        Err(e) => {
            eprintln!("{e}");
            e.to_string()
        }
    }
}

#[test]
fn missing_file_and_dataset() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'f.h5'), 'w') as f:
    f.create_dataset('g/x', data=np.zeros(3))
"#,
    );
    let missing = fx.path("nope.h5");
    let e = open_err(&missing, "/x");
    assert!(e.contains("nope.h5") && e.contains("No such file"), "{e}");

    let e = open_err(&fx.path("f.h5"), "/g/y");
    assert!(e.contains("f.h5") && e.contains("/g/y"), "{e}");
    let e = open_err(&fx.path("f.h5"), "/h/x");
    assert!(e.contains("f.h5") && e.contains("/h/x"), "{e}");

    // A file that is not HDF5.
    std::fs::write(fx.path("text.h5"), b"hello, this is not HDF5").unwrap();
    let e = open_err(&fx.path("text.h5"), "/x");
    assert!(e.contains("text.h5") && e.contains("HDF5"), "{e}");
}

/// Strings, compound and complex datasets are refused with the file, dataset and type named.
#[test]
fn unsupported_types_are_named() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 't.h5'), 'w') as f:
    f.create_dataset('vstr', data=np.array(['a', 'bc'], dtype=object), dtype=h5py.string_dtype())
    f.create_dataset('fstr', data=np.array([b'ab', b'cd']))
    f.create_dataset('compound', data=np.zeros(3, dtype=[('a', 'i4'), ('b', 'f8')]))
    f.create_dataset('complex', data=np.zeros(3, dtype='c8'))
    f.create_dataset('half', data=np.zeros(3, dtype='f2'))
"#,
    );
    for (ds, word) in [
        ("/vstr", "unicode"),
        ("/fstr", "string"),
        ("/compound", "compound"),
        ("/complex", "compound"),
        ("/half", "float"),
    ] {
        let e = Hdf5Source::open(fx.path("t.h5"), ds).unwrap_err();
        assert!(matches!(e, Error::DType(_)), "{ds}: {e:?}");
        let e = e.to_string();
        eprintln!("{e}");
        assert!(
            e.contains("t.h5") && e.contains(ds) && e.contains(word),
            "{ds}: {e}"
        );
    }
}

/// A file cut short is refused when opened, naming the file.
#[test]
fn truncated_file() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'big.h5'), 'w') as f:
    f.create_dataset('x', data=np.arange(200000, dtype='f8').reshape(400, 500), chunks=(50, 500), compression='gzip')
"#,
    );
    let path = fx.path("big.h5");
    let len = std::fs::metadata(&path).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let e = open_err(&path, "/x");
    assert!(e.contains("big.h5"), "{e}");
}

/// A file truncated after it was opened: chunks beyond the end are reported, not read.
#[test]
fn file_truncated_after_open() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'shrink.h5'), 'w') as f:
    f.create_dataset('x', data=np.arange(200000, dtype='f8').reshape(400, 500), chunks=(50, 500), compression='gzip')
"#,
    );
    let path = fx.path("shrink.h5");
    let src = Hdf5Source::open(&path, "/x").unwrap();
    src.read_chunk(&[0, 0]).unwrap(); // loads the chunk index
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let errors: Vec<String> = src
        .grid()
        .all_chunks()
        .iter()
        .filter_map(|i| src.read_chunk(i).err().map(|e| e.to_string()))
        .collect();
    assert!(!errors.is_empty(), "some chunks lie in the cut half");
    eprintln!("{}", errors[0]);
    for e in &errors {
        assert!(e.contains("shrink.h5:/x") && e.contains("chunk ["), "{e}");
    }
}

/// Bytes flipped inside a compressed chunk: the raw path reports a corrupt stream (or a
/// checksum mismatch with Fletcher32) naming file, dataset and chunk; so does the library.
#[test]
fn corrupted_chunk_is_reported() {
    let fx = Fixture::make(
        r#"
a = np.random.default_rng(5).standard_normal((40, 30))
with h5py.File(os.path.join(OUT, 'bad.h5'), 'w') as f:
    f.create_dataset('z', data=a, chunks=(10, 30), compression='gzip', shuffle=True)
    f.create_dataset('zf', data=a, chunks=(10, 30), compression='gzip', fletcher32=True)
    info = {k: f[k].id.get_chunk_info_by_coord((10, 0)) for k in ('z', 'zf')}
with open(os.path.join(OUT, 'bad.h5'), 'r+b') as fh:
    for k, ci in info.items():
        fh.seek(ci.byte_offset + ci.size // 2)
        b = fh.read(8)
        fh.seek(ci.byte_offset + ci.size // 2)
        fh.write(bytes(x ^ 0x5A for x in b))
"#,
    );
    let path = fx.path("bad.h5");
    for ds in ["/z", "/zf"] {
        for raw in [true, false] {
            let opts = Hdf5Options {
                raw_reads: raw,
                ..Hdf5Options::default()
            };
            let src = Hdf5Source::open_with(&path, ds, &opts).unwrap();
            assert!(src.read_chunk(&[0, 0]).is_ok());
            let e = src.read_chunk(&[1, 0]).unwrap_err();
            let text = e.to_string();
            eprintln!("{text}");
            assert!(matches!(e, Error::Read { .. }), "{e:?}");
            assert!(
                text.contains(&format!("bad.h5:{ds}")) && text.contains("[1, 0]"),
                "{text}"
            );
            if raw && ds == "/zf" {
                assert!(
                    text.contains("Fletcher32") || text.contains("deflate"),
                    "{text}"
                );
            }
            // The whole-array read fails too, rather than returning wrong values.
            assert!(src.read_region(&[0..40, 0..30]).is_err());
        }
    }
}

/// A filter the library does not have (LZF, h5py's own) cannot be decoded: the error names
/// the file, dataset and chunk; the metadata still lists the filter.
#[test]
fn undecodable_filter_is_reported() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'lzf.h5'), 'w') as f:
    f.create_dataset('x', data=np.repeat(np.arange(10, dtype='i4'), 100), chunks=(100,), compression='lzf')
"#,
    );
    let src = Hdf5Source::open(fx.path("lzf.h5"), "/x").unwrap();
    assert!(!src.info().filters_decodable());
    assert!(src
        .info()
        .filters
        .iter()
        .any(|f| f.to_string().contains("LZF")));
    let e = src.read_chunk(&[3]).unwrap_err().to_string();
    eprintln!("{e}");
    assert!(e.contains("lzf.h5:/x") && e.contains("[3]"), "{e}");
    assert_eq!(src.stats().raw_chunks, 0);
}

/// Asking for a chunk outside the grid is an error, not a panic.
#[test]
fn chunk_index_out_of_range() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'r.h5'), 'w') as f:
    f.create_dataset('x', data=np.arange(100, dtype='i4').reshape(10, 10), chunks=(5, 5))
"#,
    );
    let src = Hdf5Source::open(fx.path("r.h5"), "/x").unwrap();
    assert!(src.read_chunk(&[2, 0]).is_err());
    assert!(src.read_chunk(&[0]).is_err());
    assert!(src.read_region(&[0..11, 0..10]).is_err());
}

/// A named pipe in place of an HDF5 file is refused (opening it would wait for a writer
/// forever), naming the path; a regular file that is not HDF5 is refused by the library.
#[test]
fn a_named_pipe_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("p.h5");
    let c = std::ffi::CString::new(pipe.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = open_err(&pipe, "/x");
    assert!(e.contains("p.h5") && e.contains("named pipe"), "{e}");
    let e = match vastarray::Hdf5File::open(&pipe) {
        Ok(_) => panic!("a named pipe opened as an HDF5 file"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("named pipe"), "{e}");
}

/// numpy's rule for empty reductions (min and max of no values are errors, mean is NaN, count
/// is 0), with the error naming the file and dataset it came from.
#[test]
fn empty_datasets_follow_numpy_and_errors_name_the_source() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'e.h5'), 'w') as f:
    f.create_dataset('e', shape=(5, 0, 3), dtype='f4', chunks=(5, 1, 3), maxshape=(5, None, 3))
"#,
    );
    let src = Hdf5Source::open(fx.path("e.h5"), "/e").unwrap();
    let a = vastarray::DynArray::from_source(src);
    for e in [
        a.min(None::<usize>).unwrap().ndarray().unwrap_err(),
        a.max(1usize).unwrap().ndarray().unwrap_err(),
    ] {
        let m = e.to_string();
        assert!(
            m.contains("zero-size array to reduction operation") && m.contains("e.h5"),
            "{m}"
        );
    }
    // Over an axis that is not empty: an empty result, no error (numpy: shape (5, 0)).
    let r = a.min(2usize).unwrap().ndarray().unwrap();
    assert_eq!(r.shape(), &[5, 0]);
    let mean = a.mean(None::<usize>).unwrap().ndarray().unwrap();
    assert!(mean.into_typed::<f32>().unwrap()[[]].is_nan());
    let n = a.count(None::<usize>).unwrap().ndarray().unwrap();
    assert_eq!(n.into_typed::<i64>().unwrap()[[]], 0);
}
