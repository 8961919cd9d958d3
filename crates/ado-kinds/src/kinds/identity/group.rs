//! `group`: the organization's security groups (`GET vssps/_apis/graph/groups`), raw.

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};

use super::super::Source;

/// Streams pages of groups.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    let source = source.clone();
    stream::once(async move { source.groups().await })
        .map_ok(Page::from)
        .boxed()
}
