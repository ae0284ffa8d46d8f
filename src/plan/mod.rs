//! Planning: from the arrays asked for to the passes that compute them.
//!
//! One file per optimisation rule:
//! - [`push_selections`]: selections move down to the sources (fusing on the way), so each
//!   source receives one composed selection;
//! - [`stage_reductions`]: reductions that feed other nodes run first, as stages;
//! - [`share_reductions`]: reductions of one input over the same axes share one pass.
//!
//! A [`Plan`] is data: the optimised roots and the stages that must run before them. The
//! executor runs it (`Plan::run`, `Plan::stream`, `Plan::run_partition`, `Plan::finish` and
//! `Plan::explain` are defined in [`crate::exec`]: `exec/driver.rs`, `exec/explain.rs`); this
//! module only draws its graph ([`Plan::to_dot`]). Nothing here imports the executor.

mod dot;
pub mod push_selections;
pub mod share_reductions;
pub mod stage_reductions;
pub mod substitute;

pub use share_reductions::{group_roots, Group};
pub use stage_reductions::find_stages;

use crate::config::{human_bytes, EvalConfig};
use crate::error::{Error, Result};
use crate::graph::{DynArray, NodeRef, Op};
use std::collections::HashMap;

/// What to compute and how: optimised roots and the stages that must run before them.
pub struct Plan {
    roots: Vec<NodeRef>,
    stages: Vec<NodeRef>,
    cfg: EvalConfig,
}

impl Plan {
    /// Plans the evaluation of `arrays` together (shared passes where possible).
    pub fn new(arrays: &[&DynArray], cfg: &EvalConfig) -> Result<Plan> {
        if arrays.is_empty() {
            return Err(Error::Invalid("nothing to evaluate".into()));
        }
        let mut memo = HashMap::new();
        let roots = arrays
            .iter()
            .map(|a| push_selections::push_selections(a.node(), &mut memo))
            .collect::<Result<Vec<_>>>()?;
        let stages = find_stages(&roots);
        for s in &stages {
            let bytes = s.size() * s.dtype.size();
            if bytes > cfg.budget / 4 {
                return Err(Error::Budget(format!(
                    "the intermediate result {} of shape {:?} ({}) must be held in memory while the rest streams, but it is more than a quarter of the budget of {}",
                    s.label(),
                    s.shape,
                    human_bytes(bytes),
                    human_bytes(cfg.budget)
                )));
            }
        }
        Ok(Plan {
            roots,
            stages,
            cfg: cfg.clone(),
        })
    }

    /// The optimised roots.
    pub fn roots(&self) -> &[NodeRef] {
        &self.roots
    }

    /// The reductions that run first, innermost first.
    pub fn stages(&self) -> &[NodeRef] {
        &self.stages
    }

    /// The configuration it was planned for.
    pub fn config(&self) -> &EvalConfig {
        &self.cfg
    }

    /// Every node reachable from the roots, each once, parents before children.
    pub(crate) fn all_nodes(&self) -> Vec<NodeRef> {
        crate::graph::all_nodes(&self.roots)
    }
}

/// True for source nodes.
pub(crate) fn is_source(n: &NodeRef) -> bool {
    matches!(n.op, Op::Source(_))
}
