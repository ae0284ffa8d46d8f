//! Web Mercator (EPSG:3857) geometry of XYZ tile pyramids, as mercantile and morecantile
//! compute it: a longitude/latitude box to the pixel box of a zoom level that covers it, and
//! the world file (`.pgw`) that places a pixel box on the map.
//!
//! ```
//! use vastarray::io::tiles::mercator::{bbox_pixels, LonLatBox};
//! // The whole Web Mercator square at zoom 1 in 256-pixel tiles: 512 x 512 pixels.
//! let world = LonLatBox::parse("-180,-85.0511287798066,180,85.0511287798066", false).unwrap();
//! let [rows, cols] = bbox_pixels(&world, 1, 256);
//! assert_eq!((rows, cols), (0..512, 0..512));
//! // The north-east quarter.
//! let ne = LonLatBox::parse("0,0,180,85.0511287798066", false).unwrap();
//! assert_eq!(bbox_pixels(&ne, 1, 256), [0..256, 256..512]);
//! ```

use crate::error::{Error, Result};
use std::f64::consts::PI;
use std::ops::Range;

/// The equatorial radius of WGS 84 (metres), the sphere Web Mercator projects onto.
pub const EARTH_RADIUS: f64 = 6_378_137.0;
/// Half the width of the Web Mercator world in metres (`pi * EARTH_RADIUS`).
pub const ORIGIN_SHIFT: f64 = PI * EARTH_RADIUS;
/// The northern- and southernmost latitude of the Web Mercator square (degrees).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// How close (in pixels) a box edge must be to a pixel edge to be taken as lying on it, so a
/// box of whole tiles gives exactly those tiles despite rounding in the projection.
const SNAP: f64 = 1e-6;

/// A box in degrees: west and east longitudes, south and north latitudes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LonLatBox {
    /// Western edge (degrees of longitude, -180 to 180).
    pub west: f64,
    /// Southern edge (degrees of latitude).
    pub south: f64,
    /// Eastern edge (degrees of longitude, greater than `west`).
    pub east: f64,
    /// Northern edge (degrees of latitude, greater than `south`).
    pub north: f64,
}

impl LonLatBox {
    /// Parses `WEST,SOUTH,EAST,NORTH` (the order of `gdal_translate -projwin_srs`'s bbox, of
    /// mercantile and of GeoJSON) and checks it: finite, west < east, south < north,
    /// longitudes within -180..180, latitudes within the Web Mercator square unless `clamp`
    /// (then latitudes beyond it are moved onto its edge).
    pub fn parse(text: &str, clamp: bool) -> Result<LonLatBox> {
        let bad = |why: String| Error::Invalid(format!("bbox {text:?}: {why}"));
        let values = text
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|e| bad(format!("{e} (write WEST,SOUTH,EAST,NORTH in degrees)")))?;
        let [west, mut south, east, mut north] = values[..] else {
            return Err(bad(format!(
                "{} number(s); write WEST,SOUTH,EAST,NORTH in degrees",
                values.len()
            )));
        };
        if !values.iter().all(|v| v.is_finite()) {
            return Err(bad("every bound must be a finite number".into()));
        }
        if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
            return Err(bad("longitudes are between -180 and 180".into()));
        }
        if west >= east {
            return Err(bad(format!(
                "west {west} is not less than east {east} (boxes across the antimeridian are not supported)"
            )));
        }
        if south >= north {
            return Err(bad(format!("south {south} is not less than north {north}")));
        }
        // The edge as usually written (mercantile's 85.0511287798066) counts as the edge.
        let near_edge = |v: f64| v.abs() > MAX_LATITUDE && v.abs() <= MAX_LATITUDE + 1e-9;
        if near_edge(south) {
            south = south.clamp(-MAX_LATITUDE, MAX_LATITUDE);
        }
        if near_edge(north) {
            north = north.clamp(-MAX_LATITUDE, MAX_LATITUDE);
        }
        if clamp {
            south = south.clamp(-MAX_LATITUDE, MAX_LATITUDE);
            north = north.clamp(-MAX_LATITUDE, MAX_LATITUDE);
            if south >= north {
                return Err(bad(format!(
                    "nothing of it lies within the Web Mercator latitudes -{MAX_LATITUDE}..{MAX_LATITUDE}"
                )));
            }
        } else if south < -MAX_LATITUDE || north > MAX_LATITUDE {
            return Err(bad(format!(
                "latitudes of Web Mercator tiles are within -{MAX_LATITUDE}..{MAX_LATITUDE} (add --clip to clip the box to them)"
            )));
        }
        Ok(LonLatBox {
            west,
            south,
            east,
            north,
        })
    }
}

/// The position of (`lon`, `lat`) as fractions of the Web Mercator square, x from the west
/// edge and y from the north edge (mercantile's `_xy`).
pub fn unit_xy(lon: f64, lat: f64) -> (f64, f64) {
    let x = lon / 360.0 + 0.5;
    let sin = lat.to_radians().sin();
    let y = 0.5 - 0.25 * ((1.0 + sin) / (1.0 - sin)).ln() / PI;
    (x, y)
}

/// Pixels on a side of zoom `zoom` with tiles of `tile_size` pixels, as a float.
fn world_pixels(zoom: u32, tile_size: usize) -> f64 {
    (tile_size as f64) * 2f64.powi(zoom as i32)
}

/// The rows and columns of zoom `zoom` (tiles of `tile_size` pixels) that cover `bbox`: every
/// pixel the box touches, a pixel edge within a millionth of a pixel counting as the box's.
pub fn bbox_pixels(bbox: &LonLatBox, zoom: u32, tile_size: usize) -> [Range<usize>; 2] {
    let n = world_pixels(zoom, tile_size);
    let (x0, y0) = unit_xy(bbox.west, bbox.north);
    let (x1, y1) = unit_xy(bbox.east, bbox.south);
    let low = |v: f64| {
        let p = v * n;
        let r = p.round();
        let p = if (p - r).abs() < SNAP { r } else { p.floor() };
        p.clamp(0.0, n) as usize
    };
    let high = |v: f64| {
        let p = v * n;
        let r = p.round();
        let p = if (p - r).abs() < SNAP { r } else { p.ceil() };
        p.clamp(0.0, n) as usize
    };
    let (r0, c0) = (low(y0), low(x0));
    // A box thinner than a pixel still covers the pixel it lies in.
    let (r1, c1) = (high(y1).max(r0 + 1), high(x1).max(c0 + 1));
    [r0..r1, c0..c1]
}

/// The size of one pixel of zoom `zoom` in Web Mercator metres.
pub fn pixel_size(zoom: u32, tile_size: usize) -> f64 {
    2.0 * ORIGIN_SHIFT / world_pixels(zoom, tile_size)
}

/// The six lines of an ESRI world file (`.pgw` beside a PNG) for a picture whose top-left
/// pixel is (`row0`, `col0`) of zoom `zoom`: pixel width, two rotations (0), minus the pixel
/// height, and the Web Mercator x and y of the *centre* of the top-left pixel.
pub fn world_file(zoom: u32, tile_size: usize, row0: usize, col0: usize) -> String {
    let size = pixel_size(zoom, tile_size);
    let x = -ORIGIN_SHIFT + (col0 as f64 + 0.5) * size;
    let y = ORIGIN_SHIFT - (row0 as f64 + 0.5) * size;
    format!(
        "{size:.10}\n0.0000000000\n0.0000000000\n{:.10}\n{x:.10}\n{y:.10}\n",
        -size
    )
}

/// The coordinate system of Web Mercator in a GDAL `.aux.xml` side file, so GDAL and QGIS know
/// the world file's units (a world file holds no coordinate system).
pub fn aux_xml() -> &'static str {
    concat!(
        "<PAMDataset>\n",
        "  <SRS dataAxisToSRSAxisMapping=\"1,2\">PROJCS[\"WGS 84 / Pseudo-Mercator\",",
        "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,",
        "AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,",
        "AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,",
        "AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]],",
        "PROJECTION[\"Mercator_1SP\"],PARAMETER[\"central_meridian\",0],",
        "PARAMETER[\"scale_factor\",1],PARAMETER[\"false_easting\",0],",
        "PARAMETER[\"false_northing\",0],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],",
        "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],",
        "EXTENSION[\"PROJ4\",\"+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 ",
        "+y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs\"],",
        "AUTHORITY[\"EPSG\",\"3857\"]]</SRS>\n",
        "</PAMDataset>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_world_is_the_whole_level() {
        let world = LonLatBox::parse("-180,-85.0511287798066,180,85.0511287798066", false).unwrap();
        assert_eq!(bbox_pixels(&world, 2, 256), [0..1024, 0..1024]);
        // One tile: zoom 1, the north-east quarter.
        let ne = LonLatBox::parse("0,0,180,85.0511287798066", false).unwrap();
        assert_eq!(bbox_pixels(&ne, 1, 256), [0..256, 256..512]);
    }

    #[test]
    fn bad_boxes_are_errors() {
        for (text, says) in [
            ("1,2,3", "3 number(s)"),
            ("10,0,5,1", "not less than east"),
            ("0,5,1,4", "not less than north"),
            ("0,0,200,1", "between -180 and 180"),
            ("0,0,1,89", "--clip"),
            ("0,x,1,2", "WEST,SOUTH,EAST,NORTH"),
            ("0,0,1,inf", "finite"),
        ] {
            let e = LonLatBox::parse(text, false).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        let clamped = LonLatBox::parse("0,0,1,89", true).unwrap();
        assert_eq!(clamped.north, MAX_LATITUDE);
        assert!(LonLatBox::parse("0,86,1,89", true).is_err());
    }

    #[test]
    fn world_file_of_the_top_left_tile() {
        // Zoom 0: one 256-pixel tile; a pixel is 2 * pi * R / 256 metres.
        let lines: Vec<f64> = world_file(0, 256, 0, 0)
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let size = 2.0 * PI * EARTH_RADIUS / 256.0;
        assert!((lines[0] - size).abs() < 1e-6 && (lines[3] + size).abs() < 1e-6);
        assert!((lines[4] - (-20037508.342789244 + size / 2.0)).abs() < 1e-6);
        assert!((lines[5] - (20037508.342789244 - size / 2.0)).abs() < 1e-6);
    }
}
