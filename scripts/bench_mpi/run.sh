#!/usr/bin/env bash
# Scaling across MPI ranks on a latency-bound source (benches/README.md, "MPI"): `vastarray
# stats` of a Zarr v2 array (4096 x 4096 float32, 1024 chunks of 64 KiB) served on 127.0.0.1
# with DELAY_MS (50) before every answer, under `mpirun -n N` for N = 1, 2, 4, one thread per
# rank; the release build, whole process (mpirun's start included), next to the command alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${VASTARRAY_PYTHON:-$PWD/.venv/bin/python}
DELAY_MS=${DELAY_MS:-50}
RANKS=${RANKS:-"1 2 4"}
# PROFILE=debug measures the debug build (the source is latency-bound; say so next to figures).
PROFILE=${PROFILE:-release}
if [ -n "${BIN:-}" ]; then :; elif [ "$PROFILE" = release ]; then
  cargo build --release --quiet --features mpi --bin vastarray
else
  cargo build --quiet --features mpi --bin vastarray
fi
BIN=${BIN:-$PWD/target/$PROFILE/vastarray}
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$PY" scripts/bench_mpi/serve.py make "$work/data.zarr"
"$PY" scripts/bench_mpi/serve.py serve "$work" "$DELAY_MS" "$work/port" &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")/data.zarr"
MPIRUN=(mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
        --mca pml ob1 --mca oob_tcp_if_include lo)
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); source: $url, ${DELAY_MS} ms per request"
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" > "$work/out" 2> "$work/err" || { cat "$work/err"; exit 1; }; t1=$(date +%s.%N); awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"; }
alone=$(seconds "$BIN" stats "$url" --threads 1 --json)
echo "alone, 1 thread: ${alone} s  $(cat "$work/out")"
for n in $RANKS; do
  t=$(seconds "${MPIRUN[@]}" -n "$n" "$BIN" stats "$url" --threads 1 --json)
  echo "mpirun -n $n, 1 thread each: ${t} s (speedup over alone $(awk "BEGIN { printf \"%.2f\", $alone / $t }"))  $(cat "$work/out")"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
