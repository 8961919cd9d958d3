//! Why a live event or a catch-up could not be applied: [`Error`] (the integration's own
//! failure, the mapping, or a write to Port) and [`WriteError`] (a write to Port).

/// A live event, or a page of a catch-up, that could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum Error<E> {
    /// The integration could not turn the event into objects (its read failed).
    #[error("the integration could not process it")]
    Integration(#[source] E),
    /// The live mapping could not be loaded.
    #[error("the live mapping could not be loaded")]
    Mapping(#[source] crate::Error),
    /// An object could not be mapped.
    #[error("an object could not be mapped")]
    Map(#[source] mapping::MapError),
    /// Writing the mapped entities to Port failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The Port action run the event finishes could not be found or finished.
    #[error("the Port action run it completes could not be reported")]
    ActionRun(#[source] Box<port_client::Error>),
    /// The attempt took longer than `OCEAN__MAX_EVENT_PROCESSING_SECONDS`.
    #[error(
        "processing took longer than {0:?} (OCEAN__MAX_EVENT_PROCESSING_SECONDS); what it wrote \
         stays"
    )]
    TimedOut(std::time::Duration),
}

/// A write of live entities to Port that failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An entity could not be serialized for Port.
    #[error("an entity of blueprint {blueprint} could not be serialized")]
    Serialize {
        /// Its blueprint.
        blueprint: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// A Port call failed.
    #[error("Port refused to {action} entities of blueprint {blueprint}")]
    Port {
        /// `upsert`, `search` or `delete`.
        action: &'static str,
        /// The blueprint.
        blueprint: String,
        /// The client error (boxed: it is large, and errors are rare).
        #[source]
        source: Box<port_client::Error>,
    },
    /// The gitops writes' Port client could not be built.
    #[error("the Port client for GitOps writes could not be built")]
    GitopsClient(#[source] Box<port_client::Error>),
}
