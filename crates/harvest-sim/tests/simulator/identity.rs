//! The identity side: authorization code, token exchange and rotation, accounts.

use std::time::Duration;

use harvest_sim::{Config, Simulator};
use reqwest::Method;
use serde_json::Value;

use crate::support::{blank, call, get_json, http, start, USER_AGENT};

/// Runs `/oauth2/authorize` and returns the callback URL's query parameters.
async fn authorize(sim: &Simulator, client_id: &str, redirect_uri: &str) -> reqwest::Response {
    http()
        .get(format!("{}/oauth2/authorize", sim.url()))
        .query(&[
            ("client_id", client_id),
            ("response_type", "code"),
            ("redirect_uri", redirect_uri),
            ("state", "xyz 1"),
        ])
        .send()
        .await
        .expect("answers")
}

fn callback_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response.headers()["location"].to_str().expect("an ASCII Location");
    let url = reqwest::Url::parse(location).expect("an absolute callback URL");
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param(params: &[(String, String)], key: &str) -> String {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
}

async fn token(sim: &Simulator, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{}/api/v2/oauth2/token", sim.url()))
        .header("User-Agent", USER_AGENT)
        .form(form)
        .send()
        .await
        .expect("answers")
}

/// Exchanges an authorization code for tokens as the simulator's client.
async fn exchange(sim: &Simulator, code: &str, client_secret: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", Simulator::CLIENT_ID),
        ("client_secret", client_secret),
    ];
    token(sim, &form).await
}

async fn code(sim: &Simulator) -> String {
    let response = authorize(sim, Simulator::CLIENT_ID, "http://127.0.0.1:47823/callback").await;
    param(&callback_params(&response), "code")
}

#[tokio::test]
async fn authorize_redirects_to_the_loopback_with_code_scope_and_state() {
    let sim = blank().await;
    let response = authorize(&sim, Simulator::CLIENT_ID, "http://127.0.0.1:47823/callback").await;
    assert_eq!(response.status(), 302, "the simulator approves at once");
    let location = response.headers()["location"].to_str().expect("ASCII").to_owned();
    assert!(location.starts_with("http://127.0.0.1:47823/callback?code="), "callback: {location}");
    assert!(location.contains("scope=harvest%3A1234567"), "scope names the account: {location}");
    assert_eq!(param(&callback_params(&response), "state"), "xyz 1", "state comes back unchanged");
}

#[tokio::test]
async fn authorize_refuses_unknown_clients_and_foreign_redirects() {
    let sim = blank().await;
    let unknown = authorize(&sim, "someone-else", "http://127.0.0.1:1/cb").await;
    assert_eq!(unknown.status(), 400);
    assert!(unknown.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/html")));
    let foreign = authorize(&sim, Simulator::CLIENT_ID, "https://evil.example.com/cb").await;
    assert_eq!(foreign.status(), 400, "only loopback redirect URIs are registered");
    let lookalike = authorize(&sim, Simulator::CLIENT_ID, "http://localhost.evil.example.com/cb").await;
    assert_eq!(lookalike.status(), 400, "a prefix match must end at the host");
}

#[tokio::test]
async fn a_code_is_exchanged_once_and_refresh_tokens_rotate() {
    let sim = blank().await;
    let code = code(&sim).await;
    let wrong_secret = exchange(&sim, &code, "nope").await;
    assert_eq!(wrong_secret.status(), 401);
    assert_eq!(wrong_secret.json::<Value>().await.expect("JSON")["error"], "invalid_client");

    let first: Value =
        exchange(&sim, &code, Simulator::CLIENT_SECRET).await.json().await.expect("JSON tokens");
    assert_eq!(first["token_type"], "bearer");
    assert_eq!(first["expires_in"], 1_209_599, "14 days as observed");
    let access = first["access_token"].as_str().expect("an access token").to_owned();
    let refresh = first["refresh_token"].as_str().expect("a refresh token").to_owned();
    let me = get_json(&sim, &access, "/v2/users/me").await;
    assert_eq!(me["id"], Simulator::MANAGER_ID, "the authorizing user is the manager by default");

    let reused = exchange(&sim, &code, Simulator::CLIENT_SECRET).await;
    assert_eq!(reused.status(), 400, "a code is single-use");
    assert_eq!(reused.json::<Value>().await.expect("JSON")["error"], "invalid_grant");

    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", Simulator::CLIENT_ID),
        ("client_secret", Simulator::CLIENT_SECRET),
    ];
    let second: Value = token(&sim, &refresh_form).await.json().await.expect("JSON tokens");
    let new_access = second["access_token"].as_str().expect("a new access token");
    assert_ne!(new_access, access);
    assert_ne!(second["refresh_token"].as_str(), Some(refresh.as_str()), "the refresh token rotates");
    get_json(&sim, new_access, "/v2/users/me").await;
    let old = call(&sim, Method::GET, &access, "/v2/users/me").send().await.expect("answers");
    assert_eq!(old.status(), 401, "the old access token stops working after a refresh");
    let replay = token(&sim, &refresh_form).await;
    assert_eq!(replay.status(), 400, "a used refresh token is refused");
    assert_eq!(replay.json::<Value>().await.expect("JSON")["error"], "invalid_grant");
}

#[tokio::test]
async fn the_authorizing_user_can_be_chosen() {
    let sim = blank().await;
    sim.set_authorizing_user(Simulator::MEMBER_ID);
    let code = code(&sim).await;
    let tokens =
        exchange(&sim, &code, Simulator::CLIENT_SECRET).await.json::<Value>().await.expect("JSON tokens");
    let access = tokens["access_token"].as_str().expect("an access token");
    assert_eq!(get_json(&sim, access, "/v2/users/me").await["id"], Simulator::MEMBER_ID);
}

#[tokio::test]
async fn oauth_tokens_expire_on_the_simulators_clock() {
    let sim = start(Config {
        seed: false,
        rate_limit: None,
        token_ttl: Duration::from_secs(60),
        ..Config::default()
    })
    .await;
    let code = code(&sim).await;
    let tokens =
        exchange(&sim, &code, Simulator::CLIENT_SECRET).await.json::<Value>().await.expect("JSON tokens");
    assert_eq!(tokens["expires_in"], 60);
    let access = tokens["access_token"].as_str().expect("an access token");
    sim.set_now_offset(chrono::Duration::seconds(61));
    let expired = call(&sim, Method::GET, access, "/v2/users/me").send().await.expect("answers");
    assert_eq!(expired.status(), 401, "past expires_in the token is refused");
}

#[tokio::test]
async fn accounts_lists_the_harvest_account_with_only_a_bearer_token() {
    let sim = blank().await;
    let response = http()
        .get(format!("{}/api/v2/accounts", sim.url()))
        .header("User-Agent", USER_AGENT)
        .bearer_auth(Simulator::ADMIN_TOKEN)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200, "no account header is needed here");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["user"]["email"], "ada@demo.test");
    assert_eq!(body["accounts"][0]["id"], Simulator::ACCOUNT_ID);
    assert_eq!(body["accounts"][0]["product"], "harvest");
    let anonymous = http().get(format!("{}/api/v2/accounts", sim.url())).send().await.expect("answers");
    assert_eq!(anonymous.status(), 401);
}
