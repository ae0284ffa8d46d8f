//! A reduction pass: every root reduces one input over the same axes, output block by output
//! block, each folded from pieces of the input into one mergeable state.

use super::{any_source, place, shares_sources, source_names, TaskReads};
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::exec::blocks::{plan_reduce, preferred_grid, AxisGrid, BlockList, ReducePlan};
use crate::exec::eval::eval;
use crate::exec::reduce_state::{Needs, ReduceState};
use crate::exec::tiles::{block_tiles, TILE_BYTES};
use crate::exec::EvalConfig;
use crate::graph::{NodeRef, Op, Reduction};
use crate::select::{Dim, Region, Stride};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// A reduction pass: roots reducing one input over the same axes.
pub(crate) struct ReduceJob {
    pub(crate) roots: Vec<NodeRef>,
    pub(crate) red: Reduction,
    pub(crate) out_shape: Vec<usize>,
    pub(crate) needs: Needs,
    /// The plan of blocks and pieces.
    pub(crate) plan: ReducePlan,
    pub(crate) blocks: BlockList,
    pub(crate) pieces: BlockList,
    pub(crate) reads: TaskReads,
    /// True when the input computes something (elementwise ops): pieces run tile by tile.
    pub(crate) tiled: bool,
    /// True when a tiled piece keeps the chunks it reads for its other tiles.
    pub(crate) keep: bool,
    /// True when a source is read by several uses: an untiled piece keeps its chunks too.
    pub(crate) shares: bool,
    /// The input's chunk grid along each reduced axis (an untiled piece is read a run of
    /// chunks at a time along them).
    pub(crate) reduced_grid: Vec<AxisGrid>,
}

/// The most parts an untiled reduction piece is read in (see `ReduceJob::chunk_parts`).
const MAX_PARTS: usize = 64;

/// True when some node below `root` computes values (rather than moving them).
fn computes(root: &NodeRef) -> bool {
    let mut stack = vec![root.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        if matches!(
            n.op,
            Op::Unary(..) | Op::Binary(..) | Op::Cast(_) | Op::Where(..)
        ) {
            return true;
        }
        stack.extend(n.inputs().into_iter().cloned());
    }
    false
}

impl ReduceJob {
    /// Plans the pass for `roots` (all reductions of one input over the same axes).
    pub(crate) fn new(roots: Vec<NodeRef>, cfg: &EvalConfig) -> Result<ReduceJob> {
        let red = match &roots[0].op {
            Op::Reduce(r) => r.clone(),
            _ => return Err(Error::Internal("ReduceJob of a non-reduction".into())),
        };
        let needs = roots.iter().fold(Needs::default(), |acc, r| match &r.op {
            Op::Reduce(x) => acc.union(Needs::of(x.op, x.input.dtype)),
            _ => acc,
        });
        let out_shape = roots[0].shape.clone();
        let plan = plan_reduce(&red, &out_shape, needs, cfg.budget, cfg.threads)?;
        let blocks = BlockList::new(plan.edges.clone())?;
        let pieces = BlockList::new(plan.piece_edges.clone())?;
        if blocks.len().checked_mul(pieces.len()).is_none() {
            return Err(Error::Budget(format!(
                "{} output blocks times {} pieces are more tasks than can be numbered",
                blocks.len(),
                pieces.len()
            )));
        }
        let input = std::slice::from_ref(&red.input);
        let reads = TaskReads::of(input, cfg);
        let tiled = computes(&red.input);
        let keep = any_source(input, &|s| !s.cheap_region_reads());
        let shares = shares_sources(input);
        let grid = preferred_grid(&red.input);
        let reduced_grid = red.axes.iter().map(|&d| grid[d].clone()).collect();
        Ok(ReduceJob {
            roots,
            red,
            out_shape,
            needs,
            plan,
            blocks,
            pieces,
            reads,
            tiled,
            keep,
            shares,
            reduced_grid,
        })
    }

    /// Number of output blocks.
    pub(crate) fn num_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// Number of tasks (blocks times pieces).
    pub(crate) fn num_tasks(&self) -> usize {
        self.blocks.len() * self.pieces.len()
    }

    pub(crate) fn input_region(&self, block: &[Dim], piece: &[Range<usize>]) -> Region {
        let mut k = 0;
        let mut p = 0;
        (0..self.red.input.shape.len())
            .map(|d| {
                if self.red.axes.contains(&d) {
                    if self.red.keepdims {
                        k += 1;
                    }
                    p += 1;
                    Dim::Stride(Stride::range(piece[p - 1].start, piece[p - 1].end))
                } else {
                    k += 1;
                    block[k - 1].clone()
                }
            })
            .collect()
    }

    /// `region` of the input cut at the input's chunk boundaries along the reduced axes (the
    /// kept axes stay whole), in C order; the whole region when that makes more than
    /// [`MAX_PARTS`] parts (tiny chunks) or along an axis free of chunks.
    pub(crate) fn chunk_parts(&self, region: &[Dim]) -> Vec<Region> {
        let mut per_axis: Vec<Vec<Range<usize>>> = Vec::with_capacity(region.len());
        let mut total = 1usize;
        for (d, dim) in region.iter().enumerate() {
            let r = dim.bounds();
            let cut = match self.red.axes.iter().position(|&a| a == d) {
                Some(i) => self.reduced_grid[i].cut(r.clone(), MAX_PARTS),
                None => None,
            };
            let cut = cut.unwrap_or_else(|| vec![r]);
            total = total.saturating_mul(cut.len());
            if total > MAX_PARTS {
                return vec![region.to_vec()];
            }
            per_axis.push(cut);
        }
        let counts: Vec<Vec<usize>> = per_axis.iter().map(|p| (0..p.len()).collect()).collect();
        crate::source::cartesian(&counts)
            .into_iter()
            .map(|ix| {
                ix.iter()
                    .enumerate()
                    .map(|(d, &i)| {
                        let r = &per_axis[d][i];
                        Dim::Stride(Stride::range(r.start, r.end))
                    })
                    .collect()
            })
            .collect()
    }

    pub(crate) fn block_len(&self, b: usize) -> usize {
        self.blocks.block_len(b)
    }

    pub(crate) fn run_piece(&self, b: usize, p: usize, state: &mut ReduceState) -> Result<()> {
        let region = self.input_region(&self.blocks.region(b), &self.pieces.ranges(p));
        let input = std::slice::from_ref(&self.red.input);
        let pass = &self.plan.shared;
        if !self.tiled {
            if !self.shares {
                // Read a run of chunks at a time along the reduced axes and fold the parts
                // together: no array of the whole piece is assembled (nor allocated and
                // faulted in afresh for each piece).
                // One context for the piece: with latency-bound sources, the chunks of the
                // whole piece are requested together (up to the I/O bound), not part by part.
                let ctx = self.reads.task_ctx(input, &region, None, pass, false)?;
                let parts = self
                    .chunk_parts(&region)
                    .iter()
                    .map(|sub| eval(&self.red.input, sub, &ctx))
                    .collect::<Result<Vec<_>>>()?;
                return state.update_parts(&parts, &self.red.axes, 0);
            }
            let ctx = self
                .reads
                .task_ctx(input, &region, None, pass, self.shares)?;
            let data = eval(&self.red.input, &region, &ctx)?;
            return state.update(&data, &self.red.axes);
        }
        // An input that computes (`mean(x - 0.5)`) is evaluated and folded a cache-sized tile
        // at a time, its chunks read once for the piece: the tile's intermediates never leave
        // the cache. A tile's kept positions are a run of the block's state (tiles cut outer
        // axes first), so each tile folds into its part of the state.
        let ctx = self.reads.task_ctx(input, &region, None, pass, self.keep)?;
        let kept: Vec<usize> = (0..region.len())
            .filter(|d| !self.red.axes.contains(d))
            .collect();
        let elem = self.red.input.dtype.size();
        for tile in block_tiles(&region, elem, TILE_BYTES) {
            let data = eval(&self.red.input, &tile.region, &ctx)?;
            let offset = kept
                .iter()
                .fold(0, |acc, &d| acc * region[d].len() + tile.within[d].start);
            state.update_at(&data, &self.red.axes, offset)?;
        }
        Ok(())
    }

    /// The state of block `b` over the pieces `keep` selects (by task number), pieces run in
    /// parallel when `parallel`.
    pub(crate) fn run_block(
        &self,
        b: usize,
        keep: &(dyn Fn(usize) -> bool + Sync),
        parallel: bool,
        progress: &(dyn Fn() + Sync),
    ) -> Result<ReduceState> {
        let n = self.pieces.len();
        let len = self.block_len(b);
        // The pieces of block `b` that `keep` selects (task numbers `b * n + p` fit: the
        // task count was checked to fit in a `usize`); no list of them is built.
        let run = |pieces: Range<usize>, st: &mut ReduceState| -> Result<()> {
            for p in pieces.filter(|&p| keep(b * n + p)) {
                self.run_piece(b, p, st)?;
                progress();
            }
            Ok(())
        };
        if !parallel || n < 2 {
            let mut st = ReduceState::new(self.needs, len);
            run(0..n, &mut st)?;
            return Ok(st);
        }
        let workers = self.plan.workers.min(n);
        // Worker `w` takes pieces `w * n / workers ..` (in u128: `w * n` may pass usize).
        let cut = |w: usize| (w as u128 * n as u128 / workers as u128) as usize;
        let parts: Vec<Result<ReduceState>> = (0..workers)
            .into_par_iter()
            .map(|w| {
                let mut st = ReduceState::new(self.needs, len);
                run(cut(w)..cut(w + 1), &mut st)?;
                Ok(st)
            })
            .collect();
        let mut total = ReduceState::new(self.needs, len);
        for part in parts {
            total.merge(&part?)?;
        }
        Ok(total)
    }

    /// The results of every root for block `b`.
    pub(crate) fn finalize(&self, b: usize, state: &ReduceState) -> Result<Vec<NdData>> {
        let shape: Vec<usize> = self.blocks.region(b).iter().map(|d| d.len()).collect();
        self.roots
            .iter()
            .map(|r| match &r.op {
                Op::Reduce(x) => state
                    .finalize(x.op, x.input.dtype, r.dtype, &shape, x.ddof, x.mdtol)
                    .map_err(|e| match e {
                        // numpy's words, and which data it was.
                        Error::Invalid(m) => Error::Invalid(format!(
                            "{m} (reducing {} of shape {:?} over axes {:?})",
                            source_names(&x.input),
                            x.input.shape,
                            x.axes
                        )),
                        e => e,
                    }),
                _ => Err(Error::Internal("finalize of a non-reduction".into())),
            })
            .collect()
    }

    /// Runs the whole pass, returning one array per root.
    pub(crate) fn run(&self, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<NdData>> {
        let mut outs: Vec<NdData> = self
            .roots
            .iter()
            .map(|r| NdData::zeros(r.dtype, &self.out_shape))
            .collect();
        let done = AtomicU64::new(0);
        let tick = || progress(done.fetch_add(1, Ordering::Relaxed) + 1);
        if self.plan.parallel_blocks {
            let outs_m = Mutex::new(&mut outs);
            (0..self.blocks.len())
                .into_par_iter()
                .try_for_each(|b| -> Result<()> {
                    let st = self.run_block(b, &|_| true, false, &tick)?;
                    let parts = self.finalize(b, &st)?;
                    let mut o = outs_m
                        .lock()
                        .map_err(|_| Error::Internal("result lock".into()))?;
                    for (out, part) in o.iter_mut().zip(&parts) {
                        place(out, &self.blocks.region(b), part)?;
                    }
                    Ok(())
                })?;
        } else {
            for b in 0..self.blocks.len() {
                let st = self.run_block(b, &|_| true, true, &tick)?;
                for (out, part) in outs.iter_mut().zip(self.finalize(b, &st)?) {
                    place(out, &self.blocks.region(b), &part)?;
                }
            }
        }
        Ok(outs)
    }
}
