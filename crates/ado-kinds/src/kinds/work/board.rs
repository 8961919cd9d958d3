//! `board`: the boards of every team of every project (detail form, with columns), each with
//! its project under `__project`.

use ado_client::{Client, Error, ProjectId, TeamId};
use mapping::SelectorConfig;
use ocean::PageStream;
use serde_json::Value;

use super::super::{Source, per_project};

/// Streams one page of boards per project.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        Ok(vec![source.boards(&project).await?.as_ref().clone().into()])
    })
}

/// Every board of `teams` of `project`, deduplicated by id, with `__project`.
pub(crate) async fn boards_of(
    client: &Client,
    project: &Value,
    teams: &[Value],
) -> Result<Vec<Value>, Error> {
    let project_id = ProjectId::of(project);
    let mut boards: Vec<Value> = Vec::new();
    for team in teams {
        for mut board in client.boards(&project_id, &TeamId::of(team)).await? {
            if boards.iter().any(|b| b["id"] == board["id"]) {
                continue;
            }
            board["__project"] = project.clone();
            boards.push(board);
        }
    }
    Ok(boards)
}
