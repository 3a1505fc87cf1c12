// The proration hook: what a change in the middle of a paid period costs or
// returns, the way the embedded default rule (rules/default/src/proration.rs)
// decides it. It implements every event the default implements:
//
// - addon units added mid-period (seed 002, "Additional resources order
//   policy"): only the units above the included ones cost money. With the
//   current period S..E (D days, `months` long, see period.js) and the
//   change on day T leaving R days, each unit costing its price per unit a
//   month:
//   - "price before the service expiration date" (prorated-to-expiry):
//     units x price x months x R / D, an `addon` line for T..E;
//   - "full price over the whole period" (full-period): units x price x
//     months, an `addon` line for S..E however little of it is left.
//   Once nothing is left (R = 0) nothing is charged: the renewal pays them.
// - addon units removed ("Addon cancellation policy"): the unused days,
//   units x price x months x R / D, as a `refund` line for T..E, or nothing,
//   as the tariff's cancellation policy says.
// - the downtime of a daily-charged service its client suspended and now
//   resumes: refunded exactly as charged, unless the tariff charges
//   downtime.
//
// Each amount is rounded once; a zero amount records no line. A
// daily-charged service gets no addon line (its day price includes the
// addons). The cancellation of a whole service before its expiry is not
// implemented by the default either: it answers "not implemented" (HTTP 422
// rule-not-implemented) in the default's words.

import {
  formatAmount, formatDate, fromInt, invalid, mul, negate, notImplemented, roundShare, sign,
  signedMoney,
} from './common.js';
import { periodOf } from './period.js';

// The addon a change is about and its units that cost money before and
// after (those above the included ones). The default writes the resource
// with Rust's {:?}: "ram", in double quotes.
function paidUnits(tariff, change) {
  const addon = tariff.addons.find((a) => a.resource === change.resource);
  if (!addon) throw invalid(`tariff ${tariff.name} has no addon ${JSON.stringify(change.resource)}`);
  const paid = (q) => Math.max(q - addon.included, 0);
  return { addon, before: paid(change.from), after: paid(change.to) };
}

// What `units` of the addon cost for the service's whole period, unrounded.
const wholePeriod = (addon, units, months) =>
  mul(signedMoney(addon.pricePerUnit, `price of addon ${addon.resource}`), fromInt(units * months));

const unitsLabel = (addon, units) => `${units} ${addon.unit} ${addon.resource}`; // "2 GiB disk-space"

const decision = (line) => ({ lines: line === undefined ? [] : [line] });

function addonOrder(request, change) {
  if (change.to <= change.from) {
    throw invalid(`an addon order raises the quantity; ${change.resource} goes from ${change.from} to ${change.to}`);
  }
  const { tariff } = request;
  const { addon, before, after } = paidUnits(tariff, change);
  const units = after - before;
  if (tariff.daily !== undefined || units === 0) return decision();
  const p = periodOf(request.service, request.at);
  // Nothing of the period is left: the new units are paid from the next
  // period on, by its renewal.
  if (p.left === 0) return decision();
  const full = wholePeriod(addon, units, request.service.months);
  let amount;
  let description;
  let start;
  if (request.addonPolicy === 'prorated-to-expiry') {
    amount = roundShare(full, p.left, p.days, tariff.currency);
    description = `${unitsLabel(addon, units)}, ${p.left} day(s) to ${formatDate(p.expires)}`;
    start = p.today;
  } else {
    amount = roundShare(full, 1, 1, tariff.currency);
    description = `${unitsLabel(addon, units)}, the whole period ${formatDate(p.start)} to ${formatDate(p.expires)}`;
    start = p.start;
  }
  if (sign(amount) <= 0) return decision();
  return decision({
    kind: 'addon',
    description,
    amount: formatAmount(amount),
    periodStart: formatDate(start),
    periodEnd: formatDate(p.expires),
  });
}

function addonCancel(request, change, refund) {
  if (change.to >= change.from) {
    throw invalid(
      `an addon cancellation lowers the quantity; ${change.resource} goes from ${change.from} to ${change.to}`,
    );
  }
  const { tariff } = request;
  const { addon, before, after } = paidUnits(tariff, change);
  const units = before - after;
  if (tariff.daily !== undefined || units === 0 || !refund) return decision();
  const p = periodOf(request.service, request.at);
  const full = wholePeriod(addon, units, request.service.months);
  const amount = roundShare(full, p.left, p.days, tariff.currency);
  if (sign(amount) <= 0) return decision();
  return decision({
    kind: 'refund',
    description: `${unitsLabel(addon, units)} removed, ${p.left} unused day(s) to ${formatDate(p.expires)}`,
    amount: formatAmount(negate(amount)),
    periodStart: formatDate(p.today),
    periodEnd: formatDate(p.expires),
  });
}

// Nothing to do if the tariff charges downtime, else a refund of exactly
// what was charged (no recomputation, so the refund always matches the
// daily lines it undoes).
function downtime(tariff, { days, charged: chargedText }) {
  if (tariff.daily === undefined) {
    throw invalid(
      `tariff ${tariff.name} does not charge daily; only daily-charged services have downtime to settle`,
    );
  }
  const charged = signedMoney(chargedText, 'charged');
  if (sign(charged) < 0) throw invalid(`the downtime was charged a negative amount (${chargedText})`);
  if (tariff.daily.chargeDowntime || sign(charged) === 0) return decision();
  return decision({
    kind: 'refund',
    description: `${tariff.name}, refund of ${days} day(s) suspended by the client`,
    amount: formatAmount(negate(roundShare(charged, 1, 1, tariff.currency))),
    periodStart: undefined,
    periodEnd: undefined,
  });
}

export const proration = {
  prorate(request) {
    const { event } = request;
    // A WIT variant is { tag, val }.
    switch (event.tag) {
      case 'downtime':
        return downtime(request.tariff, event.val);
      case 'addon-order':
        return addonOrder(request, event.val);
      case 'addon-cancel':
        return addonCancel(request, event.val.change, event.val.refund);
      default:
        throw notImplemented('the default rules do not prorate cancellations before the expiry yet');
    }
  },
};
