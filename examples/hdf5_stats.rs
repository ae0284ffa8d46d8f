//! The headline job: mean and std (one pass, f64 accumulation) of a whole HDF5 dataset, and its
//! mean along axis 0, in a 256 MiB memory budget.
//!
//! `cargo run --release --example hdf5_stats -- FILE.h5 /dataset [--budget-mib N] [--threads N]`
//! (the library form of `vastarray stats`; `scripts/bench_hdf5/run.sh` times the command).

use std::time::Instant;
use vastarray::{evaluate, Axes, DynArray, EvalConfig, Hdf5Source};

fn main() -> vastarray::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: hdf5_stats FILE.h5 /dataset [--budget-mib N] [--threads N]");
        std::process::exit(2);
    }
    let flag = |name: &str| -> Option<usize> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    let budget_mib = flag("--budget-mib").unwrap_or(256);
    let a = DynArray::from_source(Hdf5Source::open(&args[1], &args[2])?);
    let mut cfg = EvalConfig::with_budget(budget_mib << 20);
    if let Some(n) = flag("--threads") {
        cfg = cfg.threads(n);
    }
    let (m, s) = (a.mean(Axes::All)?, a.std(Axes::All)?);
    let t = Instant::now();
    let r = evaluate(&[&m, &s], &cfg)?;
    let secs = t.elapsed().as_secs_f64();
    let mean = r[0].to_f64()[[]];
    let std = r[1].to_f64()[[]];
    let t2 = Instant::now();
    let m0 = a.mean(0usize)?.ndarray_with(&cfg)?;
    let secs0 = t2.elapsed().as_secs_f64();
    println!(
        "mean {mean} std {std} (shape {:?}, {})",
        a.shape(),
        a.dtype()
    );
    println!(
        "mean(axis=0): shape {:?}, first {:?}",
        m0.shape(),
        m0.to_f64().iter().next()
    );
    println!("compute {secs:.3} s");
    println!("compute_axis0 {secs0:.3} s");
    Ok(())
}
