"""Writes a benchmark file: float32 values of shape (N, 1024, 1024) in chunks of (1, 1024, 1024),
as HDF5 with h5py (dataset /data) or as netCDF-4 with netCDF4-python (variable data, dimensions
t, y, x). Values are normal noise rounded to 0.01 (so that deflate has something to compress),
the same for every format and codec (same generator, same seed). Written slab by slab: memory
stays at one chunk.

usage: make_file.py PATH N_SLABS [--deflate] [--netcdf] [--fill]
  --deflate  gzip/zlib level 4 + shuffle
  --netcdf   write netCDF-4 (an HDF5 file underneath) instead of plain HDF5
  --fill     netCDF-4 only: a _FillValue of -999, stored in 1 % of the values (at random), so
             that CF decoding has missing values to find (xarray reads them as NaN)
"""
import sys
import numpy as np


def slabs(n):
    rng = np.random.default_rng(12345)
    for _ in range(n):
        yield np.round(rng.standard_normal((1024, 1024), dtype=np.float32) * 10 + 280, 2)


def write_hdf5(path, n, deflate):
    import h5py
    kw = dict(compression="gzip", compression_opts=4, shuffle=True) if deflate else {}
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", shape=(n, 1024, 1024), dtype="f4", chunks=(1, 1024, 1024), **kw)
        for i, s in enumerate(slabs(n)):
            d[i] = s


def write_netcdf(path, n, deflate, fill=False):
    import netCDF4
    with netCDF4.Dataset(path, "w", format="NETCDF4") as f:
        f.createDimension("t", n)
        f.createDimension("y", 1024)
        f.createDimension("x", 1024)
        kw = dict(zlib=True, complevel=4, shuffle=True) if deflate else {}
        v = f.createVariable("data", "f4", ("t", "y", "x"), chunksizes=(1, 1024, 1024),
                             fill_value=np.float32(-999.0) if fill else False, **kw)
        v.set_auto_mask(False)
        holes = np.random.default_rng(7)
        for i, s in enumerate(slabs(n)):
            if fill:
                s[holes.random(s.shape) < 0.01] = -999.0
            v[i] = s


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    deflate = "--deflate" in sys.argv[3:]
    netcdf = "--netcdf" in sys.argv[3:]
    fill = "--fill" in sys.argv[3:]
    if fill and not netcdf:
        sys.exit("--fill goes with --netcdf")
    if netcdf:
        write_netcdf(path, n, deflate, fill)
    else:
        write_hdf5(path, n, deflate)
    kind = "netCDF-4" if netcdf else "HDF5"
    print(f"wrote {path}: {kind} ({n}, 1024, 1024) float32{' deflate+shuffle' if deflate else ''}")


if __name__ == "__main__":
    main()
