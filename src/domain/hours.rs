//! Exact hours: integer hundredths, never a float sum.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, Sub};

/// A number of hours, kept exactly as hundredths of an hour.
///
/// Harvest reports decimal hours with two places; summing them as `f64`
/// drifts, so every total in Tickettime is a sum of these integers.
///
/// It serializes as exact decimal text (`"0.75"`, `"-1.50"`): the desktop's
/// IPC carries that; the CLI's JSON turns it into a number on purpose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "specta", derive(specta::Type), specta(type = String))]
pub struct Hours(i64);

impl serde::Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why a number of hours was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("`{0}` is not a number of hours (use a decimal like 1.5)")]
    NotANumber(String),
    #[error("`{0}` has more than two decimal places")]
    TooPrecise(String),
    #[error("hours cannot be negative (got {0})")]
    Negative(String),
    #[error("{0} hours is more than the {1} allowed")]
    TooLarge(String, Hours),
    #[error("{0} hours is less than the minimum of 0.25")]
    BelowQuarter(String),
    #[error("{0} hours is not a multiple of 0.25 (e.g. 0.25, 0.5, 1.75)")]
    NotQuarterStep(String),
}

/// The largest budget Tickettime accepts; anything above is a typo.
const MAX_BUDGET: Hours = Hours(1_000_000 * 100);

impl Hours {
    pub const ZERO: Hours = Hours(0);

    pub const fn from_hundredths(hundredths: i64) -> Self {
        Hours(hundredths)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    /// Whole hours, for tests and defaults.
    pub const fn whole(hours: i64) -> Self {
        Hours(hours * 100)
    }

    /// Hours as Harvest sends them (a JSON float), rounded to the hundredth.
    pub fn from_harvest(value: f64) -> Result<Self, HoursError> {
        if !value.is_finite() {
            return Err(HoursError::NotANumber(value.to_string()));
        }
        if value < 0.0 {
            return Err(HoursError::Negative(value.to_string()));
        }
        let hundredths = (value * 100.0).round();
        if hundredths > MAX_BUDGET.0 as f64 {
            return Err(HoursError::TooLarge(value.to_string(), MAX_BUDGET));
        }
        Ok(Hours(hundredths as i64))
    }

    /// Parses a decimal like `12`, `1.5` or `0.25` exactly (no float on the way).
    /// Used for budgets and quoted hours: zero allowed, at most two decimals.
    pub fn parse(input: &str) -> Result<Self, HoursError> {
        let text = input.trim();
        let not_a_number = || HoursError::NotANumber(input.to_owned());
        if text.starts_with('-') {
            return Err(HoursError::Negative(input.to_owned()));
        }
        let (whole, frac) = match text.split_once(['.', ',']) {
            Some((w, f)) => (w, f),
            None => (text, ""),
        };
        if (whole.is_empty() && frac.is_empty())
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(not_a_number());
        }
        if frac.len() > 2 {
            return Err(HoursError::TooPrecise(input.to_owned()));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| HoursError::TooLarge(input.to_owned(), MAX_BUDGET))?
        };
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| not_a_number())?;
        let hours = whole
            .checked_mul(100)
            .and_then(|h| h.checked_add(frac))
            .filter(|h| *h <= MAX_BUDGET.0)
            .ok_or_else(|| HoursError::TooLarge(input.to_owned(), MAX_BUDGET))?;
        Ok(Hours(hours))
    }

    /// Hours as a JSON number, exact to the hundredth.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Add for Hours {
    type Output = Hours;
    fn add(self, rhs: Hours) -> Hours {
        Hours(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Hours {
    type Output = Hours;
    fn sub(self, rhs: Hours) -> Hours {
        Hours(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Hours {
    fn sum<I: Iterator<Item = Hours>>(iter: I) -> Hours {
        iter.fold(Hours::ZERO, Add::add)
    }
}

/// Hours a person logs by hand: at least 0.25, in steps of 0.25, at most 24.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoggedHours(Hours);

/// The rules for logged hours, as the window checks them before sending
/// (the core checks again): exported to the UI's bindings as `LOGGED_HOURS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LoggedHoursLimits {
    pub min: Hours,
    pub step: Hours,
    pub max: Hours,
}

impl LoggedHours {
    pub const MIN: Hours = Hours(25);
    pub const STEP: Hours = Hours(25);
    pub const MAX: Hours = Hours::whole(24);
    pub const LIMITS: LoggedHoursLimits =
        LoggedHoursLimits { min: Self::MIN, step: Self::STEP, max: Self::MAX };

    pub fn parse(input: &str) -> Result<Self, HoursError> {
        let hours = Hours::parse(input)?;
        if hours < Self::MIN {
            return Err(HoursError::BelowQuarter(input.trim().to_owned()));
        }
        if hours.0 % Self::STEP.0 != 0 {
            return Err(HoursError::NotQuarterStep(input.trim().to_owned()));
        }
        if hours > Self::MAX {
            return Err(HoursError::TooLarge(input.trim().to_owned(), Self::MAX));
        }
        Ok(LoggedHours(hours))
    }

    pub fn hours(self) -> Hours {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_parses_exactly_to_hundredths() {
        assert_eq!(Hours::parse("12"), Ok(Hours(1200)));
        assert_eq!(Hours::parse("1.5"), Ok(Hours(150)));
        assert_eq!(Hours::parse("0.25"), Ok(Hours(25)));
        assert_eq!(Hours::parse(".75"), Ok(Hours(75)));
        assert_eq!(Hours::parse("2,5"), Ok(Hours(250)), "a decimal comma is common in Europe");
        assert_eq!(Hours::parse("0"), Ok(Hours::ZERO));
    }

    #[test]
    fn malformed_hours_are_refused_with_a_reason() {
        assert!(matches!(Hours::parse("abc"), Err(HoursError::NotANumber(_))));
        assert!(matches!(Hours::parse(""), Err(HoursError::NotANumber(_))));
        assert!(matches!(Hours::parse("1.234"), Err(HoursError::TooPrecise(_))));
        assert!(matches!(Hours::parse("-1"), Err(HoursError::Negative(_))));
        assert!(matches!(Hours::parse("1e3"), Err(HoursError::NotANumber(_))));
        assert!(matches!(Hours::parse("99999999999999999999"), Err(HoursError::TooLarge(..))));
    }

    #[test]
    fn harvest_floats_round_to_the_hundredth_and_sum_exactly() {
        let parts: Vec<Hours> =
            [0.1, 0.2, 0.3].iter().map(|h| Hours::from_harvest(*h).expect("valid")).collect();
        assert_eq!(parts.into_iter().sum::<Hours>(), Hours(60), "0.1 + 0.2 + 0.3 is exactly 0.6 here");
        assert_eq!(Hours::from_harvest(2.11), Ok(Hours(211)));
        assert!(Hours::from_harvest(f64::NAN).is_err());
        assert!(Hours::from_harvest(-0.5).is_err());
    }

    #[test]
    fn logged_hours_are_quarter_steps_between_a_quarter_and_a_day() {
        assert_eq!(LoggedHours::parse("0.25").map(LoggedHours::hours), Ok(Hours(25)));
        assert_eq!(LoggedHours::parse("24").map(LoggedHours::hours), Ok(Hours(2400)));
        assert!(matches!(LoggedHours::parse("0"), Err(HoursError::BelowQuarter(_))));
        assert!(matches!(LoggedHours::parse("0.2"), Err(HoursError::BelowQuarter(_))));
        assert!(matches!(LoggedHours::parse("0.3"), Err(HoursError::NotQuarterStep(_))));
        assert!(matches!(LoggedHours::parse("24.25"), Err(HoursError::TooLarge(..))));
    }

    #[test]
    fn hours_display_with_two_decimals() {
        assert_eq!(Hours(150).to_string(), "1.50");
        assert_eq!(Hours(5).to_string(), "0.05");
    }
}
