//! Diurnal churn: availability that follows each node's local time of day.
//!
//! The day is cut into `n` equal slots (24 for an hourly profile) and the
//! [`Profile`] gives the target availability `a_s` of slot `s`: the
//! probability that a node is up at any instant of that slot, local time.
//! Each node has a time-zone offset; its local time is
//! `(t + offset) mod 24 h`, with simulated time 0 taken as midnight UTC
//! (a zone west of UTC is an offset of `24 h − |zone|`).
//!
//! # Method (exact, per slot)
//!
//! A node is a two-state Markov chain whose rates are constant inside a slot
//! and change at slot boundaries:
//!
//! - inside slot `s`, up sessions end at rate `λ = 1 / mean_up` and down
//!   sessions end at rate `μ_s = λ a_s / (1 − a_s)` (down sessions are
//!   stretched where availability is low), so `μ_s / (λ + μ_s) = a_s` and a
//!   node that is up with probability `a_s` stays so throughout the slot;
//! - at the boundary from slot `s` to `s'` the probability moves from `a_s`
//!   to `a_{s'}` by the smallest possible jump: if availability drops, an up
//!   node goes down at the boundary with probability `(a_s − a_{s'}) / a_s`;
//!   if it rises, a down node comes up with probability
//!   `(a_{s'} − a_s) / (1 − a_s)`.
//!
//! Started up with probability `a_s` at t = 0, each node is therefore up
//! with probability exactly `a_s` at every instant of every local slot `s`
//! (no lag behind the profile, no warm-up). The chain is memoryless, which
//! is what lets the model answer from `(now, state)` alone without per-node
//! memory; up sessions are exponential inside a slot and may be cut at slot
//! boundaries. Slots with `a_s = 1` (or 0) have no down (up) nodes at all.
//! There are no permanent departures.

use super::dist::DistError;
use super::{ChurnModel, Transition};
use crate::units::{Duration, Time};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};

const DAY_NS: u64 = 86_400 * 1_000_000_000;
/// A node whose state cannot change within this many days reports no
/// further transition (only profiles with slots at exactly 0 or 1 get near).
const HORIZON_DAYS: u64 = 36_500;

fn err(param: &'static str, value: String, expected: &'static str) -> DistError {
    DistError {
        family: "diurnal",
        param,
        value,
        expected,
    }
}

/// Target availability per slot of the (local) day.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    slots: Vec<f64>,
}

impl Profile {
    /// Availability per slot; the day is cut into `values.len()` equal
    /// slots, so the length must divide 86 400 s in whole nanoseconds
    /// (24, 48, 96, 1440, ... all do). Each value must be in [0, 1].
    pub fn new(values: Vec<f64>) -> Result<Profile, DistError> {
        if values.is_empty() || !DAY_NS.is_multiple_of(values.len() as u64) {
            return Err(err(
                "slots",
                values.len().to_string(),
                "a non-empty list whose length divides the day into whole nanoseconds (e.g. 24)",
            ));
        }
        if let Some(v) = values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(err("availability", v.to_string(), "a number in [0, 1]"));
        }
        Ok(Profile { slots: values })
    }

    /// An hourly profile: `values[h]` is the availability during local hour
    /// `h`.
    pub fn hourly(values: [f64; 24]) -> Result<Profile, DistError> {
        Profile::new(values.to_vec())
    }

    /// A sinusoid `a(t) = mean + amplitude · cos(2π (t − peak) / 24 h)`,
    /// evaluated at the midpoints of `slots` equal slots (constant within a
    /// slot). It must stay within [0, 1].
    pub fn sinusoid(
        mean: f64,
        amplitude: f64,
        peak: Duration,
        slots: usize,
    ) -> Result<Profile, DistError> {
        if !(mean.is_finite() && amplitude.is_finite() && amplitude >= 0.0) {
            return Err(err(
                "amplitude",
                format!("mean {mean}, amplitude {amplitude}"),
                "finite numbers with amplitude ≥ 0",
            ));
        }
        if mean - amplitude < 0.0 || mean + amplitude > 1.0 {
            return Err(err(
                "amplitude",
                format!("mean {mean} ± amplitude {amplitude}"),
                "mean − amplitude ≥ 0 and mean + amplitude ≤ 1",
            ));
        }
        if slots == 0 || !DAY_NS.is_multiple_of(slots as u64) {
            return Err(err(
                "slots",
                slots.to_string(),
                "a number of slots that divides the day (e.g. 24, 96)",
            ));
        }
        let peak_frac = (peak.as_nanos() % DAY_NS) as f64 / DAY_NS as f64;
        let values = (0..slots)
            .map(|i| {
                let mid = (i as f64 + 0.5) / slots as f64;
                let a = mean + amplitude * (2.0 * std::f64::consts::PI * (mid - peak_frac)).cos();
                a.clamp(0.0, 1.0)
            })
            .collect();
        Profile::new(values)
    }

    /// Availability per slot.
    pub fn values(&self) -> &[f64] {
        &self.slots
    }

    /// Length of one slot.
    pub fn slot_len(&self) -> Duration {
        Duration::from_nanos(DAY_NS / self.slots.len() as u64)
    }

    /// The slot that contains local time `local` (taken modulo one day).
    pub fn slot_of(&self, local: Duration) -> usize {
        ((local.as_nanos() % DAY_NS) / self.slot_len().as_nanos()) as usize
    }

    /// Availability at local time `local`.
    pub fn at(&self, local: Duration) -> f64 {
        self.slots[self.slot_of(local)]
    }
}

/// Diurnal churn model (see the module docs for the method).
#[derive(Debug, Clone, PartialEq)]
pub struct Diurnal {
    profile: Profile,
    mean_up: Duration,
    offsets: Vec<Duration>,
}

impl Diurnal {
    /// Availability following `profile` in each node's local time, with up
    /// sessions of mean `mean_up` inside a slot. Node `i` has time-zone
    /// offset `offsets[i % offsets.len()]` (all UTC if `offsets` is empty);
    /// offsets are taken modulo one day.
    pub fn new(
        profile: Profile,
        mean_up: Duration,
        offsets: Vec<Duration>,
    ) -> Result<Diurnal, DistError> {
        if mean_up.as_nanos() == 0 {
            return Err(err("mean_up", mean_up.to_string(), "a positive duration"));
        }
        let offsets = offsets
            .into_iter()
            .map(|o| Duration::from_nanos(o.as_nanos() % DAY_NS))
            .collect();
        Ok(Diurnal {
            profile,
            mean_up,
            offsets,
        })
    }

    /// The same with offsets given by a function of the node id, evaluated
    /// for nodes `0..nodes` (node `i ≥ nodes` uses `i % nodes`).
    pub fn with_offset_fn(
        profile: Profile,
        mean_up: Duration,
        nodes: u32,
        offset: impl Fn(u32) -> Duration,
    ) -> Result<Diurnal, DistError> {
        Diurnal::new(profile, mean_up, (0..nodes).map(offset).collect())
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Time-zone offset of `node`.
    pub fn offset(&self, node: u32) -> Duration {
        if self.offsets.is_empty() {
            Duration::ZERO
        } else {
            self.offsets[node as usize % self.offsets.len()]
        }
    }

    /// Local time of day of `node` at simulated time `t`.
    pub fn local_time(&self, node: u32, t: Time) -> Duration {
        let off = self.offset(node).as_nanos();
        Duration::from_nanos(((t.as_nanos() % DAY_NS) + off) % DAY_NS)
    }

    /// Rate (per second) at which the current state ends inside a slot of
    /// availability `a`.
    fn rate(&self, up: bool, a: f64) -> f64 {
        let lambda = 1.0 / self.mean_up.as_secs_f64();
        if up {
            if a >= 1.0 { 0.0 } else { lambda }
        } else if a <= 0.0 || a >= 1.0 {
            // a = 1: no down node belongs here; the boundary jump brought all up.
            0.0
        } else {
            lambda * a / (1.0 - a)
        }
    }

    /// Next transition of a node that is in state `up` at `now`.
    fn next_from(
        &self,
        node: u32,
        now: Time,
        up: bool,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        let flip = if up {
            Transition::Down { permanent: false }
        } else {
            Transition::Up
        };
        let slot_ns = self.profile.slot_len().as_nanos();
        let n = self.profile.slots.len();
        let local = self.local_time(node, now).as_nanos();
        let mut slot = (local / slot_ns) as usize;
        let mut cur = now.as_nanos();
        let mut boundary = cur.checked_add(slot_ns - local % slot_ns)?;
        let max_slots = HORIZON_DAYS * n as u64;
        for _ in 0..max_slots {
            let a = self.profile.slots[slot];
            let rate = self.rate(up, a);
            if rate > 0.0 {
                let x: f64 = Exp1.sample(rng);
                let d = Duration::from_secs_f64(x / rate).as_nanos().max(1);
                if let Some(t) = cur.checked_add(d)
                    && t < boundary
                {
                    return Some((Duration::from_nanos(t - now.as_nanos()), flip));
                }
            }
            let next_slot = (slot + 1) % n;
            let b = self.profile.slots[next_slot];
            let p = if up && b < a {
                (a - b) / a
            } else if !up && b > a {
                (b - a) / (1.0 - a)
            } else {
                0.0
            };
            if p > 0.0 && rng.random::<f64>() < p {
                return Some((Duration::from_nanos(boundary - now.as_nanos()), flip));
            }
            cur = boundary;
            boundary = boundary.checked_add(slot_ns)?;
            slot = next_slot;
        }
        None
    }
}

impl ChurnModel for Diurnal {
    fn initial(
        &self,
        node: u32,
        rng: &mut dyn rand::Rng,
    ) -> (bool, Option<(Duration, Transition)>) {
        let a = self.profile.at(self.local_time(node, Time::ZERO));
        let up = rng.random::<f64>() < a;
        (up, self.next_from(node, Time::ZERO, up, rng))
    }

    fn next(
        &self,
        node: u32,
        now: Time,
        t: &Transition,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        match t {
            Transition::Down { permanent: true } => None,
            t => self.next_from(node, now, t.is_up(), rng),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::churn::testutil::{mean_se, run_node, within};

    const HOUR_NS: u64 = 3_600 * 1_000_000_000;

    /// A day shape: low at night, high in the evening (hand-written).
    const PROFILE: [f64; 24] = [
        0.20, 0.15, 0.10, 0.10, 0.10, 0.15, 0.25, 0.35, 0.45, 0.50, 0.55, 0.55, //
        0.60, 0.60, 0.55, 0.55, 0.60, 0.70, 0.80, 0.85, 0.85, 0.75, 0.55, 0.35,
    ];

    /// Up time of `nodes` per (local day, local hour), local time computed
    /// with `offset_for(node)`; days `1..=days` only (all fully simulated).
    fn up_by_local_hour(
        model: &Diurnal,
        nodes: &[u32],
        days: u64,
        offset_for: &dyn Fn(u32) -> u64,
    ) -> Vec<[u128; 24]> {
        let horizon = Time((days + 2) * DAY_NS);
        let mut acc = vec![[0u128; 24]; days as usize];
        for &node in nodes {
            let h = run_node(model, 77, node, horizon);
            let off = offset_for(node);
            let mut up = h.initial_up;
            let mut since = 0u64;
            for (t, tr) in &h.transitions {
                if up && !tr.is_up() {
                    add_local(&mut acc, since + off, t.as_nanos() + off);
                }
                if tr.is_up() != up {
                    since = t.as_nanos();
                }
                up = tr.is_up();
            }
            if up {
                add_local(&mut acc, since + off, horizon.as_nanos() + off);
            }
        }
        acc
    }

    /// Adds the local-time interval [from, to) to hour bins of local days
    /// 1..=len.
    fn add_local(acc: &mut [[u128; 24]], from: u64, to: u64) {
        let mut t = from;
        while t < to {
            let hour_end = (t / HOUR_NS + 1) * HOUR_NS;
            let end = hour_end.min(to);
            let day = t / DAY_NS;
            if day >= 1 && day as usize <= acc.len() {
                acc[day as usize - 1][((t % DAY_NS) / HOUR_NS) as usize] += u128::from(end - t);
            }
            t = end;
        }
    }

    /// The up fraction in every local hour matches `profile` within 4
    /// standard errors (batch means over days).
    fn follows_profile(acc: &[[u128; 24]], n_nodes: usize, profile: &[f64; 24]) -> bool {
        let mut ok = true;
        let mut max_z: f64 = 0.0;
        for h in 0..24 {
            let per_day: Vec<f64> = acc
                .iter()
                .map(|d| d[h] as f64 / (n_nodes as f64 * HOUR_NS as f64))
                .collect();
            let (m, se) = mean_se(&per_day);
            let pass = within(m, se, profile[h], 4.0);
            max_z = max_z.max((m - profile[h]).abs() / se);
            if !pass {
                eprintln!(
                    "hour {h}: measured {m:.4} ± {se:.4}, profile {}",
                    profile[h]
                );
            }
            ok &= pass;
        }
        eprintln!("largest deviation: {max_z:.2} standard errors");
        ok
    }

    #[test]
    fn churn_diurnal_up_fraction_follows_local_profile() {
        let zone = |node: u32| {
            if node.is_multiple_of(2) {
                0
            } else {
                8 * HOUR_NS
            }
        };
        let model = Diurnal::with_offset_fn(
            Profile::hourly(PROFILE).unwrap(),
            Duration::from_secs(20 * 60),
            2,
            |n| Duration::from_nanos(zone(n)),
        )
        .unwrap();
        let utc: Vec<u32> = (0..600).filter(|n| n % 2 == 0).collect();
        let east: Vec<u32> = (0..600).filter(|n| n % 2 == 1).collect();
        let days = 20;
        let acc_utc = up_by_local_hour(&model, &utc, days, &zone);
        let acc_east = up_by_local_hour(&model, &east, days, &zone);
        assert!(follows_profile(&acc_utc, utc.len(), &PROFILE));
        assert!(follows_profile(&acc_east, east.len(), &PROFILE));
        // Negative control: the UTC+8 nodes analysed as if in UTC.
        let acc_ignored = up_by_local_hour(&model, &east, days, &|_| 0);
        assert!(!follows_profile(&acc_ignored, east.len(), &PROFILE));
    }

    #[test]
    fn churn_diurnal_constant_profile_session_means() {
        // With a flat profile a the chain is homogeneous: mean up session
        // = mean_up, mean down session = mean_up (1 − a) / a.
        let a = 0.25;
        let model = Diurnal::new(
            Profile::new(vec![a; 24]).unwrap(),
            Duration::from_secs(600),
            vec![],
        )
        .unwrap();
        let horizon = Time(2 * DAY_NS);
        let (mut up_s, mut down_s) = (Vec::new(), Vec::new());
        for node in 0..200 {
            let h = run_node(&model, 3, node, horizon);
            for w in h.transitions.windows(2) {
                let len = w[1].0.since(w[0].0).as_secs_f64();
                if w[0].1.is_up() {
                    up_s.push(len)
                } else {
                    down_s.push(len)
                }
            }
        }
        let (mu, seu) = mean_se(&up_s);
        let (md, sed) = mean_se(&down_s);
        eprintln!("up {mu:.1} ± {seu:.1} s, down {md:.1} ± {sed:.1} s");
        assert!(within(mu, seu, 600.0, 4.0));
        assert!(within(md, sed, 1_800.0, 4.0));
        assert!(
            !within(md, sed, 600.0, 4.0),
            "control: down sessions are stretched"
        );
    }

    #[test]
    fn churn_diurnal_profile_validation_and_sinusoid() {
        assert_eq!(Profile::new(vec![0.5; 7]).unwrap_err().param, "slots");
        assert_eq!(Profile::new(vec![]).unwrap_err().param, "slots");
        assert_eq!(
            Profile::new(vec![1.2; 24]).unwrap_err().param,
            "availability"
        );
        assert!(Profile::sinusoid(0.8, 0.3, Duration::ZERO, 24).is_err());
        // Peak at 18:00: slot 17 (midpoint 17:30) and slot 18 (18:30) are
        // 0.5 + 0.3 cos(±π/24); slot 5 (05:30) is 0.5 + 0.3 cos(−12.5·π/12).
        let p = Profile::sinusoid(0.5, 0.3, Duration::from_secs(18 * 3_600), 24).unwrap();
        let c = (std::f64::consts::PI / 24.0).cos();
        assert!((p.values()[17] - (0.5 + 0.3 * c)).abs() < 1e-12);
        assert!((p.values()[18] - (0.5 + 0.3 * c)).abs() < 1e-12);
        let v5 = 0.5 + 0.3 * (-12.5 * std::f64::consts::PI / 12.0).cos();
        assert!((p.values()[5] - v5).abs() < 1e-12);
        assert_eq!(p.slot_len(), Duration::from_secs(3_600));
        assert!(Diurnal::new(p, Duration::ZERO, vec![]).is_err());
    }
}
