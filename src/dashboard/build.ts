/**
 * The dashboard, end to end: query the curated views (the local lake's DuckDB engine, or Athena
 * through a runner), chart every panel, render one self-contained HTML page. `clicklake dashboard`
 * writes it to a file; `clicklake serve` can answer `/dashboard` with it.
 *
 * @example
 * const html = await buildDashboardHtml({ source: { kind: 'local', lakeDir: 'file:///srv/lake' }, restaurant: 'corner-table', from: '2024-05-01', to: '2024-05-07' });
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClicklakeError } from '../errors.js';
import { applyViewsLocally, openLocalEngine } from '../query/local-engine.js';
import { loadViews } from '../query/views.js';
import { loadSchemas } from '../schema/load.js';
import { duckdbType } from '../schema/render-types.js';
import { renderChartSvg } from './charts.js';
import { loadPanels, type PanelData, type QueryRunner } from './data.js';
import { checkedFilter, describeFilter, type DashboardFilter } from './filter.js';
import { formatValue, renderDashboardHtml, type Kpi } from './html.js';
import { PANELS, SESSIONS_DAILY, TOP_DISHES } from './panels.js';

export type { QueryRunner } from './data.js';
export type { DashboardFilter } from './filter.js';

/** Where the curated views are read. */
export type DashboardSource =
  | {
      kind: 'local';
      /** The lake directory or `file://` URI (curated Parquet under `<lake>/curated/`). */
      lakeDir: string;
      /** Schemas directory (default: the schemas clicklake ships), as Settings.schemasDir. */
      schemasDir?: string;
      /** Views directory (default: sql/views), as Settings.viewsDir. */
      viewsDir?: string;
    }
  | {
      kind: 'athena';
      /** Runs one statement on Athena in the database that holds the views (e.g. over runAthenaQuery). */
      run: QueryRunner;
      /** Shown in the footer, e.g. `Athena database clicklake`. */
      label: string;
    };

export interface DashboardOptions extends DashboardFilter {
  source: DashboardSource;
  /** Page title (default: "Menu insights"). */
  title?: string;
  /** Clock for the "generated" line (default: now); inject for reproducible pages. */
  now?: () => Date;
  /**
   * With no data at all for the filter: false (default) throws `no_curated_data` /
   * `no_matching_data`; true renders the page with empty panels (a server's /dashboard before
   * the first compaction).
   */
  allowEmpty?: boolean;
}

function lakePath(lakeDir: string): string {
  return lakeDir.startsWith('file://') ? fileURLToPath(lakeDir) : lakeDir;
}

function kpisOf(panels: PanelData[]): Kpi[] {
  const days = panels.find((p) => p.panel === SESSIONS_DAILY)?.rows ?? [];
  const visits = days.reduce((n, r) => n + Number(r['sessions'] ?? 0), 0);
  const ordering = days.reduce((n, r) => n + Number(r['ordering_sessions'] ?? 0), 0);
  const top = panels.find((p) => p.panel === TOP_DISHES)?.rows[0];
  return [
    { id: 'visits', label: 'Menu visits', value: formatValue(visits, 'integer') },
    { id: 'ordering_visits', label: 'Visits with an order', value: formatValue(ordering, 'integer') },
    { id: 'order_rate', label: 'Share of visits that ordered', value: formatValue(visits ? ordering / visits : null, 'share') },
    { id: 'top_dish', label: 'Most viewed dish', value: top ? String(top['item_name'] ?? top['item_id']) : '–' },
  ];
}

async function render(run: QueryRunner, where: string, options: DashboardOptions): Promise<string> {
  const filter = checkedFilter(options);
  const data = await loadPanels(run, PANELS, filter, where, options.allowEmpty ?? false);
  const panels = [];
  for (const d of data) panels.push({ data: d, ...(d.rows.length ? { svg: await renderChartSvg(d.panel.chart(d.rows), d.panel.id) } : {}) });
  return renderDashboardHtml({
    title: options.title ?? 'Menu insights',
    scope: describeFilter(filter),
    source: where,
    generatedAt: (options.now ?? (() => new Date()))(),
    kpis: kpisOf(data),
    panels,
  });
}

/** Builds the dashboard page for the options' filter from the curated views. */
export async function buildDashboardHtml(options: DashboardOptions): Promise<string> {
  checkedFilter(options); // bad flags fail before any engine starts
  const source = options.source;
  if (source.kind === 'athena') return render(source.run, source.label, options);
  const dir = lakePath(source.lakeDir);
  if (!existsSync(dir)) {
    throw new ClicklakeError('no_lake', `no lake at ${dir}: run \`clicklake demo\` or \`clicklake compact\` first, or pass --lake`, { lake: source.lakeDir });
  }
  const specs = await loadSchemas(source.schemasDir);
  const tables = specs.map((spec) => ({ name: spec.name, columns: spec.columns.map((f) => ({ name: f.name, duckdbType: duckdbType(f.type) })) }));
  const engine = await openLocalEngine({ lakeDir: dir, tables });
  try {
    await applyViewsLocally(engine, await loadViews(source.viewsDir));
    return await render((sql) => engine.query(sql), `the lake ${dir}`, options);
  } finally {
    await engine.close();
  }
}
