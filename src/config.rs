//! How an evaluation runs: [`EvalConfig`] (memory budget, threads, reads in flight, progress),
//! shared by the planner (which checks stages against the budget) and the executor.
//!
//! ```
//! use vastarray::{DynArray, EvalConfig};
//! let a = DynArray::from_ndarray(ndarray::Array1::<f64>::ones(1000).into_dyn(), &[100]).unwrap();
//! let cfg = EvalConfig::default().budget(64 << 20).threads(2);
//! let s = a.sum(0).unwrap().ndarray_with(&cfg).unwrap().into_typed::<f64>().unwrap();
//! assert_eq!(s[[]], 1000.0);
//! ```

use std::sync::Arc;

/// A callback told how many tasks are done out of how many (for progress bars).
pub type Progress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How an evaluation runs. Built from the default by chained calls, each named as the field
/// it sets:
///
/// ```
/// use vastarray::EvalConfig;
/// let cfg = EvalConfig::default().budget(64 << 20).threads(2).io_concurrency(8);
/// assert_eq!((cfg.budget, cfg.threads, cfg.io_concurrency), (64 << 20, 2, 8));
/// assert!(cfg.progress.is_none());
/// ```
#[derive(Clone)]
pub struct EvalConfig {
    /// Bytes that input chunks, partial states and blocks in flight may take at once.
    pub budget: usize,
    /// Worker threads for computation.
    pub threads: usize,
    /// Reads of latency-bound sources (HTTP, slow caches) in flight at once.
    pub io_concurrency: usize,
    /// Told of progress after each task.
    pub progress: Option<Progress>,
}

impl Default for EvalConfig {
    /// A budget of 512 MiB, one thread per core, 16 concurrent reads.
    fn default() -> Self {
        EvalConfig {
            budget: 512 << 20,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            io_concurrency: 16,
            progress: None,
        }
    }
}

impl EvalConfig {
    /// The default configuration with a memory budget of `bytes`.
    pub fn with_budget(bytes: usize) -> Self {
        EvalConfig {
            budget: bytes,
            ..Default::default()
        }
    }

    /// The same configuration with a memory budget of `bytes`.
    pub fn budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// The same configuration with `n` worker threads (at least one).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// The same configuration with `n` reads of latency-bound sources in flight (at least one).
    pub fn io_concurrency(mut self, n: usize) -> Self {
        self.io_concurrency = n.max(1);
        self
    }

    /// The same configuration, telling `f` of progress after each task.
    pub fn progress(mut self, f: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

impl std::fmt::Debug for EvalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalConfig")
            .field("budget", &self.budget)
            .field("threads", &self.threads)
            .field("io_concurrency", &self.io_concurrency)
            .finish()
    }
}

/// Bytes for people: `256 MiB`.
pub(crate) fn human_bytes(b: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
