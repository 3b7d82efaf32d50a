//! Correlated outages: a whole group of nodes (a region, a gateway, the data
//! center) goes down together and comes back together.
//!
//! Each [`Group`] alternates between *in service* periods (exponential,
//! mean `mtbf`: the mean time from a repair to the next failure) and
//! *outages* (exponential, mean `mttr`), started in equilibrium: out at
//! t = 0 with probability `mttr / (mtbf + mttr)` (exponential residuals are
//! exponential again). The long-run outage fraction is therefore
//! `mttr / (mtbf + mttr)`.
//!
//! [`GroupOutages`] generates the schedule of every group as one time-ordered
//! stream of [`GroupEvent`]s, lazily: each group draws from its own
//! generator (seeded by the caller), so adding a group does not change the
//! others' schedules. Equal times come out in group order. Groups that start
//! out produce an `out` event at time zero.
//!
//! [`Availability`] combines them with the per-node churn processes: a node
//! is up iff its own process says up **and** none of its groups is out. The
//! engine feeds it both kinds of changes and gets back exactly the nodes
//! whose effective state changed, in node order, so all members of a group
//! go down at the same instant.

use super::dist::{Dist, DistError};
use crate::units::{Duration, Time};
use rand::SeedableRng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A group of nodes that fail together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Name, for reports ("gateway-3", "eu-west", "datacenter").
    pub name: String,
    /// Node ids of the members.
    pub members: Vec<u32>,
    /// Mean time from the end of an outage to the next outage.
    pub mtbf: Duration,
    /// Mean outage length.
    pub mttr: Duration,
}

/// An invalid group definition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GroupError {
    /// `mtbf` or `mttr` is not positive.
    #[error("group {group:?}: field `{field}` = {value}; expected a positive duration")]
    NotPositive {
        /// Group name.
        group: String,
        /// "mtbf" or "mttr".
        field: &'static str,
        /// The value given.
        value: Duration,
    },
    /// A node is listed twice in one group.
    #[error("group {group:?}: field `members` lists node {node} twice")]
    DuplicateMember {
        /// Group name.
        group: String,
        /// The repeated node.
        node: u32,
    },
    /// The number of generators does not match the number of groups.
    #[error("{groups} groups but {rngs} random generators; expected one per group")]
    RngCount {
        /// Number of groups.
        groups: usize,
        /// Number of generators given.
        rngs: usize,
    },
}

impl Group {
    /// Checks `mtbf`, `mttr` and that no member is repeated.
    pub fn validate(&self) -> Result<(), GroupError> {
        for (field, value) in [("mtbf", self.mtbf), ("mttr", self.mttr)] {
            if value.as_nanos() == 0 {
                return Err(GroupError::NotPositive {
                    group: self.name.clone(),
                    field,
                    value,
                });
            }
        }
        let mut m = self.members.clone();
        m.sort_unstable();
        if let Some(w) = m.windows(2).find(|w| w[0] == w[1]) {
            return Err(GroupError::DuplicateMember {
                group: self.name.clone(),
                node: w[0],
            });
        }
        Ok(())
    }

    /// Long-run fraction of time the group is out: `mttr / (mtbf + mttr)`.
    pub fn outage_fraction(&self) -> f64 {
        let (b, r) = (self.mtbf.as_nanos() as f64, self.mttr.as_nanos() as f64);
        r / (b + r)
    }
}

/// A group goes out or comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupEvent {
    /// When.
    pub time: Time,
    /// Index of the group in the list given to [`GroupOutages::new`].
    pub group: usize,
    /// True when the outage starts, false when it ends.
    pub out: bool,
}

#[derive(Debug, Clone)]
struct GroupProc<R> {
    up: Dist,
    down: Dist,
    rng: R,
    out: bool,
}

/// The merged, time-ordered outage schedule of all groups (an endless
/// iterator unless there are no groups). Generic over the per-group
/// generator; [`GroupOutages::from_seed`] uses ChaCha8 streams.
#[derive(Debug, Clone)]
pub struct GroupOutages<R> {
    procs: Vec<GroupProc<R>>,
    // Next event of each group, ordered by (time, group).
    heap: BinaryHeap<Reverse<(Time, usize, bool)>>,
}

impl<R: rand::Rng> GroupOutages<R> {
    /// Schedules for `groups`, group `i` drawing from `rngs[i]`.
    pub fn new(groups: &[Group], rngs: Vec<R>) -> Result<Self, GroupError> {
        if rngs.len() != groups.len() {
            return Err(GroupError::RngCount {
                groups: groups.len(),
                rngs: rngs.len(),
            });
        }
        let mut procs = Vec::with_capacity(groups.len());
        let mut heap = BinaryHeap::with_capacity(groups.len());
        for (i, (g, mut rng)) in groups.iter().zip(rngs).enumerate() {
            g.validate()?;
            let as_dist = |field: &'static str, d: Duration| {
                Dist::exponential(d).map_err(|_: DistError| GroupError::NotPositive {
                    group: g.name.clone(),
                    field,
                    value: d,
                })
            };
            let up = as_dist("mtbf", g.mtbf)?;
            let down = as_dist("mttr", g.mttr)?;
            let out = rand::RngExt::random::<f64>(&mut rng) < g.outage_fraction();
            if out {
                heap.push(Reverse((Time::ZERO, i, true)));
            } else {
                let first = up.sample(&mut rng);
                heap.push(Reverse((Time::ZERO.saturating_add(first), i, true)));
            }
            procs.push(GroupProc {
                up,
                down,
                rng,
                out: false,
            });
        }
        Ok(GroupOutages { procs, heap })
    }

    /// Time of the next event, without consuming it.
    pub fn peek_time(&self) -> Option<Time> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Whether group `group` is out after the events returned so far.
    pub fn is_out(&self, group: usize) -> bool {
        self.procs[group].out
    }
}

impl GroupOutages<rand_chacha::ChaCha8Rng> {
    /// Schedules with group `i` drawing from ChaCha8 stream `i` of `seed`
    /// (the caller derives `seed`, e.g. from the master seed and "groups").
    pub fn from_seed(groups: &[Group], seed: u64) -> Result<Self, GroupError> {
        let rngs = (0..groups.len())
            .map(|i| {
                let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                r.set_stream(i as u64);
                r
            })
            .collect();
        GroupOutages::new(groups, rngs)
    }
}

impl<R: rand::Rng> Iterator for GroupOutages<R> {
    type Item = GroupEvent;
    fn next(&mut self) -> Option<GroupEvent> {
        let Reverse((time, group, out)) = self.heap.pop()?;
        let p = &mut self.procs[group];
        p.out = out;
        let len = if out {
            p.down.sample(&mut p.rng)
        } else {
            p.up.sample(&mut p.rng)
        };
        // Past the end of representable time the group stays as it is.
        if let Some(t) = time.checked_add(len) {
            self.heap.push(Reverse((t, group, !out)));
        }
        Some(GroupEvent { time, group, out })
    }
}

/// Effective node state: up iff the node's own process is up and none of its
/// groups is out.
#[derive(Debug, Clone)]
pub struct Availability {
    own_up: Vec<bool>,
    groups_out: Vec<u32>,
    members: Vec<Vec<u32>>,
    group_out: Vec<bool>,
}

impl Availability {
    /// `nodes` nodes (own state down until set) and the given groups, all in
    /// service. Members outside `0..nodes` are added as nodes.
    pub fn new(nodes: u32, groups: &[Group]) -> Result<Self, GroupError> {
        let mut a = Availability {
            own_up: vec![false; nodes as usize],
            groups_out: vec![0; nodes as usize],
            members: Vec::with_capacity(groups.len()),
            group_out: vec![false; groups.len()],
        };
        for g in groups {
            g.validate()?;
            let mut m = g.members.clone();
            m.sort_unstable();
            if let Some(&max) = m.last() {
                a.grow(max + 1);
            }
            a.members.push(m);
        }
        Ok(a)
    }

    /// Makes room for nodes `0..nodes` (new nodes are down and in no group).
    pub fn grow(&mut self, nodes: u32) {
        if self.own_up.len() < nodes as usize {
            self.own_up.resize(nodes as usize, false);
            self.groups_out.resize(nodes as usize, 0);
        }
    }

    /// Adds `node` to group `group` (e.g. a replacement joining the region
    /// of the node it replaces). Returns the node's new effective state if
    /// it changed. Adding a member twice does nothing. Panics if `group` is
    /// out of range.
    pub fn join_group(&mut self, node: u32, group: usize) -> Option<bool> {
        self.grow(node + 1);
        let m = &mut self.members[group];
        let Err(pos) = m.binary_search(&node) else {
            return None;
        };
        m.insert(pos, node);
        let before = self.is_up(node);
        if self.group_out[group] {
            self.groups_out[node as usize] += 1;
        }
        (self.is_up(node) != before).then(|| self.is_up(node))
    }

    /// Whether `node` is effectively up.
    pub fn is_up(&self, node: u32) -> bool {
        let i = node as usize;
        i < self.own_up.len() && self.own_up[i] && self.groups_out[i] == 0
    }

    /// Whether group `group` is out.
    pub fn group_is_out(&self, group: usize) -> bool {
        self.group_out[group]
    }

    /// Sets the node's own churn state; returns its new effective state if
    /// that changed.
    pub fn set_own(&mut self, node: u32, up: bool) -> Option<bool> {
        self.grow(node + 1);
        let before = self.is_up(node);
        self.own_up[node as usize] = up;
        let after = self.is_up(node);
        (after != before).then_some(after)
    }

    /// Applies a group event; appends to `changed` (in node order) every
    /// member whose effective state changed, with its new state. A repeated
    /// event (out while already out) changes nothing. Panics if `ev.group`
    /// is not a group index given to [`Availability::new`].
    pub fn apply(&mut self, ev: &GroupEvent, changed: &mut Vec<(u32, bool)>) {
        if self.group_out[ev.group] == ev.out {
            return;
        }
        self.group_out[ev.group] = ev.out;
        for &n in &self.members[ev.group] {
            let before = self.is_up(n);
            let c = &mut self.groups_out[n as usize];
            if ev.out {
                *c += 1;
            } else {
                *c -= 1;
            }
            let after = self.is_up(n);
            if after != before {
                changed.push((n, after));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::churn::testutil::{mean_se, within};

    fn group(name: &str, members: Vec<u32>, mtbf_h: u64, mttr_h: u64) -> Group {
        Group {
            name: name.into(),
            members,
            mtbf: Duration::from_secs(mtbf_h * 3_600),
            mttr: Duration::from_secs(mttr_h * 3_600),
        }
    }

    /// Outage fraction of each group over [0, horizon), from the event
    /// stream.
    fn outage_fractions(groups: &[Group], seed: u64, horizon: Time) -> Vec<f64> {
        let mut out_ns = vec![0u64; groups.len()];
        let mut since = vec![None; groups.len()];
        let mut last = Time::ZERO;
        for ev in GroupOutages::from_seed(groups, seed).unwrap() {
            assert!(ev.time >= last, "events in time order");
            last = ev.time;
            if ev.time >= horizon {
                break;
            }
            if ev.out {
                since[ev.group] = Some(ev.time);
            } else if let Some(s) = since[ev.group].take() {
                out_ns[ev.group] += ev.time.since(s).as_nanos();
            }
        }
        for (g, s) in since.iter().enumerate() {
            if let Some(s) = s {
                out_ns[g] += horizon.since(*s).as_nanos();
            }
        }
        out_ns
            .iter()
            .map(|&ns| ns as f64 / horizon.as_nanos() as f64)
            .collect()
    }

    /// Mean outage fraction over independent groups within 4 SE of
    /// `mttr / (mtbf + mttr)` computed by the caller.
    fn outage_fraction_matches(fractions: &[f64], expected: f64) -> bool {
        let (m, se) = mean_se(fractions);
        eprintln!("outage fraction {m:.4} ± {se:.4} (expected {expected:.4})");
        within(m, se, expected, 4.0)
    }

    #[test]
    fn churn_group_outage_fraction() {
        let horizon = Time(1_000 * 86_400 * 1_000_000_000);
        // mtbf 10 d, mttr 1 d: out 1/11 of the time.
        let groups: Vec<Group> = (0..200)
            .map(|i| group(&format!("g{i}"), vec![i], 240, 24))
            .collect();
        let f = outage_fractions(&groups, 5, horizon);
        assert!(outage_fraction_matches(&f, 1.0 / 11.0));
        // Negative control: repairs taking 1.5 d while 1 d is claimed.
        let slow: Vec<Group> = (0..200)
            .map(|i| group(&format!("g{i}"), vec![i], 240, 36))
            .collect();
        let f = outage_fractions(&slow, 5, horizon);
        assert!(!outage_fraction_matches(&f, 1.0 / 11.0));
    }

    #[test]
    fn churn_group_members_fail_together() {
        let groups = vec![
            group("gateway-a", vec![0, 1, 2, 3], 48, 6),
            group("region", vec![3, 4, 5], 72, 12),
        ];
        let mut av = Availability::new(8, &groups).unwrap();
        for n in 0..8 {
            assert_eq!(av.set_own(n, true), Some(true));
        }
        let mut changed = Vec::new();
        let (mut outs, mut both_out_seen) = (0, false);
        for ev in GroupOutages::from_seed(&groups, 9).unwrap().take(400) {
            changed.clear();
            av.apply(&ev, &mut changed);
            let members = &groups[ev.group].members;
            let other = 1 - ev.group;
            // Every member not held down by the other group changes, at this
            // one instant, to the group's new state.
            let expect: Vec<(u32, bool)> = members
                .iter()
                .filter(|&&n| !(groups[other].members.contains(&n) && av.group_is_out(other)))
                .map(|&n| (n, !ev.out))
                .collect();
            assert_eq!(changed, expect, "event {ev:?}");
            outs += usize::from(ev.out);
            both_out_seen |= av.group_is_out(0) && av.group_is_out(1);
            for n in 0..8u32 {
                let held = groups
                    .iter()
                    .enumerate()
                    .any(|(g, gr)| av.group_is_out(g) && gr.members.contains(&n));
                assert_eq!(av.is_up(n), !held);
            }
        }
        assert!(
            outs > 50 && both_out_seen,
            "outs {outs}, overlap {both_out_seen}"
        );
        // Own state and group state combine with AND.
        let mut av = Availability::new(3, &groups[..1]).unwrap();
        av.set_own(0, true);
        changed.clear();
        av.apply(
            &GroupEvent {
                time: Time::ZERO,
                group: 0,
                out: true,
            },
            &mut changed,
        );
        assert_eq!(changed, vec![(0, false)]);
        assert_eq!(av.set_own(1, true), None, "down while its group is out");
        changed.clear();
        av.apply(
            &GroupEvent {
                time: Time(1),
                group: 0,
                out: false,
            },
            &mut changed,
        );
        assert_eq!(changed, vec![(0, true), (1, true)]);
        // A replacement joining an out group goes down with it.
        av.set_own(7, true);
        av.apply(
            &GroupEvent {
                time: Time(2),
                group: 0,
                out: true,
            },
            &mut changed,
        );
        assert_eq!(av.join_group(7, 0), Some(false));
    }

    #[test]
    fn churn_group_schedule_is_deterministic_and_independent() {
        let a = vec![group("a", vec![0], 10, 1), group("b", vec![1], 10, 1)];
        let b = vec![
            group("a", vec![0], 10, 1),
            group("b", vec![1], 10, 1),
            group("c", vec![2], 5, 1),
        ];
        let ev_a: Vec<GroupEvent> = GroupOutages::from_seed(&a, 3).unwrap().take(200).collect();
        let ev_a2: Vec<GroupEvent> = GroupOutages::from_seed(&a, 3).unwrap().take(200).collect();
        assert_eq!(ev_a, ev_a2);
        // Adding group c leaves the schedules of a and b unchanged.
        let ev_b: Vec<GroupEvent> = GroupOutages::from_seed(&b, 3)
            .unwrap()
            .filter(|e| e.group < 2)
            .take(200)
            .collect();
        assert_eq!(ev_a, ev_b);
        let ev_c: Vec<GroupEvent> = GroupOutages::from_seed(&a, 4).unwrap().take(200).collect();
        assert_ne!(ev_a, ev_c);
    }

    #[test]
    fn churn_group_validation() {
        let e = group("dc", vec![1], 0, 1).validate().unwrap_err();
        assert!(
            e.to_string().contains("`mtbf`") && e.to_string().contains("\"dc\""),
            "{e}"
        );
        let e = group("dc", vec![1, 2, 1], 5, 1).validate().unwrap_err();
        assert_eq!(
            e,
            GroupError::DuplicateMember {
                group: "dc".into(),
                node: 1
            }
        );
        let rngs: Vec<rand_chacha::ChaCha8Rng> = Vec::new();
        assert!(matches!(
            GroupOutages::new(&[group("x", vec![], 1, 1)], rngs),
            Err(GroupError::RngCount { groups: 1, rngs: 0 })
        ));
    }
}
