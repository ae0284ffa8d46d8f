//! Rule: reductions of the same input over the same axes share one pass.
//!
//! `mean(a)` and `std(a)` evaluated together read every chunk of `a` once: their states are
//! kept side by side and fed from the same blocks (biggus's `ndarrays([mean, std])`).

use crate::graph::{NodeRef, Op};

/// A set of roots computed in one pass.
#[derive(Clone)]
pub enum Group {
    /// Reductions of one input over the same axes (indices into the roots).
    Reduce(Vec<usize>),
    /// Non-reduction roots of one shape, evaluated block by block together.
    Blocks(Vec<usize>),
}

/// What reductions must share to share a pass: input node, axes, keepdims.
type PassKey = Option<(u64, Vec<usize>, bool)>;

/// Groups roots into passes.
pub fn group_roots(roots: &[NodeRef]) -> Vec<Group> {
    let mut groups: Vec<(PassKey, Vec<usize>, Vec<usize>)> = Vec::new();
    for (i, r) in roots.iter().enumerate() {
        let key = match &r.op {
            Op::Reduce(red) => Some((red.input.id, red.axes.clone(), red.keepdims)),
            _ => None,
        };
        match groups
            .iter_mut()
            .find(|(k, _, shape)| *k == key && (key.is_some() || *shape == r.shape))
        {
            Some(g) => g.1.push(i),
            None => groups.push((key, vec![i], r.shape.clone())),
        }
    }
    groups
        .into_iter()
        .map(|(k, idx, _)| {
            if k.is_some() {
                Group::Reduce(idx)
            } else {
                Group::Blocks(idx)
            }
        })
        .collect()
}
