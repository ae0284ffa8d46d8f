#!/usr/bin/env bash
# The headline benchmark: mean and std of a float32 HDF5 dataset larger than a chunk cache,
# by h5py alone, a hand-written numpy loop, dask, and vastarray, each in its own process.
#
#   scripts/bench_hdf5/run.sh [--small] [--deflate] [--file PATH] [--keep]
#
#   --small    64 slabs (256 MiB) instead of 512 (2 GiB), for a quick run
#   --deflate  deflate (gzip level 4) + shuffle compressed chunks
#   --file P   where to write the file (default: /tmp/vastarray-bench[-small][-deflate].h5);
#              an existing file of the right shape is reused
#   --keep     keep the file afterwards (default: keep; use --clean to delete)
#   --clean    delete the file at the end
#
# Python: $VASTARRAY_PYTHON, else .venv/bin/python (make pyenv), needs numpy, h5py (dask for
# the dask rows). vastarray: examples/hdf5_stats.rs, built with cargo --release into
# $CARGO_TARGET_DIR (default target/); reported as missing if the example does not exist.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SLABS=512
DEFLATE=""
FILE=""
CLEAN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --small) SLABS=64 ;;
    --deflate) DEFLATE="--deflate" ;;
    --file) FILE="$2"; shift ;;
    --keep) CLEAN=0 ;;
    --clean) CLEAN=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
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
if [ -z "$FILE" ]; then
  FILE="/tmp/vastarray-bench"
  [ "$SLABS" = 64 ] && FILE="$FILE-small"
  [ -n "$DEFLATE" ] && FILE="$FILE-deflate"
  FILE="$FILE.h5"
fi
want="($SLABS, 1024, 1024)"
have="$("$PY" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); d=f['data']; print(d.shape, 'gzip' if d.compression else '')" "$FILE" 2>/dev/null || true)"
if [ "$have" != "$want ${DEFLATE:+gzip}" ]; then
  echo "making $FILE ..."
  "$PY" "$HERE/make_file.py" "$FILE" "$SLABS" $DEFLATE
else
  echo "reusing $FILE"
fi
"$PY" "$HERE/runner.py" "$FILE" /data "$ROOT" "$TARGET"
if [ "$CLEAN" = 1 ]; then rm -f "$FILE"; fi
