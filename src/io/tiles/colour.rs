//! Colour conversions of decoded `u8` pictures (interleaved channels): alpha compositing over a
//! background, dropping an alpha channel that is opaque everywhere, and Rec. 601 grey.
//!
//! ```
//! use vastarray::io::tiles::colour::{composite_over, drop_alpha, is_opaque, rgb_to_grey};
//! let rgba = [255, 0, 0, 128, 0, 0, 255, 255];
//! assert!(!is_opaque(&rgba, 4));
//! assert_eq!(composite_over(&rgba, [255, 255, 255]), vec![255, 127, 127, 0, 0, 255]);
//! assert_eq!(drop_alpha(&rgba, 4), vec![255, 0, 0, 0, 0, 255]);
//! assert_eq!(rgb_to_grey(&[255, 255, 255, 0, 0, 0]), vec![255, 0]);
//! ```

pub use super::decode::luma601;

/// RGBA pixels composited over an opaque `background`: each channel becomes
/// `round((c * a + b * (255 - a)) / 255)` (ties up), the result RGB.
pub fn composite_over(rgba: &[u8], background: [u8; 3]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rgba.len() / 4 * 3);
    for p in rgba.chunks_exact(4) {
        let a = u32::from(p[3]);
        for (c, b) in p[..3].iter().zip(background) {
            let v = u32::from(*c) * a + u32::from(b) * (255 - a);
            // At most 255 * 255, so the quotient is at most 255.
            out.push(((v + 127) / 255) as u8);
        }
    }
    out
}

/// True when every pixel of `pixels` (interleaved, `channels` per pixel, the last one alpha)
/// is opaque.
pub fn is_opaque(pixels: &[u8], channels: usize) -> bool {
    channels > 0
        && pixels
            .chunks_exact(channels)
            .all(|p| p[channels - 1] == 255)
}

/// The pixels without their last channel (alpha).
pub fn drop_alpha(pixels: &[u8], channels: usize) -> Vec<u8> {
    if channels < 2 {
        return pixels.to_vec();
    }
    let mut out = Vec::with_capacity(pixels.len() / channels * (channels - 1));
    for p in pixels.chunks_exact(channels) {
        out.extend_from_slice(&p[..channels - 1]);
    }
    out
}

/// Grey (Rec. 601, [`luma601`]) of RGB pixels.
pub fn rgb_to_grey(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| luma601(p[0], p[1], p[2]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_by_hand() {
        // Opaque keeps the colour, transparent gives the background, half is the mean.
        let px = [10, 20, 30, 255, 10, 20, 30, 0, 200, 100, 0, 128];
        let out = composite_over(&px, [255, 255, 255]);
        // 200*128 + 255*127 = 57985 -> 227.39 -> 227; 100*128 + 255*127 = 45185 -> 177.2 -> 177;
        // 0*128 + 255*127 = 32385 -> 127.
        assert_eq!(out, vec![10, 20, 30, 255, 255, 255, 227, 177, 127]);
        assert!(!is_opaque(&px, 4));
        assert!(is_opaque(&[1, 255, 2, 255], 2));
        assert_eq!(drop_alpha(&px[..8], 4), vec![10, 20, 30, 10, 20, 30]);
        assert_eq!(rgb_to_grey(&[255, 0, 0, 0, 255, 0]), vec![76, 150]);
    }
}
