//! Parameters of the storage layer.

use crate::scheme::{Scheme, SchemeError};
use sim_core::Duration;

/// When lost redundancy is rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairPolicy {
    /// Never (for availability studies without maintenance).
    None,
    /// Rebuild every fragment presumed lost (after the repair delay).
    Eager,
    /// Rebuild only when the live fragments of an object fall below
    /// `threshold` (copies for replication, distinct fragments for erasure
    /// coding), then restore all n (Carbonite-style lazy repair).
    Lazy {
        /// The level below which repair starts.
        threshold: u16,
    },
}

/// How long a leader waits between noticing a loss and repairing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairDelay {
    /// A fixed delay (zero: at once).
    Fixed(Duration),
    /// An exponential delay with this mean, drawn per lost fragment
    /// (repairs of one object's fragments then proceed in parallel, each at
    /// rate 1/mean).
    Exponential(Duration),
}

/// Storage-layer parameters, shared by all nodes of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Replication or erasure coding.
    pub scheme: Scheme,
    /// Client-side encryption: objects grow by the cipher's overhead.
    pub encrypted: bool,
    /// Repair policy.
    pub policy: RepairPolicy,
    /// Delay between detecting a loss and repairing it.
    pub repair_delay: RepairDelay,
    /// A holder not heard from for this long is presumed gone.
    pub detection_timeout: Duration,
    /// Interval between a leader's pings to the other holders of the
    /// objects it leads (and between the checks of every holder's view).
    pub heartbeat: Duration,
    /// Interval between audits of followers' fragments (None: no audits).
    pub audit_interval: Option<Duration>,
    /// Mean time until a held fragment is silently lost (latent sector
    /// errors, bit rot) while its node stays up; only audits and reads find
    /// such losses. None: never.
    pub latent_loss_mean: Option<Duration>,
    /// Disk capacity of a node, bytes (0: the node stores nothing, a pure
    /// client).
    pub capacity: u64,
    /// How long a datagram exchange may take before it is given up.
    pub rpc_timeout: Duration,
    /// How long a whole write, read or repair may take.
    pub op_timeout: Duration,
    /// A presumed-gone holder is kept in the holder list (and probed) this
    /// long, so that its return is noticed; then it is forgotten.
    pub forget_after: Duration,
    /// Width of DHT keys (the object id's leading bits).
    pub key_bits: u16,
    /// Where a repairing leader finds new holders.
    pub repair_placement: RepairPlacement,
}

/// Where a repairing leader finds the nodes to place rebuilt fragments on
/// (see [`Config::repair_placement`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepairPlacement {
    /// A placement lookup in the DHT for each repair, as a write does.
    #[default]
    Lookup,
    /// The closest contacts to the object's key in the leader's own routing
    /// table, without a lookup. The leader holds a fragment because it was
    /// among the nodes closest to the key, so the deepest buckets of its
    /// table cover the key's neighbourhood: they are the seeds a lookup
    /// would start from, unverified (a contact that is down makes its `Put`
    /// fail, and the next candidate gets the fragment). Placement by the
    /// holders' local knowledge, as DHash repairs from its successor list.
    ///
    /// Not for erasure coding as it stands: with 6-of-10 fragments and
    /// returning peers rejoining silently (`kademlia::Rejoin::Silent`),
    /// most repairs placed nothing (the object's n holders take n of the
    /// k closest contacts, and contacts that left stay in tables nothing
    /// refreshes) and objects were lost (`storyear erasure` at 10^3 peers,
    /// 10^4 objects, a year: 79 lost, none with the defaults nor with
    /// either option alone; at 10^4 peers see the README). With 3 replicas
    /// it lost as many objects as lookups did.
    Table,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scheme: Scheme::Replicate { r: 3 },
            encrypted: true,
            policy: RepairPolicy::Eager,
            repair_delay: RepairDelay::Fixed(Duration::ZERO),
            detection_timeout: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(900),
            audit_interval: None,
            latent_loss_mean: None,
            capacity: 100 << 30,
            rpc_timeout: Duration::from_secs(5),
            op_timeout: Duration::from_secs(3600),
            forget_after: Duration::from_secs(30 * 86_400),
            key_bits: 160,
            repair_placement: RepairPlacement::Lookup,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The scheme is invalid.
    #[error(transparent)]
    Scheme(#[from] SchemeError),
    /// A lazy threshold outside [m, n].
    #[error("lazy repair threshold {threshold} must be between m = {m} and n = {n}")]
    Threshold {
        /// The threshold.
        threshold: u16,
        /// Fragments needed.
        m: u16,
        /// Fragments stored.
        n: u16,
    },
    /// A zero duration where a positive one is needed.
    #[error("{0} must be positive")]
    Zero(&'static str),
}

impl Config {
    /// Check the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = self.scheme.validate()?;
        if let RepairPolicy::Lazy { threshold } = self.policy
            && !(s.m()..=s.n()).contains(&threshold)
        {
            return Err(ConfigError::Threshold {
                threshold,
                m: s.m(),
                n: s.n(),
            });
        }
        for (name, d) in [
            ("detection_timeout", self.detection_timeout),
            ("heartbeat", self.heartbeat),
            ("rpc_timeout", self.rpc_timeout),
            ("op_timeout", self.op_timeout),
        ] {
            if d.0 == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.audit_interval.is_some_and(|d| d.0 == 0) {
            return Err(ConfigError::Zero("audit_interval"));
        }
        if self.latent_loss_mean.is_some_and(|d| d.0 == 0) {
            return Err(ConfigError::Zero("latent_loss_mean"));
        }
        if let RepairDelay::Exponential(d) = self.repair_delay
            && d.0 == 0
        {
            return Err(ConfigError::Zero("repair_delay"));
        }
        Ok(())
    }
}
