/**
 * Runs the panels' queries on one engine and types their rows. The engine is a function from SQL
 * to rows, so the local DuckDB engine (JS values) and Athena (strings) plug in alike.
 */
import { ClicklakeError } from '../errors.js';
import { describeFilter, whereClause, type DashboardFilter } from './filter.js';
import type { Panel, PanelColumn, Row } from './panels.js';

/** Runs one Trino SQL statement and returns every row (values as JS values or as text). */
export type QueryRunner = (sql: string) => Promise<{ columns: Array<{ name: string }>; rows: unknown[][] }>;

export interface PanelData {
  panel: Panel;
  sql: string;
  rows: Row[];
}

function typed(value: unknown, column: PanelColumn): string | number | null {
  if (value === null || value === undefined) return null;
  if (column.kind === 'text') return String(value);
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new ClicklakeError('dashboard_bad_value', `column ${column.name} holds ${JSON.stringify(String(value))}, not a number: check the view's definition`, { column: column.name });
  return n;
}

export async function loadPanel(run: QueryRunner, panel: Panel, filter: DashboardFilter): Promise<PanelData> {
  const sql = panel.sql(whereClause(filter));
  let result: Awaited<ReturnType<QueryRunner>>;
  try {
    result = await run(sql);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ClicklakeError('dashboard_query_failed', `the ${panel.title.toLowerCase()} query on view ${panel.view} failed (${reason}): run \`clicklake views apply\` so the curated views exist`, { view: panel.view, sql }, { cause: err });
  }
  const index = new Map(result.columns.map((c, i) => [c.name, i]));
  const rows = result.rows.map((r) => Object.fromEntries(panel.columns.map((c) => [c.name, typed(r[index.get(c.name) ?? -1], c)])) as Row);
  return { panel, sql, rows };
}

/** Every panel's rows, in order; when all are empty, an error that says what the lake does hold. */
export async function loadPanels(run: QueryRunner, panels: readonly Panel[], filter: DashboardFilter, where: string, allowEmpty: boolean): Promise<PanelData[]> {
  const data: PanelData[] = [];
  for (const panel of panels) data.push(await loadPanel(run, panel, filter));
  if (allowEmpty || data.some((d) => d.rows.length > 0)) return data;
  const span = await run('SELECT min(dt) AS first_dt, max(dt) AS last_dt, count(DISTINCT restaurant_id) AS restaurants FROM click_events');
  const [first, last, restaurants] = span.rows[0] ?? [];
  if (first === null || first === undefined) {
    throw new ClicklakeError('no_curated_data', `no curated click events in ${where}: run \`clicklake compact\` (or \`clicklake demo\`) first`, { where });
  }
  throw new ClicklakeError(
    'no_matching_data',
    `no curated click events for ${describeFilter(filter)} in ${where}, which holds ${String(restaurants)} restaurant(s) from ${String(first)} to ${String(last)}: change --restaurant / --from / --to`,
    { where, first: String(first), last: String(last) },
  );
}
