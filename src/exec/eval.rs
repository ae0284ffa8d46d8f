//! Evaluating a region of a node: pull the regions of its inputs (see [`super::regions`]),
//! compute, and hand back an in-memory block. Reductions are not evaluated here: the executor
//! runs them as streaming passes (see [`super::run`]).

use super::fetch::PassChunks;
use super::kernels::{self, Operand, Shared};
use super::read::{read_region, ChunkLookup};
use super::regions::{broadcast_input_region, input_regions};
use crate::data::NdData;
use crate::error::{Error, Result};
use crate::graph::{NodeRef, Op};
use crate::select::{Dim, Region, SelItem};
use crate::source::ChunkSource;
use ndarray::{Axis, IxDyn};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Chunks of sources, keyed by (source key, see [`source_key`], chunk index).
pub(crate) type ChunkMap = HashMap<(usize, Vec<usize>), Arc<NdData>>;

/// The key chunks of a source are kept under: the address of the source itself, so that two
/// nodes reading one source share its chunks.
pub(crate) fn source_key(src: &Arc<dyn ChunkSource>) -> usize {
    Arc::as_ptr(src) as *const () as usize
}

/// What one task's evaluation shares: chunks fetched ahead (latency-bound sources), chunks
/// the whole pass keeps, and, when several uses read the same source, chunks kept for the
/// other uses.
#[derive(Default)]
pub(crate) struct TaskCtx {
    /// Chunks fetched before evaluation began (shared by the tasks of a batch).
    pub prefetched: Arc<ChunkMap>,
    /// Chunks kept for every task of the pass (see [`PassChunks`]).
    pub pass: Option<Arc<PassChunks>>,
    /// Chunks kept for reuse within the task, when enabled.
    pub keep: Option<Mutex<ChunkMap>>,
}

struct NodeLookup<'a> {
    ctx: &'a TaskCtx,
    key: usize,
}

impl NodeLookup<'_> {
    fn pass(&self) -> Option<&PassChunks> {
        self.ctx.pass.as_deref().filter(|p| p.holds(self.key))
    }
}

impl ChunkLookup for NodeLookup<'_> {
    fn get(&self, index: &[usize]) -> Option<Arc<NdData>> {
        let key = (self.key, index.to_vec());
        if let Some(c) = self.ctx.prefetched.get(&key) {
            return Some(c.clone());
        }
        if let Some(c) = self.pass().and_then(|p| p.get(self.key, index)) {
            return Some(c);
        }
        self.ctx
            .keep
            .as_ref()
            .and_then(|k| k.lock().ok().and_then(|m| m.get(&key).cloned()))
    }
    fn read(
        &self,
        index: &[usize],
        read: &mut dyn FnMut() -> Result<NdData>,
    ) -> Result<Arc<NdData>> {
        if let Some(p) = self.pass() {
            return p.get_or_read(self.key, index, read);
        }
        let c = Arc::new(read()?);
        if let Some(k) = &self.ctx.keep {
            if let Ok(mut m) = k.lock() {
                m.insert((self.key, index.to_vec()), c.clone());
            }
        }
        Ok(c)
    }
    fn keeps_chunks(&self) -> bool {
        self.ctx.keep.is_some() || self.pass().is_some()
    }
}

/// Computes `region` of `node`.
pub(crate) fn eval(node: &NodeRef, region: &[Dim], ctx: &TaskCtx) -> Result<NdData> {
    crate::graph::deep(|| {
        let shape: Vec<usize> = region.iter().map(|d| d.len()).collect();
        if shape.contains(&0) {
            return Ok(NdData::zeros(node.dtype, &shape));
        }
        let inputs = node.inputs();
        let regions = input_regions(node, region)?;
        let input = |i: usize| -> Result<NdData> {
            let (k, r) = &regions[i];
            eval(inputs[*k], r, ctx)
        };
        let out = match &node.op {
            Op::Source(src) => read_region(
                src.as_ref(),
                region,
                &NodeLookup {
                    ctx,
                    key: source_key(src),
                },
            )?,
            Op::Const(v) => v.clone(),
            Op::Select(_, sel) => reshape_selected(input(0)?, sel.items(), &shape)?,
            Op::Transpose(_, perm) => {
                crate::map_nd!(input(0)?, a: T => a.permuted_axes(IxDyn(perm)).as_standard_layout().into_owned())
            }
            Op::Broadcast(_) => {
                let x = input(0)?;
                crate::with_nd!(x, a: T => {
                    let b = a
                        .broadcast(IxDyn(&shape))
                        .ok_or_else(|| Error::Internal(format!("broadcast {:?} to {:?}", a.shape(), shape)))?
                        .to_owned();
                    T::wrap(b)
                })
            }
            Op::Cast(_) => kernels::cast(input(0)?, node.dtype),
            Op::Unary(op, _) => kernels::unary(*op, input(0)?)?,
            Op::Binary(op, a, b) => {
                let x = operand(a, region, ctx)?;
                if Arc::ptr_eq(a, b) {
                    kernels::binary(*op, x, None, &shape)?
                } else {
                    kernels::binary(*op, x, Some(operand(b, region, ctx)?), &shape)?
                }
            }
            Op::Where(c, a, b) => {
                let full = |n: &NodeRef| operand(n, region, ctx)?.into_full(&shape);
                kernels::select_where(&full(c)?, &full(a)?, &full(b)?)?
            }
            Op::Mosaic { axis, .. } => {
                let parts = (0..regions.len()).map(input).collect::<Result<Vec<_>>>()?;
                concat(parts, *axis)?
            }
            Op::Reduce(_) => {
                return Err(Error::Internal(
                    "a reduction reached the block evaluator".into(),
                ))
            }
        };
        if out.shape() != shape.as_slice() || out.dtype() != node.dtype {
            return Err(Error::Internal(format!(
                "{} gave {} {:?}, expected {} {:?}",
                node.label(),
                out.dtype(),
                out.shape(),
                node.dtype,
                shape
            )));
        }
        Ok(out)
    })
}

/// An operand of an elementwise node at `region`: a broadcast input is evaluated at its own
/// (smaller) region and handed over to be stretched by the kernel, never copied to the
/// region's size.
fn operand(node: &NodeRef, region: &[Dim], ctx: &TaskCtx) -> Result<Operand> {
    if let Op::Broadcast(input) = &node.op {
        let r = broadcast_input_region(&input.shape, &node.shape, region);
        if let Some(part) = shared_part(input, &r) {
            return Ok(Operand::Stretched(part));
        }
        return Ok(Operand::Stretched(Shared::new(eval(input, &r, ctx)?)));
    }
    Ok(Operand::Full(eval(node, region, ctx)?))
}

/// A box of a source held in memory (a stage result, an array in memory) when `node` is the
/// source itself or the source with new axes, and `region` takes a contiguous range along each
/// axis: shared with the task as it is, not copied.
fn shared_part(node: &NodeRef, region: &[Dim]) -> Option<Shared> {
    let mut n = node;
    let mut r: Vec<Dim> = region.to_vec();
    loop {
        match &n.op {
            Op::Source(src) => {
                let data = src
                    .shared_whole()
                    .filter(|d| d.shape() == n.shape.as_slice() && d.dtype() == node.dtype)?;
                let part = r
                    .iter()
                    .map(|d| match d {
                        Dim::Stride(s) if s.step == 1 || s.len <= 1 => Some((s.start, s.len)),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                let shape: Vec<usize> = region.iter().map(|d| d.len()).collect();
                return Shared::part_of(data, part, &shape);
            }
            // New axes and whole kept axes: the input's region is the kept axes' region.
            Op::Select(input, sel) => {
                let mut inner = Vec::with_capacity(input.shape.len());
                for (item, d) in sel.items().iter().zip(&r) {
                    match item {
                        SelItem::NewAxis => {}
                        SelItem::Keep(k) if k.is_full(input.shape[inner.len()]) => {
                            inner.push(d.clone())
                        }
                        _ => return None,
                    }
                }
                if sel.items().len() != r.len() || inner.len() != input.shape.len() {
                    return None;
                }
                r = inner;
                n = input;
            }
            _ => return None,
        }
    }
}

/// Drops indexed axes and inserts new ones.
fn reshape_selected(x: NdData, items: &[SelItem], shape: &[usize]) -> Result<NdData> {
    let mut unit_shape = Vec::with_capacity(shape.len());
    let mut k = 0;
    for item in items {
        match item {
            SelItem::Keep(_) => {
                unit_shape.push(shape[k]);
                k += 1;
            }
            SelItem::NewAxis => {
                unit_shape.push(1);
                k += 1;
            }
            SelItem::Index(_) => {}
        }
    }
    Ok(crate::map_nd!(x, a: T => {
        let a = a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(&unit_shape)).map_err(|e| Error::Internal(e.to_string()))?;
        if unit_shape == shape {
            a
        } else {
            a.broadcast(IxDyn(shape)).ok_or_else(|| Error::Internal("new axis repeat".into()))?.to_owned()
        }
    }))
}

/// Joins blocks along an axis.
pub(crate) fn concat(mut parts: Vec<NdData>, axis: usize) -> Result<NdData> {
    if parts.len() == 1 {
        return parts
            .pop()
            .ok_or_else(|| Error::Internal("concat of nothing".into()));
    }
    let first = parts
        .first()
        .ok_or_else(|| Error::Internal("concat of nothing".into()))?;
    Ok(crate::map_nd!(first, _a: T => {
        let views = parts.iter().map(|p| T::peek(p).map(|a| a.view())).collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::Internal("concat of mixed types".into()))?;
        ndarray::concatenate(Axis(axis), &views).map_err(|e| Error::Internal(e.to_string()))?
    }))
}

/// Every source read `region` of `node` makes: (source node, region of the source).
pub(crate) fn collect_reads(
    node: &NodeRef,
    region: &[Dim],
    out: &mut Vec<(NodeRef, Region)>,
) -> Result<()> {
    crate::graph::deep(|| {
        if region.iter().any(|d| d.is_empty()) {
            return Ok(());
        }
        if let Op::Source(_) = node.op {
            out.push((node.clone(), region.to_vec()));
            return Ok(());
        }
        let inputs = node.inputs();
        for (k, r) in input_regions(node, region)? {
            collect_reads(inputs[k], &r, out)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Array;
    use crate::source::MemorySource;
    use ndarray::ArrayD;

    /// A broadcast of an in-memory array (with a new leading axis, as `x - m` where `m` is a
    /// stage result), whole or a contiguous part of it, reaches the kernel as the source's own
    /// buffer, not a copy; a stepped part is read out as before. Values as ndarray's.
    #[test]
    fn broadcast_operands_share_an_in_memory_source() {
        let m = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64);
        let src = Arc::new(MemorySource::new(m.clone(), &[3, 4]).unwrap());
        let held = src.shared_whole().unwrap();
        let a = Array::<f64>::from_dyn(crate::graph::DynArray::from_source_arc(src)).unwrap();
        let b = a.insert_axis(0).unwrap().broadcast_to(&[5, 3, 4]).unwrap();
        let node = b.as_dyn().node().clone();
        let whole: Vec<Dim> = [5, 3, 4].iter().map(|&n| Dim::full(n)).collect();
        let Operand::Stretched(shared) = operand(&node, &whole, &TaskCtx::default()).unwrap()
        else {
            panic!("a broadcast is a stretched operand");
        };
        assert!(shared.holds(&held), "the operand is the source's buffer");
        assert_eq!(shared.to_full(&[5, 3, 4]), {
            let w = m.clone().insert_axis(Axis(0));
            NdData::F64(w.broadcast(IxDyn(&[5, 3, 4])).unwrap().to_owned())
        });
        let part = vec![
            Dim::full(5),
            Dim::Stride(crate::select::Stride::new(1, 1, 2)),
            Dim::full(4),
        ];
        let Operand::Stretched(shared) = operand(&node, &part, &TaskCtx::default()).unwrap() else {
            panic!("a broadcast is a stretched operand");
        };
        assert!(
            shared.holds(&held),
            "a part is a view of the source's buffer"
        );
        assert_eq!(shared.to_full(&[5, 2, 4]), {
            let w = m
                .slice(ndarray::s![1..3, ..])
                .insert_axis(Axis(0))
                .to_owned();
            NdData::F64(w.broadcast(IxDyn(&[5, 2, 4])).unwrap().to_owned())
        });
        let stepped = vec![
            Dim::full(5),
            Dim::Stride(crate::select::Stride::new(0, 2, 2)),
            Dim::full(4),
        ];
        let Operand::Stretched(shared) = operand(&node, &stepped, &TaskCtx::default()).unwrap()
        else {
            panic!("a broadcast is a stretched operand");
        };
        assert!(!shared.holds(&held), "a stepped selection is read out");
        assert_eq!(shared.to_full(&[5, 2, 4]), {
            let w = m
                .slice(ndarray::s![0..3;2, ..])
                .insert_axis(Axis(0))
                .to_owned();
            NdData::F64(w.broadcast(IxDyn(&[5, 2, 4])).unwrap().to_owned())
        });
    }
}
