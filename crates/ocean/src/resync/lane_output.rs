//! What the lanes hand to the deletion phase: per-resource reports, the keys they produced, the
//! relations of those entities and the blueprints each resource wrote.
//!
//! Its own module so that [`super::pipeline`] (which fills it) and [`super::delete`] (which reads
//! it) do not import each other; [`super::Resync::run`] calls one after the other.

use std::collections::{HashMap, HashSet};

use super::{
    reconcile::{RelationRef, Seen},
    report::ResourceReport,
};

/// What one lane, or every lane merged, hands to the deletion phase.
#[derive(Default)]
pub(super) struct LaneOutput {
    pub(super) reports: Vec<ResourceReport>,
    /// Every key the lanes produced: the keys of their `produced`, gathered by [`Self::merge`].
    pub(super) seen: Seen,
    /// Per key produced in this lane (by the key's hash): the resource that produced it last
    /// and the digest of that version, which a later duplicate is compared with.
    pub(super) produced: HashMap<u64, (usize, u64)>,
    /// (source blueprint, relation) of the relations of seen entities.
    pub(super) relation_refs: HashSet<(String, RelationRef)>,
    /// Blueprints each resource actually wrote (covers non-literal blueprint expressions).
    pub(super) written: Vec<(usize, HashSet<String>)>,
}

impl LaneOutput {
    /// Merges the lanes' outputs; reports come back in config order.
    pub(super) fn merge(outputs: impl IntoIterator<Item = Self>) -> Self {
        let mut merged = Self::default();
        for output in outputs {
            merged.reports.extend(output.reports);
            merged.seen.extend_hashes(output.produced.into_keys());
            merged.relation_refs.extend(output.relation_refs);
            merged.written.extend(output.written);
        }
        merged.reports.sort_by_key(|r| r.index);
        merged
    }
}
