//! One simulated year of the storage layer under Weibull churn.
//!
//! `storyear <replicas|erasure> [nodes] [objects] [days]
//! [--rejoin=lookup|ping|silent] [--repair-placement=lookup|table]`
//! (defaults 10000, 100000, 365, and lookup for both options): `nodes`
//! churning peers store `objects` objects of 1 MiB (phantom payloads), as
//! 3 replicas or 6-of-10 erasure-coded fragments,
//! written by 4 stable clients as Poisson arrivals over the first simulated
//! day, then runs to `days` simulated days.
//!
//! - Churn: up sessions Weibull (mean 12 h, shape 0.5: heavy-tailed home
//!   machines), down sessions Weibull (mean 2 h, shape 0.5); permanent
//!   departures on a separate clock (exponential lifetime, mean one year),
//!   each departed peer replaced by a new one that joins through the
//!   clients (`Setup::spare` sized from the expected departures plus a
//!   margin).
//! - Storage: eager repair at once, detection timeout 24 h, heartbeat 6 h
//!   (a leader pings its followers once per heartbeat: at these settings the
//!   per-node heartbeats stay affordable over a year), new holders of a
//!   repair found by a DHT lookup (`--repair-placement=lookup`, the crate's
//!   default) or from the leader's routing table
//!   (`--repair-placement=table`); everything else the crate's defaults.
//! - DHT: the storage harness's settings (64-bit keys, warm tables, the
//!   paper's lookup termination, tables kept across transient restarts),
//!   a peer back from a transient failure rejoining by the self-lookup
//!   (`--rejoin=lookup`, Kademlia's default) or by pinging the k closest
//!   contacts of its kept table (`--rejoin=ping`, `Rejoin::PingClosest`),
//!   or without any RPC (`--rejoin=silent`, `Rejoin::Silent`),
//!   with bucket refresh off (`refresh_interval = None`): hourly refresh
//!   lookups from every peer would dominate a year-long run.
//! - Network: the harness's (20 ms one way, 100 Mbit/s per bulk transfer,
//!   no sharing).
//!
//! The harness drops its storage events once the ledger has applied them
//! (`Setup::keep_log` false). Progress goes to stderr every 30 simulated
//! days; the summary, the engine's trace hash and every counter go to
//! stdout. Heap bytes come from the crate's counting allocator
//! (`benches::memory`).
use benches::memory::live_bytes;
use sim_core::churn::{Alternating, Dist, PermanentPolicy};
use sim_core::prelude::*;
use std::process::ExitCode;
use std::time::Instant;
use storage::harness::{Harness, Setup};
use storage::{Command, ObjectId, Request, Scheme};

const SEED: u64 = 2024;
const CLIENTS: usize = 4;
const OBJECT_LEN: u64 = 1 << 20;
const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

const USAGE: &str =
    "usage: storyear <replicas|erasure> [nodes] [objects] [days] [--rejoin=lookup|ping|silent]
                [--repair-placement=lookup|table]
  replicas  3 replicas per object
  erasure   6-of-10 erasure-coded fragments
  nodes     churning peers (default 10000, at least 11)
  objects   objects of 1 MiB written over the first simulated day (default 100000)
  days      simulated days (default 365, at least 1)
  --rejoin  how a peer back from a transient failure rejoins the DHT: its
            self-lookup (lookup, the default), one ping to each of the k
            closest contacts of its kept table (ping), or no RPC (silent)
  --repair-placement
            where a repairing leader finds new holders: a DHT lookup
            (lookup, the default) or its own routing table (table)";

struct Args {
    scheme: Scheme,
    name: &'static str,
    nodes: usize,
    objects: u64,
    days: u64,
    rejoin: kademlia::Rejoin,
    repair_placement: storage::RepairPlacement,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut rejoin = kademlia::Rejoin::SelfLookup;
    let mut repair_placement = storage::RepairPlacement::Lookup;
    let mut positional = Vec::new();
    for a in args {
        match a.as_str() {
            "--rejoin=lookup" => rejoin = kademlia::Rejoin::SelfLookup,
            "--rejoin=ping" => rejoin = kademlia::Rejoin::PingClosest,
            "--rejoin=silent" => rejoin = kademlia::Rejoin::Silent,
            "--repair-placement=lookup" => repair_placement = storage::RepairPlacement::Lookup,
            "--repair-placement=table" => repair_placement = storage::RepairPlacement::Table,
            s if s.starts_with("--") => return Err(format!("unknown option {s:?}")),
            _ => positional.push(a.clone()),
        }
    }
    let args = &positional[..];
    let (scheme, name) = match args.first().map(String::as_str) {
        Some("replicas") => (Scheme::Replicate { r: 3 }, "replicas"),
        Some("erasure") => (Scheme::Erasure { m: 6, n: 10 }, "erasure"),
        Some(other) => return Err(format!("unknown scheme {other:?}")),
        None => return Err("missing scheme".into()),
    };
    if args.len() > 4 {
        return Err(format!("{} arguments, at most 4", args.len()));
    }
    let num = |i: usize, what: &str, default: u64, min: u64| -> Result<u64, String> {
        match args.get(i) {
            None => Ok(default),
            Some(s) => match s.parse::<u64>() {
                Ok(v) if v >= min => Ok(v),
                _ => Err(format!("{what} must be an integer >= {min}, got {s:?}")),
            },
        }
    };
    let nodes = num(1, "nodes", 10_000, 11)?;
    let objects = num(2, "objects", 100_000, 1)?;
    let days = num(3, "days", 365, 1)?;
    if nodes > 1_000_000 || days > 100 * 365 {
        return Err("at most 10^6 nodes and 100 years".into());
    }
    Ok(Args {
        scheme,
        name,
        nodes: nodes as usize,
        objects,
        days,
        rejoin,
        repair_placement,
    })
}

/// Writes of fresh objects from the clients: Poisson arrivals at a total
/// rate of `total` per `window`, numbered in the order they are drawn, until
/// `total` have been issued.
struct Writes {
    total: u64,
    issued: u64,
    mean_gap_ns: f64,
}

impl Workload<Request> for Writes {
    fn next(
        &mut self,
        _client: NodeId,
        _now: Time,
        rng: &mut NodeRng,
    ) -> Option<(Duration, Request)> {
        use rand::RngExt;
        if self.issued == self.total {
            return None;
        }
        let n = self.issued;
        self.issued += 1;
        let u: f64 = rng.random();
        let gap = (-(1.0 - u).ln() * self.mean_gap_ns).round().max(1.0) as u64;
        Some((
            Duration(gap),
            Request::Store(Command::Write {
                tag: n,
                object: ObjectId::synthetic(SEED, n),
                len: OBJECT_LEN,
            }),
        ))
    }
}

/// Peak resident set of this process, KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Live objects (at least `m` distinct fragments on disks) and fragments
/// on disks, from the ledger.
fn census(h: &mut Harness, m: usize) -> (usize, usize, usize) {
    let l = h.ledger();
    let mut live = 0;
    let mut fragments = 0;
    for holders in l.holders.values() {
        fragments += holders.len();
        let mut idx: Vec<u16> = holders.values().copied().collect();
        idx.sort_unstable();
        idx.dedup();
        if idx.len() >= m {
            live += 1;
        }
    }
    (live, l.lost_at.len(), fragments)
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let a = match parse(&argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("storyear: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("storyear: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> Result<(), SimError> {
    let heap_start = live_bytes();
    let wall = Instant::now();
    let lifetime = Duration::from_secs(365 * DAY);
    let churn = Alternating::new(
        Dist::weibull(Duration::from_secs(12 * HOUR), 0.5).map_err(cfg)?,
        Dist::weibull(Duration::from_secs(2 * HOUR), 0.5).map_err(cfg)?,
    )
    .with_permanent(PermanentPolicy::departure_rate(lifetime).map_err(cfg)?);
    // Departures: the population stays at `nodes` (each departed peer is
    // replaced), each leaving at rate 1/lifetime, so their number is
    // Poisson with mean nodes × days / 365. Room for 6 standard deviations
    // more, and a few.
    let expected = a.nodes as f64 * a.days as f64 / 365.0;
    let spare = (expected + 6.0 * expected.sqrt()).ceil() as usize + 32;

    let mut s = Setup::small(a.nodes, SEED);
    s.clients = CLIENTS;
    s.spare = spare;
    s.keep_log = false;
    s.churn = Some(Box::new(churn));
    s.kad.refresh_interval = None;
    s.kad.rejoin = a.rejoin;
    s.store.repair_placement = a.repair_placement;
    s.store.scheme = a.scheme;
    s.store.detection_timeout = Duration::from_secs(24 * HOUR);
    s.store.heartbeat = Duration::from_secs(6 * HOUR);
    let m = usize::from(a.scheme.m());
    let mut h = Harness::new(s)?;
    let heap_setup = live_bytes();
    eprintln!(
        "{}: {} peers, {} clients, {} spare ids, {} objects of 1 MiB, {} days; setup {:.1} s, heap {:.1} MiB",
        a.name,
        a.nodes,
        CLIENTS,
        spare,
        a.objects,
        a.days,
        wall.elapsed().as_secs_f64(),
        mib(heap_setup)
    );

    let clients = h.clients.clone();
    let writes = Writes {
        total: a.objects,
        issued: 0,
        mean_gap_ns: DAY as f64 * 1e9 * CLIENTS as f64 / a.objects as f64,
    };
    h.sim.add_workload(&clients, writes)?;

    for day in 1..=a.days {
        h.run_for(Duration::from_secs(DAY));
        if day % 30 == 0 || day == a.days || day == 1 {
            let events = h.sim.run_info().events;
            let (live, lost, fragments) = census(&mut h, m);
            eprintln!(
                "day {day:>4}: {events:>12} events, {:>8.1} s wall, {live} live objects, {lost} lost, {fragments} fragments, {} peers replaced, heap {:.1} MiB",
                wall.elapsed().as_secs_f64(),
                h.replaced.borrow().len(),
                mib(live_bytes()),
            );
        }
    }
    let wall_s = wall.elapsed().as_secs_f64();
    h.sim.finish_metrics();
    let info = h.sim.run_info();
    let (live, lost, fragments) = census(&mut h, m);
    let on_disks: usize = h.sim.nodes().iter().map(|n| n.store.disk().len()).sum();
    let heap_end = live_bytes();
    h.sim.shrink_buffers();
    let heap_shrunk = live_bytes();
    // Breakdown: the storage machines' heap (measured on a copy of each,
    // one at a time, so that the peak barely moves) and the routing tables'.
    let mut store_heap = 0usize;
    let mut table_heap = 0usize;
    for n in h.sim.nodes() {
        let before = live_bytes();
        let copy = n.store.clone();
        store_heap += live_bytes().saturating_sub(before);
        drop(copy);
        table_heap += n.kad.table().heap_bytes();
    }
    let mt = h.sim.metrics();
    let c = |n: &str| mt.counter(n);
    let per = |b: usize| b as f64 / fragments.max(1) as f64;
    println!("scheme                 {}", a.name);
    println!("nodes                  {}", a.nodes);
    println!("objects                {}", a.objects);
    println!("days                   {}", a.days);
    println!(
        "rejoin                 {}",
        match a.rejoin {
            kademlia::Rejoin::SelfLookup => "lookup",
            kademlia::Rejoin::PingClosest => "ping",
            kademlia::Rejoin::Silent => "silent",
        }
    );
    println!(
        "repair_placement       {}",
        match a.repair_placement {
            storage::RepairPlacement::Lookup => "lookup",
            storage::RepairPlacement::Table => "table",
        }
    );
    println!("wall_s                 {wall_s:.1}");
    println!("events                 {}", info.events);
    println!("events_per_s           {:.0}", info.events as f64 / wall_s);
    println!("engine_wall_s          {:.1}", info.wall_secs);
    println!("peak_queue             {}", info.peak_queue);
    println!("writes_ok              {}", c("storage.writes_ok"));
    println!("writes_failed          {}", c("storage.writes_failed"));
    println!("live_objects           {live}");
    println!("lost_objects           {lost}");
    println!("peers_replaced         {}", h.replaced.borrow().len());
    println!("repairs_done           {}", c("storage.repairs_done"));
    println!("fragments_repaired     {}", c("storage.fragments_repaired"));
    println!(
        "repair_bytes           {} ({:.1} GiB)",
        c("storage.repair_bytes"),
        c("storage.repair_bytes") as f64 / (1u64 << 30) as f64
    );
    println!("fragments_stored       {fragments} (ledger), {on_disks} (disks)");
    println!(
        "heap_bytes_end         {heap_end} ({:.1} MiB; {:.1} MiB after shrink_buffers)",
        mib(heap_end),
        mib(heap_shrunk)
    );
    println!(
        "bytes_per_fragment     {:.0} (allocator count: live heap at the end / fragments stored; {:.0} after shrink_buffers)",
        per(heap_end),
        per(heap_shrunk)
    );
    println!(
        "bytes_per_fragment_run {:.0} (allocator count: heap at the end minus heap after setup, / fragments stored)",
        per(heap_end.saturating_sub(heap_setup.max(heap_start)))
    );
    println!(
        "storage_state          {store_heap} bytes ({:.0} per fragment: the storage machines' heap, measured on copies)",
        per(store_heap)
    );
    println!(
        "routing_tables         {table_heap} bytes ({:.0} per fragment)",
        per(table_heap)
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak_rss               {kib} KiB ({:.1} MiB)",
            kib as f64 / 1024.0
        );
    }
    println!("trace_hash             {:016x}", h.sim.trace_hash());
    for (name, v) in mt.counters() {
        println!("counter {name} {v}");
    }
    Ok(())
}

fn cfg(e: impl std::fmt::Display) -> SimError {
    SimError::Config {
        field: "churn",
        reason: e.to_string(),
    }
}
