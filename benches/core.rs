//! Core benchmarks (criterion). Each group measures vastarray and a reference on the same
//! data in one run, so the ratio is meaningful on a noisy machine; `benches/README.md` records
//! the figures.
//!
//! - `stream_mean_std`: mean and std of a generated 2 GiB f32 source, vastarray's streaming
//!   pass against a hand-written rayon loop over the same chunks with the same f64 sums.
//! - `mosaic`: building the 512 x 512 zoom-9 tile mosaic, and slicing it.
//! - `elementwise`: `sqrt(a * a + b * b)` lazily against eager ndarray.

use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;
use std::hint::black_box;
use vastarray::Axes;
use vastarray::{evaluate, ChunkSource, DType, DynArray, EvalConfig, GeneratedSource, NdData};

const SHAPE: [usize; 3] = [512, 1024, 1024];

fn fill(region: &[std::ops::Range<usize>]) -> Vec<f32> {
    let mut v = Vec::with_capacity(region.iter().map(|r| r.len()).product());
    for i in region[0].clone() {
        for j in region[1].clone() {
            let base = (i * SHAPE[1] + j) * SHAPE[2];
            v.extend(region[2].clone().map(|k| ((base + k) % 1000) as f32));
        }
    }
    v
}

fn source() -> GeneratedSource {
    GeneratedSource::new(&SHAPE, &[1, 1024, 1024], DType::F32, |region| {
        let ext: Vec<usize> = region.iter().map(|r| r.len()).collect();
        NdData::F32(
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&ext), fill(region)).expect("shape"),
        )
    })
    .expect("source")
}

fn stream_mean_std(c: &mut Criterion) {
    let mut g = c.benchmark_group("stream_mean_std_2GiB");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Bytes(
        (SHAPE.iter().product::<usize>() * 4) as u64,
    ));
    let a = DynArray::from_source(source());
    let (m, s) = (a.mean(None::<usize>).unwrap(), a.std(Axes::All).unwrap());
    let cfg = EvalConfig::with_budget(256 << 20);
    g.bench_function("vastarray", |b| {
        b.iter(|| black_box(evaluate(&[&m, &s], &cfg).unwrap()))
    });
    let src = source();
    g.bench_function("hand_written_rayon", |b| {
        b.iter(|| {
            let (n, sum, sumsq) = (0..SHAPE[0])
                .into_par_iter()
                .map(|i| {
                    let chunk = src
                        .read_chunk(&[i, 0, 0])
                        .unwrap()
                        .into_typed::<f32>()
                        .unwrap();
                    let (mut s, mut q) = (0f64, 0f64);
                    for &v in chunk.iter() {
                        let v = v as f64;
                        s += v;
                        q += v * v;
                    }
                    (chunk.len() as f64, s, q)
                })
                .reduce(|| (0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
            let mean = sum / n;
            black_box((mean, (sumsq / n - mean * mean).sqrt()))
        })
    });
    g.finish();
}

fn mosaic(c: &mut Criterion) {
    let mut g = c.benchmark_group("mosaic_zoom9");
    g.sample_size(10);
    let tile =
        GeneratedSource::from_index_fn(&[256, 256, 3], &[256, 256, 3], |ix| ix[0] as u8).unwrap();
    let build = || {
        let rows: Vec<DynArray> = (0..512)
            .map(|_| {
                let tiles: Vec<DynArray> = (0..512)
                    .map(|_| DynArray::from_source(tile.clone()))
                    .collect();
                DynArray::concatenate(&tiles, 1).unwrap()
            })
            .collect();
        DynArray::concatenate(&rows, 0).unwrap()
    };
    g.bench_function("build_512x512", |b| b.iter(|| black_box(build())));
    let level = build();
    g.bench_function("slice", |b| {
        b.iter(|| black_box(level.select_str("54600:55000, 59300:59850").unwrap()))
    });
    g.bench_function("slice_and_plan", |b| {
        b.iter(|| {
            black_box(
                level
                    .select_str("54600:55000, 59300:59850")
                    .unwrap()
                    .plan(&EvalConfig::default())
                    .unwrap(),
            )
        })
    });
    g.finish();
}

fn elementwise(c: &mut Criterion) {
    let mut g = c.benchmark_group("elementwise_sqrt_a2_b2");
    g.sample_size(10);
    let n = 4096;
    let a = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j) % 100) as f64).into_dyn();
    let b = ndarray::Array2::from_shape_fn((n, n), |(i, j)| ((i + j * 3) % 50) as f64).into_dyn();
    g.throughput(criterion::Throughput::Bytes((n * n * 8 * 2) as u64));
    let la = DynArray::from_ndarray(a.clone(), &[512, 4096]).unwrap();
    let lb = DynArray::from_ndarray(b.clone(), &[512, 4096]).unwrap();
    let e = la
        .mul(&la)
        .unwrap()
        .add(lb.mul(&lb).unwrap())
        .unwrap()
        .sqrt()
        .unwrap();
    g.bench_function("vastarray", |bch| {
        bch.iter(|| black_box(e.ndarray().unwrap()))
    });
    g.bench_function("eager_ndarray", |bch| {
        bch.iter(|| black_box((&a * &a + &b * &b).mapv(f64::sqrt)))
    });
    g.finish();
}

criterion_group!(benches, stream_mean_std, mosaic, elementwise);
criterion_main!(benches);
