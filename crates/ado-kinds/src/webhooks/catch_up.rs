//! Catch-up: what changed since a point in time, for the kinds Azure DevOps can be asked that
//! way, so that events which never arrived (the integration was down, Azure DevOps gave up
//! delivering, a subscription was disabled) reach Port without a full resync.
//!
//! Only `work-item` today: WIQL filters on `[System.ChangedDate]` with `timePrecision`.
//! Pull requests and releases can only be filtered by creation (and closing) time, which
//! misses edits, so they are left to the scheduled resync; builds are not a kind yet.

use std::sync::Arc;

use ado_client::Client;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use mapping::{PortAppConfig, SelectorConfig};
use ocean::live::Changes;

use crate::kinds::{Source, wit::work_item, with_organization};

/// Pages of the live mapping's work items changed at or after `since`: one query per distinct
/// `work-item` selector (two resources with the same `wiql` and `expand` share it).
pub(crate) fn changed_since(
    client: &Client,
    since: jiff::Timestamp,
    config: &Arc<PortAppConfig>,
) -> BoxStream<'static, Result<Changes, String>> {
    let mut selectors: Vec<&SelectorConfig> = Vec::new();
    for resource in config.resources.iter().filter(|r| r.kind == "work-item") {
        let same = |s: &&SelectorConfig| {
            s.extra.get("wiql") == resource.selector.extra.get("wiql")
                && s.extra.get("expand") == resource.selector.extra.get("expand")
        };
        if !selectors.iter().any(same) {
            selectors.push(&resource.selector);
        }
    }
    let source = Source {
        client: client.clone(),
        memo: Arc::default(),
    };
    let streams: Vec<_> = selectors
        .into_iter()
        .map(|selector| {
            with_organization(
                client,
                work_item::fetch_since(&source, selector, Some(since)),
            )
        })
        .collect();
    futures::stream::iter(streams)
        .flatten()
        .map_ok(|page| Changes {
            updated: vec![("work-item".to_owned(), page.into_items())],
            deleted: Vec::new(),
        })
        .map_err(|error| format!("catch-up of work items failed: {error}"))
        .boxed()
}
