//! # kademlia: a sans-IO Kademlia DHT
//!
//! A Kademlia node (Maymounkov & Mazières, 2002) as an explicit state
//! machine ([`Kademlia`]): ids of 32 to 256 bits with the XOR metric
//! ([`key`]), k-buckets in least-recently-seen order with a replacement
//! cache and ping-before-evict ([`table`]), the four RPCs with request ids
//! and per-RPC timeouts ([`message`]), iterative lookups with α parallel
//! requests, each an explicit state machine ([`lookup`]), joins, bucket
//! refresh, a record store with republish, expiry and optional caching
//! ([`store`]).
//!
//! Around it, the experiment side: [`node::KadNode`] runs a machine in the
//! engine and writes the `lookups` table, [`oracle`] knows the true
//! answers, [`warm`] builds converged tables from global knowledge, and
//! [`harness::Harness`] drives N nodes in tests.
//!
//! ## Using it from a layer above
//! Feed [`Input::Command`] (`FindClosest`, `Get`, `Put`) and read
//! [`Output::Event`]s; see [`protocol`] for the drive loop. A storage layer
//! stacked on this crate needs nothing else.
//!
//! ## Memory
//! A routing-table contact is 12 bytes ([`table::Slot`]: address, last
//! time heard from, failure count); only non-empty buckets are stored; the
//! id of every node is stored once in [`IdTable`], which interns the ids
//! carried on the wire. See [`key::IdTable`] for why this keeps the
//! protocol honest. Measured with a counting allocator
//! (`benches::memory::kademlia_memory`), a whole simulation costs about
//! 5.3 KB per node at 10^5 nodes with warm-started tables (4.4 KB of it
//! routing table, 264 contacts per node).
//!
//! ## Known deviation from full knowledge
//! Tables built by joins hold as many contacts as tables filled from full
//! knowledge, but a full bucket holds the first k nodes heard from, which
//! for a joining node are the responders of the refresh lookup of that
//! bucket: they cluster around the lookup's random target instead of being
//! spread over the bucket's range. Least-recently-seen eviction never
//! replaces a live contact, so without churn the clustering stays, and
//! lookups over joined tables need more hops (hops grow about twice as fast
//! with log2 N as over full-knowledge tables, see `tests/hops.rs`).
//! [`Config::join_refresh_targets`] narrows the gap.
#![warn(missing_docs)]

pub mod config;
pub mod harness;
pub mod key;
pub mod lookup;
pub mod message;
pub mod node;
pub mod oracle;
pub mod protocol;
pub mod store;
pub mod table;
pub mod warm;

pub use config::{Config, RpcTimeout};
pub use key::{Distance, IdTable, Key};
pub use message::{KadMsg, Value, WireContact};
pub use node::{Completed, KadNode, LookupRow, Observe};
pub use protocol::{Command, Event, Input, Kademlia, OpKind, Outcome, Output, Timer};
