//! Workloads shared by the benchmarks and the whole-run measurements.
//!
//! The *hold model* (Vaucher & Duval, 1975; the classic event-queue
//! benchmark): every node starts with one message in flight; each delivered
//! message makes its receiver send one message to a random node, with a
//! latency uniform in 1–100 ms. The number of pending events stays equal to
//! the number of nodes, so the figure measures the engine at a steady queue
//! size.

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::prelude::*;

/// The hold model's only message (0 bytes on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hop;

impl Message for Hop {
    fn wire_size(&self) -> u64 {
        0
    }
}

/// A hold-model node: no state at all, so every byte measured per node is
/// the engine's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hold;

impl Hold {
    fn forward(cx: &mut Cx<'_, Self>) {
        let n = cx.node_count() as u32;
        let to = cx.rng().random_range(0..n);
        cx.send(NodeId(to), Hop);
    }
}

impl Node for Hold {
    type Msg = Hop;
    type Timer = ();
    type Request = ();
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        Self::forward(cx);
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, _from: NodeId, _msg: Hop) {
        Self::forward(cx);
    }
    fn on_timer(&mut self, _cx: &mut Cx<'_, Self>, _t: ()) {}
}

/// A hold-model simulation of `n` nodes, started and run past its first
/// 100 ms so that the queue is in its steady state.
pub fn hold_sim(n: u32, seed: u64) -> Sim<Hold> {
    let net = SimpleNet::uniform(
        Duration::from_millis(1),
        Duration::from_millis(100),
        "100Mbit/s".parse().expect("rate"),
    )
    .expect("latency range");
    let mut sim = Sim::new(SimConfig::new(seed, net));
    sim.reserve_nodes(n as usize);
    for _ in 0..n {
        sim.add_node(Hold);
    }
    sim.run(RunLimits::until(Time(100_000_000)))
        .expect("warm-up");
    sim
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_wire_size_matches_its_encoding() {
        let _one_at_a_time = crate::memory::MEASURING
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        sim_core::node::check_wire_size(&Hop).unwrap();
    }

    #[test]
    fn hold_model_keeps_one_event_per_node() {
        let _one_at_a_time = crate::memory::MEASURING
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut sim = hold_sim(1_000, 1);
        assert_eq!(sim.pending_events(), 1_000);
        let out = sim
            .run(RunLimits {
                max_events: Some(50_000),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(out.events, 50_000);
        assert_eq!(sim.pending_events(), 1_000);
    }
}

pub mod memory;
