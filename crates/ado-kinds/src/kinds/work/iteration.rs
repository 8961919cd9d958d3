//! `iteration`: the iterations every team of every project follows, with `__project` and
//! `__team` (ocean-azure-devops.md §3.1). One iteration followed by several teams is one
//! item per team, as upstream.
//!
//! Departures: upstream reads only the first page of a project's teams and logs and skips a
//! team whose iterations cannot be read (so reconciliation deletes them); here every page is
//! read, a team gone since the list (404) has none, and other failures fail the kind.

use ado_client::{Error, ProjectId, TeamId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Map;

use super::super::{Source, core::team::TEAM_CONCURRENCY, per_project_streams};

/// Streams one page of iterations per team.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project_streams(source, |source, project| {
        stream::once(async move {
            let teams = source.project_teams(&ProjectId::of(&project)).await?;
            Ok::<_, Error>((source, project, teams))
        })
        .map_ok(|(source, project, teams)| {
            stream::iter(teams.into_iter().map(Ok))
                .map_ok(move |team| {
                    let (source, project) = (source.clone(), project.clone());
                    async move {
                        let project_id = ProjectId::of(&project);
                        let iterations = match source
                            .client
                            .team_iterations(&project_id, &TeamId::of(&team))
                            .await
                        {
                            Ok(iterations) => iterations,
                            Err(Error::NotFound { .. }) => Vec::new(),
                            Err(other) => return Err(other),
                        };
                        let keys = Map::from_iter([
                            ("__project".to_owned(), project),
                            ("__team".to_owned(), team),
                        ]);
                        Ok(Page::sharing(iterations, keys))
                    }
                })
                .try_buffered(TEAM_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
    })
}
