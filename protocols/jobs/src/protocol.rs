//! The scheduler state machine of one peer, sans-IO.
//!
//! # Drive loop
//! Feed one [`Input`] with [`Jobs::handle`] (the current time and the
//! peer's random stream beside it), then drain [`Jobs::poll_output`]: send
//! [`Output::Send`] as a datagram and [`Output::SendBulk`] as a bulk
//! transfer (report its end with [`Input::BulkDone`]), (re)arm
//! [`Output::SetTimer`] (one deadline per named [`Timer`]; a timer may fire
//! after its reason is gone, the machine checks), hand [`Output::Event`] to
//! the experiment and add [`Output::Count`] to a counter.
//!
//! # Roles
//! Every peer is a **submitter** (it takes [`Command::Submit`] from the
//! workload) and, unless its [`WorkerSpec`] gives no CPU, a **worker**.
//!
//! A submitter issues `redundancy` copies of each job, each on a worker
//! that never held a copy of that job, placed by the [`Policy`]. A copy's
//! input goes from the submitter to its worker as a bulk transfer; the
//! worker queues it (first come, first served), runs it alone at its
//! `share` of its CPU, and sends the result back as a bulk transfer.
//!
//! **Validation.** The submitter accepts the first answer that `quorum`
//! results agree on ([`Answer`] equality): it reports [`Event::Done`] with
//! that answer and the worker whose result completed the quorum, cancels
//! the copies still out ([`Msg::Cancel`]) and reports every earlier result
//! with another answer as [`Waste::Rejected`]. With `quorum ≤
//! redundancy / 2` a quorum is not a majority: two answers could each
//! reach it, and the first to do so wins. When every issued copy has
//! returned without a quorum, it issues `quorum − (largest group of equal
//! answers)` more copies, up to `max_copies` results in all, then fails the
//! job with [`JobFailure::NoQuorum`] (every result it got is then
//! rejected work). Results that arrive after the job ended are
//! [`Waste::Redundant`] at the submitter.
//!
//! **Losses.** Every `heartbeat` a submitter pings the workers of its
//! placed copies; a worker silent for `rpc_timeout` is presumed lost, and
//! so is a copy whose input transfer fails or that its worker refuses. A
//! lost copy is re-issued as a new copy on another worker (each issue,
//! re-issues included, counts as an attempt, up to `max_attempts`, then the
//! job fails with [`JobFailure::Timeout`]). A presumed-lost worker that
//! comes back with the copy still runs it, and its result counts as a vote
//! if the job is still open. A job with a deadline that is not accepted by
//! `submitted + deadline` fails with [`JobFailure::Deadline`]; workers do
//! not start (or resume) a copy past its deadline.
//!
//! **Churn.** A worker going down transiently loses the progress of its
//! running copy since its last checkpoint (`checkpoint` of running time;
//! all of it without checkpoints), reported as [`Waste::Churn`] at the
//! worker; it keeps its queue, its checkpoints and its undelivered results
//! (its disk) and resumes on return. A permanent departure loses all of
//! them: the running copy's whole progress and every undelivered result are
//! churn waste. A worker retries a failed result delivery every heartbeat,
//! `result_retries` times, then drops the result (churn waste: its
//! submitter is down or gone).
//!
//! A submitter going down transiently keeps its pending jobs (on disk, as
//! a real client would): their deadlines keep running, copies whose
//! placement was in flight are lost and re-issued on return, and results
//! that could not reach it are retried by their workers. A permanent
//! departure abandons its pending jobs: nobody is left to report them, so
//! they get no [`Event::Done`]; they are counted in `jobs.abandoned`, and
//! the results it had collected for them are churn waste.
//!
//! **CPU time.** Everything is CPU time of the machine that spent it: wall
//! time running × `share` / 1000 ([`WorkerSpec::cpu`]). A result carries
//! the CPU time of one uninterrupted run of its copy; work lost to churn is
//! reported apart, so that for every worker the CPU it spent running
//! ([`Jobs::busy_cpu`]) is the sum of its results' CPU, its churn waste,
//! its aborted runs and the progress of the copy it is running (up to
//! rounding to the nanosecond).

use crate::config::{Config, Policy};
use crate::job::{Answer, Command, Event, Fault, Job, JobFailure, Waste, answer_of, run_time};
use crate::message::{CopyKey, Msg};
use rand::{Rng, RngExt};
use sim_core::{Duration, NodeId, Stop, Time};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// Entries of the pool or the queue scanned at most to answer one request
/// for work.
pub const SCAN_MAX: usize = 256;

/// Random draws tried before a linear scan picks an eligible peer.
const DRAWS_MAX: usize = 32;

/// The named timers. One deadline each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Pings to the workers of placed copies; retries of undelivered
    /// results.
    Heartbeat,
    /// The earliest timeout of a probe, ping or work request.
    Rpc,
    /// The earliest job deadline.
    Deadline,
    /// The running copy ends.
    Run,
    /// The next round of work requests of an idle worker.
    Idle,
}

impl Timer {
    /// Number of timers.
    pub const COUNT: usize = 5;
    /// Index into a per-timer table.
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What a peer gives as a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSpec {
    /// Speed in thousandths of the reference machine (1000: the reference).
    pub speed: u32,
    /// Share of its CPU given to jobs, in thousandths (0: it runs no jobs,
    /// a pure submitter).
    pub share: u32,
    /// How it answers.
    pub fault: Fault,
}

impl WorkerSpec {
    /// The reference machine, giving its whole CPU, honest.
    pub const REFERENCE: WorkerSpec = WorkerSpec {
        speed: 1000,
        share: 1000,
        fault: Fault::Honest,
    };
    /// A peer that runs no jobs.
    pub const NONE: WorkerSpec = WorkerSpec {
        speed: 1000,
        share: 0,
        fault: Fault::Honest,
    };
    /// Whether it runs jobs (speed and share both positive).
    pub fn works(&self) -> bool {
        self.speed > 0 && self.share > 0
    }
    /// CPU time of `wall` time running: `wall × share / 1000`, rounded
    /// down to the nanosecond.
    pub fn cpu(&self, wall: Duration) -> Duration {
        let ns = u128::from(wall.0) * u128::from(self.share) / 1000;
        Duration(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

/// Identifies a bulk transfer to its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    /// A copy's input, from its submitter.
    Input {
        /// The copy.
        key: CopyKey,
        /// The worker.
        to: NodeId,
    },
    /// A copy's result, from its worker.
    Output {
        /// The copy.
        key: CopyKey,
    },
}

/// Everything that drives the machine.
#[derive(Debug, Clone)]
pub enum Input {
    /// The peer (re)starts.
    Start,
    /// The peer stops.
    Stop(Stop),
    /// A message arrived (a datagram, or a bulk transfer's last byte).
    Message {
        /// Sender.
        from: NodeId,
        /// The message.
        msg: Msg,
    },
    /// A named timer fired.
    Timer(Timer),
    /// A request from the workload.
    Command(Command),
    /// A bulk transfer this peer started has ended.
    BulkDone {
        /// What it was.
        bulk: Bulk,
        /// All bytes arrived.
        delivered: bool,
    },
}

/// What the machine asks of its driver.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send a datagram.
    Send {
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: Msg,
    },
    /// Start a bulk transfer; report its end with [`Input::BulkDone`].
    SendBulk {
        /// Receiver.
        to: NodeId,
        /// The message.
        msg: Msg,
        /// What to report back.
        bulk: Bulk,
    },
    /// Fire `timer` at `at` (replacing its pending deadline).
    SetTimer {
        /// Which.
        timer: Timer,
        /// When.
        at: Time,
    },
    /// Something to report.
    Event(Event),
    /// Add to a counter.
    Count(&'static str, u64),
}

/// Where a copy is, as its submitter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyState {
    /// In the pool, waiting for a worker to ask (pull).
    Unassigned,
    /// Asking candidates for their load (power of d).
    Probing,
    /// Its input is on its way to the worker.
    Sending,
    /// At the worker: queued, running, or its result on the way back.
    Placed,
    /// Presumed lost; a result may still come from its worker.
    Lost,
    /// Its result arrived.
    Returned,
}

impl CopyState {
    fn outstanding(self) -> bool {
        matches!(
            self,
            CopyState::Unassigned | CopyState::Probing | CopyState::Sending | CopyState::Placed
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct CopySlot {
    worker: Option<NodeId>,
    state: CopyState,
}

#[derive(Debug, Clone, Copy)]
struct Vote {
    answer: Answer,
    cpu: Duration,
}

/// A job at its submitter.
#[derive(Debug, Clone)]
struct Pending {
    job: Job,
    /// Submission order at this submitter (the pool's order).
    order: u64,
    submitted: Time,
    started: Option<Time>,
    deadline_at: Option<Time>,
    /// Results wanted.
    target: u16,
    /// Every copy issued, by number.
    copies: Vec<CopySlot>,
    votes: Vec<Vote>,
    /// Every worker that held a copy (no worker gets two).
    held: Vec<NodeId>,
}

/// A copy at its worker.
#[derive(Debug, Clone, Copy)]
struct Task {
    key: CopyKey,
    submitter: NodeId,
    output: u64,
    deadline: Option<Time>,
    /// Running time this machine needs for it.
    need: Duration,
    /// Running time saved by checkpoints.
    done: Duration,
    first_start: Option<Time>,
}

#[derive(Debug, Clone, Copy)]
struct Running {
    task: Task,
    /// Start of the current run segment.
    since: Time,
}

impl Running {
    fn end(&self) -> Time {
        self.since
            .saturating_add(Duration(self.task.need.0.saturating_sub(self.task.done.0)))
    }
}

/// A finished result not yet delivered.
#[derive(Debug, Clone, Copy)]
struct Outgoing {
    submitter: NodeId,
    answer: Answer,
    cpu: Duration,
    started: Time,
    output: u64,
    failures: u32,
    sending: bool,
}

#[derive(Debug, Clone)]
enum Rpc {
    Probe {
        key: CopyKey,
        /// Candidates in the order asked, with their answers.
        asked: Vec<(NodeId, Option<u32>)>,
        deadline: Time,
    },
    Ping {
        worker: NodeId,
        deadline: Time,
    },
    Ask {
        deadline: Time,
    },
}

impl Rpc {
    fn deadline(&self) -> Time {
        match self {
            Rpc::Probe { deadline, .. } | Rpc::Ping { deadline, .. } | Rpc::Ask { deadline } => {
                *deadline
            }
        }
    }
}

/// The scheduler machine of one peer (see the module docs).
#[derive(Debug, Clone)]
pub struct Jobs {
    cfg: Arc<Config>,
    me: NodeId,
    spec: WorkerSpec,
    peers: Arc<Vec<NodeId>>,
    up: bool,
    out: VecDeque<Output>,
    armed: [Option<Time>; Timer::COUNT],
    next_rid: u32,
    rpcs: BTreeMap<u32, Rpc>,
    rpc_deadlines: BTreeSet<(Time, u32)>,
    // ---- submitter
    pending: BTreeMap<u64, Pending>,
    deadlines: BTreeSet<(Time, u64)>,
    /// Unassigned copies (pull), oldest job first: (order, copy) → job.
    pool: BTreeMap<(u64, u32), u64>,
    next_order: u64,
    /// Workers with a ping in flight.
    pinged: BTreeSet<NodeId>,
    // ---- worker
    queue: VecDeque<Task>,
    running: Option<Running>,
    outbox: BTreeMap<CopyKey, Outgoing>,
    /// Wall time spent running, finished segments.
    busy_wall: Duration,
    /// The work request in flight, if any.
    asking: Option<u32>,
    /// Peers asked in the current round.
    round: u32,
}

impl Jobs {
    /// The machine of peer `me`, which works as `spec` and knows `peers`
    /// (every peer of the run, itself included; some may be down).
    pub fn new(cfg: Arc<Config>, me: NodeId, spec: WorkerSpec, peers: Arc<Vec<NodeId>>) -> Jobs {
        Jobs {
            cfg,
            me,
            spec,
            peers,
            up: false,
            out: VecDeque::new(),
            armed: [None; Timer::COUNT],
            next_rid: 1,
            rpcs: BTreeMap::new(),
            rpc_deadlines: BTreeSet::new(),
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            pool: BTreeMap::new(),
            next_order: 0,
            pinged: BTreeSet::new(),
            queue: VecDeque::new(),
            running: None,
            outbox: BTreeMap::new(),
            busy_wall: Duration::ZERO,
            asking: None,
            round: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }
    /// This peer.
    pub fn me(&self) -> NodeId {
        self.me
    }
    /// What this peer gives as a worker.
    pub fn spec(&self) -> WorkerSpec {
        self.spec
    }
    /// Copies waiting in this worker's queue (the running one excluded).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
    /// Whether this worker is running a copy.
    pub fn running(&self) -> bool {
        self.running.is_some()
    }
    /// CPU time this worker has spent running copies, the running one's
    /// progress up to `now` included (wall time × share / 1000).
    pub fn busy_cpu(&self, now: Time) -> Duration {
        let current = self.running.as_ref().map_or(Duration::ZERO, |r| {
            if self.up {
                now.since(r.since)
            } else {
                Duration::ZERO
            }
        });
        self.spec.cpu(self.busy_wall.saturating_add(current))
    }
    /// Jobs pending at this submitter.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
    /// Unassigned copies in this submitter's pool (pull).
    pub fn pooled(&self) -> usize {
        self.pool.len()
    }
    /// Finished results this worker has not delivered yet.
    pub fn undelivered(&self) -> usize {
        self.outbox.len()
    }
    /// Next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Feed one input.
    pub fn handle<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, input: Input) {
        match input {
            Input::Start => self.start(now, rng),
            Input::Stop(how) => self.stop(now, how),
            _ if !self.up => {}
            Input::Message { from, msg } => self.on_message(now, rng, from, msg),
            Input::Timer(t) => {
                self.armed[t.index()] = None;
                self.on_timer(now, rng, t);
            }
            Input::Command(Command::Submit(job)) => self.submit(now, rng, job),
            Input::BulkDone { bulk, delivered } => self.on_bulk_done(now, rng, bulk, delivered),
        }
        self.arm(now);
    }

    // ------------------------------------------------------------ helpers

    fn count(&mut self, name: &'static str, n: u64) {
        self.out.push_back(Output::Count(name, n));
    }
    fn send(&mut self, to: NodeId, msg: Msg) {
        self.out.push_back(Output::Send { to, msg });
    }
    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }
    fn waste(&mut self, job: u64, cpu: Duration, cause: Waste) {
        if cpu.0 > 0 {
            self.event(Event::Wasted { job, cpu, cause });
        }
    }
    fn set_timer(&mut self, timer: Timer, at: Time) {
        self.armed[timer.index()] = Some(at);
        self.out.push_back(Output::SetTimer { timer, at });
    }
    fn rid(&mut self) -> u32 {
        let r = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1).max(1);
        r
    }
    fn add_rpc(&mut self, rid: u32, rpc: Rpc) {
        self.rpc_deadlines.insert((rpc.deadline(), rid));
        self.rpcs.insert(rid, rpc);
    }
    fn take_rpc(&mut self, rid: u32) -> Option<Rpc> {
        let rpc = self.rpcs.remove(&rid)?;
        self.rpc_deadlines.remove(&(rpc.deadline(), rid));
        Some(rpc)
    }
    fn busy(&self) -> bool {
        self.running.is_some() || !self.queue.is_empty()
    }
    /// Jobs at this worker: queued plus running (what a probe answers).
    fn load(&self) -> u32 {
        if !self.spec.works() {
            return u32::MAX;
        }
        let n = self.queue.len() + usize::from(self.running.is_some());
        u32::try_from(n).unwrap_or(u32::MAX - 1)
    }
    fn pulls(&self) -> bool {
        matches!(self.cfg.policy, Policy::WorkStealing | Policy::Pull)
    }

    /// Re-arm the timers computed from state.
    fn arm(&mut self, now: Time) {
        if !self.up {
            return;
        }
        let wants = [
            (Timer::Rpc, self.rpc_deadlines.first().map(|(t, _)| *t)),
            (Timer::Deadline, self.deadlines.first().map(|(t, _)| *t)),
            (Timer::Run, self.running.as_ref().map(Running::end)),
        ];
        for (timer, want) in wants {
            if let Some(at) = want {
                let at = at.max(now);
                if self.armed[timer.index()] != Some(at) {
                    self.set_timer(timer, at);
                }
            }
        }
    }

    /// A peer drawn uniformly among those `ok` accepts (random draws, then
    /// a scan from a random point when most are excluded).
    fn pick<R: Rng + ?Sized>(&self, rng: &mut R, ok: impl Fn(NodeId) -> bool) -> Option<NodeId> {
        let n = self.peers.len();
        if n == 0 {
            return None;
        }
        for _ in 0..DRAWS_MAX {
            let c = self.peers[rng.random_range(0..n)];
            if ok(c) {
                return Some(c);
            }
        }
        let start = rng.random_range(0..n);
        (0..n).map(|i| self.peers[(start + i) % n]).find(|&c| ok(c))
    }

    /// Up to `d` distinct peers that `ok` accepts, in the order drawn.
    fn pick_distinct<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        d: usize,
        ok: impl Fn(NodeId) -> bool,
    ) -> Vec<NodeId> {
        let n = self.peers.len();
        let mut got: Vec<NodeId> = Vec::with_capacity(d.min(n));
        if n == 0 {
            return got;
        }
        let mut draws = 0;
        while got.len() < d && draws < DRAWS_MAX + 8 * d {
            draws += 1;
            let c = self.peers[rng.random_range(0..n)];
            if ok(c) && !got.contains(&c) {
                got.push(c);
            }
        }
        if got.len() < d {
            let start = rng.random_range(0..n);
            for i in 0..n {
                let c = self.peers[(start + i) % n];
                if got.len() >= d {
                    break;
                }
                if ok(c) && !got.contains(&c) {
                    got.push(c);
                }
            }
        }
        got
    }

    // ------------------------------------------------------------ lifecycle

    fn start<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        self.up = true;
        self.armed = [None; Timer::COUNT];
        // Worker: resend undelivered results, resume the queue.
        let keys: Vec<CopyKey> = self.outbox.keys().copied().collect();
        for key in keys {
            self.send_output(key);
        }
        self.start_next(now);
        // Submitter: re-issue what the stop lost; deadlines fire from `arm`.
        let ids: Vec<u64> = self.pending.keys().copied().collect();
        for id in ids {
            self.maintain(now, rng, id);
        }
        // A random phase, so that peers started together do not ping
        // together.
        let hb = self.cfg.heartbeat.0.max(1);
        self.set_timer(Timer::Heartbeat, now + Duration(rng.random_range(0..hb)));
        self.round = 0;
        self.seek_work(now, rng);
    }

    /// The peer stops; a permanent departure may also come while it is
    /// already down (it then loses its disk where it is).
    fn stop(&mut self, now: Time, how: Stop) {
        if self.up {
            self.up = false;
            self.stop_running(now, how);
            for o in self.outbox.values_mut() {
                o.sending = false;
            }
            self.asking = None;
            self.round = 0;
            // Submitter: exchanges in flight are forgotten; copies being
            // placed are lost (the transfers fail with the stop).
            self.rpcs.clear();
            self.rpc_deadlines.clear();
            self.pinged.clear();
            for p in self.pending.values_mut() {
                for c in &mut p.copies {
                    if matches!(c.state, CopyState::Probing | CopyState::Sending) {
                        c.state = CopyState::Lost;
                    }
                }
            }
        }
        if how == Stop::Permanent {
            self.lose_disk();
        }
    }

    /// The running copy stops: it loses its progress since the last
    /// checkpoint (all of it on a departure) and, on a transient stop,
    /// goes back to the head of the queue.
    fn stop_running(&mut self, now: Time, how: Stop) {
        let Some(r) = self.running.take() else {
            return;
        };
        let seg = now.since(r.since);
        self.busy_wall = self.busy_wall.saturating_add(seg);
        let mut task = r.task;
        let progress = task.done.saturating_add(seg);
        self.count("jobs.churn_losses", 1);
        match how {
            Stop::Transient => {
                let kept = match self.cfg.checkpoint {
                    Some(c) => Duration(progress.0 / c.0 * c.0),
                    None => Duration::ZERO,
                };
                self.waste(
                    task.key.job,
                    self.spec.cpu(Duration(progress.0 - kept.0)),
                    Waste::Churn,
                );
                task.done = kept;
                self.queue.push_front(task);
            }
            Stop::Permanent => {
                self.waste(task.key.job, self.spec.cpu(progress), Waste::Churn);
            }
        }
    }

    /// A departure: the disk is lost, with the checkpoints of queued
    /// copies, the undelivered results and, at a submitter, its pending
    /// jobs (abandoned: nobody is left to report them) and the results it
    /// had collected for them. All of that CPU is churn waste.
    fn lose_disk(&mut self) {
        let mut lost: Vec<(u64, Duration)> = Vec::new();
        for t in &self.queue {
            if t.done.0 > 0 {
                lost.push((t.key.job, self.spec.cpu(t.done)));
            }
        }
        for (k, o) in &self.outbox {
            lost.push((k.job, o.cpu));
        }
        self.count("jobs.results_lost", self.outbox.len() as u64);
        for (id, p) in &self.pending {
            for v in &p.votes {
                lost.push((*id, v.cpu));
            }
        }
        for (job, cpu) in lost {
            self.waste(job, cpu, Waste::Churn);
        }
        let n = self.pending.len() as u64;
        if n > 0 {
            self.count("jobs.abandoned", n);
        }
        self.queue.clear();
        self.outbox.clear();
        self.pending.clear();
        self.pool.clear();
        self.deadlines.clear();
    }

    // ------------------------------------------------------------ submitter

    fn submit<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, job: Job) {
        self.count("jobs.submitted", 1);
        let full = self.pending.len() >= self.cfg.pending_max as usize;
        if full || self.pending.contains_key(&job.id) {
            self.count(
                if full {
                    "jobs.rejected_full"
                } else {
                    "jobs.rejected_duplicate"
                },
                1,
            );
            self.event(Event::Done {
                job: job.id,
                submitted: now,
                started: None,
                ended: now,
                by: None,
                attempts: 0,
                result: Err(JobFailure::Rejected),
            });
            return;
        }
        let deadline_at = job.deadline.map(|d| now.saturating_add(d));
        if let Some(t) = deadline_at {
            self.deadlines.insert((t, job.id));
        }
        let order = self.next_order;
        self.next_order += 1;
        self.pending.insert(
            job.id,
            Pending {
                job,
                order,
                submitted: now,
                started: None,
                deadline_at,
                target: self.cfg.redundancy,
                copies: Vec::new(),
                votes: Vec::new(),
                held: Vec::new(),
            },
        );
        self.maintain(now, rng, job.id);
    }

    /// Issue copies until the results wanted are covered by results and
    /// copies still out; fail the job when the attempts are used up and
    /// nothing is out. Bounded: every turn issues a copy, at most
    /// `max_attempts` in all.
    fn maintain<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, id: u64) {
        loop {
            let Some(p) = self.pending.get(&id) else {
                return;
            };
            let out = p.copies.iter().filter(|c| c.state.outstanding()).count();
            if out + p.votes.len() >= usize::from(p.target) {
                return;
            }
            if p.copies.len() as u64 >= u64::from(self.cfg.max_attempts) {
                if out == 0 {
                    self.end(now, id, Err(JobFailure::Timeout), None);
                }
                return;
            }
            self.issue(now, rng, id);
        }
    }

    fn issue<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, id: u64) {
        let Some(p) = self.pending.get_mut(&id) else {
            return;
        };
        let copy = p.copies.len() as u32;
        p.copies.push(CopySlot {
            worker: None,
            state: CopyState::Unassigned,
        });
        let order = p.order;
        let holds_one = p.held.contains(&self.me);
        self.count("jobs.copies_issued", 1);
        let key = CopyKey { job: id, copy };
        match self.cfg.policy {
            Policy::Random => self.place_random(now, rng, key),
            Policy::PowerOfD { d } => self.probe(now, rng, key, d as usize),
            Policy::WorkStealing => {
                if self.spec.works() && !holds_one {
                    self.place_local(now, key);
                } else {
                    self.place_random(now, rng, key);
                }
            }
            Policy::Pull => {
                self.pool.insert((order, copy), id);
                self.seek_work(now, rng);
            }
        }
    }

    fn slot(&mut self, key: CopyKey) -> Option<&mut CopySlot> {
        self.pending
            .get_mut(&key.job)?
            .copies
            .get_mut(key.copy as usize)
    }

    /// The copy is lost (the caller re-issues with `maintain`).
    fn lose(&mut self, key: CopyKey) {
        let Some(p) = self.pending.get_mut(&key.job) else {
            return;
        };
        let order = p.order;
        let Some(c) = p.copies.get_mut(key.copy as usize) else {
            return;
        };
        if !c.state.outstanding() {
            return;
        }
        if c.state == CopyState::Unassigned {
            self.pool.remove(&(order, key.copy));
        }
        c.state = CopyState::Lost;
        self.count("jobs.copies_lost", 1);
    }

    fn place_random<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, key: CopyKey) {
        let Some(p) = self.pending.get(&key.job) else {
            return;
        };
        let held = &p.held;
        let pick = self.pick(rng, |n| !held.contains(&n));
        match pick {
            None => self.lose(key),
            Some(w) if w == self.me => {
                self.place_local(now, key);
            }
            Some(w) => self.send_input(key, w),
        }
    }

    /// Start the transfer of a copy's input to worker `w`.
    fn send_input(&mut self, key: CopyKey, w: NodeId) {
        let Some(p) = self.pending.get_mut(&key.job) else {
            return;
        };
        if !p.held.contains(&w) {
            p.held.push(w);
        }
        let job = p.job;
        let deadline = p.deadline_at;
        let c = &mut p.copies[key.copy as usize];
        c.worker = Some(w);
        c.state = CopyState::Sending;
        self.count("jobs.inputs_sent", 1);
        self.out.push_back(Output::SendBulk {
            to: w,
            msg: Msg::Input {
                key,
                work_ns: job.work.0,
                input: job.input,
                output: job.output,
                deadline,
            },
            bulk: Bulk::Input { key, to: w },
        });
    }

    /// Queue a copy of this submitter's job at its own worker. False (and
    /// the copy lost) if this peer does not work or its queue is full.
    fn place_local(&mut self, now: Time, key: CopyKey) -> bool {
        let me = self.me;
        let room = self.spec.works() && self.queue.len() < self.cfg.queue_max as usize;
        let Some(p) = self.pending.get_mut(&key.job) else {
            return false;
        };
        if !p.held.contains(&me) {
            p.held.push(me);
        }
        if !room {
            self.count("jobs.refused", 1);
            self.lose(key);
            return false;
        }
        let job = p.job;
        let task = Task {
            key,
            submitter: me,
            output: job.output,
            deadline: p.deadline_at,
            need: run_time(job.work, self.spec.speed, self.spec.share),
            done: Duration::ZERO,
            first_start: None,
        };
        let c = &mut p.copies[key.copy as usize];
        c.worker = Some(me);
        c.state = CopyState::Placed;
        self.count("jobs.placed_local", 1);
        self.queue.push_back(task);
        self.start_next(now);
        true
    }

    fn probe<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, key: CopyKey, d: usize) {
        let Some(p) = self.pending.get(&key.job) else {
            return;
        };
        let held = &p.held;
        let cands = self.pick_distinct(rng, d, |n| !held.contains(&n));
        if cands.is_empty() {
            self.lose(key);
            return;
        }
        if let Some(c) = self.slot(key) {
            c.state = CopyState::Probing;
        }
        let rid = self.rid();
        let mut asked = Vec::with_capacity(cands.len());
        for &n in &cands {
            if n == self.me {
                asked.push((n, Some(self.load())));
            } else {
                self.count("jobs.probes", 1);
                self.send(n, Msg::Probe { rid });
                asked.push((n, None));
            }
        }
        let complete = asked.iter().all(|(_, q)| q.is_some());
        self.add_rpc(
            rid,
            Rpc::Probe {
                key,
                asked,
                deadline: now.saturating_add(self.cfg.rpc_timeout),
            },
        );
        if complete {
            self.resolve_probe(now, rng, rid);
        }
    }

    fn on_load<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        rng: &mut R,
        from: NodeId,
        rid: u32,
        queue: u32,
    ) {
        let Some(Rpc::Probe { asked, .. }) = self.rpcs.get_mut(&rid) else {
            return;
        };
        let Some(slot) = asked.iter_mut().find(|(n, q)| *n == from && q.is_none()) else {
            return;
        };
        slot.1 = Some(queue);
        if asked.iter().all(|(_, q)| q.is_some()) {
            self.resolve_probe(now, rng, rid);
        }
    }

    /// Place a probed copy on the least loaded candidate that answered
    /// (ties: the first asked).
    fn resolve_probe<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, rid: u32) {
        let Some(Rpc::Probe { key, asked, .. }) = self.take_rpc(rid) else {
            return;
        };
        let Some(p) = self.pending.get(&key.job) else {
            return;
        };
        if p.copies[key.copy as usize].state != CopyState::Probing {
            return;
        }
        let best = asked
            .iter()
            .filter(|(n, q)| q.is_some_and(|q| q != u32::MAX) && !p.held.contains(n))
            .min_by_key(|(_, q)| q.unwrap_or(u32::MAX))
            .map(|(n, _)| *n);
        match best {
            None => {
                self.count("jobs.probe_rounds_failed", 1);
                self.lose(key);
            }
            Some(w) if w == self.me => {
                self.place_local(now, key);
            }
            Some(w) => self.send_input(key, w),
        }
        self.maintain(now, rng, key.job);
    }

    fn on_bulk_done<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        rng: &mut R,
        bulk: Bulk,
        delivered: bool,
    ) {
        match bulk {
            Bulk::Input { key, to } => {
                let ours = self.pending.get(&key.job).is_some_and(|p| {
                    let c = p.copies[key.copy as usize];
                    c.state == CopyState::Sending && c.worker == Some(to)
                });
                if !ours {
                    // The job ended (or the copy was given up) meanwhile.
                    if delivered {
                        self.count("jobs.cancels_sent", 1);
                        self.send(to, Msg::Cancel { key });
                    }
                    return;
                }
                if delivered {
                    let bytes = self.pending.get(&key.job).map_or(0, |p| p.job.input);
                    self.count("jobs.input_bytes", bytes);
                    if let Some(c) = self.slot(key) {
                        c.state = CopyState::Placed;
                    }
                } else {
                    self.count("jobs.inputs_failed", 1);
                    self.lose(key);
                    self.maintain(now, rng, key.job);
                }
            }
            Bulk::Output { key } => {
                let Some(o) = self.outbox.get_mut(&key) else {
                    return;
                };
                if delivered {
                    let bytes = o.output;
                    self.outbox.remove(&key);
                    self.count("jobs.output_bytes", bytes);
                    return;
                }
                o.sending = false;
                o.failures += 1;
                if o.failures > self.cfg.result_retries {
                    let cpu = o.cpu;
                    self.outbox.remove(&key);
                    self.count("jobs.results_dropped", 1);
                    self.waste(key.job, cpu, Waste::Churn);
                } else {
                    self.count("jobs.outputs_failed", 1);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_result<R: Rng + ?Sized>(
        &mut self,
        now: Time,
        rng: &mut R,
        from: NodeId,
        key: CopyKey,
        answer: Answer,
        cpu: Duration,
        started: Time,
    ) {
        self.count("jobs.results", 1);
        let quorum = usize::from(self.cfg.quorum);
        let Some(p) = self.pending.get_mut(&key.job) else {
            self.count("jobs.late_results", 1);
            self.waste(key.job, cpu, Waste::Redundant);
            return;
        };
        let Some(c) = p.copies.get_mut(key.copy as usize) else {
            return;
        };
        let expected = c.worker == Some(from)
            && matches!(
                c.state,
                CopyState::Sending | CopyState::Placed | CopyState::Lost
            );
        if !expected {
            // Not a result this submitter waits for (none is expected to
            // come: kept for the accounting).
            self.count("jobs.unexpected_results", 1);
            self.waste(key.job, cpu, Waste::Redundant);
            return;
        }
        c.state = CopyState::Returned;
        p.votes.push(Vote { answer, cpu });
        p.started = Some(p.started.map_or(started, |s| s.min(started)));
        let agree = p.votes.iter().filter(|v| v.answer == answer).count();
        if agree >= quorum {
            self.end(now, key.job, Ok(answer), Some(from));
            return;
        }
        let out = p.copies.iter().any(|c| c.state.outstanding());
        if !out && p.votes.len() >= usize::from(p.target) {
            // Every copy is back without a quorum: more copies, or fail.
            let mut best = 0;
            for v in &p.votes {
                best = best.max(p.votes.iter().filter(|w| w.answer == v.answer).count());
            }
            let need = quorum.saturating_sub(best) as u16;
            let room = self.cfg.max_copies.saturating_sub(p.target);
            if room == 0 {
                self.end(now, key.job, Err(JobFailure::NoQuorum), None);
                return;
            }
            p.target += need.min(room).max(1);
            self.count("jobs.more_copies", 1);
        }
        self.maintain(now, rng, key.job);
    }

    /// The job ends: report it, cancel its copies still out, and report the
    /// results it did not use.
    fn end(&mut self, now: Time, id: u64, result: Result<Answer, JobFailure>, by: Option<NodeId>) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        if let Some(t) = p.deadline_at {
            self.deadlines.remove(&(t, id));
        }
        self.event(Event::Done {
            job: id,
            submitted: p.submitted,
            started: p.started,
            ended: now,
            by,
            attempts: p.copies.len() as u32,
            result,
        });
        self.count(
            match result {
                Ok(_) => "jobs.accepted",
                Err(JobFailure::Deadline) => "jobs.failed_deadline",
                Err(JobFailure::NoQuorum) => "jobs.failed_no_quorum",
                Err(JobFailure::Timeout) => "jobs.failed_timeout",
                Err(JobFailure::Rejected) => "jobs.rejected",
            },
            1,
        );
        for v in &p.votes {
            if result != Ok(v.answer) {
                self.waste(id, v.cpu, Waste::Rejected);
            }
        }
        for (i, c) in p.copies.iter().enumerate() {
            let key = CopyKey {
                job: id,
                copy: i as u32,
            };
            match (c.state, c.worker) {
                (CopyState::Unassigned, _) => {
                    self.pool.remove(&(p.order, key.copy));
                }
                (CopyState::Placed | CopyState::Lost, Some(w)) if w == self.me => {
                    self.cancel_task(now, key);
                }
                (CopyState::Placed | CopyState::Lost, Some(w)) => {
                    self.count("jobs.cancels_sent", 1);
                    self.send(w, Msg::Cancel { key });
                }
                // Probes resolve to nothing; inputs in flight are cancelled
                // when their transfer ends.
                _ => {}
            }
        }
    }

    fn on_heartbeat(&mut self, now: Time) {
        self.set_timer(Timer::Heartbeat, now.saturating_add(self.cfg.heartbeat));
        // Submitter: ping the workers of placed copies.
        let mut workers = BTreeSet::new();
        for p in self.pending.values() {
            for c in &p.copies {
                if let (CopyState::Placed, Some(w)) = (c.state, c.worker)
                    && w != self.me
                {
                    workers.insert(w);
                }
            }
        }
        for w in workers {
            if self.pinged.contains(&w) {
                continue;
            }
            let rid = self.rid();
            self.pinged.insert(w);
            self.add_rpc(
                rid,
                Rpc::Ping {
                    worker: w,
                    deadline: now.saturating_add(self.cfg.rpc_timeout),
                },
            );
            self.count("jobs.pings", 1);
            self.send(w, Msg::Ping { rid });
        }
        // Worker: retry results not delivered.
        let retry: Vec<CopyKey> = self
            .outbox
            .iter()
            .filter(|(_, o)| !o.sending)
            .map(|(k, _)| *k)
            .collect();
        for key in retry {
            self.send_output(key);
        }
    }

    /// A pinged worker stayed silent: its placed copies are presumed lost.
    fn presume_lost<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, w: NodeId) {
        self.count("jobs.presumed_lost", 1);
        let mut hit = Vec::new();
        for (id, p) in &self.pending {
            for (i, c) in p.copies.iter().enumerate() {
                if c.state == CopyState::Placed && c.worker == Some(w) {
                    hit.push(CopyKey {
                        job: *id,
                        copy: i as u32,
                    });
                }
            }
        }
        for key in &hit {
            self.lose(*key);
        }
        for key in hit {
            self.maintain(now, rng, key.job);
        }
    }

    fn on_rpc_timeouts<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        while let Some(&(t, rid)) = self.rpc_deadlines.first() {
            if t > now {
                break;
            }
            let Some(rpc) = self.rpcs.get(&rid) else {
                self.rpc_deadlines.remove(&(t, rid));
                continue;
            };
            match rpc.clone() {
                Rpc::Probe { .. } => self.resolve_probe(now, rng, rid),
                Rpc::Ping { worker, .. } => {
                    self.take_rpc(rid);
                    self.pinged.remove(&worker);
                    self.presume_lost(now, rng, worker);
                }
                Rpc::Ask { .. } => {
                    self.take_rpc(rid);
                    if self.asking == Some(rid) {
                        self.asking = None;
                        self.count("jobs.asks_timed_out", 1);
                        self.seek_work(now, rng);
                    }
                }
            }
        }
    }

    fn on_deadlines(&mut self, now: Time) {
        while let Some(&(t, id)) = self.deadlines.first() {
            if t > now {
                break;
            }
            self.deadlines.remove(&(t, id));
            self.end(now, id, Err(JobFailure::Deadline), None);
        }
    }

    /// A peer asks for work: hand out a copy whose job it never held (pull:
    /// the oldest unassigned one; work stealing: the newest queued copy of
    /// this peer's own jobs that has not started).
    fn serve_ask(&mut self, from: NodeId, rid: u32) {
        self.count("jobs.asks_received", 1);
        let pending = &self.pending;
        let fresh = |job: u64| pending.get(&job).is_some_and(|p| !p.held.contains(&from));
        let found = match self.cfg.policy {
            Policy::Pull => self
                .pool
                .iter()
                .take(SCAN_MAX)
                .find(|(_, job)| fresh(**job))
                .map(|(&(order, copy), &job)| (CopyKey { job, copy }, Some(order))),
            Policy::WorkStealing => self
                .queue
                .iter()
                .rev()
                .take(SCAN_MAX)
                .find(|t| t.submitter == self.me && t.done.0 == 0 && fresh(t.key.job))
                .map(|t| (t.key, None)),
            _ => None,
        };
        let Some((key, order)) = found else {
            self.send(from, Msg::NoWork { rid });
            return;
        };
        match order {
            Some(order) => {
                self.pool.remove(&(order, key.copy));
                self.count("jobs.grants", 1);
            }
            None => {
                self.queue.retain(|t| t.key != key);
                self.count("jobs.steals", 1);
            }
        }
        self.send(from, Msg::Granted { rid });
        self.send_input(key, from);
    }

    // ------------------------------------------------------------ worker

    fn on_input(&mut self, now: Time, from: NodeId, key: CopyKey, task: Task) {
        let known = self.queue.iter().any(|t| t.key == key)
            || self.running.is_some_and(|r| r.task.key == key)
            || self.outbox.contains_key(&key);
        if known {
            return;
        }
        if !self.spec.works() || self.queue.len() >= self.cfg.queue_max as usize {
            self.count("jobs.refused", 1);
            self.send(from, Msg::Refused { key });
            return;
        }
        self.count("jobs.inputs_received", 1);
        self.queue.push_back(task);
        self.start_next(now);
    }

    /// Run the next queued copy if nothing runs; copies past their
    /// deadline are dropped unstarted.
    fn start_next(&mut self, now: Time) {
        if self.running.is_some() || !self.up {
            return;
        }
        while let Some(mut task) = self.queue.pop_front() {
            if task.deadline.is_some_and(|d| d <= now) {
                // Its job has failed; checkpointed progress is wasted.
                self.count("jobs.expired_at_worker", 1);
                self.waste(task.key.job, self.spec.cpu(task.done), Waste::Redundant);
                continue;
            }
            task.first_start.get_or_insert(now);
            self.count("jobs.runs_started", 1);
            self.running = Some(Running { task, since: now });
            return;
        }
    }

    fn on_run_timer<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        let Some(r) = self.running else {
            return;
        };
        if r.end() > now {
            return;
        }
        self.running = None;
        self.busy_wall = self.busy_wall.saturating_add(now.since(r.since));
        let task = r.task;
        let answer = answer_of(self.spec.fault, self.me);
        let cpu = self.spec.cpu(task.need);
        let started = task.first_start.unwrap_or(now);
        self.count("jobs.runs_done", 1);
        if task.submitter == self.me {
            self.on_result(now, rng, self.me, task.key, answer, cpu, started);
        } else {
            self.outbox.insert(
                task.key,
                Outgoing {
                    submitter: task.submitter,
                    answer,
                    cpu,
                    started,
                    output: task.output,
                    failures: 0,
                    sending: false,
                },
            );
            self.send_output(task.key);
        }
        self.start_next(now);
        if !self.busy() {
            self.round = 0;
            self.seek_work(now, rng);
        }
    }

    fn send_output(&mut self, key: CopyKey) {
        let Some(o) = self.outbox.get_mut(&key) else {
            return;
        };
        o.sending = true;
        let o = *o;
        self.count("jobs.outputs_sent", 1);
        self.out.push_back(Output::SendBulk {
            to: o.submitter,
            msg: Msg::Output {
                key,
                answer: o.answer,
                cpu_ns: o.cpu.0,
                started: o.started,
                output: o.output,
            },
            bulk: Bulk::Output { key },
        });
    }

    /// Drop a copy at this worker (its job ended): a queued copy costs
    /// nothing (but the progress its checkpoints saved), a running one's
    /// progress and a finished result not yet on its way are redundant
    /// work.
    fn cancel_task(&mut self, now: Time, key: CopyKey) {
        if let Some(i) = self.queue.iter().position(|t| t.key == key) {
            let done = self.queue.remove(i).map_or(Duration::ZERO, |t| t.done);
            self.count("jobs.cancelled_queued", 1);
            self.waste(key.job, self.spec.cpu(done), Waste::Redundant);
        } else if let Some(r) = self.running.filter(|r| r.task.key == key) {
            self.running = None;
            let seg = now.since(r.since);
            self.busy_wall = self.busy_wall.saturating_add(seg);
            let progress = r.task.done.saturating_add(seg);
            self.count("jobs.cancelled_running", 1);
            self.waste(key.job, self.spec.cpu(progress), Waste::Redundant);
            self.start_next(now);
        } else if self.outbox.get(&key).is_some_and(|o| !o.sending) {
            // A result on its way is counted by the submitter when it
            // arrives; one waiting for a retry is dropped here.
            let cpu = self.outbox.remove(&key).map_or(Duration::ZERO, |o| o.cpu);
            self.waste(key.job, cpu, Waste::Redundant);
        }
    }

    /// Whether the task for `key` came from `from`.
    fn task_from(&self, key: CopyKey, from: NodeId) -> bool {
        self.queue
            .iter()
            .chain(self.running.as_ref().map(|r| &r.task))
            .any(|t| t.key == key && t.submitter == from)
            || self.outbox.get(&key).is_some_and(|o| o.submitter == from)
    }

    /// An idle worker (work stealing, pull) looks for work: its own pool
    /// first (pull), then one random peer at a time, up to `victims` per
    /// round; after a fruitless round it waits `idle_poll`.
    fn seek_work<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R) {
        if !self.up || !self.pulls() || !self.spec.works() {
            return;
        }
        if self.busy() || self.asking.is_some() {
            return;
        }
        if self.cfg.policy == Policy::Pull && self.take_own(now) {
            return;
        }
        let me = self.me;
        let victim = if self.round < self.cfg.victims {
            self.pick(rng, |n| n != me)
        } else {
            None
        };
        let Some(victim) = victim else {
            self.round = 0;
            self.set_timer(Timer::Idle, now.saturating_add(self.cfg.idle_poll));
            return;
        };
        self.round += 1;
        let rid = self.rid();
        self.asking = Some(rid);
        self.add_rpc(
            rid,
            Rpc::Ask {
                deadline: now.saturating_add(self.cfg.rpc_timeout),
            },
        );
        self.count("jobs.asks", 1);
        self.send(victim, Msg::Ask { rid });
    }

    /// Pull: run the oldest unassigned copy of this peer's own jobs that it
    /// never held.
    fn take_own(&mut self, now: Time) -> bool {
        let me = self.me;
        let pending = &self.pending;
        let found = self
            .pool
            .iter()
            .take(SCAN_MAX)
            .find(|(_, job)| pending.get(job).is_some_and(|p| !p.held.contains(&me)))
            .map(|(&(order, copy), &job)| (order, CopyKey { job, copy }));
        let Some((order, key)) = found else {
            return false;
        };
        self.pool.remove(&(order, key.copy));
        self.count("jobs.grants_local", 1);
        self.place_local(now, key)
    }

    // ------------------------------------------------------------ dispatch

    fn on_timer<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, t: Timer) {
        match t {
            Timer::Heartbeat => self.on_heartbeat(now),
            Timer::Rpc => self.on_rpc_timeouts(now, rng),
            Timer::Deadline => self.on_deadlines(now),
            Timer::Run => self.on_run_timer(now, rng),
            Timer::Idle => {
                self.round = 0;
                self.seek_work(now, rng);
            }
        }
    }

    fn on_message<R: Rng + ?Sized>(&mut self, now: Time, rng: &mut R, from: NodeId, msg: Msg) {
        match msg {
            Msg::Probe { rid } => {
                let queue = self.load();
                self.send(from, Msg::Load { rid, queue });
            }
            Msg::Load { rid, queue } => self.on_load(now, rng, from, rid, queue),
            Msg::Input {
                key,
                work_ns,
                input,
                output,
                deadline,
            } => {
                let _ = input;
                let task = Task {
                    key,
                    submitter: from,
                    output,
                    deadline,
                    need: run_time(Duration(work_ns), self.spec.speed, self.spec.share),
                    done: Duration::ZERO,
                    first_start: None,
                };
                self.on_input(now, from, key, task);
            }
            Msg::Refused { key } => {
                let ours = self.pending.get(&key.job).is_some_and(|p| {
                    p.copies
                        .get(key.copy as usize)
                        .is_some_and(|c| c.worker == Some(from))
                });
                if ours {
                    self.lose(key);
                    self.maintain(now, rng, key.job);
                }
            }
            Msg::Output {
                key,
                answer,
                cpu_ns,
                started,
                output,
            } => {
                let _ = output;
                self.on_result(now, rng, from, key, answer, Duration(cpu_ns), started);
            }
            Msg::Cancel { key } => {
                if self.task_from(key, from) {
                    self.cancel_task(now, key);
                    if !self.busy() {
                        self.round = 0;
                        self.seek_work(now, rng);
                    }
                }
            }
            Msg::Ping { rid } => self.send(from, Msg::Pong { rid }),
            Msg::Pong { rid } => {
                if matches!(self.rpcs.get(&rid), Some(Rpc::Ping { worker, .. }) if *worker == from)
                {
                    self.take_rpc(rid);
                    self.pinged.remove(&from);
                }
            }
            Msg::Ask { rid } => self.serve_ask(from, rid),
            Msg::Granted { rid } => {
                if self.asking == Some(rid) {
                    self.asking = None;
                    self.take_rpc(rid);
                    self.count("jobs.granted", 1);
                    // If the input never comes, look again after a while.
                    self.set_timer(Timer::Idle, now.saturating_add(self.cfg.idle_poll));
                }
            }
            Msg::NoWork { rid } => {
                if self.asking == Some(rid) {
                    self.asking = None;
                    self.take_rpc(rid);
                    self.seek_work(now, rng);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use sim_core::rng::NodeRng;

    /// A machine driven by hand: peer `me` of `n` peers.
    struct Bench {
        m: Jobs,
        rng: NodeRng,
        now: Time,
    }

    impl Bench {
        fn new(cfg: Config, me: u32, n: u32, spec: WorkerSpec) -> Bench {
            Bench::started(cfg, me, n, spec).0
        }
        /// The machine and what it did when it started.
        fn started(cfg: Config, me: u32, n: u32, spec: WorkerSpec) -> (Bench, Vec<Output>) {
            let peers = Arc::new((0..n).map(NodeId).collect::<Vec<_>>());
            let mut b = Bench {
                m: Jobs::new(Arc::new(cfg), NodeId(me), spec, peers),
                rng: NodeRng::seed_from_u64(u64::from(me) + 11),
                now: Time::ZERO,
            };
            let out = b.feed(Input::Start);
            (b, out)
        }
        fn feed(&mut self, input: Input) -> Vec<Output> {
            self.m.handle(self.now, &mut self.rng, input);
            std::iter::from_fn(|| self.m.poll_output()).collect()
        }
        fn at(&mut self, secs: u64) -> &mut Self {
            self.now = Time(secs * 1_000_000_000);
            self
        }
        fn msg(&mut self, from: u32, msg: Msg) -> Vec<Output> {
            self.feed(Input::Message {
                from: NodeId(from),
                msg,
            })
        }
    }

    fn job(id: u64, secs: u64) -> Job {
        Job {
            id,
            work: Duration::from_secs(secs),
            input: 1000,
            output: 100,
            deadline: None,
        }
    }

    fn cfg(policy: Policy, r: u16, q: u16) -> Config {
        Config {
            policy,
            redundancy: r,
            quorum: q,
            max_copies: r,
            ..Config::default()
        }
    }

    fn inputs(out: &[Output]) -> Vec<(NodeId, CopyKey)> {
        out.iter()
            .filter_map(|o| match o {
                Output::SendBulk {
                    to,
                    msg: Msg::Input { key, .. },
                    ..
                } => Some((*to, *key)),
                _ => None,
            })
            .collect()
    }

    fn sends(out: &[Output]) -> Vec<(NodeId, Msg)> {
        out.iter()
            .filter_map(|o| match o {
                Output::Send { to, msg } => Some((*to, msg.clone())),
                _ => None,
            })
            .collect()
    }

    fn events(out: &[Output]) -> Vec<Event> {
        out.iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    fn delivered(b: &mut Bench, to: NodeId, key: CopyKey) -> Vec<Output> {
        b.feed(Input::BulkDone {
            bulk: Bulk::Input { key, to },
            delivered: true,
        })
    }

    fn result(b: &mut Bench, from: NodeId, key: CopyKey, answer: Answer) -> Vec<Output> {
        b.msg(
            from.0,
            Msg::Output {
                key,
                answer,
                cpu_ns: 7_000_000_000,
                started: Time(1),
                output: 100,
            },
        )
    }

    /// The submitter is a pure client here, so every copy goes out.
    fn submitter(policy: Policy, r: u16, q: u16, max_copies: u16) -> Bench {
        let c = Config {
            max_copies,
            ..cfg(policy, r, q)
        };
        Bench::new(c, 0, 50, WorkerSpec::NONE)
    }

    #[test]
    fn random_placement_puts_copies_on_distinct_workers_and_accepts_a_result() {
        let mut b = submitter(Policy::Random, 3, 2, 3);
        let out = b.feed(Input::Command(Command::Submit(job(1, 10))));
        let placed = inputs(&out);
        assert_eq!(placed.len(), 3);
        let mut workers: Vec<NodeId> = placed.iter().map(|p| p.0).collect();
        workers.sort();
        workers.dedup();
        assert_eq!(workers.len(), 3, "distinct workers");
        assert!(!workers.contains(&NodeId(0)), "a pure client runs nothing");
        for &(to, key) in &placed {
            delivered(&mut b, to, key);
        }
        b.at(20);
        assert!(events(&result(&mut b, placed[0].0, placed[0].1, Answer::Right)).is_empty());
        let out = result(&mut b, placed[1].0, placed[1].1, Answer::Right);
        let ev = events(&out);
        assert!(
            matches!(ev[0], Event::Done { result: Ok(Answer::Right), by: Some(w), attempts: 3, .. } if w == placed[1].0),
            "{ev:?}"
        );
        // The third copy is cancelled at its worker.
        assert!(
            sends(&out).contains(&(placed[2].0, Msg::Cancel { key: placed[2].1 })),
            "{out:?}"
        );
        assert_eq!(b.m.pending(), 0);
        // Its result, if it comes anyway, is redundant work.
        let ev = events(&result(&mut b, placed[2].0, placed[2].1, Answer::Right));
        assert_eq!(
            ev,
            vec![Event::Wasted {
                job: 1,
                cpu: Duration::from_secs(7),
                cause: Waste::Redundant
            }]
        );
    }

    #[test]
    fn power_of_d_places_on_the_shortest_queue_first_asked_on_ties() {
        let mut b = submitter(Policy::PowerOfD { d: 3 }, 1, 1, 1);
        let out = b.feed(Input::Command(Command::Submit(job(1, 10))));
        let probes: Vec<(NodeId, u32)> = sends(&out)
            .into_iter()
            .filter_map(|(to, m)| match m {
                Msg::Probe { rid } => Some((to, rid)),
                _ => None,
            })
            .collect();
        assert_eq!(probes.len(), 3);
        assert!(inputs(&out).is_empty(), "nothing placed before answers");
        let rid = probes[0].1;
        // Loads 4, 2, 2: the second asked wins the tie.
        b.msg(probes[0].0.0, Msg::Load { rid, queue: 4 });
        b.msg(probes[2].0.0, Msg::Load { rid, queue: 2 });
        let out = b.msg(probes[1].0.0, Msg::Load { rid, queue: 2 });
        let placed = inputs(&out);
        assert_eq!(placed.len(), 1);
        assert_eq!(placed[0].0, probes[1].0);
    }

    #[test]
    fn power_of_d_ignores_silent_probes_after_the_timeout() {
        let mut b = submitter(Policy::PowerOfD { d: 2 }, 1, 1, 1);
        let out = b.feed(Input::Command(Command::Submit(job(1, 10))));
        let probes: Vec<(NodeId, u32)> = sends(&out)
            .into_iter()
            .filter_map(|(to, m)| match m {
                Msg::Probe { rid } => Some((to, rid)),
                _ => None,
            })
            .collect();
        let rid = probes[0].1;
        let out = b.msg(probes[1].0.0, Msg::Load { rid, queue: 9 });
        assert!(inputs(&out).is_empty(), "waits for the other answer");
        b.at(5);
        let out = b.feed(Input::Timer(Timer::Rpc));
        assert_eq!(
            inputs(&out),
            vec![(probes[1].0, CopyKey { job: 1, copy: 0 })]
        );
        // Both silent: the round fails and a new copy is probed.
        let mut b = submitter(Policy::PowerOfD { d: 2 }, 1, 1, 1);
        b.feed(Input::Command(Command::Submit(job(1, 10))));
        b.at(5);
        let out = b.feed(Input::Timer(Timer::Rpc));
        let again = sends(&out)
            .iter()
            .filter(|(_, m)| matches!(m, Msg::Probe { .. }))
            .count();
        assert_eq!(again, 2, "{out:?}");
    }

    #[test]
    fn disagreement_issues_more_copies_up_to_the_limit_then_fails() {
        // r = 3, q = 2, room for 4 results: R, W1, W2 → one more copy.
        let mut b = submitter(Policy::Random, 3, 2, 4);
        let out = b.feed(Input::Command(Command::Submit(job(1, 10))));
        let placed = inputs(&out);
        for &(to, key) in &placed {
            delivered(&mut b, to, key);
        }
        result(&mut b, placed[0].0, placed[0].1, Answer::Right);
        result(&mut b, placed[1].0, placed[1].1, Answer::Wrong(5));
        let out = result(&mut b, placed[2].0, placed[2].1, Answer::Wrong(6));
        let more = inputs(&out);
        assert_eq!(more.len(), 1, "{out:?}");
        assert!(!placed.iter().any(|p| p.0 == more[0].0), "a fifth worker");
        assert_eq!(more[0].1.copy, 3);
        delivered(&mut b, more[0].0, more[0].1);
        let out = result(&mut b, more[0].0, more[0].1, Answer::Right);
        let ev = events(&out);
        assert!(matches!(
            ev[0],
            Event::Done {
                result: Ok(Answer::Right),
                attempts: 4,
                ..
            }
        ));
        // The two wrong answers were outvoted.
        let rejected = ev
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::Wasted {
                        cause: Waste::Rejected,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(rejected, 2);

        // With room for 3 results only, the same answers fail the job and
        // all three results are rejected work.
        let mut b = submitter(Policy::Random, 3, 2, 3);
        let placed = inputs(&b.feed(Input::Command(Command::Submit(job(1, 10)))));
        for &(to, key) in &placed {
            delivered(&mut b, to, key);
        }
        result(&mut b, placed[0].0, placed[0].1, Answer::Right);
        result(&mut b, placed[1].0, placed[1].1, Answer::Wrong(5));
        let ev = events(&result(&mut b, placed[2].0, placed[2].1, Answer::Wrong(6)));
        assert!(matches!(
            ev[0],
            Event::Done {
                result: Err(JobFailure::NoQuorum),
                ..
            }
        ));
        assert_eq!(ev.len(), 4);
    }

    #[test]
    fn a_quorum_below_half_accepts_the_first_answer_to_reach_it() {
        let mut b = submitter(Policy::Random, 3, 1, 3);
        let placed = inputs(&b.feed(Input::Command(Command::Submit(job(1, 10)))));
        for &(to, key) in &placed {
            delivered(&mut b, to, key);
        }
        let ev = events(&result(&mut b, placed[1].0, placed[1].1, Answer::Wrong(9)));
        assert!(matches!(
            ev[0],
            Event::Done {
                result: Ok(Answer::Wrong(9)),
                ..
            }
        ));
    }

    #[test]
    fn a_deadline_fails_the_job_and_cancels_its_copies() {
        let mut b = submitter(Policy::Random, 2, 2, 2);
        let mut j = job(1, 100);
        j.deadline = Some(Duration::from_secs(30));
        let placed = inputs(&b.feed(Input::Command(Command::Submit(j))));
        delivered(&mut b, placed[0].0, placed[0].1);
        // The second input is still in flight at the deadline.
        b.at(10);
        result(&mut b, placed[0].0, placed[0].1, Answer::Right);
        b.at(30);
        let out = b.feed(Input::Timer(Timer::Deadline));
        let ev = events(&out);
        assert!(matches!(
            ev[0],
            Event::Done {
                result: Err(JobFailure::Deadline),
                started: Some(Time(1)),
                ..
            }
        ));
        // The returned result was not accepted: rejected work.
        assert!(matches!(
            ev[1],
            Event::Wasted {
                cause: Waste::Rejected,
                ..
            }
        ));
        // The copy whose input arrives afterwards is cancelled then.
        let out = delivered(&mut b, placed[1].0, placed[1].1);
        assert_eq!(
            sends(&out),
            vec![(placed[1].0, Msg::Cancel { key: placed[1].1 })]
        );
    }

    #[test]
    fn a_silent_worker_is_presumed_lost_and_its_copy_reissued() {
        let mut b = submitter(Policy::Random, 1, 1, 1);
        let placed = inputs(&b.feed(Input::Command(Command::Submit(job(1, 10)))));
        delivered(&mut b, placed[0].0, placed[0].1);
        b.at(600);
        let out = b.feed(Input::Timer(Timer::Heartbeat));
        let pings: Vec<(NodeId, Msg)> = sends(&out);
        assert_eq!(pings.len(), 1);
        assert_eq!(pings[0].0, placed[0].0);
        b.at(605);
        let out = b.feed(Input::Timer(Timer::Rpc));
        let again = inputs(&out);
        assert_eq!(again.len(), 1);
        assert_ne!(again[0].0, placed[0].0);
        assert_eq!(again[0].1.copy, 1);
        // The first worker returns with its result: it still counts.
        delivered(&mut b, again[0].0, again[0].1);
        let ev = events(&result(&mut b, placed[0].0, placed[0].1, Answer::Right));
        assert!(matches!(
            ev[0],
            Event::Done { result: Ok(_), attempts: 2, by: Some(w), .. } if w == placed[0].0
        ));
        // A worker that answers the ping keeps its copy.
        let mut b = submitter(Policy::Random, 1, 1, 1);
        let placed = inputs(&b.feed(Input::Command(Command::Submit(job(1, 10)))));
        delivered(&mut b, placed[0].0, placed[0].1);
        b.at(600);
        let out = b.feed(Input::Timer(Timer::Heartbeat));
        let Msg::Ping { rid } = sends(&out)[0].1 else {
            panic!("a ping")
        };
        b.msg(placed[0].0.0, Msg::Pong { rid });
        b.at(605);
        assert!(inputs(&b.feed(Input::Timer(Timer::Rpc))).is_empty());
    }

    #[test]
    fn attempts_are_bounded() {
        let c = Config {
            max_attempts: 3,
            ..cfg(Policy::Random, 1, 1)
        };
        let mut b = Bench::new(c, 0, 50, WorkerSpec::NONE);
        let mut placed = inputs(&b.feed(Input::Command(Command::Submit(job(1, 10)))));
        let mut last = Vec::new();
        for _ in 0..3 {
            let (to, key) = placed[0];
            last = b.feed(Input::BulkDone {
                bulk: Bulk::Input { key, to },
                delivered: false,
            });
            placed = inputs(&last);
        }
        let ev = events(&last);
        assert!(
            matches!(
                ev[0],
                Event::Done {
                    result: Err(JobFailure::Timeout),
                    attempts: 3,
                    ..
                }
            ),
            "{ev:?}"
        );
    }

    /// A worker with 60 s checkpoints running a 10 min job.
    fn worker(checkpoint: Option<Duration>) -> (Bench, CopyKey) {
        let c = Config {
            checkpoint,
            ..cfg(Policy::Random, 1, 1)
        };
        let spec = WorkerSpec {
            speed: 1000,
            share: 500,
            fault: Fault::Honest,
        };
        let mut b = Bench::new(c, 3, 10, spec);
        let key = CopyKey { job: 9, copy: 0 };
        b.msg(
            0,
            Msg::Input {
                key,
                work_ns: Duration::from_secs(300).0,
                input: 10,
                output: 10,
                deadline: None,
            },
        );
        assert!(b.m.running());
        (b, key)
    }

    #[test]
    fn a_transient_stop_loses_the_progress_since_the_last_checkpoint() {
        // Half the CPU: 300 s of work take 600 s of running.
        let (mut b, key) = worker(Some(Duration::from_secs(60)));
        b.at(150);
        let ev = events(&b.feed(Input::Stop(Stop::Transient)));
        // 150 s run, checkpoint at 120 s: 30 s of running lost, 15 s of CPU.
        assert_eq!(
            ev,
            vec![Event::Wasted {
                job: 9,
                cpu: Duration::from_secs(15),
                cause: Waste::Churn
            }]
        );
        assert_eq!(b.m.busy_cpu(b.now), Duration::from_secs(75));
        // Back at 1000 s: 480 s of running left.
        b.at(1000);
        let out = b.feed(Input::Start);
        assert!(out.iter().any(|o| matches!(
            o,
            Output::SetTimer { timer: Timer::Run, at } if *at == Time(1480 * 1_000_000_000)
        )));
        b.at(1480);
        let out = b.feed(Input::Timer(Timer::Run));
        let results: Vec<u64> = out
            .iter()
            .filter_map(|o| match o {
                Output::SendBulk {
                    to,
                    msg: Msg::Output { key: k, cpu_ns, .. },
                    ..
                } if *k == key && *to == NodeId(0) => Some(*cpu_ns),
                _ => None,
            })
            .collect();
        // The result costs one uninterrupted run: 600 s × 1/2.
        assert_eq!(results, vec![Duration::from_secs(300).0]);
        // CPU spent = result + churn waste.
        assert_eq!(b.m.busy_cpu(b.now), Duration::from_secs(315));
    }

    #[test]
    fn without_checkpoints_or_with_a_departure_all_progress_is_lost() {
        let (mut b, _) = worker(None);
        b.at(150);
        let ev = events(&b.feed(Input::Stop(Stop::Transient)));
        assert_eq!(
            ev,
            vec![Event::Wasted {
                job: 9,
                cpu: Duration::from_secs(75),
                cause: Waste::Churn
            }]
        );
        let (mut b, _) = worker(Some(Duration::from_secs(60)));
        b.at(150);
        let ev = events(&b.feed(Input::Stop(Stop::Permanent)));
        assert_eq!(
            ev,
            vec![Event::Wasted {
                job: 9,
                cpu: Duration::from_secs(75),
                cause: Waste::Churn
            }]
        );
        assert!(!b.m.running());
        assert_eq!(b.m.queued(), 0);
    }

    #[test]
    fn a_cancelled_running_copy_is_redundant_work_and_only_its_submitter_may_cancel() {
        let (mut b, key) = worker(None);
        b.at(100);
        assert!(events(&b.msg(5, Msg::Cancel { key })).is_empty());
        assert!(b.m.running(), "a stranger cannot cancel");
        let ev = events(&b.msg(0, Msg::Cancel { key }));
        assert_eq!(
            ev,
            vec![Event::Wasted {
                job: 9,
                cpu: Duration::from_secs(50),
                cause: Waste::Redundant
            }]
        );
        assert!(!b.m.running());
    }

    #[test]
    fn a_full_queue_or_a_pure_client_refuses_copies() {
        let c = Config {
            queue_max: 1,
            ..cfg(Policy::Random, 1, 1)
        };
        let mut b = Bench::new(c.clone(), 3, 10, WorkerSpec::REFERENCE);
        let input = |copy| Msg::Input {
            key: CopyKey { job: 1, copy },
            work_ns: 1_000,
            input: 0,
            output: 0,
            deadline: None,
        };
        assert!(sends(&b.msg(0, input(0))).is_empty(), "runs at once");
        assert!(sends(&b.msg(0, input(1))).is_empty(), "queued");
        assert_eq!(
            sends(&b.msg(0, input(2))),
            vec![(
                NodeId(0),
                Msg::Refused {
                    key: CopyKey { job: 1, copy: 2 }
                }
            )]
        );
        let mut b = Bench::new(c, 3, 10, WorkerSpec::NONE);
        assert_eq!(sends(&b.msg(0, input(0))).len(), 1);
        assert_eq!(
            sends(&b.msg(0, Msg::Probe { rid: 4 })),
            vec![(
                NodeId(0),
                Msg::Load {
                    rid: 4,
                    queue: u32::MAX
                }
            )]
        );
    }

    #[test]
    fn pull_hands_out_the_oldest_copy_to_a_worker_that_never_held_one() {
        let mut b = Bench::new(cfg(Policy::Pull, 2, 2), 0, 10, WorkerSpec::NONE);
        b.feed(Input::Command(Command::Submit(job(1, 10))));
        b.feed(Input::Command(Command::Submit(job(2, 10))));
        assert_eq!(b.m.pooled(), 4);
        let out = b.msg(4, Msg::Ask { rid: 7 });
        assert_eq!(sends(&out), vec![(NodeId(4), Msg::Granted { rid: 7 })]);
        assert_eq!(inputs(&out), vec![(NodeId(4), CopyKey { job: 1, copy: 0 })]);
        // The same worker gets the second job next, not job 1's other copy.
        let out = b.msg(4, Msg::Ask { rid: 8 });
        assert_eq!(inputs(&out), vec![(NodeId(4), CopyKey { job: 2, copy: 0 })]);
        let out = b.msg(4, Msg::Ask { rid: 9 });
        assert_eq!(sends(&out), vec![(NodeId(4), Msg::NoWork { rid: 9 })]);
        let out = b.msg(5, Msg::Ask { rid: 1 });
        assert_eq!(inputs(&out), vec![(NodeId(5), CopyKey { job: 1, copy: 1 })]);
    }

    #[test]
    fn work_stealing_queues_locally_and_gives_away_the_newest_unstarted_copy() {
        let mut b = Bench::new(
            cfg(Policy::WorkStealing, 1, 1),
            0,
            10,
            WorkerSpec::REFERENCE,
        );
        for id in 1..=3 {
            assert!(inputs(&b.feed(Input::Command(Command::Submit(job(id, 10))))).is_empty());
        }
        assert!(b.m.running());
        assert_eq!(b.m.queued(), 2);
        let out = b.msg(6, Msg::Ask { rid: 3 });
        assert_eq!(inputs(&out), vec![(NodeId(6), CopyKey { job: 3, copy: 0 })]);
        assert_eq!(b.m.queued(), 1);
        // The thief's result is accepted like any other.
        delivered(&mut b, NodeId(6), CopyKey { job: 3, copy: 0 });
        let ev = events(&result(
            &mut b,
            NodeId(6),
            CopyKey { job: 3, copy: 0 },
            Answer::Right,
        ));
        assert!(matches!(
            ev[0],
            Event::Done {
                job: 3,
                result: Ok(_),
                ..
            }
        ));
    }

    #[test]
    fn an_idle_worker_asks_victims_one_at_a_time_then_waits() {
        let c = Config {
            victims: 2,
            ..cfg(Policy::Pull, 1, 1)
        };
        let asks = |out: &[Output]| -> Vec<(NodeId, u32)> {
            sends(out)
                .into_iter()
                .filter_map(|(to, m)| match m {
                    Msg::Ask { rid } => Some((to, rid)),
                    _ => None,
                })
                .collect()
        };
        // Started idle: it asks one peer.
        let (mut b, out) = Bench::started(c, 3, 10, WorkerSpec::REFERENCE);
        let first = asks(&out);
        assert_eq!(first.len(), 1);
        assert_ne!(first[0].0, NodeId(3));
        let out = b.msg(first[0].0.0, Msg::NoWork { rid: first[0].1 });
        let second = asks(&out);
        assert_eq!(second.len(), 1);
        let out = b.msg(second[0].0.0, Msg::NoWork { rid: second[0].1 });
        assert!(asks(&out).is_empty());
        assert!(out.iter().any(|o| matches!(
            o,
            Output::SetTimer { timer: Timer::Idle, at } if *at == Time(30_000_000_000)
        )));
    }
}
