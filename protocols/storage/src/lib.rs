//! # storage: replicated and erasure-coded storage with repair
//!
//! A sans-IO storage layer for the People's Cloud, stacked on the Kademlia
//! DHT:
//! - objects are content-addressed: the id is the SHA-256 of the stored
//!   bytes, of the ciphertext when client-side encryption is on
//!   ([`scheme::ObjectId`], [`codec`]);
//! - r-way replication or m-of-n Reed–Solomon erasure coding
//!   ([`scheme::Scheme`]); the real path ([`codec`]) encodes, encrypts and
//!   decodes bytes, the simulation moves phantom fragments of the same size;
//! - placement through the DHT, as an explicit cross-layer request
//!   ([`protocol::Output::FindPlacement`]), answered by the stacked node
//!   ([`node::StackNode`]) with a Kademlia lookup, or by a labelled oracle;
//! - writes, reads (any m distinct fragments), deletes; per-node disk
//!   capacity (a full node refuses, the writer tries the next candidate);
//! - failure detection by timeout, leader-driven maintenance, eager or lazy
//!   repair, audits, and repair bytes counted by cause
//!   ([`protocol::RepairBytes`]).
//!
//! See [`protocol`] for the drive loop and the roles.
//!
//! The statistical claims about availability and durability are
//! reproduction cases of `scenarios check` (`repro/storage-*.toml`,
//! drivers in `scenarios/src/check/drivers/storage.rs`), each with a
//! negative control: read availability of replicas and of m-of-n fragments
//! against independent availability (control: holders in correlated
//! outage groups, the same availability per peer), and the mean time to
//! data loss with repair against the birth–death chain (control: no
//! repair). They replace the crate's integration tests of the same
//! measurements.
#![warn(missing_docs)]

pub mod codec;
pub mod config;
pub mod harness;
pub mod message;
pub mod node;
pub mod protocol;
pub mod report;
pub mod scheme;

pub use config::{Config, ConfigError, RepairDelay, RepairPlacement, RepairPolicy};
pub use message::{Cause, Holder, Malformed, ObjMeta, StoreMsg};
pub use node::{EventLog, Msg, Placement, Request, StackNode, Tm};
pub use protocol::{
    Command, Event, Held, Input, Output, ReadFailure, RepairBytes, Storage, Timer, WriteFailure,
};
pub use report::Summary;
pub use scheme::{CIPHER_OVERHEAD, ObjectId, Scheme, SchemeError, stored_len};
