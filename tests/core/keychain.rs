//! Tokens live in the OS keychain and nowhere else. `scripts/test` runs
//! these against a real Secret Service (gnome-keyring unlocked on the
//! private D-Bus session) and sets TICKETTIME_TEST_KEYRING=1; without it the
//! round trip is reported as not run.

use crate::support;

use harvest_sim::Simulator;
use secrecy::SecretString;
use support::TempDb;
use tickettime::keychain::{Keychain, StoredCredentials};

fn real_keyring() -> bool {
    let wanted = std::env::var("TICKETTIME_TEST_KEYRING").is_ok_and(|v| v == "1");
    if !wanted {
        support::skipped(
            "the Secret Service round trip (tests/core/keychain.rs)",
            "TICKETTIME_TEST_KEYRING is not 1 (scripts/test starts a keyring and sets it)",
        );
    }
    wanted
}

#[test]
fn credentials_round_trip_through_the_secret_service_and_a_rotation_replaces_them() {
    if !real_keyring() {
        return;
    }
    let keychain = Keychain::with_service(&format!("tickettime-test-roundtrip-{}", std::process::id()));
    keychain.delete().expect("a clean slot");
    assert!(keychain.load().expect("readable").is_none(), "nothing stored yet");
    let first = harvest::OAuthTokens {
        access_token: SecretString::from("access-1".to_owned()),
        refresh_token: SecretString::from("refresh-1".to_owned()),
        expires_at: None,
    };
    keychain.save(&StoredCredentials::oauth(42, &first, "client")).expect("saved");
    let rotated = harvest::OAuthTokens {
        access_token: SecretString::from("access-2".to_owned()),
        refresh_token: SecretString::from("refresh-2".to_owned()),
        expires_at: None,
    };
    keychain.save(&StoredCredentials::oauth(42, &rotated, "client")).expect("rotated");
    let loaded = keychain.load().expect("readable").expect("stored");
    let tokens = loaded.oauth_tokens().expect("oauth tokens");
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&tokens.refresh_token),
        "refresh-2",
        "the rotated token replaced the old one"
    );
    assert_eq!(loaded.account_id, 42);
    assert!(!format!("{loaded:?}").contains("access-2"), "Debug never shows a token");
    keychain.delete().expect("deleted");
    assert!(keychain.load().expect("readable").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connected_token_appears_in_no_file_the_app_writes() {
    let sim = Simulator::start(harvest_sim::Config { rate_limit: None, ..harvest_sim::Config::default() })
        .await
        .expect("simulator");
    let db = TempDb::sqlite();
    let home = tempfile::tempdir().expect("home");
    let service = format!("tickettime-test-leak-{}", std::process::id());
    let run = |args: Vec<String>| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
            .args(args)
            .env("TICKETTIME_DB", db.url())
            .env("HARVEST_API_URL", sim.url())
            .env("HARVEST_ID_URL", sim.url())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("TICKETTIME_KEYCHAIN_SERVICE", &service)
            .env_remove("HARVEST_ACCESS_TOKEN")
            .env_remove("HARVEST_ACCOUNT_ID")
            .output()
    };
    let account = Simulator::ACCOUNT_ID.to_string();
    let connect = run(vec![
        "connect".into(),
        "--token".into(),
        Simulator::MEMBER_TOKEN.into(),
        "--account-id".into(),
        account,
    ])
    .await
    .expect("runs");
    assert!(connect.status.success(), "{}", String::from_utf8_lossy(&connect.stderr));
    let keyring = real_keyring();
    if keyring {
        let whoami = run(vec!["whoami".into()]).await.expect("runs");
        assert!(
            whoami.status.success(),
            "the keychain token is used: {}",
            String::from_utf8_lossy(&whoami.stderr)
        );
    } else {
        assert!(
            String::from_utf8_lossy(&connect.stderr).contains("no keychain"),
            "the user is told there is no keychain"
        );
    }
    let mut scanned = 0;
    for root in [db.dir.path(), home.path()] {
        for file in walk(root) {
            let bytes = std::fs::read(&file).expect("readable");
            scanned += 1;
            assert!(
                !bytes
                    .windows(Simulator::MEMBER_TOKEN.len())
                    .any(|w| w == Simulator::MEMBER_TOKEN.as_bytes()),
                "the token is in {}",
                file.display()
            );
        }
    }
    if db.is_postgres() {
        let dump = std::process::Command::new("pg_dump").arg(db.url()).output().expect("pg_dump runs");
        assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
        assert!(
            !String::from_utf8_lossy(&dump.stdout).contains(Simulator::MEMBER_TOKEN),
            "the token is in the database"
        );
        assert!(!dump.stdout.is_empty(), "the database was dumped");
    } else {
        assert!(scanned >= 1, "the database was scanned");
    }
    if keyring {
        let disconnect = run(vec!["disconnect".into()]).await.expect("runs");
        assert!(disconnect.status.success());
        assert!(
            Keychain::with_service(&service).load().expect("readable").is_none(),
            "disconnect removes the token"
        );
    }
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn a_team_databases_password_comes_from_the_keychain() {
    let Ok(admin) = std::env::var("TICKETTIME_TEST_PG") else { return };
    if admin.trim().is_empty() || !real_keyring() {
        return;
    }
    let db = TempDb::new();
    let mut url = url::Url::parse(&db.url()).expect("url");
    let password = url.password().expect("the test URL carries a password").to_owned();
    url.set_password(None).expect("no password");
    let without = url.to_string();
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tickettime"))
            .args(args)
            .env("TICKETTIME_DB", &without)
            .env_remove("PGPASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("runs");
        if let Some(text) = stdin {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("written");
        }
        child.wait_with_output().expect("finished")
    };
    let refused = run(&["ticket", "list"], None);
    assert!(!refused.status.success(), "without the password the server refuses");
    let saved = run(&["db-password"], Some(&format!("{password}\n")));
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let listed = run(&["ticket", "list", "--json"], None);
    assert!(
        listed.status.success(),
        "the keychain's password opens it: {}",
        String::from_utf8_lossy(&listed.stderr)
    );
}

#[test]
fn the_desktops_team_database_is_saved_without_its_password() {
    if !real_keyring() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("desktop.json");
    let keychain = Keychain::default();
    let url = format!("postgres://pia:s3cret@db.example:5433/team_{}", std::process::id());
    let saved = tickettime::connection::set_desktop_database_at(&file, &url, None, &keychain).expect("saved");
    assert!(!saved.contains("s3cret"), "the saved URL has no password: {saved}");
    let on_disk = std::fs::read_to_string(&file).expect("file");
    assert!(!on_disk.contains("s3cret"), "the settings file holds no password");
    assert_eq!(tickettime::connection::desktop_database_at(&file).as_deref(), Some(saved.as_str()));
    let filled = tickettime::connection::database_url(&saved, &keychain).expect("url");
    assert!(filled.contains(":s3cret@"), "the keychain fills the password in when connecting");
    let err = tickettime::connection::set_desktop_database_at(&file, "mysql://x@y/z", None, &keychain);
    assert!(err.is_err(), "only PostgreSQL URLs");
    assert_eq!(
        tickettime::connection::set_desktop_database_at(&file, "", None, &keychain).expect("cleared"),
        ""
    );
    assert_eq!(tickettime::connection::desktop_database_at(&file), None, "empty: this computer's own file");
}

#[test]
fn the_agencys_oauth_app_is_entered_once_and_found_after_a_restart_with_no_environment() {
    if !real_keyring() {
        return;
    }
    let keychain = Keychain::with_service(&format!("tickettime-test-app-{}", std::process::id()));
    let env = tickettime::connection::HarvestEnv::default();
    assert!(env.oauth_app(&keychain).is_err(), "no app known yet: the error says how to enter one");
    tickettime::connection::save_oauth_app(&keychain, "agency-app", &SecretString::from("s3cret".to_owned()))
        .expect("kept");
    let app = env.oauth_app(&keychain).expect("found again with no environment");
    assert_eq!(app.client_id, "agency-app");
    assert_eq!(secrecy::ExposeSecret::expose_secret(&app.client_secret), "s3cret");
    assert!(
        tickettime::connection::save_oauth_app(&keychain, " ", &SecretString::from("x".to_owned())).is_err(),
        "an empty id is refused"
    );
}
