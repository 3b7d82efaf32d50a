//! Loading scenario files: TOML text → a typed schema, with `--set`
//! overrides and errors that say where and what.
//!
//! Every error names the file, the line and column, the key path
//! (`kademlia.k`), what was expected, and for a misspelt key the closest
//! valid one ("did you mean `alpha`?").

use crate::bounds::{clip, shown};
use serde::de::DeserializeOwned;
use std::fmt;

/// Longest quoted value echoed in an error, in characters.
const ECHO_MAX: usize = 60;
/// Longest run of unquoted text kept in an error, in characters.
const PROSE_MAX: usize = 400;

/// Longest error message, in characters, after clipping its parts.
const MESSAGE_MAX: usize = 2_000;

/// A parser's message with every quoted part (between `"` or `` ` ``; a
/// backslash escapes the next character) cut to 60 characters and every
/// other part to 400, and the whole to 2000: a huge value is never echoed
/// in full, whatever quotes it contains.
pub fn clip_message(message: &str) -> String {
    let mut out = String::new();
    let mut piece = String::new();
    let mut quoted = false;
    let flush = |piece: &mut String, out: &mut String, quoted: bool| {
        out.push_str(&clip(piece, if quoted { ECHO_MAX } else { PROSE_MAX }));
        piece.clear();
    };
    let mut chars = message.chars();
    while let Some(ch) = chars.next() {
        if quoted && ch == '\\' {
            piece.push(ch);
            if let Some(next) = chars.next() {
                piece.push(next);
            }
        } else if matches!(ch, '"' | '`') {
            flush(&mut piece, &mut out, quoted);
            out.push(ch);
            quoted = !quoted;
        } else {
            piece.push(ch);
        }
    }
    flush(&mut piece, &mut out, quoted);
    clip(&out, MESSAGE_MAX)
}

/// Where a scenario's text came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk.
    File(String),
    /// A scenario bundled into the binary.
    Bundled(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(p) => write!(f, "{p}"),
            Origin::Bundled(n) => write!(f, "<bundled {n}>"),
        }
    }
}

/// A `--set dotted.key=value` override.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The key path, split at dots.
    pub path: Vec<String>,
    /// The value, parsed as TOML (a bare word becomes a string).
    pub value: toml::Value,
    /// The override as written.
    pub text: String,
}

impl std::str::FromStr for Override {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| format!("--set {}: expected KEY=VALUE, e.g. kademlia.k=8", shown(s)))?;
        let k = k.trim();
        if k.is_empty() || k.split('.').any(|p| p.trim().is_empty()) {
            return Err(format!(
                "--set {}: the key must be a dotted path like kademlia.k",
                shown(s)
            ));
        }
        let v = v.trim();
        // Parse the value as a TOML value; a bare word (`weibull`, `20Mbit/s`)
        // is taken as a string.
        let value = toml::from_str::<toml::Table>(&format!("v = {v}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(v.to_string()));
        Ok(Override {
            path: k.split('.').map(|p| p.trim().to_string()).collect(),
            value,
            text: s.to_string(),
        })
    }
}

/// A scenario that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file (or bundled name).
    pub origin: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// The key path (`kademlia.k`), when known.
    pub key: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// A suggestion ("did you mean `alpha`?").
    pub hint: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some((l, c)) = self.position {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if let Some(k) = &self.key {
            write!(f, "key `{k}`: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// 1-based (line, column) of byte offset `at` in `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line, col)
}

/// From a serde "unknown field `x`, expected one of `a`, `b`" message,
/// the closest expected name to the unknown one.
pub fn did_you_mean(message: &str) -> Option<String> {
    let unknown = message
        .split("unknown field `")
        .nth(1)
        .or_else(|| message.split("unknown variant `").nth(1))?
        .split('`')
        .next()?;
    if unknown.len() > 100 {
        return None;
    }
    let expected = message.split("expected").nth(1)?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(unknown, c), *c))
        .min()?;
    // Only suggest names that are plausibly a typo of the unknown one.
    let limit = (unknown.len() / 3).max(2);
    (best.0 <= limit).then(|| format!("did you mean `{}`?", best.1))
}

fn path_string(path: &serde_path_to_error::Path) -> Option<String> {
    let s = path.to_string();
    (s != "." && !s.is_empty()).then_some(s)
}

/// Parse `text` into `T`, then apply `overrides` and parse again.
pub fn load<T: DeserializeOwned>(
    text: &str,
    origin: &Origin,
    overrides: &[Override],
) -> Result<T, LoadError> {
    let origin_s = origin.to_string();
    let err = |position, key: Option<String>, message: String| {
        let hint = did_you_mean(&message).map(|h| clip_message(&h));
        LoadError {
            origin: origin_s.clone(),
            position,
            key: key.map(|k| clip(&k, ECHO_MAX)),
            message: clip_message(&message),
            hint,
        }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        err(
            e.span().map(|s| line_col(text, s.start)),
            None,
            e.message().trim().to_string(),
        )
    })?;
    let parsed: Result<T, _> = serde_path_to_error::deserialize(de);
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            let key = path_string(e.path());
            let inner = e.into_inner();
            return Err(err(
                inner.span().map(|s| line_col(text, s.start)),
                key,
                inner.message().trim().to_string(),
            ));
        }
    };
    if overrides.is_empty() {
        return Ok(value);
    }
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| err(None, None, e.to_string()))?;
    for o in overrides {
        set_path(&mut table, o).map_err(|m| err(None, Some(o.path.join(".")), m))?;
    }
    let merged = toml::Value::Table(table);
    serde_path_to_error::deserialize(merged).map_err(|e| {
        let key = path_string(e.path());
        let inner = e.into_inner();
        let applied: Vec<&str> = overrides.iter().map(|o| o.text.as_str()).collect();
        err(
            None,
            key,
            format!(
                "{} (after --set {})",
                inner.message().trim(),
                clip(&applied.join(", --set "), PROSE_MAX)
            ),
        )
    })
}

fn set_path(table: &mut toml::Table, o: &Override) -> Result<(), String> {
    let (last, parents) = o.path.split_last().expect("non-empty path");
    let mut t = table;
    for (i, p) in parents.iter().enumerate() {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            other => {
                return Err(format!(
                    "--set {}: `{}` is a {}, not a table",
                    clip(&o.text, ECHO_MAX),
                    o.path[..=i].join("."),
                    other.type_str()
                ));
            }
        };
    }
    t.insert(last.clone(), o.value.clone());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Kad {
        k: u32,
        alpha: u32,
    }
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Top {
        name: String,
        kademlia: Kad,
    }

    const GOOD: &str = "name = \"x\"\n\n[kademlia]\nk = 20\nalpha = 3\n";

    fn origin() -> Origin {
        Origin::File("s.toml".into())
    }

    #[test]
    fn loads_and_overrides() {
        let t: Top = load(GOOD, &origin(), &[]).unwrap();
        assert_eq!(t.kademlia.k, 20);
        let o: Override = "kademlia.k=8".parse().unwrap();
        let t: Top = load(GOOD, &origin(), &[o]).unwrap();
        assert_eq!(t.kademlia.k, 8);
        let o: Override = "name=hello".parse().unwrap();
        let t: Top = load(GOOD, &origin(), &[o]).unwrap();
        assert_eq!(t.name, "hello");
    }

    #[test]
    fn misspelt_key_gets_position_path_and_suggestion() {
        let text = "name = \"x\"\n\n[kademlia]\nk = 20\nalpah = 3\n";
        let e = load::<Top>(text, &origin(), &[]).unwrap_err();
        assert_eq!(e.position, Some((5, 1)), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `alpha`?"), "{e}");
        let shown = e.to_string();
        assert!(shown.starts_with("s.toml:5:1: key `kademlia"), "{shown}");
    }

    #[test]
    fn wrong_type_names_the_key_and_the_expectation() {
        let text = "name = \"x\"\n[kademlia]\nk = \"twenty\"\nalpha = 3\n";
        let e = load::<Top>(text, &origin(), &[]).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("kademlia.k"), "{e}");
        assert_eq!(e.position, Some((3, 5)), "{e}");
        assert!(
            e.message.contains("u32") || e.message.contains("integer"),
            "{e}"
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let e = load::<Top>("name = \n", &origin(), &[]).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(1), "{e}");
    }

    #[test]
    fn bad_overrides_are_reported_as_overrides() {
        assert!("kademlia.k".parse::<Override>().is_err());
        assert!("=3".parse::<Override>().is_err());
        let o: Override = "kademlia.kk=3".parse().unwrap();
        let e = load::<Top>(GOOD, &origin(), &[o]).unwrap_err();
        assert!(e.message.contains("--set kademlia.kk=3"), "{e}");
        assert_eq!(e.hint.as_deref(), Some("did you mean `k`?"));
        let o: Override = "name.x=3".parse().unwrap();
        let e = load::<Top>(GOOD, &origin(), &[o]).unwrap_err();
        assert!(e.message.contains("not a table"), "{e}");
    }

    #[test]
    fn huge_values_are_not_echoed_in_full() {
        let huge = "x".repeat(1_000_000);
        let text = format!("name = \"x\"\n[kademlia]\nk = \"{huge}\"\nalpha = 3\n");
        let e = load::<Top>(&text, &origin(), &[]).unwrap_err();
        let shown = e.to_string();
        assert!(shown.len() < 300, "{} bytes", shown.len());
        assert!(shown.contains("xxx…"), "{shown}");
        assert!(shown.contains("kademlia.k"), "{shown}");
        let long_key = format!("name = \"x\"\n[kademlia]\nk = 1\nalpha = 3\n{huge} = 1\n");
        let e = load::<Top>(&long_key, &origin(), &[]).unwrap_err();
        assert!(e.to_string().len() < 600, "{} bytes", e.to_string().len());
        for set in [format!("{huge}=1"), format!("kademlia==\"{huge}")] {
            let o = set.parse::<Override>().unwrap();
            let e = load::<Top>(GOOD, &origin(), &[o]).unwrap_err();
            assert!(e.to_string().len() < 1_500, "{} bytes", e.to_string().len());
        }
    }

    #[test]
    fn clipped_messages_keep_short_text_and_bound_any_value() {
        let m = "a client's requests: \"250ms\" is fine";
        assert_eq!(clip_message(m), m);
        let nasty = format!(
            "invalid value \"a\\\"{}\", expected u32",
            "y".repeat(100_000)
        );
        assert!(clip_message(&nasty).len() < 1_000);
        // Many escaped quotes: one quoted value, clipped as one.
        let escaped = format!(
            "invalid rate {:?}: expected a rate",
            "\"0s\", ".repeat(10_000)
        );
        let c = clip_message(&escaped);
        assert!(c.len() < 200, "{c}");
        assert!(c.ends_with("expected a rate"), "{c}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
