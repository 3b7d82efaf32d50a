//! The lookup experiment (`[workload]`): DHT lookups against a directory.
//!
//! The P2P side runs Kademlia on every peer and turns each workload request
//! into a `FindClosest` lookup; the baseline runs a directory site that the
//! clients ask instead (see [`datacenter`]). Clients issue Poisson lookups
//! of uniform random keys from the end of the warm-up. Outputs: `lookups.csv`
//! (one row per finished request, both systems), `requests.csv`, and each
//! side's counters, histograms and time series.

use super::{
    BuildError, Driver, Kind, Outcome, Progress, RowFiles, bad, finish, gateway_outages,
    kad_config, merge_files, retry_policy, site_outages, topology,
};
use crate::schema::Scenario;
use datacenter::{Client, DcNode, DirOp, Site, SiteConfig};
use kademlia::{Command, IdTable, KadNode, Kademlia, Key, Observe};
use rand::RngExt;
use sim_core::metrics::CsvFile;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;

/// The request both systems serve: look up a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The key, as 64 bits; the DHT widens it to its id width.
    pub key: u64,
}

/// A peer of the P2P side: a Kademlia node that turns workload lookups into
/// DHT lookups.
pub struct Peer {
    /// The Kademlia node.
    pub kad: KadNode,
    next_tag: u64,
}

impl Node for Peer {
    type Msg = kademlia::KadMsg;
    type Timer = kademlia::Timer;
    type Request = Lookup;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.kad.on_start(cx);
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg) {
        self.kad.on_message(cx, from, msg);
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: Self::Timer) {
        self.kad.on_timer(cx, t);
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Lookup) {
        self.next_tag += 1;
        let key = Key::from_u64(req.key, self.kad.kad.config().key_bits);
        self.kad.command(
            cx,
            Command::FindClosest {
                tag: self.next_tag,
                key,
            },
        );
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        self.kad.on_stop(cx, how);
    }
}

/// A node of the baseline side: the site, a client, or an absent peer.
pub struct Dir(pub DcNode);

impl Node for Dir {
    type Msg = datacenter::DirMsg;
    type Timer = datacenter::DirTimer;
    type Request = Lookup;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.0.on_start(cx);
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg) {
        self.0.on_message(cx, from, msg);
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: Self::Timer) {
        self.0.on_timer(cx, t);
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Lookup) {
        self.0.on_request(cx, DirOp::Get { key: req.key });
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        self.0.on_stop(cx, how);
    }
}

/// The checks of `[workload]`.
pub(crate) fn check(s: &Scenario) -> Result<(), BuildError> {
    let Some(w) = &s.workload else {
        return Ok(());
    };
    if w.clients == 0 {
        return Err(bad("workload.clients", "at least one client is needed"));
    }
    if w.mean_gap.0 == 0 {
        return Err(bad("workload.mean_gap", "must be positive"));
    }
    Ok(())
}

/// Run both sides. `abort_after` stops the P2P side after that many events
/// (a deterministic interruption, for tests).
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
    rows: Option<&RowFiles>,
) -> Result<Outcome, BuildError> {
    let w = s
        .workload
        .as_ref()
        .ok_or_else(|| bad("workload", "the lookup experiment needs `[workload]`"))?;
    let end = Time(s.scenario.warmup.0.saturating_add(s.scenario.duration.0));
    let start_load = Time(s.scenario.warmup.0);
    let mut files = BTreeMap::new();
    let mut info = String::from("side,key,value\n");

    // ---------------------------------------------------------------- P2P
    let built = topology(s, 0)?;
    crate::bounds::check_peers(s, built.peers)?;
    // One model for both sides (a trace is read once and shared).
    let churn = crate::churn::prepare(s, built.peers)?;
    let churn_note = churn.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    let clients = w.clients;
    let label = built.label.clone();
    let cfg = Arc::new(kad_config(s)?);
    let mut sc = SimConfig::new(
        s.scenario.seed,
        SimpleNet::constant(Duration::ZERO, s.access.uplink),
    );
    sc.sample_every = Some(s.output.sample_every);
    sc.log_requests = true;
    let mut p2p: Sim<Peer> = Sim::new(sc.clone());
    if let Some(rows) = rows {
        rows.stream(&mut p2p, "p2p");
    }
    p2p.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        p2p.set_churn(c.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    let gw_out = gateway_outages(&mut p2p, s, &built.gateways)?;
    let mut id_rng = node_rng(s.scenario.seed, Purpose::Custom(1), 0, 0);
    let ids = Arc::new(IdTable::random(
        built.peers as usize,
        cfg.key_bits,
        &mut id_rng,
    ));
    let warm = s.kademlia.start == "warm";
    let sorted = warm.then(|| kademlia::warm::SortedIds::all(&ids));
    let mut boot_rng = node_rng(s.scenario.seed, Purpose::Custom(2), 0, 0);
    p2p.reserve_nodes(built.peers as usize);
    for i in 0..built.peers {
        let me = NodeId(i);
        let mut kad = KadNode::new(Kademlia::new(cfg.clone(), ids.clone(), me));
        kad.observe = Observe {
            // The oracle fills the `exact` column: is the answer the true k
            // closest live nodes? (An index over the ids, outside the
            // protocol: see kademlia::oracle.)
            oracle: s.kademlia.oracle,
            keep_events: false,
            rows: true,
        };
        // Eight random other peers to join through (some may be down: the
        // join retries).
        for _ in 0..8.min(built.peers - 1) {
            let mut b = boot_rng.random_range(0..built.peers - 1);
            if b >= i {
                b += 1;
            }
            kad.bootstrap.push(kademlia::WireContact {
                node: NodeId(b),
                id: *ids.id(NodeId(b)),
            });
        }
        if let Some(sorted) = &sorted {
            let id = *ids.id(me);
            sorted.fill(kad.kad.table_mut(), &id, &mut boot_rng, Time::ZERO);
            kad.warm = true;
        }
        p2p.add_node(Peer { kad, next_tag: 0 });
    }
    let client_ids: Vec<NodeId> = (0..clients).map(NodeId).collect();
    let load = (&client_ids[..], w.mean_gap);
    let mut progress = progress;
    let aborted = drive(
        &mut p2p,
        Driver::new("P2P", end, abort_after, &mut progress),
        start_load,
        load,
    )?;
    let p2p_files = finish(&mut p2p, "p2p", &mut info)?;
    drop(p2p);
    if aborted {
        return Ok(Outcome {
            part_notes: None,
            files,
            run_info: info,
            topology: label,
            churn: churn_note,
            notes: String::new(),
            kind: Kind::Lookup,
            aborted: true,
        });
    }

    // ----------------------------------------------------------- baseline
    let built = topology(s, 0)?;
    let mut dc: Sim<Dir> = Sim::new(sc);
    if let Some(rows) = rows {
        rows.stream(&mut dc, "datacenter");
    }
    dc.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        dc.set_churn(c.model.clone()).map_err(|e| bad("churn", e))?;
    }
    site_outages(&mut dc, s, built.site)?;
    gateway_outages(&mut dc, s, &built.gateways)?;
    let site = NodeId(built.site);
    // A client waits `attempt_timeout` for each attempt and retries up to
    // `retries` times.
    let (timeout, retries) = retry_policy(s)?;
    for i in 0..built.site {
        let node = Dir(DcNode::Client({
            let mut c = Client::new(site, timeout);
            c.retries = retries;
            c.keep = false;
            c
        }));
        if i < clients {
            dc.add_node(node);
        } else {
            // Peers that are not clients take no part in the baseline.
            dc.add_node_stopped(node);
        }
    }
    let site_cfg = SiteConfig {
        servers: s.datacenter.servers as usize,
        service: s.datacenter.service_time,
        ..SiteConfig::default()
    };
    dc.add_stable_node(Dir(DcNode::Site(Site::new(site_cfg))));
    drive(
        &mut dc,
        Driver::new("data center", end, None, &mut progress),
        start_load,
        load,
    )?;
    let dc_files = finish(&mut dc, "datacenter", &mut info)?;

    // ------------------------------------------------------------ outputs
    for name in ["lookups.csv", "requests.csv"] {
        let merged = merge_files(&p2p_files, &dc_files, name, empty_header(name), rows)?;
        files.insert(name.to_string(), merged);
    }
    for (side, side_files) in [("p2p", p2p_files), ("datacenter", dc_files)] {
        for (name, bytes) in side_files {
            if name != "lookups.csv" && name != "requests.csv" {
                files.insert(format!("{side}/{name}"), bytes);
            }
        }
    }
    Ok(Outcome {
        part_notes: None,
        run_info: info,
        topology: label,
        notes: gw_out.report(s, notes(s, w, &churn_note, &files), &mut files),
        churn: churn_note,
        kind: Kind::Lookup,
        files,
        aborted: false,
    })
}

/// Run `sim` to the warm-up's end, start the workload, run to the end, in
/// slices so that progress can be shown. Returns true if the deterministic
/// abort fired.
fn drive<N: Node<Request = Lookup>>(
    sim: &mut Sim<N>,
    mut d: Driver<'_, '_>,
    start_load: Time,
    (clients, gap): (&[NodeId], Duration),
) -> Result<bool, BuildError> {
    const SLICES: u64 = 100;
    if d.run_sliced(sim, start_load, SLICES)? {
        return Ok(true);
    }
    // Poisson arrivals of lookups of uniform random keys, drawn from each
    // client's own workload stream.
    sim.add_workload(clients, lookups(gap)?)
        .map_err(|e| bad("workload", e))?;
    let end = d.end;
    d.run_sliced(sim, end, SLICES)
}

/// The header of a table no row was written to (a run whose workload
/// issued no request): its columns are still written.
/// The lookup workload: Poisson arrivals with mean gap `gap`, uniform
/// random keys, from each client's own stream.
pub(crate) fn lookups(gap: Duration) -> Result<impl Workload<Lookup>, BuildError> {
    Poisson::new(gap, |_: NodeId, rng: &mut NodeRng| Lookup {
        key: rng.random::<u64>(),
    })
    .map_err(|e| bad("workload.mean_gap", e))
}

pub(crate) fn empty_header(name: &str) -> &'static str {
    match name {
        "lookups.csv" => {
            "node,kind,start_ns,end_ns,latency_ns,hops,messages,bytes,answered,correct,exact,determined_ns,table,attempts"
        }
        "requests.csv" => "time_ns,workload,client,seq,delivered,request",
        _ => "",
    }
}

/// The report's paragraph: the workload, and how each side ends a request.
pub(crate) fn notes(
    s: &Scenario,
    w: &crate::schema::WorkloadSpec,
    churn: &str,
    files: &BTreeMap<String, CsvFile>,
) -> String {
    let churn = if churn.is_empty() {
        String::new()
    } else {
        format!(" {churn}")
    };
    let warm = if s.kademlia.start == "warm" {
        " Routing tables were built from global knowledge (**warm start**), not by joins."
    } else {
        ""
    };
    format!(
        "Warm-up {}, then {} of requests from {} clients (one every {} on average each).{churn}{warm} {}",
        s.scenario.warmup,
        s.scenario.duration,
        w.clients,
        w.mean_gap,
        policies(s, files)
    )
}

/// How each side ends a request: the DHT's lookup termination rule and
/// the directory client's retry policy.
fn policies(s: &Scenario, files: &BTreeMap<String, CsvFile>) -> String {
    let k = &s.kademlia;
    let p2p = if k.termination == "closest-answered" {
        let (who, exact) = match k.termination_results {
            1 => (
                "the closest known node has".to_string(),
                "the first result is the true closest live node".to_string(),
            ),
            n => (
                format!("the {n} closest known nodes have"),
                format!("the first {n} results are the true {n} closest live nodes"),
            ),
        };
        format!(
            "P2P lookups stop {} after {who} answered with none closer pending (`closest-answered`; `exact` means {exact}).",
            k.termination_wait
        )
    } else {
        format!(
            "P2P lookups stop when the k = {} closest known nodes have all answered (`k-closest`, the paper's rule).",
            k.k
        )
    };
    let d = &s.datacenter;
    let dc = if d.retries == 0 {
        format!(
            "Directory clients send each request once and give up after {} (no retries).",
            d.attempt_timeout
        )
    } else {
        format!(
            "Directory clients wait {} per attempt and retry up to {} times (latency counted from the first send; `attempts` in `lookups.csv`): {}.",
            d.attempt_timeout,
            d.retries,
            retried(files)
        )
    };
    format!("{p2p} {dc}{}", rejected(files))
}

/// A sentence on the Kademlia operations rejected because their node
/// already ran as many as it may (`kad.ops_rejected` in
/// `p2p/counters.csv`); empty when there were none.
fn rejected(files: &BTreeMap<String, CsvFile>) -> String {
    let bytes = files.get("p2p/counters.csv").and_then(|f| f.bytes().ok());
    let text = String::from_utf8_lossy(bytes.as_deref().unwrap_or_default());
    let n: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("kad.ops_rejected,"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    if n == 0 {
        return String::new();
    }
    format!(
        " {n} Kademlia operations were rejected because their node already ran as many as it may at once (`kad.ops_rejected` in `p2p/counters.csv`; a rejected request is a failed lookup)."
    )
}

/// How many of the directory's requests were retried, from the `attempts`
/// column of `lookups.csv`.
fn retried(files: &BTreeMap<String, CsvFile>) -> String {
    // Streamed: `lookups.csv` may be on disk, and large.
    let Some(Ok(reader)) = files.get("lookups.csv").map(CsvFile::reader) else {
        return "attempts not recorded".to_string();
    };
    let mut lines = reader.lines().map_while(Result::ok);
    let header = lines.next().unwrap_or_default();
    let Some(col) = header.split(',').position(|h| h == "attempts") else {
        return "attempts not recorded".to_string();
    };
    let (mut all, mut more) = (0u64, 0u64);
    for l in lines.filter(|l| l.starts_with("datacenter,")) {
        all += 1;
        let a: u32 = l
            .split(',')
            .nth(col)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        more += u64::from(a > 1);
    }
    format!("{more} of {all} requests were retried")
}

#[cfg(test)]
mod header_tests {
    use super::empty_header;

    fn header_of<T: serde::Serialize>(row: &T) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    /// A run without lookups writes the same header as a run with some, on
    /// either side.
    #[test]
    fn the_empty_lookups_header_is_the_rows_header() {
        let kad = kademlia::node::LookupRow {
            node: 0,
            kind: kademlia::OpKind::FindClosest,
            start_ns: 0,
            end_ns: 0,
            latency_ns: 0,
            hops: None,
            messages: 0,
            bytes: 0,
            answered: true,
            correct: None,
            exact: None,
            determined_ns: None,
            table: "joined",
            attempts: None,
        };
        assert_eq!(header_of(&kad), empty_header("lookups.csv"));
        let dc = datacenter::LookupRow {
            node: 0,
            kind: "get",
            start_ns: 0,
            end_ns: 0,
            latency_ns: 0,
            hops: None,
            messages: 0,
            bytes: 0,
            answered: true,
            correct: None,
            exact: None,
            determined_ns: None,
            table: "site",
            attempts: None,
        };
        assert_eq!(header_of(&dc), empty_header("lookups.csv"));
    }
}
