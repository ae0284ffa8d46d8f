//! Tile pyramids as GIS tools serve and read them (issue 15): a pyramid cut by GDAL's
//! `gdal2tiles` (`tests/fixtures/gdal2tiles/`, see its README) and the embedded tile server,
//! drawn by `vastarray mosaic` and read by `TileLevelSource`, checked against GDAL's own
//! mosaic, PIL's decoding and grey conversion, mercantile's Web Mercator tiling and the
//! server's pixel function: missing tiles, TMS rows, quadkeys, `@2x`, WebP, alpha, edges,
//! `--bbox` and world files.

#![cfg(all(feature = "cli", feature = "test-server"))]

use crate::cli_support;

use cli_support::{run_python, vastarray_in};
use image::RgbaImage;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::{
    MissingTiles, TileFormat, TileLayout, TileLevelConfig, TileLevelSource, UrlTemplate,
};
use vastarray::tileserver::{tile_pixel, TileId, TileServer, TileServerConfig};
use vastarray::{ChunkSource, DType};

/// The gdal2tiles fixture.
fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gdal2tiles")
}

/// A server of the files of the gdal2tiles fixture.
fn fixture_server() -> TileServer {
    TileServer::start(TileServerConfig {
        root: Some(fixture_dir()),
        ..Default::default()
    })
    .unwrap()
}

/// A server of generated tiles of `size` pixels and `channels` channels.
fn server(size: usize, channels: usize, f: impl FnOnce(&mut TileServerConfig)) -> TileServer {
    let mut config = TileServerConfig {
        tile_size: size,
        channels,
        ..Default::default()
    };
    f(&mut config);
    TileServer::start(config).unwrap()
}

/// `vastarray mosaic TEMPLATE --zoom Z --tile-size SIZE` and `extra` in `dir`.
fn mosaic(dir: &Path, template: &str, zoom_size: (u32, usize), extra: &[&str]) -> cli_support::Out {
    let (zoom, size) = (zoom_size.0.to_string(), zoom_size.1.to_string());
    let mut args = vec!["mosaic", template, "--zoom", &zoom, "--tile-size", &size];
    args.extend_from_slice(extra);
    vastarray_in(dir, &args)
}

/// A PNG's size and channels, and its pixels as RGBA.
fn read_png(path: &Path) -> (u32, u32, u8, RgbaImage) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let channels = img.color().channel_count();
    let rgba = img.to_rgba8();
    (rgba.height(), rgba.width(), channels, rgba)
}

/// The server pixel at global pixel (`row`, `col`) of zoom `z` with tiles of `size`.
fn pixel_at(z: u32, size: usize, row: usize, col: usize) -> [u8; 4] {
    tile_pixel(
        z,
        (col / size) as u64,
        (row / size) as u64,
        row % size,
        col % size,
    )
}

/// The tile paths the server was asked for.
fn asked(s: &TileServer) -> BTreeSet<String> {
    s.stats().per_path.keys().cloned().collect()
}

#[test]
fn a_gdal2tiles_pyramid_draws_as_gdal_draws_it() {
    // GDAL's TMS driver read this window of zoom 4 of the same pyramid, served over HTTP,
    // with 404 tiles as transparent blocks (gdal_tms.xml; README). Most of the window is
    // outside the data, so most tiles it touches are 404.
    let s = fixture_server();
    let dir = tempfile::tempdir().unwrap();
    let template = format!("{}/xyz/{{z}}/{{x}}/{{y}}.png", s.base_url());
    let o = mosaic(
        dir.path(),
        &template,
        (4, 256),
        &["--region", "1000:1850, 2000:2700", "--out", "m.png"],
    )
    .ok();
    assert!(o.stdout.contains("missing (404)"), "{}", o.stdout);
    let (h, w, channels, ours) = read_png(&dir.path().join("m.png"));
    let (gh, gw, gchannels, gdal) =
        read_png(&fixture_dir().join("gdal_z4_rows1000-1850_cols2000-2700.png"));
    assert_eq!((h, w, channels), (gh, gw, gchannels));
    assert_eq!((h, w, channels), (850, 700, 4));
    let differ = ours
        .pixels()
        .zip(gdal.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differ, 0, "pixels that differ from GDAL's");
    // Both transparent and opaque pixels are there: the comparison is not of two blanks.
    let alphas: HashSet<u8> = ours.pixels().map(|p| p.0[3]).collect();
    assert!(alphas.contains(&0) && alphas.contains(&255), "{alphas:?}");
    // Tiles x 7..=10, y 3..=7 were asked for, each once.
    let want: BTreeSet<String> = (7..=10)
        .flat_map(|x| (3..=7).map(move |y| format!("/xyz/4/{x}/{y}.png")))
        .collect();
    assert_eq!(asked(&s), want);
}

#[test]
fn missing_tiles_fill_or_fail_and_other_failures_stay_errors() {
    let missing = TileId::new(2, 1, 0);
    let s = server(64, 3, |c| {
        c.not_found.insert(missing);
    });
    let template = s.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    let region = ["--region", "0:64, 0:128"];
    // Default: transparent, so the picture is RGBA; the tile that exists is opaque and exact.
    mosaic(
        dir.path(),
        &template,
        (2, 64),
        &[&region[..], &["--out", "t.png"]].concat(),
    )
    .ok();
    let (h, w, channels, img) = read_png(&dir.path().join("t.png"));
    assert_eq!((h, w, channels), (64, 128, 4));
    for (col, row, p) in img.enumerate_pixels() {
        let (row, col) = (row as usize, col as usize);
        let want = if col >= 64 {
            [0, 0, 0, 0]
        } else {
            let q = pixel_at(2, 64, row, col);
            [q[0], q[1], q[2], 255]
        };
        assert_eq!(p.0, want, "pixel ({row}, {col})");
    }
    // A value: that value in every channel (alpha too), so an opaque RGB picture here.
    mosaic(
        dir.path(),
        &template,
        (2, 64),
        &[&region[..], &["--missing", "255", "--out", "v.png"]].concat(),
    )
    .ok();
    let (_, _, channels, img) = read_png(&dir.path().join("v.png"));
    assert_eq!(channels, 3);
    assert_eq!(img.get_pixel(100, 10).0, [255, 255, 255, 255]);
    // error: exit 1 naming the URL of the missing tile; no picture.
    let o = mosaic(
        dir.path(),
        &template,
        (2, 64),
        &[&region[..], &["--missing", "error", "--out", "e.png"]].concat(),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("/2/1/0.png"), "{}", o.stderr);
    assert!(!dir.path().join("e.png").exists());
    // A tile that fails with 500 is an error whatever --missing says.
    let failing = server(64, 3, |c| {
        c.always_fail.insert(missing);
    });
    let o = mosaic(
        dir.path(),
        &failing.url_template(TileFormat::Png),
        (2, 64),
        &[&region[..], &["--out", "f.png", "--timeout", "5s"]].concat(),
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("500"), "{}", o.stderr);
    let o = mosaic(
        dir.path(),
        &template,
        (2, 64),
        &[&region[..], &["--missing", "grey", "--out", "g.png"]].concat(),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn tms_rows_through_flipped_y_read_what_xyz_rows_read() {
    // gdal2tiles cut the same image twice: XYZ rows and TMS rows (y from the bottom).
    let s = fixture_server();
    let client = Arc::new(HttpClient::new(HttpConfig::default()).unwrap());
    let level = |template: String| {
        let mut cfg = TileLevelConfig::new(UrlTemplate::new(&template).unwrap(), 4);
        cfg.layout.channels = 4;
        cfg.missing = MissingTiles::Fill(0.0);
        TileLevelSource::new(client.clone(), cfg).unwrap()
    };
    let region = [1000..1850, 2000..2700, 0..4];
    let xyz = level(format!("{}/xyz/{{z}}/{{x}}/{{y}}.png", s.base_url()))
        .read_region(&region)
        .unwrap();
    let tms = level(format!("{}/tms/{{z}}/{{x}}/{{-y}}.png", s.base_url()))
        .read_region(&region)
        .unwrap();
    assert_eq!(xyz, tms);
    let wrong = level(format!("{}/tms/{{z}}/{{x}}/{{y}}.png", s.base_url()))
        .read_region(&region)
        .unwrap();
    assert_ne!(xyz, wrong, "TMS rows read as XYZ rows must differ");
    // TMS file 4/8/9.png is XYZ row 16 - 1 - 9 = 6.
    assert!(asked(&s).contains("/tms/4/8/9.png"));
}

#[test]
fn tms_quadkey_retina_and_subdomain_addresses_on_the_embedded_server() {
    let dir = tempfile::tempdir().unwrap();
    let check = |png: &str,
                 z: u32,
                 size: usize,
                 rows: std::ops::Range<usize>,
                 cols: std::ops::Range<usize>| {
        let (h, w, channels, img) = read_png(&dir.path().join(png));
        assert_eq!(
            (h as usize, w as usize, channels),
            (rows.len(), cols.len(), 3)
        );
        for (c, r, p) in img.enumerate_pixels() {
            let q = pixel_at(z, size, rows.start + r as usize, cols.start + c as usize);
            assert_eq!(p.0, [q[0], q[1], q[2], 255], "{png} pixel ({r}, {c})");
        }
    };
    // A TMS server: {-y} gives the XYZ picture.
    let tms = server(32, 3, |c| c.tms = true);
    let template = format!("{}/{{z}}/{{x}}/{{-y}}.png", tms.base_url());
    mosaic(
        dir.path(),
        &template,
        (3, 32),
        &["--region", "20:90, 40:70", "--out", "tms.png"],
    )
    .ok();
    check("tms.png", 3, 32, 20..90, 40..70);
    // Rows 20..90 are XYZ tile rows 0..=2, which a TMS server numbers 7, 6, 5.
    let rows: BTreeSet<String> = asked(&tms)
        .iter()
        .map(|p| p.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(rows, ["5.png", "6.png", "7.png"].map(String::from).into());
    // Quadkeys.
    let q = server(32, 3, |_| {});
    let template = format!("{}/q/{{q}}.png", q.base_url());
    mosaic(
        dir.path(),
        &template,
        (3, 32),
        &["--region", "90:130, 60:100", "--out", "q.png"],
    )
    .ok();
    check("q.png", 3, 32, 90..130, 60..100);
    // Tile (x=1, y=2) of zoom 3 is quadkey 021 (Bing: digit = 2 * ybit + xbit).
    assert!(asked(&q).contains("/q/021.png"), "{:?}", asked(&q));
    // @2x: 64-pixel tiles where the plain ones are 32.
    let r = server(32, 3, |_| {});
    let template = format!("{}/{{z}}/{{x}}/{{y}}{{r}}.png", r.base_url());
    mosaic(
        dir.path(),
        &template,
        (2, 64),
        &["--retina", "--region", "10:100, 50:70", "--out", "r.png"],
    )
    .ok();
    check("r.png", 2, 64, 10..100, 50..70);
    assert!(
        asked(&r).iter().all(|p| p.ends_with("@2x.png")),
        "{:?}",
        asked(&r)
    );
    // {s}: the subdomains take turns by tile, subdomains[(x + y) % n] (Leaflet's rule); the
    // server ignores the segment, so the picture is the plain one. Given as a list, as letters,
    // and by default (a, b, c).
    for (i, flag) in [Some("x,y,z"), Some("xyz"), None].into_iter().enumerate() {
        let s = server(32, 3, |_| {});
        let template = format!("{}/{{s}}/{{z}}/{{x}}/{{y}}.png", s.base_url());
        let png = format!("s{i}.png");
        let mut extra = vec!["--region", "20:90, 40:70", "--out", png.as_str()];
        if let Some(list) = flag {
            extra.extend(["--subdomains", list]);
        }
        mosaic(dir.path(), &template, (3, 32), &extra).ok();
        check(&png, 3, 32, 20..90, 40..70);
        let names = if flag.is_some() {
            ["x", "y", "z"]
        } else {
            ["a", "b", "c"]
        };
        // Rows 20..90 and columns 40..70 are tiles y 0..=2, x 1..=2, each asked for once.
        let want: BTreeSet<String> = (0..=2u64)
            .flat_map(|y| (1..=2u64).map(move |x| (x, y)))
            .map(|(x, y)| format!("/{}/3/{x}/{y}.png", names[((x + y) % 3) as usize]))
            .collect();
        assert_eq!(asked(&s), want);
    }
    // --subdomains where the template has no {s} is a usage error.
    let template = format!("{}/{{z}}/{{x}}/{{y}}.png", r.base_url());
    let out = mosaic(
        dir.path(),
        &template,
        (3, 32),
        &[
            "--region",
            "0:8, 0:8",
            "--out",
            "no.png",
            "--subdomains",
            "a,b",
        ],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("has no {s}"), "{}", out.stderr);
}

#[test]
fn webp_tiles_decode_lossless_exactly_and_lossy_as_libwebp() {
    // Lossless RGBA WebP from the embedded server: exactly the server's pixels.
    let s = server(32, 4, |_| {});
    let dir = tempfile::tempdir().unwrap();
    mosaic(
        dir.path(),
        &s.url_template(TileFormat::WebP),
        (2, 32),
        &["--region", "10:60, 20:90", "--out", "w.png"],
    )
    .ok();
    let (h, w, channels, img) = read_png(&dir.path().join("w.png"));
    assert_eq!((h, w, channels), (50, 70, 4));
    for (c, r, p) in img.enumerate_pixels() {
        assert_eq!(p.0, pixel_at(2, 32, 10 + r as usize, 20 + c as usize));
    }
    // Lossy WebP tiles cut by gdal2tiles (libwebp): the mosaic against PIL's decoding
    // (libwebp) of the same files, assembled by numpy.
    let f = fixture_server();
    let template = format!("{}/webp/{{z}}/{{x}}/{{y}}.webp", f.base_url());
    mosaic(
        dir.path(),
        &template,
        (4, 256),
        &["--region", "1100:1700, 2048:2560", "--out", "lossy.png"],
    )
    .ok();
    let report = run_python(
        r#"
import sys, os, numpy as np
from PIL import Image
root, png = sys.argv[1], sys.argv[2]
out = np.zeros((600, 512, 4), np.uint8)
for ty in range(4, 7):
    for tx in range(8, 10):
        p = f"{root}/webp/4/{tx}/{ty}.webp"
        if not os.path.exists(p):
            continue
        t = np.asarray(Image.open(p).convert("RGBA"))
        r0, c0 = ty * 256 - 1100, tx * 256 - 2048
        rs, cs = slice(max(r0, 0), min(r0 + 256, 600)), slice(c0, c0 + 256)
        out[rs, cs] = t[rs.start - r0:rs.stop - r0]
ours = np.asarray(Image.open(png).convert("RGBA")).astype(int)
d = np.abs(ours - out.astype(int))
print(d.max(), (d > 0).mean(), len(np.unique(out.reshape(-1, 4), axis=0)))
"#,
        &[
            fixture_dir().to_str().unwrap(),
            dir.path().join("lossy.png").to_str().unwrap(),
        ],
    );
    let v: Vec<f64> = report
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(v[2] > 100.0, "the reference is nearly blank: {report}");
    assert_eq!(
        v[0], 0.0,
        "largest difference from libwebp, share differing: {report}"
    );
}

#[test]
fn alpha_is_kept_composited_or_grey_as_pil_makes_it() {
    let s = server(32, 4, |_| {});
    let template = s.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    let region = ["--region", "5:45, 30:100"];
    let run = |out: &str, extra: &[&str]| {
        mosaic(
            dir.path(),
            &template,
            (2, 32),
            &[&region[..], extra, &["--out", out]].concat(),
        )
        .ok();
        read_png(&dir.path().join(out))
    };
    let at = |r: u32, c: u32| pixel_at(2, 32, 5 + r as usize, 30 + c as usize);
    // auto: the tiles have alpha, so RGBA, exactly.
    let (_, _, channels, rgba) = run("a.png", &[]);
    assert_eq!(channels, 4);
    for (c, r, p) in rgba.enumerate_pixels() {
        assert_eq!(p.0, at(r, c));
    }
    // --channels 3: alpha dropped as asked (the old default).
    let (_, _, channels, rgb) = run("3.png", &["--channels", "3"]);
    assert_eq!(channels, 3);
    assert_eq!(rgb.get_pixel(3, 4).0[..3], at(4, 3)[..3]);
    // Over a background: round((c * a + b * (255 - a)) / 255), written out by hand.
    let bg = [250u32, 128, 3];
    let (_, _, channels, over) = run("bg.png", &["--background", "#fa8003"]);
    assert_eq!(channels, 3);
    let mut partial = 0;
    for (c, r, p) in over.enumerate_pixels() {
        let q = at(r, c);
        let a = q[3] as u32;
        partial += usize::from(a < 255);
        for k in 0..3 {
            let want = ((q[k] as u32 * a + bg[k] * (255 - a)) as f64 / 255.0 + 0.5).floor();
            assert_eq!(p.0[k] as f64, want, "pixel ({r}, {c}) channel {k}");
        }
    }
    assert!(
        partial > 1000,
        "too few partly transparent pixels: {partial}"
    );
    // Grey: PIL's convert("L") of the RGBA picture, and convert("LA") for two channels.
    run("l.png", &["--channels", "1"]);
    run("la.png", &["--channels", "2"]);
    let report = run_python(
        r#"
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
rgba = Image.open(f"{d}/a.png")
for name, mode in (("l.png", "L"), ("la.png", "LA")):
    ours = Image.open(f"{d}/{name}")
    assert ours.mode == mode, (name, ours.mode)
    pil = np.asarray(rgba.convert(mode)).astype(int)
    print(int(np.abs(np.asarray(ours).astype(int) - pil).max()), len(np.unique(pil)))
"#,
        &[dir.path().to_str().unwrap()],
    );
    for line in report.lines() {
        let v: Vec<i64> = line
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(v[0], 0, "largest difference from PIL: {report}");
        assert!(v[1] > 50, "nearly blank: {report}");
    }
    // A background with RGBA output is a contradiction.
    let o = mosaic(
        dir.path(),
        &template,
        (2, 32),
        &[
            &region[..],
            &["--channels", "4", "--background", "0,0,0", "--out", "x.png"],
        ]
        .concat(),
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn a_region_past_the_edge_is_an_error_naming_the_extent_unless_clipped() {
    let s = server(32, 3, |_| {});
    let template = s.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    // Zoom 2 of 32-pixel tiles: 128 x 128 pixels.
    for region in ["100:200, 0:10", "0:10, 120:129", "-129:, 0:10"] {
        let o = mosaic(
            dir.path(),
            &template,
            (2, 32),
            &["--region", region, "--out", "x.png"],
        );
        assert_eq!(o.code, 2, "{region}: {}", o.stderr);
        assert!(
            o.stderr.contains("128 rows and 128 columns"),
            "{}",
            o.stderr
        );
        assert!(o.stderr.contains("--clip"), "{}", o.stderr);
    }
    assert_eq!(s.stats().total_requests, 0);
    // Up to the edge exactly is fine, and --clip clips as numpy does.
    mosaic(
        dir.path(),
        &template,
        (2, 32),
        &["--region", "100:128, 0:10", "--out", "e.png"],
    )
    .ok();
    assert_eq!(read_png(&dir.path().join("e.png")).0, 28);
    mosaic(
        dir.path(),
        &template,
        (2, 32),
        &["--region", "100:200, 0:10", "--clip", "--out", "c.png"],
    )
    .ok();
    let (h, w, _, img) = read_png(&dir.path().join("c.png"));
    assert_eq!((h, w), (28, 10));
    assert_eq!(img.get_pixel(9, 27).0[..3], pixel_at(2, 32, 127, 9)[..3]);
}

#[test]
fn bbox_follows_mercantile_and_the_world_file_places_the_picture() {
    let s = server(256, 3, |_| {});
    let template = s.url_template(TileFormat::Png);
    let dir = tempfile::tempdir().unwrap();
    let (zoom, bbox) = (5u32, "-3.7,40.1,2.4,43.8");
    let o = mosaic(
        dir.path(),
        &template,
        (zoom, 256),
        &["--bbox", bbox, "--out", "b.png"],
    )
    .ok();
    assert!(o.stdout.contains("b.pgw"), "{}", o.stdout);
    // mercantile: the tiles of the box, and the Web Mercator metres of the pixel edges.
    let reference = run_python(
        r#"
import sys, math, mercantile
w, s, e, n = map(float, sys.argv[1].split(","))
z, T = int(sys.argv[2]), 256
tiles = sorted((t.x, t.y) for t in mercantile.tiles(w, s, e, n, z))
left, bottom = mercantile.xy(w, s)
right, top = mercantile.xy(e, n)
ul = mercantile.xy_bounds(mercantile.Tile(0, 0, z))
res = (ul.right - ul.left) / T
x0 = math.floor((left - ul.left) / res); x1 = math.ceil((right - ul.left) / res)
y0 = math.floor((ul.top - top) / res); y1 = math.ceil((ul.top - bottom) / res)
t = mercantile.xy_bounds(mercantile.Tile(x0 // T, y0 // T, z))
cx = t.left + (x0 % T + 0.5) * res
cy = t.top - (y0 % T + 0.5) * res
print(y0, y1, x0, x1, repr(res), repr(cx), repr(cy))
print(" ".join(f"{x},{y}" for x, y in tiles))
"#,
        &[bbox, &zoom.to_string()],
    );
    let mut lines = reference.lines();
    let nums: Vec<f64> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let (y0, y1, x0, x1) = (
        nums[0] as usize,
        nums[1] as usize,
        nums[2] as usize,
        nums[3] as usize,
    );
    let tiles: BTreeSet<String> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|t| {
            let (x, y) = t.split_once(',').unwrap();
            format!("/{zoom}/{x}/{y}.png")
        })
        .collect();
    assert_eq!(asked(&s), tiles, "the tiles mercantile lists for the box");
    let (h, w, _, img) = read_png(&dir.path().join("b.png"));
    assert_eq!((h as usize, w as usize), (y1 - y0, x1 - x0));
    for (c, r, p) in img.enumerate_pixels().step_by(97) {
        let q = pixel_at(zoom, 256, y0 + r as usize, x0 + c as usize);
        assert_eq!(p.0[..3], q[..3]);
    }
    let world: Vec<f64> = std::fs::read_to_string(dir.path().join("b.pgw"))
        .unwrap()
        .lines()
        .map(|v| v.trim().parse().unwrap())
        .collect();
    let (res, cx, cy) = (nums[4], nums[5], nums[6]);
    assert_eq!(world.len(), 6);
    for (got, want) in world.iter().zip([res, 0.0, 0.0, -res, cx, cy]) {
        assert!(
            (got - want).abs() < 1e-6,
            "world file {world:?} vs mercantile {nums:?}"
        );
    }
    let aux = std::fs::read_to_string(dir.path().join("b.png.aux.xml")).unwrap();
    assert!(aux.contains("AUTHORITY[\"EPSG\",\"3857\"]]</SRS>"), "{aux}");
    // Outside the Web Mercator square: an error unless clipped.
    let o = mosaic(
        dir.path(),
        &template,
        (1, 256),
        &["--bbox", "-10,80,10,89", "--out", "n.png"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("85.05"), "{}", o.stderr);
    mosaic(
        dir.path(),
        &template,
        (0, 256),
        &["--bbox", "-180,-90,180,90", "--clip", "--out", "world.png"],
    )
    .ok();
    assert_eq!(read_png(&dir.path().join("world.png")).0, 256);
}

#[test]
fn a_lossless_webp_level_reads_through_the_library() {
    let s = server(16, 2, |_| {});
    let client = Arc::new(HttpClient::new(HttpConfig::default()).unwrap());
    let mut cfg = TileLevelConfig::new(
        UrlTemplate::new(&s.url_template(TileFormat::WebP)).unwrap(),
        1,
    );
    cfg.format = TileFormat::WebP;
    cfg.layout = TileLayout {
        height: 16,
        width: 16,
        channels: 2,
        dtype: DType::U8,
    };
    let level = TileLevelSource::new(client, cfg).unwrap();
    let got = level
        .read_region(&[8..24, 0..32, 0..2])
        .unwrap()
        .into_typed::<u8>()
        .unwrap();
    for ((r, c, k), v) in got.indexed_iter().map(|(i, v)| ((i[0], i[1], i[2]), *v)) {
        // A two-channel server serves the first two values as grey and alpha.
        let p = pixel_at(1, 16, 8 + r, c);
        assert_eq!(v, p[k], "({r}, {c}, {k})");
    }
}
