"""One benchmark method per process. Prints one JSON line: {"compute_s": ..., "result": ...}.
compute_s excludes interpreter start-up and imports; the runner also reports wall time.

usage: methods.py METHOD PATH DATASET
methods: h5py_read, numpy_loop, dask_stats, dask_mean0
"""
import json
import sys
import time

import numpy as np
import h5py


def h5py_read(ds):
    """Reads every chunk (one (1, ny, nx) slab each) into a reused buffer, computing nothing."""
    buf = np.empty((1,) + ds.shape[1:], dtype=ds.dtype)
    t = time.perf_counter()
    for i in range(ds.shape[0]):
        ds.read_direct(buf, np.s_[i:i + 1])
    return time.perf_counter() - t, {"slabs": ds.shape[0]}


def numpy_loop(ds):
    """The hand-written loop: mean and std over everything, float64 accumulation."""
    buf = np.empty((1,) + ds.shape[1:], dtype=ds.dtype)
    t = time.perf_counter()
    s = 0.0
    ss = 0.0
    n = 0
    for i in range(ds.shape[0]):
        ds.read_direct(buf, np.s_[i:i + 1])
        a = buf.ravel().astype(np.float64)
        s += a.sum()
        ss += np.dot(a, a)
        n += a.size
    mean = s / n
    std = np.sqrt(max(ss / n - mean * mean, 0.0))
    return time.perf_counter() - t, {"mean": mean, "std": std}


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError:
        print(json.dumps({"error": "dask is not installed in this Python environment"}))
        sys.exit(3)
    return dask, da


def dask_stats(ds):
    """dask.compute(mean, std) over everything, in the dataset's chunks."""
    dask, da = _dask()
    t = time.perf_counter()
    x = da.from_array(ds, chunks=ds.chunks)
    mean, std = dask.compute(x.mean(dtype=np.float64), x.std(dtype=np.float64))
    return time.perf_counter() - t, {"mean": float(mean), "std": float(std)}


def dask_mean0(ds):
    """dask mean(axis=0): a (ny, nx) result."""
    dask, da = _dask()
    t = time.perf_counter()
    x = da.from_array(ds, chunks=ds.chunks)
    m = x.mean(axis=0).compute()
    return time.perf_counter() - t, {"checksum": float(m.sum(dtype=np.float64))}


METHODS = {f.__name__: f for f in (h5py_read, numpy_loop, dask_stats, dask_mean0)}


def main():
    method, path, name = sys.argv[1:4]
    with h5py.File(path, "r") as f:
        secs, result = METHODS[method](f[name])
    print(json.dumps({"compute_s": secs, "result": result}))


if __name__ == "__main__":
    main()
