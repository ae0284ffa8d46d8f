# vastarray: the two commands a newcomer runs are `make demo` and `make test`.
# Both install what the machine lacks first (Debian packages, a Python environment for the
# interoperability tests) and are safe to run twice.

APT_PACKAGES := build-essential pkg-config cmake libclang1-14 libclang-common-14-dev libhdf5-dev mold openmpi-bin libopenmpi-dev
PYTHON_PACKAGES := numpy h5py blosc2 "caterva2[server]" dask xarray netCDF4 h5netcdf zarr tensorstore pillow mercantile
VENV := .venv
PY := $(VENV)/bin/python
# The interoperability tests find Python here.
export VASTARRAY_PYTHON := $(abspath $(PY))

.PHONY: demo test check-core check-features deps pyenv bench fuzz clean

demo: deps
	cargo run --release --bin vastarray -- demo

# Property tests draw from one fixed seed here, so a run is reproducible; `make fuzz` (and
# `make test PROPTEST_SEED=N`) explore others.
PROPTEST_SEED ?= 20261201
# The tests build everything once with one feature set: the default features and `mpi`
# (tests/mpi.rs runs the command under mpirun).
TEST_FEATURES := --features mpi
# Test threads fork children while HDF5 files are open; an inherited descriptor would hold a
# file's HDF5 lock (see tests/common/mod.rs), so the tests' HDF5 does without locks.
# The tests link with mold (installed by `deps`): GNU ld took about 30 s per test binary on a
# busy 2-core machine, mold 5. Both commands get the same flags, so the second reuses the first's
# build (a plain `cargo test` uses other flags and builds its own).
LINK_FLAGS := -C link-arg=-fuse-ld=mold
TEST_ENV := HDF5_USE_FILE_LOCKING=FALSE CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$(LINK_FLAGS)" \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$(LINK_FLAGS)" RUSTDOCFLAGS="$(LINK_FLAGS)"
test: deps pyenv
	$(TEST_ENV) PROPTEST_RNG_SEED=$(PROPTEST_SEED) cargo test $(TEST_FEATURES) --lib --tests --examples
	$(TEST_ENV) cargo test $(TEST_FEATURES) --doc

# The core builds without warnings with no feature (no cmake, libclang, libhdf5 or TLS). Not
# part of `make test`: a fresh CI machine has about one minute to spare under its 20-minute bound.
check-core:
	@out=$$(cargo check --quiet --no-default-features --lib 2>&1) || { echo "$$out"; exit 1; }; \
	if echo "$$out" | grep -q '^warning'; then echo "$$out"; exit 1; fi

# The library builds without warnings with no feature and with each feature alone (a few
# seconds each once the dependencies are checked; the first run checks them for each set,
# minutes on a fresh machine: not part of `make test`).
FEATURES := hdf5 b2nd http tiles caterva2 cli test-server mpi
check-features:
	@for f in "" $(FEATURES); do \
	  echo "cargo check --no-default-features $${f:+--features $$f} --lib"; \
	  out=$$(cargo check --quiet --no-default-features $${f:+--features $$f} --lib 2>&1) || { echo "$$out"; exit 1; }; \
	  if echo "$$out" | grep -q '^warning'; then echo "$$out"; exit 1; fi; \
	done

bench: deps pyenv
	cargo bench -p vastarray-benches

# The fuzz harnesses (tests/fuzz_*.rs) with many more cases than `make test` runs.
FUZZ_CASES ?= 20000
# Each harness is a module of its area's test binary, named `fuzz_*`: the filter picks them all.
fuzz: deps pyenv
	VASTARRAY_FUZZ_CASES=$(FUZZ_CASES) cargo test --release --tests fuzz_

deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }

pyenv: $(VENV)/.installed

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q $(PYTHON_PACKAGES)
	touch $@

clean:
	cargo clean
	rm -rf $(VENV)
