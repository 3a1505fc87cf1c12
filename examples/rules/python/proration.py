# The proration hook: what a change in the middle of a paid period costs or
# returns, the way the embedded default rule (rules/default/src/proration.rs)
# decides it. It implements every event the default implements:
#
# - addon units added mid-period (seed 002, "Additional resources order
#   policy"): only the units above the included ones cost money. With the
#   current period S..E (D days, `months` long, see period.py) and the
#   change on day T leaving R days, each unit costing its price per unit a
#   month:
#   - "price before the service expiration date" (prorated-to-expiry):
#     units x price x months x R / D, an `addon` line for T..E;
#   - "full price over the whole period" (full-period): units x price x
#     months, an `addon` line for S..E however little of it is left.
#   Once nothing is left (R = 0) nothing is charged: the renewal pays them.
# - addon units removed ("Addon cancellation policy"): the unused days,
#   units x price x months x R / D, as a `refund` line for T..E, or nothing,
#   as the tariff's cancellation policy says.
# - the downtime of a daily-charged service its client suspended and now
#   resumes: refunded exactly as charged, unless the tariff charges
#   downtime.
#
# Each amount is rounded once; a zero amount records no line. A
# daily-charged service gets no addon line (its day price includes the
# addons). The cancellation of a whole service before its expiry is not
# implemented by the default either: it answers "not implemented" (HTTP 422
# rule-not-implemented) in the default's words.

import json
from decimal import Decimal

from common import invalid, not_implemented, round_share, signed_money, to_line_amount
from period import period_of
from wit_world import exports
from wit_world.exports.proration import (
    AddonOrderPolicy,
    Event_AddonCancel,
    Event_AddonOrder,
    Event_Downtime,
    ProrationDecision,
    ProrationRequest,
)
from wit_world.imports.types import Line, LineKind


def quoted(text: str) -> str:
    # The default writes names with Rust's {:?}: "ram", in double quotes.
    return json.dumps(text, ensure_ascii=False)


def paid_units(tariff, change):
    # The addon a change is about and its units that cost money before and
    # after (those above the included ones).
    addon = next((a for a in tariff.addons if a.resource == change.resource), None)
    if addon is None:
        raise invalid(f"tariff {tariff.name} has no addon {quoted(change.resource)}")
    return addon, max(change.from_ - addon.included, 0), max(change.to - addon.included, 0)


def whole_period(addon, units: int, months: int) -> Decimal:
    # What `units` of the addon cost for the service's whole period, unrounded.
    return signed_money(addon.price_per_unit, f"price of addon {addon.resource}") * units * months


def units_label(addon, units: int) -> str:
    return f"{units} {addon.unit} {addon.resource}"  # "2 GiB disk-space"


def decision(line=None) -> ProrationDecision:
    return ProrationDecision(lines=[] if line is None else [line])


def addon_order(request: ProrationRequest, change) -> ProrationDecision:
    if change.to <= change.from_:
        raise invalid(
            f"an addon order raises the quantity; {change.resource} goes from {change.from_} to {change.to}"
        )
    tariff = request.tariff
    addon, before, after = paid_units(tariff, change)
    units = after - before
    if tariff.daily is not None or units == 0:
        return decision()
    p = period_of(request.service, request.at)
    # Nothing of the period is left: the new units are paid from the next
    # period on, by its renewal.
    if p.left == 0:
        return decision()
    full = whole_period(addon, units, request.service.months)
    if request.addon_policy == AddonOrderPolicy.PRORATED_TO_EXPIRY:
        amount = round_share(full, p.left, p.days, tariff.currency)
        text = f"{units_label(addon, units)}, {p.left} day(s) to {p.expires.isoformat()}"
        start = p.today
    else:
        amount = round_share(full, 1, 1, tariff.currency)
        text = f"{units_label(addon, units)}, the whole period {p.start.isoformat()} to {p.expires.isoformat()}"
        start = p.start
    if amount <= 0:
        return decision()
    return decision(
        Line(
            kind=LineKind.ADDON,
            description=text,
            amount=to_line_amount(amount, tariff.currency),
            period_start=start.isoformat(),
            period_end=p.expires.isoformat(),
        )
    )


def addon_cancel(request: ProrationRequest, change, refund: bool) -> ProrationDecision:
    if change.to >= change.from_:
        raise invalid(
            f"an addon cancellation lowers the quantity; {change.resource} goes from {change.from_} to {change.to}"
        )
    tariff = request.tariff
    addon, before, after = paid_units(tariff, change)
    units = before - after
    if tariff.daily is not None or units == 0 or not refund:
        return decision()
    p = period_of(request.service, request.at)
    full = whole_period(addon, units, request.service.months)
    amount = round_share(full, p.left, p.days, tariff.currency)
    if amount <= 0:
        return decision()
    return decision(
        Line(
            kind=LineKind.REFUND,
            description=f"{units_label(addon, units)} removed, {p.left} unused day(s) to {p.expires.isoformat()}",
            amount=to_line_amount(-amount, tariff.currency),
            period_start=p.today.isoformat(),
            period_end=p.expires.isoformat(),
        )
    )


def downtime(tariff, days: int, charged_text: str) -> ProrationDecision:
    # Nothing to do if the tariff charges downtime, else a refund of exactly
    # what was charged (no recomputation, so the refund always matches the
    # daily lines it undoes).
    if tariff.daily is None:
        raise invalid(
            f"tariff {tariff.name} does not charge daily; only daily-charged services have downtime to settle"
        )
    charged = signed_money(charged_text, "charged")
    if charged < 0:
        raise invalid(f"the downtime was charged a negative amount ({charged})")
    if tariff.daily.charge_downtime or charged == 0:
        return decision()
    return decision(
        Line(
            kind=LineKind.REFUND,
            description=f"{tariff.name}, refund of {days} day(s) suspended by the client",
            amount=to_line_amount(-round_share(charged, 1, 1, tariff.currency), tariff.currency),
            period_start=None,
            period_end=None,
        )
    )


class Proration(exports.Proration):
    def prorate(self, request: ProrationRequest) -> ProrationDecision:
        event = request.event
        # WIT variants are one class per case: Event_Downtime(value), ...
        if isinstance(event, Event_Downtime):
            return downtime(request.tariff, event.value.days, event.value.charged)
        if isinstance(event, Event_AddonOrder):
            return addon_order(request, event.value)
        if isinstance(event, Event_AddonCancel):
            return addon_cancel(request, event.value.change, event.value.refund)
        raise not_implemented("the default rules do not prorate cancellations before the expiry yet")
