//! A harness for tests and benchmarks: peers running [`JobsNode`] on the
//! engine's simple network, optional churn, Poisson job arrivals, and the
//! event log.
//!
//! ```
//! use jobs::harness::{Harness, Setup};
//! use jobs::{Job, Policy};
//! use sim_core::Duration;
//!
//! let mut s = Setup::new(20, 7);
//! s.cfg.policy = Policy::PowerOfD { d: 2 };
//! s.cfg.redundancy = 1;
//! s.cfg.quorum = 1;
//! let mut h = Harness::new(s).unwrap();
//! let job = Job {
//!     id: 1,
//!     work: Duration::from_secs(10),
//!     input: 1 << 20,
//!     output: 1 << 10,
//!     deadline: None,
//! };
//! h.submit(h.peers[0], job);
//! h.run_for(Duration::from_secs(60));
//! let done = h.done();
//! assert_eq!(done.len(), 1);
//! assert!(done[0].result.is_ok());
//! ```

use crate::config::Config;
use crate::job::{Answer, Command, Event, EventLog, Job, JobFailure, Waste};
use crate::node::JobsNode;
use crate::protocol::WorkerSpec;
use rand::RngExt;
use sim_core::churn::ChurnModel;
use sim_core::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

/// What to build.
pub struct Setup {
    /// Scheduler parameters.
    pub cfg: Config,
    /// Master seed.
    pub seed: u64,
    /// The network.
    pub net: SimpleNet,
    /// Peers driven by the churn model, if one is set (ids `0..`).
    pub peers: Vec<WorkerSpec>,
    /// Peers that never churn (ids after `peers`).
    pub stable: Vec<WorkerSpec>,
    /// Churn of `peers`.
    pub churn: Option<Box<dyn ChurnModel>>,
    /// Record the `jobs` table.
    pub rows: bool,
}

impl Setup {
    /// `n` reference workers (speed and share 1000, honest), no stable
    /// peers, no churn, the default configuration, and a network without
    /// latency whose transfers take a few nanoseconds (1 Tbit/s per
    /// transfer): the queueing models' instantaneous placement.
    pub fn new(n: usize, seed: u64) -> Setup {
        Setup {
            cfg: Config::default(),
            seed,
            net: SimpleNet::constant(
                Duration::ZERO,
                Rate::new(1_000_000_000_000).expect("positive"),
            ),
            peers: vec![WorkerSpec::REFERENCE; n],
            stable: Vec::new(),
            churn: None,
            rows: false,
        }
    }
}

/// The id the harness's arrivals give job `seq` of `submitter`: unique
/// over a run.
pub fn job_id(submitter: NodeId, seq: u64) -> u64 {
    (u64::from(submitter.0) << 32) | (seq & 0xffff_ffff)
}

/// An exponential duration of mean `mean` (at least 1 ns).
pub fn exponential<R: rand::Rng + ?Sized>(rng: &mut R, mean: Duration) -> Duration {
    let u: f64 = rng.random();
    let ns = (-(1.0 - u).ln() * mean.0 as f64).round().max(1.0);
    Duration(ns as u64)
}

/// Poisson job arrivals at each submitter: exponential gaps of mean
/// `mean_gap`, at most `per_submitter` jobs each, none after `until`.
/// `make(submitter, seq, rng)` draws a job from the submitter's workload
/// stream; the harness's [`job_id`] makes unique ids.
pub struct Arrivals<F> {
    /// Mean gap between two jobs of one submitter.
    pub mean_gap: Duration,
    /// Jobs per submitter at most (None: no limit).
    pub per_submitter: Option<u64>,
    /// No job after this time (None: no limit).
    pub until: Option<Time>,
    /// Draws a job.
    pub make: F,
    seqs: BTreeMap<NodeId, u64>,
}

impl<F: FnMut(NodeId, u64, &mut NodeRng) -> Job> Arrivals<F> {
    /// Arrivals with mean gap `mean_gap` per submitter, without limits.
    pub fn new(mean_gap: Duration, make: F) -> Arrivals<F> {
        Arrivals {
            mean_gap,
            per_submitter: None,
            until: None,
            make,
            seqs: BTreeMap::new(),
        }
    }
}

impl<F: FnMut(NodeId, u64, &mut NodeRng) -> Job> Workload<Command> for Arrivals<F> {
    fn next(
        &mut self,
        client: NodeId,
        now: Time,
        rng: &mut NodeRng,
    ) -> Option<(Duration, Command)> {
        let seq = self.seqs.entry(client).or_insert(0);
        if self.per_submitter.is_some_and(|n| *seq >= n) {
            return None;
        }
        let gap = exponential(rng, self.mean_gap);
        if self.until.is_some_and(|u| now.saturating_add(gap) > u) {
            return None;
        }
        let job = (self.make)(client, *seq, rng);
        *seq += 1;
        Some((gap, Command::Submit(job)))
    }
}

/// An ended job, from the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    /// Its submitter.
    pub node: NodeId,
    /// The job.
    pub job: u64,
    /// Submission.
    pub submitted: Time,
    /// First start known to the submitter.
    pub started: Option<Time>,
    /// Acceptance or failure.
    pub ended: Time,
    /// The worker whose result completed the quorum.
    pub by: Option<NodeId>,
    /// Copies issued.
    pub attempts: u32,
    /// The accepted answer or the failure.
    pub result: Result<Answer, JobFailure>,
}

/// CPU time wasted, by cause (sums of [`Event::Wasted`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wasted {
    /// Lost to machines going down.
    pub churn: Duration,
    /// Results not needed.
    pub redundant: Duration,
    /// Results not accepted.
    pub rejected: Duration,
}

/// Peers in one simulation.
pub struct Harness {
    /// The engine.
    pub sim: Sim<JobsNode>,
    /// Every event, in order.
    pub log: EventLog,
    /// Every peer (churned ones first, then stable ones): the list each
    /// peer knows.
    pub peers: Arc<Vec<NodeId>>,
    /// Peers driven by the churn model.
    pub churned: Vec<NodeId>,
    /// Peers that never churn.
    pub stable: Vec<NodeId>,
}

impl Harness {
    /// Build and start everything now.
    pub fn new(s: Setup) -> Result<Harness, SimError> {
        s.cfg.validate().map_err(|e| SimError::Config {
            field: "jobs config",
            reason: e.to_string(),
        })?;
        let total = s.peers.len() + s.stable.len();
        let peers: Arc<Vec<NodeId>> = Arc::new((0..total as u32).map(NodeId).collect());
        let cfg = Arc::new(s.cfg);
        let log: EventLog = Rc::new(RefCell::new(Vec::new()));
        let mut sim = Sim::new(SimConfig::new(s.seed, s.net));
        sim.reserve_nodes(total);
        if let Some(churn) = s.churn {
            sim.set_churn(churn)?;
        }
        let make = |me: NodeId, spec: WorkerSpec| {
            let mut node = JobsNode::new(cfg.clone(), me, spec, peers.clone());
            node.log = Some(log.clone());
            node.rows = s.rows;
            node
        };
        let mut churned = Vec::new();
        for (i, &spec) in s.peers.iter().enumerate() {
            churned.push(sim.add_node(make(NodeId(i as u32), spec)));
        }
        let mut stable = Vec::new();
        for (i, &spec) in s.stable.iter().enumerate() {
            let me = NodeId((s.peers.len() + i) as u32);
            stable.push(sim.add_stable_node(make(me, spec)));
        }
        // Start every peer.
        let now = sim.now();
        sim.run(RunLimits::until(now + Duration(1)))?;
        Ok(Harness {
            sim,
            log,
            peers,
            churned,
            stable,
        })
    }

    /// Submit `job` at `at` now. False if `at` is down (nothing happens).
    pub fn submit(&mut self, at: NodeId, job: Job) -> bool {
        self.sim
            .with_node(at, |node, cx| {
                node.on_request(cx, Command::Submit(job));
            })
            .is_some()
    }

    /// Add job arrivals at `submitters` (see [`Arrivals`]).
    pub fn add_arrivals<F>(
        &mut self,
        submitters: &[NodeId],
        arrivals: Arrivals<F>,
    ) -> Result<u16, SimError>
    where
        F: FnMut(NodeId, u64, &mut NodeRng) -> Job + 'static,
    {
        self.sim.add_workload(submitters, arrivals)
    }

    /// Run for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.sim.now() + d;
        self.sim.run(RunLimits::until(until)).expect("run");
    }

    /// Run in steps of `step` until no job is pending at any peer or
    /// `limit` is reached; returns whether none is pending.
    pub fn run_until_done(&mut self, step: Duration, limit: Time) -> bool {
        loop {
            if self.pending() == 0 {
                return true;
            }
            if self.sim.now() >= limit {
                return false;
            }
            let until = self.sim.now().saturating_add(step).min(limit);
            self.sim.run(RunLimits::until(until)).expect("run");
        }
    }

    /// Run in steps of `step` until [`Harness::settled`] or `limit`;
    /// returns whether it settled.
    pub fn run_until_settled(&mut self, step: Duration, limit: Time) -> bool {
        loop {
            if self.settled() {
                return true;
            }
            if self.sim.now() >= limit {
                return false;
            }
            let until = self.sim.now().saturating_add(step).min(limit);
            self.sim.run(RunLimits::until(until)).expect("run");
        }
    }

    /// No job pending anywhere, and no worker holding a copy or a result
    /// (the nodes' state, down ones included: what a down worker holds
    /// runs or is dropped when it returns).
    pub fn settled(&self) -> bool {
        self.sim.nodes().iter().all(|n| {
            n.jobs.pending() == 0
                && n.jobs.queued() == 0
                && !n.jobs.running()
                && n.jobs.undelivered() == 0
        })
    }

    /// Jobs pending at all submitters.
    pub fn pending(&self) -> usize {
        self.sim.nodes().iter().map(|n| n.jobs.pending()).sum()
    }

    /// Every ended job, in order.
    pub fn done(&self) -> Vec<Done> {
        self.log
            .borrow()
            .iter()
            .filter_map(|(_, node, e)| match e {
                Event::Done {
                    job,
                    submitted,
                    started,
                    ended,
                    by,
                    attempts,
                    result,
                } => Some(Done {
                    node: *node,
                    job: *job,
                    submitted: *submitted,
                    started: *started,
                    ended: *ended,
                    by: *by,
                    attempts: *attempts,
                    result: *result,
                }),
                Event::Wasted { .. } => None,
            })
            .collect()
    }

    /// CPU time wasted so far, by cause.
    pub fn wasted(&self) -> Wasted {
        let mut w = Wasted::default();
        for (_, _, e) in self.log.borrow().iter() {
            if let Event::Wasted { cpu, cause, .. } = e {
                let slot = match cause {
                    Waste::Churn => &mut w.churn,
                    Waste::Redundant => &mut w.redundant,
                    Waste::Rejected => &mut w.rejected,
                };
                *slot = slot.saturating_add(*cpu);
            }
        }
        w
    }

    /// CPU time all workers have spent running copies up to now.
    pub fn busy_cpu(&self) -> Duration {
        let now = self.sim.now();
        self.sim
            .nodes()
            .iter()
            .fold(Duration::ZERO, |a, n| a.saturating_add(n.busy_cpu(now)))
    }
}
