//! Batch reads of tiles run concurrently, never above the configured bound (proved by the
//! server's own count of requests in flight; no timing asserts).

#![cfg(feature = "test-server")]

use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::{TileFormat, TileLayout, TileLevelConfig, TileLevelSource, UrlTemplate};
use vastarray::tileserver::{tile_pixel, TileServer, TileServerConfig};
use vastarray::{ChunkSource, CountingSource, DType, DynArray, NdData};

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

/// Checks every pixel of 16 x 16 RGB tile (`x`, `y`) of zoom 3 against the server's formula.
fn assert_tile_is_the_servers(tile: &NdData, x: u64, y: u64) {
    let t = tile.clone().into_typed::<u8>().unwrap();
    assert_eq!(t.shape(), &[16, 16, 3]);
    for r in 0..16 {
        for c in 0..16 {
            let p = tile_pixel(3, x, y, r, c);
            let got = [t[[r, c, 0]], t[[r, c, 1]], t[[r, c, 2]]];
            assert_eq!(got, [p[0], p[1], p[2]], "tile ({x}, {y}) pixel {r},{c}");
        }
    }
}

/// Wrapping a tile level in a `CountingSource` keeps its concurrent batch: the wrapper
/// forwards `read_chunks`, so the requests still overlap (one at a time without forwarding),
/// and counts each tile of the batch once.
#[test]
fn counting_source_forwards_batch_reads_and_counts_each_chunk() {
    let s = slow_server();
    let counted = CountingSource::new(source(&s, 3, 16)).chunks_only();
    let indices: Vec<Vec<usize>> = (0..6).map(|x| vec![2, x, 0]).collect();
    let tiles = counted.read_chunks(&indices).unwrap();
    let st = s.stats();
    assert_eq!(st.total_requests, 6);
    assert!(
        st.max_in_flight > 1,
        "the batch was read one tile at a time: max in flight {}",
        st.max_in_flight
    );
    let c = counted.counts();
    assert_eq!((c.batch_reads, c.chunk_reads, c.region_reads), (1, 6, 0));
    assert_eq!(counted.reads(), 6);
    assert_eq!(c.elements, 6 * 16 * 16 * 3);
    let once: Vec<(Vec<usize>, usize)> = indices.iter().map(|i| (i.clone(), 1)).collect();
    assert_eq!(c.per_chunk.into_iter().collect::<Vec<_>>(), once);
    assert_eq!(tiles.len(), 6);
    for (x, tile) in tiles.iter().enumerate() {
        assert_tile_is_the_servers(tile, x as u64, 2);
    }

    // Through the executor: its prefetch asks the wrapper for one batch per source.
    counted.reset();
    s.reset_stats();
    let region = DynArray::from_source(counted.clone())
        .select_str("40:56, 8:72, :")
        .unwrap()
        .ndarray()
        .unwrap();
    let st = s.stats();
    assert_eq!(
        st.total_requests, 10,
        "rows 40..56 touch tile rows 2, 3; columns 8..72 tiles 0 to 4"
    );
    assert!(st.max_in_flight > 1, "max in flight {}", st.max_in_flight);
    let c = counted.counts();
    assert!(c.batch_reads >= 1, "{c:?}");
    assert_eq!(c.per_chunk.len(), 10, "{c:?}");
    assert!(c.per_chunk.values().all(|&n| n == 1), "{c:?}");
    let px = region.into_typed::<u8>().unwrap();
    assert_eq!(px.shape(), &[16, 64, 3]);
    for (r, col) in [(0usize, 0usize), (15, 63), (7, 30), (9, 55)] {
        let (gr, gc) = (40 + r, 8 + col);
        let p = tile_pixel(3, (gc / 16) as u64, (gr / 16) as u64, gr % 16, gc % 16);
        for ch in 0..3 {
            assert_eq!(px[[r, col, ch]], p[ch], "pixel {r},{col}");
        }
    }
}
