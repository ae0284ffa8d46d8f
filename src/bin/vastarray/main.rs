//! The `vastarray` command line tool, a binary of its own over the library: `info`, `stats`,
//! `eval`, `copy`, `mosaic` and `demo` over `.npy`, `.b2nd`, HDF5 and remote sources, so the
//! engine can be used without writing Rust.
//!
//! Modules: [`args`] (clap definitions), [`settings`] (global options, budget sizes, progress
//! bars), [`source_spec`] (what SOURCE and DEST name; sources open with `vastarray::open_spec`),
//! [`sinks`] (storing results), [`output`] (JSON and text, written without ever panicking),
//! [`error`] (messages and exit codes: 2 for usage errors, 1 for failures while running, 0 also
//! when the reader of standard output goes away), [`ranks`] (alone, or the ranks of an MPI
//! job), and [`commands`], one file per subcommand.
//! The expression language is the library's (`vastarray::expr`); the tile server of `demo`
//! ([`tileserver`]) is the library's test server, compiled into the binary.

#![warn(unreachable_pub)]

mod args;
mod commands;
mod error;
mod output;
mod png;
mod ranks;
mod settings;
mod sinks;
mod source_spec;
/// The library's test tile server (`vastarray::tileserver` under the `test-server` feature),
/// compiled in for `demo`; the demo uses only part of it.
#[allow(dead_code, unused_imports, unreachable_pub)]
#[path = "../../tileserver/mod.rs"]
mod tileserver;

use args::{Cli, Command};
use clap::Parser;
use error::CliError;
use settings::Settings;
use std::ffi::OsString;
use std::process::ExitCode;

/// Keeps freed memory in the process for reuse. By default glibc hands blocks above a moving
/// threshold straight back to the kernel and trims the heap often, so a streaming pass that
/// frees and allocates a few chunk-sized buffers per task pays a page fault for every page of
/// every buffer again (half a million faults for a 2 GiB pass). Blocks up to 64 MiB now come from
/// the heap, and up to 512 MiB of free heap stays mapped (the memory budget bounds what is ever
/// in use at once).
///
/// One arena per worker thread (and one for the main thread), not one for all: a tiled pass
/// (`mean(x - 0.5)`) makes dozens of small allocations per 128 KiB tile on every worker, and
/// with a single arena the workers queued on its lock (half the wall time went to `futex`;
/// the pass ran no faster on two threads than on one). Workers past that count (`--threads`
/// above the core count) share arenas.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = std::thread::available_parallelism().map_or(1, |n| n.get()) + 1;
        let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets allocator parameters; it is called before any other
        // thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        }
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    main_with(std::env::args_os())
}

/// Runs the tool with `args` (the first is the program name) and returns its exit code:
/// 0 on success (or when standard output was closed by its reader: the command stops
/// quietly), 2 for usage errors, 1 for failures while running (a full disk under standard
/// output among them).
fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; errors to stderr with code 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let engine = match ranks::start() {
        Ok(engine) => engine,
        Err(e) => {
            output::write_stderr(&e.render());
            return ExitCode::from(e.exit_code());
        }
    };
    let code = match run(&cli, engine.clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ranks::fail(&*engine, e),
    };
    // The last handle on the engine goes here: MPI is finalized once every rank is done.
    drop(engine);
    code
}

/// Runs a parsed command line on the ranks of `engine`.
fn run(cli: &Cli, engine: std::sync::Arc<dyn vastarray::exec::Engine>) -> Result<(), CliError> {
    let mut settings = Settings::from_args(&cli.global);
    settings.engine = engine;
    ranks::agree(&mut settings)?;
    let distributed = matches!(
        cli.command,
        Command::Stats(_) | Command::Eval(_) | Command::Copy(_)
    );
    if !distributed && !settings.engine.is_root() {
        // The other commands run on rank 0 alone.
        return Ok(());
    }
    match &cli.command {
        Command::Info(a) => commands::info::run(a, &settings),
        Command::Stats(a) => commands::stats::run(a, &settings),
        Command::Eval(a) => commands::eval::run(a, &settings),
        Command::Copy(a) => commands::copy::run(a, &settings),
        Command::Mosaic(a) => commands::mosaic::run(a, &settings),
        Command::Demo(a) => commands::demo::run(a, &settings),
    }
}
