//! Random-number streams.
//!
//! Every random draw in a run comes from a stream derived from
//! `(master seed, purpose, node id, incarnation)`: the derivation keys a
//! ChaCha8 generator with the master seed, selects the ChaCha *stream* by the
//! purpose and seeks to the block `(node << 32) | incarnation`, then reads 32
//! bytes that seed a small per-node generator. So adding a node, a purpose or
//! a metric never shifts any other node's stream, and a restarted node (new
//! incarnation) gets fresh, reproducible randomness.
//!
//! Per-node generators are small:
//! - [`NodeRng`] (xoshiro256++, 32 bytes) for protocol decisions, handed to
//!   nodes through the context; it implements [`rand::Rng`], so `rand` and
//!   `rand_distr` work with it;
//! - [`SplitMix64`] (8 bytes) for the network's jitter and loss draws.
//!
//! ```
//! use sim_core::rng::{derive_seed, Purpose};
//! let a = derive_seed(42, Purpose::Node, 7, 0);
//! assert_eq!(a, derive_seed(42, Purpose::Node, 7, 0));
//! assert_ne!(a, derive_seed(42, Purpose::Node, 7, 1));
//! assert_ne!(a, derive_seed(42, Purpose::Workload, 7, 0));
//! ```

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The per-node protocol generator: xoshiro256++ (32 bytes of state).
pub type NodeRng = rand_xoshiro::Xoshiro256PlusPlus;

/// What a random stream is used for. Each purpose is a separate ChaCha
/// stream, so draws for one purpose never disturb another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// A node's protocol decisions ([`NodeRng`] in the context).
    Node,
    /// Network jitter and loss for datagrams sent by a node.
    Network,
    /// A client's workload: request times and contents.
    Workload,
    /// A node's churn process (up/down sessions).
    Churn,
    /// Topology construction (generators, placement).
    Topology,
    /// Anything else, numbered by the caller (user protocols, experiments).
    Custom(u32),
}

impl Purpose {
    fn stream(self) -> u64 {
        match self {
            Purpose::Node => 1,
            Purpose::Network => 2,
            Purpose::Workload => 3,
            Purpose::Churn => 4,
            Purpose::Topology => 5,
            Purpose::Custom(n) => (1u64 << 32) | n as u64,
        }
    }
}

/// The 32-byte seed of stream `(master, purpose, node, incarnation)`.
pub fn derive_seed(master: u64, purpose: Purpose, node: u32, incarnation: u32) -> [u8; 32] {
    // Spread the 64-bit master seed over the 256-bit ChaCha key so that
    // nearby seeds give unrelated keys.
    let mut key = [0u8; 32];
    let mut sm = SplitMix64::new(master);
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&sm.next_u64().to_le_bytes());
    }
    let mut c = ChaCha8Rng::from_seed(key);
    c.set_stream(purpose.stream());
    let block = ((node as u64) << 32) | incarnation as u64;
    c.set_word_pos(block as u128 * 16);
    let mut out = [0u8; 32];
    rand::Rng::fill_bytes(&mut c, &mut out);
    out
}

/// A [`NodeRng`] for stream `(master, purpose, node, incarnation)`.
pub fn node_rng(master: u64, purpose: Purpose, node: u32, incarnation: u32) -> NodeRng {
    NodeRng::from_seed(derive_seed(master, purpose, node, incarnation))
}

/// SplitMix64: an 8-byte generator (Steele, Lea & Flood, 2014), used where
/// per-node state must be minimal (network jitter and loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
    /// Seeded from stream `(master, purpose, node, incarnation)`.
    pub fn derived(master: u64, purpose: Purpose, node: u32, incarnation: u32) -> Self {
        let s = derive_seed(master, purpose, node, incarnation);
        SplitMix64::new(u64::from_le_bytes(s[..8].try_into().expect("8 bytes")))
    }
    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift
    /// (bias below 2^-64 · n, negligible for jitter and loss draws).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// A uniform float in `[0, 1)` with 53 random bits.
    #[inline]
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_independent_of_other_nodes_and_purposes() {
        let mut seen = std::collections::BTreeSet::new();
        for purpose in [
            Purpose::Node,
            Purpose::Network,
            Purpose::Workload,
            Purpose::Custom(0),
        ] {
            for node in 0..50 {
                for inc in 0..3 {
                    assert!(seen.insert(derive_seed(1, purpose, node, inc)));
                }
            }
        }
        assert_ne!(
            derive_seed(1, Purpose::Node, 0, 0),
            derive_seed(2, Purpose::Node, 0, 0)
        );
    }

    #[test]
    fn golden_values_pin_the_derivation() {
        // Changing the derivation (or the rand/chacha versions) changes every
        // result ever published with this simulator: this test makes such a
        // change loud. The values were recorded once from this implementation.
        let mut r = node_rng(42, Purpose::Node, 3, 1);
        let x: u64 = r.random();
        let mut s = SplitMix64::new(0);
        // SplitMix64 reference output for seed 0 (published test vector).
        assert_eq!(s.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(x, GOLDEN_NODE_42_3_1);
    }
    const GOLDEN_NODE_42_3_1: u64 = 1_749_226_143_973_781_807;

    #[test]
    fn node_rng_is_32_bytes() {
        assert_eq!(std::mem::size_of::<NodeRng>(), 32);
        assert_eq!(std::mem::size_of::<SplitMix64>(), 8);
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut s = SplitMix64::new(9);
        let mut hit = [false; 7];
        for _ in 0..1000 {
            let v = s.below(7);
            assert!(v < 7);
            hit[v as usize] = true;
        }
        assert!(hit.iter().all(|&h| h));
    }
}
