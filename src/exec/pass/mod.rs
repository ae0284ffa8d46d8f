//! The passes a plan runs: a reduction pass ([`ReduceJob`], `reduce.rs`) or a block pass
//! ([`BlocksJob`], `blocks.rs`), as one [`Job`]; and what the two share: evaluating a task's
//! region with its chunks prefetched or kept, and placing a block into a whole result.

mod blocks;
mod reduce;

pub(crate) use blocks::BlocksJob;
pub(crate) use reduce::ReduceJob;

use super::eval::{collect_reads, ChunkMap, TaskCtx};
use super::fetch::{prefetch, PassChunks};
use super::read::{scatter, OutIdx};
use crate::config::human_bytes;
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::graph::{NodeRef, Op};
use crate::select::Dim;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// True when some source below `roots` satisfies `pred`.
pub(super) fn any_source(
    roots: &[NodeRef],
    pred: &dyn Fn(&dyn crate::source::ChunkSource) -> bool,
) -> bool {
    let mut stack: Vec<NodeRef> = roots.to_vec();
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        if let Op::Source(s) = &n.op {
            if pred(s.as_ref()) {
                return true;
            }
        }
        stack.extend(n.inputs().into_iter().cloned());
    }
    false
}

/// The names of the sources below `root` (the first three, then how many more), for errors.
pub(super) fn source_names(root: &NodeRef) -> String {
    let names = std::cell::RefCell::new(Vec::new());
    any_source(std::slice::from_ref(root), &|s| {
        names.borrow_mut().push(s.name());
        false
    });
    let names = names.into_inner();
    match names.len() {
        0 => "constants".into(),
        1..=3 => names.join(", "),
        n => format!("{} and {} more sources", names[..3].join(", "), n - 3),
    }
}

/// How the tasks of a pass get their chunks: prefetched together when some source waits on
/// latency, with at most `io` reads in flight.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TaskReads {
    /// True when some source below the pass's roots waits on latency (so tasks prefetch
    /// concurrently).
    pub(crate) latency: bool,
    /// Reads in flight at most (`EvalConfig::io_concurrency`).
    pub(crate) io: usize,
}

impl TaskReads {
    /// The reads of a pass over `roots`.
    pub(super) fn of(roots: &[NodeRef], cfg: &crate::config::EvalConfig) -> TaskReads {
        TaskReads {
            latency: any_source(roots, &|s| s.latency_bound()),
            io: cfg.io_concurrency,
        }
    }

    /// The chunks one task at `region` shares: `shared` (prefetched for a batch of tasks) or
    /// prefetched here (latency-bound sources), kept for the pass, and kept for the task when
    /// `keep`.
    pub(super) fn task_ctx(
        self,
        nodes: &[NodeRef],
        region: &[Dim],
        shared: Option<Arc<ChunkMap>>,
        pass: &Arc<PassChunks>,
        keep: bool,
    ) -> Result<TaskCtx> {
        let prefetched = match shared {
            Some(m) => m,
            None if self.latency => Arc::new(self.prefetch(nodes, [region], pass)?),
            None => Arc::new(ChunkMap::new()),
        };
        Ok(TaskCtx {
            prefetched,
            pass: Some(pass.clone()),
            keep: keep.then(|| Mutex::new(ChunkMap::new())),
        })
    }

    /// The chunks `nodes` read at each of `regions`, requested together (up to the I/O bound).
    pub(super) fn prefetch<'r>(
        self,
        nodes: &[NodeRef],
        regions: impl IntoIterator<Item = &'r [Dim]>,
        pass: &Arc<PassChunks>,
    ) -> Result<ChunkMap> {
        let mut reads = Vec::new();
        for region in regions {
            for n in nodes {
                collect_reads(n, region, &mut reads)?;
            }
        }
        prefetch(&reads, self.io, Some(pass))
    }
}

/// True when a source node is read by more than one use below `roots` (so a task keeps its
/// chunks for the other uses).
pub(super) fn shares_sources(roots: &[NodeRef]) -> bool {
    let counts = crate::graph::use_counts(roots);
    let mut stack: Vec<NodeRef> = roots.to_vec();
    let mut seen = std::collections::HashSet::new();
    let mut sources = std::collections::HashMap::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        if let Op::Source(s) = &n.op {
            let key = std::sync::Arc::as_ptr(s) as *const () as usize;
            *sources.entry(key).or_insert(0usize) += counts.get(&n.id).copied().unwrap_or(1).max(1);
        }
        stack.extend(n.inputs().into_iter().cloned());
    }
    roots.len() > 1 || sources.values().any(|&c| c > 1)
}

pub(super) fn region_ranges(region: &[Dim]) -> Vec<Range<usize>> {
    region.iter().map(|d| d.bounds()).collect()
}

/// Writes a block into a whole result.
pub(super) fn place(out: &mut NdData, region: &[Dim], block: &NdData) -> Result<()> {
    let idx: Vec<OutIdx> = region_ranges(region)
        .into_iter()
        .map(OutIdx::Range)
        .collect();
    crate::with_nd!(out, o: T => {
        let b = T::peek(block).ok_or_else(|| Error::Internal("place: block type".into()))?;
        scatter(o.view_mut(), &idx, b.view());
        Ok(())
    })
}

/// One pass of a plan.
pub(crate) enum Job {
    /// A reduction pass.
    Reduce(ReduceJob),
    /// A block pass.
    Blocks(BlocksJob),
}

impl Job {
    /// Projected peak bytes.
    pub(crate) fn peak(&self) -> usize {
        match self {
            Job::Reduce(j) => j.plan.peak,
            Job::Blocks(j) => j.plan.peak,
        }
    }

    /// Number of tasks.
    pub(crate) fn num_tasks(&self) -> usize {
        match self {
            Job::Reduce(j) => j.num_tasks(),
            Job::Blocks(j) => j.num_blocks(),
        }
    }

    /// A line for plans.
    pub(crate) fn describe(&self) -> String {
        let shared = match self {
            Job::Reduce(j) => j.plan.shared.bytes(),
            Job::Blocks(j) => j.plan.shared.bytes(),
        };
        let note = if shared > 0 {
            format!(
                " (of which {} of chunks kept for the whole pass)",
                human_bytes(shared)
            )
        } else {
            String::new()
        };
        let line = match self {
            Job::Reduce(j) => format!(
                "reduction pass: {} output block(s) of {:?} x {} piece(s) of {:?} along axes {:?}; {}, projected peak {}",
                j.blocks.len(),
                j.plan.block,
                j.pieces.len(),
                j.plan.piece,
                j.red.axes,
                if j.plan.parallel_blocks { "blocks in parallel" } else { "pieces in parallel" },
                human_bytes(j.plan.peak)
            ),
            Job::Blocks(j) => format!(
                "block pass: {} block(s) of {:?}, projected peak {}",
                j.blocks.len(),
                j.plan.block,
                human_bytes(j.plan.peak)
            ),
        };
        line + &note
    }
}
