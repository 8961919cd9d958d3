//! One method per Azure DevOps endpoint the integration calls (paths and parameters from the
//! 7.1 specs: `core`, `git`, `work`, `wit`, `release`).

mod core;
mod git;
mod hooks;
mod release;
mod wit;
mod work;
