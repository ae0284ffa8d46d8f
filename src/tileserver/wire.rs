//! The little HTTP/1.1 the tile server speaks: read a request head, write a response.
//! (Hand-written rather than a server crate so faults can act on the socket itself: closing
//! it without an answer, or ending a body by closing.)

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// What a client asked.
#[derive(Debug)]
pub(crate) struct Request {
    /// The path, without the query string.
    pub(crate) path: String,
    /// True when the connection must be closed after the answer.
    pub(crate) close: bool,
}

/// The result of waiting for a request.
pub(crate) enum Next {
    /// A complete request head.
    Request(Request),
    /// The client closed the connection, sent garbage, or the server is stopping.
    Done,
}

/// Reads the next request head from `stream` (which has a read timeout, so `stop` is polled).
/// Bytes after the head stay in `pending` for the next request.
pub(crate) fn read_request(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    stop: &AtomicBool,
) -> Next {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            return parse_head(&head).map_or(Next::Done, Next::Request);
        }
        if pending.len() > MAX_HEAD || stop.load(Ordering::SeqCst) {
            return Next::Done;
        }
        match stream.read(&mut buf) {
            Ok(0) => return Next::Done,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return Next::Done,
        }
    }
}

/// Parses `GET /path HTTP/1.1` and the headers that matter.
fn parse_head(head: &[u8]) -> Option<Request> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let mut words = lines.next()?.split_whitespace();
    let (_method, target, version) = (words.next()?, words.next()?, words.next()?);
    let mut close = version == "HTTP/1.0";
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (
            name.trim().to_ascii_lowercase(),
            value.trim().to_ascii_lowercase(),
        );
        match name.as_str() {
            "connection" if value == "close" => close = true,
            "connection" if value == "keep-alive" => close = false,
            // A request body would desynchronise this simple reader: answer, then close.
            "content-length" if value != "0" => close = true,
            "transfer-encoding" => close = true,
            _ => {}
        }
    }
    let path = target.split('?').next().unwrap_or(target).to_string();
    Some(Request { path, close })
}

/// Writes one response. With `trickle`, the body goes out in 1 KiB pieces, each after a call
/// of `trickle` (which sleeps, and returns false when the server is stopping).
pub(crate) fn write_response(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    close: bool,
    content_length: bool,
    trickle: Option<&dyn Fn() -> bool>,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n");
    if content_length {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str(if close || !content_length {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    let Some(pause) = trickle else {
        let mut whole = head.into_bytes();
        whole.extend_from_slice(body);
        stream.write_all(&whole)?;
        return stream.flush();
    };
    stream.write_all(head.as_bytes())?;
    stream.flush()?;
    for piece in body.chunks(1024) {
        if !pause() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "server stopping",
            ));
        }
        stream.write_all(piece)?;
        stream.flush()?;
    }
    Ok(())
}
