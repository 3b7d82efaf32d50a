//! [`Star`]: the data-center baseline. Clients reach one site over their
//! own access links and the WAN; the site's uplink and downlink are shared
//! by every client.

use super::error::TopoError;
use crate::net::latency::LatencyModel;
use crate::net::route::{Access, LinkId, LinkSpec, RouteError, Topology};
use crate::units::{Duration, Rate};

/// The data-center site.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Number of server nodes at the site (at least 1).
    pub servers: usize,
    /// Each server's own network interface (its up/down links, LAN latency).
    pub server_access: Access,
    /// The site's internet uplink (site to clients), shared by all servers.
    pub uplink: Rate,
    /// The site's internet downlink (clients to site), shared by all servers.
    pub downlink: Rate,
    /// One-way WAN latency between the internet and the site, carried by the
    /// site's uplink and downlink. Per-client differences belong in each
    /// client's access latency.
    pub wan_latency: Duration,
}

/// Capacity of the WAN core between two clients: large enough never to be
/// the bottleneck (1 Tbit/s).
pub const CORE_CAPACITY_BPS: u64 = 1_000_000_000_000;

/// Clients and one site.
///
/// Nodes: clients `0..clients`, then servers `clients..clients + servers`.
/// Links: node `i`'s uplink `2i` and downlink `2i + 1`; then the site
/// uplink, the site downlink and the WAN core.
///
/// Routes:
/// - client to server: `up(c), site downlink, down(s)`;
/// - server to client: `up(s), site uplink, down(c)`;
/// - server to server (inside the site): `up(s1), down(s2)`;
/// - client to client (not what the baseline is about, but defined): `up(a),
///   core, down(b)`, the core's latency being twice the WAN latency.
#[derive(Clone, Debug)]
pub struct Star {
    clients: usize,
    servers: usize,
    links: Vec<LinkSpec>,
}

impl Star {
    /// A star of `clients.len()` clients around `site`.
    pub fn new(clients: &[Access], site: &Site) -> Result<Star, TopoError> {
        if site.servers == 0 {
            return Err(TopoError::config(
                "a data-center site needs at least one server",
            ));
        }
        let n = clients.len() + site.servers;
        if n >= (u32::MAX / 2 - 2) as usize {
            return Err(TopoError::config("too many nodes for 32-bit link ids"));
        }
        let mut links = Vec::with_capacity(2 * n + 3);
        let s = site.server_access;
        for a in clients.iter().chain(std::iter::repeat_n(&s, site.servers)) {
            links.push(LinkSpec::lossless(a.latency, a.up));
            links.push(LinkSpec::lossless(a.latency, a.down));
        }
        links.push(LinkSpec::lossless(site.wan_latency, site.uplink));
        links.push(LinkSpec::lossless(site.wan_latency, site.downlink));
        let core = Rate::new(CORE_CAPACITY_BPS).expect("positive");
        links.push(LinkSpec::lossless(
            site.wan_latency.saturating_add(site.wan_latency),
            core,
        ));
        Ok(Star {
            clients: clients.len(),
            servers: site.servers,
            links,
        })
    }
    /// Number of clients.
    pub fn clients(&self) -> usize {
        self.clients
    }
    /// Node id of server `k`.
    pub fn server(&self, k: usize) -> u32 {
        (self.clients + k) as u32
    }
    /// Is `node` a server?
    pub fn is_server(&self, node: u32) -> bool {
        (node as usize) >= self.clients && (node as usize) < self.clients + self.servers
    }
    /// The site's shared uplink (site to clients).
    pub fn site_uplink(&self) -> LinkId {
        LinkId(2 * (self.clients + self.servers) as u32)
    }
    /// The site's shared downlink (clients to site).
    pub fn site_downlink(&self) -> LinkId {
        LinkId(self.site_uplink().0 + 1)
    }
    /// The WAN core between clients.
    pub fn core(&self) -> LinkId {
        LinkId(self.site_uplink().0 + 2)
    }
}

impl Topology for Star {
    fn node_count(&self) -> usize {
        self.clients + self.servers
    }
    fn links(&self) -> &[LinkSpec] {
        &self.links
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
        out.push(LinkId(2 * from));
        match (self.is_server(from), self.is_server(to)) {
            (false, true) => out.push(self.site_downlink()),
            (true, false) => out.push(self.site_uplink()),
            (true, true) => {}
            (false, false) => out.push(self.core()),
        }
        out.push(LinkId(2 * to + 1));
        Ok(())
    }
}

/// All of a star's latency is in its links.
impl LatencyModel for Star {
    fn latency(&self, _from: u32, _to: u32) -> Duration {
        Duration::ZERO
    }
}

impl crate::net::Network for Star {}
