//! The command with Zarr: `info` of an array and of a group's tree, `stats`/`eval` of
//! `DIR.zarr:/group/array`, `copy SRC DEST.zarr --chunks --shards --codec` read back by
//! zarr-python, and usage errors (exit 2) for options that do not fit.
#![cfg(all(feature = "zarr", feature = "cli"))]

use crate::cli_support;

use cli_support::{run_python, vastarray_in};

const WRITE: &str = r#"
import sys, numpy as np, zarr
d = sys.argv[1]
root = zarr.open_group(f"{d}/t.zarr", mode="w")
g = root.create_group("grp")
a = g.create_array("a", shape=(30, 20), chunks=(8, 8), shards=(16, 16), dtype="f4", fill_value=0)
a[:] = np.arange(600, dtype="f4").reshape(30, 20) * 0.5
root.create_array("b", shape=(7,), chunks=(3,), dtype="i2")[:] = np.arange(7, dtype="i2") - 3
"#;

#[test]
fn info_stats_and_copy_with_zarr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_python(WRITE, &[d.to_str().unwrap()]);

    let tree = vastarray_in(d, &["info", "t.zarr", "--json"]).ok().json();
    assert_eq!(tree["format"], "zarr");
    let t = &tree["tree"];
    assert_eq!(t[0]["path"], "/b");
    assert_eq!(t[1]["path"], "/grp");
    assert_eq!(t[1]["members"][0]["path"], "/grp/a");
    assert_eq!(t[1]["members"][0]["chunks"], serde_json::json!([8, 8]));
    let text = vastarray_in(d, &["info", "t.zarr"]).ok().stdout;
    assert!(
        text.contains("/grp/a  (30, 20) float32 chunks (8, 8)"),
        "{text}"
    );

    let info = vastarray_in(d, &["info", "t.zarr:/grp/a", "--json"])
        .ok()
        .json();
    assert_eq!(info["format"], "zarr v3");
    assert_eq!(info["chunks"], serde_json::json!([8, 8]));
    assert_eq!(info["shards"], serde_json::json!([16, 16]));
    assert_eq!(info["codec"], "zstd");

    let s = vastarray_in(
        d,
        &["stats", "t.zarr:/grp/a", "--select", "::3, 5:", "--json"],
    )
    .ok()
    .json();
    let want: Vec<f64> = (0..30)
        .step_by(3)
        .flat_map(|i| (5..20).map(move |j| (i * 20 + j) as f64 * 0.5))
        .collect();
    let mean = want.iter().sum::<f64>() / want.len() as f64;
    assert_eq!(s["count"], want.len());
    assert!((s["mean"].as_f64().unwrap() - mean).abs() < 1e-4, "{s}");

    vastarray_in(
        d,
        &[
            "copy",
            "t.zarr:/grp/a",
            "c.zarr",
            "--chunks",
            "5,4",
            "--shards",
            "10,20",
            "--codec",
            "lz4",
        ],
    )
    .ok();
    let py = run_python(
        r#"
import sys, numpy as np, zarr
a = zarr.open_array(sys.argv[1] + "/c.zarr", mode="r")
b = zarr.open_array(sys.argv[1] + "/t.zarr/grp/a", mode="r")
print(a.chunks, a.shards, type(a.metadata.codecs[0].codecs[1]).__name__, a.metadata.codecs[0].codecs[1].cname.value, bool((a[...] == b[...]).all()))
"#,
        &[d.to_str().unwrap()],
    );
    assert_eq!(py.trim(), "(5, 4) (10, 20) BloscCodec lz4 True");
    // v2 with gzip; a copy over it needs --overwrite.
    vastarray_in(
        d,
        &[
            "copy",
            "t.zarr:/b",
            "v2.zarr",
            "--zarr-format",
            "2",
            "--codec",
            "deflate",
        ],
    )
    .ok();
    let py = run_python(
        r#"
import sys, zarr
a = zarr.open_array(sys.argv[1] + "/v2.zarr", mode="r")
print(a.metadata.zarr_format, a.compressors[0].codec_id, a[...].tolist())
"#,
        &[d.to_str().unwrap()],
    );
    assert_eq!(py.trim(), "2 gzip [-3, -2, -1, 0, 1, 2, 3]");
    let again = vastarray_in(d, &["copy", "t.zarr:/b", "v2.zarr"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("--overwrite"), "{}", again.stderr);
    vastarray_in(d, &["copy", "t.zarr:/b", "v2.zarr", "--overwrite"]).ok();
    assert!(
        d.join("v2.zarr/zarr.json").is_file(),
        "replaced by a v3 array"
    );

    for (args, says) in [
        (
            &["copy", "t.zarr:/b", "x.npy", "--shards", "4"][..],
            "--shards applies to Zarr",
        ),
        (
            &["copy", "t.zarr:/b", "y.zarr", "--shards", "4"][..],
            "--shards needs --chunks",
        ),
        (
            &[
                "copy",
                "t.zarr:/b",
                "y.zarr",
                "--chunks",
                "3",
                "--shards",
                "4",
            ][..],
            "multiple of the chunk",
        ),
        (
            &[
                "copy",
                "t.zarr:/b",
                "y.zarr",
                "--chunks",
                "2",
                "--shards",
                "4",
                "--zarr-format",
                "2",
            ][..],
            "needs Zarr v3",
        ),
        (&["info", "t.zarr:/b", "--cache", "c.b2nd"][..], "--cache"),
    ] {
        let out = vastarray_in(d, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    let bad = vastarray_in(d, &["info", "t.zarr:/nothing"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("t.zarr:/nothing"), "{}", bad.stderr);
    assert!(!d.join("y.zarr").exists());
}

/// Groups whose metadata zarr-python consolidated, v3 and v2, and one array added after: the
/// tree `info` prints is the one zarr-python lists from the consolidated metadata.
const CONSOLIDATED: &str = r#"
import sys, warnings, numpy as np, zarr
warnings.simplefilter("ignore")
d = sys.argv[1]
for fmt in (3, 2):
    p = f"{d}/c{fmt}.zarr"
    root = zarr.open_group(p, mode="w", zarr_format=fmt)
    g = root.create_group("grp")
    h = g.create_group("sub")
    g.create_array("a", shape=(30, 20), chunks=(8, 8), dtype="f4", fill_value=0)[:] = 1
    h.create_array("deep", shape=(5,), chunks=(2,), dtype="i8")[:] = np.arange(5)
    root.create_array("b", shape=(7,), chunks=(3,), dtype="i2")[:] = 3
    zarr.consolidate_metadata(p)
    # Not in the consolidated metadata: zarr-python does not list it, nor should vastarray.
    zarr.open_group(p, mode="a", use_consolidated=False).create_array("late", shape=(2,), dtype="u1")
    r = zarr.open_group(p, mode="r")
    for name, m in sorted(r.members(max_depth=None)):
        print(f"c{fmt}.zarr", "/" + name, ",".join(map(str, m.shape)) if hasattr(m, "shape") else "group")
"#;

/// (path, shape as `a,b` or `group`) of every node of an `info --json` tree, depth first.
fn flatten_tree(nodes: &serde_json::Value, out: &mut Vec<(String, String)>) {
    for n in nodes.as_array().unwrap() {
        let path = n["path"].as_str().unwrap().to_string();
        if n["kind"] == "group" {
            out.push((path, "group".into()));
            flatten_tree(&n["members"], out);
        } else {
            let shape: Vec<String> = n["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.to_string())
                .collect();
            out.push((path, shape.join(",")));
        }
    }
}

#[test]
fn info_lists_a_consolidated_group_as_zarr_python_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let listed = run_python(CONSOLIDATED, &[d.to_str().unwrap()]);
    for name in ["c3.zarr", "c2.zarr"] {
        let mut want: Vec<(String, String)> = listed
            .lines()
            .filter(|l| l.starts_with(name))
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                (w[1].to_string(), w[2].to_string())
            })
            .collect();
        want.sort_by(|a, b| a.0.split('/').cmp(b.0.split('/')));
        assert_eq!(want.len(), 5, "{listed}");
        let tree = vastarray_in(d, &["info", name, "--json"]).ok().json();
        let mut got = Vec::new();
        flatten_tree(&tree["tree"], &mut got);
        assert_eq!(got, want, "{name}");
        assert!(d.join(name).join("late").is_dir());
    }
}

/// `copy SRC DEST.zarr:/group/array`: into a new hierarchy (its groups created) and into
/// zarr-python's consolidated groups (their consolidated metadata gains the new nodes, so
/// zarr-python, which reads it, sees them); a node that is an array, or a group of the other
/// format, cannot hold one.
#[test]
fn copy_into_a_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_python(CONSOLIDATED, &[d.to_str().unwrap()]);
    vastarray_in(d, &["copy", "c3.zarr:/grp/a", "c3.zarr:/grp/new/copy"]).ok();
    vastarray_in(
        d,
        &[
            "copy",
            "c2.zarr:/b",
            "c2.zarr:/more/b2",
            "--zarr-format",
            "2",
        ],
    )
    .ok();
    vastarray_in(
        d,
        &["copy", "c3.zarr:/b", "fresh.zarr:/x/y/z", "--chunks", "2"],
    )
    .ok();
    let py = run_python(
        r#"
import sys, warnings, numpy as np, zarr
warnings.simplefilter("ignore")
d = sys.argv[1]
c3 = zarr.open_group(f"{d}/c3.zarr", mode="r")
print(sorted(k for k, _ in c3.members(max_depth=None) if "new" in k))
print(bool((c3["grp/new/copy"][...] == c3["grp/a"][...]).all()), c3["grp/new/copy"].dtype)
c2 = zarr.open_group(f"{d}/c2.zarr", mode="r")
print(c2["more/b2"].metadata.zarr_format, c2["more/b2"][...].tolist(), c2["b"][...].tolist())
f = zarr.open_group(f"{d}/fresh.zarr", mode="r")
print(sorted(k for k, _ in f.members(max_depth=None)), f["x/y/z"].chunks, f["x/y/z"][...].tolist())
"#,
        &[d.to_str().unwrap()],
    );
    let lines: Vec<&str> = py.lines().collect();
    assert_eq!(lines[0], "['grp/new', 'grp/new/copy']", "{py}");
    assert_eq!(lines[1], "True float32", "{py}");
    assert_eq!(
        lines[2], "2 [3, 3, 3, 3, 3, 3, 3] [3, 3, 3, 3, 3, 3, 3]",
        "{py}"
    );
    assert_eq!(
        lines[3], "['x', 'x/y', 'x/y/z'] (2,) [3, 3, 3, 3, 3, 3, 3]",
        "{py}"
    );
    // vastarray lists the new nodes too (from the consolidated metadata).
    let tree = vastarray_in(d, &["info", "c3.zarr:/grp", "--json"])
        .ok()
        .json();
    let mut got = Vec::new();
    flatten_tree(&tree["tree"], &mut got);
    assert!(
        got.contains(&("/grp/new/copy".to_string(), "30,20".to_string())),
        "{got:?}"
    );
    for (dest, says) in [
        ("c3.zarr:/b/x", "is a Zarr array, not a group"),
        ("c2.zarr:/grp/v3", "is a Zarr v2 group"),
    ] {
        let out = vastarray_in(d, &["copy", "c3.zarr:/b", dest]);
        assert_eq!(out.code, 2, "{dest}: {out:?}");
        assert!(out.stderr.contains(says), "{dest}: {}", out.stderr);
    }
    assert!(!d.join("c3.zarr/b/x").exists() && !d.join("c2.zarr/grp/v3").exists());
}
