//! The data-center compute baseline: the exchange and its latency,
//! rejection, dispatch, deadlines, outages and resubmission, CPU
//! accounting, determinism.
//!
//! The site against M/M/c (mean time in system and probability of waiting
//! against Erlang's C formula, with fixed work, M/D/c, as the control) is
//! the `scenarios check` case `repro/dc-erlang-c.toml` (driver
//! `scenarios/src/check/drivers/datacenter.rs`), which replaces the test
//! that made the same measurement here.

use datacenter::compute::{
    ComputeClient, ComputeClientConfig, ComputeSite, ComputeSiteConfig, DcComputeMsg,
    DcComputeNode, Dispatch,
};
use jobs::{Answer, Command, Event, EventLog, Job, JobFailure, Waste, run_time};
use sim_core::churn::Group;
use sim_core::node::encoded_len;
use sim_core::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

const SEC: u64 = 1_000_000_000;

struct World {
    sim: Sim<DcComputeNode>,
    site: NodeId,
    clients: Vec<NodeId>,
    log: EventLog,
}

/// The site is node 0, then `clients` clients, all logging into one log.
/// With `outages = Some((mtbf, mttr))` the site is in an outage group.
fn build(
    seed: u64,
    net: SimpleNet,
    site_cfg: ComputeSiteConfig,
    client: ComputeClientConfig,
    clients: usize,
    outages: Option<(Duration, Duration)>,
    rows: bool,
) -> World {
    let mut sim = Sim::new(SimConfig::new(seed, net));
    if let Some((mtbf, mttr)) = outages {
        let g = Group {
            name: "datacenter".into(),
            members: vec![0],
            mtbf,
            mttr,
        };
        sim.set_outage_groups(&[g]).unwrap();
    }
    let log: EventLog = Rc::new(RefCell::new(Vec::new()));
    let mut site = ComputeSite::new(site_cfg);
    site.log = Some(log.clone());
    let site = sim.add_stable_node(DcComputeNode::Site(site));
    let clients = (0..clients)
        .map(|_| {
            let mut c = ComputeClient::new(site, client);
            c.log = Some(log.clone());
            c.rows = rows;
            sim.add_node(DcComputeNode::Client(c))
        })
        .collect();
    World {
        sim,
        site,
        clients,
        log,
    }
}

impl World {
    fn submit(&mut self, client: NodeId, job: Job) {
        self.sim
            .with_node(client, |n, cx| {
                Node::on_request(n, cx, Command::Submit(job))
            })
            .expect("client up");
    }
    fn run_until(&mut self, t: Time) {
        self.sim.run(RunLimits::until(t)).unwrap();
    }
    fn site(&self) -> &ComputeSite {
        self.sim.node(self.site).site().unwrap()
    }
    /// Every `Done` in the log: job → (submitted, started, ended, by,
    /// attempts, result).
    fn done(&self) -> BTreeMap<u64, Done> {
        let mut out = BTreeMap::new();
        for (_, _, e) in self.log.borrow().iter() {
            if let Event::Done {
                job,
                submitted,
                started,
                ended,
                by,
                attempts,
                result,
            } = e
            {
                let d = Done {
                    submitted: *submitted,
                    started: *started,
                    ended: *ended,
                    by: *by,
                    attempts: *attempts,
                    result: *result,
                };
                assert!(out.insert(*job, d).is_none(), "job {job} ended twice");
            }
        }
        out
    }
    /// Every `Wasted` in the log: (job, cpu, cause).
    fn wasted(&self) -> Vec<(u64, Duration, Waste)> {
        self.log
            .borrow()
            .iter()
            .filter_map(|(_, _, e)| match e {
                Event::Wasted { job, cpu, cause } => Some((*job, *cpu, *cause)),
                Event::Done { .. } => None,
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Done {
    submitted: Time,
    started: Option<Time>,
    ended: Time,
    by: Option<NodeId>,
    attempts: u32,
    result: Result<Answer, JobFailure>,
}

impl Done {
    fn latency(&self) -> u64 {
        self.ended.since(self.submitted).0
    }
}

fn job(id: u64, work: Duration, input: u64, output: u64) -> Job {
    Job {
        id,
        work,
        input,
        output,
        deadline: None,
    }
}

/// 100 Mbit/s: one byte takes exactly 80 ns.
fn constant_net(one_way: Duration) -> SimpleNet {
    SimpleNet::constant(one_way, "100Mbit/s".parse().unwrap())
}

/// Poisson submissions until `until`, then none.
struct Until<W> {
    until: Time,
    inner: W,
}

impl<R, W: Workload<R>> Workload<R> for Until<W> {
    fn next(&mut self, client: NodeId, now: Time, rng: &mut NodeRng) -> Option<(Duration, R)> {
        let (gap, r) = self.inner.next(client, now, rng)?;
        (now.saturating_add(gap) < self.until).then_some((gap, r))
    }
}

// ------------------------------------------------------------------ 1

const L: u64 = 20_000_000;

/// Bytes a bulk message adds to its phantom payload: its own encoding.
fn input_header(rid: u32, j: &Job, deadline_in: Option<u64>) -> u64 {
    encoded_len(&DcComputeMsg::Input {
        rid,
        job: j.id,
        work: j.work.0,
        output: j.output,
        deadline_in,
        len: j.input,
    })
}

/// On a network of constant one-way latency L = 20 ms and 100 Mbit/s per
/// transfer (80 ns a byte), a job that does not wait takes: L for the
/// request, L for the answer, L + 80 ns × (input + the `Input` message's
/// encoding) for the upload, its run, then L + 80 ns × (output + the
/// `Output` message's encoding) for the download. Its run on a server of
/// speed 2000 is half its work: 10 s of work, 5 s. It started when its
/// input arrived, 3L + the upload's transmission after the submission.
#[test]
fn a_job_takes_four_latencies_its_transfers_and_its_run() {
    let site = ComputeSiteConfig {
        servers: 1,
        speed: 2000,
        ..ComputeSiteConfig::default()
    };
    let mut w = build(
        1,
        constant_net(Duration(L)),
        site,
        ComputeClientConfig::default(),
        1,
        None,
        true,
    );
    let t0 = Time(SEC);
    w.run_until(t0);
    let j = job(42, Duration::from_secs(10), 1_000_000, 200_000);
    w.submit(w.clients[0], j);
    let up = j.input + input_header(0, &j, None);
    let started = t0 + Duration(3 * L + 80 * up);
    let run = Duration::from_secs(5);
    assert_eq!(run_time(j.work, 2000, 1000), run);
    let down = j.output
        + encoded_len(&DcComputeMsg::Output {
            rid: 0,
            job: 42,
            len: j.output,
            started,
            cpu: run.0,
        });
    let ended = started + run + Duration(L + 80 * down);
    // Mid-run: one busy server, nothing waiting, 2 s of CPU spent.
    w.run_until(started + Duration::from_secs(2));
    assert_eq!(w.site().busy_servers(), 1);
    assert_eq!(w.site().queued(), 0);
    assert_eq!(w.site().busy_cpu(w.sim.now()), Duration::from_secs(2));
    w.run_until(ended + Duration::from_secs(1));
    let d = w.done()[&42];
    assert_eq!(
        d,
        Done {
            submitted: t0,
            started: Some(started),
            ended,
            by: Some(w.site),
            attempts: 1,
            result: Ok(Answer::Right),
        }
    );
    assert_eq!(d.latency(), 4 * L + 80 * (up + down) + run.0);
    assert_eq!(w.site().busy_cpu(w.sim.now()), run);
    assert_eq!(w.site().completed(), 1);
    let m = w.sim.metrics();
    assert_eq!(m.counter("dccompute.input_bytes"), up);
    assert_eq!(m.counter("dccompute.output_bytes"), down);
    assert_eq!(m.counter("dccompute.retries"), 0);
    assert_eq!(m.rows("jobs"), 1);
    assert!(w.wasted().is_empty());
}

/// Rejection, when the queue is full at the request: one server,
/// `queue_max` 2, four jobs without input at once from four clients. The
/// first runs, the next two wait, the fourth is refused one round trip
/// after its submission (never started, no worker, one attempt). Then the
/// room is checked again when an input arrives: on a loss system
/// (`queue_max` 0), a job whose 1 MB upload is under way when another
/// takes the only server is refused after its upload, at
/// 4L + the upload's transmission.
#[test]
fn a_full_queue_rejects() {
    let site = ComputeSiteConfig {
        servers: 1,
        queue_max: 2,
        ..ComputeSiteConfig::default()
    };
    let mut w = build(
        2,
        constant_net(Duration(L)),
        site,
        ComputeClientConfig::default(),
        4,
        None,
        true,
    );
    let t0 = Time(SEC);
    w.run_until(t0);
    for (i, c) in w.clients.clone().into_iter().enumerate() {
        w.submit(c, job(i as u64, Duration::from_secs(10), 0, 0));
    }
    w.run_until(t0 + Duration::from_secs(1));
    assert_eq!((w.site().busy_servers(), w.site().queued()), (1, 2));
    w.run_until(t0 + Duration::from_secs(60));
    let done = w.done();
    let rejected = done[&3];
    assert_eq!(rejected.result, Err(JobFailure::Rejected));
    assert_eq!(rejected.latency(), 2 * L);
    assert_eq!(
        (rejected.started, rejected.by, rejected.attempts),
        (None, None, 1)
    );
    // The others ran one after the other: 10, 20 and 30 s after arriving.
    for i in 0..3 {
        assert_eq!(done[&i].latency(), 2 * L + (i + 1) * 10 * SEC, "job {i}");
    }
    assert_eq!(w.sim.metrics().counter("dccompute.rejected"), 1);

    // At the input.
    let loss = ComputeSiteConfig {
        servers: 1,
        queue_max: 0,
        ..ComputeSiteConfig::default()
    };
    let mut w = build(
        3,
        constant_net(Duration(L)),
        loss,
        ComputeClientConfig::default(),
        2,
        None,
        false,
    );
    w.run_until(t0);
    let big = job(1, Duration::from_secs(10), 1_000_000, 0);
    w.submit(w.clients[0], big);
    // The second job reaches the site at t0 + 1.5 L, while the first one's
    // input is moving, and takes the server.
    w.run_until(t0 + Duration(L / 2));
    w.submit(w.clients[1], job(2, Duration::from_secs(100), 0, 0));
    w.run_until(t0 + Duration::from_secs(10));
    let done = w.done();
    let up = big.input + input_header(0, &big, None);
    assert_eq!(done[&1].result, Err(JobFailure::Rejected));
    assert_eq!(done[&1].latency(), 4 * L + 80 * up);
    assert_eq!(w.site().busy_servers(), 1);
}

/// Join the shortest queue against the shared queue, by hand: two servers,
/// zero latency, three jobs at once: A (10 s), B (1 s), C (1 s). Shared:
/// A and B start at once, C waits for the first free server (B's, at 1 s)
/// and ends at 2 s. Shortest queue: A goes to server 0, B to server 1
/// (one job against none), and C, with one job at each, to server 0 (the
/// tie goes to the lower number), behind A: it ends at 11 s while server 1
/// sits idle from 1 s.
#[test]
fn shortest_queue_dispatch_can_leave_a_server_idle_behind_a_long_job() {
    let ends = |dispatch| {
        let site = ComputeSiteConfig {
            servers: 2,
            dispatch,
            ..ComputeSiteConfig::default()
        };
        let mut w = build(
            5,
            constant_net(Duration::ZERO),
            site,
            ComputeClientConfig::default(),
            1,
            None,
            false,
        );
        w.run_until(Time(SEC));
        for (id, s) in [(0, 10), (1, 1), (2, 1)] {
            w.submit(w.clients[0], job(id, Duration::from_secs(s), 0, 0));
        }
        w.run_until(Time(SEC + 5 * SEC));
        let mid = (w.site().busy_servers(), w.site().queued());
        w.run_until(Time(60 * SEC));
        let l: Vec<u64> = w.done().values().map(|d| d.latency() / SEC).collect();
        (l, mid)
    };
    assert_eq!(ends(Dispatch::Shared), (vec![10, 1, 2], (1, 0)));
    assert_eq!(ends(Dispatch::ShortestQueue), (vec![10, 1, 11], (1, 1)));
}

/// Deadlines. One server, L = 20 ms, jobs without input or output.
/// - A job of 10 s with a 5 s deadline fails at its client 5 s after its
///   submission (it had started); the site drops it 5 s after its arrival,
///   and reports the 5 s of CPU it had used as redundant.
/// - A job queued behind it with a 2 s deadline fails at 2 s, and leaves
///   the queue at 2 s + L without having used any CPU.
/// - A job of 1 s with a deadline of 1.02 s (less than its 1 s + 2L): the
///   site finishes it before its own drop time (arrival + 1.02 s), but
///   the output reaches the client after the job failed: the client
///   reports its 1 s of CPU as redundant.
#[test]
fn deadlines_fail_jobs_at_the_client_and_drop_them_at_the_site() {
    let site = ComputeSiteConfig {
        servers: 1,
        ..ComputeSiteConfig::default()
    };
    let mut w = build(
        6,
        constant_net(Duration(L)),
        site,
        ComputeClientConfig::default(),
        1,
        None,
        false,
    );
    let t0 = Time(SEC);
    w.run_until(t0);
    let c = w.clients[0];
    let with_deadline = |id, work, d| Job {
        deadline: Some(Duration(d)),
        ..job(id, Duration(work), 0, 0)
    };
    w.submit(c, with_deadline(1, 10 * SEC, 5 * SEC));
    w.submit(c, with_deadline(2, SEC, 2 * SEC));
    w.run_until(t0 + Duration(2 * SEC));
    assert_eq!(w.site().queued(), 1);
    w.run_until(t0 + Duration(2 * SEC + L));
    assert_eq!(w.site().queued(), 0, "dropped at its deadline");
    w.run_until(t0 + Duration::from_secs(10));
    let done = w.done();
    assert_eq!(done[&1].result, Err(JobFailure::Deadline));
    assert_eq!(done[&1].latency(), 5 * SEC);
    assert_eq!(done[&1].started, Some(t0 + Duration(L)));
    assert_eq!(done[&2].result, Err(JobFailure::Deadline));
    assert_eq!((done[&2].latency(), done[&2].started), (2 * SEC, None));
    assert_eq!(w.wasted(), vec![(1, Duration(5 * SEC), Waste::Redundant)]);
    assert_eq!(w.site().busy_cpu(w.sim.now()), Duration(5 * SEC));
    assert_eq!(w.site().busy_servers(), 0);

    let t1 = w.sim.now();
    w.submit(c, with_deadline(3, SEC, SEC + L));
    w.run_until(t1 + Duration::from_secs(5));
    let d = w.done()[&3];
    assert_eq!(
        (d.result, d.latency()),
        (Err(JobFailure::Deadline), SEC + L)
    );
    assert_eq!(
        w.wasted()[1..],
        [(3, Duration(SEC), Waste::Redundant)],
        "the late output's CPU"
    );
    assert_eq!(w.site().completed(), 1);
    assert_eq!(w.sim.metrics().counter("dccompute.late_output"), 1);
}

/// An outage loses work and the client resubmits. One server, L = 20 ms,
/// attempts of 1 s, phase timeout 30 s (beyond the job's work); the site
/// is down from 50 s to 60 s. At t0 = 1 s the client submits job 1 (100 s)
/// and job 2 (10 s), without input or output.
/// - Job 1 runs from t0 + L; the outage loses it after 49 s − L of CPU
///   (wasted, churn). Its client's phase timer (30 + 100 s from the
///   acceptance at t0 + 2L) fires at t0 + 2L + 130 s; the site, up again
///   and idle, runs it at once: done at t0 + 4L + 230 s, 2 attempts. Its
///   first start stays the first run's, t0 + L.
/// - Job 2 waits behind job 1. Its phase timer (30 + 10 s) fires at
///   t0 + 2L + 40 s, while it still waits: the site still holds it and
///   answers the resubmission as queued, and the next timer runs from
///   that answer, t0 + 4L + 40 s, to t0 + 4L + 80 s. Meanwhile the outage
///   lost it (waiting: no CPU). The third submission arrives at
///   t0 + 5L + 80 s and runs at once: done at t0 + 6L + 90 s, 3 attempts.
///
/// Control: without retries, both fail with `Timeout` at their first phase
/// timeouts, with one attempt.
#[test]
fn an_outage_loses_work_and_the_client_resubmits() {
    let run = |retries| {
        let site = ComputeSiteConfig {
            servers: 1,
            ..ComputeSiteConfig::default()
        };
        let client = ComputeClientConfig {
            attempt_timeout: Duration::from_secs(1),
            retries,
            phase_timeout: Duration::from_secs(30),
        };
        let mut w = build(7, constant_net(Duration(L)), site, client, 1, None, true);
        let outage = (Time(50 * SEC), Time(60 * SEC));
        datacenter::schedule_outages(&mut w.sim, w.site, &[outage]).unwrap();
        w.run_until(Time(SEC));
        w.submit(w.clients[0], job(1, Duration::from_secs(100), 0, 0));
        w.submit(w.clients[0], job(2, Duration::from_secs(10), 0, 0));
        w.run_until(Time(400 * SEC));
        w
    };
    let t0 = SEC;
    let w = run(3);
    let done = w.done();
    assert_eq!(
        done[&1],
        Done {
            submitted: Time(t0),
            started: Some(Time(t0 + L)),
            ended: Time(t0 + 4 * L + 230 * SEC),
            by: Some(w.site),
            attempts: 2,
            result: Ok(Answer::Right),
        }
    );
    assert_eq!(
        done[&2],
        Done {
            submitted: Time(t0),
            started: Some(Time(t0 + 5 * L + 80 * SEC)),
            ended: Time(t0 + 6 * L + 90 * SEC),
            by: Some(w.site),
            attempts: 3,
            result: Ok(Answer::Right),
        }
    );
    let lost_cpu = Duration(49 * SEC - L);
    assert_eq!(w.wasted(), vec![(1, lost_cpu, Waste::Churn)]);
    assert_eq!(
        w.site().busy_cpu(w.sim.now()),
        Duration(lost_cpu.0 + 110 * SEC)
    );
    assert_eq!((w.site().lost(), w.site().completed()), (2, 2));
    let m = w.sim.metrics();
    assert_eq!(m.counter("dccompute.lost_running"), 1);
    assert_eq!(m.counter("dccompute.lost_waiting"), 1);
    assert_eq!(m.counter("dccompute.duplicate_submits"), 1);
    assert_eq!(m.counter("dccompute.retries"), 3);
    assert_eq!(m.rows("jobs"), 2);

    // Control.
    let w = run(0);
    let done = w.done();
    for (id, work) in [(1, 100), (2, 10)] {
        let d = done[&id];
        assert_eq!(d.result, Err(JobFailure::Timeout));
        assert_eq!(d.attempts, 1);
        assert_eq!(d.latency(), 2 * L + (30 + work) * SEC, "job {id}");
    }
    assert_eq!(w.site().completed(), 0);
}

/// A client's jobs survive its own transient stop: at its restart it
/// submits again every job still pending. One server, L = 20 ms; a job of
/// 10 s submitted at t0 = 1 s runs from t0 + L; the client is down from
/// 5 s to 8 s, so the output datagram (at t0 + 2L + 10 s) reaches it. Its
/// resubmission at 8 s finds the job still held by the site (answered as
/// queued, not run twice): done at t0 + 2L + 10 s with 2 attempts.
#[test]
fn a_client_resubmits_its_jobs_after_its_own_restart() {
    let site = ComputeSiteConfig {
        servers: 1,
        ..ComputeSiteConfig::default()
    };
    let mut w = build(
        8,
        constant_net(Duration(L)),
        site,
        ComputeClientConfig::default(),
        1,
        None,
        false,
    );
    let c = w.clients[0];
    datacenter::schedule_outages(&mut w.sim, c, &[(Time(5 * SEC), Time(8 * SEC))]).unwrap();
    w.run_until(Time(SEC));
    w.submit(c, job(1, Duration::from_secs(10), 0, 0));
    w.run_until(Time(60 * SEC));
    let d = w.done()[&1];
    assert_eq!(d.result, Ok(Answer::Right));
    assert_eq!((d.attempts, d.latency()), (2, 2 * L + 10 * SEC));
    assert_eq!(w.site().completed(), 1);
    assert_eq!(w.sim.metrics().counter("dccompute.duplicate_submits"), 1);
}

// ------------------------------------------------------------------ 2

/// Each submitted job's work, by job id.
type Works = Rc<RefCell<BTreeMap<u64, Duration>>>;

/// Site outages (MTBF 2 h, MTTR 10 min), 8 clients submitting jobs of
/// exponential work (mean 60 s) with inputs and outputs, a fifth with a
/// deadline, for half a day on 16 servers; then a day without new jobs so
/// that everything ends. Returns the tables, the event log, the trace hash,
/// the world and the jobs' work.
#[allow(clippy::type_complexity)]
fn busy_run(seed: u64) -> (BTreeMap<String, Vec<u8>>, String, u64, World, Works) {
    let site = ComputeSiteConfig {
        servers: 16,
        queue_max: 8,
        ..ComputeSiteConfig::default()
    };
    let client = ComputeClientConfig {
        attempt_timeout: Duration::from_secs(1),
        retries: 3,
        phase_timeout: Duration::from_secs(600),
    };
    let mut w = build(
        seed,
        constant_net(Duration::from_millis(15)),
        site,
        client,
        8,
        Some((Duration::from_secs(7200), Duration::from_secs(600))),
        true,
    );
    let mut next = 0u64;
    let works: Works = Rc::default();
    let submitted = works.clone();
    let load = Poisson::new(
        Duration::from_secs(40),
        move |c: NodeId, rng: &mut NodeRng| {
            use rand::RngExt;
            next += 1;
            let u: f64 = rng.random();
            let work = ((-(1.0 - u).ln() * 60.0 * SEC as f64) as u64).max(1);
            let id = u64::from(c.0) << 32 | next;
            submitted.borrow_mut().insert(id, Duration(work));
            Command::Submit(Job {
                id,
                work: Duration(work),
                input: rng.random_range(0..2_000_000),
                output: rng.random_range(0..200_000),
                deadline: rng
                    .random_bool(0.2)
                    .then(|| Duration::from_secs(rng.random_range(30..600))),
            })
        },
    )
    .unwrap();
    let clients = w.clients.clone();
    let until = Time(12 * 3600 * SEC);
    w.sim
        .add_workload(&clients, Until { until, inner: load })
        .unwrap();
    w.run_until(Time(36 * 3600 * SEC));
    w.sim.finish_metrics();
    let log = format!("{:?}", w.log.borrow());
    let hash = w.sim.trace_hash();
    let tables = w.sim.metrics_mut().to_csv_files().unwrap();
    (tables, log, hash, w, works)
}

/// Same seed: byte-identical tables, the same event log and the same event
/// trace. Another seed: a different run.
///
/// And the CPU adds up: every run the site started ended as an accepted
/// job's result (run time = its work, at speed 1000), or wasted (lost in
/// an outage, cut at a deadline, an output lost or arriving after its job
/// ended). So once everything has ended, the site's busy CPU equals the
/// accepted jobs' work plus the wasted CPU, to the nanosecond. Control:
/// without the wasted CPU the sum falls short.
#[test]
fn same_seed_same_run_and_the_cpu_adds_up() {
    let a = busy_run(3);
    let b = busy_run(3);
    assert!(a.0.contains_key("jobs.csv"), "{:?}", a.0.keys());
    let table = String::from_utf8(a.0["jobs.csv"].clone()).unwrap();
    assert!(table.starts_with(jobs::report::JOBS_HEADER));
    for what in ["right", "deadline", "rejected"] {
        assert!(table.contains(what), "no {what} in the jobs table");
    }
    assert_eq!(a.0, b.0, "tables differ");
    assert_eq!(a.1, b.1, "event logs differ");
    assert_eq!(a.2, b.2, "event traces differ");
    let c = busy_run(4);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
    assert_ne!(a.2, c.2);

    let (w, works) = (a.3, a.4);
    assert_eq!(w.site().busy_servers(), 0);
    assert!(
        w.clients
            .iter()
            .all(|&c| w.sim.node(c).client().unwrap().pending() == 0)
    );
    let done = w.done();
    // Every job submitted ended; the workload drew one more per client, the
    // one `Until` held back.
    assert_eq!(done.len() + w.clients.len(), works.borrow().len());
    let ok = done
        .iter()
        .filter(|(_, d)| d.result.is_ok())
        .map(|(j, _)| works.borrow()[j].0)
        .sum::<u64>();
    let wasted: BTreeMap<Waste, u64> = w.wasted().iter().fold(BTreeMap::new(), |mut m, x| {
        *m.entry(x.2).or_default() += x.1.0;
        m
    });
    let busy = w.site().busy_cpu(w.sim.now()).0;
    println!(
        "{} jobs, {} accepted; busy CPU {busy} ns = accepted work {ok} + wasted {wasted:?}",
        done.len(),
        done.values().filter(|d| d.result.is_ok()).count()
    );
    assert!(wasted[&Waste::Churn] > 0 && wasted[&Waste::Redundant] > 0);
    assert_eq!(busy, ok + wasted.values().sum::<u64>());
    assert!(busy > ok, "control: the wasted CPU is part of the busy CPU");
}
