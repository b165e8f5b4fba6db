//! Staff and their roles.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a person may do. Harvest's `access_roles` map onto it
/// (administrator → admin, manager → pm, member → agent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Role {
    Agent,
    Pm,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Pm => "pm",
            Role::Admin => "admin",
        }
    }

    /// PMs and admins set budgets, link projects and unlock tickets.
    pub fn manages_budgets(self) -> bool {
        matches!(self, Role::Pm | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Ok(Role::Agent),
            "pm" => Ok(Role::Pm),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role `{other}` (expected agent, pm or admin)")),
        }
    }
}

/// An email address, trimmed and lower-cased, with one `@` between two parts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !email.chars().any(char::is_whitespace)
            }
            None => false,
        };
        if valid {
            Ok(Email(email))
        } else {
            Err(format!("`{}` is not an email address", input.trim()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_reject_others() {
        assert_eq!("PM".parse::<Role>(), Ok(Role::Pm));
        assert!("boss".parse::<Role>().is_err());
    }

    #[test]
    fn only_pms_and_admins_manage_budgets() {
        assert!(!Role::Agent.manages_budgets());
        assert!(Role::Pm.manages_budgets());
        assert!(Role::Admin.manages_budgets());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Ana@Example.COM ").map(|e| e.to_string()), Ok("ana@example.com".into()));
        for bad in ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@c.com"] {
            assert!(Email::parse(bad).is_err(), "`{bad}` must be refused");
        }
    }
}
