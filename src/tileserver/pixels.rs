//! The server's content: pixel values as pure functions of (z, x, y, row, col), so tests can
//! compute what any tile must hold, and the encoders that turn them into tile files.

use image::{DynamicImage, ImageBuffer, ImageFormat};
use ndarray::{ArrayD, IxDyn};
use std::io::Cursor;
use vastarray::dtype::DType;
use vastarray::io::npy::encode_npy;
use vastarray::io::tiles::TileFormat;

/// The RGBA value of pixel (`row`, `col`) of tile (`z`, `x`, `y`). Tiles with fewer channels
/// serve the first ones (grey is the red value).
pub fn tile_pixel(z: u32, x: u64, y: u64, row: usize, col: usize) -> [u8; 4] {
    let (z, r, c) = (z as u64, row as u64, col as u64);
    let mix = |terms: &[(u64, u64)]| {
        terms
            .iter()
            .fold(0u64, |acc, (k, v)| acc.wrapping_add(k.wrapping_mul(*v)))
    };
    [
        mix(&[(1, c), (37, x), (11, z)]) as u8,
        mix(&[(1, r), (59, y), (7, z)]) as u8,
        mix(&[(3, r), (5, c), (13, x), (17, y), (1, z)]) as u8,
        255 - (mix(&[(1, r), (1, c), (1, x), (1, y), (1, z)]) % 128) as u8,
    ]
}

/// The value of channel `channel` at pixel (`row`, `col`) of `.npy` tile (`z`, `x`, `y`), before
/// conversion to the served type with [`vastarray::Element::from_f64`]: `tile_pixel * 2.5 - 100`.
pub fn tile_value(z: u32, x: u64, y: u64, row: usize, col: usize, channel: usize) -> f64 {
    f64::from(tile_pixel(z, x, y, row, col)[channel % 4]) * 2.5 - 100.0
}

/// The bytes and content type of a `size` x `size` tile with `channels` channels.
pub fn render_tile(
    format: TileFormat,
    z: u32,
    x: u64,
    y: u64,
    size: usize,
    channels: usize,
    npy_dtype: DType,
) -> Result<(Vec<u8>, &'static str), String> {
    match format {
        TileFormat::Npy => {
            let data = vastarray::dispatch_dtype!(npy_dtype, T => T::wrap(ArrayD::from_shape_fn(
                IxDyn(&[size, size, channels]),
                |i| T::from_f64(tile_value(z, x, y, i[0], i[1], i[2])),
            )));
            Ok((encode_npy(&data), "application/octet-stream"))
        }
        TileFormat::Png => Ok((
            encode_image(rgba_image(z, x, y, size, channels)?, ImageFormat::Png)?,
            "image/png",
        )),
        TileFormat::WebP => Ok((
            encode_image(rgba_image(z, x, y, size, channels)?, ImageFormat::WebP)?,
            "image/webp",
        )),
        TileFormat::Jpeg => {
            let image = match rgba_image(z, x, y, size, channels)? {
                i @ DynamicImage::ImageLuma8(_) => i,
                DynamicImage::ImageLumaA8(_) => {
                    DynamicImage::ImageLuma8(rgba_image(z, x, y, size, 1)?.into_luma8())
                }
                other => DynamicImage::ImageRgb8(other.into_rgb8()),
            };
            Ok((encode_image(image, ImageFormat::Jpeg)?, "image/jpeg"))
        }
    }
}

/// The tile as an image of 1 to 4 channels of [`tile_pixel`].
fn rgba_image(
    z: u32,
    x: u64,
    y: u64,
    size: usize,
    channels: usize,
) -> Result<DynamicImage, String> {
    let side = u32::try_from(size).map_err(|_| format!("tile size {size} is too large"))?;
    let mut raw = Vec::with_capacity(size * size * channels);
    for row in 0..size {
        for col in 0..size {
            raw.extend_from_slice(&tile_pixel(z, x, y, row, col)[..channels.min(4)]);
        }
    }
    let bad = || format!("cannot build a {size}x{size} tile of {channels} channels");
    Ok(match channels {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(side, side, raw).ok_or_else(bad)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(side, side, raw).ok_or_else(bad)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(side, side, raw).ok_or_else(bad)?),
        4 => DynamicImage::ImageRgba8(ImageBuffer::from_raw(side, side, raw).ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

/// Encodes an image in memory.
fn encode_image(image: DynamicImage, format: ImageFormat) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .map_err(|e| format!("cannot encode the tile: {e}"))?;
    Ok(out.into_inner())
}
