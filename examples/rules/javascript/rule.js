// A rulesd pricing rule in JavaScript, built with componentize-js into a
// component of the world `pricing-rule` (rules-sdk/wit/rules.wit).
//
// It prices orders and renewals the way the embedded default rule does:
// the period price (the special renewal price for a renewal), addons above
// their included quantity, the setup fee with the first order, a renewal
// that extends from the expiry, an expired renewal that starts on the day of
// renewal. It does not do daily charging, calendar-based (pro-rata) periods
// or late fees: those requests are answered "not implemented" (HTTP 422
// rule-not-implemented), never priced wrongly.
//
// How componentize-js maps the WIT:
//   record       -> plain object; kebab-case fields become camelCase
//                   (setup-fee -> setupFee, period-start -> periodStart)
//   enum         -> its case as a kebab-case string: 'order', 'late-fee'
//   option<T>    -> the value, or undefined for none
//   variant      -> { tag: 'fixed', val: '2.00' }; a case without payload
//                   is { tag: 'none' }
//   u32          -> number
//   result<T, E> -> return T for ok; for err, throw E itself (here a
//                   rule-error variant) or an Error whose `payload` is E
//
// Build: ./build.sh (see docs/rules-in-other-languages.md).

// --- refusals ---------------------------------------------------------------
// An Error with a `payload` keeps a stack trace for debugging. Anything else
// thrown out of price() (a plain Error, a string, a TypeError from a bug)
// traps the instance: the daemon answers 502 rule-failed, which tells the
// client nothing useful. So every expected failure is one of the three
// rule-error cases:
//   denied          -> 422 rule-denied         (a policy says no; shown to a person)
//   invalid-input   -> 422 rule-rejected-input (the facts make no sense to this rule)
//   not-implemented -> 422 rule-not-implemented
class RuleError extends Error {
  constructor(tag, text) {
    super(text);
    this.payload = { tag, val: text };
  }
}
const denied = (text) => new RuleError('denied', text);
const invalid = (text) => new RuleError('invalid-input', text);
const notImplemented = (text) => new RuleError('not-implemented', text);

// --- money ------------------------------------------------------------------
// Money crosses the boundary as decimal strings ("10.00"). Never turn it
// into a JS number: 0.1 + 0.2 !== 0.3. Here an amount is a BigInt of units
// of 10^-scale: "10.315" is { units: 10315n, scale: 3 }.

function money(text, what) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw invalid(`${what} must be a non-negative decimal amount: ${JSON.stringify(text)}`);
  const frac = m[2] ?? '';
  return { units: BigInt(m[1] + frac), scale: frac.length };
}
const fromInt = (n) => ({ units: BigInt(n), scale: 0 });
const rescale = (a, scale) => ({ units: a.units * 10n ** BigInt(scale - a.scale), scale });
function add(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}
const mul = (a, b) => ({ units: a.units * b.units, scale: a.scale + b.scale });
const isPositive = (a) => a.units > 0n;

// Decimal places of each currency's minor unit (ISO 4217), the table the
// daemon checks lines against: a line finer than this is refused (502).
const NO_MINOR_UNIT = ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
  'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
const THREE_PLACES = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'];
const FOUR_PLACES = ['CLF', 'UYW'];
function minorUnits(currency) {
  if (NO_MINOR_UNIT.includes(currency)) return 0;
  if (THREE_PLACES.includes(currency)) return 3;
  if (FOUR_PLACES.includes(currency)) return 4;
  return 2;
}

// Tariff prices may have up to 4 places (0.0125 per GB); a ledger line may
// not. Round once, on the line's final amount, half away from zero, and
// write exactly the currency's places: "5.00" EUR, "334" JPY, like the
// default rule. (Amounts here are never negative.)
function toLineAmount(a, currency) {
  const places = minorUnits(currency);
  let units;
  if (a.scale <= places) {
    units = rescale(a, places).units;
  } else {
    const div = 10n ** BigInt(a.scale - places);
    units = a.units / div; // BigInt division truncates
    if ((a.units % div) * 2n >= div) units += 1n; // the half goes up
  }
  const digits = units.toString().padStart(places + 1, '0');
  return places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

// --- dates --------------------------------------------------------------------
// Dates are "YYYY-MM-DD" strings. Do not use Date: the clock inside the
// sandbox is frozen at 1970-01-01 (new Date() is the epoch), and Date's
// month arithmetic rolls Jan 31 + 1 month over into March. Strings of this
// form compare correctly with < and >.

function parseDate(text, what) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text ?? '');
  if (!m) throw invalid(`${what} is not a date: ${JSON.stringify(text)}`);
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}
const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y, m) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
const pad = (n, width) => String(n).padStart(width, '0');
const formatDate = ({ y, m, d }) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;

// Calendar months, clamped to the end of a shorter month:
// Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year).
function addMonths(date, months) {
  const n = date.y * 12 + (date.m - 1) + months;
  const y = Math.floor(n / 12);
  const m = (n % 12) + 1;
  return { y, m, d: Math.min(date.d, daysIn(y, m)) };
}

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
