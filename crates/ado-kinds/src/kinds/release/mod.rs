//! Release management kinds.

#[expect(
    clippy::module_inception,
    reason = "one file per kind: the release area's `release` kind"
)]
pub mod release;
