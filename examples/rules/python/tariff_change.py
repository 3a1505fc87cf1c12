# The tariff-change hook: what moving a service to another tariff costs,
# under the change policy of the tariff being left (seed 002, "Tariff change
# policy"), decided the way the embedded default rule decides it
# (rules/default/src/tariff_change.rs, docs/tariff-changes.md). It
# implements every policy the default implements:
#
# - add-funds-or-refund: diff = round((new - old) x R / D): an upgrade
#   charges it (a `change` line), a downgrade refunds it (a `refund` line,
#   never more than `paid`), both for T..E; the period stays S..E;
# - extra-charge-only: the upgrade charge; a downgrade records nothing;
# - change-period: no money; the expiry becomes T + floor(R x old / new)
#   whole days (a free target, or one so cheap the time would run past
#   9999-12-31, is denied);
# - forbidden: denied, naming the tariff;
# - full-payment-from-today / -from-expiry: the new tariff's value for the
#   months asked for, a new period of them from T or from E (T if expired).
#
# Notation (period.py): the period S..E (D days), the change on day T
# leaving R days. V(tariff, m, Q) is the tariff's *order* price of m months
# plus its addon units in Q above the included ones x price per unit x m.
# A service on or past its expiry changes only by a full payment. A
# daily-charged service changes without money (its period stays); a change
# between daily and period charging is invalid input, as in the default.
#
# Nothing is left out: no request is answered "not implemented". (The
# default's arithmetic overflows past 28 digits where this one, exact,
# does not: with prices of sane size, as the daemon admits, they agree.)

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from common import (
    add_months,
    days_between,
    denied,
    invalid,
    round_share,
    signed_money,
    to_line_amount,
    truncate_to_minor_unit,
)
from period import Period, period_of
from wit_world import exports
from wit_world.exports.tariff_change import ChangeDecision, ChangePolicy, ChangeRequest
from wit_world.imports.types import Line, LineKind

# The last date the contract can write.
LAST_DAY = date(9999, 12, 31)


def forbidden(tariff):
    return denied(f"tariff {tariff.name} cannot be changed")


def unchanged(p: Period, lines=None) -> ChangeDecision:
    # The period as it is.
    return ChangeDecision(
        lines=lines or [], period_start=p.start.isoformat(), expires=p.expires.isoformat()
    )


def value(tariff, months: int, addons) -> Decimal:
    # V(tariff, months, addons), unrounded. Denied if the tariff does not
    # sell `months`; invalid input if it has a negative price.
    text = next((p.price for p in tariff.prices if p.months == months), None)
    if text is None:
        raise denied(f"tariff {tariff.name} does not sell {months} month(s)")
    price = signed_money(text, "price")
    per_unit = [signed_money(a.price_per_unit, f"price of addon {a.resource}") for a in tariff.addons]
    if price < 0 or any(u < 0 for u in per_unit):
        raise invalid(f"tariff {tariff.name} has a negative price")
    per_month = Decimal(0)
    for addon, unit_price in zip(tariff.addons, per_unit):
        # An addon missing from the quantities has just the included units.
        quantity = next((q.quantity for q in addons if q.resource == addon.resource), addon.included)
        per_month += max(quantity - addon.included, 0) * unit_price
    return price + per_month * months


def values(request: ChangeRequest, p: Period):
    # The old and the new value, for the policies that compare them: denied
    # once nothing of the period is left (on the expiry day the service is
    # paid through the day before).
    if p.left == 0:
        raise denied(f"the service expired on {p.expires.isoformat()}: renew it before changing its tariff")
    return (
        value(request.from_, request.service.months, request.service.addons),
        value(request.to, request.months, request.addons),
    )


def difference(request: ChangeRequest, p: Period, refund: bool) -> ChangeDecision:
    # The difference of the values for the days left: charged on an upgrade,
    # refunded (at most what was paid) or not on a downgrade.
    old, new = values(request, p)
    currency = request.to.currency
    diff = round_share(new - old, p.left, p.days, currency)
    names = f"{request.from_.name} \u2192 {request.to.name}"
    if diff > 0:
        kind, text, amount = LineKind.CHANGE, f"{names}: difference for {p.left} day(s)", diff
    elif diff < 0 and refund:
        # All of `paid` may be refunded, cut to whole minor units (never
        # more), or nothing if it is not positive.
        cap = truncate_to_minor_unit(max(signed_money(request.paid, "paid"), Decimal(0)), currency)
        if cap <= 0:
            return unchanged(p)
        kind, text, amount = LineKind.REFUND, f"{names}: refund of the difference for {p.left} day(s)", max(diff, -cap)
    else:
        return unchanged(p)
    line = Line(
        kind=kind,
        description=text,
        amount=to_line_amount(amount, currency),
        period_start=p.today.isoformat(),
        period_end=p.expires.isoformat(),
    )
    return unchanged(p, [line])


def change_period(request: ChangeRequest, p: Period) -> ChangeDecision:
    # The unused value of the old tariff buys whole days of the new one,
    # rounded down: floor(R x old / new), exactly (Fraction).
    old, new = values(request, p)
    if new <= 0:
        raise denied(
            f"tariff {request.to.name} is free: its price cannot measure the unused value of the period"
        )
    days = (Fraction(p.left) * Fraction(old)) // Fraction(new)
    if days > days_between(p.today, LAST_DAY):
        raise denied(
            f"tariff {request.to.name} is too cheap to convert the unused value of the period into time:"
            " it would last past 9999-12-31"
        )
    expires = p.today + timedelta(days=int(days))
    # The period keeps its start, unless the change comes before it starts
    # (a service renewed early) and the time bought ends before then too:
    # the service then has just that time, from today.
    start = p.today if expires < p.start else p.start
    return ChangeDecision(lines=[], period_start=start.isoformat(), expires=expires.isoformat())


def full_payment(request: ChangeRequest, from_day: date) -> ChangeDecision:
    # The new tariff's value for the months asked for, paying for a new
    # period of them from `from_day`.
    to = request.to
    new = value(to, request.months, request.addons)
    until = add_months(from_day, request.months)
    line = Line(
        kind=LineKind.CHANGE,
        description=f"{to.name}, {request.months} month(s) (tariff change)",
        amount=to_line_amount(new, to.currency),
        period_start=from_day.isoformat(),
        period_end=until.isoformat(),
    )
    return ChangeDecision(lines=[line], period_start=from_day.isoformat(), expires=until.isoformat())


class TariffChange(exports.TariffChange):
    def change(self, request: ChangeRequest) -> ChangeDecision:
        source, target = request.from_, request.to
        # First: a forbidden change is denied whatever the service is.
        if request.policy == ChangePolicy.FORBIDDEN:
            raise forbidden(source)
        p = period_of(request.service, request.at)
        if source.daily is not None and target.daily is not None:
            # Nothing now; the next uncharged day at the new price. Its days
            # must be charged up to today first.
            if p.is_over():
                raise denied(
                    f"the service is charged only until {p.expires.isoformat()}:"
                    " its days since must be paid before its tariff changes"
                )
            return unchanged(p)
        if source.daily is not None or target.daily is not None:
            raise invalid(
                f"a change between daily and period charging ({source.name} to {target.name})"
                " is not a tariff change this rule prices"
            )
        policy = request.policy
        if policy == ChangePolicy.ADD_FUNDS_OR_REFUND:
            return difference(request, p, True)
        if policy == ChangePolicy.EXTRA_CHARGE_ONLY:
            return difference(request, p, False)
        if policy == ChangePolicy.CHANGE_PERIOD:
            return change_period(request, p)
        if policy == ChangePolicy.FULL_PAYMENT_FROM_TODAY:
            return full_payment(request, p.today)
        return full_payment(request, max(p.expires, p.today))  # FULL_PAYMENT_FROM_EXPIRY
