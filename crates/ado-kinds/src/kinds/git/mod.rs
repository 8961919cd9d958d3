//! Git area kinds.

pub mod repository;
pub mod repository_policy;
