//! The options every subcommand takes (`--budget`, `--threads`, `--explain`, `--quiet`), the
//! evaluation configuration they make, and progress bars on standard error.

use crate::EvalConfig;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;

/// What the global options ask for.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The evaluation configuration (budget, threads).
    pub cfg: EvalConfig,
    /// Print the plan and run nothing.
    pub explain: bool,
    /// Print nothing but results and errors.
    pub quiet: bool,
    /// True when `--budget` was given (commands with a default of their own use it otherwise).
    pub budget_given: bool,
}

impl Settings {
    /// Settings from the global options.
    pub fn new(budget: Option<usize>, threads: Option<usize>, explain: bool, quiet: bool) -> Self {
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
        }
    }

    /// A progress bar on standard error when it is a terminal and `--quiet` is off.
    pub fn progress_bar(&self, message: &str) -> Option<ProgressBar> {
        if self.quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        Some(new_bar(message))
    }

    /// The configuration, reporting progress to `bar` if there is one.
    pub fn cfg_with(&self, bar: &Option<ProgressBar>) -> EvalConfig {
        let mut cfg = self.cfg.clone();
        if let Some(bar) = bar {
            cfg.progress = Some(progress_callback(bar.clone()));
        }
        cfg
    }

    /// Prints a line on standard error unless `--quiet`.
    pub fn note(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// A progress bar with vastarray's style (drawn on standard error).
pub fn new_bar(message: &str) -> ProgressBar {
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
pub fn progress_callback(bar: ProgressBar) -> crate::exec::Progress {
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
pub fn parse_bytes(text: &str) -> Result<usize, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
