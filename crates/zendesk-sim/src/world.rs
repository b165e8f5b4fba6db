//! What the simulated Zendesk account holds: people, ticket fields, tickets
//! and their comments, with the JSON shapes the Support API answers.
//!
//! Ids are large and unordered (random in 10¹⁰‥2⁵³), as a client must
//! expect; timestamps are whole seconds in the API, kept to the microsecond
//! inside so the export's order is exact.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    EndUser,
    Agent,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::EndUser => "end-user",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub role: Role,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub id: u64,
    pub title: String,
    /// `text`, `integer`, `decimal`, …
    pub kind: String,
}

#[derive(Clone, Debug)]
pub struct Ticket {
    pub id: u64,
    pub subject: String,
    /// `new`, `open`, `pending`, `hold`, `solved`, `closed`.
    pub status: String,
    pub requester_id: u64,
    pub assignee_id: Option<u64>,
    pub custom: BTreeMap<u64, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Keys this ticket's JSON carries as given instead (another server's
    /// oddities: a time in another format, a missing value).
    pub raw: BTreeMap<String, Value>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub ticket_id: u64,
    pub author_id: u64,
    pub html_body: String,
    pub public: bool,
    pub created_at: DateTime<Utc>,
    /// What the writer put in the update's `metadata` (Zendesk keeps it
    /// as the audit's and the comment's `metadata.custom`).
    pub custom: Value,
    pub via: &'static str,
}

/// A ticket as a test or the demo makes it "in Zendesk".
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub subject: String,
    pub requester_id: u64,
    pub assignee_id: Option<u64>,
    pub status: String,
    /// Field id → value (a string or a number, as Zendesk gives either).
    pub fields: Vec<(u64, Value)>,
    /// The description: the first comment, public, by the requester (HTML).
    pub description: String,
}

#[derive(Debug)]
pub struct World {
    pub users: Vec<User>,
    pub fields: Vec<Field>,
    pub tickets: BTreeMap<u64, Ticket>,
    pub comments: Vec<Comment>,
    /// API tokens of the account (any agent's email with one of them).
    pub api_tokens: Vec<String>,
    /// OAuth access token → user id.
    pub oauth_tokens: BTreeMap<String, u64>,
    ids: StdRng,
}

impl World {
    /// An empty account; with `seed`, the same ids every time (the demo's
    /// tickets keep theirs across restarts).
    pub fn new(seed: Option<u64>) -> World {
        World {
            users: Vec::new(),
            fields: Vec::new(),
            tickets: BTreeMap::new(),
            comments: Vec::new(),
            api_tokens: Vec::new(),
            oauth_tokens: BTreeMap::new(),
            ids: seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64),
        }
    }

    pub(crate) fn new_id(&mut self) -> u64 {
        self.ids.random_range(10_000_000_000..(1_u64 << 53))
    }
}

pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl World {
    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }

    pub fn add_user(&mut self, name: &str, email: &str, role: Role) -> u64 {
        let id = self.new_id();
        self.users.push(User { id, name: name.into(), email: email.into(), role });
        id
    }

    pub fn add_field(&mut self, title: &str, kind: &str) -> u64 {
        let id = self.new_id();
        self.fields.push(Field { id, title: title.into(), kind: kind.into() });
        id
    }

    pub fn add_ticket(&mut self, ticket: NewTicket, now: DateTime<Utc>) -> u64 {
        let id = self.new_id();
        self.tickets.insert(
            id,
            Ticket {
                id,
                subject: ticket.subject,
                status: ticket.status,
                requester_id: ticket.requester_id,
                assignee_id: ticket.assignee_id,
                custom: ticket.fields.into_iter().collect(),
                created_at: now,
                updated_at: now,
                raw: BTreeMap::new(),
            },
        );
        self.add_comment(id, ticket.requester_id, &ticket.description, true, Value::Null, "web", now);
        id
    }

    /// Adds a comment and touches the ticket, as every Zendesk update does.
    #[allow(clippy::too_many_arguments)]
    pub fn add_comment(
        &mut self,
        ticket_id: u64,
        author_id: u64,
        html_body: &str,
        public: bool,
        custom: Value,
        via: &'static str,
        now: DateTime<Utc>,
    ) -> Option<u64> {
        let ticket = self.tickets.get_mut(&ticket_id)?;
        ticket.updated_at = ticket.updated_at.max(now);
        let id = self.new_id();
        self.comments.push(Comment {
            id,
            ticket_id,
            author_id,
            html_body: html_body.into(),
            public,
            created_at: now,
            custom,
            via,
        });
        Some(id)
    }

    pub fn comments_of(&self, ticket_id: u64) -> Vec<&Comment> {
        self.comments.iter().filter(|c| c.ticket_id == ticket_id).collect()
    }

    pub fn field_json(&self, field: &Field) -> Value {
        json!({
            "id": field.id,
            "url": format!("/api/v2/ticket_fields/{}.json", field.id),
            "type": field.kind,
            "title": field.title,
            "raw_title": field.title,
            "description": "",
            "active": true,
            "required": false,
            "removable": true,
        })
    }

    pub fn ticket_json(&self, base: &str, ticket: &Ticket) -> Value {
        let custom: Vec<Value> = self
            .fields
            .iter()
            .map(|f| json!({ "id": f.id, "value": ticket.custom.get(&f.id).cloned().unwrap_or(Value::Null) }))
            .collect();
        let description = self
            .comments
            .iter()
            .find(|c| c.ticket_id == ticket.id)
            .map(|c| plain(&c.html_body))
            .unwrap_or_default();
        let mut json = json!({
            "id": ticket.id,
            "url": format!("{base}/api/v2/tickets/{}.json", ticket.id),
            "external_id": null,
            "via": { "channel": "web", "source": { "from": {}, "to": {}, "rel": null } },
            "created_at": stamp(ticket.created_at),
            "updated_at": stamp(ticket.updated_at),
            "generated_timestamp": ticket.updated_at.timestamp(),
            "type": null,
            "subject": ticket.subject,
            "raw_subject": ticket.subject,
            "description": description,
            "priority": "normal",
            "status": ticket.status,
            "requester_id": ticket.requester_id,
            "submitter_id": ticket.requester_id,
            "assignee_id": ticket.assignee_id,
            "organization_id": null,
            "group_id": null,
            "tags": [],
            "custom_fields": custom,
            "fields": custom,
            "is_public": true,
        });
        for (key, value) in &ticket.raw {
            json[key] = value.clone();
        }
        json
    }

    pub fn comment_json(&self, comment: &Comment) -> Value {
        let text = plain(&comment.html_body);
        json!({
            "id": comment.id,
            "type": "Comment",
            "author_id": comment.author_id,
            "body": text,
            "html_body": comment.html_body,
            "plain_body": text,
            "public": comment.public,
            "attachments": [],
            "audit_id": comment.id + 1,
            "via": { "channel": comment.via, "source": { "from": {}, "to": {}, "rel": null } },
            "created_at": stamp(comment.created_at),
            "metadata": {
                "system": { "client": "zendesk-sim", "ip_address": "127.0.0.1" },
                "custom": if comment.custom.is_null() { json!({}) } else { comment.custom.clone() },
            },
        })
    }

    pub fn user_json(&self, user: &User) -> Value {
        json!({
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "role": user.role.as_str(),
            "active": true,
            "verified": true,
            "time_zone": "UTC",
        })
    }
}

/// Zendesk's `body` / `plain_body`: the HTML without its tags (roughly).
fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").trim().to_owned()
}

/// Escapes text for the HTML a comment keeps.
pub(crate) fn html_of_text(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    escaped.split("\n\n").map(|p| format!("<p>{}</p>", p.replace('\n', "<br>"))).collect()
}
