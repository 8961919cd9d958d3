//! One file per kind, grouped by Azure DevOps area, plus the fan-out helpers they share.

pub mod advsec;
pub mod core;
pub mod git;
pub mod identity;
pub mod pipelines;
pub mod release;
pub mod test;
pub mod wiki;
pub mod wit;
pub mod work;

use std::sync::Arc;

use ado_client::{Client, Error, ProjectId, RepositoryId, TeamId};
use futures::{
    StreamExt, TryStreamExt,
    stream::{self, BoxStream},
};
use ocean::{Page, PageStream};
use serde_json::{Map, Value};

use crate::memo::{Memo, MemoKey};

/// What kinds fetch through: the organization's client, the per-resync memo, and the
/// `excludedTags` whose projects are left out.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) client: Client,
    pub(crate) memo: Arc<Memo>,
    pub(crate) excluded_tags: Arc<[String]>,
}

impl Source {
    /// A source of `client`'s organization with a memo of its own.
    pub(crate) fn new(client: Client, excluded_tags: Arc<[String]>) -> Self {
        Self {
            client,
            memo: Arc::default(),
            excluded_tags,
        }
    }

    /// The organization's projects but those with an excluded tag, listed once per resync.
    pub(crate) async fn projects(&self) -> Result<Vec<Value>, Error> {
        let (client, excluded) = (self.client.clone(), Arc::clone(&self.excluded_tags));
        self.memo
            .list(MemoKey::Projects, move || async move {
                let projects = client.projects().try_concat().await?;
                Ok(without_excluded(&client, projects, &excluded).await)
            })
            .await
    }

    /// The repositories of a project, listed once per resync.
    pub(crate) async fn repositories(&self, project_id: &ProjectId) -> Result<Vec<Value>, Error> {
        let (client, id) = (self.client.clone(), project_id.clone());
        self.memo
            .list(
                MemoKey::Repositories {
                    project: project_id.clone(),
                },
                move || async move { client.repositories(&id).await },
            )
            .await
    }

    /// The project's repositories that have branches ([`git::has_branches`]): the ones pull
    /// requests and policies are read from.
    pub(crate) async fn healthy_repositories(
        &self,
        project_id: &ProjectId,
    ) -> Result<Vec<Value>, Error> {
        Ok(self
            .repositories(project_id)
            .await?
            .into_iter()
            .filter(git::has_branches)
            .collect())
    }

    /// The policies of a repository's branch, fetched once per resync.
    pub(crate) async fn policies(
        &self,
        project_id: &ProjectId,
        repository: &RepositoryId,
        branch: &str,
    ) -> Result<Vec<Value>, Error> {
        let (client, p, r, b) = (
            self.client.clone(),
            project_id.clone(),
            repository.clone(),
            branch.to_owned(),
        );
        self.memo
            .list(
                MemoKey::Policies {
                    project: project_id.clone(),
                    repository: repository.clone(),
                    branch: branch.to_owned(),
                },
                move || async move { client.repository_policies(&p, &r, &b).await },
            )
            .await
    }

    /// The pipelines of a project (as listed, without `configuration`), once per resync.
    pub(crate) async fn pipelines(&self, project_id: &ProjectId) -> Result<Vec<Value>, Error> {
        let (client, id) = (self.client.clone(), project_id.clone());
        self.memo
            .list(
                MemoKey::Pipelines {
                    project: project_id.clone(),
                },
                move || async move { client.pipelines(&id).try_concat().await },
            )
            .await
    }

    /// The boards of every team of a project (detail form, with `__project`), once per resync.
    pub(crate) async fn boards(&self, project: &Value) -> Result<Arc<work::board::Boards>, Error> {
        let project_id = ProjectId::of(project);
        let teams = self.project_teams(&project_id).await?;
        let (client, p) = (self.client.clone(), project.clone());
        self.memo
            .get(
                MemoKey::Boards {
                    project: project_id.clone(),
                },
                move || async move { work::board::boards_of(&client, &p, &teams).await },
            )
            .await
    }

    /// The teams of a project (`boards`, `iteration`), once per resync.
    pub(crate) async fn project_teams(&self, project_id: &ProjectId) -> Result<Vec<Value>, Error> {
        let (client, id) = (self.client.clone(), project_id.clone());
        self.memo
            .list(
                MemoKey::ProjectTeams {
                    project: project_id.clone(),
                },
                move || async move { client.teams(&id).await },
            )
            .await
    }

    /// Every team of the organization (`team`, `member`), once per resync.
    pub(crate) async fn teams(&self) -> Result<Vec<Value>, Error> {
        let client = self.client.clone();
        self.memo
            .list(MemoKey::Teams, move || async move {
                client.all_teams().try_concat().await
            })
            .await
    }

    /// The members of a team (`team` with `includeMembers`, `member`), once per resync.
    pub(crate) async fn members(&self, team: &Value) -> Result<Vec<Value>, Error> {
        let (client, project, id) = (
            self.client.clone(),
            ProjectId::from(team["projectId"].as_str().unwrap_or_default()),
            TeamId::of(team),
        );
        self.memo
            .list(MemoKey::Members { team: id.clone() }, move || async move {
                client.team_members(&project, &id).await
            })
            .await
    }

    /// The organization's security groups (`group`, `group-member`), once per resync.
    pub(crate) async fn groups(&self) -> Result<Vec<Value>, Error> {
        let client = self.client.clone();
        self.memo
            .list(MemoKey::Groups, move || async move {
                client.graph_groups().try_concat().await
            })
            .await
    }

    /// The pipeline environments of a project (`environment`, `pipeline-deployment`), once
    /// per resync.
    pub(crate) async fn environments(&self, project_id: &ProjectId) -> Result<Vec<Value>, Error> {
        let (client, id) = (self.client.clone(), project_id.clone());
        self.memo
            .list(
                MemoKey::Environments {
                    project: project_id.clone(),
                },
                move || async move { client.environments(&id).try_concat().await },
            )
            .await
    }
}

/// What a kind with selector options starts: its page stream, or the option that is wrong
/// ([`crate::AdoKind::check`] refuses such a mapping at load, so this is a second line).
pub(crate) type Fetch = Result<PageStream<Error>, crate::Error>;

/// Projects fetched concurrently by per-project kinds (the Python integration uses 5).
pub(crate) const PROJECT_CONCURRENCY: usize = 5;

/// `projects` without those carrying one of `excluded` (upstream's `excludedTags`, §6.6): tags
/// are read [`PROJECT_CONCURRENCY`] projects at a time, and a project whose tags cannot be
/// read is kept, with a warning (as upstream: leaving it out would delete its entities).
pub(crate) async fn without_excluded(
    client: &Client,
    projects: Vec<Value>,
    excluded: &[String],
) -> Vec<Value> {
    if excluded.is_empty() {
        return projects;
    }
    let tags: Vec<_> = projects
        .iter()
        .map(|project| {
            let (client, id) = (client.clone(), ProjectId::of(project));
            async move { client.project_tags(&id).await }
        })
        .collect();
    let tags: Vec<Result<Vec<String>, Error>> = stream::iter(tags)
        .buffered(PROJECT_CONCURRENCY)
        .collect()
        .await;
    projects
        .into_iter()
        .zip(tags)
        .filter(|(project, tags)| match tags {
            Ok(tags) => !tags.iter().any(|t| excluded.contains(t)),
            Err(error) => {
                tracing::warn!(project = %id_of(project), %error, "Could not read the project's tags; keeping it.");
                true
            }
        })
        .map(|(project, _)| project)
        .collect()
}

/// The projects of [`Source::projects`] as a stream, for per-project fan-out.
pub(crate) fn projects_stream(source: &Source) -> BoxStream<'static, Result<Value, Error>> {
    let source = source.clone();
    stream::once(async move { source.projects().await })
        .map_ok(|projects| stream::iter((0..projects.len()).map(move |i| Ok(projects[i].clone()))))
        .try_flatten()
        .boxed()
}

/// Streams the pages `per_project` makes for every project of the organization (but those
/// with an excluded tag), [`PROJECT_CONCURRENCY`] projects at a time.
pub(crate) fn per_project<F, Fut>(source: &Source, per_project: F) -> PageStream<Error>
where
    F: Fn(Source, Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<Page>, Error>> + Send + 'static,
{
    let source = source.clone();
    projects_stream(&source)
        .map_ok(move |project| per_project(source.clone(), project))
        .try_buffered(PROJECT_CONCURRENCY)
        .map_ok(|pages| stream::iter(pages.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// Streams the pages `per_project` streams for every project of the organization, up to
/// [`PROJECT_CONCURRENCY`] projects at a time; for kinds with many pages per project, which
/// [`per_project`] would hold in memory until the project is done.
pub(crate) fn per_project_streams<F>(source: &Source, per_project: F) -> PageStream<Error>
where
    F: Fn(Source, Value) -> PageStream<Error> + Clone + Send + Sync + 'static,
{
    let source = source.clone();
    projects_stream(&source)
        .map_ok(move |project| per_project(source.clone(), project))
        .try_flatten_unordered(PROJECT_CONCURRENCY)
        .boxed()
}

/// Adds `__organizationUrl` and `__organizationName` to every item (as shared keys of each
/// page), as every kind of the Python integration does.
pub(crate) fn with_organization<E: Send + 'static>(
    client: &Client,
    stream: PageStream<E>,
) -> PageStream<E> {
    let fields = organization_fields(client);
    stream
        .map_ok(move |mut page| {
            page.shared.extend(fields.clone());
            page
        })
        .boxed()
}

/// `__organizationUrl` and `__organizationName` of the client's organization.
pub(crate) fn organization_fields(client: &Client) -> Map<String, Value> {
    let url = client.organization_url().to_owned();
    let name = organization_name(&url);
    Map::from_iter([
        ("__organizationUrl".to_owned(), Value::String(url)),
        ("__organizationName".to_owned(), Value::String(name)),
    ])
}

/// A fetched page's items decoded, each with the page's shared keys (for live events, which
/// send plain JSON). Only text items (`ocean::JsonItems`: work items) can fail: valid JSON
/// nested too deeply for a value.
pub(crate) fn page_items(page: Page) -> Result<Vec<Value>, Error> {
    page.into_items().map_err(|e| Error::Decode {
        route: "a fetched page".to_owned(),
        path: "value".to_owned(),
        message: e.to_string(),
    })
}

/// `__projectId` and `__project`, the keys the Python integration adds to each work item and
/// build.
pub(crate) fn project_fields(project_id: ProjectId, project: Value) -> Map<String, Value> {
    Map::from_iter([
        (
            "__projectId".to_owned(),
            Value::String(project_id.into_string()),
        ),
        ("__project".to_owned(), project),
    ])
}

/// Whether `error`, met reading one part of a kind (a team's boards, a group's members, a
/// repository's branches), concerns that part only: the part is skipped with
/// [`ocean::Page::skipping`] (upstream skips it too) and the rest of the kind is read, while
/// its blueprints are kept from deletion. Refused credentials, throttling and unreachable
/// hosts concern every part, so they fail the kind.
pub(crate) fn part_failed(error: &Error) -> bool {
    match error {
        Error::Shared(inner) => part_failed(inner),
        Error::Http { status, .. } => !matches!(status, 401 | 403 | 429),
        Error::NotFound { .. } | Error::Decode { .. } => true,
        _ => false,
    }
}

/// One key and value, as a page's shared keys.
pub(crate) fn shared(key: &str, value: Value) -> Map<String, Value> {
    Map::from_iter([(key.to_owned(), value)])
}

/// `__organizationName`, as upstream derives it (`extract_org_name_from_url`):
/// `https://dev.azure.com/{org}` → `{org}` (the first path segment; the URL itself when there
/// is none); `https://{org}.visualstudio.com` → `{org}`; any other host (Azure DevOps Server,
/// the simulators) → the whole organization URL. The conformance goldens showed ours giving
/// the last path segment for Server.
fn organization_name(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if host == "dev.azure.com" || host.ends_with(".dev.azure.com") {
        return parsed
            .path_segments()
            .and_then(|mut s| s.next())
            .filter(|first| !first.is_empty())
            .map_or_else(|| url.to_owned(), str::to_owned);
    }
    if let Some(org) = host.strip_suffix(".visualstudio.com") {
        return org.to_owned();
    }
    url.to_owned()
}

/// A selector option that the YAML may write as a boolean or as the string `'true'`.
pub(crate) fn flag(selector: &mapping::SelectorConfig, key: &str) -> bool {
    match selector.extra.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A time as Azure DevOps query parameters and WIQL take it: UTC, milliseconds (.NET parses
/// at most 7 fractional digits; jiff writes up to 9).
pub(crate) fn ado_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The string form of an id field.
pub(crate) fn id_of(value: &Value) -> String {
    match value.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod organization_name_tests {
    use super::{organization_fields, organization_name};
    use serde_json::json;

    #[test]
    fn the_name_is_the_cloud_organization_or_the_whole_url_elsewhere() {
        assert_eq!(organization_name("https://dev.azure.com/acme"), "acme");
        assert_eq!(
            organization_name("https://dev.azure.com/acme/extra"),
            "acme"
        );
        assert_eq!(
            organization_name("https://dev.azure.com"),
            "https://dev.azure.com"
        );
        assert_eq!(organization_name("https://Acme.VisualStudio.com"), "acme");
        assert_eq!(
            organization_name("https://tfs.example.com/tfs/DefaultCollection"),
            "https://tfs.example.com/tfs/DefaultCollection"
        );
        assert_eq!(
            organization_name("http://127.0.0.1:5556/acme"),
            "http://127.0.0.1:5556/acme"
        );
    }

    /// The keys every item gets, from the client's organization URL (a trailing `/` is not
    /// part of it): the cloud organization's name, or the whole URL on any other host.
    #[test]
    fn every_item_names_its_organization_as_upstream_for_the_three_host_forms() {
        let fields = |url: &str| {
            let client = ado_client::Client::new(
                &url.parse().unwrap(),
                &secrecy::SecretString::from("pat"),
                &ado_client::ClientOptions::default(),
            )
            .unwrap();
            serde_json::Value::Object(organization_fields(&client))
        };
        assert_eq!(
            fields("https://dev.azure.com/acme/"),
            json!({"__organizationUrl": "https://dev.azure.com/acme", "__organizationName": "acme"})
        );
        assert_eq!(
            fields("https://acme.visualstudio.com/"),
            json!({"__organizationUrl": "https://acme.visualstudio.com", "__organizationName": "acme"})
        );
        assert_eq!(
            fields("http://127.0.0.1:5556/acme/"),
            json!({
                "__organizationUrl": "http://127.0.0.1:5556/acme",
                "__organizationName": "http://127.0.0.1:5556/acme"
            })
        );
    }
}
