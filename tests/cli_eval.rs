//! `vastarray eval` end to end: every expression is evaluated by the built binary (`--json`)
//! and by numpy on the same files (written by numpy, h5py and python-blosc2), and the results
//! compared: shape and dtype exactly, values exactly for selections and integers, within 1e-6
//! (float32) or 1e-12 (float64) of the result's magnitude otherwise. Errors exit 2 with a
//! caret under the text at fault.

// Runs the `vastarray` binary (the `cli` feature).
#![cfg(feature = "cli")]

use crate::cli_support;

use cli_support::{compare, input_args, numpy_results, vastarray, Cmp};
use Cmp::{Close, Exact, Loose};

/// (expression, how results must agree).
const CASES: &[(&str, Cmp)] = &[
    // Arithmetic operators, numpy 2 promotion (float32 with float64 gives float64).
    ("a + b", Close),
    ("a - b", Close),
    ("a * b", Close),
    ("a / b", Close),
    ("a // p", Close),
    ("a % p", Close),
    ("p ** 2", Close),
    ("p ** a", Close),
    ("-a", Exact),
    ("+a", Exact),
    ("a + a * p - p / 2", Close),
    // Integers: exact, numpy's floor division and modulo signs, uint8 wrapping.
    ("i + u", Exact),
    ("i - u", Exact),
    ("i * i", Exact),
    ("i // 7", Exact),
    ("i % 7", Exact),
    ("-i // 3", Exact),
    ("i % -4", Exact),
    ("i ** 2", Exact),
    ("i / 4", Close),
    ("u * 2", Exact),
    ("u + 100", Exact),
    ("-c", Exact),
    ("c // (i[:3, :4, None] + 100)", Exact),
    // Weak Python scalars (NEP 50): literals take the array's type.
    ("a * 2.5", Close),
    ("2.5 * a", Close),
    ("1 - a", Close),
    ("2 / p", Close),
    ("i * 2.5", Close),
    ("10 - u", Exact),
    ("a * (2 + 3)", Close),
    ("a / (1 / 4)", Close),
    ("a * True", Exact),
    ("m + 1", Exact),
    ("2 ** -1 * a", Close),
    ("7 // 2", Exact),
    ("-7 % 3", Exact),
    ("2 ** 10", Exact),
    ("1.5 * 2", Close),
    ("a * nan", Exact),
    ("a / 0", Exact),
    ("inf - p", Exact),
    // Precedence as in Python.
    ("a + b * 2 ** 2", Close),
    ("-p ** 2", Close),
    ("(a + 1) / (p - 3)", Close),
    ("a - b - p", Close),
    ("p ** 2 ** 0.5", Close),
    // Comparisons and boolean logic.
    ("a < 0", Exact),
    ("a <= b", Exact),
    ("a > b", Exact),
    ("a >= 0.5", Exact),
    ("a == a", Exact),
    ("i != 3", Exact),
    ("n == n", Exact),
    ("(a > 0) & (b < 0)", Exact),
    ("(a > 0) | m", Exact),
    ("~m", Exact),
    ("~(a > 0) & m | (i < 0)", Exact),
    ("i & 7", Exact),
    ("i | 1", Exact),
    ("~i", Exact),
    // Elementwise functions.
    ("sqrt(p)", Close),
    ("exp(a)", Close),
    ("log(p)", Close),
    ("log10(p)", Close),
    ("abs(a)", Exact),
    ("absolute(i)", Exact),
    ("sin(a)", Close),
    ("cos(a)", Close),
    ("tan(a)", Close),
    ("floor(a * 3)", Exact),
    ("ceil(a * 3)", Exact),
    ("floor(i)", Exact),
    ("sqrt(i)", Close),
    ("np.sqrt(p) + numpy.exp(a)", Close),
    ("sqrt(2) * a", Close),
    ("minimum(a, b)", Close),
    ("maximum(a, 0)", Exact),
    ("minimum(0.5, p)", Exact),
    ("maximum(i, u)", Exact),
    ("where(a > 0, a, 0)", Exact),
    ("where(m, i, u)", Exact),
    ("where(a > 0, 1, -1)", Exact),
    ("where(n == n, n, -1.0)", Exact),
    ("astype(a, 'int32')", Exact),
    ("astype(i, \"float32\") / 3", Close),
    ("a.astype('float64') + b", Close),
    ("astype(a > 0, 'uint8')", Exact),
    ("astype(u, 'int8')", Exact),
    // Structure.
    ("transpose(c)", Exact),
    ("transpose(c, (2, 0, 1))", Exact),
    ("transpose(c, (-1, 0, 1))", Exact),
    ("c.T", Exact),
    ("c.transpose(1, 0, 2)", Exact),
    ("concatenate([a, p], axis=0)", Exact),
    ("concatenate([a, b[None, :]])", Exact),
    ("concatenate([a, p], axis=-1)", Exact),
    ("concatenate([i, u], axis=1)", Exact),
    ("stack([a, p], axis=1)", Exact),
    ("stack([i, i])", Exact),
    ("stack([a, p], axis=-1)", Exact),
    // Indexing: integers, slices (negative steps), ..., None, one list or mask per indexing.
    ("a[1]", Exact),
    ("a[-1]", Exact),
    ("a[1:4]", Exact),
    ("a[::2]", Exact),
    ("a[::-1]", Exact),
    ("a[4:1:-2]", Exact),
    ("a[-2::-3, 7:0:-2]", Exact),
    ("a[1, -3:]", Exact),
    ("a[..., 0]", Exact),
    ("a[None, 1]", Exact),
    ("a[:, None]", Exact),
    ("a[1, 2]", Exact),
    ("c[1, ..., ::2]", Exact),
    ("c[..., None, 2:]", Exact),
    ("a[[0, 2, 5], :]", Exact),
    ("a[:, [7, 0, 3, 3]]", Exact),
    ("a[[-1, 0]]", Exact),
    ("a[[True, False, True, False, True, True]]", Exact),
    ("c[1, :, [0, 2]]", Exact),
    ("c[[0, 2], :, 1]", Exact),
    ("c[:, [0, 2], 1]", Exact),
    ("c[1, [0, 2], 1:3]", Exact),
    ("a[1:5][::-1][0]", Exact),
    ("a[:, ::3][1:]", Exact),
    ("a[:, ::-1][::2, 1:]", Exact),
    ("(a + p)[2:, ::-3]", Close),
    ("a[2:2]", Exact),
    // Reductions: axes, ddof, keepdims, NaN-skipping forms.
    ("sum(a)", Close),
    ("a.sum(axis=0)", Close),
    ("sum(a, 1)", Close),
    ("mean(a, axis=1)", Close),
    ("var(a, axis=0, ddof=1)", Close),
    ("std(a)", Close),
    ("a.std(axis=(0, 1), ddof=1.5)", Close),
    ("min(i, axis=0)", Exact),
    ("max(a, axis=1, keepdims=True)", Exact),
    ("amax(i)", Exact),
    ("count(n, axis=0)", Exact),
    ("count(i)", Exact),
    ("nansum(n)", Close),
    ("nanmean(n, axis=1)", Close),
    ("nanvar(n, ddof=1)", Close),
    ("nanstd(n, axis=0)", Close),
    ("nanmin(n, axis=1)", Exact),
    ("nanmax(n)", Exact),
    ("c.sum(axis=(0, 2))", Exact),
    ("c.mean(axis=-1)", Close),
    ("c.max(axis=(0, -1), keepdims=True)", Exact),
    ("sum(m)", Exact),
    ("sum(u)", Exact),
    ("mean(i)", Close),
    ("var(c, axis=1)", Close),
    ("sum(n)", Exact),
    ("min(n, axis=0)", Exact),
    // Reductions inside expressions (stages), reductions of expressions.
    ("a - a.mean(axis=0)", Close),
    ("(a - mean(a)) / std(a)", Close),
    ("p / p.sum(axis=1, keepdims=True)", Close),
    ("std(a - mean(a, axis=0), axis=0)", Close),
    ("sum(sqrt(p) * 2, axis=0)[::-1]", Close),
    ("mean(a[::2, 1:], axis=0) + b[1:]", Loose),
    // Other sources: Fortran-order and big-endian .npy, HDF5 (gzip + shuffle; int16), b2nd.
    ("g", Exact),
    ("g[1:, ::2, -1]", Exact),
    ("g.T + 1", Close),
    ("g.sum(axis=1)", Close),
    ("be * 2", Exact),
    ("be[::-1, 3]", Exact),
    ("h", Exact),
    ("h[::2, 1:]", Exact),
    ("h + k", Close),
    ("k", Exact),
    ("k.sum(axis=0)", Close),
    ("k[[1, 5], ::-2]", Exact),
    ("w * 2", Exact),
    ("w // 3 + h", Close),
    ("mean(w, axis=1)", Close),
    // A file of several chunks (3000 x 1000 float32, 12 MB).
    ("big.mean()", Close),
    ("big[::7, 100:900:3].sum(axis=0)", Close),
    ("big[100:140].std(axis=1)", Close),
    ("big[2990:, ::-250]", Exact),
    ("(big - big.mean(axis=0))[::500, :5]", Close),
    ("max(big, axis=0)[::97]", Exact),
];

#[test]
fn expressions_agree_with_numpy() {
    let exprs: Vec<&str> = CASES.iter().map(|(e, _)| *e).collect();
    let reference = numpy_results(&exprs);
    let inputs = input_args();
    let mut failures = Vec::new();
    for ((expr, cmp), theirs) in CASES.iter().zip(&reference) {
        let mut args: Vec<&str> = vec!["eval", expr, "--json"];
        args.extend(inputs.iter().map(String::as_str));
        let out = vastarray(&args);
        if out.code != 0 {
            failures.push(format!("{expr}: exit {}: {}", out.code, out.stderr));
            continue;
        }
        if let Err(e) = compare(&out.json(), theirs, *cmp) {
            failures.push(format!("{expr}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} expressions disagree with numpy:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// (expression, part of the message, first byte of the caret, carets).
const ERRORS: &[(&str, &str, usize, usize)] = &[
    ("a + zz", "unknown name 'zz'", 4, 2),
    ("a + bb", "did you mean 'b'", 4, 2),
    (
        "sqrtt(a)",
        "unknown function 'sqrtt'; did you mean 'sqrt'",
        0,
        5,
    ),
    ("a + b[:5]", "could not be broadcast", 0, 9),
    ("a.sum(axis=2)", "axis 2 is out of bounds", 11, 1),
    ("mean(c, axis=(0, 3))", "out of bounds", 13, 6),
    (
        "a[6]",
        "index 6 is out of bounds for axis 0 with size 6",
        2,
        1,
    ),
    ("a[:, -9]", "index -9 is out of bounds for axis 1", 5, 2),
    ("a[[0, 9], :]", "index 9 is out of bounds", 2, 6),
    ("a[1, 2, 3]", "too many indices", 8, 1),
    ("a[[True, False]]", "boolean index of length 2", 2, 13),
    ("a[::0]", "slice step cannot be zero", 4, 1),
    ("a[..., 1, ...]", "single ellipsis", 10, 3),
    ("a[[0, 1], [0, 1]]", "only one list", 10, 6),
    ("a[b > 0]", "indexing with an array is not supported", 2, 5),
    ("(a + 1", "expected ')'", 6, 1),
    ("a +", "'+' needs a right operand", 2, 1),
    ("a b", "unexpected the name 'b'", 2, 1),
    ("sqrt(a))", "unmatched ')'", 7, 1),
    ("a $ b", "unexpected character '$'", 2, 1),
    ("a ^ b", "'^' is not supported", 2, 1),
    ("a < b < 1", "chained comparisons", 6, 1),
    ("a > 0 & b < 0", "(a > 0) & (b < 1)", 10, 1),
    (
        "where(a > 0, a)",
        "where() is missing the argument 'y'",
        0,
        15,
    ),
    ("minimum(a)", "is missing the argument 'x2'", 0, 10),
    (
        "sqrt(a, p)",
        "sqrt() takes 1 positional argument but 2 were given",
        8,
        1,
    ),
    (
        "sum(a, axs=0)",
        "unexpected keyword argument 'axs'; did you mean 'axis'",
        7,
        3,
    ),
    (
        "mean(a, ddof=1)",
        "unexpected keyword argument 'ddof'",
        8,
        4,
    ),
    (
        "std(a, ddof=-1)",
        "ddof must be a non-negative number",
        12,
        2,
    ),
    (
        "sum(a, keepdims=2)",
        "keepdims must be True or False",
        16,
        1,
    ),
    (
        "u + 300",
        "Python integer 300 out of bounds for uint8",
        4,
        3,
    ),
    ("-1 + u", "Python integer -1 out of bounds for uint8", 0, 2),
    (
        "astype(a, 'complex64')",
        "unknown type \"complex64\"",
        10,
        11,
    ),
    ("astype(a, 3)", "expected a type name", 10, 1),
    ("transpose(c, (0, 1))", "axes don't match array", 13, 6),
    (
        "transpose(c, (0, 1, 5))",
        "axis 5 is out of bounds for array of dimension 3",
        20,
        1,
    ),
    ("concatenate([a, b])", "shape mismatch", 0, 19),
    (
        "concatenate([a, p], axis=2)",
        "axis 2 is out of bounds for array of dimension 2",
        25,
        1,
    ),
    (
        "concatenate([1, 2])",
        "zero-dimensional arrays cannot be concatenated",
        13,
        1,
    ),
    ("stack(a)", "takes a list of arrays", 6, 1),
    ("a & b", "& is not defined for float", 0, 5),
    ("~a", "~ is not defined for float32", 0, 2),
    ("1 / 0", "division by zero", 0, 5),
    ("2 ** 64", "integer overflow", 0, 7),
    ("99999999999999999999 + a", "does not fit in 64 bits", 0, 20),
    ("'float32' + a", "unsupported operand for +: a string", 0, 9),
    ("a(1)", "only functions can be called", 0, 1),
    ("sqrt + 1", "'sqrt' is a function", 0, 4),
    ("", "the expression is empty", 0, 1),
    ("2[0]", "only arrays can be indexed", 0, 1),
    ("a[1.5]", "an index is an integer", 2, 3),
    ("a.foo()", "unknown function 'foo'", 2, 3),
];

#[test]
fn bad_expressions_exit_2_with_a_caret() {
    let inputs = input_args();
    let mut failures = Vec::new();
    for (expr, message, start, width) in ERRORS {
        let mut args: Vec<&str> = vec!["eval", expr, "--json"];
        args.extend(inputs.iter().map(String::as_str));
        let out = vastarray(&args);
        let caret = format!("\n    {}{}\n", " ".repeat(*start), "^".repeat(*width));
        let ok = out.code == 2
            && out.stdout.is_empty()
            && out.stderr.contains(message)
            && out.stderr.contains(&format!("at byte {start}:"))
            && out.stderr.contains(&format!("\n    {expr}\n"))
            && out.stderr.contains(&caret);
        if !ok {
            failures.push(format!(
                "{expr:?}: exit {} (want 2), want {message:?} and a caret at {start} (width {width}):\n{}",
                out.code, out.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn numpy_agrees_that_the_errors_are_errors() {
    // The error cases that are errors in numpy too (the others are refused by design:
    // chained comparisons on arrays, list pairs, array indices, unknown functions).
    let shared = [
        "a + b[:5]",
        "a.sum(axis=2)",
        "a[6]",
        "a[1, 2, 3]",
        "a[::0]",
        "u + 300",
        "transpose(c, (0, 1))",
        "concatenate([a, b])",
        "a & b",
        "~a",
        "1 / 0",
        "astype(a, 'complex64') + 1",
    ];
    for (expr, r) in shared.iter().zip(numpy_results(&shared)) {
        // complex64 exists in numpy; vastarray has no complex type, so that one is ours only.
        if expr.contains("complex") {
            assert!(r.get("error").is_none());
            continue;
        }
        assert!(r.get("error").is_some(), "numpy accepts {expr}: {r}");
    }
}

#[test]
fn usage_errors_of_the_command_line_exit_2() {
    for args in [
        vec!["eval", "a"],
        vec!["eval", "a", "-i", "a"],
        vec!["eval", "a", "-i", "1a=a.npy"],
        vec!["eval", "a", "-i", "True=a.npy"],
        vec!["eval", "a", "-i", "a=a.npy", "-i", "a=p.npy"],
        vec!["eval", "a", "-i", "a=a.csv"],
        vec!["eval", "a", "-i", "a=a.npy", "--budget", "lots"],
        vec!["eval", "a", "-i", "a=a.npy", "--threads", "0"],
        vec!["eval", "a", "-i", "a=a.npy", "--out", "x.txt"],
        vec!["eval", "a", "-i", "a=a.npy", "--cache", "c.b2nd"],
        vec!["stats", "a.npy", "--select", "1:2:0"],
        vec!["stats", "a.npy", "--ddof", "-1"],
        vec!["frobnicate"],
        vec![],
    ] {
        let out = vastarray(&args);
        assert_eq!(out.code, 2, "{args:?}:\n{}{}", out.stdout, out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    // A selection error points into the selection.
    let out = vastarray(&["stats", "a.npy", "--select", "1, ::0"]);
    assert!(
        out.stderr.contains("error in the selection at byte 5"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\n    1, ::0\n         ^\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn results_too_large_to_print_exit_2_and_suggest_out() {
    let out = vastarray(&["eval", "big + 1", "-i", "big=big.npy"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("3000000 elements") && out.stderr.contains("--out"),
        "{}",
        out.stderr
    );
}

#[test]
fn runtime_failures_exit_1_naming_the_source() {
    let out = vastarray(&["eval", "a + 1", "-i", "a=missing.npy"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("missing.npy") && out.stderr.contains("cannot open"),
        "{}",
        out.stderr
    );
    let out = vastarray(&["eval", "h", "-i", "h=fix.h5:/nothing"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("fix.h5") && out.stderr.contains("/nothing"),
        "{}",
        out.stderr
    );
    let out = vastarray(&["info", "c2+http://127.0.0.1:9/@public/x.b2nd"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("127.0.0.1:9/api/info/@public/x.b2nd"),
        "{}",
        out.stderr
    );
}

#[test]
fn text_output_is_numpy_like() {
    let out = vastarray(&["eval", "c[0, :2, :3] + 20", "-i", "c=c.npy"]).ok();
    assert_eq!(out.stdout, "[[0, 1, 2],\n [5, 6, 7]]\n");
    let out = vastarray(&["eval", "nanmax(n) > 100", "-i", "n=n.npy"]).ok();
    assert_eq!(out.stdout, "False\n");
}
