//! Seeded graph generators: random geometric, Waxman, Barabási–Albert and
//! grid. Each returns a [`RouterGraph`] whose links all have one
//! [`LinkKind`]; build a [`MeshTopology`](super::MeshTopology) from it.
//!
//! Determinism: the same rng state gives the same graph. Positions use
//! floating point (`sqrt`, `cos`); Waxman also uses `exp`, whose last bit
//! may differ between C math libraries, so a Waxman graph is reproducible
//! on one platform and may differ in rare edges across platforms.
//!
//! Routers are placed in a square of `side_m` metres whose south-west corner
//! is [`ORIGIN`], converted to latitude and longitude (equirectangular,
//! fine at city scale), numbered along a Z-order curve (close routers get
//! close indices). Ids are `"0"`, `"1"`, ...

use super::error::TopoError;
use super::graph::{EARTH_RADIUS_M, GraphLink, LatLon, Router, RouterGraph};
use super::kind::LinkKind;
use rand::{Rng, RngExt};
use std::collections::BTreeMap;

/// South-west corner of generated layouts (an arbitrary city-scale spot).
pub const ORIGIN: LatLon = LatLon {
    lat: 52.5,
    lon: 13.3,
};

/// Most routers [`waxman`] accepts (it draws once per pair).
pub const WAXMAN_ROUTERS_MAX: usize = 20_000;

fn router(i: usize, x_m: f64, y_m: f64) -> Router {
    let lat = ORIGIN.lat + (y_m / EARTH_RADIUS_M).to_degrees();
    let lon = ORIGIN.lon + (x_m / (EARTH_RADIUS_M * ORIGIN.lat.to_radians().cos())).to_degrees();
    Router {
        id: i.to_string(),
        name: None,
        role: None,
        coords: Some(LatLon { lat, lon }),
        implicit: false,
    }
}

fn link(a: usize, b: usize, kind: LinkKind) -> GraphLink {
    GraphLink {
        a: a as u32,
        b: b as u32,
        kind,
        tq_ab: None,
        tq_ba: None,
        etx: None,
    }
}

fn check_side(side_m: f64) -> Result<(), TopoError> {
    if side_m.is_finite() && side_m > 0.0 {
        Ok(())
    } else {
        Err(TopoError::config(format!(
            "side {side_m} m must be a positive number"
        )))
    }
}

/// `n` uniform points, numbered along a Z-order (Morton) curve over a
/// 65 536 × 65 536 grid of the square, so that routers close in space have
/// close indices: route tables of neighbours then share cache lines. The
/// order does not change the distribution (the points are independent).
fn points(n: usize, side_m: f64, rng: &mut impl Rng) -> Vec<(f64, f64)> {
    let mut pts: Vec<(u64, f64, f64)> = (0..n)
        .map(|_| {
            let x: f64 = rng.random::<f64>() * side_m;
            let y: f64 = rng.random::<f64>() * side_m;
            let q = |v: f64| ((v / side_m * 65_536.0) as u64).min(65_535);
            (morton(q(x), q(y)), x, y)
        })
        .collect();
    // Stable, and total on the code: equal codes keep their draw order.
    pts.sort_by_key(|p| p.0);
    pts.into_iter().map(|(_, x, y)| (x, y)).collect()
}

/// Interleave the bits of two 16-bit values (x in the even bits).
pub(crate) fn morton(x: u64, y: u64) -> u64 {
    let spread = |mut v: u64| {
        v = (v | (v << 8)) & 0x00ff_00ff;
        v = (v | (v << 4)) & 0x0f0f_0f0f;
        v = (v | (v << 2)) & 0x3333_3333;
        v = (v | (v << 1)) & 0x5555_5555;
        v
    };
    spread(x) | (spread(y) << 1)
}

/// The radius at which a random geometric graph of `n` routers in a square
/// of `side_m` has mean degree about `degree` (ignoring border effects):
/// `sqrt(degree · side² / (π n))`.
pub fn radius_for_degree(n: usize, side_m: f64, degree: f64) -> f64 {
    (degree * side_m * side_m / (std::f64::consts::PI * n as f64)).sqrt()
}

/// Random geometric graph: `n` routers uniform in a square of `side_m`
/// metres, linked when at most `radius_m` apart — rooftop radios in a city.
/// For a city-like density choose the radius for a small mean degree with
/// [`radius_for_degree`] (NYC Mesh averages 2.8 links per node; connected
/// random geometric graphs need a mean degree of roughly 6 or more). The
/// graph may be disconnected: see [`RouterGraph::keep_largest_component`].
/// Neighbours are found through a grid of `radius_m` cells, so the cost is
/// about `n` × mean degree.
pub fn random_geometric(
    n: usize,
    side_m: f64,
    radius_m: f64,
    kind: LinkKind,
    rng: &mut impl Rng,
) -> Result<RouterGraph, TopoError> {
    check_side(side_m)?;
    if !(radius_m.is_finite() && radius_m > 0.0) {
        return Err(TopoError::config(format!(
            "radius {radius_m} m must be a positive number"
        )));
    }
    let pts = points(n, side_m, rng);
    let cells = ((side_m / radius_m).ceil() as i64).max(1);
    let cell = |v: f64| ((v / radius_m) as i64).clamp(0, cells - 1);
    let mut grid: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (i, &(x, y)) in pts.iter().enumerate() {
        grid.entry((cell(x), cell(y))).or_default().push(i);
    }
    let r2 = radius_m * radius_m;
    let mut links = Vec::new();
    let mut near = Vec::new();
    for (i, &(x, y)) in pts.iter().enumerate() {
        near.clear();
        let (cx, cy) = (cell(x), cell(y));
        for dx in -1..=1 {
            for dy in -1..=1 {
                if let Some(v) = grid.get(&(cx + dx, cy + dy)) {
                    near.extend(v.iter().copied().filter(|&j| j > i));
                }
            }
        }
        near.sort_unstable();
        for &j in &near {
            let (u, w) = (pts[j].0 - x, pts[j].1 - y);
            if u * u + w * w <= r2 {
                links.push(link(i, j, kind));
            }
        }
    }
    let routers = pts
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| router(i, x, y))
        .collect();
    Ok(RouterGraph::from_parts(
        format!("random-geometric(n={n}, side={side_m} m, radius={radius_m} m)"),
        routers,
        links,
    ))
}

/// Waxman graph: `n` routers uniform in a square of `side_m`; each pair is
/// linked with probability `beta · exp(-d / (alpha · L))`, `d` their
/// distance and `L` the square's diagonal (Waxman, 1988). Pairs are visited
/// in order `(0,1), (0,2), …`, one draw each; at most
/// [`WAXMAN_ROUTERS_MAX`] routers.
pub fn waxman(
    n: usize,
    side_m: f64,
    alpha: f64,
    beta: f64,
    kind: LinkKind,
    rng: &mut impl Rng,
) -> Result<RouterGraph, TopoError> {
    check_side(side_m)?;
    if !(alpha > 0.0 && alpha.is_finite() && (0.0..=1.0).contains(&beta)) {
        return Err(TopoError::config(format!(
            "waxman: alpha {alpha} must be > 0 and beta {beta} in [0, 1]"
        )));
    }
    if n > WAXMAN_ROUTERS_MAX {
        return Err(TopoError::config(format!(
            "waxman: {n} routers is more than {WAXMAN_ROUTERS_MAX}"
        )));
    }
    let pts = points(n, side_m, rng);
    let l = side_m * std::f64::consts::SQRT_2;
    let mut links = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let d = ((pts[i].0 - pts[j].0).powi(2) + (pts[i].1 - pts[j].1).powi(2)).sqrt();
            let p = beta * (-d / (alpha * l)).exp();
            if rng.random::<f64>() < p {
                links.push(link(i, j, kind));
            }
        }
    }
    let routers = pts
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| router(i, x, y))
        .collect();
    Ok(RouterGraph::from_parts(
        format!("waxman(n={n}, side={side_m} m, alpha={alpha}, beta={beta})"),
        routers,
        links,
    ))
}

/// Barabási–Albert preferential attachment: a complete graph on `m + 1`
/// routers, then each new router links to `m` distinct existing routers
/// chosen with probability proportional to their degree. `n > m >= 1`;
/// the graph has `m(m+1)/2 + (n - m - 1) m` links and is connected.
/// Routers are placed uniformly in a square of `side_m` (positions do not
/// affect the links).
pub fn barabasi_albert(
    n: usize,
    m: usize,
    side_m: f64,
    kind: LinkKind,
    rng: &mut impl Rng,
) -> Result<RouterGraph, TopoError> {
    grown(n, m, side_m, kind, Attachment::Preferential, rng)
}

/// How a new router of a grown graph ([`grown`]) picks its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attachment {
    /// With probability proportional to degree (Barabási–Albert: a
    /// power-law degree tail of exponent 3).
    #[default]
    Preferential,
    /// Uniformly among the existing routers (an exponential degree tail).
    Uniform,
}

/// A graph grown like [`barabasi_albert`] (a complete graph on `m + 1`
/// routers, then each new router links to `m` distinct existing ones), the
/// neighbours picked by `attachment`. [`Attachment::Preferential`] is
/// [`barabasi_albert`], draw for draw.
pub fn grown(
    n: usize,
    m: usize,
    side_m: f64,
    kind: LinkKind,
    attachment: Attachment,
    rng: &mut impl Rng,
) -> Result<RouterGraph, TopoError> {
    check_side(side_m)?;
    if m == 0 || n <= m {
        return Err(TopoError::config(format!(
            "barabasi-albert: need n > m >= 1 (n = {n}, m = {m})"
        )));
    }
    let pts = points(n, side_m, rng);
    let mut links = Vec::new();
    // Every link end once: drawing from it is drawing by degree.
    let mut ends: Vec<usize> = Vec::new();
    for i in 0..=m {
        for j in i + 1..=m {
            links.push(link(i, j, kind));
            ends.extend([i, j]);
        }
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(m);
    for v in m + 1..n {
        chosen.clear();
        // Bounded retries; a shortfall (astronomically unlikely) is filled
        // with the lowest-index routers not yet chosen.
        for _ in 0..64 * m {
            if chosen.len() == m {
                break;
            }
            let t = match attachment {
                Attachment::Preferential => ends[rng.random_range(0..ends.len())],
                Attachment::Uniform => rng.random_range(0..v),
            };
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        let mut t = 0;
        while chosen.len() < m {
            if !chosen.contains(&t) {
                chosen.push(t);
            }
            t += 1;
        }
        chosen.sort_unstable();
        for &t in &chosen {
            links.push(link(t, v, kind));
            ends.extend([t, v]);
        }
    }
    let routers = pts
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| router(i, x, y))
        .collect();
    let name = match attachment {
        Attachment::Preferential => format!("barabasi-albert(n={n}, m={m})"),
        Attachment::Uniform => format!("uniform-attachment(n={n}, m={m})"),
    };
    Ok(RouterGraph::from_parts(name, routers, links))
}

/// A `width × height` grid with `spacing_m` between neighbours; router
/// `y · width + x` links to its right and upper neighbours (4-neighbour
/// lattice, `width (height - 1) + height (width - 1)` links).
pub fn grid(
    width: usize,
    height: usize,
    spacing_m: f64,
    kind: LinkKind,
) -> Result<RouterGraph, TopoError> {
    check_side(spacing_m)?;
    if width == 0 || height == 0 {
        return Err(TopoError::config(
            "grid: width and height must be at least 1",
        ));
    }
    let mut routers = Vec::with_capacity(width * height);
    let mut links = Vec::new();
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            routers.push(router(i, x as f64 * spacing_m, y as f64 * spacing_m));
            if x + 1 < width {
                links.push(link(i, i + 1, kind));
            }
            if y + 1 < height {
                links.push(link(i, i + width, kind));
            }
        }
    }
    Ok(RouterGraph::from_parts(
        format!("grid({width}x{height}, spacing={spacing_m} m)"),
        routers,
        links,
    ))
}
