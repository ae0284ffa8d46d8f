//! Writing a `(height, width, channels)` array of `uint8` as a PNG, atomically (a temporary
//! file renamed into place once complete).

use super::error::CliError;
use crate::NdData;
use image::{DynamicImage, ImageBuffer};
use std::path::Path;

/// Writes `data` (`uint8`, shape `(h, w, c)` with `c` 1 to 4) as the PNG `path`.
pub fn write_png(data: NdData, path: &Path, overwrite: bool) -> Result<(), CliError> {
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
    let (h, w, c) = (shape[0] as u32, shape[1] as u32, shape[2]);
    let raw: Vec<u8> = a.iter().copied().collect();
    let bad = || CliError::Runtime(format!("cannot build a {w}x{h} image of {c} channels"));
    let image = match c {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, raw).ok_or_else(bad)?),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.png".into());
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = image
        .save_with_format(&temp, image::ImageFormat::Png)
        .map_err(|e| CliError::Runtime(format!("{}: cannot write: {e}", path.display())))
        .and_then(|_| {
            std::fs::rename(&temp, path).map_err(|e| {
                CliError::Runtime(format!("{}: cannot rename into place: {e}", path.display()))
            })
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
