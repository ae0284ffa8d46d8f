//! Planning: from the arrays asked for to the passes that compute them.
//!
//! One file per optimisation rule (private modules, applied by [`Plan::new`]):
//! - `push_selections.rs`: selections move down to the sources (fusing on the way), so each
//!   source receives one composed selection;
//! - `stage_reductions.rs`: reductions that feed other nodes run first, as stages
//!   ([`find_stages`]);
//! - `share_reductions.rs`: reductions of one input over the same axes share one pass
//!   ([`group_roots`]).
//!
//! A [`Plan`] is data: the optimised roots and the stages that must run before them. The
//! executor runs it (`Plan::run`, `Plan::stream`, `Plan::run_partition`, `Plan::finish` and
//! `Plan::explain` are defined in [`crate::exec`]: `exec/driver.rs`, `exec/explain.rs`); this
//! module only draws its graph ([`Plan::to_dot`]). Nothing here imports the executor.
//!
//! ```
//! use vastarray::{DynArray, EvalConfig, Plan};
//! let a = DynArray::from_ndarray(ndarray::Array2::<f64>::ones((100, 10)).into_dyn(), &[10, 10]).unwrap();
//! // Centring: the mean is a stage, computed first; the slice reaches the source.
//! let c = a.sub(&a.mean(0).unwrap()).unwrap().select_str("::10").unwrap();
//! let plan = Plan::new(&[&c], &EvalConfig::default()).unwrap();
//! assert_eq!(plan.stages().len(), 1);
//! assert!(plan.explain().unwrap().contains("stage"));
//! ```

mod dot;
mod push_selections;
mod share_reductions;
mod stage_reductions;
pub(crate) mod substitute;

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
