//! Driving node availability from churn models and correlated outages.
//!
//! The engine asks the node's [`ChurnModel`] for its state at time zero
//! (or, for a node added later, for its join), schedules each transition as
//! an event, and on every transition asks for the next one. Each churned
//! node draws from its own stream `(seed, Churn, node, 0)`, so two systems
//! with the same clients see the same client churn. Correlated outages of
//! groups (a region, a gateway and everything behind it, the data center)
//! come from [`GroupOutages`]; a node is up iff its own process says up and
//! none of its groups is out ([`Availability`]).
//!
//! A transient failure keeps the node's id and disk: it comes back as the
//! next incarnation. A permanent departure loses the disk; if a replacement
//! factory is set, a new node (new id) joins at once, in the groups of the
//! node it replaces.

use super::{Ev, Life, Sim};
use crate::SimError;
use crate::churn::{Availability, ChurnModel, Group, GroupOutages, Transition};
use crate::node::{Ctx, Node, NodeId, Stop};
use crate::rng::{NodeRng, Purpose, derive_seed, node_rng};
use crate::units::Time;
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// Makes the node that replaces a departed one.
pub type Replacement<N> = Box<dyn FnMut(NodeId) -> N>;

pub(super) struct ChurnSlot {
    rng: NodeRng,
    /// Start of the current own session, or `u64::MAX` if it began before
    /// the node was observed (an equilibrium start): such censored sessions
    /// are not recorded, so the recorded lengths are unbiased.
    since: u64,
}

pub(super) struct Driver<N> {
    model: Option<Box<dyn ChurnModel>>,
    slots: Vec<Option<ChurnSlot>>,
    avail: Availability,
    groups: Vec<Group>,
    outages: Option<GroupOutages<ChaCha8Rng>>,
    replace: Option<Replacement<N>>,
    changed: Vec<(u32, bool)>,
}

impl<N> Driver<N> {
    fn empty() -> Self {
        Driver {
            model: None,
            slots: Vec::new(),
            avail: Availability::new(0, &[]).expect("no groups"),
            groups: Vec::new(),
            outages: None,
            replace: None,
            changed: Vec::new(),
        }
    }
}

impl<N: Node> Sim<N>
where
    N::Request: fmt::Debug,
{
    fn driver(&mut self) -> &mut Driver<N> {
        self.churn.get_or_insert_with(|| Box::new(Driver::empty()))
    }

    /// Drive the availability of every node added from now on by `model`
    /// (nodes added with [`Sim::add_stable_node`] excepted). Must be called
    /// before any node is added.
    pub fn set_churn(&mut self, model: impl ChurnModel + 'static) -> Result<(), SimError> {
        if !self.nodes.is_empty() {
            return Err(SimError::Config {
                field: "churn",
                reason: "set the churn model before adding nodes".into(),
            });
        }
        self.driver().model = Some(Box::new(model));
        Ok(())
    }

    /// When a churned node departs for good, `make(departed)` builds the
    /// node that joins in its place (with a new id), at once.
    pub fn set_replacement(&mut self, make: impl FnMut(NodeId) -> N + 'static) {
        self.driver().replace = Some(Box::new(make));
    }

    /// Correlated outages: each group goes out and comes back with
    /// exponential times of means `mtbf` and `mttr`, taking all its members
    /// down together. Must be called before any node is added.
    pub fn set_outage_groups(&mut self, groups: &[Group]) -> Result<(), SimError> {
        if !self.nodes.is_empty() {
            return Err(SimError::Config {
                field: "outage groups",
                reason: "set outage groups before adding nodes".into(),
            });
        }
        let bad = |e: crate::churn::GroupError| SimError::Config {
            field: "outage groups",
            reason: e.to_string(),
        };
        let avail = Availability::new(0, groups).map_err(bad)?;
        let s = derive_seed(self.core.seed, Purpose::Churn, u32::MAX, 0);
        let seed = u64::from_le_bytes(s[..8].try_into().expect("8 bytes"));
        let outages = GroupOutages::from_seed(groups, seed).map_err(bad)?;
        if let Some(t) = outages.peek_time() {
            self.core.queue.push(t.0, Ev::Group)?;
        }
        let d = self.driver();
        d.avail = avail;
        d.groups = groups.to_vec();
        d.outages = Some(outages);
        Ok(())
    }

    /// Called by `add_node` when availability is driven: decide the new
    /// node's first state from its churn model (or start it if it has none).
    pub(super) fn churn_added(&mut self, id: NodeId, churned: bool) {
        let now = self.core.now;
        let seed = self.core.seed;
        let fresh_run = self.core.stats.events == 0 && now == 0;
        let d = self.churn.as_mut().expect("driver");
        d.avail.grow(id.0 + 1);
        if d.slots.len() <= id.index() {
            d.slots.resize_with(id.index() + 1, || None);
        }
        let model = if churned { d.model.as_ref() } else { None };
        let Some(model) = model else {
            // Not churned: up from now on, unless a group it belongs to is out.
            self.core
                .queue
                .push(now, Ev::Start { node: id.0 })
                .expect("now");
            return;
        };
        let mut rng = node_rng(seed, Purpose::Churn, id.0, 0);
        let (up, next) = if fresh_run {
            model.initial(id.0, &mut rng)
        } else {
            (true, model.join(id.0, Time(now), &mut rng))
        };
        d.slots[id.index()] = Some(ChurnSlot {
            rng,
            since: if fresh_run { u64::MAX } else { now },
        });
        if up {
            let ev = Ev::Churn {
                node: id.0,
                t: Transition::Up,
                ask_next: false,
            };
            self.core.queue.push(now, ev).expect("now");
        }
        if let Some((after, t)) = next {
            let ev = Ev::Churn {
                node: id.0,
                t,
                ask_next: true,
            };
            self.core
                .queue
                .push(now.saturating_add(after.0), ev)
                .expect("future");
        }
    }

    /// A churn transition of `node` fires.
    pub(super) fn churn_event(&mut self, node: u32, t: Transition, ask_next: bool) {
        let now = self.core.now;
        let Some(d) = self.churn.as_mut() else {
            return;
        };
        let Some(slot) = d.slots.get_mut(node as usize).and_then(|s| s.as_mut()) else {
            return;
        };
        // Session lengths: the session that ends now, if it was observed
        // from its start.
        if ask_next && slot.since != u64::MAX {
            let name = if t.is_up() {
                "churn.down_session_ns"
            } else {
                "churn.up_session_ns"
            };
            self.core.metrics.observe(name, now - slot.since);
        }
        slot.since = now;
        let next = if ask_next && !t.is_permanent() {
            let model = d.model.as_ref().expect("churned node has a model");
            model.next(node, Time(now), &t, &mut slot.rng)
        } else {
            None
        };
        if let Some((after, t2)) = next {
            let ev = Ev::Churn {
                node,
                t: t2,
                ask_next: true,
            };
            self.core
                .queue
                .push(now.saturating_add(after.0), ev)
                .expect("future");
        }
        let effective = d.avail.set_own(node, t.is_up());
        match t {
            Transition::Up => {
                self.core.metrics.count("churn.up", 1);
                if effective == Some(true) {
                    self.start_node(node);
                }
            }
            Transition::Down { permanent: false } => {
                self.core.metrics.count("churn.down", 1);
                if effective == Some(false) {
                    self.stop_node(node, Stop::Transient);
                }
            }
            Transition::Down { permanent: true } => {
                self.core.metrics.count("churn.departures", 1);
                self.depart(node);
            }
        }
    }

    /// `node` leaves for good: it stops (or, if down, loses its disk where
    /// it is), and a replacement joins if a factory is set.
    fn depart(&mut self, node: u32) {
        match self.core.meta[node as usize].life {
            Life::Up => self.stop_node(node, Stop::Permanent),
            Life::Departed => return,
            Life::Created | Life::Down => {
                let inc = self.core.meta[node as usize].inc;
                self.core.meta[node as usize].life = Life::Departed;
                let mut cx = Ctx {
                    core: &mut self.core,
                    me: NodeId(node),
                    inc,
                    alive: false,
                };
                self.nodes[node as usize].on_stop(&mut cx, Stop::Permanent);
            }
        }
        let Some(d) = self.churn.as_mut() else {
            return;
        };
        let Some(make) = d.replace.as_mut() else {
            return;
        };
        let newcomer = make(NodeId(node));
        let groups: Vec<usize> = d
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.members.contains(&node))
            .map(|(i, _)| i)
            .collect();
        let id = self.add_node(newcomer);
        self.core.metrics.count("churn.replacements", 1);
        let d = self.churn.as_mut().expect("driver");
        for g in groups {
            d.avail.join_group(id.0, g);
        }
    }

    /// The next group outage event fires.
    pub(super) fn group_event(&mut self) {
        let now = self.core.now;
        let Some(d) = self.churn.as_mut() else {
            return;
        };
        let Some(outages) = d.outages.as_mut() else {
            return;
        };
        let mut changed = std::mem::take(&mut d.changed);
        changed.clear();
        while outages.peek_time().is_some_and(|t| t.0 <= now) {
            let ev = outages.next().expect("peeked");
            self.core.metrics.count(
                if ev.out {
                    "churn.group_out"
                } else {
                    "churn.group_back"
                },
                1,
            );
            d.avail.apply(&ev, &mut changed);
        }
        if let Some(t) = outages.peek_time() {
            self.core.queue.push(t.0, Ev::Group).expect("future");
        }
        for &(node, up) in &changed {
            if node as usize >= self.nodes.len() {
                continue;
            }
            if up {
                self.start_node(node);
            } else {
                self.stop_node(node, Stop::Transient);
            }
        }
        if let Some(d) = self.churn.as_mut() {
            d.changed = changed;
        }
    }

    /// An explicit start under driven availability: the node's own state is
    /// up; it starts unless one of its groups is out.
    pub(super) fn availability_allows_start(&mut self, node: u32) -> bool {
        match self.churn.as_mut() {
            None => true,
            Some(d) => {
                let churned = d.slots.get(node as usize).is_some_and(|s| s.is_some());
                if churned {
                    // Churned nodes are started by their churn events only.
                    return d.avail.is_up(node);
                }
                d.avail.set_own(node, true);
                d.avail.is_up(node)
            }
        }
    }
}
