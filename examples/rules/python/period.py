# The current period of a service, as a change in the middle of it sees it
# (a tariff change, addon units added or removed): the default rule's
# period.rs, shared by proration.py and tariff_change.py.
#
# The period runs from S (service.period_start) to E (service.expires, the
# exclusive end of the paid time), D days. A change on day T (the date of
# request.at) leaves R = E - T days, the day of the change included, or 0
# once E <= T. Seed 002: "valid until November 30, ordered November 15:
# 15 days" is E = November 30, T = November 15, R = 15. A change before S
# (a period renewed early starts at the old expiry) leaves more than D: the
# days to S count too, at the same rate.

from dataclasses import dataclass
from datetime import date

from common import days_between, invalid, parse_date


@dataclass
class Period:
    start: date  # S
    expires: date  # E
    days: int  # D, at least 1
    today: date  # T
    left: int  # R, 0 once E <= T

    def is_over(self) -> bool:
        # The paid time ended before the day of the change (E < T).
        return self.expires < self.today


def period_of(service, at: str) -> Period:
    # Invalid input, naming the field, when the service has no start or
    # expiry, or when its period has no days: the default's words.
    def missing(field: str):
        return invalid(
            f"service {service.id}: service.{field} is missing; a change mid-period needs the current period"
        )

    if service.period_start is None:
        raise missing("period-start")
    if service.expires is None:
        raise missing("expires")
    start = parse_date(service.period_start, "service.period-start")
    expires = parse_date(service.expires, "service.expires")
    days = days_between(start, expires)
    if days <= 0:
        raise invalid(
            f"service {service.id}: its period {start.isoformat()}..{expires.isoformat()} has no days"
            " (period-start must be before expires)"
        )
    today = parse_date(at, "at")
    return Period(start, expires, days, today, max(days_between(today, expires), 0))
