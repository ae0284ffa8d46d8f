//! Integration tests: the engine on in-memory and generated sources: expressions, selections, plans, evaluation, memory bounds, `.npy`.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_core errors::`.

#[cfg(feature = "caterva2")]
mod caterva2_support;
mod common;

mod errors;
mod eval_reference;
mod evaluation_modes;
mod expr_api;
mod fuzz_expr;
mod fuzz_npy;
mod fuzz_selection;
mod laziness;
mod memory_bound;
mod open_spec;
mod prop_chains;
mod reads_once;
mod select_arith;
mod tiled_blocks;
