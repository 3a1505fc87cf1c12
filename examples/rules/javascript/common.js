// Helpers every hook of the example rule shares: refusals, money, dates.
//
// Nothing here touches the clock, randomness or the environment: a rule is a
// pure function of its request (the decision time is request.at).
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
// --- refusals ---------------------------------------------------------------
// An Error with a `payload` keeps a stack trace for debugging. Anything else
// thrown out of a hook (a plain Error, a string, a TypeError from a bug)
// traps the instance: the daemon answers 502 rule-failed, which tells the
// client nothing useful. So every expected failure is one of the three
// rule-error cases:
//   denied          -> 422 rule-denied         (a policy says no; shown to a person)
//   invalid-input   -> 422 rule-rejected-input (the facts make no sense to this rule)
//   not-implemented -> 422 rule-not-implemented
export class RuleError extends Error {
  constructor(tag, text) {
    super(text);
    this.payload = { tag, val: text };
  }
}
export const denied = (text) => new RuleError('denied', text);
export const invalid = (text) => new RuleError('invalid-input', text);
export const notImplemented = (text) => new RuleError('not-implemented', text);

// --- money ------------------------------------------------------------------
// Money crosses the boundary as decimal strings ("10.00"). Never turn it
// into a JS number: 0.1 + 0.2 !== 0.3. Here an amount is a BigInt of units
// of 10^-scale: "10.315" is { units: 10315n, scale: 3 }.

export function money(text, what) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw invalid(`${what} must be a non-negative decimal amount: ${JSON.stringify(text)}`);
  const frac = m[2] ?? '';
  return { units: BigInt(m[1] + frac), scale: frac.length };
}
export const fromInt = (n) => ({ units: BigInt(n), scale: 0 });
export const rescale = (a, scale) => ({ units: a.units * 10n ** BigInt(scale - a.scale), scale });
export function add(a, b) {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale).units + rescale(b, scale).units, scale };
}
export const mul = (a, b) => ({ units: a.units * b.units, scale: a.scale + b.scale });
export const isPositive = (a) => a.units > 0n;

// Decimal places of each currency's minor unit (ISO 4217), the table the
// daemon checks lines against: a line finer than this is refused (502).
const NO_MINOR_UNIT = ['BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
  'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
const THREE_PLACES = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'];
const FOUR_PLACES = ['CLF', 'UYW'];
export function minorUnits(currency) {
  if (NO_MINOR_UNIT.includes(currency)) return 0;
  if (THREE_PLACES.includes(currency)) return 3;
  if (FOUR_PLACES.includes(currency)) return 4;
  return 2;
}

// Tariff prices may have up to 4 places (0.0125 per GB); a ledger line may
// not. Round once, on the line's final amount, half away from zero, and
// write exactly the currency's places: "5.00" EUR, "334" JPY, like the
// default rule. (Amounts here are never negative.)
export function toLineAmount(a, currency) {
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

export function parseDate(text, what) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text ?? '');
  if (!m) throw invalid(`${what} is not a date: ${JSON.stringify(text)}`);
  return { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
}
export const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysIn = (y, m) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
const pad = (n, width) => String(n).padStart(width, '0');
export const formatDate = ({ y, m, d }) => `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;

// Calendar months, clamped to the end of a shorter month:
// Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year).
export function addMonths(date, months) {
  const n = date.y * 12 + (date.m - 1) + months;
  const y = Math.floor(n / 12);
  const m = (n % 12) + 1;
  return { y, m, d: Math.min(date.d, daysIn(y, m)) };
}

// --- signed money, shares, days (proration, tariff change) ------------------

// Like money(), for the amounts that may carry a sign: what a client paid,
// a price a hook checks itself for being negative.
export function signedMoney(text, what) {
  const m = /^([-+])?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw invalid(`${what} is not a decimal amount: ${JSON.stringify(text)}`);
  const frac = m[3] ?? '';
  const units = BigInt(m[2] + frac);
  return { units: m[1] === '-' ? -units : units, scale: frac.length };
}
export const negate = (a) => ({ units: -a.units, scale: a.scale });
export const sub = (a, b) => add(a, negate(b));
export const sign = (a) => (a.units > 0n ? 1 : a.units < 0n ? -1 : 0);
export const compare = (a, b) => sign(sub(a, b));

// round(a x k / n) to the currency's minor unit, half away from zero,
// exactly (BigInt: multiplied before it is divided, so a true midpoint is
// seen as one). The result has exactly the currency's places.
export function roundShare(a, k, n, currency) {
  const places = minorUnits(currency);
  const num = a.units * BigInt(k) * 10n ** BigInt(places);
  const den = BigInt(n) * 10n ** BigInt(a.scale);
  const abs = num < 0n ? -num : num;
  let units = abs / den;
  if ((abs % den) * 2n >= den) units += 1n;
  return { units: num < 0n ? -units : units, scale: places };
}

// Cut towards zero to the currency's places (never more than a).
export function truncateToMinorUnit(a, currency) {
  const places = minorUnits(currency);
  if (a.scale <= places) return rescale(a, places);
  return { units: a.units / 10n ** BigInt(a.scale - places), scale: places }; // truncates
}

// An amount written with exactly its places, sign included: "-4.00".
export function formatAmount(a) {
  const abs = a.units < 0n ? -a.units : a.units;
  const digits = abs.toString().padStart(a.scale + 1, '0');
  const text = a.scale === 0 ? digits : `${digits.slice(0, -a.scale)}.${digits.slice(-a.scale)}`;
  return a.units < 0n ? `-${text}` : text;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil), and back: day arithmetic without Date.
export function dayNumber({ y, m, d }) {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
export function fromDayNumber(n) {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}
// Days from first to last: 2026-11-15 to 2026-11-30 is 15.
export const daysBetween = (first, last) => dayNumber(last) - dayNumber(first);
export const compareDates = (a, b) => Math.sign(dayNumber(a) - dayNumber(b));
