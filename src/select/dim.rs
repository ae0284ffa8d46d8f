//! [`Dim`]: the positions one axis of a result takes from one axis of its input.

use super::Stride;
use std::sync::Arc;

/// The positions taken along one axis: a [`Stride`] (slices, kept as arithmetic) or an
/// explicit list (orthogonal indexing with an integer array or a boolean mask).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// Positions in arithmetic progression.
    Stride(Stride),
    /// Positions listed one by one (any order, repeats allowed).
    List(Arc<[usize]>),
}

impl Dim {
    /// The whole axis of length `n`.
    pub fn full(n: usize) -> Dim {
        Dim::Stride(Stride::full(n))
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        match self {
            Dim::Stride(s) => s.len,
            Dim::List(l) => l.len(),
        }
    }

    /// True when no position is taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `k`-th position (`k < len`).
    pub fn at(&self, k: usize) -> usize {
        match self {
            Dim::Stride(s) => s.at(k),
            Dim::List(l) => l[k],
        }
    }

    /// `self` taken from the positions of `inner`: position `k` is `inner.at(self.at(k))`.
    /// Strides composed with strides stay strides.
    pub fn compose(&self, inner: &Dim) -> Dim {
        match (self, inner) {
            (Dim::Stride(o), Dim::Stride(i)) => Dim::Stride(o.compose(i)),
            (_, i) if i.is_empty() => Dim::Stride(Stride::new(0, 1, 0)),
            (o, i) => Dim::List((0..o.len()).map(|k| i.at(o.at(k))).collect()),
        }
    }

    /// The smallest and one past the largest position.
    pub fn bounds(&self) -> std::ops::Range<usize> {
        match self {
            Dim::Stride(s) => s.bounds(),
            Dim::List(l) => match (l.iter().min(), l.iter().max()) {
                (Some(a), Some(b)) => *a..*b + 1,
                _ => 0..0,
            },
        }
    }

    /// The sub-selection of elements `k0..k1` (element numbers).
    pub fn sub(&self, k0: usize, k1: usize) -> Dim {
        match self {
            Dim::Stride(s) => Dim::Stride(s.sub(k0, k1)),
            Dim::List(l) => Dim::List(l[k0.min(k1)..k1].into()),
        }
    }

    /// True when this takes the whole axis of length `n` in order.
    pub fn is_full(&self, n: usize) -> bool {
        match self {
            Dim::Stride(s) => s.is_full(n),
            Dim::List(l) => l.len() == n && l.iter().enumerate().all(|(k, &p)| k == p),
        }
    }

    /// The positions shifted down by `offset` (all positions must be at least `offset`).
    pub fn shifted(&self, offset: usize) -> Dim {
        match self {
            Dim::Stride(s) => Dim::Stride(s.shifted(offset)),
            Dim::List(l) => Dim::List(l.iter().map(|p| p.saturating_sub(offset)).collect()),
        }
    }

    /// Splits the positions into maximal runs lying in one bin each, where bin `b` covers
    /// `edges[b]..edges[b + 1]` (`edges` sorted, starting at 0). Returns `(bin, k0..k1)` per run
    /// in output order. Strides find their bins by binary search, so this is
    /// O(runs * log(bins)) for strides.
    pub fn runs_by_bins(&self, edges: &[usize]) -> Vec<(usize, std::ops::Range<usize>)> {
        let bin_of = |p: usize| edges.partition_point(|&e| e <= p).saturating_sub(1);
        let mut out = Vec::new();
        let n = self.len();
        match self {
            Dim::Stride(s) => {
                let mut k = 0;
                while k < n {
                    let b = bin_of(s.at(k));
                    // Last element still in bin b.
                    let (lo, hi) = (edges[b], edges.get(b + 1).copied().unwrap_or(usize::MAX));
                    let remaining = if s.step > 0 {
                        (hi - 1 - s.at(k)) / s.step as usize
                    } else {
                        (s.at(k) - lo) / s.step.unsigned_abs()
                    };
                    let k1 = k.saturating_add(remaining).saturating_add(1).min(n);
                    out.push((b, k..k1));
                    k = k1;
                }
            }
            Dim::List(l) => {
                let mut k = 0;
                while k < n {
                    let b = bin_of(l[k]);
                    let mut k1 = k + 1;
                    while k1 < n && bin_of(l[k1]) == b {
                        k1 += 1;
                    }
                    out.push((b, k..k1));
                    k = k1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_by_bins_matches_loop() {
        let edges = [0usize, 3, 4, 9, 12];
        for dim in [
            Dim::Stride(Stride::new(0, 1, 12)),
            Dim::Stride(Stride::new(11, -2, 6)),
            Dim::Stride(Stride::new(1, 5, 3)),
            Dim::List(vec![5, 0, 1, 2, 11, 3, 3].into()),
        ] {
            let runs = dim.runs_by_bins(&edges);
            let mut k_all = vec![];
            for (b, ks) in runs {
                for k in ks {
                    let p = dim.at(k);
                    assert!(edges[b] <= p && p < edges[b + 1], "{dim:?} {p} in bin {b}");
                    k_all.push(k);
                }
            }
            assert_eq!(k_all, (0..dim.len()).collect::<Vec<_>>());
        }
    }
}
