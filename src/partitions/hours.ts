import { ClicklakeError } from '../errors.js';

/** An arrival hour is held as the epoch milliseconds of its start (UTC). */
export type HourStart = number;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

const HOUR_ID = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2024-05-01T10` — how hours are written in flags, manifests and logs. */
export function formatHour(hour: HourStart): string {
  const d = new Date(hour);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;
}

/** Parses `YYYY-MM-DDTHH` (UTC). */
export function parseHour(text: string): HourStart {
  const m = HOUR_ID.exec(text);
  if (m) {
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
    if (formatHour(ms) === text) return ms;
  }
  throw new ClicklakeError('bad_hour', `"${text}" is not an hour: write it as YYYY-MM-DDTHH in UTC, e.g. 2024-05-01T13`, { value: text });
}

/** The start of the hour holding `ms`. */
export function hourOf(ms: number): HourStart {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/** `YYYY-MM-DD` of an instant in UTC: the `dt` partition of an event. */
export function utcDate(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYY/MM/DD/HH` — Firehose's default arrival-hour prefix segment. */
export function hourPath(hour: HourStart): string {
  const d = new Date(hour);
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${pad(d.getUTCHours())}`;
}

/** `YYYYMMDDHH` — a unit's file name stem. */
export function hourStem(hour: HourStart): string {
  return formatHour(hour).replace(/[-T]/g, '');
}

/** Parses `YYYY/MM/DD/HH`; undefined when the text is not a real hour path. */
export function parseHourPath(text: string): HourStart | undefined {
  const m = /^(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return hourPath(ms) === text ? ms : undefined;
}

/**
 * The arrival hours that are closed at `now` (hour end + grace has passed) and no older than
 * `lookbackMs`, oldest first.
 */
export function closedHours(now: number, graceMs: number, lookbackMs: number): HourStart[] {
  const newest = hourOf(now - graceMs) - HOUR_MS; // the last hour whose end + grace <= now
  const oldest = hourOf(now - lookbackMs);
  const hours: HourStart[] = [];
  for (let h = oldest; h <= newest; h += HOUR_MS) hours.push(h);
  return hours;
}

export function isClosed(hour: HourStart, now: number, graceMs: number): boolean {
  return hour + HOUR_MS + graceMs <= now;
}
