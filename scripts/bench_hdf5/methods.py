"""The peers of the benchmark, one method per process. Prints one JSON line:
{"compute_s": ..., "result": {...}}. compute_s excludes interpreter start-up and imports; the
runner measures the whole process too.

usage: methods.py METHOD PATH
methods (HDF5 file, dataset /data): h5py_read, numpy_loop, dask_stats, dask_centre, dask_mean0
methods (netCDF-4 file, variable data): xarray_stats, xarray_centre

Each module is imported only by the methods that use it (h5py and netCDF4 bundle their own
HDF5 libraries, which do not mix in one process).
"""
import json
import sys
import time

import numpy as np


def _h5(path):
    import h5py
    return h5py.File(path, "r")["data"]


def _dask():
    try:
        import dask
        import dask.array as da
    except ImportError:
        print(json.dumps({"error": "dask is not installed in this Python environment"}))
        sys.exit(3)
    return dask, da


def h5py_read(path):
    """Reads every chunk (one (1, ny, nx) slab each) into a reused buffer, computing nothing."""
    ds = _h5(path)
    buf = np.empty((1,) + ds.shape[1:], dtype=ds.dtype)
    t = time.perf_counter()
    for i in range(ds.shape[0]):
        ds.read_direct(buf, np.s_[i:i + 1])
    return time.perf_counter() - t, {"slabs": ds.shape[0]}


def numpy_loop(path):
    """The hand-written loop: mean and std over everything, float64 accumulation."""
    ds = _h5(path)
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


def dask_stats(path):
    """dask.compute(mean, std) over everything, in the dataset's chunks, float64 sums."""
    dask, da = _dask()
    ds = _h5(path)
    t = time.perf_counter()
    x = da.from_array(ds, chunks=ds.chunks)
    mean, std = dask.compute(x.mean(dtype=np.float64), x.std(dtype=np.float64))
    return time.perf_counter() - t, {"mean": float(mean), "std": float(std)}


def dask_centre(path):
    """dask's centring: ((x - x.mean(axis=0))**2).mean()."""
    dask, da = _dask()
    ds = _h5(path)
    t = time.perf_counter()
    x = da.from_array(ds, chunks=ds.chunks)
    r = ((x - x.mean(axis=0)) ** 2).mean().compute()
    return time.perf_counter() - t, {"value": float(r)}


def dask_mean0(path):
    """dask mean(axis=0): a (ny, nx) result."""
    dask, da = _dask()
    ds = _h5(path)
    t = time.perf_counter()
    x = da.from_array(ds, chunks=ds.chunks)
    m = x.mean(axis=0).compute()
    return time.perf_counter() - t, {"checksum": float(m.sum(dtype=np.float64))}


def _xarray(path):
    import xarray as xr
    return xr.open_dataset(path, engine="netcdf4", chunks={"t": 1})["data"]


def xarray_stats(path):
    """xarray + dask: mean and std in one compute, float64 sums."""
    dask, _ = _dask()
    t = time.perf_counter()
    v = _xarray(path)
    mean, std = dask.compute(v.mean(dtype=np.float64), v.std(dtype=np.float64))
    return time.perf_counter() - t, {"mean": float(mean), "std": float(std)}


def xarray_centre(path):
    """xarray + dask: the centred anomaly's mean square, ((v - v.mean('t'))**2).mean()."""
    _dask()
    t = time.perf_counter()
    v = _xarray(path)
    r = ((v - v.mean("t")) ** 2).mean().compute()
    return time.perf_counter() - t, {"value": float(r)}


METHODS = {f.__name__: f for f in (h5py_read, numpy_loop, dask_stats, dask_centre, dask_mean0,
                                   xarray_stats, xarray_centre)}


def main():
    method, path = sys.argv[1:3]
    secs, result = METHODS[method](path)
    print(json.dumps({"compute_s": secs, "result": result}))


if __name__ == "__main__":
    main()
