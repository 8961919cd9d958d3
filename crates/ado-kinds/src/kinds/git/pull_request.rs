//! `pull-request`: per healthy repository, the active pull requests, then the abandoned and the
//! completed ones closed in the last `minTimeInDays` days (at most `maxResults` of each per
//! repository), as upstream does (ocean-azure-devops.md §3.1). Raw objects, no enrichment: the
//! repository and its project are inside each pull request.
//!
//! Repositories without a default branch are skipped: an empty repository has no branches and
//! so no pull requests (upstream asks anyway).

use ado_client::{Error, ProjectId, RepositoryId};
use futures::{TryStreamExt, future::try_join_all};
use mapping::SelectorConfig;
use ocean::PageStream;
use serde_json::Value;

use super::super::{Source, ado_time, per_project};
use crate::AdoKind;

/// Selector defaults of the Python integration.
const MIN_TIME_IN_DAYS: u64 = 7;
const MAX_RESULTS: u64 = 100;

/// Streams one page of pull requests per project.
pub(crate) fn fetch(source: &Source, options: Options) -> PageStream<Error> {
    let since = since(options.days);
    per_project(source, move |source, project| {
        let since = since.clone();
        async move {
            let project_id = ProjectId::of(&project);
            let healthy = source.healthy_repositories(&project_id).await?;
            let per_repo = try_join_all(healthy.iter().map(|repo| {
                let (client, p, r, since) = (
                    source.client.clone(),
                    project_id.clone(),
                    RepositoryId::of(repo),
                    since.clone(),
                );
                async move {
                    let mut all = client
                        .pull_requests(
                            &p,
                            &r,
                            vec![("searchCriteria.status", "active".into())],
                            None,
                        )
                        .await?;
                    for status in ["abandoned", "completed"] {
                        let query = vec![
                            ("searchCriteria.status", status.to_owned()),
                            ("searchCriteria.queryTimeRangeType", "closed".to_owned()),
                            ("searchCriteria.minTime", since.clone()),
                        ];
                        all.extend(
                            client
                                .pull_requests(&p, &r, query, Some(options.max))
                                .await?,
                        );
                    }
                    Ok::<_, Error>(all)
                }
            }))
            .await?;
            Ok(vec![
                per_repo.into_iter().flatten().collect::<Vec<_>>().into(),
            ])
        }
    })
}

/// `searchCriteria.minTime` for closed pull requests: `days` before now, once per resync (an
/// absurd number of days reaches back to the year 1, not a panic).
fn since(days: u64) -> String {
    let hours = i64::try_from(days)
        .unwrap_or(i64::MAX)
        .saturating_mul(24)
        .min(i64::MAX / 3_600);
    // 0001-01-01T00:00:00Z, .NET's `DateTime.MinValue`: the earliest time Azure DevOps parses.
    let earliest = jiff::Timestamp::from_second(-62_135_596_800).unwrap_or(jiff::Timestamp::MIN);
    ado_time(
        jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(hours))
            .unwrap_or(earliest)
            .max(earliest),
    )
}

/// Catch-up: per project, the pull requests created or closed at or after `since` (two
/// project-wide queries, not one per repository). Edits of an open pull request (title,
/// reviewers, votes) cannot be asked for this way; the scheduled resync brings those.
pub(crate) fn changed_since(source: &Source, since: jiff::Timestamp) -> PageStream<Error> {
    let since = ado_time(since);
    per_project(source, move |source, project| {
        let since = since.clone();
        async move {
            let project_id = ProjectId::of(&project);
            let mut seen = std::collections::HashSet::new();
            let mut changed = Vec::new();
            for range in ["created", "closed"] {
                let query = vec![
                    ("searchCriteria.status", "all".to_owned()),
                    ("searchCriteria.queryTimeRangeType", range.to_owned()),
                    ("searchCriteria.minTime", since.clone()),
                ];
                let pages: Vec<Vec<Value>> = source
                    .client
                    .project_pull_requests(&project_id, query)
                    .try_collect()
                    .await?;
                for pr in pages.into_iter().flatten() {
                    if seen.insert(pr["pullRequestId"].as_u64()) {
                        changed.push(pr);
                    }
                }
            }
            Ok(vec![changed.into()])
        }
    })
}

/// The selector's `minTimeInDays` and `maxResults`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    days: u64,
    max: usize,
}

impl Options {
    /// The options of `selector`, or which one is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let positive = |option: &str, default: u64| match selector.extra.get(option) {
            None | Some(Value::Null) => Ok(default),
            Some(value) => value.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                crate::Error::selector(
                    AdoKind::PullRequest,
                    option,
                    format!("must be a whole number of at least 1, not {value}"),
                )
            }),
        };
        Ok(Self {
            days: positive("minTimeInDays", MIN_TIME_IN_DAYS)?,
            max: usize::try_from(positive("maxResults", MAX_RESULTS)?).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_number_of_days_gives_a_time_not_a_panic() {
        let at = |text: String| text.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(since(u64::MAX), "0001-01-01T00:00:00.000Z");
        let week = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(7 * 24);
        assert!(at(since(7)).duration_since(week).abs() < jiff::SignedDuration::from_secs(5));
    }
}
