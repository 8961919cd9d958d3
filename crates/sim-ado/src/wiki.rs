//! Wikis (spec `wiki`): every project has its project wiki (`{Project}.wiki`, a hidden Git
//! repository) with a few pages, and project 0 also a code wiki published from `repo-0-0`'s
//! `/docs`. `pagesbatch` pages by the `x-ms-continuationtoken` header, at most five pages per
//! answer whatever `top` asks (the service caps pages too; a small cap makes clients follow
//! the token).
//!
//! Mutation: [`AdoState::edit_wiki_page`] creates or changes a page of a project wiki and
//! delivers the `git.push` of its repository, as editing a page in the web UI does.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use crate::{
    model::{Project, find, guid, push_resource, reference},
    state::AdoState,
    wire::{error, list, not_found},
};

type Shared = State<Arc<AdoState>>;
type Params = Query<HashMap<String, String>>;

/// Pages per `pagesbatch` answer at most.
const BATCH_CAP: usize = 5;
const PROJECT_PAGES: [&str; 7] = [
    "/Home",
    "/Home/Setup",
    "/Runbooks",
    "/Runbooks/Deploy",
    "/Runbooks/Rollback",
    "/FAQ",
    "/Glossary",
];

/// The routes of this module (registered inside the guard).
pub(crate) fn routes() -> Router<Arc<AdoState>> {
    Router::new()
        .route("/{org}/{project}/_apis/wiki/wikis", get(wikis))
        .route("/{org}/{project}/_apis/wiki/wikis/{wiki}", get(wiki))
        .route(
            "/{org}/{project}/_apis/wiki/wikis/{wiki}/pagesbatch",
            post(pages_batch),
        )
        .route(
            "/{org}/{project}/_apis/wiki/wikis/{wiki}/pages/{id}",
            get(page),
        )
}

/// The project wiki of project `p` (and project 0's code wiki), with their pages.
pub(crate) fn seed(base: &str, p: usize, out: &mut Project) {
    let project_id = out.project["id"].as_str().unwrap_or_default().to_owned();
    let name = out.project["name"].as_str().unwrap_or_default().to_owned();
    let wiki = |id: String,
                repository: Value,
                name: String,
                kind: &str,
                path: &str,
                version: &str| {
        json!({"id": id, "name": name, "type": kind, "projectId": project_id, "repositoryId": repository,
            "mappedPath": path, "versions": [{"version": version}], "isDisabled": false, "properties": {},
            "url": format!("{base}/{project_id}/_apis/wiki/wikis/{id}"),
            "remoteUrl": format!("{base}/{project_id}/_wiki/wikis/{id}")})
    };
    let project_wiki = wiki(
        guid(16, p, 0),
        json!(guid(17, p, 0)),
        format!("{name}.wiki"),
        "projectWiki",
        "/",
        "wikiMaster",
    );
    let id = guid(16, p, 0);
    for (n, path) in PROJECT_PAGES.iter().enumerate() {
        out.wiki_pages.push((
            id.clone(),
            page_object(
                &project_wiki,
                n + 1,
                path,
                &format!("# {path}\n\nPage {n} of {name}.\n"),
            ),
        ));
    }
    out.wikis.push(project_wiki);
    if p == 0
        && let Some(repo) = out.repositories.first()
    {
        let code_wiki = wiki(
            guid(16, p, 1),
            repo["id"].clone(),
            format!("{} docs", repo["name"].as_str().unwrap_or_default()),
            "codeWiki",
            "/docs",
            "main",
        );
        for (n, path) in ["/Overview", "/Api", "/Changelog"].iter().enumerate() {
            out.wiki_pages.push((
                guid(16, p, 1),
                page_object(&code_wiki, n + 1, path, &format!("# {path}\n")),
            ));
        }
        out.wikis.push(code_wiki);
    }
}

fn page_object(wiki: &Value, id: usize, path: &str, content: &str) -> Value {
    let url = wiki["url"].as_str().unwrap_or_default();
    json!({"id": id, "path": path, "order": id, "gitItemPath": format!("{}.md", path.replace(' ', "-")),
        "isParentPage": false, "url": format!("{url}/pages/{}", path.trim_start_matches('/')),
        "remoteUrl": format!("{}?pagePath={path}", wiki["remoteUrl"].as_str().unwrap_or_default()),
        "content": content})
}

fn wiki_of<'a>(project: &'a Project, key: &str) -> Option<&'a Value> {
    project.wikis.iter().find(|w| {
        w["id"] == key
            || w["repositoryId"] == key
            || w["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(key))
    })
}

fn no_wiki(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "WikiNotFoundException",
        &format!("The wiki {key} does not exist."),
    )
}

async fn wikis(State(state): Shared, Path((_, key)): Path<(String, String)>) -> Response {
    match find(&state.lock().projects, &key) {
        Some(p) => list(p.wikis.clone()).into_response(),
        None => not_found(&format!("The project {key}")),
    }
}

async fn wiki(
    State(state): Shared,
    Path((_, key, wiki)): Path<(String, String, String)>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    wiki_of(p, &wiki).map_or_else(|| no_wiki(&wiki), |w| Json(w.clone()).into_response())
}

/// `POST …/pagesbatch` with `{"top", "continuationToken"}`: page details (`id`, `path`).
async fn pages_batch(
    State(state): Shared,
    Path((_, key, wiki)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(id) = wiki_of(p, &wiki).and_then(|w| w["id"].as_str()) else {
        return no_wiki(&wiki);
    };
    let top = body["top"]
        .as_u64()
        .and_then(|t| usize::try_from(t).ok())
        .unwrap_or(BATCH_CAP);
    let from: usize = body["continuationToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let all: Vec<&Value> = p
        .wiki_pages
        .iter()
        .filter(|(w, _)| w == id)
        .map(|(_, page)| page)
        .collect();
    let size = top.clamp(1, BATCH_CAP);
    let details: Vec<Value> = all
        .iter()
        .skip(from)
        .take(size)
        .map(|page| json!({"id": page["id"], "path": page["path"]}))
        .collect();
    let mut response = list(details).into_response();
    if from + size < all.len() {
        response
            .headers_mut()
            .insert("x-ms-continuationtoken", HeaderValue::from(from + size));
    }
    response
}

/// `GET …/pages/{id}` (`includeContent=true` adds `content`).
async fn page(
    State(state): Shared,
    Path((_, key, wiki, id)): Path<(String, String, String, u64)>,
    Query(params): Params,
) -> Response {
    let inner = state.lock();
    let Some(p) = find(&inner.projects, &key) else {
        return not_found(&format!("The project {key}"));
    };
    let Some(wiki_id) = wiki_of(p, &wiki).and_then(|w| w["id"].as_str()) else {
        return no_wiki(&wiki);
    };
    let Some((_, page)) = p
        .wiki_pages
        .iter()
        .find(|(w, page)| w == wiki_id && page["id"] == id)
    else {
        return error(
            StatusCode::NOT_FOUND,
            "WikiPageNotFoundException",
            &format!("The page with id {id} does not exist."),
        );
    };
    let mut page = page.clone();
    if params.get("includeContent").is_none_or(|v| v != "true")
        && let Some(o) = page.as_object_mut()
    {
        o.remove("content");
    }
    Json(page).into_response()
}

impl AdoState {
    /// Creates or changes the page at `path` of project number `project`'s project wiki and
    /// delivers the push of its repository; the page's id, `None` without such a project.
    pub fn edit_wiki_page(&self, project: usize, path: &str, content: &str) -> Option<u64> {
        let mut inner = self.lock();
        inner.pushes += 1;
        let push_id = inner.pushes;
        let p = inner.projects.get_mut(project)?;
        let wiki = p.wikis.iter().find(|w| w["type"] == "projectWiki")?.clone();
        let wiki_id = wiki["id"].as_str().unwrap_or_default().to_owned();
        let existing = p
            .wiki_pages
            .iter_mut()
            .find(|(w, page)| *w == wiki_id && page["path"] == path);
        let id = if let Some((_, page)) = existing {
            page["content"] = json!(content);
            page["id"].as_u64().unwrap_or_default()
        } else {
            let id = p.wiki_pages.iter().filter(|(w, _)| *w == wiki_id).count() + 1;
            p.wiki_pages
                .push((wiki_id, page_object(&wiki, id, path, content)));
            id as u64
        };
        let repository = json!({"id": wiki["repositoryId"], "name": wiki["name"],
            "url": format!("{}/_apis/git/repositories/{}", self.base, wiki["repositoryId"].as_str().unwrap_or_default()),
            "project": reference(&p.project), "remoteUrl": wiki["remoteUrl"], "defaultBranch": "refs/heads/wikiMaster"});
        let commit = format!("{:040x}", 0x0de0_0000_0000_u64 + push_id);
        let update = json!({"name": "refs/heads/wikiMaster", "oldObjectId": format!("{:040x}", push_id), "newObjectId": commit});
        let now = self.clock.now();
        let resource = push_resource(
            &self.base,
            now,
            &repository,
            push_id,
            &update,
            Some(&commit),
        );
        drop(inner);
        self.git_pushed(&resource);
        Some(id)
    }
}
