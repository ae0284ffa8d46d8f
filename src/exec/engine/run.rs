//! [`Plan::run_on`]: a plan run across the ranks of an [`Engine`]. Each rank runs partition
//! `rank` of `size` of every stage and pass (tasks whose number is `rank` modulo `size`, on its
//! own thread pool and budget); reduction states merge up a fixed tree to rank 0, computed
//! blocks are gathered to rank 0 in rank order; each stage runs once, and rank 0 sends its
//! result to every rank, which needs it for the passes after it.

use super::exchange::{agree, broadcast_value, gather_to_root, merge_to_root, Failure, Share};
use super::Engine;
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::exec::partition::{NdDataSer, PartialPass};
use crate::exec::pass::{Job, ReduceJob};
use crate::graph::NodeRef;
use crate::plan::{substitute, Plan};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One rank's partial result of a pass, with the size of the pass as that rank planned it
/// (ranks must plan alike: the same budget and threads make the same blocks).
#[derive(Serialize, Deserialize)]
struct PassShare {
    tasks: u64,
    blocks: u64,
    pass: PartialPass,
}

fn pass_size(job: &Job) -> (u64, u64) {
    let blocks = match job {
        Job::Reduce(j) => j.num_blocks(),
        Job::Blocks(j) => j.num_blocks(),
    };
    (job.num_tasks() as u64, blocks as u64)
}

/// Checks that a share belongs to a pass planned as `job` was on this rank.
fn check_size(job: &Job, share: &PassShare) -> Result<()> {
    let (tasks, blocks) = pass_size(job);
    if (share.tasks, share.blocks) != (tasks, blocks) {
        return Err(Error::Invalid(format!(
            "ranks planned the pass differently ({} tasks in {} blocks here, {} in {} on another rank): give every rank the same --budget and --threads",
            tasks, blocks, share.tasks, share.blocks
        )));
    }
    Ok(())
}

/// This rank's partition of `job`, run on `pool`, as a share.
fn run_share(engine: &dyn Engine, pool: &rayon::ThreadPool, job: &Job) -> Share<PassShare> {
    let (tasks, blocks) = pass_size(job);
    pool.install(|| job.run_partition(engine.rank(), engine.size()))
        .map(|pass| PassShare {
            tasks,
            blocks,
            pass,
        })
        .map_err(|e| Failure::of(engine.rank(), e))
}

/// Runs a reduction pass across the ranks: its results on rank 0, `None` on the others (every
/// rank returns the error if a rank failed).
fn run_reduce(
    engine: &dyn Engine,
    pool: &rayon::ThreadPool,
    job: &Job,
) -> Result<Option<Vec<NdData>>> {
    let mine = run_share(engine, pool, job);
    let merge = |a: &mut PassShare, b: PassShare| -> Result<()> {
        check_size(job, &b)?;
        a.pass.merge(b.pass)
    };
    let merged = merge_to_root(engine, mine, "reduction states", &merge)?;
    let results = merged.map(|m| {
        m.and_then(|share| {
            check_size(job, &share)
                .and_then(|()| pool.install(|| job.finish(vec![share.pass])))
                .map_err(|e| Failure::of(0, e))
        })
    });
    let outcome = results
        .as_ref()
        .map(|r| r.as_ref().map(|_| ()).map_err(Clone::clone));
    agree(engine, outcome.as_ref())?;
    Ok(results.and_then(|r| r.ok()))
}

/// Runs a block pass across the ranks: every rank computes its blocks, rank 0 places them into
/// the results (`None` on the others).
fn run_blocks(
    engine: &dyn Engine,
    pool: &rayon::ThreadPool,
    job: &Job,
) -> Result<Option<Vec<NdData>>> {
    let mine = run_share(engine, pool, job);
    let mut outs = if engine.is_root() {
        job.empty_outputs()
    } else {
        Vec::new()
    };
    let mut seen = vec![
        false;
        if engine.is_root() {
            pass_size(job).1 as usize
        } else {
            0
        }
    ];
    let mut take = |_rank: usize, share: PassShare| -> Result<()> {
        check_size(job, &share)?;
        job.place_blocks(&mut outs, &mut seen, share.pass)
    };
    let mut outcome = gather_to_root(engine, mine, "computed blocks", &mut take)?;
    if let Some(Ok(())) = outcome {
        if let Some(missing) = seen.iter().position(|s| !s) {
            outcome = Some(Err(Failure::of(
                0,
                Error::Internal(format!("block {missing} was computed by no rank")),
            )));
        }
    }
    agree(engine, outcome.as_ref())?;
    Ok(engine.is_root().then_some(outs))
}

/// Runs one stage across the ranks; every rank gets its result.
fn run_stage(
    engine: &dyn Engine,
    pool: &rayon::ThreadPool,
    plan: &Plan,
    stage: &NodeRef,
    done: &HashMap<u64, NodeRef>,
) -> Result<NdData> {
    let node = substitute::substitute(stage, done, &mut HashMap::new())?;
    let job = Job::Reduce(ReduceJob::new(vec![node], plan.config())?);
    let mine = run_share(engine, pool, &job);
    let merge = |a: &mut PassShare, b: PassShare| -> Result<()> {
        check_size(&job, &b)?;
        a.pass.merge(b.pass)
    };
    let merged = merge_to_root(engine, mine, "reduction states of a stage", &merge)?;
    let result: Option<Share<NdDataSer>> = merged.map(|m| {
        m.and_then(|share| {
            check_size(&job, &share)
                .and_then(|()| pool.install(|| job.finish(vec![share.pass])))
                .map(|mut r| NdDataSer::from_data(&r.remove(0)))
                .map_err(|e| Failure::of(0, e))
        })
    });
    let result: Share<NdDataSer> = broadcast_value(engine, result.as_ref(), "a stage's result")?;
    result.map_err(Failure::into_error)?.to_data()
}

impl Plan {
    /// Runs the plan across the ranks of `engine`: each rank computes its share of every stage
    /// and pass (tasks whose number is its rank modulo the number of ranks, with its own
    /// threads and budget); stages run once and their results reach every rank; reduction
    /// states merge in a fixed order (so results depend neither on timing nor, beyond
    /// rounding, on the number of ranks). The results are on rank 0 (`Some`), `None` on the
    /// others. When a rank fails, every rank returns its error ([`Error::Rank`]). With one
    /// rank ([`Local`](super::Local)) this is [`Plan::run`].
    ///
    /// Every rank must call it with the same plan (the same expression, budget and threads).
    pub fn run_on(&self, engine: &dyn Engine) -> Result<Option<Vec<NdData>>> {
        if engine.size() <= 1 {
            return self.run().map(Some);
        }
        let pool = self.pool()?;
        let stages = self.run_stages_by(&mut |s, done| run_stage(engine, &pool, self, s, done))?;
        let mut out: Vec<Option<NdData>> = vec![None; self.roots().len()];
        for (idx, job) in self.jobs(&stages)? {
            let results = match &job {
                Job::Reduce(_) => run_reduce(engine, &pool, &job)?,
                Job::Blocks(_) => run_blocks(engine, &pool, &job)?,
            };
            if let Some(results) = results {
                for (i, r) in idx.into_iter().zip(results) {
                    out[i] = Some(r);
                }
            }
        }
        if !engine.is_root() {
            return Ok(None);
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| Error::Internal("a result was not computed".into())))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// [`Plan::run_on`] with the results on every rank (rank 0 sends them to the others).
    pub fn run_everywhere(&self, engine: &dyn Engine) -> Result<Vec<NdData>> {
        if engine.size() <= 1 {
            return self.run();
        }
        let results = self.run_on(engine)?;
        let sent: Option<Vec<NdDataSer>> =
            results.map(|r| r.iter().map(NdDataSer::from_data).collect());
        let got: Vec<NdDataSer> = broadcast_value(engine, sent.as_ref(), "results")?;
        got.iter().map(NdDataSer::to_data).collect()
    }
}
