//! The main job of `make demo`: vastarray's core on generated data (no data of yours needed).
//!
//! 1. A zoom-9 tile pyramid (512 x 512 tiles of 256 x 256 RGB: shape (131072, 131072, 3)) as a
//!    mosaic of mosaics, sliced to a small region: only the 6 tiles it touches are generated.
//! 2. Mean and standard deviation of an 8 GiB float32 array streamed with a 256 MiB memory
//!    budget (one shared pass), checked against the exact values, with a progress bar.
//! 3. The explained plan, and its graph as Graphviz dot in `demo-output/plan.dot`.

use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use vastarray::{evaluate, Axes, DType, DynArray, EvalConfig, GeneratedSource, NdData};

fn tile(z_y: usize, z_x: usize, generated: Arc<AtomicUsize>) -> DynArray {
    let src = GeneratedSource::new(&[256, 256, 3], &[256, 256, 3], DType::U8, move |region| {
        generated.fetch_add(1, Ordering::Relaxed);
        let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&ext), |ix| {
            let (r, c, k) = (
                region[0].start + ix[0],
                region[1].start + ix[1],
                ix[2] + region[2].start,
            );
            ((z_y * 256 + r) / 64 * 40 + (z_x * 256 + c) / 64 * 70 + k * 85) as u8
        });
        NdData::U8(a)
    })
    .expect("tile source");
    DynArray::from_source(src)
}

fn main() -> vastarray::Result<()> {
    let out_dir = std::path::Path::new("demo-output");
    std::fs::create_dir_all(out_dir)?;

    println!("== 1. A zoom-9 tile pyramid as a mosaic of mosaics");
    let generated = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let rows: Vec<DynArray> = (0..512)
        .map(|y| {
            let tiles: Vec<DynArray> = (0..512).map(|x| tile(y, x, generated.clone())).collect();
            DynArray::concatenate(&tiles, 1)
        })
        .collect::<vastarray::Result<_>>()?;
    let level = DynArray::concatenate(&rows, 0)?;
    let built = t0.elapsed();
    let t1 = Instant::now();
    let region = level.select_str("54600:55000, 59300:59850")?;
    let sliced = t1.elapsed();
    let pixels = region.ndarray()?;
    println!(
        "   level shape {:?} {} built in {:.0?}; sliced in {:.0?}",
        level.shape(),
        level.dtype(),
        built,
        sliced
    );
    println!(
        "   region {:?}: {} of {} tiles generated (want 6)",
        pixels.shape(),
        generated.load(Ordering::Relaxed),
        512 * 512
    );

    println!("\n== 2. Streaming mean and std of 8 GiB of float32 in a 256 MiB budget");
    let shape = [2048usize, 1024, 1024];
    let src = GeneratedSource::new(&shape, &[1, 1024, 1024], DType::F32, move |region| {
        let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut v = Vec::with_capacity(ext.iter().product());
        for i in region[0].clone() {
            for j in region[1].clone() {
                let base = (i * 1024 + j) * 1024;
                v.extend(region[2].clone().map(|k| ((base + k) % 1000) as f32));
            }
        }
        NdData::F32(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&ext), v).expect("shape"))
    })?
    .with_name("generated (2048, 1024, 1024) f32");
    let a = DynArray::from_source(src);
    let (mean, std) = (a.mean(Axes::All)?, a.std(Axes::All)?);
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("   {bar:40} {pos}/{len} chunks {elapsed}").expect("template"),
    );
    let b = bar.clone();
    let mut cfg = EvalConfig::with_budget(256 << 20);
    cfg.progress = Some(Arc::new(move |done, total| {
        b.set_length(total);
        b.set_position(done);
    }));
    let t2 = Instant::now();
    let r = evaluate(&[&mean, &std], &cfg)?;
    bar.finish();
    let secs = t2.elapsed().as_secs_f64();
    let (m, s) = (
        r[0].clone().into_typed::<f32>()?[[]],
        r[1].clone().into_typed::<f32>()?[[]],
    );
    // Exact reference: element with flat index f is f % 1000.
    let n: u64 = shape.iter().product::<usize>() as u64;
    let (mut sum, mut sumsq) = (0f64, 0f64);
    for v in 0..1000u64 {
        let c = (n / 1000 + u64::from(v < n % 1000)) as f64;
        sum += c * v as f64;
        sumsq += c * (v * v) as f64;
    }
    let (rm, rs) = (
        sum / n as f64,
        (sumsq / n as f64 - (sum / n as f64).powi(2)).sqrt(),
    );
    println!("   mean {m} (exact {rm:.4}), std {s} (exact {rs:.4})");
    println!("   {:.1} s, {:.2} GB/s", secs, (n * 4) as f64 / secs / 1e9);

    println!("\n== 3. The plan it ran");
    let plan = vastarray::Plan::new(&[&mean, &std], &cfg)?;
    for line in plan.explain()?.lines() {
        println!("   {line}");
    }
    let dot = out_dir.join("plan.dot");
    std::fs::write(&dot, plan.to_dot())?;
    println!("\nwrote {}", dot.display());
    Ok(())
}
