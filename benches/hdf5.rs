//! HDF5 reading, two groups:
//!
//! - `hdf5_decode_one_chunk`: the filters of one real chunk written by h5py (deflate level 4 +
//!   shuffle, float32, 4 MiB: `scripts/bench_hdf5/make_file.py --deflate`), on one thread:
//!   inflate with libdeflate (what vastarray uses) against zlib-rs (through flate2, into an
//!   exact-size buffer, its fastest whole-buffer use); unshuffle with C-Blosc2's SIMD
//!   transpose (what vastarray uses) against the per-element loop it replaced; and the whole
//!   pipeline into the output buffer.
//! - `hdf5_read_every_chunk_256MiB_deflate`: every chunk of a deflate+shuffle dataset (256 MiB
//!   of float32, 2 MiB chunks): vastarray's raw path on rayon pools of 1 and 2 threads, against
//!   the HDF5 library path (one global lock) on 1 and 2 threads.
//!
//! `cargo bench -p vastarray-benches --bench hdf5` (needs `VASTARRAY_PYTHON` or `.venv` with h5py for the first
//! group). The files are made once and kept in the temporary directory
//! (`vastarray-bench-hdf5-256m.h5`, `vastarray-bench-h5py-deflate-8.h5`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rayon::prelude::*;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vastarray::io::hdf5::filters::{decode_pipeline_into, inflate_into, unshuffle_into};
use vastarray::io::hdf5::{Hdf5Options, Hdf5Source};
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

/// Makes (or reuses) 8 slabs of `make_file.py --deflate` with h5py and returns the stored bytes
/// of its first chunk with the pipeline of the dataset.
fn h5py_chunk() -> (Vec<u8>, Vec<vastarray::io::hdf5::PipelineFilter>) {
    let path = std::env::temp_dir().join("vastarray-bench-h5py-deflate-8.h5");
    if Hdf5Source::open(&path, "/data").is_err() {
        // This crate is `benches/` of the repository.
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let python = std::env::var("VASTARRAY_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join(".venv/bin/python"));
        let ok = std::process::Command::new(python)
            .arg(root.join("scripts/bench_hdf5/make_file.py"))
            .arg(&path)
            .args(["8", "--deflate"])
            .status()
            .expect("running make_file.py (set VASTARRAY_PYTHON)")
            .success();
        assert!(ok, "make_file.py failed");
    }
    let src = Hdf5Source::open(&path, "/data").expect("open h5py file");
    let pipeline = src.info().filters.clone();
    let file = hdf5::File::open(&path).expect("open");
    let ds = file.dataset("data").expect("dataset");
    let info = ds.chunk_info(0).expect("chunk 0");
    let mut bytes = vec![0u8; info.size as usize];
    use std::os::unix::fs::FileExt;
    std::fs::File::open(&path)
        .expect("open raw")
        .read_exact_at(&mut bytes, info.addr)
        .expect("read chunk");
    (bytes, pipeline)
}

/// The unshuffle vastarray had before: one output element at a time, one plane per byte.
fn unshuffle_per_element(data: &[u8], out: &mut [u8]) {
    const N: usize = 4;
    let n = data.len() / N;
    let mut planes = [&data[..0]; N];
    for (b, plane) in planes.iter_mut().enumerate() {
        *plane = &data[b * n..(b + 1) * n];
    }
    for (i, elem) in out[..n * N].chunks_exact_mut(N).enumerate() {
        for (b, o) in elem.iter_mut().enumerate() {
            *o = planes[b][i];
        }
    }
}

/// zlib-rs through flate2, decoding a whole zlib stream into an exact-size buffer.
fn inflate_zlib_rs(compressed: &[u8], out: &mut [u8]) {
    let mut d = flate2::Decompress::new(true);
    let status = d
        .decompress(compressed, out, flate2::FlushDecompress::Finish)
        .expect("zlib-rs inflate");
    assert_eq!(status, flate2::Status::StreamEnd);
    assert_eq!(d.total_out() as usize, out.len());
}

fn bench_decode(c: &mut Criterion) {
    let (stored, pipeline) = h5py_chunk();
    let n = 1024 * 1024 * 4;
    let mut shuffled = vec![0u8; n];
    inflate_into(&stored, &mut shuffled).expect("inflate");
    let mut check = vec![0u8; n];
    inflate_zlib_rs(&stored, &mut check);
    assert_eq!(check, shuffled, "both inflaters agree");
    let mut out = vec![0u8; n];
    let mut reference = vec![0u8; n];
    unshuffle_per_element(&shuffled, &mut reference);
    unshuffle_into(&shuffled, 4, &mut out);
    assert_eq!(out, reference, "both transposes agree");
    decode_pipeline_into(&stored, &pipeline, 0, 4, &mut out).expect("pipeline");
    assert_eq!(out, reference, "the pipeline gives the same bytes");

    // A plain summary first (one thread, best of 20), so the choice is visible at a glance.
    let best = |f: &mut dyn FnMut()| {
        f();
        (0..20)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mbs = |s: f64| n as f64 / s / 1e6;
    let lib = best(&mut || inflate_into(&stored, &mut shuffled).expect("inflate"));
    let zrs = best(&mut || inflate_zlib_rs(&stored, &mut check));
    let simd = best(&mut || unshuffle_into(&shuffled, 4, &mut out));
    let scalar = best(&mut || unshuffle_per_element(&shuffled, &mut reference));
    let whole =
        best(&mut || decode_pipeline_into(&stored, &pipeline, 0, 4, &mut out).expect("pipeline"));
    eprintln!(
        "one h5py chunk (4 MiB float32, deflate 4 + shuffle, {} stored bytes), best of 20:",
        stored.len()
    );
    eprintln!(
        "  inflate libdeflate : {:.2} ms  {:.0} MB/s",
        lib * 1e3,
        mbs(lib)
    );
    eprintln!(
        "  inflate zlib-rs    : {:.2} ms  {:.0} MB/s  (libdeflate x{:.2})",
        zrs * 1e3,
        mbs(zrs),
        zrs / lib
    );
    eprintln!(
        "  unshuffle C-Blosc2 : {:.3} ms  {:.0} MB/s",
        simd * 1e3,
        mbs(simd)
    );
    eprintln!(
        "  unshuffle per elem : {:.3} ms  {:.0} MB/s  (C-Blosc2 x{:.2})",
        scalar * 1e3,
        mbs(scalar),
        scalar / simd
    );
    eprintln!(
        "  whole pipeline     : {:.2} ms  {:.0} MB/s",
        whole * 1e3,
        mbs(whole)
    );

    let mut g = c.benchmark_group("hdf5_decode_one_chunk");
    g.sample_size(30).throughput(Throughput::Bytes(n as u64));
    g.bench_function("inflate_libdeflate", |b| {
        b.iter(|| inflate_into(&stored, &mut shuffled).expect("inflate"))
    });
    g.bench_function("inflate_zlib_rs", |b| {
        b.iter(|| inflate_zlib_rs(&stored, &mut check))
    });
    g.bench_function("unshuffle_c_blosc2", |b| {
        b.iter(|| unshuffle_into(&shuffled, 4, &mut out))
    });
    g.bench_function("unshuffle_per_element", |b| {
        b.iter(|| unshuffle_per_element(&shuffled, &mut reference))
    });
    g.bench_function("pipeline_into_output", |b| {
        b.iter(|| decode_pipeline_into(&stored, &pipeline, 0, 4, &mut out).expect("pipeline"))
    });
    g.finish();
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

criterion_group!(benches, bench_decode, bench);
criterion_main!(benches);
