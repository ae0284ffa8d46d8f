//! `vastarray::expr` as a Rust user calls it: expressions over named arrays, values against
//! ndarray computed by hand, numpy 2's weak scalars, errors with spans, and the one selection
//! parser behind `select_str` and `a[...]`.

use ndarray::{s, ArrayD, Axis, IxDyn};
use std::collections::BTreeMap;
use vastarray::expr::{self, Span};
use vastarray::{DType, DynArray, Error, SliceArg};

/// A `rows x cols` float32 array with distinct values, and its lazy array in small chunks.
fn floats(rows: usize, cols: usize) -> (ArrayD<f32>, DynArray) {
    let a = ArrayD::from_shape_fn(IxDyn(&[rows, cols]), |ix| {
        (ix[0] * 10 + ix[1]) as f32 * 0.5 - 3.0
    });
    let d = DynArray::from_ndarray(a.clone(), &[3, 2]).unwrap();
    (a, d)
}

fn ints(n: usize) -> (ArrayD<i32>, DynArray) {
    let a = ArrayD::from_shape_fn(IxDyn(&[n]), |ix| ix[0] as i32 * 7 - 20);
    let d = DynArray::from_ndarray(a.clone(), &[4]).unwrap();
    (a, d)
}

fn f32s(d: &DynArray) -> ArrayD<f32> {
    d.ndarray().unwrap().into_typed::<f32>().unwrap()
}

fn assert_close(got: &ArrayD<f32>, want: &ArrayD<f32>) {
    assert_eq!(got.shape(), want.shape());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{got} vs {want}");
    }
}

#[test]
fn elementwise_selection_and_reduction_match_ndarray() {
    let (x, xd) = floats(7, 5);
    let (y, yd) = floats(5, 5);
    let inputs = [("x", &xd), ("y", &yd)];

    // Centring by the column means: a reduction inside an elementwise expression.
    let got = f32s(&expr::parse("(x - mean(x, axis=0)) * 2", inputs).unwrap());
    let means = x.mean_axis(Axis(0)).unwrap();
    let want = (&x - &means.insert_axis(Axis(0))) * 2.0;
    assert_close(&got, &want);

    // numpy slicing with negative steps, broadcasting against a row, `where` and `sqrt`.
    let got = f32s(
        &expr::parse(
            "where(x[1:6, ::-2] > 0, sqrt(x[1:6, ::-2]), y[0, :3])",
            inputs,
        )
        .unwrap(),
    );
    let part = x.slice(s![1..6, ..;-2]).to_owned();
    let row = y.slice(s![0, ..3]).to_owned();
    let mut want = part.clone();
    for ((i, j), v) in want.indexed_iter_mut() {
        let p = part[[i, j]];
        *v = if p > 0.0 { p.sqrt() } else { row[[j]] };
    }
    assert_close(&got, &want.into_dyn());

    // Methods, `np.` names and the transpose.
    let got = f32s(&expr::parse("np.abs(y.T).sum(axis=1)", inputs).unwrap());
    let want = y.t().mapv(f32::abs).sum_axis(Axis(1));
    assert_close(&got, &want);
}

#[test]
fn literals_are_weak_scalars_and_overflow_is_an_error() {
    let (x, xd) = floats(3, 4);
    let (i, id) = ints(9);
    let mut inputs = BTreeMap::new();
    inputs.insert("x".to_string(), xd);
    inputs.insert("i".to_string(), id);

    // A float literal does not widen float32; an int literal does not widen int32.
    let a = expr::parse("2.5 - x", &inputs).unwrap();
    assert_eq!(a.dtype(), DType::F32);
    assert_close(&f32s(&a), &x.mapv(|v| 2.5 - v));
    let b = expr::parse("3 * i[::2] - 1", &inputs).unwrap();
    assert_eq!(b.dtype(), DType::I32);
    let got = b.ndarray().unwrap().into_typed::<i32>().unwrap();
    let want = i.slice(s![..;2]).mapv(|v| 3 * v - 1).into_dyn();
    assert_eq!(got, want);
    // True division of integers is float64, as in numpy.
    assert_eq!(expr::parse("i / 2", &inputs).unwrap().dtype(), DType::F64);

    // A Python integer that does not fit the array's type is refused, at the literal.
    let text = "i + 3000000000";
    let e = expr::parse(text, &inputs).unwrap_err();
    assert!(e.message.contains("out of bounds for int32"), "{e}");
    assert_eq!(e.span, Span::new(4, 14));
    // Beyond 64 bits: an error at the literal, not a panic.
    let e = expr::parse("x * 99999999999999999999", &inputs).unwrap_err();
    assert!(e.message.contains("does not fit in 64 bits"), "{e}");
    assert_eq!(e.span, Span::new(4, 24));
}

#[test]
fn errors_say_where_and_render_with_a_caret() {
    let (_, xd) = floats(3, 4);
    let text = "sqrt(x) + xx";
    let e = expr::parse(text, [("x", &xd)]).unwrap_err();
    assert_eq!(e.span, Span::new(10, 12));
    assert!(e.message.contains("unknown name 'xx'"), "{e}");
    assert!(e.message.contains("did you mean 'x'"), "{e}");
    assert_eq!(
        e.render(text),
        format!(
            "at byte 10: {}\n    sqrt(x) + xx\n              ^^\n",
            e.message
        )
    );
    // Display names the bytes; the error is a std error.
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().starts_with("at bytes 10..12: "));
    // A shape error from the library points at the operator's whole text.
    let (_, yd) = floats(4, 3);
    let e = expr::parse("x + y", [("x", &xd), ("y", &yd)]).unwrap_err();
    assert_eq!(e.span, Span::new(0, 5));
    let e = expr::parse("x[:, 4]", [("x", &xd)]).unwrap_err();
    assert!(e.message.contains("out of bounds"), "{e}");
    assert_eq!(e.span, Span::new(5, 6));
}

/// One parser: `select_str(t)` and the expression `x[t]` select the same values (integers of
/// any size and arithmetic of literals included) and refuse the same text.
#[test]
fn select_str_and_expression_indexing_agree() {
    let (x, xd) = floats(8, 6);
    for (text, want) in [
        ("1:, ::-1", x.slice(s![1.., ..;-1]).to_owned().into_dyn()),
        ("-3:, 2", x.slice(s![-3.., 2]).to_owned().into_dyn()),
        (
            "(1):99999999999999999999999:2, ...",
            x.slice(s![1..;2, ..]).to_owned().into_dyn(),
        ),
        (
            "[0, -1], 1_0 // 5",
            x.select(Axis(0), &[0, 7])
                .slice(s![.., 2])
                .to_owned()
                .into_dyn(),
        ),
        (
            "None, 3",
            x.slice(s![3, ..])
                .insert_axis(Axis(0))
                .to_owned()
                .into_dyn(),
        ),
    ] {
        let by_expr = f32s(&expr::parse(&format!("x[{text}]"), [("x", &xd)]).unwrap());
        assert_eq!(by_expr, want, "x[{text}]");
        assert_eq!(f32s(&xd.select_str(text).unwrap()), want, "{text}");
    }
    for bad in [
        "1:2:0",
        "[1, 2",
        "a",
        "1.5",
        "(1, 2)",
        "9223372036854775808",
    ] {
        assert!(
            matches!(SliceArg::parse(bad), Err(Error::Index(_))),
            "{bad}"
        );
        assert!(
            expr::parse(&format!("x[{bad}]"), [("x", &xd)]).is_err(),
            "x[{bad}]"
        );
    }
}

/// `std::ops` on lazy arrays: `&a + &b`, a scalar on either side (numpy 2's weak scalars: the
/// array's type is kept), `-&a`, `!&mask`, and typed arrays; against ndarray's arithmetic.
#[test]
fn operators_on_arrays_and_scalars_match_ndarray() {
    let (x, xd) = floats(3, 4);
    let y = (&(2.0 - &xd).unwrap() * &xd).unwrap();
    assert_eq!(y.dtype(), DType::F32);
    assert_close(&f32s(&y), &x.mapv(|v| (2.0 - v) * v));
    let z = ((&xd / 4.0).unwrap() - 1).unwrap();
    assert_close(&f32s(&z), &x.mapv(|v| v / 4.0 - 1.0));
    let n = (-&xd).unwrap();
    assert_close(&f32s(&n), &x.mapv(|v| -v));
    let r = (7.5 % (&(&xd * &xd).unwrap() + 1.0).unwrap()).unwrap();
    assert_close(&f32s(&r), &x.mapv(|v| 7.5f32.rem_euclid(v * v + 1.0)));

    // Integers: a scalar takes the array's type, and one it cannot hold is an error.
    let small = ndarray::Array1::from_iter((0..6).map(|v| v as i8 * 20 - 50)).into_dyn();
    let a = DynArray::from_ndarray(small.clone(), &[4]).unwrap();
    let d = (100 - &a).unwrap();
    assert_eq!(d.dtype(), DType::I8);
    let got = d.ndarray().unwrap().into_typed::<i8>().unwrap();
    assert_eq!(got, small.mapv(|v| 100i8.wrapping_sub(v)));
    let e = (&a + 300).unwrap_err();
    assert!(matches!(e, Error::DType(_)), "{e}");
    assert!(e.to_string().contains("300 out of bounds for int8"), "{e}");
    assert!(!e.to_string().contains("Python"), "{e}");
    assert_eq!((&a * 3u8).unwrap().dtype(), DType::I8);

    // Logical not of a comparison; shapes that do not broadcast are an error, not a panic.
    let mask = (!&xd.gt(5.0).unwrap()).unwrap();
    let m = mask.ndarray().unwrap().into_typed::<bool>().unwrap();
    assert_eq!(m, x.mapv(|v| v <= 5.0));
    let (_, other) = floats(2, 3);
    assert!(matches!((&xd + &other).unwrap_err(), Error::Shape(_)));

    // Typed arrays: promotion by type, as the named methods.
    let t = vastarray::Array::<f32>::from_ndarray(x.clone(), &[2, 2]).unwrap();
    let u = vastarray::Array::<f64>::from_ndarray(x.mapv(|v| v as f64 * 0.5), &[3, 4]).unwrap();
    let s = (&t + &u).unwrap().ndarray().unwrap();
    let want = x.mapv(|v| v as f64 + v as f64 * 0.5);
    assert_eq!(s, want);
    assert_eq!((-&t).unwrap().ndarray().unwrap(), x.mapv(|v| -v));
}

#[test]
fn negative_axes_count_from_the_end_everywhere() {
    let (x, xd) = floats(4, 6);
    // concatenate and stack along the last axis, as numpy's axis=-1.
    let c = DynArray::concatenate(&[xd.clone(), xd.clone()], -1).unwrap();
    let want = ndarray::concatenate(Axis(1), &[x.view(), x.view()]).unwrap();
    assert_eq!(f32s(&c), want);
    let st = DynArray::stack(&[xd.clone(), xd.clone(), xd.clone()], -1).unwrap();
    let want = ndarray::stack(Axis(2), &[x.view(), x.view(), x.view()]).unwrap();
    assert_eq!(f32s(&st), want);
    // insert_axis(-1) appends, as np.expand_dims(x, -1).
    let e = xd.insert_axis(-1).unwrap();
    assert_eq!(f32s(&e), x.clone().insert_axis(Axis(2)));
    assert_eq!(xd.insert_axis(-3).unwrap().shape(), &[1, 4, 6]);
    assert!(matches!(xd.insert_axis(-4), Err(Error::Axis(_))));
    // permute with negative axes, as np.transpose(x, (-1, 0)).
    let p = xd.permute(&[-1, 0]).unwrap();
    assert_eq!(f32s(&p), x.t().to_owned());
    assert!(matches!(xd.permute(&[-1, 1]), Err(Error::Axis(_))));
    assert!(matches!(
        DynArray::concatenate(std::slice::from_ref(&xd), -3),
        Err(Error::Axis(_))
    ));
}

#[test]
fn keepdims_ddof_and_mdtol_are_options_of_the_plain_calls() {
    use vastarray::{Axes, Over};
    let (x, xd) = floats(5, 4);
    let x64 = x.mapv(|v| v as f64);
    let get = |d: DynArray| d.ndarray().unwrap().into_typed::<f32>().unwrap();
    // mean over the last axis, keepdims: shape (5, 1), equal to ndarray's mean_axis.
    let m = get(xd.mean(Over::axes(-1).keepdims()).unwrap());
    assert_eq!(m.shape(), &[5, 1]);
    let want = x64.mean_axis(Axis(1)).unwrap().insert_axis(Axis(1));
    for (g, w) in m.iter().zip(&want) {
        assert!((*g as f64 - w).abs() < 1e-5, "{g} vs {w}");
    }
    // std with ddof 1 over axis 0, against a hand-written loop.
    let s = get(xd.std(Over::axes(0).ddof(1.0)).unwrap());
    for c in 0..4 {
        let col: Vec<f64> = (0..5).map(|r| x64[[r, c]]).collect();
        let mean = col.iter().sum::<f64>() / 5.0;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
        assert!((s[[c]] as f64 - var.sqrt()).abs() < 1e-5, "column {c}");
    }
    // Every axis, kept: shape (1, 1); plain calls default to ddof 0.
    let all = get(xd.sum(Axes::All.keepdims()).unwrap());
    assert_eq!(all.shape(), &[1, 1]);
    assert!((all[[0, 0]] as f64 - x64.sum()).abs() < 1e-3);
    let v0 = get(xd.var(Axes::All).unwrap());
    let mean = x64.mean().unwrap();
    let var0 = x64.mapv(|v| (v - mean).powi(2)).mean().unwrap();
    assert!((v0[[]] as f64 - var0).abs() < 1e-4);
    // mdtol: a column with one NaN in five is NaN when at most 10% may be missing.
    let mut with_nan = x.clone();
    with_nan[[2, 1]] = f32::NAN;
    let nd = DynArray::from_ndarray(with_nan, &[2, 2]).unwrap();
    let strict = get(nd.nanmean(Over::axes(0).mdtol(0.1)).unwrap());
    let lenient = get(nd.nanmean(0).unwrap());
    assert!(strict[[1]].is_nan() && !lenient[[1]].is_nan());
    let kept: Vec<f64> = (0..5).filter(|&r| r != 2).map(|r| x64[[r, 1]]).collect();
    assert!((lenient[[1]] as f64 - kept.iter().sum::<f64>() / 4.0).abs() < 1e-5);
}

#[test]
fn every_integer_type_is_an_operand_checked_against_the_array_type() {
    let big = ndarray::Array1::from_vec(vec![0u64, 1, u64::MAX - 5]).into_dyn();
    let a = DynArray::from_ndarray(big.clone(), &[2]).unwrap();
    let n: usize = 3;
    let got = (&a + n)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<u64>()
        .unwrap();
    assert_eq!(got, big.mapv(|v| v.wrapping_add(3)));
    let near_max = a
        .sub(u64::MAX - 5)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<u64>();
    assert_eq!(
        near_max.unwrap(),
        big.mapv(|v| v.wrapping_sub(u64::MAX - 5))
    );
    // A u64 beyond int8 meets an int8 array: an overflow error, not a wrap.
    let (_, i) = ints(4);
    let small = i.cast(DType::I8).unwrap();
    let e = small.add(u64::MAX).unwrap_err();
    assert!(matches!(e, Error::DType(_)), "{e}");
    assert!(e.to_string().contains("18446744073709551615"), "{e}");
    // isize and i128 too.
    let got = i
        .add(-2isize)
        .unwrap()
        .ndarray()
        .unwrap()
        .into_typed::<i32>()
        .unwrap();
    let (want, _) = ints(4);
    assert_eq!(got, want.mapv(|v| v - 2));
    assert!(i.add(i128::MAX).is_err());
}
