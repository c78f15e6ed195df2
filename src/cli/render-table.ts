/**
 * Query results as text: an aligned table for people, CSV (RFC 4180) or JSON for tools.
 */
import stringWidth from 'string-width';

export type OutputFormat = 'table' | 'csv' | 'json';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'csv', 'json'];

/** A result in display form. */
export interface TabularResult {
  columns: Array<{ name: string; type?: string }>;
  rows: unknown[][];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** One value as text: NULL as null, timestamps as `YYYY-MM-DD HH:MM:SS.mmm` (UTC), nested values as JSON. */
export function cellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    return `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())} ${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}.${pad(value.getUTCMilliseconds(), 3)}`;
  }
  if (typeof value === 'object') return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return String(value);
}

/**
 * An aligned text table with a header and a row count, NULL shown as `NULL`.
 *
 * @example
 * renderTable({ columns: [{ name: 'n' }], rows: [[1]] });
 * // n
 * // -
 * // 1
 * // (1 row)
 */
export function renderTable(result: TabularResult): string {
  const header = result.columns.map((c) => c.name);
  const body = result.rows.map((row) => row.map((v) => cellText(v) ?? 'NULL').map((s) => s.replace(/\r?\n/g, '\\n')));
  // Terminal columns, not UTF-16 units: CJK dish names take two columns a character, emoji two, accents none.
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...body.map((r) => stringWidth(r[i] ?? ''))));
  const line = (cells: string[]): string => cells.map((c, i) => c + ' '.repeat(widths[i]! - stringWidth(c))).join(' | ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)];
  out.push(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}

function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) || value === '' ? `"${value.replace(/"/g, '""')}"` : value;
}

/** CSV with a header line; NULL is an empty field, an empty string is `""`. */
export function renderCsv(result: TabularResult): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(','), ...result.rows.map((row) => row.map((v) => csvField(cellText(v))).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

/** JSON: `{ columns, rows }` with rows as objects keyed by column name. */
export function renderJson(result: TabularResult, extra: Record<string, unknown> = {}): string {
  const rows = result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, jsonValue(row[i])])));
  return `${JSON.stringify({ columns: result.columns, rows, ...extra }, null, 2)}\n`;
}

function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value ?? null;
}

/** Renders in the chosen format. */
export function renderResult(result: TabularResult, format: OutputFormat, extra: Record<string, unknown> = {}): string {
  if (format === 'csv') return renderCsv(result);
  if (format === 'json') return renderJson(result, extra);
  return renderTable(result);
}
