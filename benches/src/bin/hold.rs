//! Whole-run hold-model measurement, for `/usr/bin/time -v`:
//! `cargo run --release -p benches --bin hold -- NODES EVENTS`.
use benches::hold_sim;
use sim_core::RunLimits;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let parse = |i: usize, default: u64| -> u64 {
        match args.get(i) {
            None => default,
            Some(s) => s.replace('_', "").parse().unwrap_or_else(|_| {
                eprintln!("hold: argument {i} must be a whole number, got {s:?}");
                eprintln!("usage: hold [NODES] [EVENTS]");
                std::process::exit(2)
            }),
        }
    };
    let nodes = parse(1, 1_000_000);
    let events = parse(2, 50_000_000);
    if nodes == 0 || nodes > u32::MAX as u64 || events == 0 {
        eprintln!("hold: NODES must be in 1..=4294967295 and EVENTS at least 1");
        std::process::exit(2);
    }
    let t0 = std::time::Instant::now();
    let mut sim = hold_sim(nodes as u32, 1);
    let setup = t0.elapsed();
    let out = sim
        .run(RunLimits {
            max_events: Some(events),
            ..Default::default()
        })
        .expect("run");
    let secs = out.wall.as_secs_f64();
    println!(
        "nodes={nodes} events={} setup_s={:.3} run_s={secs:.3} events_per_s={:.0} trace_hash={:016x}",
        out.events,
        setup.as_secs_f64(),
        out.events as f64 / secs,
        sim.trace_hash()
    );
}
