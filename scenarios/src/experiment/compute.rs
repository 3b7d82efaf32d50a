//! The compute experiment: households submit jobs, run peer to peer on
//! volunteers' idle CPUs ([`jobs`]), against a data center's servers
//! ([`datacenter::compute`]) doing the same work.
//!
//! - **Clients** are the first `compute.clients` peers on both sides. The
//!   synthetic workload gives each a Poisson stream of jobs (mean gap
//!   `compute.mean_gap`, work drawn from `compute.work`); an SWF log
//!   (`compute.swf`) replays its jobs instead, from the end of the warm-up,
//!   by [`jobs::swf::Mapping`] (two jobs of one client at one instant are
//!   spread 1 ns apart, so that every submission is paired).
//! - **P2P**: every peer is a volunteer (a [`JobsNode`]) giving `share` of
//!   its CPU at a speed drawn uniformly from `speed_min..=speed_max` times
//!   the reference machine; `round(faulty × peers)` of them, chosen from the
//!   seed, return wrong answers (all the same one when `colluding`). The
//!   site's node is an empty slot.
//! - **Data center**: every peer is a client ([`ComputeClient`], those
//!   beyond `clients` idle); the site ([`ComputeSite`]) runs
//!   `datacenter.servers` servers at `server_speed`, with outages from
//!   `datacenter.mtbf`/`mttr`.
//!
//! Outputs (the contract of [`analysis::compute`]): `requests.csv`,
//! `jobs.csv`, `over-time.csv` (machines up, busy, queued, cumulative CPU
//! offered, spent and wasted, bytes moved, sampled every
//! `compute.sample_every` from the end of the warm-up and at the end, the
//! same instants on both sides), and each side's counters and time series.
//! The CPU a machine offers is its up time × the share it gives (a server
//! gives its whole CPU), kept exactly by the node wrapper [`Kept`].

use super::{
    BuildError, Driver, Kind, Mapped, Outcome, Progress, bad, finish_in_memory, gateway_outages,
    merge_tables, retry_policy, sample_times, site_outages, topology,
};
use crate::bounds::{REQUESTS_MAX, SAMPLES_MAX, SIM_TIME_MAX, TRACE_BYTES_MAX};
use crate::schema::{ComputeSpec, DispatchSpec, PolicySpec, Scenario, SwfSubmitterSpec};
use datacenter::compute::{
    ComputeClient, ComputeClientConfig, ComputeSite, ComputeSiteConfig, DcComputeNode, Dispatch,
};
use jobs::swf::{Mapping, Replay, Submitter};
use jobs::{
    Command, Config, ConfigError, Event, EventLog, Fault, JOBS_HEADER, Job, JobsNode, Policy,
    Waste, WorkerSpec,
};
use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use sim_core::churn::Dist;
use sim_core::prelude::*;
use sim_core::rng::{Purpose, node_rng};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

/// Volunteers' speeds.
const SPEED_STREAM: Purpose = Purpose::Custom(7);
/// Which volunteers are faulty.
const FAULT_STREAM: Purpose = Purpose::Custom(8);
/// Fastest machine, in multiples of the reference machine.
const SPEED_MAX: f64 = 1_000.0;
/// Slowest machine (one thousandth: the speed's unit).
const SPEED_MIN: f64 = 0.001;
/// Most copies of a job.
const REDUNDANCY_MAX: u16 = 100;
/// Largest job input or output: 1 TiB.
const JOB_BYTES_MAX: u64 = 1 << 40;
/// Shortest interval between checkpoints.
const CHECKPOINT_MIN: Duration = Duration::from_secs(1);
/// Default mean gap between a client's jobs.
const MEAN_GAP_DEFAULT: Duration = Duration::from_secs(3_600);
/// Default work of a job.
const WORK_DEFAULT: &str = "exponential(10min)";

pub(crate) fn spec(s: &Scenario) -> Result<&ComputeSpec, BuildError> {
    s.compute
        .as_ref()
        .ok_or_else(|| bad("compute", "no [compute] table"))
}

/// Write out the synthetic workload's defaults (`mean_gap`, `work`) when
/// no SWF log is replayed, so that a resolved scenario says what ran.
pub fn resolve(c: &mut ComputeSpec) {
    if c.swf.is_none() {
        c.mean_gap.get_or_insert(MEAN_GAP_DEFAULT);
        c.work.get_or_insert_with(|| WORK_DEFAULT.to_string());
    }
}

/// The work distribution of the synthetic workload.
fn work_dist(c: &ComputeSpec) -> Result<Dist, BuildError> {
    let text = c.work.as_deref().unwrap_or(WORK_DEFAULT);
    let d: Dist = text.parse().map_err(|e: sim_core::churn::DistError| {
        bad(
            "compute.work",
            format!(
                "{:?}: {}",
                crate::bounds::clip(text, 60),
                e.to_string()
                    .replace("session-length distribution", "work distribution")
            ),
        )
    })?;
    if d.mean() > SIM_TIME_MAX {
        return Err(bad(
            "compute.work",
            format!("a mean work of {}: expected at most 10 years", d.mean()),
        ));
    }
    Ok(d)
}

/// A speed in multiples of the reference machine, as thousandths.
fn thousandths(field: &str, v: f64) -> Result<u32, BuildError> {
    if !v.is_finite() || !(SPEED_MIN..=SPEED_MAX).contains(&v) {
        return Err(bad(
            field,
            format!(
                "{v}: expected {SPEED_MIN} to {SPEED_MAX} (multiples of the reference machine)"
            ),
        ));
    }
    Ok((v * 1000.0).round() as u32)
}

/// The volunteers' scheduler configuration.
pub(crate) fn jobs_config(c: &ComputeSpec) -> Result<Config, BuildError> {
    let base = Config::default();
    let policy = match c.policy {
        PolicySpec::Random => Policy::Random,
        PolicySpec::PowerOfD => Policy::PowerOfD { d: c.d },
        PolicySpec::WorkStealing => Policy::WorkStealing,
        PolicySpec::Pull => Policy::Pull,
    };
    let max_copies = c.redundancy.max(base.max_copies);
    let cfg = Config {
        policy,
        redundancy: c.redundancy,
        quorum: c.quorum,
        max_copies,
        max_attempts: u32::from(max_copies).max(base.max_attempts),
        checkpoint: (c.checkpoint.0 > 0).then_some(c.checkpoint),
        ..base
    };
    cfg.validate().map_err(|e| {
        let key = match e {
            ConfigError::QuorumZero | ConfigError::QuorumAboveRedundancy { .. } => "compute.quorum",
            ConfigError::Zero("policy's d") => "compute.d",
            _ => "compute",
        };
        bad(key, e)
    })?;
    Ok(cfg)
}

/// The site's configuration.
pub(crate) fn site_config(s: &Scenario) -> Result<ComputeSiteConfig, BuildError> {
    let d = &s.datacenter;
    Ok(ComputeSiteConfig {
        servers: d.servers,
        speed: thousandths("datacenter.server_speed", d.server_speed)?,
        dispatch: match d.dispatch {
            DispatchSpec::Shared => Dispatch::Shared,
            DispatchSpec::ShortestQueue => Dispatch::ShortestQueue,
        },
        queue_max: d.queue_max as usize,
    })
}

/// Check `[compute]` without the topology.
pub fn check(s: &Scenario) -> Result<(), BuildError> {
    let c = spec(s)?;
    if c.clients == 0 {
        return Err(bad("compute.clients", "at least 1 client is needed"));
    }
    if c.swf.is_some() {
        for (key, given) in [
            ("compute.mean_gap", c.mean_gap.is_some()),
            ("compute.work", c.work.is_some()),
        ] {
            if given {
                return Err(bad(
                    key,
                    "not used when compute.swf replays a log (the log gives each job's submission and work): remove one of them",
                ));
            }
        }
    } else {
        let gap = c.mean_gap.unwrap_or(MEAN_GAP_DEFAULT);
        if gap.0 == 0 {
            return Err(bad("compute.mean_gap", "must be positive"));
        }
        let n = s.scenario.duration.0 as f64 / gap.0 as f64 * f64::from(c.clients);
        if n > REQUESTS_MAX as f64 {
            return Err(bad(
                "compute.mean_gap",
                format!(
                    "{} clients, one job every {gap} each for {}, make about {n:.0} jobs; at most {REQUESTS_MAX} are allowed",
                    c.clients, s.scenario.duration
                ),
            ));
        }
        work_dist(c)?;
    }
    for (key, v) in [("compute.input", c.input), ("compute.output", c.output)] {
        if v.0 > JOB_BYTES_MAX {
            return Err(bad(key, format!("{v}: expected at most 1TiB")));
        }
    }
    if let Some(d) = c.deadline
        && (d.0 == 0 || d > SIM_TIME_MAX)
    {
        return Err(bad(
            "compute.deadline",
            format!("{d}: expected more than 0 and at most 10 years"),
        ));
    }
    if c.redundancy == 0 || c.redundancy > REDUNDANCY_MAX {
        return Err(bad(
            "compute.redundancy",
            format!("{}: expected 1 to {REDUNDANCY_MAX}", c.redundancy),
        ));
    }
    if c.checkpoint.0 > 0 && c.checkpoint < CHECKPOINT_MIN {
        return Err(bad(
            "compute.checkpoint",
            format!(
                "{}: expected at least 1s, or \"0s\" for no checkpoints",
                c.checkpoint
            ),
        ));
    }
    if c.policy != PolicySpec::PowerOfD && c.d != 2 {
        return Err(bad(
            "compute.d",
            format!(
                "only used with policy = \"power-of-d\" (the policy is {:?}): remove compute.d or change compute.policy",
                jobs_config(c)?.policy.name()
            ),
        ));
    }
    jobs_config(c)?;
    if !c.faulty.is_finite() || !(0.0..=1.0).contains(&c.faulty) {
        return Err(bad(
            "compute.faulty",
            format!("{}: expected a fraction from 0 to 1", c.faulty),
        ));
    }
    let min = thousandths("compute.speed_min", c.speed_min)?;
    let max = thousandths("compute.speed_max", c.speed_max)?;
    if min > max {
        return Err(bad(
            "compute.speed_max",
            format!(
                "{}: below compute.speed_min = {}; expected speed_min ≤ speed_max",
                c.speed_max, c.speed_min
            ),
        ));
    }
    if !c.share.is_finite() || c.share <= 0.0 || c.share > 1.0 || (c.share * 1000.0).round() < 1.0 {
        return Err(bad(
            "compute.share",
            format!(
                "{}: expected a fraction of the CPU above 0 (at least 0.001) and at most 1",
                c.share
            ),
        ));
    }
    let run = s.scenario.duration;
    if c.sample_every.0 == 0 {
        return Err(bad("compute.sample_every", "must be positive"));
    }
    if run.0 as f64 / c.sample_every.0 as f64 > SAMPLES_MAX as f64 {
        return Err(bad(
            "compute.sample_every",
            format!(
                "{} over {run} is more than {SAMPLES_MAX} samples",
                c.sample_every
            ),
        ));
    }
    site_config(s)?
        .validate()
        .map_err(|e| bad("datacenter", e.0))?;
    if let Some(file) = &c.swf {
        read_swf(c, file, c.clients)?;
    }
    Ok(())
}

/// Check what needs the number of peers.
pub fn check_peers(s: &Scenario, peers: u32) -> Result<(), BuildError> {
    let c = spec(s)?;
    if c.clients > peers {
        return Err(bad(
            "compute.clients",
            format!(
                "{} clients, but the network has only {peers} peers (clients are the first peers)",
                c.clients
            ),
        ));
    }
    if c.policy == PolicySpec::PowerOfD && c.d > peers {
        return Err(bad(
            "compute.d",
            format!(
                "{}: more workers probed than the network's {peers} peers",
                c.d
            ),
        ));
    }
    if u32::from(c.redundancy) > peers {
        return Err(bad(
            "compute.redundancy",
            format!(
                "{}: more copies than the network's {peers} peers (each copy runs on another volunteer)",
                c.redundancy
            ),
        ));
    }
    Ok(())
}

/// Read, parse and map the SWF log `file`: its jobs onto `clients`
/// clients, two jobs of one client at one instant spread 1 ns apart.
pub(crate) fn read_swf(c: &ComputeSpec, file: &str, clients: u32) -> Result<Replay, BuildError> {
    let shown = super::clip_path(file);
    let meta = std::fs::metadata(file)
        .map_err(|e| bad("compute.swf", format!("{shown}: cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(bad("compute.swf", format!("{shown}: not a file")));
    }
    if meta.len() > TRACE_BYTES_MAX {
        return Err(bad(
            "compute.swf",
            format!(
                "{shown}: {} bytes, more than {TRACE_BYTES_MAX} (256 MiB)",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(file)
        .map_err(|e| bad("compute.swf", format!("{shown}: cannot be read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        bad(
            "compute.swf",
            format!(
                "{shown}: not text (invalid UTF-8 at byte {}); expected a Standard Workload Format log",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    let swf = jobs::swf::parse(&text, &shown).map_err(|e| bad("compute.swf", e))?;
    let mapping = Mapping {
        clients,
        submitter: match c.swf_submitter {
            SwfSubmitterSpec::User => Submitter::User,
            SwfSubmitterSpec::RoundRobin => Submitter::RoundRobin,
        },
        input: c.input.0,
        output: c.output.0,
        ..Mapping::new(clients)
    };
    let mut replay = swf.replay(&mapping).map_err(|e| bad("compute.swf", e))?;
    if replay.jobs.is_empty() {
        return Err(bad(
            "compute.swf",
            format!(
                "{shown}: no job to replay ({} left out for an unknown run time or processors)",
                replay.skipped
            ),
        ));
    }
    let mut last: BTreeMap<u32, Duration> = BTreeMap::new();
    for j in &mut replay.jobs {
        if let Some(&l) = last.get(&j.client)
            && j.at <= l
        {
            j.at = Duration(l.0.saturating_add(1));
        }
        last.insert(j.client, j.at);
        if let Some(d) = c.deadline {
            j.job.deadline = Some(d);
        }
    }
    Ok(replay)
}

// ------------------------------------------------------------- the nodes

/// A node of either side, its up time kept: the CPU a machine offers is
/// its up time × the share it gives. `None` is an empty slot (the site's
/// place on the P2P side).
pub struct Kept<N> {
    node: Option<N>,
    since: Option<Time>,
    up: Duration,
}

impl<N> Kept<N> {
    fn new(node: Option<N>) -> Kept<N> {
        Kept {
            node,
            since: None,
            up: Duration::ZERO,
        }
    }
    /// Up time until `now`.
    fn up_to(&self, now: Time) -> Duration {
        let current = self.since.map_or(Duration::ZERO, |s| now.since(s));
        self.up.saturating_add(current)
    }
    fn is_up(&self) -> bool {
        self.since.is_some()
    }
}

impl<N: Node> Node for Kept<N> {
    type Msg = N::Msg;
    type Timer = N::Timer;
    type Request = N::Request;
    fn on_start(&mut self, cx: &mut Cx<'_, Self>) {
        self.since = Some(cx.now());
        if let Some(n) = &mut self.node {
            n.on_start(cx);
        }
    }
    fn on_message(&mut self, cx: &mut Cx<'_, Self>, from: NodeId, msg: Self::Msg) {
        if let Some(n) = &mut self.node {
            n.on_message(cx, from, msg);
        }
    }
    fn on_timer(&mut self, cx: &mut Cx<'_, Self>, t: Self::Timer) {
        if let Some(n) = &mut self.node {
            n.on_timer(cx, t);
        }
    }
    fn on_request(&mut self, cx: &mut Cx<'_, Self>, req: Self::Request) {
        if let Some(n) = &mut self.node {
            n.on_request(cx, req);
        }
    }
    fn on_transfer(&mut self, cx: &mut Cx<'_, Self>, id: TransferId, outcome: TransferOutcome) {
        if let Some(n) = &mut self.node {
            n.on_transfer(cx, id, outcome);
        }
    }
    fn on_stop(&mut self, cx: &mut Cx<'_, Self>, how: Stop) {
        if let Some(s) = self.since.take() {
            self.up = self.up.saturating_add(cx.now().since(s));
        }
        if let Some(n) = &mut self.node {
            n.on_stop(cx, how);
        }
    }
}

// -------------------------------------------------------------- workload

/// Poisson submissions per client, work drawn from a distribution. Job
/// ids are `client × 2³² + the client's count`, unique in the run.
struct Synthetic {
    mean_gap_ns: f64,
    work: Dist,
    input: u64,
    output: u64,
    deadline: Option<Duration>,
    seq: Vec<u64>,
}

impl Workload<Command> for Synthetic {
    fn next(
        &mut self,
        client: NodeId,
        _now: Time,
        rng: &mut NodeRng,
    ) -> Option<(Duration, Command)> {
        let e: f64 = Exp1.sample(rng);
        let gap = ((e * self.mean_gap_ns).min(u64::MAX as f64) as u64).max(1);
        let work = self.work.sample(rng);
        let n = self.seq.get_mut(client.index())?;
        let id = (u64::from(client.0) << 32) | *n;
        *n += 1;
        Some((
            Duration(gap),
            Command::Submit(Job {
                id,
                work,
                input: self.input,
                output: self.output,
                deadline: self.deadline,
            }),
        ))
    }
}

/// Add the workload (one, index 0) to a side at the workload's start.
pub(crate) fn add_workload<N: Node>(
    sim: &mut Sim<N>,
    c: &ComputeSpec,
    clients: u32,
    replay: Option<&Replay>,
) -> Result<(), BuildError>
where
    N::Request: std::fmt::Debug + From<Command>,
{
    let ids: Vec<NodeId> = (0..clients).map(NodeId).collect();
    match replay {
        Some(r) => {
            let w = r
                .workload(&ids, sim.now())
                .map_err(|e| bad("compute.swf", e))?;
            sim.add_workload(&ids, Mapped::new(w))
                .map_err(|e| bad("compute", e))?;
        }
        None => {
            let w = Synthetic {
                mean_gap_ns: c.mean_gap.unwrap_or(MEAN_GAP_DEFAULT).0 as f64,
                work: work_dist(c)?,
                input: c.input.0,
                output: c.output.0,
                deadline: c.deadline,
                seq: vec![0; clients as usize],
            };
            sim.add_workload(&ids, Mapped::new(w))
                .map_err(|e| bad("compute", e))?;
        }
    }
    Ok(())
}

// ------------------------------------------------------------- sampling

/// Cumulative figures of a side, and its `over-time.csv` rows.
pub(crate) struct Tally {
    /// The side's job events since the last sample.
    log: EventLog,
    /// CPU wasted by cause: churn, redundant, rejected (ns).
    waste: [u64; 3],
    rows: String,
}

impl Tally {
    pub(crate) fn new(log: EventLog) -> Tally {
        Tally {
            log,
            waste: [0; 3],
            rows: String::new(),
        }
    }

    /// Add the wasted CPU of the events logged since the last sample.
    fn drain(&mut self) {
        for (_, _, e) in self.log.borrow_mut().drain(..) {
            if let Event::Wasted { cpu, cause, .. } = e {
                let i = match cause {
                    Waste::Churn => 0,
                    Waste::Redundant => 1,
                    Waste::Rejected => 2,
                };
                self.waste[i] = self.waste[i].saturating_add(cpu.0);
            }
        }
    }

    /// Sample the P2P side at `t`: every volunteer as (up now, up time so
    /// far, its machine); `bytes` moved for inputs and outputs so far.
    pub(crate) fn p2p_sample<'a>(
        &mut self,
        t: Time,
        bytes: u64,
        volunteers: impl Iterator<Item = (bool, Duration, &'a JobsNode)>,
    ) {
        self.drain();
        let mut x = Sample {
            machines: 0,
            up: 0,
            busy: 0,
            queued: 0,
            cpu_busy: 0,
            cpu_up: 0,
            bytes,
        };
        for (up, up_time, n) in volunteers {
            x.machines += 1;
            x.up += u64::from(up);
            x.busy += u64::from(up && n.running());
            x.queued += (n.queued() + n.jobs.pooled()) as u64;
            x.cpu_busy += n.busy_cpu(t).0;
            x.cpu_up += n.jobs.spec().cpu(up_time).0;
        }
        row(&mut self.rows, "p2p", t, &x, self.waste);
    }

    /// Sample the data-center side at `t`: the site, whether it is up,
    /// its up time so far, and `bytes` moved for inputs and outputs.
    pub(crate) fn dc_sample(
        &mut self,
        t: Time,
        sref: &ComputeSite,
        (up, up_time): (bool, Duration),
        bytes: u64,
    ) {
        self.drain();
        let servers = u64::from(sref.config().servers);
        let x = Sample {
            machines: servers,
            up: if up { servers } else { 0 },
            busy: sref.busy_servers() as u64,
            queued: sref.queued() as u64,
            cpu_busy: sref.busy_cpu(t).0,
            cpu_up: up_time.0.saturating_mul(servers),
            bytes,
        };
        row(&mut self.rows, "datacenter", t, &x, self.waste);
    }

    /// The `over-time.csv` rows so far (taken).
    pub(crate) fn take_rows(&mut self) -> String {
        std::mem::take(&mut self.rows)
    }
}

/// One sample's machine figures.
struct Sample {
    machines: u64,
    up: u64,
    busy: u64,
    queued: u64,
    cpu_busy: u64,
    cpu_up: u64,
    bytes: u64,
}

pub(crate) const OVER_TIME_HEADER: &str = "system,time_ns,machines,machines_up,busy,queued,cpu_busy_ns,cpu_up_ns,waste_churn_ns,waste_redundant_ns,waste_rejected_ns,bytes\n";

fn row(out: &mut String, system: &str, t: Time, x: &Sample, waste: [u64; 3]) {
    let _ = writeln!(
        out,
        "{system},{},{},{},{},{},{},{},{},{},{},{}",
        t.0,
        x.machines,
        x.up,
        x.busy,
        x.queued,
        x.cpu_busy,
        x.cpu_up,
        waste[0],
        waste[1],
        waste[2],
        x.bytes
    );
}

// ------------------------------------------------------------------- run

/// The volunteers: speed (thousandths) and fault of each peer.
pub(crate) fn volunteers(
    s: &Scenario,
    c: &ComputeSpec,
    peers: u32,
) -> Result<Vec<WorkerSpec>, BuildError> {
    let (min, max) = (
        thousandths("compute.speed_min", c.speed_min)?,
        thousandths("compute.speed_max", c.speed_max)?,
    );
    let share = (c.share * 1000.0).round() as u32;
    let mut v: Vec<WorkerSpec> = (0..peers)
        .map(|i| {
            let mut rng = node_rng(s.scenario.seed, SPEED_STREAM, i, 0);
            WorkerSpec {
                speed: rng.random_range(min..=max),
                share,
                fault: Fault::Honest,
            }
        })
        .collect();
    // round(f × peers) faulty volunteers: the first of a seeded shuffle.
    let faulty = (c.faulty * f64::from(peers)).round() as usize;
    let mut order: Vec<u32> = (0..peers).collect();
    let mut rng = node_rng(s.scenario.seed, FAULT_STREAM, 0, 0);
    for i in 0..faulty.min(order.len()) {
        let j = rng.random_range(i..order.len());
        order.swap(i, j);
        v[order[i] as usize].fault = if c.colluding {
            Fault::Colluding
        } else {
            Fault::Independent
        };
    }
    Ok(v)
}

/// Run both sides of the compute experiment.
pub fn run(
    s: &Scenario,
    abort_after: Option<u64>,
    progress: Progress<'_>,
) -> Result<Outcome, BuildError> {
    let c = spec(s)?;
    let start = Time(s.scenario.warmup.0);
    let end = start.saturating_add(s.scenario.duration);
    let mut info = String::from("side,key,value\n");
    let mut progress = progress;
    let times = sample_times(start, end, c.sample_every);

    // ---------------------------------------------------------------- P2P
    let built = topology(s, 0)?;
    let peers = built.peers;
    crate::bounds::check_peers(s, peers)?;
    check_peers(s, peers)?;
    let churn = crate::churn::prepare(s, peers)?;
    let replay = match &c.swf {
        Some(file) => Some(read_swf(c, file, c.clients)?),
        None => None,
    };
    let label = built.label.clone();
    let cfg = Arc::new(jobs_config(c)?);
    let specs = volunteers(s, c, peers)?;
    let mut sc = SimConfig::new(
        s.scenario.seed,
        SimpleNet::constant(Duration::ZERO, s.access.uplink),
    );
    sc.sample_every = Some(s.output.sample_every);
    sc.log_requests = true;
    let mut p2p: Sim<Kept<JobsNode>> = Sim::new(sc.clone());
    p2p.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(ch) = &churn {
        p2p.set_churn(ch.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    let gw_out = gateway_outages(&mut p2p, s, &built.gateways)?;
    let log: EventLog = Rc::new(RefCell::new(Vec::new()));
    let all: Arc<Vec<NodeId>> = Arc::new((0..peers).map(NodeId).collect());
    p2p.reserve_nodes(peers as usize + 1);
    for (i, w) in specs.iter().enumerate() {
        let mut n = JobsNode::new(cfg.clone(), NodeId(i as u32), *w, all.clone());
        n.log = Some(log.clone());
        n.rows = true;
        p2p.add_node(Kept::new(Some(n)));
    }
    p2p.add_node_stopped(Kept::new(None));
    let mut tally = Tally::new(log.clone());
    let mut d = Driver::new("P2P", end, abort_after, &mut progress);
    let mut aborted = d.run_sliced(&mut p2p, start, 20)?;
    if !aborted {
        add_workload(&mut p2p, c, c.clients, replay.as_ref())?;
        for &t in &times {
            if d.run_to(&mut p2p, t)? {
                aborted = true;
                break;
            }
            let bytes = p2p.metrics().counter("jobs.input_bytes")
                + p2p.metrics().counter("jobs.output_bytes");
            let volunteers = p2p.nodes()[..peers as usize]
                .iter()
                .filter_map(|k| k.node.as_ref().map(|n| (k.is_up(), k.up_to(t), n)));
            tally.p2p_sample(t, bytes, volunteers);
        }
    }
    let p2p_files = finish_in_memory(&mut p2p, "p2p", &mut info)?;
    if aborted {
        return Ok(Outcome {
            part_notes: None,
            files: BTreeMap::new(),
            run_info: info,
            topology: label,
            churn: String::new(),
            notes: String::new(),
            kind: Kind::Compute,
            aborted: true,
        });
    }
    let faulty = specs.iter().filter(|w| w.fault != Fault::Honest).count();
    let p2p_rows = tally.take_rows();
    drop(p2p);

    // ----------------------------------------------------------- baseline
    let built = topology(s, 0)?;
    let mut dc: Sim<Kept<DcComputeNode>> = Sim::new(sc);
    dc.set_topology(built.net, s.access.jitter)
        .map_err(|e| bad("topology", e))?;
    if let Some(ch) = &churn {
        dc.set_churn(ch.model.clone())
            .map_err(|e| bad("churn", e))?;
    }
    site_outages(&mut dc, s, built.site)?;
    gateway_outages(&mut dc, s, &built.gateways)?;
    let site = NodeId(built.site);
    let (attempt_timeout, retries) = retry_policy(s)?;
    let ccfg = ComputeClientConfig {
        attempt_timeout,
        retries,
        ..ComputeClientConfig::default()
    };
    let dlog: EventLog = Rc::new(RefCell::new(Vec::new()));
    dc.reserve_nodes(peers as usize + 1);
    for _ in 0..peers {
        let mut cl = ComputeClient::new(site, ccfg);
        cl.rows = true;
        cl.log = Some(dlog.clone());
        dc.add_node(Kept::new(Some(DcComputeNode::Client(cl))));
    }
    let scfg = site_config(s)?;
    let mut cs = ComputeSite::new(scfg);
    cs.log = Some(dlog.clone());
    dc.add_stable_node(Kept::new(Some(DcComputeNode::Site(cs))));
    let mut tally = Tally::new(dlog.clone());
    let mut d = Driver::new("data center", end, None, &mut progress);
    d.run_sliced(&mut dc, start, 20)?;
    add_workload(&mut dc, c, c.clients, replay.as_ref())?;
    for &t in &times {
        d.run_to(&mut dc, t)?;
        let k = dc.node(site);
        let sref = k
            .node
            .as_ref()
            .and_then(DcComputeNode::site)
            .ok_or_else(|| bad("datacenter", "internal error: the site is not a site"))?;
        let bytes = dc.metrics().counter("dccompute.input_bytes")
            + dc.metrics().counter("dccompute.output_bytes");
        tally.dc_sample(t, sref, (k.is_up(), k.up_to(t)), bytes);
    }
    let dc_files = finish_in_memory(&mut dc, "datacenter", &mut info)?;

    // ------------------------------------------------------------ outputs
    let mut files = BTreeMap::new();
    files.insert(
        "requests.csv".to_string(),
        merge_tables(
            &p2p_files,
            &dc_files,
            "requests.csv",
            "time_ns,workload,client,seq,delivered,request",
        ),
    );
    files.insert(
        "jobs.csv".to_string(),
        merge_tables(&p2p_files, &dc_files, "jobs.csv", JOBS_HEADER),
    );
    files.insert(
        "over-time.csv".to_string(),
        format!("{OVER_TIME_HEADER}{p2p_rows}{}", tally.take_rows()).into_bytes(),
    );
    for (side, side_files) in [("p2p", p2p_files), ("datacenter", dc_files)] {
        for (name, bytes) in side_files {
            if name != "jobs.csv" && name != "requests.csv" {
                files.insert(format!("{side}/{name}"), bytes);
            }
        }
    }
    let churn_note = churn.as_ref().map(|c| c.note.clone()).unwrap_or_default();
    Ok(Outcome {
        part_notes: None,
        notes: gw_out.report(
            s,
            notes(s, c, &cfg, peers, faulty, replay.as_ref(), &churn_note),
            &mut files,
        ),
        files: super::as_outputs(files),
        run_info: info,
        topology: label,
        churn: churn_note,
        kind: Kind::Compute,
        aborted: false,
    })
}

/// Multiples of the reference machine, from thousandths.
fn times_ref(t: u32) -> String {
    format!("{}×", f64::from(t) / 1000.0)
}

/// The report's paragraph: what ran on each side.
pub(crate) fn notes(
    s: &Scenario,
    c: &ComputeSpec,
    cfg: &Config,
    peers: u32,
    faulty: usize,
    replay: Option<&Replay>,
    churn: &str,
) -> String {
    let mut n = String::new();
    match (replay, &c.swf) {
        (Some(r), Some(file)) => {
            let _ = write!(
                n,
                "Workload: the {} jobs of the SWF log `{}` ({} left out for an unknown run time or processors), replayed from the end of the warm-up by {} clients ({}); work = run time × processors on the reference machine. ",
                r.jobs.len(),
                super::clip_path(file),
                r.skipped,
                c.clients,
                match c.swf_submitter {
                    SwfSubmitterSpec::User => "a job's client is its user id modulo the clients",
                    SwfSubmitterSpec::RoundRobin => "jobs dealt round-robin",
                }
            );
        }
        _ => {
            let _ = write!(
                n,
                "Workload: {} clients each submit a job every {} on average (Poisson), work {} on the reference machine. ",
                c.clients,
                c.mean_gap.unwrap_or(MEAN_GAP_DEFAULT),
                c.work.as_deref().unwrap_or(WORK_DEFAULT)
            );
        }
    }
    let _ = write!(
        n,
        "Each job moves {} of input and {} of output{}. ",
        c.input,
        c.output,
        c.deadline
            .map(|d| format!(" and fails if not done within {d}"))
            .unwrap_or_default()
    );
    let policy = match cfg.policy {
        Policy::PowerOfD { d } => format!("power of {d} choices"),
        Policy::Random => "random placement".into(),
        Policy::WorkStealing => "random placement with work stealing".into(),
        Policy::Pull => "volunteers pulling work (BOINC style)".into(),
    };
    let _ = write!(
        n,
        "P2P: all {peers} peers volunteer {} of their CPU at {}–{} the reference machine's speed; {policy}; each job runs as {} copies and is accepted when {} answers agree ({}). ",
        c.share,
        times_ref((c.speed_min * 1000.0).round() as u32),
        times_ref((c.speed_max * 1000.0).round() as u32),
        cfg.redundancy,
        cfg.quorum,
        match cfg.checkpoint {
            Some(p) =>
                format!("a volunteer that goes down resumes from its last checkpoint, every {p}"),
            None =>
                "no checkpoints: a volunteer that goes down loses its running copy's work".into(),
        }
    );
    if faulty > 0 {
        let _ = write!(
            n,
            "{faulty} volunteers return wrong answers ({}). ",
            if c.colluding {
                "colluding: all the same wrong answer"
            } else {
                "independently: each its own"
            }
        );
    }
    let d = &s.datacenter;
    let _ = write!(
        n,
        "Data center: {} servers at {} the reference speed, {} (at most {} jobs waiting), reached over the same network; the site is trusted (one run per job){}.",
        d.servers,
        times_ref((d.server_speed * 1000.0).round() as u32),
        match d.dispatch {
            DispatchSpec::Shared => "one FIFO queue",
            DispatchSpec::ShortestQueue => "one FIFO queue per server, a job joining the shortest",
        },
        d.queue_max,
        d.mtbf
            .map(|m| format!(", with outages every {m} for {} on average", d.mttr))
            .unwrap_or_default()
    );
    if !churn.is_empty() {
        let _ = write!(n, " {churn}");
    }
    n
}
