//! Mutators: extreme values, wrong types, deleted and duplicated keys,
//! byte flips, truncation and splices, for TOML, JSON and line formats.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;

/// Extreme numbers, as text.
pub const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "255",
    "65536",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    "0.0",
    "-0.0",
    "0.5",
    "1e-9",
    "nan",
    "inf",
    "-inf",
    "NaN",
    "1.7976931348623157e308",
];

/// Units a number may be followed by.
pub const UNITS: &[&str] = &[
    "", "ns", "us", "µs", "ms", "s", "min", "h", "d", "w", "y", "bit/s", "kbit/s", "Mbit/s",
    "Gbit/s", "Tbit/s", "B/s", "MB/s", "B", "KiB", "MiB", "GiB", "%", "x", " s", "h h",
];

/// Strings (contents, without quotes) with extreme or odd values.
pub const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1ns",
    "0ns",
    "0s",
    "18446744073709551615ns",
    "18446744073709551616ns",
    "18446744073709551615s",
    "9223372036854775807d",
    "1e308s",
    "1e308h",
    "nans",
    "infs",
    "-1s",
    "0.5ns",
    "1e-12s",
    "99999999999999999999h",
    "1Mbit/s",
    "0bit/s",
    "18446744073709551615bit/s",
    "1e308Gbit/s",
    "1bit/s",
    "weibull(0s, 0)",
    "weibull(1h, 0)",
    "weibull(1h, 1e308)",
    "weibull(1h, 1e-308)",
    "weibull(1h, nan)",
    "weibull(18446744073709551615ns, 0.5)",
    "exponential(0s)",
    "exponential(1ns)",
    "exponential(18446744073709551615ns)",
    "exponential(1h",
    "exponential()",
    "lognormal(1h, 1e308)",
    "pareto(1h, 0)",
    "constant(1h)",
    "uniform(1h, 0s)",
    "join",
    "warm",
    "internet",
    "mesh",
    "hops",
    "latency",
    "etx",
    "role:",
    "role:gateway",
    "name:",
    "name:*",
    "name:**?*",
    "id:",
    "id:0",
    ":",
    "nycmesh",
    "freifunk-bremen",
    "/nonexistent/topology.json",
    "/dev/null",
    ".",
    "é",
    "\\u0000",
    "a\\nb",
];

/// Any TOML value, as text: extreme numbers, strings, booleans, arrays,
/// tables, deep nesting, a 1 MB string.
pub fn toml_token(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..14) {
        0..=3 => pick(rng, NUMBERS).to_string(),
        4..=7 => format!("\"{}\"", pick(rng, STRINGS)),
        8 => format!("\"{}{}\"", pick(rng, NUMBERS), pick(rng, UNITS)),
        9 => pick(rng, &["true", "false"]).to_string(),
        10 => pick(
            rng,
            &[
                "[]",
                "[1, 2, 3]",
                "[\"a\"]",
                "[[]]",
                "[1, \"a\", true]",
                "{}",
                "{ a = 1 }",
                "{ k = 8 }",
                "1979-05-27T07:32:00Z",
                "''",
                "'''\nx\n'''",
            ],
        )
        .to_string(),
        11 => {
            let d = depth(rng);
            if rng.random_bool(0.5) {
                format!("{}{}", "[".repeat(d), "]".repeat(d))
            } else {
                format!("{}1{}", "{ a = ".repeat(d), " }".repeat(d))
            }
        }
        12 => format!("\"{}\"", "a".repeat(huge_len(rng))),
        _ => format!(
            "[{}]",
            (0..rng.random_range(0..6))
                .map(|_| {
                    if rng.random_bool(0.5) {
                        pick(rng, NUMBERS).to_string()
                    } else {
                        format!("\"{}\"", pick(rng, STRINGS))
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Any JSON value, as text (some not valid JSON on purpose).
pub fn json_token(rng: &mut ChaCha8Rng) -> String {
    match rng.random_range(0..10) {
        0..=3 => pick(rng, NUMBERS).to_string(),
        4..=5 => format!("\"{}\"", pick(rng, STRINGS)),
        6 => pick(
            rng,
            &[
                "true",
                "false",
                "null",
                "[]",
                "{}",
                "[1, 2]",
                "{\"id\": 1}",
                "\"\"",
            ],
        )
        .to_string(),
        7 => {
            let d = depth(rng);
            if rng.random_bool(0.5) {
                format!("{}{}", "[".repeat(d), "]".repeat(d))
            } else {
                format!("{}1{}", "{\"a\": ".repeat(d), "}".repeat(d))
            }
        }
        8 => format!("\"{}\"", "a".repeat(huge_len(rng))),
        _ => format!("\"{}{}\"", pick(rng, NUMBERS), pick(rng, UNITS)),
    }
}

fn depth(rng: &mut ChaCha8Rng) -> usize {
    *pick(rng, &[2, 8, 64, 200, 1000, 5000])
}

/// Mostly modest, sometimes a megabyte.
fn huge_len(rng: &mut ChaCha8Rng) -> usize {
    if rng.random_bool(0.2) {
        1 << 20
    } else {
        rng.random_range(100..5000)
    }
}

/// A uniformly chosen element.
pub fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

/// A string value derived from `s`: its numbers replaced by extreme ones,
/// its unit swapped, or cut.
pub fn mutate_str(rng: &mut ChaCha8Rng, s: &str) -> String {
    match rng.random_range(0..4) {
        0 | 1 => {
            // Replace one run of digits (with its dot) by an extreme number.
            let runs: Vec<(usize, usize)> = digit_runs(s);
            if runs.is_empty() {
                return format!("{}{s}", pick(rng, NUMBERS));
            }
            let (a, b) = *pick(rng, &runs);
            format!("{}{}{}", &s[..a], pick(rng, NUMBERS), &s[b..])
        }
        2 => {
            let num: String = s
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            format!("{num}{}", pick(rng, UNITS))
        }
        _ => {
            let mut cut = rng.random_range(0..=s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s[..cut].to_string()
        }
    }
}

fn digit_runs(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let a = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push((a, i));
        } else {
            i += 1;
        }
    }
    out
}

/// One raw mutation of bytes: bit flips, byte sets, deletions, insertions,
/// truncation, a splice from `donors`, a duplicated or deleted line.
pub fn mutate_bytes(rng: &mut ChaCha8Rng, data: &mut Vec<u8>, donors: &[&[u8]]) {
    let len = data.len();
    match rng.random_range(0..10) {
        0 if len > 0 => {
            let i = rng.random_range(0..len);
            data[i] ^= 1 << rng.random_range(0..8);
        }
        1 if len > 0 => {
            let i = rng.random_range(0..len);
            data[i] = *pick(
                rng,
                &[
                    0u8, b'"', b'\'', b'[', b']', b'{', b'}', b'=', b'.', b',', b'\n', b'\t', b'#',
                    b'\\', b'-', b'9', 0xff, 0xc3,
                ],
            );
        }
        2 if len > 0 => {
            let a = rng.random_range(0..len);
            let b = (a + rng.random_range(1..64)).min(len);
            data.drain(a..b);
        }
        3 => {
            let at = rng.random_range(0..=len);
            let tok = toml_token(rng);
            data.splice(at..at, tok.into_bytes());
        }
        4 if len > 0 => {
            let cut = rng.random_range(0..len);
            data.truncate(cut);
        }
        5 if !donors.is_empty() => {
            let d = *pick(rng, donors);
            if !d.is_empty() {
                let a = rng.random_range(0..d.len());
                let b = (a + rng.random_range(1..256)).min(d.len());
                let at = rng.random_range(0..=len);
                data.splice(at..at, d[a..b].iter().copied());
            }
        }
        6 | 7 => {
            // Duplicate a line (a duplicated key) or delete one.
            let lines = line_spans(data);
            if lines.is_empty() {
                return;
            }
            let (a, b) = *pick(rng, &lines);
            if rng.random_bool(0.6) {
                let line = data[a..b].to_vec();
                let at = pick(rng, &lines).1;
                data.splice(at..at, line);
            } else {
                data.drain(a..b);
            }
        }
        8 if len > 0 => {
            // Repeat a chunk many times.
            let a = rng.random_range(0..len);
            let b = (a + rng.random_range(1..32)).min(len);
            let chunk = data[a..b].to_vec();
            let times = *pick(rng, &[2usize, 16, 1000]);
            data.splice(b..b, chunk.repeat(times));
        }
        _ => {
            let at = rng.random_range(0..=len);
            let n = rng.random_range(1..8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random::<u8>()).collect();
            data.splice(at..at, bytes);
        }
    }
}

/// Byte spans of lines, each with its newline.
pub fn line_spans(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut a = 0;
    for (i, &c) in data.iter().enumerate() {
        if c == b'\n' {
            out.push((a, i + 1));
            a = i + 1;
        }
    }
    if a < data.len() {
        out.push((a, data.len()));
    }
    out
}

/// Leaf and table key paths of a TOML table, depth first.
pub fn toml_paths(t: &toml::Table, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    for (k, v) in t {
        prefix.push(k.clone());
        out.push(prefix.clone());
        if let toml::Value::Table(inner) = v {
            toml_paths(inner, prefix, out);
        }
        prefix.pop();
    }
}

/// The value at `path`, if any.
pub fn toml_get<'a>(t: &'a toml::Table, path: &[String]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut t = t;
    for p in parents {
        t = t.get(p)?.as_table()?;
    }
    t.get(last)
}

/// The table that holds `path`'s last key, created (or made a table) on
/// the way.
pub fn toml_parent<'a>(t: &'a mut toml::Table, path: &[String]) -> &'a mut toml::Table {
    let mut t = t;
    for p in &path[..path.len() - 1] {
        let e = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !e.is_table() {
            *e = toml::Value::Table(toml::Table::new());
        }
        t = e.as_table_mut().expect("made a table");
    }
    t
}

/// A marker string that serializes as a plain quoted string, replaced by
/// raw text afterwards.
pub fn marker(i: usize) -> String {
    format!("FUZZMARK{i}X")
}

/// Structure-aware TOML mutation: 1 to 3 operations (replace a value by
/// an extreme or wrongly typed one, delete a key, add an unknown key,
/// replace a table by a scalar) on key paths from `paths`.
pub fn mutate_toml(rng: &mut ChaCha8Rng, base: &toml::Table, paths: &[Vec<String>]) -> String {
    let mut t = base.clone();
    let mut raw: Vec<String> = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        let mut path = pick(rng, paths).clone();
        match rng.random_range(0..10) {
            0 | 1 => {
                toml_parent(&mut t, &path).remove(path.last().expect("non-empty"));
            }
            2 => {
                // An unknown key next to a known one.
                let last = path.last_mut().expect("non-empty");
                *last = format!(
                    "{last}{}",
                    pick(rng, &["x", "_", "s", "2", "-max", "é", " "])
                );
                let m = marker(raw.len());
                raw.push(toml_token(rng));
                toml_parent(&mut t, &path).insert(path.last().unwrap().clone(), m.into());
            }
            3..=5 => {
                // Derived from the current value.
                let v = match toml_get(&t, &path) {
                    Some(toml::Value::String(s)) => {
                        format!("\"{}\"", mutate_str(rng, s).replace('"', "\\\""))
                    }
                    Some(toml::Value::Integer(_)) => pick(rng, NUMBERS).to_string(),
                    _ => toml_token(rng),
                };
                let m = marker(raw.len());
                raw.push(v);
                toml_parent(&mut t, &path).insert(path.last().unwrap().clone(), m.into());
            }
            _ => {
                let m = marker(raw.len());
                raw.push(toml_token(rng));
                toml_parent(&mut t, &path).insert(path.last().unwrap().clone(), m.into());
            }
        }
    }
    let mut text = toml::to_string(&t).unwrap_or_default();
    for (i, r) in raw.iter().enumerate() {
        text = text.replace(&format!("\"{}\"", marker(i)), r);
    }
    text
}

/// Paths (object keys and array indices) of a JSON document; arrays past
/// `max_items` are sampled by their first and last items only.
pub fn json_paths(v: &serde_json::Value, prefix: &mut Vec<PathPart>, out: &mut Vec<Vec<PathPart>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                prefix.push(PathPart::Key(k.clone()));
                out.push(prefix.clone());
                json_paths(x, prefix, out);
                prefix.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                prefix.push(PathPart::Index(i));
                out.push(prefix.clone());
                json_paths(x, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// One step of a JSON path.
#[derive(Clone, Debug)]
pub enum PathPart {
    /// Object key.
    Key(String),
    /// Array index.
    Index(usize),
}

fn json_at<'a>(
    v: &'a mut serde_json::Value,
    path: &[PathPart],
) -> Option<&'a mut serde_json::Value> {
    let mut v = v;
    for p in path {
        v = match p {
            PathPart::Key(k) => v.as_object_mut()?.get_mut(k)?,
            PathPart::Index(i) => v.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(v)
}

/// Structure-aware JSON mutation: replace, delete, duplicate or retype
/// values at 1 to 3 paths.
pub fn mutate_json(
    rng: &mut ChaCha8Rng,
    base: &serde_json::Value,
    paths: &[Vec<PathPart>],
) -> String {
    let mut doc = base.clone();
    let mut raw: Vec<String> = Vec::new();
    for _ in 0..rng.random_range(1..=3) {
        let path = pick(rng, paths).clone();
        let Some((last, parent_path)) = path.split_last() else {
            continue;
        };
        let Some(parent) = json_at(&mut doc, parent_path) else {
            continue;
        };
        match (rng.random_range(0..6), parent) {
            (0, serde_json::Value::Object(m)) => {
                if let PathPart::Key(k) = last {
                    m.remove(k);
                }
            }
            (0, serde_json::Value::Array(a)) => {
                if let PathPart::Index(i) = last
                    && *i < a.len()
                {
                    a.remove(*i);
                }
            }
            (1, serde_json::Value::Array(a)) => {
                // Duplicate an item (a duplicated node or link).
                if let PathPart::Index(i) = last
                    && *i < a.len()
                {
                    let x = a[*i].clone();
                    a.push(x);
                }
            }
            (2, serde_json::Value::Object(m)) => {
                if let Some(serde_json::Value::String(s)) = m.get(match last {
                    PathPart::Key(k) => k.as_str(),
                    PathPart::Index(_) => "",
                }) {
                    let s = mutate_str(rng, s);
                    if let PathPart::Key(k) = last {
                        m.insert(k.clone(), s.into());
                    }
                } else {
                    let mk = marker(raw.len());
                    raw.push(json_token(rng));
                    if let PathPart::Key(k) = last {
                        m.insert(k.clone(), mk.into());
                    }
                }
            }
            (_, target) => {
                let mk = marker(raw.len());
                raw.push(json_token(rng));
                let slot = match (last, target) {
                    (PathPart::Key(k), serde_json::Value::Object(m)) => m.get_mut(k),
                    (PathPart::Index(i), serde_json::Value::Array(a)) => a.get_mut(*i),
                    _ => None,
                };
                if let Some(slot) = slot {
                    *slot = mk.into();
                }
            }
        }
    }
    let mut text = serde_json::to_string(&doc).unwrap_or_default();
    for (i, r) in raw.iter().enumerate() {
        text = text.replace(&format!("\"{}\"", marker(i)), r);
    }
    text
}

/// Tokens for trace fields: times, node ids, event types.
pub const TRACE_FIELDS: &[&str] = &[
    "",
    " ",
    "0",
    "1",
    "-1",
    "2",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "1e308",
    "1e9",
    "1.8e10",
    "1.79e10",
    "17999999999.999999999",
    "18446744073.709551615",
    "18446744073.709551616",
    "1104537600.",
    ".5",
    ".",
    "..",
    "1..2",
    "0.0000000001",
    "0.1234567891234",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-0",
    "+1",
    "1ns",
    "0ns",
    "18446744073709551615ns",
    "18446744073709551616ns",
    "18446744073709551615s",
    "1e308h",
    "99999999999d",
    "1.5h",
    "2d",
    "-1s",
    "nanh",
    "infs",
    "1e-9s",
    "1h1m",
    "é",
    "\u{0}",
];

/// One line-format mutation of a trace (FTA or CSV): a field replaced by an
/// extreme value, a line deleted, duplicated, swapped, split or joined, a
/// separator changed, many lines added, or a raw byte mutation.
pub fn mutate_trace(rng: &mut ChaCha8Rng, text: &mut Vec<u8>, sep: u8, donors: &[&[u8]]) {
    let s = String::from_utf8_lossy(text).into_owned();
    let mut lines: Vec<String> = s.split('\n').map(String::from).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let sep_s = (sep as char).to_string();
    let li = rng.random_range(0..lines.len());
    match rng.random_range(0..12) {
        0..=3 => {
            let mut fields: Vec<String> = lines[li].split(sep as char).map(String::from).collect();
            let fi = rng.random_range(0..fields.len());
            fields[fi] = if rng.random_bool(0.1) {
                "9".repeat(huge_len(rng))
            } else if rng.random_bool(0.3) {
                mutate_str(rng, &fields[fi])
            } else {
                pick(rng, TRACE_FIELDS).to_string()
            };
            lines[li] = fields.join(&sep_s);
        }
        4 => {
            lines.remove(li);
        }
        5 => {
            let l = lines[li].clone();
            lines.insert(rng.random_range(0..=lines.len()), l);
        }
        6 => {
            let j = rng.random_range(0..lines.len());
            lines.swap(li, j);
        }
        7 => {
            // Add or drop a field.
            if rng.random_bool(0.5) {
                lines[li].push(sep as char);
                let tok: &&str = pick(rng, TRACE_FIELDS);
                lines[li].push_str(tok);
            } else if let Some(p) = lines[li].rfind(sep as char) {
                lines[li].truncate(p);
            }
        }
        8 => {
            let other = *pick(rng, &["\t", ",", " ", ";", "  ", "\r", ""]);
            lines[li] = lines[li].replace(sep as char, other);
        }
        9 => {
            // Many copies of a line with its times shifted: a long trace.
            let l = lines[li].clone();
            let n = *pick(rng, &[10usize, 1000, 20_000]).min(&((8 << 20) / (l.len() + 1)));
            for k in 0..n {
                lines.push(l.replacen('0', &k.to_string(), 1));
            }
        }
        _ => {
            *text = lines.join("\n").into_bytes();
            mutate_bytes(rng, text, donors);
            return;
        }
    }
    *text = lines.join("\n").into_bytes();
}
