//! A graph of routers and the links between them, as read from a file or
//! made by a generator: the input of [`MeshTopology`](super::MeshTopology).

use super::kind::LinkKind;
use std::collections::BTreeMap;

/// A position on the Earth in degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatLon {
    /// Latitude, degrees north, in `[-90, 90]`.
    pub lat: f64,
    /// Longitude, degrees east, in `[-180, 180]`.
    pub lon: f64,
}

/// Mean Earth radius in metres (IUGG).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl LatLon {
    /// Great-circle distance in metres (haversine formula on a sphere of
    /// radius [`EARTH_RADIUS_M`]).
    pub fn distance_m(self, other: LatLon) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
    }
}

/// A router (a node of the file).
#[derive(Clone, Debug, PartialEq)]
pub struct Router {
    /// The id, normalised to a string (`12` and `"12"` are the same id).
    pub id: String,
    /// `name` (node-link) or `label` (NetJSON), if any.
    pub name: Option<String>,
    /// `role` (NYC Mesh: `supernode`, `hub`), if any.
    pub role: Option<String>,
    /// Position; `None` when the file has none (features that need
    /// coordinates skip or reject such routers and say so).
    pub coords: Option<LatLon>,
    /// Not declared in the file but referenced by links and declared by the
    /// caller as an implicit node (for example `ic-0`, the internet side of
    /// the Freifunk gateways).
    pub implicit: bool,
}

/// An undirected link between routers `a` and `b` (indices into
/// [`RouterGraph::routers`]); `a` is the file's `source`.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphLink {
    /// Source router index.
    pub a: u32,
    /// Target router index.
    pub b: u32,
    /// The kind, from the label (or the caller's mapping of it).
    pub kind: LinkKind,
    /// Transmit quality from `a` to `b` in `[0, 1]` (`source_tq`).
    pub tq_ab: Option<f64>,
    /// Transmit quality from `b` to `a` in `[0, 1]` (`target_tq`).
    pub tq_ba: Option<f64>,
    /// Expected transmission count (NetJSON `cost` under an ETX metric), >= 1.
    pub etx: Option<f64>,
}

/// What a load dropped or added under the caller's policies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadReport {
    /// Implicit nodes that were created, in order of first reference.
    pub implicit: Vec<String>,
    /// Duplicate records dropped under `KeepFirst` (their ids, once per record).
    pub duplicates_dropped: Vec<String>,
    /// `(original id, new id)` of records renamed under `Rename`.
    pub renamed: Vec<(String, String)>,
    /// Links from a node to itself, skipped (their indices).
    pub self_loops: Vec<usize>,
    /// Components dropped under `KeepLargestComponent`.
    pub dropped_components: usize,
    /// Ids of the routers dropped with them, in file order.
    pub dropped_routers: Vec<String>,
    /// Number of links dropped with them.
    pub dropped_links: usize,
}

/// A router graph: routers, links, and what loading did.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterGraph {
    pub(crate) name: String,
    pub(crate) routers: Vec<Router>,
    pub(crate) links: Vec<GraphLink>,
    pub(crate) report: LoadReport,
}

/// Selects routers: by id, by a name pattern or by role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeSelector {
    /// The router with this id (normalised: `"12"` matches the number 12).
    Id(String),
    /// Routers whose name matches a glob pattern: `*` matches any run of
    /// characters, `?` one character (`vpn*` matches `vpn01`).
    Name(String),
    /// Routers whose `role` equals this (NYC Mesh: `supernode`).
    Role(String),
}

impl NodeSelector {
    /// Does `router` match?
    pub fn matches(&self, router: &Router) -> bool {
        match self {
            NodeSelector::Id(id) => router.id == *id,
            NodeSelector::Name(p) => router.name.as_deref().is_some_and(|n| glob(p, n)),
            NodeSelector::Role(r) => router.role.as_deref() == Some(r.as_str()),
        }
    }
}

/// Glob match with `*` and `?` (iterative, linear backtracking).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

impl RouterGraph {
    /// A graph from parts (used by the generators). Links must refer to
    /// existing routers and not be self-loops.
    ///
    /// # Panics
    /// If a link refers to a router out of range, is a self-loop, or there
    /// are `u32::MAX` routers or more.
    pub fn from_parts(
        name: impl Into<String>,
        routers: Vec<Router>,
        links: Vec<GraphLink>,
    ) -> Self {
        assert!(routers.len() < u32::MAX as usize, "too many routers");
        for l in &links {
            assert!(
                (l.a as usize) < routers.len() && (l.b as usize) < routers.len() && l.a != l.b,
                "bad link {l:?}"
            );
        }
        RouterGraph {
            name: name.into(),
            routers,
            links,
            report: LoadReport::default(),
        }
    }
    /// The file name (or bundled name, or generator description).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The routers, in file order (implicit nodes last).
    pub fn routers(&self) -> &[Router] {
        &self.routers
    }
    /// The links, in file order (self-loops and dropped links removed).
    pub fn links(&self) -> &[GraphLink] {
        &self.links
    }
    /// What loading dropped or added.
    pub fn report(&self) -> &LoadReport {
        &self.report
    }
    /// The index of the router with this id.
    pub fn router_index(&self, id: &str) -> Option<u32> {
        self.routers
            .iter()
            .position(|r| r.id == id)
            .map(|i| i as u32)
    }
    /// Indices of the routers matching any of `selectors`, ascending.
    pub fn select(&self, selectors: &[NodeSelector]) -> Vec<u32> {
        (0..self.routers.len() as u32)
            .filter(|&i| {
                selectors
                    .iter()
                    .any(|s| s.matches(&self.routers[i as usize]))
            })
            .collect()
    }
    /// Number of links of each kind, in [`LinkKind::ALL`] order.
    pub fn kind_counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for l in &self.links {
            c[l.kind.index()] += 1;
        }
        c
    }
    /// Great-circle length of link `link` in metres; `None` when an end has
    /// no coordinates (as 80 NYC Mesh nodes and 119 Bremen nodes do), so
    /// any distance-based model must say how it treats such links.
    pub fn link_length_m(&self, link: usize) -> Option<f64> {
        let l = self.links.get(link)?;
        let a = self.routers[l.a as usize].coords?;
        let b = self.routers[l.b as usize].coords?;
        Some(a.distance_m(b))
    }

    /// Number of links touching a router (its degree).
    pub fn degrees(&self) -> Vec<usize> {
        let mut d = vec![0; self.routers.len()];
        for l in &self.links {
            d[l.a as usize] += 1;
            d[l.b as usize] += 1;
        }
        d
    }

    /// Treat `servers` as gateway servers: every link touching one becomes
    /// a [`LinkKind::Vpn`] tunnel, whatever its label. Returns how many
    /// links changed kind, per original kind (in [`LinkKind::ALL`] order).
    pub fn mark_gateway_servers(&mut self, servers: &[u32]) -> [usize; 5] {
        let mut is = vec![false; self.routers.len()];
        for &s in servers {
            is[s as usize] = true;
        }
        let mut changed = [0; 5];
        for l in &mut self.links {
            if (is[l.a as usize] || is[l.b as usize]) && l.kind != LinkKind::Vpn {
                changed[l.kind.index()] += 1;
                l.kind = LinkKind::Vpn;
            }
        }
        changed
    }

    /// Connected components among the routers for which `keep_router` is
    /// true, using only links for which `keep_link` is true (and both ends
    /// kept). Each component is a sorted list of router indices; the list is
    /// sorted largest first, ties by smallest router index.
    pub fn components(
        &self,
        keep_router: impl Fn(u32, &Router) -> bool,
        keep_link: impl Fn(&GraphLink) -> bool,
    ) -> Vec<Vec<u32>> {
        let n = self.routers.len();
        let kept: Vec<bool> = (0..n)
            .map(|i| keep_router(i as u32, &self.routers[i]))
            .collect();
        let mut uf = UnionFind::new(n);
        for l in &self.links {
            if kept[l.a as usize] && kept[l.b as usize] && keep_link(l) {
                uf.union(l.a as usize, l.b as usize);
            }
        }
        let mut by_root: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
        for (i, &k) in kept.iter().enumerate() {
            if k {
                by_root.entry(uf.find(i)).or_default().push(i as u32);
            }
        }
        let mut comps: Vec<Vec<u32>> = by_root.into_values().collect();
        comps.sort_by(|x, y| y.len().cmp(&x.len()).then(x[0].cmp(&y[0])));
        comps
    }

    /// Radio islands: the connected components of at least two routers
    /// that remain once gateway `servers`, implicit nodes and
    /// [`LinkKind::Vpn`] links are removed (call after
    /// [`RouterGraph::mark_gateway_servers`]). Routers left alone are not
    /// islands. Largest first.
    pub fn radio_islands(&self, servers: &[u32]) -> Vec<Vec<u32>> {
        let mut comps = self.components(
            |i, r| !r.implicit && !servers.contains(&i),
            |l| l.kind != LinkKind::Vpn,
        );
        comps.retain(|c| c.len() >= 2);
        comps
    }

    /// Keep only the largest connected component (ties: the one holding
    /// the first router) and record what was dropped in the report. Returns
    /// the number of components dropped.
    pub fn keep_largest_component(&mut self) -> usize {
        let comps = self.components(|_, _| true, |_| true);
        if comps.len() <= 1 {
            return 0;
        }
        let (ids, links) = self.retain(&comps[0]);
        self.report.dropped_components += comps.len() - 1;
        self.report.dropped_routers.extend(ids);
        self.report.dropped_links += links;
        comps.len() - 1
    }

    /// Keep only the routers in `keep` (sorted indices) and the links
    /// between them; returns (dropped router ids, dropped link count).
    pub(crate) fn retain(&mut self, keep: &[u32]) -> (Vec<String>, usize) {
        let mut new_index = vec![u32::MAX; self.routers.len()];
        for (k, &i) in keep.iter().enumerate() {
            new_index[i as usize] = k as u32;
        }
        let mut dropped = Vec::new();
        let mut routers = Vec::with_capacity(keep.len());
        for (i, r) in std::mem::take(&mut self.routers).into_iter().enumerate() {
            if new_index[i] == u32::MAX {
                dropped.push(r.id);
            } else {
                routers.push(r);
            }
        }
        self.routers = routers;
        let before = self.links.len();
        self.links.retain_mut(|l| {
            let (a, b) = (new_index[l.a as usize], new_index[l.b as usize]);
            (l.a, l.b) = (a, b);
            a != u32::MAX && b != u32::MAX
        });
        (dropped, before - self.links.len())
    }
}

/// Union-find with path halving and union by size.
pub(crate) struct UnionFind {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl UnionFind {
    pub(crate) fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }
    pub(crate) fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    pub(crate) fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}
