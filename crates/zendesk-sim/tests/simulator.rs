//! The simulator answers as Zendesk does: sign-in, the export's cursor,
//! lag and limit, comment pages, and safe updates.

use std::time::Duration;

use serde_json::{json, Value};
use zendesk_sim::{Config, RateLimit, Simulator};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(sim: &Simulator, path: &str) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = client()
        .get(format!("{}{path}", sim.url()))
        .basic_auth(format!("{}/token", Simulator::ADMIN_EMAIL), Some(Simulator::TOKEN))
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test]
async fn a_wrong_token_is_401_and_an_end_user_may_not_read_tickets() {
    let sim = Simulator::start(Config::default()).await.expect("starts");
    let url = format!("{}/api/v2/users/me.json", sim.url());
    let wrong =
        client().get(&url).basic_auth("ada@demo.test/token", Some("nope")).send().await.expect("answered");
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<Value>().await.expect("JSON"), json!({ "error": "Couldn't authenticate you" }));
    let end_user = format!("{}/token", Simulator::END_USER_EMAIL);
    let tickets = format!("{}/api/v2/incremental/tickets/cursor.json?start_time=0", sim.url());
    let refused =
        client().get(&tickets).basic_auth(&end_user, Some(Simulator::TOKEN)).send().await.expect("answered");
    assert_eq!(refused.status(), 403);
    let bearer = client().get(&url).bearer_auth(Simulator::OAUTH_TOKEN).send().await.expect("answered");
    assert_eq!(bearer.json::<Value>().await.expect("JSON")["user"]["role"], "admin");
}

#[tokio::test]
async fn the_export_pages_by_cursor_leaves_out_the_last_minute_and_limits_calls() {
    let sim = Simulator::start(Config {
        incremental_limit: Some(RateLimit { requests: 3, window: Duration::from_secs(30) }),
        ..Config::default()
    })
    .await
    .expect("starts");
    let (status, first, _) =
        get(&sim, "/api/v2/incremental/tickets/cursor.json?start_time=0&per_page=1").await;
    assert_eq!(status, 200);
    assert_eq!(first["tickets"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["end_of_stream"], false);
    let next = first["after_url"].as_str().expect("after_url").trim_start_matches(&sim.url()).to_owned();
    let (_, second, _) = get(&sim, &format!("{next}&per_page=5")).await;
    assert_eq!(second["tickets"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["end_of_stream"], true);
    assert_ne!(first["tickets"][0]["id"], second["tickets"][0]["id"]);

    // A comment now: its ticket is left out for a minute.
    let id = sim.ticket_ids()[0];
    sim.add_comment(id, sim.user_id(Simulator::ADMIN_EMAIL), "<p>later</p>", true);
    let cursor = second["after_cursor"].as_str().expect("after_cursor").to_owned();
    let (_, empty, _) = get(&sim, &format!("/api/v2/incremental/tickets/cursor.json?cursor={cursor}")).await;
    assert_eq!(empty["tickets"], json!([]));
    assert_eq!(empty["after_cursor"], cursor.as_str(), "no move without tickets");
    let (status, _, headers) =
        get(&sim, &format!("/api/v2/incremental/tickets/cursor.json?cursor={cursor}")).await;
    assert_eq!(status, 429, "the fourth call in the window");
    let wait: u64 = headers["retry-after"].to_str().expect("text").parse().expect("seconds");
    assert!((1..=30).contains(&wait), "{wait}");
}

#[tokio::test]
async fn comments_page_by_cursor_and_a_stale_safe_update_is_409() {
    let sim = Simulator::start(Config::default()).await.expect("starts");
    let id = sim.ticket_ids()[0];
    let (_, page, _) = get(&sim, &format!("/api/v2/tickets/{id}/comments.json?page[size]=2")).await;
    assert_eq!(page["comments"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["meta"]["has_more"], true);
    let next = page["links"]["next"].as_str().expect("next").trim_start_matches(&sim.url()).to_owned();
    let (_, rest, _) = get(&sim, &next).await;
    assert_eq!(rest["comments"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["meta"]["has_more"], false);

    let (_, ticket, _) = get(&sim, &format!("/api/v2/tickets/{id}.json")).await;
    let stamp = ticket["ticket"]["updated_at"].as_str().expect("updated_at").to_owned();
    let put = |body: Value| {
        client()
            .put(format!("{}/api/v2/tickets/{id}.json", sim.url()))
            .basic_auth(format!("{}/token", Simulator::ADMIN_EMAIL), Some(Simulator::TOKEN))
            .json(&body)
            .send()
    };
    let update = |marker: &str| {
        json!({ "ticket": { "comment": { "body": "Hi", "public": false }, "metadata": { "tickettime": marker },
                            "safe_update": true, "updated_stamp": stamp } })
    };
    let first = put(update("a")).await.expect("answered");
    assert_eq!(first.status(), 200);
    let audit: Value = first.json().await.expect("JSON");
    let comment = audit["audit"]["events"][0]["id"].as_u64().expect("the comment's id");
    let second = put(update("b")).await.expect("answered");
    assert_eq!(second.status(), 409, "the ticket moved on since the stamp");
    let written = sim.comments(id);
    assert_eq!(written.iter().filter(|c| c.custom["tickettime"] == "a").count(), 1);
    assert!(written.iter().all(|c| c.custom["tickettime"] != "b"));
    assert!(written.iter().any(|c| c.id == comment && !c.public));
}

#[tokio::test]
async fn a_bounded_request_log_keeps_the_last_requests() {
    let sim = Simulator::start(Config { request_log: Some(2), ..Config::default() }).await.expect("starts");
    for path in ["/api/v2/users/me.json", "/api/v2/ticket_fields.json", "/api/v2/tickets/999999"] {
        get(&sim, path).await;
    }
    let kept: Vec<(String, u16)> = sim.requests().into_iter().map(|r| (r.path_and_query, r.status)).collect();
    assert_eq!(
        kept,
        [("/api/v2/ticket_fields.json".to_owned(), 200), ("/api/v2/tickets/999999".to_owned(), 404)]
    );
}
