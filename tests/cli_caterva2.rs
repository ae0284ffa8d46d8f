//! `c2+http://` sources against a real `cat2-server`: `info`, `stats` and `eval` read a dataset
//! python-blosc2 wrote, results equal numpy's, and `--cache FILE.b2nd` keeps exactly the
//! chunks that were read.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::caterva2_support;
use crate::cli_support;

use caterva2_support::Server;
use cli_support::{run_python, vastarray_in};

const WRITE: &str = r#"
import sys, json, numpy as np, blosc2
x = np.random.default_rng(5).standard_normal((200, 120))
x[100, 100] = np.nan
blosc2.asarray(x, chunks=(50, 40), blocks=(25, 20), urlpath=sys.argv[1] + "/x.b2nd", mode="w")
with np.errstate(all="ignore"):
    print(json.dumps({"mean": float(np.nanmean(x)), "std": float(np.nanstd(x, ddof=1)),
                      "corner": x[:50, :40].sum(axis=0).tolist(), "count": int(np.sum(~np.isnan(x)))}))
"#;

#[test]
fn remote_sources_with_a_persistent_cache() {
    let server = Server::start_public();
    let want: serde_json::Value =
        serde_json::from_str(run_python(WRITE, &[server.public_dir().to_str().unwrap()]).trim())
            .unwrap();
    let url = format!(
        "c2+{}@public/x.b2nd",
        server.base.trim_end_matches('/').to_string() + "/"
    );
    let dir = tempfile::tempdir().unwrap();
    let j = vastarray_in(dir.path(), &["info", &url, "--json"])
        .ok()
        .json();
    assert_eq!(j["shape"], serde_json::json!([200, 120]));
    assert_eq!(j["chunks"], serde_json::json!([50, 40]));
    assert_eq!(j["dtype"], "float64");
    assert_eq!(j["format"], "caterva2");

    // A corner through a fresh cache reads (and keeps) one chunk of twelve.
    let o = vastarray_in(
        dir.path(),
        &[
            "eval",
            "x[:50, :40].sum(axis=0)",
            "-i",
            &format!("x={url}"),
            "--cache",
            "c.b2nd",
            "--json",
        ],
    )
    .ok();
    let got: Vec<f64> = o.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let exp: Vec<f64> = want["corner"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (g, e) in got.iter().zip(&exp) {
        assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
    }
    let j = vastarray_in(dir.path(), &["info", &url, "--cache", "c.b2nd", "--json"])
        .ok()
        .json();
    assert_eq!(j["cached_chunks"], 1);

    // Stats read the rest; afterwards every chunk is in the cache file.
    let s = vastarray_in(
        dir.path(),
        &[
            "stats", &url, "--cache", "c.b2nd", "--skipna", "--ddof", "1", "--json",
        ],
    )
    .ok()
    .json();
    assert_eq!(s["count"], want["count"]);
    assert_eq!(s["nan_count"], 1);
    for k in ["mean", "std"] {
        let (g, e) = (s[k].as_f64().unwrap(), want[k].as_f64().unwrap());
        assert!((g - e).abs() <= 1e-12 * e.abs(), "{k}: {g} vs {e}");
    }
    let j = vastarray_in(dir.path(), &["info", &url, "--cache", "c.b2nd", "--json"])
        .ok()
        .json();
    assert_eq!(j["cached_chunks"], 12);
    // python-blosc2 opens the cache file as an ordinary array.
    let shape = run_python(
        "import sys, blosc2; print(list(blosc2.open(sys.argv[1]).shape))",
        &[dir.path().join("c.b2nd").to_str().unwrap()],
    );
    assert_eq!(shape.trim(), "[200, 120]");

    // A missing dataset: a failure naming it (exit 1).
    let o = vastarray_in(dir.path(), &["info", &url.replace("x.b2nd", "nope.b2nd")]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("nope.b2nd"), "{}", o.stderr);
}
