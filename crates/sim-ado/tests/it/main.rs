//! sim-ado over HTTP, in one test binary (STYLE rule 10): the control API that tests and demos
//! drive, the pipelines, runs and builds it serves, and its clock fixed at an epoch.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

mod clock;
mod control;
mod pipelines;
mod wire;

/// The PAT every simulated organization accepts (`SimConfig::default()`).
const PAT: &str = "sim-pat";
