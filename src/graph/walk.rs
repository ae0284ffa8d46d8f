//! Walks over a graph: every node once, and how many users each node has.

use super::NodeRef;
use std::collections::{HashMap, HashSet};

/// Every node reachable from `roots`, each once, parents before children.
pub fn all_nodes(roots: &[NodeRef]) -> Vec<NodeRef> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut stack: Vec<NodeRef> = roots.iter().rev().cloned().collect();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        stack.extend(n.inputs().into_iter().rev().cloned());
        out.push(n);
    }
    out
}

/// How many nodes use each node (to know when a source is read by several uses).
pub fn use_counts(roots: &[NodeRef]) -> HashMap<u64, usize> {
    let mut counts = HashMap::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<NodeRef> = roots.to_vec();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.id) {
            continue;
        }
        for i in n.inputs() {
            *counts.entry(i.id).or_insert(0) += 1;
            stack.push(i.clone());
        }
    }
    counts
}
