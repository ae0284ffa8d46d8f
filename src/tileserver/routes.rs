//! What the server answers to a path: parse `/.../{z}/{x}/{y}.{ext}` (also `{y}@2x.{ext}`, a
//! tile twice the size, and `/.../q/{quadkey}.{ext}`), apply the configured faults, render the
//! tile; or, with a root directory, serve the file the path names.

use super::config::{TileId, TileServerConfig};
use super::counters::Arrival;
use super::pixels::render_tile;
use std::path::Path;
use vastarray::io::tiles::TileFormat;

/// The server's answer to one request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Close the connection without answering.
    Drop,
    /// An answer with a status, a content type and a body.
    Answer {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
}

impl Reply {
    fn text(status: u16, body: String) -> Reply {
        Reply::Answer {
            status,
            content_type: "text/plain",
            body: body.into_bytes(),
        }
    }
}

/// A parsed tile path: the last three segments are `z`, `x` and `y.ext` (or `y@2x.ext`, then
/// the flag is true: a tile twice the size); any segments before them (a subdomain stand-in, a
/// layer name) are ignored. `/q/{quadkey}.ext` names a tile by its quadkey. The row is as
/// written (see [`TileServerConfig::tms`]).
pub(crate) fn parse_tile_path(path: &str) -> Option<(TileId, TileFormat, bool)> {
    let mut segments = path.rsplit('/');
    let (last, before) = (segments.next()?, segments.next()?);
    let (stem, ext) = last.split_once('.')?;
    let format = TileFormat::from_extension(ext)?;
    if before == "q" {
        return Some((from_quadkey(stem)?, format, false));
    }
    let z = segments.next()?;
    let (y, double) = match stem.strip_suffix("@2x") {
        Some(y) => (y, true),
        None => (stem, false),
    };
    let id = TileId {
        z: z.parse().ok()?,
        x: before.parse().ok()?,
        y: y.parse().ok()?,
    };
    Some((id, format, double))
}

/// The tile of a quadkey (digits 0-3, one per level), decoded bit by bit.
fn from_quadkey(key: &str) -> Option<TileId> {
    if key.len() > 30 {
        return None;
    }
    let (mut x, mut y) = (0u64, 0u64);
    for ch in key.chars() {
        let d = ch.to_digit(4)?;
        x = 2 * x + u64::from(d & 1);
        y = 2 * y + u64::from(d >> 1);
    }
    Some(TileId::new(key.len() as u32, x, y))
}

/// The file under `root` a path names, if it is a plain relative path to a file.
fn serve_file(root: &Path, path: &str) -> Reply {
    let relative = path.trim_start_matches('/');
    let safe = !relative.is_empty()
        && relative
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if !safe {
        return Reply::text(404, format!("no such file: {path}"));
    }
    let content_type = match relative.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    match std::fs::read(root.join(relative)) {
        Ok(body) => Reply::Answer {
            status: 200,
            content_type,
            body,
        },
        Err(_) => Reply::text(404, format!("no such file: {path}")),
    }
}

/// Decides the answer to a request for `path`, the `arrival`-th of its kind.
pub(crate) fn route(config: &TileServerConfig, path: &str, arrival: Arrival) -> Reply {
    let n = arrival.nth_for_path;
    let drops = u64::from(config.drop_first);
    if let Some(root) = &config.root {
        if n <= drops {
            return Reply::Drop;
        }
        if n <= drops + u64::from(config.fail_first) {
            return Reply::text(500, format!("injected failure {} of {path}", n - drops));
        }
        return serve_file(root, path);
    }
    let Some((mut id, format, double)) = parse_tile_path(path) else {
        return Reply::text(404, format!("no such tile path: {path}"));
    };
    let side = 1u64.checked_shl(id.z).unwrap_or(0);
    if id.z > config.max_zoom || id.x >= side || id.y >= side {
        return Reply::text(404, format!("tile {path} is outside the pyramid"));
    }
    if config.tms {
        id.y = side - 1 - id.y;
    }
    if n <= drops {
        return Reply::Drop;
    }
    if n <= drops + u64::from(config.fail_first) {
        return Reply::text(500, format!("injected failure {} of {path}", n - drops));
    }
    if config.fail_every > 0 && arrival.nth_overall.is_multiple_of(config.fail_every) {
        return Reply::text(
            500,
            format!("injected failure (request {})", arrival.nth_overall),
        );
    }
    if config.always_fail.contains(&id) {
        return Reply::text(500, format!("tile {path} always fails"));
    }
    if config.not_found.contains(&id) {
        return Reply::text(404, format!("tile {path} is missing"));
    }
    let size = if config.wrong_size.contains(&id) {
        (config.tile_size / 2).max(1)
    } else if double {
        config.tile_size.saturating_mul(2)
    } else {
        config.tile_size
    };
    match render_tile(
        format,
        id.z,
        id.x,
        id.y,
        size,
        config.channels,
        config.npy_dtype,
    ) {
        Ok((body, content_type)) => Reply::Answer {
            status: 200,
            content_type,
            body,
        },
        Err(e) => Reply::text(500, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        let (id, f, double) = parse_tile_path("/a/3/5/7.png").unwrap();
        assert_eq!(
            (id, f, double),
            (TileId::new(3, 5, 7), TileFormat::Png, false)
        );
        assert_eq!(parse_tile_path("/0/0/0.npy").unwrap().1, TileFormat::Npy);
        assert!(parse_tile_path("/0/0/0.gif").is_none());
        assert!(parse_tile_path("/0/x/0.png").is_none());
        assert!(parse_tile_path("/favicon.ico").is_none());
        assert_eq!(
            parse_tile_path("/q/213.png").unwrap().0,
            TileId::new(3, 3, 5)
        );
        assert_eq!(parse_tile_path("/q/.png").unwrap().0, TileId::new(0, 0, 0));
        assert!(parse_tile_path("/q/14.png").is_none());
        let (id, _, double) = parse_tile_path("/2/1/3@2x.webp").unwrap();
        assert_eq!((id, double), (TileId::new(2, 1, 3), true));
    }
}
