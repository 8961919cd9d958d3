//! sim-ado over HTTP, in one test binary (STYLE rule 10): the control API that tests and demos
//! drive, and the pipelines, runs and builds it serves.

mod control;
mod pipelines;
