//! [`Caterva2Client`]: the calls a Caterva2 server answers (`api/roots`, `api/info`,
//! `api/chunk`), with an optional login whose `c2subauth` cookie is sent with every call.
//!
//! Uses `reqwest::blocking` directly (the crate's [`crate::http::HttpClient`] has no cookies
//! or POST) with the same knobs, taken from an [`HttpConfig`]: timeouts, retries with backoff
//! for 5xx, 408, 429 and dropped connections, a body size cap and a bound on requests in flight.

use super::info::Caterva2Info;
use super::url::{encode_form, encode_path, normalize_base, normalize_path};
use crate::error::{Error, Result};
use crate::http::{backoff_delay, bounded_map, HttpConfig, HttpStats, Limiter};
use bytes::Bytes;
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, ETAG, LAST_MODIFIED, SET_COOKIE};
use reqwest::StatusCode;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

/// The name of the cookie Caterva2 keeps its login token in.
const AUTH_COOKIE: &str = "c2subauth";

/// A username and password for a Caterva2 server. Kept in memory only: its `Debug` output and
/// every error leave the password (and the token it buys) out.
#[derive(Clone)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    /// Credentials for `username` (Caterva2 users are e-mail addresses) and `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A successful answer: the body and the validators the server sent with it.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The body.
    pub body: Bytes,
    /// The `ETag` header, if any.
    pub etag: Option<String>,
    /// The `Last-Modified` header, if any.
    pub last_modified: Option<String>,
}

/// A blocking client for one Caterva2 server, shared by the sources opened on it (wrap it in
/// an `Arc`). See the module documentation.
pub struct Caterva2Client {
    http: reqwest::blocking::Client,
    base: String,
    config: HttpConfig,
    credentials: Option<Credentials>,
    cookie: RwLock<Option<String>>,
    limiter: Limiter,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    bytes: AtomicU64,
    failures: AtomicU64,
}

/// Why one attempt failed, without the URL.
struct Failure {
    message: String,
    retryable: bool,
    unauthorized: bool,
}

impl Failure {
    fn new(message: String, retryable: bool) -> Self {
        Failure {
            message,
            retryable,
            unauthorized: false,
        }
    }
}

/// What to send.
#[derive(Clone, Copy)]
enum Request<'a> {
    /// A GET with the login cookie, if any.
    Get,
    /// A form POST without the cookie (the login itself).
    Form(&'a str),
}

impl Caterva2Client {
    /// A client for the server at `base_url` (`http://HOST:PORT`, optionally with a path
    /// prefix). With credentials it logs in at once, so a wrong password fails here.
    pub fn new(
        base_url: &str,
        credentials: Option<Credentials>,
        config: HttpConfig,
    ) -> Result<Self> {
        let base = normalize_base(base_url)?;
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .user_agent(config.user_agent.clone())
            .retry(reqwest::retry::never())
            .pool_max_idle_per_host(config.concurrency.max(1))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot build the HTTP client: {e}")))?;
        let client = Caterva2Client {
            http,
            base,
            limiter: Limiter::new(config.concurrency),
            config,
            credentials,
            cookie: RwLock::new(None),
            counters: Counters::default(),
        };
        if client.credentials.is_some() {
            client.login()?;
        }
        Ok(client)
    }

    /// The server's base URL, ending in `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The configuration (timeouts, retries, size cap, concurrency).
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// True when a login cookie is held.
    pub fn is_logged_in(&self) -> bool {
        self.cookie
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Counters of what this client has done: requests (logins and retries included),
    /// retries, body bytes and failed calls.
    pub fn stats(&self) -> HttpStats {
        let c = &self.counters;
        HttpStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            missing: 0,
        }
    }

    /// Logs in with the client's credentials (`POST auth/jwt/login`) and keeps the
    /// `c2subauth` cookie. Without credentials this is an error.
    pub fn login(&self) -> Result<()> {
        let url = format!("{}auth/jwt/login", self.base);
        let Some(cred) = &self.credentials else {
            return Err(Error::Http {
                url,
                message: "cannot log in: no credentials were given".into(),
            });
        };
        let form = encode_form(&[
            ("username", cred.username.as_str()),
            ("password", cred.password.as_str()),
        ]);
        let (_, headers) = self
            .execute(&url, Request::Form(&form))
            .map_err(|e| match e {
                Error::Http { url, message } => Error::Http {
                    url,
                    message: format!("login failed: {message}"),
                },
                other => other,
            })?;
        let token = auth_cookie(&headers).ok_or_else(|| Error::Http {
            url: url.clone(),
            message: format!("login answered without a {AUTH_COOKIE} cookie"),
        })?;
        *self.cookie.write().unwrap_or_else(PoisonError::into_inner) = Some(token);
        Ok(())
    }

    /// GETs `endpoint` (relative to the base URL, such as `api/roots`).
    pub fn get(&self, endpoint: &str) -> Result<Fetched> {
        let url = format!("{}{}", self.base, endpoint.trim_start_matches('/'));
        let (body, headers) = self.execute(&url, Request::Get)?;
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Fetched {
            body,
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        })
    }

    /// The names of the roots the server offers to this client (`api/roots`).
    pub fn roots(&self) -> Result<Vec<String>> {
        let fetched = self.get("api/roots")?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&fetched.body)
            .map_err(|e| Error::Http {
                url: format!("{}api/roots", self.base),
                message: format!("not a JSON object of roots: {e}"),
            })?;
        Ok(map.into_iter().map(|(k, _)| k).collect())
    }

    /// The metadata of dataset `path` (`api/info/{path}`) and the answer's validators.
    pub fn info(&self, path: &str) -> Result<(Caterva2Info, Fetched)> {
        let path = normalize_path(path)?;
        let endpoint = format!("api/info/{}", encode_path(&path));
        let fetched = self.get(&endpoint)?;
        let info = Caterva2Info::parse(&fetched.body).map_err(|message| Error::Http {
            url: format!("{}{endpoint}", self.base),
            message: format!("{path}: {message}"),
        })?;
        Ok((info, fetched))
    }

    /// The raw (compressed) chunk number `nchunk` of dataset `path` (`api/chunk/{path}`;
    /// chunks are numbered in C order of the chunk grid).
    pub fn chunk(&self, path: &str, nchunk: usize) -> Result<Bytes> {
        let path = normalize_path(path)?;
        Ok(self.get(&chunk_endpoint(&path, nchunk))?.body)
    }

    /// Runs `f(i)` for `i` in `0..n` on up to [`HttpConfig::concurrency`] threads and returns
    /// the results in order (the in-flight bound of the client holds as well).
    pub fn map_concurrent<T: Send, F: Fn(usize) -> T + Sync>(&self, n: usize, f: F) -> Vec<T> {
        bounded_map(n, self.config.concurrency, f)
    }

    /// One call with its retries, and one fresh login when a logged-in call is refused.
    fn execute(&self, url: &str, request: Request<'_>) -> Result<(Bytes, HeaderMap)> {
        let mut retry = 0u32;
        let mut logged_in_again = false;
        loop {
            let attempt = {
                let _permit = self.limiter.acquire();
                self.attempt(url, request)
            };
            let failure = match attempt {
                Ok(answer) => return Ok(answer),
                Err(f) => f,
            };
            let get = matches!(request, Request::Get);
            if failure.unauthorized && get && self.credentials.is_some() && !logged_in_again {
                // The token may have expired: log in once more and try again.
                logged_in_again = true;
                self.login()?;
                continue;
            }
            if failure.retryable && retry < self.config.max_retries {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
                let delay = backoff_delay(retry, self.config.backoff_base, self.config.backoff_max);
                std::thread::sleep(delay);
                retry += 1;
                continue;
            }
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
            let mut message = failure.message;
            if retry > 0 {
                message.push_str(&format!(" (gave up after {} attempts)", retry + 1));
            }
            if failure.unauthorized && get {
                message.push_str(if self.credentials.is_none() {
                    ": this path needs a login and no credentials were given"
                } else {
                    ": the login was accepted but does not give access to this path"
                });
            }
            return Err(Error::Http {
                url: url.to_string(),
                message,
            });
        }
    }

    /// One attempt, no retry.
    fn attempt(
        &self,
        url: &str,
        request: Request<'_>,
    ) -> std::result::Result<(Bytes, HeaderMap), Failure> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let builder = match request {
            Request::Get => {
                let mut b = self.http.get(url);
                let cookie = self.cookie.read().unwrap_or_else(PoisonError::into_inner);
                if let Some(token) = cookie.as_deref() {
                    b = b.header(COOKIE, format!("{AUTH_COOKIE}={token}"));
                }
                b
            }
            Request::Form(body) => self
                .http
                .post(url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.to_string()),
        };
        let response = builder.send().map_err(sending)?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_failure(status, response));
        }
        let headers = response.headers().clone();
        let body = self.read_body(response)?;
        self.counters
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        Ok((Bytes::from(body), headers))
    }

    /// Reads a body, refusing one longer than the cap.
    fn read_body(
        &self,
        response: reqwest::blocking::Response,
    ) -> std::result::Result<Vec<u8>, Failure> {
        let cap = self.config.max_body_bytes;
        let too_large = || {
            Failure::new(
                format!("response body larger than the cap of {cap} bytes"),
                false,
            )
        };
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        response
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| {
                Failure::new(
                    format!("connection dropped while reading the response body: {e}"),
                    true,
                )
            })?;
        if body.len() as u64 > cap {
            return Err(too_large());
        }
        Ok(body)
    }
}

impl std::fmt::Debug for Caterva2Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caterva2Client")
            .field("base", &self.base)
            .field("credentials", &self.credentials)
            .field("logged_in", &self.is_logged_in())
            .finish_non_exhaustive()
    }
}

/// The endpoint of chunk `nchunk` of a normalised dataset path.
pub(crate) fn chunk_endpoint(path: &str, nchunk: usize) -> String {
    format!("api/chunk/{}?nchunk={nchunk}", encode_path(path))
}

/// The value of the `c2subauth` cookie among the `Set-Cookie` headers.
fn auth_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == AUTH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// A failure to send the request or receive the headers (the message leaves the URL out).
fn sending(e: reqwest::Error) -> Failure {
    let (timeout, builder, connect) = (e.is_timeout(), e.is_builder(), e.is_connect());
    let text = chain(&e.without_url());
    if timeout {
        Failure::new(format!("timed out: {text}"), true)
    } else if builder {
        Failure::new(format!("invalid request: {text}"), false)
    } else if connect {
        Failure::new(format!("could not connect: {text}"), true)
    } else {
        Failure::new(
            format!("connection dropped before a response: {text}"),
            true,
        )
    }
}

/// An error status: 5xx, 408 and 429 may pass, the rest will not. The server's `detail`
/// string, if its body has one, is added (never the rest of the body, which might echo the
/// request).
fn status_failure(status: StatusCode, response: reqwest::blocking::Response) -> Failure {
    let mut raw = Vec::new();
    let _ = response.take(4096).read_to_end(&mut raw);
    let detail = serde_json::from_slice::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| v.get("detail")?.as_str().map(str::to_string))
        .map(|d| {
            d.chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect::<String>()
        });
    let mut message = format!("HTTP {status}");
    if let Some(d) = detail {
        message.push_str(&format!(" ({d})"));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS;
    Failure {
        message,
        retryable,
        unauthorized: status == StatusCode::UNAUTHORIZED,
    }
}

/// An error and its sources joined by ": ", without the URL.
fn chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_and_redaction() {
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, "other=1; Path=/".parse().unwrap());
        h.append(
            SET_COOKIE,
            "c2subauth=tok.en; HttpOnly; Path=/".parse().unwrap(),
        );
        assert_eq!(auth_cookie(&h).as_deref(), Some("tok.en"));
        let c = Credentials::new("a@b.c", "sekrit");
        assert!(!format!("{c:?}").contains("sekrit"));
    }
}
