//! Reading every chunk of a deflate+shuffle compressed HDF5 dataset (256 MiB of float32,
//! 2 MiB chunks): vastarray's raw path on rayon pools of 1 and 2 threads, against the HDF5
//! library path (one global lock) on 1 and 2 threads.
//!
//! `cargo bench --bench hdf5`. The file is made once with the hdf5 crate and kept in the
//! temporary directory (`vastarray-bench-hdf5-256m.h5`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vastarray::source::hdf5::{Hdf5Options, Hdf5Source};
use vastarray::ChunkSource;

const SHAPE: [usize; 3] = [64, 1024, 1024];
const CHUNKS: [usize; 3] = [1, 512, 1024];

/// Makes (or reuses) the benchmark file.
fn bench_file() -> PathBuf {
    let path = std::env::temp_dir().join("vastarray-bench-hdf5-256m.h5");
    if let Ok(src) = Hdf5Source::open(&path, "/data") {
        if src.shape() == SHAPE && src.chunk_shape() == CHUNKS {
            return path;
        }
    }
    eprintln!("making {} ...", path.display());
    let file = hdf5::File::create(&path).expect("create bench file");
    let ds = file
        .new_dataset::<f32>()
        .shape(SHAPE.to_vec())
        .chunk(CHUNKS.to_vec())
        .shuffle()
        .deflate(4)
        .create("data")
        .expect("create dataset");
    for k in 0..SHAPE[0] {
        // Smooth values with a little noise, rounded: compresses about 2-3x, like model output.
        let slab = ndarray::Array3::from_shape_fn((1, SHAPE[1], SHAPE[2]), |(_, i, j)| {
            let noise = ((i * 7919 + j * 104_729 + k * 31) % 1000) as f32 / 1000.0;
            ((280.0
                + 10.0 * ((i as f32) / 50.0).sin()
                + 5.0 * ((j as f32 + k as f32) / 70.0).cos()
                + noise)
                * 100.0)
                .round()
                / 100.0
        });
        ds.write_slice(&slab, (k..k + 1, .., ..))
            .expect("write slab");
    }
    path
}

fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
}

/// Reads every chunk with `read_chunks` (the raw path decodes them in parallel on the pool).
fn read_all_raw(src: &Hdf5Source, all: &[Vec<usize>]) -> usize {
    src.read_chunks(all)
        .expect("raw reads")
        .iter()
        .map(|c| c.len())
        .sum()
}

/// Reads every chunk with `read_chunk` from the pool's threads (the library path serialises
/// them on its global lock).
fn read_all_par(src: &Hdf5Source, all: &[Vec<usize>]) -> usize {
    all.par_iter()
        .map(|i| src.read_chunk(i).expect("read").len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let path = bench_file();
    let raw = Hdf5Source::open(&path, "/data").expect("open");
    let lib = Hdf5Source::open_with(
        &path,
        "/data",
        &Hdf5Options {
            raw_reads: false,
            ..Hdf5Options::default()
        },
    )
    .expect("open");
    let all = raw.grid().all_chunks();
    let bytes = (SHAPE.iter().product::<usize>() * 4) as u64;
    let (p1, p2) = (pool(1), pool(2));

    // A plain summary first, so the scaling is visible at a glance.
    let time = |f: &dyn Fn() -> usize| {
        f(); // warm-up (page cache, chunk index)
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(f(), SHAPE.iter().product::<usize>());
        }
        t.elapsed().as_secs_f64() / 3.0
    };
    let r1 = time(&|| p1.install(|| read_all_raw(&raw, &all)));
    let r2 = time(&|| p2.install(|| read_all_raw(&raw, &all)));
    let l1 = time(&|| p1.install(|| read_all_par(&lib, &all)));
    let l2 = time(&|| p2.install(|| read_all_par(&lib, &all)));
    let gbs = |s: f64| bytes as f64 / 1e9 / s;
    eprintln!(
        "every chunk of 256 MiB deflate+shuffle float32 ({} chunks of 2 MiB):",
        all.len()
    );
    eprintln!("  raw path,     1 thread : {r1:.3} s  {:.2} GB/s", gbs(r1));
    eprintln!(
        "  raw path,     2 threads: {r2:.3} s  {:.2} GB/s  (x{:.2} vs 1 thread)",
        gbs(r2),
        r1 / r2
    );
    eprintln!("  library path, 1 thread : {l1:.3} s  {:.2} GB/s", gbs(l1));
    eprintln!(
        "  library path, 2 threads: {l2:.3} s  {:.2} GB/s  (x{:.2} vs 1 thread)",
        gbs(l2),
        l1 / l2
    );
    eprintln!("  raw 2 threads vs library 2 threads: x{:.2}", l2 / r2);

    let mut g = c.benchmark_group("hdf5_read_every_chunk_256MiB_deflate");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Bytes(bytes));
    g.bench_function("raw_1_thread", |b| {
        b.iter(|| p1.install(|| read_all_raw(&raw, &all)))
    });
    g.bench_function("raw_2_threads", |b| {
        b.iter(|| p2.install(|| read_all_raw(&raw, &all)))
    });
    g.bench_function("library_1_thread", |b| {
        b.iter(|| p1.install(|| read_all_par(&lib, &all)))
    });
    g.bench_function("library_2_threads", |b| {
        b.iter(|| p2.install(|| read_all_par(&lib, &all)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
