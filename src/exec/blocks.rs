//! Block planning: the natural read granularity of every node, the projected peak memory of
//! evaluating a block, and the choice of block shapes that fit the memory budget.

use super::fetch::PassChunks;
use super::reduce_state::Needs;
use super::regions::input_regions;
use crate::config::human_bytes;
use crate::error::{Error, Result};
use crate::graph::{NodeRef, Op, Reduction};
use crate::select::{full_region, Dim};
use std::sync::Arc;

pub(crate) mod block_list;
pub(crate) mod grid;

pub(crate) use block_list::{checked_edges, BlockList};
pub(crate) use grid::AxisGrid;
use grid::Grids;

/// The block shape a node is cheapest to compute in: its sources' largest chunk extents,
/// carried through selections, transposes and broadcasts.
pub(crate) fn preferred_chunks(node: &NodeRef) -> Vec<usize> {
    preferred_grid(node).iter().map(|g| g.unit()).collect()
}

/// Per axis, where the chunks of the sources below `node` begin ([`AxisGrid`]): a slice
/// starting inside a chunk or stepping across chunks, a list, or a mosaic of unequal tiles
/// moves the chunk boundaries of the result, and blocks that follow them never split a chunk
/// between two tasks.
pub(crate) fn preferred_grid(node: &NodeRef) -> Vec<AxisGrid> {
    Grids::default().of(node)
}

/// Projected peak bytes of evaluating `region` of `node` (reduction-free graphs): its output,
/// its inputs' peaks, and the chunks sources hold while they are copied.
pub(crate) fn estimate(node: &NodeRef, region: &[Dim]) -> Result<usize> {
    crate::graph::deep(|| {
        let out = region.iter().map(|d| d.len()).product::<usize>() * node.dtype.size();
        Ok(match &node.op {
            Op::Source(s) => {
                let chunk = s.chunk_shape().iter().product::<usize>() * s.dtype().size();
                if s.latency_bound() {
                    // Prefetched chunks are all held at once.
                    let n: usize = region
                        .iter()
                        .zip(s.chunk_shape())
                        .map(|(d, &c)| super::read::axis_pieces(d, c).len())
                        .product();
                    out + n * chunk
                } else if s.prefers_region_reads() {
                    out * 2
                } else {
                    out + chunk
                }
            }
            Op::Const(_) => out,
            Op::Reduce(_) => return Err(Error::Internal("estimate of a nested reduction".into())),
            _ => {
                let inputs = node.inputs();
                let mut sum = out;
                for (k, r) in input_regions(node, region)? {
                    sum += estimate(inputs[k], &r)?;
                }
                sum
            }
        })
    })
}

/// How a reduction root is run: output blocks, and pieces of the reduced axes.
#[derive(Clone, Debug)]
pub(crate) struct ReducePlan {
    /// Output block shape (over the output axes of the reduction): the most a block spans.
    pub block: Vec<usize>,
    /// Extent of one piece along each reduced axis (in the order of `Reduction::axes`).
    pub piece: Vec<usize>,
    /// Output block edges per output axis (see [`AxisGrid::edges`]).
    pub edges: Vec<Vec<usize>>,
    /// Piece edges per reduced axis.
    pub piece_edges: Vec<Vec<usize>>,
    /// Chunks the tasks of the pass share (counted in `peak`).
    pub shared: Arc<PassChunks>,
    /// Workers that run at once.
    pub workers: usize,
    /// True when blocks run in parallel (each streaming its pieces); false when pieces of one
    /// block run in parallel.
    pub parallel_blocks: bool,
    /// Projected peak bytes.
    pub peak: usize,
}

/// How a group of elementwise roots is run.
#[derive(Clone, Debug)]
pub(crate) struct BlockPlan {
    /// Output block shape: the most a block spans.
    pub block: Vec<usize>,
    /// Block edges per axis (see [`AxisGrid::edges`]).
    pub edges: Vec<Vec<usize>>,
    /// Chunks the tasks of the pass share (counted in `peak`).
    pub shared: Arc<PassChunks>,
    /// Workers that run at once.
    pub workers: usize,
    /// Projected peak bytes.
    pub peak: usize,
}

/// Number of blocks of about `block` (per axis) over `grids`, counted no further than `cap`.
pub(crate) fn count_blocks(grids: &[AxisGrid], block: &[usize], cap: usize) -> usize {
    let mut n = 1usize;
    for (g, &b) in grids.iter().zip(block) {
        n = n.saturating_mul(g.count(b, cap));
        if n == 0 {
            return 0;
        }
    }
    n.min(cap)
}

/// The region of a block of `block` shape at the origin of an array of `shape` (clipped).
fn box_of(block: &[usize], shape: &[usize]) -> Vec<Dim> {
    let clipped: Vec<usize> = block.iter().zip(shape).map(|(b, n)| (*b).min(*n)).collect();
    full_region(&clipped)
}

/// Grows `block` (multiples of `unit`, capped by `shape`) from the last axis backwards while
/// `fits(block)` holds.
fn grow(
    shape: &[usize],
    unit: &[usize],
    fits: &dyn Fn(&[usize]) -> Result<bool>,
) -> Result<Vec<usize>> {
    let mut block: Vec<usize> = unit
        .iter()
        .zip(shape)
        .map(|(u, n)| (*u).clamp(1, (*n).max(1)))
        .collect();
    for d in (0..shape.len()).rev() {
        loop {
            if block[d] >= shape[d] {
                break;
            }
            let mut next = block.clone();
            next[d] = (block[d] * 2).min(shape[d]);
            if fits(&next)? {
                block = next;
            } else {
                return Ok(block);
            }
        }
    }
    Ok(block)
}

/// Shrinks `block` (halving the largest axis) until `fits(block)` or a single element.
fn shrink(
    mut block: Vec<usize>,
    fits: &dyn Fn(&[usize]) -> Result<bool>,
) -> Result<Option<Vec<usize>>> {
    loop {
        if fits(&block)? {
            return Ok(Some(block));
        }
        match block
            .iter()
            .enumerate()
            .filter(|(_, &b)| b > 1)
            .max_by_key(|(_, &b)| b)
        {
            Some((d, _)) => block[d] = block[d].div_ceil(2),
            None => return Ok(None),
        }
    }
}

/// The largest block a single task should compute (bytes of output), whatever the budget.
const MAX_TASK_BYTES: usize = 64 << 20;

/// The largest piece of input a reduction folds at once: small enough to stay in cache
/// between being read and being summarized.
const MAX_PIECE_BYTES: usize = 4 << 20;

/// The most reduction state a task keeps when boxes of its input are cheap to read: about
/// what stays in a core's L2 cache next to the piece being folded.
const STATE_CACHE_BYTES: usize = 1 << 20;

/// True when every source below `node` reads any box as cheaply as its chunks (in memory,
/// unfiltered files): blocks may then cut chunks without reading anything twice.
fn cheap_boxes(node: &NodeRef) -> bool {
    let mut stack = vec![node.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        if let Op::Source(s) = &n.op {
            if !s.cheap_region_reads() {
                return false;
            }
        }
        stack.extend(n.inputs().into_iter().cloned());
    }
    true
}

/// The share of the budget that chunks every task of a pass needs (a broadcast operand) may
/// take, held for the whole pass.
const SHARED_DIVISOR: usize = 8;

/// Plans the blocks of a group of elementwise roots of equal shape.
pub(crate) fn plan_blocks(roots: &[NodeRef], budget: usize, threads: usize) -> Result<BlockPlan> {
    let shape = roots[0].shape.clone();
    let shared = PassChunks::plan(roots, budget / SHARED_DIVISOR);
    let budget = budget - shared.bytes();
    let mut grids = Grids::default();
    let grid = grid::widest(
        &roots.iter().map(|r| grids.of(r)).collect::<Vec<_>>(),
        &shape,
    );
    let unit: Vec<usize> = grid.iter().map(|g| g.unit()).collect();
    let peak_of = |block: &[usize]| -> Result<usize> {
        let r = box_of(block, &shape);
        let mut s = 0;
        for root in roots {
            s += estimate(root, &r)?;
        }
        Ok(s)
    };
    let out_bytes: usize = roots.iter().map(|r| r.dtype.size()).sum();
    let workers = threads.max(1);
    let min_tasks = count_blocks(&grid, &unit, workers * 2);
    let fits = |block: &[usize]| -> Result<bool> {
        Ok(peak_of(block)? * workers <= budget
            && block.iter().product::<usize>() * out_bytes <= MAX_TASK_BYTES
            && count_blocks(&grid, block, min_tasks) >= min_tasks)
    };
    let start = shrink(unit.clone(), &|b| Ok(peak_of(b)? * workers <= budget))?;
    let start = match start {
        Some(s) => s,
        None => return Err(too_big(roots, budget, workers, &unit, peak_of(&unit)?)),
    };
    let block = if start == unit {
        grow(&shape, &start, &fits)?
    } else {
        start
    };
    let peak = peak_of(&block)? * workers + shared.bytes();
    Ok(BlockPlan {
        edges: checked_edges(&grid, &block, budget, "the result")?,
        block,
        shared: Arc::new(shared),
        workers,
        peak,
    })
}

fn too_big(roots: &[NodeRef], budget: usize, workers: usize, unit: &[usize], need: usize) -> Error {
    Error::Budget(format!(
        "the plan for {} cannot fit in {}: even a block of {:?} needs {} per task on {workers} workers",
        roots.iter().map(|r| r.label()).collect::<Vec<_>>().join(", "),
        human_bytes(budget),
        unit,
        human_bytes(need)
    ))
}

/// Plans a reduction root (and the roots sharing its pass).
pub(crate) fn plan_reduce(
    r: &Reduction,
    out_shape: &[usize],
    needs: Needs,
    budget: usize,
    threads: usize,
) -> Result<ReducePlan> {
    let shared = PassChunks::plan(std::slice::from_ref(&r.input), budget / SHARED_DIVISOR);
    let budget = budget - shared.bytes();
    let in_grid = preferred_grid(&r.input);
    let kept: Vec<usize> = (0..r.input.shape.len())
        .filter(|d| !r.axes.contains(d))
        .collect();
    // Output grid: the input's on kept axes, nothing to respect on kept reduced axes.
    let mut out_grid = Vec::with_capacity(out_shape.len());
    for (d, g) in in_grid.iter().enumerate() {
        if !r.axes.contains(&d) {
            out_grid.push(g.clone());
        } else if r.keepdims {
            out_grid.push(AxisGrid::free(1));
        }
    }
    let piece_grid: Vec<AxisGrid> = r.axes.iter().map(|&d| in_grid[d].clone()).collect();
    let unit_out: Vec<usize> = out_grid.iter().map(|g| g.unit()).collect();
    let piece_unit: Vec<usize> = piece_grid.iter().map(|g| g.unit()).collect();
    let reduced_shape: Vec<usize> = r.axes.iter().map(|&d| r.input.shape[d]).collect();
    let kept_of = |block: &[usize]| -> Vec<usize> {
        // Block extents on the kept input axes.
        let mut out = Vec::with_capacity(kept.len());
        let mut k = 0;
        for d in 0..r.input.shape.len() {
            if r.axes.contains(&d) {
                if r.keepdims {
                    k += 1;
                }
            } else {
                out.push(block[k]);
                k += 1;
            }
        }
        out
    };
    let input_region = |block: &[usize], piece: &[usize]| -> Vec<Dim> {
        let ke = kept_of(block);
        let (mut ki, mut ri) = (0, 0);
        (0..r.input.shape.len())
            .map(|d| {
                if r.axes.contains(&d) {
                    ri += 1;
                    Dim::full(piece[ri - 1].min(r.input.shape[d]))
                } else {
                    ki += 1;
                    Dim::full(ke[ki - 1].min(r.input.shape[d]))
                }
            })
            .collect()
    };
    let state_bytes =
        |block: &[usize]| -> usize { block.iter().product::<usize>() * needs.bytes_per_element() };
    let peak = |block: &[usize], piece: &[usize], par_blocks: bool| -> Result<usize> {
        let piece_peak = estimate(&r.input, &input_region(block, piece))?;
        let w = threads.max(1);
        Ok(if par_blocks {
            w * (state_bytes(block) * 2 + piece_peak)
        } else {
            state_bytes(block) * (w + 1) + w * piece_peak
        })
    };
    // 1. The output block: start at the unit, shrink to fit with unit pieces.
    let min_piece: Vec<usize> = piece_unit.iter().map(|_| 1).collect();
    let block = shrink(unit_out.clone(), &|b| {
        Ok(peak(b, &min_piece, false)? <= budget)
    })?
    .ok_or_else(|| {
        Error::Budget(format!(
            "{} cannot fit in {}",
            r.input.label(),
            human_bytes(budget)
        ))
    })?;
    let piece_start = shrink(piece_unit.clone(), &|p| {
        Ok(peak(&block, p, false)? <= budget)
    })?
    .unwrap_or(min_piece);
    let input_bytes = |block: &[usize], piece: &[usize]| -> usize {
        kept_of(block).iter().product::<usize>()
            * piece.iter().product::<usize>()
            * r.input.dtype.size()
    };
    // A large state (a reduction over outer axes) is cut into blocks whose state stays in
    // cache, when any box of the input is as cheap to read as its chunks: then a task folds
    // many rows of a small state instead of a few rows of a large one.
    let block = if block == unit_out && cheap_boxes(&r.input) {
        let target = STATE_CACHE_BYTES.max(needs.bytes_per_element());
        let mut b = block;
        while state_bytes(&b) > target {
            match b.iter().position(|&x| x > 1) {
                Some(d) => b[d] = b[d].div_ceil(2),
                None => break,
            }
        }
        b
    } else {
        block
    };
    // 2. Grow output blocks while tasks stay plentiful, then pieces.
    let want = threads.max(1) * 2;
    let enough_blocks = |b: &[usize]| count_blocks(&out_grid, b, want) >= want;
    let block = if block == unit_out {
        // A task's input stays about a piece (or the unit's, if larger).
        let input_cap = MAX_PIECE_BYTES.max(input_bytes(&unit_out, &piece_start));
        grow(out_shape, &block, &|b| {
            Ok(peak(b, &piece_start, enough_blocks(b))? <= budget
                && state_bytes(b) <= MAX_TASK_BYTES
                && input_bytes(b, &piece_start) <= input_cap
                && (enough_blocks(b) || !enough_blocks(&unit_out)))
        })?
    } else {
        block
    };
    let par_blocks = enough_blocks(&block);
    // Pieces stay small enough to be cached between read and summary, unless the state is
    // large (a reduction over outer axes: every piece updates the whole state, so a piece of a
    // few times the state's size keeps the state's traffic below the data's).
    let piece_cap = MAX_PIECE_BYTES.max(4 * state_bytes(&block));
    let piece = grow(&reduced_shape, &piece_start, &|p| {
        let elems: usize = kept_of(&block).iter().product::<usize>() * p.iter().product::<usize>();
        Ok(peak(&block, p, par_blocks)? <= budget && elems * r.input.dtype.size() <= piece_cap)
    })?;
    let peak = peak(&block, &piece, par_blocks)? + shared.bytes();
    Ok(ReducePlan {
        edges: checked_edges(&out_grid, &block, budget, "the reduction's result")?,
        piece_edges: checked_edges(&piece_grid, &piece, budget, "the reduced axes")?,
        block,
        piece,
        shared: Arc::new(shared),
        workers: threads.max(1),
        parallel_blocks: par_blocks,
        peak,
    })
}
