//! Integration tests: HDF5 and netCDF-4: sources, trees, filters, sinks, CF decoding.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_hdf5 fuzz_hdf5_filters::`.

mod common;
#[cfg(feature = "hdf5")]
mod hdf5_helpers;

mod fuzz_hdf5_filters;
mod hdf5_errors;
mod hdf5_sink;
mod hdf5_source;
mod hdf5_tree;
mod netcdf_cf;
