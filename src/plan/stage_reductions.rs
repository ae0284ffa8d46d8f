//! Rule: run dependent reductions first, as stages.
//!
//! A reduction that feeds another node (`a - mean(a, 0)`, `(a - m) / s`) would otherwise be
//! recomputed for every block of its consumer. It becomes a stage: evaluated on its own,
//! streaming, in bounded memory; its (small) result then stands in the graph as an in-memory
//! source, and the consumer streams over the array once more. Two passes, bounded memory.

use crate::graph::{NodeRef, Op};
use std::collections::HashSet;

/// The reductions below `roots` that are not roots themselves, innermost first (a stage's
/// own inputs are computed before it).
pub fn find_stages(roots: &[NodeRef]) -> Vec<NodeRef> {
    let root_ids: HashSet<u64> = roots.iter().map(|r| r.id).collect();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    for r in roots {
        visit(r, &root_ids, &mut seen, &mut order);
    }
    order
}

fn visit(n: &NodeRef, roots: &HashSet<u64>, seen: &mut HashSet<u64>, order: &mut Vec<NodeRef>) {
    crate::graph::deep(|| {
        if !seen.insert(n.id) {
            return;
        }
        for i in n.inputs() {
            visit(i, roots, seen, order);
        }
        if matches!(n.op, Op::Reduce(_)) && !roots.contains(&n.id) {
            order.push(n.clone());
        }
    })
}
