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
