# The wholesale hook: the reseller's shadow line for each retail line of its
# client, at the reseller's wholesale prices, computed the way the embedded
# default rule computes it (seed 001, H-Sphere resellers). It implements all
# of the default's logic:
#
# - an order, a renewal, a day, or a downtime refund pays for everything the
#   service holds (its base price, part "service", and each resource) over
#   the line's period: N months of them for N months, a day's share of its
#   month for a day; a refund is credited;
# - a tariff or addon change pays for what it adds (units held after minus
#   before) for the days up to the old expiry (already shadowed for what was
#   held then), and for everything held after for days past it; its refund
#   credits what it gives back (units held before minus after);
# - setup fees, late fees, adjustments and lines without a period shadow
#   nothing (an empty list: a shadow line of zero).
#
# The share of a period is its whole calendar months plus the rest as a
# fraction of the next month (Jan 31 to Feb 28 is one month, Mar 5 to Mar 6
# is 1/31); each part is rounded once, half away from zero, to the
# currency's minor unit; a part of zero is left out.
#
# A share like 1/31 does not terminate, so where it is rounded decides the
# last cent when a part lands near a half. The default computes in
# rust_decimal (at most 28 decimal places in a 96-bit mantissa, rounding
# half to even when a result does not fit); this port computes the same way
# (the Dec class below), so it agrees with the default to the cent.
# Nothing here answers not-implemented.

import re
from datetime import date

from common import add_months, invalid, minor_units, parse_date
from wit_world import exports
from wit_world.exports.wholesale import (
    WholesaleCause,
    WholesaleDecision,
    WholesalePart,
    WholesaleRequest,
)
from wit_world.imports.types import LineKind

BASE_RESOURCE = "service"  # the part of the service's base price

# --- rust_decimal arithmetic --------------------------------------------------
# A number is an integer mantissa and a scale (value = m / 10**scale). Every
# result that does not fit 96 bits and 28 places is rounded the way
# rust_decimal rounds it, so the parts are the default's to the cent.

_MAX_MANTISSA = 1 << 96
_MAX_SCALE = 28


def _half_even(q: int, r: int, divisor: int) -> int:
    if 2 * r > divisor or (2 * r == divisor and q % 2 == 1):
        return q + 1
    return q


class Dec:
    __slots__ = ("m", "s")

    def __init__(self, m: int, s: int = 0):
        self.m, self.s = m, s
        self._fit()

    def _fit(self):
        a = abs(self.m)
        if a < _MAX_MANTISSA and self.s <= _MAX_SCALE:
            return
        # How many digits to drop: rust_decimal's estimate from the bits
        # above 96 (it may drop one more than needed, and so do we), at least
        # enough for 28 places, then one at a time until it fits.
        k = 0
        if a >= _MAX_MANTISSA:
            k = (((a.bit_length() - 1 - 96) * 77) >> 8) + 1
        k = max(k, self.s - _MAX_SCALE)
        while a // 10**k >= _MAX_MANTISSA:
            k += 1
        if k > self.s:
            raise invalid("an amount is too large to compute")
        q, r = divmod(a, 10**k)
        q = _half_even(q, r, 10**k)
        s = self.s - k
        if q >= _MAX_MANTISSA:  # the rounding carried over
            q, r = divmod(q, 10)
            q, s = _half_even(q, r, 10), s - 1
        self.m, self.s = (-q if self.m < 0 else q), s

    def __mul__(self, other: "Dec") -> "Dec":
        if self.m == 0 or other.m == 0:
            return Dec(0)
        return Dec(self.m * other.m, self.s + other.s)

    def __add__(self, other: "Dec") -> "Dec":
        s = max(self.s, other.s)
        return Dec(self.m * 10 ** (s - self.s) + other.m * 10 ** (s - other.s), s)

    @staticmethod
    def ratio(n: int, d: int) -> "Dec":
        # n / d of non-negative whole numbers: exact when it terminates within
        # 28 places, else to as many places as fit, rounded half to even.
        for s in range(_MAX_SCALE + 1):
            if (n * 10**s) % d == 0:
                return Dec(n * 10**s // d, s)
        s = _MAX_SCALE
        while True:
            q, r = divmod(n * 10**s, d)
            q = _half_even(q, r, d)
            if q < _MAX_MANTISSA:
                return Dec(q, s)
            s -= 1

    def to_minor_unit(self, currency: str):
        # Rounded half away from zero to the currency's places, written with
        # exactly that many: "0.48", "-0.32", "125"; None when that is zero.
        places = minor_units(currency)
        a = abs(self.m)
        if self.s <= places:
            q = a * 10 ** (places - self.s)
        else:
            q, r = divmod(a, 10 ** (self.s - places))
            if 2 * r >= 10 ** (self.s - places):
                q += 1
        if q == 0:
            return None  # a part of zero is left out
        digits = str(q).rjust(places + 1, "0")
        text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"
        return ("-" if self.m < 0 else "") + text


_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d+))?$")


def parse_amount(text: str, what: str) -> Dec:
    # A signed decimal amount ("-2.00" for a refund), kept exact.
    match = _AMOUNT.match(text)
    if match is None:
        raise invalid(f"{what} is not a decimal amount: {text!r}")
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    m = int(whole + frac)
    return Dec(-m if sign else m, len(frac))


# --- shares of time ---------------------------------------------------------------


def months(start: date, end: date) -> Dec:
    # The calendar months from start to end: whole months (counted from
    # start each time, so month ends clamp as orders do: Jan 31 + 1 = Feb 28,
    # + 2 = Mar 31), then the rest as a share of the month that follows.
    if end <= start:
        return Dec(0)
    whole = 0
    while whole < 1200 and add_months(start, whole + 1) <= end:
        whole += 1
    since = add_months(start, whole)
    rest = (end - since).days
    if rest <= 0:
        return Dec(whole)
    month = (add_months(start, whole + 1) - since).days
    return Dec(whole) + Dec.ratio(rest, month)


# --- the hook ------------------------------------------------------------------------


class Units:
    # Units of one resource type held before and after the decision.
    def __init__(self, resource: str, price: Dec):
        self.resource, self.price = resource, price
        self.before, self.after = 0, 0


def held_units(request: WholesaleRequest, base: Dec, prices) -> list:
    # Every resource type held before or after, the base price first (held
    # once, before and after alike). A resource without a wholesale price
    # costs nothing.
    base_units = Units(BASE_RESOURCE, base)
    base_units.before = base_units.after = 1
    out = [base_units]
    for holdings, after in ((request.held_before, False), (request.held_after, True)):
        for h in holdings:
            u = next((u for u in out if u.resource == h.resource), None)
            if u is None:
                u = Units(h.resource, prices.get(h.resource, Dec(0)))
                out.append(u)
            # Units are u32: a sum beyond that stops there, as in the default.
            if after:
                u.after = min(u.after + h.units, _MAX_UNITS)
            else:
                u.before = min(u.before + h.units, _MAX_UNITS)
    return out


_MAX_UNITS = 2**32 - 1

PAYS_ALL_CAUSES = (WholesaleCause.ORDER, WholesaleCause.RENEWAL, WholesaleCause.DAY, WholesaleCause.DOWNTIME)
PAYS_ALL_KINDS = (LineKind.ORDER, LineKind.RENEWAL, LineKind.DAILY, LineKind.REFUND)
CHANGE_CAUSES = (WholesaleCause.TARIFF_CHANGE, WholesaleCause.ADDON_CHANGE)


def shadow(request: WholesaleRequest, held: list, line) -> list:
    if line.period_start is None or line.period_end is None:
        return []
    start = parse_date(line.period_start, "period start")
    end = parse_date(line.period_end, "period end")
    if end <= start:
        return []
    if request.cause in PAYS_ALL_CAUSES and line.kind in PAYS_ALL_KINDS:
        share = months(start, end)
        values = [u.price * Dec(u.after) * share for u in held]
    elif request.cause in CHANGE_CAUSES and line.kind in (LineKind.CHANGE, LineKind.ADDON):
        # Days up to the old expiry were shadowed for what was held then:
        # only what is added is owed for them.
        split = start
        if request.paid_until is not None:
            split = min(max(parse_date(request.paid_until, "paid-until"), start), end)
        paid, new = months(start, split), months(split, end)
        values = [
            u.price * (Dec(max(u.after - u.before, 0)) * paid + Dec(u.after) * new) for u in held
        ]
    elif request.cause in CHANGE_CAUSES and line.kind == LineKind.REFUND:
        share = months(start, end)
        values = [u.price * Dec(max(u.before - u.after, 0)) * share for u in held]
    else:
        return []  # setup and late fees pay for no resource
    credited = line.amount.startswith("-")
    parts = []
    for u, value in zip(held, values):
        amount = value.to_minor_unit(request.currency)  # never negative here
        if amount is not None:
            parts.append(WholesalePart(resource=u.resource, amount=("-" if credited else "") + amount))
    return parts


class Wholesale(exports.Wholesale):
    def wholesale(self, request: WholesaleRequest) -> WholesaleDecision:
        base = parse_amount(request.service_base, "service base")
        prices = {}
        for p in request.prices:
            prices.setdefault(p.resource, parse_amount(p.price, f"wholesale price of {p.resource}"))
        # "-0" is negative too, as the default sees it.
        texts = [request.service_base] + [p.price for p in request.prices]
        if any(t.startswith("-") for t in texts):
            raise invalid("a wholesale price is negative")
        held = held_units(request, base, prices)
        return WholesaleDecision(shadows=[shadow(request, held, line) for line in request.lines])
