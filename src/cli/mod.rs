//! The `vastarray` command line tool: `info`, `stats`, `eval`, `copy`, `mosaic` and `demo`
//! over `.npy`, `.b2nd`, HDF5 and remote sources, so the engine can be used without writing
//! Rust.
//!
//! Modules: [`args`] (clap definitions), [`settings`] (global options, budget sizes, progress
//! bars), [`source_spec`] (what SOURCE and DEST name, opening them), the expression language
//! ([`crate::expr`]), [`sinks`] (storing results), [`output`] (JSON and text, written without ever
//! panicking), [`error`] (messages and exit codes: 2 for usage errors, 1 for failures while
//! running, 0 also when the reader of standard output goes away), and [`commands`], one file
//! per subcommand.

pub mod args;
pub mod commands;
pub mod error;
pub mod output;
pub mod png;
pub mod settings;
pub mod sinks;
pub mod source_spec;

use args::{Cli, Command};
use clap::Parser;
use error::CliError;
use settings::Settings;
use std::ffi::OsString;
use std::process::ExitCode;

/// Runs the tool with the process's arguments and returns its exit code.
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// Runs the tool with `args` (the first is the program name) and returns its exit code:
/// 0 on success (or when standard output was closed by its reader: the command stops
/// quietly), 2 for usage errors, 1 for failures while running (a full disk under standard
/// output among them).
pub fn main_with<I, T>(args: I) -> ExitCode
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
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::write_stderr(&e.render());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: &Cli) -> Result<(), CliError> {
    let settings = Settings::from_args(&cli.global);
    match &cli.command {
        Command::Info(a) => commands::info::run(a, &settings),
        Command::Stats(a) => commands::stats::run(a, &settings),
        Command::Eval(a) => commands::eval::run(a, &settings),
        Command::Copy(a) => commands::copy::run(a, &settings),
        Command::Mosaic(a) => commands::mosaic::run(a, &settings),
        Command::Demo(a) => commands::demo::run(a, &settings),
    }
}
