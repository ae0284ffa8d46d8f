//! `vastarray::open`: every spelling the command takes (`.npy`, `.b2nd`, `FILE.h5:/ds`,
//! netCDF-4, `c2+http://` URLs, with a cache) against fixtures written by numpy, h5py,
//! python-blosc2 and netCDF4-python, values compared with what Python reads back.

#![cfg(all(feature = "hdf5", feature = "b2nd", feature = "caterva2"))]

use crate::caterva2_support;
use crate::common;

use caterva2_support::Server;
use common::run_python;
use std::path::Path;
use vastarray::{open, open_spec, open_with, Error, OpenOptions, SourceDetails, SourceSpec};

/// Writes the fixtures into argv[1] and prints, for each, `spec|shape|values|selected values`
/// as Python reads them back (floats as `repr`, exact).
const WRITE: &str = r#"
import sys, numpy as np, h5py, blosc2, netCDF4
d = sys.argv[1]
a = (np.arange(35, dtype="float32").reshape(5, 7) * 0.25 - 3)
np.save(f"{d}/a.npy", a)
f = np.asfortranarray((np.arange(24, dtype="int16") - 12).reshape(4, 6))
np.save(f"{d}/f.npy", f)
b = blosc2.asarray((np.arange(90, dtype="int32") * 3 - 100).reshape(9, 10), chunks=(4, 4), blocks=(2, 2),
                   urlpath=f"{d}/b.b2nd", mode="w")
with h5py.File(f"{d}/t.h5", "w") as h:
    h.create_dataset("g/temp", data=np.linspace(-1, 1, 6 * 8).reshape(6, 8), chunks=(4, 3), compression="gzip")
with netCDF4.Dataset(f"{d}/n.nc", "w") as nc:
    nc.createDimension("time", None)
    nc.createDimension("x", 5)
    v = nc.createVariable("temp", "f4", ("time", "x"))
    v[0:3, :] = (np.arange(15, dtype="float32").reshape(3, 5) + 0.5)
def text(arr):
    return " ".join(repr(float(v)) for v in np.asarray(arr).ravel())
def both(name, arr):
    arr = np.asarray(arr)
    print("|".join([name, " ".join(map(str, arr.shape)), text(arr), text(arr[1:, ::-2])]))
both("a.npy", np.load(f"{d}/a.npy"))
both("f.npy", np.load(f"{d}/f.npy"))
both("b.b2nd", blosc2.open(f"{d}/b.b2nd")[...])
with h5py.File(f"{d}/t.h5") as h:
    both("t.h5:/g/temp", h["g/temp"][...])
with h5py.File(f"{d}/n.nc") as h:
    both("n.nc:temp", h["temp"][...])
"#;

/// The values of an array in C order (any element type, as f64).
fn values(a: &vastarray::DynArray) -> Vec<f64> {
    let nd = a.cast(vastarray::DType::F64).unwrap().ndarray().unwrap();
    nd.into_typed::<f64>().unwrap().iter().copied().collect()
}

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn every_local_spelling_matches_python() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run_python(WRITE, &[d.to_str().unwrap()]);
    assert_eq!(out.lines().count(), 5, "{out}");
    for line in out.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let name = f[0];
        let spec = format!("{}/{name}", d.display());
        let a = open(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
        let shape: Vec<usize> = f[1].split(' ').map(|v| v.parse().unwrap()).collect();
        assert_eq!(a.shape(), &shape[..], "{name}");
        assert_eq!(values(&a), numbers(f[2]), "{name}");
        assert_eq!(
            values(&a.select_str("1:, ::-2").unwrap()),
            numbers(f[3]),
            "{name}"
        );
    }
    // What each format says about itself.
    let details = |name: &str| {
        let spec = SourceSpec::parse(&format!("{}/{name}", d.display())).unwrap();
        open_spec(&spec, &OpenOptions::default()).unwrap().details
    };
    match details("f.npy") {
        SourceDetails::Npy { header, .. } => assert!(header.fortran_order),
        other => panic!("{other:?}"),
    }
    match details("b.b2nd") {
        SourceDetails::B2nd { blocks, .. } => assert_eq!(blocks, vec![2, 2]),
        other => panic!("{other:?}"),
    }
    match details("t.h5:g/temp") {
        SourceDetails::Hdf5 { info, .. } => assert_eq!(info.path, "/g/temp"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_specs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let spell = |name: &str| format!("{}/{name}", d.display());
    let invalid = |r: vastarray::Result<vastarray::DynArray>| match r {
        Err(Error::Invalid(m)) => m,
        Err(e) => panic!("not Invalid: {e}"),
        Ok(_) => panic!("opened"),
    };
    assert!(invalid(open(&spell("data.csv"))).contains("cannot tell what kind of source"));
    std::fs::write(d.join("t.h5"), b"").unwrap();
    assert!(invalid(open(&spell("t.h5"))).contains("name a dataset"));
    assert!(invalid(open("c2+ftp://x")).contains("Caterva2"));
    let cached = OpenOptions {
        cache: Some(d.join("c.b2nd")),
        ..OpenOptions::default()
    };
    assert!(invalid(open_with(&spell("a.npy"), &cached)).contains("remote"));
    // A missing file names itself; a named pipe is refused without blocking.
    let e = open(&spell("missing.npy")).unwrap_err().to_string();
    assert!(e.contains("missing.npy"), "{e}");
    let fifo = d.join("p.b2nd");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = open(fifo.to_str().unwrap()).unwrap_err().to_string();
    assert!(e.contains("p.b2nd"), "{e}");
}

/// A dataset on a real `cat2-server`, by URL, then through a cache file that a second open
/// finds full.
#[test]
fn caterva2_urls_with_and_without_a_cache() {
    let server = Server::start_public();
    let raw = server.scratch();
    let out = run_python(
        r#"
import sys, numpy as np, blosc2
a = (np.arange(11 * 13, dtype="float64").reshape(11, 13) / 7)
blosc2.asarray(a, chunks=(4, 5), blocks=(2, 5), urlpath=f"{sys.argv[1]}/c.b2nd", mode="w")
print(" ".join(repr(float(v)) for v in blosc2.open(f"{sys.argv[1]}/c.b2nd")[2:9, ::3].ravel()))
"#,
        &[server.public_dir().to_str().unwrap()],
    );
    let want: Vec<f64> = out.split_whitespace().map(|v| v.parse().unwrap()).collect();
    let url = format!("c2+{}@public/c.b2nd", server.base);
    let a = open(&url).unwrap();
    assert_eq!(a.shape(), &[11, 13]);
    assert_eq!(values(&a.select_str("2:9, ::3").unwrap()), want);

    let cache = raw.join("cache.b2nd");
    let options = OpenOptions {
        cache: Some(cache.clone()),
        ..OpenOptions::default()
    };
    let opened = open_spec(&SourceSpec::parse(&url).unwrap(), &options).unwrap();
    assert!(matches!(
        &opened.details,
        SourceDetails::Caterva2 { cache: Some((p, 0)), .. } if p == &cache
    ));
    assert_eq!(values(&opened.array), values(&a));
    drop(opened);
    let again = open_spec(&SourceSpec::parse(&url).unwrap(), &options).unwrap();
    // 3 x 3 chunks, all in the cache now.
    assert!(matches!(
        &again.details,
        SourceDetails::Caterva2 {
            cache: Some((_, 9)),
            ..
        }
    ));
    assert!(Path::new(&cache).is_file());
}
