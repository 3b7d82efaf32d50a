//! The `jobs` table: one row per job at its submitter, the same for the P2P
//! side and the data center.

use crate::job::Event;
use serde::Serialize;

/// One row of the `jobs` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRow {
    /// The submitter.
    pub node: u32,
    /// The job.
    pub job: u64,
    /// Submission, ns.
    pub submit_ns: u64,
    /// First start of a copy, ns (empty if none started).
    pub start_ns: Option<u64>,
    /// Acceptance or failure, ns.
    pub end_ns: u64,
    /// End − submission, ns.
    pub latency_ns: u64,
    /// The machine whose result was accepted (the site's node for the
    /// data center).
    pub worker: Option<u32>,
    /// Copies issued.
    pub attempts: u32,
    /// Accepted.
    pub ok: bool,
    /// Why it failed (empty when accepted).
    pub reason: &'static str,
    /// The accepted answer: `right` or `wrong` (empty when failed).
    pub answer: &'static str,
}

impl JobRow {
    /// The row of a [`Event::Done`] at submitter `node`; None for other
    /// events.
    pub fn of(node: u32, e: &Event) -> Option<JobRow> {
        let Event::Done {
            job,
            submitted,
            started,
            ended,
            by,
            attempts,
            result,
        } = e
        else {
            return None;
        };
        Some(JobRow {
            node,
            job: *job,
            submit_ns: submitted.0,
            start_ns: started.map(|t| t.0),
            end_ns: ended.0,
            latency_ns: ended.since(*submitted).0,
            worker: by.map(|n| n.0),
            attempts: *attempts,
            ok: result.is_ok(),
            reason: result.as_ref().err().map_or("", |f| f.name()),
            answer: result.as_ref().map_or("", |a| a.name()),
        })
    }
}

/// The `jobs` table's header (also for a run without jobs).
pub const JOBS_HEADER: &str =
    "node,job,submit_ns,start_ns,end_ns,latency_ns,worker,attempts,ok,reason,answer";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{Answer, JobFailure};
    use sim_core::{NodeId, Time};

    /// The header serde writes for a row.
    fn header_of(row: &JobRow) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.serialize(row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        text.lines().next().unwrap().to_string()
    }

    #[test]
    fn a_done_event_makes_a_row() {
        let e = Event::Done {
            job: 7,
            submitted: Time(100),
            started: Some(Time(150)),
            ended: Time(400),
            by: Some(NodeId(3)),
            attempts: 2,
            result: Ok(Answer::Wrong(0)),
        };
        let r = JobRow::of(1, &e).unwrap();
        assert_eq!(
            (r.latency_ns, r.answer, r.reason, r.ok),
            (300, "wrong", "", true)
        );
        let f = Event::Done {
            job: 8,
            submitted: Time(100),
            started: None,
            ended: Time(900),
            by: None,
            attempts: 0,
            result: Err(JobFailure::Deadline),
        };
        let r = JobRow::of(1, &f).unwrap();
        assert_eq!(
            (r.ok, r.reason, r.answer, r.start_ns),
            (false, "deadline", "", None)
        );
        assert_eq!(header_of(&r), JOBS_HEADER);
    }
}
