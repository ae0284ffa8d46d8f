//! Fuzzing the selection text parser (`SliceArg::parse`) and `select_str`: arbitrary strings,
//! strings over the selection alphabet, and near-valid selection text (valid items with huge
//! integers, deep brackets, and one mutation) on small arrays. Nothing may panic; every failure
//! is an `Error` (parse errors an `Error::Index` naming the selection); every accepted
//! selection evaluates to the shape it announced. Cases: `common::fuzz_cases()`.

use crate::common;

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::test_runner::Config;
use vastarray::{DynArray, Error, SliceArg};

fn arrays() -> Vec<DynArray> {
    [vec![4usize, 6], vec![3, 0, 2], vec![5], vec![]]
        .iter()
        .map(|shape| {
            let total: usize = shape.iter().product();
            let a = ArrayD::from_shape_vec(IxDyn(shape), (0..total as i32).collect::<Vec<_>>())
                .unwrap();
            let chunks: Vec<usize> = shape.iter().map(|&n| n.clamp(1, 2)).collect();
            DynArray::from_ndarray(a, &chunks).unwrap()
        })
        .collect()
}

/// Parses `text`, selects it from each array and evaluates what was accepted.
fn check(text: &str, arrays: &[DynArray]) -> Result<(), TestCaseError> {
    match SliceArg::parse(text) {
        Ok(_) => {}
        Err(Error::Index(m)) => prop_assert!(m.contains("selection"), "{m}"),
        Err(e) => prop_assert!(false, "parse error of the wrong kind: {e}"),
    }
    for a in arrays {
        match a.select_str(text) {
            Ok(b) => {
                let v = b.ndarray();
                prop_assert!(v.is_ok(), "{text:?} on {:?}: {:?}", a.shape(), v.err());
                let v = v.unwrap();
                prop_assert_eq!(v.shape(), b.shape());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
    Ok(())
}

fn config() -> Config {
    Config {
        cases: common::fuzz_cases(),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Integers a selection might carry: small, at the i64 edges, and beyond them.
fn int_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (-8i64..9).prop_map(|v| v.to_string()),
        prop::sample::select(vec![
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "-9223372036854775809",
            "4611686018427387904",
            "1000000000000000000000000000000",
            "-1000000000000000000000000000000000000000000000000000",
            "1_000",
            "+3",
            "- 2",
            "(2)",
            "((-1))",
        ])
        .prop_map(String::from),
        any::<i64>().prop_map(|v| v.to_string()),
    ]
}

fn item_text() -> impl Strategy<Value = String> {
    let opt = prop_oneof![Just(String::new()), Just("None".to_string()), int_text()];
    prop_oneof![
        (opt.clone(), opt.clone()).prop_map(|(a, b)| format!("{a}:{b}")),
        (opt.clone(), opt.clone(), opt).prop_map(|(a, b, c)| format!("{a}:{b}:{c}")),
        int_text(),
        Just("...".to_string()),
        Just("None".to_string()),
        prop::collection::vec(int_text(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        prop::collection::vec(prop::bool::ANY, 0..7).prop_map(|v| {
            let v: Vec<&str> = v
                .iter()
                .map(|b| if *b { "True" } else { "False" })
                .collect();
            format!("[{}]", v.join(", "))
        }),
        (0usize..80, int_text()).prop_map(|(d, i)| format!(
            "{}{i}{}",
            "(".repeat(d),
            ")".repeat(d)
        )),
        (0usize..80).prop_map(|d| format!("{}0{}", "[".repeat(d), "]".repeat(d))),
    ]
}

/// Valid-looking selection text, then one mutation: a character deleted, inserted or doubled.
fn near_valid() -> impl Strategy<Value = String> {
    let sel = prop::collection::vec(item_text(), 0..5).prop_map(|v| v.join(", "));
    let inserted = prop::sample::select(vec![
        ':', ',', '[', ']', '(', ')', '-', '+', '_', '.', ' ', '0', '9', 'N', 'é',
    ]);
    (sel, 0u8..4, any::<prop::sample::Index>(), inserted).prop_map(|(s, m, at, ch)| {
        let chars: Vec<char> = s.chars().collect();
        if chars.is_empty() || m == 0 {
            return s;
        }
        let i = at.index(chars.len());
        let mut out: Vec<char> = chars.clone();
        match m {
            1 => {
                out.remove(i);
            }
            2 => out.insert(i, ch),
            _ => out.insert(i, chars[i]),
        }
        out.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        check(&text, &arrays())?;
    }

    #[test]
    fn strings_over_the_selection_alphabet(text in "[-0-9:,()\\[\\] .+_NoneTrueFalsEip]{0,48}") {
        check(&text, &arrays())?;
    }

    #[test]
    fn near_valid_selections(text in near_valid()) {
        check(&text, &arrays())?;
    }
}

/// Deep and long inputs in one go: refused or parsed without a stack overflow.
#[test]
fn deep_and_long_inputs() {
    let arrays = arrays();
    for text in [
        "(".repeat(100_000),
        ")".repeat(100_000),
        "[".repeat(100_000),
        format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000)),
        format!("[{}]", vec!["1"; 100_000].join(",")),
        vec![":"; 10_000].join(","),
        "9".repeat(100_000),
        format!("::{}", "9".repeat(10_000)),
    ] {
        check(&text, &arrays).unwrap();
    }
}
