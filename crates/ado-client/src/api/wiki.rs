//! Wiki (spec `wiki`, api-version 7.1 unless the selector names another): wikis and their pages.

use futures::Stream;
use serde_json::Value;

use crate::{Client, Error, Host, ProjectId, page::take_list};

/// Pages per `pagesbatch` request (upstream asks for 50; the service allows 100).
const PAGES_PER_BATCH: usize = 100;

fn version(api_version: Option<&str>) -> Vec<(&'static str, String)> {
    api_version
        .map(|v| ("api-version", v.to_owned()))
        .into_iter()
        .collect()
}

impl Client {
    /// `GET {project}/_apis/wiki/wikis`: the project's wikis (one unpaged list).
    pub async fn wikis(
        &self,
        project: &ProjectId,
        api_version: Option<&str>,
    ) -> Result<Vec<Value>, Error> {
        let segments = [project.as_str(), "_apis", "wiki", "wikis"];
        let (mut body, _) = self
            .get(Host::Core, &segments, &version(api_version))
            .await?;
        take_list(&mut body, &segments)
    }

    /// `GET {project}/_apis/wiki/wikis/{wiki}` (by id, name, or the wiki's repository id).
    pub async fn wiki(&self, project: &ProjectId, wiki: &str) -> Result<Value, Error> {
        Ok(self
            .get(
                Host::Core,
                &[project.as_str(), "_apis", "wiki", "wikis", wiki],
                &[],
            )
            .await?
            .0)
    }

    /// `POST {project}/_apis/wiki/wikis/{wiki}/pagesbatch`: the wiki's pages (`id`, `path`),
    /// following the continuation token.
    pub fn wiki_pages(
        &self,
        project: &ProjectId,
        wiki: &str,
        api_version: Option<&str>,
    ) -> impl Stream<Item = Result<Vec<Value>, Error>> + Send + 'static {
        let segments = vec![
            project.to_string(),
            "_apis".into(),
            "wiki".into(),
            "wikis".into(),
            wiki.into(),
            "pagesbatch".into(),
        ];
        self.post_pages(Host::Core, segments, version(api_version), PAGES_PER_BATCH)
    }

    /// `GET {project}/_apis/wiki/wikis/{wiki}/pages/{id}?includeContent=true`: one page with
    /// its `content`.
    pub async fn wiki_page(
        &self,
        project: &ProjectId,
        wiki: &str,
        id: u64,
        api_version: Option<&str>,
    ) -> Result<Value, Error> {
        let id = id.to_string();
        let mut query = version(api_version);
        query.push(("includeContent", "true".to_owned()));
        Ok(self
            .get(
                Host::Core,
                &[
                    project.as_str(),
                    "_apis",
                    "wiki",
                    "wikis",
                    wiki,
                    "pages",
                    &id,
                ],
                &query,
            )
            .await?
            .0)
    }
}
