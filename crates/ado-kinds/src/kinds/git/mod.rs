//! Git area kinds.

pub mod pull_request;
pub mod repository;
pub mod repository_policy;
