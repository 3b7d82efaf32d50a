//! Protocol parameters: the paper's defaults, except that buckets are kept
//! spread and the join refreshes each bucket with 4 lookups (see
//! [`Config::bucket_spread`]).

use crate::key::{KEY_BITS_DEFAULT, valid_width};
pub use crate::lookup::Termination;
use sim_core::Duration;

/// How long an RPC may take before its peer counts as unresponsive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpcTimeout {
    /// The same timeout for every RPC.
    Fixed(Duration),
    /// `srtt + 4 rttvar` from measured round trips (RFC 6298 smoothing,
    /// one estimator per node), clamped to `[floor, cap]`; `initial` until
    /// the first round trip is measured.
    Adaptive {
        /// Timeout before any measurement.
        initial: Duration,
        /// Lower bound.
        floor: Duration,
        /// Upper bound.
        cap: Duration,
    },
}

/// How a node that restarts with its routing table rejoins (see
/// [`Config::rejoin`]). A node that lost its table always joins by the
/// self-lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejoin {
    /// The join's self-lookup (and its bucket refresh if
    /// [`Config::refresh_on_join`]), as at the first join.
    SelfLookup,
    /// Ping the k closest contacts of its own table, once, instead of
    /// looking itself up: they hear from it (and insert it as the paper's
    /// rule for any message received says), it learns which of them are
    /// still there (an unanswered ping counts as a failed RPC, as any
    /// other). One round of at most k RPCs, no iterative lookup; contacts
    /// that joined near it while it was down are learnt only later, from
    /// traffic.
    PingClosest,
    /// No RPC: the node is heard from again as it sends its next requests
    /// (every message received inserts or refreshes its sender), and its
    /// own RPCs to contacts that left while it was down fail and age them
    /// out as usual.
    Silent,
}

/// Kademlia parameters. Defaults follow Maymounkov & Mazières (2002)
/// except [`Config::bucket_spread`] (on) and
/// [`Config::join_refresh_targets`] (4): with the paper's rules, tables
/// built by joins route measurably worse than converged tables.
#[derive(Debug, Clone)]
pub struct Config {
    /// Key width in bits (32 to 256, a multiple of 8).
    pub key_bits: u16,
    /// Bucket size.
    pub k: usize,
    /// Number of nodes a record is stored on (the paper uses `k`).
    pub replication: usize,
    /// Parallel RPCs per lookup.
    pub alpha: usize,
    /// Replacement-cache entries per bucket.
    pub replacements_per_bucket: usize,
    /// Failed RPCs after which a contact is evicted even when no
    /// replacement is waiting.
    pub stale_failures_max: u8,
    /// Ping the least recently seen contact of a full bucket (before
    /// evicting it for a newcomer) only if it was not heard from for this
    /// long. Zero pings every time, as the paper describes.
    pub ping_after: Duration,
    /// RPC timeout policy.
    pub rpc_timeout: RpcTimeout,
    /// Most RPCs one lookup may send (it then finishes with what it has).
    pub lookup_rpcs_max: u32,
    /// Most peers a lookup keeps track of (the farthest are dropped).
    pub lookup_peers_max: usize,
    /// Most operations (lookups, gets, puts) running at once.
    pub ops_max: usize,
    /// Most RPCs outstanding at once.
    pub rpcs_pending_max: usize,
    /// Refresh a bucket not looked up in this long (None: never).
    pub refresh_interval: Option<Duration>,
    /// Most refresh lookups started per refresh tick.
    pub refresh_lookups_max: usize,
    /// Re-store every record held, this often (None: never).
    pub republish_interval: Option<Duration>,
    /// Most records republished per republish tick.
    pub republish_batch_max: usize,
    /// The original publisher re-puts its records this often (None: never).
    pub original_republish_interval: Option<Duration>,
    /// A record expires this long after it was published.
    pub record_ttl: Duration,
    /// Cache a found value at the closest node that lacked it.
    pub cache_on_path: bool,
    /// Lifetime of a cached copy.
    pub cache_ttl: Duration,
    /// Most records a node holds.
    pub records_max: usize,
    /// Keep the routing table across a transient restart (it is on disk).
    pub keep_table_on_restart: bool,
    /// Look up the node's own id on start (the join's self-lookup).
    pub self_lookup_on_join: bool,
    /// What a node back from a transient failure with its routing table
    /// kept ([`Config::keep_table_on_restart`]) does to rejoin, when its
    /// start asks for a join. [`Rejoin::SelfLookup`] by default: BEP 5
    /// (BitTorrent's DHT) has a node look itself up "when starting up
    /// thereafter", as at its first join.
    pub rejoin: Rejoin,
    /// Wait this long before retrying a join whose self-lookup got no
    /// answer.
    pub join_retry_interval: Duration,
    /// Most join retries per start.
    pub join_retries_max: u8,
    /// Lookups per bucket in the join's refresh, to random targets in the
    /// bucket (1 in the paper; default 4). Running several in parallel fills
    /// a bucket from several regions of its range instead of the one region
    /// around a single target. With [`Config::bucket_spread`] target `j` of
    /// `m` lies in the `j`-th of `m` equal groups of the bucket's sub-ranges.
    ///
    /// 4 was chosen by measurement, with spread buckets: with 1 lookup per
    /// bucket, hops grow faster with log2 N than over full-knowledge
    /// tables, with 4 they do not (the reproduction cases
    /// `repro/kademlia-hops-vs-one-refresh*.toml` of `scenarios check`;
    /// N = 2^7 and 2^10, slope of the paired difference joined − full
    /// knowledge 0.0131 ± 0.0020 with 1, rejected, and 0.0031 ± 0.0024
    /// with 4, accepted). Joins are most of the cost of a network started
    /// at once: on `kademlia-scale` at 10^4 nodes, 1 took 79 s of CPU and
    /// 652 MiB against 187 s and 948 MiB with 4, its lookups as correct
    /// (docs/design.md, Scale).
    ///
    /// The refresh lookups are queued and started at most
    /// [`Config::join_refresh_parallel`] at a time, and only while fewer
    /// than [`Config::ops_max`] operations run: none is dropped for lack
    /// of room, whatever the number of buckets.
    pub join_refresh_targets: usize,
    /// Most refresh lookups of the join running at once on one node; the
    /// next queued one starts when one finishes (farthest bucket first).
    ///
    /// Starting them all at once (about 4 per bucket, 60 per node at
    /// 10^4 nodes with 32-bit ids) made every node of a network started
    /// together have α RPCs of each of them in flight at the same time:
    /// millions of messages pending in the simulator, and with
    /// [`Config::ops_max`] 64 the last ones were rejected.
    pub join_refresh_parallel: usize,
    /// Refresh every bucket farther than the closest neighbour after the
    /// join's self-lookup.
    pub refresh_on_join: bool,
    /// Keep the contacts of a full bucket spread over `2^floor(log2 k)`
    /// equal sub-ranges of the bucket (libtorrent's rule, see
    /// [`RoutingTable::set_spread_bits`](crate::table::RoutingTable::set_spread_bits));
    /// false is the paper's rule (the first k live nodes heard from stay).
    /// With it, the join's refresh lookups of a bucket
    /// (`join_refresh_targets` of them) aim at distinct sub-ranges.
    ///
    /// On by default. With the paper's rule, a joined node's buckets keep
    /// the responders of its refresh lookups, which cluster around the
    /// lookups' targets, and traffic or hourly refresh never replaces them
    /// (only churn does): lookups over such tables need more hops than over
    /// converged tables, and the gap grows with N. Measured by the
    /// reproduction cases `repro/kademlia-hops-vs-bucket-rule*.toml` of
    /// `scenarios check` (N = 2^7 and 2^10, slope on log2 N of the paired
    /// difference of hops, joined − full knowledge): 0.0516 ± 0.0039 with
    /// the paper's rule, −0.0002 ± 0.0029 with spread buckets (4 refresh
    /// lookups per bucket in both).
    pub bucket_spread: bool,
    /// When a lookup may stop (see [`crate::lookup`]). The paper's rule
    /// ([`Termination::KClosest`]) by default: every result of the
    /// crate's published measurements was made with it.
    /// [`Termination::ClosestAnswered`] stops once the closest known
    /// contacts have answered (and a grace period has passed), as deployed
    /// DHTs do; it does not wait for an RPC timeout of one of the k closest.
    /// It applies to every lookup (joins, refreshes, puts): a put then
    /// stores on the closest nodes that had answered when the lookup
    /// stopped, which can be fewer than [`Config::replication`].
    pub termination: Termination,
}

impl Config {
    /// Sub-range bits of a bucket kept spread (0: off).
    pub fn spread_bits(&self) -> u8 {
        if self.bucket_spread {
            (usize::BITS - 1 - self.k.max(1).leading_zeros()) as u8
        } else {
            0
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            key_bits: KEY_BITS_DEFAULT,
            k: 20,
            replication: 20,
            alpha: 3,
            replacements_per_bucket: 8,
            stale_failures_max: 5,
            ping_after: Duration::from_secs(15 * 60),
            rpc_timeout: RpcTimeout::Fixed(Duration::from_secs(1)),
            lookup_rpcs_max: 200,
            lookup_peers_max: 160,
            ops_max: 64,
            rpcs_pending_max: 512,
            refresh_interval: Some(Duration::from_secs(3600)),
            refresh_lookups_max: 64,
            republish_interval: Some(Duration::from_secs(3600)),
            republish_batch_max: 256,
            original_republish_interval: Some(Duration::from_secs(24 * 3600)),
            record_ttl: Duration::from_secs(24 * 3600),
            cache_on_path: false,
            cache_ttl: Duration::from_secs(3600),
            records_max: 4096,
            keep_table_on_restart: true,
            self_lookup_on_join: true,
            rejoin: Rejoin::SelfLookup,
            join_retry_interval: Duration::from_secs(60),
            join_retries_max: 30,
            refresh_on_join: true,
            join_refresh_targets: 4,
            join_refresh_parallel: 4,
            bucket_spread: true,
            termination: Termination::KClosest,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid kademlia config: {}", self.0)
    }
}
impl std::error::Error for ConfigError {}

impl Config {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |s: &str| Err(ConfigError(s.to_string()));
        if !valid_width(self.key_bits) {
            return bad("key_bits must be 32..=256 and a multiple of 8");
        }
        if self.k == 0 || self.k > 255 {
            return bad("k must be 1..=255");
        }
        if self.alpha == 0 || self.replication == 0 || self.replication > self.k {
            return bad("alpha >= 1 and 1 <= replication <= k");
        }
        if self.lookup_peers_max < self.k || self.lookup_rpcs_max == 0 {
            return bad("lookup_peers_max >= k and lookup_rpcs_max >= 1");
        }
        if self.join_refresh_targets == 0 {
            return bad("join_refresh_targets must be at least 1");
        }
        if self.join_refresh_parallel == 0 {
            return bad("join_refresh_parallel must be at least 1");
        }
        if self.ops_max == 0 || self.rpcs_pending_max == 0 {
            return bad("ops_max and rpcs_pending_max must be positive");
        }
        if let Termination::ClosestAnswered { n, .. } = self.termination
            && (n == 0 || n > self.k)
        {
            return bad("termination: closest-answered needs 1 <= n <= k");
        }
        if let RpcTimeout::Adaptive { floor, cap, .. } = self.rpc_timeout
            && floor > cap
        {
            return bad("adaptive timeout floor above cap");
        }
        Ok(())
    }
}
