//! Integration tests: Zarr v2 and v3 arrays and groups, on disk and over HTTP.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_zarr zarr_errors::`.

mod common;

mod zarr_errors;
mod zarr_http;
mod zarr_sink;
mod zarr_source;
