//! Bytes of engine state per idle node, measured with a counting allocator
//! (`cargo bench -p benches --bench memory`).
use benches::memory::engine_bytes_per_idle_node;

fn main() {
    for n in [1_000u32, 100_000, 1_000_000] {
        let b = engine_bytes_per_idle_node(n);
        println!("engine bytes per idle node at {n} nodes: {b:.1}");
    }
}
