# A rulesd pricing rule in Python, built with componentize-py into a
# component of the world `pricing-rule` (rules-sdk/wit/rules.wit).
#
# It prices orders and renewals the way the embedded default rule does:
# the period price (the special renewal price for a renewal), addons above
# their included quantity, the setup fee with the first order, a renewal
# that extends from the expiry, an expired renewal that starts on the day of
# renewal. It does not do daily charging, calendar-based (pro-rata) periods
# or late fees: those requests are answered "not implemented" (HTTP 422
# rule-not-implemented), never priced wrongly.
#
# Build: ./build.sh (see docs/rules-in-other-languages.md).

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# componentize-py generates these modules from the WIT at build time; they
# do not exist outside the build. Interfaces a world exports live under
# wit_world.exports, the types they `use` under wit_world.imports.
from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.pricing import Operation, PriceDecision, PriceRequest
from wit_world.imports.types import (
    LateFee_None_,
    Line,
    LineKind,
    RuleError_Denied,
    RuleError_InvalidInput,
    RuleError_NotImplemented,
)

# A WIT `result<_, rule-error>` error is returned by raising Err(case).
# Any other exception escaping price() traps the instance: the daemon
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


# --- the tariff ------------------------------------------------------------


def period_label(months: int) -> str:
    # The default rule's wording, so line descriptions match it too.
    return {1: "1 month", 12: "1 year", 36: "3 years"}.get(months, f"{months} months")


def not_sold(tariff, months: int) -> Err:
    on_sale = ", ".join(str(m) for m in sorted({p.months for p in tariff.prices})) or "none"
    return denied(
        f"tariff {tariff.name} is not sold for {months} month(s); periods on sale (months): {on_sale}"
    )


def price_for(prices, months: int):
    for p in prices:
        if p.months == months:
            return p.price
    return None


def addons_amount(request: PriceRequest) -> Decimal:
    # Addon units above the included quantity, at their monthly price,
    # for every month of the period.
    total = Decimal(0)
    for wanted in request.addons:
        addon = next((a for a in request.tariff.addons if a.resource == wanted.resource), None)
        if addon is None:
            raise denied(f"tariff {request.tariff.name} has no addon {wanted.resource!r}")
        if not addon.minimum <= wanted.quantity <= addon.maximum:
            raise denied(
                f"addon {addon.resource} must be between {addon.minimum} and {addon.maximum} {addon.unit}"
            )
        extra = max(wanted.quantity - addon.included, 0)
        total += money(addon.price_per_unit, f"price of addon {addon.resource}") * extra * request.months
    return total


# --- the hook --------------------------------------------------------------


class Pricing(exports.Pricing):
    def price(self, request: PriceRequest) -> PriceDecision:
        tariff = request.tariff
        if request.months == 0:
            raise invalid("a period is at least one month long; got 0 months")
        # Refuse what this rule does not implement instead of guessing.
        if tariff.daily is not None:
            raise not_implemented("this rule does not price daily charging")
        if request.operation == Operation.DAILY:
            raise invalid(f"tariff {tariff.name} does not charge daily; it has no daily charge")
        if tariff.pro_rata_day is not None:
            raise not_implemented("this rule does not price calendar-based periods")

        # The decision time is an input: the only clock a rule sees.
        today = parse_date(request.at, "at")

        if request.operation == Operation.ORDER:
            return self.order(request, today)
        return self.renewal(request, today)

    def order(self, request: PriceRequest, today: date) -> PriceDecision:
        tariff = request.tariff
        price = price_for(tariff.prices, request.months)
        if price is None:
            raise not_sold(tariff, request.months)
        amount = money(price, "price") + addons_amount(request)
        end = add_months(today, request.months)
        lines = [
            Line(
                kind=LineKind.ORDER,
                description=f"{tariff.name}, {period_label(request.months)}",
                amount=to_line_amount(amount, tariff.currency),
                period_start=today.isoformat(),
                period_end=end.isoformat(),
            )
        ]
        setup_fee = money(tariff.setup_fee, "setup fee")
        if setup_fee > 0:
            lines.append(
                Line(
                    kind=LineKind.SETUP,
                    description=f"{tariff.name}, setup fee",
                    amount=to_line_amount(setup_fee, tariff.currency),
                    period_start=None,  # option<date>: None is `none`
                    period_end=None,
                )
            )
        return PriceDecision(lines=lines, period_start=today.isoformat(), expires=end.isoformat())

    def renewal(self, request: PriceRequest, today: date) -> PriceDecision:
        tariff = request.tariff
        service = request.service
        if service is None:
            raise invalid("a renewal needs the service being renewed")
        # A missing special renewal price renews at the order price.
        price = price_for(tariff.renewal_prices, request.months)
        if price is None:
            price = price_for(tariff.prices, request.months)
        if price is None:
            raise not_sold(tariff, request.months)
        amount = money(price, "price") + addons_amount(request)

        expires = parse_date(service.expires, "expires") if service.expires is not None else None
        if expires is not None and expires >= today:
            start = expires  # renewed in time: no day lost or paid twice
        elif expires is not None and not isinstance(tariff.late_fee, LateFee_None_):
            # WIT variants are one class per case: LateFee_Fixed(value), ...
            raise not_implemented("this rule does not price late renewal fees")
        else:
            start = today  # expired (no late fee) or never paid: from today
        end = add_months(start, request.months)
        line = Line(
            kind=LineKind.RENEWAL,
            description=f"{tariff.name}, renewal, {period_label(request.months)}",
            amount=to_line_amount(amount, tariff.currency),
            period_start=start.isoformat(),
            period_end=end.isoformat(),
        )
        return PriceDecision(lines=[line], period_start=start.isoformat(), expires=end.isoformat())
