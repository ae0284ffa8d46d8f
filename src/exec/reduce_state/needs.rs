//! [`Needs`]: which statistics a reduction state tracks, from the reductions asked for.

use crate::dtype::DType;
use crate::graph::ReduceOp;
use serde::{Deserialize, Serialize};

/// Which statistics a state must track.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    /// The mean, as a sum of deviations from a shift (mean, var, std).
    pub moments: bool,
    /// Sums of squared deviations from the shift too (var, std; implies `moments`).
    pub squares: bool,
    /// A floating sum (sum, nansum of floats).
    pub sum: bool,
    /// An exact integer sum.
    pub isum: bool,
    /// Minimum and maximum.
    pub minmax: bool,
}

impl Needs {
    /// What `op` needs on input of type `dtype`.
    pub fn of(op: ReduceOp, dtype: DType) -> Needs {
        use ReduceOp::*;
        let mut n = Needs::default();
        match op {
            Sum | NanSum if dtype.is_float() => n.sum = true,
            Sum | NanSum => n.isum = true,
            Mean | NanMean => n.moments = true,
            Var | Std | NanVar | NanStd => {
                n.moments = true;
                n.squares = true;
            }
            Min | Max | NanMin | NanMax => n.minmax = true,
            Count => {}
        }
        n
    }

    /// The union of two needs.
    pub fn union(self, o: Needs) -> Needs {
        Needs {
            moments: self.moments | o.moments,
            squares: self.squares | o.squares,
            sum: self.sum | o.sum,
            isum: self.isum | o.isum,
            minmax: self.minmax | o.minmax,
        }
    }

    /// Bytes of state per output element.
    pub fn bytes_per_element(&self) -> usize {
        16 + 16 * self.moments as usize
            + 8 * self.squares as usize
            + 8 * self.sum as usize
            + 8 * self.isum as usize
            + 32 * self.minmax as usize
    }
}
