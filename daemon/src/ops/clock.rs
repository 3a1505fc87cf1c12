//! `GET/POST /v1/clock`: the test clock, present only in test-clock mode.

use crate::app::daily::DailyReport;
use crate::app::{ApiError, App, Caller};
use crate::domain::day;
use crate::domain::invalid::invalid;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The furthest one move of the test clock may go, in days.
pub const MAX_MOVE_DAYS: i64 = 3660;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockState {
    /// The daemon's current time.
    pub now: DateTime<Utc>,
}

/// The clock after a move, and what the daily job did for the days passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClockSet {
    pub now: DateTime<Utc>,
    pub daily: DailyReport,
}

impl App {
    fn test_clock(&self) -> Result<&crate::clock::TestClock, ApiError> {
        self.test_clock.as_deref().ok_or_else(|| {
            ApiError::NotFound(
                "no test clock: start the daemon with --test-clock to use /v1/clock".into(),
            )
        })
    }

    pub fn get_clock(&self, _caller: &Caller) -> Result<ClockState, ApiError> {
        Ok(ClockState {
            now: self.test_clock()?.now_utc(),
        })
    }

    /// Move the test clock and run the daily job for the days it passed, so
    /// the state is what it would be had the time passed for real. Time only
    /// moves forward: stored expiries and idempotency records assume it.
    pub async fn set_clock(&self, caller: &Caller, to: ClockState) -> Result<ClockSet, ApiError> {
        self.move_clock(caller, &to)?;
        let daily = self.run_daily_jobs(to.now.date_naive()).await?;
        Ok(ClockSet { now: to.now, daily })
    }

    fn move_clock(&self, caller: &Caller, to: &ClockState) -> Result<(), ApiError> {
        let clock = self.test_clock()?;
        caller.require_provider()?;
        day::check_range("now", to.now.date_naive())?;
        let now = clock.now_utc();
        if to.now < now {
            return Err(invalid(
                "now",
                format!("the test clock only moves forward; it is {now}"),
            )
            .into());
        }
        // Every day passed runs the daily job, so one move is bounded: a
        // typo of a year (20226) would otherwise keep the request busy for
        // hours.
        let days = (to.now.date_naive() - now.date_naive()).num_days();
        if days > MAX_MOVE_DAYS {
            return Err(invalid(
                "now",
                format!(
                    "that moves the test clock {days} days; move it at most {MAX_MOVE_DAYS} days \
                     (about ten years) at a time"
                ),
            )
            .into());
        }
        clock.set(to.now);
        Ok(())
    }
}
