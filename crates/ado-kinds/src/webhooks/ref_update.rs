//! [`RefUpdate`]: one ref a `git.push` moved, as the push's consumers (branches, files,
//! folders, wikis, gitops) read it.

use ado_client::CommitId;

/// The object id of "no object": the new id of a deleted ref (and the old id of a created one).
pub(super) const NO_OBJECT: &str = "0000000000000000000000000000000000000000";

/// One ref update of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RefUpdate {
    pub(super) name: String,
    pub(super) old: CommitId,
    pub(super) new: CommitId,
}

impl RefUpdate {
    /// Whether the ref was created (its old object is none).
    pub(super) fn created(&self) -> bool {
        self.old.as_str() == NO_OBJECT
    }

    /// Whether the ref was deleted (its new object is none).
    pub(super) fn deleted(&self) -> bool {
        self.new.as_str() == NO_OBJECT
    }
}
