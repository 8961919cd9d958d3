//! `project`: every project but those with an `excludedTags` tag; with `defaultTeam: true` each is replaced by its detail (which
//! carries `defaultTeam` and `capabilities`), as the Python integration does.

use ado_client::{Error, ProjectId};
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{PROJECT_CONCURRENCY, Source, flag};

/// Projects per page handed to the mapping (the list's own page size).
const PAGE: usize = 100;

/// Streams the projects (but those with an excluded tag).
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let detailed = flag(selector, "defaultTeam");
    let source = source.clone();
    stream::once(async move { source.projects().await.map(|all| (source, all)) })
        .map_ok(move |(source, all)| {
            let pages: Vec<Vec<Value>> = all.chunks(PAGE).map(<[Value]>::to_vec).collect();
            stream::iter(pages.into_iter().map(Ok)).and_then(move |page| {
                let client = source.client.clone();
                async move {
                    if !detailed {
                        return Ok(Page::from(page));
                    }
                    stream::iter(page)
                        .map(|project| {
                            let client = client.clone();
                            async move { client.project(&ProjectId::of(&project)).await }
                        })
                        .buffered(PROJECT_CONCURRENCY)
                        .try_collect::<Vec<_>>()
                        .await
                        .map(Page::from)
                }
            })
        })
        .try_flatten()
        .boxed()
}
