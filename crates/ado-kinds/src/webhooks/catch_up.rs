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
use ocean::{PageStream, live::Changes};

use crate::kinds::{
    Source,
    advsec::advanced_security_alert,
    git::pull_request,
    pipelines::{build, pipeline_run, pipeline_stage},
    release::{release, release_deployment},
    test::test_run,
    wit::work_item,
    with_organization,
};

/// Pages of the live mapping's objects changed at or after `since`, kind by kind.
pub(crate) fn changed_since(
    client: &Client,
    excluded_tags: &Arc<[String]>,
    since: jiff::Timestamp,
    config: &Arc<PortAppConfig>,
) -> BoxStream<'static, Result<Changes, String>> {
    let source = Source::new(client.clone(), Arc::clone(excluded_tags));
    let mut streams: Vec<(&'static str, PageStream<ado_client::Error>)> = Vec::new();
    // One query per distinct selector: resources with the same filters share it.
    for selector in distinct_selectors(config, "work-item", &["wiql", "expand"]) {
        let pages = work_item::fetch_since(&source, selector, Some(since));
        streams.push(("work-item", pages));
    }
    let wants = |kind: &str| config.resources.iter().any(|r| r.kind == kind);
    if wants("pull-request") {
        streams.push(("pull-request", pull_request::changed_since(&source, since)));
    }
    let release_filters = [
        "expand",
        "statusFilter",
        "tagFilter",
        "sourceBranchFilter",
        "minCreatedTime",
        "maxCreatedTime",
    ];
    for selector in distinct_selectors(config, "release", &release_filters) {
        streams.push(("release", release::created_since(&source, selector, since)));
    }
    for selector in distinct_selectors(config, "advanced-security-alert", &["criteria"]) {
        let pages = advanced_security_alert::changed_since(&source, selector, since);
        streams.push(("advanced-security-alert", pages));
    }
    for selector in distinct_selectors(config, "test-run", &["includeResults", "codeCoverage"]) {
        streams.push((
            "test-run",
            test_run::changed_since(&source, selector, since),
        ));
    }
    if wants("release-deployment") {
        let pages = release_deployment::changed_since(&source, since);
        streams.push(("release-deployment", pages));
    }
    if wants("build") {
        let enrich = build::wants_first_commit(config);
        streams.push(("build", build::changed_since(&source, since, enrich)));
    }
    if wants("pipeline-run") {
        streams.push(("pipeline-run", pipeline_run::changed_since(&source, since)));
    }
    if wants("pipeline-stage") {
        let pages = pipeline_stage::changed_since(&source, since);
        streams.push(("pipeline-stage", pages));
    }
    let streams: Vec<_> = streams
        .into_iter()
        .map(|(kind, pages)| {
            with_organization(client, pages)
                .map_ok(move |page| Changes {
                    updated: vec![(kind.to_owned(), page.into_items())],
                    ..Changes::default()
                })
                .map_err(move |error| format!("catch-up of {kind} failed: {error}"))
        })
        .collect();
    futures::stream::iter(streams).flatten().boxed()
}

/// The selectors of `kind`'s resources that differ in one of `filters`.
fn distinct_selectors<'a>(
    config: &'a PortAppConfig,
    kind: &str,
    filters: &[&str],
) -> Vec<&'a SelectorConfig> {
    let mut selectors: Vec<&SelectorConfig> = Vec::new();
    for resource in config.resources.iter().filter(|r| r.kind == kind) {
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
