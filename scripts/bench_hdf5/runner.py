"""Runs each benchmark method in its own process, right after re-reading the file so the page
cache is warm, and prints wall time, compute time, GB/s and peak RSS side by side.

Peak RSS is the child's own maximum resident set size (os.wait4 gives each child's rusage).
GB/s is the uncompressed array size (10^9 bytes) over the compute time (wall time where the
method does not report one).

usage: runner.py PATH DATASET REPO_ROOT TARGET_DIR
"""
import json
import os
import re
import subprocess
import sys
import time

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))


def warm(path):
    """Reads the whole file once so it sits in the page cache (the machine drops pages that
    have not been touched for about 30 s, so this runs before every method)."""
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def measure(cmd):
    """Runs cmd under a fresh Python wrapper that reports the child's own peak RSS (os.wait4
    gives the rusage of that one child; RUSAGE_CHILDREN would be a maximum over all
    children)."""
    wrapper = (
        "import os, sys, subprocess, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)\n"
        "out = p.stdout.read(); err = p.stderr.read()\n"
        "_, status, ru = os.wait4(p.pid, 0)\n"
        "wall = time.perf_counter() - t\n"
        "print(json.dumps({'rc': os.waitstatus_to_exitcode(status), 'wall': wall, 'rss_mib': ru.ru_maxrss / 1024, 'out': out, 'err': err}))\n"
    )
    p = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"rc": p.returncode, "wall": float("nan"), "rss_mib": float("nan"), "out": p.stdout, "err": p.stderr}
    return json.loads(p.stdout)


def parse_compute(out):
    """The compute time a method printed: our JSON line, or a 'compute ... 1.23 s' style line
    from the vastarray example."""
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                d = json.loads(line)
                if "compute_s" in d:
                    return d["compute_s"], d.get("result")
            except ValueError:
                pass
    m = re.search(r"compute[_ a-z]*[=: ]+([0-9.]+)\s*(ms|s)?", out)
    if m:
        v = float(m.group(1))
        return (v / 1000 if m.group(2) == "ms" else v), None
    return None, None


def main():
    path, name, root, target = sys.argv[1:5]
    with h5py.File(path, "r") as f:
        d = f[name]
        nbytes = d.size * d.dtype.itemsize
        desc = f"{d.shape} {d.dtype} chunks {d.chunks} compression {d.compression}"
    print(f"file {path}: {desc}, {nbytes / 2**30:.2f} GiB uncompressed, {os.path.getsize(path) / 2**30:.2f} GiB on disk")

    rows = []
    late = []  # rows about methods that could not run, printed last
    py = [sys.executable, os.path.join(HERE, "methods.py")]
    methods = [
        ("h5py read every chunk", py + ["h5py_read", path, name]),
        ("numpy+h5py loop mean,std (f64)", py + ["numpy_loop", path, name]),
        ("dask compute(mean, std)", py + ["dask_stats", path, name]),
        ("dask mean(axis=0)", py + ["dask_mean0", path, name]),
    ]
    example = os.path.join(root, "examples", "hdf5_stats.rs")
    exe = os.path.join(target, "release", "examples", "hdf5_stats")
    if os.path.exists(example):
        print("building the vastarray example (cargo build --release --example hdf5_stats) ...")
        b = subprocess.run(["cargo", "build", "--release", "--example", "hdf5_stats"], cwd=root,
                           env=dict(os.environ, CARGO_TARGET_DIR=target))
        if b.returncode == 0 and os.path.exists(exe):
            methods.append(("vastarray hdf5_stats", [exe, path, name]))
        else:
            late.append(("vastarray hdf5_stats", None, None, None, "cargo build failed"))
    else:
        late.append(("vastarray hdf5_stats", None, None, None,
                     "examples/hdf5_stats.rs does not exist yet (the engine team writes it)"))

    for label, cmd in methods:
        warm(path)
        m = measure(cmd)
        if m["rc"] != 0:
            msg = (m["out"].strip() or m["err"].strip().splitlines()[-1:] or ["failed"])
            msg = msg if isinstance(msg, str) else msg[0]
            try:
                msg = json.loads(msg).get("error", msg)
            except ValueError:
                pass
            rows.append((label, None, None, None, f"failed: {msg}"))
            continue
        compute, result = parse_compute(m["out"])
        note = "" if compute is not None else "compute time not reported: wall time used"
        if result:
            note = json.dumps(result)
        rows.append((label, compute, m["wall"], m["rss_mib"], note))

    rows += late

    def ref(label):
        for r in rows:
            if r[0] == label and r[1] is not None:
                return r[1]
        return None

    base_read = ref("h5py read every chunk")
    base_loop = ref("numpy+h5py loop mean,std (f64)")
    print()
    print(f"{'method':34} {'compute s':>9} {'wall s':>7} {'GB/s':>6} {'peak RSS MiB':>12} {'x h5py read':>11} {'x numpy loop':>12}  notes")
    for label, compute, wall, rss, note in rows:
        if compute is None and wall is None:
            print(f"{label:34} {'-':>9} {'-':>7} {'-':>6} {'-':>12} {'-':>11} {'-':>12}  {note}")
            continue
        t = compute if compute is not None else wall
        gbs = nbytes / 1e9 / t if t else float("nan")
        r1 = f"{t / base_read:.2f}" if base_read else "-"
        r2 = f"{t / base_loop:.2f}" if base_loop else "-"
        c = f"{compute:.3f}" if compute is not None else "-"
        print(f"{label:34} {c:>9} {wall:7.2f} {gbs:6.2f} {rss:12.0f} {r1:>11} {r2:>12}  {note}")
    print()
    print("ratios are time / baseline time (below 1 is faster); page cache warmed before each method")


if __name__ == "__main__":
    main()
