//! How the snapshot holds Port's entities (issue 18): one fixed-size record per entity (its
//! key's hash, blueprint and where its digests are), the digests appended to a shared
//! arena, and an index of 4-byte record ids by the key's hash.
//!
//! Held as a map of `Arc<EntityKey>` to a boxed fingerprint and boxed relations, an entity
//! cost five allocations, and the large bench's 136,200 entities ≈ 42 MiB at its heap peak
//! (heaptrack, thirteenth session). Here it costs a 24-byte record, a 5-byte index slot and 8
//! bytes a digest (one per view of its blueprint, see [`super::super::diff`]), and nothing per
//! entity for the allocator.
//!
//! Identifiers are not kept (7 MiB at the large bench): a key is found by its 64-bit hash and
//! its blueprint. Two keys of one blueprint with one hash (about one chance in 10^9 at
//! 136,000 entities) share a record: one of them may be written when unchanged or diffed
//! against the other's digests, and the deletion phase, which matches Port's keys by hash,
//! keeps both when either was produced. The deletion phase reads the identifiers it needs from
//! Port ([`super::super::delete`]).
//!
//! Arenas grow by chunks of at most [`CHUNK`] items, so that growing never copies what is held:
//! a `Vec` of 10 MiB that doubles holds 30 MiB while it copies.

use hashbrown::HashTable;

use crate::resync::reconcile::EntityKey;

/// Items per chunk (digests or records). A [`Span`] keeps a chunk's number and an offset in it
/// in 16 bits each.
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;
const OFFSET_MASK: u32 = (1 << CHUNK_BITS) - 1;

/// Where a slice lives in an [`Arena`]: chunk number and offset packed in `at`, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    at: u32,
    len: u32,
}

impl Span {
    const EMPTY: Self = Self { at: 0, len: 0 };
    /// Digests never read (listed, but not found by the search).
    const ABSENT: Self = Self {
        at: 0,
        len: u32::MAX,
    };
}

/// The snapshot outgrew what a [`Span`] addresses (65,536 chunks of 65,536 items, e.g.
/// 4 billion entities): an error, so that nothing is deleted on a partial snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// Slices appended one after another into chunks; a slice never spans two chunks (one longer
/// than a chunk gets a chunk of its own).
#[derive(Debug)]
struct Arena<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T: Copy> Arena<T> {
    fn push(&mut self, slice: &[T]) -> Result<Span, Full> {
        let len = slice.len();
        if len == 0 {
            return Ok(Span::EMPTY);
        }
        let fits = self
            .chunks
            .last()
            .is_some_and(|chunk| chunk.len() + len <= CHUNK);
        if !fits {
            // A chunk grows by doubling up to CHUNK items; a longer slice gets its exact size.
            self.chunks.push(if len > CHUNK {
                Vec::with_capacity(len)
            } else {
                Vec::new()
            });
        }
        let number = u32::try_from(self.chunks.len() - 1).map_err(|_| Full)?;
        if number >= 1 << (32 - CHUNK_BITS) {
            return Err(Full);
        }
        let chunk = self.chunks.last_mut().ok_or(Full)?;
        // Below CHUNK: the chunk held at most CHUNK - len items (or is new).
        let offset = u32::try_from(chunk.len()).map_err(|_| Full)?;
        chunk.extend_from_slice(slice);
        Ok(Span {
            at: (number << CHUNK_BITS) | offset,
            len: u32::try_from(len).map_err(|_| Full)?,
        })
    }

    /// The slice at `span` (one [`Self::push`] returned; never [`Span::ABSENT`]).
    fn get(&self, span: Span) -> &[T] {
        if span.len == 0 {
            return &[];
        }
        let (number, start) = Self::place(span);
        &self.chunks[number][start..start + span.len as usize]
    }

    fn get_mut(&mut self, span: Span) -> &mut [T] {
        let (number, start) = Self::place(span);
        &mut self.chunks[number][start..start + span.len as usize]
    }

    /// (chunk, offset) of a span.
    fn place(span: Span) -> (usize, usize) {
        (
            (span.at >> CHUNK_BITS) as usize,
            (span.at & OFFSET_MASK) as usize,
        )
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// One entity: 24 bytes.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// [`EntityKey::hash_of`] its key.
    key_hash: u64,
    /// Index in [`Store::blueprints`].
    blueprint: u32,
    /// [`Span::ABSENT`] until the search returned it.
    digests: Span,
}

/// Port's entities by (blueprint, key hash), each at most once.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Blueprint names, each once (a resync writes a few dozen).
    blueprints: Vec<Box<str>>,
    records: Arena<Record>,
    /// Digests of Port's copies.
    digests: Arena<u64>,
    /// Record ids (the `at` of their one-record span) by key hash.
    index: HashTable<u32>,
}

impl Store {
    /// Entities held.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// The blueprints of the entities held.
    pub(crate) fn blueprints(&self) -> &[Box<str>] {
        &self.blueprints
    }

    fn record(&self, id: u32) -> &Record {
        &self.records.get(Span { at: id, len: 1 })[0]
    }

    /// The record id of a key, if held.
    fn find(&self, blueprint: &str, identifier: &str) -> Option<u32> {
        let hash = EntityKey::hash_of(blueprint, identifier);
        self.index
            .find(hash, |&id| {
                let record = self.record(id);
                record.key_hash == hash && &*self.blueprints[record.blueprint as usize] == blueprint
            })
            .copied()
    }

    /// The position of a held key among the records, `0..len()` in the order
    /// [`Self::key_hashes`] gives them (records fill each chunk before the next, so ids are
    /// dense).
    pub(crate) fn index_of(&self, key: &EntityKey) -> Option<usize> {
        self.find(&key.blueprint, &key.identifier).map(|id| {
            let (chunk, offset) = Arena::<Record>::place(Span { at: id, len: 1 });
            chunk * CHUNK + offset
        })
    }

    /// Whether a key is held.
    pub(crate) fn contains(&self, blueprint: &str, identifier: &str) -> bool {
        self.find(blueprint, identifier).is_some()
    }

    /// Adds a key (digests not read yet); a key already held is left as it is.
    pub(crate) fn insert(&mut self, blueprint: &str, identifier: &str) -> Result<(), Full> {
        if self.contains(blueprint, identifier) {
            return Ok(());
        }
        let blueprint = self.blueprint_index(blueprint).unwrap_or_else(|| {
            self.blueprints.push(blueprint.into());
            self.blueprints.len() - 1
        });
        let record = Record {
            key_hash: EntityKey::hash_of(&self.blueprints[blueprint], identifier),
            blueprint: u32::try_from(blueprint).map_err(|_| Full)?,
            digests: Span::ABSENT,
        };
        let id = self.records.push(&[record])?.at;
        let records = &self.records;
        self.index.insert_unique(record.key_hash, id, |&id| {
            records.get(Span { at: id, len: 1 })[0].key_hash
        });
        Ok(())
    }

    /// The index of a blueprint in [`Self::blueprints`], if an entity of it is held.
    pub(crate) fn blueprint_index(&self, blueprint: &str) -> Option<usize> {
        self.blueprints.iter().position(|b| &**b == blueprint)
    }

    /// Records the digests of a key held; `false` if it is not held.
    pub(crate) fn set_digests(
        &mut self,
        blueprint: &str,
        identifier: &str,
        digests: &[u64],
    ) -> Result<bool, Full> {
        let Some(id) = self.find(blueprint, identifier) else {
            return Ok(false);
        };
        let digests = self.digests.push(digests)?;
        self.records.get_mut(Span { at: id, len: 1 })[0].digests = digests;
        Ok(true)
    }

    /// The blueprint index and the digests of a key, if held and read.
    pub(crate) fn digests(&self, key: &EntityKey) -> Option<(usize, &[u64])> {
        let record = self.record(self.find(&key.blueprint, &key.identifier)?);
        (record.digests != Span::ABSENT)
            .then(|| (record.blueprint as usize, self.digests.get(record.digests)))
    }

    /// The key hash of every entity held ([`EntityKey::hash64`]).
    pub(crate) fn key_hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.records.iter().map(|record| record.key_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_round_trip_across_chunks_and_one_longer_than_a_chunk_gets_its_own() {
        let mut arena = Arena::<u64>::default();
        let small: Vec<u64> = (0..1000).collect();
        let spans: Vec<Span> = (0..100).map(|_| arena.push(&small).unwrap()).collect();
        let long: Vec<u64> = (0..(CHUNK as u64 + 7)).collect();
        let long_span = arena.push(&long).unwrap();
        let after = arena.push(&[42]).unwrap();
        // 65 slices of 1,000 fill a chunk; the 100 take two; the long one a third.
        assert_eq!(arena.chunks.len(), 4);
        assert!(spans.iter().all(|s| arena.get(*s) == small.as_slice()));
        assert_eq!(arena.get(long_span), long.as_slice());
        assert_eq!(arena.get(after), &[42]);
        assert_eq!(arena.push(&[]).unwrap(), Span::EMPTY);
        assert_eq!(arena.get(Span::EMPTY), &[] as &[u64]);
    }

    #[test]
    fn keys_are_found_by_both_parts_and_held_once() {
        let mut store = Store::default();
        store.insert("repo", "a").unwrap();
        store.insert("repo", "a").unwrap();
        store.insert("project", "a").unwrap();
        store.insert("repo", "é-ü").unwrap();
        assert_eq!(store.len(), 3);
        assert_eq!(store.blueprints().len(), 2);
        assert!(store.contains("repo", "é-ü"));
        assert!(!store.contains("project", "é-ü"));
        assert!(
            store.digests(&EntityKey::new("repo", "a")).is_none(),
            "not read yet"
        );
        assert!(store.set_digests("repo", "a", &[1, 2]).unwrap());
        assert!(store.set_digests("project", "a", &[]).unwrap());
        assert!(!store.set_digests("repo", "b", &[9]).unwrap());
        assert_eq!(
            store.digests(&EntityKey::new("repo", "a")),
            Some((0, &[1, 2][..]))
        );
        assert_eq!(
            store.digests(&EntityKey::new("project", "a")),
            Some((1, &[][..]))
        );
        assert_eq!(store.digests(&EntityKey::new("repo", "é-ü")), None);
        assert_eq!(store.digests(&EntityKey::new("repo", "b")), None);
        let mut hashes: Vec<u64> = store.key_hashes().collect();
        hashes.sort_unstable();
        let mut expected = vec![
            EntityKey::new("repo", "a").hash64(),
            EntityKey::new("project", "a").hash64(),
            EntityKey::new("repo", "é-ü").hash64(),
        ];
        expected.sort_unstable();
        assert_eq!(hashes, expected);
    }

    #[test]
    fn many_keys_survive_the_index_growing() {
        let mut store = Store::default();
        for i in 0..100_000 {
            store.insert("workItem", &i.to_string()).unwrap();
        }
        for i in (0..100_000).step_by(7) {
            assert!(store.set_digests("workItem", &i.to_string(), &[i]).unwrap());
        }
        assert_eq!(store.len(), 100_000);
        assert_eq!(
            store.digests(&EntityKey::new("workItem", "700")),
            Some((0, &[700][..]))
        );
        assert_eq!(store.digests(&EntityKey::new("workItem", "701")), None);
        assert_eq!(store.key_hashes().count(), 100_000);
        // Positions are dense, in the order of `key_hashes`, across chunks.
        let hashes: Vec<u64> = store.key_hashes().collect();
        for i in [0_usize, 65_535, 65_536, 99_999] {
            let key = EntityKey::new("workItem", &i.to_string());
            let at = store.index_of(&key).unwrap();
            assert_eq!(at, i);
            assert_eq!(hashes[at], key.hash64());
        }
        assert_eq!(store.index_of(&EntityKey::new("workItem", "100000")), None);
    }
}
