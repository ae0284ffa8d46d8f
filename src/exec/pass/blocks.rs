//! A block pass: roots of one shape computed block by block, tile by tile, each block written
//! into its place of the result.

use super::{any_source, shares_sources, TaskReads};
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::exec::blocks::{plan_blocks, BlockList, BlockPlan};
use crate::exec::eval::{eval, ChunkMap};
use crate::exec::place::NdViewMut;
use crate::exec::tiles::{block_tiles, TILE_BYTES};
use crate::exec::EvalConfig;
use crate::graph::NodeRef;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A block pass: non-reduction roots of one shape, computed block by block together. A task
/// computes one block in cache-sized tiles ([`super::tiles`]) and writes them straight into
/// the result.
pub(crate) struct BlocksJob {
    pub(crate) roots: Vec<NodeRef>,
    /// The plan of blocks.
    pub(crate) plan: BlockPlan,
    pub(crate) blocks: BlockList,
    /// Bytes of one element of every root together (what a tile's size is counted in).
    pub(crate) elem_bytes: usize,
    pub(crate) reads: TaskReads,
    pub(crate) keep: bool,
    pub(crate) budget: usize,
}

impl BlocksJob {
    /// Plans the pass for `roots` (of equal shape, reduction-free).
    pub(crate) fn new(roots: Vec<NodeRef>, cfg: &EvalConfig) -> Result<BlocksJob> {
        let plan = plan_blocks(&roots, cfg.budget, cfg.threads)?;
        let blocks = BlockList::new(plan.edges.clone())?;
        let reads = TaskReads::of(&roots, cfg);
        let elem_bytes: usize = roots.iter().map(|r| r.dtype.size()).sum();
        // A block in several tiles reads the chunks of sources other than in-memory ones once
        // and keeps them for the task, so no tile reads a chunk again.
        let tiled = plan.block.iter().product::<usize>() * elem_bytes > TILE_BYTES;
        let keep =
            shares_sources(&roots) || (tiled && any_source(&roots, &|s| !s.cheap_region_reads()));
        Ok(BlocksJob {
            roots,
            plan,
            blocks,
            elem_bytes,
            reads,
            keep,
            budget: cfg.budget,
        })
    }

    /// Number of blocks.
    pub(crate) fn num_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Computes block `b` of every root.
    pub(crate) fn run_block(&self, b: usize) -> Result<Vec<NdData>> {
        let region = &self.blocks.region(b);
        let shape: Vec<usize> = region.iter().map(|d| d.len()).collect();
        let mut outs: Vec<NdData> = self
            .roots
            .iter()
            .map(|r| NdData::zeros(r.dtype, &shape))
            .collect();
        let mut views: Vec<NdViewMut> = outs.iter_mut().map(NdViewMut::whole).collect();
        self.fill_block(b, None, &mut views)?;
        drop(views);
        Ok(outs)
    }

    /// Computes block `b` of every root into `outs` (one view of the block per root), tile by
    /// tile. `shared` holds chunks a batch of tasks prefetched together.
    pub(crate) fn fill_block(
        &self,
        b: usize,
        shared: Option<Arc<ChunkMap>>,
        outs: &mut [NdViewMut],
    ) -> Result<()> {
        let region = &self.blocks.region(b);
        let ctx = self
            .reads
            .task_ctx(&self.roots, region, shared, &self.plan.shared, self.keep)?;
        for tile in block_tiles(region, self.elem_bytes, TILE_BYTES) {
            for (root, out) in self.roots.iter().zip(outs.iter_mut()) {
                out.assign(&tile.within, &eval(root, &tile.region, &ctx)?)?;
            }
        }
        Ok(())
    }

    /// Runs the whole pass, returning one array per root.
    pub(crate) fn run(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<NdData>> {
        let shape = &self.roots[0].shape;
        let mut outs: Vec<NdData> = self
            .roots
            .iter()
            .map(|r| NdData::zeros(r.dtype, shape))
            .collect();
        if self.blocks.is_empty() {
            return Ok(outs);
        }
        // One disjoint view per block and root: tasks write their blocks without a lock.
        let mut tasks: Vec<(usize, Vec<NdViewMut>)> = (0..self.blocks.len())
            .map(|b| (b, Vec::with_capacity(self.roots.len())))
            .collect();
        for out in outs.iter_mut() {
            let views = NdViewMut::split(out, self.blocks.edges());
            if views.len() != tasks.len() {
                return Err(Error::Internal(format!(
                    "{} block views for {} blocks",
                    views.len(),
                    tasks.len()
                )));
            }
            for (task, v) in tasks.iter_mut().zip(views) {
                task.1.push(v);
            }
        }
        let done = AtomicU64::new(0);
        // Latency-bound sources: the reads of a batch of blocks go out together (up to the I/O
        // bound), as many blocks as half the budget holds.
        let per_block = (self.plan.peak / self.plan.workers.max(1)).max(1);
        let batch = if self.reads.latency {
            (self.budget / 2 / per_block).max(1)
        } else {
            self.blocks.len()
        };
        for group in tasks.chunks_mut(batch) {
            let shared = if self.reads.latency {
                let regions: Vec<_> = group.iter().map(|(b, _)| self.blocks.region(*b)).collect();
                Some(Arc::new(self.reads.prefetch(
                    &self.roots,
                    regions.iter().map(|r| r.as_slice()),
                    &self.plan.shared,
                )?))
            } else {
                None
            };
            group
                .par_iter_mut()
                .try_for_each(|(b, views)| -> Result<()> {
                    self.fill_block(*b, shared.clone(), views)?;
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1);
                    Ok(())
                })?;
        }
        drop(tasks);
        Ok(outs)
    }
}
