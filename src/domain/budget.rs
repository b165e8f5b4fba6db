//! Budget math: utilization, bands, the lock and the threshold events.
//!
//! Pure functions over exact [`Hours`]; every comparison is done in integers
//! (`used × 100 ≥ pct × budget`), so 74.99 % is green and 75 % yellow, always.

use serde::{Deserialize, Serialize};

use super::hours::Hours;
use super::staff::Role;
use super::TicketError;

/// Utilization in hundredths of a percent (7500 = 75 %), rounded down so the
/// number shown and the band always agree. It serializes as exact percent
/// text (`"92.50"`); the CLI's JSON turns it into a number on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "specta", derive(specta::Type), specta(type = String))]
pub struct Utilization(i64);

impl std::fmt::Display for Utilization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.0.unsigned_abs() / 100, self.0.unsigned_abs() % 100)
    }
}

impl Serialize for Utilization {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Utilization {
    /// `None` when the budget is unset or zero: such a ticket has no
    /// utilization, no band and never locks.
    pub fn of(used: Hours, budget: Option<Hours>) -> Option<Self> {
        let budget = budget.filter(|b| b.hundredths() > 0)?;
        let basis_points = (i128::from(used.hundredths()) * 10_000) / i128::from(budget.hundredths());
        Some(Utilization(i64::try_from(basis_points).unwrap_or(i64::MAX)))
    }

    /// As recorded (hundredths of a percent).
    pub fn from_basis_points(basis_points: i64) -> Self {
        Utilization(basis_points)
    }

    pub fn basis_points(self) -> i64 {
        self.0
    }

    /// Percent with two decimals as a number, for the CLI's JSON.
    pub fn percent(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// Whole percent, rounded down.
    pub fn whole_percent(self) -> i64 {
        self.0.div_euclid(100)
    }

    /// At or past `percent` % (a threshold line).
    pub fn at_least(self, percent: u32) -> bool {
        self.0 >= i64::from(percent) * 100
    }

    pub fn band(self) -> Band {
        match self.0 {
            ..7_500 => Band::Green,
            7_500..9_000 => Band::Yellow,
            9_000..10_000 => Band::Orange,
            _ => Band::Red,
        }
    }
}

/// The colour of a ticket's utilization: green < 75 ≤ yellow < 90 ≤ orange < 100 ≤ red.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Band {
    Green,
    Yellow,
    Orange,
    Red,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Green => "green",
            Band::Yellow => "yellow",
            Band::Orange => "orange",
            Band::Red => "red",
        }
    }
}

/// The lines that raise events, in whole percent. `lock` is a setting (default 100).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub approaching: u32,
    pub near: u32,
    pub lock: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { approaching: 75, near: 90, lock: 100 }
    }
}

/// Something that happened to a ticket's budget, recorded once per crossing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// Utilization crossed the first line (75 %) going up.
    Approaching,
    /// Utilization crossed the second line (90 %) going up.
    Near,
    /// The ticket locked.
    Locked,
    /// The ticket's lock was lifted (by a PM, or by a budget raise).
    Unlocked,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Approaching => "approaching",
            EventKind::Near => "near",
            EventKind::Locked => "locked",
            EventKind::Unlocked => "unlocked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approaching" => Some(EventKind::Approaching),
            "near" => Some(EventKind::Near),
            "locked" => Some(EventKind::Locked),
            "unlocked" => Some(EventKind::Unlocked),
            _ => None,
        }
    }
}

/// The highest warning line a ticket is at or above; events fire when it rises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertLevel {
    #[default]
    Below,
    Approaching,
    Near,
}

impl AlertLevel {
    pub fn as_i64(self) -> i64 {
        self as i64
    }

    pub fn from_i64(value: i64) -> Self {
        match value {
            2.. => AlertLevel::Near,
            1 => AlertLevel::Approaching,
            _ => AlertLevel::Below,
        }
    }
}

/// The part of a ticket the budget rules read and write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetState {
    pub locked: bool,
    /// Extra hours granted by PMs on unlock, added up.
    pub extra: Hours,
    /// Hours used when a PM last unlocked; while used stays at or below it the
    /// ticket stays open even past its limit (the PM's decision holds).
    pub unlocked_at_used: Option<Hours>,
    pub alert: AlertLevel,
}

/// What [`evaluate`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub state: BudgetState,
    pub events: Vec<EventKind>,
}

/// How far a ticket is from its lock line (budget × lock % + extra − used),
/// in ten-thousandths of an hour (hundredths × percent) so nothing is
/// rounded on the way;
/// negative past it. `None` without a budget.
fn left_before_lock(used: Hours, budget: Option<Hours>, extra: Hours, lock_pct: u32) -> Option<i128> {
    let budget = budget.filter(|b| b.hundredths() > 0)?;
    Some(
        i128::from(lock_pct) * i128::from(budget.hundredths()) + i128::from(extra.hundredths()) * 100
            - i128::from(used.hundredths()) * 100,
    )
}

/// Hours left before a ticket locks, rounded down to the hundredth;
/// negative past the line, `None` without a budget.
pub fn hours_left(used: Hours, budget: Option<Hours>, extra: Hours, lock_pct: u32) -> Option<Hours> {
    let left = left_before_lock(used, budget, extra, lock_pct)?;
    Some(Hours::from_hundredths(i64::try_from(left.div_euclid(100)).unwrap_or(i64::MAX)))
}

/// Whole minutes left before a ticket locks (never below zero), rounded to
/// the nearest minute; `None` without a budget.
pub fn minutes_left(used: Hours, budget: Option<Hours>, extra: Hours, lock_pct: u32) -> Option<i64> {
    let left = left_before_lock(used, budget, extra, lock_pct)?.max(0);
    // ten-thousandths of an hour × 60 / 10,000 = minutes, rounded half up.
    Some(i64::try_from((left * 60 + 5_000) / 10_000).unwrap_or(i64::MAX))
}

/// Why starting a timer on ticket `number` needs the person's yes: it is at
/// or past the near line. The question says how many minutes are left.
pub fn start_question(
    number: i64,
    used: Hours,
    budget: Option<Hours>,
    extra: Hours,
    thresholds: Thresholds,
) -> Option<String> {
    let utilization = Utilization::of(used, budget)?;
    if utilization.basis_points() < i64::from(thresholds.near) * 100 {
        return None;
    }
    let minutes = minutes_left(used, budget, extra, thresholds.lock)?;
    Some(format!("{minutes} minutes left before #{number} locks — start anyway?"))
}

/// Days of spent time a ticket's pace is measured over (today included).
pub const PACE_DAYS: u32 = 14;

/// The day a ticket reaches its lock line at its recent pace: `recent` is
/// the hours spent on it over the last [`PACE_DAYS`] days by spent date
/// (today included). `None` without a budget, for a locked ticket, and
/// when nothing was spent lately (no pace). A ticket at or past its line
/// but unlocked (a PM's unlock without extra hours) locks with its next
/// hours: today. Otherwise the line is reached after
/// `hours left ÷ (recent ÷ 14)` days, counted up to a whole day.
pub fn lock_forecast(
    today: chrono::NaiveDate,
    recent: Hours,
    used: Hours,
    budget: Option<Hours>,
    extra: Hours,
    lock_pct: u32,
    locked: bool,
) -> Option<chrono::NaiveDate> {
    if locked || recent.hundredths() <= 0 {
        return None;
    }
    let left = left_before_lock(used, budget, extra, lock_pct)?;
    if left <= 0 {
        return Some(today);
    }
    // Both in ten-thousandths of an hour: left × days ÷ recent, rounded up.
    let recent = i128::from(recent.hundredths()) * 100;
    let days = (left * i128::from(PACE_DAYS) + recent - 1) / recent;
    // A century out is as good as never; it also keeps the date in range.
    today.checked_add_days(chrono::Days::new(u64::try_from(days.min(36_500)).unwrap_or(36_500)))
}

/// Re-evaluates a ticket after its hours or budget changed.
///
/// - 75 / 90 events fire once per upward crossing and re-arm below the line;
/// - the ticket locks when `used ≥ budget × lock% + extra` (and, after a PM
///   unlock, only once hours grow past what they were at the unlock);
/// - a locked ticket whose hours fall under that limit (a budget raise, a
///   deleted entry) unlocks; with no budget it never locks.
pub fn evaluate(prev: BudgetState, used: Hours, budget: Option<Hours>, thresholds: Thresholds) -> Evaluation {
    let budget = budget.filter(|b| b.hundredths() > 0);
    let mut events = Vec::new();
    let mut state = prev;

    let at_least = |pct: u32, budget: Hours| {
        i128::from(used.hundredths()) * 100 >= i128::from(pct) * i128::from(budget.hundredths())
    };
    let alert = match budget {
        Some(b) if at_least(thresholds.near, b) => AlertLevel::Near,
        Some(b) if at_least(thresholds.approaching, b) => AlertLevel::Approaching,
        _ => AlertLevel::Below,
    };
    if prev.alert < AlertLevel::Approaching && alert >= AlertLevel::Approaching {
        events.push(EventKind::Approaching);
    }
    if prev.alert < AlertLevel::Near && alert >= AlertLevel::Near {
        events.push(EventKind::Near);
    }
    state.alert = alert;

    let over_limit = budget.is_some_and(|b| {
        i128::from(used.hundredths()) * 100
            >= i128::from(thresholds.lock) * i128::from(b.hundredths())
                + i128::from(prev.extra.hundredths()) * 100
    });
    let overridden = prev.unlocked_at_used.is_some_and(|at| used <= at);
    let should_lock = over_limit && !overridden;

    if should_lock && !prev.locked {
        state.locked = true;
        state.unlocked_at_used = None;
        events.push(EventKind::Locked);
    } else if !over_limit && prev.locked {
        state.locked = false;
        events.push(EventKind::Unlocked);
    }
    Evaluation { state, events }
}

/// A PM or admin lifts the lock, with a reason and optional extra hours.
/// The ticket locks again when hours used reach budget + all extra hours.
pub fn unlock(
    prev: BudgetState,
    role: Role,
    reason: &str,
    extra: Hours,
    used: Hours,
) -> Result<BudgetState, TicketError> {
    if !role.manages_budgets() {
        return Err(TicketError::NotPermitted { action: "unlock a ticket", role });
    }
    if reason.trim().is_empty() {
        return Err(TicketError::ReasonRequired);
    }
    if !prev.locked {
        return Err(TicketError::NotLocked);
    }
    Ok(BudgetState {
        locked: false,
        extra: prev.extra + extra,
        unlocked_at_used: Some(used),
        alert: prev.alert,
    })
}

#[cfg(test)]
mod tests {
    fn day(d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, d).expect("a day")
    }

    fn hours(text: &str) -> Hours {
        Hours::parse(text).expect("hours")
    }

    #[test]
    fn the_forecast_divides_the_hours_left_by_the_pace_of_the_last_fourteen_days() {
        // 2 h left at 7 h a fortnight (0.5 h a day): four days on.
        assert_eq!(
            lock_forecast(day(3), hours("7"), hours("8"), Some(hours("10")), Hours::ZERO, 100, false),
            Some(day(7))
        );
        // A part of a day counts as the day the line is crossed.
        assert_eq!(
            lock_forecast(day(3), hours("7"), hours("8.01"), Some(hours("10")), Hours::ZERO, 100, false),
            Some(day(7))
        );
        assert_eq!(
            lock_forecast(day(3), hours("7"), hours("7.99"), Some(hours("10")), Hours::ZERO, 100, false),
            Some(day(8))
        );
        // Extra hours a PM granted and the lock line move the line.
        assert_eq!(
            lock_forecast(day(3), hours("14"), hours("8"), Some(hours("10")), hours("2"), 100, false),
            Some(day(7))
        );
        assert_eq!(
            lock_forecast(day(3), hours("14"), hours("8"), Some(hours("10")), Hours::ZERO, 120, false),
            Some(day(7))
        );
    }

    #[test]
    fn no_forecast_without_pace_budget_or_when_locked_and_today_past_the_line() {
        let f = |recent: &str, used: &str, budget: Option<&str>, locked: bool| {
            lock_forecast(day(3), hours(recent), hours(used), budget.map(hours), Hours::ZERO, 100, locked)
        };
        assert_eq!(f("0", "8", Some("10"), false), None, "zero pace never reaches the line");
        assert_eq!(f("5", "8", None, false), None, "no budget, no line");
        assert_eq!(f("5", "8", Some("0"), false), None, "a zero budget is no budget");
        assert_eq!(f("5", "12", Some("10"), true), None, "a locked ticket is past forecasting");
        assert_eq!(
            f("5", "10", Some("10"), false),
            Some(day(3)),
            "at the line, unlocked: locks with its next hours"
        );
        assert_eq!(f("5", "12", Some("10"), false), Some(day(3)), "past the line, unlocked");
        assert_eq!(f("0.01", "0", Some("100000"), false), Some(day(3) + chrono::Days::new(36_500)), "capped");
    }

    #[test]
    fn utilization_is_exact_percent_text_rounded_down() {
        let h = |t: &str| Hours::parse(t).expect("hours");
        let of = |used: &str, budget: &str| Utilization::of(h(used), Some(h(budget))).expect("a budget");
        assert_eq!(of("9.25", "10").to_string(), "92.50");
        assert_eq!(of("1", "3").to_string(), "33.33", "a third, rounded down");
        assert_eq!(of("2", "3").to_string(), "66.66", "never rounded up into the next line");
        assert_eq!(of("12.5", "10").to_string(), "125.00");
        assert_eq!(serde_json::to_string(&of("0.25", "1")).expect("json"), "\"25.00\"");
        assert!(of("8.99", "10").at_least(89) && !of("8.99", "10").at_least(90));
        assert_eq!(of("8.99", "10").whole_percent(), 89);
        assert_eq!(Utilization::of(h("1"), None), None, "no budget, no utilization");
    }

    #[test]
    fn starting_at_or_past_90_percent_asks_with_the_minutes_left() {
        let h = |t: &str| Hours::parse(t).expect("hours");
        let lines = Thresholds::default();
        assert_eq!(
            start_question(123, h("8.99"), Some(h("10")), Hours::ZERO, lines),
            None,
            "89.9 % starts silently"
        );
        assert_eq!(
            start_question(123, h("9.8"), Some(h("10")), Hours::ZERO, lines).as_deref(),
            Some("12 minutes left before #123 locks — start anyway?")
        );
        assert_eq!(
            start_question(123, h("10.5"), Some(h("10")), h("2"), lines).as_deref(),
            Some("90 minutes left before #123 locks — start anyway?"),
            "extra hours granted count"
        );
        assert_eq!(start_question(123, h("50"), None, Hours::ZERO, lines), None, "no budget, no question");
    }

    #[test]
    fn the_time_left_is_exact_and_never_rounded_up_past_the_line() {
        let h = |t: &str| Hours::parse(t).expect("hours");
        assert_eq!(hours_left(h("9.8"), Some(h("10")), Hours::ZERO, 100), Some(h("0.2")));
        assert_eq!(
            hours_left(h("3"), Some(h("3.33")), Hours::ZERO, 90),
            Some(Hours::from_hundredths(-1)),
            "2.997 h line, past by 0.003 h"
        );
        assert_eq!(minutes_left(h("3"), Some(h("3.33")), Hours::ZERO, 90), Some(0), "never below zero");
        assert_eq!(
            minutes_left(h("0.99"), Some(h("1")), Hours::ZERO, 100),
            Some(1),
            "0.6 minutes round to 1"
        );
        assert_eq!(minutes_left(h("1"), None, Hours::ZERO, 100), None);
    }

    use super::*;

    fn h(hundredths: i64) -> Hours {
        Hours::from_hundredths(hundredths)
    }

    fn band_at(used: i64) -> Option<Band> {
        Utilization::of(h(used), Some(Hours::whole(100))).map(Utilization::band)
    }

    #[test]
    fn bands_change_exactly_at_75_90_and_100_percent() {
        assert_eq!(band_at(7_499), Some(Band::Green), "74.99 % is still green");
        assert_eq!(band_at(7_500), Some(Band::Yellow), "75 % starts yellow");
        assert_eq!(band_at(8_999), Some(Band::Yellow), "89.99 % is still yellow");
        assert_eq!(band_at(9_000), Some(Band::Orange), "90 % starts orange");
        assert_eq!(band_at(9_999), Some(Band::Orange), "99.99 % is still orange");
        assert_eq!(band_at(10_000), Some(Band::Red), "100 % is red");
        assert_eq!(band_at(25_000), Some(Band::Red), "past the budget stays red");
    }

    #[test]
    fn utilization_is_exact_and_rounded_down() {
        let u = Utilization::of(h(2), Some(h(3))).expect("budget set");
        assert_eq!(u.basis_points(), 6_666, "2/3 shows as 66.66 %");
        let u = Utilization::of(h(89_999), Some(Hours::whole(1_000))).expect("budget set");
        assert_eq!(u.percent(), 89.99, "89.999 % shows as 89.99 %, never rounded up");
        assert_eq!(u.band(), Band::Yellow, "and stays in the band its number says");
        let u = Utilization::of(h(750), Some(h(1000))).expect("budget set");
        assert_eq!(u.percent(), 75.0);
    }

    #[test]
    fn an_unset_or_zero_budget_has_no_utilization_band_or_lock() {
        assert_eq!(Utilization::of(Hours::whole(50), None), None);
        assert_eq!(Utilization::of(Hours::whole(50), Some(Hours::ZERO)), None);
        let e = evaluate(BudgetState::default(), Hours::whole(50), Some(Hours::ZERO), Thresholds::default());
        assert!(!e.state.locked, "a zero budget never locks");
        assert!(e.events.is_empty(), "and raises no events");
    }

    #[test]
    fn crossing_each_line_records_each_event_once() {
        let t = Thresholds::default();
        let budget = Some(Hours::whole(10));
        let s0 = BudgetState::default();
        let e1 = evaluate(s0, Hours::whole(7), budget, t);
        assert!(e1.events.is_empty(), "70 % crosses nothing");
        let e2 = evaluate(e1.state, h(750), budget, t);
        assert_eq!(e2.events, vec![EventKind::Approaching]);
        let e3 = evaluate(e2.state, h(800), budget, t);
        assert!(e3.events.is_empty(), "staying above 75 % does not repeat the event");
        let e4 = evaluate(e3.state, Hours::whole(9), budget, t);
        assert_eq!(e4.events, vec![EventKind::Near]);
        let e5 = evaluate(e4.state, Hours::whole(10), budget, t);
        assert_eq!(e5.events, vec![EventKind::Locked]);
        assert!(e5.state.locked);
        let e6 = evaluate(e5.state, Hours::whole(11), budget, t);
        assert!(e6.events.is_empty(), "a locked ticket does not lock twice");
    }

    #[test]
    fn a_jump_over_several_lines_records_every_line_crossed() {
        let e =
            evaluate(BudgetState::default(), Hours::whole(12), Some(Hours::whole(10)), Thresholds::default());
        assert_eq!(e.events, vec![EventKind::Approaching, EventKind::Near, EventKind::Locked]);
    }

    #[test]
    fn falling_below_a_line_rearms_it() {
        let t = Thresholds::default();
        let budget = Some(Hours::whole(10));
        let up = evaluate(BudgetState::default(), Hours::whole(8), budget, t);
        let down = evaluate(up.state, Hours::whole(5), budget, t);
        assert!(down.events.is_empty(), "going down records nothing");
        let again = evaluate(down.state, Hours::whole(8), budget, t);
        assert_eq!(again.events, vec![EventKind::Approaching], "the 75 % line fires again after re-arming");
    }

    #[test]
    fn raising_the_budget_lifts_the_lock_and_rearms() {
        let t = Thresholds::default();
        let locked = evaluate(BudgetState::default(), Hours::whole(10), Some(Hours::whole(10)), t);
        assert!(locked.state.locked);
        let raised = evaluate(locked.state, Hours::whole(10), Some(Hours::whole(20)), t);
        assert!(!raised.state.locked, "50 % of the new budget is under the lock line");
        assert_eq!(raised.events, vec![EventKind::Unlocked]);
        let back = evaluate(raised.state, Hours::whole(18), Some(Hours::whole(20)), t);
        assert_eq!(
            back.events,
            vec![EventKind::Approaching, EventKind::Near],
            "lines re-armed by the raise fire again"
        );
    }

    #[test]
    fn the_lock_threshold_is_a_setting() {
        let t = Thresholds { lock: 110, ..Thresholds::default() };
        let e = evaluate(BudgetState::default(), Hours::whole(10), Some(Hours::whole(10)), t);
        assert!(!e.state.locked, "at 100 % a 110 % lock line is not reached");
        let e = evaluate(e.state, Hours::whole(11), Some(Hours::whole(10)), t);
        assert!(e.state.locked);
    }

    #[test]
    fn only_a_pm_or_admin_unlocks_and_a_reason_is_required() {
        let locked = BudgetState { locked: true, ..BudgetState::default() };
        let used = Hours::whole(10);
        assert!(matches!(
            unlock(locked, Role::Agent, "please", Hours::ZERO, used),
            Err(TicketError::NotPermitted { .. })
        ));
        assert_eq!(unlock(locked, Role::Pm, "  ", Hours::ZERO, used), Err(TicketError::ReasonRequired));
        assert!(unlock(locked, Role::Pm, "client approved", Hours::ZERO, used).is_ok());
        assert!(unlock(locked, Role::Admin, "ok", Hours::ZERO, used).is_ok());
        assert_eq!(
            unlock(BudgetState::default(), Role::Pm, "ok", Hours::ZERO, used),
            Err(TicketError::NotLocked)
        );
    }

    #[test]
    fn extra_hours_relock_when_used_reaches_budget_plus_extra() {
        let t = Thresholds::default();
        let budget = Some(Hours::whole(10));
        let locked = evaluate(BudgetState::default(), Hours::whole(10), budget, t).state;
        let open = unlock(locked, Role::Pm, "more work approved", Hours::whole(2), Hours::whole(10))
            .expect("a PM may unlock");
        let same = evaluate(open, Hours::whole(10), budget, t);
        assert!(!same.state.locked, "the unlock holds at the hours it was granted at");
        let below = evaluate(same.state, h(1_175), budget, t);
        assert!(!below.state.locked, "11.75 h is under 10 + 2");
        let at = evaluate(below.state, Hours::whole(12), budget, t);
        assert!(at.state.locked, "12 h reaches budget + extra hours");
        assert_eq!(at.events, vec![EventKind::Locked]);
    }

    #[test]
    fn an_unlock_without_extra_hours_holds_until_more_time_is_logged() {
        let t = Thresholds::default();
        let budget = Some(Hours::whole(10));
        let locked = evaluate(BudgetState::default(), Hours::whole(10), budget, t).state;
        let open = unlock(locked, Role::Admin, "final reply", Hours::ZERO, Hours::whole(10)).expect("admin");
        assert!(!evaluate(open, Hours::whole(10), budget, t).state.locked);
        assert!(evaluate(open, h(1_025), budget, t).state.locked, "any further hour relocks");
    }
}
