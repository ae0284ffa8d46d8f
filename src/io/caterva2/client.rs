//! [`Caterva2Client`]: the calls a Caterva2 server answers (`api/roots`, `api/info`,
//! `api/chunk`), with an optional login whose `c2subauth` cookie is sent with every call.
//!
//! Requests go through the crate's [`HttpClient`] (timeouts, retries with backoff for 5xx,
//! 408, 429 and dropped connections, a body size cap, a bound on requests in flight): the
//! login is a form POST whose `Set-Cookie` header is read, later calls carry the cookie, and
//! a 401 is let through so that an expired login can be renewed once.

use super::info::Caterva2Info;
use super::url::{encode_path, normalize_base, normalize_path};
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpConfig, HttpRequest, HttpStats};
use bytes::Bytes;
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
    http: HttpClient,
    base: String,
    credentials: Option<Credentials>,
    cookie: RwLock<Option<String>>,
}

/// The status a refused login or token gives.
const UNAUTHORIZED: u16 = 401;

impl Caterva2Client {
    /// A client for the server at `base_url` (`http://HOST:PORT`, optionally with a path
    /// prefix). With credentials it logs in at once, so a wrong password fails here.
    pub fn new(
        base_url: &str,
        credentials: Option<Credentials>,
        config: HttpConfig,
    ) -> Result<Self> {
        let client = Caterva2Client {
            http: HttpClient::new(config)?,
            base: normalize_base(base_url)?,
            credentials,
            cookie: RwLock::new(None),
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
        self.http.config()
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
        self.http.stats()
    }

    /// Logs in with the client's credentials (`POST auth/jwt/login`) and keeps the
    /// `c2subauth` cookie. Without credentials this is an error.
    pub fn login(&self) -> Result<()> {
        let url = format!("{}auth/jwt/login", self.base);
        let Some(cred) = &self.credentials else {
            return Err(Error::http(url, "cannot log in: no credentials were given"));
        };
        let form = HttpRequest::form(
            url.as_str(),
            &[
                ("username", cred.username.as_str()),
                ("password", cred.password.as_str()),
            ],
        );
        let response = self.http.send(&form).map_err(|e| match e {
            Error::Http { .. } => e.context("login failed"),
            other => other,
        })?;
        let token = auth_cookie(response.header_values("set-cookie")).ok_or_else(|| {
            Error::http(
                &url,
                format!("login answered without a {AUTH_COOKIE} cookie"),
            )
        })?;
        *self.cookie.write().unwrap_or_else(PoisonError::into_inner) = Some(token);
        Ok(())
    }

    /// GETs `endpoint` (relative to the base URL, such as `api/roots`) with the login cookie,
    /// if any. A refused token is renewed by one fresh login.
    pub fn get(&self, endpoint: &str) -> Result<Fetched> {
        let url = format!("{}{}", self.base, endpoint.trim_start_matches('/'));
        let mut logged_in_again = false;
        loop {
            let mut request = HttpRequest::get(url.as_str()).passing(UNAUTHORIZED);
            if let Some(token) = self
                .cookie
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .as_deref()
            {
                request = request.header("cookie", format!("{AUTH_COOKIE}={token}"));
            }
            let response = self.http.send(&request)?;
            if response.status != UNAUTHORIZED {
                let header = |name| response.header(name).map(str::to_string);
                return Ok(Fetched {
                    etag: header("etag"),
                    last_modified: header("last-modified"),
                    body: response.body,
                });
            }
            if self.credentials.is_some() && !logged_in_again {
                // The token may have expired: log in once more and try again.
                logged_in_again = true;
                self.login()?;
                continue;
            }
            let note = if self.credentials.is_none() {
                ": this path needs a login and no credentials were given"
            } else {
                ": the login was accepted but does not give access to this path"
            };
            return Err(self.http.refused(&url, &response, note));
        }
    }

    /// The names of the roots the server offers to this client (`api/roots`).
    pub fn roots(&self) -> Result<Vec<String>> {
        let fetched = self.get("api/roots")?;
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&fetched.body)
            .map_err(|e| {
                Error::http(
                    format!("{}api/roots", self.base),
                    "not a JSON object of roots",
                )
                .caused_by(e)
            })?;
        Ok(map.into_iter().map(|(k, _)| k).collect())
    }

    /// The metadata of dataset `path` (`api/info/{path}`) and the answer's validators.
    pub fn info(&self, path: &str) -> Result<(Caterva2Info, Fetched)> {
        let path = normalize_path(path)?;
        let endpoint = format!("api/info/{}", encode_path(&path));
        let fetched = self.get(&endpoint)?;
        let info = Caterva2Info::parse(&fetched.body).map_err(|message| {
            Error::http(
                format!("{}{endpoint}", self.base),
                format!("{path}: {message}"),
            )
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
        self.http.map_concurrent(n, f)
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

/// The value of the `c2subauth` cookie among the values of `Set-Cookie` headers.
fn auth_cookie<'a>(set_cookie: impl Iterator<Item = &'a str>) -> Option<String> {
    set_cookie
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == AUTH_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_and_redaction() {
        let set_cookie = ["other=1; Path=/", "c2subauth=tok.en; HttpOnly; Path=/"];
        assert_eq!(
            auth_cookie(set_cookie.into_iter()).as_deref(),
            Some("tok.en")
        );
        assert_eq!(auth_cookie(["c2subauth=; Path=/"].into_iter()), None);
        let c = Credentials::new("a@b.c", "sekrit");
        assert!(!format!("{c:?}").contains("sekrit"));
    }
}
