//! The `vastarray` command under `mpirun` (`-n 1`, `2` and `4`, over loopback TCP): `stats`,
//! reductions along one axis, a staged plan (centring), `eval --out` and `copy` give what the
//! same command gives alone (integers and stored integer files exactly, floats within the
//! rounding of their type); against a real Caterva2 server the requests of all ranks together
//! are the chunks touched, each once; a rank whose source fails ends every rank with its error.

// Runs the `vastarray` binary built with MPI (`make test` builds with `--features mpi`).
#![cfg(all(feature = "mpi", feature = "cli"))]

use crate::caterva2_support;
use crate::cli_support;

use caterva2_support::Server;
use cli_support::{run_python, vastarray_in, Out};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A bound on one `mpirun`, so a hang fails the test instead of stalling the suite (no run
/// comes near it; nothing asserts a time).
const HANG: Duration = Duration::from_secs(120);

/// Runs `vastarray ARGS` as `n` ranks under `mpirun` in `cwd`.
fn mpirun(n: usize, cwd: &Path, args: &[&str]) -> Out {
    let mut child = Command::new("mpirun")
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-n",
            &n.to_string(),
        ])
        // Loopback TCP between the ranks (shared-memory transports are often unavailable in
        // containers), and no search for high-speed networks.
        .args([
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
        ])
        .args(["--mca", "pml", "ob1", "--mca", "oob_tcp_if_include", "lo"])
        .arg(env!("CARGO_BIN_EXE_vastarray"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting mpirun (install openmpi-bin)");
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut so, &mut s).ok();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut se, &mut s).ok();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mpirun -n {n} vastarray {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

const DATA: &str = r#"
import sys, json, numpy as np, h5py
rng = np.random.default_rng(14)
f = rng.standard_normal((400, 300)) * 50 + 1e4
with h5py.File(sys.argv[1], "w") as h:
    h.create_dataset("f", data=f, chunks=(50, 60))
    h.create_dataset("g", data=f.astype(np.float32), chunks=(50, 60), compression="gzip")
    h.create_dataset("i", data=(f * 7).astype(np.int32), chunks=(50, 60))
i = (f * 7).astype(np.int32)
print(json.dumps({"i_min": int(i.min()), "i_max": int(i.max()), "i_sum0": i.astype(np.int64).sum(axis=0).tolist()}))
"#;

/// Small enough that every pass has tens of tasks: every rank has several.
const SETTINGS: [&str; 4] = ["--budget", "256KiB", "--threads", "2"];

/// The tolerance for a float of JSON output `dtype`: the rounding of that type.
fn tolerance(dtype: &str) -> f64 {
    if dtype == "float32" {
        1e-6
    } else {
        1e-12
    }
}

/// Asserts two JSON outputs equal: integers exactly, floats within `tol` (relative).
fn same_json(a: &Value, b: &Value, tol: f64, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= tol * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (k, (p, q)) in x.iter().zip(y).enumerate() {
                same_json(p, q, tol, &format!("{at}[{k}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{at}"
            );
            for (k, p) in x {
                same_json(p, &y[k], tol, &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

fn with_settings<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(SETTINGS);
    v
}

/// The values of a `.npy` file written by the command.
fn npy_values(path: &Path) -> Vec<f64> {
    let a = vastarray::open(path.to_str().unwrap()).unwrap();
    a.cast(vastarray::DType::F64)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<f64>()
        .unwrap()
        .iter()
        .copied()
        .collect()
}

fn results_equal_alone(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join("d.h5");
    let want: Value =
        serde_json::from_str(run_python(DATA, &[h5.to_str().unwrap()]).trim()).unwrap();
    let printed: [&[&str]; 6] = [
        &["stats", "d.h5:/f", "--json"],
        &["stats", "d.h5:/g", "--json", "--ddof", "1"],
        &["stats", "d.h5:/i", "--json"],
        &["eval", "f.sum(axis=0)", "-i", "f=d.h5:/f", "--json"],
        &["eval", "i.sum(axis=0)", "-i", "i=d.h5:/i", "--json"],
        &["eval", "g - g.mean(axis=0)", "-i", "g=d.h5:/g", "--json"],
    ];
    for args in printed {
        let args = with_settings(args);
        let alone = vastarray_in(dir.path(), &args).ok().json();
        let ranks = mpirun(n, dir.path(), &args).ok();
        assert!(
            !ranks.stderr.contains("rank"),
            "-n {n} {args:?}: {}",
            ranks.stderr
        );
        let got = ranks.json();
        let dtype = got["dtype"].as_str().unwrap_or("float64").to_string();
        same_json(&got, &alone, tolerance(&dtype), &format!("-n {n} {args:?}"));
        // The first-hand reference, for the integers.
        if args[1] == "d.h5:/i" {
            assert_eq!(got["min"], want["i_min"]);
            assert_eq!(got["max"], want["i_max"]);
        }
        if args[1] == "i.sum(axis=0)" {
            assert_eq!(got["data"], want["i_sum0"]);
        }
    }
    // Stored results: a staged plan (the mean computed once across the ranks, then every
    // buffer), a block pass and a copy.
    let stored: [(&[&str], &str, bool); 3] = [
        (
            &["eval", "f - f.mean(axis=0)", "-i", "f=d.h5:/f", "--out"],
            "c.npy",
            false,
        ),
        (
            &["eval", "i * 3 - 7", "-i", "i=d.h5:/i", "--out"],
            "e.npy",
            true,
        ),
        (&["copy", "d.h5:/i"], "i.npy", true),
    ];
    for (args, file, exact) in stored {
        let mut alone_args = args.to_vec();
        alone_args.push(file);
        let alone_args = with_settings(&alone_args);
        vastarray_in(dir.path(), &alone_args).ok();
        let alone_file = dir.path().join(format!("alone-{file}"));
        std::fs::rename(dir.path().join(file), &alone_file).unwrap();
        let ranks = mpirun(n, dir.path(), &alone_args).ok();
        assert!(
            !ranks.stderr.contains("rank"),
            "-n {n} {args:?}: {}",
            ranks.stderr
        );
        let got = dir.path().join(file);
        if exact {
            assert!(
                std::fs::read(&got).unwrap() == std::fs::read(&alone_file).unwrap(),
                "-n {n} {args:?}: the files differ"
            );
        } else {
            let (g, a) = (npy_values(&got), npy_values(&alone_file));
            assert_eq!(g.len(), 400 * 300);
            // `f - mean`: the rounding of f64 at the operands' magnitude (1e4).
            for (k, (x, y)) in g.iter().zip(&a).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1e4),
                    "-n {n} {args:?} [{k}]: {x} vs {y}"
                );
            }
        }
        std::fs::remove_file(&got).unwrap();
    }
}

#[test]
fn one_rank_gives_the_results_of_the_command_alone() {
    results_equal_alone(1);
}

#[test]
fn two_ranks_give_the_results_of_the_command_alone() {
    results_equal_alone(2);
}

#[test]
fn four_ranks_give_the_results_of_the_command_alone() {
    results_equal_alone(4);
}

/// The pieces of the one reduction pass `stats ... --explain` plans: (count, shape).
fn stats_pieces(dir: &Path, source: &str) -> (usize, Vec<usize>) {
    let out = vastarray_in(dir, &with_settings(&["stats", source, "--explain"])).ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("reduction pass"))
        .unwrap_or_else(|| panic!("no reduction pass in {}", out.stdout));
    // "reduction pass: 1 output block(s) of [] x 20 piece(s) of [50, 120] along axes ..."
    let after_x = line.split(" x ").nth(1).unwrap();
    let count: usize = after_x.split(' ').next().unwrap().parse().unwrap();
    let shape = after_x
        .split('[')
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    let shape = shape
        .split(", ")
        .map(|s| s.trim().parse().unwrap())
        .collect();
    (count, shape)
}

#[test]
fn a_rank_whose_source_fails_ends_every_rank_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let h5 = dir.path().join("d.h5");
    run_python(DATA, &[h5.to_str().unwrap()]);
    // The chunk to damage: the first one whose piece goes to rank 1 of 2 (tasks go to rank
    // `task mod ranks`; the pieces of one output block are numbered in C order).
    let (count, piece) = stats_pieces(dir.path(), "d.h5:/g");
    assert!(count >= 4, "{count} pieces: too few to share");
    let per_row = 300usize.div_ceil(piece[1]);
    let (ci, cj) = (0..8)
        .flat_map(|i| (0..5).map(move |j| (i, j)))
        .find(|&(i, j)| ((i * 50 / piece[0]) * per_row + j * 60 / piece[1]) % 2 == 1)
        .expect("a chunk of rank 1");
    run_python(
        r#"
import sys, h5py
path, i, j = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with h5py.File(path, "r") as h:
    info = h["g"].id.get_chunk_info_by_coord((i * 50, j * 60))
with open(path, "r+b") as f:
    f.seek(info.byte_offset + 2)
    f.write(b"\xff" * min(64, info.size - 2))
"#,
        &[h5.to_str().unwrap(), &ci.to_string(), &cj.to_string()],
    );
    let alone = vastarray_in(dir.path(), &with_settings(&["stats", "d.h5:/g"]));
    assert_eq!(alone.code, 1, "{}", alone.stderr);
    let chunk = format!("chunk [{ci}, {cj}]");
    assert!(alone.stderr.contains(&chunk), "{}", alone.stderr);
    for args in [
        with_settings(&["stats", "d.h5:/g"]),
        with_settings(&["eval", "g * 2", "-i", "g=d.h5:/g", "--out", "x.npy"]),
    ] {
        let out = mpirun(2, dir.path(), &args);
        assert_ne!(out.code, 0, "{args:?}: {}", out.stderr);
        let err = &out.stderr;
        assert!(err.contains("d.h5") && err.contains(&chunk), "{err}");
        if args[0] == "stats" {
            assert!(err.contains("rank 1: reading"), "{err}");
        } else {
            assert!(err.contains("rank 1"), "{err}");
        }
        assert!(!dir.path().join("x.npy").exists());
    }
}

const C2_DATA: &str = r#"
import sys, numpy as np, blosc2
x = np.random.default_rng(7).standard_normal((200, 120))
blosc2.asarray(x, chunks=(25, 40), blocks=(25, 20), urlpath=sys.argv[1] + "/x.b2nd", mode="w")
"#;

/// The `api/chunk` requests in a Caterva2 server's log, by chunk number.
fn chunk_requests(log: &str) -> std::collections::BTreeMap<u64, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("/api/chunk/")) {
        if let Some(n) = line
            .split("nchunk=")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok())
        {
            *seen.entry(n).or_insert(0) += 1;
        }
    }
    seen
}

#[test]
fn each_chunk_is_read_by_exactly_one_rank() {
    let server = Server::start_public();
    run_python(C2_DATA, &[server.public_dir().to_str().unwrap()]);
    let url = format!("c2+{}@public/x.b2nd", server.base);
    let dir = tempfile::tempdir().unwrap();
    let alone = vastarray_in(dir.path(), &with_settings(&["stats", &url, "--json"]))
        .ok()
        .json();
    let mut before = chunk_requests(&server.log());
    assert_eq!(before.len(), 24, "the command alone reads the 24 chunks");
    assert!(before.values().all(|&c| c == 1), "{before:?}");
    for n in [2, 4] {
        let ranks = mpirun(n, dir.path(), &with_settings(&["stats", &url, "--json"])).ok();
        same_json(&ranks.json(), &alone, 1e-12, &format!("-n {n}"));
        let after = chunk_requests(&server.log());
        // Every chunk read once more in all: by one rank, never by two.
        assert_eq!(after.len(), 24, "{n} ranks: {after:?}");
        for (k, v) in &after {
            assert_eq!(v - before[k], 1, "{n} ranks, chunk {k}: {after:?}");
        }
        before = after;
    }
}
