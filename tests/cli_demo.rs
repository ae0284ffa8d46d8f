//! `vastarray demo` and `vastarray mosaic` against the embedded tile server: the PNG holds
//! exactly the server's pixels (computed independently with `tile_pixel`), only the touched
//! tiles are requested, a persistent cache makes the second draw request nothing, and
//! `--explain` requests nothing.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::cli_support;

use cli_support::vastarray_in;
use std::path::Path;
use vastarray::io::tiles::TileFormat;
use vastarray::tileserver::{tile_pixel, TileServer, TileServerConfig};

/// Checks that `png` is the region `rows` x `cols` of zoom `z` at 256-pixel RGB tiles.
fn check_png(png: &Path, z: u32, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
    let img = image::open(png).expect("a PNG").into_rgb8();
    assert_eq!(
        (img.height() as usize, img.width() as usize),
        (rows.len(), cols.len())
    );
    let mut distinct = std::collections::HashSet::new();
    for (r, gr) in rows.clone().enumerate() {
        for (c, gc) in cols.clone().enumerate() {
            let want = tile_pixel(z, (gc / 256) as u64, (gr / 256) as u64, gr % 256, gc % 256);
            let got = img.get_pixel(c as u32, r as u32).0;
            assert_eq!(got, [want[0], want[1], want[2]], "pixel ({r}, {c})");
            distinct.insert(got);
        }
    }
    assert!(distinct.len() > 1000, "the image is nearly blank");
}

#[test]
fn demo_runs_and_draws_the_servers_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let out = vastarray_in(
        dir.path(),
        &[
            "demo", "--dir", "out", "--size", "64MiB", "--budget", "16MiB",
        ],
    )
    .ok();
    let s = &out.stdout;
    assert!(
        s.contains("draw 1:") && s.contains("server requests 6"),
        "{s}"
    );
    assert!(
        s.contains("draw 2:")
            && s.contains("server requests 0")
            && s.contains("from the cache file 6"),
        "{s}"
    );
    assert!(s.contains("the second draw requested nothing"), "{s}");
    assert!(s.contains("4.0x the budget"), "{s}");
    assert!(
        s.contains("reduction pass") && s.contains("projected peak"),
        "{s}"
    );
    assert!(s.contains("files written to out/"), "{s}");
    let out_dir = dir.path().join("out");
    for f in ["region.png", "tiles-z9.b2nd", "plan.txt", "plan.dot"] {
        assert!(out_dir.join(f).exists(), "{f} missing");
    }
    check_png(&out_dir.join("region.png"), 9, 54600..55000, 59300..59850);
    // Safe to run twice: the same output again.
    let again = vastarray_in(
        dir.path(),
        &["demo", "--dir", "out", "--size", "8MiB", "--budget", "4MiB"],
    )
    .ok();
    assert!(
        again.stdout.contains("server requests 6"),
        "{}",
        again.stdout
    );
}

#[test]
fn demo_explain_computes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = vastarray_in(
        dir.path(),
        &["demo", "--dir", "d", "--explain", "--size", "1GiB"],
    )
    .ok();
    assert!(out.stdout.contains("no tile requested"), "{}", out.stdout);
    assert!(!dir.path().join("d/region.png").exists());
}

#[test]
fn mosaic_fetches_only_touched_tiles_and_caches_them() {
    let server = TileServer::start(TileServerConfig::default()).unwrap();
    let template = server.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = mosaic_args(&template, "5", "300:700, 1000:1300", "m.png", &[]);
        args.extend_from_slice(&["--cache", "tiles.b2nd", "--overwrite"]);
        args.extend_from_slice(extra);
        vastarray_in(dir.path(), &args)
    };
    // --explain requests nothing and writes nothing.
    let o = run(&["--explain"]).ok();
    assert!(o.stdout.contains("plan"), "{}", o.stdout);
    assert_eq!(server.stats().total_requests, 0);
    assert!(!dir.path().join("m.png").exists());
    // Rows 300..700 touch tile rows 1, 2; columns 1000..1300 touch tile columns 3, 4, 5.
    let o = run(&[]).ok();
    assert!(
        o.stdout
            .contains("6 tile(s) fetched over HTTP, 0 from the cache"),
        "{}",
        o.stdout
    );
    let mut paths: Vec<String> = server.stats().per_path.keys().cloned().collect();
    paths.sort();
    let mut want: Vec<String> = [1u64, 2]
        .iter()
        .flat_map(|&y| [3u64, 4, 5].map(move |x| TileServer::tile_path(5, x, y, TileFormat::Png)))
        .collect();
    want.sort();
    assert_eq!(paths, want);
    check_png(&dir.path().join("m.png"), 5, 300..700, 1000..1300);
    // Again: every tile from the cache file, no request.
    let before = server.stats().total_requests;
    let o = run(&[]).ok();
    assert!(
        o.stdout
            .contains("0 tile(s) fetched over HTTP, 6 from the cache"),
        "{}",
        o.stdout
    );
    assert_eq!(server.stats().total_requests, before);
    check_png(&dir.path().join("m.png"), 5, 300..700, 1000..1300);
}

/// `mosaic TEMPLATE --zoom ZOOM --region REGION --out OUT`, then `extra`.
fn mosaic_args<'a>(
    template: &'a str,
    zoom: &'a str,
    region: &'a str,
    out: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "mosaic", template, "--zoom", zoom, "--region", region, "--out", out,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn mosaic_errors() {
    let server = TileServer::start(TileServerConfig {
        max_zoom: 3,
        ..Default::default()
    })
    .unwrap();
    let template = server.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    // A zoom the server does not have, with --missing error: a runtime failure naming the
    // URL. By default 404 tiles are transparent, as GDAL draws them.
    let o = vastarray_in(
        dir.path(),
        &mosaic_args(
            &template,
            "4",
            "0:10, 0:10",
            "x.png",
            &["--missing", "error"],
        ),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("/4/0/0.png"), "{}", o.stderr);
    assert!(!dir.path().join("x.png").exists());
    vastarray_in(
        dir.path(),
        &mosaic_args(&template, "4", "0:10, 0:10", "x.png", &[]),
    )
    .ok();
    let blank = image::open(dir.path().join("x.png")).unwrap();
    assert_eq!(blank.color(), image::ColorType::Rgba8);
    assert!(blank.to_rgba8().pixels().all(|p| p.0 == [0, 0, 0, 0]));
    std::fs::remove_file(dir.path().join("x.png")).unwrap();
    // Usage errors: a format that is not PNG, an integer index, a zero step, a template
    // without {y}, a cache that is not .b2nd.
    for args in [
        mosaic_args(&template, "2", "0:10, 0:10", "x.jpg", &[]),
        mosaic_args(&template, "2", "0:10, 5", "x.png", &[]),
        mosaic_args(&template, "2", "0:10:0, :", "x.png", &[]),
        mosaic_args("http://h/{z}/{x}.png", "2", "0:1, 0:1", "x.png", &[]),
        mosaic_args(&template, "2", "0:1, 0:1", "x.png", &["--cache", "c.txt"]),
    ] {
        let o = vastarray_in(dir.path(), &args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
    }
}
