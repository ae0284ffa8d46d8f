//! Replacing nodes of a graph by others (used to put computed stages in place of the
//! reductions they computed).

use crate::error::Result;
use crate::graph::NodeRef;
use std::collections::HashMap;

/// `root` with every node whose id is a key of `map` replaced by its value.
pub(crate) fn substitute(
    root: &NodeRef,
    map: &HashMap<u64, NodeRef>,
    memo: &mut HashMap<u64, NodeRef>,
) -> Result<NodeRef> {
    crate::graph::deep(|| {
        if let Some(n) = map.get(&root.id) {
            return Ok(n.clone());
        }
        if let Some(n) = memo.get(&root.id) {
            return Ok(n.clone());
        }
        let inputs = root.inputs();
        let new: Vec<NodeRef> = inputs
            .iter()
            .map(|i| substitute(i, map, memo))
            .collect::<Result<_>>()?;
        let out = if new.iter().zip(&inputs).all(|(a, b)| a.id == b.id) {
            root.clone()
        } else {
            root.with_inputs(new)?
        };
        memo.insert(root.id, out.clone());
        Ok(out)
    })
}
