//! The flagship experiment: a scenario with `[workload]`, `[storage]` and
//! `[compute]` together runs all three on one network, every home running
//! the DHT, storage and the job scheduler at once, against a data center
//! that serves the same clients the same requests through the mesh's
//! gateways.
//!
//! # The P2P side
//! Every peer is a [`Home`]: one node whose message type wraps the layers'
//! ([`HomeMsg`]) and whose timers wrap theirs ([`HomeTimer`]). Its layers
//! are the stacked Kademlia + storage node ([`::storage::StackNode`]:
//! storage asks the DHT for placements, explicitly) and the job scheduler
//! ([`jobs::JobsNode`]) beside it. The layers share the home's links, its
//! up and down times, and its random stream.
//!
//! # The data-center side
//! The site is an [`Office`]: the directory, the storage site and the
//! compute site in one node behind the site's link; every peer is an
//! `Office` client of the three. Site outages take all three down.
//!
//! # The workload
//! Each part's workload is the one its own experiment defines (see the
//! lookup, storage and compute experiments): lookups of random keys from
//! the first `workload.clients` peers, the objects written and read by the
//! first `storage.clients` peers, the jobs submitted by the first
//! `compute.clients` peers. The engine numbers workloads in the order they
//! are added — storage's writes, the lookups, the jobs, then storage's
//! reads when the write phase ends — and each draws from its own stream,
//! so a part's requests follow the same law as in its own experiment, but
//! are not the same draws. Both sides get the same requests. Homes that
//! depart for good (`churn.lifetime`) are not replaced: their disks are
//! lost.
//!
//! # What is written
//! `lookups/`, `storage/` and `compute/` each hold the files of that
//! experiment (its `requests.csv` holds that part's requests, workloads
//! numbered as in that experiment), so each part has its own report;
//! `gateways.csv` samples the bytes every gateway link has carried;
//! `cost.csv` is the cost and energy model ([`analysis::cost`]) applied to
//! what each side used between the end of the warm-up and the end; `p2p/`
//! and `datacenter/` hold each side's counters, histograms and time series
//! (copied into each part, whose report reads them).

use super::compute::{self as cexp, Tally as CpuTally};
use super::lookup::{self as lexp, Lookup};
use super::storage::{self as sexp, DcBook, Obj, Op, P2pBook};
use super::{
    BuildError, Driver, Kind, Mapped, Outcome, Progress, bad, finish_in_memory, kad_config,
    merge_tables, retry_policy, sample_times, site_outages, topology,
};
use crate::schema::{Scenario, TopologyKind};
use analysis::cost::{DcUsage, P2pUsage, Services};
use datacenter::compute::{
    ComputeClient, ComputeClientConfig, ComputeSite, DcComputeMsg, DcComputeNode, DcComputeTimer,
};
use datacenter::storage::{
    DcStoreMsg, DcStoreNode, DcStoreTimer, StoreClient, StoreClientConfig, StoreSite,
};
use datacenter::{Client, DcNode, DirMsg, DirOp, DirTimer, Site, SiteConfig};
use kademlia::{Command as KadCommand, IdTable, Kademlia, Key, Observe, WireContact};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::node::class;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use sim_core::{Context, Layer};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

/// Bootstrap contacts of a joining peer.
const BOOTSTRAP: u32 = 8;
/// Nanoseconds in an hour.
const NS_PER_HOUR: f64 = 3.6e12;
/// Seconds in a month of 730 hours (the cost model's month).
const NS_PER_MONTH: f64 = 730.0 * NS_PER_HOUR;

// ------------------------------------------------------------- requests

/// A request of any part's workload.
#[derive(Clone)]
pub enum Req {
    /// A DHT lookup (directory lookup on the data-center side).
    Lookup(Lookup),
    /// A storage operation.
    Store(Op),
    /// A job submission.
    Job(jobs::Command),
}

// `requests.csv` shows the part's own request, as its experiment does.
impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Req::Lookup(r) => r.fmt(f),
            Req::Store(r) => r.fmt(f),
            Req::Job(r) => r.fmt(f),
        }
    }
}

impl From<Lookup> for Req {
    fn from(r: Lookup) -> Req {
        Req::Lookup(r)
    }
}
impl From<Op> for Req {
    fn from(r: Op) -> Req {
        Req::Store(r)
    }
}
impl From<jobs::Command> for Req {
    fn from(r: jobs::Command) -> Req {
        Req::Job(r)
    }
}

// ------------------------------------------------------------- the homes

/// A message of a home's layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HomeMsg {
    /// The DHT and storage.
    Stack(::storage::Msg),
    /// The job scheduler.
    Jobs(jobs::Msg),
}

impl From<::storage::Msg> for HomeMsg {
    fn from(m: ::storage::Msg) -> HomeMsg {
        HomeMsg::Stack(m)
    }
}
impl From<jobs::Msg> for HomeMsg {
    fn from(m: jobs::Msg) -> HomeMsg {
        HomeMsg::Jobs(m)
    }
}

impl Message for HomeMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            HomeMsg::Stack(m) => m.phantom_len(),
            HomeMsg::Jobs(m) => m.phantom_len(),
        }
    }
    fn wire_size(&self) -> u64 {
        // One byte of variant tag, then the layer's own encoding.
        match self {
            HomeMsg::Stack(m) => 1 + m.wire_size(),
            HomeMsg::Jobs(m) => 1 + m.wire_size(),
        }
    }
    /// By service, for the cost model: the DHT's messages (lookups, and
    /// the placement lookups storage asks for) are control traffic;
    /// storage's own messages are storage traffic (repair kept apart); the
    /// scheduler's, compute traffic.
    fn class(&self) -> u8 {
        match self {
            HomeMsg::Stack(::storage::Msg::Kad(_)) => class::CONTROL,
            HomeMsg::Stack(m @ ::storage::Msg::Store(_)) if m.class() == class::REPAIR => {
                class::REPAIR
            }
            HomeMsg::Stack(_) => class::STORAGE,
            HomeMsg::Jobs(_) => class::COMPUTE,
        }
    }
}

/// A timer of a home's layers.
#[derive(Debug, Clone, Copy)]
pub enum HomeTimer {
    /// The DHT and storage.
    Stack(::storage::Tm),
    /// The job scheduler.
    Jobs(jobs::Timer),
}

impl From<::storage::Tm> for HomeTimer {
    fn from(t: ::storage::Tm) -> HomeTimer {
        HomeTimer::Stack(t)
    }
}
impl From<jobs::Timer> for HomeTimer {
    fn from(t: jobs::Timer) -> HomeTimer {
        HomeTimer::Jobs(t)
    }
}

/// A home's layers.
pub struct Layers {
    /// Kademlia and storage.
    pub stack: ::storage::StackNode,
    /// The job scheduler.
    pub jobs: jobs::JobsNode,
}

/// A peer of the P2P side, or an empty slot (the site's place).
pub struct Home {
    layers: Option<Box<Layers>>,
    objs: Arc<Vec<Obj>>,
    key_bits: u16,
    next_tag: u64,
    since: Option<Time>,
    up: Duration,
}

impl Home {
    /// Up time until `now`.
    fn up_to(&self, now: Time) -> Duration {
        let current = self.since.map_or(Duration::ZERO, |s| now.since(s));
        self.up.saturating_add(current)
    }
}

impl Node for Home {
    type Msg = HomeMsg;
    type Timer = HomeTimer;
    type Request = Req;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.since = Some(cx.now());
        if let Some(l) = &mut self.layers {
            l.stack.start(cx);
            l.jobs.start(cx);
        }
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: HomeMsg) {
        if let Some(l) = &mut self.layers {
            match msg {
                HomeMsg::Stack(m) => l.stack.message(cx, from, m),
                HomeMsg::Jobs(m) => l.jobs.message(cx, from, m),
            }
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: HomeTimer) {
        if let Some(l) = &mut self.layers {
            match t {
                HomeTimer::Stack(t) => l.stack.timer(cx, t),
                HomeTimer::Jobs(t) => l.jobs.timer(cx, t),
            }
        }
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Req) {
        self.next_tag += 1;
        let tag = self.next_tag;
        let Some(l) = &mut self.layers else { return };
        match req {
            Req::Lookup(r) => {
                let key = Key::from_u64(r.key, self.key_bits);
                l.stack.request(
                    cx,
                    ::storage::Request::Kad(KadCommand::FindClosest { tag, key }),
                );
            }
            Req::Store(op) => {
                let c = op.command(&self.objs, tag);
                l.stack.request(cx, ::storage::Request::Store(c));
            }
            Req::Job(c) => l.jobs.request(cx, c),
        }
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        if let Some(l) = &mut self.layers
            && !l.stack.transfer(cx, id, outcome)
        {
            l.jobs.transfer(cx, id, outcome);
        }
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        if let Some(s) = self.since.take() {
            self.up = self.up.saturating_add(cx.now().since(s));
        }
        if let Some(l) = &mut self.layers {
            l.stack.stop(cx, how);
            l.jobs.stop(cx, how);
        }
    }
}

// -------------------------------------------------------------- the site

/// A message of the data center's services.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum OfficeMsg {
    /// The directory.
    Dir(DirMsg),
    /// Storage.
    Store(DcStoreMsg),
    /// Compute.
    Compute(DcComputeMsg),
}

impl From<DirMsg> for OfficeMsg {
    fn from(m: DirMsg) -> OfficeMsg {
        OfficeMsg::Dir(m)
    }
}
impl From<DcStoreMsg> for OfficeMsg {
    fn from(m: DcStoreMsg) -> OfficeMsg {
        OfficeMsg::Store(m)
    }
}
impl From<DcComputeMsg> for OfficeMsg {
    fn from(m: DcComputeMsg) -> OfficeMsg {
        OfficeMsg::Compute(m)
    }
}

impl Message for OfficeMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            OfficeMsg::Dir(m) => m.phantom_len(),
            OfficeMsg::Store(m) => m.phantom_len(),
            OfficeMsg::Compute(m) => m.phantom_len(),
        }
    }
    fn wire_size(&self) -> u64 {
        match self {
            OfficeMsg::Dir(m) => 1 + m.wire_size(),
            OfficeMsg::Store(m) => 1 + m.wire_size(),
            OfficeMsg::Compute(m) => 1 + m.wire_size(),
        }
    }
    /// By service, as on the P2P side: directory lookups are control
    /// traffic, storage is storage, jobs are compute.
    fn class(&self) -> u8 {
        match self {
            OfficeMsg::Dir(_) => class::CONTROL,
            OfficeMsg::Store(_) => class::STORAGE,
            OfficeMsg::Compute(_) => class::COMPUTE,
        }
    }
}

/// A timer of the data center's services.
#[derive(Debug, Clone, Copy)]
pub enum OfficeTimer {
    /// The directory.
    Dir(DirTimer),
    /// Storage.
    Store(DcStoreTimer),
    /// Compute.
    Compute(DcComputeTimer),
}

impl From<DirTimer> for OfficeTimer {
    fn from(t: DirTimer) -> OfficeTimer {
        OfficeTimer::Dir(t)
    }
}
impl From<DcStoreTimer> for OfficeTimer {
    fn from(t: DcStoreTimer) -> OfficeTimer {
        OfficeTimer::Store(t)
    }
}
impl From<DcComputeTimer> for OfficeTimer {
    fn from(t: DcComputeTimer) -> OfficeTimer {
        OfficeTimer::Compute(t)
    }
}

/// A context that counts the bytes a layer sends (what leaves the site,
/// by service) and hands everything else on.
struct Tap<'c, C> {
    cx: &'c mut C,
    sent: &'c mut u64,
}

impl<M: Message, T, C: Context<M, T>> Context<M, T> for Tap<'_, C> {
    fn now(&self) -> Time {
        self.cx.now()
    }
    fn me(&self) -> NodeId {
        self.cx.me()
    }
    fn incarnation(&self) -> u32 {
        self.cx.incarnation()
    }
    fn node_count(&self) -> usize {
        self.cx.node_count()
    }
    fn rng(&mut self) -> &mut NodeRng {
        self.cx.rng()
    }
    fn send(&mut self, to: NodeId, msg: M) {
        *self.sent = self.sent.saturating_add(msg.wire_size());
        self.cx.send(to, msg)
    }
    fn send_bulk(&mut self, to: NodeId, msg: M) -> TransferId {
        *self.sent = self.sent.saturating_add(msg.wire_size());
        self.cx.send_bulk(to, msg)
    }
    fn transfer_moved(&self, id: TransferId) -> Option<Bytes> {
        self.cx.transfer_moved(id)
    }
    fn set_timer(&mut self, after: Duration, timer: T) -> TimerId {
        self.cx.set_timer(after, timer)
    }
    fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.cx.cancel_timer(id)
    }
    fn count(&mut self, name: &'static str, delta: u64) {
        self.cx.count(name, delta)
    }
    fn observe(&mut self, name: &'static str, value: u64) {
        self.cx.observe(name, value)
    }
    fn record<R: Serialize>(&mut self, table: &'static str, row: &R) {
        self.cx.record(table, row)
    }
    fn metrics(&mut self) -> &mut Metrics {
        self.cx.metrics()
    }
    fn oracle_is_up(&self, id: NodeId) -> bool {
        self.cx.oracle_is_up(id)
    }
}

/// The data center's three services at one node: the site, or a client of
/// all three.
pub struct Office {
    dir: DcNode,
    store: DcStoreNode,
    compute: DcComputeNode,
    objs: Arc<Vec<Obj>>,
    next_tag: u64,
    since: Option<Time>,
    up: Duration,
    /// Bytes sent by each service: directory, storage, compute.
    sent: [u64; 3],
}

impl Office {
    fn up_to(&self, now: Time) -> Duration {
        let current = self.since.map_or(Duration::ZERO, |s| now.since(s));
        self.up.saturating_add(current)
    }
}

impl Node for Office {
    type Msg = OfficeMsg;
    type Timer = OfficeTimer;
    type Request = Req;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.since = Some(cx.now());
        let [d, s, c] = &mut self.sent;
        self.dir.start(&mut Tap { cx, sent: d });
        self.store.start(&mut Tap { cx, sent: s });
        self.compute.start(&mut Tap { cx, sent: c });
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: OfficeMsg) {
        let [d, s, c] = &mut self.sent;
        match msg {
            OfficeMsg::Dir(m) => self.dir.message(&mut Tap { cx, sent: d }, from, m),
            OfficeMsg::Store(m) => self.store.message(&mut Tap { cx, sent: s }, from, m),
            OfficeMsg::Compute(m) => self.compute.message(&mut Tap { cx, sent: c }, from, m),
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: OfficeTimer) {
        let [d, s, c] = &mut self.sent;
        match t {
            OfficeTimer::Dir(t) => self.dir.timer(&mut Tap { cx, sent: d }, t),
            OfficeTimer::Store(t) => self.store.timer(&mut Tap { cx, sent: s }, t),
            OfficeTimer::Compute(t) => self.compute.timer(&mut Tap { cx, sent: c }, t),
        }
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Req) {
        self.next_tag += 1;
        let [d, s, c] = &mut self.sent;
        match req {
            Req::Lookup(r) => self
                .dir
                .request(&mut Tap { cx, sent: d }, DirOp::Get { key: r.key }),
            Req::Store(op) => {
                let cmd = op.command(&self.objs, self.next_tag);
                self.store.request(&mut Tap { cx, sent: s }, cmd);
            }
            Req::Job(j) => self.compute.request(&mut Tap { cx, sent: c }, j),
        }
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        let [d, s, c] = &mut self.sent;
        let _ = self.dir.transfer(&mut Tap { cx, sent: d }, id, outcome)
            || self.store.transfer(&mut Tap { cx, sent: s }, id, outcome)
            || self.compute.transfer(&mut Tap { cx, sent: c }, id, outcome);
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        if let Some(s) = self.since.take() {
            self.up = self.up.saturating_add(cx.now().since(s));
        }
        let [d, s, c] = &mut self.sent;
        self.dir.stop(&mut Tap { cx, sent: d }, how);
        self.store.stop(&mut Tap { cx, sent: s }, how);
        self.compute.stop(&mut Tap { cx, sent: c }, how);
    }
}

// ---------------------------------------------------------------- checks

/// Check the combined scenario without the topology: each part's checks,
/// and a mesh (its gateway links are what the experiment measures).
pub(crate) fn check(s: &Scenario) -> Result<(), BuildError> {
    lexp::check(s)?;
    sexp::check(s)?;
    cexp::check(s)?;
    if s.topology.kind != TopologyKind::Mesh {
        return Err(bad(
            "topology.kind",
            "the combined experiment (`[workload]`, `[storage]` and `[compute]` together) runs on a city mesh: set `kind = \"mesh\"` (its gateway links are what it measures), or keep one of the three tables",
        ));
    }
    Ok(())
}

/// The checks that need the number of peers (`workload.clients` is
/// checked by [`crate::bounds::check_peers`] for every experiment).
pub(crate) fn check_peers(s: &Scenario, peers: u32) -> Result<(), BuildError> {
    sexp::check_peers(s, peers)?;
    cexp::check_peers(s, peers)
}

// ------------------------------------------------------------ sampling

/// Which part a workload belongs to, and its number in that part's
/// `requests.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Lookups,
    Storage,
    Compute,
}

impl Part {
    fn dir(self) -> &'static str {
        match self {
            Part::Lookups => "lookups",
            Part::Storage => "storage",
            Part::Compute => "compute",
        }
    }
}

/// The instants at which a side stops: storage's stops (writes start,
/// reads start, a sample), compute's samples, merged.
#[derive(Debug, Clone, Copy, Default)]
struct Stop4 {
    writes: bool,
    reads: bool,
    storage: bool,
    compute: bool,
}

fn schedule(s: &Scenario) -> Result<Vec<(Time, Stop4)>, BuildError> {
    let st = sexp::spec(s)?;
    let c = cexp::spec(s)?;
    let start = Time(s.scenario.warmup.0);
    let end = start.saturating_add(s.scenario.duration);
    let mut at: BTreeMap<Time, Stop4> = BTreeMap::new();
    for (t, w, r, x) in sexp::stops(s, st) {
        let e = at.entry(t).or_default();
        e.writes |= w;
        e.reads |= r;
        e.storage |= x;
    }
    for t in sample_times(start, end, c.sample_every) {
        at.entry(t).or_default().compute = true;
    }
    Ok(at.into_iter().collect())
}

/// Byte-time integral of a sampled level: each sample's value held until
/// the next (the last until `end`), in byte-nanoseconds.
#[derive(Default)]
struct Level {
    last: Option<(Time, u64)>,
    integral: f64,
}

impl Level {
    fn sample(&mut self, t: Time, v: u64) {
        if let Some((t0, v0)) = self.last {
            self.integral += v0 as f64 * t.since(t0).0 as f64;
        }
        self.last = Some((t, v));
    }
    /// GB-months up to `end`.
    fn gb_months(&self, end: Time) -> f64 {
        let tail = self
            .last
            .map_or(0.0, |(t, v)| v as f64 * end.since(t).0 as f64);
        (self.integral + tail) / 1e9 / NS_PER_MONTH
    }
}

/// Rows of `table` (a CSV file of a side) whose `column` is `true`.
fn count_true(files: &BTreeMap<String, Vec<u8>>, table: &str, column: &str) -> u64 {
    let Some(bytes) = files.get(table) else {
        return 0;
    };
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let Some(i) = r
        .headers()
        .ok()
        .and_then(|h| h.iter().position(|c| c == column))
    else {
        return 0;
    };
    r.records()
        .filter_map(Result::ok)
        .filter(|rec| rec.get(i) == Some("true"))
        .count() as u64
}

/// A side's `requests.csv` split by part, each workload renumbered as in
/// its part's own experiment.
fn split_requests(
    files: &BTreeMap<String, Vec<u8>>,
    parts: &[(Part, u16)],
) -> BTreeMap<&'static str, Vec<u8>> {
    let mut out: BTreeMap<&'static str, String> = BTreeMap::new();
    let text = String::from_utf8_lossy(files.get("requests.csv").map_or(&[][..], |v| v));
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap_or("time_ns,workload,client,seq,delivered,request");
    for p in [Part::Lookups, Part::Storage, Part::Compute] {
        out.insert(p.dir(), format!("{header}\n"));
    }
    for l in lines {
        let mut f = l.splitn(3, ',');
        let (Some(t), Some(w), Some(rest)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Some(&(part, local)) = w.parse::<usize>().ok().and_then(|w| parts.get(w)) else {
            continue;
        };
        if let Some(o) = out.get_mut(part.dir()) {
            let _ = writeln!(o, "{t},{local},{rest}");
        }
    }
    out.into_iter().map(|(k, v)| (k, v.into_bytes())).collect()
}

// ------------------------------------------------------------------- run

/// What a side used between the end of the warm-up and the end.
#[derive(Default)]
struct Usage {
    up_ns: f64,
    busy_ns: f64,
    class_bytes: [u64; 8],
    egress: [u64; 3],
    stored: Level,
    logical: Level,
}

/// Run both sides of the combined experiment.
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
) -> Result<Outcome, BuildError> {
    let w = s
        .workload
        .as_ref()
        .ok_or_else(|| bad("workload", "the combined experiment needs `[workload]`"))?;
    let st = sexp::spec(s)?;
    let c = cexp::spec(s)?;
    let start = Time(s.scenario.warmup.0);
    let end = start.saturating_add(s.scenario.duration);
    let mut info = String::from("side,key,value\n");
    let mut progress = progress;
    let plan = schedule(s)?;

    // ---------------------------------------------------------------- P2P
    let built = topology(s, 0)?;
    let peers = built.peers;
    crate::bounds::check_peers(s, peers)?;
    check_peers(s, peers)?;
    let churn = crate::churn::prepare(s, peers)?;
    let churn_note = churn.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    let label = built.label.clone();
    let st_clients = st.clients.unwrap_or(peers);
    let objs = Arc::new(sexp::objects(s, st, st_clients)?);
    let kcfg = Arc::new(kad_config(s)?);
    let scfg = Arc::new(sexp::store_config(s, st)?);
    let jcfg = Arc::new(cexp::jobs_config(c)?);
    let specs = cexp::volunteers(s, c, peers)?;
    let replay = match &c.swf {
        Some(file) => Some(cexp::read_swf(c, file, c.clients)?),
        None => None,
    };
    let mut sc = SimConfig::new(
        s.scenario.seed,
        SimpleNet::constant(Duration::ZERO, s.access.uplink),
    );
    sc.sample_every = Some(s.output.sample_every);
    sc.log_requests = true;
    let mut p2p: Sim<Home> = Sim::new(sc.clone());
    let gateways = built.gateways.clone();
    p2p.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(ch) = &churn {
        p2p.set_churn(ch.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    let gw_out = super::gateway_outages(&mut p2p, s, &gateways)?;
    let mut id_rng = node_rng(s.scenario.seed, Purpose::Custom(1), 0, 0);
    let ids = Arc::new(IdTable::random(
        peers as usize + 1,
        kcfg.key_bits,
        &mut id_rng,
    ));
    let warm = s.kademlia.start == "warm";
    let sorted = warm.then(|| kademlia::warm::SortedIds::new(&ids, (0..peers).map(NodeId)));
    let mut boot_rng = node_rng(s.scenario.seed, Purpose::Custom(2), 0, 0);
    let slog: ::storage::EventLog = Rc::new(RefCell::new(Vec::new()));
    let jlog: jobs::EventLog = Rc::new(RefCell::new(Vec::new()));
    let all: Arc<Vec<NodeId>> = Arc::new((0..peers).map(NodeId).collect());
    let placement = match st.placement {
        crate::schema::PlacementSpec::Dht => ::storage::Placement::Dht,
        crate::schema::PlacementSpec::Oracle => ::storage::Placement::Oracle,
    };
    p2p.reserve_nodes(peers as usize + 1);
    for i in 0..peers {
        let me = NodeId(i);
        let kad = Kademlia::new(kcfg.clone(), ids.clone(), me);
        let mut stack = ::storage::StackNode::new(kad, ::storage::Storage::new(scfg.clone(), me));
        for _ in 0..BOOTSTRAP.min(peers - 1) {
            let mut b = boot_rng.random_range(0..peers - 1);
            if b >= i {
                b += 1;
            }
            stack.bootstrap.push(WireContact {
                node: NodeId(b),
                id: *ids.id(NodeId(b)),
            });
        }
        stack.warm = warm;
        stack.placement = placement.clone();
        stack.log = Some(slog.clone());
        stack.rows = true;
        stack.observe = Observe {
            oracle: s.kademlia.oracle,
            keep_events: false,
            rows: true,
        };
        if let Some(sorted) = &sorted {
            let id = *ids.id(me);
            sorted.fill(stack.kad.table_mut(), &id, &mut boot_rng, Time::ZERO);
        }
        let mut jobs = jobs::JobsNode::new(jcfg.clone(), me, specs[i as usize], all.clone());
        jobs.log = Some(jlog.clone());
        jobs.rows = true;
        p2p.add_node(Home {
            layers: Some(Box::new(Layers { stack, jobs })),
            objs: objs.clone(),
            key_bits: kcfg.key_bits,
            next_tag: 0,
            since: None,
            up: Duration::ZERO,
        });
    }
    // The site's place: no peer.
    p2p.add_node_stopped(Home {
        layers: None,
        objs: objs.clone(),
        key_bits: kcfg.key_bits,
        next_tag: 0,
        since: None,
        up: Duration::ZERO,
    });

    let mut book = P2pBook::new(
        objs.clone(),
        slog.clone(),
        scfg.scheme,
        st.encryption,
        peers,
    );
    let mut cpu = CpuTally::new(jlog.clone());
    let mut gw_rows = String::new();
    let mut parts: Vec<(Part, u16)> = Vec::new();
    let mut use_p2p = Usage::default();
    let mut d = Driver::new("P2P", end, abort_after, &mut progress);
    let mut aborted = d.run_sliced(&mut p2p, start, 20)?;
    if !aborted {
        let (up0, busy0) = p2p_levels(&p2p, start);
        use_p2p.up_ns = -up0;
        use_p2p.busy_ns = -busy0;
        let class0 = p2p.class_bytes();
        for &(t, x) in &plan {
            if d.run_to(&mut p2p, t)? {
                aborted = true;
                break;
            }
            add_all(
                &mut p2p,
                s,
                (st, c),
                (&objs, st_clients),
                replay.as_ref(),
                t == start,
                x,
                &mut parts,
            )?;
            if x.storage {
                let nodes = p2p.nodes();
                let (stored, logical) = book.sample(
                    t,
                    nodes.len() as u32,
                    |n| p2p.is_up(n),
                    nodes
                        .iter()
                        .filter_map(|h| h.layers.as_ref().map(|l| &l.stack.store)),
                );
                use_p2p.stored.sample(t, stored);
                use_p2p.logical.sample(t, logical);
            }
            if x.compute {
                let bytes = p2p.metrics().counter("jobs.input_bytes")
                    + p2p.metrics().counter("jobs.output_bytes");
                let volunteers = p2p.nodes()[..peers as usize].iter().filter_map(|h| {
                    h.layers
                        .as_ref()
                        .map(|l| (h.since.is_some(), h.up_to(t), &l.jobs))
                });
                cpu.p2p_sample(t, bytes, volunteers);
            }
            if x.storage || x.compute {
                gateway_rows_of(&mut gw_rows, "p2p", t, &p2p, &gateways);
            }
        }
        if !aborted {
            let (up1, busy1) = p2p_levels(&p2p, end);
            use_p2p.up_ns += up1;
            use_p2p.busy_ns += busy1;
            let class1 = p2p.class_bytes();
            for (k, b) in use_p2p.class_bytes.iter_mut().enumerate() {
                *b = class1[k].saturating_sub(class0[k]);
            }
        }
    }
    let p2p_files = finish_in_memory(&mut p2p, "p2p", &mut info)?;
    if aborted {
        return Ok(Outcome {
            files: BTreeMap::new(),
            run_info: info,
            topology: label,
            churn: String::new(),
            notes: String::new(),
            part_notes: None,
            kind: Kind::City,
            aborted: true,
        });
    }
    let mut objects_csv = String::from(sexp::OBJECTS_HEADER);
    book.objects(&mut objects_csv, |n| p2p.is_up(n));
    let store_over_p2p = book.take_rows();
    let cpu_over_p2p = cpu.take_rows();
    let faulty = specs
        .iter()
        .filter(|w| w.fault != jobs::Fault::Honest)
        .count();
    let placement_oracle = p2p.metrics().counter("storage.placement_oracle") > 0;
    drop(p2p);

    // ----------------------------------------------------------- baseline
    let built = topology(s, 0)?;
    let mut dc: Sim<Office> = Sim::new(sc);
    dc.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(ch) = &churn {
        dc.set_churn(ch.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    site_outages(&mut dc, s, built.site)?;
    super::gateway_outages(&mut dc, s, &built.gateways)?;
    let site = NodeId(built.site);
    let (timeout, retries) = retry_policy(s)?;
    let store_ccfg = StoreClientConfig {
        attempt_timeout: timeout,
        retries,
        transfer_timeout: scfg.op_timeout,
        encrypted: st.encryption,
    };
    let compute_ccfg = ComputeClientConfig {
        attempt_timeout: timeout,
        retries,
        ..ComputeClientConfig::default()
    };
    let dslog: ::storage::EventLog = Rc::new(RefCell::new(Vec::new()));
    let djlog: jobs::EventLog = Rc::new(RefCell::new(Vec::new()));
    dc.reserve_nodes(peers as usize + 1);
    for _ in 0..peers {
        let mut dir = Client::new(site, timeout);
        dir.retries = retries;
        dir.keep = false;
        let mut sto = StoreClient::new(site, store_ccfg);
        sto.keep = false;
        sto.rows = true;
        sto.log = Some(dslog.clone());
        let mut com = ComputeClient::new(site, compute_ccfg);
        com.rows = true;
        com.log = Some(djlog.clone());
        dc.add_node(Office {
            dir: DcNode::Client(dir),
            store: DcStoreNode::Client(sto),
            compute: DcComputeNode::Client(com),
            objs: objs.clone(),
            next_tag: 0,
            since: None,
            up: Duration::ZERO,
            sent: [0; 3],
        });
    }
    let mut sto_site = StoreSite::new(sexp::site_config(s)?);
    sto_site.rows = true;
    let mut com_site = ComputeSite::new(cexp::site_config(s)?);
    com_site.log = Some(djlog.clone());
    let dir_site = Site::new(SiteConfig {
        servers: s.datacenter.servers as usize,
        service: s.datacenter.service_time,
        ..SiteConfig::default()
    });
    dc.add_stable_node(Office {
        dir: DcNode::Site(dir_site),
        store: DcStoreNode::Site(sto_site),
        compute: DcComputeNode::Site(com_site),
        objs: objs.clone(),
        next_tag: 0,
        since: None,
        up: Duration::ZERO,
        sent: [0; 3],
    });
    let mut dbook = DcBook::new(objs.clone(), dslog.clone(), peers);
    let mut dcpu = CpuTally::new(djlog.clone());
    let mut dparts: Vec<(Part, u16)> = Vec::new();
    let mut use_dc = Usage::default();
    let mut d = Driver::new("data center", end, None, &mut progress);
    d.run_sliced(&mut dc, start, 20)?;
    let busy0 = dc_busy(&dc, site, start);
    let class0 = dc.class_bytes();
    let sent0 = dc.node(site).sent;
    for &(t, x) in &plan {
        d.run_to(&mut dc, t)?;
        add_all(
            &mut dc,
            s,
            (st, c),
            (&objs, st_clients),
            replay.as_ref(),
            t == start,
            x,
            &mut dparts,
        )?;
        let office = dc.node(site);
        let site_up = dc.is_up(site);
        if x.storage {
            let DcStoreNode::Site(sref) = &office.store else {
                return Err(bad("datacenter", "internal error: the site is not a site"));
            };
            let peers_up = (0..peers).filter(|&n| dc.is_up(NodeId(n))).count() as u64;
            let (stored, logical) = dbook.sample(t, sref, site_up, peers_up);
            use_dc.stored.sample(t, stored);
            use_dc.logical.sample(t, logical);
        }
        if x.compute {
            let DcComputeNode::Site(cref) = &office.compute else {
                return Err(bad("datacenter", "internal error: the site is not a site"));
            };
            let bytes = dc.metrics().counter("dccompute.input_bytes")
                + dc.metrics().counter("dccompute.output_bytes");
            dcpu.dc_sample(t, cref, (site_up, office.up_to(t)), bytes);
        }
        if x.storage || x.compute {
            gateway_rows_of(&mut gw_rows, "datacenter", t, &dc, &gateways);
        }
    }
    use_dc.busy_ns = dc_busy(&dc, site, end) - busy0;
    let class1 = dc.class_bytes();
    for (k, b) in use_dc.class_bytes.iter_mut().enumerate() {
        *b = class1[k].saturating_sub(class0[k]);
    }
    let sent1 = dc.node(site).sent;
    for k in 0..3 {
        use_dc.egress[k] = sent1[k].saturating_sub(sent0[k]);
    }
    let dc_files = finish_in_memory(&mut dc, "datacenter", &mut info)?;
    {
        let office = dc.node(site);
        let DcStoreNode::Site(sref) = &office.store else {
            return Err(bad("datacenter", "internal error: the site is not a site"));
        };
        dbook.objects(&mut objects_csv, sref, dc.is_up(site));
    }
    if parts != dparts {
        return Err(bad(
            "workload",
            "internal error: the two sides added their workloads in different orders",
        ));
    }

    // ------------------------------------------------------------ outputs
    let mut files = BTreeMap::new();
    let req_p2p = split_requests(&p2p_files, &parts);
    let req_dc = split_requests(&dc_files, &parts);
    for p in [Part::Lookups, Part::Storage, Part::Compute] {
        let one = |m: &BTreeMap<&str, Vec<u8>>| {
            let mut x = BTreeMap::new();
            if let Some(v) = m.get(p.dir()) {
                x.insert("requests.csv".to_string(), v.clone());
            }
            x
        };
        files.insert(
            format!("{}/requests.csv", p.dir()),
            merge_tables(
                &one(&req_p2p),
                &one(&req_dc),
                "requests.csv",
                "time_ns,workload,client,seq,delivered,request",
            ),
        );
    }
    files.insert(
        "lookups/lookups.csv".to_string(),
        merge_tables(
            &p2p_files,
            &dc_files,
            "lookups.csv",
            lexp::empty_header("lookups.csv"),
        ),
    );
    let (reads, writes) = sexp::split_ops(&p2p_files, &dc_files);
    files.insert("storage/reads.csv".to_string(), reads.into_bytes());
    files.insert("storage/writes.csv".to_string(), writes.into_bytes());
    files.insert("storage/objects.csv".to_string(), objects_csv.into_bytes());
    files.insert(
        "storage/over-time.csv".to_string(),
        format!(
            "{}{store_over_p2p}{}",
            sexp::OVER_TIME_HEADER,
            dbook.take_rows()
        )
        .into_bytes(),
    );
    files.insert(
        "compute/jobs.csv".to_string(),
        merge_tables(&p2p_files, &dc_files, "jobs.csv", jobs::JOBS_HEADER),
    );
    files.insert(
        "compute/over-time.csv".to_string(),
        format!(
            "{}{cpu_over_p2p}{}",
            cexp::OVER_TIME_HEADER,
            dcpu.take_rows()
        )
        .into_bytes(),
    );
    files.insert(
        "gateways.csv".to_string(),
        format!("system,time_ns,link,capacity_bps,bytes\n{gw_rows}").into_bytes(),
    );

    // Cost and energy, over the measured span.
    let hours = end.since(start).0 as f64 / NS_PER_HOUR;
    let services = |b: &[u64; 8]| Services {
        storage: b[class::STORAGE as usize].saturating_add(b[class::REPAIR as usize]),
        compute: b[class::COMPUTE as usize],
        lookups: b[class::CONTROL as usize],
    };
    let p2p_use = P2pUsage {
        hours,
        hosts: peers,
        host_up_hours: use_p2p.up_ns.max(0.0) / NS_PER_HOUR,
        busy_cpu_hours: use_p2p.busy_ns.max(0.0) / NS_PER_HOUR,
        routers: built.routers,
        bytes_by_service: services(&use_p2p.class_bytes),
        stored_gb_months: use_p2p.stored.gb_months(end),
        logical_gb_months: use_p2p.logical.gb_months(end),
        jobs: count_true(&p2p_files, "jobs.csv", "ok"),
        lookups: count_true(&p2p_files, "lookups.csv", "answered"),
    };
    let dc_use = DcUsage {
        hours,
        servers: s.datacenter.servers,
        busy_server_hours: use_dc.busy_ns.max(0.0) / NS_PER_HOUR,
        bytes_by_service: services(&use_dc.class_bytes),
        egress_bytes: Services {
            lookups: use_dc.egress[0],
            storage: use_dc.egress[1],
            compute: use_dc.egress[2],
        },
        stored_gb_months: use_dc.stored.gb_months(end),
        logical_gb_months: use_dc.logical.gb_months(end),
        jobs: count_true(&dc_files, "jobs.csv", "ok"),
        lookups: count_true(&dc_files, "lookups.csv", "answered"),
    };
    let bills = s
        .cost_model()
        .bills(&p2p_use, &dc_use)
        .map_err(|e| bad(&format!("cost.{}", e.key), e.message))?;
    files.insert(
        "cost.csv".to_string(),
        analysis::cost::cost_csv(&bills).into_bytes(),
    );

    // Each side's own files: at the top, and the time series in each part.
    for (side, side_files) in [("p2p", &p2p_files), ("datacenter", &dc_files)] {
        for (name, bytes) in side_files.iter() {
            if matches!(
                name.as_str(),
                "requests.csv" | "lookups.csv" | "storage_ops.csv" | "jobs.csv"
            ) {
                continue;
            }
            files.insert(format!("{side}/{name}"), bytes.clone());
            if name == "timeseries.csv" {
                for p in [Part::Lookups, Part::Storage, Part::Compute] {
                    files.insert(format!("{}/{side}/{name}", p.dir()), bytes.clone());
                }
            }
        }
    }

    let lookup_notes = lexp::notes(s, w, &churn_note, &BTreeMap::new());
    let storage_notes = sexp::notes(s, st, st_clients, &scfg, false, &churn_note)
        + if placement_oracle {
            " **Placement came from global knowledge (`storage.placement = \"oracle\"`), not from DHT lookups**."
        } else {
            " Placement by Kademlia lookups (the k closest nodes to each object's key)."
        };
    let compute_notes = cexp::notes(s, c, &jcfg, peers, faulty, replay.as_ref(), &churn_note);
    let top = format!(
        "Every home runs the DHT, storage and the job scheduler at once, on one node and its links; the data center serves the same requests through the mesh's {} gateway links. Energy and cost cover the measured span ({hours:.1} h after the warm-up): see `cost.csv`.",
        gateways.len()
    );
    Ok(Outcome {
        notes: gw_out.report(s, top, &mut files),
        part_notes: Some([lookup_notes, storage_notes, compute_notes]),
        files: super::as_outputs(files),
        run_info: info,
        topology: label,
        churn: churn_note,
        kind: Kind::City,
        aborted: false,
    })
}

/// Homes' total up time and job-running time by `t` (ns).
fn p2p_levels(sim: &Sim<Home>, t: Time) -> (f64, f64) {
    let (mut up, mut busy) = (0f64, 0f64);
    for h in sim.nodes() {
        let Some(l) = &h.layers else { continue };
        up += h.up_to(t).0 as f64;
        // Wall time running copies: the CPU given at the machine's share.
        let share = f64::from(l.jobs.jobs.spec().share.max(1));
        busy += l.jobs.busy_cpu(t).0 as f64 * 1000.0 / share;
    }
    (up, busy)
}

/// The data center's busy server time by `t` (ns): its compute servers'.
fn dc_busy(sim: &Sim<Office>, site: NodeId, t: Time) -> f64 {
    match &sim.node(site).compute {
        DcComputeNode::Site(c) => c.busy_cpu(t).0 as f64,
        DcComputeNode::Client(_) => 0.0,
    }
}

/// `gateways.csv` rows of a side at `t`: the bytes each gateway link has
/// carried so far.
fn gateway_rows_of<N: Node>(
    out: &mut String,
    system: &str,
    t: Time,
    sim: &Sim<N>,
    gateways: &[super::GatewayLink],
) where
    N::Request: std::fmt::Debug,
{
    for g in gateways {
        let _ = writeln!(
            out,
            "{system},{},{},{},{}",
            t.0,
            g.label,
            g.capacity.bits_per_sec(),
            sim.link_bytes(g.link)
        );
    }
}

/// Add the workloads due at this stop, recording each one's part.
#[allow(clippy::too_many_arguments)]
fn add_all<N: Node>(
    sim: &mut Sim<N>,
    s: &Scenario,
    (st, c): (&crate::schema::StorageSpec, &crate::schema::ComputeSpec),
    (objs, st_clients): (&[Obj], u32),
    replay: Option<&jobs::swf::Replay>,
    first: bool,
    x: Stop4,
    parts: &mut Vec<(Part, u16)>,
) -> Result<(), BuildError>
where
    N::Request: std::fmt::Debug + From<Op> + From<Lookup> + From<jobs::Command>,
{
    for local in sexp::add_workloads(sim, st, objs, st_clients, (x.writes, x.reads))? {
        parts.push((Part::Storage, local));
    }
    if first {
        let w = s
            .workload
            .as_ref()
            .ok_or_else(|| bad("workload", "missing"))?;
        let ids: Vec<NodeId> = (0..w.clients).map(NodeId).collect();
        sim.add_workload(&ids, Mapped::new(lexp::lookups(w.mean_gap)?))
            .map_err(|e| bad("workload", e))?;
        parts.push((Part::Lookups, 0));
        cexp::add_workload(sim, c, c.clients, replay)?;
        parts.push((Part::Compute, 0));
    }
    Ok(())
}
