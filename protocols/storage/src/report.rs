//! What a storage run measures: tidy rows and a summary.
//!
//! # Rows (one CSV table each, when [`StackNode::rows`](crate::StackNode) is on)
//! - `storage_ops`: one row per client operation — `node`, `op` (`write`,
//!   `read`, `delete`), `object` (hex prefix of the id), `start_ns`,
//!   `end_ns`, `latency_ns`, `ok`, `reason` (empty on success; otherwise
//!   `no-space`, `not-enough-fragments` or `timeout`), `bytes` (fetched, for
//!   reads), `fragments_found` and `fragments_needed` (failed reads).
//! - `storage_repairs`: one row per repair — `node` (the leader),
//!   `object`, `time_ns`, `fragments` rebuilt, `unplaced` (found no new
//!   holder), or `aborted` (too few live fragments, or timed out).
//!
//! # Summary ([`Summary`])
//! Durability (objects whose surviving fragments can no longer rebuild
//! them), availability (reads that succeeded, and the fraction of sampled
//! instants at which each object had at least m distinct fragments on live
//! nodes — global knowledge, sampled by the experiment), repair bytes by
//! cause ([`RepairBytes`]), storage overhead (bytes on disks over logical
//! bytes of the objects alive), write and read latency, and bulk bytes sent per
//! peer.

use crate::protocol::{Event, ReadFailure, RepairBytes};
use serde::Serialize;

/// One row of the `storage_ops` table.
#[derive(Debug, Clone, Serialize)]
pub struct OpRow {
    /// Client.
    pub node: u32,
    /// `write`, `read` or `delete`.
    pub op: &'static str,
    /// Hex prefix of the object id.
    pub object: String,
    /// Start, ns.
    pub start_ns: u64,
    /// End, ns.
    pub end_ns: u64,
    /// End − start, ns.
    pub latency_ns: u64,
    /// The operation succeeded.
    pub ok: bool,
    /// Why it failed (empty on success).
    pub reason: &'static str,
    /// Bytes fetched (reads).
    pub bytes: Option<u64>,
    /// Distinct fragments found (failed reads).
    pub fragments_found: Option<u16>,
    /// Fragments needed (failed reads).
    pub fragments_needed: Option<u16>,
}

/// One row of the `storage_repairs` table.
#[derive(Debug, Clone, Serialize)]
pub struct RepairRow {
    /// The leader that ran it.
    pub node: u32,
    /// Hex prefix of the object id.
    pub object: String,
    /// When it ended, ns.
    pub time_ns: u64,
    /// Fragments rebuilt.
    pub fragments: u16,
    /// Fragments that found no new holder.
    pub unplaced: u16,
    /// The repair could not run.
    pub aborted: bool,
}

/// The row an event adds, if any: `(table, row)`.
pub enum Row {
    /// For `storage_ops`.
    Op(OpRow),
    /// For `storage_repairs`.
    Repair(RepairRow),
}

fn hex(o: &crate::ObjectId) -> String {
    o.0[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Row {
    /// The row of `event` at node `node` and time `now_ns`.
    pub fn of(node: u32, now_ns: u64, event: &Event) -> Option<Row> {
        Some(match event {
            Event::Written {
                object,
                started,
                ended,
                result,
                ..
            } => Row::Op(OpRow {
                node,
                op: "write",
                object: hex(object),
                start_ns: started.0,
                end_ns: ended.0,
                latency_ns: ended.since(*started).0,
                ok: result.is_ok(),
                reason: result.as_ref().err().map_or("", |f| f.name()),
                bytes: None,
                fragments_found: None,
                fragments_needed: None,
            }),
            Event::Read {
                object,
                started,
                ended,
                result,
                ..
            } => {
                let (found, needed) = match result {
                    Err(ReadFailure::NotEnough { found, need }) => (Some(*found), Some(*need)),
                    _ => (None, None),
                };
                Row::Op(OpRow {
                    node,
                    op: "read",
                    object: hex(object),
                    start_ns: started.0,
                    end_ns: ended.0,
                    latency_ns: ended.since(*started).0,
                    ok: result.is_ok(),
                    reason: result.as_ref().err().map_or("", |f| f.name()),
                    bytes: result.as_ref().ok().copied(),
                    fragments_found: found,
                    fragments_needed: needed,
                })
            }
            Event::Deleted { object, .. } => Row::Op(OpRow {
                node,
                op: "delete",
                object: hex(object),
                start_ns: now_ns,
                end_ns: now_ns,
                latency_ns: 0,
                ok: true,
                reason: "",
                bytes: None,
                fragments_found: None,
                fragments_needed: None,
            }),
            Event::Repaired {
                object,
                fragments,
                unplaced,
            } => Row::Repair(RepairRow {
                node,
                object: hex(object),
                time_ns: now_ns,
                fragments: *fragments,
                unplaced: *unplaced,
                aborted: false,
            }),
            Event::RepairAborted { object } => Row::Repair(RepairRow {
                node,
                object: hex(object),
                time_ns: now_ns,
                fragments: 0,
                unplaced: 0,
                aborted: true,
            }),
            _ => return None,
        })
    }
}

/// The headline numbers of a storage run (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// `dht` when placement came from Kademlia lookups, `oracle` when any
    /// placement came from global knowledge (`site` for the data center).
    pub placement: &'static str,
    /// Objects written successfully.
    pub objects: u64,
    /// Of those, permanently lost (too few fragments left on any disk).
    pub lost: u64,
    /// Reads issued.
    pub reads: u64,
    /// Reads that succeeded.
    pub reads_ok: u64,
    /// Mean over objects of the fraction of sampled instants at which the
    /// object was readable (None without samples).
    pub readable_fraction: Option<f64>,
    /// Sampled instants.
    pub samples: u64,
    /// Mean write latency of successful writes, ns (None without).
    pub write_latency_mean_ns: Option<u64>,
    /// Mean read latency of successful reads, ns (None without).
    pub read_latency_mean_ns: Option<u64>,
    /// Repair bytes by cause.
    #[serde(skip)]
    pub repair: RepairBytes,
    /// Repair bytes after true losses.
    pub repair_bytes_true_loss: u64,
    /// Repair bytes after false alarms.
    pub repair_bytes_false_alarm: u64,
    /// Repair bytes after audits.
    pub repair_bytes_audit: u64,
    /// Bytes on disks over the logical bytes of the objects not lost (None
    /// when nothing is stored).
    pub storage_overhead: Option<f64>,
    /// Mean storage-layer bulk bytes (writes, reads and repairs) sent per
    /// peer that ever ran.
    pub bulk_bytes_per_peer: Option<f64>,
}

impl Summary {
    /// Fill the client-side figures (reads, read and write latency, the
    /// number of objects written) from an event log, and return the objects
    /// written successfully.
    pub fn add_ops<'a>(
        &mut self,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> std::collections::BTreeSet<crate::ObjectId> {
        let (mut wl, mut wn, mut rl, mut rn) = (0u128, 0u64, 0u128, 0u64);
        let mut written = std::collections::BTreeSet::new();
        for e in events {
            match e {
                Event::Written {
                    object,
                    started,
                    ended,
                    result: Ok(_),
                    ..
                } => {
                    written.insert(*object);
                    wl += u128::from(ended.since(*started).0);
                    wn += 1;
                }
                Event::Read {
                    started,
                    ended,
                    result,
                    ..
                } => {
                    self.reads += 1;
                    if result.is_ok() {
                        self.reads_ok += 1;
                        rl += u128::from(ended.since(*started).0);
                        rn += 1;
                    }
                }
                _ => {}
            }
        }
        self.objects = written.len() as u64;
        self.write_latency_mean_ns = (wn > 0).then(|| (wl / u128::from(wn)) as u64);
        self.read_latency_mean_ns = (rn > 0).then(|| (rl / u128::from(rn)) as u64);
        written
    }
}
