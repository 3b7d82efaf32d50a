//! Running a scenario: the P2P system and the data-center baseline, fed the
//! same workload.
//!
//! Both sides are separate simulations with the same seed. Clients are nodes
//! `0..clients` on both sides, attached to the same places of the same
//! topology, with the same churn (each client's churn stream depends only on
//! the seed and its id) and the same requests at the same times (each
//! client's workload stream likewise). The P2P side runs Kademlia on every
//! peer; the baseline runs a directory site (node `peers`, reached over the
//! topology: through the internet, or through a mesh's gateways) that the
//! clients ask instead. The workload starts when the warm-up ends, on both
//! sides at the same instant.

use crate::schema::{
    Components, DuplicateIds, ImplicitNodes, Scenario, TopologyKind, Tunnels, UnlabelledLinks,
};
use datacenter::{Client, DcNode, DirOp, Site, SiteConfig};
use kademlia::{
    Command, Config, IdTable, KadNode, Kademlia, Key, Observe, RpcTimeout, Termination,
};
use rand::RngExt;
use sim_core::churn::Group;
use sim_core::net::Network;
use sim_core::net::route::Access;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use sim_core::topo::{
    ComponentPolicy, Coordinates, CoordinatesConfig, DuplicatePolicy, GatewaySpec, ImplicitPolicy,
    LinkKind, LoadOptions, MeshConfig, MeshTopology, Metric, RouterGraph, TopoError, bundled,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The request both systems serve: look up a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup {
    /// The key, as 64 bits; the DHT widens it to its id width.
    pub key: u64,
}

/// A scenario that cannot be built (after the file parsed).
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct BuildError {
    /// The key path of the offending value.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn bad(field: &str, message: impl std::fmt::Display) -> BuildError {
    BuildError {
        field: field.to_string(),
        message: message.to_string(),
    }
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

/// The network both sides run over, and where the site is.
struct Built {
    net: Box<dyn Network>,
    peers: u32,
    site: u32,
    label: String,
}

fn topology(s: &Scenario) -> Result<Built, BuildError> {
    let a = &s.access;
    let t = &s.topology;
    match t.kind {
        TopologyKind::Internet => {
            let nodes = &t
                .nodes
                .ok_or_else(|| bad("topology.nodes", "required for kind = \"internet\""))?;
            if *nodes < 2 {
                return Err(bad("topology.nodes", "at least 2 peers are needed"));
            }
            let mut cfg = CoordinatesConfig {
                up: a.uplink,
                down: a.downlink,
                ..CoordinatesConfig::default()
            };
            cfg.access_median = a.latency;
            let mut rng = node_rng(s.scenario.seed, Purpose::Topology, 0, 0);
            // Peers 0..n, the site at n: placed like any host, but with a
            // data center's access delay.
            let c = Coordinates::generate(*nodes as usize + 1, &cfg, &mut rng)
                .map_err(|e| bad("topology", e))?;
            let pos = (0..=*nodes).map(|i| c.position(i)).collect();
            let mut delays: Vec<Duration> = (0..=*nodes).map(|i| c.access_delay(i)).collect();
            delays[*nodes as usize] = s.datacenter.wan_latency;
            let net = Coordinates::from_positions(pos, &delays, a.uplink, a.downlink);
            Ok(Built {
                net: Box::new(net),
                peers: *nodes,
                site: *nodes,
                label: format!("synthetic internet, {nodes} peers"),
            })
        }
        TopologyKind::Mesh => {
            let file = t
                .file
                .as_ref()
                .ok_or_else(|| bad("topology.file", "required for kind = \"mesh\""))?;
            let mesh = mesh_topology(s, file)?;
            let peers = mesh.mesh_hosts() as u32;
            let site = mesh.internet_host(0);
            Ok(Built {
                net: Box::new(mesh),
                peers,
                site,
                label: format!("city mesh {file}, {peers} hosts"),
            })
        }
    }
}

/// The city mesh of a `kind = "mesh"` scenario.
fn mesh_topology(s: &Scenario, file: &str) -> Result<MeshTopology, BuildError> {
    let (a, t) = (&s.access, &s.topology);
    let metric = match t.metric.as_str() {
        "hops" => Metric::Hops,
        "latency" => Metric::Latency,
        "etx" => Metric::Etx,
        other => {
            return Err(bad(
                "topology.metric",
                format!(
                    "{:?} is not a metric; expected hops, latency or etx",
                    clip_value(other)
                ),
            ));
        }
    };
    let defaults = MeshConfig::default();
    let (graph, gw) = load_mesh(t, file, &defaults)?;
    let site = Access {
        up: s.datacenter.capacity,
        down: s.datacenter.capacity,
        latency: s.datacenter.wan_latency,
    };
    let host = Access {
        up: a.uplink,
        down: a.downlink,
        latency: a.latency,
    };
    let cfg = MeshConfig {
        metric,
        gateways: gw,
        host_access: host,
        internet_hosts: vec![site],
        ..defaults
    };
    let mesh = MeshTopology::new(graph, &cfg).map_err(|e| match e {
        TopoError::Disconnected { .. } => bad("topology.components", e),
        _ => bad("topology", e),
    })?;
    Ok(mesh)
}

/// The scenario key whose setting fixes a topology error.
fn topo_key(e: &TopoError) -> &'static str {
    match e {
        TopoError::DanglingId { .. } => "topology.implicit_nodes",
        TopoError::DuplicateIds { .. } => "topology.duplicate_ids",
        TopoError::Disconnected { .. } => "topology.components",
        TopoError::Unlabelled { .. } => "topology.unlabelled_links",
        _ => "topology.file",
    }
}

/// Read a mesh's router graph under the `[topology]` data policies and
/// choose its gateways. A bundled name and a file with the same bytes are
/// read alike: the policies' defaults are the ones the bundled meshes
/// need, and the gateways default to the bundled mesh's documented ones.
fn load_mesh(
    t: &crate::schema::TopologySpec,
    file: &str,
    defaults: &MeshConfig,
) -> Result<(RouterGraph, GatewaySpec), BuildError> {
    let (text, name) = match bundled::text(file) {
        Some(text) => (text.to_string(), format!("{file}.json")),
        None => {
            let text = std::fs::read_to_string(file).map_err(|source| {
                let e = TopoError::Io {
                    file: clip_path(file),
                    source,
                };
                bad("topology.file", e)
            })?;
            (text, clip_path(file))
        }
    };
    let known = bundled::identify(&text);
    let opts = LoadOptions {
        implicit: match t.implicit_nodes.unwrap_or_default() {
            ImplicitNodes::Add => ImplicitPolicy::Add,
            ImplicitNodes::Error => ImplicitPolicy::Listed,
        },
        duplicates: match t.duplicate_ids.unwrap_or_default() {
            DuplicateIds::KeepFirst => DuplicatePolicy::KeepFirst,
            DuplicateIds::Rename => DuplicatePolicy::Rename,
            DuplicateIds::Error => DuplicatePolicy::Error,
        },
        components: match t.components.unwrap_or_default() {
            Components::Largest => ComponentPolicy::KeepLargest,
            Components::Keep => ComponentPolicy::KeepAll,
            Components::Error => ComponentPolicy::Error,
        },
        default_kind: match t.unlabelled_links.unwrap_or_default() {
            UnlabelledLinks::Wifi => Some(LinkKind::Wifi),
            UnlabelledLinks::Wifi60Ghz => Some(LinkKind::Wifi60GHz),
            UnlabelledLinks::Vpn => Some(LinkKind::Vpn),
            UnlabelledLinks::Fiber => Some(LinkKind::Fiber),
            UnlabelledLinks::Other => Some(LinkKind::Other),
            UnlabelledLinks::Error => None,
        },
        ..LoadOptions::default()
    };
    let graph =
        RouterGraph::from_json_str(&text, &name, &opts).map_err(|e| bad(topo_key(&e), e))?;
    let file_default = match known {
        Some(n) => bundled::recommended(n),
        None => bundled::detect_gateways(&graph),
    };
    let select = match &t.gateways {
        Some(sel) => {
            let select = sel
                .split(',')
                .map(|one| parse_selector(one.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            if graph.select(&select).is_empty() {
                return Err(bad(
                    "topology.gateways",
                    format!(
                        "{:?}: no router of {name} matches (after the topology.components policy); set topology.gateways to a role:NAME, name:PATTERN or id:ID of a router in the file",
                        clip_value(sel)
                    ),
                ));
            }
            select
        }
        None => match &file_default {
            Some(d) => d.gateways.clone(),
            None => {
                return Err(bad(
                    "topology.gateways",
                    format!(
                        "{name}: no router has role \"supernode\" or a name containing \"vpn\", so the gateways to the internet (and the data center) are unknown; set topology.gateways (e.g. \"role:gateway\", \"name:gw*\", \"id:17\")"
                    ),
                ));
            }
        },
    };
    let servers = match t.tunnels {
        Some(Tunnels::GatewayLinks) => true,
        Some(Tunnels::Labels) => false,
        None => file_default.as_ref().is_none_or(|d| d.servers),
    };
    Ok((
        graph,
        GatewaySpec {
            select,
            servers,
            uplink: defaults.gateways.uplink,
        },
    ))
}

#[cfg(test)]
#[path = "experiment_mesh_tests.rs"]
mod mesh_tests;

/// `s` cut to 60 characters, for error messages.
fn clip_value(s: &str) -> String {
    crate::bounds::clip(s, 60)
}

/// A path for error messages: its last 60 characters.
pub(crate) fn clip_path(p: &str) -> String {
    let n = p.chars().count();
    match p.char_indices().nth(n.saturating_sub(57)) {
        Some((cut, _)) if n > 60 => format!("...{}", &p[cut..]),
        _ => p.to_string(),
    }
}

fn parse_selector(s: &str) -> Result<sim_core::topo::NodeSelector, BuildError> {
    use sim_core::topo::NodeSelector;
    match s.split_once(':') {
        Some(("role", r)) => Ok(NodeSelector::Role(r.to_string())),
        Some(("name", n)) => Ok(NodeSelector::Name(n.to_string())),
        Some(("id", i)) => Ok(NodeSelector::Id(i.to_string())),
        _ => Err(bad(
            "topology.gateways",
            format!(
                "{:?}: expected role:NAME, name:PATTERN or id:ID (e.g. \"role:supernode\", \"name:vpn*\"), several separated by commas",
                clip_value(s)
            ),
        )),
    }
}

fn kad_config(s: &Scenario) -> Result<Config, BuildError> {
    let k = &s.kademlia;
    let cfg = Config {
        key_bits: u16::try_from(k.id_bits).map_err(|_| bad("kademlia.id_bits", "too large"))?,
        k: k.k as usize,
        replication: k.k as usize,
        alpha: k.alpha as usize,
        rpc_timeout: RpcTimeout::Fixed(k.rpc_timeout),
        bucket_spread: k.bucket_spread,
        join_refresh_targets: k.join_refresh_targets as usize,
        join_refresh_parallel: k.join_refresh_parallel as usize,
        termination: termination(s)?,
        ..Config::default()
    };
    cfg.validate().map_err(|e| bad("kademlia", e.0))?;
    Ok(cfg)
}

/// The lookup termination rule of `[kademlia]`.
fn termination(s: &Scenario) -> Result<Termination, BuildError> {
    let k = &s.kademlia;
    match k.termination.as_str() {
        "k-closest" => Ok(Termination::KClosest),
        "closest-answered" => {
            if k.termination_results == 0 || k.termination_results > k.k {
                return Err(bad(
                    "kademlia.termination_results",
                    format!("{}: expected 1 to k = {}", k.termination_results, k.k),
                ));
            }
            if k.termination_wait > TERMINATION_WAIT_MAX {
                return Err(bad(
                    "kademlia.termination_wait",
                    format!(
                        "{}: expected at most {TERMINATION_WAIT_MAX}",
                        k.termination_wait
                    ),
                ));
            }
            Ok(Termination::ClosestAnswered {
                n: k.termination_results as usize,
                wait: k.termination_wait,
            })
        }
        other => Err(bad(
            "kademlia.termination",
            format!(
                "{:?}: expected \"k-closest\" or \"closest-answered\"",
                other.chars().take(60).collect::<String>()
            ),
        )),
    }
}

/// Longest `kademlia.termination_wait`.
const TERMINATION_WAIT_MAX: Duration = Duration::from_secs(3_600);
/// Most `datacenter.retries`.
const RETRIES_MAX: u32 = 100;

/// The baseline client's retry policy: (attempt timeout, retries).
fn retry_policy(s: &Scenario) -> Result<(Duration, u32), BuildError> {
    let d = &s.datacenter;
    if d.attempt_timeout.0 == 0 || d.attempt_timeout > Duration::from_secs(3_600) {
        return Err(bad(
            "datacenter.attempt_timeout",
            format!("{}: expected more than 0 and at most 1h", d.attempt_timeout),
        ));
    }
    if d.retries > RETRIES_MAX {
        return Err(bad(
            "datacenter.retries",
            format!("{}: expected 0 to {RETRIES_MAX}", d.retries),
        ));
    }
    Ok((d.attempt_timeout, d.retries))
}

/// Everything a run produced, before it is written.
pub struct Outcome {
    /// CSV files by name (relative paths, e.g. `p2p/counters.csv`).
    pub files: BTreeMap<String, Vec<u8>>,
    /// Wall-clock and size figures of both sides.
    pub run_info: String,
    /// What the topology was.
    pub topology: String,
    /// What drove churn, for the report (empty without a trace).
    pub churn: String,
    /// Whether the run was cut short by the deterministic abort.
    pub aborted: bool,
}

/// Check a scenario's values beyond what parsing checks, without running.
pub fn check(s: &Scenario) -> Result<(), BuildError> {
    crate::bounds::check_values(s)?;
    if s.scenario.duration.0 == 0 {
        return Err(bad("scenario.duration", "must be positive"));
    }
    if s.workload.clients == 0 {
        return Err(bad("workload.clients", "at least one client is needed"));
    }
    if s.workload.mean_gap.0 == 0 {
        return Err(bad("workload.mean_gap", "must be positive"));
    }
    if s.datacenter.servers == 0 {
        return Err(bad("datacenter.servers", "at least one server is needed"));
    }
    if !matches!(s.kademlia.start.as_str(), "join" | "warm") {
        return Err(bad(
            "kademlia.start",
            format!("{:?}: expected \"join\" or \"warm\"", s.kademlia.start),
        ));
    }
    kad_config(s)?;
    retry_policy(s)?;
    if let Some(c) = &s.churn {
        crate::churn::check_keys(c)?;
    }
    match s.topology.kind {
        TopologyKind::Internet if s.topology.nodes.is_none() => {
            return Err(bad("topology.nodes", "required for kind = \"internet\""));
        }
        TopologyKind::Mesh => match &s.topology.file {
            None => return Err(bad("topology.file", "required for kind = \"mesh\"")),
            Some(f)
                if !bundled::NAMES.contains(&f.as_str()) && !std::path::Path::new(f).is_file() =>
            {
                return Err(bad(
                    "topology.file",
                    format!(
                        "{f:?}: no such file, and not a bundled mesh ({})",
                        bundled::NAMES.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        },
        _ => {}
    }
    if let Some(m) = s.datacenter.mtbf
        && m.0 == 0
    {
        return Err(bad("datacenter.mtbf", "must be positive"));
    }
    Ok(())
}

/// Build the scenario's network as `run` would (load and check the topology
/// file, resolve gateways), without simulating. Returns the number of peers.
pub fn check_topology(s: &Scenario) -> Result<u32, BuildError> {
    let peers = topology_peers(s)?;
    check_peers(s, peers)?;
    Ok(peers)
}

/// Build the scenario's network and return its number of peers. Depends
/// only on `[topology]`, `[access]` and `[datacenter]` (and for the
/// synthetic internet on the seed, which does not change whether it can be
/// built).
pub fn topology_peers(s: &Scenario) -> Result<u32, BuildError> {
    Ok(topology(s).map_err(gateway_key)?.peers)
}

/// `[topology]` with the mesh data policies a run uses written out: the
/// defaults of `implicit_nodes`, `duplicate_ids`, `components` and
/// `unlabelled_links`, and the `tunnels` rule the file's gateways imply. A
/// resolved scenario (what `validate` prints, what a run id hashes) then
/// says how its file was read, whatever later defaults become. Unchanged
/// for the synthetic internet. Call it on a scenario whose topology
/// builds.
pub fn resolved_topology(
    t: &crate::schema::TopologySpec,
) -> Result<crate::schema::TopologySpec, BuildError> {
    let mut t = t.clone();
    if t.kind != TopologyKind::Mesh {
        return Ok(t);
    }
    let Some(file) = t.file.clone() else {
        return Ok(t);
    };
    if t.tunnels.is_none() {
        let (_, gw) = load_mesh(&t, &file, &MeshConfig::default())?;
        t.tunnels = Some(if gw.servers {
            Tunnels::GatewayLinks
        } else {
            Tunnels::Labels
        });
    }
    t.implicit_nodes = Some(t.implicit_nodes.unwrap_or_default());
    t.duplicate_ids = Some(t.duplicate_ids.unwrap_or_default());
    t.components = Some(t.components.unwrap_or_default());
    t.unlabelled_links = Some(t.unlabelled_links.unwrap_or_default());
    Ok(t)
}

/// A mesh whose gateways cannot be found is fixed by `topology.gateways`.
fn gateway_key(mut e: BuildError) -> BuildError {
    if e.field == "topology"
        && (e.message.contains("no router matches the gateway")
            || e.message.contains("need at least one gateway"))
    {
        e.field = "topology.gateways".into();
    }
    e
}

/// The checks that need the number of peers: enough peers, clients among
/// them, a bounded number of churn transitions, a churn trace read and
/// mapped onto the peers. Returns `[churn]` with the settings in effect
/// written out (see [`crate::churn::Prepared::resolved`]).
pub fn check_peers(
    s: &Scenario,
    peers: u32,
) -> Result<Option<crate::schema::ChurnSpec>, BuildError> {
    crate::bounds::check_peers(s, peers)?;
    Ok(crate::churn::prepare(s, peers)?.map(|c| c.resolved))
}

/// Progress callback: (side, simulated now, simulated end, events so far).
pub type Progress<'a> = &'a mut dyn FnMut(&str, Time, Time, u64);

/// Run both sides. `abort_after` stops the P2P side after that many events
/// (a deterministic interruption, for tests).
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
) -> Result<Outcome, BuildError> {
    check(s)?;
    let end = Time(s.scenario.warmup.0.saturating_add(s.scenario.duration.0));
    let start_load = Time(s.scenario.warmup.0);
    let mut files = BTreeMap::new();
    let mut info = String::from("side,key,value\n");

    // ---------------------------------------------------------------- P2P
    let built = topology(s)?;
    crate::bounds::check_peers(s, built.peers)?;
    // One model for both sides (a trace is read once and shared).
    let churn = crate::churn::prepare(s, built.peers)?;
    let churn_note = churn.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    let clients = s.workload.clients;
    let label = built.label.clone();
    let cfg = Arc::new(kad_config(s)?);
    let mut sc = SimConfig::new(
        s.scenario.seed,
        SimpleNet::constant(Duration::ZERO, s.access.uplink),
    );
    sc.sample_every = Some(s.output.sample_every);
    sc.log_requests = true;
    let mut p2p: Sim<Peer> = Sim::new(sc.clone());
    p2p.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        p2p.set_churn(c.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
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
    let load = (&client_ids[..], s.workload.mean_gap);
    let aborted = drive(
        &mut p2p,
        "P2P",
        (start_load, end),
        load,
        abort_after,
        progress,
    )?;
    let p2p_files = finish(&mut p2p, "p2p", &mut info)?;
    drop(p2p);
    if aborted {
        return Ok(Outcome {
            files,
            run_info: info,
            topology: label,
            churn: churn_note,
            aborted: true,
        });
    }

    // ----------------------------------------------------------- baseline
    let built = topology(s)?;
    let mut dc: Sim<Dir> = Sim::new(sc);
    dc.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(c) = &churn {
        dc.set_churn(c.model.clone()).map_err(|e| bad("churn", e))?;
    }
    if let Some(mtbf) = s.datacenter.mtbf {
        let g = Group {
            name: "datacenter".into(),
            members: vec![built.site],
            mtbf,
            mttr: s.datacenter.mttr,
        };
        dc.set_outage_groups(&[g])
            .map_err(|e| bad("datacenter", e))?;
    }
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
        "data center",
        (start_load, end),
        load,
        None,
        progress,
    )?;
    let dc_files = finish(&mut dc, "datacenter", &mut info)?;

    // ------------------------------------------------------------ outputs
    let merged = merge_tables(&p2p_files, &dc_files, "lookups.csv");
    files.insert("lookups.csv".to_string(), merged);
    let merged = merge_tables(&p2p_files, &dc_files, "requests.csv");
    files.insert("requests.csv".to_string(), merged);
    for (side, side_files) in [("p2p", p2p_files), ("datacenter", dc_files)] {
        for (name, bytes) in side_files {
            if name != "lookups.csv" && name != "requests.csv" {
                files.insert(format!("{side}/{name}"), bytes);
            }
        }
    }
    Ok(Outcome {
        files,
        run_info: info,
        topology: label,
        churn: churn_note,
        aborted: false,
    })
}

/// Run `sim` to the warm-up's end, start the workload, run to the end, in
/// slices so that progress can be shown. Returns true if the deterministic
/// abort fired.
fn drive<N: Node<Request = Lookup>>(
    sim: &mut Sim<N>,
    side: &str,
    (start_load, end): (Time, Time),
    (clients, gap): (&[NodeId], Duration),
    abort_after: Option<u64>,
    progress: Progress<'_>,
) -> Result<bool, BuildError> {
    const SLICES: u64 = 100;
    let mut events = 0u64;
    let mut start_workload = Some(|sim: &mut Sim<N>| {
        // Poisson arrivals of lookups of uniform random keys, drawn from each
        // client's own workload stream.
        let w = Poisson::new(gap, |_: NodeId, rng: &mut NodeRng| Lookup {
            key: rng.random::<u64>(),
        })
        .map_err(|e| bad("workload.mean_gap", e))?;
        sim.add_workload(clients, w)
            .map(|_| ())
            .map_err(|e| bad("workload", e))
    });
    for phase_end in [start_load, end] {
        let from = sim.now().0;
        for i in 1..=SLICES {
            let t = from + ((phase_end.0 - from) as u128 * i as u128 / SLICES as u128) as u64;
            let limits = RunLimits {
                until: Some(Time(t)),
                abort_after: abort_after.map(|a| a.saturating_sub(events).max(1)),
                ..Default::default()
            };
            let out = sim.run(limits).map_err(|e| bad("run", e))?;
            events += out.events;
            progress(side, sim.now(), end, events);
            if out.reason == StopReason::Aborted {
                return Ok(true);
            }
        }
        if let Some(f) = start_workload.take() {
            f(sim)?;
        }
    }
    Ok(false)
}

/// Close a side: its metrics as CSV files, its run info appended to `info`.
fn finish<N: Node<Request = Lookup>>(
    sim: &mut Sim<N>,
    side: &str,
    info: &mut String,
) -> Result<BTreeMap<String, Vec<u8>>, BuildError> {
    sim.finish_metrics();
    for line in sim.run_info().to_csv().lines().skip(1) {
        info.push_str(side);
        info.push(',');
        info.push_str(line);
        info.push('\n');
    }
    sim.metrics_mut()
        .to_csv_files()
        .map_err(|e| bad("output", e))
}

/// The header of a table no row was written to (a run whose workload
/// issued no request): its columns are still written.
fn empty_header(name: &str) -> &'static str {
    match name {
        "lookups.csv" => {
            "node,kind,start_ns,end_ns,latency_ns,hops,messages,bytes,success,exact,determined_ns,table,attempts"
        }
        "requests.csv" => "time_ns,workload,client,seq,delivered,request",
        _ => "",
    }
}

/// One table from both sides, with a leading `system` column.
fn merge_tables(
    p2p: &BTreeMap<String, Vec<u8>>,
    dc: &BTreeMap<String, Vec<u8>>,
    name: &str,
) -> Vec<u8> {
    let mut out = String::new();
    if !p2p.contains_key(name) && !dc.contains_key(name) && !empty_header(name).is_empty() {
        out = format!("system,{}\n", empty_header(name));
    }
    for (system, files) in [("p2p", p2p), ("datacenter", dc)] {
        let Some(bytes) = files.get(name) else {
            continue;
        };
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if out.is_empty() && !header.is_empty() {
            out.push_str("system,");
            out.push_str(header);
            out.push('\n');
        }
        for l in lines {
            out.push_str(system);
            out.push(',');
            out.push_str(l);
            out.push('\n');
        }
    }
    out.into_bytes()
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
            success: true,
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
            success: true,
            exact: None,
            determined_ns: None,
            table: "site",
            attempts: None,
        };
        assert_eq!(header_of(&dc), empty_header("lookups.csv"));
    }
}
