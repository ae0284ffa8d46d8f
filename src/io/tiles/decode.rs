//! Tile decoders: PNG, JPEG and WebP images (the `image` crate, pure Rust) and `.npy` arrays,
//! each checked against the [`TileLayout`] a source promises.
//!
//! Colour images asked for as grey (1 or 2 channels) use ITU-R Rec. 601 luma in the integer
//! form Pillow uses, `L = (19595 R + 38470 G + 7471 B + 32768) >> 16` ([`luma601`]), so grey
//! mosaics equal `PIL.Image.convert("L")` / `"LA"` bit for bit.
//!
//! JPEG tiles are decoded by `zune-jpeg` (through `image`), whose IDCT and chroma upsampling
//! are not libjpeg's: decoded values may differ from what libjpeg (hence PIL and GDAL) gives by
//! a few units. Measured against PIL on 256-pixel quality-85 tiles: 4:2:0 chroma subsampling
//! (the common kind) up to 4, in 27% of values; 4:4:4 up to 3, in 1%. PNG and WebP (lossless,
//! and lossy as libwebp decodes it) decode exactly.

use crate::data::NdData;
use crate::dtype::DType;
use crate::io::npy::decode_npy;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use ndarray::{ArrayD, IxDyn};
use std::io::Cursor;

/// How tiles are encoded on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileFormat {
    /// PNG images (grey, grey+alpha, RGB, RGBA or palette; 8 or 16 bits), decoded to `u8`.
    Png,
    /// JPEG images (grey or colour), decoded to `u8` (see the module docs on libjpeg).
    Jpeg,
    /// WebP images (lossy or lossless, with or without alpha), decoded to `u8`.
    WebP,
    /// `.npy` arrays of shape `(height, width, channels)`, or `(height, width)` for one
    /// channel, of the layout's element type.
    Npy,
}

impl TileFormat {
    /// The usual file extension (`"png"`, `"jpg"`, `"webp"`, `"npy"`).
    pub fn extension(self) -> &'static str {
        match self {
            TileFormat::Png => "png",
            TileFormat::Jpeg => "jpg",
            TileFormat::WebP => "webp",
            TileFormat::Npy => "npy",
        }
    }

    /// The format of a file extension (`png`, `jpg`/`jpeg`, `webp`, `npy`), if known.
    pub fn from_extension(ext: &str) -> Option<TileFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(TileFormat::Png),
            "jpg" | "jpeg" => Some(TileFormat::Jpeg),
            "webp" => Some(TileFormat::WebP),
            "npy" => Some(TileFormat::Npy),
            _ => None,
        }
    }

    /// True for the image formats, which always decode to `u8`.
    pub fn is_image(self) -> bool {
        !matches!(self, TileFormat::Npy)
    }
}

/// What every decoded tile must be: a `(height, width, channels)` array of `dtype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TileLayout {
    /// Rows of a tile.
    pub height: usize,
    /// Columns of a tile.
    pub width: usize,
    /// Values per pixel: images give 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) whatever
    /// they hold; `.npy` tiles must have exactly this many.
    pub channels: usize,
    /// The element type (`u8` for images).
    pub dtype: DType,
}

impl TileLayout {
    /// The shape of a decoded tile.
    pub fn shape(&self) -> [usize; 3] {
        [self.height, self.width, self.channels]
    }
}

/// Decodes one tile and checks it against `layout`. The error says what is wrong; the caller
/// adds the URL.
pub fn decode_tile(
    format: TileFormat,
    bytes: &[u8],
    layout: &TileLayout,
) -> Result<NdData, String> {
    match format {
        TileFormat::Png | TileFormat::Jpeg | TileFormat::WebP => decode_image(bytes, layout),
        TileFormat::Npy => decode_npy_tile(bytes, layout),
    }
}

/// Decodes a PNG, JPEG or WebP (recognised by its content, whatever the URL says) and converts
/// it to `layout.channels`.
fn decode_image(bytes: &[u8], layout: &TileLayout) -> Result<NdData, String> {
    if layout.dtype != DType::U8 {
        return Err(format!("image tiles decode to uint8, not {}", layout.dtype));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read the image: {e}"))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => {
            return Err(format!(
                "not a PNG, JPEG or WebP image (starts with {:02x?})",
                &bytes[..bytes.len().min(8)]
            ))
        }
    }
    // Refuse absurd sizes before decoding (a small body can announce a huge image); a merely
    // wrong size is decoded and reported with its dimensions below.
    let mut limits = Limits::default();
    limits.max_image_width =
        Some(u32::try_from(layout.width.saturating_mul(4)).unwrap_or(u32::MAX));
    limits.max_image_height =
        Some(u32::try_from(layout.height.saturating_mul(4)).unwrap_or(u32::MAX));
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| format!("cannot decode the image: {e}"))?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    if (h, w) != (layout.height, layout.width) {
        return Err(format!(
            "tile is {h}x{w} pixels, expected {}x{}",
            layout.height, layout.width
        ));
    }
    let pixels = to_channels(image, layout.channels)?;
    ArrayD::from_shape_vec(IxDyn(&layout.shape()), pixels)
        .map(NdData::from)
        .map_err(|e| format!("decoded pixels do not fill the tile: {e}"))
}

/// Rec. 601 luma of an 8-bit RGB value, rounded as Pillow's `convert("L")` rounds it.
pub fn luma601(r: u8, g: u8, b: u8) -> u8 {
    let l = 19595 * u32::from(r) + 38470 * u32::from(g) + 7471 * u32::from(b) + 0x8000;
    // The weights sum to 65536, so the result is at most 255.
    (l >> 16) as u8
}

/// True for images whose pixels are grey already (luma needs no weights).
fn is_grey(image: &DynamicImage) -> bool {
    !image.color().has_color()
}

/// The interleaved `u8` pixels of an image converted to 1, 2, 3 or 4 channels; colour to grey
/// through [`luma601`] (the `image` crate's own conversion uses Rec. 709 weights).
fn to_channels(image: DynamicImage, channels: usize) -> Result<Vec<u8>, String> {
    Ok(match channels {
        1 | 2 if is_grey(&image) => match channels {
            1 => image.into_luma8().into_raw(),
            _ => image.into_luma_alpha8().into_raw(),
        },
        1 | 2 => {
            let rgba = image.into_rgba8();
            let mut out = Vec::with_capacity(rgba.as_raw().len() / 4 * channels);
            for p in rgba.as_raw().chunks_exact(4) {
                out.push(luma601(p[0], p[1], p[2]));
                if channels == 2 {
                    out.push(p[3]);
                }
            }
            out
        }
        3 => image.into_rgb8().into_raw(),
        4 => image.into_rgba8().into_raw(),
        n => return Err(format!("image tiles have 1 to 4 channels, not {n}")),
    })
}

/// Decodes a `.npy` tile and checks its type and shape.
fn decode_npy_tile(bytes: &[u8], layout: &TileLayout) -> Result<NdData, String> {
    let data = decode_npy(bytes)?;
    if data.dtype() != layout.dtype {
        return Err(format!(
            "tile holds {} values, expected {}",
            data.dtype(),
            layout.dtype
        ));
    }
    let shape = data.shape().to_vec();
    let want = layout.shape();
    if shape == want {
        return Ok(data);
    }
    if layout.channels == 1 && shape == want[..2] {
        return crate::with_nd!(data, a: T => a
            .into_shape_with_order(IxDyn(&want))
            .map(T::wrap)
            .map_err(|e| format!("cannot add a channel axis: {e}")));
    }
    Err(format!("tile has shape {shape:?}, expected {want:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage};

    fn layout(channels: usize) -> TileLayout {
        TileLayout {
            height: 2,
            width: 3,
            channels,
            dtype: DType::U8,
        }
    }

    fn png(image: DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn grey_png_becomes_rgb_and_rgba() {
        let grey: GrayImage = ImageBuffer::from_fn(3, 2, |x, y| Luma([(10 * x + 100 * y) as u8]));
        let bytes = png(DynamicImage::ImageLuma8(grey));
        let rgb = decode_tile(TileFormat::Png, &bytes, &layout(3))
            .unwrap()
            .into_typed::<u8>()
            .unwrap();
        assert_eq!(rgb.shape(), &[2, 3, 3]);
        assert_eq!(rgb[[1, 2, 0]], 120);
        assert_eq!(rgb[[1, 2, 2]], 120);
        let rgba = decode_tile(TileFormat::Png, &bytes, &layout(4))
            .unwrap()
            .into_typed::<u8>()
            .unwrap();
        assert_eq!(rgba[[1, 2, 3]], 255);
    }

    #[test]
    fn colour_to_grey_is_pillows_rec601() {
        // Values of `PIL.Image.fromarray(a).convert("L")` (Pillow 13) for these pixels.
        for (rgb, pil) in [
            ([255, 0, 0], 76),
            ([0, 255, 0], 150),
            ([0, 0, 255], 29),
            ([255, 255, 255], 255),
            ([1, 1, 1], 1),
            ([10, 200, 30], 124),
            ([128, 64, 250], 104),
        ] {
            assert_eq!(luma601(rgb[0], rgb[1], rgb[2]), pil, "{rgb:?}");
        }
        let rgb: RgbImage =
            ImageBuffer::from_fn(3, 2, |x, y| Rgb([10 * x as u8, 200, 30 + y as u8]));
        let bytes = png(DynamicImage::ImageRgb8(rgb));
        let grey = decode_tile(TileFormat::Png, &bytes, &layout(2))
            .unwrap()
            .into_typed::<u8>()
            .unwrap();
        assert_eq!(grey[[0, 1, 0]], luma601(10, 200, 30));
        assert_eq!(grey[[1, 2, 0]], luma601(20, 200, 31));
        assert_eq!(grey[[1, 2, 1]], 255);
    }

    #[test]
    fn lossless_webp_decodes_exactly() {
        let rgba = image::RgbaImage::from_fn(3, 2, |x, y| {
            image::Rgba([x as u8, 9, y as u8 * 7, 100 + x as u8])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(rgba.clone())
            .write_to(&mut out, ImageFormat::WebP)
            .unwrap();
        let got = decode_tile(TileFormat::WebP, out.get_ref(), &layout(4))
            .unwrap()
            .into_typed::<u8>()
            .unwrap();
        for (x, y, p) in rgba.enumerate_pixels() {
            for c in 0..4 {
                assert_eq!(got[[y as usize, x as usize, c]], p.0[c]);
            }
        }
    }

    #[test]
    fn wrong_size_and_garbage_are_errors() {
        let rgb: RgbImage = ImageBuffer::from_fn(4, 2, |_, _| Rgb([1, 2, 3]));
        let bytes = png(DynamicImage::ImageRgb8(rgb));
        let e = decode_tile(TileFormat::Png, &bytes, &layout(3)).unwrap_err();
        assert!(e.contains("2x4 pixels, expected 2x3"), "{e}");
        let e = decode_tile(TileFormat::Png, b"<html>not found</html>", &layout(3)).unwrap_err();
        assert!(e.contains("not a PNG, JPEG or WebP"), "{e}");
        let e = decode_tile(TileFormat::Npy, &bytes, &layout(3)).unwrap_err();
        assert!(e.contains("magic"), "{e}");
    }

    #[test]
    fn npy_tiles_check_type_and_shape() {
        let a = NdData::from(ArrayD::<u16>::from_elem(IxDyn(&[2, 3]), 7));
        let bytes = crate::io::npy::encode_npy(&a);
        let one = TileLayout {
            channels: 1,
            dtype: DType::U16,
            ..layout(1)
        };
        assert_eq!(
            decode_tile(TileFormat::Npy, &bytes, &one).unwrap().shape(),
            &[2, 3, 1]
        );
        let e = decode_tile(
            TileFormat::Npy,
            &bytes,
            &TileLayout {
                dtype: DType::F32,
                ..one
            },
        )
        .unwrap_err();
        assert!(e.contains("uint16 values, expected float32"), "{e}");
        let e =
            decode_tile(TileFormat::Npy, &bytes, &TileLayout { channels: 3, ..one }).unwrap_err();
        assert!(e.contains("expected [2, 3, 3]"), "{e}");
    }
}
