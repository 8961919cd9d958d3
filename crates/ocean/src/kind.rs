//! The contract an integration implements: a stream of raw pages per kind.

use futures::stream::BoxStream;
use mapping::SelectorConfig;
use serde_json::{Map, Value};

use crate::Items;

/// A stream of pages of raw items. An `Err` ends the kind's fetch as failed.
pub type PageStream<E> = BoxStream<'static, Result<Page, E>>;

/// Raw items exactly as the third-party API returned them, plus enrichment keys such as
/// `__project`. Keys that every item of the page shares go in `shared`, once: the mapping sees
/// each item as if they had been inserted into it (see [`mapping::SharedFields`]), without a
/// copy per item (a project's 200 work items would otherwise hold 200 copies of the project).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The items (decoded, or JSON text decoded when mapped: see [`Items`]).
    pub items: Items,
    /// Keys added to every item (after its own keys, replacing one it already has).
    pub shared: Map<String, Value>,
    /// Parts of the kind that could not be read (e.g. "boards of team T: HTTP 500"): what was
    /// read is still written, and the resource's blueprints are kept from deletion this resync.
    pub skipped: Vec<String>,
}

impl Page {
    /// A page whose items all have `shared`.
    #[must_use]
    pub fn sharing(items: Vec<Value>, shared: Map<String, Value>) -> Self {
        Self {
            items: items.into(),
            shared,
            skipped: Vec::new(),
        }
    }

    /// A page without items saying that `part` of the kind could not be read, and why.
    #[must_use]
    pub fn skipping(part: impl Into<String>) -> Self {
        Self {
            skipped: vec![part.into()],
            ..Self::default()
        }
    }

    /// The items decoded, with the shared keys inserted into each (for callers that need
    /// plain JSON); an error only for an item [`Items::get`] cannot decode.
    pub fn into_items(self) -> Result<Vec<Value>, serde_json::Error> {
        Ok(Self::stamped(self.items.into_values()?, &self.shared))
    }

    /// `items` with `shared` inserted into each object, as [`Page::into_items`] does.
    #[must_use]
    pub fn stamped(mut items: Vec<Value>, shared: &Map<String, Value>) -> Vec<Value> {
        if !shared.is_empty() {
            for item in &mut items {
                if let Value::Object(map) = item {
                    map.extend(shared.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        items
    }
}

impl From<Vec<Value>> for Page {
    fn from(items: Vec<Value>) -> Self {
        Self {
            items: items.into(),
            ..Self::default()
        }
    }
}

/// An integration (Azure DevOps, or a fixture in tests): it knows how to fetch each of its kinds.
///
/// The kinds themselves are a closed set owned by the integration; the framework only passes the
/// `kind` string and the resource's selector from the port-app-config.
pub trait Integration: Send + Sync + 'static {
    /// The integration's fetch error (typed per integration, never `Box<dyn Error>`).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Starts fetching all items of `kind` with the resource's selector, or `None` when this
    /// integration does not implement that kind (the resource then fails, as in Ocean).
    fn fetch(&self, kind: &str, selector: &SelectorConfig) -> Option<PageStream<Self::Error>>;

    /// Checks a resource's `kind` and selector options when the mapping loads, so that a typo
    /// in a kind or an option the kind cannot use is reported with the jq errors, before
    /// anything is fetched. Everything passes by default.
    fn check(&self, kind: &str, selector: &SelectorConfig) -> Result<(), Self::Error> {
        let _ = (kind, selector);
        Ok(())
    }

    /// Whether `error` would meet every kind alike (credentials refused, the service
    /// unreachable): the resync then stops at once and reports the cause once, instead of
    /// each resource trying and failing the same way. Nothing is deleted either way.
    fn stops_resync(&self, error: &Self::Error) -> bool {
        let _ = error;
        false
    }

    /// Called when a resync starts, before any `fetch`: drop whatever was remembered from the
    /// previous one (the integration may share fetched lists between kinds within a resync).
    fn resync_started(&self) {}

    /// Called when a resync has fetched everything it will (before its deletion phase),
    /// whatever its outcome: drop what was kept for it, so that nothing of it stays in memory
    /// until the next one.
    fn resync_finished(&self) {}

    /// Incremental mode: the items of `kind` changed at or after `since`, as a resource with
    /// `selector` reads them; `None` when `kind` cannot be read that way (an incremental run
    /// then leaves its resources alone). None by default.
    fn fetch_changed(
        &self,
        kind: &str,
        selector: &SelectorConfig,
        since: jiff::Timestamp,
    ) -> Option<PageStream<Self::Error>> {
        let _ = (kind, selector, since);
        None
    }
}
