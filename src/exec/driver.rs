//! The driver: runs a [`Plan`] (its stages, then its passes) on a thread pool of the
//! configuration's size, in memory, streamed or one partition at a time.

use super::blocks::preferred_chunks;
use super::partition::PartialResult;
use super::pass::{BlocksJob, Job, ReduceJob};
use super::BlockStream;
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::graph::{DynArray, NodeRef};
use crate::plan::{group_roots, substitute, Group, Plan};
use crate::source::MemorySource;
use std::collections::HashMap;
use std::sync::Arc;

/// Stage node id -> an in-memory node of the stage's result.
pub(crate) type StageMap = HashMap<u64, NodeRef>;

/// Computes one stage's result, given the stage and the stages done before it.
pub(crate) type StageCompute<'a> = dyn FnMut(&NodeRef, &StageMap) -> Result<NdData> + 'a;

impl Plan {
    pub(crate) fn pool(&self) -> Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.config().threads.max(1))
            .build()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))
    }

    /// Runs the stages; returns the map from stage node id to an in-memory node of its result
    /// (`placeholder`: zeros of the right shape instead, without reading anything).
    pub(crate) fn run_stages(&self, placeholder: bool) -> Result<HashMap<u64, NodeRef>> {
        self.run_stages_by(&mut |s, done| {
            if placeholder {
                return Ok(NdData::zeros(s.dtype, &s.shape));
            }
            let node = substitute::substitute(s, done, &mut HashMap::new())?;
            let job = ReduceJob::new(vec![node], self.config())?;
            Ok(job.run(&|_| {})?.remove(0))
        })
    }

    /// Runs the stages with `compute` (given a stage and the stages done before it, which it
    /// depends on), in order; returns the map from stage node id to an in-memory node of its
    /// result.
    pub(crate) fn run_stages_by(&self, compute: &mut StageCompute<'_>) -> Result<StageMap> {
        let mut done: StageMap = HashMap::new();
        for s in self.stages() {
            let data = compute(s, &done)?;
            let chunks = preferred_chunks(s);
            let chunks: Vec<usize> = if data.nbytes() <= 64 << 20 {
                s.shape.iter().map(|&n| n.max(1)).collect()
            } else {
                chunks
            };
            let src = MemorySource::from_data(data, &chunks)?
                .with_name(format!("stage result: {}", s.label()));
            let node = DynArray::from_source_arc(Arc::new(src)).node().clone();
            done.insert(s.id, node);
        }
        Ok(done)
    }

    /// The passes that compute the roots once the stages are in place: (roots of the pass by
    /// index, job).
    pub(crate) fn jobs(&self, stages: &HashMap<u64, NodeRef>) -> Result<Vec<(Vec<usize>, Job)>> {
        let mut memo = HashMap::new();
        let roots: Vec<NodeRef> = self
            .roots()
            .iter()
            .map(|r| substitute::substitute(r, stages, &mut memo))
            .collect::<Result<_>>()?;
        group_roots(&roots)
            .into_iter()
            .map(|g| {
                Ok(match g {
                    Group::Reduce(idx) => {
                        let nodes = idx.iter().map(|&i| roots[i].clone()).collect();
                        (idx, Job::Reduce(ReduceJob::new(nodes, self.config())?))
                    }
                    Group::Blocks(idx) => {
                        let nodes = idx.iter().map(|&i| roots[i].clone()).collect();
                        (idx, Job::Blocks(BlocksJob::new(nodes, self.config())?))
                    }
                })
            })
            .collect()
    }

    /// Runs the plan: every result in memory.
    pub fn run(&self) -> Result<Vec<NdData>> {
        self.pool()?.install(|| {
            let stages = self.run_stages(false)?;
            let mut out: Vec<Option<NdData>> = vec![None; self.roots().len()];
            for (idx, job) in self.jobs(&stages)? {
                let total = job.num_tasks() as u64;
                let progress = self.config().progress.clone();
                let report = move |done: u64| {
                    if let Some(p) = &progress {
                        p(done, total)
                    }
                };
                let results = match &job {
                    Job::Reduce(j) => j.run(&report)?,
                    Job::Blocks(j) => j.run(&report)?,
                };
                for (i, r) in idx.into_iter().zip(results) {
                    out[i] = Some(r);
                }
            }
            out.into_iter()
                .map(|o| o.ok_or_else(|| Error::Internal("a result was not computed".into())))
                .collect()
        })
    }

    /// Streams the blocks of the first result (for results larger than memory).
    pub fn stream(&self) -> Result<BlockStream> {
        let stages = self.pool()?.install(|| self.run_stages(false))?;
        let mut jobs = self.jobs(&stages)?;
        let (_, job) = jobs
            .drain(..)
            .find(|(idx, _)| idx.contains(&0))
            .ok_or_else(|| Error::Internal("no pass for the result".into()))?;
        BlockStream::new(job, self.config())
    }

    /// Runs partition `k` of `n` of the final passes (every partition runs the stages). The
    /// partial results of all `n` partitions, given to [`Plan::finish`], make the results.
    /// Processes that can talk to each other use [`Plan::run_on`] instead, which runs each
    /// stage once across them.
    pub fn run_partition(&self, k: usize, n: usize) -> Result<PartialResult> {
        if n == 0 || k >= n {
            return Err(Error::Invalid(format!(
                "partition {k} of {n} does not exist"
            )));
        }
        self.pool()?.install(|| {
            let stages = self.run_stages(false)?;
            let passes = self
                .jobs(&stages)?
                .iter()
                .map(|(_, j)| j.run_partition(k, n))
                .collect::<Result<_>>()?;
            Ok(PartialResult { passes })
        })
    }

    /// Merges the partial results of every partition into the results.
    pub fn finish(&self, partials: Vec<PartialResult>) -> Result<Vec<NdData>> {
        let stages = self.pool()?.install(|| self.run_stages(false))?;
        let jobs = self.jobs(&stages)?;
        let mut per_pass: Vec<Vec<_>> = vec![Vec::new(); jobs.len()];
        for p in partials {
            if p.passes.len() != jobs.len() {
                return Err(Error::Invalid(
                    "a partial result does not belong to this plan".into(),
                ));
            }
            for (i, pass) in p.passes.into_iter().enumerate() {
                per_pass[i].push(pass);
            }
        }
        let mut out: Vec<Option<NdData>> = vec![None; self.roots().len()];
        for ((idx, job), parts) in jobs.iter().zip(per_pass) {
            for (i, r) in idx.iter().zip(job.finish(parts)?) {
                out[*i] = Some(r);
            }
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| Error::Internal("a result was not computed".into())))
            .collect()
    }
}
