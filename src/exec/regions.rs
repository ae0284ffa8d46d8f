//! Region mapping: which region of each input a node needs to compute a region of its output.
//! This is where selections are pushed down at run time: a region of a result becomes one
//! composed selection per source read, whatever chain of nodes lies between.

use crate::error::{Error, Result};
use crate::graph::{Node, Op};
use crate::select::{Dim, Region, Stride};

/// The regions of inputs a node reads to compute `region` of its output: pairs of (input
/// number in [`Node::inputs`] order, region of that input). A mosaic gives one pair per tile
/// touched, in output order. Reductions are handled by the executor, not here.
pub(crate) fn input_regions(node: &Node, region: &[Dim]) -> Result<Vec<(usize, Region)>> {
    if region.len() != node.shape.len() {
        return Err(Error::Internal(format!(
            "{}: region of {} axes for {} dims",
            node.label(),
            region.len(),
            node.shape.len()
        )));
    }
    Ok(match &node.op {
        Op::Source(_) | Op::Const(_) => vec![],
        Op::Select(_, sel) => vec![(0, sel.input_region(region))],
        Op::Transpose(_, perm) => {
            let mut r = vec![Dim::full(0); perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                r[p] = region[i].clone();
            }
            vec![(0, r)]
        }
        Op::Broadcast(input) => {
            vec![(0, broadcast_input_region(&input.shape, &node.shape, region))]
        }
        Op::Cast(_) | Op::Unary(..) => vec![(0, region.to_vec())],
        Op::Binary(..) => vec![(0, region.to_vec()), (1, region.to_vec())],
        Op::Where(..) => vec![
            (0, region.to_vec()),
            (1, region.to_vec()),
            (2, region.to_vec()),
        ],
        Op::Mosaic { axis, edges, .. } => region[*axis]
            .runs_by_bins(edges)
            .into_iter()
            .map(|(tile, ks)| {
                let mut r = region.to_vec();
                r[*axis] = region[*axis].sub(ks.start, ks.end).shifted(edges[tile]);
                (tile, r)
            })
            .collect(),
        Op::Reduce(r) => {
            let mut out_axis = 0;
            let mut inp = Vec::with_capacity(r.input.shape.len());
            for (d, &n) in r.input.shape.iter().enumerate() {
                if r.axes.contains(&d) {
                    inp.push(Dim::full(n));
                    if r.keepdims {
                        out_axis += 1;
                    }
                } else {
                    inp.push(region[out_axis].clone());
                    out_axis += 1;
                }
            }
            vec![(0, inp)]
        }
    })
}

/// The input region of a broadcast: stretched axes read position 0, new leading axes vanish.
pub(crate) fn broadcast_input_region(
    in_shape: &[usize],
    out_shape: &[usize],
    region: &[Dim],
) -> Region {
    let lead = out_shape.len() - in_shape.len();
    in_shape
        .iter()
        .enumerate()
        .map(|(j, &n)| {
            if n == 1 && out_shape[lead + j] != 1 {
                Dim::Stride(Stride::new(0, 1, 1))
            } else {
                region[lead + j].clone()
            }
        })
        .collect()
}
