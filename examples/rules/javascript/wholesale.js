// The wholesale hook: the reseller's shadow line for each retail line of its
// client, at the reseller's wholesale prices, computed the way the embedded
// default rule computes it (seed 001, H-Sphere resellers). It implements all
// of the default's logic:
//
// - an order, a renewal, a day, or a downtime refund pays for everything the
//   service holds (its base price, part "service", and each resource) over
//   the line's period: N months of them for N months, a day's share of its
//   month for a day; a refund is credited;
// - a tariff or addon change pays for what it adds (units held after minus
//   before) for the days up to the old expiry (already shadowed for what was
//   held then), and for everything held after for days past it; its refund
//   credits what it gives back (units held before minus after);
// - setup fees, late fees, adjustments and lines without a period shadow
//   nothing (an empty list: a shadow line of zero).
//
// The share of a period is its whole calendar months plus the rest as a
// fraction of the next month (Jan 31 to Feb 28 is one month, Mar 5 to Mar 6
// is 1/31); each part is rounded once, half away from zero, to the
// currency's minor unit; a part of zero is left out.
//
// A share like 1/31 does not terminate, so where it is rounded decides the
// last cent when a part lands near a half. The default computes in
// rust_decimal (at most 28 decimal places in a 96-bit mantissa, rounding
// half to even when a result does not fit); this port computes the same way
// (the dec functions below), so it agrees with the default to the cent.
// Nothing here answers not-implemented.
import { addMonths, formatDate, invalid, minorUnits, parseDate } from './common.js';

const BASE_RESOURCE = 'service'; // the part of the service's base price

// --- rust_decimal arithmetic --------------------------------------------------
// A number is { m, s }: a BigInt mantissa and a scale (value = m / 10^s).
// Every result that does not fit 96 bits and 28 places is rounded the way
// rust_decimal rounds it, so the parts are the default's to the cent.

const MAX_MANTISSA = 1n << 96n;
const MAX_SCALE = 28;
const pow10 = (n) => 10n ** BigInt(n);
const abs = (x) => (x < 0n ? -x : x);

function halfEven(q, r, divisor) {
  return 2n * r > divisor || (2n * r === divisor && q % 2n === 1n) ? q + 1n : q;
}

function dec(m, s = 0) {
  let a = abs(m);
  if (a < MAX_MANTISSA && s <= MAX_SCALE) return { m, s };
  // How many digits to drop: rust_decimal's estimate from the bits above 96
  // (it may drop one more than needed, and so do we), at least enough for
  // 28 places, then one at a time until it fits.
  let k = 0;
  if (a >= MAX_MANTISSA) k = (((a.toString(2).length - 1 - 96) * 77) >> 8) + 1;
  k = Math.max(k, s - MAX_SCALE);
  while (a / pow10(k) >= MAX_MANTISSA) k += 1;
  if (k > s) throw invalid('an amount is too large to compute');
  let q = halfEven(a / pow10(k), a % pow10(k), pow10(k));
  let scale = s - k;
  if (q >= MAX_MANTISSA) { // the rounding carried over
    q = halfEven(q / 10n, q % 10n, 10n);
    scale -= 1;
  }
  return { m: m < 0n ? -q : q, s: scale };
}
const decInt = (n) => dec(BigInt(n));
const decMul = (x, y) => (x.m === 0n || y.m === 0n ? decInt(0) : dec(x.m * y.m, x.s + y.s));
function decAdd(x, y) {
  const s = Math.max(x.s, y.s);
  return dec(x.m * pow10(s - x.s) + y.m * pow10(s - y.s), s);
}

// n / d of non-negative whole numbers: exact when it terminates within 28
// places, else to as many places as fit, rounded half to even.
function decRatio(n, d) {
  const [bn, bd] = [BigInt(n), BigInt(d)];
  for (let s = 0; s <= MAX_SCALE; s++) {
    if ((bn * pow10(s)) % bd === 0n) return dec((bn * pow10(s)) / bd, s);
  }
  for (let s = MAX_SCALE; ; s--) {
    const x = bn * pow10(s);
    const q = halfEven(x / bd, x % bd, bd);
    if (q < MAX_MANTISSA) return { m: q, s };
  }
}

// Rounded half away from zero to the currency's places, written with exactly
// that many ("0.48", "125"); undefined when that is zero. Never negative here.
function toMinorUnit(x, currency) {
  const places = minorUnits(currency);
  let q;
  if (x.s <= places) {
    q = x.m * pow10(places - x.s);
  } else {
    const div = pow10(x.s - places);
    q = x.m / div; // BigInt division truncates
    if ((x.m % div) * 2n >= div) q += 1n;
  }
  if (q === 0n) return undefined; // a part of zero is left out
  const digits = q.toString().padStart(places + 1, '0');
  return places === 0 ? digits : `${digits.slice(0, -places)}.${digits.slice(-places)}`;
}

// A signed decimal amount ("-2.00" for a refund), kept exact.
function parseAmount(text, what) {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw invalid(`${what} is not a decimal amount: ${JSON.stringify(text)}`);
  const frac = match[3] ?? '';
  const m = BigInt(match[2] + frac);
  return dec(match[1] ? -m : m, frac.length);
}

// --- shares of time ---------------------------------------------------------------

// Days since 0000-03-01 of a proleptic Gregorian date (no Date: see common.js).
function dayNumber({ y, m, d }) {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe;
}
const daysBetween = (from, to) => dayNumber(to) - dayNumber(from);
const before = (a, b) => formatDate(a) < formatDate(b);

// The calendar months from start to end: whole months (counted from start
// each time, so month ends clamp as orders do: Jan 31 + 1 = Feb 28, + 2 =
// Mar 31), then the rest as a share of the month that follows.
function months(start, end) {
  if (!before(start, end)) return decInt(0);
  let whole = 0;
  while (whole < 1200 && !before(end, addMonths(start, whole + 1))) whole += 1;
  const since = addMonths(start, whole);
  const rest = daysBetween(since, end);
  if (rest <= 0) return decInt(whole);
  const month = daysBetween(since, addMonths(start, whole + 1));
  return decAdd(decInt(whole), decRatio(rest, month));
}

// --- the hook ------------------------------------------------------------------------

// Every resource type held before or after, the base price first (held once,
// before and after alike). A resource without a wholesale price costs nothing.
function heldUnits(request, base, prices) {
  const out = [{ resource: BASE_RESOURCE, price: base, before: 1, after: 1 }];
  for (const [holdings, side] of [[request.heldBefore, 'before'], [request.heldAfter, 'after']]) {
    for (const h of holdings) {
      let u = out.find((x) => x.resource === h.resource);
      if (u === undefined) {
        u = { resource: h.resource, price: prices.get(h.resource) ?? decInt(0), before: 0, after: 0 };
        out.push(u);
      }
      // Units are u32: a sum beyond that stops there, as in the default.
      u[side] = Math.min(u[side] + h.units, MAX_UNITS);
    }
  }
  return out;
}

const MAX_UNITS = 2 ** 32 - 1;

const PAYS_ALL_CAUSES = ['order', 'renewal', 'day', 'downtime'];
const PAYS_ALL_KINDS = ['order', 'renewal', 'daily', 'refund'];
const CHANGE_CAUSES = ['tariff-change', 'addon-change'];

function shadow(request, held, line) {
  if (line.periodStart === undefined || line.periodEnd === undefined) return [];
  const start = parseDate(line.periodStart, 'period start');
  const end = parseDate(line.periodEnd, 'period end');
  if (!before(start, end)) return [];
  let values;
  if (PAYS_ALL_CAUSES.includes(request.cause) && PAYS_ALL_KINDS.includes(line.kind)) {
    const share = months(start, end);
    values = held.map((u) => decMul(decMul(u.price, decInt(u.after)), share));
  } else if (CHANGE_CAUSES.includes(request.cause) && ['change', 'addon'].includes(line.kind)) {
    // Days up to the old expiry were shadowed for what was held then: only
    // what is added is owed for them.
    let split = start;
    if (request.paidUntil !== undefined) {
      const paidUntil = parseDate(request.paidUntil, 'paid-until');
      split = before(paidUntil, start) ? start : before(end, paidUntil) ? end : paidUntil;
    }
    const [paid, fresh] = [months(start, split), months(split, end)];
    values = held.map((u) => decMul(u.price, decAdd(
      decMul(decInt(Math.max(u.after - u.before, 0)), paid),
      decMul(decInt(u.after), fresh),
    )));
  } else if (CHANGE_CAUSES.includes(request.cause) && line.kind === 'refund') {
    const share = months(start, end);
    values = held.map((u) => decMul(decMul(u.price, decInt(Math.max(u.before - u.after, 0))), share));
  } else {
    return []; // setup and late fees pay for no resource
  }
  const credited = line.amount.startsWith('-');
  const parts = [];
  held.forEach((u, i) => {
    const amount = toMinorUnit(values[i], request.currency);
    if (amount !== undefined) parts.push({ resource: u.resource, amount: (credited ? '-' : '') + amount });
  });
  return parts;
}

export const wholesale = {
  wholesale(request) {
    const base = parseAmount(request.serviceBase, 'service base');
    const prices = new Map();
    for (const p of request.prices) {
      const price = parseAmount(p.price, `wholesale price of ${p.resource}`);
      if (!prices.has(p.resource)) prices.set(p.resource, price); // the first counts
    }
    // "-0" is negative too, as the default sees it.
    if ([request.serviceBase, ...request.prices.map((p) => p.price)].some((t) => t.startsWith('-'))) {
      throw invalid('a wholesale price is negative');
    }
    const held = heldUnits(request, base, prices);
    return { shadows: request.lines.map((line) => shadow(request, held, line)) };
  },
};
