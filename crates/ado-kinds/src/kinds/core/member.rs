//! `member`: the members (`TeamMember`: `identity`, `isTeamAdmin`) of every team of the
//! organization, one page per team with `__teamId` (ocean-azure-devops.md §3.1); five teams
//! at a time (upstream reads them one after another).

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::{
    super::{Source, id_of, shared},
    team::TEAM_CONCURRENCY,
};

/// Streams one page of members per team.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    let source = source.clone();
    stream::once(async move { source.teams().await.map(|teams| (source, teams)) })
        .map_ok(|(source, teams)| {
            stream::iter(teams.into_iter().map(Ok))
                .map_ok(move |team| {
                    let source = source.clone();
                    async move {
                        let members = source.members(&team).await?;
                        Ok(Page::sharing(
                            members,
                            shared("__teamId", Value::String(id_of(&team))),
                        ))
                    }
                })
                .try_buffered(TEAM_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
}
