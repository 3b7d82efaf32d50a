//! Heap bytes measured with a counting allocator.
//!
//! Linking this crate installs [`Counting`] as the global allocator, so the
//! benchmarks and tests of this crate see every byte the engine allocates.
#![allow(unsafe_code)]

use serde::{Deserialize, Serialize};
use sim_core::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting live bytes.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only
// the byte counter is updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes right now.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// A node that does nothing: zero bytes of protocol state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Idle;

/// Its (unused) message.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Nothing;
impl Message for Nothing {}

impl Node for Idle {
    type Msg = Nothing;
    type Timer = ();
    type Request = ();
    fn on_start(&mut self, _cx: &mut Cx<'_, Self>) {}
    fn on_message(&mut self, _cx: &mut Cx<'_, Self>, _f: NodeId, _m: Nothing) {}
    fn on_timer(&mut self, _cx: &mut Cx<'_, Self>, _t: ()) {}
}

/// Heap bytes of engine state per started, idle node in a simulation of
/// `n` nodes (protocol state is zero-sized here), after the start-up events
/// have run and the queue's spare capacity has been released.
pub fn engine_bytes_per_idle_node(n: u32) -> f64 {
    let before = live_bytes();
    let mut sim: Sim<Idle> = Sim::new(SimConfig::new(
        1,
        SimpleNet::constant(Duration::from_millis(1), "1Mbit/s".parse().expect("rate")),
    ));
    sim.reserve_nodes(n as usize);
    for _ in 0..n {
        sim.add_node(Idle);
    }
    sim.run(RunLimits::default()).expect("start-up");
    sim.shrink_buffers();
    assert_eq!(sim.nodes_up(), n as usize);
    let after = live_bytes();
    let per = (after - before) as f64 / n as f64;
    drop(sim);
    per
}

/// Memory of a Kademlia network, per node.
#[derive(Debug, Clone, Copy)]
pub struct KadMemory {
    /// Heap bytes per node of the whole simulation (engine, node state,
    /// routing tables, pending events, the shared id table), measured with
    /// the counting allocator, plus the inline size of the node table.
    pub total_per_node: f64,
    /// Of which routing-table heap bytes per node (capacities).
    pub table_per_node: f64,
    /// Contacts per node.
    pub contacts_per_node: f64,
}

/// Build a Kademlia network of `n` nodes, warm (tables from global
/// knowledge) or cold (joins one every `join_spacing`), run it until the
/// start-up traffic is over, release spare buffer capacity and measure.
/// Returns the measurement and the simulation (for further use).
pub fn kademlia_memory(
    n: usize,
    warm: bool,
    join_spacing: Duration,
) -> (KadMemory, kademlia::harness::Harness) {
    use kademlia::harness::Harness;
    use kademlia::{Config, Observe};
    let before = live_bytes();
    let net = SimpleNet::uniform(
        Duration::from_millis(10),
        Duration::from_millis(150),
        "10Mbit/s".parse().expect("rate"),
    )
    .expect("latency");
    let mut h = Harness::new(n, Config::default(), 1, net);
    h.set_observe(Observe::default());
    if warm {
        h.warm_start();
        h.run_for(Duration::from_secs(1));
    } else {
        h.join_all(join_spacing, 1);
        h.run_for(Duration(join_spacing.0 * n as u64) + Duration::from_secs(60));
    }
    for i in 0..n as u32 {
        h.sim.node_mut(NodeId(i)).kad.shrink_to_fit();
    }
    h.sim.shrink_buffers();
    let after = live_bytes();
    let (mut table, mut contacts) = (0usize, 0usize);
    for i in 0..n as u32 {
        let k = &h.sim.node(NodeId(i)).kad;
        table += k.table().heap_bytes();
        contacts += k.table().len();
    }
    let m = KadMemory {
        total_per_node: (after - before) as f64 / n as f64,
        table_per_node: table as f64 / n as f64,
        contacts_per_node: contacts as f64 / n as f64,
    };
    (m, h)
}

/// The counting allocator counts every thread's bytes: the tests of this
/// crate that measure, and those that allocate while another measures,
/// take this lock so that no test's bytes land in another's measurement.
#[cfg(test)]
pub(crate) static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kademlia_warm_node_fits_in_8_kib_at_10_000_nodes() {
        let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
        let (m, _h) = kademlia_memory(10_000, true, Duration::ZERO);
        // A real measurement: at least the contacts (8 bytes each).
        assert!(m.total_per_node >= 8.0 * m.contacts_per_node, "{m:?}");
        assert!(m.total_per_node <= 8192.0, "{m:?}");
    }

    #[test]
    fn engine_state_per_idle_node_is_at_most_256_bytes() {
        let _one_at_a_time = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
        let per = engine_bytes_per_idle_node(100_000);
        // A real measurement: the meta table alone is 48 bytes per node.
        assert!(per >= 48.0, "implausibly small: {per}");
        assert!(per <= 256.0, "{per} bytes per idle node");
    }
}
