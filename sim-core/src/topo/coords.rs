//! [`Coordinates`]: a synthetic internet. Nodes sit on a sphere; the
//! propagation delay between two nodes is their great-circle distance at
//! two thirds of the speed of light (light in fibre), and every node adds
//! its own access delay at each end.

use super::error::TopoError;
use super::graph::{EARTH_RADIUS_M, LatLon};
use crate::net::latency::LatencyModel;
use crate::net::route::{LinkId, LinkSpec, RouteError, Topology};
use crate::units::{Duration, Rate};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, LogNormal, Normal};

/// Speed of light in vacuum, m/s.
pub const SPEED_OF_LIGHT_M_S: f64 = 299_792_458.0;

/// A populated region nodes are sampled from: a centre, a Gaussian spread
/// (standard deviation per axis, km) and a weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Name, for documentation and reports.
    pub name: String,
    /// Centre.
    pub center: LatLon,
    /// Standard deviation of the distance from the centre along each axis, km.
    pub spread_km: f64,
    /// Relative share of nodes (integer weights keep sampling exact).
    pub weight: u32,
}

/// Parameters of [`Coordinates::generate`].
///
/// # Defaults and their calibration
/// - **Regions** (assumption): nine regions centred on large metropolitan
///   areas, weighted roughly like the world's internet users by region
///   (East Asia 25, Europe 18, South Asia 15, North America east 9 and
///   west 6, South America 9, Africa 8, South-East Asia 8, Oceania 2). The
///   weights are rounded guesses, not figures from a cited table.
/// - **Propagation**: great-circle distance / (2/3 c), the speed of light in
///   fibre; no route inflation is modelled separately: it is absorbed in
///   the access delay.
/// - **Access delay** (one-way, per node): log-normal with median 8 ms and
///   σ = 0.7 (of the natural log).
///
/// Calibration target: a median round-trip time between random pairs in
/// the 100–150 ms range, the range quoted for the King data set of RTTs
///   between DNS servers (Gummadi, Saroiu, Gribble, "King: estimating
///   latency between arbitrary Internet end hosts", IMW 2002; the
///   1740-server matrix used to evaluate Vivaldi, Dabek et al., SIGCOMM
///   2004). The exact published median was not re-derived here; treat the
///   range as the stated assumption. With the defaults the propagation
///   alone gives a median RTT of about 87 ms and the access delays bring
///   it to about 125 ms; the test `coordinates_median_rtt_in_king_range`
///   checks that the model's median RTT over sampled pairs lies in
///   [100, 150] ms.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinatesConfig {
    /// Regions nodes are drawn from.
    pub regions: Vec<Region>,
    /// Median one-way access delay.
    pub access_median: Duration,
    /// σ of the log of the access delay.
    pub access_sigma: f64,
    /// Upload capacity of every node.
    pub up: Rate,
    /// Download capacity of every node.
    pub down: Rate,
}

impl Default for CoordinatesConfig {
    fn default() -> Self {
        let r = |name: &str, lat, lon, spread_km, weight| Region {
            name: name.into(),
            center: LatLon { lat, lon },
            spread_km,
            weight,
        };
        CoordinatesConfig {
            regions: vec![
                r("east-asia", 31.2, 121.5, 800.0, 25),
                r("south-asia", 28.6, 77.2, 800.0, 15),
                r("europe", 50.1, 8.7, 700.0, 18),
                r("north-america-east", 40.7, -74.0, 700.0, 9),
                r("north-america-west", 37.8, -122.4, 600.0, 6),
                r("south-america", -23.5, -46.6, 800.0, 9),
                r("africa", 6.5, 3.4, 1000.0, 8),
                r("southeast-asia", -6.2, 106.8, 900.0, 8),
                r("oceania", -33.9, 151.2, 500.0, 2),
            ],
            access_median: Duration::from_millis(8),
            access_sigma: 0.7,
            up: Rate::new(20_000_000).expect("positive"),
            down: Rate::new(100_000_000).expect("positive"),
        }
    }
}

/// Nodes on a sphere: propagation at 2/3 c over the great circle plus
/// each end's access delay.
///
/// Links: node `i`'s uplink is `2i`, its downlink `2i + 1`, each carrying
/// the node's access delay; a route is `up(a), down(b)`. The propagation
/// delay between the two is *not* in the links: it is
/// [`LatencyModel::latency`], so one-way delay = access(a) + propagation +
/// access(b).
#[derive(Clone, Debug)]
pub struct Coordinates {
    pos: Vec<LatLon>,
    /// Per node: latitude in radians and its cosine, for the haversine of
    /// every datagram (the two cosines were a fifth of its cost).
    rad: Vec<(f64, f64)>,
    links: Vec<LinkSpec>,
}

impl Coordinates {
    /// Most nodes [`Coordinates::generate`] accepts (10 million: 640 MB
    /// of positions and two access links per node).
    pub const NODES_MAX: usize = 10_000_000;

    /// `n` nodes drawn from `cfg` with `rng`: the same rng state gives the
    /// same nodes on one platform (the normal and log-normal samplers use
    /// `ln`/`exp` from the C math library, whose last bit may differ
    /// between platforms).
    pub fn generate(
        n: usize,
        cfg: &CoordinatesConfig,
        rng: &mut impl Rng,
    ) -> Result<Coordinates, TopoError> {
        if n > Coordinates::NODES_MAX {
            return Err(TopoError::config(format!(
                "coordinates: {n} nodes is more than the {} this model holds; set topology.nodes lower",
                Coordinates::NODES_MAX
            )));
        }
        let total: u64 = cfg.regions.iter().map(|r| u64::from(r.weight)).sum();
        if total == 0 {
            return Err(TopoError::config(
                "coordinates: regions with positive total weight are needed",
            ));
        }
        if cfg
            .regions
            .iter()
            .any(|r| !(r.spread_km >= 0.0 && r.spread_km.is_finite()))
        {
            return Err(TopoError::config(
                "coordinates: region spreads must be finite and >= 0",
            ));
        }
        let median_ms = cfg.access_median.as_millis_f64();
        let access = LogNormal::new(median_ms.max(1e-9).ln(), cfg.access_sigma).map_err(|e| {
            TopoError::config(format!("coordinates: access delay distribution: {e}"))
        })?;
        let unit = Normal::new(0.0, 1.0).expect("valid");
        let mut pos = Vec::with_capacity(n);
        let mut delays = Vec::with_capacity(n);
        for _ in 0..n {
            let mut x = rng.random_range(0..total);
            let region = cfg
                .regions
                .iter()
                .find(|r| {
                    let w = u64::from(r.weight);
                    if x < w {
                        true
                    } else {
                        x -= w;
                        false
                    }
                })
                .expect("x < total");
            let s = region.spread_km * 1000.0;
            let dy: f64 = unit.sample(rng) * s;
            let dx: f64 = unit.sample(rng) * s;
            let c = region.center;
            let lat = (c.lat + (dy / EARTH_RADIUS_M).to_degrees()).clamp(-89.9, 89.9);
            let lon = c.lon + (dx / (EARTH_RADIUS_M * c.lat.to_radians().cos())).to_degrees();
            let lon = (lon + 180.0).rem_euclid(360.0) - 180.0;
            pos.push(LatLon { lat, lon });
            let ms: f64 = access.sample(rng);
            delays.push(Duration::from_secs_f64(ms / 1000.0));
        }
        Ok(Coordinates::from_positions(pos, &delays, cfg.up, cfg.down))
    }

    /// Nodes at given positions with given one-way access delays
    /// (`delays[i]` for node `i`) and common capacities.
    ///
    /// # Panics
    /// If `delays` is shorter than `pos`.
    pub fn from_positions(
        pos: Vec<LatLon>,
        delays: &[Duration],
        up: Rate,
        down: Rate,
    ) -> Coordinates {
        assert!(delays.len() >= pos.len(), "one access delay per node");
        let links = delays[..pos.len()]
            .iter()
            .flat_map(|&d| [LinkSpec::lossless(d, up), LinkSpec::lossless(d, down)])
            .collect();
        let rad = pos
            .iter()
            .map(|p| {
                let r = p.lat.to_radians();
                (r, r.cos())
            })
            .collect();
        Coordinates { pos, rad, links }
    }

    /// Give node `i` other access capacities (a data center's link), its
    /// access delay unchanged.
    ///
    /// # Panics
    /// If `i` is not a node.
    pub fn set_capacity(&mut self, i: u32, up: Rate, down: Rate) {
        let d = self.access_delay(i);
        self.links[2 * i as usize] = LinkSpec::lossless(d, up);
        self.links[2 * i as usize + 1] = LinkSpec::lossless(d, down);
    }

    /// Position of node `i`.
    pub fn position(&self, i: u32) -> LatLon {
        self.pos[i as usize]
    }

    /// One-way access delay of node `i`.
    pub fn access_delay(&self, i: u32) -> Duration {
        self.links[2 * i as usize].latency()
    }

    /// One-way propagation delay between two positions at 2/3 c, rounded to
    /// the nanosecond.
    pub fn propagation(a: LatLon, b: LatLon) -> Duration {
        let s = a.distance_m(b) / (SPEED_OF_LIGHT_M_S * 2.0 / 3.0);
        Duration::from_nanos((s * 1e9).round() as u64)
    }
}

impl LatencyModel for Coordinates {
    fn latency(&self, from: u32, to: u32) -> Duration {
        if from == to {
            return Duration::ZERO;
        }
        let (a, b) = (from as usize, to as usize);
        let ((p1, c1), (p2, c2)) = (self.rad[a], self.rad[b]);
        let (l1, l2) = (self.pos[a].lon, self.pos[b].lon);
        // `LatLon::distance_m` with the latitudes' radians and cosines
        // looked up: the same operations on the same values, so the same
        // result to the bit (a test checks it against `propagation`).
        let dp = p2 - p1;
        let dl = (l2 - l1).to_radians();
        let h = (dp / 2.0).sin().powi(2) + c1 * c2 * (dl / 2.0).sin().powi(2);
        let m = 2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin();
        let s = m / (SPEED_OF_LIGHT_M_S * 2.0 / 3.0);
        Duration::from_nanos((s * 1e9).round() as u64)
    }
}

impl Topology for Coordinates {
    fn node_count(&self) -> usize {
        self.pos.len()
    }
    fn links(&self) -> &[LinkSpec] {
        &self.links
    }
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        access_route(self.pos.len(), from, to, out)
    }
}

/// `up(from), down(to)` with node `i`'s links at `2i`, `2i + 1`.
pub(crate) fn access_route(
    count: usize,
    from: u32,
    to: u32,
    out: &mut Vec<LinkId>,
) -> Result<(), RouteError> {
    out.clear();
    for node in [from, to] {
        if node as usize >= count {
            return Err(RouteError::UnknownNode { node, count });
        }
    }
    if from != to {
        out.push(LinkId(2 * from));
        out.push(LinkId(2 * to + 1));
    }
    Ok(())
}

impl crate::net::Network for Coordinates {}
