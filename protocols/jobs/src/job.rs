//! Jobs, answers, and what a submitter reports.
//!
//! Work is CPU time on a reference machine. A machine of speed `s`
//! (thousandths of the reference: 1000 is the reference) giving a share `c`
//! of its CPU (thousandths: 1000 is the whole CPU) runs `w` of work in
//! `w × 10^6 / (s × c)`, rounded up to the nanosecond ([`run_time`]):
//! integer arithmetic, so that no float decides the order of events.

use serde::{Deserialize, Serialize};
use sim_core::{Duration, NodeId, Time};

/// A job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Unique over a run (the submitter's id and a sequence number, or a
    /// workload log's job number).
    pub id: u64,
    /// CPU time on a reference machine.
    pub work: Duration,
    /// Bytes moved from the submitter to the machine that runs it.
    pub input: u64,
    /// Bytes moved back to the submitter.
    pub output: u64,
    /// A job not accepted this long after its submission fails
    /// ([`JobFailure::Deadline`]); None: no deadline.
    pub deadline: Option<Duration>,
}

/// Time to run `work` on a machine of speed `speed` giving `share` of its
/// CPU (both in thousandths), rounded up to the nanosecond. Zero speed or
/// share never finishes: [`Duration`]`(u64::MAX)`.
pub fn run_time(work: Duration, speed: u32, share: u32) -> Duration {
    let per = u128::from(speed) * u128::from(share);
    if per == 0 {
        return Duration(u64::MAX);
    }
    let ns = (u128::from(work.0) * 1_000_000).div_ceil(per);
    Duration(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// How a worker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Fault {
    /// Always right.
    #[default]
    Honest,
    /// Wrong, each wrong answer different from every other (faults that
    /// do not collude: random errors, overclocked machines).
    Independent,
    /// Wrong, every colluding worker returning the same wrong answer (an
    /// attacker with many machines).
    Colluding,
}

/// A job's result as a validator compares it: results are equal iff their
/// answers are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Answer {
    /// The right result.
    Right,
    /// A wrong result; colluding workers share tag 0, an independent
    /// fault's tag is unique to the worker (its node id + 1).
    Wrong(u64),
}

impl Answer {
    /// `right` or `wrong`.
    pub fn name(self) -> &'static str {
        match self {
            Answer::Right => "right",
            Answer::Wrong(_) => "wrong",
        }
    }
}

/// The answer worker `worker` of fault kind `fault` gives (for any job).
pub fn answer_of(fault: Fault, worker: NodeId) -> Answer {
    match fault {
        Fault::Honest => Answer::Right,
        Fault::Independent => Answer::Wrong(u64::from(worker.0) + 1),
        Fault::Colluding => Answer::Wrong(0),
    }
}

/// Why a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobFailure {
    /// Not accepted before its deadline.
    Deadline,
    /// Every copy returned without `quorum` equal answers, and no more
    /// copies may be issued.
    NoQuorum,
    /// No machine took it or answered within the submitter's limits
    /// (attempts or timeouts used up).
    Timeout,
    /// Refused (the site's queue is full, the job cannot be placed).
    Rejected,
}

impl JobFailure {
    /// `deadline`, `no-quorum`, `timeout` or `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            JobFailure::Deadline => "deadline",
            JobFailure::NoQuorum => "no-quorum",
            JobFailure::Timeout => "timeout",
            JobFailure::Rejected => "rejected",
        }
    }
}

/// Why CPU time did not go into an accepted result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Waste {
    /// Work lost when its machine went down (since its last checkpoint).
    Churn,
    /// Copies beyond what the validator used: results that arrived after
    /// acceptance (or after the job failed), copies cancelled mid-run.
    Redundant,
    /// Work that produced an answer the validator did not accept (wrong or
    /// outvoted).
    Rejected,
}

impl Waste {
    /// `churn`, `redundant` or `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            Waste::Churn => "churn",
            Waste::Redundant => "redundant",
            Waste::Rejected => "rejected",
        }
    }
}

/// A request from the workload driver to a submitter (a P2P peer or a
/// data-center client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run this job and report its end ([`Event::Done`]).
    Submit(Job),
}

/// Events seen by the experiment, with time and node.
pub type EventLog = std::rc::Rc<std::cell::RefCell<Vec<(Time, NodeId, Event)>>>;

/// What a node reports to the experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A submitted job ended: accepted, or failed (at its submitter).
    Done {
        /// The job.
        job: u64,
        /// When it was submitted.
        submitted: Time,
        /// When the first copy started running, if any did.
        started: Option<Time>,
        /// When it was accepted or failed.
        ended: Time,
        /// The machine whose result was accepted (for a quorum: the one
        /// whose answer completed it).
        by: Option<NodeId>,
        /// Copies issued (placements, including re-issues after losses).
        attempts: u32,
        /// The accepted answer, or why the job failed.
        result: Result<Answer, JobFailure>,
    },
    /// CPU time spent that did not go into an accepted result (at the
    /// machine, or at the submitter when it learns a result was not used).
    Wasted {
        /// The job.
        job: u64,
        /// CPU time (wall time on the machine × its share; for reports the
        /// reference-machine work is not used).
        cpu: Duration,
        /// Why.
        cause: Waste,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_time_scales_with_speed_and_share_and_rounds_up() {
        let w = Duration::from_secs(10);
        assert_eq!(run_time(w, 1000, 1000), w);
        assert_eq!(run_time(w, 2000, 1000), Duration::from_secs(5));
        assert_eq!(run_time(w, 1000, 500), Duration::from_secs(20));
        assert_eq!(run_time(Duration(1), 3000, 1000), Duration(1));
        assert_eq!(run_time(w, 0, 1000), Duration(u64::MAX));
    }

    #[test]
    fn colluders_agree_and_independent_faults_do_not() {
        let (a, b) = (NodeId(1), NodeId(2));
        assert_eq!(
            answer_of(Fault::Colluding, a),
            answer_of(Fault::Colluding, b)
        );
        assert_ne!(
            answer_of(Fault::Independent, a),
            answer_of(Fault::Independent, b)
        );
        assert_ne!(answer_of(Fault::Independent, a), Answer::Right);
        assert_eq!(answer_of(Fault::Honest, a), Answer::Right);
    }
}
