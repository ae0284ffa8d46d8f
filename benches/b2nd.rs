//! Two-level chunking pays off: reading a 10x10 box of one 1248x2689 chunk decompresses only
//! the blocks it touches, against decompressing the whole chunk.
//!
//! Run: `cargo bench -p vastarray-benches --bench b2nd`. The ratio of the `whole chunk` and `10x10 region` times is
//! the gain.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::time::Duration;
use vastarray::io::b2nd::B2ndSource;
use vastarray::io::b2nd::{store_b2nd, B2ndOptions};
use vastarray::{ChunkSource, GeneratedSource};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let src = GeneratedSource::from_index_fn(&[1248, 2689], &[1248, 2689], |ix| {
        ((ix[0] * 7 + ix[1] * 3) % 4096) as u16
    })
    .unwrap();
    let mut g = c.benchmark_group("b2nd read");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_millis(500));
    for (label, blocks) in [
        ("default blocks", None),
        ("blocks 128x128", Some(vec![128, 128])),
    ] {
        let path = dir.path().join(format!("{}.b2nd", label.replace(' ', "_")));
        let opts = B2ndOptions {
            chunks: Some(vec![1248, 2689]),
            blocks,
            ..Default::default()
        };
        store_b2nd(&src, &path, &opts).unwrap();
        let file = B2ndSource::open(&path).unwrap();
        eprintln!("{label}: block shape {:?}", file.block_shape());
        g.bench_function(format!("{label}: whole chunk"), |b| {
            b.iter(|| black_box(file.read_chunk(&[0, 0]).unwrap()))
        });
        g.bench_function(format!("{label}: 10x10 region"), |b| {
            b.iter(|| black_box(file.read_region(&[600..610, 1300..1310]).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
