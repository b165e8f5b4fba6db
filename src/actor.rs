//! Who is acting: resolved once per process (or desktop session) into an
//! [`Actor`], which every operation that changes something takes.
//!
//! - **Solo** (a SQLite file): the Harvest user of the token this process
//!   uses (`HARVEST_ACCESS_TOKEN`, the demo, or this OS user's keychain), as
//!   `users/me` says — cached per token in this OS user's cache, never in the
//!   shared file. With no Harvest connection at all, the file's local owner
//!   with admin rights (it is their file); `--as` is then only a label for
//!   who wrote a thread entry. With a token, `--as` may only name the token's
//!   own person.
//! - **Team** (PostgreSQL): the staff member mapped to `session_user`. Every
//!   person has their own login, and PostgreSQL itself refuses what their
//!   group role may not do. A Harvest token used beside it must be that same
//!   person's.
//!
//! Nothing here is an `Option` to fall back on: there is no "first PM".

use chrono::{DateTime, Utc};

use crate::connection::Harvest;
use crate::domain::{Email, Role, TicketError};
use crate::personal::{HarvestIdentity, PersonalCache};
use crate::store::{Backend, Staff, Store};
use crate::{Error, Result};

/// How the acting person was established.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// A solo file with no Harvest connection: its owner, with admin rights.
    LocalOwner,
    /// Solo: the Harvest user of this process's token.
    HarvestUser,
    /// Team: the staff member mapped to this PostgreSQL login.
    DbLogin(String),
}

/// The person every changing operation is done as.
#[derive(Clone, Debug)]
pub struct Actor {
    staff: Option<Staff>,
    role: Role,
    standing: Standing,
    harvest: Option<HarvestIdentity>,
}

impl Actor {
    /// Resolves who is acting on `store`: the staff member of the database
    /// login (team), the Harvest user of `harvest`'s token (solo), or the
    /// file's owner. `label` is `--as`: with a token or a login it may only
    /// name the same person; for the owner it labels thread entries.
    pub async fn resolve(
        store: &Store,
        harvest: Option<&Harvest>,
        cache: &PersonalCache,
        label: Option<&Email>,
        now: DateTime<Utc>,
    ) -> Result<Actor> {
        let identity = match harvest {
            Some(harvest) => Some(identify(harvest, cache, now).await?),
            None => None,
        };
        match store.backend() {
            Backend::Postgres => Self::team(store, identity, label).await,
            Backend::Sqlite => Self::solo(store, identity, label, now).await,
        }
    }

    async fn team(store: &Store, identity: Option<HarvestIdentity>, label: Option<&Email>) -> Result<Actor> {
        let (login, staff) = store.session_staff().await?;
        let staff = staff.ok_or_else(|| {
            Error::Invalid(format!(
                "the database login `{login}` is not a member of this Tickettime team; an admin adds it with \
                 `tickettime staff add --email E --name N --role agent|pm|admin --db-login {login}`"
            ))
        })?;
        if let Some(identity) = &identity {
            if !identity.email.eq_ignore_ascii_case(&staff.email) {
                return Err(Error::Invalid(format!(
                    "this Harvest token belongs to {} <{}>, but the database login `{login}` is {} <{}>: \
                     connect with your own Harvest token, or log in to the database as yourself",
                    identity.name, identity.email, staff.name, staff.email
                )));
            }
        }
        refuse_other_label(label, &staff.email, &format!("you are logged in to the database as `{login}`"))?;
        if let Some(identity) = &identity {
            store.remember_my_harvest_user(identity.user_id).await?;
        }
        Ok(Actor {
            role: staff.role,
            staff: Some(staff),
            standing: Standing::DbLogin(login),
            harvest: identity,
        })
    }

    async fn solo(
        store: &Store,
        identity: Option<HarvestIdentity>,
        label: Option<&Email>,
        now: DateTime<Utc>,
    ) -> Result<Actor> {
        match identity {
            Some(identity) => {
                refuse_other_label(
                    label,
                    &identity.email,
                    &format!("this process uses the Harvest token of {} <{}>", identity.name, identity.email),
                )?;
                let staff = store.upsert_harvest_staff(&identity, now).await?;
                Ok(Actor {
                    role: identity.role,
                    staff: Some(staff),
                    standing: Standing::HarvestUser,
                    harvest: Some(identity),
                })
            }
            None => {
                let staff = match label {
                    Some(email) => Some(store.staff(email).await?),
                    None => None,
                };
                Ok(Actor { staff, role: Role::Admin, standing: Standing::LocalOwner, harvest: None })
            }
        }
    }

    /// The owner of a solo file with no Harvest connection (admin rights),
    /// optionally labelled as a staff member for thread entries.
    pub fn local_owner(label: Option<Staff>) -> Actor {
        Actor { staff: label, role: Role::Admin, standing: Standing::LocalOwner, harvest: None }
    }

    /// An actor for a staff member the caller has already established (tools
    /// and tests that act as a known person; never from user input).
    pub fn assume(staff: Staff) -> Actor {
        Actor { role: staff.role, staff: Some(staff), standing: Standing::HarvestUser, harvest: None }
    }

    /// [`Actor::assume`] with the Harvest identity the person's token has.
    pub fn assume_with_harvest(staff: Staff, identity: HarvestIdentity) -> Actor {
        Actor {
            role: staff.role,
            staff: Some(staff),
            standing: Standing::HarvestUser,
            harvest: Some(identity),
        }
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn standing(&self) -> &Standing {
        &self.standing
    }

    /// The staff member acting (none for an unlabelled local owner).
    pub fn staff(&self) -> Option<&Staff> {
        self.staff.as_ref()
    }

    pub fn staff_id(&self) -> Option<i64> {
        self.staff.as_ref().map(|s| s.id)
    }

    /// The Harvest user of this process's token, if there is one.
    pub fn harvest(&self) -> Option<&HarvestIdentity> {
        self.harvest.as_ref()
    }

    /// True on a team (PostgreSQL) database.
    pub fn is_team(&self) -> bool {
        matches!(self.standing, Standing::DbLogin(_))
    }

    /// Who a thread entry is signed by.
    pub fn author(&self) -> String {
        match &self.staff {
            Some(staff) => staff.name.clone(),
            None => std::env::var("USER")
                .ok()
                .filter(|u| !u.trim().is_empty())
                .map_or_else(|| "Owner".to_owned(), |user| format!("{user} (owner)")),
        }
    }

    /// A short "name <email> (role)" for messages.
    pub fn describe(&self) -> String {
        match (&self.standing, &self.staff) {
            (Standing::LocalOwner, _) => "the owner of this file (admin; no Harvest connection)".to_owned(),
            (_, Some(s)) => format!("{} <{}> ({})", s.name, s.email, s.role),
            (_, None) => format!("({})", self.role),
        }
    }

    /// PMs and admins set budgets, link projects, unlock tickets.
    pub fn require_manager(&self, action: &'static str) -> Result<()> {
        if self.role.manages_budgets() {
            Ok(())
        } else {
            Err(TicketError::NotPermitted { action, role: self.role }.into())
        }
    }

    /// Admins manage staff.
    pub fn require_admin(&self, action: &'static str) -> Result<()> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(Error::Invalid(format!("a {} may not {action}; ask an admin", self.role)))
        }
    }

    /// The Harvest user whose entries this actor's token can judge missing:
    /// `None` when the token sees the whole account (an administrator's),
    /// else the actor's own Harvest user only.
    pub fn judges_only(&self) -> Option<i64> {
        match &self.harvest {
            Some(h) if h.sees_whole_account => None,
            Some(h) => Some(h.user_id),
            // No identity: nothing can be judged; callers need a token anyway.
            None => Some(-1),
        }
    }

    /// May this actor try to lead a team's import? Solo: anyone with a
    /// token. Team: a PM or admin with a Harvest token; whether the token
    /// sees every entry it would judge is checked by [`crate::sync::run`].
    pub fn may_lead_import(&self) -> Result<()> {
        if !self.is_team() || (self.role.manages_budgets() && self.harvest.is_some()) {
            Ok(())
        } else {
            Err(Error::ImportNotPermitted(self.describe()))
        }
    }

    /// Whether this actor writes Harvest entries into the store itself. On a
    /// team database an agent's login may not (the leader imports them).
    pub fn writes_entries(&self) -> bool {
        !(self.is_team() && self.role == Role::Agent)
    }
}

fn refuse_other_label(label: Option<&Email>, own: &str, who: &str) -> Result<()> {
    match label {
        Some(email) if !email.as_str().eq_ignore_ascii_case(own) => {
            Err(Error::Invalid(format!("--as {email} refused: {who}; you may only act as yourself ({own})")))
        }
        _ => Ok(()),
    }
}

/// Who the token of `harvest` belongs to: the per-token cache when fresh,
/// else `users/me` (and the cache). While Harvest is unreachable a stale
/// answer is used; a token never identified and unreachable is an error.
pub async fn identify(
    harvest: &Harvest,
    cache: &PersonalCache,
    now: DateTime<Utc>,
) -> Result<HarvestIdentity> {
    let key = harvest.key.as_str();
    let cached = cache.identity(key, now);
    if let Some((identity, true)) = &cached {
        if identity.account_id == harvest.client.account_id() {
            return Ok(identity.clone());
        }
    }
    match harvest.client.me().await {
        Ok(me) => {
            let identity = HarvestIdentity::of(harvest.client.account_id(), &me);
            cache.save_identity(key, &identity, now);
            Ok(identity)
        }
        Err(error) if error.is_transient() => match cached {
            Some((identity, _)) => Ok(identity),
            None => Err(error.into()),
        },
        Err(error) => Err(error.into()),
    }
}
