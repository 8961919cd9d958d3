//! Work: boards, and team settings (area paths, iterations).

use serde_json::Value;

use crate::{Client, Error, Host, ProjectId, TeamId, page::take_list};

impl Client {
    /// `GET {project}/{team}/_apis/work/boards` then each board's detail (with columns).
    pub async fn boards(&self, project: &ProjectId, team: &TeamId) -> Result<Vec<Value>, Error> {
        let segments = [project.as_str(), team.as_str(), "_apis", "work", "boards"];
        let (mut list, _) = self.get(Host::Core, &segments, &[]).await?;
        let mut boards = Vec::new();
        for summary in &take_list(&mut list, &segments)? {
            let Some(id) = summary.get("id").and_then(Value::as_str) else {
                continue;
            };
            boards.push(
                self.get(
                    Host::Core,
                    &[
                        project.as_str(),
                        team.as_str(),
                        "_apis",
                        "work",
                        "boards",
                        id,
                    ],
                    &[],
                )
                .await?
                .0,
            );
        }
        Ok(boards)
    }

    /// `GET {project}/{team}/_apis/work/teamsettings/teamfieldvalues`: the team's area paths
    /// (`TeamFieldValues`).
    pub async fn team_field_values(
        &self,
        project: &ProjectId,
        team: &TeamId,
    ) -> Result<Value, Error> {
        let segments = [
            project.as_str(),
            team.as_str(),
            "_apis",
            "work",
            "teamsettings",
            "teamfieldvalues",
        ];
        Ok(self.get(Host::Core, &segments, &[]).await?.0)
    }

    /// `GET {project}/{team}/_apis/work/teamsettings/iterations`: the iterations the team
    /// follows (one unpaged list).
    pub async fn team_iterations(
        &self,
        project: &ProjectId,
        team: &TeamId,
    ) -> Result<Vec<Value>, Error> {
        let segments = [
            project.as_str(),
            team.as_str(),
            "_apis",
            "work",
            "teamsettings",
            "iterations",
        ];
        let (mut body, _) = self.get(Host::Core, &segments, &[]).await?;
        take_list(&mut body, &segments)
    }
}
