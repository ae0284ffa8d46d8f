//! Building reduction nodes.

use super::array::DynArray;
use super::axes::Axes;
use super::node::{Node, Op, Reduction};
use super::ops::ReduceOp;
use crate::error::{Error, Result};

/// Options of a reduction beyond its axes.
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

    /// Sum over `axes` (integers give `int64`/`uint64`).
    pub fn sum(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::Sum, axes, ReduceOptions::default())
    }
    /// Mean over `axes` (accumulated in `f64`).
    pub fn mean(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::Mean, axes, ReduceOptions::default())
    }
    /// Variance over `axes` with `ddof` delta degrees of freedom.
    pub fn var(&self, axes: impl Into<Axes>, ddof: f64) -> Result<DynArray> {
        self.reduce(
            ReduceOp::Var,
            axes,
            ReduceOptions {
                ddof,
                ..Default::default()
            },
        )
    }
    /// Standard deviation over `axes` with `ddof` delta degrees of freedom.
    pub fn std(&self, axes: impl Into<Axes>, ddof: f64) -> Result<DynArray> {
        self.reduce(
            ReduceOp::Std,
            axes,
            ReduceOptions {
                ddof,
                ..Default::default()
            },
        )
    }
    /// Minimum over `axes` (NaN propagates).
    pub fn min(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::Min, axes, ReduceOptions::default())
    }
    /// Maximum over `axes` (NaN propagates).
    pub fn max(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::Max, axes, ReduceOptions::default())
    }
    /// Number of non-NaN elements over `axes`.
    pub fn count(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::Count, axes, ReduceOptions::default())
    }
    /// Sum skipping NaN.
    pub fn nansum(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::NanSum, axes, ReduceOptions::default())
    }
    /// Mean skipping NaN; a result element is NaN when more than `mdtol` of its inputs are NaN.
    pub fn nanmean(&self, axes: impl Into<Axes>, mdtol: f64) -> Result<DynArray> {
        self.reduce(
            ReduceOp::NanMean,
            axes,
            ReduceOptions {
                mdtol,
                ..Default::default()
            },
        )
    }
    /// Variance skipping NaN.
    pub fn nanvar(&self, axes: impl Into<Axes>, ddof: f64) -> Result<DynArray> {
        self.reduce(
            ReduceOp::NanVar,
            axes,
            ReduceOptions {
                ddof,
                ..Default::default()
            },
        )
    }
    /// Standard deviation skipping NaN.
    pub fn nanstd(&self, axes: impl Into<Axes>, ddof: f64) -> Result<DynArray> {
        self.reduce(
            ReduceOp::NanStd,
            axes,
            ReduceOptions {
                ddof,
                ..Default::default()
            },
        )
    }
    /// Minimum skipping NaN.
    pub fn nanmin(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::NanMin, axes, ReduceOptions::default())
    }
    /// Maximum skipping NaN.
    pub fn nanmax(&self, axes: impl Into<Axes>) -> Result<DynArray> {
        self.reduce(ReduceOp::NanMax, axes, ReduceOptions::default())
    }
}
