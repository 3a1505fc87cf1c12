//! `GET/POST /v1/clock`: the test clock, present only in test-clock mode.

use super::{ApiError, App, Caller};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockState {
    /// The daemon's current time.
    pub now: DateTime<Utc>,
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

    /// Move the test clock. Time only moves forward: stored expiries and
    /// idempotency records assume it.
    pub fn set_clock(&self, caller: &Caller, to: ClockState) -> Result<ClockState, ApiError> {
        let clock = self.test_clock()?;
        caller.require_provider()?;
        let now = clock.now_utc();
        if to.now < now {
            return Err(crate::domain::tariff::Invalid {
                field: "now".into(),
                message: format!("the test clock only moves forward; it is {now}"),
            }
            .into());
        }
        clock.set(to.now);
        Ok(to)
    }
}
