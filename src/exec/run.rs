//! The jobs a plan runs: a reduction pass ([`ReduceJob`]) or a block pass ([`BlocksJob`]);
//! full evaluation, streaming ([`BlockStream`]) and partial runs ([`PartialResult`]).

use super::blocks::{
    human_bytes, plan_blocks, plan_reduce, preferred_grid, AxisGrid, BlockList, BlockPlan,
    ReducePlan,
};
use super::eval::{collect_reads, eval, ChunkMap, TaskCtx};
use super::fetch::{prefetch, PassChunks};
use super::place::NdViewMut;
use super::read::{scatter, OutIdx};
use super::reduce_state::{Needs, ReduceState};
use super::tiles::{block_tiles, TILE_BYTES};
use super::EvalConfig;
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::graph::{NodeRef, Op, Reduction};
use crate::select::{Dim, Region, Stride};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// True when some source below `roots` satisfies `pred`.
fn any_source(roots: &[NodeRef], pred: &dyn Fn(&dyn crate::source::ChunkSource) -> bool) -> bool {
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
fn source_names(root: &NodeRef) -> String {
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

/// True when some source below `roots` waits on latency (so tasks prefetch concurrently).
fn has_latency_sources(roots: &[NodeRef]) -> bool {
    any_source(roots, &|s| s.latency_bound())
}

/// True when a source node is read by more than one use below `roots` (so a task keeps its
/// chunks for the other uses).
fn shares_sources(roots: &[NodeRef]) -> bool {
    let counts = crate::plan::use_counts(roots);
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

/// Evaluates `nodes` at one region, prefetching and sharing chunks as configured. `shared`
/// holds chunks a whole batch of tasks prefetched together, `pass` those the pass keeps.
fn eval_task(
    nodes: &[NodeRef],
    region: &[Dim],
    shared: Option<Arc<ChunkMap>>,
    pass: &Arc<PassChunks>,
    latency: bool,
    keep: bool,
    io: usize,
) -> Result<Vec<NdData>> {
    let ctx = task_ctx(nodes, region, shared, pass, latency, keep, io)?;
    nodes.iter().map(|n| eval(n, region, &ctx)).collect()
}

/// The chunks one task at `region` shares: prefetched (latency-bound sources), kept for the
/// pass, and kept for the task.
fn task_ctx(
    nodes: &[NodeRef],
    region: &[Dim],
    shared: Option<Arc<ChunkMap>>,
    pass: &Arc<PassChunks>,
    latency: bool,
    keep: bool,
    io: usize,
) -> Result<TaskCtx> {
    let prefetched = match shared {
        Some(m) => m,
        None if latency => {
            let mut reads = Vec::new();
            for n in nodes {
                collect_reads(n, region, &mut reads)?;
            }
            Arc::new(prefetch(&reads, io, Some(pass))?)
        }
        None => Arc::new(ChunkMap::new()),
    };
    Ok(TaskCtx {
        prefetched,
        pass: Some(pass.clone()),
        keep: keep.then(|| Mutex::new(ChunkMap::new())),
    })
}

fn region_ranges(region: &[Dim]) -> Vec<Range<usize>> {
    region.iter().map(|d| d.bounds()).collect()
}

/// Writes a block into a whole result.
fn place(out: &mut NdData, region: &[Dim], block: &NdData) -> Result<()> {
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

/// A reduction pass: roots reducing one input over the same axes.
pub(crate) struct ReduceJob {
    roots: Vec<NodeRef>,
    red: Reduction,
    out_shape: Vec<usize>,
    needs: Needs,
    /// The plan of blocks and pieces.
    pub plan: ReducePlan,
    blocks: BlockList,
    pieces: BlockList,
    latency: bool,
    /// True when the input computes something (elementwise ops): pieces run tile by tile.
    tiled: bool,
    /// True when a tiled piece keeps the chunks it reads for its other tiles.
    keep: bool,
    /// True when a source is read by several uses: an untiled piece keeps its chunks too.
    shares: bool,
    /// The input's chunk grid along each reduced axis (an untiled piece is read a run of
    /// chunks at a time along them).
    reduced_grid: Vec<AxisGrid>,
    io: usize,
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
        let latency = has_latency_sources(input);
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
            latency,
            tiled,
            keep,
            shares,
            reduced_grid,
            io: cfg.io_concurrency,
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

    fn input_region(&self, block: &[Dim], piece: &[Range<usize>]) -> Region {
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
    fn chunk_parts(&self, region: &[Dim]) -> Vec<Region> {
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

    fn block_len(&self, b: usize) -> usize {
        self.blocks.block_len(b)
    }

    fn run_piece(&self, b: usize, p: usize, state: &mut ReduceState) -> Result<()> {
        let region = self.input_region(&self.blocks.region(b), &self.pieces.ranges(p));
        let input = std::slice::from_ref(&self.red.input);
        let pass = &self.plan.shared;
        if !self.tiled {
            if !self.shares {
                // Read a run of chunks at a time along the reduced axes and fold the parts
                // together: no array of the whole piece is assembled (nor allocated and
                // faulted in afresh for each piece).
                let mut parts = Vec::new();
                for sub in self.chunk_parts(&region) {
                    let data = eval_task(input, &sub, None, pass, self.latency, false, self.io)?;
                    parts.extend(data);
                }
                return state.update_parts(&parts, &self.red.axes, 0);
            }
            let data = eval_task(
                input,
                &region,
                None,
                pass,
                self.latency,
                self.shares,
                self.io,
            )?;
            return state.update(&data[0], &self.red.axes);
        }
        // An input that computes (`mean(x - 0.5)`) is evaluated and folded a cache-sized tile
        // at a time, its chunks read once for the piece: the tile's intermediates never leave
        // the cache. A tile's kept positions are a run of the block's state (tiles cut outer
        // axes first), so each tile folds into its part of the state.
        let ctx = task_ctx(input, &region, None, pass, self.latency, self.keep, self.io)?;
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

/// A block pass: non-reduction roots of one shape, computed block by block together. A task
/// computes one block in cache-sized tiles ([`super::tiles`]) and writes them straight into
/// the result.
pub(crate) struct BlocksJob {
    roots: Vec<NodeRef>,
    /// The plan of blocks.
    pub plan: BlockPlan,
    blocks: BlockList,
    /// Bytes of one element of every root together (what a tile's size is counted in).
    elem_bytes: usize,
    latency: bool,
    keep: bool,
    io: usize,
    budget: usize,
}

impl BlocksJob {
    /// Plans the pass for `roots` (of equal shape, reduction-free).
    pub(crate) fn new(roots: Vec<NodeRef>, cfg: &EvalConfig) -> Result<BlocksJob> {
        let plan = plan_blocks(&roots, cfg.budget, cfg.threads)?;
        let blocks = BlockList::new(plan.edges.clone())?;
        let latency = has_latency_sources(&roots);
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
            latency,
            keep,
            io: cfg.io_concurrency,
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
    fn fill_block(
        &self,
        b: usize,
        shared: Option<Arc<ChunkMap>>,
        outs: &mut [NdViewMut],
    ) -> Result<()> {
        let region = &self.blocks.region(b);
        let ctx = task_ctx(
            &self.roots,
            region,
            shared,
            &self.plan.shared,
            self.latency,
            self.keep,
            self.io,
        )?;
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
        let batch = if self.latency {
            (self.budget / 2 / per_block).max(1)
        } else {
            self.blocks.len()
        };
        for group in tasks.chunks_mut(batch) {
            let shared = if self.latency {
                let mut reads = Vec::new();
                for (b, _) in group.iter() {
                    for n in &self.roots {
                        collect_reads(n, &self.blocks.region(*b), &mut reads)?;
                    }
                }
                Some(Arc::new(prefetch(
                    &reads,
                    self.io,
                    Some(&self.plan.shared),
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

/// The mergeable partial result of running partition `k` of `n` of a plan's final passes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartialResult {
    /// Per pass: reduction states by block, or computed blocks by block.
    pub passes: Vec<PartialPass>,
}

/// The partial result of one pass.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum PartialPass {
    /// Reduction states of every output block (over this partition's pieces).
    Reduce(Vec<ReduceState>),
    /// The blocks this partition computed: (block number, one block per root).
    Blocks(Vec<(usize, Vec<NdDataSer>)>),
}

/// A block in a serializable form: shape, type name and values as `f64`... kept exact by
/// storing the raw little-endian bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NdDataSer {
    /// numpy type name.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, little-endian bytes in C order.
    pub bytes: Vec<u8>,
}

impl NdDataSer {
    /// Serializes a block.
    pub fn from_data(d: &NdData) -> NdDataSer {
        let bytes = crate::with_nd!(d, a: T => {
            let mut v = Vec::with_capacity(a.len() * std::mem::size_of::<T>());
            for x in a.iter() {
                v.extend_from_slice(&crate::exec::run::le_bytes(*x));
            }
            v
        });
        NdDataSer {
            dtype: d.dtype().name().into(),
            shape: d.shape().to_vec(),
            bytes,
        }
    }

    /// Deserializes a block.
    pub fn to_data(&self) -> Result<NdData> {
        let dtype = crate::DType::parse(&self.dtype)?;
        let size = dtype.size();
        let n: usize = self.shape.iter().product();
        if self.bytes.len() != n * size {
            return Err(Error::Invalid(format!(
                "partial block of {} bytes for shape {:?} {}",
                self.bytes.len(),
                self.shape,
                dtype
            )));
        }
        let f64s: Vec<f64> = (0..n)
            .map(|i| from_le(dtype, &self.bytes[i * size..(i + 1) * size]))
            .collect();
        let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape), f64s)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let exact_ints = matches!(dtype, crate::DType::I64 | crate::DType::U64);
        if exact_ints {
            let v: Vec<u64> = (0..n)
                .map(|i| {
                    u64::from_le_bytes(self.bytes[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]))
                })
                .collect();
            let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape), v)
                .map_err(|e| Error::Internal(e.to_string()))?;
            return Ok(if dtype == crate::DType::U64 {
                NdData::U64(a)
            } else {
                NdData::I64(a.mapv(|x| x as i64))
            });
        }
        Ok(NdData::F64(a).cast(dtype))
    }
}

/// Little-endian bytes of an element.
pub(crate) fn le_bytes<T: crate::Element>(x: T) -> Vec<u8> {
    use crate::DType::*;
    let f = x.to_f64();
    match T::DTYPE {
        Bool | U8 => vec![f as u8],
        I8 => (f as i8).to_le_bytes().to_vec(),
        I16 => (f as i16).to_le_bytes().to_vec(),
        U16 => (f as u16).to_le_bytes().to_vec(),
        I32 => (f as i32).to_le_bytes().to_vec(),
        U32 => (f as u32).to_le_bytes().to_vec(),
        F32 => (f as f32).to_le_bytes().to_vec(),
        F64 => f.to_le_bytes().to_vec(),
        // 64-bit integers are not exact through f64: use their own bytes.
        I64 | U64 => {
            let mut b = [0u8; 8];
            // SAFETY-free route: T is i64 or u64 here, 8 bytes, read via to_i64_bits.
            b.copy_from_slice(&crate::exec::reduce_state::bits64(x).to_le_bytes());
            b.to_vec()
        }
    }
}

fn from_le(dtype: crate::DType, b: &[u8]) -> f64 {
    use crate::DType::*;
    let arr = |n: usize| -> [u8; 8] {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&b[..n]);
        a
    };
    match dtype {
        Bool | U8 => b[0] as f64,
        I8 => b[0] as i8 as f64,
        I16 => i16::from_le_bytes([b[0], b[1]]) as f64,
        U16 => u16::from_le_bytes([b[0], b[1]]) as f64,
        I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        U32 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
        F64 => f64::from_le_bytes(arr(8)),
        I64 => i64::from_le_bytes(arr(8)) as f64,
        U64 => u64::from_le_bytes(arr(8)) as f64,
    }
}

impl Job {
    /// Runs partition `k` of `n` of this pass: tasks whose number is `k` modulo `n`.
    pub(crate) fn run_partition(&self, k: usize, n: usize) -> Result<PartialPass> {
        let keep = move |t: usize| t % n == k;
        match self {
            Job::Reduce(j) => {
                let states = (0..j.num_blocks())
                    .into_par_iter()
                    .map(|b| j.run_block(b, &keep, false, &|| {}))
                    .collect::<Result<Vec<_>>>()?;
                Ok(PartialPass::Reduce(states))
            }
            Job::Blocks(j) => {
                let blocks = (0..j.num_blocks())
                    .into_par_iter()
                    .filter(|&b| keep(b))
                    .map(|b| {
                        Ok((
                            b,
                            j.run_block(b)?.iter().map(NdDataSer::from_data).collect(),
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PartialPass::Blocks(blocks))
            }
        }
    }

    /// Merges the partial results of all partitions of this pass into its results.
    pub(crate) fn finish(&self, parts: Vec<PartialPass>) -> Result<Vec<NdData>> {
        match self {
            Job::Reduce(j) => {
                let mut states: Vec<ReduceState> = (0..j.num_blocks())
                    .map(|b| ReduceState::new(j.needs, j.block_len(b)))
                    .collect();
                for p in parts {
                    match p {
                        PartialPass::Reduce(s) if s.len() == states.len() => {
                            for (a, b) in states.iter_mut().zip(&s) {
                                a.merge(b)?;
                            }
                        }
                        _ => {
                            return Err(Error::Invalid(
                                "partial result does not belong to this reduction pass".into(),
                            ))
                        }
                    }
                }
                let mut outs: Vec<NdData> = j
                    .roots
                    .iter()
                    .map(|r| NdData::zeros(r.dtype, &j.out_shape))
                    .collect();
                for (b, st) in states.iter().enumerate() {
                    for (out, part) in outs.iter_mut().zip(j.finalize(b, st)?) {
                        place(out, &j.blocks.region(b), &part)?;
                    }
                }
                Ok(outs)
            }
            Job::Blocks(j) => {
                let shape = &j.roots[0].shape;
                let mut outs: Vec<NdData> = j
                    .roots
                    .iter()
                    .map(|r| NdData::zeros(r.dtype, shape))
                    .collect();
                let mut seen = vec![false; j.num_blocks()];
                for p in parts {
                    let PartialPass::Blocks(blocks) = p else {
                        return Err(Error::Invalid(
                            "partial result does not belong to this block pass".into(),
                        ));
                    };
                    for (b, datas) in blocks {
                        if b >= seen.len() || datas.len() != outs.len() {
                            return Err(Error::Invalid(format!(
                                "partial block {b} does not belong to this pass"
                            )));
                        }
                        seen[b] = true;
                        for (out, d) in outs.iter_mut().zip(&datas) {
                            place(out, &j.blocks.region(b), &d.to_data()?)?;
                        }
                    }
                }
                if let Some(missing) = seen.iter().position(|s| !s) {
                    return Err(Error::Invalid(format!(
                        "block {missing} is in no partial result: a partition is missing"
                    )));
                }
                Ok(outs)
            }
        }
    }
}

/// The blocks of one result, computed a few at a time (for results larger than memory).
pub struct BlockStream {
    job: Job,
    next: usize,
    ready: std::collections::VecDeque<(Vec<Range<usize>>, NdData)>,
    batch: usize,
    pool: rayon::ThreadPool,
}

impl BlockStream {
    pub(crate) fn new(job: Job, cfg: &EvalConfig) -> Result<BlockStream> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(BlockStream {
            job,
            next: 0,
            ready: Default::default(),
            batch: cfg.threads.max(1),
            pool,
        })
    }

    /// Number of blocks in all.
    pub fn num_blocks(&self) -> usize {
        match &self.job {
            Job::Reduce(j) => j.num_blocks(),
            Job::Blocks(j) => j.num_blocks(),
        }
    }

    fn fill(&mut self) -> Result<()> {
        let total = self.num_blocks();
        let end = (self.next + self.batch).min(total);
        let range = self.next..end;
        self.next = end;
        let job = &self.job;
        let computed: Vec<Result<(Vec<Range<usize>>, NdData)>> = self.pool.install(|| match job {
            Job::Blocks(j) => range
                .into_par_iter()
                .map(|b| {
                    Ok((
                        region_ranges(&j.blocks.region(b)),
                        j.run_block(b)?.remove(0),
                    ))
                })
                .collect(),
            Job::Reduce(j) => range
                .map(|b| {
                    let st = j.run_block(b, &|_| true, true, &|| {})?;
                    Ok((
                        region_ranges(&j.blocks.region(b)),
                        j.finalize(b, &st)?.remove(0),
                    ))
                })
                .collect(),
        });
        for c in computed {
            self.ready.push_back(c?);
        }
        Ok(())
    }
}

impl Iterator for BlockStream {
    type Item = Result<(Vec<Range<usize>>, NdData)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty() && self.next < self.num_blocks() {
            if let Err(e) = self.fill() {
                self.next = self.num_blocks();
                return Some(Err(e));
            }
        }
        self.ready.pop_front().map(Ok)
    }
}
