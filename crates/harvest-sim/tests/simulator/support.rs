//! Starting simulators and building requests the way a well-behaved Harvest client does.

use chrono::NaiveDate;
use harvest_sim::{seed, Config, NewEntry, Simulator};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

pub const USER_AGENT: &str = "TickettimeTests (tests@tickettime.test)";

/// A simulator without the seeded past entries and without the throttle.
pub async fn blank() -> Simulator {
    start(Config { seed: false, rate_limit: None, ..Config::default() }).await
}

pub async fn seeded() -> Simulator {
    start(Config { rate_limit: None, ..Config::default() }).await
}

pub async fn start(config: Config) -> Simulator {
    Simulator::start(config).await.expect("the simulator binds a free port on 127.0.0.1")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a reqwest client builds")
}

/// A request with User-Agent, bearer token and account header.
pub fn call(sim: &Simulator, method: Method, token: &str, path: &str) -> RequestBuilder {
    http()
        .request(method, format!("{}{path}", sim.url()))
        .header("User-Agent", USER_AGENT)
        .bearer_auth(token)
        .header("Harvest-Account-Id", Simulator::ACCOUNT_ID.to_string())
}

pub async fn get_json(sim: &Simulator, token: &str, path: &str) -> Value {
    let response = call(sim, Method::GET, token, path).send().await.expect("the simulator answers");
    assert_eq!(response.status(), 200, "GET {path} should succeed");
    response.json().await.expect("a JSON body")
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a valid test date")
}

/// A stopped entry for the member on Acme VPN support / Support.
pub fn member_entry(spent_date: &str, hours: f64) -> NewEntry {
    NewEntry {
        user_id: Simulator::MEMBER_ID,
        project_id: seed::ACME_VPN_PROJECT_ID,
        task_id: seed::SUPPORT_TASK_ID,
        spent_date: date(spent_date),
        hours: Some(hours),
        notes: None,
        external_reference: None,
    }
}

pub fn id_of(entry: &Value) -> i64 {
    entry["id"].as_i64().expect("an entry carries a numeric id")
}

pub fn ids(list: &Value) -> Vec<i64> {
    list["time_entries"].as_array().expect("a time_entries array").iter().map(id_of).collect()
}
