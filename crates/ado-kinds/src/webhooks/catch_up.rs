//! Catch-up: what changed since a point in time, for the kinds Azure DevOps can be asked that
//! way, so that events which never arrived (the integration was down, Azure DevOps gave up
//! delivering, a subscription was disabled) reach Port without a full resync:
//!
//! - `work-item`: every change, by WIQL on `[System.ChangedDate]` with `timePrecision`;
//! - `pull-request`: those created or closed since (edits of open ones are not queryable);
//! - `release`: those created since (a release's later changes are not queryable);
//! - `release-deployment`: those modified since (`minModifiedTime`);
//! - `advanced-security-alert`: those modified since (`criteria.modifiedSince`);
//! - `test-run`: those updated since (`minLastUpdatedDate`, in windows of 7 days at most);
//! - `build`: those queued or finished since (`minTime` per `queryOrder`);
//! - `pipeline-run` and `pipeline-stage`: the runs and the stages of those builds (a run is
//!   the build with the same id).
//!
//! What cannot be asked for is left to the scheduled resync.

use std::sync::Arc;

use ado_client::Client;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use mapping::{PortAppConfig, SelectorConfig};
use ocean::live::Changes;

use crate::{
    AdoKind, Error,
    kinds::{Source, with_organization},
};

/// Pages of the live mapping's objects changed at or after `since`, kind by kind: one query
/// per distinct selector of a kind ([`AdoKind::catch_up_filters`]).
pub(crate) fn changed_since(
    client: &Client,
    excluded_tags: &Arc<[String]>,
    since: jiff::Timestamp,
    config: &Arc<PortAppConfig>,
) -> BoxStream<'static, Result<Changes, Error>> {
    let source = Source::new(client.clone(), Arc::clone(excluded_tags));
    // Live events build one object for every resource of a kind.
    let first_commits = crate::kinds::pipelines::build::wants_first_commit(config);
    let mut streams = Vec::new();
    for &kind in AdoKind::ALL {
        let Some(filters) = kind.catch_up_filters() else {
            continue;
        };
        for selector in distinct_selectors(config, kind, filters) {
            if let Some(pages) = kind.changed_since(&source, selector, since, first_commits) {
                let changes = with_organization(client, pages).and_then(move |page| async move {
                    Ok(Changes {
                        updated: vec![(kind.into(), crate::kinds::page_items(page)?)],
                        ..Changes::default()
                    })
                });
                streams.push(changes);
            }
        }
    }
    futures::stream::iter(streams).flatten().boxed()
}

/// The selectors of `kind`'s resources that differ in one of `filters` (without filters,
/// the first resource's alone).
fn distinct_selectors<'a>(
    config: &'a PortAppConfig,
    kind: AdoKind,
    filters: &[&str],
) -> Vec<&'a SelectorConfig> {
    let mut selectors: Vec<&SelectorConfig> = Vec::new();
    for resource in kind.resources(config) {
        let same = |s: &&SelectorConfig| {
            filters
                .iter()
                .all(|f| s.extra.get(*f) == resource.selector.extra.get(*f))
        };
        if !selectors.iter().any(same) {
            selectors.push(&resource.selector);
        }
    }
    selectors
}
