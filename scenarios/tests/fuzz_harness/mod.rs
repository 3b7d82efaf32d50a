//! A fuzzing harness for the input parsers that runs on stable Rust.
//!
//! [`targets`] turns the bundled scenarios, topologies and small synthetic
//! seeds (`tests/fuzz_seeds/`) into mutated inputs ([`mutate`]: extreme
//! values, wrong types, deleted and duplicated keys, byte flips, splices,
//! truncation, deep nesting, megabyte strings) and runs each through a
//! parser; [`driver`] catches panics, stops hangs with a watchdog and
//! reports allocations over the cap of [`alloc`], naming the seed, the
//! input index and the target, with the input written to a file.
//!
//! Shared by `tests/fuzz.rs` (the fixed-seed run in the test suite) and
//! `examples/fuzz.rs` (long runs and reproduction).

// Each of the two users calls a different part of the harness.
#![allow(dead_code)]

pub mod alloc;
pub mod driver;
pub mod mutate;
pub mod targets;
