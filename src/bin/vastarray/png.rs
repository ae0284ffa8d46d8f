//! Writing a `(height, width, channels)` array of `uint8` as a PNG, atomically (a temporary
//! file of [`vastarray::sink::temp`] renamed into place once complete).

use super::error::CliError;
use image::{DynamicImage, ImageBuffer};
use std::path::Path;
use vastarray::NdData;

/// Writes `data` (`uint8`, shape `(h, w, c)` with `c` 1 to 4) as the PNG `path`.
pub(crate) fn write_png(data: NdData, path: &Path, overwrite: bool) -> Result<(), CliError> {
    if path.exists() && !overwrite {
        return Err(CliError::Runtime(format!(
            "{}: exists already (add --overwrite to replace it)",
            path.display()
        )));
    }
    let shape = data.shape().to_vec();
    if shape.len() != 3 || !(1..=4).contains(&shape[2]) {
        return Err(CliError::Usage(format!(
            "a PNG needs an array of shape (height, width, 1 to 4 channels), not {shape:?}"
        )));
    }
    let a = data
        .into_typed::<u8>()
        .map_err(|e| CliError::Usage(format!("a PNG needs uint8 values: {e}")))?;
    let (Ok(h), Ok(w)) = (u32::try_from(shape[0]), u32::try_from(shape[1])) else {
        return Err(CliError::Usage(format!(
            "a PNG is at most {} pixels on a side, not {} x {}",
            u32::MAX,
            shape[0],
            shape[1]
        )));
    };
    let c = shape[2];
    let raw: Vec<u8> = a.iter().copied().collect();
    let bad = || CliError::Runtime(format!("cannot build a {w}x{h} image of {c} channels"));
    let image = match c {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
    };
    // Removed when dropped unless renamed into place; stale ones of killed runs go too.
    let temp = vastarray::sink::temp::TempFile::claim(path)?;
    image
        .save_with_format(&temp, image::ImageFormat::Png)
        .map_err(|e| CliError::Runtime(format!("{}: cannot write: {e}", path.display())))?;
    std::fs::rename(&temp, path).map_err(|e| {
        CliError::Runtime(format!("{}: cannot rename into place: {e}", path.display()))
    })
}
