//! The ranks the command runs on: alone ([`Local`]), or, built with the `mpi` feature and
//! started by `mpirun` / `srun`, every rank of the MPI job ([`vastarray::exec::MpiEngine`]).
//! All ranks plan with rank 0's `--budget` and `--threads`; rank 0 alone prints. A failure that
//! every rank knows of (a rank's error inside a plan, passed on to all) ends each rank with
//! exit code 1 and rank 0's message; any other failure on a rank ends the whole job
//! (`MPI_Abort`) with that rank's message.

use super::error::CliError;
use super::output::write_stderr;
use super::settings::Settings;
use std::process::ExitCode;
use std::sync::Arc;
use vastarray::exec::{Engine, Local};

/// The engine of this process: MPI's ranks when an MPI starter launched it (feature `mpi`),
/// else [`Local`]. Ranks other than 0 print nothing on standard output.
pub(crate) fn start() -> Result<Arc<dyn Engine>, CliError> {
    #[cfg(feature = "mpi")]
    if let Some(mpi) = vastarray::exec::MpiEngine::start()? {
        if !mpi.is_root() {
            super::output::STDOUT_MUTED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        return Ok(Arc::new(mpi));
    }
    Ok(Arc::new(Local))
}

/// Gives every rank rank 0's budget and threads, so all ranks cut the same blocks.
pub(crate) fn agree(settings: &mut Settings) -> Result<(), CliError> {
    let engine = settings.engine.clone();
    if engine.size() <= 1 {
        return Ok(());
    }
    let mut mine = (settings.cfg.budget as u64).to_le_bytes().to_vec();
    mine.extend((settings.cfg.threads as u64).to_le_bytes());
    let got = engine.broadcast(0, mine)?;
    let word = |i: usize| -> Result<usize, CliError> {
        got.get(i * 8..i * 8 + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .and_then(|b| usize::try_from(u64::from_le_bytes(b)).ok())
            .ok_or_else(|| CliError::Runtime("rank 0 sent no usable settings".into()))
    };
    settings.cfg.budget = word(0)?;
    settings.cfg = settings.cfg.clone().threads(word(1)?);
    Ok(())
}

/// Reports `e` and ends this rank (or, for a failure the other ranks do not know of, the job).
pub(crate) fn fail(engine: &dyn Engine, e: CliError) -> ExitCode {
    let code = e.exit_code();
    if engine.size() <= 1 {
        write_stderr(&e.render());
        return ExitCode::from(code);
    }
    match e {
        CliError::Ranks(_) => {
            if engine.is_root() {
                write_stderr(&e.render());
            }
            ExitCode::from(code)
        }
        CliError::Closed => ExitCode::from(code),
        e => {
            let text = e.render();
            let text = text.strip_prefix("vastarray: ").unwrap_or(&text);
            write_stderr(&format!(
                "vastarray: rank {} of {}: {text}",
                engine.rank(),
                engine.size()
            ));
            engine.abort(i32::from(code))
        }
    }
}
