//! The demo account every simulator starts with: fixed ids so tests and the demo can name them.
//!
//! The account, people, tokens and catalogue (clients, tasks, projects, assignments) always exist:
//! without them nothing can call the API or log time. `Config::seed` adds a handful of past
//! entries; with `seed: false` the account starts with no time entries at all (a clean slate for
//! tests that count entries).

use chrono::{Days, NaiveDate};

use crate::world::{NewEntry, NewProject, World};

pub const ACCOUNT_ID: i64 = 1_234_567;
pub const ACCOUNT_NAME: &str = "Demo Agency";

/// Ada Admin, `administrator`.
pub const ADMIN_ID: i64 = 4_955_601;
/// Pia Park, `manager` + `project_creator`; manages every seeded project.
pub const MANAGER_ID: i64 = 4_955_602;
/// Ana Alvarez, `member`.
pub const MEMBER_ID: i64 = 4_955_603;

pub const ADMIN_TOKEN: &str = "demo-admin-token";
pub const MANAGER_TOKEN: &str = "demo-manager-token";
pub const MEMBER_TOKEN: &str = "demo-member-token";

pub const CLIENT_ID: &str = "demo-client";
pub const CLIENT_SECRET: &str = "demo-secret";

pub const ACME_ID: i64 = 15_058_201;
pub const GLOBEX_ID: i64 = 15_058_202;
pub const INITECH_ID: i64 = 15_058_203;

pub const SUPPORT_TASK_ID: i64 = 22_630_201;
pub const DEVELOPMENT_TASK_ID: i64 = 22_630_202;
pub const MEETINGS_TASK_ID: i64 = 22_630_203;

/// "Acme VPN support" (Acme Corp), 10 h budget.
pub const ACME_VPN_PROJECT_ID: i64 = 41_068_201;
/// "Globex billing" (Globex), 4 h budget.
pub const GLOBEX_BILLING_PROJECT_ID: i64 = 41_068_202;
/// "Initech SSO" (Initech), 6 h budget.
pub const INITECH_SSO_PROJECT_ID: i64 = 41_068_203;
/// "Acme onboarding" (Acme Corp, code "ACME-ON"), 8 h budget.
pub const ACME_ONBOARDING_PROJECT_ID: i64 = 41_068_204;

pub const PROJECT_IDS: [i64; 4] =
    [ACME_VPN_PROJECT_ID, GLOBEX_BILLING_PROJECT_ID, INITECH_SSO_PROJECT_ID, ACME_ONBOARDING_PROJECT_ID];
pub const TASK_IDS: [i64; 3] = [SUPPORT_TASK_ID, DEVELOPMENT_TASK_ID, MEETINGS_TASK_ID];

/// Ids of the seeded past entries (all stopped, spread over the last five days, by all three people).
pub const ENTRY_IDS: [i64; 6] =
    [2_380_000_001, 2_380_000_002, 2_380_000_003, 2_380_000_004, 2_380_000_005, 2_380_000_006];

pub(crate) fn people(world: &mut World) {
    world.add_user(ADMIN_ID, "Ada", "Admin", "ada@demo.test", &["administrator"]);
    world.add_user(MANAGER_ID, "Pia", "Park", "pia@demo.test", &["manager", "project_creator"]);
    world.add_user(MEMBER_ID, "Ana", "Alvarez", "ana@demo.test", &["member"]);
    for (token, user_id) in [(ADMIN_TOKEN, ADMIN_ID), (MANAGER_TOKEN, MANAGER_ID), (MEMBER_TOKEN, MEMBER_ID)]
    {
        world.tokens.insert(
            token.to_owned(),
            crate::world::AccessToken { user_id, expires_at: None, revoked: false },
        );
    }
}

pub(crate) fn catalogue(world: &mut World) {
    world.add_client(Some(ACME_ID), "Acme Corp");
    world.add_client(Some(GLOBEX_ID), "Globex");
    world.add_client(Some(INITECH_ID), "Initech");
    world.add_task(Some(SUPPORT_TASK_ID), "Support");
    world.add_task(Some(DEVELOPMENT_TASK_ID), "Development");
    world.add_task(Some(MEETINGS_TASK_ID), "Meetings");
    let projects = [
        (ACME_VPN_PROJECT_ID, ACME_ID, "Acme VPN support", None, 10.0),
        (GLOBEX_BILLING_PROJECT_ID, GLOBEX_ID, "Globex billing", None, 4.0),
        (INITECH_SSO_PROJECT_ID, INITECH_ID, "Initech SSO", None, 6.0),
        (ACME_ONBOARDING_PROJECT_ID, ACME_ID, "Acme onboarding", Some("ACME-ON"), 8.0),
    ];
    for (id, client_id, name, code, budget) in projects {
        let mut project = NewProject::new(client_id, name);
        project.code = code.map(str::to_owned);
        project.budget = Some(budget);
        project.task_ids = TASK_IDS.to_vec();
        project.user_ids = vec![ADMIN_ID, MEMBER_ID];
        project.manager_ids = vec![MANAGER_ID];
        world.add_project(Some(id), project);
    }
}

pub(crate) fn past_entries(world: &mut World) {
    let today = world.now().date_naive();
    let day = |back: u64| -> NaiveDate { today.checked_sub_days(Days::new(back)).unwrap_or(today) };
    let entries = [
        (MEMBER_ID, ACME_VPN_PROJECT_ID, SUPPORT_TASK_ID, day(5), 1.5, "VPN client reinstall"),
        (MANAGER_ID, GLOBEX_BILLING_PROJECT_ID, MEETINGS_TASK_ID, day(4), 0.5, "Billing kickoff call"),
        (ADMIN_ID, INITECH_SSO_PROJECT_ID, DEVELOPMENT_TASK_ID, day(3), 2.0, "SAML metadata exchange"),
        (MEMBER_ID, GLOBEX_BILLING_PROJECT_ID, SUPPORT_TASK_ID, day(2), 0.75, "Invoice export bug"),
        (MANAGER_ID, ACME_VPN_PROJECT_ID, SUPPORT_TASK_ID, day(1), 1.25, "Firewall rule review"),
        (MEMBER_ID, INITECH_SSO_PROJECT_ID, SUPPORT_TASK_ID, day(1), 0.25, "Password reset"),
    ];
    for (user_id, project_id, task_id, spent_date, hours, notes) in entries {
        world.insert_entry(NewEntry {
            user_id,
            project_id,
            task_id,
            spent_date,
            hours: Some(hours),
            notes: Some(notes.into()),
            external_reference: None,
        });
    }
}
