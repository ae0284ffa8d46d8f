//! Reductions inside a larger expression, computed first when the result is stored in pieces.
//!
//! A sink computes its target buffer by buffer; `a - mean(a)` evaluated per buffer would
//! compute `mean(a)` again for every buffer. Before storing, the reductions that feed the rest
//! of the expression are computed once (innermost first, each group in one shared pass) and
//! stand in the expression as in-memory arrays.

use super::ast::{Expr, ExprKind};
use super::builder::Builder;
use super::{funcs, ExprError};
use crate::exec::{Engine, Local};
use crate::{DynArray, EvalConfig, Plan};
use std::collections::HashSet;

/// The reduction calls below `root` (not `root` itself) that can be computed now: not computed
/// yet, with no reduction still to compute among their arguments. Walks the tree with explicit
/// stacks (a long chain of terms is a deep tree).
pub(super) fn ready_stages<'e>(root: &'e Expr, b: &Builder) -> Vec<&'e Expr> {
    let pending = pending_nodes(root, b);
    let mut out = Vec::new();
    let mut stack: Vec<&Expr> = root.children();
    stack.reverse();
    while let Some(e) = stack.pop() {
        if b.is_computed(e.id) {
            continue;
        }
        let children = e.children();
        let inner_pending = children.iter().any(|c| pending.contains(&c.id));
        if is_reduction_call(e) && !inner_pending {
            out.push(e);
            continue;
        }
        stack.extend(children.into_iter().rev());
    }
    out
}

fn is_reduction_call(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Call { func, .. } if funcs::is_reduction(func))
}

/// The ids of the nodes whose subtree holds a reduction call not computed yet (the node
/// included), children decided before parents.
fn pending_nodes(root: &Expr, b: &Builder) -> HashSet<usize> {
    let mut preorder = Vec::new();
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        preorder.push(e);
        if !b.is_computed(e.id) {
            stack.extend(e.children());
        }
    }
    let mut pending = HashSet::new();
    // Reversed preorder puts every node after all of its descendants.
    for e in preorder.into_iter().rev() {
        if b.is_computed(e.id) {
            continue;
        }
        if is_reduction_call(e) || e.children().iter().any(|c| pending.contains(&c.id)) {
            pending.insert(e.id);
        }
    }
    pending
}

/// Computes every reduction feeding `root`, stage by stage, into `b`. Returns how many were
/// computed. A stage result larger than a quarter of the budget is refused.
pub fn compute_stages(root: &Expr, b: &mut Builder, cfg: &EvalConfig) -> Result<usize, StageError> {
    compute_stages_on(root, b, cfg, &Local)
}

/// [`compute_stages`] across the ranks of `engine` (every rank calls it with the same
/// expression): each stage is computed once by all ranks together and every rank gets it.
pub fn compute_stages_on(
    root: &Expr,
    b: &mut Builder,
    cfg: &EvalConfig,
    engine: &dyn Engine,
) -> Result<usize, StageError> {
    let mut count = 0;
    loop {
        let ready = ready_stages(root, b);
        if ready.is_empty() {
            return Ok(count);
        }
        let arrays = ready
            .iter()
            .map(|e| b.build(e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StageError::Expr)?;
        for (e, a) in ready.iter().zip(&arrays) {
            if a.nbytes() > cfg.budget / 4 {
                return Err(StageError::Run(crate::Error::Budget(format!(
                    "the reduction at bytes {}..{} gives {} bytes, which must be held in memory while the rest is stored: more than a quarter of the budget of {} bytes",
                    e.span.start,
                    e.span.end,
                    a.nbytes(),
                    cfg.budget
                ))));
            }
        }
        let refs: Vec<&DynArray> = arrays.iter().collect();
        let results = Plan::new(&refs, cfg)
            .and_then(|p| p.run_everywhere(engine))
            .map_err(StageError::Run)?;
        for (e, data) in ready.iter().zip(results) {
            let chunks: Vec<usize> = data.shape().iter().map(|&n| n.max(1)).collect();
            let arr = DynArray::from_data(data, &chunks).map_err(StageError::Run)?;
            b.set_computed(e.id, arr);
            count += 1;
        }
    }
}

/// Why computing stages failed.
#[derive(Debug)]
pub enum StageError {
    /// The expression is wrong.
    Expr(ExprError),
    /// Running failed.
    Run(crate::Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse_expression;
    use crate::io::npy::{store_npy, NpyStoreOptions};
    use crate::sink::RegionCompute;
    use crate::{CountingSource, GeneratedSource};
    use std::collections::BTreeMap;

    /// A lazy array whose boxes are computed with a given configuration (as the command's sinks
    /// compute them).
    struct Evaluated(DynArray, EvalConfig);

    impl RegionCompute for Evaluated {
        fn region_shape(&self) -> Vec<usize> {
            self.0.shape().to_vec()
        }
        fn region_dtype(&self) -> crate::DType {
            self.0.dtype()
        }
        fn compute_region(
            &self,
            region: &[std::ops::Range<usize>],
        ) -> crate::Result<crate::NdData> {
            let sel: Vec<crate::SliceArg> = region
                .iter()
                .map(|r| crate::SliceArg::range(r.start as isize, r.end as isize))
                .collect();
            self.0.select(&sel)?.ndarray_with(&self.1)
        }
    }

    #[test]
    fn a_stored_expression_reads_each_chunk_twice_not_once_per_buffer() {
        let src = GeneratedSource::from_index_fn(&[400, 100], &[20, 100], |ix| {
            (ix[0] * 100 + ix[1]) as f64
        })
        .unwrap();
        let counted = CountingSource::new(src).chunks_only();
        let mut inputs = BTreeMap::new();
        inputs.insert("a".to_string(), DynArray::from_source(counted.clone()));
        let expr = parse_expression("(a - mean(a, axis=0)) / std(a, axis=0)").unwrap();
        let mut b = Builder::new(&inputs);
        let cfg = EvalConfig::with_budget(1 << 20);
        assert_eq!(ready_stages(&expr, &b).len(), 2);
        assert_eq!(compute_stages(&expr, &mut b, &cfg).unwrap(), 2);
        let after_stages = counted.chunks_touched();
        assert_eq!(after_stages.len(), 20);
        assert!(after_stages.values().all(|&n| n == 1), "{after_stages:?}");
        let array = b.build(&expr).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let opts = NpyStoreOptions {
            buffer_bytes: 8 * 100 * 40,
            ..Default::default()
        };
        let rep = store_npy(&Evaluated(array, cfg), dir.path().join("z.npy"), &opts).unwrap();
        assert_eq!(rep.buffers.len(), 10);
        let touched = counted.chunks_touched();
        assert!(touched.values().all(|&n| n == 2), "{touched:?}");
    }
}
