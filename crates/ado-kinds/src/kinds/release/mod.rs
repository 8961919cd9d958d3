//! Release management kinds.

#[expect(
    clippy::module_inception,
    reason = "one file per kind: the release area's `release` kind"
)]
pub mod release;
pub mod release_definition;
pub mod release_deployment;
