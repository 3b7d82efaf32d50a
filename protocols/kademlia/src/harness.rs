//! A per-protocol harness: N Kademlia nodes on the engine with virtual
//! time, joins or warm start, and `step` / `drive_bounded` for tests.
//!
//! ```
//! use kademlia::harness::Harness;
//! use kademlia::Config;
//! use sim_core::{Duration, SimpleNet};
//!
//! let net = SimpleNet::constant(Duration::from_millis(10), "10Mbit/s".parse().unwrap());
//! let mut h = Harness::new(64, Config::default(), 7, net);
//! h.join_all(Duration::from_millis(100), 1);
//! h.run_for(Duration::from_secs(30));
//! let key = h.random_key();
//! let done = h.lookup(sim_core::NodeId(3), key).expect("finished");
//! assert_eq!(done.exact, Some(true));
//! ```

use crate::config::Config;
use crate::key::{IdTable, Key};
use crate::message::WireContact;
use crate::node::{Completed, KadNode, Observe};
use crate::protocol::{Command, Kademlia};
use crate::warm::SortedIds;
use rand::{RngExt, SeedableRng};
use sim_core::prelude::*;
use std::sync::Arc;

/// Most events one `lookup` call may process before giving up.
pub const LOOKUP_EVENTS_MAX: u64 = 10_000_000;

/// N Kademlia nodes in one simulation.
pub struct Harness {
    /// The engine.
    pub sim: Sim<KadNode>,
    /// Everyone's ids.
    pub ids: Arc<IdTable>,
    /// The shared configuration.
    pub cfg: Arc<Config>,
    rng: NodeRng,
    next_tag: u64,
}

impl Harness {
    /// `n` nodes, created stopped, with random ids drawn from `seed`. Every
    /// node keeps its finished events and checks them with the oracle.
    pub fn new(n: usize, cfg: Config, seed: u64, net: SimpleNet) -> Harness {
        cfg.validate().expect("valid config");
        let mut rng = NodeRng::seed_from_u64(seed ^ 0x6b61_6465_6d6c_6961);
        let ids = Arc::new(IdTable::random(n, cfg.key_bits, &mut rng));
        let cfg = Arc::new(cfg);
        let mut sim = Sim::new(SimConfig::new(seed, net));
        sim.reserve_nodes(n);
        for i in 0..n {
            let kad = Kademlia::new(cfg.clone(), ids.clone(), NodeId(i as u32));
            let mut node = KadNode::new(kad);
            node.observe = Observe {
                oracle: true,
                keep_events: true,
                rows: true,
            };
            sim.add_node_stopped(node);
        }
        Harness {
            sim,
            ids,
            cfg,
            rng,
            next_tag: 1,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Set what every node records.
    pub fn set_observe(&mut self, o: Observe) {
        for i in 0..self.len() {
            self.sim.node_mut(NodeId(i as u32)).observe = o;
        }
    }

    /// A contact for node `n`.
    pub fn contact(&self, n: NodeId) -> WireContact {
        WireContact {
            node: n,
            id: *self.ids.id(n),
        }
    }

    /// Start node 0 now and node `i` at `i * spacing`, each joining through
    /// `bootstrap_count` distinct random earlier nodes (the harness's own
    /// seeded stream). Does not run the simulation.
    pub fn join_all(&mut self, spacing: Duration, bootstrap_count: usize) {
        let t0 = self.sim.now();
        for i in 0..self.len() {
            let me = NodeId(i as u32);
            let mut boot = Vec::new();
            let want = bootstrap_count.min(i);
            // Bounded: at most 4x draws for distinct earlier nodes.
            let mut tries = 0;
            while boot.len() < want && tries < 4 * want + 8 {
                tries += 1;
                let b = NodeId(self.rng.random_range(0..i as u32));
                if !boot.iter().any(|c: &WireContact| c.node == b) {
                    boot.push(self.contact(b));
                }
            }
            self.sim.node_mut(me).bootstrap = boot;
            let at = t0 + Duration(spacing.0 * i as u64);
            self.sim.start_at(me, at).expect("future");
        }
    }

    /// Build every routing table from global knowledge and start every
    /// node now, without joins. Labelled `warm` in the outputs.
    pub fn warm_start(&mut self) {
        let sorted = SortedIds::all(&self.ids);
        let now = self.sim.now();
        for i in 0..self.len() {
            let me = NodeId(i as u32);
            let id = *self.ids.id(me);
            let node = self.sim.node_mut(me);
            sorted.fill(node.kad.table_mut(), &id, &mut self.rng, now);
            node.warm = true;
            self.sim.start_at(me, now).expect("now");
        }
    }

    /// A random key of the configured width.
    pub fn random_key(&mut self) -> Key {
        Key::random(self.cfg.key_bits, &mut self.rng)
    }

    /// A random node.
    pub fn random_node(&mut self) -> NodeId {
        NodeId(self.rng.random_range(0..self.len() as u32))
    }

    /// The harness's random stream (for test setup).
    pub fn rng(&mut self) -> &mut NodeRng {
        &mut self.rng
    }

    /// Process one event; false when none is left.
    pub fn step(&mut self) -> bool {
        let out = self
            .sim
            .run(RunLimits {
                max_events: Some(1),
                ..Default::default()
            })
            .expect("run");
        out.events == 1
    }

    /// Process at most `max_events` events; returns how many ran.
    pub fn drive_bounded(&mut self, max_events: u64) -> u64 {
        if max_events == 0 {
            return 0;
        }
        self.sim
            .run(RunLimits {
                max_events: Some(max_events),
                ..Default::default()
            })
            .expect("run")
            .events
    }

    /// Run for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.sim.now() + d;
        self.sim.run(RunLimits::until(until)).expect("run");
    }

    /// Issue `cmd` at node `from` now (ignored if it is down).
    pub fn command(&mut self, from: NodeId, cmd: Command) {
        self.sim.with_node(from, |n, cx| n.command(cx, cmd));
    }

    /// A fresh tag.
    pub fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    /// Look up `key` from `from` and drive until it finishes (bounded).
    pub fn lookup(&mut self, from: NodeId, key: Key) -> Option<Completed> {
        let tag = self.tag();
        self.command(from, Command::FindClosest { tag, key });
        self.wait_for(from, tag)
    }

    /// Drive until node `from` reports the operation `tag` (bounded by
    /// [`LOOKUP_EVENTS_MAX`]).
    pub fn wait_for(&mut self, from: NodeId, tag: u64) -> Option<Completed> {
        let mut budget = LOOKUP_EVENTS_MAX;
        loop {
            let evs = &mut self.sim.node_mut(from).events;
            if let Some(p) = evs.iter().position(|c| c.event.tag == tag) {
                return Some(evs.remove(p));
            }
            if budget == 0 || !self.step() {
                return None;
            }
            budget -= 1;
        }
    }

    /// Issue `lookups` (origin, key) one every `gap`, then run until all
    /// are done or `settle` has passed after the last; returns the
    /// finished ones in issue order.
    pub fn lookups_batch(
        &mut self,
        lookups: &[(NodeId, Key)],
        gap: Duration,
        settle: Duration,
    ) -> Vec<Completed> {
        let mut tags = Vec::with_capacity(lookups.len());
        for &(from, key) in lookups {
            let tag = self.tag();
            tags.push((from, tag));
            self.command(from, Command::FindClosest { tag, key });
            self.run_for(gap);
        }
        self.run_for(settle);
        let mut out = Vec::with_capacity(tags.len());
        for (from, tag) in tags {
            let evs = &mut self.sim.node_mut(from).events;
            if let Some(p) = evs.iter().position(|c| c.event.tag == tag) {
                out.push(evs.remove(p));
            }
        }
        out
    }
}
