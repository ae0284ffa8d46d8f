//! `vastarray stats SOURCE [--select SEL] [--ddof N] [--skipna] [--json]`: count, mean, std,
//! var, min, max and NaN count, all from one streaming pass (the reductions are evaluated
//! together, so they share every chunk read). For a CF-decoded source (netCDF-4 / HDF5 with
//! `_FillValue`, `missing_value`, a valid range) the masked values are NaN and are also
//! reported as `missing`.

use super::super::args::StatsArgs;
use super::super::error::CliError;
use super::super::output::outln;
use super::super::output::{scalar_json, scalar_text, shape_json, shape_text};
use super::super::settings::Settings;
use super::{open_selected, print_plan};
use vastarray::{DynArray, Plan, ReduceOp, ReduceOptions};

/// Runs `stats`.
pub(crate) fn run(args: &StatsArgs, settings: &Settings) -> Result<(), CliError> {
    if args.ddof < 0.0 || !args.ddof.is_finite() {
        return Err(CliError::Usage(format!(
            "--ddof {}: must be a non-negative number",
            args.ddof
        )));
    }
    let (a, opened) = open_selected(
        &args.source,
        args.select.as_deref(),
        args.cache.as_deref(),
        settings,
    )?;
    let all = None::<usize>;
    let with_ddof = ReduceOptions {
        ddof: args.ddof,
        ..Default::default()
    };
    let plain = ReduceOptions::default();
    let ops = if args.skipna {
        [
            ReduceOp::NanMean,
            ReduceOp::NanStd,
            ReduceOp::NanVar,
            ReduceOp::NanMin,
            ReduceOp::NanMax,
        ]
    } else {
        [
            ReduceOp::Mean,
            ReduceOp::Std,
            ReduceOp::Var,
            ReduceOp::Min,
            ReduceOp::Max,
        ]
    };
    let mut arrays: Vec<DynArray> = Vec::with_capacity(6);
    arrays.push(a.count(all)?);
    for op in ops {
        let o = if matches!(
            op,
            ReduceOp::Std | ReduceOp::Var | ReduceOp::NanStd | ReduceOp::NanVar
        ) {
            with_ddof
        } else {
            plain
        };
        arrays.push(a.reduce(op, all, o)?);
    }
    let refs: Vec<&DynArray> = arrays.iter().collect();
    if settings.explain {
        let plan = Plan::new(&refs, &settings.cfg)?;
        print_plan("plan (nothing was read):", &plan.explain()?)?;
        return Ok(());
    }
    let bar = settings.progress_bar("stats");
    let cfg = settings.cfg_with(&bar);
    // On every rank of the engine; rank 0 gets the results and prints them.
    let r = Plan::new(&refs, &cfg).and_then(|p| p.run_on(&*settings.engine));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let Some(r) = r? else {
        return Ok(());
    };
    let size = a.size() as u64;
    let non_nan: u64 = r[0]
        .clone()
        .into_typed::<i64>()?
        .iter()
        .next()
        .copied()
        .unwrap_or(0) as u64;
    let nan_count = size - non_nan;
    let count = if args.skipna { non_nan } else { size };
    let names = ["mean", "std", "var", "min", "max"];
    let cf_decoded = opened.facts.contains_key("cf_decoding");
    if cf_decoded && nan_count > 0 && !args.skipna {
        settings.note(&format!(
            "note: {nan_count} values are missing (CF fill, missing or out-of-range values, NaN); --skipna leaves them out"
        ));
    }
    if args.json {
        let mut out = format!(
            "{{\"source\": {}, \"shape\": {}, \"dtype\": \"{}\", \"count\": {count}",
            serde_json::to_string(&args.source).unwrap_or_default(),
            shape_json(a.shape()),
            a.dtype()
        );
        for (name, v) in names.iter().zip(&r[1..]) {
            out.push_str(&format!(", \"{name}\": {}", scalar_json(v)));
        }
        if cf_decoded {
            out.push_str(&format!(", \"missing\": {nan_count}"));
        }
        out.push_str(&format!(
            ", \"nan_count\": {nan_count}, \"ddof\": {}, \"skipna\": {}}}",
            serde_json::to_string(&args.ddof).unwrap_or_default(),
            args.skipna
        ));
        outln!("{out}")?;
        return Ok(());
    }
    outln!("{}", args.source)?;
    let line = |k: &str, v: String| outln!("  {k:<10} {v}");
    line("shape", shape_text(a.shape()))?;
    line("dtype", a.dtype().name().into())?;
    line("count", count.to_string())?;
    for (name, v) in names.iter().zip(&r[1..]) {
        line(name, scalar_text(v))?;
    }
    if cf_decoded {
        line("missing", nan_count.to_string())?;
    }
    line("nan_count", nan_count.to_string())?;
    Ok(())
}
