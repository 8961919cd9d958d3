//! Mapping a resource's pages: each page of raw items runs through the resource's compiled
//! mapping on the blocking pool, becoming entities ready to diff and send (serialized once,
//! fingerprinted, with their relations), plus what the report counts.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use futures::{Stream, StreamExt};
use mapping::{Entity, MappingPlan, SharedFields};
use serde_json::value::RawValue;

use super::{
    Resync,
    diff::Fingerprint,
    examples,
    reconcile::{EntityKey, RelationRef},
};
use crate::{Integration, Page};

/// An entity mapped on the blocking pool, ready to diff and send.
pub(super) struct Mapped {
    /// `None` when the identifier is a search query (never diffed nor reconciled, as in Ocean).
    pub(super) key: Option<EntityKey>,
    pub(super) blueprint: String,
    pub(super) json: Box<RawValue>,
    pub(super) fingerprint: Fingerprint,
    /// Its relations, to protect their targets from deletion.
    pub(super) relations: Vec<RelationRef>,
    /// Its identifier or a relation is a search query, which Port resolves when it is written.
    pub(super) searches: bool,
}

/// The result of mapping one page.
#[derive(Default)]
pub(super) struct MappedPage {
    pub(super) items: usize,
    pub(super) entities: Vec<Mapped>,
    pub(super) filtered_out: usize,
    pub(super) dropped: usize,
    /// field → (count, first message)
    pub(super) warnings: HashMap<String, (usize, String)>,
    pub(super) selector_error: Option<String>,
    pub(super) serialize_error: Option<String>,
    /// The first item that could not be decoded from the API's text ([`crate::Items::get`]).
    pub(super) unreadable: Option<String>,
    /// Parts of the kind the integration could not read ([`Page::skipped`]).
    pub(super) skipped: Vec<String>,
    /// Raw items that produced an entity, as the mapping saw them (when asked for).
    pub(super) examples: Vec<serde_json::Value>,
    /// How long the pipeline waited for this page from the integration (see [`Waited`]).
    pub(super) fetch_wait: Duration,
    /// How long mapping it took on the blocking pool.
    pub(super) mapping: Duration,
}

/// The resource's pages mapped on the blocking pool, `map_concurrency` at a time, in order.
pub(super) fn map_pages<I: Integration>(
    resync: &Resync<I>,
    index: usize,
    pages: crate::PageStream<I::Error>,
    examples_full: Arc<std::sync::atomic::AtomicBool>,
) -> impl futures::Stream<Item = Result<MappedPage, PageError>> + use<I> {
    let plan = Arc::clone(&resync.plan);
    let integration = Arc::clone(&resync.integration);
    Waited::new(pages)
        .map(move |(page, fetch_wait)| {
            let plan = Arc::clone(&plan);
            let integration = Arc::clone(&integration);
            let copy_examples = examples::copying(&examples_full);
            async move {
                match page {
                    Ok(items) => tokio::task::spawn_blocking(move || {
                        let started = Instant::now();
                        let mut page = map_page(&plan, index, items, copy_examples);
                        page.mapping = started.elapsed();
                        page.fetch_wait = fetch_wait;
                        page
                    })
                    .await
                    .map_err(|e| PageError::Failed(format!("mapping worker failed: {e}"))),
                    Err(error) if integration.stops_resync(&error) => {
                        Err(PageError::Stops(error.to_string()))
                    }
                    Err(error) => Err(PageError::Failed(format!("fetch failed: {error}"))),
                }
            }
        })
        .buffered(resync.settings.map_concurrency.max(1))
}

/// The integration's pages, each with how long the pipeline waited for it: from the first
/// poll that found no page ready until the page came (issue 18, item 4: the share of a
/// resource's time that is the third-party API's). The pipeline polls only when it can take a
/// page, so time spent mapping or writing is not counted.
struct Waited<S> {
    pages: S,
    since: Option<Instant>,
}

impl<S> Waited<S> {
    fn new(pages: S) -> Self {
        Self { pages, since: None }
    }
}

impl<S: Stream + Unpin> Stream for Waited<S> {
    type Item = (S::Item, Duration);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.pages.poll_next_unpin(cx) {
            Poll::Pending => {
                self.since.get_or_insert_with(Instant::now);
                Poll::Pending
            }
            Poll::Ready(page) => {
                let waited = self.since.take().map_or(Duration::ZERO, |t| t.elapsed());
                Poll::Ready(page.map(|page| (page, waited)))
            }
        }
    }
}

/// Why a resource's pages ended early.
pub(super) enum PageError {
    /// This resource failed (`fetch failed: …`, a mapping worker's panic).
    Failed(String),
    /// An error every kind would meet: the whole resync stops, with this cause.
    Stops(String),
    /// Another resource stopped the resync.
    Stopped,
}

/// Maps one page of raw items with one resource's compiled mapping (runs on the blocking pool);
/// with `copy_examples`, keeps copies of the first items that produced an entity.
fn map_page(plan: &MappingPlan, index: usize, raw: Page, copy_examples: bool) -> MappedPage {
    let Some(resource) = plan.resource(index) else {
        unreachable!("lanes hold planned resources only");
    };
    let mut page = MappedPage {
        items: raw.items.len(),
        skipped: raw.skipped,
        ..MappedPage::default()
    };
    let shared = SharedFields::new(raw.shared);
    for at in 0..raw.items.len() {
        // A text item is decoded here and dropped after it is mapped (see `crate::Items`).
        let item = match raw.items.get(at) {
            Ok(item) => item,
            Err(error) => {
                page.unreadable.get_or_insert_with(|| {
                    format!("item {at} of a page could not be decoded: {error}")
                });
                continue;
            }
        };
        match resource.map_item_sharing(&item, &shared) {
            Ok(outcome) => {
                if copy_examples
                    && !outcome.passed.is_empty()
                    && page.examples.len() < examples::AMOUNT
                {
                    page.examples.push(shared.merged(&item));
                }
                page.filtered_out += outcome.filtered_out;
                page.dropped += outcome.dropped.len();
                for warning in outcome.warnings {
                    page.warnings
                        .entry(warning.field)
                        .or_insert((0, warning.message))
                        .0 += 1;
                }
                for entity in outcome.passed {
                    match prepare(entity) {
                        Ok(mapped) => page.entities.push(mapped),
                        Err(error) => page.serialize_error = Some(error),
                    }
                }
            }
            Err(error) => {
                page.selector_error.get_or_insert_with(|| error.to_string());
            }
        }
    }
    page
}

fn prepare(entity: Entity) -> Result<Mapped, String> {
    let key = entity.identifier.as_str().map(|identifier| EntityKey {
        blueprint: entity.blueprint.clone(),
        identifier: identifier.to_owned(),
    });
    let relations = RelationRef::all_of(&entity.relations);
    let searches = key.is_none()
        || entity.relations.values().any(|value| match value {
            serde_json::Value::Array(items) => items.iter().any(serde_json::Value::is_object),
            other => other.is_object(),
        });
    let json = serde_json::value::to_raw_value(&entity)
        .map_err(|e| format!("entity could not be serialized: {e}"))?;
    Ok(Mapped {
        key,
        fingerprint: Fingerprint::of_entity(&entity),
        blueprint: entity.blueprint,
        json,
        relations,
        searches,
    })
}
