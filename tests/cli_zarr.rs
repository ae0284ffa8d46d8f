//! The command with Zarr: `info` of an array and of a group's tree, `stats`/`eval` of
//! `DIR.zarr:/group/array`, `copy SRC DEST.zarr --chunks --shards --codec` read back by
//! zarr-python, and usage errors (exit 2) for options that do not fit.
#![cfg(all(feature = "zarr", feature = "cli"))]

mod cli_support;

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
