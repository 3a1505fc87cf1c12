// The pricing hook: orders and renewals, priced the way the embedded default
// rule prices them: the period price (the special renewal price for a
// renewal), addons above their included quantity, the setup fee with the
// first order, a renewal that extends from the expiry, an expired renewal
// that starts on the day of renewal. It does not do daily charging,
// calendar-based (pro-rata) periods or late fees: those requests are answered
// "not implemented" (HTTP 422 rule-not-implemented), never priced wrongly.

import {
  add, addMonths, denied, formatDate, fromInt, invalid, isPositive, money, mul, notImplemented,
  parseDate, toLineAmount,
} from './common.js';

// --- the tariff ---------------------------------------------------------------

// The default rule's wording, so line descriptions match it too.
const periodLabel = (months) =>
  ({ 1: '1 month', 12: '1 year', 36: '3 years' })[months] ?? `${months} months`;

function notSold(tariff, months) {
  const onSale = [...new Set(tariff.prices.map((p) => p.months))].sort((a, b) => a - b);
  return denied(
    `tariff ${tariff.name} is not sold for ${months} month(s); periods on sale (months): ${onSale.join(', ') || 'none'}`,
  );
}

const priceFor = (prices, months) => prices.find((p) => p.months === months)?.price;

// Addon units above the included quantity, at their monthly price, for
// every month of the period.
function addonsAmount(request) {
  let total = fromInt(0);
  for (const wanted of request.addons) {
    const addon = request.tariff.addons.find((a) => a.resource === wanted.resource);
    if (!addon) throw denied(`tariff ${request.tariff.name} has no addon ${JSON.stringify(wanted.resource)}`);
    if (wanted.quantity < addon.minimum || wanted.quantity > addon.maximum) {
      throw denied(`addon ${addon.resource} must be between ${addon.minimum} and ${addon.maximum} ${addon.unit}`);
    }
    const extra = Math.max(wanted.quantity - addon.included, 0);
    const perUnit = money(addon.pricePerUnit, `price of addon ${addon.resource}`);
    total = add(total, mul(perUnit, fromInt(extra * request.months)));
  }
  return total;
}

// --- the hook -------------------------------------------------------------------

function order(request, today) {
  const { tariff, months } = request;
  const price = priceFor(tariff.prices, months);
  if (price === undefined) throw notSold(tariff, months);
  const amount = add(money(price, 'price'), addonsAmount(request));
  const start = formatDate(today);
  const end = formatDate(addMonths(today, months));
  const lines = [{
    kind: 'order',
    description: `${tariff.name}, ${periodLabel(months)}`,
    amount: toLineAmount(amount, tariff.currency),
    periodStart: start,
    periodEnd: end,
  }];
  const setupFee = money(tariff.setupFee, 'setup fee');
  if (isPositive(setupFee)) {
    lines.push({
      kind: 'setup',
      description: `${tariff.name}, setup fee`,
      amount: toLineAmount(setupFee, tariff.currency),
      periodStart: undefined, // option<date>: undefined is `none`
      periodEnd: undefined,
    });
  }
  return { lines, periodStart: start, expires: end };
}

function renewal(request, today) {
  const { tariff, months, service } = request;
  if (service === undefined) throw invalid('a renewal needs the service being renewed');
  // A missing special renewal price renews at the order price.
  const price = priceFor(tariff.renewalPrices, months) ?? priceFor(tariff.prices, months);
  if (price === undefined) throw notSold(tariff, months);
  const amount = add(money(price, 'price'), addonsAmount(request));

  let start;
  const todayText = formatDate(today);
  if (service.expires !== undefined && service.expires >= todayText) {
    start = parseDate(service.expires, 'expires'); // renewed in time: no day lost or paid twice
  } else if (service.expires !== undefined && tariff.lateFee.tag !== 'none') {
    throw notImplemented('this rule does not price late renewal fees');
  } else {
    start = today; // expired (no late fee) or never paid: from today
  }
  const end = formatDate(addMonths(start, months));
  return {
    lines: [{
      kind: 'renewal',
      description: `${tariff.name}, renewal, ${periodLabel(months)}`,
      amount: toLineAmount(amount, tariff.currency),
      periodStart: formatDate(start),
      periodEnd: end,
    }],
    periodStart: formatDate(start),
    expires: end,
  };
}

// The world exports the interface `pricing`: export an object of that name
// with one function per WIT function (camelCase names).
export const pricing = {
  price(request) {
    const { tariff } = request;
    if (request.months === 0) throw invalid('a period is at least one month long; got 0 months');
    // Refuse what this rule does not implement instead of guessing.
    if (tariff.daily !== undefined) throw notImplemented('this rule does not price daily charging');
    if (request.operation === 'daily') {
      throw invalid(`tariff ${tariff.name} does not charge daily; it has no daily charge`);
    }
    if (tariff.proRataDay !== undefined) throw notImplemented('this rule does not price calendar-based periods');

    // The decision time is an input: the only clock a rule sees.
    const today = parseDate(request.at, 'at');
    return request.operation === 'order' ? order(request, today) : renewal(request, today);
  },
};
