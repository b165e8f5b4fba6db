//! The Harvest client against the project's Harvest simulator on loopback:
//! every call, pagination, the rate limit, retries, faults, token refresh
//! and the OAuth round trip.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use harvest::{
    Config, Credentials, HarvestClient, HarvestError, NewProject, NewTimeEntry, OAuthApp, OAuthTokens,
    RateLimit, ReferenceInput, RetryPolicy, TimeEntryQuery, TimeEntryUpdate,
};
use harvest_sim::{Fault, FaultKind, NewEntry, Simulator};
use secrecy::SecretString;

async fn sim() -> Simulator {
    sim_with(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() }).await
}

async fn sim_with(config: harvest_sim::Config) -> Simulator {
    Simulator::start(config).await.expect("the simulator starts")
}

fn config(sim: &Simulator) -> Config {
    Config {
        api_url: sim.url(),
        id_url: sim.url(),
        retry: RetryPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
            fallback_retry_after: Duration::from_millis(300),
            ..RetryPolicy::default()
        },
        timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

fn client(sim: &Simulator, token: &str) -> HarvestClient {
    HarvestClient::new(
        config(sim),
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(token.to_owned())),
        None,
    )
    .expect("a client")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn first_project(client: &HarvestClient) -> (i64, i64) {
    let assignments = client.my_project_assignments().await.expect("assignments");
    let first = assignments.first().expect("the seed assigns projects");
    let task = first.active_tasks().next().expect("with active tasks");
    (first.project.id, task.id)
}

#[tokio::test]
async fn every_request_names_the_app_the_account_and_the_token() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    client.me().await.expect("me");
    let request = sim.requests().into_iter().last().expect("one request");
    assert!(request.user_agent.as_deref().is_some_and(|ua| ua.contains("Tickettime") && ua.contains('@')));
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {}", Simulator::MEMBER_TOKEN).as_str())
    );
    assert_eq!(request.account_id.as_deref(), Some(Simulator::ACCOUNT_ID.to_string().as_str()));
}

#[tokio::test]
async fn me_company_assignments_and_clients_read_back() {
    let sim = sim().await;
    let member = client(&sim, Simulator::MEMBER_TOKEN);
    let me = member.me().await.expect("me");
    assert_eq!(me.id, Simulator::MEMBER_ID);
    assert_eq!(me.base_role(), "member");
    assert_eq!(client(&sim, Simulator::ADMIN_TOKEN).me().await.expect("me").base_role(), "administrator");
    assert_eq!(client(&sim, Simulator::MANAGER_TOKEN).me().await.expect("me").base_role(), "manager");
    assert!(!member.company().await.expect("company").wants_timestamp_timers);
    let assignments = member.my_project_assignments().await.expect("assignments");
    assert!(!assignments.is_empty(), "members may list their own assignments");
    assert!(assignments.iter().all(|a| a.active_tasks().count() > 0));
    let admin = client(&sim, Simulator::ADMIN_TOKEN);
    assert!(!admin.clients().await.expect("clients").is_empty());
}

#[tokio::test]
async fn members_cannot_list_projects_but_managers_can_create_them() {
    let sim = sim().await;
    let member = client(&sim, Simulator::MEMBER_TOKEN);
    let refused = member.projects(true).expect("pager").next_page().await;
    assert!(
        matches!(refused, Err(HarvestError::Forbidden(_))),
        "members get 403 on /v2/projects: {refused:?}"
    );
    let manager = client(&sim, Simulator::MANAGER_TOKEN);
    let mut pager = manager.projects(true).expect("pager");
    let page = pager.next_page().await.expect("a page").expect("some projects");
    let project = &page.items[0];
    assert_eq!(manager.project(project.id).await.expect("get").name, project.name);
    let tasks = manager.project_task_assignments(project.id).await.expect("tasks");
    assert!(!tasks.is_empty());
    let client_id = project.client.as_ref().expect("a client").id;
    let bad = NewProject {
        client_id,
        name: String::new(),
        is_billable: true,
        bill_by: "Project".into(),
        budget_by: "project".into(),
        budget: Some(12.0),
        notes: None,
    };
    let refused = manager.create_project(&bad).await;
    assert!(
        matches!(&refused, Err(HarvestError::Validation(m)) if m.contains("Name")),
        "the 422 message comes through: {refused:?}"
    );
    let created = manager
        .create_project(&NewProject { name: "Ticket #9: Printer".into(), ..bad })
        .await
        .expect("created");
    assert_eq!(created.hour_budget(), Some(12.0));
}

#[tokio::test]
async fn time_entries_are_created_read_updated_found_by_reference_and_deleted() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    let (project, task) = first_project(&client).await;
    let reference = ReferenceInput {
        id: "42".into(),
        group_id: "tickettime".into(),
        permalink: "tickettime://ticket/42?entry=x".into(),
    };
    let new = NewTimeEntry {
        project_id: project,
        task_id: task,
        spent_date: today(),
        hours: Some(1.5),
        notes: Some("Fix VPN".into()),
        external_reference: Some(reference),
    };
    let created = client.create_time_entry(&new).await.expect("created");
    assert!(created.id > i64::from(i32::MAX), "ids are 64-bit");
    assert_eq!(created.hours, 1.5);
    assert!(!created.is_running, "an entry with hours is not a timer");
    assert_eq!(client.time_entry(created.id).await.expect("get").notes.as_deref(), Some("Fix VPN"));
    let updated = client
        .update_time_entry(created.id, &TimeEntryUpdate { hours: Some(2.0), ..TimeEntryUpdate::default() })
        .await
        .expect("updated");
    assert_eq!(updated.hours, 2.0);
    assert_eq!(updated.notes.as_deref(), Some("Fix VPN"), "omitted fields are left as they are");
    let found = client.entries_by_reference("42", Some(Simulator::MEMBER_ID)).await.expect("found");
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), vec![created.id]);
    client.delete_time_entry(created.id).await.expect("deleted");
    assert!(matches!(client.time_entry(created.id).await, Err(HarvestError::NotFound(_))));
}

#[tokio::test]
async fn a_timer_starts_without_hours_stops_restarts_and_one_runs_per_user() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    let (project, task) = first_project(&client).await;
    let timer = |notes: &str| NewTimeEntry {
        project_id: project,
        task_id: task,
        spent_date: today(),
        hours: None,
        notes: Some(notes.into()),
        external_reference: None,
    };
    let a = client.create_time_entry(&timer("a")).await.expect("timer a");
    assert!(a.is_running && a.timer_started_at.is_some());
    assert_eq!(client.running_entry(Simulator::MEMBER_ID).await.expect("running").map(|e| e.id), Some(a.id));
    let b = client.create_time_entry(&timer("b")).await.expect("timer b");
    let running = client.running_entry(Simulator::MEMBER_ID).await.expect("running");
    assert_eq!(running.map(|e| e.id), Some(b.id), "starting b stopped a");
    assert!(!client.time_entry(a.id).await.expect("a").is_running);
    let stopped = client.stop_timer(b.id).await.expect("stopped");
    assert!(!stopped.is_running);
    assert!(
        matches!(client.stop_timer(b.id).await, Err(HarvestError::Validation(_))),
        "stopping a stopped timer is a 422"
    );
    let restarted = client.restart_timer(b.id).await.expect("restarted");
    assert!(restarted.is_running);
    assert!(matches!(client.restart_timer(restarted.id).await, Err(HarvestError::Validation(_))));
    assert_eq!(
        client.running_entry(Simulator::MEMBER_ID).await.expect("running").map(|e| e.id),
        Some(restarted.id)
    );
}

#[tokio::test]
async fn pages_are_followed_by_links_next_until_the_end() {
    let sim = sim().await;
    let admin = client(&sim, Simulator::ADMIN_TOKEN);
    let (project, task) = first_project(&admin).await;
    for i in 0..4_100 {
        sim.add_entry(NewEntry {
            user_id: Simulator::ADMIN_ID,
            project_id: project,
            task_id: task,
            spent_date: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + chrono::Days::new(i % 300),
            hours: Some(0.25),
            notes: None,
            external_reference: None,
        });
    }
    let total = sim.entries().len();
    let mut pager = admin.time_entries(&TimeEntryQuery::default()).expect("pager");
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    while let Some(page) = pager.next_page().await.expect("a page") {
        pages += 1;
        assert_eq!(page.total_entries, Some(total as u64));
        ids.extend(page.items.iter().map(|e| e.id));
    }
    assert_eq!(pages, total.div_ceil(2000), "2000 per page");
    assert_eq!(ids.len(), total, "every entry once");
    let requests = sim.requests();
    let lists: Vec<_> =
        requests.iter().filter(|r| r.path_and_query.starts_with("/v2/time_entries")).collect();
    assert!(
        lists[1..].iter().all(|r| r.path_and_query.contains("page=")),
        "later pages come from links.next"
    );
}

#[tokio::test]
async fn a_429_is_waited_out_with_or_without_retry_after() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    sim.inject(Fault::once(
        None,
        "/v2/users/me",
        FaultKind::TooManyRequests { retry_after: Some("1".into()) },
    ));
    let started = Instant::now();
    client.me().await.expect("succeeds after the wait");
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 is honoured");
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::TooManyRequests { retry_after: None }));
    let started = Instant::now();
    client.me().await.expect("succeeds after the fallback wait");
    assert!(started.elapsed() >= Duration::from_millis(300), "no Retry-After: the client's own wait");
    let date = (Utc::now() + chrono::Duration::seconds(2)).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::TooManyRequests { retry_after: Some(date) }));
    let started = Instant::now();
    client.me().await.expect("succeeds after the HTTP-date");
    assert!(started.elapsed() >= Duration::from_millis(900), "an HTTP-date Retry-After is honoured");
}

#[tokio::test]
async fn server_errors_drops_and_garbage_are_retried_then_succeed() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    for kind in [FaultKind::Status(503), FaultKind::Status(500), FaultKind::Drop, FaultKind::Garbage] {
        sim.clear_requests();
        sim.inject(Fault::once(None, "/v2/users/me", kind).times(2));
        client.me().await.expect("the third try succeeds");
        assert_eq!(sim.requests().len(), 3, "two failures, then success");
    }
}

#[tokio::test]
async fn persistent_failures_give_up_with_a_clear_error() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::Status(503)).times(100));
    let error = client.me().await.expect_err("Harvest stays down");
    assert!(matches!(error, HarvestError::Unavailable(_)));
    assert!(error.to_string().contains("Harvest is down"), "{error}");
    assert_eq!(sim.requests().len(), 5, "five tries, then stop");
    sim.clear_faults();
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::Garbage).times(100));
    assert!(matches!(client.me().await, Err(HarvestError::InvalidResponse(_))));
}

#[tokio::test]
async fn other_4xx_are_never_retried() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    sim.inject(Fault::once(None, "/v2/users/me", FaultKind::Status(400)));
    assert!(matches!(client.me().await, Err(HarvestError::Rejected { status: 400, .. })));
    assert_eq!(sim.requests().len(), 1);
    let bad = harvest::HarvestClient::new(
        config(&sim),
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from("nope".to_owned())),
        None,
    )
    .expect("client");
    let error = bad.me().await.expect_err("a bad token");
    assert!(matches!(error, HarvestError::Unauthorized), "{error:?}");
    assert!(error.to_string().contains("reconnect"), "the message says what to do: {error}");
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_not_sent_twice() {
    let sim = sim().await;
    let client = client(&sim, Simulator::MEMBER_TOKEN);
    let (project, task) = first_project(&client).await;
    let before = sim.entries().len();
    sim.inject(Fault::once(Some("POST"), "/v2/time_entries", FaultKind::DropAfterHandling));
    let new = NewTimeEntry {
        project_id: project,
        task_id: task,
        spent_date: today(),
        hours: Some(1.0),
        notes: None,
        external_reference: None,
    };
    let error = client.create_time_entry(&new).await.expect_err("the answer was lost");
    assert!(matches!(error, HarvestError::Ambiguous(_)), "{error:?}");
    assert_eq!(sim.entries().len(), before + 1, "Harvest created it once and the client did not re-send");
}

#[tokio::test]
async fn an_expired_oauth_token_is_refreshed_once_for_many_callers() {
    let sim = sim().await;
    let app = OAuthApp {
        client_id: Simulator::CLIENT_ID.into(),
        client_secret: SecretString::from(Simulator::CLIENT_SECRET.to_owned()),
    };
    let tokens = oauth_tokens(&sim, &app).await;
    let old_access = secrecy::ExposeSecret::expose_secret(&tokens.access_token).to_owned();
    let refreshed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = refreshed.clone();
    let client = HarvestClient::new(
        config(&sim),
        Simulator::ACCOUNT_ID,
        Credentials::OAuth { tokens, app },
        Some(Box::new(move |_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })),
    )
    .expect("client");
    sim.expire_access_token(&old_access);
    let calls = (0..10).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.me().await })
    });
    for call in calls {
        call.await.expect("joined").expect("every caller succeeds after the refresh");
    }
    assert_eq!(refreshed.load(std::sync::atomic::Ordering::SeqCst), 1, "exactly one refresh");
    let token_calls =
        sim.requests().iter().filter(|r| r.path_and_query.starts_with("/api/v2/oauth2/token")).count();
    assert_eq!(token_calls, 2, "one code exchange and one refresh");
}

#[tokio::test]
async fn a_refused_refresh_asks_the_user_to_reconnect() {
    let sim = sim().await;
    let app = OAuthApp {
        client_id: Simulator::CLIENT_ID.into(),
        client_secret: SecretString::from(Simulator::CLIENT_SECRET.to_owned()),
    };
    let mut tokens = oauth_tokens(&sim, &app).await;
    sim.expire_access_token(secrecy::ExposeSecret::expose_secret(&tokens.access_token));
    tokens.refresh_token = SecretString::from("revoked".to_owned());
    let client =
        HarvestClient::new(config(&sim), Simulator::ACCOUNT_ID, Credentials::OAuth { tokens, app }, None)
            .expect("client");
    let error = client.me().await.expect_err("cannot refresh");
    assert!(matches!(error, HarvestError::ReconnectNeeded(_)), "{error:?}");
    assert!(error.to_string().contains("reconnect"));
}

/// The whole authorization-code flow: authorize URL → (the simulator's
/// auto-approval stands in for the browser) → loopback redirect → token.
async fn oauth_tokens(sim: &Simulator, app: &OAuthApp) -> OAuthTokens {
    let config = config(sim);
    let loopback = harvest::oauth::Loopback::bind(0).await.expect("loopback");
    let redirect = loopback.redirect_uri();
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"));
    let auth = harvest::oauth::authorize(&config.id_url, app, &redirect).expect("authorize url");
    let state = auth.state.clone();
    let browser = tokio::spawn(browse(auth.url.to_string()));
    let callback = loopback.wait(&state, Duration::from_secs(10)).await.expect("the redirect arrives");
    assert!(browser.await.expect("browser").contains("connected"), "the browser is told it worked");
    assert_eq!(
        callback.scope.as_deref().and_then(harvest::oauth::account_from_scope),
        Some(Simulator::ACCOUNT_ID)
    );
    harvest::oauth::exchange(&config, app, auth, &callback).await.expect("tokens")
}

/// A stand-in browser: follows the authorize redirect to the loopback.
async fn browse(url: String) -> String {
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(3)).build().expect("http");
    http.get(url).send().await.expect("browsed").text().await.expect("page")
}

#[tokio::test]
async fn the_oauth_round_trip_gives_working_tokens() {
    let sim = sim().await;
    let app = OAuthApp {
        client_id: Simulator::CLIENT_ID.into(),
        client_secret: SecretString::from(Simulator::CLIENT_SECRET.to_owned()),
    };
    let tokens = oauth_tokens(&sim, &app).await;
    let client =
        HarvestClient::new(config(&sim), Simulator::ACCOUNT_ID, Credentials::OAuth { tokens, app }, None)
            .expect("client");
    assert_eq!(client.me().await.expect("me").id, Simulator::MANAGER_ID, "the approving user");
    let token_request =
        sim.requests().into_iter().find(|r| r.path_and_query.starts_with("/api/v2/oauth2/token"));
    assert!(token_request.is_some());
}

#[tokio::test]
async fn a_redirect_with_the_wrong_state_is_rejected() {
    let loopback = harvest::oauth::Loopback::bind(0).await.expect("loopback");
    let redirect = loopback.redirect_uri();
    let state = oauth2::CsrfToken::new("expected".into());
    let forged = tokio::spawn(async move {
        reqwest::get(format!("{redirect}?code=abc&state=forged&scope=harvest%3A1"))
            .await
            .map(|r| r.status().as_u16())
    });
    let outcome = loopback.wait(&state, Duration::from_secs(5)).await;
    assert!(matches!(&outcome, Err(HarvestError::OAuth(m)) if m.contains("state")), "{outcome:?}");
    assert_eq!(forged.await.expect("joined").expect("answered"), 400);
}

#[tokio::test]
async fn a_busy_oauth_port_gives_a_clear_error() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let error = harvest::oauth::Loopback::bind(port).await.err().expect("the port is busy");
    assert!(error.to_string().contains("TICKETTIME_OAUTH_PORT"), "{error}");
}

#[tokio::test]
async fn two_hundred_fifty_calls_never_put_more_than_100_in_a_15_second_window() {
    let sim = sim().await;
    let client = HarvestClient::new(
        Config { rate_limit: RateLimit::HARVEST, ..config(&sim) },
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(Simulator::MEMBER_TOKEN.to_owned())),
        None,
    )
    .expect("client");
    for _ in 0..250 {
        client.me().await.expect("me");
    }
    // The simulator's arrival times: a request held up on its way (a loaded
    // machine) narrows its gap to a later one, so a second of that is allowed.
    let times: Vec<Instant> = sim.requests().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 250);
    for (i, start) in times.iter().enumerate() {
        let in_window =
            times[i..].iter().take_while(|t| t.duration_since(*start) < Duration::from_secs(14)).count();
        assert!(in_window <= 100, "{in_window} requests within 14 s of request {i}");
    }
}

#[tokio::test]
async fn an_answer_past_the_size_cap_is_refused_and_an_unreadable_item_spares_its_page() {
    let sim = sim().await;
    let small = Config { max_body_bytes: 512, ..config(&sim) };
    let capped = HarvestClient::new(
        small,
        Simulator::ACCOUNT_ID,
        Credentials::Personal(SecretString::from(Simulator::ADMIN_TOKEN.to_owned())),
        None,
    )
    .expect("a client");
    let mut pager = capped.time_entries(&TimeEntryQuery::default()).expect("a pager");
    let error = pager.next_page().await.expect_err("the seeded page is larger than 512 bytes");
    assert!(matches!(error, HarvestError::TooLarge { limit: 512 }), "{error:?}");
    assert!(error.to_string().contains("larger than"), "{error}");

    // An item whose hours are text: the other entries of the page still come.
    let odd = sim.add_entry(NewEntry {
        user_id: Simulator::ADMIN_ID,
        project_id: harvest_sim::seed::ACME_VPN_PROJECT_ID,
        task_id: harvest_sim::seed::SUPPORT_TASK_ID,
        spent_date: today(),
        hours: Some(1.0),
        notes: None,
        external_reference: None,
    })["id"]
        .as_i64()
        .expect("an id");
    sim.corrupt_entry_field(odd, "hours", serde_json::json!("one"));
    let client = client(&sim, Simulator::ADMIN_TOKEN);
    let page =
        client.time_entries(&TimeEntryQuery::default()).expect("pager").next_page().await.expect("a page");
    let page = page.expect("one page");
    assert_eq!(page.rejected.len(), 1, "{:?}", page.rejected);
    assert_eq!(page.rejected[0].id, Some(odd));
    assert!(page.rejected[0].reason.contains("time_entries"), "{:?}", page.rejected);
    assert!(!page.items.is_empty(), "the rest of the page is read");
}
