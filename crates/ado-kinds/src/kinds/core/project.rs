//! `project`: every project; with `defaultTeam: true` each is replaced by its detail (which
//! carries `defaultTeam` and `capabilities`), as the Python integration does.

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};

use super::super::{PROJECT_CONCURRENCY, Source, flag, id_of};

/// Streams the projects.
pub(crate) fn fetch(source: &Source, selector: &SelectorConfig) -> PageStream<Error> {
    let client = &source.client;
    let pages = client.projects();
    if !flag(selector, "defaultTeam") {
        return pages.map_ok(Page::from).boxed();
    }
    let client = client.clone();
    pages
        .and_then(move |page| {
            let client = client.clone();
            async move {
                stream::iter(page)
                    .map(|project| {
                        let client = client.clone();
                        async move { client.project(&id_of(&project)).await }
                    })
                    .buffered(PROJECT_CONCURRENCY)
                    .try_collect::<Vec<_>>()
                    .await
                    .map(Page::from)
            }
        })
        .boxed()
}
