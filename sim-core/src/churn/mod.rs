//! Churn: when nodes are up, when they go down, and whether they come back.
//!
//! This module owns the *models* of node availability; it never schedules
//! events itself. The engine drives each node's [`ChurnModel`]: it asks for
//! the state at time zero ([`ChurnModel::initial`]), schedules the returned
//! transition, and each time a transition fires asks for the next one
//! ([`ChurnModel::next`]). All randomness comes from the `rng` argument, the
//! node's own churn stream, so a model holds no per-node mutable state and
//! replaying a node's stream replays its churn exactly.
//!
//! Models:
//! - [`Alternating`]: alternating up/down sessions drawn from a [`Dist`]
//!   (exponential, Weibull, Pareto, log-normal), started in equilibrium,
//!   with optional permanent departures;
//! - [`Diurnal`]: availability that follows local time of day (an hourly
//!   profile or a sinusoid, per-node time zones), exact per time slot;
//! - [`TraceReplay`]: replay of a measured availability trace (Failure Trace
//!   Archive `event_trace` or a simple CSV);
//! - [`GroupOutages`] and [`Availability`]: correlated outages of groups (a
//!   region, a gateway, the data center) combined with the per-node
//!   processes.
//!
//! [`SessionStats`] accumulates what churn did: session lengths and the
//! fraction of nodes up over time.
//!
//! The trait takes `&mut dyn rand::Rng` so that models stay object-safe
//! (`Box<dyn ChurnModel>`); rand_distr's `sample<R: Rng + ?Sized>` accepts
//! it directly, and [`Dist`] sampling is generic over `R: Rng + ?Sized` for
//! the same reason.
//!
//! A quick look at the drive loop, for one node:
//!
//! ```
//! use rand::SeedableRng;
//! use sim_core::churn::{ChurnModel, Transition, dist::Dist, model::Alternating};
//! use sim_core::units::{Duration, Time};
//!
//! let model = Alternating::new(
//!     Dist::weibull(Duration::from_secs(3600), 0.5).unwrap(),
//!     Dist::exponential(Duration::from_secs(1800)).unwrap(),
//! );
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let (mut up, mut next) = model.initial(0, &mut rng);
//! let mut now = Time::ZERO;
//! for _ in 0..10 {
//!     let Some((after, t)) = next else { break };
//!     now = now + after;
//!     up = matches!(t, Transition::Up);
//!     next = model.next(0, now, &t, &mut rng);
//! }
//! # let _ = up;
//! ```

pub mod correlated;
pub mod dist;
pub mod diurnal;
pub mod model;
pub mod stats;
pub mod trace;

#[cfg(test)]
mod testutil;

use crate::units::{Duration, Time};

pub use correlated::{Availability, Group, GroupError, GroupEvent, GroupOutages};
pub use dist::{Dist, DistError};
pub use diurnal::{Diurnal, Profile};
pub use model::{Alternating, PermanentPolicy, Start};
pub use stats::{Session, SessionFilter, SessionStats};
pub use trace::{Interval, Mapping, Trace, TraceError, TraceNode, TraceReplay};

/// What happens to a node at a churn transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The node comes (back) up, with the disk it had (a transient failure
    /// ends).
    Up,
    /// The node goes down. `permanent: false` is a transient failure: the
    /// disk is kept and a later `Up` follows. `permanent: true` is a
    /// departure: the node never returns and its disk is lost; the *engine*
    /// decides whether and when a replacement joins under a new id (the
    /// model only reports the departure and gives no further transition for
    /// this node). A permanent departure may be reported while the node is
    /// already down (it then simply never comes back).
    Down {
        /// Whether the node leaves for good.
        permanent: bool,
    },
}

impl Transition {
    /// Whether the node is up after this transition.
    pub fn is_up(&self) -> bool {
        matches!(self, Transition::Up)
    }
    /// Whether this is a permanent departure.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Transition::Down { permanent: true })
    }
}

/// A per-node churn process, driven by the engine: it asks for the initial
/// state at t=0, then, each time a transition fires, for the next one. All
/// randomness comes from `rng`, the node's own churn stream (the engine
/// derives it from (seed, "churn", node id)).
///
/// Contract: the random models never return a zero delay (sessions are at
/// least 1 ns), so a node's transitions strictly advance in time (the one
/// exception is [`TraceReplay`]'s `join` between two trace intervals, which
/// takes the node down at once); `None` means the node stays in its current
/// state forever. A model keeps no per-node state: its answer depends only
/// on its arguments and the draws from `rng`.
pub trait ChurnModel {
    /// State at time zero: whether the node is up, and when its first
    /// transition happens (None = never).
    fn initial(&self, node: u32, rng: &mut dyn rand::Rng)
    -> (bool, Option<(Duration, Transition)>);

    /// The node just made transition `t` at time `now`; when and what is
    /// its next transition (None = never).
    fn next(
        &self,
        node: u32,
        now: Time,
        t: &Transition,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)>;

    /// A node (typically a replacement after a permanent departure) joins at
    /// `now`, up; when and what is its first transition. The default treats
    /// the join as an `Up` transition at `now` (a fresh up session).
    fn join(
        &self,
        node: u32,
        now: Time,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        self.next(node, now, &Transition::Up, rng)
    }
}

impl<M: ChurnModel + ?Sized> ChurnModel for Box<M> {
    fn initial(
        &self,
        node: u32,
        rng: &mut dyn rand::Rng,
    ) -> (bool, Option<(Duration, Transition)>) {
        (**self).initial(node, rng)
    }
    fn next(
        &self,
        node: u32,
        now: Time,
        t: &Transition,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        (**self).next(node, now, t, rng)
    }
    fn join(
        &self,
        node: u32,
        now: Time,
        rng: &mut dyn rand::Rng,
    ) -> Option<(Duration, Transition)> {
        (**self).join(node, now, rng)
    }
}
