//! `vastarray eval EXPR --input NAME=SOURCE ... [--out DEST] [--json]`: evaluates a numpy
//! expression lazily, in bounded memory; prints the result or stores it.

use super::super::args::EvalArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::output::{result_json, result_text, shape_json, shape_text};
use super::super::settings::Settings;
use super::super::sinks::{self, StoreOptions};
use super::super::source_spec::{open, DestSpec, SourceSpec};
use super::print_plan;
use std::collections::BTreeMap;
use vastarray::expr::{compute_stages_on, StageError};
use vastarray::expr::{parse_expression, Builder};
use vastarray::{DynArray, Plan};

/// Results with more elements than this are not printed (use `--out`).
pub(crate) const MAX_PRINT: usize = 1_000_000;

/// Words the expression language gives a meaning to, which inputs cannot be called.
const RESERVED: [&str; 8] = [
    "True", "False", "None", "nan", "inf", "np", "numpy", "newaxis",
];

/// Parses `NAME=SOURCE`.
fn parse_input(text: &str) -> Result<(String, SourceSpec), CliError> {
    let (name, source) = text.split_once('=').ok_or_else(|| {
        CliError::Usage(format!(
            "--input {text:?}: expected NAME=SOURCE, as in --input a=data.npy"
        ))
    })?;
    let name = name.trim();
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok || RESERVED.contains(&name) {
        return Err(CliError::Usage(format!(
            "--input {text:?}: {name:?} cannot name an input (use letters, digits and _, not starting with a digit, and not {})",
            RESERVED.join(", ")
        )));
    }
    Ok((name.to_string(), SourceSpec::parse(source)?))
}

/// Runs `eval`.
pub(crate) fn run(args: &EvalArgs, settings: &Settings) -> Result<(), CliError> {
    let mut specs = Vec::new();
    for text in &args.inputs {
        let (name, spec) = parse_input(text)?;
        if specs.iter().any(|(n, _)| n == &name) {
            return Err(CliError::Usage(format!("input {name:?} is given twice")));
        }
        specs.push((name, spec));
    }
    let expr = parse_expression(&args.expr).map_err(|e| CliError::expr(&args.expr, e))?;
    let dest = args.out.as_deref().map(DestSpec::parse).transpose()?;
    let remote = specs.iter().filter(|(_, s)| s.is_remote()).count();
    if args.cache.is_some() && remote != 1 {
        return Err(CliError::Usage(format!(
            "--cache goes in front of one remote input; this command has {remote}"
        )));
    }
    let mut inputs = BTreeMap::new();
    for (name, spec) in &specs {
        let cache = if spec.is_remote() {
            args.cache.as_deref()
        } else {
            None
        };
        inputs.insert(name.clone(), open(spec, cache, settings)?.array);
    }
    let mut builder = Builder::new(&inputs).no_inputs_hint("use --input {name}=SOURCE");
    let array = builder
        .build(&expr)
        .map_err(|e| CliError::expr(&args.expr, e))?;
    let Some(dest) = dest else {
        return print_result(&array, args, settings);
    };
    let opts = StoreOptions {
        overwrite: args.overwrite,
        ..Default::default()
    };
    if settings.explain {
        print_plan(
            "plan (nothing was read or written):",
            &array.explain(&settings.cfg)?,
        )?;
        outln!("  {}", sinks::explain(&dest, &array, settings)?)?;
        return Ok(());
    }
    sinks::check(&dest, &opts)?;
    // Reductions feeding the rest are computed once, not once per buffer written.
    let stage_cfg = settings.cfg.clone();
    let n =
        compute_stages_on(&expr, &mut builder, &stage_cfg, &*settings.engine).map_err(
            |e| match e {
                StageError::Expr(e) => CliError::expr(&args.expr, e),
                StageError::Run(e) => e.into(),
            },
        )?;
    let array = if n > 0 {
        builder
            .build(&expr)
            .map_err(|e| CliError::expr(&args.expr, e))?
    } else {
        array
    };
    let Some(stored) = sinks::store(&dest, &array, settings, &opts)? else {
        return Ok(());
    };
    if args.json {
        outln!(
            "{{\"out\": {}, \"shape\": {}, \"dtype\": \"{}\", \"file_bytes\": {}}}",
            serde_json::to_string(&stored.dest).unwrap_or_default(),
            shape_json(&stored.shape),
            stored.dtype,
            stored
                .file_bytes
                .map(|b| b.to_string())
                .unwrap_or("null".into())
        )?;
    } else {
        settings.note(&format!(
            "wrote {}: shape {} {}",
            stored.dest,
            shape_text(&stored.shape),
            stored.dtype
        ));
    }
    Ok(())
}

fn print_result(array: &DynArray, args: &EvalArgs, settings: &Settings) -> Result<(), CliError> {
    if array.size() > MAX_PRINT {
        return Err(CliError::Usage(format!(
            "the result has {} elements (shape {}), too many to print (at most {MAX_PRINT}): write it to a file with --out result.npy",
            array.size(),
            shape_text(array.shape())
        )));
    }
    if settings.explain {
        print_plan("plan (nothing was read):", &array.explain(&settings.cfg)?)?;
        return Ok(());
    }
    let bar = settings.progress_bar("eval");
    let cfg = settings.cfg_with(&bar);
    // On every rank of the engine; rank 0 gets the result and prints it.
    let data = Plan::new(&[array], &cfg).and_then(|p| p.run_on(&*settings.engine));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let Some(data) = data?.and_then(|mut r| r.pop()) else {
        return Ok(());
    };
    if args.json {
        outln!("{}", result_json(&data))?;
    } else {
        outln!("{}", result_text(&data))?;
    }
    Ok(())
}
