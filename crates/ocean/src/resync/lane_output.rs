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
    /// Every key the lanes produced: the keys of their `produced`, gathered by [`Self::merge`],
    /// and those the snapshot marked ([`super::snapshot::Snapshot::produce`]).
    pub(super) seen: Seen,
    /// Per key produced in this lane that Port did not hold at the start (by the key's hash):
    /// the resource that produced it last and the digest of that version, which a later
    /// duplicate is compared with. Keys Port holds are marked in the snapshot instead, which
    /// has a slot for each (issue 18: this map was 4.6 MiB of the large bench's second resync).
    pub(super) produced: HashMap<u64, Produced>,
    /// (source blueprint, relation) of the relations of seen entities.
    pub(super) relation_refs: HashSet<(String, RelationRef)>,
    /// Blueprints each resource actually wrote (covers non-literal blueprint expressions).
    pub(super) written: Vec<(usize, HashSet<String>)>,
}

/// Which resource produced a key last and a 48-bit digest of that version, in 8 bytes (a
/// `(usize, u64)` made each of the large bench's 136,200 entries 24 bytes, 6.5 MiB at its heap
/// peak), never 0 (the top bit is set: 0 is "not produced" in the snapshot's slots). Two
/// versions whose digests agree in 48 bits count as one: the later is not sent, one chance in
/// 2^48 per duplicate. Resource indexes from 32,767 up share one value: duplicates between
/// them are ordered as within one resource, which also ends with the later item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Produced(u64);

impl Produced {
    const DIGEST_BITS: u32 = 48;
    const SET: u64 = 1 << 63;
    const MAX_RESOURCE: u64 = (1 << 15) - 1;

    pub(super) fn new(resource: usize, digest: u64) -> Self {
        let resource =
            u64::try_from(resource).map_or(Self::MAX_RESOURCE, |r| r.min(Self::MAX_RESOURCE));
        Self(Self::SET | resource << Self::DIGEST_BITS | digest >> (64 - Self::DIGEST_BITS))
    }

    /// Whether both were produced by the same resource.
    pub(super) fn same_resource(self, other: Self) -> bool {
        self.0 >> Self::DIGEST_BITS == other.0 >> Self::DIGEST_BITS
    }

    /// Its bits (never 0), for an atomic slot.
    pub(super) fn bits(self) -> u64 {
        self.0
    }

    /// The version stored in a slot, if any (`0`: none).
    pub(super) fn from_bits(bits: u64) -> Option<Self> {
        (bits != 0).then_some(Self(bits))
    }
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

#[cfg(test)]
mod tests {
    use super::Produced;

    #[test]
    fn a_version_keeps_its_resource_and_the_high_bits_of_its_digest() {
        let digest = 0xDEAD_BEEF_0123_4567;
        let first = Produced::new(3, digest);
        assert!(first.same_resource(Produced::new(3, !digest)));
        assert!(!first.same_resource(Produced::new(4, digest)));
        assert_eq!(first, Produced::new(3, digest));
        assert_ne!(
            first,
            Produced::new(3, digest ^ (1 << 63)),
            "a changed version"
        );
        assert_ne!(first, Produced::new(4, digest), "another resource");
        // Indexes past 15 bits share one value instead of wrapping onto a small one.
        assert!(Produced::new(70_000, digest).same_resource(Produced::new(32_767, 0)));
        assert!(!Produced::new(32_768, digest).same_resource(Produced::new(0, 0)));
        // Never 0, whatever the resource and digest: 0 is an empty slot.
        assert_ne!(Produced::new(0, 0).bits(), 0);
        assert_eq!(Produced::from_bits(0), None);
        assert_eq!(Produced::from_bits(first.bits()), Some(first));
    }
}
