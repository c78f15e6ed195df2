/**
 * The dashboard's filter (restaurant and event-date range) and the SQL condition it becomes on a
 * curated view. Dates are checked here, so only `YYYY-MM-DD` ever reaches the SQL; the restaurant
 * id goes through the project's one string quoting function (Athena takes no bound parameters in
 * this runner, and both engines run the same text).
 */
import { quotedString } from '../base/sql.js';
import { ClicklakeError } from '../errors.js';

export interface DashboardFilter {
  /** Only this restaurant's events (`restaurant_id`); all restaurants when omitted. */
  restaurant?: string;
  /** First event date, `YYYY-MM-DD` (UTC), inclusive. */
  from?: string;
  /** Last event date, `YYYY-MM-DD` (UTC), inclusive. */
  to?: string;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `value` if it is a real calendar date `YYYY-MM-DD`, else a ClicklakeError naming the flag. */
export function checkedDate(value: string, flag: string): string {
  const m = DATE.exec(value);
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!m || !date || date.toISOString().slice(0, 10) !== value) {
    throw new ClicklakeError('bad_date', `${flag} must be a date YYYY-MM-DD (UTC event date), got ${JSON.stringify(value)}`, { flag, value });
  }
  return value;
}

/** The filter with its dates checked and in order. */
export function checkedFilter(filter: DashboardFilter): DashboardFilter {
  const out: DashboardFilter = {};
  if (filter.restaurant !== undefined) {
    if (filter.restaurant.trim() === '') throw new ClicklakeError('bad_flag', '--restaurant must not be empty: pass a restaurant id, or leave it out for all restaurants', {});
    out.restaurant = filter.restaurant;
  }
  if (filter.from !== undefined) out.from = checkedDate(filter.from, '--from');
  if (filter.to !== undefined) out.to = checkedDate(filter.to, '--to');
  if (out.from && out.to && out.from > out.to) {
    throw new ClicklakeError('bad_date', `--from ${out.from} is after --to ${out.to}: swap them`, { from: out.from, to: out.to });
  }
  return out;
}

/** `WHERE ...` for a curated view with `dt` and `restaurant_id` columns ('' when unfiltered). */
export function whereClause(filter: DashboardFilter): string {
  const conditions: string[] = [];
  if (filter.from && filter.to) conditions.push(`dt BETWEEN ${quotedString(filter.from)} AND ${quotedString(filter.to)}`);
  else if (filter.from) conditions.push(`dt >= ${quotedString(filter.from)}`);
  else if (filter.to) conditions.push(`dt <= ${quotedString(filter.to)}`);
  if (filter.restaurant !== undefined) conditions.push(`restaurant_id = ${quotedString(filter.restaurant)}`);
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}

/** "restaurant r-1, 2024-05-01 to 2024-05-07" — the filter in words. */
export function describeFilter(filter: DashboardFilter): string {
  const who = filter.restaurant !== undefined ? `restaurant ${filter.restaurant}` : 'all restaurants';
  const when = filter.from && filter.to ? (filter.from === filter.to ? filter.from : `${filter.from} to ${filter.to}`) : filter.from ? `from ${filter.from}` : filter.to ? `until ${filter.to}` : 'all dates';
  return `${who}, ${when}`;
}
