//! The peoplescloud command line.
mod load;
fn main() {}
