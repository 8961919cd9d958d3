//! `wiki`: the pages of every project's wikis (ocean-azure-devops.md §3.1): the wikis of
//! `GET …/wiki/wikis` (only `wikiType`'s, `projectWiki` or `codeWiki`, when set), each wiki's
//! pages by `pagesbatch`, every page with `__wiki` (the wiki, with `__project`) and
//! `__project`. `includeContent: true` replaces each page by its detail with `content` (ten at a
//! time); `apiVersion` sets the api-version (default 7.1).
//!
//! Live (`webhooks/push.rs`): a push to a project wiki's repository (`*.wiki`) brings all of its
//! pages again, read with the wiki resources' own options (upstream ignores them). Departure: a
//! page that cannot be read fails the kind instead of being dropped (and then deleted).

use ado_client::{Client, Error, ProjectId, RepositoryId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::{PortAppConfig, SelectorConfig};
use ocean::{Page, PageStream};
use serde_json::{Map, Value};

use super::super::{Source, flag, id_of, per_project_streams};
use crate::AdoKind;

/// Page contents read at a time (upstream's `MAX_CONCURRENT_WIKI_PAGES`).
const CONTENT_CONCURRENCY: usize = 10;

/// What a `wiki` resource reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    wiki_type: Option<String>,
    content: bool,
    api_version: Option<String>,
}

impl Options {
    /// The options of `selector`, or which one is wrong.
    pub(crate) fn from(selector: &SelectorConfig) -> Result<Self, crate::Error> {
        let wiki_type = selector.extra.get("wikiType").and_then(Value::as_str);
        if let Some(other) = wiki_type.filter(|t| !["projectWiki", "codeWiki"].contains(t)) {
            return Err(crate::Error::selector(
                AdoKind::Wiki,
                "wikiType",
                format!("\"{other}\" is not one of projectWiki, codeWiki"),
            ));
        }
        Ok(Self {
            wiki_type: wiki_type.map(str::to_owned),
            content: flag(selector, "includeContent"),
            api_version: selector
                .extra
                .get("apiVersion")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    fn wants(&self, wiki: &Value) -> bool {
        self.wiki_type
            .as_ref()
            .is_none_or(|t| wiki["type"] == t.as_str())
    }
}

/// Streams one page of wiki pages per page batch.
pub(crate) fn fetch(source: &Source, options: Options) -> PageStream<Error> {
    per_project_streams(source, move |source, project| {
        let options = options.clone();
        let project_id = ProjectId::of(&project);
        stream::once(async move {
            let wikis = source
                .client
                .wikis(&project_id, options.api_version.as_deref())
                .await?;
            Ok::<_, Error>((source, project, wikis, options))
        })
        .map_ok(|(source, project, wikis, options)| {
            let wanted: Vec<Value> = wikis.into_iter().filter(|w| options.wants(w)).collect();
            stream::iter(wanted.into_iter().map(Ok))
                .map_ok(move |wiki| pages(&source.client, &project, wiki, &options))
                .try_flatten()
        })
        .try_flatten()
        .boxed()
    })
}

/// The pages of `wiki`, a page of them per batch, sharing `__wiki` and `__project`.
fn pages(
    client: &Client,
    project: &Value,
    mut wiki: Value,
    options: &Options,
) -> PageStream<Error> {
    wiki["__project"] = project.clone();
    let keys = Map::from_iter([
        ("__wiki".to_owned(), wiki.clone()),
        ("__project".to_owned(), project.clone()),
    ]);
    let (client, project_id, wiki_id) = (client.clone(), ProjectId::of(project), id_of(&wiki));
    let options = options.clone();
    client
        .wiki_pages(&project_id, &wiki_id, options.api_version.as_deref())
        .and_then(move |batch| {
            let (client, project_id, wiki_id, options, keys) = (
                client.clone(),
                project_id.clone(),
                wiki_id.clone(),
                options.clone(),
                keys.clone(),
            );
            async move {
                let items = if options.content {
                    with_content(&client, &project_id, &wiki_id, batch, &options).await?
                } else {
                    batch
                };
                Ok(Page::sharing(items, keys))
            }
        })
        .boxed()
}

async fn with_content(
    client: &Client,
    project: &ProjectId,
    wiki: &str,
    batch: Vec<Value>,
    options: &Options,
) -> Result<Vec<Value>, Error> {
    let reads: Vec<_> = batch
        .iter()
        .filter_map(|page| page["id"].as_u64())
        .map(|id| {
            let (client, project, wiki) = (client.clone(), project.to_owned(), wiki.to_owned());
            let version = options.api_version.clone();
            async move {
                client
                    .wiki_page(&project, &wiki, id, version.as_deref())
                    .await
            }
        })
        .collect();
    stream::iter(reads)
        .buffered(CONTENT_CONCURRENCY)
        .try_collect()
        .await
}

/// Live: whether a resource with `selector` reads pages of the wiki `item` is in.
pub(crate) fn selects(selector: &SelectorConfig, item: &Value) -> bool {
    Options::from(selector).is_ok_and(|o| o.wants(&item["__wiki"]))
}

/// Live: every page of the wiki whose repository `repository_id` a push changed, read with the
/// options of the live mapping's `wiki` resources (content when any wants it), as raw items;
/// nothing when no resource wants this wiki's type.
pub(crate) async fn pushed(
    client: &Client,
    project: &Value,
    repository_id: &RepositoryId,
    config: &PortAppConfig,
) -> Result<Vec<Value>, Error> {
    let resources: Vec<Options> = AdoKind::Wiki
        .resources(config)
        .filter_map(|r| Options::from(&r.selector).ok())
        .collect();
    let wiki = match client
        .wiki(&ProjectId::of(project), repository_id.as_str())
        .await
    {
        Ok(wiki) => wiki,
        Err(Error::NotFound { .. }) => return Ok(Vec::new()),
        Err(other) => return Err(other),
    };
    let wanting: Vec<&Options> = resources.iter().filter(|o| o.wants(&wiki)).collect();
    let Some(first) = wanting.first() else {
        return Ok(Vec::new());
    };
    let options = Options {
        content: wanting.iter().any(|o| o.content),
        ..(*first).clone()
    };
    let pages: Vec<Page> = pages(client, project, wiki, &options).try_collect().await?;
    let mut items = Vec::new();
    for page in pages {
        items.extend(super::super::page_items(page)?);
    }
    Ok(items)
}
