//! [`UrlTemplate`]: slippy-map URL templates such as `https://{s}.tile.example/{z}/{x}/{y}.png`,
//! with the placeholders Leaflet, OpenLayers and GDAL's TMS driver know: `{-y}` (TMS rows,
//! counted from the bottom), `{q}` (Bing quadkeys) and `{r}` (`@2x` for high-resolution tiles).

use crate::error::{Error, Result};
use std::fmt;

/// A parsed tile URL template. Placeholders:
///
/// - `{z}`, `{x}`: zoom and tile column;
/// - `{y}`: tile row from the top (XYZ, "slippy map" numbering), or `{-y}`: tile row from the
///   bottom, `2^z - 1 - y` (TMS numbering, as gdal2tiles writes without `--xyz`);
/// - `{q}`: the quadkey of the tile (Bing Maps: one digit per level, `2 * ybit + xbit`);
/// - `{s}`: a subdomain, chosen for each tile as `subdomains[(x + y) % n]`;
/// - `{r}`: the resolution suffix ([`UrlTemplate::with_retina`]: `"@2x"`, or `""` by default),
///   as Leaflet spells it.
///
/// A template needs `{z}`, `{x}` and one of `{y}` / `{-y}`, or else `{q}` (which holds all
/// three). `GDAL`'s `${z}` spelling is accepted for each placeholder too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate {
    text: String,
    parts: Vec<Part>,
    subdomains: Vec<String>,
    retina: String,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Z,
    X,
    Y,
    FlippedY,
    Quadkey,
    Subdomain,
    Retina,
}

impl UrlTemplate {
    /// Parses a template without `{s}`.
    pub fn new(template: &str) -> Result<Self> {
        UrlTemplate::with_subdomains(template, Vec::<String>::new())
    }

    /// Parses a template whose `{s}` is replaced by one of `subdomains`.
    pub fn with_subdomains<I, S>(template: &str, subdomains: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let subdomains: Vec<String> = subdomains.into_iter().map(Into::into).collect();
        let parts = parse(template)?;
        if !parts.contains(&Part::Quadkey) {
            let has_y = parts.contains(&Part::Y) || parts.contains(&Part::FlippedY);
            for (has, name) in [
                (parts.contains(&Part::Z), "{z}"),
                (parts.contains(&Part::X), "{x}"),
                (has_y, "{y} (or {-y})"),
            ] {
                if !has {
                    return Err(Error::Invalid(format!(
                        "tile URL template {template:?} has no {name} (nor a quadkey {{q}})"
                    )));
                }
            }
        }
        if parts.contains(&Part::Subdomain) && subdomains.is_empty() {
            return Err(Error::Invalid(format!(
                "tile URL template {template:?} uses {{s}} but no subdomains were given"
            )));
        }
        Ok(UrlTemplate {
            text: template.to_string(),
            parts,
            subdomains,
            retina: String::new(),
        })
    }

    /// The same template with `{r}` replaced by `suffix` (`"@2x"` for the high-resolution tiles
    /// many servers offer, usually 512 pixels on a side).
    pub fn with_retina(mut self, suffix: &str) -> Self {
        self.retina = suffix.to_string();
        self
    }

    /// What `{r}` is replaced by.
    pub fn retina(&self) -> &str {
        &self.retina
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The subdomains `{s}` is chosen from.
    pub fn subdomains(&self) -> &[String] {
        &self.subdomains
    }

    /// The URL of tile (`z`, `x`, `y`), `y` counted from the top (XYZ numbering) whatever the
    /// template's numbering. `z` is at most 63 (the quadkey has one digit per level); callers
    /// check `x` and `y` are inside `0..2^z`.
    pub fn url(&self, z: u32, x: u64, y: u64) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Z => out.push_str(&z.to_string()),
                Part::X => out.push_str(&x.to_string()),
                Part::Y => out.push_str(&y.to_string()),
                Part::FlippedY => out.push_str(&flip_y(z, y).to_string()),
                Part::Quadkey => out.push_str(&quadkey(z, x, y)),
                Part::Retina => out.push_str(&self.retina),
                Part::Subdomain => {
                    let n = self.subdomains.len() as u64;
                    if n > 0 {
                        let i = (x.wrapping_add(y) % n) as usize;
                        out.push_str(&self.subdomains[i]);
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for UrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Row `y` (from the top) of zoom `z` counted from the bottom: `2^z - 1 - y` (TMS numbering).
/// Rows outside the level wrap rather than panic; callers keep `y < 2^z`.
pub(crate) fn flip_y(z: u32, y: u64) -> u64 {
    let last = 1u64.checked_shl(z).unwrap_or(0).wrapping_sub(1);
    last.wrapping_sub(y)
}

/// The Bing Maps quadkey of tile (`z`, `x`, `y`): `z` digits, from the coarsest level down,
/// each `2 * (bit of y) + (bit of x)`; the empty string at zoom 0.
pub(crate) fn quadkey(z: u32, x: u64, y: u64) -> String {
    (1..=z.min(64))
        .rev()
        .map(|level| {
            let mask = 1u64 << (level - 1);
            let digit = u8::from(x & mask != 0) + 2 * u8::from(y & mask != 0);
            char::from(b'0' + digit)
        })
        .collect()
}

/// Splits a template into literals and placeholders.
fn parse(template: &str) -> Result<Vec<Part>> {
    let bad = |why: String| Error::Invalid(format!("tile URL template {template:?}: {why}"));
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(bad(format!(
                "unmatched '}}' at byte {}",
                template.len() - rest.len() + open
            )));
        }
        // GDAL spells placeholders `${z}`: the `$` belongs to the placeholder.
        let literal_end = if rest[..open].ends_with('$') {
            open - 1
        } else {
            open
        };
        if literal_end > 0 {
            parts.push(Part::Literal(rest[..literal_end].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| bad("unmatched '{'".to_string()))?;
        let name = &rest[open + 1..open + close];
        parts.push(match name {
            "z" => Part::Z,
            "x" => Part::X,
            "y" => Part::Y,
            "-y" => Part::FlippedY,
            "q" => Part::Quadkey,
            "s" => Part::Subdomain,
            "r" => Part::Retina,
            other => {
                return Err(bad(format!(
                    "unknown placeholder {{{other}}} (known: z, x, y, -y, q, s, r)"
                )))
            }
        });
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_string()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders_and_rotates_subdomains() {
        let t =
            UrlTemplate::with_subdomains("http://{s}.tiles.test/{z}/{x}/{y}.png", ["a", "b", "c"])
                .unwrap();
        assert_eq!(t.url(3, 1, 0), "http://b.tiles.test/3/1/0.png");
        assert_eq!(t.url(3, 2, 2), "http://b.tiles.test/3/2/2.png");
        assert_eq!(t.url(3, 0, 0), "http://a.tiles.test/3/0/0.png");
        let t = UrlTemplate::new("/t/{z}-{y}-{x}").unwrap();
        assert_eq!(t.url(9, 5, 7), "/t/9-7-5");
    }

    #[test]
    fn tms_rows_count_from_the_bottom() {
        let t = UrlTemplate::new("/{z}/{x}/{-y}.png").unwrap();
        // Zoom 3 has rows 0..8: XYZ row 0 (the top) is TMS row 7.
        assert_eq!(t.url(3, 2, 0), "/3/2/7.png");
        assert_eq!(t.url(3, 2, 7), "/3/2/0.png");
        assert_eq!(t.url(0, 0, 0), "/0/0/0.png");
        let gdal = UrlTemplate::new("http://h/${z}/${x}/${-y}.png").unwrap();
        assert_eq!(gdal.url(1, 1, 0), "http://h/1/1/1.png");
    }

    #[test]
    fn quadkeys_follow_bing_maps() {
        // Microsoft's "Bing Maps Tile System" article: tile X=3, Y=5 at level 3 is "213".
        let t = UrlTemplate::new("http://h/tiles/a{q}.jpeg").unwrap();
        assert_eq!(t.url(3, 3, 5), "http://h/tiles/a213.jpeg");
        assert_eq!(t.url(1, 0, 0), "http://h/tiles/a0.jpeg");
        assert_eq!(t.url(1, 1, 1), "http://h/tiles/a3.jpeg");
        assert_eq!(t.url(0, 0, 0), "http://h/tiles/a.jpeg");
    }

    #[test]
    fn retina_suffix_is_empty_unless_asked() {
        let t = UrlTemplate::new("/{z}/{x}/{y}{r}.png").unwrap();
        assert_eq!(t.url(2, 1, 3), "/2/1/3.png");
        assert_eq!(t.with_retina("@2x").url(2, 1, 3), "/2/1/3@2x.png");
    }

    #[test]
    fn refuses_bad_templates() {
        assert!(UrlTemplate::new("http://h/{z}/{x}.png").is_err());
        assert!(UrlTemplate::new("http://{s}/{z}/{x}/{y}").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{x}/{y").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{x}/{y}/{t}").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{-x}/{y}").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{x}/{r}.png").is_err());
        assert!(UrlTemplate::new("http://h/}{z}/{x}/{y}").is_err());
    }
}
