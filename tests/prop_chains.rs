//! Property tests: random chains of selections, elementwise ops, mosaics and reductions on
//! small random arrays with tiny chunks (1 to 3 elements per axis, so every chunk boundary is
//! crossed), each compared with eager ndarray evaluation of the same expression written
//! independently here.

use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use vastarray::Over;
use vastarray::{DynArray, SliceArg};

#[derive(Clone, Debug)]
enum Step {
    Slice(Vec<(i8, i8, i8, u8)>),
    Index(u8, u8),
    List(u8, Vec<u8>),
    Scalar(u8, i8),
    Unary(u8),
    WithLeaf(u8, u64, Vec<u8>),
    Transpose,
    Concat(u64, u8, Vec<u8>),
    Reduce(u8, u8),
    NewAxis(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::collection::vec((any::<i8>(), any::<i8>(), -3i8..=3, 0u8..8), 0..4)
            .prop_map(Step::Slice),
        (any::<u8>(), any::<u8>()).prop_map(|(a, i)| Step::Index(a, i)),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 1..5)).prop_map(|(a, l)| Step::List(a, l)),
        (0u8..4, -5i8..6).prop_map(|(o, v)| Step::Scalar(o, v)),
        (0u8..4).prop_map(Step::Unary),
        (0u8..4, any::<u64>(), prop::collection::vec(1u8..4, 4))
            .prop_map(|(o, s, c)| Step::WithLeaf(o, s, c)),
        Just(Step::Transpose),
        (any::<u64>(), 1u8..4, prop::collection::vec(1u8..4, 4))
            .prop_map(|(s, n, c)| Step::Concat(s, n, c)),
        (0u8..7, any::<u8>()).prop_map(|(o, a)| Step::Reduce(o, a)),
        any::<u8>().prop_map(Step::NewAxis),
    ]
}

fn leaf(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut x = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x % 41) as f64 - 20.0) * 0.5
    })
}

fn chunks_for(shape: &[usize], c: &[u8]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| (c[d % c.len()] as usize).clamp(1, n.max(1)))
        .collect()
}

/// Python's slice positions, written as the language reference states them.
fn py_slice(start: Option<isize>, stop: Option<isize>, step: isize, n: usize) -> Vec<usize> {
    let n = n as isize;
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let fix = |v: isize| {
        let v = if v < 0 { v + n } else { v };
        v.clamp(lo, hi)
    };
    let s = start.map(fix).unwrap_or(if step > 0 { lo } else { hi });
    let e = stop.map(fix).unwrap_or(if step > 0 { hi } else { lo });
    let mut out = vec![];
    let mut i = s;
    while (step > 0 && i < e) || (step < 0 && i > e) {
        out.push(i as usize);
        i += step;
    }
    out
}

struct State {
    lazy: DynArray,
    eager: ArrayD<f64>,
    only_selections: bool,
}

fn apply(st: State, s: &Step) -> Option<State> {
    let nd = st.eager.ndim();
    let shape = st.eager.shape().to_vec();
    Some(match s {
        Step::Slice(items) => {
            let items = &items[..items.len().min(nd)];
            let mut args = vec![];
            let mut e = st.eager.clone();
            for (d, &(a, b, step, flags)) in items.iter().enumerate() {
                let step = if step == 0 { 1 } else { step as isize };
                let start = (flags & 1 != 0).then_some(a as isize % 8);
                let stop = (flags & 2 != 0).then_some(b as isize % 8);
                args.push(SliceArg::range_step(start, stop, step));
                e = e.select(Axis(d), &py_slice(start, stop, step, shape[d]));
            }
            State {
                lazy: st.lazy.select(&args).ok()?,
                eager: e,
                ..st
            }
        }
        Step::Index(a, i) => {
            if nd == 0 || shape[*a as usize % nd] == 0 {
                return None;
            }
            let ax = *a as usize % nd;
            let i = *i as usize % shape[ax];
            let mut args: Vec<SliceArg> = (0..ax).map(|_| SliceArg::full()).collect();
            args.push(SliceArg::Index(i as isize - shape[ax] as isize)); // negative form
            State {
                lazy: st.lazy.select(&args).ok()?,
                eager: st.eager.index_axis(Axis(ax), i).to_owned(),
                ..st
            }
        }
        Step::List(a, l) => {
            if nd == 0 || shape[*a as usize % nd] == 0 {
                return None;
            }
            let ax = *a as usize % nd;
            let idx: Vec<usize> = l.iter().map(|&v| v as usize % shape[ax]).collect();
            let mut args: Vec<SliceArg> = (0..ax).map(|_| SliceArg::full()).collect();
            args.push(SliceArg::List(idx.iter().map(|&v| v as isize).collect()));
            State {
                lazy: st.lazy.select(&args).ok()?,
                eager: st.eager.select(Axis(ax), &idx),
                ..st
            }
        }
        Step::Scalar(op, v) => {
            let v = *v as f64;
            let (lazy, eager) = match op {
                0 => (st.lazy.add(v).ok()?, st.eager.mapv(|x| x + v)),
                1 => (st.lazy.mul(v).ok()?, st.eager.mapv(|x| x * v)),
                2 => (
                    DynArray::scalar(v).sub(&st.lazy).ok()?,
                    st.eager.mapv(|x| v - x),
                ),
                _ => (
                    st.lazy.maximum(v).ok()?,
                    st.eager.mapv(|x| if x.is_nan() { x } else { x.max(v) }),
                ),
            };
            State {
                lazy,
                eager,
                only_selections: false,
            }
        }
        Step::Unary(op) => {
            let (lazy, eager) = match op {
                0 => (st.lazy.abs().ok()?, st.eager.mapv(f64::abs)),
                1 => (st.lazy.neg().ok()?, st.eager.mapv(|x| -x)),
                2 => (st.lazy.sin().ok()?, st.eager.mapv(f64::sin)),
                _ => (st.lazy.floor().ok()?, st.eager.mapv(f64::floor)),
            };
            State {
                lazy,
                eager,
                only_selections: false,
            }
        }
        Step::WithLeaf(op, seed, c) => {
            let other = leaf(&shape, *seed);
            let lo = DynArray::from_ndarray(other.clone(), &chunks_for(&shape, c)).ok()?;
            let (lazy, eager) = match op {
                0 => (st.lazy.add(&lo).ok()?, &st.eager + &other),
                1 => (st.lazy.sub(&lo).ok()?, &st.eager - &other),
                2 => (st.lazy.mul(&lo).ok()?, &st.eager * &other),
                _ => (
                    st.lazy.minimum(&lo).ok()?,
                    ndarray::Zip::from(&st.eager)
                        .and(&other)
                        .map_collect(|&a, &b| {
                            if a.is_nan() || b.is_nan() {
                                f64::NAN
                            } else {
                                a.min(b)
                            }
                        }),
                ),
            };
            State {
                lazy,
                eager,
                only_selections: false,
            }
        }
        Step::Transpose => State {
            lazy: st.lazy.t(),
            eager: st.eager.clone().reversed_axes(),
            ..st
        },
        Step::Concat(seed, n, c) => {
            if nd == 0 {
                return None;
            }
            let mut sh = shape.clone();
            sh[0] = *n as usize;
            let other = leaf(&sh, *seed);
            let lo = DynArray::from_ndarray(other.clone(), &chunks_for(&sh, c)).ok()?;
            let eager =
                ndarray::concatenate(Axis(0), &[other.view(), st.eager.view(), other.view()])
                    .ok()?;
            State {
                lazy: DynArray::concatenate(&[lo.clone(), st.lazy, lo], 0).ok()?,
                eager,
                ..st
            }
        }
        Step::Reduce(op, a) => {
            if nd == 0 || shape.contains(&0) {
                return None;
            }
            let ax = *a as usize % nd;
            let lanes = |f: &dyn Fn(&[f64]) -> f64| st.eager.map_axis(Axis(ax), |l| f(&l.to_vec()));
            let (lazy, eager) = match op {
                0 => (st.lazy.sum(ax).ok()?, lanes(&|v| v.iter().sum())),
                1 => (
                    st.lazy.mean(ax).ok()?,
                    lanes(&|v| v.iter().sum::<f64>() / v.len() as f64),
                ),
                2 => (
                    st.lazy.max(ax).ok()?,
                    lanes(&|v| v.iter().cloned().fold(f64::NEG_INFINITY, nan_max)),
                ),
                3 => (
                    st.lazy.min(ax).ok()?,
                    lanes(&|v| v.iter().cloned().fold(f64::INFINITY, nan_min)),
                ),
                4 => (
                    st.lazy.var(ax).ok()?,
                    lanes(&|v| {
                        let m = v.iter().sum::<f64>() / v.len() as f64;
                        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
                    }),
                ),
                5 => (
                    st.lazy.std(Over::axes(ax).ddof(1.0)).ok()?,
                    lanes(&|v| {
                        let m = v.iter().sum::<f64>() / v.len() as f64;
                        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>()
                            / (v.len() as f64 - 1.0).max(0.0))
                        .sqrt()
                    }),
                ),
                _ => (
                    st.lazy.count(ax).ok()?.cast(vastarray::DType::F64).ok()?,
                    // vastarray's count: elements that are not NaN.
                    lanes(&|v| v.iter().filter(|x| !x.is_nan()).count() as f64),
                ),
            };
            State {
                lazy,
                eager,
                only_selections: false,
            }
        }
        Step::NewAxis(p) => {
            let pos = *p as usize % (nd + 1);
            State {
                lazy: st.lazy.insert_axis(pos).ok()?,
                eager: st.eager.clone().insert_axis(Axis(pos)),
                ..st
            }
        }
    })
}

/// numpy's `max` of two values: NaN when either is NaN (`f64::max` would drop it).
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// numpy's `min` of two values: NaN when either is NaN.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn same(got: &ArrayD<f64>, want: &ArrayD<f64>, exact: bool) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!("shape {:?} vs {:?}", got.shape(), want.shape()));
    }
    for (g, w) in got.iter().zip(want) {
        let ok = if g.is_nan() || w.is_nan() {
            g.is_nan() && w.is_nan()
        } else if w.is_infinite() || exact {
            g == w
        } else {
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()) * 16.0
        };
        if !ok {
            return Err(format!("{g} vs {w}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn lazy_chains_equal_eager(
        shape in prop::collection::vec(1usize..6, 1..4),
        chunks in prop::collection::vec(1u8..4, 4),
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..7),
    ) {
        let base = leaf(&shape, seed);
        let lazy = DynArray::from_ndarray(base.clone(), &chunks_for(&shape, &chunks)).unwrap();
        let mut st = State { lazy, eager: base, only_selections: true };
        for s in &steps {
            let before = (st.lazy.clone(), st.eager.clone(), st.only_selections);
            st = match apply(st, s) {
                Some(next) => next,
                None => State { lazy: before.0, eager: before.1, only_selections: before.2 },
            };
        }
        let got = st.lazy.ndarray().unwrap().cast(vastarray::DType::F64).into_typed::<f64>().unwrap();
        prop_assert!(same(&got, &st.eager, st.only_selections).is_ok(), "{:?}: {}", steps, same(&got, &st.eager, st.only_selections).unwrap_err());
    }
}
