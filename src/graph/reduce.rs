//! Building reduction nodes.

use super::array::DynArray;
use super::axes::{Axes, Over};
use super::node::{Node, Op, Reduction};
use super::ops::ReduceOp;
use crate::error::{Error, Result};

/// Options of a reduction beyond its axes (the plain calls take them through [`Over`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReduceOptions {
    /// Keep reduced axes as axes of length 1.
    pub keepdims: bool,
    /// Delta degrees of freedom for var and std (numpy's `ddof`).
    pub ddof: f64,
    /// For `nanmean`: the largest fraction of NaN elements that still gives a value (biggus's
    /// `mdtol`, from 0 to 1; default 1: only all-NaN gives NaN).
    pub mdtol: f64,
}

impl Default for ReduceOptions {
    fn default() -> Self {
        ReduceOptions {
            keepdims: false,
            ddof: 0.0,
            mdtol: 1.0,
        }
    }
}

impl DynArray {
    /// A reduction of any kind over `axes`.
    pub fn reduce(
        &self,
        op: ReduceOp,
        axes: impl Into<Axes>,
        opts: ReduceOptions,
    ) -> Result<DynArray> {
        let axes = axes.into().resolve(self.ndim())?;
        if !(0.0..=1.0).contains(&opts.mdtol) {
            return Err(Error::Invalid(format!(
                "mdtol must be between 0 and 1, not {}",
                opts.mdtol
            )));
        }
        if opts.ddof < 0.0 || !opts.ddof.is_finite() {
            return Err(Error::Invalid(format!(
                "ddof must be a non-negative number, not {}",
                opts.ddof
            )));
        }
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .enumerate()
            .filter_map(|(d, &n)| {
                if axes.contains(&d) {
                    opts.keepdims.then_some(1)
                } else {
                    Some(n)
                }
            })
            .collect();
        let dtype = op.result_dtype(self.dtype());
        let r = Reduction {
            op,
            input: self.node.clone(),
            axes,
            keepdims: opts.keepdims,
            ddof: opts.ddof,
            mdtol: opts.mdtol,
        };
        Ok(DynArray::from_node(Node::try_new(
            Op::Reduce(r),
            shape,
            dtype,
        )?))
    }

    /// A reduction over the axes and with the options of `over`.
    fn reduce_over(&self, op: ReduceOp, over: Over) -> Result<DynArray> {
        self.reduce(op, over.axes, over.options)
    }

    /// Sum over `over` (integers give `int64`/`uint64`).
    pub fn sum(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Sum, over.into())
    }
    /// Mean over `over` (accumulated in `f64`).
    pub fn mean(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Mean, over.into())
    }
    /// Variance over `over`, with its `ddof` (0 unless [`Over::ddof`] says otherwise).
    pub fn var(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Var, over.into())
    }
    /// Standard deviation over `over`, with its `ddof` (0 unless [`Over::ddof`] says otherwise).
    pub fn std(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Std, over.into())
    }
    /// Minimum over `over` (NaN propagates).
    pub fn min(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Min, over.into())
    }
    /// Maximum over `over` (NaN propagates).
    pub fn max(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Max, over.into())
    }
    /// Number of non-NaN elements over `over`.
    pub fn count(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::Count, over.into())
    }
    /// Sum skipping NaN.
    pub fn nansum(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanSum, over.into())
    }
    /// Mean skipping NaN; a result element is NaN when more than `mdtol` ([`Over::mdtol`], 1 by default) of its inputs are NaN.
    pub fn nanmean(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanMean, over.into())
    }
    /// Variance skipping NaN, with its `ddof`.
    pub fn nanvar(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanVar, over.into())
    }
    /// Standard deviation skipping NaN, with its `ddof`.
    pub fn nanstd(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanStd, over.into())
    }
    /// Minimum skipping NaN.
    pub fn nanmin(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanMin, over.into())
    }
    /// Maximum skipping NaN.
    pub fn nanmax(&self, over: impl Into<Over>) -> Result<DynArray> {
        self.reduce_over(ReduceOp::NanMax, over.into())
    }
}
