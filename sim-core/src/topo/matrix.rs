//! [`MatrixTopology`]: nodes mapped onto the hosts of a measured latency
//! matrix ([`Matrix`]).

use super::coords::access_route;
use super::error::TopoError;
use crate::net::latency::{LatencyModel, Matrix};
use crate::net::route::{Access, LinkId, LinkSpec, RouteError, Topology};
use crate::units::Duration;
use std::path::Path;

/// `N` nodes over a latency matrix of `n` hosts.
///
/// Node `k` is host `k % n` (the mapping of [`Matrix`]). Each node has its
/// own access uplink (`2k`) and downlink (`2k + 1`) with the given
/// [`Access`]; a route is `up(a), down(b)` and the pair's matrix latency is
/// [`LatencyModel::latency`] (one-way delay = access + matrix + access).
///
/// # Reuse when `N > n`
/// Pairs of nodes both below `n` get the matrix value exactly. A pair with
/// at least one *replica* (node >= `n`) gets the matrix value of its hosts
/// (the diagonal for two nodes on one host) scaled by `1 + j`, where `j` is
/// uniform in `[-jitter, +jitter]` (in millionths, `jitter_ppm`) and a pure
/// function of `(seed, min(a, b), max(a, b))` (SplitMix64): symmetric,
/// stable across runs and independent of query order. Without it every
/// replica would be an exact copy of its host, which collapses proximity
/// choices into ties.
#[derive(Clone, Debug)]
pub struct MatrixTopology {
    matrix: Matrix,
    nodes: usize,
    jitter_ppm: u32,
    seed: u64,
    links: Vec<LinkSpec>,
}

/// SplitMix64 finaliser: a stable 64-bit mix (never `DefaultHasher`).
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl MatrixTopology {
    /// `nodes` nodes over `matrix`; `jitter_ppm` (at most 10^6) and `seed`
    /// as described on the type.
    pub fn new(
        matrix: Matrix,
        nodes: usize,
        access: Access,
        jitter_ppm: u32,
        seed: u64,
    ) -> Result<Self, TopoError> {
        if jitter_ppm > 1_000_000 {
            return Err(TopoError::config(
                "matrix jitter must be at most 1 000 000 ppm (100 %)",
            ));
        }
        if nodes >= (u32::MAX / 2) as usize {
            return Err(TopoError::config("too many nodes for 32-bit link ids"));
        }
        let links = (0..nodes)
            .flat_map(|_| {
                [
                    LinkSpec::lossless(access.latency, access.up),
                    LinkSpec::lossless(access.latency, access.down),
                ]
            })
            .collect();
        Ok(MatrixTopology {
            matrix,
            nodes,
            jitter_ppm,
            seed,
            links,
        })
    }

    /// Read the matrix file (format of [`Matrix`]) and build the topology.
    pub fn load(
        path: impl AsRef<Path>,
        nodes: usize,
        access: Access,
        jitter_ppm: u32,
        seed: u64,
    ) -> Result<Self, TopoError> {
        let m = Matrix::load(path)?;
        MatrixTopology::new(m, nodes, access, jitter_ppm, seed)
    }

    /// The matrix.
    pub fn matrix(&self) -> &Matrix {
        &self.matrix
    }
}

impl LatencyModel for MatrixTopology {
    fn latency(&self, from: u32, to: u32) -> Duration {
        if from == to {
            return Duration::ZERO;
        }
        let base = self.matrix.latency(from, to);
        let n = self.matrix.hosts();
        if (from as usize) < n && (to as usize) < n || self.jitter_ppm == 0 {
            return base;
        }
        let (lo, hi) = (from.min(to), from.max(to));
        let h = splitmix64(self.seed ^ splitmix64((u64::from(lo) << 32) | u64::from(hi)));
        let span = 2 * u64::from(self.jitter_ppm) + 1;
        let j = (h % span) as i128 - i128::from(self.jitter_ppm);
        let ns = i128::from(base.as_nanos()) * (1_000_000 + j) / 1_000_000;
        Duration::from_nanos(u64::try_from(ns.max(0)).unwrap_or(u64::MAX))
    }
}

impl Topology for MatrixTopology {
    fn node_count(&self) -> usize {
        self.nodes
    }
    fn links(&self) -> &[LinkSpec] {
        &self.links
    }
    fn route(&self, from: u32, to: u32, out: &mut Vec<LinkId>) -> Result<(), RouteError> {
        access_route(self.nodes, from, to, out)
    }
}

impl crate::net::Network for MatrixTopology {}
