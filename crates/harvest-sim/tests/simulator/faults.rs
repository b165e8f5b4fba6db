//! Throttling, injected faults, the request log and the `/__sim/` control surface.

use std::time::Duration;

use harvest_sim::{Config, Fault, FaultKind, RateLimit, Simulator};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{blank, call, http, id_of, start, USER_AGENT};

/// `GET /v2/users/me` as `token`.
async fn me(sim: &Simulator, token: &str) -> reqwest::Response {
    call(sim, Method::GET, token, "/v2/users/me").send().await.expect("answers")
}

/// The member POSTs a one-hour entry.
fn post_entry(sim: &Simulator) -> reqwest::RequestBuilder {
    let body = json!({"project_id": harvest_sim::seed::ACME_VPN_PROJECT_ID, "task_id": harvest_sim::seed::SUPPORT_TASK_ID,
                      "spent_date": "2024-05-01", "hours": 1.0});
    call(sim, Method::POST, Simulator::MEMBER_TOKEN, "/v2/time_entries").json(&body)
}

#[tokio::test]
async fn a_full_window_is_throttled_with_retry_after_per_token() {
    let limit = RateLimit { requests: 3, window: Duration::from_secs(30) };
    let sim = start(Config { seed: false, rate_limit: Some(limit), ..Config::default() }).await;
    for _ in 0..3 {
        let ok = me(&sim, Simulator::MEMBER_TOKEN).await;
        assert_eq!(ok.status(), 200, "within the window");
    }
    let throttled = me(&sim, Simulator::MEMBER_TOKEN).await;
    assert_eq!(throttled.status(), 429, "the fourth request in the window is throttled");
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After is whole seconds");
    assert!(
        (20..=30).contains(&retry_after),
        "Retry-After gives the seconds until the 30 s window frees, not {retry_after}"
    );
    assert_eq!(throttled.headers()["content-type"], "text/html");
    assert_eq!(throttled.text().await.expect("a body"), "", "Harvest's 429 body is empty");

    let other = me(&sim, Simulator::ADMIN_TOKEN).await;
    assert_eq!(other.status(), 200, "the window is per token");
}

#[tokio::test]
async fn a_status_fault_answers_that_status_for_the_given_number_of_times() {
    let sim = blank().await;
    sim.inject(Fault::once(Some("get"), "/v2/users", FaultKind::Status(503)).times(2));
    for attempt in 0..2 {
        let response = me(&sim, Simulator::MEMBER_TOKEN).await;
        assert_eq!(response.status(), 503, "attempt {attempt} hits the fault");
        let body: Value = response.json().await.expect("a JSON body");
        assert!(body["message"].is_string());
    }
    let healed = me(&sim, Simulator::MEMBER_TOKEN).await;
    assert_eq!(healed.status(), 200, "the fault is used up");
}

#[tokio::test]
async fn a_fault_for_one_method_leaves_others_alone() {
    let sim = blank().await;
    sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::Status(500)));
    let list =
        call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/time_entries").send().await.expect("answers");
    assert_eq!(list.status(), 200, "GET does not match a POST fault");
    let post = post_entry(&sim).send().await.expect("answers");
    assert_eq!(post.status(), 500);
    assert!(sim.entries().is_empty(), "a status fault handles nothing");
}

#[tokio::test]
async fn a_delay_fault_holds_the_answer_then_handles_the_request() {
    let sim = blank().await;
    sim.inject(Fault::once(None, "/v2/time_entries", FaultKind::Delay(Duration::from_secs(3))));
    let outcome = post_entry(&sim).timeout(Duration::from_millis(200)).send().await;
    assert!(outcome.is_err_and(|e| e.is_timeout()), "a client with a short timeout gives up");
}

#[tokio::test]
async fn a_dropped_connection_is_a_client_error_and_handles_nothing() {
    let sim = blank().await;
    sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::Drop));
    let outcome = post_entry(&sim).send().await;
    assert!(outcome.is_err(), "the client must see an error, not a success: {outcome:?}");
    assert!(sim.entries().is_empty(), "Drop handles nothing");
    assert_eq!(sim.requests().last().map(|r| r.status), Some(0), "no status was ever sent");
}

#[tokio::test]
async fn a_drop_after_handling_creates_the_entry_yet_the_client_sees_an_error() {
    let sim = blank().await;
    sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::DropAfterHandling));
    let outcome = post_entry(&sim).send().await;
    assert!(outcome.is_err(), "the ambiguous POST looks like a failure to the client: {outcome:?}");
    assert_eq!(sim.entries().len(), 1, "yet the entry exists in Harvest");
    assert_eq!(sim.requests().last().map(|r| r.status), Some(201), "the log shows what the handler did");
}

#[tokio::test]
async fn a_throttle_fault_sends_retry_after_only_when_given() {
    let sim = blank().await;
    sim.inject(Fault::once(None, "/v2/", FaultKind::TooManyRequests { retry_after: Some("7".into()) }));
    sim.inject(Fault::once(None, "/v2/", FaultKind::TooManyRequests { retry_after: None }));
    let with = me(&sim, Simulator::MEMBER_TOKEN).await;
    assert_eq!(with.status(), 429);
    assert_eq!(with.headers()["retry-after"], "7");
    let without = me(&sim, Simulator::MEMBER_TOKEN).await;
    assert_eq!(without.status(), 429);
    assert!(without.headers().get("retry-after").is_none(), "as recorded in 2020: no Retry-After");
    assert_eq!(without.text().await.expect("a body"), "");
}

#[tokio::test]
async fn a_garbage_fault_is_a_200_that_is_not_json() {
    let sim = blank().await;
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::Garbage));
    let response = me(&sim, Simulator::MEMBER_TOKEN).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/html")));
    assert!(response.json::<Value>().await.is_err(), "the body does not parse as JSON");
}

#[tokio::test]
async fn every_request_is_logged_in_order_except_control_calls() {
    let sim = blank().await;
    call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/users/me?x=1").send().await.expect("answers");
    http().get(format!("{}/__sim/time_entries", sim.url())).send().await.expect("answers");
    call(&sim, Method::GET, "bad", "/v2/company").send().await.expect("answers");
    let log = sim.requests();
    assert_eq!(log.len(), 2, "/__sim/ calls are not recorded: {log:?}");
    assert_eq!(log[0].path_and_query, "/v2/users/me?x=1");
    assert_eq!(log[0].user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(log[0].account_id.as_deref(), Some("1234567"));
    assert_eq!(log[0].authorization.as_deref(), Some("Bearer demo-member-token"));
    assert_eq!(log[0].status, 200);
    assert_eq!((log[1].method.as_str(), log[1].status), ("GET", 401));
    assert!(log[0].at <= log[1].at);
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn the_http_control_surface_mirrors_the_library_controls() {
    let sim = blank().await;
    let base = sim.url();
    let client = http();
    let created: Value = client
        .post(format!("{base}/__sim/time_entries"))
        .json(&json!({"user_id": Simulator::MEMBER_ID, "project_id": harvest_sim::seed::ACME_VPN_PROJECT_ID,
                      "task_id": harvest_sim::seed::SUPPORT_TASK_ID, "spent_date": "2024-05-01", "hours": 1.5}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a JSON entry");
    let id = id_of(&created);
    let locked: Value = client
        .patch(format!("{base}/__sim/time_entries/{id}"))
        .json(&json!({"is_locked": true, "notes": "approved"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("a JSON entry");
    assert_eq!(locked["is_locked"], true);
    assert_eq!(locked["notes"], "approved");

    let fault = client
        .post(format!("{base}/__sim/faults"))
        .json(&json!({"method": "GET", "path_prefix": "/v2/company", "kind": "status", "status": 502}))
        .send()
        .await
        .expect("answers");
    assert_eq!(fault.status(), 204);
    let faulted =
        call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/company").send().await.expect("answers");
    assert_eq!(faulted.status(), 502, "the fault posted over HTTP applies");

    let get_json = |path: &str| {
        let request = client.get(format!("{base}{path}"));
        async move { request.send().await.expect("answers").json::<Value>().await.expect("JSON") }
    };
    let log = get_json("/__sim/requests").await;
    assert_eq!(log["requests"][0]["path_and_query"], "/v2/company");
    assert_eq!(log["requests"][0]["status"], 502);

    let all = get_json("/__sim/time_entries").await;
    assert_eq!(all["time_entries"].as_array().map(Vec::len), Some(1));
    let deleted = client.delete(format!("{base}/__sim/time_entries/{id}")).send().await.expect("answers");
    assert_eq!(deleted.status(), 204);
    assert!(sim.entries().is_empty());
}

#[tokio::test]
async fn faults_queue_in_order_until_cleared() {
    let sim = blank().await;
    sim.inject(Fault::once(None, "/v2/company", FaultKind::Status(503)).times(50));
    sim.inject(Fault::once(None, "/v2/company", FaultKind::Garbage));
    let first =
        call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/company").send().await.expect("answers");
    assert_eq!(first.status(), 503, "the older fault is served first");
    sim.clear_faults();
    let after =
        call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/company").send().await.expect("answers");
    assert_eq!(after.status(), 200, "clearing drops the later fault too");
}

#[tokio::test]
async fn a_bounded_request_log_keeps_the_last_requests_with_their_statuses() {
    let sim =
        start(Config { seed: false, rate_limit: None, request_log: Some(3), ..Config::default() }).await;
    for path in ["/v2/company", "/v2/users/me", "/v2/clients", "/v2/tasks", "/v2/nowhere"] {
        call(&sim, Method::GET, Simulator::ADMIN_TOKEN, path).send().await.expect("answers");
    }
    let kept: Vec<(String, u16)> = sim.requests().into_iter().map(|r| (r.path_and_query, r.status)).collect();
    assert_eq!(
        kept,
        [("/v2/clients".to_owned(), 200), ("/v2/tasks".to_owned(), 200), ("/v2/nowhere".to_owned(), 404)],
        "the oldest went, and each kept request has its own status"
    );
    sim.clear_requests();
    call(&sim, Method::GET, Simulator::MEMBER_TOKEN, "/v2/company").send().await.expect("answers");
    let after: Vec<(String, u16)> =
        sim.requests().into_iter().map(|r| (r.path_and_query, r.status)).collect();
    assert_eq!(after, [("/v2/company".to_owned(), 200)]);
}
