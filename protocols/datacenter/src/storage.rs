//! # The data-center storage baseline
//!
//! One site node holds every object; clients reach it over the network and
//! issue the same [`Command`]s as the P2P storage layer, and get the same
//! [`Event`]s back, so an experiment writes identical `storage_ops` rows for
//! both sides (see [`::storage::report`]).
//!
//! # The exchange
//! - **Write**: the client sends a `Put` request datagram announcing the
//!   object's stored length; the site answers `Ready` (or `Full` when it
//!   cannot place it); the client then moves the object to the site as a
//!   bulk transfer (`Upload`), and the site answers `Stored` once the last
//!   byte has arrived and the object is placed on its disks. The
//!   [`Event::Written`] then lists n holders, all the site node, with the
//!   fragment indices `0..n`. On a network
//!   of constant one-way latency `L` a write takes `4L` plus the upload's
//!   transmission time.
//! - **Read**: the client sends a `Get` datagram; the site answers `Found`
//!   and at once starts the bulk transfer (`Download`) back to the client,
//!   or answers `Missing` for an object it does not hold (never written,
//!   deleted, or lost to disk failures: the read then fails with
//!   [`ReadFailure::NotEnough`]` { found: 0, need: 1 }` — the client fetches
//!   one whole object from the site, whatever the site's internal scheme).
//!   A read takes `2L` plus the download's transmission time.
//! - **Delete**: one datagram, not acknowledged; the client reports
//!   [`Event::Deleted`] when it has sent it, as the P2P client does.
//!
//! Transfers go through the engine's network: with a routed topology (e.g.
//! [`sim_core::topo::Star`]) the site's uplink and downlink are shared by
//! every transfer as flows (max-min fair); with [`SimpleNet`] each transfer
//! has the fixed rate. The payload is phantom: its length is the object's
//! stored length, [`stored_len`]`(len, encrypted)`, so client-side
//! encryption costs the same bytes as on the P2P side. Bulk transfers are in
//! traffic class [`class::DATACENTER`]; the control datagrams in
//! [`class::CONTROL`]. Senders also count bulk bytes from the transfers'
//! outcomes (`dcstore.write_bytes` at clients, `dcstore.read_bytes` at the
//! site), which works on either network.
//!
//! # Clients: timeouts and retries
//! Like the directory's [`crate::Client`]: each attempt waits
//! [`StoreClientConfig::attempt_timeout`] for the site's answer (`Ready`,
//! `Found`, `Full`, `Missing`); after a silent attempt the same request
//! (same id) is sent again, up to [`StoreClientConfig::retries`] times, and
//! an answer to any attempt answers the operation. Once answered, the data
//! phase has [`StoreClientConfig::transfer_timeout`] to finish; an upload
//! that fails (the site went down) or a data phase that times out counts as
//! a silent attempt. Latency runs from the first send to the end, failed
//! attempts included. A failed operation reports
//! [`WriteFailure::Timeout`] / [`ReadFailure::Timeout`].
//!
//! # The site: disks, redundancy, failures, rebuilds
//! The site stores each object by its own [`Scheme`] (default: 3 replicas;
//! m-of-n erasure coding also works, a fragment being
//! [`Scheme::fragment_len`] bytes) on `disks` disks of `disk_capacity`
//! bytes. Each of the n fragments goes to a distinct disk chosen uniformly
//! among the disks that are working and have room
//! ([`StoreSiteConfig::distinct_disks`]; when off, all n go to one disk —
//! a deliberately bad placement, for controls). A write that cannot be
//! placed fails with [`WriteFailure::NoSpace`].
//!
//! Each disk fails after an exponential time of rate λ = AFR per
//! drive-year (Backblaze's AFR is failures per drive-year: failures ÷
//! (drive days ÷ 365)). A failed disk is replaced and its fragments are
//! written again from the object's surviving fragments; the disk is back,
//! with its fragments, after the rebuild time ([`Rebuild`]), and only then
//! does its next failure clock start. An object is **lost** at the instant
//! more than n − m of its fragments' disks are failed at once (for r
//! replicas: all r); a lost object is gone for good (its other fragments
//! are dropped), and reads of it fail. Fragments restored at the end of a
//! rebuild are copied from the surviving fragments at that instant, so an
//! object survives iff that count never drops below m — the rebuild's
//! source disks need not stay up for the whole rebuild (optimistic by the
//! length of a rebuild's reads).
//!
//! The disk process is the site's own: events of the site node (its own
//! timer, draws from its own stream `cx.rng()`), kept in absolute time on
//! the site's persistent state. Disks keep ageing while the site is out:
//! on restart the site first applies, in time order and at their own
//! times, the failures and rebuilds that fell due while it was down.
//!
//! # Site outages
//! The site is taken down and up by the engine, like the directory: with
//! an outage group over the site node ([`Sim::set_outage_groups`],
//! exponential times of means MTBF and MTTR; what the experiment uses for
//! the directory) or explicit intervals
//! ([`schedule_outages`](crate::schedule_outages)). While it is down,
//! requests get no answer and its transfers fail; the stored objects
//! survive (transient stop). A permanent stop loses every object.
//!
//! # Defaults and their sources
//! - Scheme: 3 replicas, as the P2P side's default
//!   ([`::storage::Config::default`]).
//! - Disks: 60, one Backblaze Storage Pod 6.0 ("Storage Pod 6.0: Building a
//!   60 Drive 480TB Storage Server", Backblaze blog, April 2016).
//! - Disk capacity: 16 TB; 14 TB and 16 TB models made up over half of
//!   Backblaze's fleet in its Drive Stats for 2024.
//! - AFR: 1.57 % ([`BACKBLAZE_AFR_2024`]), the annualized failure rate of
//!   Backblaze's whole drive fleet for 2024 ("Backblaze Drive Stats for
//!   2024", February 2025; the Q3 2025 Drive Stats post repeats "the 2024
//!   yearly AFR was 1.57%"). Press reports of the 2025 report give 1.36 %
//!   for 2025; that figure could not be checked against the report's own
//!   text, so the 2024 figure stays the default.
//! - Rebuild: a fixed 24 h. Rewriting a whole 16 TB drive at a sustained
//!   200 MB/s (a typical hard-drive rate, assumed) takes 16·10¹² / 2·10⁸ s
//!   ≈ 22 h, rounded up to a day. Exponential rebuild times
//!   ([`Rebuild::Exponential`]) make each object's failed-disk count an
//!   exact birth–death chain (see the tests).
//! - Clients: 1 s attempts and 3 retries, the scenario defaults of the
//!   directory's clients; a 1 h data phase, the P2P side's default
//!   operation timeout; client-side encryption on, as on the P2P side.
//!
//! # What it measures
//! The clients' [`Event`]s (in an [`EventLog`] and, with `rows`, the
//! `storage_ops` table), objects lost with the time of loss
//! ([`StoreSite::lost`], the `dcstore_disks` table with `rows`), bulk bytes
//! by class (routed network) or by counter, and the storage overhead (bytes
//! on disks over logical bytes: r, or about n/m). [`summary`] fills the P2P
//! side's [`Summary`] from them.

use ::storage::report::Row;
use ::storage::{
    Command, Event, EventLog, Holder, ObjectId, ReadFailure, Scheme, Summary, WriteFailure,
    stored_len,
};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::node::class;
use sim_core::prelude::*;
use sim_core::{Context, Layer};
use std::collections::{BTreeMap, BTreeSet};

/// The annualized failure rate of Backblaze's drive fleet in 2024: 1.57 %
/// ("Backblaze Drive Stats for 2024", Backblaze, February 2025).
pub const BACKBLAZE_AFR_2024: f64 = 0.0157;

/// A year as Backblaze's AFR counts it: 365 days.
pub const YEAR: Duration = Duration::from_secs(365 * 86_400);

/// How long a failed disk takes to come back with its fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuild {
    /// Never: a failed disk stays failed and its fragments stay lost (for
    /// durability checks without repair).
    Never,
    /// A fixed time.
    Fixed(Duration),
    /// An exponential time with this mean, drawn per failure.
    Exponential(Duration),
}

/// The site's storage parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreSiteConfig {
    /// How the site stores each object internally.
    pub scheme: Scheme,
    /// Disks at the site.
    pub disks: u32,
    /// Bytes each disk holds.
    pub disk_capacity: u64,
    /// Annualized failure rate of a disk: failures per drive-year.
    pub afr: f64,
    /// Rebuild time of a failed disk.
    pub rebuild: Rebuild,
    /// Put an object's fragments on distinct disks (true), or all on one
    /// disk (false: a bad placement, for controls).
    pub distinct_disks: bool,
}

impl Default for StoreSiteConfig {
    fn default() -> Self {
        StoreSiteConfig {
            scheme: Scheme::Replicate { r: 3 },
            disks: 60,
            disk_capacity: 16_000_000_000_000,
            afr: BACKBLAZE_AFR_2024,
            rebuild: Rebuild::Fixed(Duration::from_secs(24 * 3600)),
            distinct_disks: true,
        }
    }
}

/// A site configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ConfigError {}

impl StoreSiteConfig {
    /// Check the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self
            .scheme
            .validate()
            .map_err(|e| ConfigError(e.to_string()))?;
        if self.disks == 0 {
            return Err(ConfigError("a site needs at least one disk".into()));
        }
        if self.distinct_disks && u32::from(s.n()) > self.disks {
            return Err(ConfigError(format!(
                "{} fragments on distinct disks need at least {} disks (got {})",
                s.n(),
                s.n(),
                self.disks
            )));
        }
        if !(self.afr.is_finite() && self.afr >= 0.0) {
            return Err(ConfigError(format!(
                "afr must be a finite rate ≥ 0 (got {})",
                self.afr
            )));
        }
        if let Rebuild::Exponential(d) = self.rebuild
            && d.0 == 0
        {
            return Err(ConfigError(
                "an exponential rebuild needs a positive mean".into(),
            ));
        }
        Ok(())
    }
    /// Storage overhead of the scheme: bytes on disks per stored byte (r,
    /// or n/m before fragment rounding).
    pub fn overhead(&self) -> f64 {
        f64::from(self.scheme.n()) / f64::from(self.scheme.m())
    }
}

/// The clients' parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreClientConfig {
    /// How long each attempt waits for the site's answer.
    pub attempt_timeout: Duration,
    /// How many times a request is sent again after a silent attempt.
    pub retries: u32,
    /// How long the data phase (upload, or download) may take once the
    /// site has answered.
    pub transfer_timeout: Duration,
    /// Client-side encryption (objects grow by the cipher's overhead).
    pub encrypted: bool,
}

impl Default for StoreClientConfig {
    fn default() -> Self {
        StoreClientConfig {
            attempt_timeout: Duration::from_secs(1),
            retries: 3,
            transfer_timeout: Duration::from_secs(3600),
            encrypted: true,
        }
    }
}

/// The storage baseline's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DcStoreMsg {
    /// Client to site: may I write `object` of `len` stored bytes?
    Put {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
        /// Its stored length.
        len: u64,
    },
    /// Site to client: send it.
    Ready {
        /// Request id.
        rid: u32,
    },
    /// Site to client: no room for the `need` fragments.
    Full {
        /// Request id.
        rid: u32,
        /// Fragments the site needed to place.
        need: u16,
    },
    /// Client to site, bulk: the object (phantom payload of `len` bytes).
    Upload {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
        /// Its stored length.
        len: u64,
    },
    /// Site to client: stored as `fragments` fragments.
    Stored {
        /// Request id.
        rid: u32,
        /// Fragments (copies) on the site's disks.
        fragments: u16,
    },
    /// Client to site: send me `object`.
    Get {
        /// Request id.
        rid: u32,
        /// The object.
        object: ObjectId,
    },
    /// Site to client: the object follows.
    Found {
        /// Request id.
        rid: u32,
        /// Its stored length.
        len: u64,
    },
    /// Site to client, bulk: the object (phantom payload of `len` bytes).
    Download {
        /// Request id.
        rid: u32,
        /// Its stored length.
        len: u64,
    },
    /// Site to client: not here.
    Missing {
        /// Request id.
        rid: u32,
    },
    /// Client to site: delete `object` (not acknowledged).
    Delete {
        /// The object.
        object: ObjectId,
    },
}

impl Message for DcStoreMsg {
    fn phantom_len(&self) -> u64 {
        match self {
            DcStoreMsg::Upload { len, .. } | DcStoreMsg::Download { len, .. } => *len,
            _ => 0,
        }
    }
    fn class(&self) -> u8 {
        match self {
            DcStoreMsg::Upload { .. } | DcStoreMsg::Download { .. } => class::DATACENTER,
            _ => class::CONTROL,
        }
    }
}

/// Named timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DcStoreTimer {
    /// The site's next disk event.
    Disk,
    /// The deadline of a client operation's current phase.
    Op {
        /// The operation.
        rid: u32,
    },
}

// ------------------------------------------------------------------ site

#[derive(Debug, Clone, Copy)]
struct Disk {
    /// Failed (being rebuilt) since.
    failed_since: Option<Time>,
    /// Its scheduled event: failure if working, end of rebuild if failed.
    next: Option<Time>,
    /// Bytes of fragments assigned to it.
    used: u64,
}

#[derive(Debug, Clone)]
struct Stored {
    stored_len: u64,
    /// The disk of each fragment.
    frags: Vec<u32>,
    /// Fragments on failed disks.
    down: u16,
}

/// One row of the `dcstore_disks` table.
#[derive(Debug, Clone, Serialize)]
pub struct DiskRow {
    /// When, ns (the event's own time, also when applied after an outage).
    pub time_ns: u64,
    /// The disk.
    pub disk: u32,
    /// `fail` or `rebuilt`.
    pub event: &'static str,
    /// Fragments lost (fail) or written back (rebuilt).
    pub fragments: u64,
    /// Objects lost by this failure.
    pub objects_lost: u64,
}

/// The data-center site: every object, on its disks.
#[derive(Debug, Clone)]
pub struct StoreSite {
    cfg: StoreSiteConfig,
    disks: Vec<Disk>,
    /// Disk events by (time, disk).
    schedule: BTreeSet<(Time, u32)>,
    objects: BTreeMap<ObjectId, Stored>,
    /// Objects with a fragment on each disk.
    on_disk: Vec<BTreeSet<ObjectId>>,
    /// Objects lost, with the time of loss.
    lost: BTreeMap<ObjectId, Time>,
    started: bool,
    wake: Option<(Time, TimerId)>,
    downloads: BTreeSet<TransferId>,
    /// Record the `dcstore_disks` table.
    pub rows: bool,
    disk_failures: u64,
    rebuilds: u64,
    rebuild_bytes: u64,
}

impl StoreSite {
    /// A site; panics on an invalid configuration (check it with
    /// [`StoreSiteConfig::validate`]).
    pub fn new(cfg: StoreSiteConfig) -> StoreSite {
        if let Err(e) = cfg.validate() {
            panic!("invalid site configuration: {e}");
        }
        let n = cfg.disks as usize;
        StoreSite {
            cfg,
            disks: vec![
                Disk {
                    failed_since: None,
                    next: None,
                    used: 0,
                };
                n
            ],
            schedule: BTreeSet::new(),
            objects: BTreeMap::new(),
            on_disk: vec![BTreeSet::new(); n],
            lost: BTreeMap::new(),
            started: false,
            wake: None,
            downloads: BTreeSet::new(),
            rows: false,
            disk_failures: 0,
            rebuilds: 0,
            rebuild_bytes: 0,
        }
    }
    /// The configuration.
    pub fn config(&self) -> &StoreSiteConfig {
        &self.cfg
    }
    /// Objects stored (not lost, not deleted).
    pub fn objects(&self) -> usize {
        self.objects.len()
    }
    /// Whether the site holds `object`.
    pub fn holds(&self, object: &ObjectId) -> bool {
        self.objects.contains_key(object)
    }
    /// Objects lost to disk failures (or to a permanent stop), with the
    /// time of their last loss. An object written again after its loss
    /// stays listed, as in the P2P side's ledger.
    pub fn lost(&self) -> &BTreeMap<ObjectId, Time> {
        &self.lost
    }
    /// Disks failed right now.
    pub fn disks_failed(&self) -> usize {
        self.disks
            .iter()
            .filter(|d| d.failed_since.is_some())
            .count()
    }
    /// Disk failures so far.
    pub fn disk_failures(&self) -> u64 {
        self.disk_failures
    }
    /// Rebuilds completed so far.
    pub fn rebuilds(&self) -> u64 {
        self.rebuilds
    }
    /// Bytes written back by rebuilds (inside the site: not network
    /// traffic).
    pub fn rebuild_bytes(&self) -> u64 {
        self.rebuild_bytes
    }
    /// Bytes on disks (fragments of the objects stored).
    pub fn bytes_on_disks(&self) -> u64 {
        self.disks.iter().map(|d| d.used).sum()
    }
    /// Stored bytes of the objects held (their logical size).
    pub fn logical_bytes(&self) -> u64 {
        self.objects.values().map(|o| o.stored_len).sum()
    }
    /// Bytes on disks over logical bytes (None when nothing is stored).
    pub fn storage_overhead(&self) -> Option<f64> {
        let l = self.logical_bytes();
        (l > 0).then(|| self.bytes_on_disks() as f64 / l as f64)
    }

    fn draw_exp(cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, mean_ns: f64) -> Duration {
        let u: f64 = cx.rng().random();
        let d = -(1.0 - u).ln() * mean_ns;
        // At least 1 ns; saturate far beyond any run.
        Duration(if d >= u64::MAX as f64 {
            u64::MAX
        } else {
            (d.round() as u64).max(1)
        })
    }

    fn schedule_failure(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        disk: u32,
        from: Time,
    ) {
        if self.cfg.afr <= 0.0 {
            self.disks[disk as usize].next = None;
            return;
        }
        let mean = YEAR.0 as f64 / self.cfg.afr;
        let at = from.saturating_add(Self::draw_exp(cx, mean));
        self.disks[disk as usize].next = Some(at);
        self.schedule.insert((at, disk));
    }

    fn schedule_rebuild(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        disk: u32,
        from: Time,
    ) {
        let after = match self.cfg.rebuild {
            Rebuild::Never => None,
            Rebuild::Fixed(d) => Some(d),
            Rebuild::Exponential(m) => Some(Self::draw_exp(cx, m.0 as f64)),
        };
        let at = after.map(|d| from.saturating_add(d));
        self.disks[disk as usize].next = at;
        if let Some(at) = at {
            self.schedule.insert((at, disk));
        }
    }

    /// Apply every disk event due by now, in time order at its own time,
    /// then arm the timer for the next one.
    fn catch_up(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>) {
        let now = cx.now();
        while let Some(&(t, d)) = self.schedule.first() {
            if t > now {
                break;
            }
            self.schedule.pop_first();
            if self.disks[d as usize].failed_since.is_none() {
                self.fail(cx, d, t);
            } else {
                self.rebuilt(cx, d, t);
            }
        }
        if let Some(&(t, _)) = self.schedule.first()
            && self.wake.is_none_or(|(w, _)| w != t)
        {
            if let Some((_, id)) = self.wake.take() {
                cx.cancel_timer(id);
            }
            let id = cx.set_timer(t.since(now), DcStoreTimer::Disk);
            self.wake = Some((t, id));
        }
    }

    fn fail(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, disk: u32, t: Time) {
        self.disks[disk as usize].failed_since = Some(t);
        self.disk_failures += 1;
        cx.count("dcstore.disk_failures", 1);
        let (m, n) = (self.cfg.scheme.m(), self.cfg.scheme.n());
        let mut fragments = 0u64;
        let mut dead = Vec::new();
        for o in &self.on_disk[disk as usize] {
            let s = self.objects.get_mut(o).expect("indexed objects are stored");
            let here = s.frags.iter().filter(|&&d| d == disk).count() as u16;
            fragments += u64::from(here);
            s.down += here;
            if n - s.down < m {
                dead.push(*o);
            }
        }
        for o in &dead {
            self.drop_object(o);
            self.lost.insert(*o, t);
        }
        cx.count("dcstore.objects_lost", dead.len() as u64);
        if self.rows {
            let row = DiskRow {
                time_ns: t.0,
                disk,
                event: "fail",
                fragments,
                objects_lost: dead.len() as u64,
            };
            cx.record("dcstore_disks", &row);
        }
        self.schedule_rebuild(cx, disk, t);
    }

    fn rebuilt(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, disk: u32, t: Time) {
        self.disks[disk as usize].failed_since = None;
        self.rebuilds += 1;
        cx.count("dcstore.rebuilds", 1);
        let mut fragments = 0u64;
        let mut bytes = 0u64;
        for o in &self.on_disk[disk as usize] {
            let s = self.objects.get_mut(o).expect("indexed objects are stored");
            let here = s.frags.iter().filter(|&&d| d == disk).count() as u16;
            s.down -= here;
            fragments += u64::from(here);
            bytes += u64::from(here) * self.cfg.scheme.fragment_len(s.stored_len);
        }
        self.rebuild_bytes += bytes;
        cx.count("dcstore.rebuild_bytes", bytes);
        if self.rows {
            let row = DiskRow {
                time_ns: t.0,
                disk,
                event: "rebuilt",
                fragments,
                objects_lost: 0,
            };
            cx.record("dcstore_disks", &row);
        }
        self.schedule_failure(cx, disk, t);
    }

    fn drop_object(&mut self, o: &ObjectId) {
        let Some(s) = self.objects.remove(o) else {
            return;
        };
        let f = self.cfg.scheme.fragment_len(s.stored_len);
        for &d in &s.frags {
            self.disks[d as usize].used -= f;
            self.on_disk[d as usize].remove(o);
        }
    }

    /// Disks for the n fragments of an object of `len` stored bytes, or
    /// None when there is no room.
    fn place(&self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, len: u64) -> Option<Vec<u32>> {
        let n = self.cfg.scheme.n();
        let f = self.cfg.scheme.fragment_len(len);
        let per_disk = if self.cfg.distinct_disks {
            f
        } else {
            f.saturating_mul(u64::from(n))
        };
        let mut cands: Vec<u32> = (0..self.cfg.disks)
            .filter(|&i| {
                let d = &self.disks[i as usize];
                d.failed_since.is_none()
                    && d.used.saturating_add(per_disk) <= self.cfg.disk_capacity
            })
            .collect();
        let want = if self.cfg.distinct_disks {
            usize::from(n)
        } else {
            1
        };
        if cands.len() < want {
            return None;
        }
        // Partial Fisher–Yates: the first `want` are a uniform sample.
        for i in 0..want {
            let j = cx.rng().random_range(i..cands.len());
            cands.swap(i, j);
        }
        cands.truncate(want);
        Some(if self.cfg.distinct_disks {
            cands
        } else {
            vec![cands[0]; usize::from(n)]
        })
    }

    fn can_place(&self, len: u64) -> bool {
        let n = self.cfg.scheme.n();
        let f = self.cfg.scheme.fragment_len(len);
        let (per_disk, want) = if self.cfg.distinct_disks {
            (f, usize::from(n))
        } else {
            (f.saturating_mul(u64::from(n)), 1)
        };
        self.disks
            .iter()
            .filter(|d| {
                d.failed_since.is_none()
                    && d.used.saturating_add(per_disk) <= self.cfg.disk_capacity
            })
            .take(want)
            .count()
            == want
    }

    fn store(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        object: ObjectId,
        len: u64,
    ) -> bool {
        if self.objects.contains_key(&object) {
            // Content-addressed: the same bytes are already here.
            return true;
        }
        let Some(frags) = self.place(cx, len) else {
            return false;
        };
        let f = self.cfg.scheme.fragment_len(len);
        for &d in &frags {
            self.disks[d as usize].used += f;
            self.on_disk[d as usize].insert(object);
        }
        self.objects.insert(
            object,
            Stored {
                stored_len: len,
                frags,
                down: 0,
            },
        );
        true
    }

    fn on_start(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>) {
        self.wake = None;
        if !self.started {
            self.started = true;
            let now = cx.now();
            for d in 0..self.cfg.disks {
                self.schedule_failure(cx, d, now);
            }
        }
        self.catch_up(cx);
    }

    fn on_message(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        from: NodeId,
        msg: DcStoreMsg,
    ) {
        self.catch_up(cx);
        let n = self.cfg.scheme.n();
        match msg {
            DcStoreMsg::Put { rid, object, len } => {
                let ok = self.objects.contains_key(&object) || self.can_place(len);
                let reply = if ok {
                    DcStoreMsg::Ready { rid }
                } else {
                    cx.count("dcstore.full", 1);
                    DcStoreMsg::Full { rid, need: n }
                };
                cx.send(from, reply);
            }
            DcStoreMsg::Upload { rid, object, len } => {
                let reply = if self.store(cx, object, len) {
                    DcStoreMsg::Stored { rid, fragments: n }
                } else {
                    cx.count("dcstore.full", 1);
                    DcStoreMsg::Full { rid, need: n }
                };
                cx.send(from, reply);
            }
            DcStoreMsg::Get { rid, object } => match self.objects.get(&object) {
                Some(s) => {
                    let len = s.stored_len;
                    cx.send(from, DcStoreMsg::Found { rid, len });
                    let id = cx.send_bulk(from, DcStoreMsg::Download { rid, len });
                    self.downloads.insert(id);
                }
                None => cx.send(from, DcStoreMsg::Missing { rid }),
            },
            DcStoreMsg::Delete { object } => self.drop_object(&object),
            _ => cx.count("dcstore.unexpected_message", 1),
        }
    }

    fn on_transfer(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        id: TransferId,
        o: TransferOutcome,
    ) -> bool {
        if !self.downloads.remove(&id) {
            return false;
        }
        let bytes = match o {
            TransferOutcome::Completed { bytes, .. } => bytes.0,
            TransferOutcome::Failed { moved, .. } => moved.0,
        };
        cx.count("dcstore.read_bytes", bytes);
        true
    }

    fn on_stop(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, how: Stop) {
        self.wake = None;
        // The downloads fail with the site; the network counts what they
        // moved, and so does the site.
        for id in std::mem::take(&mut self.downloads) {
            let moved = cx.transfer_moved(id).map_or(0, |b| b.0);
            cx.count("dcstore.read_bytes", moved);
        }
        if how == Stop::Permanent {
            // The disks go with the site.
            let now = cx.now();
            let all: Vec<ObjectId> = self.objects.keys().copied().collect();
            for o in &all {
                self.drop_object(o);
                self.lost.insert(*o, now);
            }
            cx.count("dcstore.objects_lost", all.len() as u64);
            self.schedule.clear();
        }
    }
}

// ------------------------------------------------------------------ client

/// What an operation was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OpKind {
    /// A write.
    Write,
    /// A read.
    Read,
}

/// A finished client operation, with what the events do not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpRecord {
    /// The command's tag.
    pub tag: u64,
    /// Write or read.
    pub kind: OpKind,
    /// The object.
    pub object: ObjectId,
    /// First send.
    pub started: Time,
    /// End.
    pub ended: Time,
    /// Succeeded.
    pub ok: bool,
    /// Requests sent (1 + retries).
    pub attempts: u32,
    /// Whether the site was up when the operation started (global
    /// knowledge, for analysis only: the client never uses it).
    pub site_up_at_start: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the site's answer.
    Asking,
    /// Answered; the data is moving.
    Moving,
}

#[derive(Debug, Clone)]
struct Op {
    tag: u64,
    kind: OpKind,
    object: ObjectId,
    /// Stored length (writes).
    len: u64,
    started: Time,
    attempts: u32,
    phase: Phase,
    timer: TimerId,
    upload: Option<TransferId>,
    site_up: bool,
}

/// A client of the storage site.
#[derive(Debug, Clone)]
pub struct StoreClient {
    /// The site's address.
    pub site: NodeId,
    /// Timeouts, retries, encryption.
    pub cfg: StoreClientConfig,
    ops: BTreeMap<u32, Op>,
    uploads: BTreeMap<TransferId, u32>,
    next_rid: u32,
    /// Where to append events (experiment side), if anywhere.
    pub log: Option<EventLog>,
    /// Record the `storage_ops` table.
    pub rows: bool,
    /// Keep finished operations in `done`.
    pub keep: bool,
    /// Finished operations (with `keep`).
    pub done: Vec<OpRecord>,
}

impl StoreClient {
    /// A client of `site`.
    pub fn new(site: NodeId, cfg: StoreClientConfig) -> StoreClient {
        StoreClient {
            site,
            cfg,
            ops: BTreeMap::new(),
            uploads: BTreeMap::new(),
            next_rid: 0,
            log: None,
            rows: false,
            keep: true,
            done: Vec::new(),
        }
    }

    /// Operations in progress.
    pub fn pending(&self) -> usize {
        self.ops.len()
    }

    fn emit(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, e: Event) {
        if self.rows
            && let Some(Row::Op(r)) = Row::of(cx.me().0, cx.now().0, &e)
        {
            cx.record("storage_ops", &r);
        }
        if let Some(log) = &self.log {
            log.borrow_mut().push((cx.now(), cx.me(), e));
        }
    }

    fn request_msg(rid: u32, op: &Op) -> DcStoreMsg {
        match op.kind {
            OpKind::Write => DcStoreMsg::Put {
                rid,
                object: op.object,
                len: op.len,
            },
            OpKind::Read => DcStoreMsg::Get {
                rid,
                object: op.object,
            },
        }
    }

    fn command(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, c: Command) {
        let (tag, kind, object, len) = match c {
            Command::Write { tag, object, len } => (
                tag,
                OpKind::Write,
                object,
                stored_len(len, self.cfg.encrypted),
            ),
            Command::Read { tag, object } => (tag, OpKind::Read, object, 0),
            Command::Delete { tag, object } => {
                cx.send(self.site, DcStoreMsg::Delete { object });
                self.emit(cx, Event::Deleted { tag, object });
                return;
            }
        };
        let rid = self.next_rid;
        self.next_rid = self.next_rid.wrapping_add(1);
        let timer = cx.set_timer(self.cfg.attempt_timeout, DcStoreTimer::Op { rid });
        let op = Op {
            tag,
            kind,
            object,
            len,
            started: cx.now(),
            attempts: 1,
            phase: Phase::Asking,
            timer,
            upload: None,
            site_up: cx.oracle_is_up(self.site),
        };
        cx.send(self.site, Self::request_msg(rid, &op));
        self.ops.insert(rid, op);
    }

    /// End operation `rid` with `result` (Ok: for a write the fragments
    /// stored, for a read the bytes fetched).
    fn finish(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        rid: u32,
        result: Result<u64, Failure>,
    ) {
        let Some(op) = self.ops.remove(&rid) else {
            return;
        };
        cx.cancel_timer(op.timer);
        let now = cx.now();
        let ok = result.is_ok();
        let e = match op.kind {
            OpKind::Write => Event::Written {
                tag: op.tag,
                object: op.object,
                started: op.started,
                ended: now,
                result: match result {
                    Ok(fragments) => Ok((0..fragments as u16)
                        .map(|index| Holder {
                            node: self.site,
                            index,
                        })
                        .collect()),
                    Err(Failure::Full { need }) => Err(WriteFailure::NoSpace { placed: 0, need }),
                    Err(_) => Err(WriteFailure::Timeout),
                },
            },
            OpKind::Read => Event::Read {
                tag: op.tag,
                object: op.object,
                started: op.started,
                ended: now,
                result: match result {
                    Ok(bytes) => Ok(bytes),
                    Err(Failure::Missing) => Err(ReadFailure::NotEnough { found: 0, need: 1 }),
                    Err(_) => Err(ReadFailure::Timeout),
                },
            },
        };
        if self.keep {
            self.done.push(OpRecord {
                tag: op.tag,
                kind: op.kind,
                object: op.object,
                started: op.started,
                ended: now,
                ok,
                attempts: op.attempts,
                site_up_at_start: op.site_up,
            });
        }
        self.emit(cx, e);
    }

    /// The current attempt was silent (timeout, or a failed upload): send
    /// the request again, or give up.
    fn silent(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, rid: u32) {
        let Some(op) = self.ops.get_mut(&rid) else {
            return;
        };
        cx.cancel_timer(op.timer);
        if op.attempts > self.cfg.retries {
            self.finish(cx, rid, Err(Failure::Timeout));
            return;
        }
        cx.count("dcstore.retries", 1);
        op.attempts += 1;
        op.phase = Phase::Asking;
        op.upload = None;
        op.timer = cx.set_timer(self.cfg.attempt_timeout, DcStoreTimer::Op { rid });
        let msg = Self::request_msg(rid, op);
        cx.send(self.site, msg);
    }

    fn on_timer(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, rid: u32) {
        if self.ops.contains_key(&rid) {
            cx.count("dcstore.timeouts", 1);
            self.silent(cx, rid);
        }
    }

    fn on_message(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        from: NodeId,
        msg: DcStoreMsg,
    ) {
        if from != self.site {
            cx.count("dcstore.unexpected_message", 1);
            return;
        }
        let rid = match &msg {
            DcStoreMsg::Ready { rid }
            | DcStoreMsg::Full { rid, .. }
            | DcStoreMsg::Stored { rid, .. }
            | DcStoreMsg::Found { rid, .. }
            | DcStoreMsg::Download { rid, .. }
            | DcStoreMsg::Missing { rid } => *rid,
            _ => {
                cx.count("dcstore.unexpected_message", 1);
                return;
            }
        };
        let Some(op) = self.ops.get_mut(&rid) else {
            cx.count("dcstore.late_reply", 1);
            return;
        };
        let transfer_timeout = self.cfg.transfer_timeout;
        match (op.kind, msg) {
            (OpKind::Write, DcStoreMsg::Ready { .. }) => {
                if op.phase == Phase::Moving {
                    cx.count("dcstore.late_reply", 1);
                    return;
                }
                cx.cancel_timer(op.timer);
                op.phase = Phase::Moving;
                let up = DcStoreMsg::Upload {
                    rid,
                    object: op.object,
                    len: op.len,
                };
                let id = cx.send_bulk(self.site, up);
                op.upload = Some(id);
                op.timer = cx.set_timer(transfer_timeout, DcStoreTimer::Op { rid });
                self.uploads.insert(id, rid);
            }
            (OpKind::Write, DcStoreMsg::Full { need, .. }) => {
                self.finish(cx, rid, Err(Failure::Full { need }));
            }
            (OpKind::Write, DcStoreMsg::Stored { fragments, .. }) => {
                self.finish(cx, rid, Ok(u64::from(fragments)));
            }
            (OpKind::Read, DcStoreMsg::Found { .. }) => {
                if op.phase == Phase::Moving {
                    cx.count("dcstore.late_reply", 1);
                    return;
                }
                cx.cancel_timer(op.timer);
                op.phase = Phase::Moving;
                op.timer = cx.set_timer(transfer_timeout, DcStoreTimer::Op { rid });
            }
            (OpKind::Read, DcStoreMsg::Download { len, .. }) => {
                self.finish(cx, rid, Ok(len));
            }
            (OpKind::Read, DcStoreMsg::Missing { .. }) => {
                self.finish(cx, rid, Err(Failure::Missing));
            }
            _ => cx.count("dcstore.unexpected_message", 1),
        }
    }

    fn on_transfer(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        id: TransferId,
        o: TransferOutcome,
    ) -> bool {
        let Some(rid) = self.uploads.remove(&id) else {
            return false;
        };
        let (delivered, bytes) = match o {
            TransferOutcome::Completed { bytes, .. } => (true, bytes.0),
            TransferOutcome::Failed { moved, .. } => (false, moved.0),
        };
        cx.count("dcstore.write_bytes", bytes);
        if !delivered && self.ops.get(&rid).is_some_and(|op| op.upload == Some(id)) {
            cx.count("dcstore.upload_failed", 1);
            self.silent(cx, rid);
        }
        true
    }

    fn on_stop(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>) {
        for (id, _) in std::mem::take(&mut self.uploads) {
            let moved = cx.transfer_moved(id).map_or(0, |b| b.0);
            cx.count("dcstore.write_bytes", moved);
        }
        let lost = self.ops.len() as u64;
        self.ops.clear();
        cx.count("dcstore.lost_at_client_stop", lost);
    }
}

#[derive(Debug, Clone, Copy)]
enum Failure {
    Full { need: u16 },
    Missing,
    Timeout,
}

// ------------------------------------------------------------------ node

/// A node of a storage-baseline simulation: the site or a client.
#[derive(Debug, Clone)]
pub enum DcStoreNode {
    /// The data-center site.
    Site(StoreSite),
    /// A client.
    Client(StoreClient),
}

sim_core::impl_node_for_layer!(DcStoreNode);

impl Layer for DcStoreNode {
    type Msg = DcStoreMsg;
    type Timer = DcStoreTimer;
    type Request = Command;

    fn start(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>) {
        if let DcStoreNode::Site(s) = self {
            s.on_start(cx);
        }
    }

    fn message(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        from: NodeId,
        msg: DcStoreMsg,
    ) {
        match self {
            DcStoreNode::Site(s) => s.on_message(cx, from, msg),
            DcStoreNode::Client(c) => c.on_message(cx, from, msg),
        }
    }

    fn timer(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, timer: DcStoreTimer) {
        match (self, timer) {
            (DcStoreNode::Site(s), DcStoreTimer::Disk) => {
                s.wake = None;
                s.catch_up(cx);
            }
            (DcStoreNode::Client(c), DcStoreTimer::Op { rid }) => c.on_timer(cx, rid),
            _ => {}
        }
    }

    fn request(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, req: Command) {
        match self {
            DcStoreNode::Client(c) => c.command(cx, req),
            DcStoreNode::Site(_) => cx.count("dcstore.request_at_site", 1),
        }
    }

    fn transfer(
        &mut self,
        cx: &mut impl Context<DcStoreMsg, DcStoreTimer>,
        id: TransferId,
        outcome: TransferOutcome,
    ) -> bool {
        match self {
            DcStoreNode::Site(s) => s.on_transfer(cx, id, outcome),
            DcStoreNode::Client(c) => c.on_transfer(cx, id, outcome),
        }
    }

    fn stop(&mut self, cx: &mut impl Context<DcStoreMsg, DcStoreTimer>, how: Stop) {
        match self {
            DcStoreNode::Site(s) => s.on_stop(cx, how),
            DcStoreNode::Client(c) => c.on_stop(cx),
        }
    }
}

impl DcStoreNode {
    /// The site, if this node is one.
    pub fn site(&self) -> Option<&StoreSite> {
        match self {
            DcStoreNode::Site(s) => Some(s),
            DcStoreNode::Client(_) => None,
        }
    }
    /// The client, if this node is one.
    pub fn client(&self) -> Option<&StoreClient> {
        match self {
            DcStoreNode::Client(c) => Some(c),
            DcStoreNode::Site(_) => None,
        }
    }
}

/// The headline numbers of a storage-baseline run, in the P2P side's
/// [`Summary`]: objects written, lost (to disk failures at `site`), reads
/// and their successes, mean latencies, and the storage overhead (bytes on
/// the site's disks over the logical bytes of the objects it holds).
/// `readable_fraction` and `samples` stay empty (no sampling here), repair
/// bytes are zero (rebuilds stay inside the site:
/// [`StoreSite::rebuild_bytes`]) and `bulk_bytes_per_peer` is None (there
/// are no peers).
pub fn summary(sim: &Sim<DcStoreNode>, site: NodeId, log: &EventLog) -> Summary {
    let mut s = Summary {
        placement: "site",
        ..Summary::default()
    };
    let written = s.add_ops(log.borrow().iter().map(|(_, _, e)| e));
    if let Some(st) = sim.node(site).site() {
        s.lost = written.iter().filter(|o| st.lost.contains_key(*o)).count() as u64;
        s.storage_overhead = st.storage_overhead();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::node::check_wire_size;

    #[test]
    fn wire_sizes_match_the_encoding() {
        let object = ObjectId::synthetic(1, 2);
        for m in [
            DcStoreMsg::Put {
                rid: 7,
                object,
                len: 1 << 20,
            },
            DcStoreMsg::Ready { rid: 7 },
            DcStoreMsg::Full { rid: 7, need: 3 },
            DcStoreMsg::Upload {
                rid: 300,
                object,
                len: 1 << 20,
            },
            DcStoreMsg::Stored {
                rid: 7,
                fragments: 3,
            },
            DcStoreMsg::Get { rid: 7, object },
            DcStoreMsg::Found { rid: 7, len: 99 },
            DcStoreMsg::Download { rid: 7, len: 99 },
            DcStoreMsg::Missing { rid: 7 },
            DcStoreMsg::Delete { object },
        ] {
            check_wire_size(&m).unwrap();
        }
    }

    #[test]
    fn configurations_are_checked() {
        assert!(StoreSiteConfig::default().validate().is_ok());
        let few = StoreSiteConfig {
            disks: 2,
            ..StoreSiteConfig::default()
        };
        assert!(few.validate().is_err());
        let few_but_one_disk = StoreSiteConfig {
            distinct_disks: false,
            ..few
        };
        assert!(few_but_one_disk.validate().is_ok());
        let bad_afr = StoreSiteConfig {
            afr: f64::NAN,
            ..StoreSiteConfig::default()
        };
        assert!(bad_afr.validate().is_err());
        let ec = StoreSiteConfig {
            scheme: Scheme::Erasure { m: 17, n: 20 },
            ..StoreSiteConfig::default()
        };
        assert!(ec.validate().is_ok());
        assert!((ec.overhead() - 20.0 / 17.0).abs() < 1e-12);
    }
}
