//! `vastarray demo`.

use super::super::args::DemoArgs;
use super::super::error::CliError;
use super::super::settings::Settings;

/// Runs `demo`.
pub fn run(_args: &DemoArgs, _settings: &Settings) -> Result<(), CliError> {
    Err(CliError::Runtime("demo: not written yet".into()))
}
