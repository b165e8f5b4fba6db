//! The ticket core on a real SQLite file: budgets, locks, events,
//! attribution, the timeline and the idempotent import.

use crate::support;

use chrono::FixedOffset;
use support::{at, entry, parse_entries, referenced, TempDb};
use tickettime::domain::timeline::ItemKind;
use tickettime::domain::{Email, EventKind, Hours, Role, ThreadKind, TicketError, TicketNumber};
use tickettime::store::{ImportReport, NewTicket, Staff, TicketChanges};
use tickettime::{Error, Store};

struct Desk {
    _db: TempDb,
    store: Store,
    pm: Staff,
    agent: Staff,
}

async fn desk() -> Desk {
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("the database opens");
    let pm = store
        .add_staff(&support::owner(), &email("pia@desk.test"), "Pia PM", Role::Pm, at(1, 0))
        .await
        .expect("a pm is added");
    let agent = store
        .add_staff(&support::owner(), &email("ana@desk.test"), "Ana Agent", Role::Agent, at(1, 0))
        .await
        .expect("an agent is added");
    Desk { _db: db, store, pm, agent }
}

fn email(text: &str) -> Email {
    Email::parse(text).expect("a valid email")
}

fn hours(text: &str) -> Hours {
    Hours::parse(text).expect("valid hours")
}

/// Imports these Harvest entries (JSON as Harvest sends them) at `now`.
async fn import(
    store: &Store,
    entries: Vec<serde_json::Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> ImportReport {
    store.import_entries(&parse_entries(entries), now).await.expect("import")
}

/// The ticket's hours used, as a number.
async fn used(store: &Store, number: TicketNumber) -> f64 {
    store.ticket(number).await.expect("ticket").hours_used.as_f64()
}

async fn ticket(desk: &Desk, budget: Option<&str>, project: Option<i64>) -> TicketNumber {
    let new = NewTicket {
        subject: "Printer on fire".into(),
        client: Some("Acme".into()),
        agent: Some(email("ana@desk.test")),
        pm: Some(email("pia@desk.test")),
        budget: budget.map(hours),
        quoted: None,
        project,
    };
    let view = desk
        .store
        .create_ticket(&tickettime::Actor::assume(desk.pm.clone()), new, at(1, 1))
        .await
        .expect("the ticket is created");
    TicketNumber::new(view.number).expect("a positive number")
}

async fn kinds(store: &Store) -> Vec<(i64, EventKind)> {
    store.events().await.expect("events load").into_iter().map(|e| (e.ticket, e.kind)).collect()
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_foreign_keys() {
    let desk = desk().await;
    if desk.store.backend() == tickettime::store::Backend::Sqlite {
        let pool = desk.store.pool();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.expect("pragma");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.expect("pragma");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(pool).await.expect("pragma");
        assert_eq!(mode, "wal", "WAL lets readers and one writer share the file");
        assert_eq!(fk, 1, "foreign keys must be enforced on every connection");
        assert_eq!(sync, 2, "synchronous=FULL so a commit survives power loss");
    }
    let orphan = sqlx::query("INSERT INTO thread_entries (ticket_number, kind, author, body, created_at) VALUES (999, 'note', 'x', 'y', 'z')")
        .execute(desk.store.pool())
        .await;
    assert!(orphan.is_err(), "an entry for a ticket that does not exist is refused");
}

#[tokio::test]
async fn reopening_the_database_keeps_everything() {
    let db = TempDb::new();
    let store = Store::open(&db.url()).await.expect("opens");
    store.add_staff(&support::owner(), &email("a@b.test"), "A", Role::Admin, at(1, 0)).await.expect("added");
    store.close().await;
    let again = if db.is_postgres() { db.url() } else { db.path().display().to_string() };
    let store = Store::open(&again).await.expect("reopens (a SQLite file from a plain path)");
    assert_eq!(store.all_staff().await.expect("staff").len(), 1, "migrations run once; rows survive");
}

#[tokio::test]
async fn a_ticket_without_budget_has_no_utilization_and_never_locks() {
    let desk = desk().await;
    let number = ticket(&desk, None, Some(100)).await;
    import(&desk.store, vec![entry(1, 100, 50.0, at(2, 0))], at(2, 1)).await;
    let view = desk.store.ticket(number).await.expect("ticket");
    assert_eq!(view.hours_used.as_f64(), 50.0);
    assert_eq!(view.utilization_pct, None, "no budget, no utilization");
    assert_eq!(view.band, None, "no budget, no band");
    assert!(!view.locked, "no budget never locks");
    assert!(kinds(&desk.store).await.is_empty(), "and records no events");
}

#[tokio::test]
async fn reaching_the_budget_locks_and_refuses_replies_and_notes_but_not_client_messages() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    import(&desk.store, vec![entry(1, 100, 10.0, at(2, 0))], at(2, 1)).await;
    let view = desk.store.ticket(number).await.expect("ticket");
    assert!(view.locked, "10 of 10 hours is the lock line");
    assert_eq!(view.lock_reason.as_deref(), Some("Over budget: 10.00 of 10.00 budget hours used"));
    for kind in [ThreadKind::Response, ThreadKind::Note] {
        let refused = desk
            .store
            .add_thread_entry(&tickettime::Actor::assume(desk.agent.clone()), number, kind, "hi", at(2, 2))
            .await;
        assert!(
            matches!(refused, Err(Error::Rule(TicketError::Locked(_)))),
            "{kind:?} must be refused while locked"
        );
        let refused = desk
            .store
            .add_thread_entry(&tickettime::Actor::assume(desk.pm.clone()), number, kind, "hi", at(2, 2))
            .await;
        assert!(
            matches!(refused, Err(Error::Rule(TicketError::Locked(_)))),
            "even a PM's {kind:?} is refused"
        );
    }
    desk.store
        .add_client_message(number, "Client", "any news?", at(2, 3))
        .await
        .expect("a client can always write in");
    let timeline =
        desk.store.timeline(number, FixedOffset::east_opt(0).expect("utc")).await.expect("timeline");
    assert_eq!(timeline.len(), 2, "only the time entry and the client's message are there");
}

#[tokio::test]
async fn an_agent_cannot_unlock_a_pm_can_and_extra_hours_relock_at_budget_plus_extra() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 10.0, at(2, 0))], at(2, 1)).await;
    let refused = store
        .unlock(&tickettime::Actor::assume(desk.agent.clone()), number, "please", hours("2"), at(2, 2))
        .await;
    assert!(matches!(refused, Err(Error::Rule(TicketError::NotPermitted { .. }))), "agents cannot unlock");
    assert!(store.ticket(number).await.expect("ticket").locked, "a refused unlock changes nothing");

    let view = store
        .unlock(
            &tickettime::Actor::assume(desk.pm.clone()),
            number,
            "client approved 2 more hours",
            hours("2"),
            at(2, 3),
        )
        .await
        .expect("pm unlocks");
    assert!(!view.locked);
    assert_eq!(view.extra_hours.as_f64(), 2.0);
    store
        .add_thread_entry(
            &tickettime::Actor::assume(desk.agent.clone()),
            number,
            ThreadKind::Response,
            "on it",
            at(2, 4),
        )
        .await
        .expect("replies work again");

    import(store, vec![entry(2, 100, 1.75, at(2, 5))], at(2, 6)).await;
    assert!(!store.ticket(number).await.expect("ticket").locked, "11.75 h is under 10 + 2");
    import(store, vec![entry(3, 100, 0.25, at(2, 7))], at(2, 8)).await;
    let view = store.ticket(number).await.expect("ticket");
    assert!(view.locked, "12 h reaches budget + extra hours");
    assert_eq!(
        kinds(store).await,
        vec![
            (1, EventKind::Approaching),
            (1, EventKind::Near),
            (1, EventKind::Locked),
            (1, EventKind::Unlocked),
            (1, EventKind::Locked)
        ],
        "each crossing is recorded once, in order"
    );
}

#[tokio::test]
async fn raising_the_budget_lifts_the_lock_and_lowering_it_locks() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 10.0, at(2, 0))], at(2, 1)).await;
    let raise = TicketChanges { budget: Some(hours("20")), ..TicketChanges::default() };
    let refused = store
        .update_ticket(&tickettime::Actor::assume(desk.agent.clone()), number, raise.clone(), at(2, 2))
        .await;
    assert!(
        matches!(refused, Err(Error::Rule(TicketError::NotPermitted { .. }))),
        "agents cannot change budgets"
    );
    let view = store
        .update_ticket(&tickettime::Actor::assume(desk.pm.clone()), number, raise, at(2, 2))
        .await
        .expect("pm raises");
    assert!(!view.locked, "10 of 20 hours is under the lock line");
    assert_eq!(view.utilization_pct.map(|u| u.to_string()).as_deref(), Some("50.00"), "exact percent text");
    let lower = TicketChanges { budget: Some(hours("9.5")), ..TicketChanges::default() };
    assert!(
        store
            .update_ticket(&tickettime::Actor::assume(desk.pm.clone()), number, lower, at(2, 3))
            .await
            .expect("lowered")
            .locked
    );
}

#[tokio::test]
async fn threshold_events_fire_once_per_crossing_and_reimport_records_nothing() {
    let desk = desk().await;
    ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    let batches = [
        vec![entry(1, 100, 7.0, at(2, 0))],
        vec![entry(2, 100, 0.5, at(2, 1))],
        vec![entry(3, 100, 1.5, at(2, 2))],
        vec![entry(4, 100, 1.0, at(2, 3))],
    ];
    for batch in &batches {
        store.import_entries(&parse_entries(batch.clone()), at(2, 10)).await.expect("import");
    }
    let expected = vec![(1, EventKind::Approaching), (1, EventKind::Near), (1, EventKind::Locked)];
    assert_eq!(kinds(store).await, expected);
    for batch in &batches {
        store.import_entries(&parse_entries(batch.clone()), at(2, 11)).await.expect("re-import");
    }
    assert_eq!(kinds(store).await, expected, "importing the same entries again records nothing new");
}

#[tokio::test]
async fn importing_twice_leaves_the_same_rows_and_an_edit_updates_hours_used() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    let entries =
        vec![entry(1, 100, 1.0, at(2, 0)), entry(2, 100, 2.5, at(2, 0)), entry(3, 999, 4.0, at(2, 0))];
    let first = store.import_entries(&parse_entries(entries.clone()), at(2, 1)).await.expect("import");
    assert_eq!((first.new, first.updated, first.unattributed), (3, 0, 1));
    let second = store.import_entries(&parse_entries(entries), at(2, 2)).await.expect("import");
    assert_eq!((second.new, second.updated, second.unchanged), (0, 0, 3), "a second import changes nothing");
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries").fetch_one(store.pool()).await.expect("count");
    assert_eq!(rows, 3, "rows are keyed by Harvest id, never duplicated");
    assert_eq!(used(store, number).await, 3.5);

    let edited = import(store, vec![entry(2, 100, 4.25, at(2, 30))], at(2, 31)).await;
    assert_eq!(edited.updated, 1);
    assert_eq!(used(store, number).await, 5.25, "the edited entry's new hours count");
}

/// A Harvest export read as it streams: 2,000 entries a batch from the file,
/// stored 500 at a time, all in one transaction.
#[tokio::test]
async fn a_file_import_is_exact_at_its_batch_edges_and_a_bad_last_entry_changes_nothing() {
    let desk = desk().await;
    let number = ticket(&desk, Some("1000"), Some(100)).await;
    let store = &desk.store;
    let dir = tempfile::tempdir().expect("a directory");
    let write = |name: &str, entries: &[serde_json::Value]| {
        let path = dir.path().join(name);
        std::fs::write(&path, support::page(entries.to_vec()).to_string()).expect("written");
        path
    };
    let import_file = |path: std::path::PathBuf| async move {
        tickettime::export_file::import_file(store, &path, at(3, 0), |_, _| {}).await
    };
    // Entry 7 again just past the store's first batch (newer: it wins),
    // entry 8 again past the file's first batch (older: it does not), and
    // entry 1,500 again as the very last of the file (newer).
    let mut entries: Vec<serde_json::Value> = (1..=2_000).map(|id| entry(id, 100, 0.25, at(2, 0))).collect();
    entries.insert(500, entry(7, 100, 3.0, at(2, 30)));
    entries.push(entry(8, 100, 9.0, at(1, 0)));
    entries.push(entry(1_500, 100, 1.0, at(2, 40)));
    let mut broken = entry(9_999, 100, 1.0, at(2, 0));
    broken.as_object_mut().expect("an object").remove("hours");
    let bad = write("bad.json", &[entries.clone(), vec![broken]].concat());
    let error = import_file(bad).await.expect_err("a bad last entry fails the file").to_string();
    assert!(error.contains("time entry #2004 (9999)") && error.contains("hours"), "names the entry: {error}");
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries").fetch_one(store.pool()).await.expect("count");
    assert_eq!(rows, 0, "nothing of the bad file stays, though 2,003 good entries came before it");
    assert_eq!(used(store, number).await, 0.0);

    let good = write("good.json", &entries);
    let first = import_file(good.clone()).await.expect("imports");
    assert_eq!(
        (first.new, first.updated, first.unchanged),
        (2_000, 2, 1),
        "entries 7 and 1,500 updated by their newer copies, entry 8's older copy changes nothing"
    );
    // 1,998 × 0.25 h + entry 7's 3 h + entry 1,500's 1 h.
    assert_eq!(used(store, number).await, 503.5);
    let again = import_file(good).await.expect("imports again");
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 2_003), "a second import changes nothing");
    assert_eq!(used(store, number).await, 503.5);
}

/// A file whose reader dies (a panic: no end, no error) keeps nothing: the
/// store commits only when the reader says the whole file was read.
#[tokio::test]
async fn a_file_whose_reader_stops_without_its_end_keeps_nothing() {
    use tickettime::store::{EntryBatch, FileBatch};
    let desk = desk().await;
    let number = ticket(&desk, Some("1000"), Some(100)).await;
    let store = &desk.store;
    let (sender, mut batches) = tokio::sync::mpsc::channel(2);
    let entries = parse_entries((1..=10).map(|id| entry(id, 100, 0.25, at(2, 0))).collect());
    sender.send(FileBatch::Entries(EntryBatch::new(entries))).await.expect("sent");
    drop(sender);
    let error = store.import_entry_batches(&mut batches, at(3, 0)).await.expect_err("no end: no commit");
    assert!(error.to_string().contains("stopped before the end of the file"), "{error}");
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_entries").fetch_one(store.pool()).await.expect("count");
    assert_eq!(
        (rows, used(store, number).await),
        (0, 0.0),
        "the ten entries read before it stopped are not kept"
    );
}

#[tokio::test]
async fn an_older_version_of_an_entry_never_overwrites_a_newer_one() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 3.0, at(2, 30))], at(2, 31)).await;
    let stale = import(store, vec![entry(1, 100, 1.0, at(2, 0))], at(2, 32)).await;
    assert_eq!(stale.unchanged, 1);
    assert_eq!(used(store, number).await, 3.0, "the newer version is kept");
}

#[tokio::test]
async fn a_malformed_entry_is_quarantined_and_the_rest_of_its_batch_imports() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 1.0, at(2, 0))], at(2, 1)).await;
    let mut bad = parse_entries(vec![entry(2, 100, 1.0, at(2, 2)), entry(3, 100, 1.0, at(2, 2))]);
    bad[1].hours = f64::NAN;
    let report = store.import_entries(&bad, at(2, 3)).await.expect("one bad entry does not fail the batch");
    assert_eq!((report.new, report.quarantined), (1, 1));
    let stored: Vec<i64> = sqlx::query_scalar("SELECT harvest_id FROM time_entries ORDER BY harvest_id")
        .fetch_all(store.pool())
        .await
        .expect("ids");
    assert_eq!(stored, vec![1, 2], "the good entry is stored, the bad one is not");
    assert_eq!(used(store, number).await, 2.0);
    let held = store.quarantine().await.expect("quarantine");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].harvest_id, 3);
    assert!(held[0].reason.contains("time entry 3"), "names the entry and why: {}", held[0].reason);
}

#[tokio::test]
async fn an_external_reference_attributes_an_entry_even_on_another_project() {
    let desk = desk().await;
    let a = ticket(&desk, Some("10"), Some(100)).await;
    let b = ticket(&desk, Some("10"), Some(200)).await;
    let store = &desk.store;
    import(store, vec![referenced(entry(1, 100, 2.0, at(2, 0)), b.get())], at(2, 1)).await;
    assert_eq!(used(store, a).await, 0.0);
    assert_eq!(used(store, b).await, 2.0, "the reference names ticket b");
}

#[tokio::test]
async fn a_project_shared_by_two_tickets_attributes_its_unreferenced_entries_to_neither() {
    let desk = desk().await;
    let a = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 2.0, at(2, 0))], at(2, 1)).await;
    assert_eq!(used(store, a).await, 2.0);
    let b = ticket(&desk, Some("10"), Some(100)).await;
    assert_eq!(used(store, a).await, 0.0, "once two tickets share it, the entry is ambiguous");
    assert_eq!(used(store, b).await, 0.0);
}

#[tokio::test]
async fn relinking_a_ticket_drops_the_old_projects_entries_and_takes_the_new_ones() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    store
        .import_entries(
            &parse_entries(vec![entry(1, 100, 2.0, at(2, 0)), entry(2, 200, 3.0, at(2, 0))]),
            at(2, 1),
        )
        .await
        .expect("import");
    assert_eq!(used(store, number).await, 2.0);
    let view = store
        .link_project(&tickettime::Actor::assume(desk.pm.clone()), number, 200, at(2, 2))
        .await
        .expect("relink");
    assert_eq!(view.hours_used.as_f64(), 3.0, "the old project's entry left, the new one's arrived");
    assert_eq!(view.harvest_project_name.as_deref(), Some("Project 200"));
    let refused =
        store.link_project(&tickettime::Actor::assume(desk.agent.clone()), number, 100, at(2, 3)).await;
    assert!(matches!(refused, Err(Error::Rule(TicketError::NotPermitted { .. }))), "agents cannot relink");
}

#[tokio::test]
async fn the_timeline_interleaves_thread_and_time_entries() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    store.add_client_message(number, "Client", "It broke", at(2, 0)).await.expect("message");
    store
        .add_thread_entry(
            &tickettime::Actor::assume(desk.agent.clone()),
            number,
            ThreadKind::Response,
            "Looking",
            at(3, 0),
        )
        .await
        .expect("reply");
    import(store, vec![entry(1, 100, 1.0, at(2, 60))], at(4, 0)).await;
    store
        .add_thread_entry(
            &tickettime::Actor::assume(desk.pm.clone()),
            number,
            ThreadKind::Note,
            "fyi",
            at(4, 0),
        )
        .await
        .expect("note");
    let items = store.timeline(number, FixedOffset::east_opt(0).expect("utc")).await.expect("timeline");
    let kinds: Vec<ItemKind> = items.iter().map(|i| i.kind).collect();
    assert_eq!(kinds, vec![ItemKind::Message, ItemKind::Time, ItemKind::Response, ItemKind::Note]);
    assert_eq!(items[1].author, "Ana Agent", "time entries show who");
    assert_eq!(items[1].body.as_deref(), Some("work 1"), "and their notes");
}

#[tokio::test]
async fn a_deleted_or_moved_entry_leaves_its_ticket() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 10.0, at(2, 0))], at(2, 1)).await;
    assert!(store.ticket(number).await.expect("ticket").locked);
    store
        .import_entries(&parse_entries(vec![entry(1, 300, 10.0, at(2, 10))]), at(2, 11))
        .await
        .expect("moved");
    let view = store.ticket(number).await.expect("ticket");
    assert_eq!(view.hours_used.as_f64(), 0.0, "an entry moved to another project moves off the ticket");
    assert!(!view.locked, "and the lock lifts with it");
}

#[tokio::test]
async fn the_lock_line_is_a_setting() {
    let desk = desk().await;
    desk.store.set_threshold(&support::owner(), "lock_pct", 120).await.expect("set");
    let number = ticket(&desk, Some("10"), Some(100)).await;
    import(&desk.store, vec![entry(1, 100, 11.0, at(2, 0))], at(2, 1)).await;
    assert!(!desk.store.ticket(number).await.expect("ticket").locked, "110 % is under a 120 % lock line");
    assert!(
        desk.store.set_threshold(&support::owner(), "near_pct", 130).await.is_err(),
        "near cannot pass the lock line"
    );
}

#[tokio::test]
async fn a_ticket_needs_a_subject_and_a_real_pm() {
    let desk = desk().await;
    let empty = NewTicket { subject: "  ".into(), ..NewTicket::default() };
    assert!(desk.store.create_ticket(&support::owner(), empty, at(1, 0)).await.is_err());
    let agent_as_pm =
        NewTicket { subject: "x".into(), pm: Some(email("ana@desk.test")), ..NewTicket::default() };
    assert!(matches!(
        desk.store.create_ticket(&support::owner(), agent_as_pm, at(1, 0)).await,
        Err(Error::Invalid(_))
    ));
    let unknown =
        NewTicket { subject: "x".into(), agent: Some(email("who@desk.test")), ..NewTicket::default() };
    assert!(matches!(
        desk.store.create_ticket(&support::owner(), unknown, at(1, 0)).await,
        Err(Error::StaffNotFound(_))
    ));
    assert!(desk.store.tickets().await.expect("list").is_empty(), "refused tickets leave nothing behind");
}

#[tokio::test]
async fn an_agent_asks_to_unlock_and_a_pm_approves_with_extra_hours() {
    let desk = desk().await;
    let number = ticket(&desk, Some("10"), Some(100)).await;
    let store = &desk.store;
    let unlocked = store
        .request_unlock(
            &tickettime::Actor::assume(desk.agent.clone()),
            number,
            "client asked for one more fix",
            None,
            at(2, 0),
        )
        .await;
    assert!(
        matches!(unlocked, Err(Error::Rule(TicketError::NotLocked))),
        "only a locked ticket can be asked about"
    );
    import(store, vec![entry(1, 100, 10.0, at(2, 0))], at(2, 1)).await;
    let asked = store
        .request_unlock(
            &tickettime::Actor::assume(desk.agent.clone()),
            number,
            "client asked for one more fix",
            Some(hours("1.5")),
            at(2, 2),
        )
        .await
        .expect("an agent may ask");
    let again = store
        .request_unlock(&tickettime::Actor::assume(desk.agent.clone()), number, "please", None, at(2, 3))
        .await
        .expect("asks again");
    assert_eq!(again.id, asked.id, "a pending request is not duplicated");
    assert_eq!(asked.hours, Some(Hours::parse("1.5").expect("hours")));

    let refused = store
        .answer_unlock_request(
            &tickettime::Actor::assume(desk.agent.clone()),
            asked.id,
            true,
            hours("1.5"),
            None,
            at(2, 4),
        )
        .await;
    assert!(matches!(refused, Err(Error::Rule(TicketError::NotPermitted { .. }))), "agents cannot answer");
    let news = store.take_request_news(&desk.pm).await.expect("news");
    assert!(
        matches!(news.as_slice(), [tickettime::store::RequestNews::Asked(r)] if r.id == asked.id),
        "the PM is told"
    );
    assert!(store.take_request_news(&desk.pm).await.expect("news").is_empty(), "once");

    let approved = store
        .answer_unlock_request(
            &tickettime::Actor::assume(desk.pm.clone()),
            asked.id,
            true,
            hours("1.5"),
            Some("ok"),
            at(2, 5),
        )
        .await
        .expect("approved");
    assert_eq!(approved.state, tickettime::store::RequestState::Approved);
    assert_eq!(approved.answered_by.as_deref(), Some("Pia PM"));
    let view = store.ticket(number).await.expect("ticket");
    assert!(!view.locked, "approving unlocks");
    assert_eq!(view.extra_hours.as_f64(), 1.5, "with the extra hours granted");
    let told = store.take_request_news(&desk.agent).await.expect("news");
    assert!(
        matches!(told.as_slice(), [tickettime::store::RequestNews::Answered(r)] if r.id == asked.id),
        "the agent is told the answer"
    );
    assert!(
        store
            .answer_unlock_request(
                &tickettime::Actor::assume(desk.pm.clone()),
                asked.id,
                false,
                Hours::ZERO,
                None,
                at(2, 6)
            )
            .await
            .is_err(),
        "answered once"
    );
}

#[tokio::test]
async fn a_denied_request_leaves_the_ticket_locked() {
    let desk = desk().await;
    let number = ticket(&desk, Some("1"), Some(100)).await;
    let store = &desk.store;
    import(store, vec![entry(1, 100, 1.0, at(2, 0))], at(2, 1)).await;
    let asked = store
        .request_unlock(&tickettime::Actor::assume(desk.agent.clone()), number, "more work", None, at(2, 2))
        .await
        .expect("asked");
    let denied = store
        .answer_unlock_request(
            &tickettime::Actor::assume(desk.pm.clone()),
            asked.id,
            false,
            Hours::ZERO,
            Some("quote first"),
            at(2, 3),
        )
        .await
        .expect("denied");
    assert_eq!(denied.state, tickettime::store::RequestState::Denied);
    assert_eq!(denied.answer_note.as_deref(), Some("quote first"));
    assert!(store.ticket(number).await.expect("ticket").locked);
    assert!(store.unlock_requests(Some(number), true).await.expect("pending").is_empty());
    assert_eq!(store.unlock_requests(None, false).await.expect("all").len(), 1);
}
