//! Latency models: the one-way propagation delay between two nodes.
//!
//! [`Constant`] gives every pair the same delay; [`Matrix`] reads measured
//! delays from a text file. Both are pure functions of `(from, to)`.

use crate::units::Duration;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One-way latency between two nodes.
pub trait LatencyModel {
    /// Delay from `from` to `to`. Zero when `from == to` (loopback).
    fn latency(&self, from: u32, to: u32) -> Duration;
}

/// The same latency between every pair of distinct nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant(pub Duration);

impl LatencyModel for Constant {
    fn latency(&self, from: u32, to: u32) -> Duration {
        if from == to { Duration::ZERO } else { self.0 }
    }
}

/// Largest number of hosts a [`Matrix`] file may describe (the matrix is
/// stored in full: 10 000 hosts take 800 MB).
pub const MATRIX_HOSTS_MAX: usize = 10_000;

/// Error for a latency-matrix file that cannot be used. Every variant names
/// the file; value and shape errors also name the line (1-based, counting
/// comments and blank lines) and the field.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The file cannot be opened or read (or a line is not UTF-8 text).
    #[error("{}{}: cannot read latency matrix: {source}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Io {
        /// The file.
        file: PathBuf,
        /// The line where reading failed, if it got that far.
        line: Option<usize>,
        /// The underlying error.
        source: std::io::Error,
    },
    /// No data rows: the file is empty or holds only comments and blank lines.
    #[error(
        "{}: no latency values (only blank lines or # comments); expected rows of one-way latencies in milliseconds",
        file.display()
    )]
    Empty {
        /// The file.
        file: PathBuf,
    },
    /// A field is not a non-negative decimal number of milliseconds.
    #[error(
        "{}:{line}:{column}: field {field} {text:?} is {problem}; expected a non-negative decimal number of milliseconds such as 12 or 0.75",
        file.display()
    )]
    Value {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters) where the field starts.
        column: usize,
        /// 1-based index of the field in its row.
        field: usize,
        /// The field as written.
        text: String,
        /// What is wrong: "not a number", "negative", "empty", "too large".
        problem: &'static str,
    },
    /// A row has the wrong number of values for any supported shape.
    #[error(
        "{}:{line}: row {row} has {found} values but {expected} were expected for {shape}; a latency matrix must be square or triangular with its diagonal",
        file.display()
    )]
    Shape {
        /// The file.
        file: PathBuf,
        /// 1-based line of the offending row.
        line: usize,
        /// 1-based index of the row among the data rows.
        row: usize,
        /// Number of values found on the row.
        found: usize,
        /// Number of values the shape needs on that row.
        expected: usize,
        /// The shape the first rows announced, e.g. "a square 4x4 matrix".
        shape: String,
    },
    /// More hosts than [`MATRIX_HOSTS_MAX`].
    #[error(
        "{}: {hosts} rows or columns is more than the {MATRIX_HOSTS_MAX} hosts a latency matrix may have",
        file.display()
    )]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// Number of data rows, or of values on one row.
        hosts: usize,
    },
}

/// Latencies between hosts read from a file.
///
/// # File format
/// - One row per host; values are **one-way** latencies in milliseconds,
///   decimals allowed (rounded to the nearest nanosecond), separated by
///   commas and/or whitespace. Halve measured round-trip times first.
/// - `#` starts a comment to the end of the line; blank lines are ignored.
/// - Shapes: **square** (`n` rows of `n` values; row `i`, column `j` is the
///   latency from host `i` to host `j`, which may differ from `j` to `i`), or
///   **triangular including the diagonal**, lower (rows of 1, 2, ..., `n`
///   values) or upper (rows of `n`, `n - 1`, ..., 1 values); a triangular
///   matrix is mirrored to be symmetric. A 1x1 file is square.
/// - The diagonal may be nonzero: it is the latency between two distinct
///   nodes mapped onto the same host (for example two machines at one site).
///   A node's latency to itself is always zero.
/// - Values must be non-negative: missing measurements (often written `-1`)
///   must be filled in before use.
///
/// # Nodes and hosts
/// A simulation with `N` nodes maps node `k` onto host `k % n`, so a file of
/// `n` hosts serves any number of nodes (hosts repeat when `N > n`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    hosts: usize,
    /// Row-major `hosts x hosts`, nanoseconds.
    ns: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Square,
    Lower,
    Upper,
}

impl Matrix {
    /// Read a matrix file (format in the type's documentation).
    pub fn load(path: impl AsRef<Path>) -> Result<Matrix, MatrixError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| MatrixError::Io {
            file: path.to_path_buf(),
            line: None,
            source,
        })?;
        Matrix::from_reader(std::io::BufReader::new(file), path)
    }

    /// Read a matrix from `reader`; `name` is used in error messages.
    pub fn from_reader(
        reader: impl BufRead,
        name: impl AsRef<Path>,
    ) -> Result<Matrix, MatrixError> {
        let file = name.as_ref().to_path_buf();
        // (line number, values in ns)
        let mut rows: Vec<(usize, Vec<u64>)> = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let lineno = i + 1;
            let line = line.map_err(|source| MatrixError::Io {
                file: file.clone(),
                line: Some(lineno),
                source,
            })?;
            let text = match line.find('#') {
                Some(p) => &line[..p],
                None => &line[..],
            };
            // A byte-order mark can start the first line of files written
            // on Windows.
            let text = if lineno == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            if text.trim().is_empty() {
                continue;
            }
            if rows.len() == MATRIX_HOSTS_MAX {
                return Err(MatrixError::TooLarge {
                    file,
                    hosts: rows.len() + 1,
                });
            }
            let values = parse_row(text, &file, lineno)?;
            rows.push((lineno, values));
        }
        if rows.is_empty() {
            return Err(MatrixError::Empty { file });
        }
        let n = rows.len();
        let first = rows[0].1.len();
        // The first row tells square/upper (n values) from lower (1 value);
        // the second tells upper (n - 1) from square (anything else, so that
        // a broken square matrix is reported as such).
        let shape = if first == n && n > 1 && rows[1].1.len() == n - 1 {
            Shape::Upper
        } else if first == n {
            Shape::Square
        } else if first == 1 {
            Shape::Lower
        } else {
            return Err(MatrixError::Shape {
                file,
                line: rows[0].0,
                row: 1,
                found: first,
                expected: n,
                shape: format!(
                    "a square or upper-triangular matrix of {n} rows (a lower-triangular one would need 1)"
                ),
            });
        };
        let (shape_name, expected_len): (String, fn(usize, usize) -> usize) = match shape {
            Shape::Square => (format!("a square {n}x{n} matrix"), |_, n| n),
            Shape::Lower => (format!("a lower-triangular matrix of {n} rows"), |i, _| {
                i + 1
            }),
            Shape::Upper => (format!("an upper-triangular matrix of {n} rows"), |i, n| {
                n - i
            }),
        };
        for (i, (line, values)) in rows.iter().enumerate() {
            let expected = expected_len(i, n);
            if values.len() != expected {
                return Err(MatrixError::Shape {
                    file,
                    line: *line,
                    row: i + 1,
                    found: values.len(),
                    expected,
                    shape: shape_name,
                });
            }
        }
        let mut ns = vec![0u64; n * n];
        for (i, (_, values)) in rows.iter().enumerate() {
            for (k, &v) in values.iter().enumerate() {
                let j = match shape {
                    Shape::Square | Shape::Lower => k,
                    Shape::Upper => i + k,
                };
                ns[i * n + j] = v;
                if shape != Shape::Square {
                    ns[j * n + i] = v;
                }
            }
        }
        Ok(Matrix { hosts: n, ns })
    }

    /// Number of hosts (rows) in the file.
    pub fn hosts(&self) -> usize {
        self.hosts
    }

    /// Latency from host `a` to host `b` as stored (the diagonal included).
    ///
    /// # Panics
    /// If `a` or `b` is not below [`Matrix::hosts`].
    pub fn host_latency(&self, a: usize, b: usize) -> Duration {
        assert!(a < self.hosts && b < self.hosts, "host out of range");
        Duration(self.ns[a * self.hosts + b])
    }
}

impl LatencyModel for Matrix {
    /// Latency between hosts `from % hosts` and `to % hosts`; zero if
    /// `from == to`.
    fn latency(&self, from: u32, to: u32) -> Duration {
        if from == to {
            return Duration::ZERO;
        }
        let n = self.hosts;
        Duration(self.ns[(from as usize % n) * n + to as usize % n])
    }
}

/// Split a data line into fields (commas and/or whitespace) and parse each.
fn parse_row(text: &str, file: &Path, line: usize) -> Result<Vec<u64>, MatrixError> {
    let mut values = Vec::new();
    let mut field = 0;
    // Comma-separated pieces, each of which may hold whitespace-separated
    // values; an empty piece ("1,,2" or a trailing comma) is an empty field.
    let has_comma = text.contains(',');
    let mut offset = 0; // byte offset of the current piece in `text`
    for piece in text.split(',') {
        let mut any = false;
        let mut pos = 0;
        for tok in piece.split_whitespace() {
            any = true;
            field += 1;
            if field > MATRIX_HOSTS_MAX {
                return Err(MatrixError::TooLarge {
                    file: file.to_path_buf(),
                    hosts: field,
                });
            }
            let at = piece[pos..].find(tok).map_or(pos, |p| pos + p);
            pos = at + tok.len();
            let column = text[..offset + at].chars().count() + 1;
            let v = parse_ms(tok).map_err(|problem| MatrixError::Value {
                file: file.to_path_buf(),
                line,
                column,
                field,
                text: tok.to_string(),
                problem,
            })?;
            values.push(v);
        }
        if !any && has_comma {
            field += 1;
            return Err(MatrixError::Value {
                file: file.to_path_buf(),
                line,
                column: text[..offset].chars().count() + 1,
                field,
                text: String::new(),
                problem: "empty",
            });
        }
        offset += piece.len() + 1;
    }
    Ok(values)
}

/// Parse a non-negative decimal number of milliseconds into nanoseconds,
/// rounding to the nearest nanosecond (halves up). No float is involved.
fn parse_ms(tok: &str) -> Result<u64, &'static str> {
    let t = tok.strip_prefix('+').unwrap_or(tok);
    if let Some(rest) = t.strip_prefix('-') {
        let numeric = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.');
        return Err(if numeric { "negative" } else { "not a number" });
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return Err("not a number");
    }
    const NS_PER_MS: u128 = 1_000_000;
    let mut ns: u128 = 0;
    for b in int.bytes() {
        ns = ns * 10 + u128::from(b - b'0');
        if ns > u128::from(u64::MAX) {
            return Err("too large");
        }
    }
    ns *= NS_PER_MS;
    // The first six fractional digits are whole nanoseconds; the seventh
    // rounds.
    let mut scale = NS_PER_MS / 10;
    for (k, b) in frac.bytes().enumerate() {
        let d = u128::from(b - b'0');
        if k < 6 {
            ns += d * scale;
            scale /= 10;
        } else {
            if d >= 5 {
                ns += 1;
            }
            break;
        }
    }
    u64::try_from(ns).map_err(|_| "too large")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A synthetic matrix file in a fresh temporary directory.
    struct TempFile(PathBuf);
    impl TempFile {
        fn new(contents: &str) -> TempFile {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "peoplescloud-latency-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("synthetic-matrix.txt");
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn load(contents: &str) -> Result<Matrix, MatrixError> {
        let f = TempFile::new(contents);
        Matrix::load(&f.0)
    }

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn square_matrix_with_comments_commas_and_decimals() {
        let m = load(
            "# synthetic 3-host matrix, one-way ms\n\
             \n\
             0, 10, 20.5   # host 0\n\
             11 0 30\n\
             \t20.5,30 ,0.25\n",
        )
        .unwrap();
        assert_eq!(m.hosts(), 3);
        assert_eq!(m.host_latency(0, 1), ms(10));
        // Square files may be asymmetric.
        assert_eq!(m.host_latency(1, 0), ms(11));
        assert_eq!(m.host_latency(0, 2), Duration::from_micros(20_500));
        assert_eq!(m.host_latency(2, 2), Duration::from_micros(250));
        // Nodes map onto hosts modulo 3: node 4 is host 1, node 5 host 2.
        assert_eq!(m.latency(4, 5), ms(30));
        assert_eq!(m.latency(3, 0), Duration::ZERO); // both host 0, diagonal 0
        assert_eq!(m.latency(5, 2), Duration::from_micros(250)); // diagonal of host 2
        assert_eq!(m.latency(2, 2), Duration::ZERO); // same node
    }

    #[test]
    fn lower_and_upper_triangular_are_mirrored() {
        let lower = load("0\n5 0\n7.5 9 0\n").unwrap();
        let upper = load("0 5 7.5\n0 9\n0\n").unwrap();
        assert_eq!(lower, upper);
        for (a, b, want) in [(0, 1, 5_000), (1, 0, 5_000), (0, 2, 7_500), (2, 1, 9_000)] {
            assert_eq!(lower.host_latency(a, b), Duration::from_micros(want));
        }
        assert_eq!(load("3\n").unwrap().host_latency(0, 0), ms(3));
    }

    #[test]
    fn decimals_round_to_the_nearest_nanosecond() {
        let m = load(
            "0.0000004 0.0000005 1.23456789 .5 7.\n0 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n",
        )
        .unwrap();
        assert_eq!(m.host_latency(0, 0), Duration::ZERO);
        assert_eq!(m.host_latency(0, 1), Duration::from_nanos(1));
        assert_eq!(m.host_latency(0, 2), Duration::from_nanos(1_234_568));
        assert_eq!(m.host_latency(0, 3), Duration::from_micros(500));
        assert_eq!(m.host_latency(0, 4), ms(7));
    }

    #[test]
    fn constant_model() {
        let c = Constant(ms(40));
        assert_eq!(c.latency(1, 2), ms(40));
        assert_eq!(c.latency(2, 2), Duration::ZERO);
    }

    fn value_error(contents: &str) -> (usize, usize, usize, String, &'static str, String) {
        let e = load(contents).unwrap_err();
        let msg = e.to_string();
        match e {
            MatrixError::Value {
                line,
                column,
                field,
                text,
                problem,
                ..
            } => (line, column, field, text, problem, msg),
            e => panic!("expected a value error, got {e}"),
        }
    }

    #[test]
    fn non_numeric_value_names_line_column_and_field() {
        let (line, column, field, text, problem, msg) = value_error("# c\n0 1\n1 abc\n");
        assert_eq!((line, column, field), (3, 3, 2));
        assert_eq!((text.as_str(), problem), ("abc", "not a number"));
        assert!(msg.contains("synthetic-matrix.txt:3:3"), "{msg}");
        assert!(
            msg.contains("expected a non-negative decimal number of milliseconds"),
            "{msg}"
        );
        for bad in ["1e3", "nan", "inf", "1.2.3", "0x10", "."] {
            let (.., problem, _) = value_error(&format!("{bad}\n"));
            assert_eq!(problem, "not a number", "{bad}");
        }
    }

    #[test]
    fn negative_value_is_rejected() {
        let (line, column, field, text, problem, _) = value_error("0, 2\n-1, 0\n");
        assert_eq!(
            (line, column, field, text.as_str(), problem),
            (2, 1, 1, "-1", "negative")
        );
    }

    #[test]
    fn empty_field_between_commas() {
        let (line, column, field, _, problem, _) = value_error("0,,1\n");
        assert_eq!((line, column, field, problem), (1, 3, 2, "empty"));
        let (.., problem, _) = value_error("0,1,\n1,0\n");
        assert_eq!(problem, "empty");
    }

    #[test]
    fn too_large_value() {
        let (.., problem, _) = value_error("99999999999999999999999\n");
        assert_eq!(problem, "too large");
        // u64::MAX ns is about 1.8e13 ms: 2e13 ms overflows.
        let (.., problem, _) = value_error("20000000000000\n");
        assert_eq!(problem, "too large");
    }

    #[test]
    fn rows_of_wrong_length_are_neither_square_nor_triangular() {
        // Square announced by the first two rows, third row short.
        match load("0 1 2\n1 0 2\n# gap\n2 2\n").unwrap_err() {
            MatrixError::Shape {
                line,
                row,
                found,
                expected,
                shape,
                ..
            } => {
                assert_eq!((line, row, found, expected), (4, 3, 2, 3));
                assert!(shape.contains("square 3x3"), "{shape}");
            }
            e => panic!("{e}"),
        }
        // Lower-triangular announced, third row too long.
        match load("0\n1 0\n1 2 3 4\n").unwrap_err() {
            MatrixError::Shape {
                line,
                found,
                expected,
                shape,
                ..
            } => {
                assert_eq!((line, found, expected), (3, 4, 3));
                assert!(shape.contains("lower-triangular"), "{shape}");
            }
            e => panic!("{e}"),
        }
        // A square matrix with a short second row is reported as square.
        let e = load("0 1 2\n1\n2 2 0\n").unwrap_err();
        assert!(
            matches!(e, MatrixError::Shape { line: 2, found: 1, expected: 3, ref shape, .. } if shape.contains("square")),
            "{e}"
        );
        // Upper-triangular announced, last row wrong.
        let e = load("0 1 2\n0 1\n0 1\n").unwrap_err();
        assert!(
            matches!(
                e,
                MatrixError::Shape {
                    line: 3,
                    found: 2,
                    expected: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("square or triangular"), "{e}");
        // First row fits no shape; strictly triangular (no diagonal) neither.
        let e = load("0 1\n1 0\n2 2\n").unwrap_err();
        assert!(
            matches!(
                e,
                MatrixError::Shape {
                    line: 1,
                    row: 1,
                    found: 2,
                    expected: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            load("5 6\n7\n8\n").unwrap_err(),
            MatrixError::Shape { .. }
        ));
    }

    #[test]
    fn empty_files() {
        for contents in ["", "\n\n", "# only a comment\n   \n# another\n"] {
            let e = load(contents).unwrap_err();
            assert!(matches!(e, MatrixError::Empty { .. }), "{e}");
            assert!(e.to_string().contains("synthetic-matrix.txt"), "{e}");
        }
    }

    #[test]
    fn missing_file_and_non_utf8() {
        let missing = std::env::temp_dir().join("peoplescloud-no-such-dir/none.txt");
        let e = Matrix::load(&missing).unwrap_err();
        assert!(matches!(e, MatrixError::Io { line: None, .. }), "{e}");
        assert!(e.to_string().contains("none.txt"), "{e}");

        let f = TempFile::new("");
        std::fs::write(&f.0, b"0 1\n1 \xff\n").unwrap();
        let e = Matrix::load(&f.0).unwrap_err();
        assert!(matches!(e, MatrixError::Io { line: Some(2), .. }), "{e}");
    }

    #[test]
    fn too_many_hosts() {
        let text = "0\n".repeat(MATRIX_HOSTS_MAX + 1);
        let e = Matrix::from_reader(text.as_bytes(), "big.txt").unwrap_err();
        assert!(matches!(e, MatrixError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn crlf_line_endings() {
        let m = load("# exported on Windows\r\n0,4\r\n4,0\r\n").unwrap();
        assert_eq!(m.host_latency(1, 0), ms(4));
        let (line, column, ..) = value_error("0,4\r\n4,x\r\n");
        assert_eq!((line, column), (2, 3));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let m = load("\u{feff}0 2\n2 0\n").unwrap();
        assert_eq!(m.host_latency(0, 1), ms(2));
    }
}
