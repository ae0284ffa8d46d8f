//! Helpers shared by the HDF5 integration tests: run an h5py fixture script in a temporary
//! directory, and compare what vastarray reads with the values numpy dumped beside it.
#![allow(dead_code)]

use crate::common;
use std::path::{Path, PathBuf};
use vastarray::{ChunkSource, DType, NdData};

/// Python code run before every fixture script. `OUT` is the temporary directory;
/// `dump(key, array)` saves numpy's values (little-endian bytes, booleans as bytes) with their
/// shape and type; `finish()` writes the manifest.
pub const PRELUDE: &str = r#"
import sys, os, json
import numpy as np, h5py
OUT = sys.argv[1]
_manifest = {}
def dump(key, a):
    a = np.asarray(a)
    if a.dtype.kind == 'b':
        le, name = a.astype('u1'), 'bool'
    else:
        le, name = a.astype(a.dtype.newbyteorder('<')), a.dtype.newbyteorder('=').name
    with open(os.path.join(OUT, key + '.bin'), 'wb') as f:
        f.write(np.ascontiguousarray(le).tobytes())
    _manifest[key] = {'shape': list(a.shape), 'dtype': name}
def finish():
    with open(os.path.join(OUT, 'expect.json'), 'w') as f:
        json.dump(_manifest, f)
"#;

/// A temporary directory holding fixtures.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Runs `script` (after [`PRELUDE`], followed by `finish()`) in a new temporary directory.
    pub fn make(script: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let full = format!("{PRELUDE}\n{script}\nfinish()\n");
        common::run_python(&full, &[dir.path().to_str().expect("utf-8 temp path")]);
        Fixture { dir }
    }

    /// A path inside the fixture directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// numpy's values saved under `key`: shape, type name and little-endian bytes.
    pub fn expected(&self, key: &str) -> (Vec<usize>, String, Vec<u8>) {
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.path("expect.json")).expect("manifest"))
                .expect("json");
        let entry = &manifest[key];
        let shape = entry["shape"]
            .as_array()
            .unwrap_or_else(|| panic!("no expectation {key}"))
            .iter()
            .map(|v| v.as_u64().expect("shape entry") as usize)
            .collect();
        let dtype = entry["dtype"].as_str().expect("dtype").to_owned();
        let bytes = std::fs::read(self.path(&format!("{key}.bin"))).expect("values");
        (shape, dtype, bytes)
    }

    /// Asserts that `data` equals numpy's values saved under `key` (shape, type and bytes; NaN
    /// payloads compare as bits, so NaN equals NaN).
    pub fn assert_equals(&self, data: &NdData, key: &str) {
        let (shape, dtype, bytes) = self.expected(key);
        assert_eq!(data.shape(), shape.as_slice(), "{key}: shape");
        assert_eq!(
            data.dtype(),
            DType::parse(&dtype).expect("numpy dtype"),
            "{key}: dtype"
        );
        let got = le_bytes(data);
        if got != bytes {
            let first = got.iter().zip(&bytes).position(|(a, b)| a != b);
            panic!(
                "{key}: values differ from numpy's (first differing byte {first:?} of {})",
                bytes.len()
            );
        }
    }

    /// Reads the whole of `src` and compares it with numpy's values saved under `key`.
    pub fn assert_source_equals(&self, src: &dyn ChunkSource, key: &str) {
        let full: Vec<_> = src.shape().iter().map(|&n| 0..n).collect();
        let data = src
            .read_region(&full)
            .unwrap_or_else(|e| panic!("{key}: reading: {e}"));
        self.assert_equals(&data, key);
    }
}

/// The elements of `data` as little-endian bytes in C order (booleans as one byte).
pub fn le_bytes(data: &NdData) -> Vec<u8> {
    macro_rules! bytes {
        ($a:expr) => {
            $a.iter().flat_map(|v| v.to_le_bytes()).collect()
        };
    }
    match data {
        NdData::Bool(a) => a.iter().map(|&b| u8::from(b)).collect(),
        NdData::I8(a) => bytes!(a),
        NdData::I16(a) => bytes!(a),
        NdData::I32(a) => bytes!(a),
        NdData::I64(a) => bytes!(a),
        NdData::U8(a) => bytes!(a),
        NdData::U16(a) => bytes!(a),
        NdData::U32(a) => bytes!(a),
        NdData::U64(a) => bytes!(a),
        NdData::F32(a) => bytes!(a),
        NdData::F64(a) => bytes!(a),
    }
}

/// Reads every chunk of a source one by one, in C order.
pub fn all_chunks(src: &dyn ChunkSource) -> Vec<NdData> {
    src.grid()
        .all_chunks()
        .iter()
        .map(|i| src.read_chunk(i).expect("chunk"))
        .collect()
}

/// The file name of a path, for messages.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
