//! Integration tests: Blosc2 `.b2nd` files and the caching proxy.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_b2nd b2nd_damage::`.

mod common;
mod proxy_support;

mod b2nd_damage;
mod b2nd_sink;
mod b2nd_source;
mod fuzz_b2nd;
mod proxy_cache_file;
mod proxy_concurrency;
mod proxy_crash;
mod proxy_pool;
mod proxy_tutorial;
