"""Runs the headline benchmark: the vastarray CLI against its peers, each command in its own
process right after the file was read again (warm page cache), and prints, per file, the whole
process wall time, the peer's own compute time, the peak RSS and vastarray's speed-up.

Peak RSS is the child's own maximum resident set size (os.wait4 gives that one child's
rusage). The speed-up is the peer's compute time (interpreter start-up and imports left out)
over vastarray's whole-process wall time: conservative for vastarray.

usage: runner.py VASTARRAY_EXE FILE...   (FILE: .h5 with dataset /data, .nc with variable data)
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CENTRE = "mean((x - mean(x, axis=0))**2)"


def warm(path):
    """Reads the whole file once so it sits in the page cache (the machine drops pages that
    have not been touched for about 30 s, so this runs before every command)."""
    with open(path, "rb") as f:
        while f.read(64 << 20):
            pass


def measure(cmd):
    """Runs cmd in a fresh Python wrapper that reports the child's own wall time, peak RSS and
    minor page faults (os.wait4 gives the rusage of that one child; RUSAGE_CHILDREN would be a
    maximum over all children)."""
    # The wrapper forks and execs the command itself, so that it can wait4 on that one child
    # after reading its output.
    wrapper = (
        "import os, sys, time, json\n"
        "r, w = os.pipe(); re, we = os.pipe()\n"
        "t = time.perf_counter()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.dup2(w, 1); os.dup2(we, 2); os.close(r); os.close(re)\n"
        "    os.execvp(sys.argv[1], sys.argv[1:])\n"
        "os.close(w); os.close(we)\n"
        "out = b''; err = b''\n"
        "import selectors\n"
        "sel = selectors.DefaultSelector(); sel.register(r, selectors.EVENT_READ); sel.register(re, selectors.EVENT_READ)\n"
        "open_fds = 2\n"
        "while open_fds:\n"
        "    for key, _ in sel.select():\n"
        "        chunk = os.read(key.fd, 65536)\n"
        "        if not chunk:\n"
        "            sel.unregister(key.fd); open_fds -= 1\n"
        "        elif key.fd == r: out += chunk\n"
        "        else: err += chunk\n"
        "_, status, ru = os.wait4(pid, 0)\n"
        "wall = time.perf_counter() - t\n"
        "print(json.dumps({'rc': os.waitstatus_to_exitcode(status), 'wall': wall, 'rss_mib': ru.ru_maxrss / 1024,"
        " 'minflt': ru.ru_minflt, 'out': out.decode(errors='replace'), 'err': err.decode(errors='replace')}))\n"
    )
    load = os.getloadavg()[0]
    p = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"rc": p.returncode, "wall": None, "rss_mib": None, "minflt": None, "out": p.stdout,
                "err": p.stderr, "load": load}
    m = json.loads(p.stdout)
    m["load"] = load
    return m


def json_line(out):
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


def fmt(v, digits=4):
    return "-" if v is None else f"{v:.{digits}g}"


def run_jobs(exe, path):
    """The jobs for one file: (group, label, command, kind) with kind 'va' or 'peer'."""
    h5 = path.endswith(".h5")
    src = f"{path}:/data"
    py = [sys.executable, os.path.join(HERE, "methods.py")]
    out_npy = os.path.join(tempfile.gettempdir(), f"vastarray-bench-mean0-{os.getpid()}.npy")
    va = [exe, "--quiet"]
    jobs = [
        ("stats", "vastarray stats", va + ["stats", src, "--json"], "va"),
    ]
    if h5:
        jobs += [
            ("stats", "numpy+h5py loop (f64)", py + ["numpy_loop", path], "peer"),
            ("stats", "dask compute(mean, std)", py + ["dask_stats", path], "peer"),
            ("stats", "h5py reads the file alone", py + ["h5py_read", path], "peer"),
            ("mean", "vastarray eval mean(x)", va + ["eval", "mean(x)", "-i", f"x={src}", "--json"], "va"),
            ("mean", "vastarray eval mean(x - 0.5)",
             va + ["eval", "mean(x - 0.5)", "-i", f"x={src}", "--json"], "va"),
        ]
    else:
        jobs += [("stats", "xarray+dask mean, std", py + ["xarray_stats", path], "peer")]
    jobs += [
        ("centring", "vastarray eval centring --budget 256MiB",
         va + ["--budget", "256MiB", "eval", CENTRE, "-i", f"x={src}", "--json"], "va"),
        ("centring", "dask centring" if h5 else "xarray+dask centring",
         py + ["dask_centre" if h5 else "xarray_centre", path], "peer"),
    ]
    if h5:
        jobs += [
            ("mean0", "vastarray eval mean(x, axis=0) --out",
             va + ["eval", "mean(x, axis=0)", "-i", f"x={src}", "--out", out_npy, "--overwrite"], "va"),
            ("mean0", "dask mean(axis=0)", py + ["dask_mean0", path], "peer"),
        ]
    rows = []
    for group, label, cmd, kind in jobs:
        warm(path)
        m = measure(cmd)
        row = {"group": group, "label": label, "kind": kind, "wall": m["wall"], "rss": m["rss_mib"],
               "minflt": m.get("minflt"), "load": m["load"], "compute": None, "note": ""}
        if m["rc"] != 0:
            last = (m["err"].strip().splitlines() or m["out"].strip().splitlines() or ["failed"])[-1]
            row["note"] = f"failed (exit {m['rc']}): {last[:120]}"
            row["wall"] = None
        else:
            d = json_line(m["out"])
            if kind == "peer" and d:
                row["compute"] = d.get("compute_s")
                row["note"] = json.dumps(d.get("result"))
            elif group == "mean0":
                try:
                    import numpy as np
                    row["note"] = json.dumps({"checksum": float(np.load(out_npy).sum(dtype=np.float64))})
                except Exception as e:  # the figure is a note, not the measurement
                    row["note"] = f"cannot read the result: {e}"
            elif d:
                keep = {k: d[k] for k in ("mean", "std", "data") if k in d}
                row["note"] = json.dumps(keep)
        rows.append(row)
    if os.path.exists(out_npy):
        os.remove(out_npy)
    return rows


def print_table(path, rows):
    print()
    print(f"## {path}")
    print()
    print("| job | method | wall s | compute s | peak RSS MiB | minor faults | load | vastarray speed-up | result |")
    print("|---|---|---|---|---|---|---|---|---|")
    va_time = {}
    for r in rows:
        if r["kind"] == "va" and r["wall"] is not None:
            va_time.setdefault(r["group"], r["wall"])
    mean_x = next((r["wall"] for r in rows if r["label"] == "vastarray eval mean(x)"), None)
    for r in rows:
        ratio = "-"
        t = va_time.get(r["group"])
        if r["kind"] == "peer" and t:
            peer = r["compute"] if r["compute"] is not None else r["wall"]
            if peer is not None:
                ratio = f"{peer / t:.2f}x"
        if r["label"] == "vastarray eval mean(x - 0.5)" and mean_x and r["wall"]:
            ratio = f"{r['wall'] / mean_x:.2f} of mean(x)'s time"
        label = f"**{r['label']}**" if r["kind"] == "va" else r["label"]
        print(f"| {r['group']} | {label} | {fmt(r['wall'], 3)} | {fmt(r['compute'], 3)} | "
              f"{fmt(r['rss'], 3)} | {r['minflt'] if r['minflt'] is not None else '-'} | {r['load']:.1f} | {ratio} | {r['note']} |")


def main():
    exe, files = sys.argv[1], sys.argv[2:]
    print(f"vastarray: {exe}")
    print(f"machine: {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.2f}")
    results = []
    for path in files:
        size = os.path.getsize(path) / 2**30
        print(f"file {path}: {size:.2f} GiB on disk", flush=True)
        results.append((path, run_jobs(exe, path)))
    for path, rows in results:
        print_table(path, rows)
    print()
    print("speed-up: the peer's compute time (start-up and imports excluded) over vastarray's whole-process")
    print("wall time in the same job; page cache warmed before each command; load: 1-minute load average")
    print("when the command started.")


if __name__ == "__main__":
    main()
