//! The mapping engine through its public API, in one test binary (STYLE rule 10): Ocean's
//! mapping semantics case by case, and jq compatibility against a corpus checked with real jq.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod jq_compat;
mod semantics;
