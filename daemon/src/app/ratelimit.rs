//! Per-key rate limits: a token bucket per API key (governor's GCRA), with
//! one quota per role, so one reseller's runaway script cannot take every
//! tenant's share of the daemon. The defaults never bind a provider's
//! normal load (see `RateLimit::provider_default`).

use super::caller::Caller;
use crate::domain::accounts::Role;
use crate::domain::ids::KeyId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// Requests per second a key may make, sustained, and in a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl RateLimit {
    /// Well above what the daemon serves on the 2-core reference machine
    /// (BENCHMARKS.md): it never binds a provider.
    pub fn provider_default() -> RateLimit {
        RateLimit::new(50_000, 100_000)
    }

    /// A reseller's integration may use a good share of the daemon, not all.
    pub fn reseller_default() -> RateLimit {
        RateLimit::new(2_000, 4_000)
    }

    fn new(per_second: u32, burst: u32) -> RateLimit {
        RateLimit {
            per_second: NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        }
    }

    fn quota(self) -> Quota {
        Quota::per_second(self.per_second).allow_burst(self.burst)
    }
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    /// "RATE" or "RATE/BURST", requests per second: "2000", "2000/4000".
    fn from_str(s: &str) -> Result<RateLimit, String> {
        let number = |t: &str| {
            t.parse::<NonZeroU32>()
                .map_err(|_| format!("{t:?} is not a positive whole number of requests"))
        };
        let (rate, burst) = match s.split_once('/') {
            Some((r, b)) => (number(r)?, number(b)?),
            None => {
                let r = number(s)?;
                (
                    r,
                    r.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN)),
                )
            }
        };
        Ok(RateLimit {
            per_second: rate,
            burst,
        })
    }
}

/// The buckets of every key, one limiter per role.
pub struct RateLimits {
    provider: DefaultKeyedRateLimiter<KeyId>,
    reseller: DefaultKeyedRateLimiter<KeyId>,
    clock: DefaultClock,
}

impl RateLimits {
    pub fn new(provider: RateLimit, reseller: RateLimit) -> RateLimits {
        RateLimits {
            provider: RateLimiter::keyed(provider.quota()),
            reseller: RateLimiter::keyed(reseller.quota()),
            clock: DefaultClock::default(),
        }
    }

    /// Take a request from the caller's bucket: Err(how long until one is
    /// there) when it is empty.
    pub fn check(&self, caller: &Caller) -> Result<(), Duration> {
        let limiter = match caller.role {
            Role::Provider => &self.provider,
            Role::Reseller => &self.reseller,
        };
        limiter
            .check_key(&caller.key_id)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_rate_and_an_optional_burst() {
        let l: RateLimit = "2000/4000".parse().unwrap();
        assert_eq!((l.per_second.get(), l.burst.get()), (2000, 4000));
        let l: RateLimit = "10".parse().unwrap();
        assert_eq!((l.per_second.get(), l.burst.get()), (10, 20));
        for bad in ["0", "-1", "1/0", "x", "", "1/2/3", "1.5"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad:?}");
        }
    }
}
