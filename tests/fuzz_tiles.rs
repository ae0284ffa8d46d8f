//! Fuzzing tile decoding (issue 11): PNG, JPEG and `.npy` tiles made here, then mutated,
//! through [`decode_tile`]. A tile decodes to exactly its layout (shape and type) or gives an
//! error; never a panic, nor an allocation of what a header merely claims.
//! `VASTARRAY_FUZZ_CASES` sets the number of cases.

#![cfg(feature = "tiles")]

use crate::common;

use image::{DynamicImage, ImageBuffer, ImageFormat};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::io::Cursor;
use vastarray::io::npy::encode_npy;
use vastarray::io::tiles::{decode_tile, TileFormat, TileLayout};
use vastarray::{DType, NdData};

/// A small image: width, height, channels (1 to 4) and its interleaved pixels.
#[derive(Clone, Debug)]
struct Picture {
    w: u32,
    h: u32,
    channels: usize,
    pixels: Vec<u8>,
}

fn picture() -> impl Strategy<Value = Picture> {
    (1u32..9, 1u32..9, 1usize..5, any::<u64>()).prop_map(|(w, h, channels, seed)| {
        let mut rng = fastrand::Rng::with_seed(seed);
        let pixels = (0..w as usize * h as usize * channels)
            .map(|_| rng.u8(..))
            .collect();
        Picture {
            w,
            h,
            channels,
            pixels,
        }
    })
}

fn image_of(p: &Picture) -> DynamicImage {
    let raw = p.pixels.clone();
    match p.channels {
        1 => DynamicImage::ImageLuma8(ImageBuffer::from_raw(p.w, p.h, raw).unwrap()),
        2 => DynamicImage::ImageLumaA8(ImageBuffer::from_raw(p.w, p.h, raw).unwrap()),
        3 => DynamicImage::ImageRgb8(ImageBuffer::from_raw(p.w, p.h, raw).unwrap()),
        _ => DynamicImage::ImageRgba8(ImageBuffer::from_raw(p.w, p.h, raw).unwrap()),
    }
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // JPEG has no alpha channel.
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(image.to_rgb8())
            .write_to(&mut out, format)
            .unwrap(),
        _ => image.write_to(&mut out, format).unwrap(),
    }
    out.into_inner()
}

fn layout(p: &Picture, dtype: DType) -> TileLayout {
    TileLayout {
        height: p.h as usize,
        width: p.w as usize,
        channels: p.channels,
        dtype,
    }
}

/// Decodes and checks the outcome: an error, or an array of exactly the layout.
fn decode_checked(
    format: TileFormat,
    bytes: &[u8],
    layout: &TileLayout,
) -> Result<Option<NdData>, TestCaseError> {
    match decode_tile(format, bytes, layout) {
        Err(m) => {
            prop_assert!(!m.is_empty());
            Ok(None)
        }
        Ok(data) => {
            prop_assert_eq!(data.shape(), &layout.shape()[..]);
            prop_assert_eq!(data.dtype(), layout.dtype);
            Ok(Some(data))
        }
    }
}

/// Damages `bytes`: bit flips, byte changes, insertions, deletions or a truncation.
fn damage(bytes: &mut Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) {
    for (at, kind, value) in edits {
        if bytes.is_empty() {
            return;
        }
        let k = at.index(bytes.len());
        match kind % 5 {
            0 => bytes[k] ^= 1 << (value % 8),
            1 => bytes[k] = *value,
            2 => bytes.insert(k, *value),
            3 => {
                bytes.remove(k);
            }
            _ => bytes.truncate(k),
        }
    }
}

fn edits() -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u8)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), any::<u8>(), any::<u8>()),
        1..5,
    )
}

/// Recomputes the checksum of every whole chunk of a (damaged) PNG, so the damage reaches the
/// decoder instead of failing the checksum.
fn fix_png_checksums(bytes: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e + 4 <= bytes.len()) else {
            return;
        };
        let mut crc = flate2::Crc::new();
        crc.update(&bytes[at + 4..end]);
        bytes[end..end + 4].copy_from_slice(&crc.sum().to_be_bytes());
        at = end + 4;
    }
}

/// A PNG of `w` x `h` pixels with a valid signature, header and checksum but no real data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    let mut crc = flate2::Crc::new();
    crc.update(&ihdr);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

fn config() -> Config {
    Config {
        cases: common::fuzz_cases(),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// A PNG of the layout's size decodes to exactly its pixels; another size is an error.
    #[test]
    fn pngs_decode_exactly_or_are_refused(p in picture()) {
        let bytes = encode(&image_of(&p), ImageFormat::Png);
        let data = decode_checked(TileFormat::Png, &bytes, &layout(&p, DType::U8))?
            .expect("a PNG of the layout's size");
        let got: Vec<u8> = data.into_typed::<u8>().unwrap().iter().copied().collect();
        prop_assert_eq!(got, p.pixels.clone());
        let wider = TileLayout { width: p.w as usize + 1, ..layout(&p, DType::U8) };
        prop_assert!(decode_tile(TileFormat::Png, &bytes, &wider).is_err());
        let not_u8 = layout(&p, DType::F32);
        prop_assert!(decode_tile(TileFormat::Png, &bytes, &not_u8).is_err());
    }

    #[test]
    fn damaged_pngs_and_jpegs_give_errors_or_tiles_of_the_layout(
        p in picture(),
        jpeg in any::<bool>(),
        fix_checksums in any::<bool>(),
        edits in edits(),
    ) {
        let (format, kind) = if jpeg {
            (ImageFormat::Jpeg, TileFormat::Jpeg)
        } else {
            (ImageFormat::Png, TileFormat::Png)
        };
        let mut bytes = encode(&image_of(&p), format);
        damage(&mut bytes, &edits);
        if fix_checksums && !jpeg {
            fix_png_checksums(&mut bytes);
        }
        decode_checked(kind, &bytes, &layout(&p, DType::U8))?;
    }

    #[test]
    fn npy_tiles_decode_exactly_or_are_refused(
        p in picture(),
        dtype in prop::sample::select(DType::ALL.to_vec()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let shape = [p.h as usize, p.w as usize, p.channels];
        let values = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&shape), |ix| {
            (ix[0] * 100 + ix[1] * 10 + ix[2]) as f64 - 50.0
        });
        let data = NdData::from(values).cast(dtype);
        let mut bytes = encode_npy(&data);
        let pristine = edits.is_empty();
        damage(&mut bytes, &edits);
        let got = decode_checked(TileFormat::Npy, &bytes, &layout(&p, dtype))?;
        if pristine {
            prop_assert_eq!(got, Some(data));
        }
    }

    /// A valid-looking header claiming a huge image is refused before its pixels exist.
    #[test]
    fn huge_claimed_images_are_refused(
        w in prop::sample::select(vec![1u32 << 16, 1 << 24, (1 << 31) - 1, u32::MAX]),
        h in prop::sample::select(vec![1u32, 1 << 16, (1 << 31) - 1]),
    ) {
        let bytes = png_claiming(w, h);
        let l = TileLayout { height: 256, width: 256, channels: 3, dtype: DType::U8 };
        prop_assert!(decode_tile(TileFormat::Png, &bytes, &l).is_err());
    }
}
