//! Tile fetching against the embedded tile server: 64 tiles of 256x256 RGB PNG, each answered
//! after 50 ms, read with 16 requests in flight versus one after the other. With 50 ms of
//! latency per tile the ideal times are 0.2 s (64 / 16 x 50 ms) and 3.2 s.
//!
//! Run: `cargo bench --bench tiles`. Before criterion's samples it prints one timed run of
//! each, and their ratio.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::source::tiles::{TileFormat, TileLevelConfig, TileLevelSource, UrlTemplate};
use vastarray::tileserver::{TileServer, TileServerConfig};
use vastarray::ChunkSource;

const TILES: usize = 64;

/// Zoom 3 (8 x 8 tiles) of `server`, read through a client with `concurrency`.
fn level(server: &TileServer, concurrency: usize) -> TileLevelSource {
    let client = HttpClient::new(HttpConfig {
        concurrency,
        ..HttpConfig::default()
    })
    .expect("client");
    let template = UrlTemplate::new(&server.url_template(TileFormat::Png)).expect("template");
    TileLevelSource::new(Arc::new(client), TileLevelConfig::new(template, 3)).expect("source")
}

/// Reads all 64 tiles in one batch.
fn read_all(source: &TileLevelSource) {
    let indices = source.grid().all_chunks();
    assert_eq!(indices.len(), TILES);
    let tiles = source.read_chunks(&indices).expect("tiles");
    assert_eq!(tiles.len(), TILES);
}

fn bench_tiles(c: &mut Criterion) {
    let server = TileServer::start(TileServerConfig {
        latency: Duration::from_millis(50),
        ..Default::default()
    })
    .expect("tile server");
    let concurrent = level(&server, 16);
    let sequential = level(&server, 1);

    let once = |source: &TileLevelSource| {
        let start = Instant::now();
        read_all(source);
        start.elapsed().as_secs_f64()
    };
    let (t16, t1) = (once(&concurrent), once(&sequential));
    eprintln!(
        "one run of {TILES} tiles at 50 ms: concurrency 16 {t16:.3} s, sequential {t1:.3} s, ratio {:.1}x",
        t1 / t16
    );

    let mut group = c.benchmark_group("64 tiles at 50 ms latency");
    group.sample_size(10).warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("concurrency 16", |b| b.iter(|| read_all(&concurrent)));
    group.measurement_time(Duration::from_secs(35));
    group.bench_function("sequential", |b| b.iter(|| read_all(&sequential)));
    group.finish();

    let fast = TileServer::start(TileServerConfig::default()).expect("tile server");
    let decode = level(&fast, 16);
    let mut group = c.benchmark_group("64 tiles, no latency");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("fetch + decode, concurrency 16", |b| {
        b.iter(|| read_all(&decode))
    });
    group.finish();
}

criterion_group!(benches, bench_tiles);
criterion_main!(benches);
