//! People on a database: who this session's login is (team mode), setting a
//! team database's roles and privileges up (`team.sql`), and adding, moving
//! and removing staff — with their own PostgreSQL login in team mode.

use chrono::{DateTime, Utc};
use sqlx::Executor;

use super::tickets::Staff;
use super::{ts, Backend, Store};
use crate::actor::Actor;
use crate::domain::{Email, Role, TicketError};
use crate::error::{Error, Result};

const TEAM_SQL: &str = include_str!("team.sql");

/// What `tickettime init` did on a team database.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TeamSetup {
    /// The database owner's login, now the first admin.
    pub owner_login: String,
    pub owner: Staff,
}

/// A person to add with their own database login.
#[derive(Clone, Copy, Debug)]
pub struct NewMember<'a> {
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub login: &'a str,
    pub password: &'a secrecy::SecretString,
}

impl Store {
    /// This session's PostgreSQL login and the staff member it is mapped to.
    pub async fn session_staff(&self) -> Result<(String, Option<Staff>)> {
        let login: String =
            sqlx::query_scalar("SELECT CAST(session_user AS TEXT)").fetch_one(&self.pool).await?;
        let row: Option<super::tickets::StaffRow> =
            sqlx::query_as("SELECT id, email, name, role FROM staff WHERE db_login = $1")
                .bind(&login)
                .fetch_optional(&self.pool)
                .await?;
        let staff = row.map(Staff::try_from).transpose()?;
        Ok((login, staff))
    }

    /// Records the Harvest user of the team login's own staff row (the
    /// reports find a person's entries by it). A team database set up by an
    /// older version has no such function yet: that costs only the record.
    pub async fn remember_my_harvest_user(&self, harvest_user_id: i64) -> Result<()> {
        if self.backend() != super::Backend::Postgres {
            return Ok(());
        }
        let outcome = sqlx::query("SELECT tickettime_set_my_harvest_user($1)")
            .bind(harvest_user_id)
            .execute(&self.pool)
            .await;
        if let Err(error) = outcome {
            eprintln!("note: your Harvest user is not recorded on this team database ({error}); its owner runs `tickettime init` to bring it up to date");
        }
        Ok(())
    }

    /// Sets a team database up for per-person logins, as its owner: group
    /// roles, privileges, row security, the staff functions, and the owner
    /// as the first admin (`email`/`name` name them; defaults are made from
    /// the login). Idempotent. On SQLite there is nothing to set up.
    pub async fn init_team(
        &self,
        email: Option<&Email>,
        name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<TeamSetup>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let (login, owner): (String, String) = sqlx::query_as(
            "SELECT CAST(session_user AS TEXT), CAST(pg_get_userbyid(datdba) AS TEXT)
             FROM pg_database WHERE datname = current_database()",
        )
        .fetch_one(&self.pool)
        .await?;
        if login != owner {
            return Err(Error::Invalid(format!(
                "`tickettime init` sets a team database up and must run as its owner `{owner}` (not `{login}`)"
            )));
        }
        // Group roles are shared by the whole server: two databases set up at
        // the same moment can collide on them; the script is idempotent, so retry.
        let mut tries = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let outcome = async {
                // One set-up at a time on this database ("init" in the key's bytes).
                (&mut *tx).execute("SELECT pg_advisory_xact_lock(1768843636)").await?;
                (&mut *tx).execute(TEAM_SQL).await?;
                (&mut *tx)
                    .execute(format!("GRANT tickettime_admin TO \"{}\"", login.replace('"', "\"\"")).as_str())
                    .await
            }
            .await;
            match outcome {
                Ok(_) => {
                    tx.commit().await?;
                    break;
                }
                Err(error) if tries < 8 => {
                    drop(tx);
                    tries += 1;
                    tracing_retry(&error);
                    tokio::time::sleep(std::time::Duration::from_millis(50 * tries)).await;
                }
                Err(error) => {
                    return Err(Error::Invalid(format!(
                        "the team database could not be set up (the owner needs CREATEROLE): {error}"
                    )))
                }
            }
        }
        let default_email = format!("{}@db.tickettime.invalid", login.to_lowercase());
        let email = match email {
            Some(email) => email.clone(),
            None => Email::parse(&default_email).map_err(Error::Invalid)?,
        };
        let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&login).to_owned();
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM staff WHERE db_login = $1")
            .bind(&login)
            .fetch_optional(&self.pool)
            .await?;
        let id: i64 = match existing {
            Some(id) => id,
            None => sqlx::query_scalar(
                "INSERT INTO staff (email, name, role, created_at, db_login) VALUES ($1, $2, 'admin', $3, $4)
                     ON CONFLICT (email) DO UPDATE SET role = 'admin', db_login = excluded.db_login
                     RETURNING id",
            )
            .bind(email.as_str())
            .bind(&name)
            .bind(ts(now))
            .bind(&login)
            .fetch_one(&self.pool)
            .await?,
        };
        let (_, owner) = self.session_staff().await?;
        let owner = owner
            .filter(|s| s.id == id)
            .ok_or_else(|| Error::Invalid("the owner was not recorded".into()))?;
        Ok(Some(TeamSetup { owner_login: login, owner }))
    }

    /// Adds a person with their own database login (team mode; an admin's
    /// to do): the login is created in its role's group with `password`.
    pub async fn add_team_member(
        &self,
        actor: &Actor,
        member: NewMember<'_>,
        now: DateTime<Utc>,
    ) -> Result<Staff> {
        let NewMember { email, name, role, login, password } = member;
        actor.require_admin("add staff")?;
        if self.backend != Backend::Postgres {
            return Err(Error::Invalid(
                "--db-login is for a team (PostgreSQL) database; a SQLite file has no logins".into(),
            ));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(TicketError::Empty("a staff member's name").into());
        }
        let valid_login = !login.is_empty()
            && login.len() <= 63
            && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if !valid_login {
            return Err(Error::Invalid(format!(
                "`{login}` is not a database login (letters, digits, `_`, `.`, `-`; at most 63)"
            )));
        }
        let secret = secrecy::ExposeSecret::expose_secret(password);
        if secret.len() < 8 {
            return Err(Error::Invalid("the login's password must have at least 8 characters".into()));
        }
        let id: i64 = sqlx::query_scalar("SELECT tickettime_add_staff($1, $2, $3, $4, $5, $6)")
            .bind(email.as_str())
            .bind(name)
            .bind(role.as_str())
            .bind(login)
            .bind(secret)
            .bind(ts(now))
            .fetch_one(&self.pool)
            .await
            .map_err(database_refusal)?;
        Ok(Staff { id, email: email.to_string(), name: name.to_owned(), role })
    }

    /// Moves a member of staff to another role (an admin's to do). In team
    /// mode their login moves to the new role's group too.
    pub async fn set_staff_role(&self, actor: &Actor, email: &Email, role: Role) -> Result<Staff> {
        actor.require_admin("change roles")?;
        let staff = self.staff(email).await?;
        if actor.staff_id() == Some(staff.id) && role != Role::Admin {
            return Err(Error::Invalid("you cannot take your own admin role away; ask another admin".into()));
        }
        match self.backend {
            Backend::Postgres => {
                sqlx::query("SELECT tickettime_set_staff_role($1, $2)")
                    .bind(email.as_str())
                    .bind(role.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(database_refusal)?;
            }
            Backend::Sqlite => {
                sqlx::query("UPDATE staff SET role = $2 WHERE email = $1")
                    .bind(email.as_str())
                    .bind(role.as_str())
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(Staff { role, ..staff })
    }

    /// Revokes a member's access (an admin's to do): in team mode their
    /// login is dropped. Their row stays so the history keeps their name.
    pub async fn remove_staff(&self, actor: &Actor, email: &Email) -> Result<Staff> {
        actor.require_admin("remove staff")?;
        let staff = self.staff(email).await?;
        if actor.staff_id() == Some(staff.id) {
            return Err(Error::Invalid("you cannot remove yourself; ask another admin".into()));
        }
        match self.backend {
            Backend::Postgres => {
                sqlx::query("SELECT tickettime_remove_staff($1)")
                    .bind(email.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(database_refusal)?;
            }
            Backend::Sqlite => {
                return Err(Error::Invalid(
                    "a solo file's people come from their Harvest tokens: revoke the token in Harvest".into(),
                ))
            }
        }
        Ok(staff)
    }
}

fn tracing_retry(error: &sqlx::Error) {
    eprintln!("note: setting the team database up again after: {error}");
}

/// A refusal raised by a team function or by PostgreSQL's privileges,
/// as a one-line error that says what was refused.
pub(crate) fn database_refusal(error: sqlx::Error) -> Error {
    match &error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("42501") => Error::Invalid(format!("refused by the team database: {}", db.message())),
            Some("23505") | Some("42710") | Some("22023") | Some("P0002") => {
                Error::Invalid(db.message().to_owned())
            }
            _ => Error::Database(error),
        },
        _ => Error::Database(error),
    }
}
