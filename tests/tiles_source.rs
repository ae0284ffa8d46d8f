//! Tile sources against the embedded tile server on 127.0.0.1: values, exactly the touched
//! tiles requested, 404 handling, lying servers, `.npy` dtypes, views.

#![cfg(feature = "test-server")]

use crate::common;

use common::http_error;
use ndarray::{ArrayD, IxDyn};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::{
    MissingTiles, TileFormat, TileLayout, TileLevelConfig, TileLevelSource, TileView, UrlTemplate,
};
use vastarray::tileserver::{tile_pixel, TileId, TileServer, TileServerConfig};
use vastarray::{ChunkSource, DType, Error, NdData};

const TS: usize = 32;

/// The server's pixel function, written out again from its documentation.
fn pixel(z: u32, x: u64, y: u64, r: usize, c: usize) -> [u8; 4] {
    let (z, r, c) = (z as u64, r as u64, c as u64);
    [
        (c + 37 * x + 11 * z) as u8,
        (r + 59 * y + 7 * z) as u8,
        (3 * r + 5 * c + 13 * x + 17 * y + z) as u8,
        255 - ((r + c + x + y + z) % 128) as u8,
    ]
}

/// What `region` of zoom `z` must hold for an image server, channel `ch` of the pixel.
fn expected_region(
    z: u32,
    region: &[std::ops::Range<usize>; 3],
    channel_of: impl Fn([u8; 4], usize) -> u8,
) -> NdData {
    let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
    NdData::from(ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let (gy, gx, ch) = (
            region[0].start + i[0],
            region[1].start + i[1],
            region[2].start + i[2],
        );
        let p = pixel(z, (gx / TS) as u64, (gy / TS) as u64, gy % TS, gx % TS);
        channel_of(p, ch)
    }))
}

fn server(config: TileServerConfig) -> TileServer {
    TileServer::start(TileServerConfig {
        tile_size: TS,
        ..config
    })
    .unwrap()
}

fn client() -> Arc<HttpClient> {
    Arc::new(
        HttpClient::new(HttpConfig {
            backoff_base: Duration::from_millis(2),
            backoff_max: Duration::from_millis(10),
            ..HttpConfig::default()
        })
        .unwrap(),
    )
}

fn level(
    s: &TileServer,
    z: u32,
    format: TileFormat,
    channels: usize,
    dtype: DType,
) -> TileLevelConfig {
    TileLevelConfig {
        format,
        layout: TileLayout {
            height: TS,
            width: TS,
            channels,
            dtype,
        },
        ..TileLevelConfig::new(UrlTemplate::new(&s.url_template(format)).unwrap(), z)
    }
}

fn png_level(s: &TileServer, z: u32) -> TileLevelSource {
    TileLevelSource::new(client(), level(s, z, TileFormat::Png, 3, DType::U8)).unwrap()
}

#[test]
fn the_test_pixel_function_matches_the_server() {
    for (z, x, y) in [(0, 0, 0), (3, 5, 7), (9, 511, 300), (20, 1 << 19, 12345)] {
        for (r, c) in [(0, 0), (31, 7), (255, 255), (100, 3)] {
            assert_eq!(pixel(z, x, y, r, c), tile_pixel(z, x, y, r, c));
        }
    }
}

#[test]
fn a_region_across_tiles_has_the_server_values_and_requests_exactly_its_tiles() {
    let s = server(TileServerConfig::default());
    let src = png_level(&s, 3);
    assert_eq!(src.shape(), &[8 * TS, 8 * TS, 3]);
    assert_eq!(src.chunk_shape(), &[TS, TS, 3]);
    assert_eq!(s.stats().total_requests, 0, "construction makes no request");
    let region = [40..130, 20..75, 0..3];
    let got = src.read_region(&region).unwrap();
    assert_eq!(got, expected_region(3, &region, |p, c| p[c]));
    // Rows 40..130 touch tile rows 1..=4, columns 20..75 touch tile columns 0..=2.
    let want: BTreeMap<String, u64> = (1..=4u64)
        .flat_map(|y| (0..=2u64).map(move |x| (format!("/3/{x}/{y}.png"), 1)))
        .collect();
    assert_eq!(s.stats().per_path, want);
    // A one-channel slice of one tile reads one tile.
    s.reset_stats();
    let got = src.read_region(&[70..72, 200..203, 1..2]).unwrap();
    assert_eq!(
        got,
        expected_region(3, &[70..72, 200..203, 1..2], |p, c| p[c])
    );
    assert_eq!(
        s.stats().per_path,
        BTreeMap::from([("/3/6/2.png".to_string(), 1)])
    );
}

#[test]
fn read_chunk_is_one_tile_and_bad_indices_are_errors() {
    let s = server(TileServerConfig::default());
    let src = png_level(&s, 2);
    let tile = src.read_chunk(&[3, 1, 0]).unwrap();
    assert_eq!(
        tile,
        expected_region(2, &[3 * TS..4 * TS, TS..2 * TS, 0..3], |p, c| p[c])
    );
    assert_eq!(s.requests_for("/2/1/3.png"), 1);
    for bad in [vec![4, 0, 0], vec![0, 4, 0], vec![0, 0, 1], vec![0, 0]] {
        assert!(
            matches!(src.read_chunk(&bad), Err(Error::Index(_))),
            "{bad:?}"
        );
    }
    assert_eq!(s.stats().total_requests, 1);
}

#[test]
fn not_found_is_an_error_or_the_fill_value() {
    let s = server(TileServerConfig {
        not_found: HashSet::from([TileId::new(2, 1, 0)]),
        ..Default::default()
    });
    let src = png_level(&s, 2);
    let (url, message) = http_error(src.read_region(&[0..TS, 0..2 * TS, 0..3]).unwrap_err());
    assert_eq!(url, format!("{}/2/1/0.png", s.base_url()));
    assert!(message.contains("404"), "{message}");

    let config = TileLevelConfig {
        missing: MissingTiles::Fill(7.0),
        ..level(&s, 2, TileFormat::Png, 3, DType::U8)
    };
    let src = TileLevelSource::new(client(), config).unwrap();
    let got = src
        .read_region(&[10..20, 20..50, 0..3])
        .unwrap()
        .into_typed::<u8>()
        .unwrap();
    let want = expected_region(2, &[10..20, 20..50, 0..3], |p, c| p[c])
        .into_typed::<u8>()
        .unwrap();
    for ((i, g), w) in got.indexed_iter().zip(want.iter()) {
        let in_missing_tile = 20 + i[1] >= TS;
        assert_eq!(*g, if in_missing_tile { 7 } else { *w }, "{i:?}");
    }
}

#[test]
fn a_wrong_size_tile_is_an_error_naming_its_url() {
    let s = server(TileServerConfig {
        wrong_size: HashSet::from([TileId::new(1, 1, 1)]),
        ..Default::default()
    });
    let src = png_level(&s, 1);
    let (url, message) = http_error(src.read_region(&[0..2 * TS, 0..2 * TS, 0..3]).unwrap_err());
    assert_eq!(url, format!("{}/1/1/1.png", s.base_url()));
    assert!(
        message.contains("16x16 pixels, expected 32x32"),
        "{message}"
    );
    assert!(src.read_chunk(&[0, 1, 0]).is_ok());
}

#[test]
fn npy_tiles_of_other_dtypes_round_trip() {
    for dtype in [
        DType::U16,
        DType::I16,
        DType::F32,
        DType::F64,
        DType::I64,
        DType::Bool,
    ] {
        let s = server(TileServerConfig {
            npy_dtype: dtype,
            channels: 2,
            ..Default::default()
        });
        let src = TileLevelSource::new(client(), level(&s, 1, TileFormat::Npy, 2, dtype)).unwrap();
        let region = [20..50, 5..40, 0..2];
        let got = src.read_region(&region).unwrap();
        assert_eq!(got.dtype(), dtype);
        let values = ArrayD::from_shape_fn(IxDyn(&[30, 35, 2]), |i| {
            let (gy, gx) = (20 + i[0], 5 + i[1]);
            f64::from(pixel(1, (gx / TS) as u64, (gy / TS) as u64, gy % TS, gx % TS)[i[2]]) * 2.5
                - 100.0
        });
        assert_eq!(got, NdData::from(values).cast(dtype), "{dtype}");
        assert_eq!(s.stats().total_requests, 4);
    }
}

#[test]
fn an_npy_tile_of_the_wrong_dtype_is_an_error_naming_its_url() {
    let s = server(TileServerConfig {
        npy_dtype: DType::U16,
        ..Default::default()
    });
    let src = TileLevelSource::new(client(), level(&s, 1, TileFormat::Npy, 3, DType::F32)).unwrap();
    let (url, message) = http_error(src.read_chunk(&[1, 0, 0]).unwrap_err());
    assert_eq!(url, format!("{}/1/0/1.npy", s.base_url()));
    assert!(
        message.contains("uint16 values, expected float32"),
        "{message}"
    );
}

#[test]
fn grey_and_rgba_tiles_convert_to_the_configured_channels() {
    let rgba = server(TileServerConfig {
        channels: 4,
        ..Default::default()
    });
    let region = [0..TS, 0..2 * TS, 0..4];
    let src =
        TileLevelSource::new(client(), level(&rgba, 1, TileFormat::Png, 4, DType::U8)).unwrap();
    assert_eq!(
        src.read_region(&region).unwrap(),
        expected_region(1, &region, |p, c| p[c])
    );
    let src =
        TileLevelSource::new(client(), level(&rgba, 1, TileFormat::Png, 3, DType::U8)).unwrap();
    let region = [0..TS, 0..2 * TS, 0..3];
    assert_eq!(
        src.read_region(&region).unwrap(),
        expected_region(1, &region, |p, c| p[c])
    );
    // Colour to grey is Rec. 601 in Pillow's integer form (its `convert("L")`), alpha kept.
    let src =
        TileLevelSource::new(client(), level(&rgba, 1, TileFormat::Png, 2, DType::U8)).unwrap();
    let luma = |p: [u8; 4]| {
        ((19595 * p[0] as u32 + 38470 * p[1] as u32 + 7471 * p[2] as u32 + 32768) >> 16) as u8
    };
    let region2 = [0..TS, 0..2 * TS, 0..2];
    assert_eq!(
        src.read_region(&region2).unwrap(),
        expected_region(1, &region2, |p, c| if c == 0 { luma(p) } else { p[3] })
    );

    let grey = server(TileServerConfig {
        channels: 1,
        ..Default::default()
    });
    let src =
        TileLevelSource::new(client(), level(&grey, 1, TileFormat::Png, 3, DType::U8)).unwrap();
    assert_eq!(
        src.read_region(&region).unwrap(),
        expected_region(1, &region, |p, _| p[0])
    );
}

#[test]
fn jpeg_tiles_decode_close_to_the_server_values() {
    let s = server(TileServerConfig::default());
    let src = TileLevelSource::new(client(), level(&s, 1, TileFormat::Jpeg, 3, DType::U8)).unwrap();
    let region = [0..2 * TS, 0..2 * TS, 0..3];
    let got = src.read_region(&region).unwrap().to_f64();
    let want = expected_region(1, &region, |p, c| p[c]).to_f64();
    let mean_abs = (&got - &want).mapv(f64::abs).mean().unwrap();
    assert!(mean_abs < 12.0, "JPEG mean absolute error {mean_abs}");
    assert_eq!(s.stats().total_requests, 4);
}

#[test]
fn subdomains_rotate_by_x_plus_y() {
    let s = server(TileServerConfig::default());
    let template = UrlTemplate::with_subdomains(
        &format!("{}/{{s}}/{{z}}/{{x}}/{{y}}.png", s.base_url()),
        ["a", "b"],
    )
    .unwrap();
    let src = TileLevelSource::new(
        client(),
        TileLevelConfig {
            layout: TileLayout {
                height: TS,
                width: TS,
                channels: 3,
                dtype: DType::U8,
            },
            ..TileLevelConfig::new(template, 1)
        },
    )
    .unwrap();
    let region = [0..2 * TS, 0..2 * TS, 0..3];
    assert_eq!(
        src.read_region(&region).unwrap(),
        expected_region(1, &region, |p, c| p[c])
    );
    let paths: Vec<String> = s.stats().per_path.into_keys().collect();
    assert_eq!(
        paths,
        [
            "/a/1/0/0.png",
            "/a/1/1/1.png",
            "/b/1/0/1.png",
            "/b/1/1/0.png"
        ]
    );
}

#[test]
fn retries_inside_a_source_still_give_exact_values() {
    // Every tile: one dropped connection, two 500s, then the tile (the client retries 3 times).
    let s = server(TileServerConfig {
        drop_first: 1,
        fail_first: 2,
        ..Default::default()
    });
    let src = png_level(&s, 2);
    let region = [0..4 * TS, 0..4 * TS, 0..3];
    assert_eq!(
        src.read_region(&region).unwrap(),
        expected_region(2, &region, |p, c| p[c])
    );
    assert_eq!(s.stats().total_requests, 64);
    assert_eq!(src.client().stats().retries, 48);
}

#[test]
fn after_a_permanent_failure_no_further_tiles_are_requested() {
    let s = server(TileServerConfig {
        always_fail: HashSet::from([TileId::new(2, 0, 0)]),
        ..Default::default()
    });
    let c = Arc::new(
        HttpClient::new(HttpConfig {
            concurrency: 1,
            max_retries: 2,
            backoff_base: Duration::from_millis(1),
            ..HttpConfig::default()
        })
        .unwrap(),
    );
    let src = TileLevelSource::new(c, level(&s, 2, TileFormat::Png, 3, DType::U8)).unwrap();
    let all: Vec<Vec<usize>> = src.grid().all_chunks();
    let (url, message) = http_error(src.read_chunks(&all).unwrap_err());
    assert_eq!(url, format!("{}/2/0/0.png", s.base_url()));
    assert!(message.contains("HTTP 500"), "{message}");
    assert_eq!(
        s.stats().total_requests,
        3,
        "one tile, three attempts, nothing after it"
    );
}

#[test]
fn views_are_tiny_lazy_and_read_their_tile() {
    let s = server(TileServerConfig::default());
    let src: Arc<dyn ChunkSource> = Arc::new(png_level(&s, 9));
    let views = TileView::all(&src).unwrap();
    assert_eq!(views.len(), 512 * 512);
    assert!(std::mem::size_of::<TileView>() <= 32);
    assert_eq!(s.stats().total_requests, 0, "no request before a read");

    let v = &views[2 * 512 + 5];
    assert_eq!(v.tile(), (2, 5));
    assert_eq!(v.shape(), &[TS, TS, 3]);
    assert_eq!(v.chunk_shape(), &[TS, TS, 3]);
    assert!(v.latency_bound());
    assert!(v
        .identity()
        .unwrap()
        .contains(&s.url_template(TileFormat::Png)));
    let whole = v.read_chunk(&[0, 0, 0]).unwrap();
    assert_eq!(
        whole,
        expected_region(9, &[2 * TS..3 * TS, 5 * TS..6 * TS, 0..3], |p, c| p[c])
    );
    let part = v.read_region(&[3..9, 30..32, 1..3]).unwrap();
    assert_eq!(
        part,
        expected_region(
            9,
            &[2 * TS + 3..2 * TS + 9, 5 * TS + 30..6 * TS, 1..3],
            |p, c| p[c]
        )
    );
    let twice = v.read_chunks(&[vec![0, 0, 0], vec![0, 0, 0]]).unwrap();
    assert_eq!(twice, vec![whole.clone(), whole]);
    assert_eq!(s.requests_for("/9/5/2.png"), 3);
    assert!(matches!(v.read_chunk(&[0, 1, 0]), Err(Error::Index(_))));
    assert!(TileView::new(Arc::clone(&src), 512, 0).is_err());
}

#[test]
fn identity_names_template_and_zoom() {
    let s = server(TileServerConfig::default());
    let src = png_level(&s, 4);
    let id = src.identity().unwrap();
    assert!(
        id.contains(&s.url_template(TileFormat::Png)) && id.contains("z=4"),
        "{id}"
    );
    assert_ne!(Some(id), png_level(&s, 5).identity());
    assert!(src.latency_bound());
    assert!(TileLevelSource::new(client(), level(&s, 31, TileFormat::Png, 3, DType::U8)).is_err());
    assert!(TileLevelSource::new(client(), level(&s, 3, TileFormat::Png, 3, DType::F32)).is_err());
}
