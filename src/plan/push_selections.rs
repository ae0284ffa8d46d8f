//! Rule: push selections down to the sources.
//!
//! `Select` nodes move below elementwise ops, casts, broadcasts, transposes, mosaics (keeping
//! only the tiles touched) and reductions over other axes, fusing with the selections they
//! meet, so each source receives one composed selection and a plan shows what is read.

use crate::error::{Error, Result};
use crate::graph::{Node, NodeRef, Op, Reduction};
use crate::select::{Dim, SelItem, Selection, Stride};
use std::collections::HashMap;
use std::sync::Arc;

/// Rewrites a graph with every selection pushed as far down as it goes.
pub(super) fn push_selections(root: &NodeRef, memo: &mut HashMap<u64, NodeRef>) -> Result<NodeRef> {
    crate::graph::deep(|| {
        if let Some(done) = memo.get(&root.id) {
            return Ok(done.clone());
        }
        let out = match &root.op {
            Op::Select(input, sel) => push(sel, input, memo)?,
            Op::Source(_) | Op::Const(_) => root.clone(),
            _ => {
                let inputs: Vec<NodeRef> = root
                    .inputs()
                    .into_iter()
                    .map(|i| push_selections(i, memo))
                    .collect::<Result<_>>()?;
                if inputs.iter().zip(root.inputs()).all(|(a, b)| a.id == b.id) {
                    root.clone()
                } else {
                    root.with_inputs(inputs)?
                }
            }
        };
        memo.insert(root.id, out.clone());
        Ok(out)
    })
}

fn select(x: NodeRef, sel: Selection) -> NodeRef {
    if sel.is_identity(&x.shape) {
        return x;
    }
    let shape = sel.out_shape();
    let dtype = x.dtype;
    Node::new(Op::Select(x, sel), shape, dtype)
}

/// Splits a selection into its part without new axes and a selection that inserts them.
fn split_new_axes(sel: &Selection) -> (Selection, Option<Selection>) {
    if !sel.items().iter().any(|i| matches!(i, SelItem::NewAxis)) {
        return (sel.clone(), None);
    }
    let core: Vec<SelItem> = sel
        .items()
        .iter()
        .filter(|i| !matches!(i, SelItem::NewAxis))
        .cloned()
        .collect();
    let core = Selection::from_items(core);
    let core_shape = core.out_shape();
    let mut k = 0;
    let outer: Vec<SelItem> = sel
        .items()
        .iter()
        .filter(|i| !matches!(i, SelItem::Index(_)))
        .map(|i| match i {
            SelItem::NewAxis => SelItem::NewAxis,
            _ => {
                k += 1;
                SelItem::Keep(Dim::full(core_shape[k - 1]))
            }
        })
        .collect();
    (core, Some(Selection::from_items(outer)))
}

/// Pushes `sel` onto `x` (an unrewritten node).
fn push(sel: &Selection, x: &NodeRef, memo: &mut HashMap<u64, NodeRef>) -> Result<NodeRef> {
    let (core, new_axes) = split_new_axes(sel);
    let pushed = push_core(&core, x, memo)?;
    Ok(match new_axes {
        Some(outer) => select(pushed, outer),
        None => pushed,
    })
}

/// Pushes a selection without new axes.
fn push_core(sel: &Selection, x: &NodeRef, memo: &mut HashMap<u64, NodeRef>) -> Result<NodeRef> {
    crate::graph::deep(|| {
        if sel.is_identity(&x.shape) {
            return push_selections(x, memo);
        }
        let items = sel.items();
        match &x.op {
            Op::Select(inner, s0) => match s0.then(sel) {
                Some(fused) => push(&fused, inner, memo),
                None => Ok(select(push_selections(x, memo)?, sel.clone())),
            },
            Op::Cast(a) | Op::Unary(_, a) => {
                let a = push_core(sel, a, memo)?;
                rebuild(x, vec![a], sel)
            }
            Op::Binary(_, a, b) => {
                let (a, b) = (push_core(sel, a, memo)?, push_core(sel, b, memo)?);
                rebuild(x, vec![a, b], sel)
            }
            Op::Where(c, a, b) => {
                let (c, a, b) = (
                    push_core(sel, c, memo)?,
                    push_core(sel, a, memo)?,
                    push_core(sel, b, memo)?,
                );
                rebuild(x, vec![c, a, b], sel)
            }
            Op::Transpose(input, perm) => {
                let mut inv = vec![0; perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inv[p] = i;
                }
                let in_items: Vec<SelItem> =
                    (0..perm.len()).map(|j| items[inv[j]].clone()).collect();
                let kept_inputs: Vec<usize> = (0..perm.len())
                    .filter(|&j| matches!(in_items[j], SelItem::Keep(_)))
                    .collect();
                let new_perm: Vec<usize> = (0..perm.len())
                    .filter(|&i| matches!(items[i], SelItem::Keep(_)))
                    .map(|i| kept_inputs.iter().position(|&j| j == perm[i]).unwrap_or(0))
                    .collect();
                let inner = push_core(&Selection::from_items(in_items), input, memo)?;
                if new_perm.iter().enumerate().all(|(i, &p)| i == p) {
                    return Ok(inner);
                }
                let shape = sel.out_shape();
                Ok(Node::new(Op::Transpose(inner, new_perm), shape, x.dtype))
            }
            Op::Broadcast(input) => {
                let lead = x.shape.len() - input.shape.len();
                let mut in_items = Vec::with_capacity(input.shape.len());
                for (j, &n) in input.shape.iter().enumerate() {
                    let item = &items[lead + j];
                    let stretched = n == 1 && x.shape[lead + j] != 1;
                    in_items.push(match (stretched, item) {
                        (true, SelItem::Keep(_)) => {
                            SelItem::Keep(Dim::Stride(Stride::new(0, 1, 1)))
                        }
                        (true, SelItem::Index(_)) => SelItem::Index(0),
                        (_, other) => other.clone(),
                    });
                }
                let inner = push_core(&Selection::from_items(in_items), input, memo)?;
                let shape = sel.out_shape();
                if inner.shape == shape {
                    return Ok(inner);
                }
                Ok(Node::new(Op::Broadcast(inner), shape, x.dtype))
            }
            Op::Mosaic { tiles, axis, edges } => push_mosaic(sel, x, tiles, *axis, edges, memo),
            Op::Reduce(r) => push_reduce(sel, x, r, memo),
            Op::Source(_) | Op::Const(_) => Ok(select(x.clone(), sel.clone())),
        }
    })
}

/// The elementwise node `x` rebuilt on selected inputs.
fn rebuild(x: &NodeRef, inputs: Vec<NodeRef>, sel: &Selection) -> Result<NodeRef> {
    let node = x.with_inputs(inputs)?;
    let op = match Arc::try_unwrap(node) {
        Ok(n) => n.into_op(),
        Err(_) => return Err(Error::Internal("rebuild: node shared".into())),
    };
    Ok(Node::new(op, sel.out_shape(), x.dtype))
}

fn push_mosaic(
    sel: &Selection,
    x: &NodeRef,
    tiles: &[NodeRef],
    axis: usize,
    edges: &[usize],
    memo: &mut HashMap<u64, NodeRef>,
) -> Result<NodeRef> {
    let items = sel.items();
    let with_axis = |item: SelItem| -> Selection {
        let mut v = items.to_vec();
        v[axis] = item;
        Selection::from_items(v)
    };
    match &items[axis] {
        SelItem::Index(i) => {
            let t = edges.partition_point(|&e| e <= *i).saturating_sub(1);
            push_core(&with_axis(SelItem::Index(i - edges[t])), &tiles[t], memo)
        }
        SelItem::Keep(dim) => {
            let runs = dim.runs_by_bins(edges);
            let mut parts = Vec::with_capacity(runs.len());
            for (t, ks) in runs {
                let local = dim.sub(ks.start, ks.end).shifted(edges[t]);
                parts.push(push_core(
                    &with_axis(SelItem::Keep(local)),
                    &tiles[t],
                    memo,
                )?);
            }
            if parts.len() == 1 {
                return Ok(parts.remove(0));
            }
            let new_axis = items[..axis]
                .iter()
                .filter(|i| matches!(i, SelItem::Keep(_)))
                .count();
            let mut new_edges = vec![0];
            for p in &parts {
                new_edges.push(new_edges[new_edges.len() - 1] + p.shape[new_axis]);
            }
            if parts.is_empty() {
                return Ok(select(push_selections(x, memo)?, sel.clone()));
            }
            Ok(Node::new(
                Op::Mosaic {
                    tiles: parts,
                    axis: new_axis,
                    edges: new_edges,
                },
                sel.out_shape(),
                x.dtype,
            ))
        }
        SelItem::NewAxis => Ok(select(push_selections(x, memo)?, sel.clone())),
    }
}

fn push_reduce(
    sel: &Selection,
    x: &NodeRef,
    r: &Reduction,
    memo: &mut HashMap<u64, NodeRef>,
) -> Result<NodeRef> {
    let items = sel.items();
    let mut in_items = Vec::with_capacity(r.input.shape.len());
    let mut k = 0;
    for (d, &n) in r.input.shape.iter().enumerate() {
        if r.axes.contains(&d) {
            if r.keepdims {
                // Only a selection that keeps the length-1 axis whole can pass.
                if !matches!(&items[k], SelItem::Keep(dim) if dim.len() == 1) {
                    return Ok(select(push_selections(x, memo)?, sel.clone()));
                }
                k += 1;
            }
            in_items.push(SelItem::Keep(Dim::full(n)));
        } else {
            in_items.push(items[k].clone());
            k += 1;
        }
    }
    let new_axes: Vec<usize> = r
        .axes
        .iter()
        .map(|&d| {
            in_items[..d]
                .iter()
                .filter(|i| matches!(i, SelItem::Keep(_)))
                .count()
        })
        .collect();
    let input = push_core(&Selection::from_items(in_items), &r.input, memo)?;
    let red = Reduction {
        input,
        axes: new_axes,
        ..r.clone()
    };
    Ok(Node::new(Op::Reduce(red), sel.out_shape(), x.dtype))
}
