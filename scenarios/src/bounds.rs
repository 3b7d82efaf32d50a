//! Bounds on every scenario value that could exhaust time or memory.
//!
//! Parsing accepts any value of a key's type; these checks refuse, before
//! anything is simulated, values that no real experiment uses but that
//! would overflow simulated time, allocate without bound, or run for
//! ever. Each bound is stated in `docs/scenario-reference.md`.

use crate::experiment::BuildError;
use crate::schema::{Scenario, TopologyKind};
use sim_core::units::{Duration, Rate};

/// Longest simulated time of a run, warm-up plus duration: 10 years.
pub const SIM_TIME_MAX: Duration = Duration(10 * 365 * 86_400 * 1_000_000_000);
/// Longest per-message delay (latencies, jitter, RPC timeout, service
/// time): 1 day.
pub const DELAY_MAX: Duration = Duration(86_400 * 1_000_000_000);
/// Shortest mean of a churn session or of a data-center outage or uptime:
/// 1 s.
pub const SESSION_MEAN_MIN: Duration = Duration(1_000_000_000);
/// Slowest link: 1 kbit/s.
pub const RATE_MIN_BPS: u64 = 1_000;
/// Most peers of a synthetic internet.
pub const PEERS_MAX: u32 = 1_000_000;
/// Most servers at the data-center site.
pub const SERVERS_MAX: u32 = 100_000;
/// Most refresh lookups per bucket at a join.
pub const JOIN_REFRESH_TARGETS_MAX: u32 = 16;
/// Most `kademlia.join_refresh_parallel` (the operations a node may run
/// at once, `kademlia::Config::ops_max`).
pub const JOIN_REFRESH_PARALLEL_MAX: u32 = 64;
/// Most peers one lookup keeps track of (`kademlia.lookup_peers_max`).
pub const LOOKUP_PEERS_MAX: u32 = 10_000;
/// Most requests a run is expected to issue (clients × duration / mean gap).
pub const REQUESTS_MAX: u64 = 100_000_000;
/// Most churn transitions a run is expected to see
/// (2 × peers × simulated time / (mean up + mean down)).
pub const CHURN_EVENTS_MAX: u64 = 100_000_000;
/// Most data-center outages a run is expected to see
/// (simulated time / (mtbf + mttr)), and most outages of each gateway
/// (simulated time / (gateway_mtbf + gateway_mttr)).
pub const OUTAGES_MAX: u64 = 10_000_000;
/// Most time-series samples (simulated time / `output.sample_every`).
pub const SAMPLES_MAX: u64 = 10_000_000;
/// Largest seed: a TOML integer (the resolved scenario is written as TOML).
pub const SEED_MAX: u64 = i64::MAX as u64;
/// Longest gateway selector (`topology.gateways`), matched against every
/// router's name.
pub const SELECTOR_LEN_MAX: usize = 200;
/// Longest topology file path, in bytes.
pub const FILE_LEN_MAX: usize = 4_096;
/// Largest topology file, in bytes (the bundled meshes are below 1 MiB).
pub const TOPOLOGY_BYTES_MAX: u64 = 256 << 20;
/// Largest churn trace file (`churn.trace`), in bytes.
pub const TRACE_BYTES_MAX: u64 = 256 << 20;
/// Most lines of a churn trace file, comments and blank lines included
/// (each data line is one interval kept in memory while parsing).
pub const TRACE_LINES_MAX: usize = 10_000_000;
/// Most hosts of a churn trace.
pub const TRACE_HOSTS_MAX: usize = 1_000_000;
/// Longest scenario name.
pub const NAME_LEN_MAX: usize = 100;

fn bad(field: &str, message: impl std::fmt::Display) -> BuildError {
    BuildError {
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// The first `max` characters of `s`, with an ellipsis if it was longer:
/// how a user's value is echoed in an error.
pub fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// A user's value echoed in an error: quoted, at most 60 characters.
pub fn shown(s: &str) -> String {
    format!("{:?}", clip(s, 60))
}

/// Why `c` cannot be one component of an output path, if it cannot: only
/// letters, digits, `-`, `_` and `.`, not starting with `.`, 1 to 100
/// characters.
pub fn component_error(c: &str) -> Option<String> {
    if c.is_empty() {
        return Some("is empty".into());
    }
    if c.starts_with('.') {
        return Some(format!("{}: must not start with `.`", shown(c)));
    }
    if c.chars().count() > NAME_LEN_MAX {
        return Some(format!(
            "{}: longer than {NAME_LEN_MAX} characters",
            shown(c)
        ));
    }
    if let Some(ch) = c
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')))
    {
        return Some(format!(
            "{}: the character {ch:?} is not allowed (letters, digits, `-`, `_` and `.` are)",
            shown(c)
        ));
    }
    None
}

pub(crate) fn duration_max(
    field: &str,
    d: Duration,
    max: Duration,
    what: &str,
) -> Result<(), BuildError> {
    if d > max {
        return Err(bad(field, format!("{d} is longer than {max} ({what})")));
    }
    Ok(())
}

/// A count that must lie in 1..=`max`.
fn one_to(field: &str, v: u64, max: u64) -> Result<(), BuildError> {
    if v == 0 || v > max {
        return Err(bad(field, format!("{v}: expected 1 to {max}")));
    }
    Ok(())
}

fn rate_min(field: &str, r: Rate) -> Result<(), BuildError> {
    if r.bits_per_sec() < RATE_MIN_BPS {
        return Err(bad(
            field,
            format!("{r} is below the slowest link allowed, 1kbit/s"),
        ));
    }
    Ok(())
}

/// `count` events of something at `per` each over `total`, as a float.
fn expected(total: Duration, per: Duration) -> f64 {
    total.0 as f64 / per.0.max(1) as f64
}

/// Check every bound that does not depend on the topology. Run before
/// building anything: the topology's size itself is bounded here.
pub fn check_values(s: &Scenario) -> Result<(), BuildError> {
    let m = &s.scenario;
    if let Some(e) = component_error(&m.name) {
        return Err(bad(
            "scenario.name",
            format!("{e}; the name is a folder under --out"),
        ));
    }
    if m.seed > SEED_MAX {
        return Err(bad(
            "scenario.seed",
            format!("{} is above the largest seed, {SEED_MAX}", m.seed),
        ));
    }
    let total = m.warmup.0.checked_add(m.duration.0);
    if total.is_none_or(|t| t > SIM_TIME_MAX.0) {
        let field = if m.warmup > SIM_TIME_MAX {
            "scenario.warmup"
        } else {
            "scenario.duration"
        };
        return Err(bad(
            field,
            format!(
                "warm-up {} plus duration {} is more than {SIM_TIME_MAX} (10 years) of simulated time",
                m.warmup, m.duration
            ),
        ));
    }
    if let Some(g) = &s.topology.gateways
        && g.chars().count() > SELECTOR_LEN_MAX
    {
        return Err(bad(
            "topology.gateways",
            format!("{}: longer than {SELECTOR_LEN_MAX} characters", shown(g)),
        ));
    }
    if let Some(f) = &s.topology.file {
        if f.len() > FILE_LEN_MAX {
            return Err(bad(
                "topology.file",
                format!("{}: longer than {FILE_LEN_MAX} bytes", shown(f)),
            ));
        }
        let size = std::fs::metadata(f).map_or(0, |m| m.len());
        if size > TOPOLOGY_BYTES_MAX {
            return Err(bad(
                "topology.file",
                format!(
                    "{}: {size} bytes, more than {TOPOLOGY_BYTES_MAX} (256 MiB)",
                    shown(f)
                ),
            ));
        }
    }
    if let TopologyKind::Internet = s.topology.kind
        && let Some(n) = s.topology.nodes
    {
        if n < 2 {
            return Err(bad(
                "topology.nodes",
                format!("{n}: at least 2 peers are needed"),
            ));
        }
        if n > PEERS_MAX {
            return Err(bad(
                "topology.nodes",
                format!("{n} is above the most peers allowed, {PEERS_MAX}"),
            ));
        }
    }
    gateway_outages(s)?;
    let a = &s.access;
    rate_min("access.uplink", a.uplink)?;
    rate_min("access.downlink", a.downlink)?;
    duration_max("access.latency", a.latency, DELAY_MAX, "1 day at most")?;
    duration_max("access.jitter", a.jitter, DELAY_MAX, "1 day at most")?;
    let k = &s.kademlia;
    let peers_max = kademlia::Config::default().lookup_peers_max;
    if k.k == 0 || k.k as usize > peers_max {
        return Err(bad(
            "kademlia.k",
            format!(
                "{}: expected 1 to {peers_max} (a lookup keeps track of at most {peers_max} peers)",
                k.k
            ),
        ));
    }
    one_to("kademlia.alpha", u64::from(k.alpha), peers_max as u64)?;
    if !(32..=256).contains(&k.id_bits) || !k.id_bits.is_multiple_of(8) {
        return Err(bad(
            "kademlia.id_bits",
            format!("{}: expected a multiple of 8 from 32 to 256", k.id_bits),
        ));
    }
    if k.rpc_timeout.0 == 0 {
        return Err(bad("kademlia.rpc_timeout", "must be positive"));
    }
    duration_max(
        "kademlia.rpc_timeout",
        k.rpc_timeout,
        DELAY_MAX,
        "1 day at most",
    )?;
    one_to(
        "kademlia.join_refresh_targets",
        u64::from(k.join_refresh_targets),
        u64::from(JOIN_REFRESH_TARGETS_MAX),
    )?;
    one_to(
        "kademlia.join_refresh_parallel",
        u64::from(k.join_refresh_parallel),
        u64::from(JOIN_REFRESH_PARALLEL_MAX),
    )?;
    if k.lookup_peers_max < k.k || k.lookup_peers_max > LOOKUP_PEERS_MAX {
        return Err(bad(
            "kademlia.lookup_peers_max",
            format!(
                "{}: expected k ({}) to {LOOKUP_PEERS_MAX} (a lookup keeps at least the k closest it heard of)",
                k.lookup_peers_max, k.k
            ),
        ));
    }
    let d = &s.datacenter;
    one_to(
        "datacenter.servers",
        u64::from(d.servers),
        u64::from(SERVERS_MAX),
    )?;
    duration_max(
        "datacenter.service_time",
        d.service_time,
        DELAY_MAX,
        "1 day at most",
    )?;
    duration_max(
        "datacenter.wan_latency",
        d.wan_latency,
        DELAY_MAX,
        "1 day at most",
    )?;
    rate_min("datacenter.capacity", d.capacity)?;
    let sim_time = Duration(m.warmup.0 + m.duration.0);
    for (field, v) in [
        ("datacenter.mttr", Some(d.mttr)),
        ("datacenter.mtbf", d.mtbf),
    ] {
        if let Some(v) = v {
            if v < SESSION_MEAN_MIN {
                return Err(bad(field, format!("{v}: expected at least 1s")));
            }
            duration_max(field, v, SIM_TIME_MAX, "10 years at most")?;
        }
    }
    if let Some(mtbf) = d.mtbf {
        let n = expected(sim_time, Duration(mtbf.0 + d.mttr.0));
        if n > OUTAGES_MAX as f64 {
            return Err(bad(
                "datacenter.mtbf",
                format!(
                    "about {n:.0} outages in {sim_time} of simulated time (mtbf {mtbf} + mttr {}); at most {OUTAGES_MAX} are allowed",
                    d.mttr
                ),
            ));
        }
    }
    if let Some(w) = &s.workload {
        let n = expected(m.duration, w.mean_gap) * w.clients as f64;
        if w.mean_gap.0 > 0 && n > REQUESTS_MAX as f64 {
            return Err(bad(
                "workload.mean_gap",
                format!(
                    "{} clients, one request every {} each for {}, make about {n:.0} requests; at most {REQUESTS_MAX} are allowed",
                    w.clients, w.mean_gap, m.duration
                ),
            ));
        }
    }
    let o = &s.output;
    if o.sample_every.0 > 0 && expected(sim_time, o.sample_every) > SAMPLES_MAX as f64 {
        return Err(bad(
            "output.sample_every",
            format!(
                "{} over {sim_time} of simulated time is more than {SAMPLES_MAX} samples",
                o.sample_every
            ),
        ));
    }
    Ok(())
}

/// Check `topology.gateway_mtbf` and `gateway_mttr`: a mesh only, each
/// mean from 1 s to 10 years, at most [`OUTAGES_MAX`] expected outages per
/// gateway.
fn gateway_outages(s: &Scenario) -> Result<(), BuildError> {
    let t = &s.topology;
    if t.kind == TopologyKind::Internet {
        for (field, set) in [
            ("topology.gateway_mtbf", t.gateway_mtbf.is_some()),
            ("topology.gateway_mttr", t.gateway_mttr.is_some()),
        ] {
            if set {
                return Err(bad(
                    field,
                    "gateway outages need a mesh (kind = \"mesh\"): the synthetic internet has no gateways",
                ));
            }
        }
        return Ok(());
    }
    let mttr = t.gateway_mttr();
    for (field, v) in [
        ("topology.gateway_mttr", Some(mttr)),
        ("topology.gateway_mtbf", t.gateway_mtbf),
    ] {
        if let Some(v) = v {
            if v < SESSION_MEAN_MIN {
                return Err(bad(field, format!("{v}: expected at least 1s")));
            }
            duration_max(field, v, SIM_TIME_MAX, "10 years at most")?;
        }
    }
    if let Some(mtbf) = t.gateway_mtbf {
        let m = &s.scenario;
        let sim_time = Duration(m.warmup.0 + m.duration.0);
        let n = expected(sim_time, Duration(mtbf.0 + mttr.0));
        if n > OUTAGES_MAX as f64 {
            return Err(bad(
                "topology.gateway_mtbf",
                format!(
                    "about {n:.0} outages of each gateway in {sim_time} of simulated time (gateway_mtbf {mtbf} + gateway_mttr {mttr}); at most {OUTAGES_MAX} are allowed"
                ),
            ));
        }
    }
    Ok(())
}

/// Check the churn sessions' means (already parsed as `up` and `down`)
/// and the number of transitions they make among `peers` over the run.
pub fn check_churn(
    s: &Scenario,
    up: Duration,
    down: Duration,
    peers: u32,
) -> Result<(), BuildError> {
    for (field, mean) in [("churn.up", up), ("churn.down", down)] {
        if mean < SESSION_MEAN_MIN {
            return Err(bad(
                field,
                format!("a mean session of {mean}: expected at least 1s"),
            ));
        }
        duration_max(field, mean, SIM_TIME_MAX, "a mean of 10 years at most")?;
    }
    let sim_time = Duration(s.scenario.warmup.0.saturating_add(s.scenario.duration.0));
    let n = 2.0 * peers as f64 * expected(sim_time, Duration(up.0 + down.0));
    if n > CHURN_EVENTS_MAX as f64 {
        return Err(bad(
            "churn.up",
            format!(
                "{peers} peers with sessions of {up} up and {down} down make about {n:.0} transitions in {sim_time}; at most {CHURN_EVENTS_MAX} are allowed"
            ),
        ));
    }
    Ok(())
}

/// Check what depends on the number of peers the topology has.
pub fn check_peers(s: &Scenario, peers: u32) -> Result<(), BuildError> {
    if peers < 2 {
        return Err(bad(
            "topology",
            format!("the network has {peers} peer(s); at least 2 are needed"),
        ));
    }
    if let Some(w) = &s.workload
        && w.clients > peers
    {
        return Err(bad(
            "workload.clients",
            format!(
                "{} clients, but the network has only {peers} peers (clients are the first peers)",
                w.clients
            ),
        ));
    }
    Ok(())
}

/// Max RSS per peer of a lookup run with warm-started tables: 6.89 GiB
/// for 10^6 peers and 10^6 lookups (`kademlia-scale`, 100 s, 2026-12-03;
/// 6.8 KB per peer at 10^5).
pub const WARM_BYTES_PER_PEER: u64 = 7_400;
/// Max RSS per peer of a lookup run whose peers all join at once, one
/// refresh lookup at a time (`kademlia.join_refresh_parallel = 1`): 2.54
/// GiB for 10^5 peers and 264 MiB for 10^4 (`kademlia-scale`, 780 s,
/// 2026-12-03).
pub const JOIN_ONE_BYTES_PER_PEER: u64 = 27_700;
/// The same with several refresh lookups at once (the crate's join, 4 per
/// bucket, 4 at once): 451 MiB for 10^4 peers (2026-12-03).
pub const JOIN_BYTES_PER_PEER: u64 = 47_300;

/// What a lookup run on a synthetic internet may need at its peak, by the
/// max RSS per peer of measured runs with the same start and join, and the
/// rate used: `(bytes, bytes per peer)`. `None` for the other experiments
/// and topologies (their peers are fewer, or their cost per peer not
/// measured at scale).
pub fn memory_estimate(s: &Scenario) -> Option<(u64, u64)> {
    if s.workload.is_none()
        || s.storage.is_some()
        || s.compute.is_some()
        || s.topology.kind != TopologyKind::Internet
    {
        return None;
    }
    let peers = u64::from(s.topology.nodes?);
    let per = if s.kademlia.start == "warm" {
        WARM_BYTES_PER_PEER
    } else if s.kademlia.join_refresh_parallel <= 1 {
        JOIN_ONE_BYTES_PER_PEER
    } else {
        JOIN_BYTES_PER_PEER
    };
    Some((peers * per, per))
}

/// A warning when [`memory_estimate`] exceeds `available` bytes: the run
/// would likely be stopped by the system rather than end with a result.
pub fn memory_warning(s: &Scenario, available: u64) -> Option<String> {
    let (need, per) = memory_estimate(s)?;
    if need <= available {
        return None;
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    Some(format!(
        "this run may need about {:.1} GiB of memory ({:.1} KB per peer for {} peers, the most measured runs \
         with this start and join used), more than the {:.1} GiB this machine has available: the system may \
         stop it before it ends. Fewer peers (`topology.nodes`), or warm-started tables (`kademlia.start = \
         \"warm\"`, about {:.1} KB per peer), need less",
        gib(need),
        per as f64 / 1e3,
        need / per,
        gib(available),
        WARM_BYTES_PER_PEER as f64 / 1e3
    ))
}

/// The memory this machine has available (`MemAvailable` of
/// `/proc/meminfo`), if known.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kademlia_scale(sets: &[&str]) -> Scenario {
        let (_, text) = crate::bundled::find("kademlia-scale").unwrap();
        let sets: Vec<crate::load::Override> = sets.iter().map(|s| s.parse().unwrap()).collect();
        crate::validate::validate_text(
            text,
            &crate::load::Origin::File("k.toml".into()),
            &sets,
            None,
        )
        .unwrap()
    }

    /// 10^6 joining peers do not fit in 24 GiB by the measured runs; the
    /// same peers warm-started do (6.89 GiB measured), and so does the
    /// bundled 10^4 (264 MiB measured); other experiments get no estimate.
    #[test]
    fn a_run_larger_than_the_machine_is_warned_of() {
        let avail = 24 << 30;
        let big = ["topology.nodes=1000000", "workload.clients=1000000"];
        let w = memory_warning(&kademlia_scale(&big), avail).expect("no warning for 10^6 joins");
        assert!(w.contains("25.8 GiB") && w.contains("1000000 peers"), "{w}");
        assert!(w.contains("kademlia.start"), "{w}");
        let warm = [big[0], big[1], "kademlia.start=\"warm\""];
        assert_eq!(memory_warning(&kademlia_scale(&warm), avail), None);
        let (need, _) = memory_estimate(&kademlia_scale(&warm)).unwrap();
        assert!(need > 6_000 << 20 && need < 8 << 30, "{need}");
        assert_eq!(memory_warning(&kademlia_scale(&[]), avail), None);
        // The crate's join (several refresh lookups at once) costs more.
        let par = ["kademlia.join_refresh_parallel=4"];
        let (a, _) = memory_estimate(&kademlia_scale(&[])).unwrap();
        let (b, _) = memory_estimate(&kademlia_scale(&par)).unwrap();
        assert!(b > a);
        let (_, text) = crate::bundled::find("backup").unwrap();
        let s = crate::validate::validate_text(
            text,
            &crate::load::Origin::File("b.toml".into()),
            &[],
            None,
        )
        .unwrap();
        assert_eq!(memory_estimate(&s), None);
    }

    #[test]
    fn clip_keeps_short_values_and_cuts_long_ones() {
        assert_eq!(clip("abc", 60), "abc");
        let long = "é".repeat(1_000_000);
        let c = clip(&long, 60);
        assert_eq!(c.chars().count(), 61);
        assert!(c.ends_with('…'));
    }

    #[test]
    fn components_are_plain_names() {
        for ok in ["city-mesh", "a.b_c-1", "seed-1-abcdef012345", "A"] {
            assert_eq!(component_error(ok), None, "{ok}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "/abs", "a\nb", "a b", "ä"] {
            assert!(component_error(bad).is_some(), "{bad:?}");
        }
        assert!(component_error(&"x".repeat(101)).is_some());
        assert!(component_error(&"x".repeat(100)).is_none());
    }
}
