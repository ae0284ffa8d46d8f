//! CF-decoded netCDF-4 / HDF5 variables (issue 15) against xarray and netCDF4-python, on files
//! both write here: `_FillValue` -9999 with 14% masked, a fill of 1e20, a `missing_value` list,
//! `valid_range`, int16 and int32 packed with `scale_factor`/`add_offset`, an unlimited `time`
//! written for 12 of its 24 steps, and files xarray wrote through the netcdf4 and h5netcdf
//! engines. Values are compared bit for bit with xarray's (netCDF4-python's for the valid
//! range, which xarray leaves alone), statistics with both; `--raw` gives the stored values;
//! decoding keeps reads lazy (each chunk read once, a slice reads only its chunks); the
//! command's `stats` and `info` show the same.

#![cfg(feature = "hdf5")]

use crate::hdf5_helpers;

use hdf5_helpers::Fixture;
use serde_json::Value;
use std::sync::Arc;
use vastarray::io::hdf5::{CfSource, Hdf5Options};
use vastarray::{
    evaluate, open_with, ChunkSource, CountingSource, DType, DynArray, EvalConfig, OpenOptions,
    ReduceOp, ReduceOptions,
};

/// Writes `cf.nc` (netCDF4-python), `xr_h5.nc` and `xr_nc4.nc` (xarray), dumps xarray's
/// decoded values (`KEY`), netCDF4-python's (`KEY_nc4`) and the stored ones (`KEY_raw`), and
/// writes `stats.json`: per case xarray's own figures, float64 figures of xarray's values
/// (`numpy`) and of netCDF4-python's masked values (`netcdf4`), dtype and shape.
const FIXTURE: &str = r#"
import netCDF4, xarray as xr
rng = np.random.default_rng(15)
T, Y, X = 24, 90, 180
dims = ("time", "lat", "lon")
base = (273.0 + 10 * np.sin(np.linspace(0, 3, X))[None, None, :]
        + rng.normal(0, 3, (T, Y, X))).astype("f4")
mask = rng.random((T, Y, X)) < 0.142
path = f"{OUT}/cf.nc"
with netCDF4.Dataset(path, "w") as d:
    d.createDimension("time", None); d.createDimension("lat", Y); d.createDimension("lon", X)
    t = d.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"
    t[:] = np.arange(T) + 0.5
    la = d.createVariable("lat", "f4", ("lat",)); la.units = "degrees_north"; la[:] = np.linspace(-89, 89, Y)
    lo = d.createVariable("lon", "f4", ("lon",)); lo.units = "degrees_east"; lo[:] = np.linspace(0, 358, X)
    def var(name, dtype, chunks=(4, 45, 90), **kw):
        v = d.createVariable(name, dtype, dims, chunksizes=chunks, zlib=True, **kw)
        v.set_auto_maskandscale(False)
        return v
    v = var("tas", "f4", fill_value=np.float32(-9999))
    v.missing_value = np.float32(-9999); v.units = "K"; v.long_name = "near-surface air temperature"
    v[:] = np.where(mask, np.float32(-9999), base)
    v = var("big", "f4", fill_value=np.float32(1e20))
    v[:] = np.where(mask, np.float32(1e20), base)
    v = var("mv", "f8")
    v.missing_value = np.array([-1.0, -2.0])
    m2 = rng.random((T, Y, X)) < 0.05
    v[:] = np.where(mask, -1.0, np.where(m2, -2.0, base.astype("f8")))
    v = var("vr", "f4")
    v.valid_range = np.array([266.0, 281.0], dtype="f4")
    v[:] = base
    v = var("packed", "i2", fill_value=np.int16(-32767))
    v.scale_factor = np.float32(0.01); v.add_offset = np.float32(273.15); v.units = "K"
    v[:] = np.where(mask, -32767, np.round((base - 273.15) / 0.01)).astype("i2")
    v = var("p32", "i4", fill_value=np.int32(-1))
    v.scale_factor = np.float32(0.001); v.add_offset = np.float32(200)
    v[:] = np.where(mask, -1, np.round((base - 200) / 0.001)).astype("i4")
    v = var("part", "f4", chunks=(5, 45, 90), fill_value=np.float32(-9999))  # 12 steps: 2 and a part
    v[0:12] = base[:12]
    d.createDimension("step", None)  # a coordinate written for 3 of the 6 steps
    d.createVariable("step", "i4", ("step",))[0:3] = [10, 20, 30]
    d.createVariable("w", "f4", ("step",))[0:6] = np.arange(6)
with netCDF4.Dataset(f"{OUT}/classic.nc", "w", format="NETCDF3_CLASSIC") as d:
    d.createDimension("x", 3)
    d.createVariable("v", "f4", ("x",))[:] = [1, 2, 3]
# xarray writes: h5netcdf and netcdf4 engines, packed int16, NaN as _FillValue
small = np.where(mask[:, :10, :20], np.nan, base[:, :10, :20])
ds = xr.Dataset({"t": (("time", "y", "x"), small), "u": (("time", "y", "x"), small.astype("f8"))},
                coords={"time": np.arange(T, dtype="f8")})
enc = {"t": {"dtype": "int16", "scale_factor": 0.01, "add_offset": 273.15, "_FillValue": -32767},
       "u": {"_FillValue": 1e20}}
ds.to_netcdf(f"{OUT}/xr_h5.nc", engine="h5netcdf", encoding=enc, unlimited_dims=["time"])
ds.to_netcdf(f"{OUT}/xr_nc4.nc", engine="netcdf4", encoding=enc, unlimited_dims=["time"])

cases = [("cf.nc", n, "netcdf4") for n in ["tas", "big", "mv", "vr", "packed", "p32", "part"]]
cases += [("xr_h5.nc", n, "h5netcdf") for n in ["t", "u"]] + [("xr_nc4.nc", n, "netcdf4") for n in ["t", "u"]]
stats = {}
def figures(a):
    a = np.asarray(a, dtype="f8")
    return dict(count=int(np.sum(~np.isnan(a))), mean=float(np.nanmean(a)), std=float(np.nanstd(a)),
                min=float(np.nanmin(a)), max=float(np.nanmax(a)))
for f, n, engine in cases:
    with xr.open_dataset(f"{OUT}/{f}", engine=engine) as x:
        v = x[n]
        vals = v.values
        key = f"{f}:{n}"
        dump(key.replace(".", "_").replace(":", "_"), vals)
        xs = dict(count=int(v.count()), mean=float(v.mean()), std=float(v.std()), min=float(v.min()), max=float(v.max()))
    with netCDF4.Dataset(f"{OUT}/{f}") as d:
        m = d[n][:]
        nc = np.ma.filled(m.astype("f8"), np.nan)
        d[n].set_auto_maskandscale(False)
        raw = d[n][:]
    dump(key.replace(".", "_").replace(":", "_") + "_raw", raw)
    dump(key.replace(".", "_").replace(":", "_") + "_nc4", nc.astype(vals.dtype))
    stats[key] = dict(xarray=xs, numpy=figures(vals), netcdf4=figures(nc), dtype=vals.dtype.name, shape=list(vals.shape),
                      nc4_count=int(np.ma.count(m)))
with netCDF4.Dataset(f"{OUT}/cf.nc") as d:
    stats["step_shape"] = list(d["step"].shape)
with open(f"{OUT}/stats.json", "w") as fh:
    json.dump(stats, fh)
"#;

/// The cases: file, variable.
const CASES: [(&str, &str); 11] = [
    ("cf.nc", "tas"),
    ("cf.nc", "big"),
    ("cf.nc", "mv"),
    ("cf.nc", "vr"),
    ("cf.nc", "packed"),
    ("cf.nc", "p32"),
    ("cf.nc", "part"),
    ("xr_h5.nc", "t"),
    ("xr_h5.nc", "u"),
    ("xr_nc4.nc", "t"),
    ("xr_nc4.nc", "u"),
];

fn fixture() -> &'static Fixture {
    static FX: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    FX.get_or_init(|| Fixture::make(FIXTURE.trim_start()))
}

fn stats_json(fx: &Fixture) -> Value {
    serde_json::from_slice(&std::fs::read(fx.path("stats.json")).expect("stats.json"))
        .expect("json")
}

fn key(file: &str, var: &str) -> String {
    format!("{file}_{var}").replace('.', "_")
}

fn spec(fx: &Fixture, file: &str, var: &str) -> String {
    format!("{}:{var}", fx.path(file).display())
}

/// count, nanmean, nanstd, nanmin, nanmax of `a`, evaluated together, as f64.
fn figures(a: &DynArray) -> [f64; 5] {
    let all = None::<usize>;
    let o = ReduceOptions::default();
    let arrays = [
        a.count(all).unwrap(),
        a.reduce(ReduceOp::NanMean, all, o).unwrap(),
        a.reduce(ReduceOp::NanStd, all, o).unwrap(),
        a.reduce(ReduceOp::NanMin, all, o).unwrap(),
        a.reduce(ReduceOp::NanMax, all, o).unwrap(),
    ];
    let refs: Vec<&DynArray> = arrays.iter().collect();
    let r = evaluate(&refs, &EvalConfig::default()).unwrap();
    let v: Vec<f64> = r
        .iter()
        .map(|d| d.to_f64().iter().copied().next().unwrap())
        .collect();
    [v[0], v[1], v[2], v[3], v[4]]
}

fn close(a: f64, b: f64, rtol: f64) -> bool {
    (a - b).abs() <= rtol * a.abs().max(b.abs())
}

/// Asserts count, mean, std, min, max against one reference's figures.
fn assert_figures(ours: &[f64; 5], theirs: &Value, rtol: f64, what: &str) {
    let names = ["count", "mean", "std", "min", "max"];
    for (name, &v) in names.iter().zip(ours) {
        let t = theirs[name]
            .as_f64()
            .unwrap_or_else(|| panic!("{what}: no {name}"));
        let tol = if *name == "count" || *name == "min" || *name == "max" {
            0.0
        } else {
            rtol
        };
        assert!(
            close(v, t, tol) || v == t,
            "{what}: {name} = {v}, reference {t}"
        );
    }
}

/// Decoded values equal xarray's bit for bit (NaN where xarray masks), with xarray's type and
/// netCDF's shape; for `valid_range`, which xarray ignores, netCDF4-python's.
#[test]
fn decoded_values_equal_xarray() {
    let fx = fixture();
    for (file, var) in CASES {
        let a = open_with(&spec(fx, file, var), &OpenOptions::default()).unwrap();
        let data = a.ndarray().unwrap();
        let k = key(file, var);
        if var == "vr" {
            fx.assert_equals(&data, &format!("{k}_nc4"));
        } else {
            fx.assert_equals(&data, &k);
        }
    }
}

/// Counts, means, std, min and max equal xarray's and netCDF4-python's for every case.
#[test]
fn statistics_equal_xarray_and_netcdf4() {
    let fx = fixture();
    let stats = stats_json(fx);
    for (file, var) in CASES {
        let what = format!("{file}:{var}");
        let s = &stats[&what];
        let a = open_with(&spec(fx, file, var), &OpenOptions::default()).unwrap();
        assert_eq!(a.dtype().name(), s["dtype"].as_str().unwrap(), "{what}");
        let shape: Vec<usize> = serde_json::from_value(s["shape"].clone()).unwrap();
        assert_eq!(a.shape(), &shape[..], "{what}");
        let ours = figures(&a);
        // Figures of a float32 variable are float32 (numpy's result type), rounded once.
        let exact = if a.dtype() == DType::F32 { 2e-7 } else { 1e-9 };
        // netCDF4-python masks the valid range; xarray does not (its figures differ there).
        assert_figures(
            &ours,
            &s["netcdf4"],
            exact,
            &format!("{what} vs netCDF4-python"),
        );
        assert_eq!(ours[0] as u64, s["nc4_count"].as_u64().unwrap(), "{what}");
        if var != "vr" {
            assert_figures(
                &ours,
                &s["numpy"],
                exact,
                &format!("{what} vs xarray's values"),
            );
            // xarray's own reductions of float32 accumulate in float32.
            let rtol = if a.dtype() == DType::F32 { 1e-5 } else { 1e-9 };
            assert_figures(&ours, &s["xarray"], rtol, &format!("{what} vs xarray"));
        }
    }
    // The issue's figures: 14% of (24, 90, 180) masked, the mean a temperature.
    let tas = &stats["cf.nc:tas"]["netcdf4"];
    let count = tas["count"].as_f64().unwrap();
    assert!((0.13..0.15).contains(&(1.0 - count / 388_800.0)), "{count}");
    assert_eq!(
        stats["cf.nc:part"]["netcdf4"]["count"].as_u64(),
        Some(12 * 90 * 180)
    );
}

/// `raw` gives the stored values, and the unwritten steps of `part` as its fill value, as
/// netCDF4-python does with auto mask-and-scale off.
#[test]
fn raw_gives_stored_values() {
    let fx = fixture();
    let raw = OpenOptions {
        raw: true,
        ..OpenOptions::default()
    };
    for (file, var) in CASES {
        let a = open_with(&spec(fx, file, var), &raw).unwrap();
        fx.assert_equals(&a.ndarray().unwrap(), &format!("{}_raw", key(file, var)));
    }
    let src =
        CfSource::open_with(fx.path("cf.nc"), "/part", &Hdf5Options::default(), true).unwrap();
    assert_eq!(src.hdf5().shape(), &[12, 90, 180]);
    assert_eq!(src.shape(), &[24, 90, 180]);
    assert!(src.decoding().is_none());
}

/// Decoding is per chunk as it is read: a full reduction reads each chunk once, a slice only
/// the chunks it touches, and chunks past the stored extent are not asked of the file.
#[test]
fn decoding_stays_lazy() {
    let fx = fixture();
    let open = |var: &str| {
        let src =
            CfSource::open_with(fx.path("cf.nc"), var, &Hdf5Options::default(), false).unwrap();
        Arc::new(CountingSource::new(src))
    };
    let packed = open("/packed");
    let a = DynArray::from_source_arc(packed.clone());
    let whole = figures(&a);
    assert_eq!(
        packed.counts().chunk_reads + packed.counts().region_reads,
        24
    );
    let stats = stats_json(fx);
    assert_figures(&whole, &stats["cf.nc:packed"]["netcdf4"], 2e-7, "packed");
    let packed = open("/packed");
    let a = DynArray::from_source_arc(packed.clone());
    let one = a
        .select_str("5, 10:20, 100:120")
        .unwrap()
        .ndarray()
        .unwrap();
    assert_eq!(packed.reads(), 1, "{:?}", packed.counts());
    let all = open_with(&spec(fx, "cf.nc", "packed"), &OpenOptions::default())
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<f32>()
        .unwrap();
    let want = all.slice(ndarray::s![5, 10..20, 100..120]);
    let got = one.into_typed::<f32>().unwrap();
    assert!(got
        .iter()
        .zip(want.iter())
        .all(|(a, b)| a.to_bits() == b.to_bits()));
    // `part`: 12 of 24 steps stored in chunks of 5 steps: 3 chunks along time (the last one
    // partly past the extent), times 2 x 2 in space, each read once; the 8 chunks past the
    // stored extent are never asked of the file.
    let part = Arc::new(
        CfSource::open_with(fx.path("cf.nc"), "/part", &Hdf5Options::default(), false).unwrap(),
    );
    let f = figures(&DynArray::from_source_arc(part.clone()));
    assert_eq!(f[0] as usize, 12 * 90 * 180);
    let s = part.hdf5().stats();
    assert_eq!(
        (s.raw_chunks + s.library_chunks, s.fill_chunks),
        (12, 0),
        "{s:?}"
    );
}

/// Dimensions come from the dimension scales: names, coordinate variables, the netCDF length
/// of the unlimited dimension.
#[test]
fn dimensions_and_coordinates() {
    let fx = fixture();
    let src =
        CfSource::open_with(fx.path("cf.nc"), "/part", &Hdf5Options::default(), false).unwrap();
    let v = src.variable_with_coordinates();
    let names: Vec<&str> = v
        .dimensions
        .iter()
        .flatten()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["time", "lat", "lon"]);
    let time = v.dimensions[0].as_ref().unwrap();
    assert!(time.unlimited && time.is_coordinate && time.length == 24);
    assert_eq!(v.stored_shape, [12, 90, 180]);
    let lat = v.coordinates.iter().find(|c| c.name == "lat").unwrap();
    assert_eq!(lat.range, Some((-89.0, 89.0)));
    assert_eq!(lat.units.as_deref(), Some("degrees_north"));
    let time = v.coordinates.iter().find(|c| c.name == "time").unwrap();
    assert_eq!((time.length, time.range), (24, Some((0.5, 23.5))));
    // A coordinate variable written for fewer steps than its unlimited dimension has.
    let step = vastarray::open(&spec(fx, "cf.nc", "step")).unwrap();
    let want: Vec<usize> = serde_json::from_value(stats_json(fx)["step_shape"].clone()).unwrap();
    assert_eq!(
        (step.shape(), want.as_slice()),
        (&[6usize][..], &[6usize][..])
    );
    // xarray's dimensions without coordinates (h5netcdf) are named but hold no values.
    let t = CfSource::open_with(fx.path("xr_h5.nc"), "/t", &Hdf5Options::default(), false).unwrap();
    let v = t.variable_with_coordinates();
    let dims: Vec<(&str, bool)> = v
        .dimensions
        .iter()
        .flatten()
        .map(|d| (d.name.as_str(), d.is_coordinate))
        .collect();
    assert_eq!(dims, [("time", true), ("y", false), ("x", false)]);
}

/// An HDF5 dataset written by h5py with CF attributes is decoded too; one without keeps its
/// values and type.
#[test]
fn plain_hdf5_with_attributes() {
    let fx = Fixture::make(
        r#"
with h5py.File(os.path.join(OUT, 'p.h5'), 'w') as f:
    d = f.create_dataset('packed', data=np.array([[0, 100, 5], [7, 65535, 1]], dtype='u2'), chunks=(1, 3))
    d.attrs['scale_factor'] = 0.5
    d.attrs['_FillValue'] = np.uint16(65535)
    d.attrs['valid_max'] = np.uint16(100)
    f.create_dataset('plain', data=np.arange(6, dtype='i4').reshape(2, 3), fillvalue=3)
"#,
    );
    let a = vastarray::open(&format!("{}:/packed", fx.path("p.h5").display())).unwrap();
    assert_eq!(a.dtype(), DType::F64);
    let v = a.ndarray().unwrap().into_typed::<f64>().unwrap();
    let want = [0.0, 50.0, 2.5, 3.5, f64::NAN, 0.5];
    assert!(
        v.iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits()),
        "{v:?}"
    );
    let p = vastarray::open(&format!("{}:/plain", fx.path("p.h5").display())).unwrap();
    assert_eq!(p.dtype(), DType::I32);
    let v = p.ndarray().unwrap().into_typed::<i32>().unwrap();
    assert_eq!(v.iter().copied().collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

/// A netCDF-3 file is named as such, not as a broken HDF5 file.
#[test]
fn netcdf3_is_refused_by_name() {
    let fx = fixture();
    match vastarray::open(&spec(fx, "classic.nc", "v")) {
        Err(vastarray::Error::File { message, .. }) => {
            assert!(message.contains("netCDF-3"), "{message}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a netCDF-3 file opened"),
    }
}

/// `vastarray stats` and `info` through the command.
#[cfg(feature = "cli")]
mod cli {
    use super::*;
    use std::process::Command;

    fn run(args: &[&str]) -> (Value, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_vastarray"))
            .args(args)
            .output()
            .expect("vastarray");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
        (
            serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
            stdout + &stderr,
        )
    }

    #[test]
    fn stats_equal_netcdf4() {
        let fx = fixture();
        let stats = stats_json(fx);
        for (file, var) in [
            ("cf.nc", "tas"),
            ("cf.nc", "packed"),
            ("cf.nc", "part"),
            ("xr_h5.nc", "t"),
        ] {
            let what = format!("{file}:{var}");
            let s = spec(fx, file, var);
            let (j, _) = run(&["stats", &s, "--skipna", "--json"]);
            let n = &stats[&what]["netcdf4"];
            assert_eq!(j["count"], n["count"], "{what}");
            assert_eq!(j["dtype"], stats[&what]["dtype"], "{what}");
            let size: u64 = j["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .product();
            assert_eq!(
                j["missing"].as_u64(),
                Some(size - n["count"].as_u64().unwrap()),
                "{what}"
            );
            for name in ["mean", "std", "min", "max"] {
                let (a, b) = (j[name].as_f64().unwrap(), n[name].as_f64().unwrap());
                assert!(close(a, b, 1e-6), "{what}: {name} {a} vs {b}");
            }
            // Without --skipna the masked values make the mean NaN, and a note says why.
            let (j, text) = run(&["stats", &s, "--json"]);
            assert_eq!(j["mean"], "nan", "{what}");
            assert!(text.contains("missing"), "{text}");
        }
        // --raw: the stored values (netCDF4-python with auto mask-and-scale off).
        let (j, _) = run(&["--raw", "stats", &spec(fx, "cf.nc", "packed"), "--json"]);
        assert_eq!(j["dtype"], "int16");
        let raw = fx.expected("cf_nc_packed_raw").2;
        let vals: Vec<f64> = raw
            .chunks(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]) as f64)
            .collect();
        assert_eq!(
            j["min"].as_f64(),
            Some(vals.iter().copied().fold(f64::INFINITY, f64::min))
        );
        assert_eq!(j["count"].as_u64(), Some(vals.len() as u64));
        assert!(j.get("missing").is_none());
    }

    #[test]
    fn info_shows_dimensions_coordinates_units() {
        let fx = fixture();
        let (j, _) = run(&["info", &spec(fx, "cf.nc", "part"), "--json"]);
        assert_eq!(j["shape"], serde_json::json!([24, 90, 180]));
        assert_eq!(j["stored_shape"], serde_json::json!([12, 90, 180]));
        assert_eq!(j["dimensions"], serde_json::json!(["time", "lat", "lon"]));
        assert_eq!(j["unlimited"], serde_json::json!(["time"]));
        assert_eq!(j["coordinates"]["lon"]["min"], 0.0);
        assert_eq!(j["coordinates"]["lon"]["max"], 358.0);
        assert_eq!(j["coordinates"]["lon"]["units"], "degrees_east");
        let (j, _) = run(&["info", &spec(fx, "cf.nc", "tas"), "--json"]);
        assert_eq!(j["units"], "K");
        assert_eq!(j["long_name"], "near-surface air temperature");
        let (j, _) = run(&["info", &spec(fx, "cf.nc", "packed"), "--json"]);
        assert_eq!(j["dtype"], "float32");
        assert_eq!(j["stored_dtype"], "int16");
        let (_, text) = run(&["info", &spec(fx, "cf.nc", "tas")]);
        for want in [
            "dimensions",
            "\"time\",\"lat\",\"lon\"",
            "-89 .. 89 degrees_north (90 values)",
            "long_name",
            "near-surface air temperature",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}
