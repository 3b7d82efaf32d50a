//! A harness for tests and benchmarks: peers running the stacked node on
//! the engine, optional churn with replacements, stable clients, warm DHT
//! tables, and a ledger of where every fragment is.
//!
//! ```
//! use storage::harness::{Harness, Setup};
//! use storage::{Command, ObjectId};
//! use sim_core::Duration;
//!
//! let mut h = Harness::new(Setup::small(40, 7)).unwrap();
//! let object = ObjectId::synthetic(7, 1);
//! h.request(h.clients[0], Command::Write { tag: 1, object, len: 4096 });
//! h.run_for(Duration::from_secs(60));
//! assert_eq!(h.ledger().copies(&object), 3);
//! ```

use crate::config::Config;
use crate::node::{EventLog, Placement, Request, StackNode};
use crate::protocol::{Command, Event, Storage};
use crate::scheme::ObjectId;
use kademlia::warm::SortedIds;
use kademlia::{IdTable, Kademlia, WireContact};
use rand::SeedableRng;
use sim_core::churn::{ChurnModel, Group};
use sim_core::prelude::*;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

/// What to build.
pub struct Setup {
    /// Peers (they store, and churn if a model is given).
    pub peers: usize,
    /// Stable clients (never churn, store nothing).
    pub clients: usize,
    /// DHT parameters.
    pub kad: kademlia::Config,
    /// Storage parameters.
    pub store: Config,
    /// Master seed.
    pub seed: u64,
    /// The network.
    pub net: SimpleNet,
    /// Churn of the peers.
    pub churn: Option<Box<dyn ChurnModel>>,
    /// Correlated outage groups (members are peer ids).
    pub groups: Vec<Group>,
    /// Ids reserved for replacements of permanently departed peers (0: a
    /// departed peer is not replaced).
    pub spare: usize,
    /// Where placement answers come from.
    pub placement: Placement,
    /// A routed topology (with per-class byte accounting) instead of the
    /// engine's simple network; it must have a node for every peer, client
    /// and spare id.
    pub topology: Option<Box<dyn sim_core::net::Network>>,
    /// Record the `storage_ops` and `storage_repairs` tables.
    pub rows: bool,
    /// Keep every storage event in [`Harness::log`] (true), or drop the
    /// events once the ledger has applied them (false: long runs, whose
    /// log would otherwise grow with every fragment moved).
    pub keep_log: bool,
}

impl Setup {
    /// `peers` peers and 4 clients on a 20 ms network, 3 replicas, no
    /// churn, 64-bit DHT keys, lookups ended by the paper's rule, routing
    /// tables kept across transient restarts.
    pub fn small(peers: usize, seed: u64) -> Setup {
        // Placement needs at least n answered candidates: the paper's
        // termination rule waits for the k closest.
        let kad = kademlia::Config {
            key_bits: 64,
            termination: kademlia::Termination::KClosest,
            // A peer back from a transient failure has its table on disk:
            // it looks itself up but does not refresh every bucket.
            keep_table_on_restart: true,
            refresh_on_join: false,
            ..kademlia::Config::default()
        };
        let store = Config {
            key_bits: 64,
            ..Config::default()
        };
        Setup {
            peers,
            clients: 4,
            kad,
            store,
            seed,
            net: SimpleNet::constant(
                Duration::from_millis(20),
                Rate::new(100_000_000).expect("positive"),
            ),
            churn: None,
            groups: Vec::new(),
            spare: 0,
            placement: Placement::Dht,
            topology: None,
            rows: false,
            keep_log: true,
        }
    }
}

/// Where every fragment is, from the nodes' disk events (experiment side:
/// global knowledge), and when each object became unrecoverable.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    /// Holders of each object's fragments: node → fragment index.
    pub holders: BTreeMap<ObjectId, BTreeMap<NodeId, u16>>,
    /// Fragments needed to rebuild each object (recorded on first store).
    pub need: BTreeMap<ObjectId, u16>,
    /// When each lost object fell below `need` distinct fragments.
    pub lost_at: BTreeMap<ObjectId, Time>,
}

impl Ledger {
    /// Apply one disk event.
    pub fn apply(&mut self, t: Time, node: NodeId, e: &Event, m_of: impl Fn(&ObjectId) -> u16) {
        let Event::Disk {
            object,
            index,
            stored,
        } = e
        else {
            return;
        };
        let h = self.holders.entry(*object).or_default();
        if *stored {
            h.insert(node, *index);
            self.need.entry(*object).or_insert_with(|| m_of(object));
        } else {
            h.remove(&node);
            let distinct: BTreeSet<u16> = h.values().copied().collect();
            let need = self.need.get(object).copied().unwrap_or(1);
            if (distinct.len() as u16) < need && !self.lost_at.contains_key(object) {
                self.lost_at.insert(*object, t);
            }
        }
    }
    /// Copies (fragments) of `object` on disks.
    pub fn copies(&self, object: &ObjectId) -> usize {
        self.holders.get(object).map_or(0, BTreeMap::len)
    }
    /// Distinct fragments of `object` on disks.
    pub fn distinct(&self, object: &ObjectId) -> usize {
        self.holders
            .get(object)
            .map_or(0, |h| h.values().copied().collect::<BTreeSet<u16>>().len())
    }
}

/// Peers and clients in one simulation.
pub struct Harness {
    /// The engine.
    pub sim: Sim<StackNode>,
    /// Every id (peers, clients, then spares).
    pub ids: Arc<IdTable>,
    /// Storage events, in order (those not yet applied to the ledger only,
    /// when [`Setup::keep_log`] is false).
    pub log: EventLog,
    /// Peer ids.
    pub peers: Vec<NodeId>,
    /// Client ids.
    pub clients: Vec<NodeId>,
    /// Replacement peers that have joined.
    pub replaced: Rc<RefCell<Vec<NodeId>>>,
    ledger: Ledger,
    applied: usize,
    keep_log: bool,
    m: u16,
    /// Per object: instants sampled readable, instants sampled.
    readable: BTreeMap<ObjectId, (u64, u64)>,
    samples: u64,
}

impl Harness {
    /// Build and start everything now, with warm DHT tables.
    pub fn new(s: Setup) -> Result<Harness, SimError> {
        let bad = |field: &'static str, reason: String| SimError::Config { field, reason };
        s.store
            .validate()
            .map_err(|e| bad("storage config", e.to_string()))?;
        s.kad
            .validate()
            .map_err(|e| bad("kademlia config", e.0.clone()))?;
        let total = s.peers + s.clients + s.spare;
        let keep_log = s.keep_log;
        let mut rng = NodeRng::seed_from_u64(s.seed ^ 0x0073_746f_7261_6765);
        let ids = Arc::new(IdTable::random(total, s.kad.key_bits, &mut rng));
        let kcfg = Arc::new(s.kad);
        let peer_cfg = Arc::new(s.store);
        let client_cfg = Arc::new(Config {
            capacity: 0,
            ..(*peer_cfg).clone()
        });
        let m = peer_cfg.scheme.m();
        let log: EventLog = Rc::new(RefCell::new(Vec::new()));
        let mut sim = Sim::new(SimConfig::new(s.seed, s.net));
        sim.reserve_nodes(total);
        if let Some(t) = s.topology {
            sim.set_topology(t, Duration::ZERO)?;
        }
        if let Some(churn) = s.churn {
            sim.set_churn(churn)?;
        }
        if !s.groups.is_empty() {
            sim.set_outage_groups(&s.groups)?;
        }
        let make = |me: NodeId, cfg: &Arc<Config>, warm: bool| {
            let kad = Kademlia::new(kcfg.clone(), ids.clone(), me);
            let mut node = StackNode::new(kad, Storage::new(cfg.clone(), me));
            node.warm = warm;
            node.placement = s.placement.clone();
            node.log = Some(log.clone());
            node.rows = s.rows;
            node
        };
        let mut peers = Vec::new();
        for i in 0..s.peers {
            peers.push(sim.add_node(make(NodeId(i as u32), &peer_cfg, true)));
        }
        let mut clients = Vec::new();
        for i in 0..s.clients {
            let me = NodeId((s.peers + i) as u32);
            clients.push(sim.add_stable_node(make(me, &client_cfg, true)));
        }
        // Warm tables over peers and clients.
        let sorted = SortedIds::new(&ids, peers.iter().chain(clients.iter()).copied());
        let now = sim.now();
        for &n in peers.iter().chain(clients.iter()) {
            let id = *ids.id(n);
            let node = sim.node_mut(n);
            sorted.fill(node.kad.table_mut(), &id, &mut rng, now);
        }
        let replaced = Rc::new(RefCell::new(Vec::new()));
        if s.spare > 0 {
            let boot: Vec<WireContact> = clients
                .iter()
                .map(|&c| WireContact {
                    node: c,
                    id: *ids.id(c),
                })
                .collect();
            let mut next = (s.peers + s.clients) as u32;
            let limit = total as u32;
            let rows = s.rows;
            let (kcfg, ids2, cfg, log2, placement, rep) = (
                kcfg.clone(),
                ids.clone(),
                peer_cfg.clone(),
                log.clone(),
                s.placement.clone(),
                replaced.clone(),
            );
            sim.set_replacement(move |_| {
                // Beyond the reserved ids the replacement reuses the last
                // one's id; tests size `spare` so that this never happens.
                let me = NodeId(next.min(limit - 1));
                next += 1;
                rep.borrow_mut().push(me);
                let kad = Kademlia::new(kcfg.clone(), ids2.clone(), me);
                let mut node = StackNode::new(kad, Storage::new(cfg.clone(), me));
                node.bootstrap = boot.clone();
                node.placement = placement.clone();
                node.log = Some(log2.clone());
                node.rows = rows;
                node
            });
        }
        // Start every node.
        sim.run(RunLimits::until(now + Duration(1)))?;
        Ok(Harness {
            sim,
            ids,
            log,
            peers,
            clients,
            replaced,
            ledger: Ledger::default(),
            applied: 0,
            keep_log,
            m,
            readable: BTreeMap::new(),
            samples: 0,
        })
    }

    /// Inject a storage request at node `from` now (ignored if it is down).
    pub fn request(&mut self, from: NodeId, c: Command) {
        self.sim.with_node(from, |node, cx| {
            node.on_request_now(cx, Request::Store(c));
        });
    }

    /// Run for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.sim.now() + d;
        self.sim.run(RunLimits::until(until)).expect("run");
        self.sync_ledger();
    }

    fn sync_ledger(&mut self) {
        let m = self.m;
        let mut log = self.log.borrow_mut();
        for (t, n, e) in &log[self.applied..] {
            self.ledger.apply(*t, *n, e, |_| m);
        }
        if self.keep_log {
            self.applied = log.len();
        } else {
            // Release the buffer too: a day of a long run can log millions
            // of events.
            *log = Vec::new();
            self.applied = 0;
        }
    }

    /// The ledger, up to date.
    pub fn ledger(&mut self) -> &Ledger {
        self.sync_ledger();
        &self.ledger
    }

    /// Sample availability now (global knowledge): every object not lost
    /// is readable if at least m distinct fragments are on nodes that are
    /// up. Returns the fraction of those objects readable now (None if
    /// there are none).
    pub fn sample_availability(&mut self) -> Option<f64> {
        self.sync_ledger();
        self.samples += 1;
        let (mut ok, mut all) = (0u64, 0u64);
        for (object, holders) in &self.ledger.holders {
            if self.ledger.lost_at.contains_key(object) {
                continue;
            }
            let need = self.ledger.need.get(object).copied().unwrap_or(1);
            let up: BTreeSet<u16> = holders
                .iter()
                .filter(|(n, _)| self.sim.is_up(**n))
                .map(|(_, i)| *i)
                .collect();
            let readable = up.len() as u16 >= need;
            let e = self.readable.entry(*object).or_default();
            e.0 += u64::from(readable);
            e.1 += 1;
            ok += u64::from(readable);
            all += 1;
        }
        (all > 0).then(|| ok as f64 / all as f64)
    }

    /// The run's headline numbers (see [`crate::report`]). Write and read
    /// figures come from the event log: with [`Setup::keep_log`] false they
    /// cover only the events not yet applied to the ledger.
    pub fn summary(&mut self) -> crate::report::Summary {
        self.sync_ledger();
        let mut s = crate::report::Summary::default();
        let written = s.add_ops(self.log.borrow().iter().map(|(_, _, e)| e));
        s.lost = written
            .iter()
            .filter(|o| self.ledger.lost_at.contains_key(*o))
            .count() as u64;
        s.samples = self.samples;
        let fractions: Vec<f64> = self
            .readable
            .values()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| *r as f64 / *n as f64)
            .collect();
        s.readable_fraction =
            (!fractions.is_empty()).then(|| fractions.iter().sum::<f64>() / fractions.len() as f64);
        s.repair = crate::RepairBytes::tally(self.sim.nodes().iter().map(|n| &n.store));
        s.repair_bytes_true_loss = s.repair.true_loss;
        s.repair_bytes_false_alarm = s.repair.false_alarm;
        s.repair_bytes_audit = s.repair.audit;
        let mut on_disk = 0u64;
        let mut logical: BTreeMap<ObjectId, u64> = BTreeMap::new();
        for n in self.sim.nodes() {
            on_disk += n.store.used();
            for (o, h) in n.store.disk() {
                logical.insert(*o, h.meta.stored_len);
            }
        }
        let logical: u64 = logical.values().sum();
        s.storage_overhead = (logical > 0).then(|| on_disk as f64 / logical as f64);
        let m = self.sim.metrics();
        s.placement = if m.counter("storage.placement_oracle") > 0 {
            "oracle"
        } else {
            "dht"
        };
        let bulk = m.counter("storage.write_bytes")
            + m.counter("storage.read_bytes")
            + m.counter("storage.repair_bytes");
        let peers = self.peers.len() + self.replaced.borrow().len();
        s.bulk_bytes_per_peer = (peers > 0).then(|| bulk as f64 / peers as f64);
        s
    }

    /// Storage events so far (time, node, event); with
    /// [`Setup::keep_log`] false, only those not yet applied to the ledger.
    pub fn events(&self) -> std::cell::Ref<'_, Vec<(Time, NodeId, Event)>> {
        self.log.borrow()
    }
}

impl StackNode {
    /// Handle a workload request now (for harnesses; the engine's workload
    /// driver calls [`sim_core::Node::on_request`]).
    pub fn on_request_now(&mut self, cx: &mut Cx<'_, Self>, req: Request) {
        <Self as Node>::on_request(self, cx, req);
    }
}
