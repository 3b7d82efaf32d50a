//! Integer units: simulated time, durations, data rates and sizes.
//!
//! Simulated time is a `u64` count of nanoseconds ([`Time`] for instants,
//! [`Duration`] for spans). Rates are whole bits per second ([`Rate`]) and
//! sizes whole bytes ([`Bytes`]). No float ever decides the order of events.
//!
//! All four types parse from and print to human units, exactly (no float
//! rounding: `"1.5s"` is 1 500 000 000 ns), and printing round-trips:
//!
//! ```
//! use sim_core::units::{Bytes, Duration, Rate};
//! let d: Duration = "1.5s".parse().unwrap();
//! assert_eq!(d.as_nanos(), 1_500_000_000);
//! assert_eq!(d.to_string(), "1.5s");
//! assert_eq!("7d".parse::<Duration>().unwrap(), Duration::from_secs(7 * 86_400));
//! assert_eq!("20Mbit/s".parse::<Rate>().unwrap().bits_per_sec(), 20_000_000);
//! assert_eq!("4MiB".parse::<Bytes>().unwrap().get(), 4 << 20);
//! assert!("fast".parse::<Duration>().is_err());
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Error for a value that is not a valid duration, rate or size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: {reason} (expected {expected})")]
pub struct UnitError {
    /// What was being parsed ("duration", "rate", "size").
    pub kind: &'static str,
    /// The text that was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
    /// What a valid value looks like.
    pub expected: &'static str,
}

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Time(pub u64);

/// A span of simulated time, in nanoseconds. Serialised as a human string
/// (`"1.5s"`), so scenario files read naturally and round-trip exactly.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

/// A data rate in whole bits per second. Never zero once validated by
/// [`Rate::new`] or parsing. Serialised as a human string (`"20Mbit/s"`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u64);

/// A size in whole bytes. Serialised as a human string (`"4MiB"`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

/// Serde as human strings: written with `Display`, read with `FromStr`, so
/// a bad value in a file reports what a valid one looks like.
macro_rules! serde_as_string {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse::<$t>().map_err(|e| E::custom(e))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
serde_as_string!(Duration, "a duration with a unit, e.g. \"250ms\"");
serde_as_string!(Rate, "a rate with a unit, e.g. \"20Mbit/s\"");
serde_as_string!(Bytes, "a size with a unit, e.g. \"4MiB\"");

impl Time {
    /// The start of every run.
    pub const ZERO: Time = Time(0);
    /// The largest representable instant (about 584 years).
    pub const MAX: Time = Time(u64::MAX);
    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Time> {
        self.0.checked_add(d.0).map(Time)
    }
    /// `self + d`, saturating at [`Time::MAX`].
    pub fn saturating_add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d.0))
    }
    /// The span from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Time) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
    /// Time as floating-point seconds, for reports only (never for ordering).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

impl std::ops::Add<Duration> for Time {
    type Output = Time;
    /// Panics on overflow (more than 584 years of simulated time); use
    /// [`Time::checked_add`] where that can come from input.
    fn add(self, d: Duration) -> Time {
        Time(self.0.checked_add(d.0).expect("simulated time overflow"))
    }
}

impl Duration {
    /// Zero length.
    pub const ZERO: Duration = Duration(0);
    /// The longest representable span.
    pub const MAX: Duration = Duration(u64::MAX);
    /// From nanoseconds.
    pub const fn from_nanos(ns: u64) -> Self {
        Duration(ns)
    }
    /// From microseconds.
    pub const fn from_micros(us: u64) -> Self {
        Duration(us * NS_PER_US)
    }
    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms * NS_PER_MS)
    }
    /// From seconds.
    pub const fn from_secs(s: u64) -> Self {
        Duration(s * NS_PER_S)
    }
    /// Nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Floating-point seconds, for reports only.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Floating-point milliseconds, for reports only.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / NS_PER_MS as f64
    }
    /// From floating-point seconds, rounded to the nearest nanosecond
    /// (negative and NaN values give zero, huge ones saturate). Used to turn
    /// samples of continuous distributions into integer time.
    pub fn from_secs_f64(s: f64) -> Self {
        let ns = (s * NS_PER_S as f64).round();
        if ns.is_nan() || ns <= 0.0 {
            Duration(0)
        } else if ns >= u64::MAX as f64 {
            Duration(u64::MAX)
        } else {
            Duration(ns as u64)
        }
    }
    /// `self + other`, saturating.
    pub fn saturating_add(self, other: Duration) -> Duration {
        Duration(self.0.saturating_add(other.0))
    }
}

impl std::ops::Add for Duration {
    type Output = Duration;
    fn add(self, o: Duration) -> Duration {
        Duration(self.0.checked_add(o.0).expect("duration overflow"))
    }
}

impl Rate {
    /// A rate of `bps` bits per second; zero is an error (a link that never
    /// delivers would stall transfers forever).
    pub fn new(bps: u64) -> Result<Rate, UnitError> {
        if bps == 0 {
            return Err(UnitError {
                kind: "rate",
                input: "0".into(),
                reason: "a rate must be positive".into(),
                expected: RATE_EXPECTED,
            });
        }
        Ok(Rate(bps))
    }
    /// Bits per second.
    pub const fn bits_per_sec(self) -> u64 {
        self.0
    }
    /// Time to serialise `bytes` at this rate, rounded up to the nanosecond
    /// (computed in `u128`, so it cannot overflow for any `u64` size).
    pub fn transmit_time(self, bytes: Bytes) -> Duration {
        let num = bytes.0 as u128 * 8 * NS_PER_S as u128;
        let ns = num.div_ceil(self.0 as u128);
        Duration(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

impl Bytes {
    /// The number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }
}

// ---------------------------------------------------------------- parsing

/// Parse `"<decimal><unit>"` into an exact integer `value * unit_scale`,
/// where the unit is looked up in `units` (longest match first). Returns an
/// error message on failure.
fn parse_scaled(s: &str, units: &[(&str, u64)], allow_bare: bool) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty value".into());
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    if num.is_empty() {
        return Err(if t.starts_with('-') {
            "negative values are not allowed".into()
        } else {
            "missing number".into()
        });
    }
    let scale = if unit.is_empty() {
        if !allow_bare {
            return Err("missing unit".into());
        }
        1
    } else {
        match units.iter().find(|(u, _)| *u == unit) {
            Some((_, sc)) => *sc,
            None => return Err(format!("unknown unit {unit:?}")),
        }
    };
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let (int_part, frac_part) = match num.split_once('.') {
        Some((i, f)) => {
            if f.contains('.') {
                return Err("more than one decimal point".into());
            }
            (i, f)
        }
        None => (num.as_str(), ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("missing number".into());
    }
    let too_big = || "value too large".to_string();
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse::<u128>().map_err(|_| too_big())?
    };
    let mut total = int.checked_mul(scale as u128).ok_or_else(too_big)?;
    if !frac_part.is_empty() {
        if frac_part.len() > 30 {
            return Err("too many decimal places".into());
        }
        let frac: u128 = frac_part.parse().map_err(|_| too_big())?;
        let denom = 10u128.pow(frac_part.len() as u32);
        let scaled = frac * scale as u128;
        if !scaled.is_multiple_of(denom) {
            return Err("more precision than the smallest unit (1 ns, 1 bit/s or 1 byte)".into());
        }
        total += scaled / denom;
    }
    u64::try_from(total).map_err(|_| too_big())
}

/// Print `v` in the unit of `units` that gives the shortest exact decimal
/// (at most 9 fractional digits); ties go to the earlier unit. The last unit
/// must have scale 1, so some unit always fits.
fn print_scaled(f: &mut fmt::Formatter<'_>, v: u64, units: &[(&str, u64)]) -> fmt::Result {
    let mut best: Option<String> = None;
    for &(name, scale) in units {
        if v < scale && v != 0 {
            continue;
        }
        let (int, rem) = (v / scale, v % scale);
        let text = if rem == 0 {
            Some(format!("{int}{name}"))
        } else {
            (1..=9u32).find_map(|digits| {
                let p = 10u128.pow(digits);
                (rem as u128 * p).is_multiple_of(scale as u128).then(|| {
                    let frac = rem as u128 * p / scale as u128;
                    format!("{int}.{frac:0width$}{name}", width = digits as usize)
                })
            })
        };
        if let Some(t) = text
            && best.as_ref().is_none_or(|b| t.len() < b.len())
        {
            best = Some(t);
        }
    }
    f.write_str(best.as_deref().unwrap_or("?"))
}

const DURATION_UNITS: &[(&str, u64)] = &[
    ("w", 7 * 86_400 * NS_PER_S),
    ("d", 86_400 * NS_PER_S),
    ("h", 3_600 * NS_PER_S),
    ("min", 60 * NS_PER_S),
    ("s", NS_PER_S),
    ("ms", NS_PER_MS),
    ("us", NS_PER_US),
    ("ns", 1),
];
const DURATION_ALIASES: &[(&str, u64)] = &[
    ("w", 7 * 86_400 * NS_PER_S),
    ("d", 86_400 * NS_PER_S),
    ("h", 3_600 * NS_PER_S),
    ("min", 60 * NS_PER_S),
    ("m", 60 * NS_PER_S),
    ("s", NS_PER_S),
    ("ms", NS_PER_MS),
    ("us", NS_PER_US),
    ("µs", NS_PER_US),
    ("ns", 1),
];
const DURATION_EXPECTED: &str =
    "a number with a unit: ns, us, ms, s, min (or m), h, d, w, e.g. \"250ms\", \"1.5s\", \"7d\"";

const RATE_UNITS: &[(&str, u64)] = &[
    ("Tbit/s", 1_000_000_000_000),
    ("Gbit/s", 1_000_000_000),
    ("Mbit/s", 1_000_000),
    ("kbit/s", 1_000),
    ("bit/s", 1),
];
const RATE_ALIASES: &[(&str, u64)] = &[
    ("Tbit/s", 1_000_000_000_000),
    ("Gbit/s", 1_000_000_000),
    ("Mbit/s", 1_000_000),
    ("kbit/s", 1_000),
    ("Kbit/s", 1_000),
    ("bit/s", 1),
    ("Tbps", 1_000_000_000_000),
    ("Gbps", 1_000_000_000),
    ("Mbps", 1_000_000),
    ("kbps", 1_000),
    ("bps", 1),
    ("GB/s", 8_000_000_000),
    ("MB/s", 8_000_000),
    ("kB/s", 8_000),
    ("B/s", 8),
    ("GiB/s", 8 << 30),
    ("MiB/s", 8 << 20),
    ("KiB/s", 8 << 10),
];
const RATE_EXPECTED: &str = "a positive number with a unit: bit/s, kbit/s, Mbit/s, Gbit/s (or bps, Mbps, ...; B/s, MB/s, MiB/s for bytes), e.g. \"20Mbit/s\"";

const SIZE_UNITS: &[(&str, u64)] = &[
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("kB", 1_000),
    ("B", 1),
];
const SIZE_ALIASES: &[(&str, u64)] = &[
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("TB", 1_000_000_000_000),
    ("GB", 1_000_000_000),
    ("MB", 1_000_000),
    ("kB", 1_000),
    ("KB", 1_000),
    ("B", 1),
];
const SIZE_EXPECTED: &str = "a number with a unit: B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. \"4MiB\"";

fn unit_err(kind: &'static str, s: &str, reason: String, expected: &'static str) -> UnitError {
    UnitError {
        kind,
        input: s.to_string(),
        reason,
        expected,
    }
}

impl FromStr for Duration {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_scaled(s, DURATION_ALIASES, false)
            .map(Duration)
            .map_err(|r| unit_err("duration", s, r, DURATION_EXPECTED))
    }
}

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let v = parse_scaled(s, RATE_ALIASES, false)
            .map_err(|r| unit_err("rate", s, r, RATE_EXPECTED))?;
        if v == 0 {
            return Err(unit_err(
                "rate",
                s,
                "a rate must be positive".into(),
                RATE_EXPECTED,
            ));
        }
        Ok(Rate(v))
    }
}

impl FromStr for Bytes {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        parse_scaled(s, SIZE_ALIASES, false)
            .map(Bytes)
            .map_err(|r| unit_err("size", s, r, SIZE_EXPECTED))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        print_scaled(f, self.0, DURATION_UNITS)
    }
}
impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Time {
    /// Printed as the duration since the start, prefixed with `t=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", Duration(self.0))
    }
}
impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        print_scaled(f, self.0, RATE_UNITS)
    }
}
impl fmt::Debug for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0B");
        }
        print_scaled(f, self.0, SIZE_UNITS)
    }
}
impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_parse_exactly() {
        let cases = [
            ("250ms", 250 * NS_PER_MS),
            ("1.5s", 1_500_000_000),
            ("7d", 7 * 86_400 * NS_PER_S),
            ("1w", 7 * 86_400 * NS_PER_S),
            ("90min", 5_400 * NS_PER_S),
            ("2m", 120 * NS_PER_S),
            ("1h", 3_600 * NS_PER_S),
            ("0.000000001s", 1),
            ("10us", 10_000),
            ("10µs", 10_000),
            ("3ns", 3),
            (" 12 ms ", 12 * NS_PER_MS),
            ("1_000ms", NS_PER_S),
            (".5s", 500 * NS_PER_MS),
        ];
        for (s, ns) in cases {
            assert_eq!(s.parse::<Duration>().unwrap().as_nanos(), ns, "{s}");
        }
    }

    #[test]
    fn bad_durations_name_the_value_and_the_expectation() {
        for s in [
            "",
            "ms",
            "12",
            "-5s",
            "1.5.2s",
            "3 parsecs",
            "0.5ns",
            "1e3s",
            "99999999999d",
        ] {
            let e = s.parse::<Duration>().unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(&format!("{s:?}")), "{msg}");
            assert!(msg.contains("expected"), "{msg}");
        }
    }

    #[test]
    fn rates_and_sizes() {
        assert_eq!(
            "20Mbit/s".parse::<Rate>().unwrap().bits_per_sec(),
            20_000_000
        );
        assert_eq!(
            "1Gbps".parse::<Rate>().unwrap().bits_per_sec(),
            1_000_000_000
        );
        assert_eq!(
            "2.5MB/s".parse::<Rate>().unwrap().bits_per_sec(),
            20_000_000
        );
        assert_eq!("4MiB".parse::<Bytes>().unwrap().get(), 4 << 20);
        assert_eq!("1.5kB".parse::<Bytes>().unwrap().get(), 1_500);
        assert!("0Mbit/s".parse::<Rate>().is_err());
        assert!(Rate::new(0).is_err());
        assert!("0.5B".parse::<Bytes>().is_err());
        assert!("4 furlongs".parse::<Bytes>().is_err());
    }

    #[test]
    fn printing_is_human() {
        assert_eq!(Duration::from_millis(250).to_string(), "250ms");
        assert_eq!(Duration::from_secs(7 * 86_400).to_string(), "1w");
        assert_eq!(Duration::from_secs(36 * 3_600).to_string(), "36h");
        assert_eq!(Duration::from_millis(1_500).to_string(), "1.5s");
        assert_eq!(Duration::from_secs(100).to_string(), "100s");
        assert_eq!(Duration::ZERO.to_string(), "0s");
        assert_eq!(Rate::new(20_000_000).unwrap().to_string(), "20Mbit/s");
        assert_eq!(Bytes(4 << 20).to_string(), "4MiB");
        assert_eq!(Bytes(1_500).to_string(), "1.5kB");
        assert_eq!(Bytes(1_501).to_string(), "1501B");
    }

    #[test]
    fn transmit_time_rounds_up_and_never_overflows() {
        let r = Rate::new(3).unwrap();
        // 1 byte = 8 bits at 3 bit/s = 2.666.. s -> rounded up.
        assert_eq!(r.transmit_time(Bytes(1)).as_nanos(), 2_666_666_667);
        let slow = Rate::new(1).unwrap();
        assert_eq!(slow.transmit_time(Bytes(u64::MAX)), Duration::MAX);
    }

    #[test]
    fn serde_uses_human_strings() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct S {
            d: Duration,
            r: Rate,
            b: Bytes,
        }
        let v = S {
            d: Duration::from_millis(1_500),
            r: Rate::new(20_000_000).unwrap(),
            b: Bytes(4 << 20),
        };
        let text = postcard::to_stdvec(&v).unwrap();
        assert_eq!(postcard::from_bytes::<S>(&text).unwrap(), v);
    }

    proptest! {
        #[test]
        fn duration_print_parse_roundtrip(ns in any::<u64>()) {
            let d = Duration(ns);
            prop_assert_eq!(d.to_string().parse::<Duration>().unwrap(), d);
        }
        #[test]
        fn rate_print_parse_roundtrip(bps in 1..u64::MAX) {
            let r = Rate::new(bps).unwrap();
            prop_assert_eq!(r.to_string().parse::<Rate>().unwrap(), r);
        }
        #[test]
        fn size_print_parse_roundtrip(b in any::<u64>()) {
            prop_assert_eq!(Bytes(b).to_string().parse::<Bytes>().unwrap(), Bytes(b));
        }
    }
}
