//! Per-resync memory of shared lists, so that each raw object is fetched once per resync even
//! when several kinds or resources need it (DESIGN.md §2): repositories (used by `repository`
//! and both default `repository-policy` resources), branch policies, and boards (used by
//! `board` and `column`). Concurrent askers share one request. Cleared when a resync starts.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use ado_client::Error;
use futures::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use serde_json::Value;

type Entry = Shared<BoxFuture<'static, Result<Arc<Vec<Value>>, Arc<Error>>>>;

/// Lists fetched during the current resync, by key.
#[derive(Default)]
pub(crate) struct Memo {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = self.entries.lock().map_or(0, |e| e.len());
        f.debug_struct("Memo").field("entries", &size).finish()
    }
}

impl Memo {
    /// The list under `key`, fetched with `fetch` by the first asker of this resync.
    pub(crate) async fn get<Fut>(
        &self,
        key: String,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<Arc<Vec<Value>>, Error>
    where
        Fut: Future<Output = Result<Vec<Value>, Error>> + Send + 'static,
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
                        .map(|r| r.map(Arc::new).map_err(Arc::new))
                        .boxed()
                        .shared()
                })
                .clone()
        };
        entry.await.map_err(Error::Shared)
    }

    /// Forgets everything (a new resync must see current data).
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}
