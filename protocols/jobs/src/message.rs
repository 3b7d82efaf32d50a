//! The wire vocabulary of the scheduler.
//!
//! A job's input ([`Msg::Input`]) and its result ([`Msg::Output`]) move as
//! bulk transfers in the compute traffic class, with phantom payloads: the
//! job's input and output lengths are charged to the network without the
//! bytes being carried. Everything else is a small control datagram. Every
//! message has a real postcard encoding (durations travel as integer
//! nanoseconds).

use crate::job::Answer;
use serde::{Deserialize, Serialize};
use sim_core::node::class;
use sim_core::{Message, Time};

/// One copy of a job: the job and the copy's number at its submitter
/// (copies are numbered in the order they are issued, re-issues included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CopyKey {
    /// The job.
    pub job: u64,
    /// The copy.
    pub copy: u32,
}

/// A scheduler message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// How many jobs are at your machine (power of d)?
    Probe {
        /// Request id.
        rid: u32,
    },
    /// Answer to `Probe`: jobs queued plus the one running; `u32::MAX`
    /// from a peer that does not run jobs.
    Load {
        /// Request id.
        rid: u32,
        /// Jobs in the system at this worker.
        queue: u32,
    },
    /// A copy to run (bulk, phantom payload of `input` bytes), always from
    /// the job's submitter.
    Input {
        /// The copy.
        key: CopyKey,
        /// CPU time on a reference machine, ns.
        work_ns: u64,
        /// Input length, bytes (the phantom payload).
        input: u64,
        /// Output length, bytes.
        output: u64,
        /// When the job fails at its submitter, if it has a deadline: a
        /// worker does not start a copy after it.
        deadline: Option<Time>,
    },
    /// The worker will not run this copy (not a worker, or its queue is
    /// full).
    Refused {
        /// The copy.
        key: CopyKey,
    },
    /// A copy's result (bulk, phantom payload of `output` bytes).
    Output {
        /// The copy.
        key: CopyKey,
        /// What the worker computed.
        answer: Answer,
        /// CPU time the result cost the worker (run time × share), ns;
        /// work lost to its failures is reported by the worker apart.
        cpu_ns: u64,
        /// When the copy first started running.
        started: Time,
        /// Output length, bytes (the phantom payload).
        output: u64,
    },
    /// The job ended: drop this copy (abort it if running).
    Cancel {
        /// The copy.
        key: CopyKey,
    },
    /// Are you there (a submitter to the worker of a placed copy)?
    Ping {
        /// Request id.
        rid: u32,
    },
    /// Answer to `Ping`.
    Pong {
        /// Request id.
        rid: u32,
    },
    /// An idle worker asks for a copy to run (work stealing, pull).
    Ask {
        /// Request id.
        rid: u32,
    },
    /// Answer to `Ask`: a copy's input follows.
    Granted {
        /// Request id.
        rid: u32,
    },
    /// Answer to `Ask`: nothing to give.
    NoWork {
        /// Request id.
        rid: u32,
    },
}

impl Message for Msg {
    fn phantom_len(&self) -> u64 {
        match self {
            Msg::Input { input, .. } => *input,
            Msg::Output { output, .. } => *output,
            _ => 0,
        }
    }
    fn class(&self) -> u8 {
        match self {
            Msg::Input { .. } | Msg::Output { .. } => class::COMPUTE,
            _ => class::CONTROL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::node::check_wire_size;

    #[test]
    fn wire_sizes_match_the_encoding() {
        let key = CopyKey {
            job: (7 << 32) | 12,
            copy: 3,
        };
        let all = [
            Msg::Probe { rid: 1 },
            Msg::Load { rid: 1, queue: 4 },
            Msg::Load {
                rid: u32::MAX,
                queue: u32::MAX,
            },
            Msg::Input {
                key,
                work_ns: 3_600_000_000_000,
                input: 1 << 20,
                output: 1 << 10,
                deadline: Some(Time(86_400_000_000_000)),
            },
            Msg::Input {
                key,
                work_ns: 0,
                input: 0,
                output: 0,
                deadline: None,
            },
            Msg::Refused { key },
            Msg::Output {
                key,
                answer: Answer::Wrong(8),
                cpu_ns: 1_000_000_000,
                started: Time(5),
                output: 1 << 10,
            },
            Msg::Cancel { key },
            Msg::Ping { rid: 9 },
            Msg::Pong { rid: 9 },
            Msg::Ask { rid: 2 },
            Msg::Granted { rid: 2 },
            Msg::NoWork { rid: 2 },
        ];
        for m in &all {
            check_wire_size(m).unwrap();
        }
        // Payloads are phantom, and only they are compute traffic.
        assert_eq!(all[3].phantom_len(), 1 << 20);
        assert_eq!(all[6].phantom_len(), 1 << 10);
        assert!(all[3].wire_size() > 1 << 20);
        assert_eq!(all[3].class(), class::COMPUTE);
        assert_eq!(all[6].class(), class::COMPUTE);
        assert_eq!(all[0].class(), class::CONTROL);
        // A probe is a few bytes: tag and varint.
        assert!(all[0].wire_size() <= 6);
    }
}
