//! Helpers of the command line tests: running the built `vastarray` binary, fixtures made by
//! numpy, h5py and python-blosc2, and comparing results with numpy's.
#![allow(dead_code)]

pub(crate) use crate::common;

#[allow(unused_imports)] // not every test binary uses both
pub use common::{fuzz_cases, run_python};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Out {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Out {
    /// Panics with the run's output unless it succeeded.
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "vastarray failed:\n{}\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Standard output as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
}

/// Runs `vastarray ARGS` in `cwd`.
pub fn vastarray_in(cwd: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_vastarray"))
        .args(args)
        .current_dir(cwd)
        .env_remove("VASTARRAY_DEMO_SIZE")
        .output()
        .expect("starting vastarray");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `vastarray ARGS` in the fixture folder.
pub fn vastarray(args: &[&str]) -> Out {
    vastarray_in(fixtures(), args)
}

/// The fixtures: name, SOURCE argument (relative to the fixture folder) and how numpy loads it.
pub const INPUTS: &[(&str, &str)] = &[
    ("a", "a.npy"),
    ("b", "b.npy"),
    ("p", "p.npy"),
    ("i", "i.npy"),
    ("u", "u.npy"),
    ("m", "m.npy"),
    ("n", "n.npy"),
    ("c", "c.npy"),
    ("g", "g.npy"),
    ("be", "be.npy"),
    ("big", "big.npy"),
    ("h", "fix.h5:/grp/h"),
    ("w", "fix.h5:/w"),
    ("k", "k.b2nd"),
];

/// Python that makes every fixture in the folder given as argv[1].
const MAKE: &str = r#"
import sys, numpy as np, h5py, blosc2
d = sys.argv[1]
r = np.random.default_rng(20261122)
np.save(f"{d}/a.npy", r.standard_normal((6, 8)).astype(np.float32))
np.save(f"{d}/b.npy", r.standard_normal(8))
np.save(f"{d}/p.npy", r.uniform(0.5, 2.0, (6, 8)).astype(np.float32))
np.save(f"{d}/i.npy", r.integers(-50, 51, (6, 8)).astype(np.int32))
np.save(f"{d}/u.npy", r.integers(0, 201, (6, 8)).astype(np.uint8))
np.save(f"{d}/m.npy", r.random((6, 8)) > 0.5)
n = r.standard_normal((6, 8))
n[r.random((6, 8)) < 0.25] = np.nan
n[:, 3] = np.nan
np.save(f"{d}/n.npy", n)
np.save(f"{d}/c.npy", np.arange(60, dtype=np.int64).reshape(3, 4, 5) - 20)
np.save(f"{d}/g.npy", np.asfortranarray(r.standard_normal((5, 4, 3)).astype(np.float32)))
np.save(f"{d}/be.npy", r.standard_normal((6, 8)).astype(">f8"))
np.save(f"{d}/big.npy", r.standard_normal((3000, 1000)).astype(np.float32))
with h5py.File(f"{d}/fix.h5", "w") as f:
    f.create_dataset("grp/h", data=r.standard_normal((6, 8)).astype(np.float32), chunks=(4, 3), compression="gzip", shuffle=True)
    f.create_dataset("w", data=r.integers(-1000, 1000, (6, 8)).astype(np.int16))
blosc2.asarray(r.standard_normal((6, 8)), urlpath=f"{d}/k.b2nd", mode="w", chunks=(4, 3), blocks=(2, 3))
"#;

/// The fixture folder (made once per test binary).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        run_python(MAKE, &[dir.path().to_str().expect("utf-8 path")]);
        dir
    })
    .path()
}

/// A new empty folder inside the fixture folder (removed when dropped) and its name, so that
/// outputs can be named relative to the fixtures (`NAME/out.npy`) like the inputs.
pub fn scratch() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir_in(fixtures()).expect("temp dir");
    let name = dir
        .path()
        .file_name()
        .and_then(|n| n.to_str())
        .expect("utf-8 name")
        .to_string();
    (dir, name)
}

/// `-i NAME=SOURCE` for every fixture.
pub fn input_args() -> Vec<String> {
    INPUTS
        .iter()
        .flat_map(|(n, s)| ["-i".to_string(), format!("{n}={s}")])
        .collect()
}

/// Python defining `load(name)` for the fixtures in folder argv[1], and numpy's spelling of
/// the expression language's functions.
pub const NUMPY_PRELUDE: &str = r#"
import sys, json, numpy as np, h5py, blosc2
d = sys.argv[1]
def load(src):
    if src.endswith(".npy"):
        return np.load(f"{d}/{src}")
    if src.endswith(".b2nd"):
        return blosc2.open(f"{d}/{src}")[:]
    f, ds = src.split(":")
    with h5py.File(f"{d}/{f}", "r") as h:
        return h[ds][()]
def count(a, axis=None, keepdims=False):
    a = np.asarray(a)
    ok = ~np.isnan(a) if a.dtype.kind == "f" else np.ones(a.shape, bool)
    return np.sum(ok, axis=axis, keepdims=keepdims, dtype=np.int64)
ns = {"np": np, "numpy": np, "count": count, "nan": np.nan, "inf": np.inf, "pi": np.pi, "e": np.e,
      "newaxis": None, "astype": lambda x, t: np.asarray(x).astype(t), "asarray": np.asarray}
for f in ["sqrt", "exp", "log", "log10", "abs", "absolute", "sin", "cos", "tan", "floor", "ceil",
          "minimum", "maximum", "where", "transpose", "concatenate", "stack", "sum", "mean", "var",
          "std", "min", "max", "amin", "amax", "nansum", "nanmean", "nanvar", "nanstd", "nanmin",
          "nanmax", "negative", "invert", "logical_not"]:
    ns[f] = getattr(np, f)
def as_json(r):
    r = np.asarray(r)
    if r.dtype.kind == "c":
        return {"shape": list(r.shape), "dtype": r.dtype.name, "data": [str(x) for x in r.ravel().tolist()]}
    def conv(x):
        if isinstance(x, float):
            if x != x: return "nan"
            if x in (float("inf"), float("-inf")): return "inf" if x > 0 else "-inf"
        return x
    return {"shape": list(r.shape), "dtype": r.dtype.name, "data": [conv(x) for x in r.ravel().tolist()]}
"#;

/// numpy's results of `exprs` (JSON objects, or `{"error": ...}`), the inputs bound as in
/// [`INPUTS`].
pub fn numpy_results(exprs: &[&str]) -> Vec<Value> {
    let script = format!(
        "{NUMPY_PRELUDE}\nfor n, s in {}:\n    ns[n] = load(s)\nout = []\nfor x in json.loads(sys.argv[2]):\n    try:\n        with np.errstate(all='ignore'):\n            out.append(as_json(eval(x, ns)))\n    except Exception as e:\n        out.append({{'error': repr(e)}})\nprint(json.dumps(out))\n",
        serde_json::to_string(
            &INPUTS
                .iter()
                .map(|(n, s)| vec![n.to_string(), s.to_string()])
                .collect::<Vec<_>>()
        )
        .expect("json")
    );
    let list = serde_json::to_string(exprs).expect("json");
    let out = run_python(&script, &[fixtures().to_str().expect("utf-8"), &list]);
    serde_json::from_str::<Vec<Value>>(out.trim()).expect("numpy output")
}

/// How results must agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// Bit for bit (integers, booleans, selections).
    Exact,
    /// Within 1e-6 (float32) or 1e-12 (float64) of the result's magnitude.
    Close,
    /// Within 1e-6 of the result's magnitude: float64 results computed from float32
    /// intermediates (numpy rounds its float32 reductions differently).
    Loose,
}

/// Compares vastarray's JSON result with numpy's; `Err` says how they differ.
pub fn compare(ours: &Value, theirs: &Value, cmp: Cmp) -> Result<(), String> {
    if let Some(e) = theirs.get("error") {
        return Err(format!("numpy failed: {e}"));
    }
    if ours["shape"] != theirs["shape"] {
        return Err(format!(
            "shape {} vs numpy {}",
            ours["shape"], theirs["shape"]
        ));
    }
    if ours["dtype"] != theirs["dtype"] {
        return Err(format!(
            "dtype {} vs numpy {}",
            ours["dtype"], theirs["dtype"]
        ));
    }
    let dtype = ours["dtype"].as_str().unwrap_or("");
    let (a, b) = (
        ours["data"].as_array().ok_or("no data")?,
        theirs["data"].as_array().ok_or("numpy: no data")?,
    );
    if a.len() != b.len() {
        return Err(format!("{} values vs numpy {}", a.len(), b.len()));
    }
    let float = dtype.starts_with("float");
    let rtol = if dtype == "float32" || cmp == Cmp::Loose {
        1e-6
    } else {
        1e-12
    };
    let scale = b
        .iter()
        .filter_map(Value::as_f64)
        .fold(0f64, |m, v| m.max(v.abs()));
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let same = match (x, y) {
            (Value::String(s), Value::String(t)) => s == t,
            (Value::Number(_), Value::Number(_)) if !float => x == y,
            (Value::Number(_), Value::Number(_)) => {
                let (xf, yf) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                match (cmp, dtype) {
                    (Cmp::Exact, "float32") => xf as f32 == yf as f32,
                    (Cmp::Exact, _) => xf == yf,
                    _ => (xf - yf).abs() <= rtol * (xf.abs().max(yf.abs()) + scale),
                }
            }
            _ => x == y,
        };
        if !same {
            return Err(format!("element {k}: {x} vs numpy {y}"));
        }
    }
    Ok(())
}

/// The path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}
