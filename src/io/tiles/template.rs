//! [`UrlTemplate`]: slippy-map URL templates such as `https://{s}.tile.example/{z}/{x}/{y}.png`.

use crate::error::{Error, Result};
use std::fmt;

/// A parsed tile URL template with the placeholders `{z}`, `{x}`, `{y}` (all required) and
/// `{s}` (optional: a subdomain, chosen for each tile as `subdomains[(x + y) % n]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlTemplate {
    text: String,
    parts: Vec<Part>,
    subdomains: Vec<String>,
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Z,
    X,
    Y,
    Subdomain,
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
        for (need, name) in [(Part::Z, "{z}"), (Part::X, "{x}"), (Part::Y, "{y}")] {
            if !parts.contains(&need) {
                return Err(Error::Invalid(format!(
                    "tile URL template {template:?} has no {name}"
                )));
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
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The subdomains `{s}` is chosen from.
    pub fn subdomains(&self) -> &[String] {
        &self.subdomains
    }

    /// The URL of tile (`z`, `x`, `y`).
    pub fn url(&self, z: u32, x: u64, y: u64) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Z => out.push_str(&z.to_string()),
                Part::X => out.push_str(&x.to_string()),
                Part::Y => out.push_str(&y.to_string()),
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
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| bad("unmatched '{'".to_string()))?;
        let name = &rest[open + 1..open + close];
        parts.push(match name {
            "z" => Part::Z,
            "x" => Part::X,
            "y" => Part::Y,
            "s" => Part::Subdomain,
            other => {
                return Err(bad(format!(
                    "unknown placeholder {{{other}}} (known: z, x, y, s)"
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
    fn refuses_bad_templates() {
        assert!(UrlTemplate::new("http://h/{z}/{x}.png").is_err());
        assert!(UrlTemplate::new("http://{s}/{z}/{x}/{y}").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{x}/{y").is_err());
        assert!(UrlTemplate::new("http://h/{z}/{x}/{y}/{q}").is_err());
        assert!(UrlTemplate::new("http://h/}{z}/{x}/{y}").is_err());
    }
}
