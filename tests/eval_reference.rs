//! Results of lazy evaluation against eager ndarray computation of the same expressions, on
//! small arrays with tiny chunks so every chunk boundary is crossed.

use ndarray::{s, Array, ArrayD, Axis, Dimension, IxDyn};
use vastarray::{evaluate, DynArray, EvalConfig, ReduceOp, ReduceOptions, SliceArg};
use vastarray::{Axes, Over};

fn arr(shape: &[usize], f: impl Fn(&[usize]) -> f64) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |ix| f(ix.slice()))
}

fn lazy(a: &ArrayD<f64>, chunks: &[usize]) -> DynArray {
    DynArray::from_ndarray(a.clone(), chunks).unwrap()
}

fn get(a: &DynArray) -> ArrayD<f64> {
    a.ndarray().unwrap().into_typed::<f64>().unwrap()
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, rel: f64) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want.iter()) {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= rel * (1.0 + w.abs());
        assert!(ok, "got {g}, want {w}\n got {got:?}\nwant {want:?}");
    }
}

#[test]
fn slices_with_steps_and_negative_steps() {
    let a = arr(&[7, 9], |ix| (ix[0] * 10 + ix[1]) as f64);
    let l = lazy(&a, &[2, 4]);
    let got = get(&l.select_str("1:6:2, ::-3").unwrap());
    let want = a.slice(s![1..6;2, ..;-3]).to_owned().into_dyn();
    // numpy ::-3 on 9 gives 8, 5, 2; ndarray's ..;-3 gives the same here.
    close(&got, &want, 0.0);
    let chained = l
        .select_str("2:, ::-1")
        .unwrap()
        .select_str("::2, 1:5")
        .unwrap()
        .select_str("-1, ::-1")
        .unwrap();
    let want2 = {
        let b = a.slice(s![2.., ..;-1]).to_owned();
        let c = b.slice(s![..;2, 1..5]).to_owned();
        let last = c.shape()[0] - 1;
        c.slice(s![last, ..;-1]).to_owned().into_dyn()
    };
    close(&get(&chained), &want2, 0.0);
}

#[test]
fn orthogonal_lists_masks_newaxis_ellipsis() {
    let a = arr(&[5, 6, 4], |ix| (ix[0] * 100 + ix[1] * 10 + ix[2]) as f64);
    let l = lazy(&a, &[2, 3, 3]);
    let got = get(&l
        .select(&[
            SliceArg::List(vec![4, 0, 2, 2]),
            SliceArg::Ellipsis,
            SliceArg::NewAxis,
            SliceArg::Mask(vec![true, false, true, true]),
        ])
        .unwrap());
    let mut want = a.select(Axis(0), &[4, 0, 2, 2]);
    want = want.select(Axis(2), &[0, 2, 3]);
    let want = want.insert_axis(Axis(2));
    close(&got, &want, 0.0);
}

#[test]
fn elementwise_broadcast_and_promotion() {
    let a = arr(&[4, 5], |ix| ix[0] as f64 - 1.5);
    let b = arr(&[5], |ix| ix[0] as f64 * 0.5 + 0.25);
    let (la, lb) = (lazy(&a, &[3, 2]), lazy(&b, &[2]));
    let e = la
        .mul(&lb)
        .unwrap()
        .add(1.0)
        .unwrap()
        .exp()
        .unwrap()
        .select_str("1:3, ::2")
        .unwrap();
    let want = (&a * &b + 1.0)
        .mapv(f64::exp)
        .slice(s![1..3, ..;2])
        .to_owned()
        .into_dyn();
    close(&get(&e), &want, 1e-15);
    let i = DynArray::from_ndarray(
        Array::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as i32 - 5).into_dyn(),
        &[2, 2],
    )
    .unwrap();
    assert_eq!(i.div(2).unwrap().dtype(), vastarray::DType::F64);
    assert_eq!(i.mul(2).unwrap().dtype(), vastarray::DType::I32);
    assert_eq!(i.mul(2.0).unwrap().dtype(), vastarray::DType::F64);
    let fd = i
        .floor_div(3)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i32>()
        .unwrap();
    let rm = i
        .rem(3)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i32>()
        .unwrap();
    for (k, v) in (-5..7).enumerate() {
        // Python's floor division and modulo, written out.
        let q = (v as f64 / 3.0).floor() as i32;
        assert_eq!(fd.as_slice().unwrap()[k], q);
        assert_eq!(rm.as_slice().unwrap()[k], v - 3 * q);
    }
    let c = i.gt(0).unwrap();
    let w = DynArray::where_(&c, &i, 0)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i32>()
        .unwrap();
    assert_eq!(
        w.iter().copied().collect::<Vec<_>>(),
        (-5..7).map(|v: i32| v.max(0)).collect::<Vec<_>>()
    );
}

#[test]
fn reductions_over_axes_match_loops() {
    let a = arr(&[5, 4, 3], |ix| {
        ((ix[0] * 7 + ix[1] * 3 + ix[2]) % 11) as f64 * 1.25 - 3.0
    });
    let l = lazy(&a, &[2, 3, 2]);
    for axes in [vec![0usize], vec![1], vec![2], vec![0, 2], vec![0, 1, 2]] {
        let mut mean = a.clone();
        let mut sum = a.clone();
        for &ax in axes.iter().rev() {
            mean = mean.mean_axis(Axis(ax)).unwrap();
            sum = sum.sum_axis(Axis(ax));
        }
        close(&get(&l.mean(axes.clone()).unwrap()), &mean, 1e-12);
        close(&get(&l.sum(axes.clone()).unwrap()), &sum, 1e-12);
        // var with ddof 1 by a two-pass loop over the reduced elements.
        let n: usize = axes.iter().map(|&d| a.shape()[d]).product();
        let sq = a.mapv(|v| v * v);
        let mut sumsq = sq.clone();
        for &ax in axes.iter().rev() {
            sumsq = sumsq.sum_axis(Axis(ax));
        }
        let var = (&sumsq - &(&sum * &sum) / n as f64) / (n as f64 - 1.0);
        close(
            &get(&l.var(Over::axes(axes.clone()).ddof(1.0)).unwrap()),
            &var,
            1e-10,
        );
        let mut mx = a.clone();
        for &ax in axes.iter().rev() {
            mx = mx.map_axis(Axis(ax), |v| {
                v.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            });
        }
        close(&get(&l.max(axes.clone()).unwrap()), &mx, 0.0);
    }
    let kd = l
        .reduce(
            ReduceOp::Mean,
            1usize,
            ReduceOptions {
                keepdims: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(kd.shape(), &[5, 1, 3]);
    close(
        &get(&kd),
        &a.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1)),
        1e-12,
    );
}

#[test]
fn nan_reductions_and_mdtol() {
    let a = arr(&[4, 5], |ix| {
        if (ix[0] + ix[1]) % 3 == 0 {
            f64::NAN
        } else {
            (ix[0] * 5 + ix[1]) as f64
        }
    });
    let l = lazy(&a, &[3, 2]);
    let nanmean = get(&l.nanmean(0).unwrap());
    let mean = get(&l.mean(0).unwrap());
    let count = l
        .count(0)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i64>()
        .unwrap();
    for j in 0..5 {
        let col: Vec<f64> = (0..4).map(|i| a[[i, j]]).filter(|v| !v.is_nan()).collect();
        let m = col.iter().sum::<f64>() / col.len() as f64;
        assert!((nanmean[[j]] - m).abs() < 1e-12);
        assert_eq!(count[[j]] as usize, col.len());
        assert!(mean[[j]].is_nan(), "mean of a column with NaN is NaN");
    }
    // mdtol 0.3: columns with more than 30% NaN give NaN.
    let strict = get(&l.nanmean(Over::axes(0).mdtol(0.3)).unwrap());
    for j in 0..5 {
        let nans = (0..4).filter(|&i| a[[i, j]].is_nan()).count();
        assert_eq!(strict[[j]].is_nan(), nans as f64 / 4.0 > 0.3, "column {j}");
    }
}

#[test]
fn integer_sums_are_exact_and_min_max_keep_type() {
    let a = Array::from_shape_fn((6, 7), |(i, j)| {
        (i as i64 * 1_000_000_007 + j as i64) * 1_000_000
    })
    .into_dyn();
    let l = DynArray::from_ndarray(a.clone(), &[4, 3]).unwrap();
    let s = l
        .sum(None::<usize>)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i64>()
        .unwrap();
    assert_eq!(s[[]], a.iter().fold(0i64, |acc, v| acc.wrapping_add(*v)));
    let mx = l
        .max(1)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i64>()
        .unwrap();
    for i in 0..6 {
        assert_eq!(mx[[i]], *a.index_axis(Axis(0), i).iter().max().unwrap());
    }
    let u = DynArray::from_ndarray(
        Array::from_shape_fn((5,), |i| 250u8 + i as u8).into_dyn(),
        &[2],
    )
    .unwrap();
    let us = u.sum(0).unwrap();
    assert_eq!(us.dtype(), vastarray::DType::U64);
    assert_eq!(
        us.ndarray().unwrap().into_typed::<u64>().unwrap()[[]],
        250 + 251 + 252 + 253 + 254
    );
}

#[test]
fn mosaics_transpose_stack_and_shared_passes() {
    let t: Vec<ArrayD<f64>> = (0..3)
        .map(|k| arr(&[2 + k, 4], |ix| (k * 100 + ix[0] * 10 + ix[1]) as f64))
        .collect();
    let tiles: Vec<DynArray> = t.iter().map(|x| lazy(x, &[1, 3])).collect();
    let m = DynArray::concatenate(&tiles, 0).unwrap();
    let views: Vec<_> = t.iter().map(|x| x.view()).collect();
    let want = ndarray::concatenate(Axis(0), &views).unwrap();
    close(&get(&m), &want, 0.0);
    close(
        &get(&m.select_str("::-2, 1:").unwrap()),
        &want.slice(s![..;-2, 1..]).to_owned().into_dyn(),
        0.0,
    );
    let mm = DynArray::concatenate(&[m.clone(), m.clone()], 1)
        .unwrap()
        .t();
    let want_mm = ndarray::concatenate(Axis(1), &[want.view(), want.view()])
        .unwrap()
        .reversed_axes();
    close(&get(&mm), &want_mm, 0.0);
    let st = DynArray::stack(&[tiles[0].clone(), tiles[0].clone().mul(2.0).unwrap()], 1).unwrap();
    let want_st = ndarray::stack(Axis(1), &[t[0].view(), (&t[0] * 2.0).view()]).unwrap();
    close(&get(&st), &want_st, 0.0);
    let (mean, std) = (m.mean(None::<usize>).unwrap(), m.std(Axes::All).unwrap());
    let r = evaluate(&[&mean, &std], &EvalConfig::default()).unwrap();
    let n = want.len() as f64;
    let mu = want.sum() / n;
    let sd = (want.mapv(|v| (v - mu) * (v - mu)).sum() / n).sqrt();
    assert!((r[0].clone().into_typed::<f64>().unwrap()[[]] - mu).abs() < 1e-12);
    assert!((r[1].clone().into_typed::<f64>().unwrap()[[]] - sd).abs() < 1e-12);
}

#[test]
fn dependent_expression_centres_and_scales() {
    let a = arr(&[9, 4], |ix| (ix[0] * ix[0]) as f64 + ix[1] as f64);
    let l = lazy(&a, &[2, 3]);
    let z = l
        .sub(l.mean(0).unwrap())
        .unwrap()
        .div(l.std(0).unwrap())
        .unwrap();
    let mu = a.mean_axis(Axis(0)).unwrap();
    let sd = a.std_axis(Axis(0), 0.0);
    let want = (&a - &mu) / &sd;
    close(&get(&z), &want, 1e-12);
    let plan = z.explain(&EvalConfig::default()).unwrap();
    assert!(
        plan.contains("stage 1") && plan.contains("stage 2"),
        "{plan}"
    );
}
