//! The HTTP surface of the simulator: every route, each to its area's handler, behind the guard.
//! Above the areas, which it imports; only `lib.rs` imports it.

use std::sync::Arc;

use axum::{
    Router, middleware,
    routing::{get, post},
};

use crate::{
    advsec, control, entra, environments, graph, guard, hooks, items, lists, objects, pipelines,
    refs, release, state::AdoState, teams, test_runs, wiki,
};

/// All routes under `/{organization}`, with the guard layer.
pub fn router(state: Arc<AdoState>) -> Router {
    Router::new()
        .route(
            "/{org}/{project}/_apis/git/repositories/{repo}/refs",
            get(refs::list_refs),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions",
            get(hooks::list).post(hooks::create),
        )
        .route(
            "/{org}/_apis/hooks/subscriptions/{id}",
            axum::routing::put(hooks::replace).delete(hooks::remove),
        )
        .merge(lists::routes())
        .merge(objects::routes())
        .merge(pipelines::routes())
        .merge(release::routes())
        .merge(advsec::routes())
        .merge(test_runs::routes())
        .merge(teams::routes())
        .merge(environments::routes())
        .merge(graph::routes())
        .merge(wiki::routes())
        .merge(items::routes())
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            guard::guard,
        ))
        // Inspection and mutation, outside the guard: not counted, no PAT.
        .merge(control::router())
        // Entra ID's token endpoint (the authority is this server's origin).
        // (The first segment is the tenant; named `org` as every route names it.)
        .route("/{org}/oauth2/v2.0/token", post(entra::token))
        .with_state(state)
}
