//! URLs of a Caterva2 server: normalising the base URL, percent-encoding dataset paths, and
//! parsing the CLI's `c2+http://HOST:PORT/@public/NAME.b2nd` form.

use crate::error::{Error, Result};

/// Checks that `base` is an `http://` or `https://` URL and returns it with exactly one
/// trailing slash, ready for `api/...` to be appended.
pub(super) fn normalize_base(base: &str) -> Result<String> {
    let b = base.trim();
    let rest = b
        .strip_prefix("http://")
        .or_else(|| b.strip_prefix("https://"))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "Caterva2 base URL {b:?} must start with http:// or https://"
            ))
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Error::Invalid(format!(
            "Caterva2 base URL {b:?} names no host"
        )));
    }
    if b.contains(['?', '#']) {
        return Err(Error::Invalid(format!(
            "Caterva2 base URL {b:?} must not have a query or a fragment"
        )));
    }
    Ok(format!("{}/", b.trim_end_matches('/')))
}

/// Checks a dataset path such as `@public/dir/x.b2nd` (a root starting with `@`, then at least
/// one name) and returns it without leading or trailing slashes.
pub(super) fn normalize_path(path: &str) -> Result<String> {
    let p = path.trim().trim_matches('/');
    let bad = |why: &str| Error::Invalid(format!("Caterva2 dataset path {path:?} {why}"));
    if !p.starts_with('@') {
        return Err(bad("must start with a root such as @public"));
    }
    let parts: Vec<&str> = p.split('/').collect();
    if parts.len() < 2 {
        return Err(bad("names a root, not a dataset"));
    }
    if parts
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(bad("has an empty, `.` or `..` segment"));
    }
    Ok(p.to_string())
}

/// Percent-encodes a dataset path for a URL, keeping `/` and `@` and the unreserved characters.
pub(super) fn encode_path(path: &str) -> String {
    crate::http::percent_encode(path, |b| b == b'/' || b == b'@', "%20")
}

/// Splits `c2+http://HOST:PORT/[PREFIX/]@ROOT/NAME` (or `c2+https://`) into the server's base
/// URL (`http://HOST:PORT/[PREFIX/]`) and the dataset path (`@ROOT/NAME`). The path starts at
/// the first segment beginning with `@`.
///
/// ```
/// use vastarray::io::caterva2::parse_c2_url;
/// let (base, path) = parse_c2_url("c2+http://127.0.0.1:8000/@public/x.b2nd").unwrap();
/// assert_eq!(base, "http://127.0.0.1:8000/");
/// assert_eq!(path, "@public/x.b2nd");
/// ```
pub fn parse_c2_url(url: &str) -> Result<(String, String)> {
    let u = url.trim();
    let rest = u.strip_prefix("c2+").ok_or_else(|| {
        Error::Invalid(format!(
            "{u:?} is not a Caterva2 URL (c2+http://HOST:PORT/@ROOT/NAME)"
        ))
    })?;
    let scheme_end = rest.find("://").map(|i| i + 3).unwrap_or(0);
    let at = rest[scheme_end..]
        .find("/@")
        .map(|i| scheme_end + i)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "Caterva2 URL {u:?} names no dataset (expected /@ROOT/NAME after the host)"
            ))
        })?;
    let base = normalize_base(&rest[..at])?;
    let path = normalize_path(&rest[at + 1..])?;
    Ok((base, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_paths_and_urls() {
        assert_eq!(normalize_base("http://h:1").unwrap(), "http://h:1/");
        assert_eq!(normalize_base("https://h/c2//").unwrap(), "https://h/c2/");
        assert!(normalize_base("ftp://h").is_err());
        assert!(normalize_base("http://").is_err());
        assert!(normalize_base("http://h/?q").is_err());
        assert_eq!(
            normalize_path("/@public/a/b.b2nd").unwrap(),
            "@public/a/b.b2nd"
        );
        assert!(normalize_path("public/a").is_err());
        assert!(normalize_path("@public").is_err());
        assert!(normalize_path("@public/../x").is_err());
        let (b, p) = parse_c2_url("c2+https://h:9/pre/@shared/d/x.b2nd").unwrap();
        assert_eq!(
            (b.as_str(), p.as_str()),
            ("https://h:9/pre/", "@shared/d/x.b2nd")
        );
        assert!(parse_c2_url("http://h/@public/x").is_err());
        assert!(parse_c2_url("c2+http://h/x.b2nd").is_err());
        assert!(parse_c2_url("c2+http://h/@public").is_err());
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_path("@public/a b%.b2nd"), "@public/a%20b%25.b2nd");
    }
}
