// The tariff-change hook: what moving a service to another tariff costs,
// under the change policy of the tariff being left (seed 002, "Tariff change
// policy"), decided the way the embedded default rule decides it
// (rules/default/src/tariff_change.rs, docs/tariff-changes.md). It
// implements every policy the default implements:
//
// - add-funds-or-refund: diff = round((new - old) x R / D): an upgrade
//   charges it (a `change` line), a downgrade refunds it (a `refund` line,
//   never more than `paid`), both for T..E; the period stays S..E;
// - extra-charge-only: the upgrade charge; a downgrade records nothing;
// - change-period: no money; the expiry becomes T + floor(R x old / new)
//   whole days (a free target, or one so cheap the time would run past
//   9999-12-31, is denied);
// - forbidden: denied, naming the tariff;
// - full-payment-from-today / -from-expiry: the new tariff's value for the
//   months asked for, a new period of them from T or from E (T if expired).
//
// Notation (period.js): the period S..E (D days), the change on day T
// leaving R days. V(tariff, m, Q) is the tariff's *order* price of m months
// plus its addon units in Q above the included ones x price per unit x m.
// A service on or past its expiry changes only by a full payment. A
// daily-charged service changes without money (its period stays); a change
// between daily and period charging is invalid input, as in the default.
//
// Nothing is left out: no request is answered "not implemented". (The
// default's arithmetic overflows past 28 digits where this one, exact with
// BigInt, does not: with prices of sane size, as the daemon admits, they
// agree.)

import {
  add, addMonths, compare, compareDates, dayNumber, daysBetween, denied, formatAmount, formatDate,
  fromDayNumber, fromInt, invalid, mul, rescale, roundShare, sign, signedMoney, sub, truncateToMinorUnit,
} from './common.js';
import { isOver, periodOf } from './period.js';

// The last date the contract can write.
const LAST_DAY = { y: 9999, m: 12, d: 31 };

const forbidden = (tariff) => denied(`tariff ${tariff.name} cannot be changed`);

// The period as it is.
const unchanged = (p, lines = []) => ({
  lines,
  periodStart: formatDate(p.start),
  expires: formatDate(p.expires),
});

// V(tariff, months, addons), unrounded. Denied if the tariff does not sell
// `months`; invalid input if it has a negative price.
function value(tariff, months, addons) {
  const text = tariff.prices.find((p) => p.months === months)?.price;
  if (text === undefined) throw denied(`tariff ${tariff.name} does not sell ${months} month(s)`);
  const price = signedMoney(text, 'price');
  const perUnit = tariff.addons.map((a) => signedMoney(a.pricePerUnit, `price of addon ${a.resource}`));
  if (sign(price) < 0 || perUnit.some((u) => sign(u) < 0)) {
    throw invalid(`tariff ${tariff.name} has a negative price`);
  }
  let perMonth = fromInt(0);
  tariff.addons.forEach((addon, i) => {
    // An addon missing from the quantities has just the included units.
    const quantity = addons.find((q) => q.resource === addon.resource)?.quantity ?? addon.included;
    perMonth = add(perMonth, mul(fromInt(Math.max(quantity - addon.included, 0)), perUnit[i]));
  });
  return add(price, mul(perMonth, fromInt(months)));
}

// The old and the new value, for the policies that compare them: denied
// once nothing of the period is left (on the expiry day the service is
// paid through the day before).
function values(request, p) {
  if (p.left === 0) {
    throw denied(`the service expired on ${formatDate(p.expires)}: renew it before changing its tariff`);
  }
  return [
    value(request.from, request.service.months, request.service.addons),
    value(request.to, request.months, request.addons),
  ];
}

// The difference of the values for the days left: charged on an upgrade,
// refunded (at most what was paid) or not on a downgrade.
function difference(request, p, refund) {
  const [old, neu] = values(request, p);
  const { currency } = request.to;
  const diff = roundShare(sub(neu, old), p.left, p.days, currency);
  const names = `${request.from.name} \u2192 ${request.to.name}`;
  let kind;
  let description;
  let amount;
  if (sign(diff) > 0) {
    [kind, description, amount] = ['change', `${names}: difference for ${p.left} day(s)`, diff];
  } else if (sign(diff) < 0 && refund) {
    // All of `paid` may be refunded, cut to whole minor units (never
    // more), or nothing if it is not positive.
    const paid = signedMoney(request.paid, 'paid');
    const cap = truncateToMinorUnit(sign(paid) > 0 ? paid : fromInt(0), currency);
    if (sign(cap) <= 0) return unchanged(p);
    const floor = { units: -cap.units, scale: cap.scale };
    amount = compare(diff, floor) < 0 ? rescale(floor, diff.scale) : diff;
    [kind, description] = ['refund', `${names}: refund of the difference for ${p.left} day(s)`];
  } else {
    return unchanged(p);
  }
  return unchanged(p, [{
    kind,
    description,
    amount: formatAmount(amount),
    periodStart: formatDate(p.today),
    periodEnd: formatDate(p.expires),
  }]);
}

// The unused value of the old tariff buys whole days of the new one,
// rounded down: floor(R x old / new), exactly (BigInt).
function changePeriod(request, p) {
  const [old, neu] = values(request, p);
  if (sign(neu) <= 0) {
    throw denied(`tariff ${request.to.name} is free: its price cannot measure the unused value of the period`);
  }
  // R x old.units / 10^old.scale over neu.units / 10^neu.scale; all >= 0.
  const num = BigInt(p.left) * old.units * 10n ** BigInt(neu.scale);
  const den = neu.units * 10n ** BigInt(old.scale);
  const days = num / den; // BigInt division truncates: the floor here
  if (days > BigInt(daysBetween(p.today, LAST_DAY))) {
    throw denied(
      `tariff ${request.to.name} is too cheap to convert the unused value of the period into time: it would last past 9999-12-31`,
    );
  }
  const expires = fromDayNumber(dayNumber(p.today) + Number(days));
  // The period keeps its start, unless the change comes before it starts
  // (a service renewed early) and the time bought ends before then too:
  // the service then has just that time, from today.
  const start = compareDates(expires, p.start) < 0 ? p.today : p.start;
  return { lines: [], periodStart: formatDate(start), expires: formatDate(expires) };
}

// The new tariff's value for the months asked for, paying for a new period
// of them from `fromDay`.
function fullPayment(request, fromDay) {
  const { to, months } = request;
  const neu = value(to, months, request.addons);
  const until = formatDate(addMonths(fromDay, months));
  return {
    lines: [{
      kind: 'change',
      description: `${to.name}, ${months} month(s) (tariff change)`,
      amount: formatAmount(roundShare(neu, 1, 1, to.currency)),
      periodStart: formatDate(fromDay),
      periodEnd: until,
    }],
    periodStart: formatDate(fromDay),
    expires: until,
  };
}

export const tariffChange = {
  change(request) {
    const { from: source, to: target, policy } = request;
    // First: a forbidden change is denied whatever the service is.
    if (policy === 'forbidden') throw forbidden(source);
    const p = periodOf(request.service, request.at);
    if (source.daily !== undefined && target.daily !== undefined) {
      // Nothing now; the next uncharged day at the new price. Its days must
      // be charged up to today first.
      if (isOver(p)) {
        throw denied(
          `the service is charged only until ${formatDate(p.expires)}: its days since must be paid before its tariff changes`,
        );
      }
      return unchanged(p);
    }
    if (source.daily !== undefined || target.daily !== undefined) {
      throw invalid(
        `a change between daily and period charging (${source.name} to ${target.name}) is not a tariff change this rule prices`,
      );
    }
    switch (policy) {
      case 'add-funds-or-refund':
        return difference(request, p, true);
      case 'extra-charge-only':
        return difference(request, p, false);
      case 'change-period':
        return changePeriod(request, p);
      case 'full-payment-from-today':
        return fullPayment(request, p.today);
      default: // 'full-payment-from-expiry'
        return fullPayment(request, compareDates(p.expires, p.today) > 0 ? p.expires : p.today);
    }
  },
};
