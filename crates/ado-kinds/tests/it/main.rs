//! The integration end to end over HTTP on 127.0.0.1, in one test binary (STYLE rule 10): the
//! default installation resynced from sim-ado into sim-port, the kinds beyond the default
//! mapping area by area, and service-hook events applied live.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

mod harness;
mod kinds;
mod live;
mod resync;
