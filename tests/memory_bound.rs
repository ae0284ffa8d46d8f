//! Mean and std of a generated array 32 times larger than the memory budget, and the
//! dependent expression `(a - mean(a, 0)) / std(a, 0)` over it, run within the budget:
//! measured as the peak resident memory of a child process, not estimated.

use crate::common;
use vastarray::Axes;
use vastarray::{evaluate, DType, DynArray, EvalConfig, GeneratedSource, NdData};

const SHAPE: [usize; 3] = [512, 1024, 1024]; // 2 GiB of f32
const BUDGET: usize = 64 << 20;

/// Element with flat index `f` is `f % 1000`: mean and variance follow from counting.
fn source() -> GeneratedSource {
    GeneratedSource::new(&SHAPE, &[1, 1024, 1024], DType::F32, |region| {
        let ext: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
        let mut v = Vec::with_capacity(ext.iter().product());
        for i in region[0].clone() {
            for j in region[1].clone() {
                let base = (i * SHAPE[1] + j) * SHAPE[2];
                v.extend(region[2].clone().map(|k| ((base + k) % 1000) as f32));
            }
        }
        NdData::F32(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&ext), v).expect("region shape"))
    })
    .expect("source")
}

/// Run by the parent in a child process (`--ignored` keeps it out of normal runs).
#[test]
#[ignore]
fn child_streams_mean_and_std() {
    let a = DynArray::from_source(source());
    let (m, s) = (a.mean(None::<usize>).unwrap(), a.std(Axes::All).unwrap());
    let cfg = EvalConfig::with_budget(BUDGET);
    let r = evaluate(&[&m, &s], &cfg).unwrap();
    let m = r[0].clone().into_typed::<f32>().unwrap()[[]];
    let s = r[1].clone().into_typed::<f32>().unwrap()[[]];
    // A dependent expression: z-scores along axis 0 (stages first, then one more stream).
    let z = a
        .sub(a.mean(0usize).unwrap())
        .unwrap()
        .div(a.std(0usize).unwrap())
        .unwrap();
    let (zm, zs) = (z.mean(None::<usize>).unwrap(), z.std(Axes::All).unwrap());
    let rz = evaluate(&[&zm, &zs], &cfg).unwrap();
    let zm = rz[0].clone().into_typed::<f32>().unwrap()[[]];
    let zs = rz[1].clone().into_typed::<f32>().unwrap()[[]];
    println!("RESULT {m} {s} {zm} {zs}");
    common::print_own_peak_rss();
}

#[test]
fn streaming_stats_stay_within_budget() {
    let out = common::child_test(module_path!(), "child_streams_mean_and_std")
        // glibc raises its mmap threshold after multi-MiB frees and then keeps freed blocks in
        // per-thread arenas: resident memory the program no longer uses. A fixed threshold
        // makes the measurement show live memory (without it: about 20 MiB more here).
        .env("MALLOC_MMAP_THRESHOLD_", "1048576")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The harness may print the test's name on the same line, before the result.
    let line = text
        .lines()
        .find_map(|l| l.split("RESULT").nth(1))
        .expect("child printed its result");
    let v: Vec<f64> = line
        .split_whitespace()
        .take(4)
        .map(|x| x.parse().unwrap())
        .collect();
    // Reference by counting residues.
    let n: u64 = SHAPE.iter().product::<usize>() as u64;
    let (mut sum, mut sumsq) = (0f64, 0f64);
    for r in 0..1000u64 {
        let c = (n / 1000 + u64::from(r < n % 1000)) as f64;
        sum += c * r as f64;
        sumsq += c * (r * r) as f64;
    }
    let mean = sum / n as f64;
    let std = (sumsq / n as f64 - mean * mean).sqrt();
    assert!((v[0] - mean).abs() < 1e-4 * mean, "mean {} vs {mean}", v[0]);
    assert!((v[1] - std).abs() < 1e-4 * std, "std {} vs {std}", v[1]);
    // Every column's z-scores have mean 0 and variance 1, so all of them together do too.
    assert!(v[2].abs() < 1e-4, "mean of z-scores {}", v[2]);
    assert!((v[3] - 1.0).abs() < 1e-4, "std of z-scores {}", v[3]);
    let peak = common::printed_peak_rss_kib(&text) as usize * 1024;
    let array_bytes = SHAPE.iter().product::<usize>() * 4;
    assert!(array_bytes >= 32 * BUDGET);
    // The budget plus the test binary's own footprint (code, allocator, thread stacks).
    assert!(
        peak < BUDGET + (48 << 20),
        "peak RSS {} MiB for a budget of {} MiB",
        peak >> 20,
        BUDGET >> 20
    );
}
