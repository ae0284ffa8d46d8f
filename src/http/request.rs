//! [`HttpRequest`] and [`HttpResponse`]: what [`super::HttpClient::send`] sends (a GET or a
//! form POST, with extra headers) and what it answers (status, headers, body).

use bytes::Bytes;

/// A request for [`super::HttpClient::send`]: a GET, or a POST of an
/// `application/x-www-form-urlencoded` form, with extra headers. Its `Debug` output shows
/// header names but never their values nor the form (they may hold credentials).
#[derive(Clone)]
pub struct HttpRequest {
    pub(crate) url: String,
    pub(crate) form: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) passing: Vec<u16>,
}

impl HttpRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            url: url.into(),
            form: None,
            headers: Vec::new(),
            passing: Vec::new(),
        }
    }

    /// A POST of `fields` to `url` as an `application/x-www-form-urlencoded` body (space as
    /// `+`, everything but the unreserved characters percent-encoded).
    pub fn form(url: impl Into<String>, fields: &[(&str, &str)]) -> Self {
        let body = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    percent_encode(k, |_| false, "+"),
                    percent_encode(v, |_| false, "+")
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        HttpRequest {
            form: Some(body),
            ..HttpRequest::get(url)
        }
    }

    /// Adds a request header (such as `Cookie`). An invalid name or value makes the request
    /// fail with an error, not a panic.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Lets an unsuccessful `status` through as an answer instead of an error (and never
    /// retries it), for callers that act on it: a 404 read as "missing", a 401 answered by
    /// logging in again. Other unsuccessful statuses are retried (5xx, 408, 429) or errors.
    pub fn passing(mut self, status: u16) -> Self {
        self.passing.push(status);
        self
    }

    /// The URL requested.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The form body of a POST (`None` for a GET).
    pub fn form_body(&self) -> Option<&str> {
        self.form.as_deref()
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &if self.form.is_some() { "POST" } else { "GET" })
            .field("url", &self.url)
            .field("headers", &names)
            .field("passing", &self.passing)
            .finish_non_exhaustive()
    }
}

/// What a server answered to [`super::HttpClient::send`]: a success (2xx), or an unsuccessful
/// status the request let through with [`HttpRequest::passing`] (its body then holds at most
/// the first 4 KiB). Its `Debug` output shows header names and the body's length only.
#[derive(Clone)]
pub struct HttpResponse {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers in the order received, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl HttpResponse {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (any case), in order: `Set-Cookie` comes once per cookie.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The message an unsuccessful status gives: `HTTP 401 Unauthorized`, followed by the
    /// server's JSON `detail` string if its body has one (never the rest of the body, which
    /// might echo the request).
    pub fn status_message(&self) -> String {
        match reqwest::StatusCode::from_u16(self.status) {
            Ok(status) => status_message(status, &self.body),
            Err(_) => format!("HTTP {}", self.status),
        }
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// `HTTP 503 Service Unavailable (busy)`: the status and the server's JSON `detail` string, if
/// `body` has one (control characters removed, at most 200 characters).
pub(crate) fn status_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail")?.as_str().map(str::to_string))
        .map(|d| {
            d.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        });
    match detail {
        Some(d) => format!("HTTP {status} ({d})"),
        None => format!("HTTP {status}"),
    }
}

/// Percent-encodes `s`, keeping the unreserved characters and those `keep` accepts, writing a
/// space as `space` (`"+"` in forms, `"%20"` in paths).
pub(crate) fn percent_encode(s: &str, keep: impl Fn(u8) -> bool, space: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || keep(b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push_str(space);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded_and_debug_output_hides_values() {
        let r = HttpRequest::form(
            "http://h/login",
            &[("username", "a@b.c"), ("password", "p s&=é")],
        )
        .header("Cookie", "c2subauth=secret-token");
        assert_eq!(
            r.form_body(),
            Some("username=a%40b.c&password=p+s%26%3D%C3%A9")
        );
        let shown = format!("{r:?}");
        assert!(
            shown.contains("POST") && shown.contains("Cookie"),
            "{shown}"
        );
        assert!(
            !shown.contains("secret") && !shown.contains("p+s"),
            "{shown}"
        );
    }

    #[test]
    fn headers_by_name_and_status_messages() {
        let r = HttpResponse {
            status: 503,
            headers: vec![
                ("set-cookie".into(), "a=1; Path=/".into()),
                ("etag".into(), "\"v1\"".into()),
                ("set-cookie".into(), "b=2".into()),
            ],
            body: Bytes::from_static(br#"{"detail":"busy\nnow"}"#),
        };
        assert_eq!(r.header("ETag"), Some("\"v1\""));
        assert_eq!(
            r.header_values("Set-Cookie").collect::<Vec<_>>(),
            vec!["a=1; Path=/", "b=2"]
        );
        assert_eq!(r.header("last-modified"), None);
        assert!(!r.is_success());
        assert_eq!(r.status_message(), "HTTP 503 Service Unavailable (busynow)");
        let plain = HttpResponse {
            status: 404,
            headers: vec![],
            body: Bytes::from_static(b"<html>no</html>"),
        };
        assert_eq!(plain.status_message(), "HTTP 404 Not Found");
        assert!(!format!("{r:?}").contains("busy"));
    }
}
