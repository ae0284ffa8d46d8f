//! The lazy expression graph: [`DynArray`] (element type known at run time) and [`Array<T>`]
//! (element type known at compile time) are cheap handles on immutable [`Node`]s.
//!
//! Building a node checks shapes, axes, indices and types at once, so errors come at
//! construction, never during evaluation. Nothing is read until a result is asked for.
//!
//! ```
//! use vastarray::{Axes, DynArray, Over};
//! let x = ndarray::Array2::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f64);
//! let a = DynArray::from_ndarray(x.clone().into_dyn(), &[2, 3]).unwrap();
//! let z = (&(&a - &a.mean(Over::axes(0).keepdims()).unwrap()).unwrap() * 2.0).unwrap();
//! let t = z.select_str("1:, ::2").unwrap().permute(&[-1, 0]).unwrap();
//! assert_eq!(t.shape(), &[3, 3]);
//! let total = a.sum(Axes::All).unwrap().ndarray().unwrap().into_typed::<f64>().unwrap();
//! assert_eq!(total[[]], x.sum());
//! ```

mod array;
mod axes;
mod elementwise;
mod node;
mod ops;
mod reduce;
mod std_ops;
mod structure;
mod typed;
mod walk;

pub use array::{DynArray, Operand};
pub use axes::{Axes, AxisArg, Over};
pub use node::{Node, NodeRef, Op, Reduction, MAX_DEPTH};
pub use ops::{BinaryOp, ReduceOp, UnaryOp};
pub use reduce::ReduceOptions;
pub use typed::{Array, FloatOut, MeanOut, Promote, SumOut};
pub use walk::{all_nodes, use_counts};

/// Runs one level of a recursive walk over a graph, growing the stack first when little of it
/// is left: graphs may be [`node::MAX_DEPTH`] nodes deep, deeper than a thread's stack holds
/// frames of planning and evaluation.
pub(crate) fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(128 << 10, 4 << 20, f)
}
