//! What the server answers to a path: parse `/.../{z}/{x}/{y}.{ext}`, apply the configured
//! faults, render the tile.

use super::config::{TileId, TileServerConfig};
use super::counters::Arrival;
use super::pixels::render_tile;
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

/// A parsed tile path: the last three segments are `z`, `x` and `y.ext`; any segments before
/// them (a subdomain stand-in, a layer name) are ignored.
pub(crate) fn parse_tile_path(path: &str) -> Option<(TileId, TileFormat)> {
    let mut segments = path.rsplit('/');
    let (y_ext, x, z) = (segments.next()?, segments.next()?, segments.next()?);
    let (y, ext) = y_ext.split_once('.')?;
    let id = TileId {
        z: z.parse().ok()?,
        x: x.parse().ok()?,
        y: y.parse().ok()?,
    };
    Some((id, TileFormat::from_extension(ext)?))
}

/// Decides the answer to a request for `path`, the `arrival`-th of its kind.
pub(crate) fn route(config: &TileServerConfig, path: &str, arrival: Arrival) -> Reply {
    let Some((id, format)) = parse_tile_path(path) else {
        return Reply::text(404, format!("no such tile path: {path}"));
    };
    let side = 1u64.checked_shl(id.z).unwrap_or(0);
    if id.z > config.max_zoom || id.x >= side || id.y >= side {
        return Reply::text(404, format!("tile {path} is outside the pyramid"));
    }
    let n = arrival.nth_for_path;
    let drops = u64::from(config.drop_first);
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
        let (id, f) = parse_tile_path("/a/3/5/7.png").unwrap();
        assert_eq!((id, f), (TileId::new(3, 5, 7), TileFormat::Png));
        assert_eq!(parse_tile_path("/0/0/0.npy").unwrap().1, TileFormat::Npy);
        assert!(parse_tile_path("/0/0/0.gif").is_none());
        assert!(parse_tile_path("/0/x/0.png").is_none());
        assert!(parse_tile_path("/favicon.ico").is_none());
    }
}
