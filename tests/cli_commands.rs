//! `vastarray info`, `stats`, `copy` and `eval --out` end to end, checked by numpy, h5py and
//! python-blosc2 reading the same files; `--explain` runs nothing; failed stores leave no
//! file.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::cli_support;

use cli_support::{fixture, fixtures, run_python, scratch, vastarray, vastarray_in, NUMPY_PRELUDE};
use serde_json::Value;

/// Runs Python (with the fixture helpers; `load(SOURCE)` reads any source) printing JSON.
fn py(body: &str, args: &[&str]) -> Value {
    let script = format!("{NUMPY_PRELUDE}\n{body}");
    let mut all = vec![fixtures().to_str().expect("utf-8")];
    all.extend_from_slice(args);
    serde_json::from_str(run_python(&script, &all).trim()).expect("python JSON")
}

fn close(a: &Value, b: &Value, rtol: f64) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x == y,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= rtol * x.abs().max(y.abs()).max(1e-300),
            _ => a == b,
        },
    }
}

const STATS_PY: &str = r#"
src, sel, ddof, skip = sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5] == "1"
x = load(src)
x = eval("x[" + sel + "]") if sel else x
with np.errstate(all="ignore"):
    f = np if not skip else None
    if skip:
        r = dict(count=int(np.sum(~np.isnan(x))) if x.dtype.kind == "f" else x.size,
                 mean=np.nanmean(x), std=np.nanstd(x, ddof=ddof), var=np.nanvar(x, ddof=ddof),
                 min=np.nanmin(x), max=np.nanmax(x))
    else:
        r = dict(count=x.size, mean=np.mean(x), std=np.std(x, ddof=ddof), var=np.var(x, ddof=ddof),
                 min=np.min(x), max=np.max(x))
nan_count = int(np.isnan(x).sum()) if x.dtype.kind == "f" else 0
out = {k: as_json(v)["data"][0] for k, v in r.items()}
out.update(shape=list(x.shape), dtype=x.dtype.name, nan_count=nan_count, mean_dtype=np.asarray(r["mean"]).dtype.name)
print(json.dumps(out))
"#;

#[test]
fn stats_agree_with_numpy() {
    let cases: &[(&str, &str, &str, bool)] = &[
        ("a.npy", "", "0", false),
        ("n.npy", "", "0", false),
        ("n.npy", "", "0", true),
        ("n.npy", "1:, ::2", "1", true),
        ("i.npy", "", "1", false),
        ("u.npy", "::-1, 3", "0", false),
        ("big.npy", "::3, 100:", "0", false),
        ("big.npy", "", "2", true),
        ("fix.h5:/grp/h", "", "0", false),
        ("fix.h5:/w", "2:", "1", false),
        ("k.b2nd", "..., ::2", "0", false),
        ("g.npy", "1", "0", false),
    ];
    for (src, sel, ddof, skip) in cases {
        let mut args = vec!["stats", src, "--json", "--ddof", ddof];
        if !sel.is_empty() {
            args.extend(["--select", sel]);
        }
        if *skip {
            args.push("--skipna");
        }
        let ours = vastarray(&args).ok().json();
        let theirs = py(STATS_PY, &[src, sel, ddof, if *skip { "1" } else { "0" }]);
        let what = format!("stats {src} [{sel}] ddof={ddof} skipna={skip}");
        assert_eq!(ours["shape"], theirs["shape"], "{what}");
        assert_eq!(ours["dtype"], theirs["dtype"], "{what}");
        assert_eq!(ours["count"], theirs["count"], "{what}");
        assert_eq!(ours["nan_count"], theirs["nan_count"], "{what}");
        for k in ["min", "max"] {
            let (x, y) = (&ours[k], &theirs[k]);
            let same = match (x.as_f64(), y.as_f64()) {
                (Some(a), Some(b)) if ours["dtype"] == "float32" => a as f32 == b as f32,
                _ => x == y,
            };
            assert!(same, "{what}: {k} {x} vs numpy {y}");
        }
        // numpy accumulates float32 in float32; vastarray in float64, then rounds.
        let rtol = if theirs["mean_dtype"] == "float32" {
            2e-6
        } else {
            1e-12
        };
        for k in ["mean", "std", "var"] {
            assert!(
                close(&ours[k], &theirs[k], rtol),
                "{what}: {k} {} vs numpy {}",
                ours[k],
                theirs[k]
            );
        }
    }
}

#[test]
fn info_reports_what_the_files_hold() {
    let j = vastarray(&["info", "big.npy", "--json"]).ok().json();
    assert_eq!(j["shape"], serde_json::json!([3000, 1000]));
    assert_eq!(j["dtype"], "float32");
    assert_eq!(j["nbytes"], 12_000_000);
    assert_eq!(j["format"], "npy");
    assert_eq!(j["codec"], "none");
    assert_eq!(
        j["stored_bytes"],
        std::fs::metadata(fixture("big.npy")).unwrap().len()
    );
    let chunks: Vec<u64> = j["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(chunks[1], 1000);
    assert!(
        chunks[0] * 1000 * 4 <= 4 << 20,
        "chunks of at most 4 MiB: {chunks:?}"
    );
    let j = vastarray(&["info", "g.npy", "--json"]).ok().json();
    assert_eq!(j["shape"], serde_json::json!([5, 4, 3]));
    assert_eq!(j["fortran_order"], true);
    let j = vastarray(&["info", "fix.h5:/grp/h", "--json"]).ok().json();
    assert_eq!(j["shape"], serde_json::json!([6, 8]));
    assert_eq!(j["chunks"], serde_json::json!([4, 3]));
    assert_eq!(j["codec"], "deflate");
    assert_eq!(j["format"], "hdf5");
    let filters = j["filters"].to_string();
    assert!(
        filters.contains("shuffle") && filters.contains("deflate"),
        "{filters}"
    );
    let j = vastarray(&["info", "k.b2nd", "--json"]).ok().json();
    assert_eq!(j["chunks"], serde_json::json!([4, 3]));
    assert_eq!(j["blocks"], serde_json::json!([2, 3]));
    assert_eq!(j["dtype"], "float64");
    assert_eq!(j["format"], "b2nd");
    // An HDF5 file without a dataset path: its tree.
    let j = vastarray(&["info", "fix.h5", "--json"]).ok().json();
    let tree = j["tree"].to_string();
    assert!(
        tree.contains("\"/grp\"") && tree.contains("\"/grp/h\"") && tree.contains("\"/w\""),
        "{tree}"
    );
    let text = vastarray(&["info", "fix.h5"]).ok().stdout;
    assert!(
        text.contains("/grp/h  (6, 8) float32 chunks (4, 3)"),
        "{text}"
    );
}

const SAME_PY: &str = r#"
a, b, sel = load(sys.argv[2]), load(sys.argv[3]), sys.argv[4]
a = eval("a[" + sel + "]") if sel else a
print(json.dumps({"same": bool(a.shape == b.shape and a.dtype.name == b.dtype.name and np.array_equal(a, b, equal_nan=True)),
                  "shape": list(b.shape), "dtype": b.dtype.name}))
"#;

const H5_PY: &str = r#"
import os
f, ds = sys.argv[2].split(":")
with h5py.File(os.path.join(d, f), "r") as h:
    x = h[ds]
    print(json.dumps({"chunks": list(x.chunks) if x.chunks else None, "compression": x.compression,
                      "complete": int(x.attrs.get("vastarray_complete", -1))}))
"#;

const B2_PY: &str = r#"
import os
x = blosc2.open(os.path.join(d, sys.argv[2]))
print(json.dumps({"chunks": list(x.chunks), "codec": str(x.schunk.cparams.codec.name).lower()}))
"#;

#[test]
fn copies_round_trip() {
    let (out, out_name) = scratch();
    let rel = |name: &str| format!("{out_name}/{name}");
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("big.npy", "copy.npy", "", &[]),
        ("big.npy", "sel.npy", "10:2000:3, ::-7", &[]),
        ("g.npy", "g.npy", "", &[]),
        ("be.npy", "be.npy", "", &[]),
        (
            "n.npy",
            "n.b2nd",
            "",
            &["--chunks", "4,4", "--codec", "lz4"],
        ),
        (
            "big.npy",
            "big.b2nd",
            "::2",
            &["--codec", "zstd", "--level", "3"],
        ),
        (
            "i.npy",
            "i.h5:/copies/i",
            "",
            &["--chunks", "3,5", "--codec", "deflate", "--level", "6"],
        ),
        ("k.b2nd", "k.h5:/k", "1:", &[]),
        ("fix.h5:/grp/h", "h.npy", "::-1", &[]),
        ("fix.h5:/w", "w.b2nd", "", &["--codec", "none"]),
    ];
    for (src, dest, sel, extra) in cases {
        let d = rel(dest);
        let mut args = vec!["copy", src, d.as_str(), "--budget", "1MiB", "--quiet"];
        if !sel.is_empty() {
            args.extend(["--select", sel]);
        }
        args.extend_from_slice(extra);
        let o = vastarray(&args).ok();
        assert!(o.stderr.is_empty(), "--quiet: {}", o.stderr);
        let r = py(SAME_PY, &[src, &d, sel]);
        assert_eq!(r["same"], true, "copy {src} [{sel}] -> {dest}: {r}");
    }
    let h = py(H5_PY, &[&rel("i.h5:/copies/i")]);
    assert_eq!(h["chunks"], serde_json::json!([3, 5]));
    assert_eq!(h["compression"], "gzip");
    assert_eq!(h["complete"], 1);
    let b = py(B2_PY, &[&rel("n.b2nd")]);
    assert_eq!(b["chunks"], serde_json::json!([4, 4]));
    assert_eq!(b["codec"], "lz4");
    // A second copy to an existing file needs --overwrite, checked before anything runs.
    let d = rel("copy.npy");
    let o = vastarray(&["copy", "a.npy", &d]);
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("exists already") && o.stderr.contains("--overwrite"),
        "{}",
        o.stderr
    );
    vastarray(&["copy", "a.npy", &d, "--overwrite"]).ok();
    assert_eq!(py(SAME_PY, &["a.npy", &d, ""])["same"], true);
    let o = vastarray(&["copy", "a.npy", &rel("i.h5:/copies/i")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    // Options that do not fit the target are usage errors.
    for bad in [
        vec!["copy", "a.npy", "x.npy", "--codec", "zstd"],
        vec!["copy", "a.npy", "x.npy", "--chunks", "2,2"],
        vec!["copy", "a.npy", "x.h5:/x", "--codec", "lz4"],
        vec!["copy", "a.npy", "x.b2nd", "--chunks", "2,2,2"],
        vec!["copy", "a.npy", "x.b2nd", "--chunks", "2,0"],
        vec!["copy", "a.npy", "x.h5"],
    ] {
        let o = vastarray(&bad);
        assert_eq!(o.code, 2, "{bad:?}: {}", o.stderr);
    }
    // No temporary file is left anywhere.
    let leftovers: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

const EVAL_OUT_PY: &str = r#"
x = load("big.npy")
with np.errstate(all="ignore"):
    want = (x - x.mean(axis=0)) / x.std(axis=0)
got = load(sys.argv[2])
print(json.dumps({"dtype": got.dtype.name, "shape": list(got.shape),
                  "err": float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))}))
"#;

#[test]
fn eval_out_stores_a_staged_expression_in_every_format() {
    let (_out, name) = scratch();
    for dest in ["z.npy", "z.b2nd", "z.h5:/z"] {
        let d = format!("{name}/{dest}");
        let o = vastarray(&[
            "eval",
            "(big - big.mean(axis=0)) / big.std(axis=0)",
            "-i",
            "big=big.npy",
            "--out",
            &d,
            "--budget",
            "32MiB",
            "--json",
        ])
        .ok();
        let j = o.json();
        assert_eq!(j["shape"], serde_json::json!([3000, 1000]));
        let r = py(EVAL_OUT_PY, &[&d]);
        assert_eq!(r["dtype"], "float32", "{dest}");
        assert!(r["err"].as_f64().unwrap() < 1e-5, "{dest}: {r}");
    }
}

#[test]
fn explain_runs_nothing_and_writes_nothing() {
    let (out, name) = scratch();
    let d = format!("{name}/never.npy");
    let o = vastarray(&[
        "eval",
        "big - big.mean(axis=0)",
        "-i",
        "big=big.npy",
        "--out",
        &d,
        "--explain",
    ])
    .ok();
    assert!(
        o.stdout.contains("plan (nothing was read or written)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("stage") || o.stdout.contains("pass"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("store:"), "{}", o.stdout);
    let o = vastarray(&[
        "copy",
        "big.npy",
        &format!("{name}/never.b2nd"),
        "--explain",
    ])
    .ok();
    assert!(o.stdout.contains("plan"), "{}", o.stdout);
    let o = vastarray(&["stats", "big.npy", "--explain"]).ok();
    assert!(o.stdout.contains("projected peak"), "{}", o.stdout);
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "--explain wrote a file"
    );
}

const CORRUPT_PY: &str = r#"
import os
p = os.path.join(d, sys.argv[2])
with h5py.File(p, "w") as f:
    f.create_dataset("x", data=np.random.default_rng(1).standard_normal((400, 1000)).astype(np.float32),
                     chunks=(50, 1000), compression="gzip")
with h5py.File(p, "r") as f:
    info = f["x"].id.get_chunk_info(5)
with open(p, "r+b") as fh:
    fh.seek(info.byte_offset + 16)
    fh.write(b"\xff" * 64)
print(json.dumps({"chunk": list(info.chunk_offset)}))
"#;

#[test]
fn a_failed_store_leaves_no_file() {
    // Chunk 5 of 8 of the source is corrupt: the store fails after writing several buffers.
    let (out, name) = scratch();
    let (_src_dir, src_dir_name) = scratch();
    let src_name = format!("{src_dir_name}/bad.h5");
    py(CORRUPT_PY, &[&src_name]);
    let input = format!("x={src_name}:/x");
    for dest in ["f.npy", "f.b2nd", "f.h5:/f"] {
        let d = format!("{name}/{dest}");
        let o = vastarray(&[
            "eval", "x * 2", "-i", &input, "--out", &d, "--budget", "1MiB",
        ]);
        assert_eq!(o.code, 1, "{dest}: {}{}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("bad.h5") && o.stderr.contains("[5, 0]"),
            "{}",
            o.stderr
        );
    }
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn results_print_the_same_from_any_folder() {
    // Sources are paths relative to the working folder.
    let here = vastarray_in(fixtures(), &["eval", "sum(c)", "-i", "c=c.npy", "--json"]).ok();
    let abs = fixture("c.npy");
    let there = vastarray_in(
        std::path::Path::new("/"),
        &[
            "eval",
            "sum(c)",
            "-i",
            &format!("c={}", abs.display()),
            "--json",
        ],
    )
    .ok();
    assert_eq!(here.stdout, there.stdout);
    assert_eq!(here.json()["data"], serde_json::json!([570]));
}
