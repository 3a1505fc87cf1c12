//! The current period of a service, as a change in the middle of it sees it
//! (a tariff change, addon units added or removed).
//!
//! The period runs from `S` (`service.period_start`) to `E`
//! (`service.expires`, the exclusive end of the paid time), `D` days. A
//! change on day `T` (the date of the request's `at`) leaves `R = E − T`
//! days, the day of the change included, or 0 once `E <= T`. Seed 002:
//! "valid until November 30, ordered November 15: 15 days" is `E` = November
//! 30, `T` = November 15, `R` = 15. A change on the first day of the period
//! leaves all `D` days, one on its last day leaves 1. A change before `S` (a
//! period renewed early starts at the old expiry) leaves more than `D`: the
//! days to `S` count too, at the same rate.

use crate::prelude::*;
use rules_sdk::*;

pub(crate) struct Period {
    /// `S`: the first day of the period.
    pub start: NaiveDate,
    /// `E`: the exclusive end of the paid time.
    pub expires: NaiveDate,
    /// `D`: the period's days, at least 1.
    pub days: i64,
    /// `T`: the day of the change.
    pub today: NaiveDate,
    /// `R`: the days from `T` to `E`, `T` included; 0 once `E <= T`.
    pub left: i64,
}

impl Period {
    /// The current period of `service` on the day of `at`. InvalidInput,
    /// naming the field, when the service has no start or expiry, or when
    /// its period has no days.
    pub(crate) fn of(service: &Service, at: DateTime<Utc>) -> Result<Period, RuleError> {
        let missing = |field: &str| {
            RuleError::InvalidInput(format!(
                "service {}: service.{field} is missing; a change mid-period needs the current period",
                service.id
            ))
        };
        let start = service
            .period_start
            .ok_or_else(|| missing("period-start"))?;
        let expires = service.expires.ok_or_else(|| missing("expires"))?;
        let days = days_between(start, expires);
        if days <= 0 {
            return Err(RuleError::InvalidInput(format!(
                "service {}: its period {start}..{expires} has no days (period-start must be before expires)",
                service.id
            )));
        }
        let today = at.date_naive();
        Ok(Period {
            start,
            expires,
            days,
            today,
            left: days_between(today, expires).max(0),
        })
    }

    /// `amount × R / D`, exact as far as `Decimal` goes (multiplied before
    /// it is divided), unrounded.
    pub(crate) fn share_left(&self, amount: Decimal) -> Decimal {
        amount * Decimal::from(self.left) / Decimal::from(self.days)
    }

    /// Whether the paid time ended before the day of the change (`E < T`).
    pub(crate) fn is_over(&self) -> bool {
        self.expires < self.today
    }
}
