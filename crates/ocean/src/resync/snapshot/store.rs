//! How the snapshot holds Port's entities (issue 18): one fixed-size record per entity, its
//! identifier and fingerprint appended to shared arenas, and an index of 4-byte record ids by
//! the key's hash.
//!
//! Held as a map of `Arc<EntityKey>` to a boxed fingerprint and boxed relations, an entity
//! cost five allocations, and the large bench's 136,200 entities ≈ 42 MiB at its heap peak
//! (heaptrack, thirteenth session). Here it costs a 32-byte record, a 5-byte index slot, its
//! identifier's bytes and 8 bytes a field, and nothing per entity for the allocator.
//!
//! Arenas grow by chunks of at most [`CHUNK`] items, so that growing never copies what is held:
//! a `Vec` of 10 MiB that doubles holds 30 MiB while it copies.

use hashbrown::HashTable;

use crate::resync::reconcile::EntityKey;

/// Items per chunk (bytes of identifiers, hashes or records). A [`Span`] keeps a chunk's
/// number and an offset in it in 16 bits each.
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
    /// A fingerprint never read (listed, but not found by the search).
    const ABSENT: Self = Self {
        at: 0,
        len: u32::MAX,
    };
}

/// The snapshot outgrew what a [`Span`] addresses (65,536 chunks of 65,536 items, e.g.
/// 4 billion entities): an error, so that nothing is deleted on a partial snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// What an [`Arena`] chunk is: a growable buffer of items, sliced by offsets.
trait Buffer: Default {
    type Slice: ?Sized;
    fn items(&self) -> usize;
    fn count(slice: &Self::Slice) -> usize;
    fn append(&mut self, slice: &Self::Slice);
    fn reserve_exact(&mut self, additional: usize);
    fn slice(&self, start: usize, end: usize) -> &Self::Slice;
    fn empty<'a>() -> &'a Self::Slice;
}

impl Buffer for String {
    type Slice = str;
    fn items(&self) -> usize {
        self.len()
    }
    fn count(slice: &str) -> usize {
        slice.len()
    }
    fn append(&mut self, slice: &str) {
        self.push_str(slice);
    }
    fn reserve_exact(&mut self, additional: usize) {
        String::reserve_exact(self, additional);
    }
    fn slice(&self, start: usize, end: usize) -> &str {
        // Spans start and end where a whole `&str` was appended: char boundaries.
        &self[start..end]
    }
    fn empty<'a>() -> &'a str {
        ""
    }
}

impl<T: Copy> Buffer for Vec<T> {
    type Slice = [T];
    fn items(&self) -> usize {
        self.len()
    }
    fn count(slice: &[T]) -> usize {
        slice.len()
    }
    fn append(&mut self, slice: &[T]) {
        self.extend_from_slice(slice);
    }
    fn reserve_exact(&mut self, additional: usize) {
        Vec::reserve_exact(self, additional);
    }
    fn slice(&self, start: usize, end: usize) -> &[T] {
        &self[start..end]
    }
    fn empty<'a>() -> &'a [T] {
        &[]
    }
}

/// Slices appended one after another into chunks; a slice never spans two chunks (one longer
/// than a chunk gets a chunk of its own).
#[derive(Debug, Default)]
struct Arena<B> {
    chunks: Vec<B>,
}

impl<B: Buffer> Arena<B> {
    fn push(&mut self, slice: &B::Slice) -> Result<Span, Full> {
        let len = B::count(slice);
        if len == 0 {
            return Ok(Span::EMPTY);
        }
        let fits = self
            .chunks
            .last()
            .is_some_and(|chunk| chunk.items() + len <= CHUNK);
        if !fits {
            let mut chunk = B::default();
            if len > CHUNK {
                chunk.reserve_exact(len);
            }
            self.chunks.push(chunk);
        }
        let number = u32::try_from(self.chunks.len() - 1).map_err(|_| Full)?;
        if number >= 1 << (32 - CHUNK_BITS) {
            return Err(Full);
        }
        let chunk = self.chunks.last_mut().ok_or(Full)?;
        // Below CHUNK: the chunk held less than CHUNK - len items (or is new).
        let offset = u32::try_from(chunk.items()).map_err(|_| Full)?;
        chunk.append(slice);
        Ok(Span {
            at: (number << CHUNK_BITS) | offset,
            len: u32::try_from(len).map_err(|_| Full)?,
        })
    }

    /// The slice at `span` (one [`Self::push`] returned; never [`Span::ABSENT`]).
    fn get(&self, span: Span) -> &B::Slice {
        if span.len == 0 {
            return B::empty();
        }
        let (number, offset) = (span.at >> CHUNK_BITS, span.at & OFFSET_MASK);
        let start = offset as usize;
        self.chunks[number as usize].slice(start, start + span.len as usize)
    }
}

impl<T: Copy> Arena<Vec<T>> {
    fn get_mut(&mut self, span: Span) -> &mut [T] {
        let (number, offset) = (span.at >> CHUNK_BITS, span.at & OFFSET_MASK);
        let start = offset as usize;
        &mut self.chunks[number as usize][start..start + span.len as usize]
    }
}

/// One entity: 32 bytes.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// [`EntityKey::hash_of`] its key.
    key_hash: u64,
    /// Index in [`Store::blueprints`].
    blueprint: u32,
    identifier: Span,
    /// [`Span::ABSENT`] until the search returned it.
    fingerprint: Span,
}

/// One entity as the snapshot holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held<'a> {
    /// [`EntityKey::hash_of`] its key (what [`super::super::reconcile::Seen`] holds).
    pub(crate) key_hash: u64,
    pub(crate) blueprint: &'a str,
    pub(crate) identifier: &'a str,
}

impl Held<'_> {
    /// Its key, owned.
    pub(crate) fn key(&self) -> EntityKey {
        EntityKey::new(self.blueprint, self.identifier)
    }
}

/// Port's entities by (blueprint, identifier), each at most once.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Blueprint names, each once (a resync writes a few dozen).
    blueprints: Vec<Box<str>>,
    records: Arena<Vec<Record>>,
    identifiers: Arena<String>,
    /// Fingerprints.
    hashes: Arena<Vec<u64>>,
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
                record.key_hash == hash
                    && &*self.blueprints[record.blueprint as usize] == blueprint
                    && self.identifiers.get(record.identifier) == identifier
            })
            .copied()
    }

    /// Adds a key (fingerprint not read yet); a key already held is left as it is.
    pub(crate) fn insert(&mut self, blueprint: &str, identifier: &str) -> Result<(), Full> {
        if self.find(blueprint, identifier).is_some() {
            return Ok(());
        }
        let blueprint = self
            .blueprints
            .iter()
            .position(|b| &**b == blueprint)
            .unwrap_or_else(|| {
                self.blueprints.push(blueprint.into());
                self.blueprints.len() - 1
            });
        let record = Record {
            key_hash: EntityKey::hash_of(&self.blueprints[blueprint], identifier),
            blueprint: u32::try_from(blueprint).map_err(|_| Full)?,
            identifier: self.identifiers.push(identifier)?,
            fingerprint: Span::ABSENT,
        };
        let id = self.records.push(&[record])?.at;
        let records = &self.records;
        self.index.insert_unique(record.key_hash, id, |&id| {
            records.get(Span { at: id, len: 1 })[0].key_hash
        });
        Ok(())
    }

    /// Records the fingerprint of a key held; `false` if it is not held.
    pub(crate) fn set_fingerprint(
        &mut self,
        blueprint: &str,
        identifier: &str,
        fingerprint: &[u64],
    ) -> Result<bool, Full> {
        let Some(id) = self.find(blueprint, identifier) else {
            return Ok(false);
        };
        let fingerprint = self.hashes.push(fingerprint)?;
        self.records.get_mut(Span { at: id, len: 1 })[0].fingerprint = fingerprint;
        Ok(true)
    }

    /// The fingerprint of a key, if held and read.
    pub(crate) fn fingerprint(&self, key: &EntityKey) -> Option<&[u64]> {
        let record = self.record(self.find(&key.blueprint, &key.identifier)?);
        (record.fingerprint != Span::ABSENT).then(|| self.hashes.get(record.fingerprint))
    }

    /// Every entity held.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Held<'_>> {
        self.records.chunks.iter().flatten().map(|record| Held {
            key_hash: record.key_hash,
            blueprint: &self.blueprints[record.blueprint as usize],
            identifier: self.identifiers.get(record.identifier),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_round_trip_across_chunks_and_one_longer_than_a_chunk_gets_its_own() {
        let mut arena = Arena::<Vec<u64>>::default();
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
        assert!(
            store.fingerprint(&EntityKey::new("repo", "a")).is_none(),
            "not read yet"
        );
        assert!(store.set_fingerprint("repo", "a", &[1, 2]).unwrap());
        assert!(store.set_fingerprint("project", "a", &[]).unwrap());
        assert!(!store.set_fingerprint("repo", "b", &[9]).unwrap());
        assert_eq!(
            store.fingerprint(&EntityKey::new("repo", "a")),
            Some(&[1, 2][..])
        );
        assert_eq!(
            store.fingerprint(&EntityKey::new("project", "a")),
            Some(&[][..])
        );
        assert_eq!(store.fingerprint(&EntityKey::new("repo", "é-ü")), None);
        assert_eq!(store.fingerprint(&EntityKey::new("repo", "b")), None);
        let mut held: Vec<EntityKey> = store
            .iter()
            .map(|h| {
                assert_eq!(h.key_hash, h.key().hash64());
                h.key()
            })
            .collect();
        held.sort();
        assert_eq!(
            held,
            [
                EntityKey::new("project", "a"),
                EntityKey::new("repo", "a"),
                EntityKey::new("repo", "é-ü")
            ]
        );
    }

    #[test]
    fn many_keys_survive_the_index_growing() {
        let mut store = Store::default();
        for i in 0..100_000 {
            store.insert("workItem", &i.to_string()).unwrap();
        }
        for i in (0..100_000).step_by(7) {
            assert!(
                store
                    .set_fingerprint("workItem", &i.to_string(), &[i])
                    .unwrap()
            );
        }
        assert_eq!(store.len(), 100_000);
        assert_eq!(
            store.fingerprint(&EntityKey::new("workItem", "700")),
            Some(&[700][..])
        );
        assert_eq!(store.fingerprint(&EntityKey::new("workItem", "701")), None);
        assert_eq!(store.iter().count(), 100_000);
    }
}
