# The pricing hook: orders and renewals, priced the way the embedded default
# rule prices them: the period price (the special renewal price for a
# renewal), addons above their included quantity, the setup fee with the
# first order, a renewal that extends from the expiry, an expired renewal
# that starts on the day of renewal. It does not do daily charging,
# calendar-based (pro-rata) periods or late fees: those requests are answered
# "not implemented" (HTTP 422 rule-not-implemented), never priced wrongly.

from datetime import date
from decimal import Decimal

from componentize_py_types import Err
from common import add_months, denied, invalid, money, not_implemented, parse_date, to_line_amount
from wit_world import exports
from wit_world.exports.pricing import Operation, PriceDecision, PriceRequest
from wit_world.imports.types import LateFee_None_, Line, LineKind

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
