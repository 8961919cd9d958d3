//! One method per Azure DevOps endpoint the integration calls (paths and parameters from the
//! 7.1 specs: `core`, `git`, `work`, `wit`, `release`, `pipelines`, `build`, `advancedSecurity`, `test`,
//! `distributedTask`, `graph`, `memberEntitlementManagement`,
//! `wiki`).

mod advsec;
mod build;
mod core;
mod distributed_task;
mod entitlements;
mod git;
mod graph;
mod hooks;
mod pipelines;
mod release;
mod test;
mod wiki;
mod wit;
mod work;
