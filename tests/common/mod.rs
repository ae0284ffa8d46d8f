//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::ops::Range;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use vastarray::sink::RegionCompute;
use vastarray::{ChunkSource, DType, MemorySource, NdData};

/// The Python interpreter with numpy, h5py, blosc2 (and caterva2, dask) installed.
///
/// `make test` sets `VASTARRAY_PYTHON` to the virtual environment it builds; without it the
/// tests look for `.venv/bin/python` in the repository. Interop tests fail, not skip, when
/// neither exists: CI must run them.
pub fn python() -> PathBuf {
    if let Ok(p) = std::env::var("VASTARRAY_PYTHON") {
        return PathBuf::from(p);
    }
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        local.exists(),
        "no Python environment: run `make pyenv` or set VASTARRAY_PYTHON (interop tests need numpy, h5py, blosc2)"
    );
    local
}

/// Runs a Python script (with `args`) and returns its standard output; panics with its
/// standard error if it fails.
pub fn run_python(script: &str, args: &[&str]) -> String {
    // Parallel tests fork children while the library has HDF5 files open: a child that
    // inherits such a descriptor (in the moment before it is marked close-on-exec) holds that
    // file's HDF5 lock for as long as it lives, and h5py would then refuse to open the file.
    // The Python side only reads or writes its own fixtures, so it does without the lock.
    let out = Command::new(python())
        .env("HDF5_USE_FILE_LOCKING", "FALSE")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("starting python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n--- script ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The URL and message of an HTTP error, its cause's text included (panics on any other
/// error).
pub fn http_error(e: vastarray::Error) -> (String, String) {
    match &e {
        vastarray::Error::Http { url, .. } => {
            let full = e.to_string();
            let message = full.strip_prefix(&format!("{url}: ")).unwrap_or(&full);
            (url.clone(), message.to_string())
        }
        other => panic!("expected an HTTP error, got {other}"),
    }
}

/// A [`RegionCompute`] over an in-memory array that records every box asked of it, in order,
/// and fails on the `fail_on`-th one (from 1) if set: for sink tests.
pub struct Recorder {
    inner: MemorySource,
    asked: Mutex<Vec<Vec<Range<usize>>>>,
    fail_on: Option<usize>,
}

impl Recorder {
    /// Serves `data`; fails on box number `fail_on`, if given, with "injected failure".
    pub fn new(data: NdData, fail_on: Option<usize>) -> Recorder {
        let shape = data.shape().to_vec();
        Recorder {
            inner: MemorySource::from_data(data, &shape).expect("memory source"),
            asked: Mutex::default(),
            fail_on,
        }
    }

    /// The boxes asked so far, in order.
    pub fn asked(&self) -> Vec<Vec<Range<usize>>> {
        self.asked.lock().unwrap().clone()
    }
}

impl RegionCompute for Recorder {
    fn region_shape(&self) -> Vec<usize> {
        self.inner.shape().to_vec()
    }
    fn region_dtype(&self) -> DType {
        self.inner.dtype()
    }
    fn compute_region(&self, region: &[Range<usize>]) -> vastarray::Result<NdData> {
        let mut asked = self.asked.lock().unwrap();
        asked.push(region.to_vec());
        if Some(asked.len()) == self.fail_on {
            return Err(vastarray::Error::read("recorder", None, "injected failure"));
        }
        self.inner.read_region(region)
    }
}

/// How many cases each fuzz harness (`tests/fuzz_*.rs`) runs: `VASTARRAY_FUZZ_CASES`, or a
/// bounded default that keeps `make test` quick (`make fuzz` sets a large number).
pub fn fuzz_cases() -> u32 {
    std::env::var("VASTARRAY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// A command that runs one test of this test binary alone in a child process: `module` is the
/// calling file's `module_path!()`, `name` the test function (often `#[ignore]`d, so that it runs
/// only when asked for). The caller adds its environment and streams.
pub fn child_test(module: &str, name: &str) -> Command {
    // A test's name is its path without the crate's: `memory_bound::child_streams_mean_and_std`.
    let path = match module.split_once("::") {
        Some((_, inner)) => format!("{inner}::{name}"),
        None => name.to_string(),
    };
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command.args([
        path.as_str(),
        "--exact",
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command
}

/// Prints this process's peak resident memory (`VmHWM` of `/proc/self/status`, in KiB) for
/// [`printed_peak_rss_kib`]: the last thing a test run by [`child_test`] does. Measured by the
/// child itself: the kernel's `ru_maxrss` of a child also counts the parent's memory from the
/// moment before `exec` (a test binary busy with other tests), `VmHWM` only the child's program.
pub fn print_own_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in /proc/self/status");
    println!("PEAK_RSS_KIB {kib}");
}

/// The peak resident memory in KiB that a child printed with [`print_own_peak_rss`].
pub fn printed_peak_rss_kib(stdout: &str) -> u64 {
    // The harness may print the test's name on the same line, before it.
    stdout
        .lines()
        .find_map(|l| l.split("PEAK_RSS_KIB ").nth(1))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("the child printed no peak memory:\n{stdout}"))
}
