//! Mapping throughput benchmark.
#![allow(missing_docs)]
fn main() {}
