//! Core: projects and teams.

use futures::{Stream, TryStreamExt};
use serde_json::Value;

use crate::{Client, Error, Host, Paging, ProjectId, TeamId};

/// Project tags are project properties under this prefix (ocean-azure-devops.md §6.6).
const PROJECT_TAG_PREFIX: &str = "Microsoft.TeamFoundation.Project.Tag.";
/// `Projects - Get Project Properties` exists only as a preview.
const PROPERTIES_API_VERSION: &str = "7.1-preview.1";

impl Client {
    /// `GET _apis/projects` (pages of 100, continuation header).
    pub fn projects(&self) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        self.pages(
            Host::Core,
            vec!["_apis".into(), "projects".into()],
            Vec::new(),
            Paging::ContinuationHeader { top: 100 },
        )
    }

    /// `GET _apis/projects/{id}?includeCapabilities=true` (has `defaultTeam`).
    pub async fn project(&self, id: &ProjectId) -> Result<Value, Error> {
        let query = [("includeCapabilities", "true".to_owned())];
        Ok(self
            .get(Host::Core, &["_apis", "projects", id.as_str()], &query)
            .await?
            .0)
    }

    /// The tags of a project: its `Microsoft.TeamFoundation.Project.Tag.*` properties (`GET
    /// _apis/projects/{id}/properties`, preview-only), names without that prefix.
    pub async fn project_tags(&self, id: &ProjectId) -> Result<Vec<String>, Error> {
        let query = [
            ("keys", format!("{PROJECT_TAG_PREFIX}*")),
            ("api-version", PROPERTIES_API_VERSION.to_owned()),
        ];
        let segments = ["_apis", "projects", id.as_str(), "properties"];
        let (mut body, _) = self.get(Host::Core, &segments, &query).await?;
        Ok(crate::page::take_list(&mut body, &segments)?
            .iter()
            .filter_map(|p| p["name"].as_str()?.strip_prefix(PROJECT_TAG_PREFIX))
            .map(str::to_owned)
            .collect())
    }

    /// `GET _apis/projects/{project}/teams` (`$top`/`$skip`).
    pub async fn teams(&self, project: &ProjectId) -> Result<Vec<Value>, Error> {
        let segments = vec![
            "_apis".into(),
            "projects".into(),
            project.to_string(),
            "teams".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::TopSkip { top: 100 },
        )
        .try_concat()
        .await
    }
}

/// `GET _apis/teams` exists only as a preview (spec `core`, `Teams_Get All Teams`).
const ALL_TEAMS_API_VERSION: &str = "7.1-preview.3";

impl Client {
    /// `GET _apis/teams`: every team of the organization (`$top`/`$skip`, preview api-version).
    pub fn all_teams(&self) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        self.pages(
            Host::Core,
            vec!["_apis".into(), "teams".into()],
            vec![("api-version", ALL_TEAMS_API_VERSION.to_owned())],
            Paging::TopSkip { top: 100 },
        )
    }

    /// `GET _apis/projects/{project}/teams/{team}/members` (`TeamMember`s, `$top`/`$skip`).
    pub async fn team_members(
        &self,
        project: &ProjectId,
        team: &TeamId,
    ) -> Result<Vec<Value>, Error> {
        let segments = vec![
            "_apis".into(),
            "projects".into(),
            project.to_string(),
            "teams".into(),
            team.to_string(),
            "members".into(),
        ];
        self.pages(
            Host::Core,
            segments,
            Vec::new(),
            Paging::TopSkip { top: 100 },
        )
        .try_concat()
        .await
    }
}
