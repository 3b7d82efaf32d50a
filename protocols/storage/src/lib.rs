//! # storage: replicated and erasure-coded storage with repair
#![warn(missing_docs)]

pub mod codec;
pub mod scheme;

pub use scheme::{CIPHER_OVERHEAD, ObjectId, Scheme, SchemeError, stored_len};
