//! A Graphviz picture of a plan's expression graph (petgraph's `Dot`).

use super::Plan;
use petgraph::dot::{Config, Dot};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

impl Plan {
    /// The optimised expression graph in Graphviz's dot language: one box per node (what it
    /// computes, its shape and type), edges from inputs to their users.
    pub fn to_dot(&self) -> String {
        let mut g: DiGraph<String, ()> = DiGraph::new();
        let mut index: HashMap<u64, NodeIndex> = HashMap::new();
        let nodes = self.all_nodes();
        for n in &nodes {
            let label = format!("{}\n{:?} {}", n.label(), n.shape, n.dtype);
            index.insert(n.id, g.add_node(label));
        }
        for n in &nodes {
            for i in n.inputs() {
                if let (Some(&a), Some(&b)) = (index.get(&i.id), index.get(&n.id)) {
                    g.add_edge(a, b, ());
                }
            }
        }
        format!("{:?}", Dot::with_config(&g, &[Config::EdgeNoLabel]))
    }
}
