//! The demo account every simulator starts with: its people, token and
//! ticket fields always; with `Config::seed_tickets`, a few tickets with a
//! conversation, linked to the Harvest simulator's demo projects.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::world::{NewTicket, Role, World};

pub const API_TOKEN: &str = "zendesk-demo-token";
pub const OAUTH_TOKEN: &str = "zendesk-demo-oauth";

/// Ada Admin, `admin` (the Harvest simulator's administrator too).
pub const ADA_EMAIL: &str = "ada@demo.test";
/// Ana Alvarez, `agent` (Harvest's member).
pub const ANA_EMAIL: &str = "ana@demo.test";
/// Olivia Kunde of Acme, `end-user`.
pub const OLIVIA_EMAIL: &str = "olivia@acme.test";
/// Bo Brandt of Globex, `end-user`.
pub const BO_EMAIL: &str = "bo@globex.test";

pub const PROJECT_FIELD: &str = "Harvest Project ID";
pub const BUDGET_FIELD: &str = "Budget Hours";
pub const QUOTED_FIELD: &str = "Quoted Hours";

/// The Harvest simulator's "Acme onboarding" and "Globex billing" projects.
const ACME_ONBOARDING: i64 = 41_068_204;
const GLOBEX_BILLING: i64 = 41_068_202;

pub(crate) fn account(world: &mut World) {
    world.add_user("Ada Admin", ADA_EMAIL, Role::Admin);
    world.add_user("Ana Alvarez", ANA_EMAIL, Role::Agent);
    world.add_user("Olivia Kunde", OLIVIA_EMAIL, Role::EndUser);
    world.add_user("Bo Brandt", BO_EMAIL, Role::EndUser);
    world.api_tokens.push(API_TOKEN.into());
    let ada = world.user_by_email(ADA_EMAIL).map(|u| u.id).unwrap_or_default();
    world.oauth_tokens.insert(OAUTH_TOKEN.into(), ada);
    world.add_field("Product", "text");
    world.add_field(PROJECT_FIELD, "integer");
    world.add_field(BUDGET_FIELD, "decimal");
    world.add_field(QUOTED_FIELD, "decimal");
}

fn id_of(world: &World, email: &str) -> u64 {
    world.user_by_email(email).map(|u| u.id).unwrap_or_default()
}

fn field(world: &World, title: &str) -> u64 {
    world.fields.iter().find(|f| f.title == title).map(|f| f.id).unwrap_or_default()
}

/// Two tickets with a conversation, dated from `start`.
pub(crate) fn tickets(world: &mut World, start: DateTime<Utc>) {
    let (ada, ana, olivia, bo) = (
        id_of(world, ADA_EMAIL),
        id_of(world, ANA_EMAIL),
        id_of(world, OLIVIA_EMAIL),
        id_of(world, BO_EMAIL),
    );
    let (project, budget, quoted) =
        (field(world, PROJECT_FIELD), field(world, BUDGET_FIELD), field(world, QUOTED_FIELD));
    let fields = |p: i64, b: f64, q: f64| -> Vec<(u64, Value)> {
        // Zendesk answers an integer field as text and a decimal as a number.
        vec![(project, json!(p.to_string())), (budget, json!(b)), (quoted, json!(q))]
    };
    let onboarding = world.add_ticket(
        NewTicket {
            subject: "Onboarding: SSO for the new Acme office".into(),
            requester_id: olivia,
            assignee_id: Some(ana),
            status: "open".into(),
            fields: fields(ACME_ONBOARDING, 8.0, 6.0),
            description: "<p>Hello,</p><p>our new office in Leeds needs single sign-on for 14 people.<br>\
                          Can you set it up this week?</p><p>Olivia</p>"
                .into(),
        },
        start,
    );
    let t = start + Duration::hours(2);
    world.add_comment(
        onboarding,
        ana,
        "<p>Hi Olivia, on it &ndash; I will send the metadata by Friday.</p>",
        true,
        Value::Null,
        "web",
        t,
    );
    world.add_comment(
        onboarding,
        ada,
        "<p>Quoted 6 h, budget 8 h.</p>",
        false,
        Value::Null,
        "web",
        t + Duration::minutes(5),
    );
    let billing = world.add_ticket(
        NewTicket {
            subject: "Invoices show last month's VAT rate".into(),
            requester_id: bo,
            assignee_id: Some(ada),
            status: "pending".into(),
            fields: fields(GLOBEX_BILLING, 4.0, 3.0),
            description:
                "<p>Since the 1st our invoices still say 19 %. Please fix before the run on Monday.</p>"
                    .into(),
        },
        start + Duration::hours(5),
    );
    world.add_comment(
        billing,
        ada,
        "<p>Found it: the rate table was cached. Fixed on staging, please check.</p>",
        true,
        Value::Null,
        "web",
        start + Duration::hours(7),
    );
}
