//! Source stamps without credentials: what a persistent cache records about its source.

/// Query parameters whose values are credentials.
const SECRET_PARAMS: [&str; 17] = [
    "token",
    "access_token",
    "id_token",
    "auth",
    "authorization",
    "key",
    "api_key",
    "apikey",
    "password",
    "passwd",
    "pwd",
    "secret",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
];

/// Removes credentials from a source stamp before it is written anywhere: the user and
/// password of URLs (`https://user:pw@host/...`), the values of query parameters that carry
/// secrets (`token`, `access_token`, `key`, `sig`, `X-Amz-Signature`, ...) and cookie or
/// authorization values (`cookie=...`, `Bearer ...`). Credentials do not identify data, so two
/// stamps that differ only in them are equal after redaction.
///
/// ```
/// use vastarray::proxy::redact_credentials;
/// assert_eq!(
///     redact_credentials("https://bob:hunter2@example.org/a.b2nd?token=abc&v=2"),
///     "https://example.org/a.b2nd?token=REDACTED&v=2"
/// );
/// ```
pub fn redact_credentials(stamp: &str) -> String {
    let mut out = String::with_capacity(stamp.len());
    for (i, word) in stamp.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&redact_word(word));
    }
    // "Bearer <token>" and "Cookie: <value>" in free text.
    let mut words: Vec<String> = out.split(' ').map(str::to_string).collect();
    for k in 1..words.len() {
        let prev = words[k - 1].to_ascii_lowercase();
        if prev == "bearer" || prev == "cookie:" || prev == "basic" {
            words[k] = "REDACTED".into();
        }
    }
    words.join(" ")
}

fn redact_word(word: &str) -> String {
    let mut w = word.to_string();
    // URL user info.
    if let Some(p) = w.find("://") {
        let rest = &w[p + 3..];
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            w = format!("{}{}", &w[..p + 3], &rest[at + 1..]);
        }
    }
    // key=value pairs separated by ? & ; | or ,
    let mut out = String::with_capacity(w.len());
    let mut rest = w.as_str();
    loop {
        let cut = rest.find(['?', '&', ';', '|', ',']);
        let (part, sep, next) = match cut {
            Some(c) => (&rest[..c], &rest[c..c + 1], &rest[c + 1..]),
            None => (rest, "", ""),
        };
        match part.split_once('=') {
            Some((k, _)) if is_secret(k) => {
                out.push_str(k);
                out.push_str("=REDACTED");
            }
            _ => out.push_str(part),
        }
        out.push_str(sep);
        if cut.is_none() {
            break;
        }
        rest = next;
    }
    out
}

fn is_secret(key: &str) -> bool {
    let k = key.trim().to_ascii_lowercase();
    SECRET_PARAMS.contains(&k.as_str())
        || k.contains("cookie")
        || k.contains("token")
        || k.contains("password")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_secrets_keeps_identity() {
        let s = redact_credentials("url=https://u:p@h.org/x?a=1&access_token=SECRET etag=\"abc\" Bearer SECRET2 c2subauth_cookie=SECRET3");
        assert!(!s.contains("SECRET") && !s.contains("u:p@"), "{s}");
        assert!(
            s.contains("h.org/x?a=1") && s.contains("etag=\"abc\""),
            "{s}"
        );
        assert_eq!(
            redact_credentials("file:/a/b.h5|size=10|mtime_ns=5"),
            "file:/a/b.h5|size=10|mtime_ns=5"
        );
    }
}
