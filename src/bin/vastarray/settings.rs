//! The options every subcommand takes (`--budget`, `--threads`, `--explain`, `--quiet`,
//! `--timeout`, `--allow-incomplete`, `--raw`), the evaluation and HTTP configurations they make, and
//! progress bars on standard error.

use super::args::GlobalArgs;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;
use vastarray::exec::{Engine, Local};
use vastarray::http::HttpConfig;
use vastarray::EvalConfig;

/// What the global options ask for.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The evaluation configuration (budget, threads).
    pub cfg: EvalConfig,
    /// Print the plan and run nothing.
    pub explain: bool,
    /// Print nothing but results and errors.
    pub quiet: bool,
    /// True when `--budget` was given (commands with a default of their own use it otherwise).
    pub budget_given: bool,
    /// How HTTP requests are made (`--timeout` sets the deadline of each).
    pub http: HttpConfig,
    /// Read HDF5 datasets marked incomplete (`--allow-incomplete`).
    pub allow_incomplete: bool,
    /// Stored values of HDF5 / netCDF-4 sources, not CF-decoded (`--raw`).
    pub raw: bool,
    /// The ranks the command runs on: [`Local`], or those of `mpirun` / `srun` (feature
    /// `mpi`). Only rank 0 prints, shows progress and writes.
    pub engine: Arc<dyn Engine>,
    /// Check a cache's stamp against the server's metadata when opening (`--revalidate`).
    pub revalidate: bool,
}

impl Settings {
    /// Settings from the global options.
    pub(crate) fn new(
        budget: Option<usize>,
        threads: Option<usize>,
        explain: bool,
        quiet: bool,
    ) -> Self {
        let mut cfg = EvalConfig::default();
        if let Some(b) = budget {
            cfg.budget = b;
        }
        if let Some(t) = threads {
            cfg = cfg.threads(t);
        }
        Settings {
            cfg,
            explain,
            quiet,
            budget_given: budget.is_some(),
            http: HttpConfig::default(),
            allow_incomplete: false,
            raw: false,
            engine: Arc::new(Local),
            revalidate: false,
        }
    }

    /// Settings from the parsed global options.
    pub(crate) fn from_args(g: &GlobalArgs) -> Self {
        let mut s = Settings::new(g.budget, g.threads.map(|t| t as usize), g.explain, g.quiet);
        if let Some(t) = g.timeout {
            s.http.deadline = t;
        }
        s.allow_incomplete = g.allow_incomplete;
        s.raw = g.raw;
        s.revalidate = g.revalidate;
        s
    }

    /// A progress bar on standard error when it is a terminal and `--quiet` is off.
    pub(crate) fn progress_bar(&self, message: &str) -> Option<ProgressBar> {
        if self.quiet || !self.engine.is_root() || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(new_bar(message))
    }

    /// The configuration, reporting progress to `bar` if there is one.
    pub(crate) fn cfg_with(&self, bar: &Option<ProgressBar>) -> EvalConfig {
        let mut cfg = self.cfg.clone();
        if let Some(bar) = bar {
            cfg.progress = Some(progress_callback(bar.clone()));
        }
        cfg
    }

    /// Prints a line on standard error unless `--quiet` (on rank 0 only).
    pub(crate) fn note(&self, line: &str) {
        if !self.quiet && self.engine.is_root() {
            super::output::write_stderr(&format!("{line}\n"));
        }
    }
}

/// A progress bar with vastarray's style (drawn on standard error).
pub(crate) fn new_bar(message: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} {bar:40.cyan/blue} {pos}/{len} tasks {elapsed_precise} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar
}

/// A callback for [`EvalConfig::progress`] that moves `bar`.
pub(crate) fn progress_callback(bar: ProgressBar) -> vastarray::exec::Progress {
    Arc::new(move |done, total| {
        if bar.length() != Some(total) {
            bar.set_length(total);
        }
        bar.set_position(done);
    })
}

/// Parses a byte count: `268435456`, `256MiB`, `1GiB`, `1.5G`, `500MB`, `64k`. Binary units
/// (`KiB`, `MiB`, `GiB`, `TiB`, and the bare letters `K`, `M`, `G`, `T`) count in 1024s,
/// decimal ones (`KB`, `MB`, `GB`, `TB`) in 1000s.
pub(crate) fn parse_bytes(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size (examples: 268435456, 256MiB, 1GiB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {text:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ))
        }
    };
    let bytes = value * mult;
    if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err(format!("{text:?} is not a usable size"));
    }
    Ok(bytes as usize)
}

/// Parses a duration: `60s`, `500ms`, `2m`, `1.5s`, `1h`, or a number of seconds (`30`).
/// It must be positive.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (examples: 60s, 500ms, 2m)"))?;
    let seconds = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" => value,
        "ms" => value / 1e3,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        u => {
            return Err(format!(
                "unknown unit {u:?} in {text:?} (use ms, s, m or h)"
            ))
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 1e9 {
        return Err(format!(
            "{text:?} is not a usable duration (positive, at most 1e9 s)"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "-1s", "soon", "5 parsecs", "nan", "inf", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("256MiB"), Ok(256 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("1.5G"), Ok(3 << 29));
        assert_eq!(parse_bytes("500MB"), Ok(500_000_000));
        assert_eq!(parse_bytes("1e9"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64k"), Ok(65536));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("0").is_err());
        assert!(parse_bytes("12 parsecs").is_err());
    }
}
