//! The Harvest ID side: `/oauth2/authorize` (auto-approved as the authorizing user),
//! `/api/v2/oauth2/token` (authorization code and refresh-token grants, with rotation) and
//! `/api/v2/accounts`.
//!
//! There is no login page: authorize answers a 302 to the loopback `redirect_uri` at once. PKCE
//! parameters are accepted and ignored (Harvest documents none). Errors follow OAuth 2
//! (`{"error": "invalid_client" | "invalid_grant" | …}`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::{json_response, parse_body, ApiError};
use crate::gate::{bearer, token_user};
use crate::seed::{ACCOUNT_ID, ACCOUNT_NAME, CLIENT_ID, CLIENT_SECRET};
use crate::world::{random_token, AccessToken, AuthCode, RefreshToken, World};
use crate::App;

pub(crate) fn router() -> Router<App> {
    Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/api/v2/oauth2/token", post(token))
        .route("/api/v2/accounts", get(accounts))
}

fn html_error(status: StatusCode, text: &str) -> Response {
    let body = format!("<!DOCTYPE html><html><body><h1>Harvest ID</h1><p>{text}</p></body></html>");
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn oauth_error(status: StatusCode, error: &str) -> Response {
    json_response(status, &json!({ "error": error }))
}

fn is_loopback(uri: &str) -> bool {
    ["http://127.0.0.1", "http://localhost"].iter().any(|prefix| {
        uri.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/', '?']))
    })
}

async fn authorize(State(app): State<App>, RawQuery(raw): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let param = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    if param("client_id").as_deref() != Some(CLIENT_ID) {
        return html_error(
            StatusCode::BAD_REQUEST,
            "Invalid client: this OAuth2 application is not registered.",
        );
    }
    let Some(redirect_uri) = param("redirect_uri").filter(|uri| is_loopback(uri)) else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI: it must start with the application's registered redirect URL.",
        );
    };
    let response_type = param("response_type").unwrap_or_default();
    let mut world = app.world();
    let user_id = world.authorizing_user;
    let mut callback: Vec<(&str, String)> = match response_type.as_str() {
        "code" => {
            let code = random_token(32);
            world.codes.insert(code.clone(), AuthCode { user_id, client_id: CLIENT_ID.into(), used: false });
            vec![("code", code)]
        }
        // Implicit grant: Harvest puts the token in the query string, not the fragment [obs].
        "token" => {
            let (access, _) = issue(&mut world, user_id, app.config.token_ttl);
            vec![
                ("access_token", access),
                ("token_type", "bearer".into()),
                ("expires_in", app.config.token_ttl.as_secs().to_string()),
            ]
        }
        _ => return html_error(StatusCode::BAD_REQUEST, "Unsupported response_type: use code or token."),
    };
    callback.push(("scope", format!("harvest:{ACCOUNT_ID}")));
    if let Some(state) = param("state") {
        callback.push(("state", state));
    }
    let query = serde_urlencoded::to_string(&callback).unwrap_or_default();
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!("{redirect_uri}{separator}{query}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// A new access token (expiring after `ttl` on the simulator's clock) and its refresh token.
fn issue(world: &mut World, user_id: i64, ttl: std::time::Duration) -> (String, String) {
    let access = random_token(48);
    let refresh = random_token(48);
    let expires_at = world.now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(14));
    world
        .tokens
        .insert(access.clone(), AccessToken { user_id, expires_at: Some(expires_at), revoked: false });
    world
        .refresh_tokens
        .insert(refresh.clone(), RefreshToken { user_id, access_token: access.clone(), revoked: false });
    (access, refresh)
}

fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

async fn token(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match parse_body(&headers, &body) {
        Ok(body) => body,
        Err(_) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
    };
    if text(&body, "client_id").as_deref() != Some(CLIENT_ID)
        || text(&body, "client_secret").as_deref() != Some(CLIENT_SECRET)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let mut world = app.world();
    let user_id = match text(&body, "grant_type").as_deref() {
        Some("authorization_code") => {
            let code = text(&body, "code").unwrap_or_default();
            match world.codes.get_mut(&code) {
                Some(grant) if !grant.used && grant.client_id == CLIENT_ID => {
                    grant.used = true;
                    grant.user_id
                }
                _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant"),
            }
        }
        Some("refresh_token") => {
            let presented = text(&body, "refresh_token").unwrap_or_default();
            let Some(old) = world.refresh_tokens.get_mut(&presented).filter(|r| !r.revoked) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            // Rotation: the old refresh token and the access token it came with both stop working.
            old.revoked = true;
            let (user_id, old_access) = (old.user_id, old.access_token.clone());
            if let Some(access) = world.tokens.get_mut(&old_access) {
                access.revoked = true;
            }
            user_id
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let (access_token, refresh_token) = issue(&mut world, user_id, app.config.token_ttl);
    json_response(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_type": "bearer",
            "expires_in": app.config.token_ttl.as_secs(),
        }),
    )
}

async fn accounts(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(user_id) = bearer(&headers).and_then(|token| token_user(&app, &token)) else {
        return ApiError::Unauthorized.into_response();
    };
    let world = app.world();
    let Some(user) = world.user(user_id) else {
        return ApiError::Unauthorized.into_response();
    };
    json_response(
        StatusCode::OK,
        &json!({
            "user": {"id": user.id, "first_name": user.first_name, "last_name": user.last_name, "email": user.email},
            "accounts": [{"id": ACCOUNT_ID, "name": ACCOUNT_NAME, "product": "harvest"}],
        }),
    )
}
