#!/usr/bin/env bash
# The headline benchmark, as users run it: the `vastarray` command (built with
# `cargo build --release`), each command in its own process, against its peers in one run, on
# a float32 array of shape (N, 1024, 1024) in chunks of (1, 1024, 1024) (N = 512: 2 GiB),
# written four ways: HDF5 by h5py, plain and deflate+shuffle, and netCDF-4 by netCDF4-python,
# plain and zlib+shuffle (same values in all four).
#
#   scripts/bench_hdf5/run.sh [--small] [--dir DIR] [--only h5|nc|plain|deflate] [--clean]
#
#   --small    64 slabs (256 MiB) instead of 512 (2 GiB), for a quick run
#   --dir D    where the files live (default /tmp); existing files of the right shape are reused:
#              vastarray-bench[-small][-deflate].h5 and vastarray-bench[-small][-deflate].nc
#   --only K   run only the HDF5 files (h5), the netCDF files (nc), the uncompressed (plain) or
#              the compressed ones (deflate); repeatable
#   --clean    delete the files at the end
#
# Jobs, per HDF5 file: `vastarray stats F:/data` vs a numpy+h5py loop (mean and std, float64
# sums), dask compute(mean, std) and h5py reading the file alone; `vastarray eval "mean(x)"`
# and "mean(x - 0.5)"; centring `eval "mean((x - mean(x, axis=0))**2)" --budget 256MiB` vs
# dask's ((x - x.mean(axis=0))**2).mean(); `eval "mean(x, axis=0)" --out F.npy` vs dask
# mean(axis=0). Per netCDF file: `stats` and the centring vs xarray + dask.
#
# Printed: a table per file with whole-process wall time, the peer's own compute time, peak
# RSS, minor page faults, the load average when each command started, and vastarray's speed-up
# (the peer's compute time over vastarray's wall time). The page cache is warmed before each
# command. Python: $VASTARRAY_PYTHON, else .venv/bin/python (`make pyenv`): numpy, h5py, dask,
# xarray, netCDF4. vastarray: $CARGO_TARGET_DIR/release/vastarray (default target/), built here.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SLABS=512
DIR=/tmp
ONLY=""
CLEAN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SLABS=64 ;;
    --dir) DIR="$2"; shift ;;
    --only) ONLY="$ONLY $2"; shift ;;
    --clean) CLEAN=1 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
PY="${VASTARRAY_PYTHON:-$ROOT/.venv/bin/python}"
if [ ! -x "$PY" ]; then
  echo "no Python environment: set VASTARRAY_PYTHON or run 'make pyenv'" >&2
  exit 1
fi
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "building vastarray (cargo build --release --bin vastarray) ..."
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --bin vastarray)
EXE="$TARGET/release/vastarray"

wanted() {  # wanted FORMAT CODEC: is this file selected by --only?
  [ -z "$ONLY" ] && return 0
  local fmts="" codecs="" k
  for k in $ONLY; do
    case "$k" in
      h5|nc) fmts="$fmts $k" ;;
      plain|deflate) codecs="$codecs $k" ;;
      *) echo "unknown --only $k (h5, nc, plain, deflate)" >&2; exit 2 ;;
    esac
  done
  if [ -n "$fmts" ] && [[ "$fmts " != *" $1 "* ]]; then return 1; fi
  if [ -n "$codecs" ] && [[ "$codecs " != *" $2 "* ]]; then return 1; fi
  return 0
}

FILES=()
for fmt in h5 nc; do
  for codec in plain deflate; do
    wanted "$fmt" "$codec" || continue
    f="$DIR/vastarray-bench"
    [ "$SLABS" = 64 ] && f="$f-small"
    [ "$codec" = deflate ] && f="$f-deflate"
    f="$f.$fmt"
    flags=""
    [ "$codec" = deflate ] && flags="--deflate"
    [ "$fmt" = nc ] && flags="$flags --netcdf"
    have="$("$PY" - "$f" "$fmt" <<'EOF' 2>/dev/null || true
import sys
path, fmt = sys.argv[1], sys.argv[2]
if fmt == "h5":
    import h5py
    d = h5py.File(path, "r")["data"]
    print(d.shape, d.chunks, d.compression or "none")
else:
    import netCDF4
    v = netCDF4.Dataset(path)["data"]
    f = v.filters()
    print(v.shape, tuple(v.chunking()), "gzip" if f.get("zlib") else "none")
EOF
)"
    want="($SLABS, 1024, 1024) (1, 1024, 1024) $([ "$codec" = deflate ] && echo gzip || echo none)"
    if [ "$have" != "$want" ]; then
      echo "making $f ..."
      "$PY" "$HERE/make_file.py" "$f" "$SLABS" $flags
    else
      echo "reusing $f"
    fi
    FILES+=("$f")
  done
done
"$PY" "$HERE/runner.py" "$EXE" "${FILES[@]}"
if [ "$CLEAN" = 1 ]; then rm -f "${FILES[@]}"; fi
