//! The storage experiment (`[storage]`): P2P backup against data-center
//! storage.
//!
//! # The workload (the same on both sides)
//! Object `i` (`0..objects`) belongs to client `i mod clients`; its size is
//! drawn from `storage.size` with the scenario's seed, its content address
//! is synthetic ([`ObjectId::synthetic`]). Each client writes its objects
//! during the write phase (from the end of the warm-up, `write_phase`
//! long): its `j`-th of `c` objects at `(j + u) × write_phase / c` with
//! `u` uniform in [0, 1) from the client's own workload stream (workload
//! 0). From the end of the write phase to the end of the run each client
//! reads at `read_rate` per day (Poisson, workload 1), choosing the object
//! by Zipf popularity with exponent `zipf` over all objects (object 0 the
//! most popular). A client that is down when a request falls due does not
//! issue it (`delivered = false` in `requests.csv`, on both sides alike).
//!
//! # The P2P side
//! Every peer runs the stacked Kademlia + storage node
//! ([`::storage::StackNode`]) and offers `capacity` bytes; the clients are
//! the first `clients` peers. Objects are placed, maintained and repaired
//! by the protocol ([`::storage::protocol`]). With `churn.lifetime` on the
//! synthetic internet a departed peer (its disk lost) is replaced at once
//! by a newcomer with a new id at a new place, joining through 8 random
//! peers; spare hosts for newcomers are reserved after the site (the
//! expected number of departures plus ten standard deviations and 64).
//!
//! # The data-center side
//! Node `peers` is the site ([`datacenter::storage`]): every object on its
//! disks with its own redundancy (`datacenter.replicas` or `erasure`),
//! disks failing at `datacenter.afr` per drive-year and rebuilt in
//! `datacenter.rebuild_time`, site outages with `datacenter.mtbf` and
//! `mttr`, reached over the same topology through the site's link
//! (`datacenter.capacity`, shared by all transfers as flows). The peers
//! are its clients, with the same churn; departed peers are not replaced
//! (they issue no further requests on either side).
//!
//! # What is measured
//! Both sides record the same `storage_ops` rows, split into `reads.csv`
//! and `writes.csv`. Every `storage.sample_every` from the end of the
//! warm-up (and at the end) the experiment samples, with global knowledge,
//! each side's objects: written, readable now (P2P: at least m distinct
//! fragments on peers that are up; data center: the site up and the object
//! not lost), lost (P2P: fewer than m distinct fragments left on any disk;
//! data center: more of its fragments' disks failed at once than the scheme
//! survives), cumulative repair bytes (P2P: by cause, from what the nodes
//! observed, [`RepairBytes::tally`]; data center: its internal disk
//! rebuilds) and bytes on disks, into `over-time.csv`. `objects.csv` has
//! one row per object and side at the end. A lost object counts as not
//! readable from then on.

use super::{
    BuildError, Driver, Kind, Mapped, Outcome, Progress, bad, finish_in_memory, gateway_outages,
    kad_config, merge_tables, retry_policy, sample_times, site_outages, topology,
};
use crate::schema::{PlacementSpec, RepairSpec, Scenario, StorageSpec, TopologyKind};
use ::storage::harness::Ledger;
use ::storage::{
    Command, Config, EventLog, ObjectId, Placement, RepairBytes, RepairDelay, RepairPolicy,
    Request, Scheme, StackNode, Storage,
};
use datacenter::storage::{
    DcStoreMsg, DcStoreNode, DcStoreTimer, Rebuild, StoreClient, StoreClientConfig, StoreSite,
    StoreSiteConfig,
};
use kademlia::warm::SortedIds;
use kademlia::{IdTable, Kademlia, WireContact};
use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Zipf};
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

/// The stream object sizes are drawn from.
const SIZE_STREAM: Purpose = Purpose::Custom(5);
/// The stream of newcomers' bootstrap contacts.
const NEWCOMER_STREAM: Purpose = Purpose::Custom(6);
/// Most objects.
const OBJECTS_MAX: u32 = 10_000_000;
/// Most object-samples (objects × sampled instants), the sampling's cost.
const OBJECT_SAMPLES_MAX: f64 = 2e10;
/// The largest object.
const OBJECT_BYTES_MAX: u64 = 1 << 40;
/// Bootstrap contacts of a joining peer.
const BOOTSTRAP: u32 = 8;

/// One object of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Obj {
    /// Its content address.
    pub id: ObjectId,
    /// Plaintext bytes.
    pub len: u64,
    /// The client that writes it.
    pub owner: u32,
}

/// The request both systems serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Write object `object` (an index into the objects).
    Write {
        /// The object's index.
        object: u32,
    },
    /// Read object `object`.
    Read {
        /// The object's index.
        object: u32,
    },
}

impl Op {
    pub(crate) fn command(self, objs: &[Obj], tag: u64) -> Command {
        match self {
            Op::Write { object } => {
                let o = &objs[object as usize];
                Command::Write {
                    tag,
                    object: o.id,
                    len: o.len,
                }
            }
            Op::Read { object } => Command::Read {
                tag,
                object: objs[object as usize].id,
            },
        }
    }
}

// ------------------------------------------------------------------ sizes

/// `storage.size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeDist {
    /// Every object this size.
    Fixed(u64),
    /// Uniform in `[min, max]` bytes.
    Uniform(u64, u64),
    /// Log-normal with this median (bytes) and σ of the log.
    LogNormal(u64, f64),
}

fn bytes(v: &str) -> Result<u64, String> {
    v.trim()
        .parse::<Bytes>()
        .map(|b| b.0)
        .map_err(|e| format!("{:?}: {e}", crate::bounds::clip(v.trim(), 40)))
}

/// Parse `storage.size`.
pub fn parse_size(text: &str) -> Result<SizeDist, String> {
    let t = text.trim();
    let expected =
        "expected a size (\"4MiB\"), \"uniform(MIN, MAX)\" or \"lognormal(MEDIAN, SIGMA)\"";
    let args = |name: &str| -> Option<Vec<&str>> {
        t.strip_prefix(name)
            .and_then(|r| r.trim_start().strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .map(|r| r.split(',').collect())
    };
    let d = if let Some(a) = args("uniform") {
        let [lo, hi] = a[..] else {
            return Err(format!("uniform takes 2 values (MIN, MAX); {expected}"));
        };
        let (lo, hi) = (bytes(lo)?, bytes(hi)?);
        if lo > hi {
            return Err(format!("uniform({lo} B, {hi} B): MIN is above MAX"));
        }
        SizeDist::Uniform(lo, hi)
    } else if let Some(a) = args("lognormal") {
        let [median, sigma] = a[..] else {
            return Err(format!(
                "lognormal takes 2 values (MEDIAN, SIGMA); {expected}"
            ));
        };
        let median = bytes(median)?;
        let sigma: f64 = sigma
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && (0.0..=5.0).contains(s))
            .ok_or_else(|| {
                format!(
                    "lognormal SIGMA {:?}: expected a number from 0 to 5",
                    crate::bounds::clip(sigma.trim(), 40)
                )
            })?;
        SizeDist::LogNormal(median, sigma)
    } else {
        SizeDist::Fixed(bytes(t).map_err(|e| format!("{e}; {expected}"))?)
    };
    let least = match d {
        SizeDist::Fixed(b) | SizeDist::Uniform(b, _) | SizeDist::LogNormal(b, _) => b,
    };
    if least == 0 {
        return Err("objects of 0 bytes: expected at least 1B".into());
    }
    let most = match d {
        SizeDist::Fixed(b) | SizeDist::Uniform(_, b) | SizeDist::LogNormal(b, _) => b,
    };
    if most > OBJECT_BYTES_MAX {
        return Err(format!("objects above {OBJECT_BYTES_MAX} bytes (1TiB)"));
    }
    Ok(d)
}

/// The objects of `s`: sizes drawn in order from the size stream, owners
/// in turn.
pub fn objects(s: &Scenario, st: &StorageSpec, clients: u32) -> Result<Vec<Obj>, BuildError> {
    let dist = parse_size(&st.size).map_err(|e| bad("storage.size", e))?;
    let mut rng = node_rng(s.scenario.seed, SIZE_STREAM, 0, 0);
    let lognormal = match dist {
        SizeDist::LogNormal(median, sigma) => {
            Some(LogNormal::new((median as f64).ln(), sigma).map_err(|e| bad("storage.size", e))?)
        }
        _ => None,
    };
    let mut out = Vec::with_capacity(st.objects as usize);
    for i in 0..st.objects {
        let len = match dist {
            SizeDist::Fixed(b) => b,
            SizeDist::Uniform(lo, hi) => rng.random_range(lo..=hi),
            SizeDist::LogNormal(..) => {
                let x: f64 = lognormal.as_ref().expect("log-normal").sample(&mut rng);
                (x.round() as u64).clamp(1, OBJECT_BYTES_MAX)
            }
        };
        out.push(Obj {
            id: ObjectId::synthetic(s.scenario.seed, u64::from(i)),
            len,
            owner: i % clients.max(1),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- checks

pub(crate) fn spec(s: &Scenario) -> Result<&StorageSpec, BuildError> {
    s.storage
        .as_ref()
        .ok_or_else(|| bad("storage", "the storage experiment needs `[storage]`"))
}

/// `replicas` or `erasure` of a table (`key` its name), default 3 replicas.
fn scheme_of(
    key: &str,
    replicas: Option<u16>,
    erasure: &Option<String>,
) -> Result<Scheme, BuildError> {
    // `erasure = "none"` says "replicas", so that a sweep can compare the
    // two schemes on one key.
    let erasure = &erasure.clone().filter(|e| e.trim() != "none");
    let scheme = match (replicas, erasure) {
        (Some(_), Some(_)) => {
            return Err(bad(
                &format!("{key}.erasure"),
                format!("`{key}.replicas` and `{key}.erasure` are both set; choose one"),
            ));
        }
        (Some(r), None) => Scheme::Replicate { r },
        (None, None) => Scheme::Replicate { r: 3 },
        (None, Some(e)) => {
            let parsed = e
                .split_once("of")
                .and_then(|(m, n)| Some((m.trim().parse().ok()?, n.trim().parse().ok()?)));
            let Some((m, n)) = parsed else {
                return Err(bad(
                    &format!("{key}.erasure"),
                    format!(
                        "{:?}: expected \"MofN\", e.g. \"6of10\" (any 6 of 10 fragments rebuild the object), or \"none\" (replicas)",
                        crate::bounds::clip(e, 40)
                    ),
                ));
            };
            Scheme::Erasure { m, n }
        }
    };
    let which = if matches!(scheme, Scheme::Replicate { .. }) {
        "replicas"
    } else {
        "erasure"
    };
    scheme
        .validate()
        .map_err(|e| bad(&format!("{key}.{which}"), e))
}

/// The P2P side's storage configuration.
pub(crate) fn store_config(s: &Scenario, st: &StorageSpec) -> Result<Config, BuildError> {
    let scheme = scheme_of("storage", st.replicas, &st.erasure)?;
    let policy = match st.repair {
        RepairSpec::Eager => {
            if st.repair_threshold.is_some() {
                return Err(bad(
                    "storage.repair_threshold",
                    "only used with repair = \"lazy\"; remove it or set storage.repair = \"lazy\"",
                ));
            }
            RepairPolicy::Eager
        }
        RepairSpec::None => {
            if st.repair_threshold.is_some() {
                return Err(bad(
                    "storage.repair_threshold",
                    "only used with repair = \"lazy\"; remove it or set storage.repair = \"lazy\"",
                ));
            }
            RepairPolicy::None
        }
        RepairSpec::Lazy => RepairPolicy::Lazy {
            threshold: st.repair_threshold.ok_or_else(|| {
                bad(
                    "storage.repair_threshold",
                    format!(
                        "required with repair = \"lazy\": the number of live fragments below which an object is repaired, from m = {} to n = {}",
                        scheme.m(),
                        scheme.n()
                    ),
                )
            })?,
        },
    };
    let cfg = Config {
        scheme,
        encrypted: st.encryption,
        policy,
        repair_delay: RepairDelay::Fixed(st.repair_delay),
        detection_timeout: st.detection_timeout,
        heartbeat: st.heartbeat,
        audit_interval: st.audit_interval,
        capacity: st.capacity.0,
        key_bits: u16::try_from(s.kademlia.id_bits)
            .map_err(|_| bad("kademlia.id_bits", "too large"))?,
        ..Config::default()
    };
    cfg.validate().map_err(|e| {
        let key = match &e {
            ::storage::ConfigError::Scheme(_) => {
                if st.erasure.is_some() {
                    "storage.erasure"
                } else {
                    "storage.replicas"
                }
            }
            ::storage::ConfigError::Threshold { .. } => "storage.repair_threshold",
            ::storage::ConfigError::Zero(name) => match *name {
                "detection_timeout" => "storage.detection_timeout",
                "heartbeat" => "storage.heartbeat",
                "audit_interval" => "storage.audit_interval",
                _ => "storage",
            },
        };
        bad(key, e)
    })?;
    Ok(cfg)
}

/// The site's storage configuration.
pub(crate) fn site_config(s: &Scenario) -> Result<StoreSiteConfig, BuildError> {
    let d = &s.datacenter;
    let scheme = scheme_of("datacenter", d.replicas, &d.erasure)?;
    if !(d.afr.is_finite() && (0.0..=10.0).contains(&d.afr)) {
        return Err(bad(
            "datacenter.afr",
            format!(
                "{}: expected failures per drive-year from 0 to 10 (Backblaze 2024: 0.0157)",
                d.afr
            ),
        ));
    }
    if d.rebuild_time.0 == 0 {
        return Err(bad("datacenter.rebuild_time", "must be positive"));
    }
    let cfg = StoreSiteConfig {
        scheme,
        disks: d.disks,
        disk_capacity: d.disk_capacity.0,
        afr: d.afr,
        rebuild: Rebuild::Fixed(d.rebuild_time),
        distinct_disks: true,
    };
    cfg.validate().map_err(|e| {
        let key = if e.0.contains("disk") {
            "datacenter.disks"
        } else {
            "datacenter"
        };
        bad(key, e)
    })?;
    Ok(cfg)
}

/// The checks of `[storage]` that do not need the network.
pub(crate) fn check(s: &Scenario) -> Result<(), BuildError> {
    let st = spec(s)?;
    if st.objects == 0 || st.objects > OBJECTS_MAX {
        return Err(bad(
            "storage.objects",
            format!("{}: expected 1 to {OBJECTS_MAX}", st.objects),
        ));
    }
    parse_size(&st.size).map_err(|e| bad("storage.size", e))?;
    let cfg = store_config(s, st)?;
    site_config(s)?;
    if st.clients == Some(0) {
        return Err(bad("storage.clients", "at least one client is needed"));
    }
    if st.write_phase.0 == 0 {
        return Err(bad("storage.write_phase", "must be positive"));
    }
    if st.write_phase > s.scenario.duration {
        return Err(bad(
            "storage.write_phase",
            format!(
                "{} is longer than scenario.duration ({}): the objects are written within the measured period",
                st.write_phase, s.scenario.duration
            ),
        ));
    }
    if !(st.read_rate.is_finite() && st.read_rate >= 0.0) {
        return Err(bad(
            "storage.read_rate",
            format!(
                "{}: expected reads per client per day, 0 or more",
                st.read_rate
            ),
        ));
    }
    if !(st.zipf.is_finite() && (0.0..=10.0).contains(&st.zipf)) {
        return Err(bad(
            "storage.zipf",
            format!(
                "{}: expected a Zipf exponent from 0 (uniform) to 10",
                st.zipf
            ),
        ));
    }
    if st.sample_every < Duration::from_secs(60) {
        return Err(bad(
            "storage.sample_every",
            format!("{}: expected at least 1min", st.sample_every),
        ));
    }
    let samples = s.scenario.duration.0 as f64 / st.sample_every.0 as f64 + 2.0;
    if samples * f64::from(st.objects) > OBJECT_SAMPLES_MAX {
        return Err(bad(
            "storage.sample_every",
            format!(
                "{} objects sampled every {} for {} is about {:.0} object-samples; at most {OBJECT_SAMPLES_MAX:.0} are allowed (sample less often)",
                st.objects,
                st.sample_every,
                s.scenario.duration,
                samples * f64::from(st.objects)
            ),
        ));
    }
    for (key, d) in [
        ("storage.detection_timeout", st.detection_timeout),
        ("storage.heartbeat", st.heartbeat),
        ("storage.repair_delay", st.repair_delay),
    ] {
        crate::bounds::duration_max(key, d, Duration::from_secs(365 * 86_400), "a year at most")?;
    }
    // Placement asks the DHT for candidates: the lookup must return n
    // answered nodes.
    let n = u32::from(cfg.scheme.n());
    let k = &s.kademlia;
    if k.k < n {
        return Err(bad(
            "kademlia.k",
            format!(
                "{}: placement takes the k closest nodes to an object's key, and the scheme stores n = {n} fragments; set kademlia.k to at least {n}",
                k.k
            ),
        ));
    }
    if k.termination == "closest-answered" && k.termination_results < n {
        return Err(bad(
            "kademlia.termination_results",
            format!(
                "{}: placement needs n = {n} answered candidates, but a lookup that stops when its {} closest known nodes have answered returns fewer; set kademlia.termination = \"k-closest\" (the paper's rule) or kademlia.termination_results to at least {n}",
                k.termination_results, k.termination_results
            ),
        ));
    }
    retry_policy(s)?;
    Ok(())
}

/// The checks of `[storage]` that need the network's number of peers.
pub(crate) fn check_peers(s: &Scenario, peers: u32) -> Result<(), BuildError> {
    let st = spec(s)?;
    let clients = st.clients.unwrap_or(peers);
    if clients > peers {
        return Err(bad(
            "storage.clients",
            format!(
                "{clients} clients, but the network has only {peers} peers (clients are the first peers)"
            ),
        ));
    }
    let cfg = store_config(s, st)?;
    let n = u32::from(cfg.scheme.n());
    if n > peers {
        return Err(bad(
            if st.erasure.is_some() {
                "storage.erasure"
            } else {
                "storage.replicas"
            },
            format!(
                "{n} fragments per object on distinct peers, but the network has only {peers} peers"
            ),
        ));
    }
    let reads = st.read_rate * f64::from(clients) * s.scenario.duration.as_secs_f64() / 86_400.0;
    if reads + f64::from(st.objects) > crate::bounds::REQUESTS_MAX as f64 {
        return Err(bad(
            "storage.read_rate",
            format!(
                "{} reads per client per day from {clients} clients for {} make about {reads:.0} requests; at most {} are allowed",
                st.read_rate,
                s.scenario.duration,
                crate::bounds::REQUESTS_MAX
            ),
        ));
    }
    // The largest object must fit on one disk of either side.
    let objs = objects(s, st, clients)?;
    let site = site_config(s)?;
    if let Some(big) = objs.iter().max_by_key(|o| o.len) {
        let stored = ::storage::stored_len(big.len, st.encryption);
        let frag = cfg.scheme.fragment_len(stored);
        if frag > cfg.capacity {
            return Err(bad(
                "storage.capacity",
                format!(
                    "{}: the largest object ({} bytes) makes fragments of {frag} bytes, more than a peer's disk; raise storage.capacity or lower storage.size",
                    st.capacity, big.len
                ),
            ));
        }
        let site_frag = site.scheme.fragment_len(stored);
        if site_frag > site.disk_capacity {
            return Err(bad(
                "datacenter.disk_capacity",
                format!(
                    "{}: the largest object ({} bytes) makes fragments of {site_frag} bytes, more than one of the site's disks",
                    s.datacenter.disk_capacity, big.len
                ),
            ));
        }
    }
    Ok(())
}

// ------------------------------------------------------------- the nodes

/// A peer of the P2P side (or an inert slot: the site's place, or a
/// newcomer beyond the reserved hosts).
pub struct Household {
    node: Option<Box<StackNode>>,
    objs: Arc<Vec<Obj>>,
    next_tag: u64,
}

impl Node for Household {
    type Msg = ::storage::Msg;
    type Timer = ::storage::Tm;
    type Request = Op;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        if let Some(n) = &mut self.node {
            n.on_start(cx);
        }
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg) {
        if let Some(n) = &mut self.node {
            n.on_message(cx, from, msg);
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: Self::Timer) {
        if let Some(n) = &mut self.node {
            n.on_timer(cx, t);
        }
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Op) {
        self.next_tag += 1;
        let c = req.command(&self.objs, self.next_tag);
        if let Some(n) = &mut self.node {
            n.on_request(cx, Request::Store(c));
        }
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        if let Some(n) = &mut self.node {
            n.on_transfer(cx, id, outcome);
        }
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        if let Some(n) = &mut self.node {
            n.on_stop(cx, how);
        }
    }
}

impl Household {
    fn store(&self) -> Option<&Storage> {
        self.node.as_ref().map(|n| &n.store)
    }
}

/// A node of the data-center side: the site or a client.
pub struct Branch {
    node: DcStoreNode,
    objs: Arc<Vec<Obj>>,
    next_tag: u64,
}

impl Node for Branch {
    type Msg = DcStoreMsg;
    type Timer = DcStoreTimer;
    type Request = Op;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.node.on_start(cx);
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg) {
        self.node.on_message(cx, from, msg);
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: Self::Timer) {
        self.node.on_timer(cx, t);
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Op) {
        self.next_tag += 1;
        let c = req.command(&self.objs, self.next_tag);
        self.node.on_request(cx, c);
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        self.node.on_transfer(cx, id, outcome);
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        self.node.on_stop(cx, how);
    }
}

// -------------------------------------------------------------- workload

/// Each client's objects written evenly over the write phase, with a
/// random offset each.
struct Writes {
    /// Per client: its objects in order.
    owned: Vec<Vec<u32>>,
    /// Per client: the next of its objects.
    next: Vec<usize>,
    start: Time,
    phase: Duration,
}

impl Workload<Op> for Writes {
    fn next(&mut self, client: NodeId, now: Time, rng: &mut NodeRng) -> Option<(Duration, Op)> {
        let c = client.index();
        let mine = self.owned.get(c)?;
        let j = self.next[c];
        let object = *mine.get(j)?;
        self.next[c] += 1;
        let u: f64 = rng.random();
        let slot = self.phase.0 as f64 / mine.len() as f64;
        let at = self.start.0 + ((j as f64 + u) * slot) as u64;
        // At least 1 ns after now, so that requests advance.
        let gap = at.saturating_sub(now.0).max(1);
        Some((Duration(gap), Op::Write { object }))
    }
}

// ------------------------------------------------------------- sampling

/// One side's objects as the experiment sees them (global knowledge).
#[derive(Default)]
struct Tally {
    /// Objects written successfully.
    written: BTreeSet<u32>,
    /// Per object: (instants sampled readable, instants sampled).
    readable: Vec<(u64, u64)>,
    /// `over-time.csv` rows of this side.
    rows: String,
}

impl Tally {
    fn new(objects: usize) -> Tally {
        Tally {
            readable: vec![(0, 0); objects],
            ..Tally::default()
        }
    }

    /// Note a successful write among a side's events.
    fn note(&mut self, index: &BTreeMap<ObjectId, u32>, e: &::storage::Event) {
        if let ::storage::Event::Written {
            object,
            result: Ok(_),
            ..
        } = e
            && let Some(&i) = index.get(object)
        {
            self.written.insert(i);
        }
    }

    /// Sample every written object: `state` says whether it is lost, or
    /// else readable now. Returns (readable, lost).
    fn sample(&mut self, objs: &[Obj], mut state: impl FnMut(&ObjectId) -> Held) -> (u64, u64) {
        let (mut readable, mut lost) = (0u64, 0u64);
        for &i in &self.written {
            let ok = match state(&objs[i as usize].id) {
                Held::Lost => {
                    lost += 1;
                    false
                }
                Held::Readable(ok) => ok,
            };
            readable += u64::from(ok);
            let r = &mut self.readable[i as usize];
            r.0 += u64::from(ok);
            r.1 += 1;
        }
        (readable, lost)
    }
}

/// A written object at a sampled instant.
enum Held {
    /// Lost for good.
    Lost,
    /// Kept; readable now or not.
    Readable(bool),
}

/// Distinct fragments of `o` held by nodes for which `is_up` holds.
fn up_fragments(
    holders: &BTreeMap<ObjectId, BTreeMap<NodeId, u16>>,
    o: &ObjectId,
    is_up: &impl Fn(NodeId) -> bool,
) -> usize {
    let up: BTreeSet<u16> = holders
        .get(o)
        .into_iter()
        .flatten()
        .filter(|(n, _)| is_up(**n))
        .map(|(_, f)| *f)
        .collect();
    up.len()
}

/// Each object's index by id.
fn index_of(objs: &[Obj]) -> BTreeMap<ObjectId, u32> {
    objs.iter()
        .enumerate()
        .map(|(i, o)| (o.id, i as u32))
        .collect()
}

/// One `over-time.csv` row's figures.
struct Sample {
    peers_up: u64,
    readable: u64,
    lost: u64,
    repair: [u64; 3],
    stored: u64,
    logical: u64,
}

fn over_time_row(out: &mut String, system: &str, t: Time, peers: u32, written: usize, x: &Sample) {
    let _ = writeln!(
        out,
        "{system},{},{peers},{},{written},{},{},{},{},{},{},{}",
        t.0,
        x.peers_up,
        x.readable,
        x.lost,
        x.repair[0],
        x.repair[1],
        x.repair[2],
        x.stored,
        x.logical
    );
}

pub(crate) const OVER_TIME_HEADER: &str = "system,time_ns,peers,peers_up,objects_written,objects_readable,objects_lost,repair_bytes_true_loss,repair_bytes_false_alarm,repair_bytes_audit,stored_bytes,logical_bytes\n";
pub(crate) const OBJECTS_HEADER: &str = "system,object,owner,size_bytes,written,lost,lost_ns,fragments,fragments_up,readable_fraction\n";
const OPS_HEADER: &str =
    "node,object,start_ns,end_ns,latency_ns,ok,reason,bytes,fragments_found,fragments_needed";

fn hex(o: &ObjectId) -> String {
    o.0[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The stops of a side: (time, writes start, reads start, sample).
pub(crate) fn stops(s: &Scenario, st: &StorageSpec) -> Vec<(Time, bool, bool, bool)> {
    let start = Time(s.scenario.warmup.0);
    let write_end = start.saturating_add(st.write_phase);
    let end = start.saturating_add(s.scenario.duration);
    let mut at: BTreeMap<Time, (bool, bool, bool)> = BTreeMap::new();
    for t in sample_times(start, end, st.sample_every) {
        at.entry(t).or_default().2 = true;
    }
    at.entry(start).or_default().0 = true;
    if st.read_rate > 0.0 && write_end < end {
        at.entry(write_end).or_default().1 = true;
    }
    at.into_iter().map(|(t, (w, r, x))| (t, w, r, x)).collect()
}

/// Add the side's workloads due at this stop: the writes (workload 0 of
/// the storage experiment) and the reads (workload 1), in that order.
/// Returns which were added, in the order added.
pub(crate) fn add_workloads<N: Node>(
    sim: &mut Sim<N>,
    st: &StorageSpec,
    objs: &[Obj],
    clients: u32,
    (writes, reads): (bool, bool),
) -> Result<Vec<u16>, BuildError>
where
    N::Request: std::fmt::Debug + From<Op>,
{
    let mut added = Vec::new();
    let ids: Vec<NodeId> = (0..clients).map(NodeId).collect();
    if writes {
        let mut owned = vec![Vec::new(); clients as usize];
        for (i, o) in objs.iter().enumerate() {
            owned[o.owner as usize].push(i as u32);
        }
        let w = Writes {
            next: vec![0; clients as usize],
            owned,
            start: sim.now(),
            phase: st.write_phase,
        };
        sim.add_workload(&ids, Mapped::new(w))
            .map_err(|e| bad("storage", e))?;
        added.push(0);
    }
    if reads {
        let zipf = Zipf::new(objs.len() as f64, st.zipf).map_err(|e| bad("storage.zipf", e))?;
        let gap = Duration::from_secs_f64(86_400.0 / st.read_rate);
        let w = Poisson::new(gap, move |_: NodeId, rng: &mut NodeRng| {
            let k: f64 = zipf.sample(rng);
            Op::Read {
                object: (k as u32).saturating_sub(1),
            }
        })
        .map_err(|e| bad("storage.read_rate", e))?;
        sim.add_workload(&ids, Mapped::new(w))
            .map_err(|e| bad("storage", e))?;
        added.push(1);
    }
    Ok(added)
}

// ---------------------------------------------------------------- books

/// What the experiment knows of the P2P side's objects, with global
/// knowledge: where every fragment is (the ledger, fed by the nodes' disk
/// events), which objects were written, how often each was readable, and
/// the side's `over-time.csv` rows.
pub(crate) struct P2pBook {
    objs: Arc<Vec<Obj>>,
    index: BTreeMap<ObjectId, u32>,
    log: EventLog,
    ledger: Ledger,
    tally: Tally,
    scheme: Scheme,
    encryption: bool,
    /// Peer slots `0..peers`; slot `peers` is the site's place.
    peers: u32,
}

impl P2pBook {
    pub(crate) fn new(
        objs: Arc<Vec<Obj>>,
        log: EventLog,
        scheme: Scheme,
        encryption: bool,
        peers: u32,
    ) -> P2pBook {
        P2pBook {
            index: index_of(&objs),
            tally: Tally::new(objs.len()),
            objs,
            log,
            ledger: Ledger::default(),
            scheme,
            encryption,
            peers,
        }
    }

    /// Distinct fragments of `o` held by nodes for which `is_up` holds.
    fn up_fragments(&self, o: &ObjectId, is_up: &impl Fn(NodeId) -> bool) -> usize {
        up_fragments(&self.ledger.holders, o, is_up)
    }

    /// Take in the events logged since the last sample and sample the
    /// objects at `t`: `slots` node slots, `is_up` global knowledge,
    /// `stores` every live storage machine (for the repair bytes). Returns
    /// the bytes on disks and the bytes of user data kept.
    pub(crate) fn sample<'a>(
        &mut self,
        t: Time,
        slots: u32,
        is_up: impl Fn(NodeId) -> bool,
        stores: impl Iterator<Item = &'a Storage> + Clone,
    ) -> (u64, u64) {
        let m = self.scheme.m();
        for (t, n, e) in self.log.borrow_mut().drain(..) {
            self.tally.note(&self.index, &e);
            self.ledger.apply(t, n, &e, |_| m);
        }
        let (ledger, holders) = (&self.ledger, &self.ledger.holders);
        let (readable, lost) = self.tally.sample(&self.objs, |o| {
            if ledger.lost_at.contains_key(o) {
                Held::Lost
            } else {
                Held::Readable(up_fragments(holders, o, &is_up) >= usize::from(m))
            }
        });
        let rb = RepairBytes::tally(stores);
        let (mut stored, mut logical) = (0u64, 0u64);
        for (o, h) in &self.ledger.holders {
            let Some(&i) = self.index.get(o) else {
                continue;
            };
            let len = ::storage::stored_len(self.objs[i as usize].len, self.encryption);
            stored += h.len() as u64 * self.scheme.fragment_len(len);
            if !self.ledger.lost_at.contains_key(o) && !h.is_empty() {
                logical += len;
            }
        }
        let peers_up = (0..slots)
            .filter(|&n| n != self.peers && is_up(NodeId(n)))
            .count() as u64;
        over_time_row(
            &mut self.tally.rows,
            "p2p",
            t,
            self.peers,
            self.tally.written.len(),
            &Sample {
                peers_up,
                readable,
                lost,
                repair: [rb.true_loss, rb.false_alarm, rb.audit],
                stored,
                logical,
            },
        );
        (stored, logical)
    }

    /// The side's `objects.csv` rows at the end.
    pub(crate) fn objects(&self, out: &mut String, is_up: impl Fn(NodeId) -> bool) {
        for (i, o) in self.objs.iter().enumerate() {
            let written = self.tally.written.contains(&(i as u32));
            let lost_at = self.ledger.lost_at.get(&o.id).filter(|_| written);
            let holders = self.ledger.holders.get(&o.id);
            let frags: BTreeSet<u16> = holders.into_iter().flatten().map(|(_, f)| *f).collect();
            object_row(
                out,
                "p2p",
                o,
                written,
                lost_at.copied(),
                (frags.len(), self.up_fragments(&o.id, &is_up)),
                self.tally.readable[i],
            );
        }
    }

    /// The `over-time.csv` rows so far (taken).
    pub(crate) fn take_rows(&mut self) -> String {
        std::mem::take(&mut self.tally.rows)
    }
}

/// What the experiment knows of the data-center side's objects: which were
/// written (from the clients' events), how often each was readable, and
/// the side's `over-time.csv` rows.
pub(crate) struct DcBook {
    objs: Arc<Vec<Obj>>,
    index: BTreeMap<ObjectId, u32>,
    log: EventLog,
    tally: Tally,
    peers: u32,
}

impl DcBook {
    pub(crate) fn new(objs: Arc<Vec<Obj>>, log: EventLog, peers: u32) -> DcBook {
        DcBook {
            index: index_of(&objs),
            tally: Tally::new(objs.len()),
            objs,
            log,
            peers,
        }
    }

    /// Take in the clients' events and sample the objects at `t`. Returns
    /// the bytes on disks and the bytes of user data kept.
    pub(crate) fn sample(
        &mut self,
        t: Time,
        sref: &StoreSite,
        site_up: bool,
        peers_up: u64,
    ) -> (u64, u64) {
        for (_, _, e) in self.log.borrow_mut().drain(..) {
            self.tally.note(&self.index, &e);
        }
        let (readable, lost) = self.tally.sample(&self.objs, |o| {
            if sref.lost().contains_key(o) {
                Held::Lost
            } else {
                Held::Readable(site_up && sref.holds(o))
            }
        });
        over_time_row(
            &mut self.tally.rows,
            "datacenter",
            t,
            self.peers,
            self.tally.written.len(),
            &Sample {
                peers_up,
                readable,
                lost,
                repair: [sref.rebuild_bytes(), 0, 0],
                stored: sref.bytes_on_disks(),
                logical: sref.logical_bytes(),
            },
        );
        (sref.bytes_on_disks(), sref.logical_bytes())
    }

    /// The side's `objects.csv` rows at the end.
    pub(crate) fn objects(&self, out: &mut String, sref: &StoreSite, site_up: bool) {
        let frags = sref.config().scheme.n();
        for (i, o) in self.objs.iter().enumerate() {
            let written = self.tally.written.contains(&(i as u32));
            let lost_at = sref.lost().get(&o.id).filter(|_| written).copied();
            let held = sref.holds(&o.id);
            let n = if held { usize::from(frags) } else { 0 };
            let n_up = if held && site_up { n } else { 0 };
            object_row(
                out,
                "datacenter",
                o,
                written,
                lost_at,
                (n, n_up),
                self.tally.readable[i],
            );
        }
    }

    /// The `over-time.csv` rows so far (taken).
    pub(crate) fn take_rows(&mut self) -> String {
        std::mem::take(&mut self.tally.rows)
    }
}

// ------------------------------------------------------------------- run

/// Spare hosts for newcomers: the expected number of departures over the
/// run plus ten standard deviations and 64 (departures of the peers and of
/// their replacements form a Poisson process of rate peers / lifetime).
fn spares(s: &Scenario, peers: u32) -> u32 {
    let Some(lifetime) = s.churn.as_ref().and_then(|c| c.lifetime) else {
        return 0;
    };
    if s.topology.kind != TopologyKind::Internet {
        return 0;
    }
    let run = s.scenario.warmup.0.saturating_add(s.scenario.duration.0) as f64;
    let expected = f64::from(peers) * run / lifetime.0 as f64;
    (expected + 10.0 * expected.sqrt() + 64.0).min(f64::from(u32::MAX / 2)) as u32
}

/// Run both sides of the storage experiment.
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
) -> Result<Outcome, BuildError> {
    let st = spec(s)?;
    let start = Time(s.scenario.warmup.0);
    let end = start.saturating_add(s.scenario.duration);
    let mut info = String::from("side,key,value\n");
    let mut progress = progress;

    // ---------------------------------------------------------------- P2P
    let peers = super::topology_peers(s)?;
    let built = topology(s, spares(s, peers))?;
    crate::bounds::check_peers(s, built.peers)?;
    check_peers(s, built.peers)?;
    let churn = crate::churn::prepare(s, built.peers)?;
    let clients = st.clients.unwrap_or(built.peers);
    let objs = Arc::new(objects(s, st, clients)?);
    let label = built.label.clone();
    let kcfg = Arc::new(kad_config(s)?);
    let scfg = Arc::new(store_config(s, st)?);
    let scheme = scfg.scheme;
    let mut sc = SimConfig::new(
        s.scenario.seed,
        SimpleNet::constant(Duration::ZERO, s.access.uplink),
    );
    sc.sample_every = Some(s.output.sample_every);
    sc.log_requests = true;
    let mut p2p: Sim<Household> = Sim::new(sc.clone());
    p2p.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        p2p.set_churn(c.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    let gw_out = gateway_outages(&mut p2p, s, &built.gateways)?;
    let total = built.peers + 1 + built.spares;
    let mut id_rng = node_rng(s.scenario.seed, Purpose::Custom(1), 0, 0);
    let ids = Arc::new(IdTable::random(total as usize, kcfg.key_bits, &mut id_rng));
    let log: EventLog = Rc::new(RefCell::new(Vec::new()));
    let placement = match st.placement {
        PlacementSpec::Dht => Placement::Dht,
        PlacementSpec::Oracle => Placement::Oracle,
    };
    let warm = s.kademlia.start == "warm";
    let make = {
        let (kcfg, scfg, ids, log, objs, placement) = (
            kcfg.clone(),
            scfg.clone(),
            ids.clone(),
            log.clone(),
            objs.clone(),
            placement.clone(),
        );
        move |me: NodeId, bootstrap: Vec<WireContact>, warm: bool| {
            let kad = Kademlia::new(kcfg.clone(), ids.clone(), me);
            let mut node = StackNode::new(kad, Storage::new(scfg.clone(), me));
            node.bootstrap = bootstrap;
            node.warm = warm;
            node.placement = placement.clone();
            node.log = Some(log.clone());
            node.rows = true;
            Household {
                node: Some(Box::new(node)),
                objs: objs.clone(),
                next_tag: 0,
            }
        }
    };
    let contact = |n: u32| WireContact {
        node: NodeId(n),
        id: *ids.id(NodeId(n)),
    };
    let mut boot_rng = node_rng(s.scenario.seed, Purpose::Custom(2), 0, 0);
    p2p.reserve_nodes(total as usize);
    let sorted = warm.then(|| SortedIds::new(&ids, (0..built.peers).map(NodeId)));
    for i in 0..built.peers {
        let mut boot = Vec::new();
        for _ in 0..BOOTSTRAP.min(built.peers - 1) {
            let mut b = boot_rng.random_range(0..built.peers - 1);
            if b >= i {
                b += 1;
            }
            boot.push(contact(b));
        }
        let mut h = make(NodeId(i), boot, warm);
        if let (Some(sorted), Some(n)) = (&sorted, &mut h.node) {
            let id = *ids.id(NodeId(i));
            sorted.fill(n.kad.table_mut(), &id, &mut boot_rng, Time::ZERO);
        }
        p2p.add_node(h);
    }
    // The site's place: no peer.
    p2p.add_node_stopped(Household {
        node: None,
        objs: objs.clone(),
        next_tag: 0,
    });
    let overflow = Rc::new(Cell::new(0u64));
    if built.spares > 0 {
        let mut next = built.peers + 1;
        let limit = total;
        let peers_n = built.peers;
        let mut rng = node_rng(s.scenario.seed, NEWCOMER_STREAM, 0, 0);
        let ids2 = ids.clone();
        let objs2 = objs.clone();
        let over = overflow.clone();
        p2p.set_replacement(move |_| {
            let me = next;
            next += 1;
            if me >= limit {
                over.set(over.get() + 1);
                return Household {
                    node: None,
                    objs: objs2.clone(),
                    next_tag: 0,
                };
            }
            // Joins through 8 random peer slots (some may have departed or
            // be down: the join retries).
            let boot = (0..BOOTSTRAP.min(peers_n))
                .map(|_| {
                    let b = rng.random_range(0..peers_n);
                    WireContact {
                        node: NodeId(b),
                        id: *ids2.id(NodeId(b)),
                    }
                })
                .collect();
            make(NodeId(me), boot, false)
        });
    }
    let mut book = P2pBook::new(
        objs.clone(),
        log.clone(),
        scheme,
        st.encryption,
        built.peers,
    );
    let mut d = Driver::new("P2P", end, abort_after, &mut progress);
    let mut aborted = d.run_sliced(&mut p2p, start, 20)?;
    if !aborted {
        for (t, writes, reads, sample) in stops(s, st) {
            if d.run_to(&mut p2p, t)? {
                aborted = true;
                break;
            }
            add_workloads(&mut p2p, st, &objs, clients, (writes, reads))?;
            if !sample {
                continue;
            }
            let nodes = p2p.nodes();
            book.sample(
                t,
                nodes.len() as u32,
                |n| p2p.is_up(n),
                nodes.iter().filter_map(Household::store),
            );
        }
    }
    let p2p_files = finish_in_memory(&mut p2p, "p2p", &mut info)?;
    if aborted {
        return Ok(Outcome {
            part_notes: None,
            files: BTreeMap::new(),
            run_info: info,
            topology: label,
            churn: String::new(),
            notes: String::new(),
            kind: Kind::Storage,
            aborted: true,
        });
    }
    if overflow.get() > 0 {
        return Err(bad(
            "churn.lifetime",
            format!(
                "{} departed peers found no spare host to be replaced by (the run reserved {}); please report this scenario",
                overflow.get(),
                built.spares
            ),
        ));
    }
    let mut objects_csv = String::from(OBJECTS_HEADER);
    book.objects(&mut objects_csv, |n| p2p.is_up(n));
    let placement_note = if p2p.metrics().counter("storage.placement_oracle") > 0 {
        " **Placement came from global knowledge (`storage.placement = \"oracle\"`), not from DHT lookups**: the P2P side's figures are those of an idealised placement."
    } else {
        " Placement by Kademlia lookups (the k closest nodes to each object's key)."
    };
    let p2p_over = book.take_rows();
    drop(p2p);

    // ----------------------------------------------------------- baseline
    let built = topology(s, spares(s, peers))?;
    let mut dc: Sim<Branch> = Sim::new(sc);
    dc.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        dc.set_churn(c.model.clone()).map_err(|e| bad("churn", e))?;
    }
    site_outages(&mut dc, s, built.site)?;
    gateway_outages(&mut dc, s, &built.gateways)?;
    let site = NodeId(built.site);
    let (timeout, retries) = retry_policy(s)?;
    let ccfg = StoreClientConfig {
        attempt_timeout: timeout,
        retries,
        transfer_timeout: scfg.op_timeout,
        encrypted: st.encryption,
    };
    let dlog: EventLog = Rc::new(RefCell::new(Vec::new()));
    dc.reserve_nodes(built.peers as usize + 1);
    for _ in 0..built.peers {
        let mut c = StoreClient::new(site, ccfg);
        c.keep = false;
        c.rows = true;
        c.log = Some(dlog.clone());
        dc.add_node(Branch {
            node: DcStoreNode::Client(c),
            objs: objs.clone(),
            next_tag: 0,
        });
    }
    let mut st_site = StoreSite::new(site_config(s)?);
    st_site.rows = true;
    dc.add_stable_node(Branch {
        node: DcStoreNode::Site(st_site),
        objs: objs.clone(),
        next_tag: 0,
    });
    let mut dbook = DcBook::new(objs.clone(), dlog.clone(), built.peers);
    let mut d = Driver::new("data center", end, None, &mut progress);
    d.run_sliced(&mut dc, start, 20)?;
    for (t, writes, reads, sample) in stops(s, st) {
        d.run_to(&mut dc, t)?;
        add_workloads(&mut dc, st, &objs, clients, (writes, reads))?;
        if !sample {
            continue;
        }
        let sref = dc.node(site).node.site().expect("the site");
        let peers_up = (0..built.peers).filter(|&n| dc.is_up(NodeId(n))).count() as u64;
        dbook.sample(t, sref, dc.is_up(site), peers_up);
    }
    let dc_files = finish_in_memory(&mut dc, "datacenter", &mut info)?;
    let sref = dc.node(site).node.site().expect("the site");
    dbook.objects(&mut objects_csv, sref, dc.is_up(site));

    // ------------------------------------------------------------ outputs
    let mut files = BTreeMap::new();
    files.insert(
        "requests.csv".to_string(),
        merge_tables(
            &p2p_files,
            &dc_files,
            "requests.csv",
            "time_ns,workload,client,seq,delivered,request",
        ),
    );
    let (reads, writes) = split_ops(&p2p_files, &dc_files);
    files.insert("reads.csv".to_string(), reads.into_bytes());
    files.insert("writes.csv".to_string(), writes.into_bytes());
    files.insert("objects.csv".to_string(), objects_csv.into_bytes());
    let over = format!("{OVER_TIME_HEADER}{p2p_over}{}", dbook.take_rows());
    files.insert("over-time.csv".to_string(), over.into_bytes());
    for (side, side_files) in [("p2p", p2p_files), ("datacenter", dc_files)] {
        for (name, bytes) in side_files {
            if name != "storage_ops.csv" && name != "requests.csv" {
                files.insert(format!("{side}/{name}"), bytes);
            }
        }
    }
    let churn_note = churn.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    Ok(Outcome {
        part_notes: None,
        notes: gw_out.report(
            s,
            notes(s, st, clients, &scfg, built.spares > 0, &churn_note) + placement_note,
            &mut files,
        ),
        files: super::as_outputs(files),
        run_info: info,
        topology: label,
        churn: churn_note,
        kind: Kind::Storage,
        aborted: false,
    })
}

fn object_row(
    out: &mut String,
    system: &str,
    o: &Obj,
    written: bool,
    lost_at: Option<Time>,
    (frags, up): (usize, usize),
    (ok, n): (u64, u64),
) {
    let fraction = if n > 0 {
        format!("{:.6}", ok as f64 / n as f64)
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{system},{},{},{},{written},{},{},{frags},{up},{fraction}",
        hex(&o.id),
        o.owner,
        o.len,
        lost_at.is_some(),
        lost_at.map_or(String::new(), |t| t.0.to_string()),
    );
}

/// `reads.csv` and `writes.csv` from both sides' `storage_ops` tables:
/// the rows of each operation, the `op` column dropped, a `system` column
/// first.
pub(crate) fn split_ops(
    p2p: &BTreeMap<String, Vec<u8>>,
    dc: &BTreeMap<String, Vec<u8>>,
) -> (String, String) {
    let mut reads = format!("system,{OPS_HEADER}\n");
    let mut writes = reads.clone();
    for (system, files) in [("p2p", p2p), ("datacenter", dc)] {
        let Some(bytes) = files.get("storage_ops.csv") else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines().skip(1) {
            // node,op,rest
            let mut parts = line.splitn(3, ',');
            let (Some(node), Some(op), Some(rest)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let out = match op {
                "read" => &mut reads,
                "write" => &mut writes,
                _ => continue,
            };
            let _ = writeln!(out, "{system},{node},{rest}");
        }
    }
    (reads, writes)
}

/// The report's paragraph on what ran.
pub(crate) fn notes(
    s: &Scenario,
    st: &StorageSpec,
    clients: u32,
    cfg: &Config,
    replaced: bool,
    churn: &str,
) -> String {
    let scheme = |sc: Scheme| match sc {
        Scheme::Replicate { r } => format!("{r} replicas"),
        Scheme::Erasure { m, n } => format!("{m}-of-{n} erasure-coded fragments"),
    };
    let repair = match cfg.policy {
        RepairPolicy::Eager => "eager repair".to_string(),
        RepairPolicy::Lazy { threshold } => {
            format!("lazy repair below {threshold} live fragments")
        }
        RepairPolicy::None => "no repair".to_string(),
    };
    let audits = st
        .audit_interval
        .map_or("no audits".to_string(), |a| format!("audits every {a}"));
    let reads = if st.read_rate > 0.0 {
        format!(
            "then {} reads per client per day (Zipf popularity, exponent {})",
            st.read_rate, st.zipf
        )
    } else {
        "then no reads".to_string()
    };
    let d = &s.datacenter;
    let site = site_config(s).map(|c| scheme(c.scheme)).unwrap_or_default();
    let outages = match d.mtbf {
        Some(m) => format!(
            "site outages every {m} on average, lasting {} on average",
            d.mttr
        ),
        None => "no site outages".to_string(),
    };
    let churn = if churn.is_empty() {
        String::new()
    } else {
        format!(" {churn}")
    };
    let departures = match s.churn.as_ref().and_then(|c| c.lifetime) {
        Some(l) if replaced => format!(
            " Peers depart for good after {l} on average (their disks lost), each replaced at once by a newcomer."
        ),
        Some(l) => {
            format!(" Peers depart for good after {l} on average (their disks lost), not replaced.")
        }
        None => String::new(),
    };
    let warm = if s.kademlia.start == "warm" {
        " Routing tables were built from global knowledge (**warm start**), not by joins; newcomers join."
    } else {
        ""
    };
    format!(
        "Warm-up {}.{warm} {} objects ({}) from {clients} households, written over {} after the warm-up, {reads}, until {} after the warm-up.{churn}{departures} P2P: every peer offers {} of disk; {}, {repair}, failure detection after {} of silence, heartbeats every {}, {audits}, client-side encryption {}. Data center: one site, {} disks of {}, {site} inside, disks failing at {} per drive-year (Backblaze, 2024) and rebuilt in {}, {outages}; its link {}; clients wait {} per attempt, retry up to {} times.",
        s.scenario.warmup,
        st.objects,
        st.size,
        st.write_phase,
        s.scenario.duration,
        st.capacity,
        scheme(cfg.scheme),
        cfg.detection_timeout,
        cfg.heartbeat,
        if st.encryption { "on" } else { "off" },
        d.disks,
        d.disk_capacity,
        d.afr,
        d.rebuild_time,
        d.capacity,
        d.attempt_timeout,
        d.retries,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_clear_errors() {
        assert_eq!(parse_size("4MiB"), Ok(SizeDist::Fixed(4 << 20)));
        assert_eq!(
            parse_size("uniform(1KiB, 2KiB)"),
            Ok(SizeDist::Uniform(1024, 2048))
        );
        assert_eq!(
            parse_size(" lognormal(1MiB, 1.5) "),
            Ok(SizeDist::LogNormal(1 << 20, 1.5))
        );
        for (bad, says) in [
            ("uniform(2KiB, 1KiB)", "MIN is above MAX"),
            ("uniform(1KiB)", "2 values"),
            ("lognormal(1MiB, x)", "SIGMA"),
            ("0B", "at least 1B"),
            ("many", "expected a size"),
            ("2TiB", "1TiB"),
        ] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn sample_times_cover_the_run_and_end_at_its_end() {
        let v = sample_times(Time(10), Time(35), Duration(10));
        assert_eq!(v, vec![Time(10), Time(20), Time(30), Time(35)]);
        let v = sample_times(Time(10), Time(30), Duration(10));
        assert_eq!(v, vec![Time(10), Time(20), Time(30)]);
    }

    #[test]
    fn erasure_is_written_m_of_n() {
        assert_eq!(
            scheme_of("storage", None, &Some("6of10".into())).unwrap(),
            Scheme::Erasure { m: 6, n: 10 }
        );
        let e = scheme_of("storage", None, &Some("10of6".into())).unwrap_err();
        assert_eq!(e.field, "storage.erasure");
        let e = scheme_of("storage", None, &Some("six of ten".into())).unwrap_err();
        assert!(e.message.contains("MofN"), "{}", e.message);
        let e = scheme_of("storage", Some(3), &Some("6of10".into())).unwrap_err();
        assert!(e.message.contains("both set"), "{}", e.message);
    }
}
