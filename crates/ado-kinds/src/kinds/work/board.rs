//! `board`: the boards of every team of every project (detail form, with columns), each with
//! its project under `__project`.

use ado_client::{Client, Error, ProjectId, TeamId};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, part_failed, per_project};

/// Streams one page of boards per project (and one per team whose boards could not be read).
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    per_project(source, |source, project| async move {
        let boards = source.boards(&project).await?;
        let mut pages = vec![Page::from(boards.boards.clone())];
        pages.extend(boards.skipped.iter().cloned().map(Page::skipping));
        Ok(pages)
    })
}

/// The boards of a project's teams, and the teams whose boards could not be read.
#[derive(Debug, Default)]
pub(crate) struct Boards {
    /// Every board, deduplicated by id, with `__project`.
    pub(crate) boards: Vec<Value>,
    /// One line per team skipped (upstream skips such a team too; see [`part_failed`]).
    pub(crate) skipped: Vec<String>,
}

/// Every board of `teams` of `project`, deduplicated by id, with `__project`. A team whose
/// boards answer with an error of its own is skipped and named in [`Boards::skipped`].
pub(crate) async fn boards_of(
    client: &Client,
    project: &Value,
    teams: &[Value],
) -> Result<Boards, Error> {
    let project_id = ProjectId::of(project);
    let mut read = Boards::default();
    for team in teams {
        let boards = match client.boards(&project_id, &TeamId::of(team)).await {
            Ok(boards) => boards,
            Err(error) if part_failed(&error) => {
                read.skipped.push(format!(
                    "boards of team `{}` of project `{}`: {error}",
                    team["name"].as_str().unwrap_or_default(),
                    project["name"].as_str().unwrap_or_default(),
                ));
                continue;
            }
            Err(error) => return Err(error),
        };
        for mut board in boards {
            if read.boards.iter().any(|b| b["id"] == board["id"]) {
                continue;
            }
            board["__project"] = project.clone();
            read.boards.push(board);
        }
    }
    Ok(read)
}
