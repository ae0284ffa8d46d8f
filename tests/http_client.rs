//! The HTTP client against the embedded tile server on 127.0.0.1: retries, failures, 404s,
//! the size cap and timeouts. Every error must name the URL.

#![cfg(feature = "test-server")]

use crate::common;

use common::http_error;
use std::collections::HashSet;
use std::time::Duration;
use vastarray::http::{HttpClient, HttpConfig};
use vastarray::io::tiles::TileFormat;
use vastarray::tileserver::{TileId, TileServer, TileServerConfig};

/// A client with fast retries.
fn client(max_retries: u32) -> HttpClient {
    HttpClient::new(HttpConfig {
        max_retries,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..HttpConfig::default()
    })
    .unwrap()
}

fn server(config: TileServerConfig) -> TileServer {
    TileServer::start(config).unwrap()
}

fn url(s: &TileServer, z: u32, x: u64, y: u64) -> String {
    format!(
        "{}{}",
        s.base_url(),
        TileServer::tile_path(z, x, y, TileFormat::Png)
    )
}

/// The message of the HTTP error `c.get(u)` fails with, after checking that it names `u`.
fn get_error(c: &HttpClient, u: &str) -> String {
    let (got_url, message) = http_error(c.get(u).unwrap_err());
    assert_eq!(got_url, u);
    message
}

#[test]
fn transient_500s_are_retried_until_success() {
    let s = server(TileServerConfig {
        fail_first: 2,
        ..Default::default()
    });
    let c = client(3);
    let body = c.get(&url(&s, 1, 0, 1)).unwrap();
    assert!(body.starts_with(b"\x89PNG"));
    assert_eq!(s.requests_for("/1/0/1.png"), 3, "two 500s, then the tile");
    let st = c.stats();
    assert_eq!((st.requests, st.retries, st.failures), (3, 2, 0));
    assert_eq!(st.bytes, body.len() as u64);
}

#[test]
fn dropped_connections_are_retried_until_success() {
    let s = server(TileServerConfig {
        drop_first: 2,
        ..Default::default()
    });
    let c = client(3);
    c.get(&url(&s, 2, 3, 1)).unwrap();
    assert_eq!(s.requests_for("/2/3/1.png"), 3);
    assert_eq!(c.stats().retries, 2);
}

#[test]
fn a_permanent_500_fails_after_the_configured_retries_naming_the_url() {
    let s = server(TileServerConfig {
        always_fail: HashSet::from([TileId::new(1, 1, 1)]),
        ..Default::default()
    });
    let c = client(2);
    let u = url(&s, 1, 1, 1);
    let message = get_error(&c, &u);
    assert!(
        message.contains("HTTP 500") && message.contains("after 3 attempts"),
        "{message}"
    );
    assert_eq!(
        s.requests_for("/1/1/1.png"),
        3,
        "first attempt plus 2 retries, no more"
    );
    assert_eq!(c.stats().failures, 1);
    // The whole error, as displayed, names the URL too, and carries the status as a field.
    let e = c.get(&u).unwrap_err();
    assert!(e.to_string().contains(&u));
    assert_eq!(e.http_status(), Some(500), "{e:?}");
}

#[test]
fn too_many_dropped_connections_fail_naming_the_url() {
    let s = server(TileServerConfig {
        drop_first: 10,
        ..Default::default()
    });
    let c = client(1);
    let u = url(&s, 0, 0, 0);
    let message = get_error(&c, &u);
    assert!(message.contains("connection dropped"), "{message}");
    assert_eq!(s.requests_for("/0/0/0.png"), 2);
    // No answer, so no status.
    assert_eq!(c.get(&u).unwrap_err().http_status(), None);
}

#[test]
fn not_found_is_an_error_or_missing_and_never_retried() {
    let s = server(TileServerConfig {
        not_found: HashSet::from([TileId::new(1, 0, 0)]),
        ..Default::default()
    });
    let c = client(3);
    let u = url(&s, 1, 0, 0);
    let message = get_error(&c, &u);
    assert!(message.contains("404"), "{message}");
    assert_eq!(c.get_optional(&u).unwrap(), None);
    assert_eq!(
        s.requests_for("/1/0/0.png"),
        2,
        "one request per call: 4xx is not retried"
    );
    assert_eq!(c.stats().missing, 1);
    // Outside the pyramid is a 404 too.
    assert!(c.get_optional(&url(&s, 1, 2, 0)).unwrap().is_none());
    assert_eq!(c.get(&u).unwrap_err().http_status(), Some(404));
}

#[test]
fn the_size_cap_refuses_large_bodies_with_and_without_content_length() {
    for omit_content_length in [false, true] {
        let s = server(TileServerConfig {
            omit_content_length,
            tile_size: 64,
            ..Default::default()
        });
        let c = HttpClient::new(HttpConfig {
            max_body_bytes: 100,
            ..HttpConfig::default()
        })
        .unwrap();
        let u = url(&s, 0, 0, 0);
        let message = get_error(&c, &u);
        assert!(
            message.contains("too large") && message.contains("100 bytes"),
            "{message}"
        );
        assert_eq!(
            s.requests_for("/0/0/0.png"),
            1,
            "a too-large body is not retried"
        );
        // A large enough cap reads the same tile.
        let big = HttpClient::new(HttpConfig::default()).unwrap();
        assert!(big.get(&u).unwrap().len() > 100);
    }
}

#[test]
fn a_server_slower_than_the_timeout_gives_a_timeout_error() {
    let s = server(TileServerConfig {
        latency: Duration::from_millis(1500),
        ..Default::default()
    });
    let c = HttpClient::new(HttpConfig {
        read_timeout: Duration::from_millis(200),
        max_retries: 1,
        backoff_base: Duration::from_millis(5),
        ..HttpConfig::default()
    })
    .unwrap();
    let u = url(&s, 0, 0, 0);
    let message = get_error(&c, &u);
    assert!(message.contains("timed out"), "{message}");
    assert_eq!(c.stats().requests, 2);
}

#[test]
fn a_refused_connection_is_an_error_naming_the_url() {
    let s = server(TileServerConfig::default());
    let u = url(&s, 0, 0, 0);
    s.stop();
    let message = get_error(&client(1), &u);
    assert!(message.contains("connect"), "{message}");
}

#[test]
fn fetch_many_returns_results_in_order() {
    let s = server(TileServerConfig {
        not_found: HashSet::from([TileId::new(2, 1, 1)]),
        ..Default::default()
    });
    let c = client(0);
    let urls: Vec<String> = (0..4)
        .flat_map(|y| (0..4).map(move |x| (x, y)))
        .map(|(x, y)| url(&s, 2, x, y))
        .collect();
    let plain = HttpClient::new(HttpConfig::default()).unwrap();
    let bodies = c.fetch_many(&urls);
    assert_eq!(bodies.len(), 16);
    for (u, b) in urls.iter().zip(&bodies) {
        if u.ends_with("/2/1/1.png") {
            assert!(b.as_ref().unwrap_err().to_string().contains(u.as_str()));
        } else {
            assert_eq!(b.as_ref().unwrap(), &plain.get(u).unwrap(), "{u}");
        }
    }
    let optional = c.fetch_many_optional(&urls);
    assert_eq!(optional.iter().filter(|r| matches!(r, Ok(None))).count(), 1);
}

#[test]
fn an_invalid_url_is_an_error_not_a_panic() {
    let (url, message) = http_error(client(3).get("not a url").unwrap_err());
    assert_eq!(url, "not a url");
    assert!(!message.is_empty());
}

#[test]
fn a_stalled_body_times_out() {
    // Headers at once, then 400 ms before each KiB of the body; reads time out after 150 ms.
    let s = server(TileServerConfig {
        trickle: Duration::from_millis(400),
        ..Default::default()
    });
    let c = HttpClient::new(HttpConfig {
        read_timeout: Duration::from_millis(150),
        max_retries: 0,
        ..HttpConfig::default()
    })
    .unwrap();
    let u = url(&s, 0, 0, 0);
    let message = get_error(&c, &u);
    assert!(
        message.contains("timed out") && message.contains("body"),
        "{message}"
    );
}

#[test]
fn a_trickling_body_hits_the_attempt_deadline() {
    // Every read is in time, but the whole body (about 12 KiB at 40 ms per KiB) is not.
    let s = server(TileServerConfig {
        tile_size: 64,
        trickle: Duration::from_millis(40),
        ..Default::default()
    });
    let c = HttpClient::new(HttpConfig {
        attempt_deadline: Duration::from_millis(100),
        max_retries: 0,
        ..HttpConfig::default()
    })
    .unwrap();
    let u = url(&s, 0, 0, 0);
    let message = get_error(&c, &u);
    assert!(message.contains("took longer than 100ms"), "{message}");
    // Without the deadline the same body arrives whole.
    assert!(client(0).get(&u).unwrap().starts_with(b"\x89PNG"));
}

/// A server on 127.0.0.1 that counts connections and answers each one slowly: with
/// `slow_headers`, a header line that never ends, one byte every `every`; otherwise headers
/// announcing `length` bytes at once, then the body one byte every `every`. It stops writing
/// when the client goes away.
fn trickling_server(
    slow_headers: bool,
    every: Duration,
    length: usize,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut head = [0u8; 4096];
                let _ = stream.read(&mut head);
                let start = if slow_headers {
                    "HTTP/1.1 200 OK\r\nX-Slow: ".to_string()
                } else {
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n")
                };
                if stream.write_all(start.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..length {
                    std::thread::sleep(every);
                    if stream.write_all(b"a").is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, count)
}

#[test]
fn a_trickling_server_fails_the_request_within_its_deadline() {
    // 100,000 bytes at one per 20 ms: over half an hour, each read in time, and the attempt
    // deadline (120 s by default) far away. One deadline for the request ends it, with no
    // retry (nothing is left of it), however many retries are allowed.
    for slow_headers in [false, true] {
        let (base, connections) =
            trickling_server(slow_headers, Duration::from_millis(20), 100_000);
        let c = HttpClient::new(HttpConfig {
            deadline: Duration::from_millis(300),
            max_retries: 5,
            backoff_base: Duration::from_millis(5),
            ..HttpConfig::default()
        })
        .unwrap();
        let u = format!("{base}/0/0/0.png");
        let message = get_error(&c, &u);
        assert!(
            message.contains("within the request's deadline of 300ms"),
            "{slow_headers}: {message}"
        );
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!((c.stats().requests, c.stats().failures), (1, 1));
    }
}

#[test]
fn retries_stop_at_the_request_deadline() {
    // Always 500: without the deadline, 1001 attempts at 50 to 100 ms apart.
    let s = server(TileServerConfig {
        always_fail: HashSet::from([TileId::new(0, 0, 0)]),
        ..Default::default()
    });
    let c = HttpClient::new(HttpConfig {
        deadline: Duration::from_millis(500),
        max_retries: 1000,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(100),
        ..HttpConfig::default()
    })
    .unwrap();
    let u = url(&s, 0, 0, 0);
    let message = get_error(&c, &u);
    assert!(
        message.contains("HTTP 500") || message.contains("deadline"),
        "{message}"
    );
    assert!(message.contains("deadline of 500ms"), "{message}");
    assert!(s.requests_for("/0/0/0.png") < 1000);
    assert!(HttpClient::new(HttpConfig {
        deadline: Duration::ZERO,
        ..HttpConfig::default()
    })
    .is_err());
}

/// A server for `n` requests on 127.0.0.1 (one connection each): `POST /login` answers two
/// cookies and echoes the form; `GET /private` answers `secret` with the cookie `tok=abc`,
/// else 401 with a JSON detail. Returns its base URL and the thread to join.
fn login_server(n: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut cookie) = (0usize, String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "cookie" => cookie = value.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let (status, headers, reply) = if request_line.starts_with("POST /login ") {
                (
                    "200 OK",
                    "Set-Cookie: tok=abc; HttpOnly\r\nSet-Cookie: other=1\r\n",
                    body,
                )
            } else if request_line.starts_with("GET /private ") && cookie == "tok=abc" {
                ("200 OK", "ETag: \"v7\"\r\n", b"secret".to_vec())
            } else {
                (
                    "401 Unauthorized",
                    "Content-Type: application/json\r\n",
                    br#"{"detail":"log in first"}"#.to_vec(),
                )
            };
            let head = format!(
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&reply).unwrap();
        }
    });
    (base, thread)
}

#[test]
fn send_posts_forms_returns_headers_and_lets_chosen_statuses_through() {
    use vastarray::http::HttpRequest;
    let (base, server) = login_server(4);
    let c = client(2);
    let login = c
        .send(&HttpRequest::form(
            format!("{base}/login"),
            &[("user", "a@b.c"), ("password", "p w&")],
        ))
        .unwrap();
    assert_eq!(login.status, 200);
    assert_eq!(login.body.as_ref(), b"user=a%40b.c&password=p+w%26");
    assert_eq!(
        login.header_values("set-cookie").collect::<Vec<_>>(),
        vec!["tok=abc; HttpOnly", "other=1"]
    );

    // A 401 is an error (never retried) with the server's detail...
    let private = format!("{base}/private");
    let (u, message) = http_error(c.send(&HttpRequest::get(&private)).unwrap_err());
    assert_eq!(u, private);
    assert_eq!(message, "HTTP 401 Unauthorized (log in first)");
    // ...unless the request lets it through; `refused` then makes the same error.
    let answer = c.send(&HttpRequest::get(&private).passing(401)).unwrap();
    assert_eq!(answer.status, 401);
    let (_, message) = http_error(c.refused(&private, &answer, ": no cookie"));
    assert_eq!(message, "HTTP 401 Unauthorized (log in first): no cookie");

    // With the cookie: the body and the response headers.
    let ok = c
        .send(&HttpRequest::get(&private).header("Cookie", "tok=abc"))
        .unwrap();
    assert_eq!((ok.status, ok.body.as_ref()), (200, &b"secret"[..]));
    assert_eq!(ok.header("ETag"), Some("\"v7\""));
    server.join().unwrap();
    let st = c.stats();
    assert_eq!((st.requests, st.retries, st.failures), (4, 0, 2));
}

/// An `https` URL runs the TLS stack (rustls with ring): the client's first bytes to a server
/// on 127.0.0.1 are a TLS handshake record, and a server that answers in plain HTTP gives an
/// error that names the URL, not a panic or a hang.
#[test]
fn https_to_a_plain_http_server_is_a_tls_error() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut first = [0u8; 5];
        conn.read_exact(&mut first).unwrap();
        let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        first
    });
    let u = format!("https://127.0.0.1:{port}/0/0/0.png");
    let message = get_error(&client(0), &u);
    assert!(!message.is_empty());
    let first = server.join().unwrap();
    // A TLS record: content type 22 (handshake), protocol version 3.x.
    assert_eq!((first[0], first[1]), (22, 3), "{first:?}");
}
