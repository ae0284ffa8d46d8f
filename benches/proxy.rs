//! The caching proxy: concurrent reads of a slow source, a warm cache against the source
//! itself, decompression throughput from the memory pool and from the cache file, and a warm
//! tile cache against the same tiles fetched from the embedded tile server on 127.0.0.1.
//!
//! Run: `cargo bench -p vastarray-benches --bench proxy` (a few minutes; the sequential case alone takes 3.2 s
//! per sample).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::TileFormat;
use vastarray::io::tiles::{cached_tile_pyramid, tile_pyramid, TileCache};
use vastarray::proxy::{MemoryPool, Proxy};
use vastarray::tileserver::{TileServer, TileServerConfig};
use vastarray::{ChunkSource, DType, DynArray, EvalConfig, MemorySource, NdData, Result};

/// A source whose every chunk read waits `delay` (a remote server's latency).
struct Latency {
    inner: MemorySource,
    delay: Duration,
}

impl ChunkSource for Latency {
    fn shape(&self) -> &[usize] {
        self.inner.shape()
    }
    fn dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn chunk_shape(&self) -> &[usize] {
        self.inner.chunk_shape()
    }
    fn name(&self) -> String {
        "latency".into()
    }
    fn read_chunk(&self, index: &[usize]) -> Result<NdData> {
        std::thread::sleep(self.delay);
        self.inner.read_chunk(index)
    }
    fn latency_bound(&self) -> bool {
        true
    }
}

fn memory(shape: (usize, usize), chunks: &[usize]) -> MemorySource {
    let a = ndarray::Array2::from_shape_fn(shape, |(i, j)| ((i * 13 + j * 7) % 1000) as f32 * 0.5)
        .into_dyn();
    MemorySource::new(a, chunks).unwrap()
}

fn bench(c: &mut Criterion) {
    // 64 chunks of 256x256 f32 behind 50 ms of latency each.
    let slow = Arc::new(Latency {
        inner: memory((2048, 2048), &[256, 256]),
        delay: Duration::from_millis(50),
    });
    let mut g = c.benchmark_group("proxy: 64 missing chunks, 50 ms each");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(3));
    for conc in [16usize, 1] {
        g.bench_function(format!("concurrency {conc}"), |b| {
            b.iter_batched(
                || {
                    Proxy::builder(slow.clone())
                        .concurrency(conc)
                        .open()
                        .unwrap()
                },
                |p| black_box(p.fetch_all().unwrap()),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();

    // Warm cache against the in-memory source itself, whole chunks.
    let mem = Arc::new(memory((2048, 2048), &[256, 256]));
    let all = mem.grid().all_chunks();
    let bytes = (2048 * 2048 * 4) as u64;
    let warm = Proxy::builder(mem.clone())
        .memory_pool(MemoryPool::new(1 << 30))
        .open()
        .unwrap();
    warm.fetch_all().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let filed = Proxy::builder(mem.clone())
        .cache_file(dir.path().join("c.b2nd"))
        .stamp("bench")
        .open()
        .unwrap();
    filed.fetch_all().unwrap();
    let mut g = c.benchmark_group("proxy: read all 64 chunks (16 MiB)");
    g.sample_size(20)
        .throughput(Throughput::Bytes(bytes))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("memory source directly", |b| {
        b.iter(|| {
            all.iter()
                .map(|i| black_box(mem.read_chunk(i).unwrap()).len())
                .sum::<usize>()
        })
    });
    g.bench_function("memory source directly, batch", |b| {
        b.iter(|| black_box(mem.read_chunks(&all).unwrap()))
    });
    g.bench_function("warm memory pool, one chunk at a time", |b| {
        b.iter(|| {
            all.iter()
                .map(|i| black_box(warm.read_chunk(i).unwrap()).len())
                .sum::<usize>()
        })
    });
    g.bench_function("warm memory pool, batch (parallel decompression)", |b| {
        b.iter(|| black_box(warm.read_chunks(&all).unwrap()))
    });
    g.bench_function("cache file (no pool), one chunk at a time", |b| {
        b.iter(|| {
            all.iter()
                .map(|i| black_box(filed.read_chunk(i).unwrap()).len())
                .sum::<usize>()
        })
    });
    g.bench_function("cache file (no pool), batch", |b| {
        b.iter(|| black_box(filed.read_chunks(&all).unwrap()))
    });
    g.finish();

    bench_tiles(c);
}

/// 17 x 17 tiles (256 x 256 RGB PNG) of zoom 5 of the embedded tile server: fetched over HTTP
/// each time, against the same region from a warm cache file and a warm memory pool.
fn bench_tiles(c: &mut Criterion) {
    let server = TileServer::start(TileServerConfig::default()).unwrap();
    let template = server.url_template(TileFormat::Png);
    let client = || {
        Arc::new(
            HttpClient::new(HttpConfig {
                concurrency: 16,
                ..HttpConfig::default()
            })
            .unwrap(),
        )
    };
    let region = |a: DynArray| a.select_str("0:4352, 0:4352").unwrap();
    let cfg = EvalConfig {
        io_concurrency: 16,
        ..EvalConfig::default()
    };
    let http = region(tile_pyramid(&template, 5, [256, 256, 3], client()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file_cache = TileCache {
        file: Some(dir.path().join("tiles.b2nd")),
        pool: None,
    };
    let (filed, fp) =
        cached_tile_pyramid(&template, 5, [256, 256, 3], client(), &file_cache).unwrap();
    let filed = region(filed);
    let pool_cache = TileCache {
        file: None,
        pool: Some(MemoryPool::new(1 << 30)),
    };
    let (pooled, pp) =
        cached_tile_pyramid(&template, 5, [256, 256, 3], client(), &pool_cache).unwrap();
    let pooled = region(pooled);
    let want = filed.ndarray_with(&cfg).unwrap();
    assert_eq!(pooled.ndarray_with(&cfg).unwrap(), want);
    assert_eq!(
        (fp.stats().source_reads, pp.stats().source_reads),
        (289, 289)
    );
    let mut g = c.benchmark_group("tiles: 289 tiles of 256x256 RGB (57 MiB), 127.0.0.1");
    g.sample_size(10)
        .throughput(Throughput::Bytes(want.nbytes() as u64))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("fetched from the tile server", |b| {
        b.iter(|| black_box(http.ndarray_with(&cfg).unwrap()))
    });
    g.bench_function("warm cache file", |b| {
        b.iter(|| black_box(filed.ndarray_with(&cfg).unwrap()))
    });
    g.bench_function("warm memory pool", |b| {
        b.iter(|| black_box(pooled.ndarray_with(&cfg).unwrap()))
    });
    g.finish();
    assert_eq!(
        (fp.stats().source_reads, pp.stats().source_reads),
        (289, 289)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
