// The current period of a service, as a change in the middle of it sees it
// (a tariff change, addon units added or removed): the default rule's
// period.rs, shared by proration.js and tariff_change.js.
//
// The period runs from S (service.periodStart) to E (service.expires, the
// exclusive end of the paid time), D days. A change on day T (the date of
// request.at) leaves R = E - T days, the day of the change included, or 0
// once E <= T. Seed 002: "valid until November 30, ordered November 15:
// 15 days" is E = November 30, T = November 15, R = 15. A change before S
// (a period renewed early starts at the old expiry) leaves more than D: the
// days to S count too, at the same rate.

import { compareDates, daysBetween, formatDate, invalid, parseDate } from './common.js';

// { start (S), expires (E), days (D, at least 1), today (T), left (R) }
// as {y, m, d} dates and numbers. Invalid input, naming the field, when the
// service has no start or expiry, or when its period has no days: the
// default's words.
export function periodOf(service, at) {
  const missing = (field) =>
    invalid(`service ${service.id}: service.${field} is missing; a change mid-period needs the current period`);
  if (service.periodStart === undefined) throw missing('period-start');
  if (service.expires === undefined) throw missing('expires');
  const start = parseDate(service.periodStart, 'service.period-start');
  const expires = parseDate(service.expires, 'service.expires');
  const days = daysBetween(start, expires);
  if (days <= 0) {
    throw invalid(
      `service ${service.id}: its period ${formatDate(start)}..${formatDate(expires)} has no days (period-start must be before expires)`,
    );
  }
  const today = parseDate(at, 'at');
  return { start, expires, days, today, left: Math.max(daysBetween(today, expires), 0) };
}

// The paid time ended before the day of the change (E < T).
export const isOver = (p) => compareDates(p.expires, p.today) < 0;
