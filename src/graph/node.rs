//! The nodes of the lazy expression graph. A node knows its shape and element type; both are
//! checked when it is built, so a graph that exists is a graph that can run.
//!
//! A node also knows its depth (the longest path down to a source or constant): graph
//! builders refuse a node deeper than [`MAX_DEPTH`] ([`Node::try_new`]), so every walk over
//! a graph has a known bound. Dropping a graph is a loop, not a recursion, so a deep one can
//! be dropped on any thread's stack.

use super::ops::{BinaryOp, ReduceOp, UnaryOp};
use crate::data::NdData;
use crate::dtype::DType;
use crate::select::Selection;
use crate::source::ChunkSource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A shared, immutable node.
pub type NodeRef = Arc<Node>;

/// One node of the expression graph.
pub struct Node {
    /// Unique within the process; used to share work between uses of one node.
    pub id: u64,
    /// What the node computes.
    pub op: Op,
    /// The result's shape.
    pub shape: Vec<usize>,
    /// The result's element type.
    pub dtype: DType,
    /// 1 for sources and constants, else 1 + the largest depth of the inputs.
    pub depth: usize,
}

/// The deepest graph the builders accept: a chain of 10,000 operations, each on the result of
/// the one before (a sum of about as many terms). A deeper one is refused with
/// [`crate::Error::Invalid`] when the node that would exceed it is built.
pub const MAX_DEPTH: usize = 10_000;

/// The parameters of a reduction node.
#[derive(Clone)]
pub struct Reduction {
    /// What is computed.
    pub op: ReduceOp,
    /// The input.
    pub input: NodeRef,
    /// The reduced axes of the input, sorted and unique.
    pub axes: Vec<usize>,
    /// Whether reduced axes stay as axes of length 1.
    pub keepdims: bool,
    /// Delta degrees of freedom (var and std).
    pub ddof: f64,
    /// For `nanmean`: the fraction of NaN above which a result element is NaN (biggus's
    /// `mdtol`; 1 means only all-NaN gives NaN).
    pub mdtol: f64,
}

/// What a node computes.
pub enum Op {
    /// An adapter over a chunk source.
    Source(Arc<dyn ChunkSource>),
    /// A single value of shape `[]` (scalars in arithmetic).
    Const(NdData),
    /// A selection of the input.
    Select(NodeRef, Selection),
    /// Tiles joined along `axis`; `edges[i]..edges[i + 1]` is tile `i`'s extent.
    Mosaic {
        /// The tiles, equal in shape but for `axis`.
        tiles: Vec<NodeRef>,
        /// The axis they are joined along.
        axis: usize,
        /// Cumulative offsets, `tiles.len() + 1` entries from 0 to the total length.
        edges: Vec<usize>,
    },
    /// Axis permutation: result axis `i` is input axis `perm[i]`.
    Transpose(NodeRef, Vec<usize>),
    /// numpy broadcasting of the input to the node's shape.
    Broadcast(NodeRef),
    /// Conversion to the node's element type.
    Cast(NodeRef),
    /// An elementwise function of one operand.
    Unary(UnaryOp, NodeRef),
    /// An elementwise function of two operands of equal shape and type.
    Binary(BinaryOp, NodeRef, NodeRef),
    /// `where(cond, a, b)`, all of equal shape; `a` and `b` of the node's type.
    Where(NodeRef, NodeRef, NodeRef),
    /// A reduction.
    Reduce(Reduction),
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Node {
    /// A new node with a fresh id (its depth computed from its inputs, not checked: plan
    /// rules use this to rebuild graphs that were checked when built).
    pub fn new(op: Op, shape: Vec<usize>, dtype: DType) -> NodeRef {
        Arc::new(Node::build(op, shape, dtype))
    }

    /// A new node, refused with [`crate::Error::Invalid`] when it would be deeper than
    /// [`MAX_DEPTH`]. The graph builders build every node this way.
    pub fn try_new(op: Op, shape: Vec<usize>, dtype: DType) -> crate::Result<NodeRef> {
        let node = Node::build(op, shape, dtype);
        if node.depth > MAX_DEPTH {
            return Err(crate::Error::Invalid(format!(
                "the expression would be {} operations deep, more than the maximum of {MAX_DEPTH} (each operation applied to the result of the one before): compute part of it first",
                node.depth
            )));
        }
        Ok(Arc::new(node))
    }

    fn build(op: Op, shape: Vec<usize>, dtype: DType) -> Node {
        let mut node = Node {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            op,
            shape,
            dtype,
            depth: 1,
        };
        let below = node.inputs().iter().map(|n| n.depth).max().unwrap_or(0);
        node.depth = below.saturating_add(1);
        node
    }

    /// The node's operation, taken out of it (for rules that rebuild a node; a `Node` cannot
    /// be taken apart by a pattern because of its `Drop`).
    pub fn into_op(mut self) -> Op {
        std::mem::replace(&mut self.op, Op::Const(NdData::zeros(DType::Bool, &[])))
    }

    /// The node's direct inputs.
    pub fn inputs(&self) -> Vec<&NodeRef> {
        match &self.op {
            Op::Source(_) | Op::Const(_) => vec![],
            Op::Select(a, _)
            | Op::Transpose(a, _)
            | Op::Broadcast(a)
            | Op::Cast(a)
            | Op::Unary(_, a) => vec![a],
            Op::Mosaic { tiles, .. } => tiles.iter().collect(),
            Op::Binary(_, a, b) => vec![a, b],
            Op::Where(c, a, b) => vec![c, a, b],
            Op::Reduce(r) => vec![&r.input],
        }
    }

    /// Number of elements.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// A one-line description for plans (`select [10:20, ::2]`, `reduce mean axes [0]`).
    pub fn label(&self) -> String {
        match &self.op {
            Op::Source(s) => format!("source {}", s.name()),
            Op::Const(v) => format!(
                "const {}",
                crate::with_nd!(v, a: T => format!("{:?}", a.iter().next()))
            ),
            Op::Select(_, sel) => format!("select {}", sel.describe()),
            Op::Mosaic { tiles, axis, .. } => {
                format!("mosaic of {} tiles along axis {axis}", tiles.len())
            }
            Op::Transpose(_, p) => format!("transpose {p:?}"),
            Op::Broadcast(_) => "broadcast".into(),
            Op::Cast(_) => format!("astype {}", self.dtype),
            Op::Unary(op, _) => op.name().into(),
            Op::Binary(op, _, _) => format!("binary {}", op.name()),
            Op::Where(..) => "where".into(),
            Op::Reduce(r) => {
                let mut s = format!("{} over axes {:?}", r.op.name(), r.axes);
                if r.keepdims {
                    s.push_str(" keepdims");
                }
                if matches!(
                    r.op,
                    ReduceOp::Var | ReduceOp::Std | ReduceOp::NanVar | ReduceOp::NanStd
                ) && r.ddof != 0.0
                {
                    s.push_str(&format!(" ddof={}", r.ddof));
                }
                s
            }
        }
    }

    /// Builds a node of the same kind on new inputs (in the order of [`Node::inputs`]), keeping
    /// shape and type. Used by plan rules that rewrite below a node; `inputs` must have as many
    /// entries as the node has inputs, of the same shapes.
    pub fn with_inputs(&self, inputs: Vec<NodeRef>) -> crate::Result<NodeRef> {
        if inputs.len() != self.inputs().len() {
            return Err(crate::Error::Internal(format!(
                "{}: {} inputs given",
                self.label(),
                inputs.len()
            )));
        }
        let mut it = inputs.into_iter();
        let mut next = || {
            it.next().unwrap_or_else(|| {
                Node::new(
                    Op::Const(NdData::zeros(DType::Bool, &[])),
                    vec![],
                    DType::Bool,
                )
            })
        };
        let op = match &self.op {
            Op::Source(s) => Op::Source(s.clone()),
            Op::Const(v) => Op::Const(v.clone()),
            Op::Select(_, sel) => Op::Select(next(), sel.clone()),
            Op::Mosaic { tiles, axis, edges } => Op::Mosaic {
                tiles: (0..tiles.len()).map(|_| next()).collect(),
                axis: *axis,
                edges: edges.clone(),
            },
            Op::Transpose(_, p) => Op::Transpose(next(), p.clone()),
            Op::Broadcast(_) => Op::Broadcast(next()),
            Op::Cast(_) => Op::Cast(next()),
            Op::Unary(op, _) => Op::Unary(*op, next()),
            Op::Binary(op, _, _) => {
                let a = next();
                Op::Binary(*op, a, next())
            }
            Op::Where(..) => {
                let c = next();
                let a = next();
                Op::Where(c, a, next())
            }
            Op::Reduce(r) => Op::Reduce(Reduction {
                input: next(),
                ..r.clone()
            }),
        };
        Ok(Node::new(op, self.shape.clone(), self.dtype))
    }
}

impl Drop for Node {
    /// Drops the inputs this node holds the last reference to with a loop rather than
    /// recursion: a chain of thousands of operations is a graph thousands of nodes deep.
    fn drop(&mut self) {
        let mut unique = Vec::new();
        take_unique_inputs(&mut self.op, &mut unique);
        while let Some(mut node) = unique.pop() {
            take_unique_inputs(&mut node.op, &mut unique);
            // `node` now holds no last reference to anything: dropping it recurses no further.
        }
    }
}

/// Replaces every input of `op` by a shared placeholder, and moves into `out` the inputs that
/// nothing else refers to.
fn take_unique_inputs(op: &mut Op, out: &mut Vec<Node>) {
    static PLACEHOLDER: std::sync::OnceLock<NodeRef> = std::sync::OnceLock::new();
    let slots: Vec<&mut NodeRef> = match op {
        Op::Source(_) | Op::Const(_) => return,
        Op::Select(a, _)
        | Op::Transpose(a, _)
        | Op::Broadcast(a)
        | Op::Cast(a)
        | Op::Unary(_, a) => vec![a],
        Op::Mosaic { tiles, .. } => tiles.iter_mut().collect(),
        Op::Binary(_, a, b) => vec![a, b],
        Op::Where(c, a, b) => vec![c, a, b],
        Op::Reduce(r) => vec![&mut r.input],
    };
    let placeholder = PLACEHOLDER.get_or_init(|| {
        Node::new(
            Op::Const(NdData::zeros(DType::Bool, &[])),
            vec![],
            DType::Bool,
        )
    });
    for slot in slots {
        let input = std::mem::replace(slot, placeholder.clone());
        if let Ok(node) = Arc::try_unwrap(input) {
            out.push(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DynArray;

    #[test]
    fn depth_is_counted_limited_and_a_deep_graph_drops_on_a_small_stack() {
        let a = DynArray::scalar(1.0f64);
        assert_eq!(a.node().depth, 1);
        let mut x = a.clone();
        for _ in 0..MAX_DEPTH - 1 {
            x = x.neg().unwrap();
        }
        assert_eq!(x.node().depth, MAX_DEPTH);
        let Err(e) = x.neg() else {
            panic!("one too deep")
        };
        assert!(matches!(e, crate::Error::Invalid(_)), "{e}");
        assert!(e.to_string().contains("10001 operations deep"), "{e}");
        // A binary node is one deeper than its deeper input.
        assert_eq!(
            x.binary(crate::BinaryOp::Add, &a)
                .err()
                .map(|e| e.to_string().contains("deep")),
            Some(true)
        );
        assert_eq!(a.binary(crate::BinaryOp::Add, &a).unwrap().node().depth, 2);
        // The last reference dropped on a thread with a small stack: recursion would overflow.
        std::thread::Builder::new()
            .stack_size(128 << 10)
            .spawn(move || drop(x))
            .unwrap()
            .join()
            .unwrap();
    }
}
