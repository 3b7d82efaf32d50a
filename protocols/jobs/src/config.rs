//! Parameters of the P2P scheduler, shared by every peer of a run.
//!
//! Defaults and where they come from:
//! - `redundancy` 2, `quorum` 2, `max_copies` 6, `max_attempts` 10: BOINC's
//!   job submission defaults (`create_work`: `target_nresults` 2,
//!   `min_quorum` 2, `max_success_results` 6, `max_total_results` 10; BOINC
//!   wiki, JobSubmission);
//! - `checkpoint` 60 s: BOINC's client preference `disk_interval` ("request
//!   tasks to checkpoint at most every 60 seconds", `GLOBAL_PREFS::defaults`
//!   in BOINC's lib/prefs.cpp), read here as a checkpoint every 60 s of
//!   running;
//! - `policy` power of two choices (Mitzenmacher, "The Power of Two Choices
//!   in Randomized Load Balancing", IEEE TPDS 2001): the policy that needs
//!   neither a server nor polling;
//! - `rpc_timeout` 5 s: as the storage layer's;
//! - everything else is assumed: `heartbeat` 10 min, `idle_poll` 30 s,
//!   `victims` 4, `queue_max` 1,000, `pending_max` 100,000,
//!   `result_retries` 144 (a day of retries at one per heartbeat).

use sim_core::Duration;

/// How a submitter chooses the worker of each copy of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Send the copy to a peer drawn uniformly at random.
    Random,
    /// Ask `d` random peers for their queue length (a datagram exchange),
    /// send the copy to the shortest (ties: the first asked; peers silent
    /// for the RPC timeout are left out).
    PowerOfD {
        /// Peers asked per copy (at least 1; 1 is random placement with
        /// one probe).
        d: u32,
    },
    /// The copy joins the submitter's own queue (a random peer's when the
    /// submitter cannot run it); an idle worker asks random peers, one at a
    /// time, up to `victims` per round and one round every `idle_poll`, and
    /// a peer gives away the newest copy of its own jobs still queued.
    WorkStealing,
    /// BOINC-style: copies wait unassigned at their submitter; an idle
    /// worker asks itself, then random peers (up to `victims` per round,
    /// one round every `idle_poll`), and a submitter hands out its oldest
    /// unassigned copy.
    Pull,
}

impl Policy {
    /// `random`, `power-of-d`, `work-stealing` or `pull`.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "random",
            Policy::PowerOfD { .. } => "power-of-d",
            Policy::WorkStealing => "work-stealing",
            Policy::Pull => "pull",
        }
    }
}

/// Scheduler parameters (see the module docs for the defaults' sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Placement policy.
    pub policy: Policy,
    /// Copies of each job issued at first, on distinct workers (r).
    pub redundancy: u16,
    /// Equal answers needed to accept a result (q, 1 ≤ q ≤ r). The first
    /// answer reaching q is accepted; with q ≤ r/2 two answers could both
    /// reach q, and the earlier one wins.
    pub quorum: u16,
    /// Results a job may collect at most: when every issued copy has
    /// returned without a quorum, more copies are issued up to this, then
    /// the job fails with `NoQuorum`.
    pub max_copies: u16,
    /// Copies a job may issue at most, counting re-issues after losses and
    /// placements that found no worker; then it fails with `Timeout`.
    pub max_attempts: u32,
    /// A running job checkpoints every this much running time; a worker
    /// going down transiently loses only the progress since the last
    /// checkpoint (None: it loses all of it).
    pub checkpoint: Option<Duration>,
    /// Interval between a submitter's pings to the workers of its placed
    /// copies, and between a worker's retries to deliver a result.
    pub heartbeat: Duration,
    /// A datagram exchange (probe, ping, work request) unanswered this long
    /// is given up; a pinged worker silent this long is presumed lost.
    pub rpc_timeout: Duration,
    /// An idle worker (work stealing, pull) starts a new round of requests
    /// this long after a round that found nothing.
    pub idle_poll: Duration,
    /// Peers an idle worker asks per round, one after the other.
    pub victims: u32,
    /// Copies a worker keeps queued at most (more are refused).
    pub queue_max: u32,
    /// Jobs a submitter keeps pending at most (more are rejected).
    pub pending_max: u32,
    /// Failed deliveries of a result a worker retries (one per heartbeat)
    /// before it drops the result.
    pub result_retries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: Policy::PowerOfD { d: 2 },
            redundancy: 2,
            quorum: 2,
            max_copies: 6,
            max_attempts: 10,
            checkpoint: Some(Duration::from_secs(60)),
            heartbeat: Duration::from_secs(600),
            rpc_timeout: Duration::from_secs(5),
            idle_poll: Duration::from_secs(30),
            victims: 4,
            queue_max: 1_000,
            pending_max: 100_000,
            result_retries: 144,
        }
    }
}

/// A configuration that cannot work, and the field to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `quorum` is 0.
    #[error("quorum must be at least 1 (a job needs one answer to accept)")]
    QuorumZero,
    /// `quorum` above `redundancy`.
    #[error(
        "quorum {quorum} exceeds redundancy {redundancy}: raise redundancy to at least the quorum"
    )]
    QuorumAboveRedundancy {
        /// The quorum.
        quorum: u16,
        /// The redundancy.
        redundancy: u16,
    },
    /// `redundancy` above `max_copies`.
    #[error(
        "redundancy {redundancy} exceeds max_copies {max_copies}: raise max_copies to at least the redundancy"
    )]
    RedundancyAboveMaxCopies {
        /// The redundancy.
        redundancy: u16,
        /// The copy limit.
        max_copies: u16,
    },
    /// `max_copies` above `max_attempts`.
    #[error(
        "max_copies {max_copies} exceeds max_attempts {max_attempts}: raise max_attempts to at least max_copies"
    )]
    CopiesAboveAttempts {
        /// The copy limit.
        max_copies: u16,
        /// The attempt limit.
        max_attempts: u32,
    },
    /// A zero where a positive value is needed.
    #[error("{0} must be positive")]
    Zero(&'static str),
}

impl Config {
    /// Check the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.quorum == 0 {
            return Err(ConfigError::QuorumZero);
        }
        if self.quorum > self.redundancy {
            return Err(ConfigError::QuorumAboveRedundancy {
                quorum: self.quorum,
                redundancy: self.redundancy,
            });
        }
        if self.redundancy > self.max_copies {
            return Err(ConfigError::RedundancyAboveMaxCopies {
                redundancy: self.redundancy,
                max_copies: self.max_copies,
            });
        }
        if u32::from(self.max_copies) > self.max_attempts {
            return Err(ConfigError::CopiesAboveAttempts {
                max_copies: self.max_copies,
                max_attempts: self.max_attempts,
            });
        }
        if let Policy::PowerOfD { d: 0 } = self.policy {
            return Err(ConfigError::Zero("policy's d"));
        }
        for (name, d) in [
            ("heartbeat", self.heartbeat),
            ("rpc_timeout", self.rpc_timeout),
            ("idle_poll", self.idle_poll),
        ] {
            if d.0 == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.checkpoint.is_some_and(|c| c.0 == 0) {
            return Err(ConfigError::Zero("checkpoint"));
        }
        for (name, v) in [
            ("victims", self.victims),
            ("queue_max", self.queue_max),
            ("pending_max", self.pending_max),
        ] {
            if v == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn bad_values_name_the_field() {
        let base = Config::default();
        let cases = [
            (
                Config {
                    quorum: 0,
                    ..base.clone()
                },
                ConfigError::QuorumZero,
            ),
            (
                Config {
                    quorum: 3,
                    ..base.clone()
                },
                ConfigError::QuorumAboveRedundancy {
                    quorum: 3,
                    redundancy: 2,
                },
            ),
            (
                Config {
                    redundancy: 7,
                    ..base.clone()
                },
                ConfigError::RedundancyAboveMaxCopies {
                    redundancy: 7,
                    max_copies: 6,
                },
            ),
            (
                Config {
                    max_attempts: 5,
                    ..base.clone()
                },
                ConfigError::CopiesAboveAttempts {
                    max_copies: 6,
                    max_attempts: 5,
                },
            ),
            (
                Config {
                    policy: Policy::PowerOfD { d: 0 },
                    ..base.clone()
                },
                ConfigError::Zero("policy's d"),
            ),
            (
                Config {
                    heartbeat: Duration::ZERO,
                    ..base.clone()
                },
                ConfigError::Zero("heartbeat"),
            ),
            (
                Config {
                    checkpoint: Some(Duration::ZERO),
                    ..base.clone()
                },
                ConfigError::Zero("checkpoint"),
            ),
            (
                Config {
                    victims: 0,
                    ..base.clone()
                },
                ConfigError::Zero("victims"),
            ),
        ];
        for (cfg, want) in cases {
            assert_eq!(cfg.validate(), Err(want));
        }
        let e = Config { quorum: 3, ..base }.validate().unwrap_err();
        assert!(e.to_string().contains("raise redundancy"), "{e}");
    }
}
