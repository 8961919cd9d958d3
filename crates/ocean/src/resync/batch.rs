//! A count-and-bytes batcher for serialized entities of one blueprint. Pure: no I/O, no clock.
//!
//! Port's bulk upsert takes at most `OCEAN__UPSERT_ENTITIES_BATCH_MAX_LENGTH` (20) entities and
//! `OCEAN__UPSERT_ENTITIES_BATCH_MAX_SIZE_IN_BYTES` (1 MiB) of request body per call
//! (ocean-framework.md §1.2). The body is `{"entities":[e1,e2,…]}`, so a batch of `n` entities
//! weighs [`ENVELOPE_BYTES`] + the entities' bytes + `n − 1` commas; the batcher counts exactly
//! that. Items keep their order and none is ever dropped: an entity larger than the byte limit on
//! its own travels alone (Port answers 413 and the client reports it).

/// Per-request limits of Port's bulk upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most entities per request (Ocean's default: 20; 0 is treated as 1).
    pub max_items: usize,
    /// Most bytes per request body, envelope included (Ocean's default: 1 MiB).
    pub max_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_items: 20,
            max_bytes: 1024 * 1024,
        }
    }
}

/// Bytes of `{"entities":[` plus `]}` around the entities (port-client's bulk body).
pub const ENVELOPE_BYTES: usize = r#"{"entities":[]}"#.len();

/// Collects items into batches that respect [`BatchLimits`]; items keep their order.
#[derive(Debug)]
pub struct Batcher<T> {
    limits: BatchLimits,
    items: Vec<T>,
    /// Body size of `items` once serialized, envelope and commas included.
    bytes: usize,
}

impl<T> Batcher<T> {
    /// An empty batcher.
    #[must_use]
    pub fn new(limits: BatchLimits) -> Self {
        Self {
            limits: BatchLimits {
                max_items: limits.max_items.max(1),
                max_bytes: limits.max_bytes,
            },
            items: Vec::new(),
            bytes: ENVELOPE_BYTES,
        }
    }

    /// Adds an item of `bytes` serialized bytes and returns a batch when one is ready.
    ///
    /// The batch returned is either the pending one, when `item` would push it over a limit
    /// (then `item` starts the next batch), or the batch `item` just filled (count reached, or
    /// no further byte fits). An item over the byte limit on its own becomes a single-item
    /// batch: returned at once when it arrives on an empty batcher, otherwise by the next
    /// `push` or [`flush`](Self::flush).
    pub fn push(&mut self, item: T, bytes: usize) -> Option<Vec<T>> {
        let ready = if self.fits(bytes) { None } else { self.take() };
        self.bytes = self
            .bytes
            .saturating_add(self.separator())
            .saturating_add(bytes);
        self.items.push(item);
        if ready.is_some() {
            return ready;
        }
        // Full by count, or so full that not even a 0-byte item (plus its comma) would fit.
        let full = self.items.len() >= self.limits.max_items || self.bytes >= self.limits.max_bytes;
        if full { self.take() } else { None }
    }

    /// Returns the pending items as a last batch, if there are any.
    pub fn flush(&mut self) -> Option<Vec<T>> {
        self.take()
    }

    /// Whether nothing is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether an item of `bytes` can join the pending batch (always true when it is empty).
    fn fits(&self, bytes: usize) -> bool {
        self.items.is_empty()
            || self.bytes.saturating_add(1).saturating_add(bytes) <= self.limits.max_bytes
    }

    /// The comma before the next item, if there is a previous one.
    fn separator(&self) -> usize {
        usize::from(!self.items.is_empty())
    }

    fn take(&mut self) -> Option<Vec<T>> {
        self.bytes = ENVELOPE_BYTES;
        (!self.items.is_empty()).then(|| std::mem::take(&mut self.items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pushes items `(index, size)` and flushes; returns every batch in order.
    fn run(limits: BatchLimits, sizes: &[usize]) -> Vec<Vec<(usize, usize)>> {
        let mut batcher = Batcher::new(limits);
        let mut out = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            out.extend(batcher.push((i, *size), *size));
        }
        out.extend(batcher.flush());
        assert!(batcher.is_empty());
        out
    }

    fn body_bytes(batch: &[(usize, usize)]) -> usize {
        ENVELOPE_BYTES + batch.iter().map(|(_, s)| s).sum::<usize>() + batch.len().saturating_sub(1)
    }

    fn lens(batches: &[Vec<(usize, usize)>]) -> Vec<usize> {
        batches.iter().map(Vec::len).collect()
    }

    #[test]
    fn envelope_is_the_bulk_body_around_the_entities() {
        assert_eq!(ENVELOPE_BYTES, br#"{"entities":[]}"#.len());
        assert_eq!(
            body_bytes(&[(0, 3), (1, 3)]),
            r#"{"entities":[{},{}]}"#.len() + 2
        );
    }

    #[test]
    fn twenty_small_entities_make_one_full_batch() {
        let batches = run(BatchLimits::default(), &[10; 41]);
        assert_eq!(lens(&batches), [20, 20, 1]);
    }

    #[test]
    fn a_batch_closes_when_the_next_entity_would_overflow_the_body() {
        // 15 + 40 + 1 + 40 = 96 fits 100; a third entity would need 96 + 1 + 40.
        let batches = run(
            BatchLimits {
                max_items: 20,
                max_bytes: 100,
            },
            &[40, 40, 40],
        );
        assert_eq!(lens(&batches), [2, 1]);
    }

    #[test]
    fn a_body_of_exactly_the_limit_is_sent_at_once() {
        let mut batcher = Batcher::new(BatchLimits {
            max_items: 20,
            max_bytes: 100,
        });
        assert_eq!(batcher.push('a', 42), None);
        assert_eq!(batcher.push('b', 42), Some(vec!['a', 'b']));
        assert!(batcher.is_empty());
    }

    #[test]
    fn an_oversized_entity_travels_alone_and_is_never_dropped() {
        let batches = run(
            BatchLimits {
                max_items: 20,
                max_bytes: 100,
            },
            &[10, 500, 10],
        );
        assert_eq!(lens(&batches), [1, 1, 1]);
        assert_eq!(batches[1], [(1, 500)]);
    }

    #[test]
    fn an_oversized_entity_on_an_empty_batcher_is_returned_at_once() {
        let mut batcher = Batcher::new(BatchLimits {
            max_items: 20,
            max_bytes: 100,
        });
        assert_eq!(batcher.push("big", 1000), Some(vec!["big"]));
        assert_eq!(batcher.flush(), None);
    }

    #[test]
    fn a_zero_item_limit_still_sends_one_entity_per_batch() {
        let batches = run(
            BatchLimits {
                max_items: 0,
                max_bytes: 1000,
            },
            &[1, 2, 3],
        );
        assert_eq!(lens(&batches), [1, 1, 1]);
    }

    #[test]
    fn flushing_an_empty_batcher_yields_nothing() {
        let mut batcher: Batcher<u8> = Batcher::new(BatchLimits::default());
        assert!(batcher.is_empty());
        assert_eq!(batcher.flush(), None);
    }

    proptest! {
        #[test]
        fn no_batch_exceeds_its_limits_and_nothing_is_lost_or_reordered(
            max_items in 0usize..25,
            max_bytes in 0usize..400,
            sizes in proptest::collection::vec(0usize..120, 0..200),
        ) {
            let limits = BatchLimits { max_items, max_bytes };
            let batches = run(limits, &sizes);
            let flat: Vec<usize> = batches.iter().flatten().map(|(i, _)| *i).collect();
            prop_assert_eq!(flat, (0..sizes.len()).collect::<Vec<_>>());
            for batch in &batches {
                prop_assert!(!batch.is_empty());
                prop_assert!(batch.len() <= max_items.max(1));
                let body = body_bytes(batch);
                prop_assert!(body <= max_bytes || batch.len() == 1, "{} > {}", body, max_bytes);
            }
        }

        #[test]
        fn a_batch_is_closed_only_when_the_next_entity_would_break_a_limit(
            max_items in 1usize..25,
            max_bytes in 20usize..400,
            sizes in proptest::collection::vec(0usize..120, 0..200),
        ) {
            let batches = run(BatchLimits { max_items, max_bytes }, &sizes);
            for pair in batches.windows(2) {
                let mut grown = pair[0].clone();
                grown.push(pair[1][0]);
                prop_assert!(grown.len() > max_items || body_bytes(&grown) > max_bytes);
            }
        }
    }
}
