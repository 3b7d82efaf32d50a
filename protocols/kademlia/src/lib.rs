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
//! A routing-table contact is 8 bytes ([`table::Slot`]: address and
//! failure count); the id of every node is stored once in [`IdTable`],
//! which interns the ids carried on the wire. See [`key::IdTable`] for why
//! this keeps the protocol honest.
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
