//! Integration tests: the `vastarray` command, alone and under `mpirun`.
//!
//! One test binary per area (see the `[[test]]` targets in Cargo.toml): each file named
//! below is a module of it, and a test is named by its file, e.g. `cargo test --test
//! suite_cli cli_caterva2::`.

#[cfg(feature = "caterva2")]
mod caterva2_support;
#[cfg(feature = "cli")]
mod cli_support;
mod common;

mod cli_caterva2;
mod cli_commands;
mod cli_demo;
mod cli_eval;
mod cli_kill;
mod cli_robustness;
mod cli_zarr;
mod mpi;
