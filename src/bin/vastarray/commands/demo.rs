//! `vastarray demo`: the main job on generated data, no data of yours needed.
//!
//! 1. The embedded tile server starts on 127.0.0.1; zoom level 9 of its pyramid (512 x 512
//!    tiles of 256 x 256 RGB, shape (131072, 131072, 3)) becomes a lazy mosaic of mosaics; a
//!    region is drawn to a PNG through a persistent tile cache: only the 6 tiles it touches are
//!    requested. A second draw, through the cache reopened as a new process would, requests
//!    nothing.
//! 2. Mean and standard deviation of a generated float32 array several times larger than the
//!    memory budget stream in one shared pass (with a progress bar on a terminal), checked
//!    against the exact values.
//! 3. The plan that ran is printed and saved (text and Graphviz dot).
//!
//! Everything is written into one folder (`--dir`, default `vastarray-demo`).

use super::super::args::DemoArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::png::write_png;
use super::super::settings::{parse_bytes, Settings};
use super::mosaic::{cached_level, select_region, tile_level};
use super::print_plan;
use crate::tileserver::{TileServer, TileServerConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::tile_mosaic;
use vastarray::io::tiles::TileFormat;
use vastarray::{evaluate, Axes, ChunkSource, DType, DynArray, GeneratedSource, NdData, Plan};

/// The region drawn: rows and columns of zoom level 9.
pub(crate) const REGION: &str = "54600:55000, 59300:59850";
/// The zoom level drawn.
pub(crate) const ZOOM: u32 = 9;
/// Default size of the streamed array.
const DEFAULT_SIZE: usize = 8 << 30;
/// Default budget of the demo.
const DEFAULT_BUDGET: usize = 256 << 20;

/// Runs `demo`.
pub(crate) fn run(args: &DemoArgs, settings: &Settings) -> Result<(), CliError> {
    let size = match (args.size, std::env::var("VASTARRAY_DEMO_SIZE")) {
        (Some(s), _) => s,
        (None, Ok(v)) => {
            parse_bytes(&v).map_err(|e| CliError::Usage(format!("VASTARRAY_DEMO_SIZE: {e}")))?
        }
        (None, Err(_)) => DEFAULT_SIZE,
    };
    let mut settings = settings.clone();
    if !settings.budget_given {
        settings.cfg.budget = DEFAULT_BUDGET;
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| {
        CliError::Runtime(format!(
            "{}: cannot create the folder: {e}",
            args.dir.display()
        ))
    })?;
    let dir = &args.dir;
    tiles(dir, &settings)?;
    stream(dir, size, &settings)?;
    outln!("\nfiles written to {}/:", dir.display())?;
    for name in ["region.png", "tiles-z9.b2nd", "plan.txt", "plan.dot"] {
        if dir.join(name).exists() {
            outln!("  {name}")?;
        }
    }
    Ok(())
}

/// Part 1: a region of a zoom-9 pyramid, drawn twice through a persistent tile cache.
fn tiles(dir: &Path, settings: &Settings) -> Result<(), CliError> {
    outln!("== 1. A zoom-{ZOOM} tile pyramid over HTTP, as a lazy mosaic of mosaics")?;
    let server = TileServer::start(TileServerConfig::default())?;
    let template = server.url_template(TileFormat::Png);
    outln!("   tile server: {}", template)?;
    let cache = dir.join("tiles-z9.b2nd");
    // A fresh cache each run, so the first draw shows what it fetches.
    for stale in [cache.clone(), vastarray::io::b2nd::journal_path(&cache)] {
        let _ = std::fs::remove_file(stale);
    }
    let png = dir.join("region.png");
    let mut first: Option<NdData> = None;
    for draw in 1..=2 {
        let client = Arc::new(HttpClient::new(HttpConfig::default())?);
        let t0 = Instant::now();
        let level = tile_level(&template, ZOOM, 256, 3, client.clone())?;
        let tiles_total = level.grid().num_chunks();
        // Each draw opens the cache file afresh, as a new process would.
        let (source, counter) = cached_level(level, Some(&cache))?;
        let mosaic = tile_mosaic(source)?;
        let built = t0.elapsed();
        let region = select_region(&mosaic, REGION)?;
        if draw == 1 {
            outln!(
                "   level shape {:?} {}: {} tiles, built in {:.0?} without a request",
                mosaic.shape(),
                mosaic.dtype(),
                tiles_total,
                built
            )?;
            if settings.explain {
                print_plan(
                    "   plan of the draw (no tile requested):",
                    &region.explain(&settings.cfg)?,
                )?;
                return Ok(());
            }
        }
        let before = server.stats().total_requests;
        let t1 = Instant::now();
        let data = region.ndarray_with(&settings.cfg)?;
        let took = t1.elapsed();
        let requests = server.stats().total_requests - before;
        let (hits, misses) = counter.map(|c| (c.hits(), c.misses())).unwrap_or((0, 0));
        outln!(
            "   draw {draw}: region [{REGION}] -> {} x {} pixels in {:.0?}; server requests {requests}, tiles from the server {misses}, from the cache file {hits}",
            data.shape()[1],
            data.shape()[0],
            took
        )?;
        match &first {
            None => {
                write_png(data.clone(), &png, true)?;
                outln!("   wrote {}", png.display())?;
                first = Some(data);
            }
            Some(f) => {
                if f != &data {
                    return Err(CliError::Runtime(
                        "the second draw differs from the first".into(),
                    ));
                }
                if requests == 0 {
                    outln!(
                        "   the second draw requested nothing: every tile came from {}",
                        cache.display()
                    )?;
                } else {
                    outln!("   the second draw made {requests} request(s) (expected none)")?;
                }
            }
        }
    }
    server.stop();
    Ok(())
}

/// Part 2 and 3: mean and std of a generated array larger than the budget, and the plan.
fn stream(dir: &Path, size: usize, settings: &Settings) -> Result<(), CliError> {
    let plane = 1024 * 1024;
    let rows = (size / 4 / plane).max(1);
    let shape = [rows, 1024usize, 1024usize];
    let n = (rows * plane) as u64;
    let budget = settings.cfg.budget;
    outln!(
        "\n== 2. Mean and std of {} of float32 ({:?}) in a {} budget, one streaming pass",
        human(n as usize * 4),
        shape,
        human(budget)
    )?;
    let src = GeneratedSource::new(&shape, &[1, 1024, 1024], DType::F32, move |region| {
        let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut v = Vec::with_capacity(ext.iter().product());
        for i in region[0].clone() {
            for j in region[1].clone() {
                let base = (i * 1024 + j) * 1024;
                v.extend(region[2].clone().map(|k| ((base + k) % 1000) as f32));
            }
        }
        match ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&ext), v) {
            Ok(a) => NdData::F32(a),
            Err(_) => NdData::zeros(DType::F32, &[0]),
        }
    })?
    .with_name(format!(
        "generated {shape:?} float32 (element i is i % 1000)"
    ));
    let a = DynArray::from_source(src);
    let (mean, std) = (a.mean(Axes::All)?, a.std(Axes::All)?);
    let plan = Plan::new(&[&mean, &std], &settings.cfg)?;
    if settings.explain {
        print_plan("   plan (nothing was computed):", &plan.explain()?)?;
        return Ok(());
    }
    let bar = settings.progress_bar("   streaming");
    let cfg = settings.cfg_with(&bar);
    let t0 = Instant::now();
    let r = evaluate(&[&mean, &std], &cfg);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let r = r?;
    let secs = t0.elapsed().as_secs_f64();
    let m = r[0]
        .clone()
        .into_typed::<f32>()?
        .iter()
        .next()
        .copied()
        .unwrap_or(f32::NAN);
    let s = r[1]
        .clone()
        .into_typed::<f32>()?
        .iter()
        .next()
        .copied()
        .unwrap_or(f32::NAN);
    let (em, es) = exact_mean_std(n);
    outln!("   mean {m} (exact {em:.6}), std {s} (exact {es:.6})")?;
    outln!(
        "   {:.2} s, {:.2} GB/s; the array is {:.1}x the budget",
        secs,
        (n * 4) as f64 / secs / 1e9,
        (n * 4) as f64 / budget as f64
    )?;
    if let Some(peak) = peak_rss() {
        outln!("   peak resident memory of this process: {}", human(peak))?;
    }
    let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-300);
    if rel(m as f64, em) > 1e-5 || rel(s as f64, es) > 1e-5 {
        return Err(CliError::Runtime(format!(
            "streamed mean/std {m}/{s} differ from the exact {em}/{es}"
        )));
    }
    outln!("\n== 3. The plan it ran")?;
    let text = plan.explain()?;
    for line in text.lines() {
        outln!("   {line}")?;
    }
    let write = |name: &str, body: &str| {
        std::fs::write(dir.join(name), body).map_err(|e| {
            CliError::Runtime(format!("{}: cannot write: {e}", dir.join(name).display()))
        })
    };
    write("plan.txt", &text)?;
    write("plan.dot", &plan.to_dot())?;
    Ok(())
}

/// Mean and population std of `i % 1000` for `i` in `0..n`.
fn exact_mean_std(n: u64) -> (f64, f64) {
    let (mut sum, mut sumsq) = (0f64, 0f64);
    for v in 0..1000u64 {
        let c = (n / 1000 + u64::from(v < n % 1000)) as f64;
        sum += c * v as f64;
        sumsq += c * (v * v) as f64;
    }
    let mean = sum / n as f64;
    (mean, (sumsq / n as f64 - mean * mean).max(0.0).sqrt())
}

/// The peak resident memory of this process (Linux), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes in binary units: `256 MiB`.
fn human(b: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
