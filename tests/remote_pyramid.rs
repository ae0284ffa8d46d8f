//! A zoom-9 pyramid served by a real HTTP server on 127.0.0.1, read as one array chunked by
//! tile: values equal the server's pixels, exactly the touched tiles are requested, all at once.

#![cfg(all(feature = "test-server", feature = "b2nd"))]

use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::tile_pyramid;
use vastarray::io::tiles::TileFormat;
use vastarray::tileserver::{tile_pixel, TileServer, TileServerConfig};
use vastarray::EvalConfig;

/// A tile server that answers after 100 ms, and its zoom-9 level as one lazy array.
fn zoom9_behind_slow_server() -> (TileServer, vastarray::DynArray) {
    let server = TileServer::start(TileServerConfig {
        latency: Duration::from_millis(100),
        ..Default::default()
    })
    .unwrap();
    let client = Arc::new(HttpClient::new(HttpConfig::default()).unwrap());
    let level = tile_pyramid(
        &server.url_template(TileFormat::Png),
        9,
        [256, 256, 3],
        client,
    )
    .unwrap();
    (server, level)
}

#[test]
fn region_of_zoom9_pyramid_requests_exactly_six_tiles_concurrently() {
    let (server, level) = zoom9_behind_slow_server();
    assert_eq!(level.shape(), &[131072, 131072, 3]);
    assert_eq!(
        vastarray::graph::all_nodes(&[level.node().clone()]).len(),
        1,
        "the 262,144 tiles of the level are one node, not one object each"
    );
    assert_eq!(
        server.stats().total_requests,
        0,
        "building the pyramid requests nothing"
    );
    let region = level.select_str("54600:55000, 59300:59850").unwrap();
    let px = region
        .ndarray_with(&EvalConfig::default())
        .unwrap()
        .into_typed::<u8>()
        .unwrap();
    let stats = server.stats();
    let want: Vec<String> = [213u64, 214]
        .iter()
        .flat_map(|&y| {
            [231u64, 232, 233].map(move |x| TileServer::tile_path(9, x, y, TileFormat::Png))
        })
        .collect();
    let mut got: Vec<String> = stats.per_path.keys().cloned().collect();
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted);
    assert!(stats.per_path.values().all(|&n| n == 1));
    assert_eq!(stats.max_in_flight, 6, "all six requests in flight at once");
    for (r, c) in [(0usize, 0usize), (399, 549), (123, 321), (56, 480)] {
        let (gr, gc) = (54600 + r, 59300 + c);
        let p = tile_pixel(9, (gc / 256) as u64, (gr / 256) as u64, gr % 256, gc % 256);
        assert_eq!(
            [px[[r, c, 0]], px[[r, c, 1]], px[[r, c, 2]]],
            [p[0], p[1], p[2]],
            "pixel {r},{c}"
        );
    }
}

#[test]
fn persistent_tile_cache_makes_the_second_draw_request_nothing() {
    use vastarray::io::tiles::{cached_tile_pyramid, TileCache};
    let dir = tempfile::tempdir().unwrap();
    let server = TileServer::start(TileServerConfig::default()).unwrap();
    let cache = TileCache {
        file: Some(dir.path().join("z6.b2nd")),
        pool: None,
    };
    let template = server.url_template(TileFormat::Png);
    let draw = || {
        let client = Arc::new(HttpClient::new(HttpConfig::default()).unwrap());
        let (level, proxy) =
            cached_tile_pyramid(&template, 6, [256, 256, 3], client, &cache).unwrap();
        let px = level
            .select_str("1000:1300, 2000:2600")
            .unwrap()
            .ndarray()
            .unwrap()
            .into_typed::<u8>()
            .unwrap();
        (px, proxy.stats())
    };
    let (first, s1) = draw();
    let after_first = server.stats().total_requests;
    assert_eq!(
        after_first,
        3 * 4,
        "rows 1000..1300 touch tiles 3 to 5, columns 2000..2600 tiles 7 to 10"
    );
    assert_eq!(s1.source_reads, 12);
    let (second, s2) = draw();
    assert_eq!(
        server.stats().total_requests,
        after_first,
        "the second draw requests nothing"
    );
    assert_eq!(s2.source_reads, 0);
    assert_eq!(s2.file_hits, 12);
    assert_eq!(first, second);
    let (r, c) = (1299usize, 2000usize);
    let p = tile_pixel(6, (c / 256) as u64, (r / 256) as u64, r % 256, c % 256);
    assert_eq!(second[[299, 0, 1]], p[1]);
}

#[test]
fn a_reduction_over_remote_tiles_requests_them_all_at_once() {
    let (server, level) = zoom9_behind_slow_server();
    // Rows 54600..55000 and columns 59300..59850: tiles 213..=214 by 231..=233.
    let sums = level
        .select_str("54600:55000, 59300:59850")
        .unwrap()
        .sum(vastarray::Over::axes([0usize, 1]))
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<u64>()
        .unwrap();
    let mut want = [0u64; 3];
    for gr in 54600..55000usize {
        for gc in 59300..59850usize {
            let p = tile_pixel(9, (gc / 256) as u64, (gr / 256) as u64, gr % 256, gc % 256);
            for c in 0..3 {
                want[c] += p[c] as u64;
            }
        }
    }
    assert_eq!(sums.as_slice().unwrap(), &want);
    let stats = server.stats();
    assert_eq!(stats.total_requests, 6);
    assert_eq!(
        stats.max_in_flight, 6,
        "the six tiles of the reduction are requested together, not one after the other"
    );
}
