//! Fuzzing the expression language (issue 11): arbitrary and near-valid text through the
//! lexer, the parser, the builder and evaluation on small arrays. Every outcome is a result or
//! an error whose span lies inside the text; nothing panics, overflows its stack or hangs.
//! `VASTARRAY_FUZZ_CASES` sets the number of cases (`make fuzz` runs many more).

use crate::common;

use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeMap;
use vastarray::expr::{parse_expression, parse_selection, Builder, ExprError, Span};
use vastarray::{DynArray, EvalConfig};

/// Small inputs of several types and shapes, an empty one and a 0-d one among them.
fn inputs() -> BTreeMap<String, DynArray> {
    use ndarray::Dimension;
    let f = |shape: &[usize], k: f64| {
        ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(shape), |ix| {
            ix.slice().iter().fold(k, |acc, &i| acc * 3.0 + i as f64) - 7.5
        })
    };
    let mut m = BTreeMap::new();
    let a = f(&[6, 8], 1.0).mapv(|v| v as f32);
    m.insert("a".into(), DynArray::from_ndarray(a, &[4, 3]).unwrap());
    m.insert(
        "b".into(),
        DynArray::from_ndarray(f(&[8], 2.0), &[3]).unwrap(),
    );
    let i = f(&[6, 8], 3.0).mapv(|v| v as i32);
    m.insert("i".into(), DynArray::from_ndarray(i, &[6, 8]).unwrap());
    let u = f(&[6, 8], 0.0).mapv(|v| v.rem_euclid(256.0) as u8);
    m.insert("u".into(), DynArray::from_ndarray(u, &[2, 8]).unwrap());
    let q = f(&[6, 8], 5.0).mapv(|v| v as i64 * 1_000_000_007);
    m.insert("q".into(), DynArray::from_ndarray(q, &[3, 3]).unwrap());
    let mask = f(&[6, 8], 4.0).mapv(|v| v.rem_euclid(3.0) < 1.0);
    m.insert("m".into(), DynArray::from_ndarray(mask, &[6, 4]).unwrap());
    let z = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[0, 3]));
    m.insert("z".into(), DynArray::from_ndarray(z, &[1, 3]).unwrap());
    m.insert("s".into(), DynArray::scalar(2.5f64));
    m
}

/// Checks that an error points inside `text` and renders with its caret.
fn check_error(text: &str, e: ExprError) {
    assert!(
        e.span.start <= e.span.end && e.span.end <= text.len(),
        "span {:?} outside {text:?} ({})",
        e.span,
        e.message
    );
    assert!(!e.message.is_empty());
    let shown = e.render(text);
    assert!(shown.contains('^'), "{shown}");
}

/// Parses, builds and (when small) evaluates `text`; panics only if something is wrong.
fn run(text: &str, inputs: &BTreeMap<String, DynArray>) {
    let expr = match parse_expression(text) {
        Ok(e) => e,
        Err(e) => return check_error(text, e),
    };
    let array = match Builder::new(inputs).build(&expr) {
        Ok(a) => a,
        Err(e) => return check_error(text, e),
    };
    if array.size() > 100_000 {
        return;
    }
    let cfg = EvalConfig::with_budget(16 << 20).threads(2);
    if let Ok(data) = array.ndarray_with(&cfg) {
        // What evaluation gives is what the graph promised.
        assert_eq!(data.shape(), array.shape(), "{text}");
        assert_eq!(data.dtype(), array.dtype(), "{text}");
    }
}

/// Names, numbers (extremes among them), operators, brackets and punctuation.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "i",
    "u",
    "q",
    "m",
    "z",
    "s",
    "x",
    "np.",
    "sqrt",
    "mean",
    "sum",
    "std",
    "var",
    "min",
    "nanmax",
    "count",
    "where",
    "astype",
    "transpose",
    "concatenate",
    "stack",
    "minimum",
    "log",
    "abs",
    "invert",
    "axis",
    "keepdims",
    "ddof",
    "True",
    "False",
    "None",
    "nan",
    "inf",
    "pi",
    "'f4'",
    "'int8'",
    "float32",
    "uint8",
    "bool",
    "0",
    "1",
    "2",
    "-1",
    "3",
    "7",
    "255",
    "256",
    "65536",
    "2147483648",
    "4294967296",
    "1e308",
    "1e-320",
    "0.5",
    "1.",
    ".5",
    "1_000",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "&",
    "|",
    "~",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    ".",
    "...",
    ".T",
    " ",
    "'",
    "\"",
    "^",
    "!",
    "@",
    "é",
    "\u{0}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat())
}

/// Expressions from the grammar (mostly valid), then maybe mutated.
fn near_valid() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["a", "b", "i", "u", "q", "m", "z", "s"]).prop_map(String::from),
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "2",
            "255",
            "-129",
            "4294967296",
            "0.5",
            "nan",
            "inf",
            "True",
            "None",
        ])
        .prop_map(String::from),
    ];
    let expr = leaf.prop_recursive(6, 48, 4, |inner| {
        let item = prop_oneof![
            inner.clone(),
            Just(":".to_string()),
            Just("::-1".to_string()),
            Just("...".to_string()),
            Just("None".to_string()),
            (
                -12i64..12,
                -12i64..12,
                prop::sample::select(vec![-3i64, -1, 1, 2, 1 << 32])
            )
                .prop_map(|(a, b, c)| format!("{a}:{b}:{c}")),
            prop::collection::vec(-9i64..9, 0..4).prop_map(|v| format!(
                "[{}]",
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ];
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "//", "%", "**", "&", "|", "<", "==", "!="
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (prop::sample::select(vec!["-", "+", "~"]), inner.clone())
                .prop_map(|(op, a)| format!("{op}{a}")),
            (
                prop::sample::select(vec![
                    "sqrt",
                    "log",
                    "abs",
                    "floor",
                    "invert",
                    "negative",
                    "transpose",
                    "asarray"
                ]),
                inner.clone()
            )
                .prop_map(|(f, a)| format!("{f}({a})")),
            (
                prop::sample::select(vec!["sum", "mean", "std", "var", "min", "nanmax", "count"]),
                inner.clone(),
                prop::sample::select(vec![
                    "",
                    ", axis=0",
                    ", axis=1",
                    ", axis=-1",
                    ", axis=(0, 1)",
                    ", axis=2",
                    ", keepdims=True",
                    ", ddof=1",
                    ", axis=None"
                ])
            )
                .prop_map(|(f, a, k)| format!("{f}({a}{k})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, a, b)| format!("where({c} > 0, {a}, {b})")),
            (
                inner.clone(),
                prop::sample::select(vec![
                    "'f4'", "'int8'", "'uint64'", "'bool'", "float", "'c8'"
                ])
            )
                .prop_map(|(a, t)| format!("astype({a}, {t})")),
            (
                inner.clone(),
                inner.clone(),
                prop::sample::select(vec!["0", "1", "-1", "5"])
            )
                .prop_map(|(a, b, ax)| format!("concatenate([{a}, {b}], axis={ax})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("stack(({a}, {b}))")),
            (inner.clone(), prop::collection::vec(item, 1..4))
                .prop_map(|(a, items)| format!("{a}[{}]", items.join(", "))),
            inner.clone().prop_map(|a| format!("{a}.T")),
            inner.prop_map(|a| format!("{a}.sum(axis=0)")),
        ]
    });
    let edit = (
        any::<prop::sample::Index>(),
        prop::sample::select(TOKENS),
        0u8..3,
    );
    // Two in three expressions as generated, the others damaged by one to three edits.
    let edits = prop_oneof![
        2 => Just(vec![]),
        1 => prop::collection::vec(edit, 1..4),
    ];
    (expr, edits).prop_map(|(mut text, edits)| {
        for (at, tok, kind) in edits {
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            match kind {
                0 => text.insert_str(cut, tok),
                1 if cut < text.len() => {
                    let next = text[cut..].chars().next().map_or(0, char::len_utf8);
                    text.replace_range(cut..cut + next, "");
                }
                _ => text.truncate(cut),
            }
        }
        text
    })
}

fn config() -> Config {
    Config {
        cases: common::fuzz_cases(),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_gives_a_result_or_an_error(text in "\\PC{0,60}") {
        run(&text, &inputs());
    }

    #[test]
    fn token_soup_gives_a_result_or_an_error(text in token_soup()) {
        run(&text, &inputs());
    }

    #[test]
    fn near_valid_expressions_give_a_result_or_an_error(text in near_valid()) {
        run(&text, &inputs());
    }

    #[test]
    fn selections_give_a_result_or_an_error(text in prop_oneof![token_soup(), "\\PC{0,40}"]) {
        let inputs = inputs();
        match parse_selection(&text) {
            Err(e) => check_error(&text, e),
            Ok(items) => {
                let b = Builder::new(&inputs);
                match b.index(&inputs["a"], &items, Span::new(0, text.len())) {
                    Err(e) => check_error(&text, e),
                    Ok(sel) => {
                        if sel.size() <= 100_000 {
                            let data = sel.ndarray().unwrap();
                            prop_assert_eq!(data.shape(), sel.shape());
                        }
                    }
                }
            }
        }
    }
}

/// Slice bounds and steps near `i64::MAX` (issue 11, finding 1), through the expression
/// language, give numpy's answers. The random cases above keep their numbers below 2^33.
#[test]
fn slice_steps_near_the_largest_integer_follow_numpy() {
    let a = ndarray::Array::from_shape_fn((4, 6), |(i, j)| (i * 6 + j) as f32).into_dyn();
    let mut inputs = BTreeMap::new();
    inputs.insert("a".to_string(), DynArray::from_ndarray(a, &[2, 3]).unwrap());
    let value = |text: &str| {
        let expr = parse_expression(text).unwrap();
        Builder::new(&inputs).build(&expr).unwrap()
    };
    // numpy: 15.0, (1, 6) and (1,).
    let s = value("sum(a[::9223372036854775807])").ndarray().unwrap();
    assert_eq!(s.into_typed::<f32>().unwrap()[[]], 15.0);
    assert_eq!(value("a[::9223372036854775807]").shape(), &[1, 6]);
    let e = value("a[2, ..., 3:4611686018427387904:9223372036854775807]");
    assert_eq!(e.shape(), &[1]);
    assert_eq!(e.ndarray().unwrap().into_typed::<f32>().unwrap()[[0]], 15.0);
}

/// Deep nesting is refused at the parser's limit, in a thread with a small stack (where any
/// recursion without bound would overflow).
#[test]
fn deep_nesting_is_an_error_even_on_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            let inputs = inputs();
            for text in [
                format!("{}a", "-".repeat(1500)),
                format!("{}a{}", "(".repeat(5000), ")".repeat(5000)),
                format!("{}a{}", "sqrt(".repeat(5000), ")".repeat(5000)),
                "(".repeat(10_000),
                format!("{}1{}", "[".repeat(3000), "]".repeat(3000)),
            ] {
                let e = parse_expression(&text).unwrap_err();
                assert!(e.message.contains("nests more than"), "{}", e.message);
                run(&text, &inputs);
            }
            let e = parse_selection(&"(".repeat(5000)).unwrap_err();
            assert!(e.message.contains("nests more than"), "{}", e.message);
        })
        .unwrap()
        .join()
        .unwrap();
}

/// A sum of 5,000 terms is a tree 5,000 levels deep: it parses and builds on a small stack
/// (the builder grows its stack), and its graph is as deep.
#[test]
fn long_sums_build_on_a_small_stack_and_deeper_graphs_are_refused() {
    std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(|| {
            let inputs = inputs();
            let sum = vec!["a"; 5000].join(" + ");
            let expr = parse_expression(&sum).unwrap();
            let array = Builder::new(&inputs).build(&expr).unwrap();
            assert_eq!(array.shape(), &[6, 8]);
            assert_eq!(array.node().depth, 5000);
            // Past the graph's limit: refused with an error at the operator that went too deep.
            let text = vec!["b"; vastarray::graph::MAX_DEPTH + 1].join("+");
            let expr = parse_expression(&text).unwrap();
            let e = Builder::new(&inputs).build(&expr).unwrap_err();
            assert!(e.message.contains("operations deep"), "{}", e.message);
            assert_eq!(e.span, Span::new(0, text.len()));
            // Literals fold to one number however many there are.
            let ones = vec!["1"; 20_000].join("+");
            let expr = parse_expression(&ones).unwrap();
            let one = Builder::new(&inputs).build(&expr).unwrap();
            assert_eq!(
                one.ndarray().unwrap().into_typed::<i64>().unwrap()[[]],
                20_000
            );
        })
        .unwrap()
        .join()
        .unwrap();
}
