//! Per-resync memory of shared lists, so that each raw object is fetched once per resync even
//! when several kinds or resources need it (DESIGN.md §2): repositories (used by `repository`
//! and both default `repository-policy` resources), branch policies, and boards (used by
//! `board` and `column`), and the others [`MemoKey`] lists. Concurrent askers share one
//! request. Cleared when a resync starts and once it has fetched everything.
//!
//! Lists of JSON objects are kept as their JSON text ([`Memo::list`]), and each asker decodes
//! its own copy: a `Value` tree costs about three times its text, and the memo holds every
//! project's repositories and every repository's branch policies until the resync ends (3.3
//! of the medium bench's 12.9 MiB heap peak as trees, heaptrack, fifteenth session). Askers
//! mostly cloned the shared list anyway, to enrich or hand it to the mapping.

use std::{
    any::Any,
    collections::HashMap,
    sync::{Arc, Mutex},
};

use ado_client::{Error, ProjectId, RepositoryId, TeamId};
use futures::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use serde_json::{Value, value::RawValue};
/// A shared fetch; the value's type is the one its key's asker gives ([`Memo::get`]).
type Entry = Shared<BoxFuture<'static, Result<Arc<dyn Any + Send + Sync>, Arc<Error>>>>;

/// Which shared list an entry holds: one variant per list, with the ids that tell one such
/// list from another, so that two askers of the same list cannot spell its key differently.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MemoKey {
    /// The organization's projects (without the excluded ones).
    Projects,
    /// The repositories of a project.
    Repositories {
        /// The project's id.
        project: ProjectId,
    },
    /// The branch policies of one branch of a repository.
    Policies {
        /// The project's id.
        project: ProjectId,
        /// The repository's id.
        repository: RepositoryId,
        /// The branch's ref name (`refs/heads/main`).
        branch: String,
    },
    /// The pipelines of a project.
    Pipelines {
        /// The project's id.
        project: ProjectId,
    },
    /// The boards of every team of a project.
    Boards {
        /// The project's id.
        project: ProjectId,
    },
    /// The teams of a project.
    ProjectTeams {
        /// The project's id.
        project: ProjectId,
    },
    /// Every team of the organization.
    Teams,
    /// The members of a team (team ids are unique in the organization).
    Members {
        /// The team's id.
        team: TeamId,
    },
    /// The organization's security groups.
    Groups,
    /// The pipeline environments of a project.
    Environments {
        /// The project's id.
        project: ProjectId,
    },
}

/// Lists fetched during the current resync, by key.
#[derive(Default)]
pub(crate) struct Memo {
    entries: Mutex<HashMap<MemoKey, Entry>>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("Memo").field("entries", &size).finish()
    }
}

impl Memo {
    /// The list under `key`, fetched with `fetch` by the first asker of this resync. Every
    /// asker of one key variant asks for the same type `T` (lists of JSON objects go through
    /// [`Self::list`]; boards also carry the teams that could not be read).
    pub(crate) async fn get<T, Fut>(
        &self,
        key: MemoKey,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, Error>
    where
        T: Send + Sync + 'static,
        Fut: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let entry = {
            let mut entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            entries
                .entry(key)
                .or_insert_with(|| {
                    fetch()
                        .map(|r| {
                            r.map(|value| Arc::new(value) as Arc<dyn Any + Send + Sync>)
                                .map_err(Arc::new)
                        })
                        .boxed()
                        .shared()
                })
                .clone()
        };
        let value = entry.await.map_err(Error::Shared)?;
        Ok(value
            .downcast::<T>()
            .unwrap_or_else(|_| unreachable!("every asker of one memo key asks for one type")))
    }

    /// The list of JSON objects under `key`, fetched with `fetch` by the first asker of this
    /// resync and kept as its JSON text; each asker gets its own decoded copy.
    pub(crate) async fn list<Fut>(
        &self,
        key: MemoKey,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Vec<Value>, Error>
    where
        Fut: Future<Output = Result<Vec<Value>, Error>> + Send + 'static,
    {
        let failed = |key: &MemoKey, e: serde_json::Error| Error::Decode {
            route: format!("the memoized list {key:?}"),
            path: String::new(),
            message: e.to_string(),
        };
        let (asked, described) = (key.clone(), key.clone());
        let text: Arc<Box<RawValue>> = self
            .get(key, move || {
                let listed = fetch();
                async move {
                    let list = listed.await?;
                    serde_json::value::to_raw_value(&list).map_err(|e| failed(&described, e))
                }
            })
            .await?;
        serde_json::from_str(text.get()).map_err(|e| failed(&asked, e))
    }

    /// Forgets everything (a new resync must see current data).
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::Value;

    use super::*;

    #[tokio::test]
    async fn one_key_is_fetched_once_and_another_key_on_its_own() {
        let memo = Memo::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        let get = |key: MemoKey| {
            let fetches = Arc::clone(&fetches);
            memo.get(key, move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(vec![Value::Null])
            })
        };
        let repositories = |project: &str| MemoKey::Repositories {
            project: ProjectId::from(project),
        };
        get(repositories("p1")).await.unwrap();
        get(repositories("p1")).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        get(repositories("p2")).await.unwrap();
        get(MemoKey::Pipelines {
            project: ProjectId::from("p1"),
        })
        .await
        .unwrap();
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            3,
            "other lists are their own"
        );
        memo.clear();
        get(repositories("p1")).await.unwrap();
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            4,
            "cleared for a new resync"
        );
    }

    #[tokio::test]
    async fn a_list_is_fetched_once_and_each_asker_gets_it_whole_in_its_order() {
        let memo = Memo::default();
        let fetches = Arc::new(AtomicUsize::new(0));
        let listed: Vec<Value> = serde_json::from_str(
            r#"[{"name": "b", "id": 2, "size": 1.5, "tags": ["x"]}, {"id": 1, "name": "a", "remoteUrl": null}]"#,
        )
        .unwrap();
        let ask = || {
            let (fetches, listed) = (Arc::clone(&fetches), listed.clone());
            memo.list(MemoKey::Groups, move || async move {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(listed)
            })
        };
        let (first, second) = (ask().await.unwrap(), ask().await.unwrap());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert_eq!(first, listed);
        assert_eq!(second, listed);
        let keys: Vec<&String> = first[0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["name", "id", "size", "tags"],
            "the order Azure DevOps sent"
        );
    }
}
