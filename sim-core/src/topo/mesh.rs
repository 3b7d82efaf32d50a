//! [`MeshTopology`]: end hosts attached to the routers of a [`RouterGraph`],
//! shortest-path routing by a named metric, per-router radio airtime, and
//! gateways to the internet.
//!
//! See [`MeshTopology`] for the link table and the routes.

use super::error::TopoError;
use super::graph::{NodeSelector, RouterGraph};
use super::kind::{KindTable, LinkKind, Metric};
use crate::net::latency::LatencyModel;
use crate::net::route::{Access, LinkId, LinkSpec, RouteError, Topology};
use crate::units::{Duration, Rate};
use petgraph::graph::{NodeIndex, UnGraph};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

const NONE: u32 = u32::MAX;

/// Which routers are gateways, and what their internet uplink is.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewaySpec {
    /// Routers matching any selector are gateways. Empty: no gateway (the
    /// internet is unreachable).
    pub select: Vec<NodeSelector>,
    /// The gateways are *servers* in data centers reached over tunnels
    /// (Freifunk's `vpnNN`): every link touching one is a
    /// [`LinkKind::Vpn`] tunnel whatever its label, and no end host is
    /// attached to one. When `false` (NYC Mesh supernodes) the gateways are
    /// ordinary mesh routers with an internet uplink and keep their links'
    /// labels.
    pub servers: bool,
    /// Each gateway's link to the internet: `up` is its egress capacity,
    /// `down` its ingress capacity, `latency` the one-way delay of each.
    pub uplink: Access,
}

/// How end hosts are attached to routers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostPlacement {
    /// One host per eligible router: host `i` on the `i`-th eligible router.
    OnePerRouter,
    /// `n` hosts; host `i` on eligible router `i % eligible`.
    Count(usize),
}

/// How to build a [`MeshTopology`].
///
/// Eligible routers (those hosts attach to) are all routers except
/// implicit nodes and gateway servers, in graph order.
#[derive(Clone, Debug, PartialEq)]
pub struct MeshConfig {
    /// Parameters per link kind.
    pub kinds: KindTable,
    /// The routing metric.
    pub metric: Metric,
    /// Gateways.
    pub gateways: GatewaySpec,
    /// Mesh hosts.
    pub hosts: HostPlacement,
    /// Access link of every mesh host to its router (its LAN).
    pub host_access: Access,
    /// Hosts outside the mesh (a data center, peers elsewhere), reached
    /// through the gateways; their access latency should include the WAN
    /// delay from the gateways. Node ids follow the mesh hosts.
    pub internet_hosts: Vec<Access>,
    /// Bound of the shortest-path-tree cache in bytes (each tree takes
    /// 4 bytes per router; at least one tree is kept).
    pub cache_bytes_max: usize,
}

fn mbit(m: u64) -> Rate {
    Rate::new(m * 1_000_000).expect("positive")
}

impl Default for MeshConfig {
    /// Default kinds ([`KindTable::default`]), routing by ETX, no gateway,
    /// one host per router with a 100 Mbit/s, 0.1 ms LAN, no internet host,
    /// a 32 MiB route cache. Gateway uplinks default to 1 Gbit/s each way,
    /// 5 ms (assumed).
    fn default() -> Self {
        MeshConfig {
            kinds: KindTable::default(),
            metric: Metric::Etx,
            gateways: GatewaySpec {
                select: Vec::new(),
                servers: false,
                uplink: Access {
                    up: mbit(1_000),
                    down: mbit(1_000),
                    latency: Duration::from_millis(5),
                },
            },
            hosts: HostPlacement::OnePerRouter,
            host_access: Access {
                up: mbit(100),
                down: mbit(100),
                latency: Duration::from_micros(100),
            },
            internet_hosts: Vec::new(),
            cache_bytes_max: 32 << 20,
        }
    }
}

/// Bounded first-in-first-out cache of shortest-path trees by source router.
#[derive(Debug)]
struct TreeCache {
    index: BTreeMap<u32, usize>,
    slots: Vec<(u32, Vec<u32>)>,
    next_victim: usize,
    trees_max: usize,
    computed: u64,
    scratch: Scratch,
}

/// Buffers reused by every tree computation.
#[derive(Debug, Default)]
struct Scratch {
    dist: Vec<u64>,
    parent: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

/// A router mesh with end hosts.
///
/// # Link table
/// With `H` hosts (mesh hosts first, then internet hosts), `E` graph links,
/// `A` airtime resources and `G` gateways, link ids are laid out as:
///
/// | ids | what |
/// |---|---|
/// | `2h`, `2h + 1` | host `h`'s access uplink and downlink |
/// | `2H + 2e`, `2H + 2e + 1` | graph link `e` from its `a` end to `b`, and from `b` to `a` |
/// | `2H + 2E + k` | airtime `k`: one per (router, radio kind) pair that has links of that kind, zero latency, lossless |
/// | `2H + 2E + A + 2g`, `+ 1` | gateway `g`'s egress (mesh to internet) and ingress |
///
/// # Routes
/// - mesh host to mesh host: `up(a)`, then for every hop from router `u` to
///   router `v`: `u`'s airtime for the hop's radio kind (if radio) and the
///   directed link `u → v`; then `down(b)`. Two hosts on one router: `up(a),
///   down(b)`.
/// - mesh host to internet host: `up(a)`, the hops to the gateway nearest to
///   `a`'s router (by the metric), the gateway's egress, `down(x)`; the
///   reverse direction uses the same gateway and its ingress.
/// - internet host to internet host: `up(x), down(y)`.
///
/// Shortest paths are computed with petgraph's Dijkstra on demand, one
/// tree per source router, and kept in a bounded cache
/// ([`MeshConfig::cache_bytes_max`]); the cache evicts in insertion order
/// (first in, first out). The cache only saves work: a route is a pure
/// function of the graph, the configuration and `(from, to)`. Because
/// [`Topology::route`] takes `&self`, the cache sits in a `RefCell`:
/// a `MeshTopology` is `Send` but not `Sync`.
///
/// Memory: the graph, link table and per-router tables are O(routers +
/// links); nearest gateways come from one multi-source Dijkstra at
/// construction (a gateway and a next hop per router); the tree cache holds
/// at most `cache_bytes_max` bytes. There is never an all-pairs table.
#[derive(Debug)]
pub struct MeshTopology {
    graph: RouterGraph,
    /// Per graph link: its ends and the airtime each end transmits through.
    hops: Vec<Hop>,
    reclassified: [usize; 5],
    specs: Vec<LinkSpec>,
    mesh_hosts: usize,
    host_router: Vec<u32>,
    base_links: u32,
    base_airtime: u32,
    base_gateway: u32,
    airtime_of: Vec<[u32; 2]>,
    gateways: Vec<u32>,
    gateway_slot: Vec<u32>,
    gw_of: Vec<u32>,
    gw_next: Vec<u32>,
    /// Adjacency in compressed rows: router `v`'s neighbours are
    /// `adj[adj_start[v]..adj_start[v + 1]]`, sorted by (neighbour, link).
    adj_start: Vec<u32>,
    adj: Vec<Adj>,
    /// The same graph for petgraph's algorithms ([`MeshTopology::distances`]).
    pg: UnGraph<(), u64>,
    cache: RefCell<TreeCache>,
}

#[derive(Clone, Copy, Debug)]
struct Hop {
    a: u32,
    b: u32,
    air_a: u32,
    air_b: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Adj {
    to: u32,
    link: u32,
    weight: u64,
}

impl MeshTopology {
    /// Build the topology. The graph must be connected (load it with
    /// [`ComponentPolicy::KeepLargest`](super::ComponentPolicy) or call
    /// [`RouterGraph::keep_largest_component`] first).
    pub fn new(graph: RouterGraph, cfg: &MeshConfig) -> Result<MeshTopology, TopoError> {
        cfg.kinds.validate()?;
        let mut graph = graph;
        let r = graph.routers.len();
        if r == 0 {
            return Err(TopoError::Empty { file: graph.name });
        }
        let comps = graph.components(|_, _| true, |_| true);
        if comps.len() > 1 {
            return Err(TopoError::Disconnected {
                file: graph.name,
                components: comps.len(),
                sizes: comps.iter().take(10).map(Vec::len).collect(),
            });
        }
        let gateways = graph.select(&cfg.gateways.select);
        if gateways.is_empty() && !cfg.gateways.select.is_empty() {
            return Err(TopoError::config(format!(
                "{}: no router matches the gateway selectors; set topology.gateways to selectors of routers in the file",
                graph.name
            )));
        }
        if gateways.is_empty() && !cfg.internet_hosts.is_empty() {
            return Err(TopoError::config(
                "internet hosts need at least one gateway to reach them; set topology.gateways",
            ));
        }
        let reclassified = if cfg.gateways.servers {
            graph.mark_gateway_servers(&gateways)
        } else {
            [0; 5]
        };
        let mut is_gw = vec![false; r];
        for &g in &gateways {
            is_gw[g as usize] = true;
        }
        let eligible: Vec<u32> = (0..r as u32)
            .filter(|&i| {
                let server = cfg.gateways.servers && is_gw[i as usize];
                !(graph.routers[i as usize].implicit || server)
            })
            .collect();
        if eligible.is_empty() {
            return Err(TopoError::config(format!(
                "{}: no router to attach hosts to (all are implicit nodes or gateway servers); set topology.tunnels = \"labels\" if the gateways are ordinary routers, or choose other topology.gateways",
                graph.name
            )));
        }
        let mesh_hosts = match cfg.hosts {
            HostPlacement::OnePerRouter => eligible.len(),
            HostPlacement::Count(n) => n,
        };
        if mesh_hosts == 0 {
            return Err(TopoError::config("zero mesh hosts"));
        }
        let host_router: Vec<u32> = (0..mesh_hosts)
            .map(|i| eligible[i % eligible.len()])
            .collect();
        let hosts = mesh_hosts + cfg.internet_hosts.len();
        let e = graph.links.len();
        let total_estimate =
            2 * hosts as u128 + 2 * e as u128 + 2 * r as u128 + 2 * gateways.len() as u128;
        if total_estimate >= u32::MAX as u128 {
            return Err(TopoError::config("too many links for 32-bit link ids"));
        }

        let mut specs = Vec::with_capacity(total_estimate as usize);
        for _ in 0..mesh_hosts {
            specs.push(LinkSpec::lossless(
                cfg.host_access.latency,
                cfg.host_access.up,
            ));
            specs.push(LinkSpec::lossless(
                cfg.host_access.latency,
                cfg.host_access.down,
            ));
        }
        for a in &cfg.internet_hosts {
            specs.push(LinkSpec::lossless(a.latency, a.up));
            specs.push(LinkSpec::lossless(a.latency, a.down));
        }
        let base_links = specs.len() as u32;
        let mut weights = Vec::with_capacity(e);
        for l in &graph.links {
            let p = cfg.kinds.get(l.kind);
            let loss_ab = p.loss.loss(l.tq_ab, l.etx);
            let loss_ba = p.loss.loss(l.tq_ba, l.etx);
            for loss in [loss_ab, loss_ba] {
                let s = LinkSpec::new(p.latency, p.capacity, loss)
                    .map_err(|err| TopoError::config(err.to_string()))?;
                specs.push(s);
            }
            weights.push(match cfg.metric {
                Metric::Hops => 1,
                Metric::Latency => p.latency.as_nanos().max(1),
                Metric::Etx => {
                    let d = (1.0 - loss_ab) * (1.0 - loss_ba);
                    ((1e6 / d).round() as u64).max(1)
                }
            });
        }
        let base_airtime = specs.len() as u32;
        let mut airtime_of = vec![[NONE; 2]; r];
        for l in &graph.links {
            let k = l.kind;
            let Some(slot) = radio_slot(k) else {
                continue;
            };
            let Some(air) = cfg.kinds.get(k).airtime else {
                continue;
            };
            for end in [l.a, l.b] {
                if airtime_of[end as usize][slot] == NONE {
                    airtime_of[end as usize][slot] = specs.len() as u32;
                    specs.push(LinkSpec::lossless(Duration::ZERO, air));
                }
            }
        }
        let base_gateway = specs.len() as u32;
        let mut gateway_slot = vec![NONE; r];
        for (k, &g) in gateways.iter().enumerate() {
            gateway_slot[g as usize] = k as u32;
            let u = &cfg.gateways.uplink;
            specs.push(LinkSpec::lossless(u.latency, u.up));
            specs.push(LinkSpec::lossless(u.latency, u.down));
        }

        let hops: Vec<Hop> = graph
            .links
            .iter()
            .map(|l| {
                let air = |end: u32| match radio_slot(l.kind) {
                    Some(slot) => airtime_of[end as usize][slot],
                    None => NONE,
                };
                Hop {
                    a: l.a,
                    b: l.b,
                    air_a: air(l.a),
                    air_b: air(l.b),
                }
            })
            .collect();
        let mut pg: UnGraph<(), u64> = UnGraph::with_capacity(r, e);
        for _ in 0..r {
            pg.add_node(());
        }
        let mut degree = vec![0u32; r + 1];
        for (li, l) in graph.links.iter().enumerate() {
            pg.add_edge(
                NodeIndex::new(l.a as usize),
                NodeIndex::new(l.b as usize),
                weights[li],
            );
            degree[l.a as usize] += 1;
            degree[l.b as usize] += 1;
        }
        let mut adj_start = Vec::with_capacity(r + 1);
        let mut acc = 0u32;
        for d in &degree[..r] {
            adj_start.push(acc);
            acc += d;
        }
        adj_start.push(acc);
        let mut fill: Vec<u32> = adj_start[..r].to_vec();
        let mut adj = vec![
            Adj {
                to: 0,
                link: 0,
                weight: 0
            };
            acc as usize
        ];
        for (li, l) in graph.links.iter().enumerate() {
            let weight = weights[li];
            for (from, to) in [(l.a, l.b), (l.b, l.a)] {
                adj[fill[from as usize] as usize] = Adj {
                    to,
                    link: li as u32,
                    weight,
                };
                fill[from as usize] += 1;
            }
        }
        for v in 0..r {
            adj[adj_start[v] as usize..adj_start[v + 1] as usize].sort_unstable();
        }

        // Nearest gateway of every router: one Dijkstra from all gateways.
        let mut gw_of = vec![NONE; r];
        let mut gw_next = vec![NONE; r];
        if !gateways.is_empty() {
            let (pred, dist) = dijkstra(&adj_start, &adj, &gateways);
            let mut order: Vec<u32> = (0..r as u32)
                .filter(|&v| dist[v as usize] != u64::MAX)
                .collect();
            order.sort_by_key(|&v| (dist[v as usize], v));
            for v in order {
                let l = pred[v as usize];
                if l == NONE {
                    gw_of[v as usize] = v;
                } else {
                    gw_next[v as usize] = l;
                    let h = hops[l as usize];
                    let u = if h.a == v { h.b } else { h.a };
                    gw_of[v as usize] = gw_of[u as usize];
                }
            }
        }
        let trees_max = (cfg.cache_bytes_max / (4 * r)).max(1);
        Ok(MeshTopology {
            graph,
            hops,
            reclassified,
            specs,
            mesh_hosts,
            host_router,
            base_links,
            base_airtime,
            base_gateway,
            airtime_of,
            gateways,
            gateway_slot,
            gw_of,
            gw_next,
            adj_start,
            adj,
            pg,
            cache: RefCell::new(TreeCache {
                index: BTreeMap::new(),
                slots: Vec::new(),
                next_victim: 0,
                trees_max,
                computed: 0,
                scratch: Scratch::default(),
            }),
        })
    }

    /// The router graph (with gateway-server links reclassified).
    pub fn graph(&self) -> &RouterGraph {
        &self.graph
    }
    /// Number of routers.
    pub fn router_count(&self) -> usize {
        self.graph.routers.len()
    }
    /// Number of mesh hosts (nodes `0..mesh_hosts()`); internet hosts follow.
    pub fn mesh_hosts(&self) -> usize {
        self.mesh_hosts
    }
    /// The router host `host` is attached to; `None` for an internet host.
    pub fn host_router(&self, host: u32) -> Option<u32> {
        self.host_router.get(host as usize).copied()
    }
    /// The node id of internet host `k`.
    pub fn internet_host(&self, k: usize) -> u32 {
        (self.mesh_hosts + k) as u32
    }
    /// Host `h`'s access uplink.
    pub fn uplink(&self, h: u32) -> LinkId {
        LinkId(2 * h)
    }
    /// Host `h`'s access downlink.
    pub fn downlink(&self, h: u32) -> LinkId {
        LinkId(2 * h + 1)
    }
    /// The directed link carrying graph link `link` away from router `from`
    /// (the `b → a` direction unless `from` is the link's `a` end).
    ///
    /// # Panics
    /// If `link` is not a graph link index.
    pub fn directed(&self, link: u32, from: u32) -> LinkId {
        let l = &self.graph.links[link as usize];
        debug_assert!(from == l.a || from == l.b);
        LinkId(self.base_links + 2 * link + u32::from(from != l.a))
    }
    /// The airtime resource of `router`'s radio of `kind`, if it has links of
    /// that radio kind (and the kind has an airtime).
    pub fn airtime(&self, router: u32, kind: LinkKind) -> Option<LinkId> {
        let slot = match kind {
            LinkKind::Wifi => 0,
            LinkKind::Wifi60GHz => 1,
            _ => return None,
        };
        let id = self.airtime_of.get(router as usize)?[slot];
        (id != NONE).then_some(LinkId(id))
    }
    /// Metric distance from `router` to every router (`None` if unreachable
    /// or `router` is out of range), computed with petgraph's `dijkstra`
    /// (integer weights of [`Metric`]). For analysis: routes use their own
    /// cached trees, which give the same distances.
    pub fn distances(&self, router: u32) -> Vec<Option<u64>> {
        let mut out = vec![None; self.router_count()];
        if (router as usize) < out.len() {
            let scores =
                petgraph::algo::dijkstra(&self.pg, NodeIndex::new(router as usize), None, |e| {
                    *e.weight()
                });
            // Each entry fills its own slot: the map's order does not matter.
            for (node, d) in scores {
                out[node.index()] = Some(d);
            }
        }
        out
    }

    /// The metric distance of the route's mesh part from router `from` to
    /// router `to`, summed from the cached tree (for tests and analysis).
    #[cfg(test)]
    pub(crate) fn tree_distances(&self, from: u32) -> Vec<u64> {
        dijkstra(&self.adj_start, &self.adj, &[from]).1
    }

    /// Gateway routers, ascending.
    pub fn gateways(&self) -> &[u32] {
        &self.gateways
    }
    /// The gateway nearest to `router` by the metric (ties: lower index).
    pub fn nearest_gateway(&self, router: u32) -> Option<u32> {
        let g = *self.gw_of.get(router as usize)?;
        (g != NONE).then_some(g)
    }
    /// Gateway `gateway`'s egress link (mesh to internet).
    pub fn gateway_egress(&self, gateway: u32) -> Option<LinkId> {
        let k = *self.gateway_slot.get(gateway as usize)?;
        (k != NONE).then(|| LinkId(self.base_gateway + 2 * k))
    }
    /// Gateway `gateway`'s ingress link (internet to mesh).
    pub fn gateway_ingress(&self, gateway: u32) -> Option<LinkId> {
        self.gateway_egress(gateway).map(|l| LinkId(l.0 + 1))
    }
    /// How many links were reclassified as tunnels because they touch a
    /// gateway server, per original kind in [`LinkKind::ALL`] order.
    pub fn reclassified(&self) -> [usize; 5] {
        self.reclassified
    }
    /// Number of airtime resources.
    pub fn airtime_count(&self) -> usize {
        (self.base_gateway - self.base_airtime) as usize
    }
    /// Number of shortest-path trees computed so far (cache misses).
    pub fn trees_computed(&self) -> u64 {
        self.cache.borrow().computed
    }
    /// Largest number of trees the cache holds.
    pub fn cache_trees_max(&self) -> usize {
        self.cache.borrow().trees_max
    }
    /// Approximate heap bytes of the routing state: the petgraph graph, the
    /// link table, per-router and per-link tables, the cached trees and the
    /// search buffers.
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let r = self.graph.routers.len();
        let e = self.graph.links.len();
        let cache = self.cache.borrow();
        let trees: usize = cache.slots.iter().map(|(_, t)| t.capacity() * 4 + 32).sum();
        // petgraph: a node is two u32 edge heads; an edge its u64 weight,
        // two next pointers and two ends (u32 each).
        r * 8
            + e * 24
            + self.specs.capacity() * size_of::<LinkSpec>()
            + self.hops.capacity() * size_of::<Hop>()
            + self.adj.capacity() * size_of::<Adj>()
            + self.adj_start.capacity() * 4
            + self.graph.links.capacity() * size_of::<super::graph::GraphLink>()
            + r * (size_of::<super::graph::Router>() + 8 + 4 * 4)
            + self.host_router.capacity() * 4
            + trees
            + cache.index.len() * 24
            + cache.scratch.dist.capacity() * 8
            + cache.scratch.parent.capacity() * 4
            + cache.scratch.heap.capacity() * 16
    }

    fn other(&self, link: u32, v: u32) -> u32 {
        let h = &self.hops[link as usize];
        if h.a == v { h.b } else { h.a }
    }

    /// Push the hop over `link` transmitted by `from`: airtime, directed link.
    fn push_hop(&self, out: &mut Vec<LinkId>, link: u32, from: u32) {
        let h = &self.hops[link as usize];
        let (air, dir) = if from == h.a {
            (h.air_a, 0)
        } else {
            (h.air_b, 1)
        };
        if air != NONE {
            out.push(LinkId(air));
        }
        out.push(LinkId(self.base_links + 2 * link + dir));
    }
    /// The same hop in reverse order (for segments built backwards).
    fn push_hop_rev(&self, out: &mut Vec<LinkId>, link: u32, from: u32) {
        let h = &self.hops[link as usize];
        let (air, dir) = if from == h.a {
            (h.air_a, 0)
        } else {
            (h.air_b, 1)
        };
        out.push(LinkId(self.base_links + 2 * link + dir));
        if air != NONE {
            out.push(LinkId(air));
        }
    }

    /// Append the hops of the shortest path from router `ra` to `rb`.
    fn push_path(&self, out: &mut Vec<LinkId>, ra: u32, rb: u32) -> Result<(), ()> {
        if ra == rb {
            return Ok(());
        }
        let mut guard = self.cache.borrow_mut();
        let cache = &mut *guard;
        let slot = match cache.index.get(&ra) {
            Some(&s) => s,
            None => {
                cache.computed += 1;
                let s = if cache.slots.len() < cache.trees_max {
                    cache.slots.push((ra, Vec::new()));
                    cache.slots.len() - 1
                } else {
                    let s = cache.next_victim;
                    cache.next_victim = (s + 1) % cache.trees_max;
                    let old = cache.slots[s].0;
                    cache.index.remove(&old);
                    cache.slots[s].0 = ra;
                    s
                };
                // The evicted tree's buffer is reused.
                dijkstra_into(
                    &self.adj_start,
                    &self.adj,
                    &[ra],
                    &mut cache.slots[s].1,
                    &mut cache.scratch,
                );
                cache.index.insert(ra, s);
                s
            }
        };
        let tree = &cache.slots[slot].1;
        let start = out.len();
        let mut v = rb;
        for _ in 0..tree.len() {
            if v == ra {
                out[start..].reverse();
                return Ok(());
            }
            let l = tree[v as usize];
            if l == NONE {
                break;
            }
            let u = self.other(l, v);
            self.push_hop_rev(out, l, u);
            v = u;
        }
        out.truncate(start);
        Err(())
    }
}

fn radio_slot(kind: LinkKind) -> Option<usize> {
    match kind {
        LinkKind::Wifi => Some(0),
        LinkKind::Wifi60GHz => Some(1),
        _ => None,
    }
}

/// Shortest-path tree from `roots` (distance 0 each): for every router the
/// link to its parent (`NONE` for roots and unreachable routers), and the
/// distances (`u64::MAX` if unreachable).
///
/// Among equal-cost parents the lowest (parent, link) wins. That rule gives
/// the tree that a pass over all tight edges after the search would give,
/// whatever the heap's order among equal keys: with weights >= 1 every
/// tight parent of `v` is settled before `v` and offers itself while `v` is
/// still open. Runs on the compressed adjacency (Vec-indexed distances, a
/// binary heap with lazy deletion); [`MeshTopology::distances`] computes
/// the same distances with petgraph's `dijkstra` and the tests compare them.
fn dijkstra(adj_start: &[u32], adj: &[Adj], roots: &[u32]) -> (Vec<u32>, Vec<u64>) {
    let mut pred = Vec::new();
    let mut scratch = Scratch::default();
    dijkstra_into(adj_start, adj, roots, &mut pred, &mut scratch);
    (pred, scratch.dist)
}

/// [`dijkstra`] into reused buffers: the tree goes to `pred`, the
/// distances stay in `scratch.dist`.
fn dijkstra_into(
    adj_start: &[u32],
    adj: &[Adj],
    roots: &[u32],
    pred: &mut Vec<u32>,
    scratch: &mut Scratch,
) {
    let n = adj_start.len() - 1;
    let Scratch { dist, parent, heap } = scratch;
    dist.clear();
    dist.resize(n, u64::MAX);
    parent.clear();
    parent.resize(n, NONE);
    pred.clear();
    pred.resize(n, NONE);
    heap.clear();
    for &r in roots {
        dist[r as usize] = 0;
        heap.push(Reverse((0u64, r)));
    }
    while let Some(Reverse((d, u))) = heap.pop() {
        if d > dist[u as usize] {
            continue;
        }
        let (lo, hi) = (
            adj_start[u as usize] as usize,
            adj_start[u as usize + 1] as usize,
        );
        for a in &adj[lo..hi] {
            let v = a.to as usize;
            let nd = d.saturating_add(a.weight);
            if nd < dist[v] {
                dist[v] = nd;
                pred[v] = a.link;
                parent[v] = u;
                heap.push(Reverse((nd, a.to)));
            } else if nd == dist[v] && (u, a.link) < (parent[v], pred[v]) {
                pred[v] = a.link;
                parent[v] = u;
            }
        }
    }
}

impl Topology for MeshTopology {
    fn node_count(&self) -> usize {
        self.base_links as usize / 2
    }
    fn links(&self) -> &[LinkSpec] {
        &self.specs
    }
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        out.clear();
        let count = self.node_count();
        for node in [from, to] {
            if node as usize >= count {
                return Err(RouteError::UnknownNode { node, count });
            }
        }
        if from == to {
            return Ok(());
        }
        let no_route = RouteError::NoRoute { from, to };
        out.push(self.uplink(from));
        match (self.host_router(from), self.host_router(to)) {
            (Some(ra), Some(rb)) => {
                if self.push_path(out, ra, rb).is_err() {
                    out.clear();
                    return Err(no_route);
                }
            }
            (Some(ra), None) => {
                let Some(g) = self.nearest_gateway(ra) else {
                    out.clear();
                    return Err(no_route);
                };
                let mut v = ra;
                // A path visits each router at most once.
                for _ in 0..self.router_count() {
                    if v == g {
                        break;
                    }
                    let l = self.gw_next[v as usize];
                    self.push_hop(out, l, v);
                    v = self.other(l, v);
                }
                out.push(self.gateway_egress(g).expect("gateway"));
            }
            (None, Some(rb)) => {
                let Some(g) = self.nearest_gateway(rb) else {
                    out.clear();
                    return Err(no_route);
                };
                out.push(self.gateway_ingress(g).expect("gateway"));
                let start = out.len();
                let mut v = rb;
                for _ in 0..self.router_count() {
                    if v == g {
                        break;
                    }
                    let l = self.gw_next[v as usize];
                    let u = self.other(l, v);
                    self.push_hop_rev(out, l, u);
                    v = u;
                }
                out[start..].reverse();
            }
            (None, None) => {}
        }
        out.push(self.downlink(to));
        Ok(())
    }
}

/// All of a mesh's latency is in its links: no extra pairwise delay.
impl LatencyModel for MeshTopology {
    fn latency(&self, _from: u32, _to: u32) -> Duration {
        Duration::ZERO
    }
}

impl crate::net::Network for MeshTopology {}
