//! Integration tests: sources over HTTP: the client, tile pyramids, Caterva2.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_remote caterva2_errors::`.

#[cfg(feature = "caterva2")]
mod caterva2_support;
#[cfg(feature = "cli")]
mod cli_support;
mod common;

mod caterva2_errors;
mod caterva2_login;
mod caterva2_source;
mod fuzz_caterva2;
mod fuzz_tiles;
mod http_client;
mod remote_pyramid;
mod tiles_concurrency;
mod tiles_gis;
mod tiles_source;
