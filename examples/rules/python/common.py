# Helpers every hook of the example rule shares: refusals, money, dates.
#
# Nothing here touches the clock, randomness or the environment: a rule is a
# pure function of its request (the decision time is request.at).

import calendar
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

from componentize_py_types import Err
from wit_world.imports.types import (
    RuleError_Denied,
    RuleError_InvalidInput,
    RuleError_NotImplemented,
)

# A WIT `result<_, rule-error>` error is returned by raising Err(case).
# Any other exception escaping a hook traps the instance: the daemon
# answers 502 rule-failed, which tells the client nothing useful. So turn
# every expected failure into one of the three rule-error cases:
#   denied          -> 422 rule-denied         (a policy says no; shown to a person)
#   invalid-input   -> 422 rule-rejected-input (the facts make no sense to this rule)
#   not-implemented -> 422 rule-not-implemented


def denied(text: str) -> Err:
    return Err(RuleError_Denied(text))


def invalid(text: str) -> Err:
    return Err(RuleError_InvalidInput(text))


def not_implemented(text: str) -> Err:
    return Err(RuleError_NotImplemented(text))


# --- money -------------------------------------------------------------
# Money crosses the boundary as decimal strings ("10.00"). Keep it in
# Decimal, never float: 0.1 + 0.2 != 0.3 in binary floating point.

# Decimal places of each currency's minor unit (ISO 4217), the table the
# daemon checks lines against: a line finer than this is refused (502).
_NO_MINOR_UNIT = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
    "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
}
_THREE_PLACES = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_FOUR_PLACES = {"CLF", "UYW"}


def minor_units(currency: str) -> int:
    if currency in _NO_MINOR_UNIT:
        return 0
    if currency in _THREE_PLACES:
        return 3
    if currency in _FOUR_PLACES:
        return 4
    return 2


def money(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(f"{what} is not a decimal amount: {text!r}")
    if not value.is_finite() or value < 0:
        raise invalid(f"{what} must be a non-negative amount: {text!r}")
    return value


def to_line_amount(value: Decimal, currency: str) -> str:
    # Tariff prices may have up to 4 places (0.0125 per GB); a ledger line
    # may not. Round once, on the line's final amount, half away from zero
    # (ROUND_HALF_UP is "away from zero" in Python's decimal), and write
    # exactly the currency's places: "5.00" EUR, "334" JPY, like the default.
    places = minor_units(currency)
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), "f")


# --- dates ---------------------------------------------------------------
# Dates are "YYYY-MM-DD" strings. datetime.date parses, compares and formats
# them, but never ask it for today: the clock inside the sandbox is frozen
# at 1970-01-01. The decision time is request.at.


def parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise invalid(f"{what} is not a date: {text!r}")


def add_months(start: date, months: int) -> date:
    # Calendar months, clamped to the end of a shorter month:
    # Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year).
    n = start.year * 12 + (start.month - 1) + months
    year, month = divmod(n, 12)
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


# --- signed money, shares, days (proration, tariff change) ------------------


def signed_money(text: str, what: str) -> Decimal:
    # Like money(), for the amounts that may carry a sign: what a client
    # paid, a price a hook checks itself for being negative.
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise invalid(f"{what} is not a decimal amount: {text!r}")
    if not value.is_finite():
        raise invalid(f"{what} is not a decimal amount: {text!r}")
    return value


def round_share(amount: Decimal, k: int, n: int, currency: str) -> Decimal:
    # round(amount x k / n) to the currency's minor unit, half away from
    # zero, computed exactly (Fraction: no precision limit, so a true
    # midpoint is seen as one), multiplied before it is divided. The result
    # has exactly the currency's places: to_line_amount writes it as is.
    places = minor_units(currency)
    scaled = Fraction(amount) * k * 10**places / n
    units = (abs(scaled.numerator) * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(-units if scaled < 0 else units).scaleb(-places)


def truncate_to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    # Cut towards zero to the currency's places (never more than amount).
    places = minor_units(currency)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def days_between(first: date, last: date) -> int:
    # Days from first to last: 2026-11-15 to 2026-11-30 is 15.
    return (last - first).days
