//! Tile fetching against the embedded tile server: 64 tiles of 256x256 RGB PNG, each answered
//! after 50 ms, read with 16 requests in flight versus one after the other. With 50 ms of
//! latency per tile the ideal times are 0.2 s (64 / 16 x 50 ms) and 3.2 s.
//!
//! Then issue #5's slice `[54600:55000, 59300:59850]` of the zoom-9 pyramid (a mosaic of
//! mosaics over the same server): exactly 6 tiles, all 6 requests in flight at once (ideal
//! ~50 ms) versus a client that sends them one at a time (ideal 6 x 50 ms = 300 ms).
//!
//! Run: `cargo bench -p vastarray-benches --bench tiles`. Before criterion's samples it prints one timed run of
//! each, and their ratio.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::tile_pyramid;
use vastarray::io::tiles::{TileFormat, TileLevelConfig, TileLevelSource, UrlTemplate};
use vastarray::tileserver::{TileServer, TileServerConfig};
use vastarray::{ChunkSource, DynArray, EvalConfig};

const TILES: usize = 64;

/// A client with `concurrency` requests in flight at most.
fn client(concurrency: usize) -> Arc<HttpClient> {
    let config = HttpConfig {
        concurrency,
        ..HttpConfig::default()
    };
    Arc::new(HttpClient::new(config).expect("client"))
}

/// Zoom 3 (8 x 8 tiles) of `server`, read through a client with `concurrency`.
fn level(server: &TileServer, concurrency: usize) -> TileLevelSource {
    let template = UrlTemplate::new(&server.url_template(TileFormat::Png)).expect("template");
    TileLevelSource::new(client(concurrency), TileLevelConfig::new(template, 3)).expect("source")
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

/// Tiles touched by the pyramid slice: rows 213-214, columns 231-233 of zoom 9.
const SLICE_TILES: u64 = 6;

/// `[54600:55000, 59300:59850]` of the zoom-9 pyramid of `server`, read through a client
/// with `concurrency`. Building it makes no request.
fn pyramid_slice(server: &TileServer, concurrency: usize) -> DynArray {
    let template = server.url_template(TileFormat::Png);
    let level = tile_pyramid(&template, 9, [256, 256, 3], client(concurrency)).expect("pyramid");
    level.select_str("54600:55000, 59300:59850").expect("slice")
}

/// Evaluates `slice` and checks what the server saw: exactly the 6 tiles, each once (no cache
/// between evaluations hides a request), with `in_flight` requests at most at once.
fn eval_slice(server: &TileServer, slice: &DynArray, in_flight: usize) {
    server.reset_stats();
    let px = slice.ndarray_with(&EvalConfig::default()).expect("slice");
    assert_eq!(px.shape(), &[400, 550, 3]);
    let stats = server.stats();
    assert_eq!(stats.total_requests, SLICE_TILES, "{stats:?}");
    assert_eq!(stats.per_path.len() as u64, SLICE_TILES, "{stats:?}");
    assert_eq!(stats.max_in_flight, in_flight, "{stats:?}");
}

fn bench_pyramid_slice(c: &mut Criterion) {
    let server = TileServer::start(TileServerConfig {
        latency: Duration::from_millis(50),
        ..Default::default()
    })
    .expect("tile server");
    let concurrent = pyramid_slice(&server, HttpConfig::default().concurrency);
    let sequential = pyramid_slice(&server, 1);
    let once = |slice: &DynArray, in_flight: usize| {
        let start = Instant::now();
        eval_slice(&server, slice, in_flight);
        start.elapsed().as_secs_f64()
    };
    let (t6, t1) = (once(&concurrent, 6), once(&sequential, 1));
    eprintln!(
        "one run of the zoom-9 slice (6 tiles at 50 ms): all in flight {t6:.3} s, sequential {t1:.3} s, ratio {:.1}x",
        t1 / t6
    );

    let mut group = c.benchmark_group("zoom-9 slice [54600:55000, 59300:59850], 6 tiles at 50 ms");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("6 requests in flight", |b| {
        b.iter(|| eval_slice(&server, &concurrent, 6))
    });
    group.bench_function("6 sequential requests", |b| {
        b.iter(|| eval_slice(&server, &sequential, 1))
    });
    group.finish();
}

criterion_group!(benches, bench_tiles, bench_pyramid_slice);
criterion_main!(benches);
