//! # datacenter: the central-directory baseline
//!
//! A data-center *site* of `c` servers answers the same get/put requests a
//! DHT would, reached over the network in one round trip. Requests queue
//! FIFO across the `c` servers (the next request starts on the first server
//! that frees up) and each takes a fixed service time, or with
//! [`ServiceDist::Exponential`] an exponential one of that mean (drawn from
//! the site's own random stream), which makes the site under Poisson
//! arrivals an M/M/c queue instead of M/D/c. The site can be
//! down (scheduled with [`schedule_outages`]): requests that reach it while
//! it is down are lost and their clients time out; requests it had queued
//! are lost with it; the stored records survive (they are on disk).
//!
//! Clients record one row per request in the `lookups` table, with the
//! same columns as the Kademlia crate's rows (`hops` is 1, `table` is
//! `directory`, `attempts` counts the requests sent), so the two can be
//! compared side by side.
//!
//! A client retries like a real one: each attempt waits
//! [`Client::timeout`] for the reply, and after a silent attempt the same
//! request (same id) is sent again, up to [`Client::retries`] times; a
//! reply to any attempt answers it. Its latency runs from the first send
//! to the reply (or to the last attempt's timeout), so failed attempts are
//! counted in it; every resend counts `dc.retries`.
//!
//! The storage baseline, a site holding every object on its own disks, is
//! in [`storage`]; the compute baseline, a site running jobs on its own
//! servers, in [`compute`].
//!
//! Like the protocol crates, nothing here reads a clock, a socket or
//! global randomness.
#![warn(missing_docs)]

pub mod compute;
pub mod storage;

use serde::{Deserialize, Serialize};
use sim_core::prelude::*;
use sim_core::{Context, Layer};
use std::collections::BTreeMap;

/// A request from a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirOp {
    /// Fetch the record under `key`.
    Get {
        /// The key.
        key: u64,
    },
    /// Store a record of `len` bytes under `key`.
    Put {
        /// The key.
        key: u64,
        /// Payload length (phantom).
        len: u32,
    },
}

/// The directory's datagrams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirMsg {
    /// Client to site.
    Request {
        /// Request id, echoed in the reply.
        rid: u32,
        /// The operation.
        op: DirOp,
    },
    /// Site to client.
    Reply {
        /// The request id.
        rid: u32,
        /// Served (false: the queue was full).
        ok: bool,
        /// For a get: the length of the record found.
        found: Option<u32>,
    },
}

impl Message for DirMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            DirMsg::Request {
                op: DirOp::Put { len, .. },
                ..
            } => *len as u64,
            DirMsg::Reply { found: Some(l), .. } => *l as u64,
            _ => 0,
        }
    }
}

/// Named timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirTimer {
    /// The site's next service completion.
    Completion,
    /// The deadline of a client request's current attempt.
    RequestTimeout {
        /// The request.
        rid: u32,
    },
}

/// How long a request's service takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServiceDist {
    /// Exactly [`SiteConfig::service`] (M/D/c under Poisson arrivals).
    #[default]
    Fixed,
    /// Exponential of mean [`SiteConfig::service`], drawn from the site's
    /// own random stream, rounded to whole nanoseconds and at least 1 ns
    /// (M/M/c under Poisson arrivals).
    Exponential,
}

/// Site parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteConfig {
    /// Servers.
    pub servers: usize,
    /// Service time per request (its mean with
    /// [`ServiceDist::Exponential`]).
    pub service: Duration,
    /// Fixed or exponential service times (fixed by default).
    pub service_dist: ServiceDist,
    /// Most requests waiting or in service; more are refused.
    pub queue_max: usize,
    /// Most records stored.
    pub records_max: usize,
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            servers: 4,
            service: Duration::from_millis(1),
            service_dist: ServiceDist::Fixed,
            queue_max: 10_000,
            records_max: 1 << 20,
        }
    }
}

#[derive(Debug, Clone)]
struct Job {
    client: NodeId,
    rid: u32,
    reply: DirMsg,
}

/// The data-center site.
#[derive(Debug, Clone)]
pub struct Site {
    cfg: SiteConfig,
    busy_until: Vec<Time>,
    /// Completion time and arrival number → reply (volatile).
    jobs: BTreeMap<(Time, u64), Job>,
    arrivals: u64,
    next_wake: Option<Time>,
    /// Stored records (on disk): key → length.
    records: BTreeMap<u64, u32>,
}

impl Site {
    /// A site.
    pub fn new(cfg: SiteConfig) -> Site {
        assert!(cfg.servers >= 1, "a site needs a server");
        Site {
            cfg,
            busy_until: vec![Time::ZERO; cfg.servers],
            jobs: BTreeMap::new(),
            arrivals: 0,
            next_wake: None,
            records: BTreeMap::new(),
        }
    }

    /// Records stored.
    pub fn records(&self) -> usize {
        self.records.len()
    }

    fn arm(&mut self, cx: &mut impl Context<DirMsg, DirTimer>) {
        if let Some((&(t, _), _)) = self.jobs.first_key_value()
            && self.next_wake.is_none_or(|w| t < w)
        {
            self.next_wake = Some(t);
            cx.set_timer(t.since(cx.now()), DirTimer::Completion);
        }
    }

    fn on_request(
        &mut self,
        cx: &mut impl Context<DirMsg, DirTimer>,
        from: NodeId,
        rid: u32,
        op: DirOp,
    ) {
        if self.jobs.len() >= self.cfg.queue_max {
            cx.count("dc.refused", 1);
            cx.send(
                from,
                DirMsg::Reply {
                    rid,
                    ok: false,
                    found: None,
                },
            );
            return;
        }
        // FIFO across servers: the first server to free up takes it.
        let (s, free) = self
            .busy_until
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|&(i, t)| (t, i))
            .expect("at least one server");
        let start = free.max(cx.now());
        let service = match self.cfg.service_dist {
            ServiceDist::Fixed => self.cfg.service,
            ServiceDist::Exponential => {
                use rand::RngExt;
                // Inversion: −ln(1 − U) is exponential of mean 1, U in [0, 1).
                let u: f64 = cx.rng().random();
                let ns = -(1.0 - u).ln() * self.cfg.service.as_nanos() as f64;
                Duration::from_nanos((ns.round() as u64).max(1))
            }
        };
        let done = start + service;
        self.busy_until[s] = done;
        cx.observe("dc.queue_wait_ns", start.since(cx.now()).0);
        let reply = match op {
            DirOp::Get { key } => DirMsg::Reply {
                rid,
                ok: true,
                found: self.records.get(&key).copied(),
            },
            DirOp::Put { key, len } => {
                let ok =
                    self.records.len() < self.cfg.records_max || self.records.contains_key(&key);
                if ok {
                    self.records.insert(key, len);
                }
                DirMsg::Reply {
                    rid,
                    ok,
                    found: None,
                }
            }
        };
        self.arrivals += 1;
        self.jobs.insert(
            (done, self.arrivals),
            Job {
                client: from,
                rid,
                reply,
            },
        );
        self.arm(cx);
    }

    fn on_completion(&mut self, cx: &mut impl Context<DirMsg, DirTimer>) {
        self.next_wake = None;
        let now = cx.now();
        // Bounded by the queue size.
        while let Some(e) = self.jobs.first_entry() {
            if e.key().0 > now {
                break;
            }
            let job = e.remove();
            debug_assert!(matches!(job.reply, DirMsg::Reply { rid, .. } if rid == job.rid));
            cx.send(job.client, job.reply);
        }
        self.arm(cx);
    }

    fn on_stop(&mut self) {
        // The queue and the servers' work are lost; the disk is kept.
        self.jobs.clear();
        self.next_wake = None;
        for b in &mut self.busy_until {
            *b = Time::ZERO;
        }
    }
}

/// One row of the `lookups` table (same columns as the Kademlia rows).
#[derive(Debug, Clone, Serialize)]
pub struct LookupRow {
    /// Client.
    pub node: u32,
    /// `Get` or `Put`.
    pub kind: &'static str,
    /// Start, ns.
    pub start_ns: u64,
    /// End (reply or timeout), ns.
    pub end_ns: u64,
    /// End − start, ns.
    pub latency_ns: u64,
    /// Round trips (1 when answered).
    pub hops: Option<u8>,
    /// Messages (request, and reply when answered).
    pub messages: u32,
    /// Bytes of request and reply.
    pub bytes: u64,
    /// Answered and served.
    pub answered: bool,
    /// The answer is right: the directory's answer is the record itself,
    /// so it is correct whenever it is answered.
    pub correct: Option<bool>,
    /// The answer is exactly what was asked for: as `correct`.
    pub exact: Option<bool>,
    /// Always empty.
    pub determined_ns: Option<u64>,
    /// `directory`.
    pub table: &'static str,
    /// Requests sent (1 + retries; 0 when refused by the client itself).
    pub attempts: Option<u32>,
}

/// A finished client request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finished {
    /// The request.
    pub op: DirOp,
    /// When it was sent.
    pub start: Time,
    /// When it ended.
    pub end: Time,
    /// Answered and served.
    pub success: bool,
    /// For a get: the record's length if found.
    pub found: Option<u32>,
    /// Requests sent (1 + retries).
    pub attempts: u32,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    rid: u32,
    op: DirOp,
    start: Time,
    /// Bytes of every attempt's request.
    bytes: u64,
    timer: TimerId,
    attempts: u32,
}

/// A client of the directory.
#[derive(Debug, Clone)]
pub struct Client {
    /// The site's address.
    pub site: NodeId,
    /// How long each attempt waits for a reply.
    pub timeout: Duration,
    /// How many times a request is sent again after a silent attempt (0:
    /// never; the request then fails at its first timeout).
    pub retries: u32,
    /// Most requests outstanding; more fail at once.
    pub pending_max: usize,
    pending: Vec<Pending>,
    next_rid: u32,
    /// Finished requests (kept when `keep` is set).
    pub finished: Vec<Finished>,
    /// Keep finished requests in `finished`.
    pub keep: bool,
}

impl Client {
    /// A client of `site` that waits `timeout` for a reply and never
    /// retries (set [`Client::retries`] to retry).
    pub fn new(site: NodeId, timeout: Duration) -> Client {
        Client {
            site,
            timeout,
            retries: 0,
            pending_max: 1024,
            pending: Vec::new(),
            next_rid: 0,
            finished: Vec::new(),
            keep: true,
        }
    }

    fn finish(
        &mut self,
        cx: &mut impl Context<DirMsg, DirTimer>,
        p: (DirOp, Time, u64, u32),
        reply: Option<(&DirMsg, bool, Option<u32>)>,
    ) {
        let (op, start, sent_bytes, attempts) = p;
        let end = cx.now();
        let success = reply.is_some_and(|r| r.1);
        let found = reply.and_then(|r| r.2);
        let row = LookupRow {
            node: cx.me().0,
            kind: match op {
                DirOp::Get { .. } => "Get",
                DirOp::Put { .. } => "Put",
            },
            start_ns: start.0,
            end_ns: end.0,
            latency_ns: end.since(start).0,
            hops: reply.map(|_| 1),
            messages: attempts + u32::from(reply.is_some()),
            bytes: sent_bytes + reply.map_or(0, |r| r.0.wire_size()),
            answered: success,
            correct: Some(success),
            exact: Some(success),
            determined_ns: None,
            table: "directory",
            attempts: Some(attempts),
        };
        cx.record("lookups", &row);
        if self.keep {
            self.finished.push(Finished {
                op,
                start,
                end,
                success,
                found,
                attempts,
            });
        }
    }

    fn request(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, op: DirOp) {
        let rid = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1);
        let msg = DirMsg::Request { rid, op };
        let bytes = msg.wire_size();
        if self.pending.len() >= self.pending_max {
            cx.count("dc.client_refused", 1);
            let now = cx.now();
            self.finish(cx, (op, now, 0, 0), None);
            return;
        }
        cx.send(self.site, msg);
        let timer = cx.set_timer(self.timeout, DirTimer::RequestTimeout { rid });
        self.pending.push(Pending {
            rid,
            op,
            start: cx.now(),
            bytes,
            timer,
            attempts: 1,
        });
    }

    fn on_reply(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, from: NodeId, msg: DirMsg) {
        let DirMsg::Reply { rid, ok, found } = msg else {
            cx.count("dc.unexpected_message", 1);
            return;
        };
        if from != self.site {
            cx.count("dc.unexpected_message", 1);
            return;
        }
        let Some(i) = self.pending.iter().position(|p| p.rid == rid) else {
            cx.count("dc.late_reply", 1);
            return;
        };
        let p = self.pending.remove(i);
        cx.cancel_timer(p.timer);
        self.finish(
            cx,
            (p.op, p.start, p.bytes, p.attempts),
            Some((&msg, ok, found)),
        );
    }

    fn on_timeout(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, rid: u32) {
        let Some(i) = self.pending.iter().position(|p| p.rid == rid) else {
            return;
        };
        cx.count("dc.timeouts", 1);
        if self.pending[i].attempts <= self.retries {
            // Send the same request again; a reply to any attempt answers.
            let msg = DirMsg::Request {
                rid,
                op: self.pending[i].op,
            };
            let bytes = msg.wire_size();
            cx.send(self.site, msg);
            cx.count("dc.retries", 1);
            let p = &mut self.pending[i];
            p.attempts += 1;
            p.bytes += bytes;
            p.timer = cx.set_timer(self.timeout, DirTimer::RequestTimeout { rid });
            return;
        }
        let p = self.pending.remove(i);
        self.finish(cx, (p.op, p.start, p.bytes, p.attempts), None);
    }
}

/// A node of a directory simulation: the site or a client.
#[derive(Debug, Clone)]
pub enum DcNode {
    /// The data-center site.
    Site(Site),
    /// A client.
    Client(Client),
}

sim_core::impl_node_for_layer!(DcNode);

impl Layer for DcNode {
    type Msg = DirMsg;
    type Timer = DirTimer;
    type Request = DirOp;

    fn start(&mut self, _cx: &mut impl Context<DirMsg, DirTimer>) {}

    fn message(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, from: NodeId, msg: DirMsg) {
        match (self, msg) {
            (DcNode::Site(s), DirMsg::Request { rid, op }) => s.on_request(cx, from, rid, op),
            (DcNode::Client(c), m @ DirMsg::Reply { .. }) => c.on_reply(cx, from, m),
            _ => cx.count("dc.unexpected_message", 1),
        }
    }

    fn timer(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, timer: DirTimer) {
        match (self, timer) {
            (DcNode::Site(s), DirTimer::Completion) => s.on_completion(cx),
            (DcNode::Client(c), DirTimer::RequestTimeout { rid }) => c.on_timeout(cx, rid),
            _ => {}
        }
    }

    fn transfer(
        &mut self,
        _cx: &mut impl Context<DirMsg, DirTimer>,
        _id: TransferId,
        _outcome: TransferOutcome,
    ) -> bool {
        // The directory moves no bulk data.
        false
    }

    fn request(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, req: DirOp) {
        match self {
            DcNode::Client(c) => c.request(cx, req),
            DcNode::Site(_) => cx.count("dc.request_at_site", 1),
        }
    }

    fn stop(&mut self, cx: &mut impl Context<DirMsg, DirTimer>, how: Stop) {
        match self {
            DcNode::Site(s) => {
                s.on_stop();
                if how == Stop::Permanent {
                    s.records.clear();
                }
            }
            DcNode::Client(c) => {
                for _ in c.pending.drain(..) {
                    cx.count("dc.lost_at_client_stop", 1);
                }
            }
        }
    }
}

/// Take the site down during each `[from, to)` interval (transient stops:
/// the records survive). Intervals must be sorted, disjoint and in the
/// future. Works for any baseline's nodes ([`DcNode`],
/// [`storage::DcStoreNode`], [`compute::DcComputeNode`]).
pub fn schedule_outages<N: Node>(
    sim: &mut Sim<N>,
    site: NodeId,
    outages: &[(Time, Time)],
) -> Result<(), SimError>
where
    N::Request: std::fmt::Debug,
{
    for &(from, to) in outages {
        sim.stop_at(site, from, Stop::Transient)?;
        sim.start_at(site, to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::node::check_wire_size;

    #[test]
    fn wire_sizes_match_the_encoding() {
        for m in [
            DirMsg::Request {
                rid: 7,
                op: DirOp::Put { key: 9, len: 500 },
            },
            DirMsg::Reply {
                rid: 7,
                ok: true,
                found: Some(500),
            },
        ] {
            check_wire_size(&m).unwrap();
        }
    }
}
