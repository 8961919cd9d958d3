//! A stand-in for Entra ID's token endpoint (`POST /{tenant}/oauth2/v2.0/token`, the
//! client-credentials grant of Microsoft's identity platform): it issues bearer tokens for the
//! simulator's one service principal (`SimConfig::client_id` / `client_secret`), which the
//! guard then accepts as Azure DevOps accepts a service principal's token.
//!
//! Tokens carry their client and expiry (`sim-bearer.{client}.{unix expiry}.{n}`), so every
//! simulator with the same service principal accepts tokens issued by any of them (one
//! authority, several organizations). [`AdoState::revoke_tokens`] revokes the tokens seen so
//! far, as a credential rotation would.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::{state::AdoState, wire::unix_seconds};

/// The only scope the simulator issues tokens for (Azure DevOps' resource id).
const SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

fn refused(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description, "error_codes": [7_000_215]})),
    )
        .into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` with a form body.
pub(crate) async fn token(
    State(state): State<Arc<AdoState>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    state.lock().token_requests += 1;
    if field("grant_type") != "client_credentials" {
        return refused(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if field("scope") != SCOPE {
        return refused(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
        );
    }
    if field("client_id") != state.config.client_id {
        return refused(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            &format!(
                "AADSTS700016: Application with identifier '{}' was not found in the directory '{tenant}'.",
                field("client_id")
            ),
        );
    }
    if field("client_secret") != state.config.client_secret {
        return refused(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    let lifetime = state.config.token_lifetime.as_secs();
    let expires = unix_seconds() + lifetime;
    let n = state.lock().token_requests;
    Json(json!({
        "token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
        "access_token": format!("sim-bearer.{}.{expires}.{n}", state.config.client_id)
    }))
    .into_response()
}

/// Whether `token` is a live token of this simulator's service principal.
pub(crate) fn accepts(state: &AdoState, token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some("sim-bearer"), Some(client), Some(expires), Some(_)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let live = client == state.config.client_id
        && expires.parse::<u64>().is_ok_and(|e| e > unix_seconds());
    let mut inner = state.lock();
    if !live || inner.revoked_tokens.contains(token) {
        return false;
    }
    inner.seen_tokens.insert(token.to_owned());
    true
}

impl AdoState {
    /// Revokes every bearer token used so far: the next request with one gets 401.
    pub fn revoke_tokens(&self) {
        let mut inner = self.lock();
        let seen = std::mem::take(&mut inner.seen_tokens);
        inner.revoked_tokens.extend(seen);
    }

    /// Token requests answered (issued or refused).
    #[must_use]
    pub fn token_requests(&self) -> u64 {
        self.lock().token_requests
    }
}
