"""Writes the benchmark file with h5py: float32 values of shape (N, 1024, 1024) in chunks of
(1, 1024, 1024), dataset /data. Values are normal noise rounded to 0.01, so that deflate has
something to compress. Written slab by slab: memory stays at one chunk.

usage: make_file.py PATH N_SLABS [--deflate]
"""
import sys
import numpy as np
import h5py


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    deflate = "--deflate" in sys.argv[3:]
    kw = dict(compression="gzip", compression_opts=4, shuffle=True) if deflate else {}
    rng = np.random.default_rng(12345)
    with h5py.File(path, "w") as f:
        d = f.create_dataset("data", shape=(n, 1024, 1024), dtype="f4", chunks=(1, 1024, 1024), **kw)
        for i in range(n):
            d[i] = np.round(rng.standard_normal((1024, 1024), dtype=np.float32) * 10 + 280, 2)
    print(f"wrote {path}: ({n}, 1024, 1024) float32{' deflate+shuffle' if deflate else ''}")


if __name__ == "__main__":
    main()
