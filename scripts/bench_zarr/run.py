"""mean and std of a float32 Zarr v3 array (zstd), vastarray against TensorStore and
zarr-python + numpy, each in its own process, in one run.

    VASTARRAY_PYTHON=.venv/bin/python .venv/bin/python scripts/bench_zarr/run.py [--slabs N] [--dir D] [--repeat R]

The array has shape (N, 1024, 1024) float32 (N = 256: 1 GiB) in chunks of (8, 512, 512)
(8 MiB), zarr-python's default codecs (bytes + zstd level 0), written once by zarr-python and
reused. vastarray: `vastarray stats DIR.zarr --json` (count, mean, std, var, min, max, float64
sums), the binary of `cargo build --release` ($CARGO_TARGET_DIR/release/vastarray). The peers
read one layer of chunks (8 planes, 32 MiB) at a time and keep float64 sums of x and x*x, so
their memory is bounded too. Each command: whole-process wall time, CPU time (user + sys, so
CPU / wall is the cores it kept busy) and peak RSS from /usr/bin/time, the page cache warmed
right before; the median of --repeat runs is printed. "zstd floor" is the decoding alone: every
chunk file decoded by libzstd (numcodecs' Zstd, one-shot into a reused buffer) on one thread
in one Python process, timed inside it (no start-up): the least CPU any reader spends.
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = os.environ.get("VASTARRAY_PYTHON", os.path.join(ROOT, ".venv/bin/python"))
EXE = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/vastarray")

MAKE = r"""
import sys, numpy as np, zarr
path, n = sys.argv[1], int(sys.argv[2])
a = zarr.create_array(path, shape=(n, 1024, 1024), chunks=(8, 512, 512), dtype="f4", fill_value=0)
rng = np.random.default_rng(5)
base = (rng.standard_normal((8, 1024, 1024)) * 3 + 10).astype("f4").round(2)
for k in range(0, n, 8):
    a[k:k + 8] = base + np.float32(k % 17)
"""

PEER = {
    "tensorstore": r"""
import sys, numpy as np, tensorstore as ts
t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": sys.argv[1]}}).result()
n = t.shape[0]; s1 = 0.0; s2 = 0.0
for k in range(0, n, 8):
    x = t[k:k + 8].read().result().astype(np.float64)
    s1 += x.sum(); s2 += (x * x).sum()
c = t.size; m = s1 / c
print(m, (s2 / c - m * m) ** 0.5)
""",
    "zarr-python": r"""
import sys, numpy as np, zarr
a = zarr.open_array(sys.argv[1], mode="r")
n = a.shape[0]; s1 = 0.0; s2 = 0.0
for k in range(0, n, 8):
    x = a[k:k + 8].astype(np.float64)
    s1 += x.sum(); s2 += (x * x).sum()
c = a.size; m = s1 / c
print(m, (s2 / c - m * m) ** 0.5)
""",
}

FLOOR = r"""
import os, sys, time, numpy as np
from numcodecs import Zstd
root = os.path.join(sys.argv[1], "c")
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
z = Zstd(); out = np.empty(8 * 512 * 512, dtype="f4")
t = time.perf_counter()
for f in files:
    with open(f, "rb") as fh:
        z.decode(fh.read(), out=out)
print(time.perf_counter() - t, len(files))
"""


def warm(path):
    for d, _, files in os.walk(path):
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                while fh.read(1 << 24):
                    pass


def timed(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M %U %S"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{out.stderr}")
    line = [l for l in out.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    return float(line[1]), int(line[2]) / 1024, float(line[3]) + float(line[4]), out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--slabs", type=int, default=256)
    p.add_argument("--dir", default="/tmp")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    path = os.path.join(a.dir, f"vastarray-bench-{a.slabs}.zarr")
    if not os.path.exists(os.path.join(path, "zarr.json")):
        print(f"writing {path} with zarr-python ...", flush=True)
        subprocess.run([PY, "-c", MAKE, path, str(a.slabs)], check=True)
    rows = {}
    floors = []
    methods = [("vastarray", [EXE, "stats", path, "--json"])] + [
        (k, [PY, "-c", v, path]) for k, v in PEER.items()]
    for r in range(a.repeat):
        for name, cmd in methods:
            warm(path)
            load = os.getloadavg()[0]
            t, rss, cpu, out = timed(cmd)
            if name == "vastarray":
                j = json.loads(out)
                vals = (j["mean"], j["std"])
            else:
                vals = tuple(float(v) for v in out.split())
            rows.setdefault(name, []).append((t, rss, load, vals, cpu))
        warm(path)
        _, _, _, out = timed([PY, "-c", FLOOR, path])
        floors.append(float(out.split()[0]))
    gib = a.slabs * 1024 * 1024 * 4 / 2**30
    print(f"\n{gib:.2f} GiB float32, shape ({a.slabs}, 1024, 1024), chunks (8, 512, 512), zstd; median of {a.repeat}")
    print("| method | wall s (median) | all runs | CPU s (median) | cores busy | GiB/s | peak RSS MiB | load at start | mean, std | vastarray speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    vt = statistics.median(x[0] for x in rows["vastarray"])
    for name, runs in rows.items():
        t = statistics.median(x[0] for x in runs)
        rss = max(x[1] for x in runs)
        loads = " ".join(f"{x[2]:.1f}" for x in runs)
        m, s = runs[0][3]
        cpu = statistics.median(x[4] for x in runs)
        print(f"| {name} | {t:.2f} | {' '.join(f'{x[0]:.2f}' for x in runs)} | {cpu:.2f} | {cpu / t:.2f} | {gib / t:.2f} | {rss:.0f} | {loads} | {m:.6g}, {s:.6g} | {t / vt:.2f}x |")
    f = statistics.median(floors)
    print(f"\nzstd floor (one thread, decoding only): {f:.2f} s (runs {' '.join(f'{x:.2f}' for x in floors)}); "
          f"on 2 cores at best {f / 2:.2f} s, i.e. zarr-python's median / (floor / 2) = "
          f"{statistics.median(x[0] for x in rows['zarr-python']) / (f / 2):.2f}x")


if __name__ == "__main__":
    main()
