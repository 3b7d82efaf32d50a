//! The determinism checker.
//!
//! Every processed event is folded into a rolling 64-bit hash of
//! `(time, kind, node, detail)`, so two runs that should agree can be
//! compared by one number ([`crate::sim::Sim::trace_hash`]). When they
//! differ, record the trace of both (`SimConfig::record_trace`) and
//! [`first_divergence`] names the first event where they part.
//!
//! The hash is a fixed, platform-independent mixing function (no
//! `DefaultHasher`, whose keys and algorithm may change).

use crate::units::Time;
use std::fmt;

/// The kind of a processed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A datagram delivered (`detail` = sender).
    Deliver,
    /// A timer fired (`detail` = timer slot).
    Timer,
    /// A bulk transfer ended (`detail` = transfer id).
    Transfer,
    /// A workload request injected (`detail` = the client's request number).
    Request,
    /// A node started (`detail` = incarnation).
    Start,
    /// A node stopped (`detail` = 0 transient, 1 permanent).
    Stop,
}

/// One processed event in a recorded trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceEntry {
    /// Position in the run (counting discarded events too).
    pub index: u64,
    /// When it happened.
    pub time: Time,
    /// What it was.
    pub kind: EventKind,
    /// The node it happened at.
    pub node: u32,
    /// Kind-specific detail (see [`EventKind`]).
    pub detail: u64,
    /// The rolling hash after this event.
    pub hash: u64,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event #{} at {}: {:?} at node n{} (detail {})",
            self.index, self.time, self.kind, self.node, self.detail
        )
    }
}

/// The rolling hash of an event trace.
#[derive(Debug, Clone, Copy)]
pub struct TraceHasher(u64);

impl Default for TraceHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn mix(mut z: u64) -> u64 {
    // The SplitMix64 finaliser: a bijective, well-distributed mix.
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl TraceHasher {
    /// The hash of the empty trace.
    pub const fn new() -> Self {
        TraceHasher(0x6A09_E667_F3BC_C908)
    }
    /// Fold one event in; returns the new value.
    #[inline]
    pub fn push(&mut self, time: u64, kind: EventKind, node: u32, detail: u64) -> u64 {
        let k = kind as u64;
        let mut h = self.0;
        h = mix(h ^ time);
        h = mix(h ^ (k << 32 | node as u64));
        h = mix(h ^ detail);
        self.0 = h;
        h
    }
    /// The current value.
    pub fn value(&self) -> u64 {
        self.0
    }
}

/// Where two traces part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Position of the first differing entry in both traces.
    pub position: usize,
    /// The first entry of run A that differs (None if A ended first).
    pub a: Option<TraceEntry>,
    /// The first entry of run B that differs (None if B ended first).
    pub b: Option<TraceEntry>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |e: &Option<TraceEntry>| match e {
            Some(e) => e.to_string(),
            None => "end of trace".to_string(),
        };
        write!(
            f,
            "runs diverge: A has {}, B has {}",
            show(&self.a),
            show(&self.b)
        )
    }
}

/// The first event where two recorded traces differ, or None if they are
/// identical.
pub fn first_divergence(a: &[TraceEntry], b: &[TraceEntry]) -> Option<Divergence> {
    let n = a.len().min(b.len());
    // Rolling hashes differ from the first differing event on, so a binary
    // search finds it in O(log n) comparisons.
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if a[mid].hash == b[mid].hash && a[mid] == b[mid] {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if lo == n && a.len() == b.len() {
        return None;
    }
    Some(Divergence {
        position: lo,
        a: a.get(lo).copied(),
        b: b.get(lo).copied(),
    })
}
