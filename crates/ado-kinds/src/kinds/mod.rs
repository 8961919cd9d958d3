//! One file per kind, grouped by Azure DevOps area, plus the fan-out helpers they share.

pub mod core;
pub mod git;
pub mod release;
pub mod wit;
pub mod work;

use ado_client::{Client, Error};
use futures::{StreamExt, TryStreamExt, stream};
use ocean::PageStream;
use serde_json::Value;

/// Projects fetched concurrently by per-project kinds (the Python integration uses 5).
pub(crate) const PROJECT_CONCURRENCY: usize = 5;

/// Streams one page per project: `per_project` runs for every project of the organization
/// (skipping projects with an excluded tag is the caller's selector concern).
pub(crate) fn per_project<F, Fut>(client: &Client, per_project: F) -> PageStream<Error>
where
    F: Fn(Client, Value) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<Value>, Error>> + Send + 'static,
{
    let client = client.clone();
    client
        .projects()
        .map_ok(move |page| {
            let (client, f) = (client.clone(), per_project.clone());
            stream::iter(
                page.into_iter()
                    .map(move |project| Ok::<_, Error>((client.clone(), project))),
            )
            .map_ok(move |(client, project)| f(client, project))
            .try_buffered(PROJECT_CONCURRENCY)
        })
        .try_flatten()
        .boxed()
}

/// Adds `__organizationUrl` and `__organizationName` to every item, as every kind of the Python
/// integration does.
pub(crate) fn with_organization(client: &Client, stream: PageStream<Error>) -> PageStream<Error> {
    let url = client.organization_url().to_owned();
    let name = organization_name(&url);
    stream
        .map_ok(move |mut page| {
            for item in &mut page {
                if let Some(object) = item.as_object_mut() {
                    object.insert("__organizationUrl".into(), Value::String(url.clone()));
                    object.insert("__organizationName".into(), Value::String(name.clone()));
                }
            }
            page
        })
        .boxed()
}

/// `https://dev.azure.com/{org}` → org; `https://{org}.visualstudio.com` → org; else the last
/// path segment (Server collection).
fn organization_name(url: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .unwrap_or_default();
    if let Some(org) = host.strip_suffix(".visualstudio.com") {
        return org.to_owned();
    }
    parsed
        .as_ref()
        .and_then(url::Url::path_segments)
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .unwrap_or_default()
        .to_owned()
}

/// A selector option that the YAML may write as a boolean or as the string `'true'`.
pub(crate) fn flag(selector: &mapping::SelectorConfig, key: &str) -> bool {
    match selector.extra.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The string form of an id field.
pub(crate) fn id_of(value: &Value) -> String {
    match value.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
