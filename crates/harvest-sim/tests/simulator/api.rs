//! The `/v2` API: headers, auth, roles, pagination, filters, timers, locking, projects.

use harvest_sim::{seed, EntryEdit, Simulator};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{blank, call, get_json, http, id_of, ids, member_entry, seeded, USER_AGENT};

#[tokio::test]
async fn a_request_without_a_user_agent_is_refused_with_400() {
    let sim = seeded().await;
    let response = http()
        .get(format!("{}/v2/users/me", sim.url()))
        .bearer_auth(Simulator::ADMIN_TOKEN)
        .header("Harvest-Account-Id", "1234567")
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(response.status(), 400, "Harvest requires a User-Agent");

    let response = http()
        .get(format!("{}/v2/users/me", sim.url()))
        .header("User-Agent", "Tickettime")
        .bearer_auth(Simulator::ADMIN_TOKEN)
        .header("Harvest-Account-Id", "1234567")
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(response.status(), 400, "a User-Agent without an email or URL is not enough");
}

#[tokio::test]
async fn a_bad_token_gets_the_recorded_invalid_token_body_and_challenge() {
    let sim = seeded().await;
    let response =
        call(&sim, Method::GET, "not-a-token", "/v2/users/me").send().await.expect("the simulator answers");
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().expect("an ASCII header").to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "the challenge names the error: {challenge}");
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body["error"], "invalid_token", "the recorded 401 shape: {body}");
    assert!(body["error_description"].as_str().is_some_and(|d| d.contains("expired, revoked")));
}

#[tokio::test]
async fn a_missing_or_wrong_account_id_is_unauthorized() {
    let sim = seeded().await;
    let missing = http()
        .get(format!("{}/v2/users/me", sim.url()))
        .header("User-Agent", USER_AGENT)
        .bearer_auth(Simulator::ADMIN_TOKEN)
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(missing.status(), 401, "Harvest-Account-Id is required");
    let wrong = http()
        .get(format!("{}/v2/users/me", sim.url()))
        .header("User-Agent", USER_AGENT)
        .bearer_auth(Simulator::ADMIN_TOKEN)
        .header("Harvest-Account-Id", "999")
        .send()
        .await
        .expect("the simulator answers");
    assert_eq!(wrong.status(), 401, "a token is only good for its own account");
}

#[tokio::test]
async fn query_string_credentials_are_accepted() {
    let sim = seeded().await;
    let url =
        format!("{}/v2/users/me?access_token={}&account_id=1234567", sim.url(), Simulator::MEMBER_TOKEN);
    let response =
        http().get(url).header("User-Agent", USER_AGENT).send().await.expect("the simulator answers");
    assert_eq!(response.status(), 200, "the documented query-string alternative works");
    let me: Value = response.json().await.expect("a JSON body");
    assert_eq!(me["id"], Simulator::MEMBER_ID);
}

#[tokio::test]
async fn an_expired_token_stops_working() {
    let sim = seeded().await;
    get_json(&sim, Simulator::MANAGER_TOKEN, "/v2/users/me").await;
    sim.expire_access_token(Simulator::MANAGER_TOKEN);
    let response =
        call(&sim, Method::GET, Simulator::MANAGER_TOKEN, "/v2/users/me").send().await.expect("answers");
    assert_eq!(response.status(), 401, "an expired token gives invalid_token");
}

#[tokio::test]
async fn me_reports_access_roles_and_hides_rates_from_non_admins() {
    let sim = seeded().await;
    let manager = get_json(&sim, Simulator::MANAGER_TOKEN, "/v2/users/me").await;
    assert_eq!(manager["access_roles"], json!(["manager", "project_creator"]));
    assert_eq!(manager["first_name"], "Pia");
    assert!(manager.get("default_hourly_rate").is_none(), "non-admins do not get the rate keys at all");
    let admin = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/users/me").await;
    assert_eq!(admin["access_roles"], json!(["administrator"]));
    assert!(admin["default_hourly_rate"].is_null() && admin.get("cost_rate").is_some());
    let company = get_json(&sim, Simulator::MEMBER_TOKEN, "/v2/company").await;
    assert_eq!(company["wants_timestamp_timers"], false, "the demo account uses duration timers");
    assert_eq!(company["name"], "Demo Agency");
}

#[tokio::test]
async fn members_are_forbidden_the_admin_listings() {
    let sim = seeded().await;
    for path in ["/v2/projects", "/v2/users", "/v2/task_assignments"] {
        let response = call(&sim, Method::GET, Simulator::MEMBER_TOKEN, path).send().await.expect("answers");
        assert_eq!(response.status(), 403, "members may not list {path}");
    }
    let create = call(&sim, Method::POST, Simulator::MEMBER_TOKEN, "/v2/projects")
        .json(&json!({"client_id": seed::ACME_ID, "name": "X", "is_billable": true, "bill_by": "none", "budget_by": "none"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(create.status(), 403, "members may not create projects");
    let body: Value = create.json().await.expect("a JSON body");
    assert!(body["message"].is_string(), "403 carries a message: {body}");
}

#[tokio::test]
async fn members_see_their_assignments_with_tasks() {
    let sim = seeded().await;
    let list = get_json(&sim, Simulator::MEMBER_TOKEN, "/v2/users/me/project_assignments").await;
    let assignments = list["project_assignments"].as_array().expect("an array");
    assert_eq!(assignments.len(), 4, "the member is assigned to every seeded project");
    let vpn = assignments
        .iter()
        .find(|a| a["project"]["id"] == seed::ACME_VPN_PROJECT_ID)
        .expect("Acme VPN support is listed");
    assert_eq!(vpn["project"]["name"], "Acme VPN support");
    assert_eq!(vpn["client"]["name"], "Acme Corp");
    assert_eq!(vpn["task_assignments"].as_array().map(Vec::len), Some(3), "all three tasks are assigned");
    assert_eq!(vpn["task_assignments"][0]["task"]["name"], "Support");
    assert_eq!(list["total_pages"], 1);
}

#[tokio::test]
async fn each_role_sees_the_entries_it_should() {
    let sim = seeded().await;
    let member = get_json(&sim, Simulator::MEMBER_TOKEN, "/v2/time_entries").await;
    let entries = member["time_entries"].as_array().expect("an array");
    assert!(!entries.is_empty(), "the seed gives the member some entries");
    assert!(
        entries.iter().all(|e| e["user"]["id"] == Simulator::MEMBER_ID),
        "members see only their own entries"
    );
    let admin = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries").await;
    assert_eq!(admin["total_entries"], seed::ENTRY_IDS.len(), "admins see everyone's entries");
    let manager = get_json(&sim, Simulator::MANAGER_TOKEN, "/v2/time_entries").await;
    assert_eq!(manager["total_entries"], seed::ENTRY_IDS.len(), "the manager manages every seeded project");

    let hidden =
        call(&sim, Method::GET, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{}", seed::ENTRY_IDS[2]))
            .send()
            .await
            .expect("answers");
    assert_eq!(hidden.status(), 404, "another person's entry is not found for a member");
}

#[tokio::test]
async fn an_entry_has_every_field_of_the_2024_recordings() {
    let sim = seeded().await;
    let entry =
        get_json(&sim, Simulator::ADMIN_TOKEN, &format!("/v2/time_entries/{}", seed::ENTRY_IDS[0])).await;
    for key in [
        "id",
        "spent_date",
        "hours",
        "hours_without_timer",
        "rounded_hours",
        "notes",
        "is_locked",
        "locked_reason",
        "is_closed",
        "is_billed",
        "timer_started_at",
        "started_time",
        "ended_time",
        "is_running",
        "billable",
        "budgeted",
        "billable_rate",
        "cost_rate",
        "created_at",
        "updated_at",
        "user",
        "client",
        "project",
        "task",
        "user_assignment",
        "task_assignment",
        "invoice",
        "external_reference",
    ] {
        assert!(entry.get(key).is_some(), "entry lacks {key}: {entry}");
    }
    assert!(id_of(&entry) > i64::from(i32::MAX), "entry ids are above 2^31 like real ones");
    assert_eq!(entry["client"]["currency"], "USD");
    assert!(entry["project"].get("code").is_some());
    assert!(entry["updated_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20));
}

#[tokio::test]
async fn a_missing_entry_is_the_recorded_404() {
    let sim = seeded().await;
    let response = call(&sim, Method::GET, Simulator::ADMIN_TOKEN, "/v2/time_entries/9999999999")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(body, json!({"status": 404, "error": "Not Found"}));
}

#[tokio::test]
async fn following_links_next_walks_every_page_and_keeps_the_filters() {
    let sim = blank().await;
    for day in 1..=5 {
        sim.add_entry(member_entry(&format!("2024-05-0{day}"), 1.0));
    }
    let mut url = format!("{}/v2/time_entries?user_id={}&per_page=2", sim.url(), Simulator::MEMBER_ID);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page: Value = http()
            .get(&url)
            .header("User-Agent", USER_AGENT)
            .bearer_auth(Simulator::ADMIN_TOKEN)
            .header("Harvest-Account-Id", "1234567")
            .send()
            .await
            .expect("answers")
            .json()
            .await
            .expect("a JSON page");
        pages += 1;
        assert_eq!(page["total_entries"], 5, "every page reports the full count");
        assert_eq!(page["total_pages"], 3);
        assert_eq!(page["per_page"], 2);
        let first = page["links"]["first"].as_str().expect("links.first is a URL");
        assert!(first.starts_with(&sim.url()) && first.ends_with("&ref=first"), "first link: {first}");
        seen.extend(ids(&page));
        match page["links"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.contains(&format!("user_id={}", Simulator::MEMBER_ID)),
                    "filters survive: {next}"
                );
                url = next.to_owned();
            }
            None => {
                assert!(page["next_page"].is_null(), "no next page at the end");
                break;
            }
        }
    }
    assert_eq!(pages, 3, "5 entries at 2 per page make 3 pages");
    let dates: Vec<String> = sim.entries().iter().map(|e| e["spent_date"].to_string()).collect();
    assert_eq!(seen.len(), 5, "every entry once: {seen:?} of {dates:?}");
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest spent_date first (here ids grow with the date)");
}

#[tokio::test]
async fn an_empty_list_still_has_one_page() {
    let sim = blank().await;
    let list = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries").await;
    assert_eq!(list["total_pages"], 1, "the recorded empty list says total_pages 1");
    assert_eq!(list["total_entries"], 0);
    assert_eq!(list["per_page"], 2000, "the 2024 default page size");
    assert!(list["links"]["last"].as_str().is_some_and(|l| l.ends_with("page=1&per_page=2000&ref=last")));
}

#[tokio::test]
async fn per_page_outside_1_to_2000_is_unprocessable() {
    let sim = seeded().await;
    for per_page in ["2001", "0", "abc"] {
        let response =
            call(&sim, Method::GET, Simulator::ADMIN_TOKEN, &format!("/v2/time_entries?per_page={per_page}"))
                .send()
                .await
                .expect("answers");
        assert_eq!(response.status(), 422, "per_page={per_page} is refused");
    }
}

#[tokio::test]
async fn time_entry_filters_narrow_the_list() {
    let sim = blank().await;
    let old = id_of(&sim.add_entry(member_entry("2024-05-01", 1.0)));
    sim.set_now_offset(chrono::Duration::hours(1));
    let mut linked = member_entry("2024-05-03", 2.0);
    linked.external_reference =
        Some(json!({"id": "T-42", "group_id": "desk", "permalink": "https://desk.example.com/t/42"}));
    let linked = sim.add_entry(linked);
    let mut timer = member_entry("2024-05-05", 0.0);
    timer.hours = None;
    let running = id_of(&sim.add_entry(timer));

    let since = linked["updated_at"].as_str().expect("updated_at");
    let recent =
        get_json(&sim, Simulator::ADMIN_TOKEN, &format!("/v2/time_entries?updated_since={since}")).await;
    assert!(!ids(&recent).contains(&old), "older writes are filtered out");
    assert!(ids(&recent).contains(&id_of(&linked)), "updated_since is inclusive");

    let window =
        get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries?from=2024-05-01&to=2024-05-03").await;
    assert_eq!(ids(&window), vec![id_of(&linked), old], "from/to are inclusive spent_date bounds");

    let by_ref = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries?external_reference_id=T-42").await;
    assert_eq!(ids(&by_ref), vec![id_of(&linked)]);
    assert_eq!(by_ref["time_entries"][0]["external_reference"]["service"], "desk.example.com");

    let running_list = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries?is_running=true").await;
    assert_eq!(ids(&running_list), vec![running]);
    let stopped = get_json(&sim, Simulator::ADMIN_TOKEN, "/v2/time_entries?is_running=false").await;
    assert_eq!(stopped["total_entries"], 2);
}

async fn post_entry(sim: &Simulator, token: &str, body: Value) -> reqwest::Response {
    call(sim, Method::POST, token, "/v2/time_entries").json(&body).send().await.expect("answers")
}

#[tokio::test]
async fn creating_an_entry_without_the_required_fields_joins_every_problem() {
    let sim = blank().await;
    let response =
        post_entry(&sim, Simulator::MEMBER_TOKEN, json!({"project_id": null, "task_id": null})).await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(
        body["message"],
        "Project can't be blank, Task can't be blank, Spent date can't be blank, Spent date is not a valid date"
    );
}

#[tokio::test]
async fn string_ids_hours_and_timestamp_dates_are_accepted() {
    let sim = blank().await;
    let response = post_entry(
        &sim,
        Simulator::MEMBER_TOKEN,
        json!({
            "project_id": seed::GLOBEX_BILLING_PROJECT_ID.to_string(),
            "task_id": seed::MEETINGS_TASK_ID.to_string(),
            "spent_date": "2019-01-24T18:31:12+00:00",
            "hours": "6",
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let entry: Value = response.json().await.expect("a JSON body");
    assert_eq!(entry["spent_date"], "2019-01-24", "a timestamp is stored as its date");
    assert_eq!(entry["hours"], 6.0, "string hours come back as a number");
    assert_eq!(entry["is_running"], false);
    assert_eq!(entry["user"]["id"], Simulator::MEMBER_ID);
}

#[tokio::test]
async fn an_unassigned_task_or_project_is_unprocessable() {
    let sim = blank().await;
    sim.set_task_assignment_active(seed::ACME_VPN_PROJECT_ID, seed::MEETINGS_TASK_ID, false);
    let inactive = post_entry(
        &sim,
        Simulator::MEMBER_TOKEN,
        json!({"project_id": seed::ACME_VPN_PROJECT_ID, "task_id": seed::MEETINGS_TASK_ID, "spent_date": "2024-05-01", "hours": 1}),
    )
    .await;
    assert_eq!(inactive.status(), 422, "the task assignment is inactive");
    let unknown = post_entry(
        &sim,
        Simulator::MEMBER_TOKEN,
        json!({"project_id": 1, "task_id": seed::SUPPORT_TASK_ID, "spent_date": "2024-05-01", "hours": 1}),
    )
    .await;
    assert_eq!(unknown.status(), 422, "no such project");
}

#[tokio::test]
async fn starting_a_timer_stops_the_users_other_running_timer() {
    let sim = blank().await;
    let start = |project: i64| json!({"project_id": project, "task_id": seed::SUPPORT_TASK_ID, "spent_date": "2024-05-01"});
    let first: Value = post_entry(&sim, Simulator::MEMBER_TOKEN, start(seed::ACME_VPN_PROJECT_ID))
        .await
        .json()
        .await
        .expect("a JSON entry");
    assert_eq!(first["is_running"], true, "no hours starts a timer");
    assert_eq!(first["hours"], 0.0);
    assert!(first["timer_started_at"].is_string());

    sim.set_now_offset(chrono::Duration::minutes(30));
    let second: Value = post_entry(&sim, Simulator::MEMBER_TOKEN, start(seed::INITECH_SSO_PROJECT_ID))
        .await
        .json()
        .await
        .expect("a JSON entry");
    assert_eq!(second["is_running"], true);
    let first = sim.entry(id_of(&first)).expect("the first entry still exists");
    assert_eq!(first["is_running"], false, "only one timer runs per user");
    assert_eq!(first["hours"], 0.5, "the stopped timer keeps its 30 minutes");
    assert!(first["timer_started_at"].is_null());

    let admin_timer = sim.add_entry(harvest_sim::NewEntry {
        user_id: Simulator::ADMIN_ID,
        hours: None,
        ..crate::support::member_entry("2024-05-01", 0.0)
    });
    assert_eq!(
        sim.entry(id_of(&second)).expect("exists")["is_running"],
        true,
        "other users' timers are separate"
    );
    assert_eq!(admin_timer["is_running"], true);
}

#[tokio::test]
async fn stop_and_restart_refuse_the_wrong_state_and_keep_the_id() {
    let sim = blank().await;
    let stopped = id_of(&sim.add_entry(member_entry("2024-05-01", 1.0)));
    let stop =
        call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{stopped}/stop"))
            .send()
            .await
            .expect("answers");
    assert_eq!(stop.status(), 422, "a stopped entry cannot be stopped");

    let restart =
        call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{stopped}/restart"))
            .send()
            .await
            .expect("answers");
    assert_eq!(restart.status(), 200);
    let restarted: Value = restart.json().await.expect("a JSON entry");
    assert_eq!(id_of(&restarted), stopped, "a duration-mode restart keeps the id");
    assert_eq!(restarted["is_running"], true);
    assert_eq!(restarted["hours_without_timer"], 1.0);

    let again =
        call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{stopped}/restart"))
            .send()
            .await
            .expect("answers");
    assert_eq!(again.status(), 422, "a running entry cannot be restarted");

    sim.set_now_offset(chrono::Duration::minutes(15));
    let stop =
        call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{stopped}/stop"))
            .send()
            .await
            .expect("answers");
    let stopped_entry: Value = stop.json().await.expect("a JSON entry");
    assert_eq!(stopped_entry["hours"], 1.25, "stopping adds the elapsed quarter hour");

    sim.edit_entry(stopped, EntryEdit { is_locked: Some(true), ..EntryEdit::default() });
    let locked =
        call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{stopped}/restart"))
            .send()
            .await
            .expect("answers");
    assert_eq!(locked.status(), 422, "a locked entry cannot be restarted");
}

#[tokio::test]
async fn a_locked_entry_refuses_changes_and_deletion() {
    let sim = blank().await;
    let id = id_of(&sim.add_entry(member_entry("2024-05-01", 1.0)));
    let locked =
        sim.edit_entry(id, EntryEdit { is_locked: Some(true), ..EntryEdit::default() }).expect("exists");
    assert_eq!(locked["locked_reason"], "Item Approved and Locked for this Time Period");
    let patch = call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{id}"))
        .json(&json!({"notes": "too late"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(patch.status(), 403, "locked entries cannot be edited");
    let body: Value = patch.json().await.expect("a JSON body");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("locked")), "the reason is given: {body}");
    let delete = call(&sim, Method::DELETE, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{id}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(delete.status(), 403, "locked entries cannot be deleted");
    assert!(sim.entry(id).is_some());
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_bumps_updated_at() {
    let sim = blank().await;
    let mut timer = member_entry("2024-05-01", 0.0);
    timer.hours = None;
    timer.notes = Some("VPN".into());
    let created = sim.add_entry(timer);
    let id = id_of(&created);
    sim.set_now_offset(chrono::Duration::minutes(6));
    let response = call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{id}"))
        .json(&json!({"notes": "VPN, reinstalled client", "external_reference": {"id": "9", "permalink": "https://github.com/o/r/issues/9"}}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let entry: Value = response.json().await.expect("a JSON entry");
    assert_eq!(entry["notes"], "VPN, reinstalled client");
    assert_eq!(entry["is_running"], true, "a notes PATCH leaves the timer running");
    assert_eq!(entry["hours"], 0.1, "the running total is untouched by a PATCH without hours");
    assert_eq!(entry["project"]["id"], seed::ACME_VPN_PROJECT_ID, "omitted fields are unchanged");
    assert_eq!(entry["external_reference"]["service"], "github.com");
    assert!(entry["updated_at"].as_str() > created["updated_at"].as_str(), "every write bumps updated_at");

    let moved = call(&sim, Method::PATCH, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{id}"))
        .json(&json!({"project_id": seed::GLOBEX_BILLING_PROJECT_ID, "spent_date": "2024-05-02", "hours": 2}))
        .send()
        .await
        .expect("answers")
        .json::<Value>()
        .await
        .expect("a JSON entry");
    assert_eq!(moved["project"]["name"], "Globex billing");
    assert_eq!(moved["spent_date"], "2024-05-02");
    assert_eq!(moved["hours"], 2.0, "given hours replace the running total");
}

#[tokio::test]
async fn deleting_answers_with_the_deleted_entry() {
    let sim = blank().await;
    let id = id_of(&sim.add_entry(member_entry("2024-05-01", 1.0)));
    let delete = call(&sim, Method::DELETE, Simulator::MEMBER_TOKEN, &format!("/v2/time_entries/{id}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(delete.status(), 200);
    let body: Value = delete.json().await.expect("a JSON body");
    assert_eq!(id_of(&body), id, "the body is the deleted entry");
    assert!(sim.entry(id).is_none(), "and it is gone");
}

#[tokio::test]
async fn creating_a_project_validates_then_assigns_the_creator() {
    let sim = blank().await;
    let invalid = call(&sim, Method::POST, Simulator::MANAGER_TOKEN, "/v2/projects")
        .json(&json!({"client_id": seed::ACME_ID}))
        .send()
        .await
        .expect("answers");
    assert_eq!(invalid.status(), 422);
    let body: Value = invalid.json().await.expect("a JSON body");
    let message = body["message"].as_str().expect("a message").to_owned();
    assert!(message.starts_with("Name can't be blank, "), "problems are joined into one message: {message}");

    let created = call(&sim, Method::POST, Simulator::MANAGER_TOKEN, "/v2/projects")
        .json(&json!({
            "client_id": seed::GLOBEX_ID.to_string(), "name": "Globex VPN", "is_billable": "true",
            "bill_by": "Project", "budget_by": "project", "budget": 12, "hourly_rate": 100.0,
        }))
        .send()
        .await
        .expect("answers");
    assert_eq!(created.status(), 201);
    let project: Value = created.json().await.expect("a JSON project");
    assert_eq!(project["budget"], 12.0);
    assert_eq!(project["is_billable"], true, "string booleans are accepted");
    assert_eq!(project["client"]["name"], "Globex");
    let project_id = project["id"].as_i64().expect("an id");

    let mine = get_json(&sim, Simulator::MANAGER_TOKEN, "/v2/users/me/project_assignments").await;
    let assignment = mine["project_assignments"]
        .as_array()
        .expect("an array")
        .iter()
        .find(|a| a["project"]["id"] == project_id)
        .cloned()
        .expect("the creator is assigned");
    assert_eq!(assignment["is_project_manager"], true);
    assert_eq!(assignment["task_assignments"], json!([]), "no tasks until they are added");

    let task = call(
        &sim,
        Method::POST,
        Simulator::MANAGER_TOKEN,
        &format!("/v2/projects/{project_id}/task_assignments"),
    )
    .json(&json!({"task_id": seed::SUPPORT_TASK_ID, "is_active": true}))
    .send()
    .await
    .expect("answers");
    assert_eq!(task.status(), 201);
    let listed =
        get_json(&sim, Simulator::MANAGER_TOKEN, &format!("/v2/projects/{project_id}/task_assignments"))
            .await;
    assert_eq!(listed["task_assignments"][0]["task"]["name"], "Support");

    let duplicate = call(&sim, Method::POST, Simulator::MANAGER_TOKEN, "/v2/projects")
        .json(&json!({"client_id": seed::GLOBEX_ID, "name": "Globex VPN", "is_billable": true, "bill_by": "Project", "budget_by": "project"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(duplicate.status(), 422, "project names are unique per client");

    let filtered =
        get_json(&sim, Simulator::ADMIN_TOKEN, &format!("/v2/projects?client_id={}", seed::GLOBEX_ID)).await;
    assert_eq!(filtered["total_entries"], 2, "Globex billing and the new project");
}
