//! Batch reads of tiles run concurrently, never above the configured bound (proved by the
//! server's own count of requests in flight; no timing asserts).

use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::source::tiles::{
    TileFormat, TileLayout, TileLevelConfig, TileLevelSource, UrlTemplate,
};
use vastarray::tileserver::{TileServer, TileServerConfig};
use vastarray::{ChunkSource, DType};

fn slow_server() -> TileServer {
    TileServer::start(TileServerConfig {
        tile_size: 16,
        latency: Duration::from_millis(100),
        ..Default::default()
    })
    .unwrap()
}

fn source(s: &TileServer, z: u32, concurrency: usize) -> TileLevelSource {
    let client = Arc::new(
        HttpClient::new(HttpConfig {
            concurrency,
            ..HttpConfig::default()
        })
        .unwrap(),
    );
    let config = TileLevelConfig {
        layout: TileLayout {
            height: 16,
            width: 16,
            channels: 3,
            dtype: DType::U8,
        },
        ..TileLevelConfig::new(
            UrlTemplate::new(&s.url_template(TileFormat::Png)).unwrap(),
            z,
        )
    };
    TileLevelSource::new(client, config).unwrap()
}

#[test]
fn read_chunks_runs_up_to_the_configured_concurrency() {
    let s = slow_server();
    let src = source(&s, 3, 6);
    let indices: Vec<Vec<usize>> = src.grid().all_chunks().into_iter().take(24).collect();
    let tiles = src.read_chunks(&indices).unwrap();
    assert_eq!(tiles.len(), 24);
    let st = s.stats();
    assert_eq!(st.total_requests, 24);
    assert!(st.max_in_flight <= 6, "max in flight {}", st.max_in_flight);
    assert!(st.max_in_flight > 1, "max in flight {}", st.max_in_flight);
}

#[test]
fn the_default_concurrency_is_16() {
    let s = slow_server();
    let src = source(&s, 3, HttpConfig::default().concurrency);
    assert_eq!(HttpConfig::default().concurrency, 16);
    let region = [0..16 * 5, 0..16 * 4, 0..3]; // 20 tiles
    src.read_region(&region).unwrap();
    let st = s.stats();
    assert_eq!(st.total_requests, 20);
    assert!(
        st.max_in_flight <= 16 && st.max_in_flight > 1,
        "max in flight {}",
        st.max_in_flight
    );
}

#[test]
fn the_bound_holds_across_callers_sharing_a_client() {
    let s = slow_server();
    let src = Arc::new(source(&s, 3, 4));
    std::thread::scope(|scope| {
        for part in 0..3 {
            let src = Arc::clone(&src);
            scope.spawn(move || {
                let indices: Vec<Vec<usize>> = (0..8).map(|x| vec![part, x, 0]).collect();
                src.read_chunks(&indices).unwrap();
            });
        }
    });
    let st = s.stats();
    assert_eq!(st.total_requests, 24);
    assert!(st.max_in_flight <= 4, "max in flight {}", st.max_in_flight);
    assert!(st.max_in_flight > 1);
}
