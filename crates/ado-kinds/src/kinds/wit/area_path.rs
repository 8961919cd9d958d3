//! `area-path`: each project's area tree (`GET …/wit/classificationnodes/Areas`, with
//! `$depth` when the selector's `depth` is set, as upstream), flattened to one item per area:
//! the node without `children`, plus `__project`, `__parentIdentifier` (the parent's
//! `identifier`, `null` at the root) and `__normalizedPath` (`\Project\Area\X` →
//! `Project\X`, the form work items carry in `System.AreaPath`), ocean-azure-devops.md §3.1.
//!
//! Without `depth`, Azure DevOps returns the root area only (upstream behaves the same).
//! Departure: upstream logs and skips a project whose tree cannot be read (so reconciliation
//! deletes its areas); here a failure fails the kind.

use ado_client::ProjectId;
use mapping::SelectorConfig;
use ocean::{Page, PageStream};
use serde_json::Value;

use crate::AdoKind;

use super::super::{Source, per_project, shared};

/// The selector's `depth`: how many levels below the root (none: the root only).
pub(crate) fn depth(selector: &SelectorConfig) -> Result<Option<u64>, crate::Error> {
    match selector.extra.get("depth") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            crate::Error::selector(
                AdoKind::AreaPath,
                "depth",
                format!("must be a whole number of levels (0 or more), not {value}"),
            )
        }),
    }
}

/// Streams one page of areas per project, each area tree `depth` levels deep.
pub(crate) fn fetch(source: &Source, depth: Option<u64>) -> PageStream<ado_client::Error> {
    per_project(source, move |source, project| async move {
        let tree = source
            .client
            .area_tree(&ProjectId::of(&project), depth)
            .await?;
        let mut areas = Vec::new();
        flatten(tree, None, &mut areas);
        Ok(vec![Page::sharing(areas, shared("__project", project))])
    })
}

/// Appends `node` and its descendants (areas only) to `out`, each without `children`.
fn flatten(mut node: Value, parent: Option<Value>, out: &mut Vec<Value>) {
    let Some(object) = node.as_object_mut() else {
        return;
    };
    if object.get("structureType").and_then(Value::as_str) != Some("area") {
        return;
    }
    let children = object.remove("children");
    let path = object
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let normalized = normalized(path);
    let identifier = object.get("identifier").cloned().unwrap_or(Value::Null);
    object.insert(
        "__parentIdentifier".to_owned(),
        parent.unwrap_or(Value::Null),
    );
    object.insert("__normalizedPath".to_owned(), Value::String(normalized));
    out.push(node);
    if let Some(Value::Array(children)) = children {
        for child in children {
            flatten(child, Some(identifier.clone()), out);
        }
    }
}

/// `\Project\Area\L1\L2` → `Project\L1\L2` (the structure group's segment removed).
fn normalized(path: &str) -> String {
    let mut segments: Vec<&str> = path.trim_matches('\\').split('\\').collect();
    if segments.get(1) == Some(&"Area") {
        segments.remove(1);
    }
    segments.join("\\")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{flatten, normalized};

    #[test]
    fn paths_lose_the_structure_group_segment() {
        assert_eq!(normalized(r"\Fabrikam\Area"), "Fabrikam");
        assert_eq!(normalized(r"\Fabrikam\Area\Web\Ui"), r"Fabrikam\Web\Ui");
        assert_eq!(normalized(r"\Fabrikam\Other\Web"), r"Fabrikam\Other\Web");
    }

    #[test]
    fn a_tree_flattens_parent_first_with_parent_identifiers() {
        let tree = json!({"identifier": "r", "structureType": "area", "path": r"\P\Area", "children": [
            {"identifier": "a", "structureType": "area", "path": r"\P\Area\A", "children": [
                {"identifier": "b", "structureType": "area", "path": r"\P\Area\A\B"}]},
            {"identifier": "i", "structureType": "iteration", "path": r"\P\Iteration\I"}]});
        let mut out = Vec::new();
        flatten(tree, None, &mut out);
        let seen: Vec<_> = out
            .iter()
            .map(|n| {
                (
                    n["identifier"].clone(),
                    n["__parentIdentifier"].clone(),
                    n["__normalizedPath"].clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (json!("r"), json!(null), json!("P")),
                (json!("a"), json!("r"), json!(r"P\A")),
                (json!("b"), json!("a"), json!(r"P\A\B")),
            ]
        );
        assert!(out.iter().all(|n| n.get("children").is_none()));
    }
}
