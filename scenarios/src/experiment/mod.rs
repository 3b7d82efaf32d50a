//! Running a scenario: the P2P system and the data-center baseline, fed the
//! same workload, one experiment per file.
//!
//! A scenario's experiment table decides what runs: `[workload]` runs the
//! lookup experiment ([`lookup`]: DHT lookups against a directory),
//! `[storage]` the storage experiment ([`storage`]: P2P backup against
//! data-center storage), `[compute]` the compute experiment ([`compute`]:
//! jobs on volunteers' idle machines against a data center's servers). This module holds what every experiment shares:
//! the network both sides run over ([`topology`](fn@topology)), the checks,
//! the slices a side is driven in with progress ([`Driver`]), a side's
//! metrics as files ([`finish`]) and the merge of the two sides' tables
//! ([`merge_tables`]). The runner ([`crate::runner`]) writes any
//! experiment's [`Outcome`] with the same guarantees (identical request
//! logs checked, staged output, provenance).
//!
//! Both sides are separate simulations with the same seed. Clients are nodes
//! `0..clients` on both sides, attached to the same places of the same
//! topology, with the same churn (each client's churn stream depends only on
//! the seed and its id) and the same requests at the same times (each
//! client's workload stream likewise). The baseline's site is node `peers`,
//! reached over the topology: through the internet, or through a mesh's
//! gateways. The workload starts when the warm-up ends, on both sides at the
//! same instant.

pub mod city;
pub mod compute;
pub mod lookup;
pub mod storage;

use crate::schema::{
    Components, DuplicateIds, ImplicitNodes, Scenario, TopologyKind, Tunnels, UnlabelledLinks,
};
use kademlia::{Config, RpcTimeout, Termination};
use sim_core::metrics::CsvFile;
use sim_core::net::Network;
use sim_core::net::route::Access;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use sim_core::topo::{
    ComponentPolicy, Coordinates, CoordinatesConfig, DuplicatePolicy, GatewaySpec, ImplicitPolicy,
    LinkKind, LoadOptions, MeshConfig, MeshTopology, Metric, RouterGraph, TopoError, bundled,
};
use std::collections::BTreeMap;

/// The experiments a scenario can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `[workload]`: lookups.
    Lookup,
    /// `[storage]`: storage.
    Storage,
    /// `[compute]`: jobs.
    Compute,
    /// `[workload]`, `[storage]` and `[compute]` together: all three at
    /// once on every home of a city mesh.
    City,
}

/// The experiment `s` runs: the one experiment table it has.
pub fn kind(s: &Scenario) -> Result<Kind, BuildError> {
    let tables = [
        ("workload", s.workload.is_some(), Kind::Lookup),
        ("storage", s.storage.is_some(), Kind::Storage),
        ("compute", s.compute.is_some(), Kind::Compute),
    ];
    let set: Vec<_> = tables.iter().filter(|t| t.1).collect();
    if set.len() == tables.len() {
        return Ok(Kind::City);
    }
    match set.as_slice() {
        [one] => Ok(one.2),
        [] => Err(bad(
            "workload",
            "no experiment: add a `[workload]` table (lookups: `clients`, `mean_gap`), a `[storage]` table (objects written and read) or a `[compute]` table (jobs run)",
        )),
        [_, second, ..] => Err(bad(
            second.0,
            format!(
                "a scenario runs one experiment, or all three at once, but {} are set: keep one, or add the third",
                set.iter()
                    .map(|t| format!("`[{}]`", t.0))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        )),
    }
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

pub(crate) fn bad(field: &str, message: impl std::fmt::Display) -> BuildError {
    BuildError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// The network both sides run over, and where the site is.
pub(crate) struct Built {
    pub(crate) net: Box<dyn Network>,
    /// Peers: nodes `0..peers`.
    pub(crate) peers: u32,
    /// The site's node.
    pub(crate) site: u32,
    /// Nodes after the site reserved for newcomers that replace departed
    /// peers (synthetic internet only; 0 on a mesh).
    pub(crate) spares: u32,
    pub(crate) label: String,
    /// The links where mesh traffic meets the internet, both directions
    /// of each gateway's tunnel (a mesh only).
    pub(crate) gateways: Vec<GatewayLink>,
    /// Routers of the mesh (0 on the synthetic internet).
    pub(crate) routers: u32,
}

/// One direction of a gateway's link to the internet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GatewayLink {
    /// `gw-R→internet` or `internet→gw-R`, R the gateway's router index.
    pub(crate) label: String,
    /// R: the gateway's router index.
    pub(crate) gateway: u32,
    pub(crate) link: sim_core::net::LinkId,
    pub(crate) capacity: Rate,
}

/// The network of `s`, with the site at node `peers` and, on the synthetic
/// internet, `spares` more hosts after it for newcomers (placed like any
/// peer; a mesh has none).
pub(crate) fn topology(s: &Scenario, spares: u32) -> Result<Built, BuildError> {
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
            // data center's access delay and link; newcomers after it.
            let total = *nodes as usize + 1 + spares as usize;
            let c = Coordinates::generate(total, &cfg, &mut rng).map_err(|e| bad("topology", e))?;
            let pos = (0..total as u32).map(|i| c.position(i)).collect();
            let mut delays: Vec<Duration> = (0..total as u32).map(|i| c.access_delay(i)).collect();
            delays[*nodes as usize] = s.datacenter.wan_latency;
            let mut net = Coordinates::from_positions(pos, &delays, a.uplink, a.downlink);
            net.set_capacity(*nodes, s.datacenter.capacity, s.datacenter.capacity);
            Ok(Built {
                net: Box::new(net),
                peers: *nodes,
                site: *nodes,
                spares,
                label: format!("synthetic internet, {nodes} peers"),
                gateways: Vec::new(),
                routers: 0,
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
            let mut gateways = Vec::new();
            for &g in mesh.gateways() {
                for (label, link) in [
                    (format!("gw-{g}→internet"), mesh.gateway_egress(g)),
                    (format!("internet→gw-{g}"), mesh.gateway_ingress(g)),
                ] {
                    if let Some(link) = link {
                        let capacity =
                            sim_core::net::route::Topology::links(&mesh)[link.index()].capacity();
                        gateways.push(GatewayLink {
                            label,
                            gateway: g,
                            link,
                            capacity,
                        });
                    }
                }
            }
            let routers = mesh.router_count() as u32;
            Ok(Built {
                net: Box::new(mesh),
                peers,
                site,
                spares: 0,
                label: format!("city mesh {file}, {peers} hosts"),
                gateways,
                routers,
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
#[path = "mesh_tests.rs"]
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

pub(crate) fn kad_config(s: &Scenario) -> Result<Config, BuildError> {
    let k = &s.kademlia;
    if k.refresh && k.refresh_interval < Duration::from_secs(1) {
        return Err(bad(
            "kademlia.refresh_interval",
            format!(
                "{}: expected at least 1s (or kademlia.refresh = false)",
                k.refresh_interval
            ),
        ));
    }
    let cfg = Config {
        key_bits: u16::try_from(k.id_bits).map_err(|_| bad("kademlia.id_bits", "too large"))?,
        k: k.k as usize,
        replication: k.k as usize,
        alpha: k.alpha as usize,
        rpc_timeout: RpcTimeout::Fixed(k.rpc_timeout),
        bucket_spread: k.bucket_spread,
        join_refresh_targets: k.join_refresh_targets as usize,
        join_refresh_parallel: k.join_refresh_parallel as usize,
        lookup_peers_max: k.lookup_peers_max as usize,
        termination: termination(s)?,
        refresh_interval: k.refresh.then_some(k.refresh_interval),
        refresh_on_join: k.refresh_on_join,
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
pub(crate) fn retry_policy(s: &Scenario) -> Result<(Duration, u32), BuildError> {
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

/// Schedule the site's outages (`datacenter.mtbf`, `mttr`) on a baseline
/// side.
pub(crate) fn site_outages<N: Node>(
    dc: &mut Sim<N>,
    s: &Scenario,
    site: u32,
) -> Result<(), BuildError>
where
    N::Request: std::fmt::Debug,
{
    if let Some(mtbf) = s.datacenter.mtbf {
        let g = sim_core::churn::Group {
            name: "datacenter".into(),
            members: vec![site],
            mtbf,
            mttr: s.datacenter.mttr,
        };
        dc.set_outage_groups(&[g])
            .map_err(|e| bad("datacenter", e))?;
    }
    Ok(())
}

/// The random stream of gateway outages: stream `(seed, this, R, 0)` draws
/// the outages of gateway router R.
const GATEWAY_OUTAGE_STREAM: Purpose = Purpose::Custom(9);

/// One outage of a gateway: both directions of its link to the internet
/// are cut over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GatewayOutage {
    /// The gateway's router index.
    pub(crate) gateway: u32,
    pub(crate) from: Time,
    pub(crate) to: Time,
}

/// The gateway outages of a run (`topology.gateway_mtbf`, `gateway_mttr`),
/// as scheduled on a side by [`gateway_outages`]: none when the keys are
/// absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GatewayOutages {
    /// Whether gateway outages were asked for.
    on: bool,
    /// The gateway links, as in [`Built::gateways`].
    links: Vec<GatewayLink>,
    /// Number of gateways.
    gateways: usize,
    /// Every outage, by gateway (ascending router index) then time; one
    /// gateway's outages are disjoint and inside the run.
    pub(crate) outages: Vec<GatewayOutage>,
    /// The run's end.
    end: Time,
}

/// The columns of `gateway-outages.csv`.
pub(crate) const GATEWAY_OUTAGES_HEADER: &str = "gateway,link,from_ns,to_ns";

impl GatewayOutages {
    /// `gateway-outages.csv`: one row per outage interval and direction of
    /// the gateway's link (`gw-R`, the link's label as in `gateways.csv`,
    /// the interval in ns, clipped to the run).
    pub(crate) fn csv(&self) -> String {
        let mut out = format!("{GATEWAY_OUTAGES_HEADER}\n");
        for o in &self.outages {
            for l in self.links.iter().filter(|l| l.gateway == o.gateway) {
                out.push_str(&format!(
                    "gw-{},{},{},{}\n",
                    o.gateway, l.label, o.from.0, o.to.0
                ));
            }
        }
        out
    }

    /// The report's sentence on the outages (empty without them).
    pub(crate) fn note(&self, s: &Scenario) -> String {
        if !self.on {
            return String::new();
        }
        let n = self.outages.len();
        let total: u128 = self
            .outages
            .iter()
            .map(|o| u128::from(o.to.0 - o.from.0))
            .sum();
        let mean = if n == 0 {
            String::from("none drawn")
        } else {
            format!("mean length {}", round_duration(total / n as u128))
        };
        let span = u128::from(self.end.0) * self.gateways as u128;
        let share = if span == 0 {
            0.0
        } else {
            100.0 * total as f64 / span as f64
        };
        format!(
            "Gateway outages: {n} intervals over {} gateways ({mean}; {share:.1}% of gateway time out, drawn with a mean of {} between outages and {} per outage), during which the homes behind a gateway have no internet path (routes are static) while traffic inside the mesh goes on; see `gateway-outages.csv`.",
            self.gateways,
            s.topology.gateway_mtbf.unwrap_or_default(),
            s.topology.gateway_mttr(),
        )
    }

    /// `notes` with the outages' sentence appended, and
    /// `gateway-outages.csv` added to `files` (both unchanged without
    /// outages).
    pub(crate) fn report(
        &self,
        s: &Scenario,
        notes: String,
        files: &mut BTreeMap<String, impl From<Vec<u8>>>,
    ) -> String {
        if !self.on {
            return notes;
        }
        files.insert(
            "gateway-outages.csv".to_string(),
            self.csv().into_bytes().into(),
        );
        if notes.is_empty() {
            self.note(s)
        } else {
            format!("{notes} {}", self.note(s))
        }
    }
}

/// `ns` for a sentence: hours, minutes or seconds with one decimal.
fn round_duration(ns: u128) -> String {
    let s = ns as f64 / 1e9;
    if s >= 3_600.0 {
        format!("{:.1} h", s / 3_600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

/// Schedule the gateways' outages (`topology.gateway_mtbf`, `gateway_mttr`)
/// on a side: each gateway alternates exponential in-service periods (mean
/// `gateway_mtbf`) and outages (mean `gateway_mttr`) over the whole run,
/// warm-up included, started in equilibrium, drawn from its own stream of
/// the seed (so the same on both sides, and unchanged when other gateways
/// are added); both directions of its link are cut for each outage. Routes
/// are static: the homes whose nearest gateway is out have no internet
/// path while it lasts. Nothing is scheduled when the keys are absent.
pub(crate) fn gateway_outages<N: Node>(
    sim: &mut Sim<N>,
    s: &Scenario,
    gateways: &[GatewayLink],
) -> Result<GatewayOutages, BuildError>
where
    N::Request: std::fmt::Debug,
{
    let Some(mtbf) = s.topology.gateway_mtbf else {
        return Ok(GatewayOutages::default());
    };
    let mttr = s.topology.gateway_mttr();
    let end = Time(s.scenario.warmup.0.saturating_add(s.scenario.duration.0));
    let mut routers: Vec<u32> = gateways.iter().map(|g| g.gateway).collect();
    routers.sort_unstable();
    routers.dedup();
    let key = |e: &dyn std::fmt::Display| bad("topology.gateway_mtbf", e);
    let mut outages = Vec::new();
    for &r in &routers {
        let group = sim_core::churn::Group {
            name: format!("gw-{r}"),
            members: Vec::new(),
            mtbf,
            mttr,
        };
        let rng = node_rng(s.scenario.seed, GATEWAY_OUTAGE_STREAM, r, 0);
        let events =
            sim_core::churn::GroupOutages::new(&[group], vec![rng]).map_err(|e| key(&e))?;
        let first = outages.len();
        let mut since: Option<Time> = None;
        for ev in events {
            if ev.time >= end {
                break;
            }
            match (ev.out, since) {
                (true, None) => since = Some(ev.time),
                (false, Some(from)) => {
                    since = None;
                    push_outage(&mut outages, first, r, from, ev.time);
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            push_outage(&mut outages, first, r, from, end);
        }
    }
    for o in &outages {
        for l in gateways.iter().filter(|l| l.gateway == o.gateway) {
            sim.cut_link_at(l.link, o.from, true).map_err(|e| key(&e))?;
            if o.to < end {
                sim.cut_link_at(l.link, o.to, false).map_err(|e| key(&e))?;
            }
        }
    }
    Ok(GatewayOutages {
        on: true,
        links: gateways.to_vec(),
        gateways: routers.len(),
        outages,
        end,
    })
}

/// Append gateway `r`'s outage `[from, to)` to its outages (from index
/// `first` on): empty ones are dropped, one that starts where the last
/// ends extends it.
fn push_outage(v: &mut Vec<GatewayOutage>, first: usize, r: u32, from: Time, to: Time) {
    if to <= from {
        return;
    }
    if v.len() > first
        && let Some(last) = v.last_mut()
        && last.to == from
    {
        last.to = to;
        return;
    }
    v.push(GatewayOutage {
        gateway: r,
        from,
        to,
    });
}

/// Sample instants: every `every` from `from` to `end`, and `end`.
pub(crate) fn sample_times(from: Time, end: Time, every: Duration) -> Vec<Time> {
    let mut v = Vec::new();
    let mut t = from.0;
    while t < end.0 {
        v.push(Time(t));
        t = t.saturating_add(every.0);
    }
    v.push(end);
    v
}

/// Where a run's tables stream their rows once a table holds `threshold`
/// bytes ([`sim_core::metrics::Metrics::stream_rows`]): a folder beside the
/// result's, made when the first table writes out. The lookup experiment
/// streams its sides' tables and merges them on disk; the other
/// experiments, whose tables are read to make their derived files, keep
/// them in memory.
#[derive(Debug, Clone)]
pub struct RowFiles {
    /// The folder.
    pub dir: std::path::PathBuf,
    /// Bytes a table holds before it writes them out.
    pub threshold: usize,
}

impl RowFiles {
    /// Stream `sim`'s tables into `<dir>/<side>-<table>.csv`.
    pub(crate) fn stream<N: Node>(&self, sim: &mut Sim<N>, side: &str)
    where
        N::Request: std::fmt::Debug,
    {
        sim.metrics_mut().stream_rows(sim_core::metrics::RowStream {
            dir: self.dir.clone(),
            prefix: format!("{side}-"),
            threshold: self.threshold,
        });
    }
}

/// Everything a run produced, before it is written.
pub struct Outcome {
    /// CSV files by name (relative paths, e.g. `p2p/counters.csv`): their
    /// bytes, or the file in [`RowFiles::dir`] they were streamed to.
    pub files: BTreeMap<String, CsvFile>,
    /// Wall-clock and size figures of both sides.
    pub run_info: String,
    /// What the topology was.
    pub topology: String,
    /// What drove churn, for the report (empty without a trace).
    pub churn: String,
    /// The experiment's paragraph for the report: what ran and how each
    /// side ends a request.
    pub notes: String,
    /// The combined experiment's paragraphs for its parts' reports:
    /// lookups, storage, compute.
    pub part_notes: Option<[String; 3]>,
    /// Which experiment ran (the report to write).
    pub kind: Kind,
    /// Whether the run was cut short by the deterministic abort.
    pub aborted: bool,
}

/// Check a scenario's values beyond what parsing checks, without running.
pub fn check(s: &Scenario) -> Result<(), BuildError> {
    crate::bounds::check_values(s)?;
    if s.scenario.duration.0 == 0 {
        return Err(bad("scenario.duration", "must be positive"));
    }
    match kind(s)? {
        Kind::Lookup => lookup::check(s)?,
        Kind::Storage => storage::check(s)?,
        Kind::Compute => compute::check(s)?,
        Kind::City => city::check(s)?,
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
    Ok(topology(s, 0).map_err(gateway_key)?.peers)
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
    if t.gateway_mtbf.is_some() {
        t.gateway_mttr = Some(t.gateway_mttr());
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
    match kind(s)? {
        Kind::Storage => storage::check_peers(s, peers)?,
        Kind::Compute => compute::check_peers(s, peers)?,
        Kind::City => city::check_peers(s, peers)?,
        Kind::Lookup => {}
    }
    Ok(crate::churn::prepare(s, peers)?.map(|c| c.resolved))
}

/// The clients of `s`: the first peers that issue requests (`peers`: the
/// network's size).
pub fn clients(s: &Scenario, peers: u32) -> u32 {
    match (&s.workload, &s.storage, &s.compute) {
        (Some(w), Some(st), Some(c)) => w.clients.max(st.clients.unwrap_or(peers)).max(c.clients),
        (Some(w), _, _) => w.clients,
        (None, Some(st), _) => st.clients.unwrap_or(peers),
        (None, None, Some(c)) => c.clients,
        (None, None, None) => 0,
    }
}

/// Write out the default of `storage.clients` (every peer), so that a
/// resolved scenario says how many clients ran.
pub fn resolve_clients(s: &mut Scenario, peers: u32) {
    if let Some(st) = &mut s.storage {
        st.clients.get_or_insert(peers);
    }
    if let Some(c) = &mut s.compute {
        compute::resolve(c);
    }
}

/// Progress callback: (side, simulated now, simulated end, events so far).
pub type Progress<'a> = &'a mut dyn FnMut(&str, Time, Time, u64);

/// Run the scenario's experiment, both sides. `abort_after` stops the P2P
/// side after that many events (a deterministic interruption, for tests).
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
    rows: Option<&RowFiles>,
) -> Result<Outcome, BuildError> {
    check(s)?;
    match kind(s)? {
        Kind::Lookup => lookup::run(s, abort_after, progress, rows),
        Kind::Storage => storage::run(s, abort_after, progress),
        Kind::Compute => compute::run(s, abort_after, progress),
        Kind::City => city::run(s, abort_after, progress),
    }
}

/// A workload whose requests are converted into the node's request type
/// (`From`): how one workload source feeds both an experiment's own node
/// type and a node that runs several experiments' layers. The conversion
/// changes nothing else: same gaps, same draws.
pub(crate) struct Mapped<W, R> {
    inner: W,
    _req: std::marker::PhantomData<fn() -> R>,
}

impl<W, R> Mapped<W, R> {
    pub(crate) fn new(inner: W) -> Mapped<W, R> {
        Mapped {
            inner,
            _req: std::marker::PhantomData,
        }
    }
}

impl<W: Workload<R>, R, S: From<R>> Workload<S> for Mapped<W, R> {
    fn next(&mut self, client: NodeId, now: Time, rng: &mut NodeRng) -> Option<(Duration, S)> {
        self.inner
            .next(client, now, rng)
            .map(|(gap, r)| (gap, S::from(r)))
    }
}

/// Events a side runs between two progress reports at most.
const PROGRESS_EVERY_EVENTS: u64 = 1_000_000;

/// Runs one side in slices, reporting progress after each and stopping at
/// the deterministic abort.
pub(crate) struct Driver<'a, 'p> {
    /// `P2P` or `data center`.
    pub side: &'a str,
    /// The run's end (for progress).
    pub end: Time,
    /// Events run so far.
    pub events: u64,
    /// Stop after this many events in all.
    pub abort_after: Option<u64>,
    /// Where progress goes.
    pub progress: &'a mut Progress<'p>,
}

impl<'a, 'p> Driver<'a, 'p> {
    /// A side's driver, no event run yet.
    pub fn new(
        side: &'a str,
        end: Time,
        abort_after: Option<u64>,
        progress: &'a mut Progress<'p>,
    ) -> Driver<'a, 'p> {
        Driver {
            side,
            end,
            events: 0,
            abort_after,
            progress,
        }
    }

    /// Run `sim` up to `until`. Returns true if the deterministic abort
    /// fired.
    pub fn run_to<N: Node>(&mut self, sim: &mut Sim<N>, until: Time) -> Result<bool, BuildError>
    where
        N::Request: std::fmt::Debug,
    {
        // In chunks of events as well as of simulated time: a slice in
        // which most of the work happens (every node joining at once) still
        // reports progress. Stopping on the budget and going on changes
        // nothing in what runs.
        loop {
            let limits = RunLimits {
                until: Some(until),
                max_events: Some(PROGRESS_EVERY_EVENTS),
                abort_after: self
                    .abort_after
                    .map(|a| a.saturating_sub(self.events).max(1)),
            };
            let out = sim.run(limits).map_err(|e| bad("run", e))?;
            self.events += out.events;
            (self.progress)(self.side, sim.now(), self.end, self.events);
            if out.reason != StopReason::Budget {
                return Ok(out.reason == StopReason::Aborted);
            }
        }
    }

    /// Run `sim` up to `until` in `slices` equal slices.
    pub fn run_sliced<N: Node>(
        &mut self,
        sim: &mut Sim<N>,
        until: Time,
        slices: u64,
    ) -> Result<bool, BuildError>
    where
        N::Request: std::fmt::Debug,
    {
        let from = sim.now().0;
        for i in 1..=slices {
            let t =
                from + ((until.0.saturating_sub(from)) as u128 * i as u128 / slices as u128) as u64;
            if self.run_to(sim, Time(t))? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Close a side: its metrics as CSV files (streamed tables as their files
/// on disk), its run info appended to `info`.
pub(crate) fn finish<N: Node>(
    sim: &mut Sim<N>,
    side: &str,
    info: &mut String,
) -> Result<BTreeMap<String, CsvFile>, BuildError>
where
    N::Request: std::fmt::Debug,
{
    sim.finish_metrics();
    for line in sim.run_info().to_csv().lines().skip(1) {
        info.push_str(side);
        info.push(',');
        info.push_str(line);
        info.push('\n');
    }
    let files = sim
        .metrics_mut()
        .take_csv_files()
        .map_err(|e| bad("output", e))?;
    let streamed = files
        .values()
        .filter(|f| matches!(f, CsvFile::Disk(_)))
        .count();
    info.push_str(&format!("{side},tables_streamed,{streamed}\n"));
    Ok(files)
}

/// [`finish`], every file as bytes (for the experiments that read their
/// tables to derive files, and do not stream them).
pub(crate) fn finish_in_memory<N: Node>(
    sim: &mut Sim<N>,
    side: &str,
    info: &mut String,
) -> Result<BTreeMap<String, Vec<u8>>, BuildError>
where
    N::Request: std::fmt::Debug,
{
    finish(sim, side, info)?
        .into_iter()
        .map(|(name, f)| match f {
            CsvFile::Bytes(b) => Ok((name, b)),
            CsvFile::Disk(p) => std::fs::read(&p)
                .map(|b| (name, b))
                .map_err(|e| bad("output", format!("reading {}: {e}", p.display()))),
        })
        .collect()
}

/// Files kept in memory as output files.
pub(crate) fn as_outputs(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, CsvFile> {
    files
        .into_iter()
        .map(|(k, v)| (k, CsvFile::Bytes(v)))
        .collect()
}

/// One table from both sides, with a leading `system` column; a table
/// neither side wrote gets `empty_header` (its columns without `system`).
pub(crate) fn merge_tables(
    p2p: &BTreeMap<String, Vec<u8>>,
    dc: &BTreeMap<String, Vec<u8>>,
    name: &str,
    empty_header: &str,
) -> Vec<u8> {
    let [a, b] = [p2p, dc].map(|m| {
        m.get(name)
            .map(|b| Box::new(&b[..]) as Box<dyn std::io::BufRead + '_>)
    });
    let mut out = Vec::new();
    // Reading from memory into memory: no I/O error can occur, and the
    // bytes are the rows' own CSV (valid UTF-8).
    let _ = merge_into([a, b], empty_header, &mut out);
    out
}

/// [`merge_tables`] of files that may be on disk: a table either side
/// streamed is merged into `<rows>/merged-<name>` line by line (and the
/// sides' files removed), never held in memory whole.
pub(crate) fn merge_files(
    p2p: &BTreeMap<String, CsvFile>,
    dc: &BTreeMap<String, CsvFile>,
    name: &str,
    empty_header: &str,
    rows: Option<&RowFiles>,
) -> Result<CsvFile, BuildError> {
    let fail = |e: std::io::Error| bad("output", format!("merging {name}: {e}"));
    let inputs = [
        p2p.get(name)
            .map(CsvFile::reader)
            .transpose()
            .map_err(fail)?,
        dc.get(name)
            .map(CsvFile::reader)
            .transpose()
            .map_err(fail)?,
    ];
    let streamed: Vec<&std::path::Path> = [p2p.get(name), dc.get(name)]
        .into_iter()
        .flatten()
        .filter_map(|f| match f {
            CsvFile::Disk(p) => Some(p.as_path()),
            CsvFile::Bytes(_) => None,
        })
        .collect();
    let (Some(rows), false) = (rows, streamed.is_empty()) else {
        let mut out = Vec::new();
        merge_into(inputs, empty_header, &mut out).map_err(fail)?;
        return Ok(CsvFile::Bytes(out));
    };
    let path = rows.dir.join(format!("merged-{}", name.replace('/', "-")));
    let file = std::fs::File::create(&path).map_err(|e| {
        fail(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    merge_into(inputs, empty_header, &mut w).map_err(fail)?;
    std::io::Write::flush(&mut w).map_err(fail)?;
    for p in streamed {
        std::fs::remove_file(p).map_err(fail)?;
    }
    Ok(CsvFile::Disk(path))
}

/// Write the merge of the two sides' tables (P2P, then data center) to
/// `out`.
fn merge_into(
    sides: [Option<Box<dyn std::io::BufRead + '_>>; 2],
    empty_header: &str,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut wrote_header = false;
    if sides.iter().all(Option::is_none) && !empty_header.is_empty() {
        writeln!(out, "system,{empty_header}")?;
        wrote_header = true;
    }
    for (system, reader) in ["p2p", "datacenter"].into_iter().zip(sides) {
        let Some(reader) = reader else {
            continue;
        };
        let mut lines = std::io::BufRead::lines(reader);
        let header = lines.next().transpose()?.unwrap_or_default();
        if !wrote_header && !header.is_empty() {
            writeln!(out, "system,{header}")?;
            wrote_header = true;
        }
        for l in lines {
            writeln!(out, "{system},{}", l?)?;
        }
    }
    Ok(())
}
