//! Test management kinds.

pub mod test_run;
