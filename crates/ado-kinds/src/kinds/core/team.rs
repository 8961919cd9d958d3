//! `team`: every team of the organization (`GET _apis/teams`), as upstream, which does not
//! filter them by `excludedTags` (ocean-azure-devops.md §3.1, §6.6). `includeMembers` adds
//! `__members` (the team's `TeamMember`s) and `includeAreaPaths` adds `__areaPaths` (its
//! `TeamFieldValues`), five teams at a time.
//!
//! Departure: upstream writes `__areaPaths: null` when the team settings cannot be read, which
//! overwrites the property in Port; here only a team gone since the list (404) gets `null`, and
//! any other failure fails the kind, so its entities are kept as they were.

use ado_client::{Error, ProjectId, TeamId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, flag};

/// Teams enriched at a time (upstream's `MAX_CONCURRENT_TEAMS`).
pub(crate) const TEAM_CONCURRENCY: usize = 5;
/// Teams per page handed to the mapping.
const PAGE: usize = 100;

/// Streams pages of teams.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let (members, areas) = (
        flag(selector, "includeMembers"),
        flag(selector, "includeAreaPaths"),
    );
    let source = source.clone();
    stream::once(async move { source.teams().await.map(|teams| (source, teams)) })
        .map_ok(move |(source, teams)| {
            let chunks: Vec<Vec<Value>> = teams.chunks(PAGE).map(<[Value]>::to_vec).collect();
            stream::iter(chunks.into_iter().map(Ok))
                .and_then(move |chunk| enrich(source.clone(), chunk, members, areas))
        })
        .try_flatten()
        .boxed()
}

/// `teams` with `__members` and `__areaPaths` as asked.
async fn enrich(
    source: Source,
    teams: Vec<Value>,
    members: bool,
    areas: bool,
) -> Result<Page, Error> {
    if !members && !areas {
        return Ok(teams.into());
    }
    let enriched = stream::iter(teams)
        .map(|mut team| {
            let source = source.clone();
            async move {
                if members {
                    team["__members"] = Value::Array(source.members(&team).await?);
                }
                if areas {
                    let project = ProjectId::from(team["projectId"].as_str().unwrap_or_default());
                    team["__areaPaths"] = match source
                        .client
                        .team_field_values(&project, &TeamId::of(&team))
                        .await
                    {
                        Ok(values) => values,
                        Err(Error::NotFound { .. }) => Value::Null,
                        Err(other) => return Err(other),
                    };
                }
                Ok::<_, Error>(team)
            }
        })
        .buffered(TEAM_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(enriched.into())
}
