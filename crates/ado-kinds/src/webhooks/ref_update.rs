//! [`RefUpdate`]: one ref a `git.push` moved, as the push's consumers (branches, files,
//! folders, wikis, gitops) read it.

/// The object id of "no object": the new id of a deleted ref (and the old id of a created one).
pub(super) const NO_OBJECT: &str = "0000000000000000000000000000000000000000";

/// One ref update of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RefUpdate {
    pub(super) name: String,
    pub(super) old: String,
    pub(super) new: String,
}
