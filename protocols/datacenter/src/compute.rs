//! # The data-center compute baseline
//!
//! One site node runs every job on its own servers; clients reach it over
//! the network, take the same [`Command`]s as a P2P submitter and report
//! the same [`Event`]s, so an experiment writes identical `jobs` rows for
//! both sides (see [`jobs::report`]).
//!
//! # The exchange
//! 1. The client sends a `Submit` datagram describing the job (its id,
//!    work, input and output sizes, and the time left to its deadline).
//! 2. The site answers `Accepted`, or `Rejected` when the job would have to
//!    wait and `queue_max` jobs are already waiting (the job then fails
//!    with [`JobFailure::Rejected`], at once: a refusal is an answer, not
//!    retried).
//! 3. The client moves the input to the site as a bulk transfer (`Input`,
//!    carrying the job's description again: the site keeps nothing for a
//!    job between its acceptance and its input). When the input has
//!    arrived the site checks for room again (the queue may have filled
//!    meanwhile: `Rejected`) and queues the job.
//! 4. A server runs it for [`run_time`]`(work, speed, 1000)` (a server
//!    gives the job its whole CPU). When the run starts the site sends a
//!    `Running` datagram (the client learns when its job started).
//! 5. The site moves the output back as a bulk transfer (`Output`), and
//!    the client reports [`Event::Done`] with `by = Some(site)`,
//!    `result = Ok(`[`Answer::Right`]`)` (the site is trusted: one run, no
//!    quorum) and `attempts` = the `Submit` datagrams it sent.
//!
//! On a network of constant one-way latency `L` and a fixed rate per
//! transfer ([`SimpleNet`]), a job that does not wait takes
//! `4L + run_time + t(input) + t(output)`, `t(x)` being the bulk message's
//! transmission time (its phantom length plus its own encoding, at the
//! rate). Latency runs from the first send of the first attempt.
//!
//! **Jobs without input or output skip the transfer**: a job of input 0 is
//! queued when its `Submit` arrives (the `Accepted` answer says so, and no
//! `Input` is sent), and a job of output 0 gets its `Output` as a datagram.
//! On a zero-latency network such a job's latency is then exactly its wait
//! in the queue plus its run time, which is how the `scenarios check` case
//! `dc-erlang-c` checks the site against M/M/c.
//!
//! Transfers go through the engine's network: with a routed topology (e.g.
//! [`sim_core::topo::Star`]) the site's uplink and downlink are shared by
//! every transfer as flows (max-min fair); with [`SimpleNet`] each transfer
//! has the fixed rate. Bulk transfers are in traffic class
//! [`class::DATACENTER`]; the datagrams in [`class::CONTROL`]. Senders also
//! count bulk bytes from the transfers' outcomes (`dccompute.input_bytes`
//! at clients, `dccompute.output_bytes` at the site), which works on either
//! network.
//!
//! # The site: servers and queues
//! `servers` identical servers of speed `speed` (thousandths of the
//! reference machine, as in [`run_time`]). Two disciplines
//! ([`Dispatch`]):
//! - [`Dispatch::Shared`] (default): one FIFO queue for all servers; a job
//!   starts on the lowest-numbered idle server, or waits, and a server
//!   that frees up takes the job at the head of the queue. With Poisson
//!   arrivals and exponential work this is M/M/c (checked against Erlang's
//!   C formula by the `scenarios check` case `dc-erlang-c`).
//! - [`Dispatch::ShortestQueue`]: one FIFO queue per server, and a
//!   dispatcher that sends each arriving job to the server with the fewest
//!   jobs (waiting plus running; ties to the lowest number) — join the
//!   shortest queue, the usual rule of a front-end balancer. A job never
//!   moves once queued, so a server can sit idle while another's queue
//!   holds jobs, which the shared queue never allows; what that costs is
//!   the gap between the two.
//!
//! `queue_max` bounds the jobs waiting (over all queues): a job that would
//! have to wait (every server busy) when `queue_max` jobs already wait is
//! refused. With `queue_max = 0` the site is a loss system: a job runs at
//! once or is refused.
//!
//! # Deadlines
//! A job with a deadline fails at its client ([`JobFailure::Deadline`])
//! when it is not done `deadline` after its submission, wherever it is.
//! Each `Submit` and `Input` carries the time left to the deadline as the
//! client sends it; the site drops the job that much time after it arrives
//! (one latency after the client's own deadline: the site cannot know the
//! latency). A dropped job leaves its queue; a dropped running job frees
//! its server and the site reports the CPU it used as
//! [`Event::Wasted`]` { cause: `[`Waste::Redundant`]` }` (a copy cancelled
//! mid-run). An output that reaches its client after the job ended (late,
//! or from a run duplicated by a resubmission) is reported by the client as
//! [`Waste::Redundant`] with the CPU the run took (the `Output` says how
//! much).
//!
//! # Clients: timeouts and retries
//! Like the storage baseline's [`crate::storage::StoreClient`]: each
//! attempt waits [`ComputeClientConfig::attempt_timeout`] for the site's
//! answer (`Accepted` or `Rejected`); after a silent attempt the same
//! request (same id) is sent again, up to [`ComputeClientConfig::retries`]
//! times, and an answer to any attempt answers it. Once accepted, the job
//! has [`ComputeClientConfig::phase_timeout`] *plus its own work* (its run
//! time on the reference machine; an estimate a user gives a batch system
//! as its requested time) to come back. An upload that fails (the site
//! went down) or an accepted job that does not come back in time counts as
//! a silent attempt: the job is submitted again (attempts + 1), or fails
//! with [`JobFailure::Timeout`] when its retries are used up. A
//! resubmission of a job the site still holds (same client, same request
//! id) is answered `Accepted` as queued and does not run it twice; one of a
//! job whose output is already on its way runs it again (the second
//! output is then redundant).
//!
//! A client's jobs are on its disk: a transient stop keeps them (their
//! uploads fail with the stop), and at its restart the client submits
//! every job still pending again (attempts + 1, within its retries), after
//! failing those whose deadline passed while it was down. A permanent stop
//! loses them, uncounted but for `dccompute.lost_at_client_stop`.
//!
//! # Site outages
//! The site is taken down and up by the engine, as the other baselines:
//! with an outage group over the site node ([`Sim::set_outage_groups`],
//! exponential times of means MTBF and MTTR) or explicit intervals
//! ([`schedule_outages`](crate::schedule_outages)). A stop loses every job
//! the site holds, waiting or running, and every output on its way; the
//! site reports the CPU that lost running jobs had used so far, and the
//! whole CPU of jobs whose output it was sending, as
//! [`Event::Wasted`]` { cause: `[`Waste::Churn`]` }`. Clients notice only
//! by their timeouts and resubmit. While it is down, requests get no
//! answer and transfers to it fail. An output whose transfer fails because
//! its client went down is also wasted ([`Waste::Churn`]: its machine, the
//! submitter's, went down); an output datagram (output 0) lost that way is
//! not seen by anyone.
//!
//! # Defaults and their sources
//! - Servers: 100, an assumption; an experiment sizes the site (for an
//!   equal-capacity comparison, to the P2P side's total CPU).
//! - Speed: 1000, the reference machine itself. Workload logs (e.g. the
//!   Parallel Workloads Archive's, [`jobs::swf`]) measure run times on the
//!   log's own machines, which the replay takes as the reference.
//! - Shared FIFO queue: what a batch scheduler's single queue does without
//!   backfilling; the queueing model the site is tested against.
//! - `queue_max`: 10,000, the directory site's default.
//! - Clients: 1 s attempts and 3 retries, the scenario defaults of the
//!   directory's clients; a 1 h phase timeout beyond the job's own work,
//!   the storage baseline's data-phase default.
//!
//! # What it measures
//! The clients' [`Event::Done`]s and the site's [`Event::Wasted`]s (in an
//! [`EventLog`], the `log` of each node), the `jobs` table with `rows` at
//! the clients ([`JobRow`]), and what the experiment samples from the site:
//! [`ComputeSite::queued`], [`ComputeSite::busy_servers`] and
//! [`ComputeSite::busy_cpu`] (CPU time spent by the servers so far, lost
//! runs included: busy over capacity is the utilisation). Counters
//! `dccompute.*` and the histogram `dccompute.queue_wait_ns` (each run's
//! wait in the queue).

use jobs::{Answer, Command, Event, EventLog, Job, JobFailure, JobRow, Waste, run_time};
use serde::{Deserialize, Serialize};
use sim_core::node::class;
use sim_core::prelude::*;
use sim_core::{Context, Layer};
use std::collections::BTreeMap;

/// How the site's servers share arriving jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dispatch {
    /// One FIFO queue for all servers.
    #[default]
    Shared,
    /// One FIFO queue per server; each job joins the server with the fewest
    /// jobs, waiting plus running (ties to the lowest number).
    ShortestQueue,
}

/// The site's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeSiteConfig {
    /// Servers (each runs one job at a time, with its whole CPU).
    pub servers: u32,
    /// Speed of each server, thousandths of the reference machine.
    pub speed: u32,
    /// Queues and dispatch.
    pub dispatch: Dispatch,
    /// Most jobs waiting over all queues; a job that would wait when this
    /// many wait is refused (0: a loss system).
    pub queue_max: usize,
}

impl Default for ComputeSiteConfig {
    fn default() -> Self {
        ComputeSiteConfig {
            servers: 100,
            speed: 1000,
            dispatch: Dispatch::Shared,
            queue_max: 10_000,
        }
    }
}

impl ComputeSiteConfig {
    /// Check the configuration.
    pub fn validate(&self) -> Result<(), crate::storage::ConfigError> {
        use crate::storage::ConfigError;
        if self.servers == 0 {
            return Err(ConfigError(
                "a compute site needs at least one server".into(),
            ));
        }
        if self.speed == 0 {
            return Err(ConfigError(
                "server speed must be positive (thousandths of the reference machine)".into(),
            ));
        }
        Ok(())
    }
}

/// The clients' parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeClientConfig {
    /// How long each attempt waits for the site's answer.
    pub attempt_timeout: Duration,
    /// How many times a job is submitted again after a silent attempt.
    pub retries: u32,
    /// How long an accepted job may take to come back, beyond its own work
    /// (its run time on the reference machine).
    pub phase_timeout: Duration,
}

impl Default for ComputeClientConfig {
    fn default() -> Self {
        ComputeClientConfig {
            attempt_timeout: Duration::from_secs(1),
            retries: 3,
            phase_timeout: Duration::from_secs(3600),
        }
    }
}

/// The compute baseline's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DcComputeMsg {
    /// Client to site: run this job.
    Submit {
        /// Request id (the client's).
        rid: u32,
        /// The job's id.
        job: u64,
        /// Work, ns of CPU on the reference machine.
        work: u64,
        /// Input bytes (0: no upload follows).
        input: u64,
        /// Output bytes.
        output: u64,
        /// Time left to the job's deadline as sent, ns (None: no deadline).
        deadline_in: Option<u64>,
    },
    /// Site to client: accepted; `queued` when the job is already queued
    /// (no input to upload, or a resubmission of a job the site holds).
    Accepted {
        /// Request id.
        rid: u32,
        /// Already queued: send no input.
        queued: bool,
    },
    /// Site to client: refused, too many jobs waiting.
    Rejected {
        /// Request id.
        rid: u32,
    },
    /// Client to site, bulk: the input (phantom payload of `len` bytes) and
    /// the job's description again.
    Input {
        /// Request id.
        rid: u32,
        /// The job's id.
        job: u64,
        /// Work, ns of CPU on the reference machine.
        work: u64,
        /// Output bytes.
        output: u64,
        /// Time left to the deadline as sent, ns.
        deadline_in: Option<u64>,
        /// Input bytes.
        len: u64,
    },
    /// Site to client: the job started running.
    Running {
        /// Request id.
        rid: u32,
        /// The job's id.
        job: u64,
        /// When it started.
        at: Time,
    },
    /// Site to client: the output (bulk with a phantom payload of `len`
    /// bytes; a datagram when `len` is 0).
    Output {
        /// Request id.
        rid: u32,
        /// The job's id.
        job: u64,
        /// Output bytes.
        len: u64,
        /// When the run started.
        started: Time,
        /// CPU time the run took, ns.
        cpu: u64,
    },
}

impl Message for DcComputeMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            DcComputeMsg::Input { len, .. } | DcComputeMsg::Output { len, .. } => *len,
            _ => 0,
        }
    }
    fn class(&self) -> u8 {
        match self {
            DcComputeMsg::Input { .. } => class::DATACENTER,
            DcComputeMsg::Output { len, .. } if *len > 0 => class::DATACENTER,
            _ => class::CONTROL,
        }
    }
}

/// Named timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcComputeTimer {
    /// A server's run ends.
    Server {
        /// The server.
        server: u32,
    },
    /// The site drops a job at its deadline.
    Drop {
        /// The job's client.
        client: NodeId,
        /// The client's request id.
        rid: u32,
    },
    /// The deadline of a client job's current phase.
    Phase {
        /// The request.
        rid: u32,
    },
    /// A client job's own deadline.
    Deadline {
        /// The request.
        rid: u32,
    },
}

// ------------------------------------------------------------------ site

/// A job at the site: (client, request id).
type Key = (NodeId, u32);

#[derive(Debug, Clone, Copy)]
enum Where {
    /// In queue `queue` at position `seq`.
    Waiting { queue: usize, seq: u64 },
    /// On server `server`.
    Running { server: usize },
}

#[derive(Debug, Clone)]
struct SiteJob {
    id: u64,
    work: Duration,
    output: u64,
    arrived: Time,
    at: Where,
    drop_timer: Option<TimerId>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    key: Key,
    started: Time,
    length: Duration,
    timer: TimerId,
}

/// The data-center site: servers and their queues.
#[derive(Debug, Clone)]
pub struct ComputeSite {
    cfg: ComputeSiteConfig,
    jobs: BTreeMap<Key, SiteJob>,
    /// One queue (shared) or one per server: arrival number → job.
    queues: Vec<BTreeMap<u64, Key>>,
    servers: Vec<Option<Run>>,
    seq: u64,
    waiting: usize,
    busy: usize,
    /// CPU time of the runs that ended (completed, dropped or lost).
    cpu_done: Duration,
    /// Outputs on their way: transfer → (job, CPU of its run).
    outputs: BTreeMap<TransferId, (u64, Duration)>,
    completed: u64,
    lost: u64,
    /// Where to append events (experiment side), if anywhere.
    pub log: Option<EventLog>,
}

impl ComputeSite {
    /// A site; panics on an invalid configuration (check it with
    /// [`ComputeSiteConfig::validate`]).
    pub fn new(cfg: ComputeSiteConfig) -> ComputeSite {
        if let Err(e) = cfg.validate() {
            panic!("invalid compute site configuration: {e}");
        }
        let queues = match cfg.dispatch {
            Dispatch::Shared => 1,
            Dispatch::ShortestQueue => cfg.servers as usize,
        };
        ComputeSite {
            cfg,
            jobs: BTreeMap::new(),
            queues: vec![BTreeMap::new(); queues],
            servers: vec![None; cfg.servers as usize],
            seq: 0,
            waiting: 0,
            busy: 0,
            cpu_done: Duration::ZERO,
            outputs: BTreeMap::new(),
            completed: 0,
            lost: 0,
            log: None,
        }
    }
    /// The configuration.
    pub fn config(&self) -> &ComputeSiteConfig {
        &self.cfg
    }
    /// Jobs waiting for a server (over all queues).
    pub fn queued(&self) -> usize {
        self.waiting
    }
    /// Servers running a job.
    pub fn busy_servers(&self) -> usize {
        self.busy
    }
    /// CPU time the servers have spent by `now` (not before the last
    /// event): the runs that ended, completed or not, and the running jobs'
    /// progress up to `now`.
    pub fn busy_cpu(&self, now: Time) -> Duration {
        let running: u64 = self
            .servers
            .iter()
            .flatten()
            .map(|r| now.since(r.started).0.min(r.length.0))
            .sum();
        Duration(self.cpu_done.0.saturating_add(running))
    }
    /// Jobs run to completion (their output sent).
    pub fn completed(&self) -> u64 {
        self.completed
    }
    /// Jobs lost to the site's stops, waiting or running.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    fn wasted(
        &self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        job: u64,
        cpu: Duration,
        cause: Waste,
    ) {
        if let Some(log) = &self.log {
            log.borrow_mut()
                .push((cx.now(), cx.me(), Event::Wasted { job, cpu, cause }));
        }
    }

    /// Would a job arriving now have to wait?
    fn all_busy(&self) -> bool {
        self.busy == self.servers.len()
    }

    fn full(&self) -> bool {
        self.all_busy() && self.waiting >= self.cfg.queue_max
    }

    #[allow(clippy::too_many_arguments)]
    fn admit(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        key: Key,
        id: u64,
        work: u64,
        output: u64,
        deadline_in: Option<u64>,
    ) {
        let now = cx.now();
        let drop_timer = deadline_in.map(|d| {
            cx.set_timer(
                Duration(d),
                DcComputeTimer::Drop {
                    client: key.0,
                    rid: key.1,
                },
            )
        });
        // The queue it joins, and the server it starts on at once, if any.
        let (queue, idle) = match self.cfg.dispatch {
            Dispatch::Shared => (0, self.servers.iter().position(Option::is_none)),
            Dispatch::ShortestQueue => {
                let s = (0..self.servers.len())
                    .min_by_key(|&s| {
                        (
                            self.queues[s].len() + usize::from(self.servers[s].is_some()),
                            s,
                        )
                    })
                    .expect("at least one server");
                (s, self.servers[s].is_none().then_some(s))
            }
        };
        cx.count("dccompute.queued", 1);
        self.seq += 1;
        let seq = self.seq;
        self.jobs.insert(
            key,
            SiteJob {
                id,
                work: Duration(work),
                output,
                arrived: now,
                at: Where::Waiting { queue, seq },
                drop_timer,
            },
        );
        match idle {
            Some(s) => self.start(cx, s, key),
            None => {
                self.queues[queue].insert(seq, key);
                self.waiting += 1;
            }
        }
    }

    fn start(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        server: usize,
        key: Key,
    ) {
        let now = cx.now();
        let j = self.jobs.get_mut(&key).expect("started jobs are held");
        j.at = Where::Running { server };
        let length = run_time(j.work, self.cfg.speed, 1000);
        let id = j.id;
        cx.observe("dccompute.queue_wait_ns", now.since(j.arrived).0);
        let timer = cx.set_timer(
            length,
            DcComputeTimer::Server {
                server: server as u32,
            },
        );
        self.servers[server] = Some(Run {
            key,
            started: now,
            length,
            timer,
        });
        self.busy += 1;
        cx.send(
            key.0,
            DcComputeMsg::Running {
                rid: key.1,
                job: id,
                at: now,
            },
        );
    }

    /// Server `server` is free: start the next job of its queue.
    fn next(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, server: usize) {
        let q = match self.cfg.dispatch {
            Dispatch::Shared => 0,
            Dispatch::ShortestQueue => server,
        };
        if let Some((_, key)) = self.queues[q].pop_first() {
            self.waiting -= 1;
            self.start(cx, server, key);
        }
    }

    /// End the run on `server`; returns its job and the CPU it used.
    fn end_run(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        server: usize,
    ) -> Option<(Key, SiteJob, Duration)> {
        let run = self.servers[server].take()?;
        self.busy -= 1;
        cx.cancel_timer(run.timer);
        let cpu = Duration(cx.now().since(run.started).0.min(run.length.0));
        self.cpu_done = self.cpu_done.saturating_add(cpu);
        let job = self.jobs.remove(&run.key).expect("running jobs are held");
        if let Some(t) = job.drop_timer {
            cx.cancel_timer(t);
        }
        Some((run.key, job, cpu))
    }

    fn on_server(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, server: usize) {
        let Some(((client, rid), job, cpu)) = self.end_run(cx, server) else {
            return;
        };
        let started = Time(cx.now().0 - cpu.0);
        self.completed += 1;
        cx.count("dccompute.completed", 1);
        let out = DcComputeMsg::Output {
            rid,
            job: job.id,
            len: job.output,
            started,
            cpu: cpu.0,
        };
        if job.output > 0 {
            let id = cx.send_bulk(client, out);
            self.outputs.insert(id, (job.id, cpu));
        } else {
            cx.send(client, out);
        }
        self.next(cx, server);
    }

    fn on_drop(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, key: Key) {
        let Some(j) = self.jobs.get(&key) else {
            return;
        };
        cx.count("dccompute.deadline_drops", 1);
        match j.at {
            Where::Waiting { queue, seq } => {
                self.queues[queue].remove(&seq);
                self.waiting -= 1;
                self.jobs.remove(&key);
            }
            Where::Running { server } => {
                if let Some((_, job, cpu)) = self.end_run(cx, server) {
                    self.wasted(cx, job.id, cpu, Waste::Redundant);
                }
                self.next(cx, server);
            }
        }
    }

    fn on_message(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        from: NodeId,
        msg: DcComputeMsg,
    ) {
        match msg {
            DcComputeMsg::Submit {
                rid,
                job,
                work,
                input,
                output,
                deadline_in,
            } => {
                cx.count("dccompute.submits", 1);
                let key = (from, rid);
                if self.jobs.contains_key(&key) {
                    // A resubmission of a job held here: it is queued.
                    cx.count("dccompute.duplicate_submits", 1);
                    cx.send(from, DcComputeMsg::Accepted { rid, queued: true });
                } else if self.full() {
                    cx.count("dccompute.rejected", 1);
                    cx.send(from, DcComputeMsg::Rejected { rid });
                } else if input == 0 {
                    cx.send(from, DcComputeMsg::Accepted { rid, queued: true });
                    self.admit(cx, key, job, work, output, deadline_in);
                } else {
                    cx.send(from, DcComputeMsg::Accepted { rid, queued: false });
                }
            }
            DcComputeMsg::Input {
                rid,
                job,
                work,
                output,
                deadline_in,
                ..
            } => {
                let key = (from, rid);
                if self.jobs.contains_key(&key) {
                    cx.count("dccompute.duplicate_inputs", 1);
                } else if self.full() {
                    cx.count("dccompute.rejected", 1);
                    cx.send(from, DcComputeMsg::Rejected { rid });
                } else {
                    self.admit(cx, key, job, work, output, deadline_in);
                }
            }
            _ => cx.count("dccompute.unexpected_message", 1),
        }
    }

    fn on_transfer(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        id: TransferId,
        o: TransferOutcome,
    ) -> bool {
        let Some((job, cpu)) = self.outputs.remove(&id) else {
            return false;
        };
        match o {
            TransferOutcome::Completed { bytes, .. } => {
                cx.count("dccompute.output_bytes", bytes.0);
            }
            TransferOutcome::Failed { moved, .. } => {
                cx.count("dccompute.output_bytes", moved.0);
                cx.count("dccompute.output_failed", 1);
                self.wasted(cx, job, cpu, Waste::Churn);
            }
        }
        true
    }

    fn on_stop(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>) {
        // Running jobs: their CPU so far is spent and lost.
        for s in 0..self.servers.len() {
            if let Some((_, job, cpu)) = self.end_run(cx, s) {
                self.lost += 1;
                cx.count("dccompute.lost_running", 1);
                self.wasted(cx, job.id, cpu, Waste::Churn);
            }
        }
        // Waiting jobs: nothing spent.
        self.lost += self.waiting as u64;
        cx.count("dccompute.lost_waiting", self.waiting as u64);
        for q in &mut self.queues {
            q.clear();
        }
        self.jobs.clear();
        self.waiting = 0;
        // Outputs on their way: the transfers fail with the site.
        for (id, (job, cpu)) in std::mem::take(&mut self.outputs) {
            let moved = cx.transfer_moved(id).map_or(0, |b| b.0);
            cx.count("dccompute.output_bytes", moved);
            cx.count("dccompute.output_failed", 1);
            self.wasted(cx, job, cpu, Waste::Churn);
        }
    }
}

// ------------------------------------------------------------------ client

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the site's answer.
    Asking,
    /// Accepted: the input is moving, or the job is at the site.
    Accepted,
}

#[derive(Debug, Clone)]
struct Pending {
    job: Job,
    submitted: Time,
    attempts: u32,
    phase: Phase,
    timer: TimerId,
    deadline: Option<TimerId>,
    upload: Option<TransferId>,
    started: Option<Time>,
}

/// A client of the compute site.
#[derive(Debug, Clone)]
pub struct ComputeClient {
    /// The site's address.
    pub site: NodeId,
    /// Timeouts and retries.
    pub cfg: ComputeClientConfig,
    jobs: BTreeMap<u32, Pending>,
    uploads: BTreeMap<TransferId, u32>,
    /// Every transfer this client started and has not heard the end of
    /// (an upload stays here after its job has ended), so that a node
    /// stacking this client with other layers can tell its transfers.
    started: std::collections::BTreeSet<TransferId>,
    next_rid: u32,
    /// Where to append events (experiment side), if anywhere.
    pub log: Option<EventLog>,
    /// Record the `jobs` table.
    pub rows: bool,
}

impl ComputeClient {
    /// A client of `site`.
    pub fn new(site: NodeId, cfg: ComputeClientConfig) -> ComputeClient {
        ComputeClient {
            site,
            cfg,
            jobs: BTreeMap::new(),
            uploads: BTreeMap::new(),
            started: std::collections::BTreeSet::new(),
            next_rid: 0,
            log: None,
            rows: false,
        }
    }

    /// Jobs submitted and not yet ended.
    pub fn pending(&self) -> usize {
        self.jobs.len()
    }

    fn emit(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, e: Event) {
        if self.rows
            && let Some(r) = JobRow::of(cx.me().0, &e)
        {
            cx.record("jobs", &r);
        }
        if let Some(log) = &self.log {
            log.borrow_mut().push((cx.now(), cx.me(), e));
        }
    }

    /// The job's deadline, absolute.
    fn deadline_at(p: &Pending) -> Option<Time> {
        p.job.deadline.map(|d| p.submitted.saturating_add(d))
    }

    /// Time left to the deadline, as sent in `Submit` and `Input`.
    fn deadline_in(p: &Pending, now: Time) -> Option<u64> {
        Self::deadline_at(p).map(|t| t.since(now).0)
    }

    fn send_submit(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, rid: u32) {
        let p = &self.jobs[&rid];
        let msg = DcComputeMsg::Submit {
            rid,
            job: p.job.id,
            work: p.job.work.0,
            input: p.job.input,
            output: p.job.output,
            deadline_in: Self::deadline_in(p, cx.now()),
        };
        cx.send(self.site, msg);
    }

    fn command(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, c: Command) {
        let Command::Submit(job) = c;
        let rid = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1);
        let timer = cx.set_timer(self.cfg.attempt_timeout, DcComputeTimer::Phase { rid });
        let deadline = job
            .deadline
            .map(|d| cx.set_timer(d, DcComputeTimer::Deadline { rid }));
        self.jobs.insert(
            rid,
            Pending {
                job,
                submitted: cx.now(),
                attempts: 1,
                phase: Phase::Asking,
                timer,
                deadline,
                upload: None,
                started: None,
            },
        );
        self.send_submit(cx, rid);
    }

    /// End job `rid` (Ok: its output came back).
    fn finish(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        rid: u32,
        result: Result<(), JobFailure>,
    ) {
        let Some(p) = self.jobs.remove(&rid) else {
            return;
        };
        cx.cancel_timer(p.timer);
        if let Some(t) = p.deadline {
            cx.cancel_timer(t);
        }
        if let Some(u) = p.upload {
            self.uploads.remove(&u);
        }
        let e = Event::Done {
            job: p.job.id,
            submitted: p.submitted,
            started: p.started,
            ended: cx.now(),
            by: result.is_ok().then_some(self.site),
            attempts: p.attempts,
            result: result.map(|()| Answer::Right),
        };
        self.emit(cx, e);
    }

    /// The current attempt was silent (timeout, a failed upload, a
    /// restart): submit again, or give up.
    fn silent(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, rid: u32) {
        let Some(p) = self.jobs.get_mut(&rid) else {
            return;
        };
        cx.cancel_timer(p.timer);
        if let Some(u) = p.upload.take() {
            self.uploads.remove(&u);
        }
        if p.attempts > self.cfg.retries {
            self.finish(cx, rid, Err(JobFailure::Timeout));
            return;
        }
        cx.count("dccompute.retries", 1);
        p.attempts += 1;
        p.phase = Phase::Asking;
        p.timer = cx.set_timer(self.cfg.attempt_timeout, DcComputeTimer::Phase { rid });
        self.send_submit(cx, rid);
    }

    fn on_timer(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, t: DcComputeTimer) {
        match t {
            DcComputeTimer::Phase { rid } if self.jobs.contains_key(&rid) => {
                cx.count("dccompute.timeouts", 1);
                self.silent(cx, rid);
            }
            DcComputeTimer::Deadline { rid } if self.jobs.contains_key(&rid) => {
                cx.count("dccompute.deadline_missed", 1);
                self.finish(cx, rid, Err(JobFailure::Deadline));
            }
            _ => {}
        }
    }

    fn on_message(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        from: NodeId,
        msg: DcComputeMsg,
    ) {
        if from != self.site {
            cx.count("dccompute.unexpected_message", 1);
            return;
        }
        let phase_timeout = self.cfg.phase_timeout;
        match msg {
            DcComputeMsg::Accepted { rid, queued } => {
                let Some(p) = self.jobs.get_mut(&rid) else {
                    cx.count("dccompute.late_reply", 1);
                    return;
                };
                if p.phase != Phase::Asking {
                    cx.count("dccompute.late_reply", 1);
                    return;
                }
                cx.cancel_timer(p.timer);
                p.phase = Phase::Accepted;
                p.timer = cx.set_timer(
                    phase_timeout.saturating_add(p.job.work),
                    DcComputeTimer::Phase { rid },
                );
                if !queued {
                    let up = DcComputeMsg::Input {
                        rid,
                        job: p.job.id,
                        work: p.job.work.0,
                        output: p.job.output,
                        deadline_in: Self::deadline_in(p, cx.now()),
                        len: p.job.input,
                    };
                    let id = cx.send_bulk(self.site, up);
                    p.upload = Some(id);
                    self.uploads.insert(id, rid);
                    self.started.insert(id);
                }
            }
            DcComputeMsg::Rejected { rid } => {
                if self.jobs.contains_key(&rid) {
                    self.finish(cx, rid, Err(JobFailure::Rejected));
                } else {
                    cx.count("dccompute.late_reply", 1);
                }
            }
            DcComputeMsg::Running { rid, at, .. } => {
                if let Some(p) = self.jobs.get_mut(&rid) {
                    p.started = Some(p.started.map_or(at, |s| s.min(at)));
                }
            }
            DcComputeMsg::Output {
                rid,
                job,
                started,
                cpu,
                ..
            } => match self.jobs.get_mut(&rid) {
                Some(p) => {
                    p.started = Some(p.started.map_or(started, |s| s.min(started)));
                    self.finish(cx, rid, Ok(()));
                }
                None => {
                    // The job ended without it (deadline, timeout) or it is
                    // a resubmission's second run: the CPU went for nothing.
                    cx.count("dccompute.late_output", 1);
                    let e = Event::Wasted {
                        job,
                        cpu: Duration(cpu),
                        cause: Waste::Redundant,
                    };
                    self.emit(cx, e);
                }
            },
            _ => cx.count("dccompute.unexpected_message", 1),
        }
    }

    fn on_transfer(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        id: TransferId,
        o: TransferOutcome,
    ) -> bool {
        if !self.started.remove(&id) {
            return false;
        }
        let (delivered, bytes) = match o {
            TransferOutcome::Completed { bytes, .. } => (true, bytes.0),
            TransferOutcome::Failed { moved, .. } => (false, moved.0),
        };
        cx.count("dccompute.input_bytes", bytes);
        let Some(rid) = self.uploads.remove(&id) else {
            return true;
        };
        if let Some(p) = self.jobs.get_mut(&rid)
            && p.upload == Some(id)
        {
            p.upload = None;
            if !delivered {
                cx.count("dccompute.upload_failed", 1);
                self.silent(cx, rid);
            }
        }
        true
    }

    fn on_start(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>) {
        if cx.incarnation() == 0 {
            return;
        }
        // Back from a transient stop: the jobs on disk lost their timers.
        let now = cx.now();
        let rids: Vec<u32> = self.jobs.keys().copied().collect();
        for rid in rids {
            let p = self.jobs.get_mut(&rid).expect("listed");
            p.deadline = None;
            match Self::deadline_at(p) {
                Some(t) if t <= now => {
                    cx.count("dccompute.deadline_missed", 1);
                    self.finish(cx, rid, Err(JobFailure::Deadline));
                    continue;
                }
                Some(t) => {
                    p.deadline = Some(cx.set_timer(t.since(now), DcComputeTimer::Deadline { rid }));
                }
                None => {}
            }
            self.silent(cx, rid);
        }
    }

    fn on_stop(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, how: Stop) {
        self.started.clear();
        for (id, _) in std::mem::take(&mut self.uploads) {
            let moved = cx.transfer_moved(id).map_or(0, |b| b.0);
            cx.count("dccompute.input_bytes", moved);
        }
        for p in self.jobs.values_mut() {
            p.upload = None;
        }
        if how == Stop::Permanent {
            let lost = self.jobs.len() as u64;
            self.jobs.clear();
            cx.count("dccompute.lost_at_client_stop", lost);
        }
    }
}

// ------------------------------------------------------------------ node

/// A node of a compute-baseline simulation: the site or a client.
#[derive(Debug, Clone)]
pub enum DcComputeNode {
    /// The data-center site.
    Site(ComputeSite),
    /// A client.
    Client(ComputeClient),
}

sim_core::impl_node_for_layer!(DcComputeNode);

impl Layer for DcComputeNode {
    type Msg = DcComputeMsg;
    type Timer = DcComputeTimer;
    type Request = Command;

    fn start(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>) {
        if let DcComputeNode::Client(c) = self {
            c.on_start(cx);
        }
    }

    fn message(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        from: NodeId,
        msg: DcComputeMsg,
    ) {
        match self {
            DcComputeNode::Site(s) => s.on_message(cx, from, msg),
            DcComputeNode::Client(c) => c.on_message(cx, from, msg),
        }
    }

    fn timer(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        timer: DcComputeTimer,
    ) {
        match (self, timer) {
            (DcComputeNode::Site(s), DcComputeTimer::Server { server }) => {
                s.on_server(cx, server as usize);
            }
            (DcComputeNode::Site(s), DcComputeTimer::Drop { client, rid }) => {
                s.on_drop(cx, (client, rid));
            }
            (DcComputeNode::Client(c), t) => c.on_timer(cx, t),
            _ => {}
        }
    }

    fn request(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, req: Command) {
        match self {
            DcComputeNode::Client(c) => c.command(cx, req),
            DcComputeNode::Site(_) => cx.count("dccompute.request_at_site", 1),
        }
    }

    fn transfer(
        &mut self,
        cx: &mut impl Context<DcComputeMsg, DcComputeTimer>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool {
        match self {
            DcComputeNode::Site(s) => s.on_transfer(cx, id, outcome),
            DcComputeNode::Client(c) => c.on_transfer(cx, id, outcome),
        }
    }

    fn stop(&mut self, cx: &mut impl Context<DcComputeMsg, DcComputeTimer>, how: Stop) {
        match self {
            DcComputeNode::Site(s) => s.on_stop(cx),
            DcComputeNode::Client(c) => c.on_stop(cx, how),
        }
    }
}

impl DcComputeNode {
    /// The site, if this node is one.
    pub fn site(&self) -> Option<&ComputeSite> {
        match self {
            DcComputeNode::Site(s) => Some(s),
            DcComputeNode::Client(_) => None,
        }
    }
    /// The client, if this node is one.
    pub fn client(&self) -> Option<&ComputeClient> {
        match self {
            DcComputeNode::Client(c) => Some(c),
            DcComputeNode::Site(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::node::check_wire_size;

    #[test]
    fn wire_sizes_match_the_encoding() {
        for m in [
            DcComputeMsg::Submit {
                rid: 7,
                job: 1 << 40,
                work: 3_600_000_000_000,
                input: 1 << 20,
                output: 0,
                deadline_in: Some(86_400_000_000_000),
            },
            DcComputeMsg::Accepted {
                rid: 7,
                queued: true,
            },
            DcComputeMsg::Rejected { rid: 300 },
            DcComputeMsg::Input {
                rid: 7,
                job: 9,
                work: 1,
                output: 5,
                deadline_in: None,
                len: 1 << 20,
            },
            DcComputeMsg::Running {
                rid: 7,
                job: 9,
                at: Time(123_456_789),
            },
            DcComputeMsg::Output {
                rid: 7,
                job: 9,
                len: 1 << 30,
                started: Time(5),
                cpu: 99,
            },
        ] {
            check_wire_size(&m).unwrap();
        }
    }

    #[test]
    fn configurations_are_checked() {
        assert!(ComputeSiteConfig::default().validate().is_ok());
        for bad in [
            ComputeSiteConfig {
                servers: 0,
                ..ComputeSiteConfig::default()
            },
            ComputeSiteConfig {
                speed: 0,
                ..ComputeSiteConfig::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
        let loss = ComputeSiteConfig {
            queue_max: 0,
            ..ComputeSiteConfig::default()
        };
        assert!(loss.validate().is_ok());
    }

    #[test]
    fn classes_put_only_payloads_in_the_data_center_class() {
        let out = |len| DcComputeMsg::Output {
            rid: 0,
            job: 0,
            len,
            started: Time(0),
            cpu: 0,
        };
        assert_eq!(out(10).class(), class::DATACENTER);
        assert_eq!(out(0).class(), class::CONTROL);
        assert_eq!(DcComputeMsg::Rejected { rid: 0 }.class(), class::CONTROL);
    }
}
