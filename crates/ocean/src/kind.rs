//! The contract an integration implements: a stream of raw pages per kind.

use futures::stream::BoxStream;
use mapping::SelectorConfig;
use serde_json::Value;

/// A stream of pages of raw items, exactly as the third-party API returned them (plus any
/// enrichment keys such as `__project`). An `Err` ends the kind's fetch as failed.
pub type PageStream<E> = BoxStream<'static, Result<Vec<Value>, E>>;

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

    /// Called when a resync starts, before any `fetch`: drop whatever was remembered from the
    /// previous one (the integration may share fetched lists between kinds within a resync).
    fn resync_started(&self) {}
}
