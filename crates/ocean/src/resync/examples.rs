//! Raw-data examples: the first raw items of each resource, posted to Port so that its mapping
//! editor has data to try jq on (`POST /v1/integration/{id}/kinds/{kind}/examples`,
//! ocean-framework.md §2.3, `sendRawDataExamples`).
//!
//! As Ocean: up to [`AMOUNT`] items whose mapping passed the selector and produced an entity,
//! as the mapping saw them (the page's shared keys included), every string masked
//! ([`crate::redact`]); a failure to post is a warning and changes nothing else. Ocean posts
//! after every page until it has five; we post once per resource, when five are collected or
//! when the resource ends, so one request per resource at most. When no item of a resource
//! passed, Ocean posts nothing and neither do we. Each resource of the mapping posts its own,
//! so two resources of one kind post twice, the later replacing the earlier in Port, as Ocean.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use serde_json::Value;

use super::Resync;
use crate::Integration;

/// Examples per kind (Ocean's `SEND_RAW_DATA_EXAMPLES_AMOUNT`).
pub(super) const AMOUNT: usize = 5;

/// One resource's examples, filled from its mapped pages.
pub(super) struct Examples {
    /// Set once enough are collected: the mapping workers stop copying items.
    full: Arc<AtomicBool>,
    collected: Vec<Value>,
    sent: bool,
}

impl Examples {
    /// Collects nothing when examples are off or nothing may be written (dry run).
    pub(super) fn new<I>(resync: &Resync<I>) -> Self {
        let wanted = resync.settings.raw_data_examples && !resync.settings.dry_run;
        Self {
            full: Arc::new(AtomicBool::new(!wanted)),
            collected: Vec::new(),
            sent: !wanted,
        }
    }

    /// The flag set once no more examples are needed, for the mapping workers ([`copying`]).
    pub(super) fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.full)
    }

    /// Takes a page's examples; posts them once [`AMOUNT`] are collected.
    pub(super) async fn offer<I: Integration>(
        &mut self,
        resync: &Resync<I>,
        kind: &str,
        examples: Vec<Value>,
    ) {
        if self.sent {
            return;
        }
        let room = AMOUNT - self.collected.len();
        self.collected.extend(examples.into_iter().take(room));
        if self.collected.len() == AMOUNT {
            self.full.store(true, Ordering::Relaxed);
            self.send(resync, kind).await;
        }
    }

    /// Posts what was collected, if anything was and nothing has been posted yet.
    pub(super) async fn finish<I: Integration>(&mut self, resync: &Resync<I>, kind: &str) {
        if !self.sent && !self.collected.is_empty() {
            self.send(resync, kind).await;
        }
    }

    async fn send<I: Integration>(&mut self, resync: &Resync<I>, kind: &str) {
        self.sent = true;
        let mut examples = std::mem::take(&mut self.collected);
        for example in &mut examples {
            resync.settings.redaction.json(example);
        }
        let posted = resync
            .port
            .integration()
            .post_kind_examples(&resync.installation.identifier, kind, &examples)
            .await;
        if let Err(error) = posted {
            tracing::warn!(
                kind,
                %error,
                "Could not send raw-data examples to Port; its mapping editor shows none for this kind. The resync goes on."
            );
        }
    }
}

/// Whether a mapping worker should copy items as examples (`full` from [`Examples::flag`]).
pub(super) fn copying(full: &AtomicBool) -> bool {
    !full.load(Ordering::Relaxed)
}
