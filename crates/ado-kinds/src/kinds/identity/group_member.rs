//! `group-member`: the direct members of every group (`GET vssps/_apis/graph/Memberships/
//! {group}?direction=Down`, then their subjects by lookup, 500 descriptors at a time), each with
//! `__group`, the full group; one page per group, no recursion into nested groups
//! (ocean-azure-devops.md §3.1). Members whose subject the lookup does not return are left out,
//! as upstream.
//!
//! A group whose memberships answer 404 has no members, as upstream. A group whose members
//! cannot be read otherwise is skipped, as upstream, with one difference on purpose: upstream's
//! reconciliation then deletes its members from Port, ours deletes nothing of the kind's
//! blueprints in that resync ([`ocean::Page::skipping`]). Five groups at a time (upstream: one
//! after another).

use ado_client::Error;
use futures::{StreamExt, TryStreamExt, stream};
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use super::super::{Source, part_failed, shared};

/// Groups whose members are read at a time.
const GROUP_CONCURRENCY: usize = 5;

/// Streams one page of members per group.
pub(crate) fn fetch(source: &Source, _selector: &SelectorConfig) -> PageStream<Error> {
    let source = source.clone();
    stream::once(async move { source.groups().await.map(|groups| (source, groups)) })
        .map_ok(|(source, groups)| {
            stream::iter(groups.into_iter().map(Ok))
                .map_ok(move |group| members(source.clone(), group))
                .try_buffered(GROUP_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
}

async fn members(source: Source, group: Value) -> Result<Page, Error> {
    // Upstream fails the kind on a group or a membership without its descriptor (a KeyError);
    // skipping it would delete that group's members from Port as stale.
    let Some(descriptor) = group["descriptor"].as_str() else {
        return Err(Error::Decode {
            route: "_apis/graph/groups".into(),
            path: "value[].descriptor".into(),
            message: format!(
                "group `{}` has no string `descriptor`",
                group["displayName"].as_str().unwrap_or("?")
            ),
        });
    };
    let name = group["displayName"].as_str().unwrap_or(descriptor);
    let memberships = match source.client.memberships(descriptor, true).await {
        Ok(memberships) => memberships,
        // A group may have no membership list at all: no members, as upstream.
        Err(Error::NotFound { .. }) => Vec::new(),
        Err(error) if part_failed(&error) => {
            return Ok(Page::skipping(format!(
                "members of group `{name}`: {error}"
            )));
        }
        Err(error) => return Err(error),
    };
    let descriptors = memberships
        .iter()
        .enumerate()
        .map(|(i, m)| {
            m["memberDescriptor"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error::Decode {
                    route: format!("_apis/graph/Memberships/{descriptor}"),
                    path: format!("value[{i}].memberDescriptor"),
                    message: "a membership without a string `memberDescriptor`".into(),
                })
        })
        .collect::<Result<Vec<String>, Error>>()?;
    let mut subjects = match source.client.lookup_subjects(&descriptors).await {
        Ok(subjects) => subjects,
        Err(error) if part_failed(&error) => {
            return Ok(Page::skipping(format!(
                "subjects of the members of group `{name}`: {error}"
            )));
        }
        Err(error) => return Err(error),
    };
    let members = descriptors
        .iter()
        .filter_map(|d| subjects.remove(d))
        .collect();
    Ok(Page::sharing(members, shared("__group", group)))
}
