//! A zoom-9 pyramid served by a real HTTP server on 127.0.0.1, read as a mosaic of mosaics:
//! values equal the server's pixels, exactly the touched tiles are requested, all at once.

use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::remote::tile_pyramid;
use vastarray::source::tiles::TileFormat;
use vastarray::tileserver::{tile_pixel, TileServer, TileServerConfig};
use vastarray::EvalConfig;

#[test]
fn region_of_zoom9_pyramid_requests_exactly_six_tiles_concurrently() {
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
    assert_eq!(level.shape(), &[131072, 131072, 3]);
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
