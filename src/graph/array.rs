//! [`DynArray`]: the handle on a lazy array whose element type is known at run time.

use super::node::{Node, NodeRef, Op};
use crate::data::NdData;
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::source::{ChunkSource, MemorySource};
use ndarray::ArrayD;
use std::sync::Arc;

/// A lazy n-dimensional array whose element type is known at run time (what a file opened by
/// name holds). Cloning is cheap: it shares the expression graph.
///
/// ```
/// use vastarray::{DynArray, GeneratedSource};
/// let src = GeneratedSource::from_index_fn(&[1000, 1000], &[100, 100], |ix| (ix[0] + ix[1]) as f32).unwrap();
/// let a = DynArray::from_source(src);
/// let m = a.select_str("10:20, ::10").unwrap().mean(1).unwrap();
/// let v = m.ndarray().unwrap().into_typed::<f32>().unwrap();
/// assert_eq!(v.shape(), &[10]);
/// assert_eq!(v[[0]], 10.0 + 495.0);
/// ```
#[derive(Clone)]
pub struct DynArray {
    pub(crate) node: NodeRef,
}

/// An operand of arithmetic: an array, or a Python-style scalar (which takes the array's type,
/// numpy 2's NEP 50 rules).
#[derive(Clone)]
pub enum Operand {
    /// A lazy array.
    Array(DynArray),
    /// An integer scalar, of any Rust integer type up to `i128` (an `i128` beyond `u64` or
    /// `i64` is refused with an overflow error when it meets an array, as numpy refuses a Python
    /// integer out of bounds for the array's type).
    Int(i128),
    /// A floating-point scalar.
    Float(f64),
    /// A boolean scalar.
    Bool(bool),
}

impl From<&DynArray> for Operand {
    fn from(a: &DynArray) -> Self {
        Operand::Array(a.clone())
    }
}
impl From<DynArray> for Operand {
    fn from(a: DynArray) -> Self {
        Operand::Array(a)
    }
}
impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Float(v)
    }
}
impl From<f32> for Operand {
    fn from(v: f32) -> Self {
        Operand::Float(v as f64)
    }
}
macro_rules! int_operands {
    ($($t:ty),*) => {$(
        impl From<$t> for Operand {
            fn from(v: $t) -> Self {
                Operand::Int(i128::from(v))
            }
        }
    )*};
}
int_operands!(i8, i16, i32, i64, i128, u8, u16, u32, u64);

impl From<isize> for Operand {
    fn from(v: isize) -> Self {
        // Lossless: isize is at most 64 bits on every platform Rust supports.
        Operand::Int(v as i128)
    }
}
impl From<usize> for Operand {
    fn from(v: usize) -> Self {
        Operand::Int(v as i128)
    }
}

impl From<bool> for Operand {
    fn from(v: bool) -> Self {
        Operand::Bool(v)
    }
}

impl DynArray {
    pub(crate) fn from_node(node: NodeRef) -> DynArray {
        DynArray { node }
    }

    /// A lazy array over any chunk source (the *adapter* node).
    pub fn from_source(source: impl ChunkSource + 'static) -> DynArray {
        Self::from_source_arc(Arc::new(source))
    }

    /// A lazy array over a shared chunk source.
    pub fn from_source_arc(source: Arc<dyn ChunkSource>) -> DynArray {
        let shape = source.shape().to_vec();
        let dtype = source.dtype();
        DynArray::from_node(Node::new(Op::Source(source), shape, dtype))
    }

    /// A lazy array over an in-memory ndarray, served in chunks of `chunks`.
    pub fn from_ndarray<T: Element>(array: ArrayD<T>, chunks: &[usize]) -> Result<DynArray> {
        Ok(Self::from_source(MemorySource::new(array, chunks)?))
    }

    /// A lazy array over dynamically typed data, served in chunks of `chunks`.
    pub fn from_data(data: NdData, chunks: &[usize]) -> Result<DynArray> {
        Ok(Self::from_source(MemorySource::from_data(data, chunks)?))
    }

    /// A scalar (shape `[]`) of the given value.
    pub fn scalar<T: Element>(value: T) -> DynArray {
        let v = T::wrap(ArrayD::from_elem(ndarray::IxDyn(&[]), value));
        DynArray::from_node(Node::new(Op::Const(v), vec![], T::DTYPE))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.node.shape.len()
    }

    /// Number of elements.
    pub fn size(&self) -> usize {
        self.node.size()
    }

    /// Bytes of the result.
    pub fn nbytes(&self) -> usize {
        self.size() * self.dtype().size()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.node.dtype
    }

    /// The root node of the expression graph.
    pub fn node(&self) -> &NodeRef {
        &self.node
    }
}

impl std::fmt::Debug for DynArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DynArray({}, shape {:?}, {})",
            self.node.label(),
            self.shape(),
            self.dtype()
        )
    }
}
