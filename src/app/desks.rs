//! The help desks as people add and remove them, from the window's
//! Settings → Help desks and from `tickettime desk`: each is signed in to
//! and checked before anything is kept, its secret goes to this machine's
//! keychain and the rest to the database. A PM's or admin's to do.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::actor::Actor;
use crate::desk::{self, osticket, zendesk, DeskKind, FieldNames};
use crate::keychain::Keychain;
use crate::store::{DeskRecord, NewDesk, Store};
use crate::{Error, Result};

/// A desk to add, as the window's form sends it.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DeskInput {
    /// osTicket's database: `mysql://USER:PASSWORD@HOST/DB` (the password may
    /// instead be given as `secret`).
    Osticket {
        url: String,
        secret: Option<String>,
        prefix: Option<String>,
        web_url: Option<String>,
        #[serde(default)]
        fields: FieldInput,
    },
    /// Zendesk: `subdomain` or `url`, an agent's email and their API token (or an OAuth token).
    Zendesk {
        subdomain: Option<String>,
        url: Option<String>,
        email: String,
        secret: String,
        oauth: bool,
        #[serde(default)]
        fields: FieldInput,
    },
}

/// The names (or labels) of the desk's fields that carry the Harvest
/// project, the budget and the quoted hours; a blank one is the default
/// ("Harvest Project ID", "Budget Hours", "Quoted Hours").
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldInput {
    pub project: Option<String>,
    pub budget: Option<String>,
    pub quoted: Option<String>,
}

impl From<FieldInput> for FieldNames {
    fn from(input: FieldInput) -> FieldNames {
        let defaults = FieldNames::default();
        let or = |given: Option<String>, default: String| {
            given.map(|g| g.trim().to_owned()).filter(|g| !g.is_empty()).unwrap_or(default)
        };
        FieldNames {
            project: or(input.project, defaults.project),
            budget: or(input.budget, defaults.budget),
            quoted: or(input.quoted, defaults.quoted),
        }
    }
}

/// Adds an osTicket desk: connects with `url`'s login and checks the tables.
pub async fn add_osticket(
    store: &Store,
    actor: &Actor,
    keychain: &Keychain,
    url: &str,
    secret: Option<SecretString>,
    config: osticket::Config,
    name: Option<String>,
) -> Result<DeskRecord> {
    let (url, mut password) = osticket::split_url(url)?;
    if let Some(secret) = secret.filter(|s| !s.expose_secret().is_empty()) {
        password = secret;
    }
    config.validate()?;
    actor.require_manager("add help desks")?;
    let connected = osticket::OsTicket::connect(&url, &password, config.clone()).await?;
    let writes = connected.may_write_notes().await;
    connected.close().await;
    let writes = writes?;
    let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
        url::Url::parse(&url)
            .ok()
            .map(|u| format!("osTicket {}", u.path().trim_matches('/')))
            .unwrap_or_else(|| "osTicket".into())
    });
    let config = serde_json::to_string(&config).map_err(|e| Error::Invalid(e.to_string()))?;
    let new =
        NewDesk { kind: DeskKind::Osticket, name: &name, url: &url, config: &config, writes_notes: writes };
    keep(store, actor, keychain, new, &password).await
}

/// Adds a Zendesk account: signs in (an agent or admin) and reads its ticket fields.
pub async fn add_zendesk(
    store: &Store,
    actor: &Actor,
    keychain: &Keychain,
    base: &str,
    secret: &SecretString,
    config: zendesk::Config,
    name: Option<String>,
) -> Result<DeskRecord> {
    if config.email.trim().is_empty() {
        return Err(Error::Invalid("the Zendesk login needs the agent's email".into()));
    }
    if secret.expose_secret().trim().is_empty() {
        return Err(Error::Invalid("the Zendesk login needs its API token".into()));
    }
    actor.require_manager("add help desks")?;
    let connected = zendesk::Zendesk::connect(base, secret, config.clone()).await?;
    let writes = connected.may_write();
    let name = name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("Zendesk {}", base.trim_start_matches("https://")));
    let config = serde_json::to_string(&config).map_err(|e| Error::Invalid(e.to_string()))?;
    let new =
        NewDesk { kind: DeskKind::Zendesk, name: &name, url: base, config: &config, writes_notes: writes };
    keep(store, actor, keychain, new, secret).await
}

/// Adds what the window's form describes.
pub async fn add(store: &Store, actor: &Actor, keychain: &Keychain, input: DeskInput) -> Result<DeskRecord> {
    match input {
        DeskInput::Osticket { url, secret, prefix, web_url, fields } => {
            let config = osticket::Config {
                prefix: prefix
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "ost_".into()),
                fields: fields.into(),
                web_url: web_url.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()),
            };
            let secret = secret.map(SecretString::from);
            add_osticket(store, actor, keychain, url.trim(), secret, config, None).await
        }
        DeskInput::Zendesk { subdomain, url, email, secret, oauth, fields } => {
            let blank = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            let base = zendesk::base_url(blank(subdomain).as_deref(), blank(url).as_deref())?;
            let config = zendesk::Config {
                email: email.trim().to_owned(),
                auth: if oauth { zendesk::Auth::Oauth } else { zendesk::Auth::Token },
                fields: fields.into(),
            };
            add_zendesk(
                store,
                actor,
                keychain,
                &base,
                &SecretString::from(secret.trim().to_owned()),
                config,
                None,
            )
            .await
        }
    }
}

/// Removes a desk; its tickets stay. The secret goes too unless another
/// desk of this database uses the same address.
pub async fn remove(store: &Store, actor: &Actor, keychain: &Keychain, id: i64) -> Result<DeskRecord> {
    let record = store.remove_desk(actor, id).await?;
    if !store.desks().await?.iter().any(|d| d.kind == record.kind && d.url == record.url) {
        let _ = keychain.delete_desk_secret(&desk::secret_account(record.kind, &record.url));
    }
    Ok(record)
}

async fn keep(
    store: &Store,
    actor: &Actor,
    keychain: &Keychain,
    new: NewDesk<'_>,
    secret: &SecretString,
) -> Result<DeskRecord> {
    // An address already added keeps its secret: adding it again (with
    // another login, say) must not replace the one its syncs work with.
    store.refuse_desk_address(new.kind, new.url).await?;
    let account = desk::secret_account(new.kind, new.url);
    let before = keychain.desk_secret(&account).ok().flatten();
    keychain.save_desk_secret(&account, secret).map_err(|e| {
        Error::Invalid(format!(
            "cannot keep the {} secret: this machine's keychain is not available ({e:?})",
            new.kind.title()
        ))
    })?;
    let added = store.add_desk(actor, new, chrono::Utc::now()).await;
    if added.is_err() {
        // Someone added it in the meantime, or the database refused: the
        // keychain goes back to what it held.
        let _ = match &before {
            Some(before) => keychain.save_desk_secret(&account, before),
            None => keychain.delete_desk_secret(&account),
        };
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_field_names_are_the_defaults_and_given_ones_are_trimmed() {
        let names: FieldNames =
            FieldInput { project: Some("  ".into()), budget: Some(" Hours sold ".into()), quoted: None }
                .into();
        assert_eq!(names.project, "Harvest Project ID");
        assert_eq!(names.budget, "Hours sold");
        assert_eq!(names.quoted, "Quoted Hours");
        let input: DeskInput = serde_json::from_str(
            r#"{"kind":"zendesk","subdomain":"acme","url":null,"email":"a@b.c","secret":"t","oauth":false}"#,
        )
        .expect("a form without field names");
        assert!(matches!(input, DeskInput::Zendesk { fields: FieldInput { project: None, .. }, .. }));
    }
}
